//! Every dashboard widget and alarm on Gen3D's own namespace names a metric the code
//! emits, with exactly the dimensions it is emitted with. CloudWatch keeps one series per
//! dimension set, so a query with fewer or other dimensions stays empty. The emitted set
//! is read from the code (`metrics.count(...)` and `metrics.duration_ms(...)` calls):
//! `EmfMetrics` adds `service` to each point's own dimensions.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use gen3d_infra::{Evaluated, evaluate};
use serde_json::{Value, json};

const NAMESPACE: &str = "Gen3D";

/// A metric as the code emits it: name, the service emitting it (`None`: shared code, so
/// any service) and the dimension keys, `service` included.
#[derive(Debug)]
struct Emitted {
    name: String,
    service: Option<String>,
    dimensions: BTreeSet<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() && !p.ends_with("tests") {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn emitted() -> Vec<Emitted> {
    let repo = common::repo();
    let mut out = Vec::new();
    for (top, per_service) in [("services", true), ("shared", false), ("container", false)] {
        for krate in std::fs::read_dir(repo.join(top)).expect("readable").flatten() {
            let service = per_service.then(|| krate.file_name().to_string_lossy().into_owned());
            let mut files = Vec::new();
            rust_files(&krate.path().join("src"), &mut files);
            for file in files {
                let text = std::fs::read_to_string(&file).expect("readable");
                // Unit tests below `#[cfg(test)]` emit nothing in production.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for call in ["metrics.count(\"", "metrics.duration_ms(\""] {
                    for rest in code.split(call).skip(1) {
                        let name = rest.split('"').next().unwrap_or_default().to_owned();
                        let args = rest.split(");").next().unwrap_or_default();
                        let dims = args.split("&[").nth(1).unwrap_or_default();
                        let mut dimensions: BTreeSet<String> =
                            dims.split("(\"").skip(1).filter_map(|d| d.split('"').next()).map(str::to_owned).collect();
                        dimensions.insert("service".to_owned());
                        out.push(Emitted { name, service: service.clone(), dimensions });
                    }
                }
            }
        }
    }
    out
}

/// A metric a dashboard or alarm reads: name, `service` if it names one, dimension keys.
#[derive(Debug)]
struct Read {
    at: String,
    name: String,
    service: Option<String>,
    dimensions: BTreeSet<String>,
}

/// `SEARCH('{Gen3D,k1,k2} MetricName="name"', ...)` expressions: the schema's keys.
fn searches(expression: &str, at: &str, out: &mut Vec<Read>) {
    for part in expression.split("SEARCH('{").skip(1) {
        let (schema, rest) = part.split_once('}').unwrap_or_default();
        let mut keys = schema.split(',').map(str::trim);
        if keys.next() != Some(NAMESPACE) {
            continue;
        }
        let dimensions = keys.map(str::to_owned).collect();
        let name = rest.split("MetricName=\"").nth(1).and_then(|n| n.split('"').next()).unwrap_or_default().to_owned();
        out.push(Read { at: at.to_owned(), name, service: None, dimensions });
    }
}

fn reads(ev: &Evaluated) -> Vec<Read> {
    let mut out = Vec::new();
    for (name, alarm) in ev.of_type("aws:cloudwatch:MetricAlarm") {
        let p = &alarm.properties;
        if p.get("namespace").and_then(Value::as_str) == Some(NAMESPACE) {
            let dims = p.get("dimensions").and_then(Value::as_object).cloned().unwrap_or_default();
            out.push(Read {
                at: format!("alarm {name}"),
                name: p.get("metricName").and_then(Value::as_str).unwrap_or_default().to_owned(),
                service: dims.get("service").and_then(Value::as_str).map(str::to_owned),
                dimensions: dims.keys().cloned().collect(),
            });
        }
    }
    for (name, dash) in ev.of_type("aws:cloudwatch:Dashboard") {
        let body = gen3d_infra::checks::json_doc(dash.properties.get("dashboardBody")).unwrap_or(Value::Null);
        for (i, widget) in body.get("widgets").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = format!("dashboard {name} widget {i}");
            for metric in widget.pointer("/properties/metrics").and_then(Value::as_array).into_iter().flatten() {
                let items = metric.as_array().cloned().unwrap_or_default();
                let strings: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                if strings.first() == Some(&NAMESPACE) {
                    let pairs: Vec<(&str, &str)> = strings[2..].chunks(2).filter_map(|c| Some((*c.first()?, *c.get(1)?))).collect();
                    out.push(Read {
                        at: at.clone(),
                        name: strings.get(1).copied().unwrap_or_default().to_owned(),
                        service: pairs.iter().find(|(k, _)| *k == "service").map(|(_, v)| (*v).to_owned()),
                        dimensions: pairs.iter().map(|(k, _)| (*k).to_owned()).collect(),
                    });
                }
                for options in items.iter().filter(|v| v.is_object()) {
                    searches(options.get("expression").and_then(Value::as_str).unwrap_or_default(), &at, &mut out);
                }
            }
        }
    }
    out
}

fn problems(ev: &Evaluated, emitted: &[Emitted]) -> Vec<String> {
    reads(ev)
        .iter()
        .filter(|r| {
            !emitted.iter().any(|e| {
                e.name == r.name
                    && e.dimensions == r.dimensions
                    && match (&r.service, &e.service) {
                        (Some(wanted), Some(emitter)) => wanted == emitter,
                        _ => true,
                    }
            })
        })
        .map(|r| format!("{} reads {}.{} with dimensions {:?} (service {:?}), which no code emits", r.at, NAMESPACE, r.name, r.dimensions, r.service))
        .collect()
}

#[test]
fn dashboards_and_alarms_read_what_the_code_emits() {
    let emitted = emitted();
    for wanted in ["objects_submitted", "objects_done", "objects_failed", "emails_sent"] {
        assert!(emitted.iter().any(|e| e.name == wanted), "the scan did not find {wanted} in the code: {emitted:#?}");
    }
    for stack in common::stacks() {
        let ev = common::evaluated(&stack.name);
        let read = reads(&ev);
        assert!(read.len() >= 4, "stack {}: the dashboard reads too few Gen3D metrics: {read:#?}", stack.name);
        let found = problems(&ev, &emitted);
        assert!(found.is_empty(), "stack {}:\n{}", stack.name, found.join("\n"));
    }
}

#[test]
fn a_metric_without_its_dimensions_is_reported() {
    let mut program = common::program();
    let widgets = program.resources.get_mut("dashboard").expect("dashboard").properties["dashboardBody"]["fn::toJSON"]["widgets"]
        .as_array_mut()
        .expect("widgets");
    widgets.push(json!({"type": "metric", "properties": {"metrics": [
        ["Gen3D", "objects_done"],
        ["Gen3D", "objects_done", "service", "intake"],
        [{"expression": "SUM(SEARCH('{Gen3D,service} MetricName=\"emails_sent\"', 'Sum', 300))"}]
    ]}}));
    let found = problems(&evaluate(&program, &common::stack("dev")), &emitted());
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("objects_done with dimensions {}"), "{found:#?}");
}

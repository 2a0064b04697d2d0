//! The `Metrics` port as CloudWatch Embedded Metric Format log lines.

use std::io::Write;
use std::sync::Mutex;

use gen3d_ports::{Metrics, MetricsSnapshot, now_ms};
use serde_json::{Map, Value, json};

/// Metrics as CloudWatch Embedded Metric Format: one JSON log line per data point, which
/// CloudWatch Logs turns into metrics with no API call (the Lambda's stdout is its log
/// stream). Dimension sets: the service, plus the point's own dimensions.
pub struct EmfMetrics {
    namespace: String,
    service: String,
    out: Mutex<Box<dyn Write + Send>>,
    totals: Mutex<MetricsSnapshot>,
}

impl EmfMetrics {
    pub fn stdout(namespace: &str, service: &str) -> Self {
        Self::to_writer(namespace, service, Box::new(std::io::stdout()))
    }

    pub fn to_writer(namespace: &str, service: &str, out: Box<dyn Write + Send>) -> Self {
        Self { namespace: namespace.to_owned(), service: service.to_owned(), out: Mutex::new(out), totals: Mutex::new(MetricsSnapshot::default()) }
    }

    /// The EMF document for one data point.
    pub fn document(&self, name: &str, value: f64, unit: &str, dimensions: &[(&str, &str)], timestamp_ms: u64) -> Value {
        let mut keys = vec![Value::String("service".into())];
        let mut doc = Map::new();
        doc.insert("service".into(), Value::String(self.service.clone()));
        for (k, v) in dimensions {
            if *k != "service" && !doc.contains_key(*k) {
                keys.push(Value::String((*k).to_owned()));
                doc.insert((*k).to_owned(), Value::String((*v).to_owned()));
            }
        }
        doc.insert(name.to_owned(), json!(value));
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [keys],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }],
            }),
        );
        Value::Object(doc)
    }

    fn emit(&self, name: &str, value: f64, unit: &str, dimensions: &[(&str, &str)]) {
        let line = self.document(name, value, unit, dimensions, now_ms()).to_string();
        if let Ok(mut out) = self.out.lock() {
            // A metric that cannot be written must not fail the job it measures.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

impl Metrics for EmfMetrics {
    fn count(&self, name: &str, value: u64, dimensions: &[(&str, &str)]) {
        self.emit(name, value as f64, "Count", dimensions);
        if let Ok(mut t) = self.totals.lock() {
            *t.counters.entry(name.to_owned()).or_default() += value;
        }
    }

    fn duration_ms(&self, name: &str, ms: f64, dimensions: &[(&str, &str)]) {
        self.emit(name, ms, "Milliseconds", dimensions);
        if let Ok(mut t) = self.totals.lock() {
            let e = t.timings.entry(name.to_owned()).or_insert((0, 0.0, 0.0));
            e.0 += 1;
            e.1 += ms;
            e.2 = e.2.max(ms);
        }
    }

    fn snapshot(&self) -> MetricsSnapshot {
        self.totals.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_point_is_one_valid_emf_line() {
        let sink = Shared::default();
        let m = EmfMetrics::to_writer("Gen3D", "meshing", Box::new(sink.clone()));
        m.count("objects_done", 1, &[("outcome", "done")]);
        m.duration_ms("handler_ms", 12.5, &[]);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        let directive = &first["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Gen3D");
        assert_eq!(directive["Dimensions"], json!([["service", "outcome"]]));
        assert_eq!(directive["Metrics"], json!([{"Name": "objects_done", "Unit": "Count"}]));
        // Every dimension and metric named in the directive is a member of the document.
        assert_eq!(first["service"], "meshing");
        assert_eq!(first["outcome"], "done");
        assert_eq!(first["objects_done"], 1.0);
        assert!(first["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000);
        assert_eq!(lines[1]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Milliseconds");
        assert_eq!(m.snapshot().counters["objects_done"], 1);
    }
}

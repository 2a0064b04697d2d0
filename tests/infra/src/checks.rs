//! The deployment rules. Each check returns the violations it found, one line each,
//! naming the resource; [`run`] runs them all.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::eval::lookup;
use crate::{Evaluated, known_type, placeholder_refs};

/// Actions that accept no resource-level scoping, so `Resource: "*"` is their only form.
/// `cloudwatch:PutMetricData` must also carry a `cloudwatch:namespace` condition.
pub const RESOURCE_STAR_ONLY: &[&str] = &["cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"];

/// Outputs every stack must export.
pub const REQUIRED_OUTPUTS: &[&str] = &["apiUrl", "webUrl", "userPoolId", "userPoolClientId", "dataBucket", "queueUrls", "deadLetterQueueUrls"];

pub fn run(ev: &Evaluated, stack_config: &BTreeMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(ev.errors.iter().map(|e| format!("reference: {e}")));
    out.extend(known_types(ev));
    out.extend(cycles(ev));
    out.extend(tags(ev, stack_config));
    out.extend(log_groups(ev));
    out.extend(lambdas(ev));
    out.extend(queues(ev));
    out.extend(iam(ev));
    out.extend(public_access(ev));
    out.extend(autoscaling(ev));
    out.extend(alarms(ev));
    out.extend(outputs(ev));
    out
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or_default()
}

/// The single resource a string refers to through a placeholder, e.g. `⟨q.arn⟩` -> `q`.
pub fn target(v: Option<&Value>, attr: &str) -> Option<String> {
    let refs = placeholder_refs(str_of(v));
    match refs.as_slice() {
        [(r, Some(a))] if a == attr => Some(r.clone()),
        _ => None,
    }
}

/// A JSON document stored as a string (`fn::toJSON`), parsed back.
pub fn json_doc(v: Option<&Value>) -> Option<Value> {
    serde_json::from_str(v?.as_str()?).ok()
}

fn as_list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    }
}

pub fn known_types(ev: &Evaluated) -> Vec<String> {
    ev.resources
        .iter()
        .filter(|(_, r)| known_type(&r.type_).is_none())
        .map(|(n, r)| format!("types: {n} has type {} which is not in the known list", r.type_))
        .collect()
}

pub fn cycles(ev: &Evaluated) -> Vec<String> {
    // Depth-first search with colours; one line per back edge found.
    fn visit(n: &str, ev: &Evaluated, colour: &mut BTreeMap<String, u8>, path: &mut Vec<String>, out: &mut Vec<String>) {
        colour.insert(n.to_owned(), 1);
        path.push(n.to_owned());
        if let Some(r) = ev.resources.get(n) {
            for d in &r.deps {
                match colour.get(d.as_str()).copied().unwrap_or(0) {
                    0 => visit(d, ev, colour, path, out),
                    1 => {
                        let start = path.iter().position(|p| p == d).unwrap_or(0);
                        out.push(format!("cycles: {} -> {d}", path[start..].join(" -> ")));
                    }
                    _ => {}
                }
            }
        }
        path.pop();
        colour.insert(n.to_owned(), 2);
    }
    let mut colour = BTreeMap::new();
    let mut out = Vec::new();
    for n in ev.resources.keys() {
        if colour.get(n.as_str()).copied().unwrap_or(0) == 0 {
            visit(n, ev, &mut colour, &mut Vec::new(), &mut out);
        }
    }
    out
}

/// The tags every resource carries, from the stack's `aws:defaultTags`: fixed values for
/// `Project`, `Environment` and `ManagedBy`, any non-empty value for the others.
pub const REQUIRED_TAGS: &[&str] = &["Project", "Environment", "ManagedBy", "CostCenter", "Owner"];

pub fn tags(ev: &Evaluated, stack_config: &BTreeMap<String, Value>) -> Vec<String> {
    let tags = stack_config.get("aws:defaultTags").and_then(|t| t.get("tags"));
    let fixed = |key: &str| match key {
        "Project" => Some(ev.project.as_str()),
        "Environment" => Some(ev.stack.as_str()),
        "ManagedBy" => Some("pulumi"),
        _ => None,
    };
    let mut out = Vec::new();
    for key in REQUIRED_TAGS {
        let value = tags.and_then(|t| t.get(*key)).and_then(Value::as_str).unwrap_or_default();
        match fixed(key) {
            Some(want) if value != want => out.push(format!("tags: stack {} must set aws:defaultTags.tags.{key} = {want}", ev.stack)),
            None if value.trim().is_empty() => out.push(format!("tags: stack {} must set aws:defaultTags.tags.{key}", ev.stack)),
            _ => {}
        }
    }
    out
}

/// Every log group a deployed component writes to is declared with a retention period:
/// the Lambdas' (`loggingConfig.logGroup`) and the SageMaker endpoint's
/// (`/aws/sagemaker/Endpoints/<endpoint name>`, which SageMaker would otherwise create
/// itself and keep forever).
pub fn log_groups(ev: &Evaluated) -> Vec<String> {
    let managed: BTreeSet<&str> = ev
        .of_type("aws:cloudwatch:LogGroup")
        .filter(|(_, g)| g.properties.get("retentionInDays").is_some_and(|r| !r.is_null()))
        .map(|(_, g)| str_of(g.properties.get("name")))
        .collect();
    let mut out = Vec::new();
    for (name, e) in ev.of_type("aws:sagemaker:Endpoint") {
        let group = format!("/aws/sagemaker/Endpoints/{}", str_of(e.properties.get("name")));
        if !managed.contains(group.as_str()) {
            out.push(format!("logs: endpoint {name} writes to {group}, which is not a log group with a retention period"));
        }
    }
    for (name, f) in ev.of_type("aws:lambda:Function") {
        let group = lookup(&f.properties, "loggingConfig.logGroup");
        // Either the group's name itself, or a reference to the group resource's name.
        let referenced = target(group, "name").and_then(|g| ev.resources.get(&g)).map(|g| str_of(g.properties.get("name")));
        let named = referenced.unwrap_or(str_of(group));
        if !managed.contains(named) {
            out.push(format!("logs: function {name} logs to {named:?}, which is not a log group with a retention period"));
        }
    }
    out
}

pub fn lambdas(ev: &Evaluated) -> Vec<String> {
    let mut out = Vec::new();
    for (name, f) in ev.of_type("aws:lambda:Function") {
        let p = &f.properties;
        let mut bad = |m: String| out.push(format!("lambda: {name} {m}"));
        match target(p.get("role"), "arn") {
            Some(r) if ev.resources.get(&r).is_some_and(|r| r.type_ == "aws:iam:Role") => {}
            _ => bad("has no role (`role: ${<aws:iam:Role>.arn}`)".into()),
        }
        if str_of(p.get("runtime")) != "provided.al2023" || str_of(p.get("handler")) != "bootstrap" {
            bad("must run the provided.al2023 runtime with handler bootstrap".into());
        }
        if as_list(p.get("architectures")) != [Value::String("arm64".into())] {
            bad("must be arm64".into());
        }
        if lookup(p, "code.fn::fileArchive").and_then(Value::as_str).is_none() {
            bad("code must be a fn::fileArchive bundle".into());
        }
        let fname = str_of(p.get("name"));
        let log_group = str_of(lookup(p, "loggingConfig.logGroup"));
        let group = ev.of_type("aws:cloudwatch:LogGroup").find(|(_, g)| str_of(g.properties.get("name")) == log_group);
        match group {
            Some((_, g)) if log_group == format!("/aws/lambda/{fname}") && g.properties.get("retentionInDays").is_some() => {}
            _ => bad(format!("needs loggingConfig.logGroup = /aws/lambda/{fname}, a log group with retentionInDays")),
        }
        let timeout = p.get("timeout").and_then(Value::as_u64).unwrap_or(3);
        let mappings: Vec<_> = ev
            .of_type("aws:lambda:EventSourceMapping")
            .filter(|(_, m)| target(m.properties.get("functionName"), "arn").as_deref() == Some(name))
            .collect();
        let api =
            ev.of_type("aws:apigatewayv2:Integration").any(|(_, i)| target(i.properties.get("integrationUri"), "invokeArn").as_deref() == Some(name));
        let permitted = ev.of_type("aws:lambda:Permission").any(|(_, perm)| str_of(perm.properties.get("function")) == fname);
        if mappings.is_empty() && !(api && permitted) {
            bad("has no trigger: an SQS event source mapping, or an API integration with a lambda permission".into());
        }
        for (mname, m) in mappings {
            let types = as_list(m.properties.get("functionResponseTypes"));
            if !types.contains(&Value::String("ReportBatchItemFailures".into())) {
                bad(format!("trigger {mname} must set functionResponseTypes [ReportBatchItemFailures]"));
            }
            let Some(q) = target(m.properties.get("eventSourceArn"), "arn") else {
                bad(format!("trigger {mname} reads no queue of this program"));
                continue;
            };
            if json_doc(ev.prop(&q, "redrivePolicy")).is_none() {
                bad(format!("trigger queue {q} has no dead-letter queue"));
            }
            let visibility = ev.prop(&q, "visibilityTimeoutSeconds").and_then(Value::as_u64).unwrap_or(30);
            if visibility < 6 * timeout {
                bad(format!("queue {q} visibility {visibility}s must be at least 6 x the {timeout}s timeout"));
            }
        }
    }
    out
}

pub fn queues(ev: &Evaluated) -> Vec<String> {
    let mut out = Vec::new();
    let mut dlqs = BTreeSet::new();
    for (name, q) in ev.of_type("aws:sqs:Queue") {
        if let Some(doc) = json_doc(q.properties.get("redrivePolicy")) {
            let receives = doc.get("maxReceiveCount").and_then(Value::as_u64).unwrap_or(0);
            if !(1..=10).contains(&receives) {
                out.push(format!("queues: {name} maxReceiveCount {receives} is outside 1..=10"));
            }
            match target(doc.get("deadLetterTargetArn"), "arn") {
                Some(d) if d != *name && ev.resources.get(&d).is_some_and(|r| r.type_ == "aws:sqs:Queue") => {
                    dlqs.insert(d);
                }
                _ => out.push(format!("queues: {name} redrive target is not another queue of this program")),
            }
        }
    }
    for (name, q) in ev.of_type("aws:sqs:Queue") {
        if dlqs.contains(name) {
            if q.properties.get("messageRetentionSeconds").and_then(Value::as_u64) != Some(1_209_600) {
                out.push(format!("queues: dead-letter queue {name} must keep messages 14 days"));
            }
        } else if json_doc(q.properties.get("redrivePolicy")).is_none() {
            out.push(format!("queues: {name} has no redrive policy"));
        }
    }
    out
}

/// Every IAM policy document in the program, by `resource.property`.
pub fn policy_documents(ev: &Evaluated) -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    for (name, r) in &ev.resources {
        let props: &[&str] = match r.type_.as_str() {
            "aws:iam:Role" => &["assumeRolePolicy"],
            "aws:iam:RolePolicy" | "aws:s3:BucketPolicy" | "aws:sqs:QueuePolicy" => &["policy"],
            _ => &[],
        };
        for p in props {
            match json_doc(r.properties.get(*p)) {
                Some(doc) => docs.push((format!("{name}.{p}"), doc)),
                None => docs.push((format!("{name}.{p}"), Value::Null)),
            }
        }
    }
    docs
}

pub fn iam(ev: &Evaluated) -> Vec<String> {
    let prefix = format!("{}-{}", ev.project, ev.stack);
    let mut out = Vec::new();
    for (at, doc) in policy_documents(ev) {
        let statements = as_list(doc.get("Statement"));
        if statements.is_empty() {
            out.push(format!("iam: {at} is not a policy document with statements"));
        }
        for (i, s) in statements.iter().enumerate() {
            let sid = s.get("Sid").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| format!("#{i}"));
            let mut bad = |m: String| out.push(format!("iam: {at} statement {sid} {m}"));
            if s.get("NotAction").is_some() || s.get("NotResource").is_some() || s.get("NotPrincipal").is_some() {
                bad("uses NotAction/NotResource/NotPrincipal".into());
            }
            let actions: Vec<String> = as_list(s.get("Action")).iter().filter_map(|a| a.as_str().map(str::to_owned)).collect();
            if actions.is_empty() {
                bad("has no Action".into());
            }
            for a in &actions {
                if a.contains('*') {
                    bad(format!("has the wildcard action {a:?}"));
                }
            }
            let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
            let principal = s.get("Principal");
            let public = match principal {
                Some(Value::String(p)) => p == "*",
                Some(Value::Object(m)) => m.values().flat_map(|v| as_list(Some(v))).any(|v| v == "*"),
                _ => false,
            };
            if allow && public {
                bad("allows the public principal \"*\"".into());
            }
            if principal.is_some() {
                continue; // resource policies name their resource through the attachment
            }
            for r in as_list(s.get("Resource")) {
                let r = r.as_str().unwrap_or_default();
                if r == "*" {
                    let all_star_only = actions.iter().all(|a| RESOURCE_STAR_ONLY.contains(&a.as_str()));
                    if !all_star_only {
                        bad(format!("grants {actions:?} on every resource"));
                    }
                    let namespaced = lookup(s, "Condition.StringEquals.cloudwatch:namespace").is_some();
                    if actions.iter().any(|a| a == "cloudwatch:PutMetricData") && !namespaced {
                        bad("puts metrics without a cloudwatch:namespace condition".into());
                    }
                } else if placeholder_refs(r).is_empty() && !r.contains(&prefix) {
                    bad(format!("resource {r:?} is not one of this stack's resources or prefixes"));
                }
            }
        }
    }
    out
}

/// The only API routes that open without a token, each because the request carries its
/// own credential: the done mail's download link (an unguessable, expiring token,
/// `services/intake/src/links.rs`).
const PUBLIC_ROUTES: [&str; 1] = ["GET /v1/links/{token}"];

pub fn public_access(ev: &Evaluated) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in ev.of_type("aws:s3:Bucket") {
        let blocked = ev.of_type("aws:s3:BucketPublicAccessBlock").any(|(_, b)| {
            target(b.properties.get("bucket"), "id").as_deref() == Some(name)
                && ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]
                    .iter()
                    .all(|k| b.properties.get(*k) == Some(&Value::Bool(true)))
        });
        if !blocked {
            out.push(format!("public: bucket {name} needs a public access block with all four settings true"));
        }
    }
    for (name, c) in ev.of_type("aws:s3:BucketCorsConfiguration") {
        for rule in as_list(c.properties.get("corsRules")) {
            if as_list(rule.get("allowedOrigins")).iter().any(|o| o.as_str().is_some_and(|o| o.contains('*'))) {
                out.push(format!("public: {name} allows any origin"));
            }
        }
    }
    for (name, a) in ev.of_type("aws:apigatewayv2:Api") {
        if as_list(lookup(&a.properties, "corsConfiguration.allowOrigins")).iter().any(|o| o.as_str().is_some_and(|o| o.contains('*'))) {
            out.push(format!("public: {name} allows any origin"));
        }
    }
    for (name, r) in ev.of_type("aws:apigatewayv2:Route") {
        let key = str_of(r.properties.get("routeKey"));
        if str_of(r.properties.get("authorizationType")) != "JWT" && !PUBLIC_ROUTES.contains(&key) {
            out.push(format!("public: route {name} ({key}) is not behind the JWT authorizer"));
        }
    }
    for (name, p) in ev.of_type("aws:cognito:IdentityPool") {
        if p.properties.get("allowUnauthenticatedIdentities") != Some(&Value::Bool(false)) {
            out.push(format!("public: identity pool {name} must not allow unauthenticated identities"));
        }
    }
    out
}

pub fn autoscaling(ev: &Evaluated) -> Vec<String> {
    let mut out = Vec::new();
    for (name, t) in ev.of_type("aws:appautoscaling:Target") {
        if str_of(t.properties.get("serviceNamespace")) != "sagemaker" {
            continue;
        }
        if t.properties.get("minCapacity").and_then(Value::as_u64) != Some(0) {
            out.push(format!("autoscaling: {name} must scale to zero (minCapacity 0)"));
        }
        let resource_id = str_of(t.properties.get("resourceId"));
        let of_target = |p: &crate::Resolved| !resource_id.is_empty() && str_of(p.properties.get("resourceId")) == resource_id;
        let tracking = ev.of_type("aws:appautoscaling:Policy").any(|(_, p)| {
            of_target(p)
                && str_of(lookup(&p.properties, "targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.metricName"))
                    == "ApproximateBacklogSizePerInstance"
        });
        if !tracking {
            out.push(format!("autoscaling: {name} needs target tracking on ApproximateBacklogSizePerInstance"));
        }
        let steps: Vec<&String> = ev
            .of_type("aws:appautoscaling:Policy")
            .filter(|(_, p)| of_target(p) && str_of(p.properties.get("policyType")) == "StepScaling")
            .map(|(n, _)| n)
            .collect();
        let woken = ev.of_type("aws:cloudwatch:MetricAlarm").any(|(_, a)| {
            str_of(a.properties.get("metricName")) == "HasBacklogWithoutCapacity"
                && as_list(a.properties.get("alarmActions")).iter().any(|x| target(Some(x), "arn").is_some_and(|t| steps.contains(&&t)))
        });
        if !woken {
            out.push(format!("autoscaling: {name} needs a step policy fired by a HasBacklogWithoutCapacity alarm to leave zero"));
        }
    }
    out
}

pub fn alarms(ev: &Evaluated) -> Vec<String> {
    let mut out = Vec::new();
    let watched = |metric: &str, dim: &str, value: &str| {
        ev.of_type("aws:cloudwatch:MetricAlarm").any(|(_, a)| {
            str_of(a.properties.get("metricName")) == metric
                && str_of(lookup(&a.properties, &format!("dimensions.{dim}"))) == value
                && !as_list(a.properties.get("alarmActions")).is_empty()
        })
    };
    for (name, q) in ev.of_type("aws:sqs:Queue") {
        let qname = str_of(q.properties.get("name"));
        let is_dlq = q.properties.get("redrivePolicy").is_none();
        if is_dlq && !watched("ApproximateNumberOfMessagesVisible", "QueueName", qname) {
            out.push(format!("alarms: dead-letter queue {name} has no depth alarm"));
        }
        if !is_dlq && !watched("ApproximateAgeOfOldestMessage", "QueueName", qname) {
            out.push(format!("alarms: queue {name} has no oldest-message alarm"));
        }
    }
    for (name, f) in ev.of_type("aws:lambda:Function") {
        let function = str_of(f.properties.get("name"));
        for metric in ["Errors", "Throttles", "Duration"] {
            if !watched(metric, "FunctionName", function) {
                out.push(format!("alarms: function {name} has no {metric} alarm"));
            }
        }
        // A duration alarm fires before Lambda kills the invocation at its timeout.
        let timeout_ms = f.properties.get("timeout").and_then(Value::as_f64).unwrap_or(3.0) * 1000.0;
        for (alarm, a) in ev.of_type("aws:cloudwatch:MetricAlarm") {
            if str_of(a.properties.get("metricName")) == "Duration"
                && str_of(lookup(&a.properties, "dimensions.FunctionName")) == function
                && a.properties.get("threshold").and_then(Value::as_f64).is_none_or(|t| t >= timeout_ms)
            {
                out.push(format!("alarms: {alarm}'s threshold must lie below {name}'s timeout ({timeout_ms} ms)"));
            }
        }
    }
    for (name, e) in ev.of_type("aws:sagemaker:Endpoint") {
        let ep = str_of(e.properties.get("name"));
        for metric in ["InvocationFailures", "ModelLatency"] {
            if !watched(metric, "EndpointName", ep) {
                out.push(format!("alarms: endpoint {name} has no {metric} alarm"));
            }
        }
    }
    out
}

pub fn outputs(ev: &Evaluated) -> Vec<String> {
    REQUIRED_OUTPUTS.iter().filter(|o| ev.outputs.get(**o).is_none_or(Value::is_null)).map(|o| format!("outputs: {o} is missing")).collect()
}

//! Each rule catches the mistake it exists for: the committed program, broken in one
//! place, fails with a message naming the place.

mod common;

use gen3d_infra::{Program, checks, evaluate};
use serde_json::{Value, json};

/// Violations of the `dev` stack after `edit` changed the program.
fn violations_after(edit: impl FnOnce(&mut Program)) -> Vec<String> {
    let mut program = common::program();
    edit(&mut program);
    let stack = common::stack("dev");
    checks::run(&evaluate(&program, &stack), &stack.config)
}

fn props<'a>(p: &'a mut Program, resource: &str) -> &'a mut Value {
    &mut p.resources.get_mut(resource).expect("resource exists").properties
}

#[track_caller]
fn check(found: &[String], expect: &str) {
    assert!(found.iter().any(|v| v.contains(expect)), "expected a violation containing {expect:?}, got:\n{}", found.join("\n"));
}

#[test]
fn an_unknown_reference_or_attribute_is_reported() {
    let found = violations_after(|p| props(p, "intakeFunction")["role"] = json!("${nowhere.arn}"));
    check(&found, "${nowhere.arn} names no variable, resource or config key");
    let found = violations_after(|p| props(p, "intakeFunction")["role"] = json!("${intakeRole.colour}"));
    check(&found, "aws:iam:Role intakeRole has no attribute \"colour\"");
}

#[test]
fn a_dependency_cycle_is_reported() {
    let found = violations_after(|p| props(p, "dataBucket")["forceDestroy"] = json!("${dataBucketNotifications.id}"));
    check(&found, "cycles: ");
}

#[test]
fn an_unlisted_type_is_reported() {
    let found = violations_after(|p| p.resources.get_mut("dashboard").expect("exists").type_ = "aws:cloudwatch:Dashbord".into());
    check(&found, "dashboard has type aws:cloudwatch:Dashbord which is not in the known list");
}

#[test]
fn wildcard_actions_and_unscoped_resources_are_reported() {
    let statement = |action: &str, resource: &str| json!({"Sid": "Oops", "Effect": "Allow", "Action": action, "Resource": resource});
    let found = violations_after(|p| {
        props(p, "notifyRolePolicy")["policy"]["fn::toJSON"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(statement("s3:*", "${dataBucket.arn}/*"));
    });
    check(&found, "notifyRolePolicy.policy statement Oops has the wildcard action \"s3:*\"");
    let found = violations_after(|p| {
        props(p, "notifyRolePolicy")["policy"]["fn::toJSON"]["Statement"].as_array_mut().expect("statements").push(statement("s3:GetObject", "*"));
    });
    check(&found, "grants [\"s3:GetObject\"] on every resource");
    let found = violations_after(|p| {
        props(p, "notifyRolePolicy")["policy"]["fn::toJSON"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(statement("s3:GetObject", "arn:aws:s3:::somebody-elses-bucket/*"));
    });
    check(&found, "is not one of this stack's resources or prefixes");
    let found = violations_after(|p| {
        props(p, "intakeRolePolicy")["policy"]["fn::toJSON"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .push(statement("cloudwatch:PutMetricData", "*"));
    });
    check(&found, "puts metrics without a cloudwatch:namespace condition");
}

#[test]
fn public_user_data_is_reported() {
    let found = violations_after(|p| {
        let statements = props(p, "webBucketPolicy")["policy"]["fn::toJSON"]["Statement"].as_array_mut().expect("statements");
        statements[0]["Principal"] = json!({"AWS": "*"});
    });
    check(&found, "allows the public principal");
    let found = violations_after(|p| props(p, "dataBucketPublicAccess")["restrictPublicBuckets"] = json!(false));
    check(&found, "bucket dataBucket needs a public access block");
    let found = violations_after(|p| props(p, "dataBucketCors")["corsRules"][0]["allowedOrigins"] = json!(["*"]));
    check(&found, "dataBucketCors allows any origin");
    let found = violations_after(|p| props(p, "httpApiRoute")["authorizationType"] = json!("NONE"));
    check(&found, "route httpApiRoute (ANY /v1/{proxy+}) is not behind the JWT authorizer");
    // The download link's route is public by design; another key on it is not.
    assert!(!violations_after(|_| {}).iter().any(|v| v.contains("httpApiLinkRoute")), "the link route is allowed as it is");
    let found = violations_after(|p| props(p, "httpApiLinkRoute")["routeKey"] = json!("GET /v1/sessions/{token}"));
    check(&found, "route httpApiLinkRoute (GET /v1/sessions/{token}) is not behind the JWT authorizer");
}

#[test]
fn queues_without_dead_letters_and_triggers_without_partial_failures_are_reported() {
    let found = violations_after(|p| {
        props(p, "meshingQueue").as_object_mut().expect("object").remove("redrivePolicy");
    });
    check(&found, "lambda: meshingFunction trigger queue meshingQueue has no dead-letter queue");
    let found = violations_after(|p| props(p, "notifyTrigger")["functionResponseTypes"] = json!([]));
    check(&found, "trigger notifyTrigger must set functionResponseTypes [ReportBatchItemFailures]");
    let found = violations_after(|p| props(p, "embeddingQueue")["visibilityTimeoutSeconds"] = json!(60));
    check(&found, "visibility 60s must be at least 6 x the 60s timeout");
    let found = violations_after(|p| {
        props(p, "intakeFunction").as_object_mut().expect("object").remove("loggingConfig");
    });
    check(&found, "lambda: intakeFunction needs loggingConfig.logGroup");
    let found = violations_after(|p| {
        p.resources.remove("intakeInvokePermission");
    });
    check(&found, "lambda: intakeFunction has no trigger");
}

#[test]
fn scaling_that_cannot_reach_zero_is_reported() {
    let found = violations_after(|p| props(p, "samScalingTarget")["minCapacity"] = json!(1));
    check(&found, "must scale to zero (minCapacity 0)");
    let found = violations_after(|p| {
        p.resources.remove("samBacklogWithoutCapacity");
    });
    check(&found, "needs a step policy fired by a HasBacklogWithoutCapacity alarm");
}

#[test]
fn missing_alarms_are_reported() {
    let found = violations_after(|p| {
        p.resources.remove("notifyDlqDepth");
    });
    check(&found, "alarms: dead-letter queue notifyDlq has no depth alarm");
    let found = violations_after(|p| {
        p.resources.remove("meshingThrottles");
    });
    check(&found, "alarms: function meshingFunction has no Throttles alarm");
    let found = violations_after(|p| props(p, "notifyDuration")["threshold"] = json!(30000));
    check(&found, "alarms: notifyDuration's threshold must lie below notifyFunction's timeout (30000 ms)");
}

#[test]
fn stack_config_mistakes_are_reported() {
    let program = common::program();
    let mut stack = common::stack("prod");
    stack.config.insert("gen3d:adminEmial".into(), json!("x@y.example"));
    stack.config.remove("gen3d:imageTag");
    stack.config.insert("gen3d:maxInstances".into(), json!("four"));
    stack.config.get_mut("aws:defaultTags").expect("tags")["tags"]["Environment"] = json!("production");
    stack.config.get_mut("aws:defaultTags").expect("tags")["tags"].as_object_mut().expect("tags").remove("Owner");
    let found = checks::run(&evaluate(&program, &stack), &stack.config);
    check(&found, "config gen3d:adminEmial is not declared in Pulumi.yaml");
    check(&found, "required config gen3d:imageTag is not set");
    check(&found, "config gen3d:maxInstances must be of type integer");
    check(&found, "stack prod must set aws:defaultTags.tags.Environment = prod");
    check(&found, "stack prod must set aws:defaultTags.tags.Owner");
}

#[test]
fn a_log_group_without_retention_is_reported() {
    let found = violations_after(|p| {
        p.resources.remove("samEndpointLogs");
        props(p, "sagemakerRolePolicy")["policy"]["fn::toJSON"]["Statement"]
            .as_array_mut()
            .expect("statements")
            .retain(|s| s["Sid"] != "ContainerLogs");
    });
    check(&found, "logs: endpoint samEndpoint writes to /aws/sagemaker/Endpoints/gen3d-dev-sam, which is not a log group with a retention period");
    let found = violations_after(|p| {
        props(p, "notifyLogs").as_object_mut().expect("properties").remove("retentionInDays");
    });
    check(&found, "logs: function notifyFunction logs to");
}

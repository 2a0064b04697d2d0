//! The names and settings in the program are the ones the services read: every Lambda's
//! environment parses as that service's `ServiceConfig`, queues, table and endpoint carry
//! the names `ResourceNames` derives, IAM sends match `Service::sends_to`, inference
//! notifications are filtered on the request files the services write.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use gen3d_config::{ResourceNames, Service, ServiceConfig, ServiceSettings, env, job_table};
use gen3d_domain::{INFERENCE_FAILURE_PREFIX, INFERENCE_OUTPUT_PREFIX, SessionFile, USERS_PREFIX};
use gen3d_infra::checks::json_doc;
use gen3d_infra::{Evaluated, lookup, placeholder_refs};
use gen3d_ports::QueueName;
use serde_json::Value;

fn s(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The logical name of the queue resource with this physical name.
fn queue_resource(ev: &Evaluated, physical: &str) -> String {
    ev.of_type("aws:sqs:Queue")
        .find(|(_, q)| s(q.properties.get("name")) == physical)
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| panic!("stack {} has no queue named {physical}", ev.stack))
}

fn function_resource(ev: &Evaluated, physical: &str) -> String {
    ev.of_type("aws:lambda:Function")
        .find(|(_, f)| s(f.properties.get("name")) == physical)
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| panic!("stack {} has no function named {physical}", ev.stack))
}

fn for_each_stack(f: impl Fn(&Evaluated, &ResourceNames)) {
    for stack in common::stacks() {
        let ev = common::evaluated(&stack.name);
        let names = ResourceNames::for_stack("gen3d", &stack.name).expect("valid prefix");
        f(&ev, &names);
    }
}

#[test]
fn every_lambda_environment_is_its_service_config() {
    for_each_stack(|ev, names| {
        let table = ev.of_type("aws:dynamodb:Table").next().expect("a job table").1;
        let endpoint = ev.of_type("aws:sagemaker:Endpoint").next().expect("an endpoint").1;
        let bucket = s(ev.prop("dataBucket", "bucket"));
        for service in Service::ALL {
            let f = function_resource(ev, &names.function(service));
            let vars: BTreeMap<String, String> = ev.resources[&f].properties["environment"]["variables"]
                .as_object()
                .expect("variables")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_else(|| panic!("{f}: {k} is not a string")).to_owned()))
                .collect();
            let set: BTreeSet<&str> = vars.keys().map(String::as_str).collect();
            let read: BTreeSet<&str> = service.env_vars().into_iter().collect();
            assert_eq!(set, read, "{f} sets other variables than the {service} service reads");
            // An API's endpoint is an https URL once deployed; the evaluator leaves a placeholder.
            let deployed = |v: &String| if v.ends_with(".apiEndpoint⟩") { format!("https://{v}") } else { v.clone() };
            let config = ServiceConfig::from_lookup(service, |k| vars.get(k).map(deployed))
                .unwrap_or_else(|e| panic!("{f} environment is not a valid {service} config: {e}"));
            assert_eq!(config.names, *names);
            assert_eq!(config.stack, ev.stack);
            assert_eq!(config.table, s(table.properties.get("name")));
            assert_eq!(config.table, names.job_table());
            assert_eq!(config.bucket, bucket);
            if let ServiceSettings::Notify { api_url, .. } = &config.settings {
                let browser = s(lookup(&ev.outputs["webConfig"], "apiBase"));
                assert_eq!(*api_url, deployed(&browser), "{f}: the mail's links point at another API than the browser's");
            }
            if let ServiceSettings::Inference { endpoint_name } = &config.settings {
                assert_eq!(*endpoint_name, s(endpoint.properties.get("name")));
                assert_eq!(*endpoint_name, names.endpoint());
            }
            let code = ev.resources[&f].properties["code"]["fn::fileArchive"].as_str().expect("bundle path");
            assert_eq!(code, format!("./{}", service.lambda_bundle_dir()), "{f} points at another bundle than cargo xtask dist writes");
        }
    });
}

#[test]
fn queues_are_the_pipeline_queues_with_their_dead_letter_queues() {
    for_each_stack(|ev, names| {
        let mut expected = BTreeSet::new();
        for q in QueueName::PIPELINE {
            let source = queue_resource(ev, &names.queue(q));
            let dlq = queue_resource(ev, &names.queue(QueueName::pipeline(q).dead_letter().as_str()));
            let redrive = json_doc(ev.prop(&source, "redrivePolicy")).expect("redrive policy");
            assert_eq!(s(redrive.get("deadLetterTargetArn")), format!("⟨{dlq}.arn⟩"), "{source} dead-letters elsewhere");
            expected.extend([source, dlq]);
        }
        let all: BTreeSet<String> = ev.of_type("aws:sqs:Queue").map(|(n, _)| n.clone()).collect();
        assert_eq!(all, expected, "queues that no service uses");
    });
}

#[test]
fn each_service_consumes_and_sends_where_the_code_does() {
    for_each_stack(|ev, names| {
        for service in Service::ALL {
            let f = function_resource(ev, &names.function(service));
            let consumed: Vec<String> = ev
                .of_type("aws:lambda:EventSourceMapping")
                .filter(|(_, m)| s(m.properties.get("functionName")) == format!("⟨{f}.arn⟩"))
                .map(|(_, m)| s(m.properties.get("eventSourceArn")))
                .collect();
            let want: Vec<String> = service.consumes().map(|q| format!("⟨{}.arn⟩", queue_resource(ev, &names.queue(q)))).into_iter().collect();
            assert_eq!(consumed, want, "{f} is triggered by other queues than {service} consumes");

            let role = placeholder_refs(&s(ev.prop(&f, "role"))).remove(0).0;
            let policy = ev
                .of_type("aws:iam:RolePolicy")
                .find(|(_, p)| s(p.properties.get("role")) == format!("⟨{role}.id⟩"))
                .map(|(_, p)| json_doc(p.properties.get("policy")).expect("policy document"))
                .expect("role policy");
            let mut sends = BTreeSet::new();
            for st in policy["Statement"].as_array().expect("statements") {
                let actions = st["Action"].as_array().cloned().unwrap_or_else(|| vec![st["Action"].clone()]);
                if actions.iter().any(|a| a == "sqs:SendMessage") {
                    let resources = st["Resource"].as_array().cloned().unwrap_or_else(|| vec![st["Resource"].clone()]);
                    sends.extend(resources.iter().map(|r| s(Some(r))));
                }
            }
            let want: BTreeSet<String> = service.sends_to().iter().map(|q| format!("⟨{}.arn⟩", queue_resource(ev, &names.queue(q)))).collect();
            assert_eq!(sends, want, "{role} may send to other queues than {service} does");
        }
    });
}

#[test]
fn inference_results_reach_the_service_that_asked() {
    for_each_stack(|ev, names| {
        // One results topic, named as the local stand-in's (gen3d_aws::create_inference_topic).
        let topics: Vec<String> = ev.of_type("aws:sns:Topic").map(|(_, t)| s(t.properties.get("name"))).collect();
        assert!(topics.contains(&names.inference_topic()), "{topics:?} lacks {}", names.inference_topic());
        for service in Service::ALL {
            let subscriptions: Vec<String> = match service.consumes() {
                Some(q) => {
                    let queue = queue_resource(ev, &names.queue(q));
                    ev.of_type("aws:sns:TopicSubscription")
                        .filter(|(_, sub)| s(sub.properties.get("endpoint")) == format!("⟨{queue}.arn⟩"))
                        .map(|(_, sub)| {
                            let filter = json_doc(sub.properties.get("filterPolicy")).expect("filter policy");
                            s(filter.pointer("/requestParameters/inputLocation/0/suffix"))
                        })
                        .collect()
                }
                None => Vec::new(),
            };
            let want: Vec<String> = service.inference_request_file().map(|f| format!("/{f}")).into_iter().collect();
            assert_eq!(subscriptions, want, "{service}'s queue gets other inference results than it asks for");
        }
        let config = ev.of_type("aws:sagemaker:EndpointConfiguration").next().expect("endpoint config").1;
        let bucket = s(ev.prop("dataBucket", "bucket"));
        let output = &config.properties["asyncInferenceConfig"]["outputConfig"];
        assert_eq!(s(output.get("s3OutputPath")), format!("s3://{bucket}/{INFERENCE_OUTPUT_PREFIX}"));
        assert_eq!(s(output.get("s3FailurePath")), format!("s3://{bucket}/{INFERENCE_FAILURE_PREFIX}"));
        let model = ev.of_type("aws:sagemaker:Model").next().expect("model").1;
        let container_env = &model.properties["primaryContainer"]["environment"];
        assert_eq!(s(container_env.get(env::CONTAINER_BLOB_BUCKET)), bucket);
        assert!(container_env.get(env::CONTAINER_MAX_CONCURRENCY).is_some_and(Value::is_string));
    });
}

#[test]
fn uploads_start_the_embedding_step() {
    for_each_stack(|ev, names| {
        let notification = ev.of_type("aws:s3:BucketNotification").next().expect("bucket notification").1;
        let queues = notification.properties["queues"].as_array().expect("queue notifications");
        assert_eq!(queues.len(), 1);
        let n = &queues[0];
        assert_eq!(s(n.get("queueArn")), format!("⟨{}.arn⟩", queue_resource(ev, &names.queue(QueueName::EMBEDDING))));
        assert_eq!(s(n.get("filterPrefix")), USERS_PREFIX);
        assert_eq!(s(n.get("filterSuffix")), format!("/{}", SessionFile::Image.file_name()));
    });
}

#[test]
fn the_job_table_has_the_key_schema_the_job_store_uses() {
    for_each_stack(|ev, _| {
        let t = &ev.of_type("aws:dynamodb:Table").next().expect("table").1.properties;
        assert_eq!(s(t.get("hashKey")), job_table::PARTITION_KEY);
        assert_eq!(s(t.get("rangeKey")), job_table::SORT_KEY);
        assert_eq!(s(t.pointer("/ttl/attributeName")), job_table::TTL_ATTRIBUTE);
        let attributes: BTreeSet<(String, String)> =
            t["attributes"].as_array().expect("attributes").iter().map(|a| (s(a.get("name")), s(a.get("type")))).collect();
        let want: BTreeSet<(String, String)> = job_table::KEY_ATTRIBUTES.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect();
        assert_eq!(attributes, want);
        let gsi = &t["globalSecondaryIndexes"][0];
        assert_eq!(s(gsi.get("name")), job_table::BY_USER_INDEX);
        assert_eq!(s(gsi.get("hashKey")), job_table::BY_USER_PARTITION);
        assert_eq!(s(gsi.get("rangeKey")), job_table::BY_USER_SORT);
    });
}

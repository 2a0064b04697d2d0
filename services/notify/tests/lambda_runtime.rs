//! The `gen3d-lambda-notify` binary under the Lambda Runtime API, as AWS runs a
//! `provided.al2023` bootstrap: a local stand-in for the runtime hands it one SQS event
//! and reads back its `SqsBatchResponse`; its AWS calls go to moto. Only the poison
//! record is reported failed.

use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::{get, post};
use gen3d_domain::{NotifyRequested, ObjectId, QueueMessage, SessionId, UserId};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[derive(Clone)]
struct Runtime {
    event: Value,
    replies: mpsc::UnboundedSender<(String, Value)>,
    served: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

async fn next(State(rt): State<Runtime>) -> (HeaderMap, String) {
    if rt.served.swap(true, std::sync::atomic::Ordering::SeqCst) {
        // One invocation only: the next poll waits until the test ends the process.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let mut headers = HeaderMap::new();
    let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 60_000;
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_static("req-1"));
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from_str(&deadline.to_string()).unwrap());
    headers
        .insert("lambda-runtime-invoked-function-arn", HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:gen3d-test-notify"));
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    (headers, rt.event.to_string())
}

async fn reply(State(rt): State<Runtime>, Path((id, kind)): Path<(String, String)>, body: String) -> &'static str {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = rt.replies.send((format!("{id}/{kind}"), value));
    "{}"
}

async fn init_error(State(rt): State<Runtime>, body: String) -> &'static str {
    let _ = rt.replies.send(("init/error".into(), Value::String(body)));
    "{}"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_answers_an_sqs_event_with_its_partial_failures() {
    let Some(moto) = gen3d_testkit::moto_url("the notify Lambda binary") else { return };
    let sdk = gen3d_aws::sdk_config(Some(&moto), Some("us-east-1")).await;
    let names = gen3d_config::ResourceNames::new(&format!("rt{}", std::process::id())).unwrap();
    gen3d_aws::provision::create_queues(&sdk, &names, 3, 30).await.unwrap();
    gen3d_aws::provision::create_job_table(&sdk, &names.job_table()).await.unwrap();

    let missing =
        NotifyRequested { user: UserId::parse("u1").unwrap(), session: SessionId::parse("s1").unwrap(), object: ObjectId::parse("o1").unwrap() };
    let record = |id: &str, body: String| json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body, "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs", "awsRegion": "us-east-1"});
    let event = json!({"Records": [
        record("poison", "not json".into()),
        record("gone", QueueMessage::NotifyRequested(missing).to_body()),
        record("test-event", json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string()),
    ]});
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = Runtime { event, replies: tx, served: Default::default() };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(reply))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gen3d-lambda-notify"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "gen3d-test-notify")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/gen3d-test-notify")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &moto)
        .env("GEN3D_STACK", "test")
        .env("GEN3D_RESOURCE_PREFIX", names.prefix())
        .env("GEN3D_BUCKET", format!("{}-data", names.prefix()))
        .env("GEN3D_TABLE", names.job_table())
        .env("GEN3D_METRICS_NAMESPACE", "Gen3D")
        .env("GEN3D_JOB_TTL_DAYS", "30")
        .env("GEN3D_MAIL_FROM", "no-reply@gen3d.example")
        .env("GEN3D_ADMIN_EMAIL", "admin@gen3d.example")
        .env("GEN3D_APP_URL", "https://app.gen3d.example")
        .env("GEN3D_API_URL", "https://api.gen3d.example")
        .stdout(Stdio::null())
        .spawn()
        .expect("the Lambda binary starts");
    let answer = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    let (path, body) = answer.expect("the function answers in time").expect("a reply");
    assert_eq!(path, "req-1/response", "{body}");
    assert_eq!(body, json!({"batchItemFailures": [{"itemIdentifier": "poison"}]}), "only the poison record fails");
}

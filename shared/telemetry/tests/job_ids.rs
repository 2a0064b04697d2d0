//! Every line logged while a message is handled names its job: the JSON a Lambda writes
//! carries the user, session and object of the message, whichever code logged it.

use std::time::Duration;

use async_trait::async_trait;
use gen3d_config::LogSettings;
use gen3d_domain::{EmbedRequested, ObjectId, QueueMessage, ReconstructRequested, SessionId, UserId};
use gen3d_pipeline::testing::TestPorts;
use gen3d_pipeline::{Handler, HandlerError, disposition};
use gen3d_ports::QueueName;
use gen3d_testkit::Captured;

fn json_lines(out: &Captured) -> Vec<serde_json::Value> {
    out.text().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

/// Logs deep inside, as a service does, then fails for good.
struct Failing;

#[async_trait]
impl Handler for Failing {
    async fn handle(&self, _: QueueMessage) -> Result<(), HandlerError> {
        tracing::info!("model refused the input");
        Err(HandlerError::Permanent("mask: empty".into()))
    }
    async fn give_up(&self, _: QueueMessage, _: &str) -> Result<(), HandlerError> {
        Ok(())
    }
}

async fn handled(message: QueueMessage) -> Vec<serde_json::Value> {
    let out = Captured::default();
    let writer = out.clone();
    let settings = LogSettings { json: true, filter: "info".into() };
    let _guard = tracing::subscriber::set_default(gen3d_telemetry::subscriber(&settings, move || writer.clone()));
    let t = TestPorts::new();
    disposition(&t.ports, &Failing, &QueueName::pipeline(QueueName::RECONSTRUCTION), &message.to_body(), 1, Duration::ZERO).await;
    json_lines(&out)
}

#[tokio::test]
async fn every_line_of_a_job_names_its_user_session_and_object() {
    let ids = (UserId::parse("u-7").unwrap(), SessionId::parse("s-8").unwrap(), ObjectId::parse("o-9").unwrap());
    let lines = handled(QueueMessage::ReconstructRequested(ReconstructRequested { user: ids.0, session: ids.1, object: ids.2 })).await;
    let messages: Vec<&str> = lines.iter().map(|l| l["fields"]["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["model refused the input", "permanent failure; job failed"]);
    for line in &lines {
        let span = &line["span"];
        assert_eq!((&span["user"], &span["session"], &span["object"]), (&"u-7".into(), &"s-8".into(), &"o-9".into()), "{line}");
        assert_eq!(span["kind"], "reconstruct_requested");
    }
}

#[tokio::test]
async fn a_session_job_names_no_object() {
    let m = EmbedRequested { user: UserId::parse("u-1").unwrap(), session: SessionId::parse("s-2").unwrap() };
    let lines = handled(QueueMessage::EmbedRequested(m)).await;
    assert!(!lines.is_empty());
    for line in &lines {
        assert_eq!((&line["span"]["user"], &line["span"]["session"]), (&"u-1".into(), &"s-2".into()));
        assert!(line["span"].get("object").is_none(), "{line}");
    }
}

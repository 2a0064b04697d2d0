//! Test helpers: a fresh local stack on a temporary data directory, typed API calls,
//! and the same pipeline on the AWS profile against moto ([`aws`]), reached through the
//! deployment's edge derived from `Pulumi.yaml` ([`edge`]).

pub mod aws;
pub mod cognito;
pub mod edge;
pub mod soak;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use gen3d::client::{ApiClient, Reply};
use gen3d::{LocalConfig, LocalStack, Workers};
use gen3d_domain::{EmailAddress, UserId};
use gen3d_intake::Principal;
use serde_json::{Value, json};

/// The repository root.
pub fn repo() -> PathBuf {
    gen3d_testkit::repo()
}

pub use gen3d_testkit::{fixture, skipping};

/// moto server's URL from `make test` (`tests/with-moto.sh`); see
/// [`gen3d_testkit::moto_url`].
pub fn moto_url() -> Option<String> {
    gen3d_testkit::moto_url("this test")
}

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub stack: LocalStack,
    pub workers: Option<Workers>,
}

impl TestApp {
    /// A stack with its workers running.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A stack with its workers running, its settings changed by `edit` first.
    pub fn start_with(edit: impl FnOnce(&mut LocalConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = LocalConfig::new(dir.path());
        config.backoff = Duration::from_millis(50);
        config.max_receives = 3;
        edit(&mut config);
        let stack = LocalStack::open(config).expect("stack opens");
        let workers = Some(stack.start_workers().expect("workers start"));
        Self { dir, stack, workers }
    }

    /// A client authenticated as a new user with this email.
    pub fn user(&self, email: &str) -> ApiClient {
        let principal = Principal { user: UserId::generate(), email: EmailAddress::parse(email).expect("valid email") };
        ApiClient::new(self.stack.router(), self.stack.token(&principal))
    }

    pub fn outbox(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(self.stack.config.outbox()).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        files.sort();
        files
    }

    /// The outbox's mail whose file name ends with `suffix` (`{object}-done.eml`), waited
    /// for: the mail is sent by the notify step, after the object is `done` (panics after
    /// 30 s).
    pub async fn wait_mail(&self, suffix: &str) -> PathBuf {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.outbox().into_iter().find(|p| p.to_string_lossy().ends_with(suffix)) {
                return found;
            }
            assert!(Instant::now() < deadline, "no mail *{suffix} in the outbox after 30 s: {:?}", self.outbox());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Creates a session and uploads a photo; returns the session id and the reply.
pub async fn upload(api: &ApiClient, bytes: Vec<u8>) -> (String, Reply) {
    let created = api.post_json("/v1/sessions", &json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.error_message());
    let session = created.json()["id"].as_str().expect("session id").to_owned();
    let reply = api.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("image/jpeg"), bytes).await;
    (session, reply)
}

/// Polls until the session is ready (panics on failure or after 60 s).
pub async fn wait_ready(api: &ApiClient, session: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = api.get(&format!("/v1/sessions/{session}")).await.json();
        match v["state"].as_str() {
            Some("ready") => return,
            Some("failed") => panic!("session failed: {v}"),
            _ => assert!(Instant::now() < deadline, "session not ready in time: {v}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until the object is done or failed; returns its view.
pub async fn wait_object(api: &ApiClient, session: &str, object: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = api.get(&format!("/v1/sessions/{session}/objects/{object}")).await.json();
        if matches!(v["state"].as_str(), Some("done" | "failed")) {
            return v;
        }
        assert!(Instant::now() < deadline, "object did not finish in time: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Photo -> ready session -> object from one click -> finished object view.
pub async fn photo_to_object(api: &ApiClient, photo: &str, x: f32, y: f32) -> (String, Value) {
    let bytes = std::fs::read(fixture(photo)).expect("fixture exists");
    let (session, reply) = upload(api, bytes).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.error_message());
    wait_ready(api, &session).await;
    let created = api.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": x, "y": y, "label": "include"}]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.error_message());
    let object = created.json()["id"].as_str().expect("object id").to_owned();
    let done = wait_object(api, &session, &object).await;
    (session, done)
}

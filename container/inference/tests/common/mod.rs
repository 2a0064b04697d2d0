#![allow(dead_code)] // each test file uses a part

//! What the torch-backed server tests share: an inference server on a free port, and a
//! blocking HTTP call to it.

use std::sync::Arc;

use gen3d_domain::ObjectKey;
use gen3d_embedded::FsBlobStore;
use gen3d_inference::Models;
use serde_json::Value;

pub fn key(k: &str) -> ObjectKey {
    ObjectKey::parse(k).unwrap()
}

/// The container's HTTP server on `models`, one model slot; its base URL.
pub async fn start(blobs: Arc<FsBlobStore>, models: Models) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = gen3d_inference::app(gen3d_inference::ServerState::new(blobs, 1).with_models(models));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// GET `url`, or POST `body` as JSON to it: the status and the JSON reply (null if none).
pub async fn call(url: String, body: Option<Value>) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut r = match body {
            Some(b) => agent.post(&url).send_json(b).unwrap(),
            None => agent.get(&url).call().unwrap(),
        };
        (r.status().as_u16(), r.body_mut().read_json().unwrap_or(Value::Null))
    })
    .await
    .unwrap()
}

//! Mesh tasks in child processes (issue 16): the real worker (`gen3d __mesh-worker`)
//! meshes objects end to end; a worker that crashes or hangs fails that object with a
//! reason, and the stack (this very process) goes on serving.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use gen3d::client::ApiClient;
use gen3d::{LocalConfig, LocalStack};
use gen3d_domain::{EmailAddress, UserId};
use gen3d_inference::{ChildMesher, Mesher};
use gen3d_intake::Principal;
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    gen3d_testkit::fixture_bytes(name)
}

fn worker(program: &str, args: &[&str], timeout: Duration) -> Mesher {
    Mesher::Child(ChildMesher { program: program.into(), args: args.iter().map(|a| (*a).to_owned()).collect(), timeout })
}

async fn wait(api: &ApiClient, path: &str, accept: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = api.get(path).await.json();
        if v["state"].as_str().is_some_and(|s| accept.contains(&s)) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {accept:?} at {path}: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One object from the dog photo on a stack whose mesh tasks run with `mesher`, twice in
/// a row; returns both objects' final views.
async fn two_objects(mesher: Mesher) -> [Value; 2] {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LocalConfig::new(dir.path());
    config.backoff = Duration::from_millis(50);
    config.mesher = mesher;
    let stack = LocalStack::open(config).unwrap();
    let workers = stack.start_workers().unwrap();
    let principal = Principal { user: UserId::generate(), email: EmailAddress::parse("iso@example.com").unwrap() };
    let api = ApiClient::new(stack.router(), stack.token(&principal));
    let session = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    let put = api.call(Method::PUT, &format!("/v1/sessions/{session}/image"), Some("image/jpeg"), fixture("dog.jpg")).await;
    assert_eq!(put.status, StatusCode::ACCEPTED);
    wait(&api, &format!("/v1/sessions/{session}"), &["ready"]).await;
    let mut out = Vec::new();
    for _ in 0..2 {
        let created = api.post_json(&format!("/v1/sessions/{session}/objects"), &json!({"points": [{"x": 150, "y": 420, "label": "include"}]})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.error_message());
        let id = created.json()["id"].as_str().unwrap().to_owned();
        out.push(wait(&api, &format!("/v1/sessions/{session}/objects/{id}"), &["done", "failed"]).await);
    }
    workers.stop().await;
    out.try_into().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_worker_meshes_in_a_child_process() {
    let [a, b] = two_objects(worker(env!("CARGO_BIN_EXE_gen3d"), &[gen3d_meshing::worker::WORKER_ARG], Duration::from_secs(300))).await;
    for o in [&a, &b] {
        assert_eq!(o["state"], "done", "{o}");
        assert!(o["stats"]["triangles"].as_u64().unwrap() > 1000, "{o}");
    }
    assert_eq!(a["stats"]["splats_in"], b["stats"]["splats_in"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_worker_fails_the_object_not_the_server() {
    // Stands for Open3D's segfault: the worker dies of SIGSEGV after reading its request.
    let [a, b] = two_objects(worker("/bin/sh", &["-c", "cat >/dev/null; kill -SEGV $$"], Duration::from_secs(60))).await;
    for o in [&a, &b] {
        assert_eq!(o["state"], "failed", "{o}");
        let reason = o["failure"]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("meshing crashed twice") && reason.contains("SIGSEGV"), "{o}");
        assert_eq!(o["failure"]["stage"], "meshing", "{o}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_worker_is_cut_off_at_the_timeout() {
    // Stands for ball pivoting running for minutes on a degenerate cloud.
    let started = Instant::now();
    let [a, b] = two_objects(worker("/bin/sh", &["-c", "cat >/dev/null; sleep 600"], Duration::from_secs(1))).await;
    for o in [&a, &b] {
        assert_eq!(o["state"], "failed", "{o}");
        assert!(o["failure"]["reason"].as_str().unwrap_or_default().contains("did not finish within 1 s"), "{o}");
    }
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

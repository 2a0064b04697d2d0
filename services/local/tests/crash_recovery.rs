//! Kill the local runner (SIGKILL) in the middle of a job and start it again on the same
//! data directory: the job completes once; nothing is duplicated or lost.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
}

fn start(data: &Path) -> Server {
    let (child, base) = common::serve(data, &[]);
    Server { child, base }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into()
}

fn get(a: &ureq::Agent, url: &str, token: &str) -> Value {
    a.get(url).header("authorization", &format!("Bearer {token}")).call().unwrap().body_mut().read_json().unwrap_or(Value::Null)
}

fn wait_for(a: &ureq::Agent, url: &str, token: &str, accept: &[&str], timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let v = get(a, url, token);
        if v["state"].as_str().is_some_and(|s| accept.contains(&s)) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {accept:?} at {url}: {v}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn jobs(data: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gen3d")).args(["--data", data.to_str().unwrap(), "jobs"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn killed_mid_job_then_restarted_completes_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let a = agent();
    let mut server = start(data.path());
    let base = server.base.clone();
    let mut reply = a.post(&format!("{base}/v1/auth/register")).send_json(json!({"email": "kim@example.com", "password": "correct horse"})).unwrap();
    let token = reply.body_mut().read_json::<Value>().unwrap()["token"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {token}");
    let session: Value = a.post(&format!("{base}/v1/sessions")).header("authorization", &auth).send_empty().unwrap().body_mut().read_json().unwrap();
    let session = session["id"].as_str().unwrap().to_owned();
    let photo = gen3d_testkit::fixture_bytes("truck.jpg");
    let put = a.put(&format!("{base}/v1/sessions/{session}/image")).header("authorization", &auth).send(&photo[..]).unwrap();
    assert_eq!(put.status(), 202);
    wait_for(&a, &format!("{base}/v1/sessions/{session}"), &token, &["ready"], Duration::from_secs(60));
    let mut created = a
        .post(&format!("{base}/v1/sessions/{session}/objects"))
        .header("authorization", &auth)
        .send_json(json!({"points": [{"x": 500, "y": 375, "label": "include"}]}))
        .unwrap();
    let object = created.body_mut().read_json::<Value>().unwrap()["id"].as_str().unwrap().to_owned();
    let object_url = format!("{base}/v1/sessions/{session}/objects/{object}");

    // Kill it while the mesh is being built.
    let seen = wait_for(&a, &object_url, &token, &["meshing", "done"], Duration::from_secs(60));
    assert_eq!(seen["state"], "meshing", "the kill must land mid-job");
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // `gen3d jobs` right after the kill shows the job where it waits: the inference
    // endpoint's queue is listed with the pipeline's.
    let text = jobs(data.path());
    let waiting: u64 = text.lines().filter(|l| l.starts_with("queue")).map(|l| l.split_whitespace().nth(3).unwrap().parse::<u64>().unwrap()).sum();
    assert!(text.lines().any(|l| l.starts_with("queue inference")), "{text}");
    assert!(waiting >= 1, "the killed job waits somewhere: {text}");

    // Restart on the same data: the job finishes.
    let mut server = start(data.path());
    let base = server.base.clone();
    let object_url = format!("{base}/v1/sessions/{session}/objects/{object}");
    let done = wait_for(&a, &object_url, &token, &["done", "failed"], Duration::from_secs(120));
    assert_eq!(done["state"], "done", "{done}");
    let objects = get(&a, &format!("{base}/v1/sessions/{session}/objects"), &token);
    assert_eq!(objects["objects"].as_array().unwrap().len(), 1, "one object, not two");
    let glb = a.get(&format!("{object_url}/files/mesh.glb")).header("authorization", &auth).call().unwrap().body_mut().read_to_vec().unwrap();
    assert_eq!(&glb[..4], b"glTF");

    // Exactly one mail to the user (and one copy to the admin), once the notify step ran.
    std::thread::sleep(Duration::from_millis(500));
    let outbox: Vec<String> =
        std::fs::read_dir(data.path().join("outbox")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    let mut mine: Vec<&String> = outbox.iter().filter(|n| n.starts_with(&object)).collect();
    mine.sort();
    assert_eq!(mine, [&format!("{object}-done-admin.eml"), &format!("{object}-done.eml")], "{outbox:?}");
    // Nothing left behind in the queues or dead-letter queues.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let text = jobs(data.path());
    for line in text.lines().filter(|l| l.starts_with("queue")) {
        assert!(line.contains("waiting    0") && line.contains("dead-lettered    0"), "{text}");
    }
    assert!(text.contains("no failed jobs"), "{text}");
}

//! `/invocations` overhead: the same embed task through the HTTP server and called
//! directly, alternating, in one run. `cargo bench -p gen3d-inference --bench invocations`.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use gen3d_domain::ObjectKey;
use gen3d_embedded::FsBlobStore;
use gen3d_ports::{BlobStore, TaskRequest};

const RUNS: usize = 15;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(FsBlobStore::new(dir.path()));
    let image = ObjectKey::parse("users/u/sessions/s/image").unwrap();
    let photo = gen3d_testkit::fixture_bytes("dog.jpg");
    rt.block_on(blobs.put(&image, Bytes::from(photo), "image/jpeg")).unwrap();
    let request = TaskRequest::Embed { image, output: ObjectKey::parse("users/u/sessions/s/embeddings.g3e").unwrap() };
    let body = serde_json::to_vec(&request).unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}/invocations", listener.local_addr().unwrap());
    let app = gen3d_inference::app(gen3d_inference::ServerState::new(blobs.clone(), 1));
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let models = gen3d_inference::Models::builtin();
    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let (mut http, mut direct) = (Vec::new(), Vec::new());
    for i in 0..=RUNS {
        let t = Instant::now();
        agent.post(&url).header("content-type", "application/json").send(&body[..]).unwrap().body_mut().read_to_vec().unwrap();
        let h = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        rt.block_on(gen3d_inference::run_task(&models, &gen3d_inference::Mesher::InProcess, blobs.as_ref(), &request)).unwrap();
        let d = t.elapsed().as_secs_f64() * 1e3;
        if i > 0 {
            http.push(h);
            direct.push(d);
        }
    }
    let (h, d) = (median(http), median(direct));
    println!("embed dog.jpg (800x534), median of {RUNS}, concurrency 1:");
    println!("| via /invocations | direct run_task | overhead | requests/s |");
    println!("|---:|---:|---:|---:|");
    println!("| {h:.1} ms | {d:.1} ms | {:.1} ms | {:.2} |", h - d, 1e3 / h);
}

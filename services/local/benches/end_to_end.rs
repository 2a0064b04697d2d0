//! Local end-to-end time for truck.jpg (upload -> embeddings -> mask -> splat -> mesh ->
//! mail), the same path as `gen3d run`, on a fresh data directory per run.
//! `cargo bench -p gen3d --bench end_to_end` prints a Markdown row for docs/benchmarks.md.

use std::time::{Duration, Instant};

use axum::http::Method;
use gen3d::client::ApiClient;
use gen3d::{LocalConfig, LocalStack};
use gen3d_domain::{EmailAddress, UserId};
use gen3d_intake::Principal;
use serde_json::json;

const RUNS: usize = 7;

async fn wait(api: &ApiClient, url: &str, want: &str) {
    loop {
        let v = api.get(url).await.json();
        let state = v["state"].as_str().unwrap_or_default();
        assert_ne!(state, "failed", "{v}");
        if state == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn once(photo: &[u8]) -> [Duration; 4] {
    let dir = tempfile::tempdir().unwrap();
    let stack = LocalStack::open(LocalConfig::new(dir.path())).unwrap();
    let workers = stack.start_workers().unwrap();
    let principal = Principal { user: UserId::parse("bench").unwrap(), email: EmailAddress::parse("bench@gen3d.localhost").unwrap() };
    let api = ApiClient::new(stack.router(), stack.token(&principal));
    let t0 = Instant::now();
    let s = api.post_json("/v1/sessions", &json!({})).await.json()["id"].as_str().unwrap().to_owned();
    api.call(Method::PUT, &format!("/v1/sessions/{s}/image"), Some("image/jpeg"), photo.to_vec()).await;
    wait(&api, &format!("/v1/sessions/{s}"), "ready").await;
    let t_embed = t0.elapsed();
    let o = api.post_json(&format!("/v1/sessions/{s}/objects"), &json!({"points": [{"x": 500, "y": 375, "label": "include"}]})).await.json();
    let url = format!("/v1/sessions/{s}/objects/{}", o["id"].as_str().unwrap());
    let t_mask = t0.elapsed();
    wait(&api, &url, "meshing").await;
    let t_splat = t0.elapsed();
    wait(&api, &url, "done").await;
    let total = t0.elapsed();
    workers.stop().await;
    [t_embed, t_mask - t_embed, t_splat - t_mask, total]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let photo = gen3d_testkit::fixture_bytes("truck.jpg");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let _ = rt.block_on(once(&photo)); // warm-up: decoder plan, page cache
    let runs: Vec<[Duration; 4]> = (0..RUNS).map(|_| rt.block_on(once(&photo))).collect();
    let col = |i: usize| median(runs.iter().map(|r| r[i].as_secs_f64() * 1e3).collect());
    println!("truck.jpg end to end, median of {RUNS} runs (ms):");
    println!("| embeddings ready | mask + submit | splat (reconstruct) | total (incl. mesh + mail) |");
    println!("|---:|---:|---:|---:|");
    println!("| {:.0} | {:.0} | {:.0} | {:.0} |", col(0), col(1), col(2), col(3));
}

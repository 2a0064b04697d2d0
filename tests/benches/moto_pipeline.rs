//! The AWS profile under load, on moto (see `gen3d_tests::aws`):
//!
//! 1. Queue hop overhead: one SQS hop (send -> the poller's receive -> the batch handler
//!    -> delete) measured message by message, median and p95, and a 200-message burst.
//! 2. Throughput: 200 objects (dog.jpg, 200 clicks on the dog) submitted at once through the whole
//!    pipeline with the built-in models, from submit to the last object done.
//!
//! `make bench-aws` (starts moto) prints Markdown rows for docs/benchmarks.md.
//! `GEN3D_BENCH_OBJECTS` overrides the object count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use gen3d_domain::{EmbedRequested, QueueMessage, SessionId, UserId};
use gen3d_lambda::{QueueService, poll};
use gen3d_pipeline::{Handler, HandlerError};
use gen3d_ports::QueueName;
use gen3d_tests::aws::{AwsOptions, AwsStack, fresh_names};
use serde_json::json;

/// Records when each message (by session id) reached the handler.
#[derive(Default)]
struct Stopwatch {
    arrived: Mutex<HashMap<String, Instant>>,
}

#[async_trait]
impl Handler for Stopwatch {
    async fn handle(&self, message: QueueMessage) -> Result<(), HandlerError> {
        if let QueueMessage::EmbedRequested(m) = message {
            self.arrived.lock().expect("lock").insert(m.session.as_str().to_owned(), Instant::now());
        }
        Ok(())
    }
    async fn give_up(&self, _: QueueMessage, _: &str) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn hop_overhead(stack: &AwsStack, n: usize) -> (f64, f64, f64) {
    // Queues of their own, so no pipeline worker competes for them.
    let names = fresh_names();
    gen3d_aws::provision::create_queues(&stack.sdk, &names, 3, 30).await.expect("queues");
    let queue = Arc::new(gen3d_aws::SqsQueue::connect_sdk(&stack.sdk, names).await.expect("connect"));
    let mut ports = stack.ports.clone();
    ports.queue = queue;
    let watch = Arc::new(Stopwatch::default());
    let svc = QueueService {
        ports: ports.clone(),
        handler: watch.clone(),
        queue: QueueName::pipeline(QueueName::EMBEDDING),
        backoff: Duration::from_millis(100),
    };
    let (stop, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(poll(svc.clone(), 10, Duration::from_secs(30), rx));
    let body = |i: usize| {
        QueueMessage::EmbedRequested(EmbedRequested {
            user: UserId::parse("bench").expect("id"),
            session: SessionId::parse(&format!("s{i}")).expect("id"),
        })
        .to_body()
    };
    let wait_for = |id: String| {
        let watch = watch.clone();
        async move {
            loop {
                if let Some(t) = watch.arrived.lock().expect("lock").get(&id) {
                    return *t;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    };
    let mut one_by_one = Vec::new();
    for i in 0..n {
        let sent = Instant::now();
        ports.queue.send(&svc.queue, &body(i)).await.expect("send");
        let arrived = wait_for(format!("s{i}")).await;
        one_by_one.push(arrived.duration_since(sent).as_secs_f64() * 1e3);
    }
    one_by_one.sort_by(f64::total_cmp);
    let burst_start = Instant::now();
    for i in n..2 * n {
        ports.queue.send(&svc.queue, &body(i)).await.expect("send");
    }
    wait_for(format!("s{}", 2 * n - 1)).await;
    for i in n..2 * n {
        wait_for(format!("s{i}")).await;
    }
    let burst = n as f64 / burst_start.elapsed().as_secs_f64();
    let _ = stop.send(true);
    poller.abort();
    (percentile(&one_by_one, 0.5), percentile(&one_by_one, 0.95), burst)
}

async fn throughput(stack: &AwsStack, n: usize) -> (f64, f64) {
    let photo = std::fs::read(gen3d_tests::fixture("dog.jpg")).expect("fixture");
    let (session, reply) = gen3d_tests::upload(&stack.api, photo).await;
    assert_eq!(reply.status, 202);
    gen3d_tests::wait_ready(&stack.api, &session).await;
    let started = Instant::now();
    let mut objects = Vec::new();
    for i in 0..n {
        let (x, y) = (140.0 + (i % 10) as f64 * 2.0, 410.0 + (i / 10 % 10) as f64 * 2.0);
        let body = json!({"points": [{"x": x, "y": y, "label": "include"}], "target_triangles": 5000});
        let created = stack.api.post_json(&format!("/v1/sessions/{session}/objects"), &body).await;
        assert_eq!(created.status, 201, "{}", created.error_message());
        objects.push(created.json()["id"].as_str().expect("id").to_owned());
    }
    let mut latencies = Vec::new();
    for o in &objects {
        let v = gen3d_tests::wait_object(&stack.api, &session, o).await;
        assert_eq!(v["state"], "done", "{v}");
        latencies.push((v["updated_ms"].as_u64().unwrap_or(0).saturating_sub(v["created_ms"].as_u64().unwrap_or(0))) as f64);
    }
    let total = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    (n as f64 / total, percentile(&latencies, 0.5))
}

fn main() {
    let Ok(moto) = std::env::var("GEN3D_MOTO_URL") else {
        eprintln!("GEN3D_MOTO_URL is not set: run `make bench-aws`, which starts moto");
        std::process::exit(2);
    };
    let n: usize = std::env::var("GEN3D_BENCH_OBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let stack = AwsStack::start(&moto, AwsOptions { container_concurrency: 2, ..AwsOptions::default() }).await;
        let (p50, p95, burst) = hop_overhead(&stack, n).await;
        let (objects_per_s, median_latency_ms) = throughput(&stack, n).await;
        println!("| SQS hop on moto, one message at a time ({n}) | median {p50:.1} ms, p95 {p95:.1} ms |");
        println!("| SQS hop on moto, burst of {n} | {burst:.0} messages/s |");
        println!(
            "| {n} objects, whole pipeline on moto (built-in models, 5k triangles) | {objects_per_s:.2} objects/s, median object latency {:.1} s |",
            median_latency_ms / 1e3
        );
        stack.stop().await;
    });
}

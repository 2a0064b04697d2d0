use std::time::{Duration, Instant};

use gen3d_ports::{Queue, QueueName};

const VISIBILITY: Duration = Duration::from_secs(1);

/// Receives until a message arrives or `within` passes.
async fn receive_one(q: &dyn Queue, name: &QueueName, within: Duration) -> Option<gen3d_ports::Received> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(m) = q.receive(name, 1, VISIBILITY, Duration::from_millis(500)).await.unwrap().into_iter().next() {
            return Some(m);
        }
    }
    None
}

/// Send, receive, hide for the visibility timeout, redeliver with a higher count, delete,
/// delay, dead-letter after `max_receives`, replay back to the source.
pub async fn suite(q: &dyn Queue) {
    let name = QueueName::pipeline(QueueName::MESHING);
    let dlq = name.dead_letter();
    let max = q.max_receives(&name);
    assert!(max >= 2, "the suite needs at least two receives before dead-lettering");

    // Delivered, hidden while in flight, deleted for good.
    q.send(&name, r#"{"n":1}"#).await.unwrap();
    let m = receive_one(q, &name, Duration::from_secs(5)).await.expect("a sent message arrives");
    assert_eq!(m.body, r#"{"n":1}"#);
    assert_eq!(m.receive_count, 1);
    assert!(q.receive(&name, 10, VISIBILITY, Duration::ZERO).await.unwrap().is_empty(), "in flight means invisible");
    assert!(q.depth(&name).await.unwrap() >= 1, "in-flight messages count in the depth");
    q.delete(&name, &m.receipt).await.unwrap();
    tokio::time::sleep(VISIBILITY + Duration::from_millis(300)).await;
    assert!(q.receive(&name, 10, VISIBILITY, Duration::ZERO).await.unwrap().is_empty(), "a deleted message never returns");
    assert_eq!(q.depth(&name).await.unwrap(), 0);

    // Not deleted: delivered again with a higher receive count; retry_after delays it.
    q.send(&name, r#"{"n":2}"#).await.unwrap();
    let first = receive_one(q, &name, Duration::from_secs(5)).await.unwrap();
    q.retry_after(&name, &first.receipt, Duration::ZERO).await.unwrap();
    let second = receive_one(q, &name, Duration::from_secs(5)).await.expect("made visible again at once");
    assert_eq!(second.body, first.body);
    assert_eq!(second.receive_count, 2);

    // Received max times: the next receive moves it to the dead-letter queue.
    let mut count = second.receive_count;
    let mut last = second;
    while count < max {
        q.retry_after(&name, &last.receipt, Duration::ZERO).await.unwrap();
        last = receive_one(q, &name, Duration::from_secs(5)).await.unwrap();
        count = last.receive_count;
    }
    q.retry_after(&name, &last.receipt, Duration::ZERO).await.unwrap();
    assert!(receive_one(q, &name, Duration::from_secs(2)).await.is_none(), "dead-lettered after {max} receives");
    let dead = receive_one(q, &dlq, Duration::from_secs(5)).await.expect("the message is in the dead-letter queue");
    assert_eq!(dead.body, r#"{"n":2}"#);
    q.retry_after(&dlq, &dead.receipt, Duration::ZERO).await.unwrap();

    // Replay: back on the source queue with a fresh count, gone from the DLQ.
    assert!(q.replay(&name, None).await.is_err(), "only a dead-letter queue can be replayed");
    let moved = q.replay(&dlq, Some(10)).await.unwrap();
    assert_eq!(moved, 1);
    let back = receive_one(q, &name, Duration::from_secs(5)).await.expect("replayed to the source");
    assert_eq!(back.body, r#"{"n":2}"#);
    assert_eq!(back.receive_count, 1);
    q.delete(&name, &back.receipt).await.unwrap();
    assert_eq!(q.depth(&dlq).await.unwrap(), 0);
}

//! The `Queue` port on SQLite, with SQS's semantics.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gen3d_ports::{PortError, Queue, QueueName, Receipt, Received, now_ms};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::Notify;

use crate::db::{Db, db_err, lock};

/// SQS semantics on SQLite: at-least-once delivery, a visibility timeout per receive,
/// a receive count, and a dead-letter queue (`{name}-dlq`) that a message moves to when
/// a receive finds it already delivered `max_receives` times.
pub struct SqliteQueue {
    db: Db,
    max_receives: u32,
    arrived: Arc<Notify>,
}

impl SqliteQueue {
    pub fn new(conn: Connection, max_receives: u32) -> Self {
        Self { db: Arc::new(std::sync::Mutex::new(conn)), max_receives: max_receives.max(1), arrived: Arc::new(Notify::new()) }
    }

    /// Makes every in-flight message visible now. Only for a runner that holds the data
    /// directory exclusively: the process that received them is gone (crashed or killed),
    /// so waiting out their visibility timeouts would only delay recovery.
    pub fn recover_in_flight(&self) -> Result<u64, PortError> {
        let now = now_ms() as i64;
        let n = lock(&self.db)?
            .execute("UPDATE messages SET visible_at = ?1, receipt = NULL WHERE receipt IS NOT NULL AND visible_at > ?1", params![now])
            .map_err(db_err)?;
        Ok(n as u64)
    }

    fn try_receive(&self, queue: &QueueName, max: usize, visibility: Duration) -> Result<Vec<Received>, PortError> {
        let mut conn = lock(&self.db)?;
        let tx = conn.transaction().map_err(db_err)?;
        let now = now_ms() as i64;
        let mut out = Vec::new();
        {
            let mut select = tx
                .prepare_cached("SELECT seq, id, body, receive_count FROM messages WHERE queue = ?1 AND visible_at <= ?2 ORDER BY seq LIMIT ?3")
                .map_err(db_err)?;
            let rows: Vec<(i64, String, String, u32)> = select
                .query_map(params![queue.as_str(), now, (max * 4 + 8) as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            for (seq, id, body, count) in rows {
                if count >= self.max_receives {
                    tx.execute(
                        "UPDATE messages SET queue = ?1, receive_count = 0, receipt = NULL, visible_at = 0 WHERE seq = ?2",
                        params![queue.dead_letter().as_str(), seq],
                    )
                    .map_err(db_err)?;
                    tracing::warn!(queue = %queue, message_id = %id, receives = count, "message moved to the dead-letter queue");
                    continue;
                }
                if out.len() == max {
                    break;
                }
                let receipt = format!("{id}:{}", rand::random::<u64>());
                tx.execute(
                    "UPDATE messages SET receive_count = receive_count + 1, visible_at = ?1, receipt = ?2 WHERE seq = ?3",
                    params![now + visibility.as_millis() as i64, receipt, seq],
                )
                .map_err(db_err)?;
                out.push(Received { message_id: id, receipt: Receipt(receipt), body, receive_count: count + 1 });
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(out)
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, queue: &QueueName, body: &str) -> Result<String, PortError> {
        let id = format!("{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>());
        let now = now_ms() as i64;
        lock(&self.db)?
            .execute(
                "INSERT INTO messages (id, queue, body, visible_at, receive_count, sent_ms) VALUES (?1, ?2, ?3, ?4, 0, ?4)",
                params![id, queue.as_str(), body, now],
            )
            .map_err(db_err)?;
        self.arrived.notify_waiters();
        Ok(id)
    }

    async fn receive(&self, queue: &QueueName, max: usize, visibility: Duration, wait: Duration) -> Result<Vec<Received>, PortError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.arrived.notified();
            let got = self.try_receive(queue, max.max(1), visibility)?;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(got);
            }
            // Wake on a send, or poll again soon (another process may share the file).
            let nap = (deadline - tokio::time::Instant::now()).min(Duration::from_millis(200));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn delete(&self, queue: &QueueName, receipt: &Receipt) -> Result<(), PortError> {
        let n =
            lock(&self.db)?.execute("DELETE FROM messages WHERE queue = ?1 AND receipt = ?2", params![queue.as_str(), receipt.0]).map_err(db_err)?;
        if n == 0 {
            return Err(PortError::Conflict(format!("receipt {} is stale (the message was received again)", receipt.0)));
        }
        Ok(())
    }

    async fn retry_after(&self, queue: &QueueName, receipt: &Receipt, delay: Duration) -> Result<(), PortError> {
        lock(&self.db)?
            .execute(
                "UPDATE messages SET visible_at = ?1 WHERE queue = ?2 AND receipt = ?3",
                params![now_ms() as i64 + delay.as_millis() as i64, queue.as_str(), receipt.0],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn max_receives(&self, _queue: &QueueName) -> u32 {
        self.max_receives
    }

    async fn depth(&self, queue: &QueueName) -> Result<u64, PortError> {
        let n: i64 =
            lock(&self.db)?.query_row("SELECT COUNT(*) FROM messages WHERE queue = ?1", params![queue.as_str()], |r| r.get(0)).map_err(db_err)?;
        Ok(n as u64)
    }

    async fn replay(&self, dlq: &QueueName, max: Option<u64>) -> Result<u64, PortError> {
        let source = dlq.source().ok_or_else(|| PortError::Invalid(format!("{dlq} is not a dead-letter queue (names end in -dlq)")))?;
        let mut moved = 0;
        // One message per transaction: an interruption leaves each message in exactly one queue.
        while max.is_none_or(|m| moved < m) {
            let conn = lock(&self.db)?;
            let seq: Option<i64> = conn
                .query_row("SELECT seq FROM messages WHERE queue = ?1 ORDER BY seq LIMIT 1", params![dlq.as_str()], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            let Some(seq) = seq else { break };
            conn.execute(
                "UPDATE messages SET queue = ?1, receive_count = 0, receipt = NULL, visible_at = ?2 WHERE seq = ?3",
                params![source.as_str(), now_ms() as i64, seq],
            )
            .map_err(db_err)?;
            moved += 1;
        }
        if moved > 0 {
            self.arrived.notify_waiters();
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(max: u32) -> (tempfile::TempDir, SqliteQueue) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_database(&dir.path().join("q.sqlite")).unwrap();
        (dir, SqliteQueue::new(conn, max))
    }

    const SHORT: Duration = Duration::from_millis(30);

    #[tokio::test]
    async fn redelivers_after_visibility_then_dead_letters_and_replays() {
        let (_dir, q) = queue(2);
        let name = QueueName::pipeline(QueueName::MESHING);
        q.send(&name, "hello").await.unwrap();
        let first = q.receive(&name, 10, SHORT, Duration::ZERO).await.unwrap();
        assert_eq!((first.len(), first[0].receive_count), (1, 1));
        assert!(q.receive(&name, 10, SHORT, Duration::ZERO).await.unwrap().is_empty(), "invisible while in flight");
        tokio::time::sleep(SHORT * 2).await;
        let second = q.receive(&name, 10, SHORT, Duration::ZERO).await.unwrap();
        assert_eq!(second[0].receive_count, 2);
        assert!(q.delete(&name, &first[0].receipt).await.is_err(), "a stale receipt deletes nothing");
        tokio::time::sleep(SHORT * 2).await;
        assert!(q.receive(&name, 10, SHORT, Duration::ZERO).await.unwrap().is_empty(), "third receive dead-letters it");
        assert_eq!(q.depth(&name.dead_letter()).await.unwrap(), 1);
        assert_eq!(q.replay(&name.dead_letter(), None).await.unwrap(), 1);
        let again = q.receive(&name, 10, SHORT, Duration::ZERO).await.unwrap();
        assert_eq!((again[0].body.as_str(), again[0].receive_count), ("hello", 1));
        q.delete(&name, &again[0].receipt).await.unwrap();
        assert_eq!(q.depth(&name).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn long_poll_wakes_on_send() {
        let (_dir, q) = queue(3);
        let q = Arc::new(q);
        let name = QueueName::pipeline(QueueName::NOTIFY);
        let q2 = q.clone();
        let n2 = name.clone();
        let waiter = tokio::spawn(async move { q2.receive(&n2, 1, Duration::from_secs(5), Duration::from_secs(5)).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        q.send(&name, "x").await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(2), waiter).await.unwrap().unwrap().unwrap();
        assert_eq!(got.len(), 1);
    }

    #[tokio::test]
    async fn replay_refuses_a_source_queue() {
        let (_dir, q) = queue(3);
        assert!(matches!(q.replay(&QueueName::pipeline(QueueName::NOTIFY), None).await, Err(PortError::Invalid(_))));
    }
}

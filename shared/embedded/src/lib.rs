//! The embedded (local, default) implementations of every port:
//!
//! | port | here | in AWS |
//! |---|---|---|
//! | blob store | [`FsBlobStore`]: files under a root, same key layout | S3 |
//! | queue | [`SqliteQueue`]: at-least-once, visibility timeout, receive count, DLQ | SQS |
//! | job store | [`SqliteJobStore`]: conditional updates | DynamoDB |
//! | mailer | [`OutboxMailer`]: one `.eml` file per message | SES v2 |
//! | metrics | [`MemoryMetrics`] | CloudWatch |
//!
//! Everything is durable across a crash (SQLite WAL, write-then-rename files).

mod blob;
mod db;
mod jobs;
mod mail;
mod metrics;
mod queue;

pub use blob::FsBlobStore;
pub use db::open_database;
pub use jobs::SqliteJobStore;
pub use mail::{OutboxMailer, render_eml};
pub use metrics::MemoryMetrics;
pub use queue::SqliteQueue;

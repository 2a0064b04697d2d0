//! The embedded adapters through the same suites as the AWS ones.

mod conformance;

use gen3d_embedded::{FsBlobStore, OutboxMailer, SqliteJobStore, SqliteQueue, open_database};

#[tokio::test]
async fn fs_blob_store() {
    let dir = tempfile::tempdir().unwrap();
    conformance::blob::suite(&FsBlobStore::new(dir.path()), "s3://local/").await;
}

#[tokio::test]
async fn sqlite_queue() {
    let dir = tempfile::tempdir().unwrap();
    let queue = SqliteQueue::new(open_database(&dir.path().join("q.sqlite")).unwrap(), 3);
    conformance::queue::suite(&queue).await;
}

#[tokio::test]
async fn sqlite_job_store() {
    let dir = tempfile::tempdir().unwrap();
    conformance::jobs::suite(&SqliteJobStore::new(open_database(&dir.path().join("j.sqlite")).unwrap())).await;
}

#[tokio::test]
async fn outbox_mailer() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().to_path_buf();
    let mailer = OutboxMailer::new(&outbox);
    conformance::mail::suite(&mailer, "object-1-done", || {
        let outbox = outbox.clone();
        async move {
            std::fs::read_dir(&outbox)
                .unwrap()
                .flatten()
                .map(|e| {
                    let eml = std::fs::read_to_string(e.path()).unwrap();
                    let header = |name: &str| eml.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_default().trim().to_owned();
                    let to = header("To:").split(',').map(|a| a.trim().to_owned()).collect();
                    (header("Subject:"), eml.clone(), eml.clone(), to)
                })
                .collect()
        }
    })
    .await;
}

//! Delivering any pipeline message a second time changes nothing: records, files and
//! mail stay exactly as they were.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use gen3d_domain::{
    EmbedRequested, InferenceStatus, MeshRequested, NotifyRequested, ObjectFile, ObjectId, ObjectKey, QueueMessage, ReconstructRequested,
    SessionFile, SessionId, UserId, inference_notification_body,
};
use gen3d_ports::QueueName;
use gen3d_tests::{TestApp, photo_to_object};
use sha2::{Digest, Sha256};

/// Every file under the data directory (blobs and outbox) with its content hash.
fn files(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if !name.starts_with("gen3d.sqlite") && name != "runner.lock" {
                let digest: String = Sha256::digest(std::fs::read(&path).unwrap()).iter().map(|b| format!("{b:02x}")).collect();
                out.insert(name, digest);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_delivery_of_any_message_changes_nothing() {
    let app = TestApp::start();
    let api = app.user("twice@example.com");
    let (session, done) = photo_to_object(&api, "groceries.jpg", 408.0, 267.0).await;
    assert_eq!(done["state"], "done");
    let ports = &app.stack.ports;
    let session_id = SessionId::parse(&session).unwrap();
    let object = ObjectId::parse(done["id"].as_str().unwrap()).unwrap();
    // The only user with data is the one who ran the job.
    let user = {
        let dir = app.stack.config.blobs().join("users");
        let name = std::fs::read_dir(dir).unwrap().flatten().next().unwrap().file_name();
        UserId::parse(name.to_str().unwrap()).unwrap()
    };
    let session_before = ports.jobs.session(&user, &session_id).await.unwrap().unwrap();
    // "done" is visible before the notify step has mailed and set `notified`: wait for
    // the pipeline to come to rest before taking the reference state.
    let deadline = Instant::now() + Duration::from_secs(30);
    let object_before = loop {
        let rec = ports.jobs.object(&user, &session_id, &object).await.unwrap().unwrap();
        if rec.notified {
            break rec;
        }
        assert!(Instant::now() < deadline, "the owner was never notified");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let files_before = files(app.dir.path());

    let location = |key: ObjectKey| ports.blobs.location(&key);
    let duplicates = [
        (QueueName::EMBEDDING, QueueMessage::EmbedRequested(EmbedRequested { user: user.clone(), session: session_id.clone() }).to_body()),
        (
            QueueName::EMBEDDING,
            inference_notification_body(
                InferenceStatus::Completed,
                &format!("embed-{session}"),
                &location(ObjectKey::session_file(&user, &session_id, SessionFile::EmbedRequest)),
                "s3://local/inference/output/x.out",
                None,
            ),
        ),
        (
            QueueName::RECONSTRUCTION,
            QueueMessage::ReconstructRequested(ReconstructRequested { user: user.clone(), session: session_id.clone(), object: object.clone() })
                .to_body(),
        ),
        (
            QueueName::RECONSTRUCTION,
            inference_notification_body(
                InferenceStatus::Completed,
                &format!("reconstruct-{object}"),
                &location(ObjectKey::object_file(&user, &session_id, &object, ObjectFile::ReconstructRequest)),
                "s3://local/inference/output/y.out",
                None,
            ),
        ),
        (
            QueueName::MESHING,
            QueueMessage::MeshRequested(MeshRequested { user: user.clone(), session: session_id.clone(), object: object.clone() }).to_body(),
        ),
        (
            QueueName::NOTIFY,
            QueueMessage::NotifyRequested(NotifyRequested { user: user.clone(), session: session_id.clone(), object: object.clone() }).to_body(),
        ),
    ];
    for (queue, body) in &duplicates {
        ports.queue.send(&QueueName::pipeline(queue), body).await.unwrap();
    }
    // Wait until every queue has drained (each duplicate handled and deleted).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut waiting = 0;
        for q in QueueName::PIPELINE.iter().copied().chain(["inference"]) {
            waiting += ports.queue.depth(&QueueName::parse(q).unwrap()).await.unwrap();
        }
        if waiting == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "duplicates were not consumed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for q in QueueName::PIPELINE {
        assert_eq!(ports.queue.depth(&QueueName::pipeline(q).dead_letter()).await.unwrap(), 0, "nothing dead-lettered on {q}");
    }
    assert_eq!(ports.jobs.session(&user, &session_id).await.unwrap().unwrap(), session_before);
    assert_eq!(ports.jobs.object(&user, &session_id, &object).await.unwrap().unwrap(), object_before);
    assert_eq!(files(app.dir.path()), files_before, "no file was written again");
}

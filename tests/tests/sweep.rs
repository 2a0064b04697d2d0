//! The sweeper: a job whose messages were all lost or dead-lettered (an embedding Lambda
//! killed by its memory limit on every delivery never reaches `give_up`) still ends,
//! failed with a reason that says so, and its owner is told.

use std::time::{Duration, Instant};

use gen3d_domain::{
    EmailAddress, MeshFormat, MeshMethod, MeshOptions, ObjectId, ObjectRecord, ObjectState, SessionId, SessionRecord, SessionState, UserId,
};
use gen3d_ports::now_ms;
use gen3d_tests::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_whose_messages_were_lost_end_failed_and_told() {
    let app = TestApp::start_with(|c| c.stall_after = Duration::from_secs(2));
    let jobs = &app.stack.ports.jobs;
    let (user, email) = (UserId::generate(), EmailAddress::parse("lost@example.com").unwrap());
    // A session whose embedding dead-lettered, and an object whose message never left.
    let session = SessionRecord::new(user.clone(), SessionId::generate(), email.clone(), now_ms());
    jobs.create_session(&session).await.unwrap();
    let embedding = session.moved(SessionState::Uploaded, now_ms()).unwrap().moved(SessionState::Embedding, now_ms()).unwrap();
    jobs.update_session(SessionState::Created, &embedding).await.unwrap();
    let ready = SessionRecord::new(user.clone(), SessionId::generate(), email, now_ms());
    jobs.create_session(&ready).await.unwrap();
    let options = MeshOptions::new(MeshMethod::Poisson, MeshOptions::DEFAULT_TRIANGLES, MeshFormat::Glb).unwrap();
    let object = ObjectRecord::submitted(user.clone(), ready.session.clone(), ObjectId::generate(), options, 0, now_ms());
    jobs.create_object(&object).await.unwrap();
    // A session waiting for its photo is not stalled.
    let waiting = SessionRecord::new(user.clone(), SessionId::generate(), EmailAddress::parse("lost@example.com").unwrap(), now_ms());
    jobs.create_session(&waiting).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let (s, o) = loop {
        let s = jobs.session(&user, &session.session).await.unwrap().unwrap();
        let o = jobs.object(&user, &ready.session, &object.object).await.unwrap().unwrap();
        if s.notified && o.notified {
            break (s, o);
        }
        assert!(Instant::now() < deadline, "not swept in time: {s:?} {o:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(s.state, SessionState::Failed);
    assert!(s.failure.as_deref().unwrap().contains("no progress"), "{s:?}");
    assert_eq!(o.state, ObjectState::Failed);
    assert!(o.failure.as_ref().unwrap().reason.contains("no progress"), "{o:?}");
    app.wait_mail(&format!("{}-session-failed.eml", session.session)).await;
    app.wait_mail(&format!("{}-failed.eml", object.object)).await;
    assert_eq!(jobs.session(&user, &waiting.session).await.unwrap().unwrap().state, SessionState::Created);
}

use gen3d_domain::{
    DisplayName, EmailAddress, MeshFormat, MeshMethod, MeshOptions, ObjectId, ObjectRecord, ObjectState, SessionId, SessionRecord, SessionState,
    UserId,
};
use gen3d_ports::{JobStore, PortError, Transition};

fn object(user: &UserId, session: &SessionId, created_ms: u64) -> ObjectRecord {
    let options = MeshOptions::new(MeshMethod::Poisson, MeshOptions::DEFAULT_TRIANGLES, MeshFormat::Glb).unwrap();
    ObjectRecord::submitted(user.clone(), session.clone(), ObjectId::generate(), options, 7, created_ms)
}

/// Create once, read back, conditional updates (applied or stale with the stored
/// record), listings in order, failed objects.
pub async fn suite(store: &dyn JobStore) {
    let user = UserId::generate();
    let email = EmailAddress::parse("owner@example.com").unwrap();
    let s1 = SessionRecord::new(user.clone(), SessionId::generate(), email.clone(), 1_000);
    let s2 = SessionRecord::new(user.clone(), SessionId::generate(), email, 2_000);
    store.create_session(&s1).await.unwrap();
    store.create_session(&s2).await.unwrap();
    assert!(matches!(store.create_session(&s1).await, Err(PortError::Conflict(_))), "a second create conflicts");
    assert_eq!(store.session(&user, &s1.session).await.unwrap().as_ref(), Some(&s1));
    assert_eq!(store.session(&UserId::generate(), &s1.session).await.unwrap(), None, "another user sees nothing");
    let listed: Vec<SessionId> = store.sessions(&user).await.unwrap().into_iter().map(|s| s.session).collect();
    assert_eq!(listed, [s2.session.clone(), s1.session.clone()], "newest session first");

    let next = s1.moved(SessionState::Uploaded, 1_500).unwrap();
    assert_eq!(store.update_session(SessionState::Created, &next).await.unwrap(), Transition::Applied(next.clone()));
    match store.update_session(SessionState::Created, &next).await.unwrap() {
        Transition::Stale(current) => assert_eq!(current, next),
        other => panic!("a second update from the old state must be stale, got {other:?}"),
    }

    let o1 = object(&user, &s1.session, 3_000);
    let o2 = object(&user, &s1.session, 4_000);
    store.create_object(&o2).await.unwrap();
    store.create_object(&o1).await.unwrap();
    assert!(matches!(store.create_object(&o1).await, Err(PortError::Conflict(_))));
    let listed: Vec<ObjectId> = store.objects(&user, &s1.session).await.unwrap().into_iter().map(|o| o.object).collect();
    assert_eq!(listed, [o1.object.clone(), o2.object.clone()], "objects in creation order");
    assert!(store.objects(&user, &s2.session).await.unwrap().is_empty());
    let o3 = object(&user, &s2.session, 3_500);
    store.create_object(&o3).await.unwrap();
    store.create_object(&object(&UserId::generate(), &s1.session, 3_600)).await.unwrap();
    let all: Vec<ObjectId> = store.user_objects(&user).await.unwrap().into_iter().map(|o| o.object).collect();
    assert_eq!(all, [o1.object.clone(), o3.object.clone(), o2.object.clone()], "a user's objects across sessions, oldest first; no one else's");

    let failed = o1.failed("the mask is empty", 5_000).unwrap();
    assert_eq!(store.update_object(ObjectState::Submitted, false, &failed).await.unwrap(), Transition::Applied(failed.clone()));
    let told = ObjectRecord { notified: true, ..failed.clone() };
    assert!(matches!(store.update_object(ObjectState::Failed, true, &told).await.unwrap(), Transition::Stale(_)), "notified must match too");
    assert_eq!(store.update_object(ObjectState::Failed, false, &told).await.unwrap(), Transition::Applied(told.clone()));
    assert_eq!(store.object(&user, &s1.session, &o1.object).await.unwrap().as_ref(), Some(&told));

    let failures = store.failed_objects(1000).await.unwrap();
    assert!(failures.iter().any(|f| { f.object == o1.object && f.failure.as_ref().is_some_and(|x| x.reason == "the mask is empty") }));
    assert!(!failures.iter().any(|f| f.object == o2.object));

    // The sweeper's view: jobs between steps, not moved since the cut-off, oldest first.
    let stalled = store.stalled(10_000, 100).await.unwrap();
    let sessions: Vec<&SessionId> = stalled.sessions.iter().map(|s| &s.session).filter(|s| [&s1.session, &s2.session].contains(s)).collect();
    assert_eq!(sessions, [&s1.session], "an uploaded session is stalled, a created one waits for its photo");
    let objects: Vec<&ObjectId> = stalled.objects.iter().filter(|o| o.user == user).map(|o| &o.object).collect();
    assert_eq!(objects, [&o3.object, &o2.object], "submitted objects, oldest first; a failed and told one is not");
    let early: Vec<ObjectId> = store.stalled(3_550, 100).await.unwrap().objects.into_iter().filter(|o| o.user == user).map(|o| o.object).collect();
    assert_eq!(early, [o3.object.clone()], "only what has not moved since the cut-off");
    let untold = o2.failed("lost", 4_500).unwrap();
    store.update_object(ObjectState::Submitted, false, &untold).await.unwrap();
    assert!(
        store.stalled(10_000, 100).await.unwrap().objects.iter().any(|o| o.object == o2.object && o.state == ObjectState::Failed),
        "ended but not told"
    );
    assert!(store.stalled(10_000, 1).await.unwrap().objects.len() <= 1, "the limit holds");

    // Renames touch the name only, and the pipeline's conditional writes keep it.
    let mug = DisplayName::parse("Red mug").unwrap();
    let stale_read = store.object(&user, &s1.session, &o1.object).await.unwrap().unwrap();
    assert!(store.rename_object(&user, &s1.session, &o1.object, Some(&mug)).await.unwrap());
    assert!(!store.rename_object(&UserId::generate(), &s1.session, &o1.object, Some(&mug)).await.unwrap(), "another user renames nothing");
    assert!(!store.rename_object(&user, &s1.session, &ObjectId::generate(), Some(&mug)).await.unwrap(), "no such object");
    let retried = stale_read.resumed(6_000).unwrap(); // read before the rename, written after it
    assert!(matches!(store.update_object(ObjectState::Failed, true, &retried).await.unwrap(), Transition::Applied(_)));
    let stored = store.object(&user, &s1.session, &o1.object).await.unwrap().unwrap();
    assert_eq!((stored.name.as_ref(), stored.state), (Some(&mug), ObjectState::Submitted), "the step moved the record and kept the name");
    assert_eq!(store.objects(&user, &s1.session).await.unwrap()[0].name.as_ref(), Some(&mug), "listings carry names");
    assert!(store.rename_object(&user, &s1.session, &o1.object, None).await.unwrap());
    assert_eq!(store.object(&user, &s1.session, &o1.object).await.unwrap().unwrap().name, None, "a cleared name stays cleared");
    let kitchen = DisplayName::parse("Kitchen").unwrap();
    assert!(store.rename_session(&user, &s1.session, Some(&kitchen)).await.unwrap());
    let ready = next.moved(SessionState::Embedding, 6_500).unwrap(); // `next` was read before the rename
    assert!(matches!(store.update_session(SessionState::Uploaded, &ready).await.unwrap(), Transition::Applied(_)));
    let stored = store.session(&user, &s1.session).await.unwrap().unwrap();
    assert_eq!((stored.name.as_ref(), stored.state), (Some(&kitchen), SessionState::Embedding));
    assert_eq!(store.sessions(&user).await.unwrap().iter().find(|s| s.session == s1.session).unwrap().name.as_ref(), Some(&kitchen));
    assert!(!store.rename_session(&user, &SessionId::generate(), Some(&kitchen)).await.unwrap(), "no such photo");

    // Deletes are conditional on the state read, and touch one record only.
    assert!(!store.delete_object(&user, &s1.session, &o2.object, ObjectState::Submitted).await.unwrap(), "o2 moved on to failed");
    assert!(store.object(&user, &s1.session, &o2.object).await.unwrap().is_some());
    assert!(!store.delete_object(&UserId::generate(), &s1.session, &o2.object, ObjectState::Failed).await.unwrap(), "another user deletes nothing");
    assert!(store.delete_object(&user, &s1.session, &o2.object, ObjectState::Failed).await.unwrap());
    assert_eq!(store.object(&user, &s1.session, &o2.object).await.unwrap(), None);
    assert!(!store.delete_object(&user, &s1.session, &o2.object, ObjectState::Failed).await.unwrap(), "a second delete finds nothing");
    let left: Vec<ObjectId> = store.objects(&user, &s1.session).await.unwrap().into_iter().map(|o| o.object).collect();
    assert_eq!(left, [o1.object.clone()], "the other objects stay");
    assert!(!store.delete_session(&user, &s2.session, SessionState::Ready).await.unwrap(), "s2 is created, not ready");
    assert!(store.delete_session(&user, &s2.session, SessionState::Created).await.unwrap());
    assert_eq!(store.session(&user, &s2.session).await.unwrap(), None);
    assert!(store.session(&user, &s1.session).await.unwrap().is_some(), "the other session stays");
}

//! An owner address no mail can reach, end to end on the embedded stack: the object is
//! done, its view says the mail was undeliverable and why, the owner's mail was never
//! written, and the admin's copy, headed `[undeliverable]`, was.

use std::time::{Duration, Instant};

use base64::Engine;

use gen3d_tests::{TestApp, photo_to_object};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeliverable_owner_is_shown_on_the_object_and_the_admin_is_told() {
    let app = TestApp::start();
    let api = app.user("ann@mail.invalid");
    let (session, done) = photo_to_object(&api, "truck.jpg", 500.0, 375.0).await;
    assert_eq!(done["state"], "done", "{done}");
    let object = done["id"].as_str().unwrap();

    let admin = app.wait_mail(&format!("{object}-done-admin.eml")).await;
    let eml = std::fs::read_to_string(&admin).unwrap();
    let subject = eml.lines().find_map(|l| l.strip_prefix("Subject: =?utf-8?B?")).and_then(|b| b.strip_suffix("?=")).expect("an encoded subject");
    let subject = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(subject).unwrap()).unwrap();
    assert!(subject.starts_with("[gen3d admin] [undeliverable] Object 1 of your "), "{subject}");
    assert!(eml.contains("could NOT be delivered to ann@mail.invalid"), "{eml}");

    // The owner's step is recorded before the admin's copy is sent; wait all the same.
    let deadline = Instant::now() + Duration::from_secs(30);
    let view = loop {
        let view = api.get(&format!("/v1/sessions/{session}/objects/{object}")).await.json();
        if !view["mail"].is_null() || Instant::now() > deadline {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(view["mail"]["status"], "undeliverable", "{view}");
    assert_eq!(view["mail"]["reason"], "ann@mail.invalid: the domain .invalid never takes mail (RFC 2606)", "{view}");
    assert!(!app.outbox().iter().any(|p| p.ends_with(format!("{object}-done.eml"))), "the owner's mail was never written: {:?}", app.outbox());
}

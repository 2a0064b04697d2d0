//! The soak: many objects through the whole pipeline while every port fails on a seeded
//! schedule ([`gen3d_faults`]) and the runner is killed at random moments; then the
//! faults stop, the dead-letter queues are replayed, and the end state is checked:
//! every object `done` or `failed` with a reason, one mail per outcome, no orphaned file
//! or record, every queue and dead-letter queue empty.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use gen3d::client::{ApiClient, Reply};
use gen3d::{LocalConfig, LocalStack, Workers};
use gen3d_config::UserLimits;
use gen3d_domain::{EmailAddress, KeyOwner, KeyPrefix, ObjectFile, ObjectKey, ObjectState, SessionState, UserId};
use gen3d_faults::{FaultPlan, FaultReport, Faults};
use gen3d_intake::Principal;
use gen3d_ports::{Ports, Queue, QueueName};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::sync::Mutex;

/// What one soak run does.
#[derive(Clone, Debug)]
pub struct SoakPlan {
    /// Objects to submit.
    pub objects: usize,
    /// Objects selected on each photo.
    pub per_photo: usize,
    /// Users submitting at once.
    pub users: usize,
    /// The share of port calls that meet a fault.
    pub rate: f64,
    /// Runner kills at random moments.
    pub kills: usize,
    pub seed: u64,
    /// A photo from `../shared/fixtures/images`, and a pixel on an object in it (each
    /// object's click lands within 10 px of it).
    pub photo: &'static str,
    pub click: (u32, u32),
}

/// What a soak run saw.
#[derive(Debug, Default)]
pub struct SoakReport {
    pub objects: usize,
    pub done: usize,
    pub failed: usize,
    /// Failure reasons, their variable parts cut off, with counts.
    pub reasons: BTreeMap<String, usize>,
    pub sessions: usize,
    pub sessions_failed: usize,
    /// Sessions the client created but never got a photo into (a create that timed out
    /// after taking effect, retried).
    pub sessions_without_photo: usize,
    pub mails: usize,
    /// Objects that failed, were told, then came through on a later delivery (a replay
    /// or a late duplicate retries a failed stage) and were told again.
    pub recovered: usize,
    /// Mails beyond one per outcome and recipient (AWS: a send that timed out after SES
    /// took it is sent again).
    pub duplicate_mails: usize,
    pub kills: usize,
    /// Messages moved back from dead-letter queues after the faults stopped.
    pub replayed: u64,
    /// API calls the client retried (5xx or 429).
    pub client_retries: usize,
    pub faults: FaultReport,
    /// From the first upload to the last object's outcome under faults.
    pub run: Duration,
    /// From the end of the faults to an empty pipeline.
    pub drain: Duration,
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "objects {} (done {}, failed {}), sessions {} (failed {}, without photo {})",
            self.objects, self.done, self.failed, self.sessions, self.sessions_failed, self.sessions_without_photo
        )?;
        writeln!(
            f,
            "mails {} (duplicates {}; objects failed then recovered: {}), runner kills {}, replayed {}, client retries {}",
            self.mails, self.duplicate_mails, self.recovered, self.kills, self.replayed, self.client_retries
        )?;
        writeln!(f, "port calls {} with {} faults injected:", self.faults.calls, self.faults.total())?;
        for ((port, fault), n) in &self.faults.injected {
            writeln!(f, "  {} {}: {n}", port.name(), fault.name())?;
        }
        writeln!(f, "run {:.1} s, drain {:.1} s", self.run.as_secs_f64(), self.drain.as_secs_f64())?;
        for (reason, n) in &self.reasons {
            writeln!(f, "  failed {n}x: {reason}")?;
        }
        Ok(())
    }
}

/// Retries an API call on 5xx and 429, as the web app does; panics after many tries.
async fn call(api: &ApiClient, retries: &AtomicUsize, method: Method, uri: &str, content_type: Option<&str>, body: &[u8]) -> Reply {
    for attempt in 0..200u32 {
        let reply = api.call(method.clone(), uri, content_type, body.to_vec()).await;
        if !(reply.status.is_server_error() || reply.status == StatusCode::TOO_MANY_REQUESTS) {
            return reply;
        }
        retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(10 + 10 * u64::from(attempt.min(20)))).await;
    }
    panic!("{method} {uri} kept failing");
}

struct Client {
    api: ApiClient,
    retries: Arc<AtomicUsize>,
}

impl Client {
    async fn get(&self, uri: &str) -> Reply {
        call(&self.api, &self.retries, Method::GET, uri, None, &[]).await
    }

    async fn post(&self, uri: &str, body: serde_json::Value) -> Reply {
        call(&self.api, &self.retries, Method::POST, uri, Some("application/json"), body.to_string().as_bytes()).await
    }

    /// POSTs an object with an `Idempotency-Key`, retrying as the web app does.
    async fn submit(&self, uri: &str, body: serde_json::Value, key: &str) -> Reply {
        let api = self.api.with_header("idempotency-key", key);
        call(&api, &self.retries, Method::POST, uri, Some("application/json"), body.to_string().as_bytes()).await
    }

    /// Waits, as a user looking at them would, until the session's objects have ended,
    /// or two minutes have passed (an object whose messages wait in a dead-letter queue
    /// ends after the replay at the end).
    async fn wait_objects(&self, session: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let list = self.get(&format!("/v1/sessions/{session}/objects")).await.json();
            let objects = list["objects"].as_array().cloned().unwrap_or_default();
            if objects.iter().all(|o| matches!(o["state"].as_str(), Some("done" | "failed"))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// A new session with the photo in it; its id, once the session is `ready`, or
    /// `None` when it failed or is still not ready after three minutes (its messages may
    /// be waiting in a dead-letter queue: the end state is checked after replay). Every
    /// retry a user would make is made.
    async fn photo_session(&self, photo: &[u8]) -> Option<String> {
        let created = self.post("/v1/sessions", json!({})).await;
        assert_eq!(created.status, StatusCode::CREATED, "create session: {}", created.error_message());
        let session = created.json()["id"].as_str().expect("session id").to_owned();
        let uri = format!("/v1/sessions/{session}/image");
        loop {
            let put = call(&self.api, &self.retries, Method::PUT, &uri, Some("image/jpeg"), photo).await;
            match put.status {
                StatusCode::ACCEPTED => break,
                // A retry after a write that took effect: the photo is there if the
                // session has moved on.
                StatusCode::CONFLICT if self.get(&format!("/v1/sessions/{session}")).await.json()["state"] != "created" => break,
                StatusCode::CONFLICT => tokio::time::sleep(Duration::from_millis(20)).await,
                other => panic!("upload: {other} {}", put.error_message()),
            }
        }
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let view = self.get(&format!("/v1/sessions/{session}")).await.json();
            match view["state"].as_str() {
                Some("ready") => return Some(session),
                Some("failed") => return None,
                _ if Instant::now() > deadline => return None,
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A reason with its ids and numbers cut off, so that alike failures count together.
fn reason_class(reason: &str) -> String {
    let cut = reason.split(['(', ':']).take(2).collect::<Vec<_>>().join(":");
    cut.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect::<String>().trim().to_owned()
}

/// Every queue the local stack has, dead-letter queues included.
fn local_queues() -> Vec<QueueName> {
    let mut names: Vec<QueueName> = QueueName::PIPELINE.iter().map(|q| QueueName::pipeline(q)).collect();
    names.push(QueueName::parse(gen3d_inference::INFERENCE_QUEUE).expect("constant"));
    let dlqs: Vec<QueueName> = names.iter().map(QueueName::dead_letter).collect();
    names.extend(dlqs);
    names
}

/// A queue to watch: the port it lives behind and its name.
type Watched = (Arc<dyn Queue>, QueueName);

/// Waits until every queue has been empty for a second (or `limit` passes); false on
/// timeout.
async fn wait_empty(queues: &[Watched], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut quiet = 0;
    while Instant::now() < deadline {
        let mut total = 0;
        for (port, q) in queues {
            total += port.depth(q).await.unwrap_or(1);
        }
        quiet = if total == 0 { quiet + 1 } else { 0 };
        if quiet >= 4 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

/// Waits, under faults, for the pipeline to settle; then the faults stop and the operator
/// replays every dead-letter queue until every queue is empty. Returns the time under
/// faults (from `started`), the messages replayed and the time the drain took.
async fn settle(queues: &[Watched], faults: &Faults, started: Instant) -> (Duration, u64, Duration) {
    let main: Vec<Watched> = queues.iter().filter(|(_, q)| !q.is_dead_letter()).cloned().collect();
    wait_empty(&main, Duration::from_secs(900)).await;
    let run = started.elapsed();
    faults.set_enabled(false);
    let drain_started = Instant::now();
    let mut replayed = 0;
    for _ in 0..5 {
        for (port, q) in queues.iter().filter(|(_, q)| q.is_dead_letter()) {
            replayed += port.replay(q, None).await.expect("replay");
        }
        if wait_empty(queues, Duration::from_secs(180)).await {
            break;
        }
    }
    let drain = drain_started.elapsed();
    for (port, q) in queues {
        assert_eq!(port.depth(q).await.expect("depth"), 0, "queue {q} is not empty at the end");
    }
    (run, replayed, drain)
}

/// One task per client, each making sessions and objects until `plan.objects` objects
/// were submitted in all; each task returns the sessions it made.
fn spawn_clients(clients: Vec<Client>, plan: &SoakPlan, submitted: &Arc<AtomicUsize>) -> Vec<tokio::task::JoinHandle<usize>> {
    let photo: Arc<[u8]> = std::fs::read(crate::fixture(plan.photo)).expect("fixture").into();
    let remaining = Arc::new(AtomicUsize::new(plan.objects));
    let mut tasks = Vec::new();
    for (u, client) in clients.into_iter().enumerate() {
        let (remaining, submitted, photo) = (remaining.clone(), submitted.clone(), photo.clone());
        let (per_photo, seed, (cx, cy)) = (plan.per_photo, plan.seed ^ u as u64, plan.click);
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut sessions = 0;
            loop {
                let take = remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| Some(r.saturating_sub(per_photo))).expect("always some");
                let quota = take.min(per_photo);
                if quota == 0 {
                    return sessions;
                }
                sessions += 1;
                let Some(session) = client.photo_session(&photo).await else {
                    remaining.fetch_add(quota, Ordering::SeqCst);
                    continue;
                };
                for n in 0..quota {
                    let (x, y) = (cx + rng.random_range(0..=20) - 10, cy + rng.random_range(0..=20) - 10);
                    let body = json!({"points": [{"x": x, "y": y, "label": "include"}], "target_triangles": 2000});
                    let created = client.submit(&format!("/v1/sessions/{session}/objects"), body, &format!("soak-{n}")).await;
                    assert!(matches!(created.status, StatusCode::CREATED | StatusCode::OK), "create object: {}", created.error_message());
                    submitted.fetch_add(1, Ordering::SeqCst);
                }
                client.wait_objects(&session).await;
            }
        }));
    }
    tasks
}

/// Runs the soak on the embedded stack. Panics, naming what broke, if an invariant fails.
pub async fn soak_local(plan: SoakPlan) -> SoakReport {
    let dir = tempfile::tempdir().expect("temp dir");
    let faults = Arc::new(Faults::new(FaultPlan::new(plan.seed, plan.rate)));
    let mut config = LocalConfig::new(dir.path());
    config.backoff = Duration::from_millis(20);
    config.max_receives = 5;
    config.visibility = Some(Duration::from_secs(5));
    config.faults = Some(faults.clone());
    config.limits = UserLimits { objects_in_flight: 10_000, objects_per_day: 100_000, photos_per_hour: 10_000 };
    let stack = Arc::new(LocalStack::open(config).expect("stack opens"));
    let workers: Arc<Mutex<Option<Workers>>> = Arc::new(Mutex::new(Some(stack.start_workers().expect("workers start"))));

    let started = Instant::now();
    let submitted = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let mut users = Vec::new();
    let mut clients = Vec::new();
    for u in 0..plan.users {
        let principal = Principal { user: UserId::generate(), email: EmailAddress::parse(&format!("soak{u}@example.com")).expect("email") };
        users.push(principal.user.clone());
        clients.push(Client { api: ApiClient::new(stack.router(), stack.token(&principal)), retries: retries.clone() });
    }
    let tasks = spawn_clients(clients, &plan, &submitted);

    // The killer: at random points of the submissions, the runner dies and another starts.
    let mut rng = StdRng::seed_from_u64(plan.seed.wrapping_mul(31));
    let mut points: Vec<usize> = (0..plan.kills).map(|_| rng.random_range(plan.objects / 10..=plan.objects * 9 / 10)).collect();
    points.sort_unstable();
    let killer = {
        let (workers, stack, submitted) = (workers.clone(), stack.clone(), submitted.clone());
        tokio::spawn(async move {
            let mut kills = 0;
            for point in points {
                while submitted.load(Ordering::SeqCst) < point {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..400))).await;
                let mut held = workers.lock().await;
                if let Some(w) = held.take() {
                    w.kill().await;
                }
                *held = Some(stack.start_workers().expect("a new runner starts after a kill"));
                kills += 1;
            }
            kills
        })
    };
    let mut sessions = 0;
    for t in tasks {
        sessions += t.await.expect("client task");
    }
    let kills = killer.await.expect("killer task");

    let queues: Vec<Watched> = local_queues().into_iter().map(|q| (stack.ports.queue.clone(), q)).collect();
    let (run, replayed, drain) = settle(&queues, &faults, started).await;
    if let Some(w) = workers.lock().await.take() {
        w.stop().await;
    }

    let (mut report, expected_mail) = check_end_state(&stack.ports, &users).await;
    check_mails(&mut report, &expected_mail, &outbox_mails(&stack.config.outbox()), 2, true);
    report.sessions = report.sessions.max(sessions);
    report.kills = kills;
    report.replayed = replayed;
    report.client_retries = retries.load(Ordering::Relaxed);
    report.faults = faults.report();
    report.run = run;
    report.drain = drain;
    assert_eq!(report.objects, plan.objects.max(report.objects), "fewer objects than submitted");
    report
}

/// The invariants of a settled pipeline, read straight from the ports (faults off); the
/// mails each outcome should have caused (`{object}-done`, `{object}-failed`,
/// `{session}-session-failed`).
async fn check_end_state(ports: &Ports, users: &[UserId]) -> (SoakReport, BTreeSet<String>) {
    let mut report = SoakReport::default();
    let mut expected_mail: BTreeSet<String> = BTreeSet::new();
    let mut records: BTreeSet<String> = BTreeSet::new();
    for user in users {
        for session in ports.jobs.sessions(user).await.expect("sessions") {
            report.sessions += 1;
            records.insert(format!("{}/{}", user, session.session));
            let photo = ObjectKey::session_file(user, &session.session, gen3d_domain::SessionFile::Image);
            let has_photo = ports.blobs.head(&photo).await.expect("head").is_some();
            match session.state {
                SessionState::Ready => assert!(has_photo, "ready session {} has no photo", session.session),
                SessionState::Failed => {
                    report.sessions_failed += 1;
                    assert!(session.failure.as_deref().is_some_and(|r| !r.is_empty()), "failed session without a reason: {session:?}");
                    assert!(session.notified, "failed session {} was not notified", session.session);
                    expected_mail.insert(format!("{}-session-failed", session.session));
                }
                SessionState::Created => {
                    assert!(!has_photo, "session {} holds a photo but never moved on", session.session);
                    report.sessions_without_photo += 1;
                }
                other => panic!("session {} stuck in {other:?}", session.session),
            }
            for object in ports.jobs.objects(user, &session.session).await.expect("objects") {
                report.objects += 1;
                records.insert(format!("{}/{}/{}", user, session.session, object.object));
                assert!(object.notified, "object {} ({:?}) was not notified", object.object, object.state);
                match object.state {
                    ObjectState::Done => {
                        report.done += 1;
                        for file in [ObjectFile::Splat, ObjectFile::Mesh(gen3d_domain::MeshFormat::Glb)] {
                            let key = ObjectKey::object_file(user, &session.session, &object.object, file);
                            assert!(ports.blobs.head(&key).await.expect("head").is_some(), "done object lacks {key}");
                        }
                        expected_mail.insert(format!("{}-done", object.object));
                    }
                    ObjectState::Failed => {
                        report.failed += 1;
                        let reason = object.failure.as_ref().map(|f| f.reason.clone()).unwrap_or_default();
                        assert!(!reason.is_empty(), "failed object {} has no reason", object.object);
                        *report.reasons.entry(reason_class(&reason)).or_default() += 1;
                        expected_mail.insert(format!("{}-failed", object.object));
                    }
                    other => panic!("object {} stuck in {other:?}", object.object),
                }
            }
        }
        // No file without its record.
        for key in ports.blobs.list(&KeyPrefix::user(user)).await.expect("list") {
            let owner = match key.owner() {
                Some(KeyOwner::Session { user, session, .. }) => format!("{user}/{session}"),
                Some(KeyOwner::Object { user, session, object, .. }) => format!("{user}/{session}/{object}"),
                None => panic!("file outside the layout: {key}"),
            };
            assert!(records.contains(&owner), "orphaned file {key}");
        }
    }
    (report, expected_mail)
}

/// The local outbox's mails by outcome (`{key}.eml` and the admin's `{key}-admin.eml`).
fn outbox_mails(outbox: &std::path::Path) -> BTreeMap<String, usize> {
    let mut mails: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(outbox).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(".eml").unwrap_or(&name);
        let stem = stem.strip_suffix("-admin").unwrap_or(stem);
        *mails.entry(stem.to_owned()).or_default() += 1;
    }
    mails
}

/// Every outcome has its mails (`per_outcome` each: the owner's and the admin's copy),
/// and there is no mail for an outcome that did not happen. `exact`: no outcome was
/// mailed more often (the outbox keeps one file per idempotency key; SES has no such
/// key, so a send that timed out after it was made is a second mail there).
fn check_mails(report: &mut SoakReport, expected_mail: &BTreeSet<String>, mails: &BTreeMap<String, usize>, per_outcome: usize, exact: bool) {
    report.mails = mails.values().sum();
    let sent: BTreeSet<String> = mails.keys().cloned().collect();
    let missing: Vec<&String> = expected_mail.difference(&sent).collect();
    assert!(missing.is_empty(), "outcomes without a mail: {missing:?}");
    // A failed object's message delivered again (a replay, or a late duplicate) retries
    // the failed stage: an object may fail, be told, then come through and be told again.
    // Any other extra mail is a bug.
    for extra in sent.difference(expected_mail) {
        let object = extra.strip_suffix("-failed").unwrap_or_else(|| panic!("a mail for no outcome: {extra}"));
        assert!(expected_mail.contains(&format!("{object}-done")), "a mail for no outcome: {extra}");
        report.recovered += 1;
    }
    for (outcome, &n) in mails {
        assert!(n >= per_outcome, "{outcome}: {n} mails, not one to the owner and one to the admin");
        assert!(!exact || n == per_outcome, "{outcome}: {n} mails, not one to the owner and one to the admin");
        report.duplicate_mails += n - per_outcome;
    }
}

/// Runs the soak on the AWS profile against moto (see [`crate::aws`]): every service's and
/// the API's ports behind the faults, one Cognito user making sessions from
/// `plan.users` clients at once. No runner kills (a Lambda's death is a message that
/// comes back after its visibility timeout, which the local soak covers). Mails are
/// read back from moto's SES.
pub async fn soak_aws(moto: &str, plan: SoakPlan) -> SoakReport {
    use crate::aws::{AwsOptions, AwsStack};
    let faults = Arc::new(Faults::new(FaultPlan::new(plan.seed, plan.rate)));
    let options = AwsOptions { max_receives: 5, container_concurrency: 2, faults: Some(faults.clone()), ..AwsOptions::default() };
    let stack = AwsStack::start(moto, options).await;
    let started = Instant::now();
    let submitted = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let clients = (0..plan.users).map(|_| Client { api: stack.api.clone(), retries: retries.clone() }).collect();
    let mut sessions = 0;
    for t in spawn_clients(clients, &plan, &submitted) {
        sessions += t.await.expect("client task");
    }
    let mut queues: Vec<Watched> = Vec::new();
    for q in QueueName::PIPELINE.iter().map(|q| QueueName::pipeline(q)) {
        queues.push((stack.ports.queue.clone(), q.dead_letter()));
        queues.push((stack.ports.queue.clone(), q));
    }
    let own = QueueName::parse(gen3d_inference::INFERENCE_QUEUE).expect("constant");
    queues.push((stack.endpoint_queue.clone(), own.dead_letter()));
    queues.push((stack.endpoint_queue.clone(), own));
    let (run, replayed, drain) = settle(&queues, &faults, started).await;

    let user = UserId::parse(&stack.user.sub).expect("cognito sub");
    let (mut report, expected_mail) = check_end_state(&stack.ports, std::slice::from_ref(&user)).await;
    let mut run_ids: BTreeSet<String> = BTreeSet::new();
    for session in stack.ports.jobs.sessions(&user).await.expect("sessions") {
        for object in stack.ports.jobs.objects(&user, &session.session).await.expect("objects") {
            run_ids.insert(object.object.to_string());
        }
        run_ids.insert(session.session.to_string());
    }
    // SES mails by outcome: the link in the body names the object (or the session).
    let mut mails: BTreeMap<String, usize> = BTreeMap::new();
    for m in crate::aws::ses_messages(moto).await {
        let body = m["body"].as_str().unwrap_or_default();
        let Some(link) = body.split("/#/sessions/").nth(1) else { continue };
        let ids: Vec<&str> = link.split(|c: char| !(c.is_ascii_alphanumeric() || c == '/')).next().unwrap_or_default().split('/').collect();
        let key = match ids.as_slice() {
            [_, "objects", object, ..] if body.contains("is ready") => format!("{object}-done"),
            [_, "objects", object, ..] => format!("{object}-failed"),
            [session, ..] => format!("{session}-session-failed"),
            _ => continue,
        };
        // moto is shared by every test of the run: count only this run's jobs.
        let id = key.split('-').next().unwrap_or_default();
        if run_ids.contains(id) {
            *mails.entry(key).or_default() += 1;
        }
    }
    check_mails(&mut report, &expected_mail, &mails, 2, false);
    report.sessions = report.sessions.max(sessions);
    report.replayed = replayed;
    report.client_retries = retries.load(Ordering::Relaxed);
    report.faults = faults.report();
    report.run = run;
    report.drain = drain;
    stack.stop().await;
    report
}

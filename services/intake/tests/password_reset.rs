//! Password reset for local accounts through the API: the code arrives by mail, sets a new
//! password once, signs out earlier sign-ins; wrong, reused and over-tried codes are
//! refused naming the `code` field; an address with no account gets the same answer and
//! no mail.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gen3d_config::UserLimits;
use gen3d_domain::EmailAddress;
use gen3d_intake::{AppState, Auth, LocalAuth, ServerDecoder};
use gen3d_models::decoder::Decoder;
use gen3d_pipeline::testing::TestPorts;
use gen3d_ports::{Email, Mailer, PortError};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Records what it sends; fails the next send while `down` is set.
#[derive(Default)]
struct Mail(Mutex<Vec<Email>>, std::sync::atomic::AtomicBool);

#[async_trait]
impl Mailer for Mail {
    async fn send(&self, email: &Email) -> Result<(), PortError> {
        if self.1.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(PortError::Unavailable("mail service down".into()));
        }
        self.0.lock().unwrap().push(email.clone());
        Ok(())
    }
}

impl Mail {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    /// The six-digit code of the last mail, and its text.
    fn last_code(&self) -> (String, Email) {
        let mail = self.0.lock().unwrap().last().cloned().expect("a mail was sent");
        let code = mail.text.split("Your code: ").nth(1).expect("the mail gives the code")[..6].to_string();
        (code, mail)
    }
}

struct Api {
    router: axum::Router,
    mail: Arc<Mail>,
    _ports: TestPorts,
}

impl Api {
    fn new() -> Self {
        let mut t = TestPorts::new();
        let mail = Arc::new(Mail::default());
        t.ports.mailer = mail.clone();
        let from = EmailAddress::parse("noreply@gen3d.localhost").unwrap();
        let local = LocalAuth::new(vec![9; 32]).with_reset_mail(from, "http://127.0.0.1:8080/");
        let state = AppState {
            ports: t.ports.clone(),
            decoder: ServerDecoder::ready(Arc::new(Decoder::builtin())),
            auth: Arc::new(Auth::Local(Arc::new(local))),
            limits: UserLimits::LOCAL,
        };
        Self { router: gen3d_intake::app(state), mail, _ports: t }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let response = self.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, None, Some(body)).await
    }

    async fn sessions(&self, token: &str) -> StatusCode {
        self.call(Method::GET, "/v1/sessions", Some(token), None).await.0
    }
}

const WHO: &str = "reset-me@example.com";

#[tokio::test]
async fn a_mailed_code_sets_a_new_password_once_and_signs_out_earlier_sign_ins() {
    let api = Api::new();
    let (status, account) = api.post("/v1/auth/register", json!({"email": WHO, "password": "old-password-1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let old_token = account["token"].as_str().unwrap().to_string();
    assert_eq!(api.sessions(&old_token).await, StatusCode::OK);

    let (status, body) = api.post("/v1/auth/forgot", json!({"email": WHO})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(body["message"].as_str().unwrap().contains("code"), "{body}");
    let (code, mail) = api.mail.last_code();
    assert_eq!(mail.to[0].as_str(), WHO);
    assert!(
        mail.text.contains("http://127.0.0.1:8080/#/reset?email=reset-me%40example.com"),
        "the mail links to the app's reset form: {}",
        mail.text
    );
    assert!(mail.html.contains(&code));

    // Asked again within a minute: the same answer, no second mail, the first code stands.
    assert_eq!(api.post("/v1/auth/forgot", json!({"email": WHO})).await.0, StatusCode::ACCEPTED);
    assert_eq!(api.mail.count(), 1);

    let wrong = if code == "000000" { "000001" } else { "000000" };
    let (status, body) = api.post("/v1/auth/reset", json!({"email": WHO, "code": wrong, "password": "new-password-2"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().starts_with("code: wrong"), "{body}");
    let (status, body) = api.post("/v1/auth/reset", json!({"email": WHO, "code": code, "password": "short"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().contains("password"), "{body}");

    let (status, signed_in) = api.post("/v1/auth/reset", json!({"email": WHO, "code": code, "password": "new-password-2"})).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let new_token = signed_in["token"].as_str().unwrap();
    assert_eq!(signed_in["user"], account["user"], "the same account");
    assert_eq!(api.sessions(new_token).await, StatusCode::OK);
    let (status, body) = api.call(Method::GET, "/v1/sessions", Some(&old_token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a sign-in from before the reset is over");
    assert!(body["error"]["message"].as_str().unwrap().contains("password was changed"), "{body}");

    assert_eq!(api.post("/v1/auth/login", json!({"email": WHO, "password": "old-password-1"})).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.post("/v1/auth/login", json!({"email": WHO, "password": "new-password-2"})).await.0, StatusCode::OK);
    let (status, body) = api.post("/v1/auth/reset", json!({"email": WHO, "code": code, "password": "third-password-3"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a code works once");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("code:"), "{body}");
}

#[tokio::test]
async fn a_reset_mail_that_failed_to_send_can_be_asked_for_again_at_once() {
    let api = Api::new();
    assert_eq!(api.post("/v1/auth/register", json!({"email": WHO, "password": "old-password-1"})).await.0, StatusCode::CREATED);
    api.mail.1.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(api.post("/v1/auth/forgot", json!({"email": WHO})).await.0, StatusCode::SERVICE_UNAVAILABLE, "the failure is told");
    assert_eq!(api.mail.count(), 0);
    assert_eq!(api.post("/v1/auth/forgot", json!({"email": WHO})).await.0, StatusCode::ACCEPTED);
    assert_eq!(api.mail.count(), 1, "asked again within the minute, the mail goes: the unsent code did not count");
    let (code, _) = api.mail.last_code();
    assert_eq!(api.post("/v1/auth/reset", json!({"email": WHO, "code": code, "password": "new-password-2"})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn five_wrong_codes_end_the_code_and_unknown_addresses_get_the_same_answer_without_mail() {
    let api = Api::new();
    assert_eq!(api.post("/v1/auth/register", json!({"email": WHO, "password": "old-password-1"})).await.0, StatusCode::CREATED);
    let (known_status, known) = api.post("/v1/auth/forgot", json!({"email": WHO})).await;
    let (code, _) = api.mail.last_code();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(api.post("/v1/auth/reset", json!({"email": WHO, "code": wrong, "password": "new-password-2"})).await.0, StatusCode::BAD_REQUEST);
    }
    let (status, body) = api.post("/v1/auth/reset", json!({"email": WHO, "code": code, "password": "new-password-2"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the right code after five wrong ones no longer works");
    assert!(body["error"]["message"].as_str().unwrap().contains("too many wrong tries"), "{body}");
    assert_eq!(api.post("/v1/auth/login", json!({"email": WHO, "password": "old-password-1"})).await.0, StatusCode::OK, "the password is unchanged");

    let (status, unknown) = api.post("/v1/auth/forgot", json!({"email": "nobody@example.com"})).await;
    assert_eq!((status, &unknown), (known_status, &known), "no way to tell whether an address has an account");
    assert_eq!(api.mail.count(), 1, "no mail for an address with no account");
    let (status, body) = api.post("/v1/auth/reset", json!({"email": "nobody@example.com", "code": "123456", "password": "new-password-2"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().starts_with("code:"), "{body}");
    let (status, body) = api.post("/v1/auth/forgot", json!({"email": "not an address"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].as_str().unwrap().starts_with("email:"), "{body}");
}

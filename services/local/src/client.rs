//! A typed client of the HTTP API that calls the router in-process (no socket), so the
//! CLI and tests go through exactly the routes, validation and auth a browser does.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[derive(Clone)]
pub struct ApiClient {
    router: Router,
    token: String,
    /// Sent with every request (e.g. `Idempotency-Key`).
    extra: Vec<(String, String)>,
}

/// A response: status, headers, body, and the body as JSON when it is JSON.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The API's error message, or the status.
    pub fn error_message(&self) -> String {
        self.json()["error"]["message"].as_str().map(str::to_owned).unwrap_or_else(|| self.status.to_string())
    }
}

impl ApiClient {
    pub fn new(router: Router, token: String) -> Self {
        Self { router, token, extra: Vec::new() }
    }

    /// The same API, sending `name: value` with every request too.
    pub fn with_header(&self, name: &str, value: &str) -> Self {
        let mut extra = self.extra.clone();
        extra.push((name.to_owned(), value.to_owned()));
        Self { extra, ..self.clone() }
    }

    /// The bearer token this client sends.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The same API with another bearer token.
    pub fn with_token(&self, token: &str) -> Self {
        Self { token: token.to_owned(), ..self.clone() }
    }

    pub async fn call(&self, method: Method, uri: &str, content_type: Option<&str>, body: impl Into<Bytes>) -> Reply {
        let mut req = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        for (name, value) in &self.extra {
            req = req.header(name, value);
        }
        let req = req.body(Body::from(body.into())).expect("request builds");
        let resp = self.router.clone().oneshot(req).await.expect("router is infallible");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Reply { status, headers, body }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri, None, Bytes::new()).await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Reply {
        self.call(Method::POST, uri, Some("application/json"), serde_json::to_vec(body).expect("json")).await
    }
}

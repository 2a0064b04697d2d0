//! API Gateway's HTTP API in front of the intake Lambda. In order, as API Gateway does:
//! a CORS preflight is answered from `corsConfiguration`; a body over 10 MB is refused
//! (413); the stage's token bucket throttles (429); the most specific route is chosen
//! (404 without one); its JWT authorizer admits the token or not (401); the request goes
//! to the integration as a payload-format-2.0 event through `lambda_http`'s own adapter
//! (what `lambda_http::run` serves), and a response over Lambda's 6 MB limit is a 500.
//! CORS headers are added to every answer for an allowed origin.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gen3d_infra::Evaluated;
use gen3d_infra::apigw::{Authorization, HttpApi, Route};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::jwt::Jwks;

/// API Gateway's request payload limit.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// A synchronously invoked Lambda's response limit (the serialised event response).
pub const MAX_LAMBDA_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

#[derive(Clone)]
pub struct ApiState {
    api: Arc<HttpApi>,
    jwks: Arc<Jwks>,
    intake: Router,
    /// The integration resource that is the intake Lambda (others are not emulated).
    intake_integration: Option<String>,
    bucket: Arc<Mutex<(f64, Instant)>>,
}

impl ApiState {
    pub fn new(api: HttpApi, jwks: Jwks, intake: Router, ev: &Evaluated) -> Self {
        let intake_integration = ev.of_type("aws:apigatewayv2:Integration").find_map(|(name, i)| {
            let uri = i.properties.get("integrationUri").and_then(Value::as_str).unwrap_or_default();
            let version = i.properties.get("payloadFormatVersion").and_then(Value::as_str);
            (gen3d_infra::placeholder_refs(uri) == [("intakeFunction".to_owned(), Some("invokeArn".to_owned()))] && version == Some("2.0"))
                .then(|| name.clone())
        });
        let burst = api.throttle.map(|(_, b)| b as f64).unwrap_or(f64::MAX);
        Self { api: Arc::new(api), jwks: Arc::new(jwks), intake, intake_integration, bucket: Arc::new(Mutex::new((burst, Instant::now()))) }
    }

    /// Takes one token from the stage's bucket (`rate` per second up to `burst`).
    fn admit(&self) -> bool {
        let Some((rate, burst)) = self.api.throttle else { return true };
        let Ok(mut b) = self.bucket.lock() else { return true };
        let now = Instant::now();
        b.0 = (b.0 + now.duration_since(b.1).as_secs_f64() * rate).min(burst as f64);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

pub fn router(state: ApiState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], json!({ "message": text }).to_string()).into_response()
}

async fn handle(State(state): State<ApiState>, req: Request) -> Response {
    let origin = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let mut res = answer(&state, req).await;
    if let (Some(cors), Some(origin)) = (&state.api.cors, origin)
        && cors.allows_origin(&origin)
        && !res.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&origin) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if !cors.expose_headers.is_empty()
            && let Ok(v) = HeaderValue::from_str(&cors.expose_headers.join(","))
        {
            h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v);
        }
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    res
}

async fn answer(state: &ApiState, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // CORS preflight: answered by API Gateway itself, before routing and authorization.
    if let Some(cors) = &state.api.cors
        && parts.method == Method::OPTIONS
        && parts.headers.contains_key(header::ORIGIN)
        && parts.headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight(cors, &parts.headers);
    }
    let Ok(body) = to_bytes(body, MAX_REQUEST_BYTES).await else {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    if !state.admit() {
        return message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    }
    let path = parts.uri.path().to_owned();
    let Some(route) = state.api.route(parts.method.as_str(), &path) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let claims = match &route.authorization {
        Authorization::None => None,
        Authorization::Jwt { issuer, audiences, .. } => {
            let token = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            match state.jwks.verify(token, issuer, audiences) {
                Some(claims) => Some(claims),
                None => return message(StatusCode::UNAUTHORIZED, "Unauthorized"),
            }
        }
    };
    if state.intake_integration.as_deref() != Some(route.integration.as_str()) {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    invoke(state, route, &parts, &body, claims).await
}

fn preflight(cors: &gen3d_infra::apigw::Cors, headers: &HeaderMap) -> Response {
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let origin = text(header::ORIGIN);
    let method = text(header::ACCESS_CONTROL_REQUEST_METHOD);
    let requested = text(header::ACCESS_CONTROL_REQUEST_HEADERS);
    let headers_ok = requested.split(',').map(str::trim).filter(|h| !h.is_empty()).all(|h| cors.allows_header(h));
    let mut res = StatusCode::NO_CONTENT.into_response();
    if cors.allows_origin(&origin) && cors.allows_method(&method) && headers_ok {
        let h = res.headers_mut();
        let put = |h: &mut HeaderMap, name: header::HeaderName, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(name, v);
            }
        };
        put(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, &origin);
        put(h, header::ACCESS_CONTROL_ALLOW_METHODS, &cors.allow_methods.join(","));
        put(h, header::ACCESS_CONTROL_ALLOW_HEADERS, &cors.allow_headers.join(","));
        if let Some(age) = cors.max_age {
            put(h, header::ACCESS_CONTROL_MAX_AGE, &age.to_string());
        }
    }
    res
}

/// The payload-format-2.0 event API Gateway sends to a Lambda integration.
fn event(route: &Route, parts: &axum::http::request::Parts, body: &[u8], claims: Option<Value>) -> Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(v)) => v.push_str(&format!(",{value}")),
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let mut query = serde_json::Map::new();
    for (k, v) in url_pairs(&raw_query) {
        match query.get_mut(&k) {
            Some(Value::String(old)) => old.push_str(&format!(",{v}")),
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let textual = content_type.starts_with("text/") || content_type.contains("json");
    let (body, b64) = match (body.is_empty(), textual, std::str::from_utf8(body)) {
        (true, _, _) => (Value::Null, false),
        (false, true, Ok(text)) => (Value::String(text.to_owned()), false),
        _ => (Value::String(base64::engine::general_purpose::STANDARD.encode(body)), true),
    };
    let path = parts.uri.path();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    json!({
        "version": "2.0",
        "routeKey": route.key.as_str(),
        "rawPath": path,
        "rawQueryString": raw_query,
        "cookies": if cookies.is_empty() { Value::Null } else { json!(cookies) },
        "headers": headers,
        "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(query) },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "edge",
            // API Gateway passes every claim as a string (numbers as their digits).
            "authorizer": claims.map(|c| {
                let claims: serde_json::Map<String, Value> = c
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned))))
                    .collect();
                json!({ "jwt": { "claims": claims, "scopes": null } })
            }),
            "domainName": parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            "domainPrefix": "edge",
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": parts.headers.get(header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or_default(),
            },
            "requestId": format!("{:016x}", rand::random::<u64>()),
            "routeKey": route.key.as_str(),
            "stage": "$default",
            "time": "01/Dec/2026:00:00:00 +0000",
            "timeEpoch": now.as_millis() as i64,
        },
        "body": body,
        "isBase64Encoded": b64,
    })
}

/// `a=1&b=x%20y` as decoded pairs.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).map(|(k, v)| (decode(k), decode(v))).collect()
}

async fn invoke(state: &ApiState, route: &Route, parts: &axum::http::request::Parts, body: &[u8], claims: Option<Value>) -> Response {
    // The event crosses the Lambda boundary as JSON, as the runtime hands it over.
    let event = event(route, parts, body, claims);
    let request: lambda_http::request::LambdaRequest = match serde_json::from_value(event.clone()) {
        Ok(r) => r,
        Err(e) => {
            // Name the field: the HTTP API event's own parse error says which.
            let why = serde_json::from_value::<lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest>(event).err().map(|e| e.to_string());
            return message(StatusCode::INTERNAL_SERVER_ERROR, &format!("edge: the event does not parse: {e} ({})", why.unwrap_or_default()));
        }
    };
    let lambda_event = lambda_http::LambdaEvent::new(request, lambda_http::Context::default());
    // The adapter's future is not `Send` (it holds the response body across an await), so
    // it runs to completion on a blocking thread of its own, as one invocation.
    let intake = state.intake.clone();
    let runtime = tokio::runtime::Handle::current();
    let invoked = tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            let response = lambda_http::Adapter::from(intake).oneshot(lambda_event).await.ok()?;
            serde_json::to_vec(&response).ok()
        })
    })
    .await;
    let Ok(Some(serialised)) = invoked else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    if serialised.len() > MAX_LAMBDA_RESPONSE_BYTES {
        // Lambda fails the invocation ("response payload size exceeded"); API Gateway says 500.
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    from_lambda(&serialised)
}

/// An `ApiGatewayV2httpResponse` document as the HTTP response API Gateway sends.
fn from_lambda(doc: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(doc) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let status = v.get("statusCode").and_then(Value::as_u64).and_then(|s| StatusCode::from_u16(s as u16).ok()).unwrap_or(StatusCode::OK);
    let text = v.get("body").and_then(Value::as_str).unwrap_or_default();
    let bytes = if v.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    let h = res.headers_mut();
    for (k, val) in v.get("headers").and_then(Value::as_object).into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (header::HeaderName::from_bytes(k.as_bytes()), val.as_str().map(HeaderValue::from_str)) {
            h.append(name, value);
        }
    }
    for (k, vals) in v.get("multiValueHeaders").and_then(Value::as_object).into_iter().flatten() {
        for val in vals.as_array().into_iter().flatten().filter_map(Value::as_str) {
            if let (Ok(name), Ok(value)) = (header::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(val))
                && !h.get_all(&name).iter().any(|x| x == value)
            {
                h.append(name, value);
            }
        }
    }
    for cookie in v.get("cookies").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            h.append(header::SET_COOKIE, value);
        }
    }
    res
}

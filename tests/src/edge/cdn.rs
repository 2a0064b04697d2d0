//! CloudFront in front of the web bucket: the behaviour for the path (method allowed or
//! 403), the object from its bucket origin (the default root object for `/`), a private
//! bucket's 403 for a missing key turned by the custom error responses into the app's
//! `index.html`, and the response headers policy on every answer. Also the deploy step of
//! docs/operations.md that fills the bucket, and the program's CORS rules on the data
//! bucket.

use std::collections::BTreeMap;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gen3d_aws::provision::{self, CorsRule};
use gen3d_infra::Evaluated;
use gen3d_infra::cloudfront::Distribution;
use serde_json::Value;

#[derive(Clone)]
pub struct CdnState {
    pub distribution: Distribution,
    pub sdk: gen3d_aws::SdkConfig,
    /// Bucket resource name → bucket name.
    pub buckets: BTreeMap<String, String>,
}

/// Every `aws:s3:Bucket` resource's bucket name.
pub fn bucket_names(ev: &Evaluated) -> BTreeMap<String, String> {
    ev.of_type("aws:s3:Bucket").filter_map(|(name, b)| Some((name.clone(), b.properties.get("bucket")?.as_str()?.to_owned()))).collect()
}

/// The content type `aws s3 sync` (and the deploy step) gives a file.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html",
        "js" | "mjs" => "text/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "txt" => "text/plain",
        _ => "binary/octet-stream",
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_dir() {
            files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// The deploy step (docs/operations.md): `web/dist`, then the click decoder at
/// `models/decoder.onnx` (what `gen3d export-decoder` writes), then `config.json` from the
/// stack's `webConfig` output.
pub async fn deploy_web(sdk: &gen3d_aws::SdkConfig, bucket: &str, dist: &Path, config: &Value) -> Result<(), String> {
    if !dist.join("index.html").is_file() {
        return Err(format!("{} is not built: run `make web`", dist.display()));
    }
    let mut all = Vec::new();
    files(dist, &mut all).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    for file in all {
        let key = file.strip_prefix(dist).map_err(|e| e.to_string())?.to_string_lossy().replace('\\', "/");
        let body = std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        provision::put_object(sdk, bucket, &key, body, content_type(&key), true).await.map_err(|e| e.to_string())?;
    }
    let decoder = gen3d_models::decoder_graph::decoder_onnx();
    provision::put_object(sdk, bucket, gen3d_intake::DECODER_KEY, decoder, "application/octet-stream", true).await.map_err(|e| e.to_string())?;
    provision::put_object(sdk, bucket, "config.json", config.to_string().into_bytes(), "application/json", true).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// The rules of the program's `aws:s3:BucketCorsConfiguration` `resource`, on `bucket`.
pub async fn apply_bucket_cors(sdk: &gen3d_aws::SdkConfig, ev: &Evaluated, resource: &str, bucket: &str) -> Result<(), String> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    let rules: Vec<CorsRule> = ev
        .prop(resource, "corsRules")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{resource} has no corsRules"))?
        .iter()
        .map(|r| CorsRule {
            allowed_origins: strings(r.get("allowedOrigins")),
            allowed_methods: strings(r.get("allowedMethods")),
            allowed_headers: strings(r.get("allowedHeaders")),
            expose_headers: strings(r.get("exposeHeaders")),
            max_age_seconds: r.get("maxAgeSeconds").and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok()),
        })
        .collect();
    provision::put_bucket_cors(sdk, bucket, &rules, true).await.map_err(|e| e.to_string())
}

pub fn router(state: CdnState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<CdnState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let behaviour = state.distribution.behaviour(&path);
    let mut res = serve(&state, req.method(), &path).await;
    for (name, value) in &behaviour.headers {
        if let (Ok(name), Ok(value)) = (header::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            res.headers_mut().insert(name, value);
        }
    }
    res
}

async fn serve(state: &CdnState, method: &Method, path: &str) -> Response {
    let behaviour = state.distribution.behaviour(path);
    if !behaviour.allowed_methods.iter().any(|m| m.eq_ignore_ascii_case(method.as_str())) {
        return (StatusCode::FORBIDDEN, "method not allowed by the cache behaviour").into_response();
    }
    let Some(bucket) = state.buckets.get(&behaviour.bucket) else {
        return (StatusCode::BAD_GATEWAY, "origin bucket unknown").into_response();
    };
    let key = match (path, &state.distribution.default_root_object) {
        ("/", Some(root)) => root.clone(),
        _ => path.trim_start_matches('/').to_owned(),
    };
    match fetch(state, bucket, &key, method).await {
        Some(res) => res,
        // A private bucket behind OAC answers 403 for a key it does not have.
        None => match state.distribution.errors.iter().find(|e| e.error_code == 403) {
            Some(e) => {
                let page = e.page.trim_start_matches('/').to_owned();
                let mut res = fetch(state, bucket, &page, method).await.unwrap_or_else(|| StatusCode::FORBIDDEN.into_response());
                if let Some(code) = StatusCode::from_u16(e.response_code).ok().filter(|_| res.status().is_success()) {
                    *res.status_mut() = code;
                }
                res
            }
            None => (StatusCode::FORBIDDEN, "AccessDenied").into_response(),
        },
    }
}

async fn fetch(state: &CdnState, bucket: &str, key: &str, method: &Method) -> Option<Response> {
    let (body, content_type) = provision::get_object(&state.sdk, bucket, key, true).await.ok()??;
    let len = body.len();
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(body) };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&content_type).ok()?);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Some(res)
}

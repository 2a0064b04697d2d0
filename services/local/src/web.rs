//! Serves the built web app (`web/dist`) next to the API, as CloudFront does in AWS.
//!
//! Every response carries COOP `same-origin` + COEP `require-corp`, which make the page
//! cross-origin isolated so onnxruntime-web can run its wasm threads. Unknown paths that
//! are not files get `index.html` (the app routes on the client); nothing outside the
//! directory is ever read. `/config.json` tells the app how to sign in (and, in AWS,
//! where the API is). Where the model directory has the decoder split for the browser,
//! it is served at `/models/decoder.{prepare,click}.onnx` (where CloudFront would serve
//! it) and `/config.json` names it as `decoderSplit`.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use gen3d_models::decoder::Decoder;

/// Where the browser fetches the split decoder's two graphs.
pub const SPLIT_PREPARE: &str = "/models/decoder.prepare.onnx";
pub const SPLIT_CLICK: &str = "/models/decoder.click.onnx";

/// Adds the app's static files as the router's fallback, its `/config.json`, the split
/// decoder's files (if `decoder` has them), and the isolation headers to every response.
pub fn with_web_app(api: Router, dir: Option<PathBuf>, mut config: serde_json::Value, decoder: Arc<Decoder>) -> Router {
    let mut api = api;
    if let Some(split) = decoder.split() {
        config["decoderSplit"] = serde_json::json!({ "prepare": SPLIT_PREPARE, "click": SPLIT_CLICK });
        for (route, graph) in [(SPLIT_PREPARE, &split.prepare), (SPLIT_CLICK, &split.click)] {
            // Read once at start-up; every response shares the bytes.
            let body = bytes::Bytes::from(graph.clone());
            let headers = [(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, "public, max-age=3600")];
            api = api.route(route, axum::routing::get(move || async move { (headers, body) }));
        }
    }
    let api = api.route("/config.json", axum::routing::get(move || async move { ([(header::CACHE_CONTROL, "no-cache")], axum::Json(config)) }));
    let app = match dir {
        Some(dir) => api.fallback(move |uri: Uri| serve_file(dir.clone(), uri)),
        None => api.fallback(|uri: Uri| async move {
            if uri.path().starts_with("/v1/") { gen3d_intake::ApiError::not_found("route").into_response() } else { not_built() }
        }),
    };
    app.layer(axum::middleware::map_response(isolate))
}

async fn isolate(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-embedder-policy", HeaderValue::from_static("require-corp"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    res
}

fn not_built() -> Response {
    let page = "<!doctype html><title>Gen3D</title><p>The web app is not built. Run <code>make web</code> \
                (or <code>make serve</code>, which builds it) and reload. The HTTP API is served under <code>/v1</code>.</p>";
    (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// The file `uri` names under `dir`, or `None` if the path is not a plain relative one.
fn resolve(dir: &Path, uri: &Uri) -> Option<PathBuf> {
    let rel = Path::new(uri.path().trim_start_matches('/'));
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(dir.join(rel))
}

async fn serve_file(dir: PathBuf, uri: Uri) -> Response {
    if uri.path().starts_with("/v1/") {
        return gen3d_intake::ApiError::not_found("route").into_response();
    }
    let Some(path) = resolve(&dir, &uri) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    let is_asset = path.extension().is_some();
    let path = if path.is_file() {
        path
    } else if is_asset {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    } else {
        dir.join("index.html")
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            // Hashed bundles never change; index.html must always be fetched again.
            let cache = if path.starts_with(dir.join("assets")) { "public, max-age=31536000, immutable" } else { "no-cache" };
            Response::builder()
                .header(header::CONTENT_TYPE, content_type(&path))
                .header(header::CACHE_CONTROL, cache)
                .body(Body::from(bytes))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Err(_) => not_built(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "onnx" => "application/octet-stream",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The app directory to serve: `explicit` (an error if it holds no built app), else
/// `GEN3D_WEB_DIR` or `web/dist` under the working directory if it was built.
pub fn app_dir(explicit: Option<PathBuf>) -> anyhow::Result<Option<PathBuf>> {
    let built = |dir: &Path| dir.join("index.html").is_file();
    match explicit {
        Some(dir) if !built(&dir) => anyhow::bail!("--web-dir {}: no index.html there (run `make web`)", dir.display()),
        Some(dir) => Ok(Some(dir)),
        None => {
            let dir = gen3d_config::default_web_dir();
            Ok(built(&dir).then_some(dir))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_directory() {
        let dir = Path::new("/srv/web");
        for bad in ["/../etc/passwd", "/assets/../../x", "/assets/.."] {
            assert_eq!(resolve(dir, &bad.parse().unwrap()), None, "{bad}");
        }
        assert_eq!(resolve(dir, &"/assets/app.js".parse().unwrap()), Some(dir.join("assets/app.js")));
        assert_eq!(resolve(dir, &"//etc/passwd".parse().unwrap()), Some(dir.join("etc/passwd")));
    }
}

//! The deployed shape as a browser meets it: the edge stand-in derived from `Pulumi.yaml`
//! (`gen3d_tests::edge`) in front of the AWS profile on moto. Every request here goes over
//! HTTP to the CloudFront or API Gateway stand-in, or to S3 through a presigned URL, the
//! way the web app sends it (origin header, bearer ID token). A copy of the program with a
//! broken route or authorizer fails the same requests.

use std::time::{Duration, Instant};

use axum::routing::get;
use gen3d_tests::aws::{AwsOptions, AwsStack, REGION};
use gen3d_tests::edge::{self, Edge};
use serde_json::{Value, json};

/// One HTTP exchange: status, headers (lower-case names), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    let (method, url) = (method.to_owned(), url.to_owned());
    let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        let mut req = axum::http::Request::builder().method(method.as_str()).uri(&url);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let mut res = agent.run(req.body(body).expect("request")).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let headers = res.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
        let body = res.body_mut().with_config().limit(1 << 30).read_to_vec().expect("body");
        Reply { status: res.status().as_u16(), headers, body }
    })
    .await
    .expect("join")
}

async fn start(moto: &str) -> (AwsStack, Edge) {
    let stack = AwsStack::start(moto, AwsOptions::default()).await;
    let edge = stack.edge().await;
    (stack, edge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_app_and_its_api_are_served_as_the_program_says() {
    let Some(moto) = gen3d_tests::moto_url() else { return };
    let (stack, edge) = start(&moto).await;
    let origin = edge.web_url.as_str();

    // CloudFront: the app, its isolation headers, config.json, the decoder, deep links.
    let page = http("GET", &format!("{origin}/"), &[], vec![]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html"));
    assert_eq!(page.header("cross-origin-opener-policy"), Some("same-origin"));
    assert_eq!(page.header("cross-origin-embedder-policy"), Some("require-corp"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let config = http("GET", &format!("{origin}/config.json"), &[], vec![]).await.json();
    assert_eq!(config["auth"], "cognito");
    assert_eq!(config["apiBase"], edge.api_url.as_str());
    assert_eq!(config["cognito"]["clientId"], stack.user.client_id.as_str());
    let decoder_path = config["decoderUrl"].as_str().expect("decoderUrl");
    let decoder = http("GET", &format!("{origin}{decoder_path}"), &[], vec![]).await;
    assert_eq!(decoder.status, 200);
    assert_eq!(decoder.body, gen3d_models::decoder_graph::decoder_onnx(), "the decoder the app loads is the one the server runs");
    assert_eq!(decoder.header("cross-origin-embedder-policy"), Some("require-corp"));
    let deep = http("GET", &format!("{origin}/sessions/abc"), &[], vec![]).await;
    assert_eq!((deep.status, deep.body.clone()), (200, page.body.clone()), "a deep link gets the app");
    assert_eq!(http("POST", &format!("{origin}/config.json"), &[], vec![]).await.status, 403);

    // API Gateway: CORS preflight from the app's origin only.
    let api = edge.api_url.as_str();
    // The headers the web app sends (api.js: submitMask adds Idempotency-Key).
    let preflight = [
        ("origin", origin),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "authorization,content-type,idempotency-key"),
    ];
    let ok = http("OPTIONS", &format!("{api}/v1/sessions"), &preflight, vec![]).await;
    assert_eq!(ok.status, 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some(origin));
    let evil = [("origin", "https://evil.example"), ("access-control-request-method", "POST")];
    assert_eq!(http("OPTIONS", &format!("{api}/v1/sessions"), &evil, vec![]).await.header("access-control-allow-origin"), None);

    // Routes and the authorizer.
    let bearer = format!("Bearer {}", stack.user.id_token);
    let auth = [("origin", origin), ("authorization", bearer.as_str())];
    let none = http("GET", &format!("{api}/v1/sessions"), &[("origin", origin)], vec![]).await;
    assert_eq!((none.status, none.json()), (401, json!({"message": "Unauthorized"})));
    assert_eq!(none.header("access-control-allow-origin"), Some(origin), "the app can read the 401");
    let forged = format!("Bearer {}", stack.user.id_token.replace('.', ".x"));
    assert_eq!(http("GET", &format!("{api}/v1/sessions"), &[("authorization", forged.as_str())], vec![]).await.status, 401);
    let listed = http("GET", &format!("{api}/v1/sessions"), &auth, vec![]).await;
    assert_eq!(listed.status, 200, "{}", String::from_utf8_lossy(&listed.body));
    let missing = http("GET", &format!("{api}/api/v1/sessions"), &auth, vec![]).await;
    assert_eq!((missing.status, missing.json()), (404, json!({"message": "Not Found"})));
    let huge = http("POST", &format!("{api}/v1/sessions/x/objects"), &auth, vec![0u8; 10 * 1024 * 1024 + 1]).await;
    assert_eq!(huge.status, 413);

    // The journey: a session, the photo straight to S3 under the bucket's CORS rules,
    // embeddings, an object from a click, its files.
    let created = http(
        "POST",
        &format!("{api}/v1/sessions"),
        &[("origin", origin), ("authorization", bearer.as_str()), ("content-type", "application/json")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let session = created.json();
    let id = session["id"].as_str().expect("id").to_owned();
    let photo = std::fs::read(gen3d_tests::fixture("truck.jpg")).expect("fixture");
    let ask = format!(r#"{{"bytes": {}, "type": "image/jpeg"}}"#, photo.len());
    let target = http(
        "POST",
        &format!("{api}/v1/sessions/{id}/upload"),
        &[("origin", origin), ("authorization", bearer.as_str()), ("content-type", "application/json")],
        ask.into_bytes(),
    )
    .await;
    assert_eq!(target.status, 200, "{}", String::from_utf8_lossy(&target.body));
    let target = target.json();
    let put_url = target["url"].as_str().expect("upload url").to_owned();
    assert!(put_url.starts_with(&moto), "the photo goes straight to S3: {put_url}");
    // The browser's preflight names every header the upload carries.
    let headers: Vec<(String, String)> =
        target["headers"].as_object().expect("headers").iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    let names = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(",");
    let s3_preflight = [("origin", origin), ("access-control-request-method", "PUT"), ("access-control-request-headers", names.as_str())];
    let s3_ok = http("OPTIONS", &put_url, &s3_preflight, vec![]).await;
    assert_eq!(s3_ok.header("access-control-allow-origin"), Some(origin), "the data bucket's CORS rules admit the app's upload headers ({names})");
    let mut put_headers: Vec<(&str, &str)> = vec![("origin", origin)];
    put_headers.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let put = http("PUT", &put_url, &put_headers, photo).await;
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    let deadline = Instant::now() + Duration::from_secs(90);
    let ready = loop {
        let v = http("GET", &format!("{api}/v1/sessions/{id}"), &auth, vec![]).await.json();
        match v["state"].as_str() {
            Some("ready") => break v,
            Some("failed") => panic!("session failed: {v}"),
            _ => assert!(Instant::now() < deadline, "not ready in time: {v}"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let embeddings = http("GET", ready["direct"]["embeddings"].as_str().expect("direct embeddings"), &[("origin", origin)], vec![]).await;
    assert_eq!(embeddings.status, 200);
    assert_eq!(embeddings.header("access-control-allow-origin"), Some(origin));
    let body = serde_json::to_vec(&json!({"points": [{"x": 500, "y": 375, "label": "include"}]})).expect("json");
    let object =
        http("POST", &format!("{api}/v1/sessions/{id}/objects"), &[("authorization", bearer.as_str()), ("content-type", "application/json")], body)
            .await;
    assert_eq!(object.status, 201, "{}", String::from_utf8_lossy(&object.body));
    let oid = object.json()["id"].as_str().expect("object id").to_owned();
    let done = loop {
        let v = http("GET", &format!("{api}/v1/sessions/{id}/objects/{oid}"), &auth, vec![]).await.json();
        match v["state"].as_str() {
            Some("done") => break v,
            Some("failed") => panic!("object failed: {v}"),
            _ => assert!(Instant::now() < deadline + Duration::from_secs(60), "not done in time: {v}"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let glb = done["files"].as_array().expect("files").iter().find(|f| f["name"] == "mesh.glb").expect("a GLB");
    let mesh = http("GET", glb["direct_url"].as_str().expect("a presigned GET"), &[("origin", origin)], vec![]).await;
    assert_eq!(&mesh.body[..4], b"glTF");
    edge.stop();
    stack.stop().await;
}

/// An edge for `edit`ed copies of the program, in front of a router of the test's own.
async fn edge_for(stack: &AwsStack, intake: axum::Router, edit: impl FnOnce(&mut gen3d_infra::Program)) -> Edge {
    let ev = edge::load_program_with(&gen3d_tests::repo(), "dev", REGION, edit).expect("program loads");
    let mut settings = stack.edge_settings("dev");
    settings.intake = intake;
    Edge::start(ev, settings).await.expect("edge starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_and_broken_copies_of_the_program_fail_as_in_aws() {
    let Some(moto) = gen3d_tests::moto_url() else { return };
    let stack = AwsStack::start(&moto, AwsOptions::default()).await;
    let bearer = format!("Bearer {}", stack.user.id_token);
    let auth = [("authorization", bearer.as_str())];
    let big = axum::Router::new().route("/v1/big", get(|| async { vec![7u8; 5 * 1024 * 1024] })).route("/v1/small", get(|| async { "ok" }));

    // Lambda's 6 MB response limit (5 MB of binary is over it once base64-encoded), and
    // the stage's throttling (dev: 20 a second, bursts of 40).
    let e = edge_for(&stack, big.clone(), |_| {}).await;
    assert_eq!(http("GET", &format!("{}/v1/big", e.api_url), &auth, vec![]).await.status, 500);
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(http("GET", &format!("{}/v1/small", e.api_url), &auth, vec![]).await.status);
    }
    assert!(statuses.contains(&429) && statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    e.stop();

    // The route the program had before: the app's calls find nothing.
    let e = edge_for(&stack, big.clone(), |p| {
        p.resources.get_mut("httpApiRoute").expect("route").properties["routeKey"] = json!("ANY /api/{proxy+}");
    })
    .await;
    assert_eq!(http("GET", &format!("{}/v1/small", e.api_url), &auth, vec![]).await.status, 404);
    e.stop();

    // An authorizer for another app client turns the user's token away.
    let e = edge_for(&stack, big, |p| {
        p.resources.get_mut("httpApiAuthorizer").expect("authorizer").properties["jwtConfiguration"]["audiences"] = json!(["another-client"]);
    })
    .await;
    assert_eq!(http("GET", &format!("{}/v1/small", e.api_url), &auth, vec![]).await.status, 401);
    e.stop();
    stack.stop().await;
}

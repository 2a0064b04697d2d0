//! The deployed API as the web app meets it, checked from the app's own source: every
//! `/v1/...` path `web/src` calls, with its method, must reach the intake Lambda through
//! a route of `Pulumi.yaml` whose JWT authorizer accepts the ID token the app sends (the
//! user pool and app client of the stack's `webConfig`). The decoder comes from the app's
//! own origin (CloudFront), never through the API. Copies of the program with a broken
//! route or authorizer must fail the same check.

mod common;

use std::path::Path;

use gen3d_infra::apigw::{Authorization, HttpApi};
use gen3d_infra::cloudfront::Distribution;
use gen3d_infra::{Evaluated, Program, evaluate, lookup, placeholder_refs};
use serde_json::{Value, json};

/// One API call written in the app: where, the method and the path (`${…}` → `x`).
#[derive(Debug)]
struct Call {
    at: String,
    method: String,
    path: String,
}

fn js_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("web/src is readable").flatten() {
        let p = entry.path();
        if p.is_dir() {
            js_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "js") {
            out.push(p);
        }
    }
}

/// Every string or template literal in `web/src` that starts with `/v1/`.
fn app_calls() -> Vec<Call> {
    let mut files = Vec::new();
    js_files(&common::repo().join("web/src"), &mut files);
    let mut calls = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(i) = ["'/v1/", "\"/v1/", "`/v1/"].iter().filter_map(|q| rest.find(q)).min() {
                let quote = rest.as_bytes()[i] as char;
                let body = &rest[i + 1..];
                let end = body.find(quote).unwrap_or(body.len());
                let literal = &body[..end];
                // `${...}` is one path segment; the query string is not part of the route.
                let mut path = String::new();
                let mut chars = literal.split("${");
                path.push_str(chars.next().unwrap_or_default());
                for part in chars {
                    path.push('x');
                    path.push_str(part.split_once('}').map(|(_, after)| after).unwrap_or_default());
                }
                let path = path.split('?').next().unwrap_or_default().to_owned();
                let after = &body[end..];
                let method = after
                    .split("method: '")
                    .nth(1)
                    .and_then(|m| m.split('\'').next())
                    .filter(|m| m.chars().all(|c| c.is_ascii_uppercase()))
                    .unwrap_or("GET")
                    .to_owned();
                let shown = file.strip_prefix(common::repo()).unwrap_or(&file).display().to_string();
                calls.push(Call { at: format!("{shown}:{}", n + 1), method, path });
                rest = &body[(end + 1).min(body.len())..];
            }
        }
    }
    calls
}

/// Paths the app calls only with Gen3D's local accounts (`config.auth == "local"`); under
/// Cognito the app signs up and in against the user pool instead.
const LOCAL_ACCOUNTS_ONLY: &str = "/v1/auth/";
/// The decoder's path on the API, used only where `config.decoderUrl` is not set.
const DECODER_ON_THE_API: &str = "/v1/models/decoder.onnx";

fn s(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or_default()
}

/// Everything wrong with how the program serves the app's calls.
fn problems(ev: &Evaluated) -> Vec<String> {
    let mut out = Vec::new();
    let config = ev.outputs.get("webConfig").cloned().unwrap_or(Value::Null);
    let client = s(lookup(&config, "cognito.clientId")).to_owned();
    let region = s(lookup(&config, "cognito.region")).to_owned();
    let api_base = s(config.get("apiBase")).to_owned();
    if s(config.get("auth")) != "cognito" {
        out.push("webConfig.auth is not cognito".to_owned());
    }
    // apiBase is one API's endpoint: that API's routes are what the browser meets.
    let api_name = match placeholder_refs(&api_base).as_slice() {
        [(r, Some(a))] if a == "apiEndpoint" => r.clone(),
        _ => return vec![format!("webConfig.apiBase {api_base:?} is not an API's endpoint")],
    };
    let api = match HttpApi::of(ev, &api_name) {
        Ok(api) => api,
        Err(e) => return vec![e],
    };
    let issuer = format!("https://cognito-idp.{region}.amazonaws.com/⟨userPool.id⟩");
    let calls = app_calls();
    assert!(calls.len() >= 8, "the scan found too few API calls in web/src: {calls:?}");
    for call in calls.iter().filter(|c| !c.path.starts_with(LOCAL_ACCOUNTS_ONLY) && c.path != DECODER_ON_THE_API) {
        let Some(route) = api.route(&call.method, &call.path) else {
            out.push(format!("{} {} {} (at {}) matches no route: API Gateway answers 404", api_name, call.method, call.path, call.at));
            continue;
        };
        match &route.authorization {
            Authorization::Jwt { issuer: iss, audiences, .. } if *iss == issuer && audiences.contains(&client) => {}
            other => out.push(format!(
                "{} {} (at {}) takes route {:?} whose authorization {other:?} does not accept the app's ID token (issuer {issuer}, client {client})",
                call.method,
                call.path,
                call.at,
                route.key.as_str()
            )),
        }
        let integration = &ev.resources[&route.integration].properties;
        if placeholder_refs(s(integration.get("integrationUri"))) != [("intakeFunction".to_owned(), Some("invokeArn".to_owned()))]
            || s(integration.get("payloadFormatVersion")) != "2.0"
        {
            out.push(format!(
                "{} {}: route {:?} does not reach the intake Lambda with payload format 2.0",
                call.method,
                call.path,
                route.key.as_str()
            ));
        }
    }
    // The decoder: a path on the app's origin, served by CloudFront from the web bucket.
    let decoder = s(config.get("decoderUrl"));
    if !decoder.starts_with('/') {
        out.push(format!("webConfig.decoderUrl {decoder:?} is not a path on the app's origin: the decoder would go through the API"));
    } else {
        match Distribution::of(ev, "webDistribution") {
            Ok(d) if d.behaviour(decoder).bucket == "webBucket" => {}
            Ok(d) => out.push(format!("{decoder} is served from bucket {} instead of the web bucket", d.behaviour(decoder).bucket)),
            Err(e) => out.push(e),
        }
    }
    out
}

fn dev_with(edit: impl FnOnce(&mut Program)) -> Evaluated {
    let mut program = common::program();
    edit(&mut program);
    evaluate(&program, &common::stack("dev"))
}

#[test]
fn every_call_of_the_app_is_routed_and_authorised_as_the_app_expects() {
    for stack in common::stacks() {
        let found = problems(&common::evaluated(&stack.name));
        assert!(found.is_empty(), "stack {}:\n{}", stack.name, found.join("\n"));
    }
    // The scan sees the calls that matter.
    let calls = app_calls();
    for (method, path) in [("POST", "/v1/sessions"), ("GET", "/v1/sessions/x/image"), ("POST", "/v1/sessions/x/objects")] {
        assert!(calls.iter().any(|c| c.method == method && c.path == path), "{method} {path} not found in {calls:?}");
    }
}

#[test]
fn a_route_under_another_prefix_fails_the_check() {
    let ev = dev_with(|p| p.resources.get_mut("httpApiRoute").expect("route").properties["routeKey"] = json!("ANY /api/{proxy+}"));
    let found = problems(&ev);
    assert!(found.iter().any(|f| f.contains("GET /v1/sessions/x (at web/src/api.js") && f.contains("matches no route")), "{found:#?}");
}

#[test]
fn a_public_or_foreign_authorizer_fails_the_check() {
    let ev = dev_with(|p| p.resources.get_mut("httpApiRoute").expect("route").properties["authorizationType"] = json!("NONE"));
    let found = problems(&ev);
    assert!(found.iter().any(|f| f.starts_with("POST /v1/sessions (at web/src/api.js") && f.contains("authorization None")), "{found:#?}");
    let ev = dev_with(|p| {
        p.resources.get_mut("httpApiAuthorizer").expect("authorizer").properties["jwtConfiguration"]["audiences"] = json!(["some-other-client"]);
    });
    assert!(problems(&ev).iter().any(|f| f.contains("does not accept the app's ID token")), "{:#?}", problems(&ev));
}

#[test]
fn a_decoder_through_the_api_fails_the_check() {
    let ev = dev_with(|p| {
        p.outputs.get_mut("webConfig").expect("webConfig").as_object_mut().expect("mapping").remove("decoderUrl");
    });
    assert!(problems(&ev).iter().any(|f| f.contains("decoderUrl")), "{:#?}", problems(&ev));
}

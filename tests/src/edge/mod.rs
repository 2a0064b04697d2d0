//! The deployment's edge as a browser meets it, derived from `Pulumi.yaml` and a stack's
//! config at start: API Gateway's HTTP API ([`api`]: routes, JWT authorizers against the
//! user pool's JWKS on moto, CORS, stage throttling, the 10 MB request and 6 MB Lambda
//! response limits, payload format 2.0 into the intake Lambda's own `lambda_http` entry)
//! and CloudFront ([`cdn`]: behaviours, the web bucket on moto as origin, the response
//! headers policy, the custom error responses). The web app is deployed into the web
//! bucket as docs/operations.md says: `web/dist`, the decoder at `models/decoder.onnx`
//! and `config.json` from the stack's `webConfig` output. The data bucket gets the
//! program's CORS rules, so presigned S3 requests from the browser meet them.
//!
//! Values only the cloud knows are filled in from the harness: the pool and client ids,
//! the API's endpoint (this stand-in's address), the app origin (`https://<domain>` is
//! served at the CloudFront stand-in's address) and Cognito's endpoint (moto).

pub mod api;
pub mod cdn;
mod jwt;

use std::path::{Path, PathBuf};

use gen3d_infra::apigw::HttpApi;
use gen3d_infra::cloudfront::Distribution;
use gen3d_infra::{Evaluated, Program, Stack, evaluate};
use serde_json::Value;
use tokio::task::JoinHandle;

/// What the harness knows that the program leaves to the cloud.
pub struct EdgeSettings {
    /// The repository root (`Pulumi.yaml`, `Pulumi.<stack>.yaml`, `web/dist`).
    pub repo: PathBuf,
    pub stack: String,
    /// The region the emulated cloud runs in (overrides the stack's `aws:region`).
    pub region: String,
    pub moto: String,
    pub sdk: gen3d_aws::SdkConfig,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    /// The data bucket the services use (it gets the program's CORS rules).
    pub data_bucket: String,
    /// The intake Lambda's router (`gen3d_intake::app`), as its binary serves it.
    pub intake: axum::Router,
}

/// A program loaded for the edge: evaluated for the stack with the harness's region.
pub fn load_program(repo: &Path, stack: &str, region: &str) -> Result<Evaluated, String> {
    load_program_with(repo, stack, region, |_| {})
}

/// [`load_program`] after `edit` changed the program (tests of a broken copy).
pub fn load_program_with(repo: &Path, stack: &str, region: &str, edit: impl FnOnce(&mut Program)) -> Result<Evaluated, String> {
    let mut program = Program::load(&repo.join("Pulumi.yaml")).map_err(|e| e.to_string())?;
    edit(&mut program);
    let mut stack = Stack::load(stack, &repo.join(format!("Pulumi.{stack}.yaml"))).map_err(|e| e.to_string())?;
    stack.config.insert("aws:region".into(), Value::String(region.to_owned()));
    Ok(evaluate(&program, &stack))
}

/// Replaces, in every string of `v`, each `from` with its `to`.
pub fn substitute(v: &mut Value, pairs: &[(String, String)]) {
    match v {
        Value::String(s) => {
            for (from, to) in pairs {
                if s.contains(from.as_str()) {
                    *s = s.replace(from.as_str(), to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, pairs)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, pairs)),
        _ => {}
    }
}

/// The two stand-ins, running.
pub struct Edge {
    /// The app's origin (CloudFront).
    pub web_url: String,
    /// The HTTP API's endpoint (`apiBase`).
    pub api_url: String,
    /// The `/config.json` the app reads.
    pub web_config: Value,
    handles: Vec<JoinHandle<()>>,
}

impl Edge {
    /// Loads the program and starts the stand-ins for `ev` (see [`load_program`]).
    pub async fn start(ev: Evaluated, settings: EdgeSettings) -> Result<Edge, String> {
        let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let web_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let api_url = format!("http://{}", api_listener.local_addr().map_err(|e| e.to_string())?);
        let web_url = format!("http://{}", web_listener.local_addr().map_err(|e| e.to_string())?);

        // The program's own app origin is where the CloudFront stand-in answers.
        let domain = ev.resources.get("webDistribution").and_then(|d| d.properties.get("aliases")).and_then(|a| a.get(0)).and_then(Value::as_str);
        let mut pairs = vec![
            ("⟨userPool.id⟩".to_owned(), settings.user_pool_id.clone()),
            ("⟨userPoolClient.id⟩".to_owned(), settings.user_pool_client_id.clone()),
            // An account of its own per edge, so edges sharing one moto get their own web
            // bucket (`gen3d-<stack>-web-<account>`) and config.json.
            ("⟨account-id⟩".to_owned(), format!("{:012}", rand::random::<u64>() % 1_000_000_000_000)),
        ];
        if let Some(domain) = domain {
            pairs.push((format!("https://{domain}"), web_url.clone()));
        }
        let mut ev = ev;
        if !ev.errors.is_empty() {
            return Err(format!("the program does not evaluate: {}", ev.errors.join("; ")));
        }
        for r in ev.resources.values_mut() {
            substitute(&mut r.properties, &pairs);
        }
        for o in ev.outputs.values_mut() {
            substitute(o, &pairs);
        }

        // The HTTP API behind `webConfig.apiBase`.
        let mut web_config = ev.outputs.get("webConfig").cloned().ok_or("the program has no webConfig output")?;
        let api_name = match gen3d_infra::placeholder_refs(web_config.get("apiBase").and_then(Value::as_str).unwrap_or_default()).as_slice() {
            [(r, Some(a))] if a == "apiEndpoint" => r.clone(),
            _ => return Err("webConfig.apiBase is not an API's endpoint".into()),
        };
        let http_api = HttpApi::of(&ev, &api_name)?;
        web_config["apiBase"] = Value::String(api_url.clone());
        // Cognito's public endpoint is moto here.
        if web_config.pointer("/cognito/endpoint").is_some() {
            web_config["cognito"]["endpoint"] = Value::String(settings.moto.clone());
        }

        // S3: the data bucket's CORS rules, the web app deployed into the web bucket.
        let sdk = settings.sdk.clone();
        cdn::apply_bucket_cors(&sdk, &ev, "dataBucketCors", &settings.data_bucket).await?;
        let distribution = Distribution::of(&ev, "webDistribution")?;
        let web_bucket = ev.prop("webBucket", "bucket").and_then(Value::as_str).ok_or("webBucket has no name")?.to_owned();
        // Already there from an earlier edge on the same moto is fine: the upload below
        // fails clearly if the bucket is missing.
        let _ = gen3d_aws::provision::create_bucket(&sdk, &web_bucket, true).await;
        cdn::deploy_web(&sdk, &web_bucket, &settings.repo.join("web/dist"), &web_config).await?;

        let jwks = jwt::Jwks::fetch(&format!("{}/{}/.well-known/jwks.json", settings.moto, settings.user_pool_id)).await?;
        let api_state = api::ApiState::new(http_api, jwks, settings.intake, &ev);
        let cdn_state = cdn::CdnState { distribution, sdk, buckets: cdn::bucket_names(&ev) };
        let handles = vec![
            tokio::spawn(async move {
                let _ = axum::serve(api_listener, api::router(api_state)).await;
            }),
            tokio::spawn(async move {
                let _ = axum::serve(web_listener, cdn::router(cdn_state)).await;
            }),
        ];
        Ok(Edge { web_url, api_url, web_config, handles })
    }

    pub fn stop(self) {
        for h in self.handles {
            h.abort();
        }
    }
}

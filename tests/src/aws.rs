//! The whole pipeline on the AWS profile, on one machine: moto server for S3, SQS, SNS,
//! DynamoDB, SES v2 and Cognito; the inference container's HTTP server (reading and
//! writing S3) behind the local async-endpoint stand-in, which publishes SageMaker's
//! notifications to SNS; each queue-fed service's Lambda handler driven by the local
//! poller (what Lambda's event source mapping does); the intake API with Cognito auth.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use gen3d::client::ApiClient;
use gen3d_aws::{AwsPorts, S3BlobStore, SnsTopic, provision};
use gen3d_config::{ResourceNames, Service, ServiceConfig, ServiceSettings, env};
use gen3d_inference::{LocalAsyncEndpoint, Runner};
use gen3d_intake::{AppState, Auth, CognitoAuth, DECODER_KEY, ServerDecoder};
use gen3d_lambda::{QueueService, poll};
use gen3d_pipeline::Handler;
use gen3d_ports::{Ports, QueueName};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cognito::CognitoUser;

pub const SENDER: &str = "no-reply@gen3d.example";
pub const ADMIN: &str = "admin@gen3d.example";
/// The region the stack runs in on moto.
pub const REGION: &str = "us-east-1";

/// Wraps a service's handler (to inject failures into it).
pub type WrapHandler = Box<dyn FnOnce(Arc<dyn Handler>) -> Arc<dyn Handler> + Send>;

/// Settings of one harness run.
pub struct AwsOptions {
    /// Deliveries before a message dead-letters (each queue's redrive policy).
    pub max_receives: u32,
    /// Wraps the meshing handler (to inject failures).
    pub wrap_meshing: Option<WrapHandler>,
    /// Concurrent invocations of the container.
    pub container_concurrency: usize,
    /// Faults injected at every port of every service and the API (the soak).
    pub faults: Option<Arc<gen3d_faults::Faults>>,
    /// The click decoder the deploy step puts in the web bucket (`models/decoder.onnx`),
    /// which the intake's server-side decode runs; `None`: no decoder deployed.
    pub web_decoder: Option<Vec<u8>>,
}

impl Default for AwsOptions {
    fn default() -> Self {
        Self {
            max_receives: 3,
            wrap_meshing: None,
            container_concurrency: 1,
            faults: None,
            web_decoder: Some(gen3d_models::decoder_graph::decoder_onnx()),
        }
    }
}

pub struct AwsStack {
    pub moto: String,
    pub sdk: gen3d_aws::SdkConfig,
    pub names: ResourceNames,
    pub bucket: String,
    pub user: CognitoUser,
    /// The intake API as the signed-in user.
    pub api: ApiClient,
    /// The intake Lambda's router (`gen3d_intake::app`), for the edge stand-in.
    pub intake: axum::Router,
    /// The intake service's ports (S3, SQS, DynamoDB on moto), without injected faults.
    pub ports: Ports,
    /// The async-endpoint stand-in's own queue of accepted invocations.
    pub endpoint_queue: Arc<dyn gen3d_ports::Queue>,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Base64url without padding (JWT segments).
pub fn b64url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// A fresh resource prefix, so tests share one moto without meeting.
pub fn fresh_names() -> ResourceNames {
    ResourceNames::for_stack("gen3d", &format!("e{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)).expect("valid prefix")
}

/// The `GEN3D_*` environment the stack's Lambdas would get from `Pulumi.yaml`.
fn environment(names: &ResourceNames, bucket: &str, web_bucket: &str, user: &CognitoUser) -> HashMap<&'static str, String> {
    HashMap::from([
        (env::STACK, "e2e".to_owned()),
        (env::RESOURCE_PREFIX, names.prefix().to_owned()),
        (env::BUCKET, bucket.to_owned()),
        (env::TABLE, names.job_table()),
        (env::METRICS_NAMESPACE, "Gen3D".to_owned()),
        (env::JOB_TTL_DAYS, "30".to_owned()),
        (env::ENDPOINT_NAME, names.endpoint()),
        (env::MAIL_FROM, SENDER.to_owned()),
        (env::ADMIN_EMAIL, ADMIN.to_owned()),
        (env::APP_URL, "https://app.gen3d.example".to_owned()),
        (env::API_URL, "https://api.gen3d.example".to_owned()),
        (env::USER_POOL_ID, user.pool_id.clone()),
        (env::USER_POOL_CLIENT_ID, user.client_id.clone()),
        (env::LIMIT_OBJECTS_IN_FLIGHT, "20".to_owned()),
        (env::LIMIT_OBJECTS_PER_DAY, "500".to_owned()),
        (env::LIMIT_PHOTOS_PER_HOUR, "100".to_owned()),
        (env::WEB_BUCKET, web_bucket.to_owned()),
    ])
}

impl AwsStack {
    /// Provisions a fresh stack on moto at `moto` and starts every worker.
    pub async fn start(moto: &str, options: AwsOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let sdk = gen3d_aws::sdk_config(Some(moto), Some(REGION)).await;
        let names = fresh_names();
        let bucket = format!("{}-data", names.prefix());
        provision::create_bucket(&sdk, &bucket, true).await.expect("bucket");
        let web_bucket = format!("{}-web", names.prefix());
        provision::create_bucket(&sdk, &web_bucket, true).await.expect("web bucket");
        if let Some(decoder) = &options.web_decoder {
            provision::put_object(&sdk, &web_bucket, DECODER_KEY, decoder.clone(), "application/octet-stream", true).await.expect("decoder uploaded");
        }
        provision::create_queues(&sdk, &names, options.max_receives, 30).await.expect("queues");
        provision::notify_photo_uploads(&sdk, &bucket, &names, true).await.expect("bucket notifications");
        provision::create_job_table(&sdk, &names.job_table()).await.expect("job table");
        provision::create_email_identity(&sdk, SENDER).await.expect("sender identity");
        let topic_arn = gen3d_aws::create_inference_topic(&sdk, &names).await.expect("inference topic");
        let email = format!("{}@example.com", names.prefix());
        let user = {
            let (moto, pool, email) = (moto.to_owned(), names.prefix().to_owned(), email.clone());
            tokio::task::spawn_blocking(move || CognitoUser::create(&moto, &pool, &email)).await.expect("cognito user")
        };
        let vars = environment(&names, &bucket, &web_bucket, &user);
        let config = |service| ServiceConfig::from_lookup(service, |k| vars.get(k).cloned()).expect("the harness sets every variable");
        let (stop, rx) = watch::channel(false);
        let mut handles = Vec::new();

        // The GPU container (S3 blobs) and the async-endpoint stand-in in front of it.
        let blobs = Arc::new(S3BlobStore::from_sdk(&sdk, &bucket, true));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("container port");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let container = gen3d_inference::app(gen3d_inference::ServerState::new(blobs.clone(), options.container_concurrency));
        handles.push(tokio::spawn(async move {
            let _ = axum::serve(listener, container).await;
        }));
        let own_queue: Arc<dyn gen3d_ports::Queue> =
            Arc::new(gen3d_embedded::SqliteQueue::new(gen3d_embedded::open_database(&dir.path().join("endpoint.sqlite")).expect("db"), 10));
        let topic = Arc::new(SnsTopic::from_sdk(&sdk, &topic_arn));
        let endpoint = Arc::new(
            LocalAsyncEndpoint::new(blobs, own_queue.clone(), Arc::new(gen3d_embedded::MemoryMetrics::default()))
                .with_runner(Runner::Container { base })
                .with_topic(topic),
        );
        for _ in 0..options.container_concurrency {
            let (endpoint, rx) = (endpoint.clone(), rx.clone());
            handles.push(tokio::spawn(async move { endpoint.run_worker(rx).await }));
        }

        // The four queue-fed Lambdas, each polled as its event source mapping would.
        let notify = gen3d_notify::NotifyConfig::from_settings(&config(Service::Notify).settings).expect("notify settings");
        let mut wrap_meshing = options.wrap_meshing;
        for service in [Service::Embedding, Service::Reconstruction, Service::Meshing, Service::Notify] {
            let config = config(service);
            let mut ports = AwsPorts::connect(&config, &sdk, true).await.expect("ports");
            if matches!(config.settings, ServiceSettings::Inference { .. }) {
                ports.inference = endpoint.clone();
            }
            if let Some(faults) = &options.faults {
                ports = gen3d_faults::wrap(ports, faults);
            }
            let mut handler = gen3d::queue_handler(service, ports.clone(), &notify).expect("a queue-fed service");
            if service == Service::Meshing
                && let Some(wrap) = wrap_meshing.take()
            {
                handler = wrap(handler);
            }
            let queue = QueueName::pipeline(service.consumes().expect("queue-fed"));
            let svc = QueueService { ports, handler, queue, backoff: Duration::from_millis(100) };
            handles.push(tokio::spawn(poll(svc, 10, Duration::from_secs(30), rx.clone())));
        }

        // The intake API with Cognito auth, as behind API Gateway.
        let intake = config(Service::Intake);
        let ports = AwsPorts::connect(&intake, &sdk, true).await.expect("intake ports");
        let ServiceSettings::Intake { user_pool_id, user_pool_client_id, limits, web_bucket } = &intake.settings else {
            unreachable!("intake settings")
        };
        let issuer = CognitoAuth::issuer(REGION, user_pool_id);
        let jwks = format!("{moto}/{user_pool_id}/.well-known/jwks.json");
        let client_id = user_pool_client_id.clone();
        let auth = tokio::task::spawn_blocking(move || CognitoAuth::fetch(&issuer, &client_id, &jwks)).await.expect("join").expect("jwks");
        let state = AppState {
            ports: match &options.faults {
                Some(faults) => gen3d_faults::wrap(ports.clone(), faults),
                None => ports.clone(),
            },
            // What the Lambda's main does: the web bucket's decoder, read on first use.
            decoder: ServerDecoder::web_bucket(Arc::new(S3BlobStore::from_sdk(&sdk, web_bucket, true))),
            auth: Arc::new(Auth::Cognito(auth)),
            limits: *limits,
        };
        let intake = gen3d_intake::app(state);
        let api = ApiClient::new(intake.clone(), user.id_token.clone());
        Self { moto: moto.to_owned(), sdk, names, bucket, user, api, intake, ports, endpoint_queue: own_queue, stop, handles, _dir: dir }
    }

    /// The edge stand-in for stack `stack` of the program (see [`crate::edge`]) in front of
    /// this stack's intake, user pool and data bucket.
    pub fn edge_settings(&self, stack: &str) -> crate::edge::EdgeSettings {
        crate::edge::EdgeSettings {
            repo: crate::repo(),
            stack: stack.to_owned(),
            region: REGION.to_owned(),
            moto: self.moto.clone(),
            sdk: self.sdk.clone(),
            user_pool_id: self.user.pool_id.clone(),
            user_pool_client_id: self.user.client_id.clone(),
            data_bucket: self.bucket.clone(),
            intake: self.intake.clone(),
        }
    }

    /// The edge stand-in for the committed program's `dev` stack in front of this stack.
    pub async fn edge(&self) -> crate::edge::Edge {
        let ev = crate::edge::load_program(&crate::repo(), "dev", REGION).expect("program loads");
        crate::edge::Edge::start(ev, self.edge_settings("dev")).await.expect("edge starts")
    }

    /// The intake router with another bearer token.
    /// What the web app does to send a photo in AWS: asks the API where to send this
    /// photo (`POST …/upload` with its length and type), then PUTs it there with the
    /// headers given. Returns the upload target and the PUT's status.
    pub async fn direct_upload(&self, session: &str, photo: Vec<u8>, content_type: &str) -> (serde_json::Value, u16) {
        let target =
            self.api.post_json(&format!("/v1/sessions/{session}/upload"), &serde_json::json!({"bytes": photo.len(), "type": content_type})).await;
        assert_eq!(target.status, axum::http::StatusCode::OK, "{}", target.error_message());
        let target = target.json();
        let status = put_with(&target, photo).await;
        (target, status)
    }

    pub fn api_with_token(&self, token: &str) -> ApiClient {
        self.api.with_token(token)
    }

    /// `gen3d --profile aws` arguments for this stack, then `command`.
    pub fn cli_args(&self, command: &[&str]) -> Vec<String> {
        let stack = self.names.prefix().strip_prefix("gen3d-").expect("fresh_names uses the gen3d project");
        let head = ["gen3d", "--profile", "aws", "--aws-endpoint-url", &self.moto, "--region", "us-east-1", "--stack", stack];
        head.iter().chain(command).map(|s| (*s).to_owned()).collect()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            h.abort();
            let _ = h.await;
        }
    }
}

/// PUTs `body` to an upload target (`{"url", "headers"}`) as a browser would; the status.
pub async fn put_with(target: &serde_json::Value, body: Vec<u8>) -> u16 {
    let url = target["url"].as_str().expect("upload url").to_owned();
    let headers: Vec<(String, String)> = target["headers"]
        .as_object()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut req = agent.put(&url);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        req.send(&body[..]).expect("PUT reaches storage").status().as_u16()
    })
    .await
    .expect("join")
}

/// Every mail moto's SES accepted (its `/moto-api/data.json` state: `destinations`,
/// `subject`, `body`). moto's state dump fails now and then while another test is half-way
/// through a Cognito call; a failed read gives no mail, so callers poll.
pub async fn ses_messages(moto: &str) -> Vec<serde_json::Value> {
    let url = format!("{moto}/moto-api/data.json");
    let data: serde_json::Value = tokio::task::spawn_blocking(move || {
        ureq::get(&url).call().ok().and_then(|mut r| r.body_mut().with_config().limit(1 << 30).read_json().ok()).unwrap_or_default()
    })
    .await
    .expect("join");
    data["ses"]["Message"].as_array().cloned().unwrap_or_default()
}

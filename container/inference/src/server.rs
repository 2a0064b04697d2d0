//! The SageMaker bring-your-own-container HTTP contract: `GET /ping` and
//! `POST /invocations` (the body is a [`TaskRequest`] document). Model work runs on
//! blocking threads behind a semaphore, so `/ping` answers at once even mid-job.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gen3d_models::backend::Models;
use gen3d_ports::{BlobStore, TaskRequest};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::Mesher;
use crate::task::{TaskError, run_task};

#[derive(Clone)]
pub struct ServerState {
    pub blobs: Arc<dyn BlobStore>,
    pub models: Models,
    /// Where mesh tasks run (the container binary: a child process per task).
    pub mesher: Mesher,
    /// At most this many invocations run at once; the rest wait their turn.
    pub permits: Arc<Semaphore>,
}

impl ServerState {
    /// A server with the built-in models.
    pub fn new(blobs: Arc<dyn BlobStore>, max_concurrency: usize) -> Self {
        Self { blobs, models: Models::builtin(), mesher: Mesher::InProcess, permits: Arc::new(Semaphore::new(max_concurrency.max(1))) }
    }

    /// Serves `models` (as loaded from the model directory) instead of the built-in ones.
    pub fn with_models(mut self, models: Models) -> Self {
        self.models = models;
        self
    }
}

pub fn app(state: ServerState) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/invocations", post(invocations))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

/// Healthy while the server answers, whatever its models' state: a model that failed to
/// load fails only the tasks that need it, each with its load error. The body says which
/// models are ready (SageMaker reads only the status).
async fn ping(State(state): State<ServerState>) -> Response {
    (StatusCode::OK, Json(json!({ "status": "ok", "models": state.models.status() }))).into_response()
}

fn failure(status: StatusCode, reason: String) -> Response {
    (status, Json(json!({ "error": reason }))).into_response()
}

/// 200 with the response document; 400 for a request that is not a task document,
/// 422 for inputs the model cannot take (missing, not an image, mask mismatch, empty
/// mask), 500 when the model is not available or fails, 503 when storage is unavailable
/// (SageMaker records each as a failure).
async fn invocations(State(state): State<ServerState>, body: Bytes) -> Response {
    let request: TaskRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return failure(StatusCode::BAD_REQUEST, format!("not a task request: {e}")),
    };
    let Ok(_permit) = state.permits.clone().acquire_owned().await else {
        return failure(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down".into());
    };
    let started = Instant::now();
    let task = request.task();
    match run_task(&state.models, &state.mesher, state.blobs.as_ref(), &request).await {
        Ok(response) => {
            tracing::info!(task = ?task, output = %response.output, ms = started.elapsed().as_millis() as u64, "invocation done");
            (StatusCode::OK, Json(response)).into_response()
        }
        Err(TaskError::Rejected(reason)) => {
            tracing::warn!(task = ?task, reason, "invocation rejected");
            failure(StatusCode::UNPROCESSABLE_ENTITY, reason)
        }
        Err(TaskError::Model(reason)) => {
            tracing::error!(task = ?task, reason, "model failed");
            failure(StatusCode::INTERNAL_SERVER_ERROR, reason)
        }
        Err(TaskError::Unavailable(reason)) => {
            tracing::error!(task = ?task, reason, "invocation failed");
            failure(StatusCode::SERVICE_UNAVAILABLE, reason)
        }
    }
}

//! The click decoder that `POST …/masks` (and a JSON prompt to `POST …/objects`) runs
//! server-side: the same ONNX file the browser runs, so a script and the app get the same
//! mask for the same clicks.
//!
//! Locally the decoder is given at start (the model directory's, or the built-in one). In
//! AWS the browser loads `models/decoder.onnx` from the web bucket (the deploy step puts
//! `gen3d export-decoder`'s file there: docs/operations.md), so the intake Lambda reads that
//! same object, on the first decode after a cold start (no other route waits for it), and
//! checks it against the decoder contract. With no object there, or one that is not a
//! click decoder, a server-side decode answers 409 naming why (the app's own path, the
//! browser's mask uploaded with the object, still works); the answer is kept for a minute,
//! then the bucket is read again, so an upload takes effect without a redeploy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gen3d_domain::ObjectKey;
use gen3d_models::decoder::Decoder;
use gen3d_ports::{BlobStore, DirectAccess, PortError};

use crate::error::ApiError;

/// Where the browser's click decoder lies in the web bucket.
pub const DECODER_KEY: &str = "models/decoder.onnx";

/// How long a missing or refused decoder is remembered before the bucket is read again.
const RECHECK_AFTER: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct ServerDecoder(Arc<Source>);

enum Source {
    Ready(Arc<Decoder>),
    Store { store: Arc<dyn BlobStore>, key: ObjectKey, loaded: tokio::sync::Mutex<Loaded> },
}

enum Loaded {
    Not,
    Ready(Arc<Decoder>),
    Refused { reason: String, at: Instant },
}

impl ServerDecoder {
    /// A decoder already loaded (`gen3d serve`, tests).
    pub fn ready(decoder: Arc<Decoder>) -> Self {
        Self(Arc::new(Source::Ready(decoder)))
    }

    /// The browser's decoder in AWS: [`DECODER_KEY`] in the web bucket `store`, read when
    /// first needed.
    pub fn web_bucket(store: Arc<dyn BlobStore>) -> Self {
        let key = ObjectKey::parse(DECODER_KEY).expect("DECODER_KEY is a valid object key");
        Self(Arc::new(Source::Store { store, key, loaded: tokio::sync::Mutex::new(Loaded::Not) }))
    }

    /// Where `GET /v1/models/decoder.onnx` sends a caller once [`ServerDecoder::get`] has
    /// loaded the file: the store's own (presigned) URL of it where it has one (a Lambda's
    /// response is at most 6 MB; SAM 3's decoder is ~22 MB), else `None`: the API answers
    /// with the bytes.
    pub async fn direct_url(&self) -> Result<Option<String>, ApiError> {
        match &*self.0 {
            Source::Ready(_) => Ok(None),
            Source::Store { store, key, .. } => Ok(store.direct_url(key, DirectAccess::Get).await?),
        }
    }

    /// The decoder, or 409 (`decoder_unavailable`) saying why there is none; a store that
    /// cannot be reached is its own error (503), not remembered.
    pub async fn get(&self) -> Result<Arc<Decoder>, ApiError> {
        let (store, key, loaded) = match &*self.0 {
            Source::Ready(decoder) => return Ok(decoder.clone()),
            Source::Store { store, key, loaded } => (store, key, loaded),
        };
        let mut slot = loaded.lock().await;
        match &*slot {
            Loaded::Ready(decoder) => return Ok(decoder.clone()),
            Loaded::Refused { reason, at } if at.elapsed() < RECHECK_AFTER => return Err(refused(reason.clone())),
            Loaded::Refused { .. } | Loaded::Not => {}
        }
        let location = store.location(key);
        let unavailable = "server-side decoding is unavailable";
        let loaded = match store.get(key).await {
            Ok(bytes) => tokio::task::spawn_blocking(move || Decoder::from_onnx(bytes.to_vec()))
                .await
                .map_err(|e| ApiError::from(PortError::Internal(e.to_string())))?
                .map_err(|e| format!("{unavailable}: {location} is not a click decoder: {e}")),
            Err(PortError::NotFound(_)) => Err(format!(
                "{unavailable}: the stack has no click decoder at {location} (the deploy step puts `gen3d export-decoder`'s file there: \
                 docs/operations.md); the app decodes clicks in the browser"
            )),
            Err(e) => return Err(e.into()),
        };
        match loaded {
            Ok(decoder) => {
                tracing::info!(decoder = %location, "click decoder loaded");
                let decoder = Arc::new(decoder);
                *slot = Loaded::Ready(decoder.clone());
                Ok(decoder)
            }
            Err(reason) => {
                tracing::warn!(decoder = %location, %reason, "no server-side decoder");
                *slot = Loaded::Refused { reason: reason.clone(), at: Instant::now() };
                Err(refused(reason))
            }
        }
    }
}

fn refused(reason: String) -> ApiError {
    ApiError::new(axum::http::StatusCode::CONFLICT, "decoder_unavailable", reason)
}

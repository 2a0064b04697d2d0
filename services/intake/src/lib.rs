//! The intake service: Gen3D's HTTP API (docs/api.md). Accounts and tokens, sessions
//! (upload a photo, get its embeddings, name it), server-side mask decoding, objects
//! (submit a selection, follow its stages, name it, download its files), a photo's scene.
//!
//! [`app`] builds the axum router; the local runner serves it on a socket and the
//! Lambda binary through `lambda_http`. Every route but health, sign-up/in and the
//! decoder model requires a bearer token, and every lookup is by (token's user, id):
//! another user's session is simply not found.

mod auth;
mod cognito;
mod delete;
mod error;
mod limits;
mod links;
mod rename;
mod reset;
mod routes;
mod scene;
mod server_decoder;
mod span;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use gen3d_ports::Ports;

pub use auth::{Auth, LocalAuth, Principal};
pub use cognito::CognitoAuth;
pub use error::ApiError;
pub use server_decoder::{DECODER_KEY, ServerDecoder};
pub use views::{ObjectView, SessionView};

#[derive(Clone)]
pub struct AppState {
    pub ports: Ports,
    /// The click decoder of `POST …/masks`: the browser's (see [`ServerDecoder`]).
    pub decoder: ServerDecoder,
    pub auth: Arc<Auth>,
    /// Per-user limits on GPU work (429 past them).
    pub limits: gen3d_config::UserLimits,
}

/// The API router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(routes::health))
        .route("/v1/auth/register", post(routes::register))
        .route("/v1/auth/login", post(routes::login))
        .route("/v1/auth/forgot", post(reset::forgot_password))
        .route("/v1/auth/reset", post(reset::reset_password))
        .route("/v1/models/decoder.onnx", get(routes::decoder_model))
        .route("/v1/links/{token}", get(links::open_link))
        .route("/v1/sessions", post(routes::create_session).get(routes::list_sessions))
        .route("/v1/sessions/{session}", get(routes::get_session).patch(rename::rename_session).delete(delete::delete_session))
        .route("/v1/sessions/{session}/scene", post(scene::make_scene))
        .route("/v1/sessions/{session}/scene.glb", get(scene::get_scene))
        .route("/v1/sessions/{session}/thumbnail", get(routes::get_thumbnail))
        .route("/v1/sessions/{session}/image", axum::routing::put(routes::upload_image).get(routes::get_image))
        .route("/v1/sessions/{session}/upload", post(routes::upload_target))
        .route("/v1/sessions/{session}/embeddings", get(routes::get_embeddings))
        .route("/v1/sessions/{session}/masks", post(routes::decode_mask))
        .route("/v1/sessions/{session}/objects", post(routes::create_object).get(routes::list_objects))
        .route("/v1/sessions/{session}/objects/{object}", get(routes::get_object).patch(rename::rename_object).delete(delete::delete_object))
        .route("/v1/sessions/{session}/objects/{object}/files/{file}", get(routes::get_file))
        .layer(DefaultBodyLimit::max(gen3d_media::MAX_PHOTO_BYTES + 1024))
        .layer(axum::middleware::map_response(error::json_errors))
        .route_layer(axum::middleware::from_fn(span::request_span))
        .with_state(state)
}

//! `GET /v1/links/{token}`: the done mail's download link. No sign-in: the unguessable
//! token is the credential (`gen3d_pipeline::links`). 404 for a token never made or an
//! object since deleted, 410 once it has expired; else the file, as the files route gives
//! it to its owner (in AWS a redirect to a fresh, short presigned URL).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gen3d_pipeline::resolve_link;

use crate::{ApiError, AppState};

pub async fn open_link(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let link = resolve_link(state.ports.blobs.as_ref(), &token).await?.ok_or_else(|| ApiError::not_found("download link"))?;
    if link.expired() {
        return Err(ApiError::new(
            StatusCode::GONE,
            "gone",
            "this download link has expired (they work for 24 hours): sign in to download the object",
        ));
    }
    let file = link.file().ok_or_else(|| ApiError::not_found("file"))?;
    let rec = state.ports.jobs.object(&link.user, &link.session, &link.object).await?.ok_or_else(|| ApiError::not_found("object (deleted)"))?;
    crate::routes::serve_object_file(&state, &rec, file).await
}

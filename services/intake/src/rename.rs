//! Naming a photo or an object: `PATCH /v1/sessions/{s}` and
//! `PATCH /v1/sessions/{s}/objects/{o}` with `{"name": "…"}` (or `null` to go back to the
//! default, "Photo W×H" / "Object N"). Only the name changes, whatever state the job is
//! in: the stores keep it apart from the pipeline's writes.

use axum::Json;
use axum::extract::{Path, State};
use gen3d_domain::DisplayName;
use serde::Deserialize;

use crate::routes::{load_object, load_session, object_view, session_view};
use crate::{ApiError, AppState, ObjectView, Principal, SessionView};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    /// Required; `null` clears the name.
    name: Option<String>,
}

fn parse(body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>) -> ApiResult<Option<DisplayName>> {
    let Json(raw) = body.map_err(|e| ApiError::bad_request(format!("invalid JSON body: {}", e.body_text())))?;
    if raw.get("name").is_none() {
        return Err(ApiError::bad_request("name: required (a string, or null to clear it)"));
    }
    let body: Rename = serde_json::from_value(raw).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    body.name.map(|n| DisplayName::parse(&n).map_err(|e| ApiError::bad_request(e.to_string()))).transpose()
}

/// `PATCH /v1/sessions/{s}`: 200 with the photo's view.
pub async fn rename_session(
    State(state): State<AppState>,
    p: Principal,
    Path(session): Path<String>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<SessionView>> {
    let s = load_session(&state, &p, &session).await?;
    let name = parse(body)?;
    if !state.ports.jobs.rename_session(&s.user, &s.session, name.as_ref()).await? {
        return Err(ApiError::not_found("session"));
    }
    Ok(Json(session_view(&state, &load_session(&state, &p, &session).await?).await?))
}

/// `PATCH /v1/sessions/{s}/objects/{o}`: 200 with the object's view.
pub async fn rename_object(
    State(state): State<AppState>,
    p: Principal,
    Path((session, object)): Path<(String, String)>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<ObjectView>> {
    let o = load_object(&state, &p, &session, &object).await?;
    let name = parse(body)?;
    if !state.ports.jobs.rename_object(&o.user, &o.session, &o.object, name.as_ref()).await? {
        return Err(ApiError::not_found("object"));
    }
    Ok(Json(object_view(&state, &load_object(&state, &p, &session, &object).await?).await?))
}

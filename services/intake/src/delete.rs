//! Deleting a photo (its session, with every object) or one object: every stored file
//! under the session's or object's keys (and the photo's scene, which holds the
//! object's geometry), then the records. Only what has ended can go:
//! a photo still being prepared, or an object still being made, answers 409, so no step
//! of the pipeline writes into a deleted job. Files go before records, so a delete that
//! fails half-way (storage unavailable: 503) leaves a record to delete again, never
//! files without a record. The inference endpoint's response documents (`inference/`:
//! keys, counts, the pose; no pixels) are not under the user's prefix and expire after
//! 7 days (the data bucket's `expire-inference-results` rule).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use gen3d_domain::{KeyPrefix, ObjectKey, ObjectRecord, SessionFile, SessionState};

use crate::routes::{load_object, load_session};
use crate::{ApiError, AppState, Principal};

type ApiResult<T> = Result<T, ApiError>;

async fn delete_files(state: &AppState, keys: &[ObjectKey]) -> ApiResult<()> {
    for key in keys {
        state.ports.blobs.delete(key).await?;
    }
    Ok(())
}

/// The files of one object: everything under its folder of the session's keys.
async fn object_files(state: &AppState, o: &ObjectRecord) -> ApiResult<Vec<ObjectKey>> {
    let folder = format!("{}objects/{}/", KeyPrefix::session(&o.user, &o.session).as_str(), o.object);
    Ok(state.ports.blobs.list(&KeyPrefix::session(&o.user, &o.session)).await?.into_iter().filter(|k| k.as_str().starts_with(&folder)).collect())
}

fn refuse_if_busy(o: &ObjectRecord, whole_photo: bool) -> ApiResult<()> {
    if o.state.is_terminal() {
        return Ok(());
    }
    let what = if whole_photo { "delete the photo" } else { "delete it" };
    let of = if whole_photo { " of this photo" } else { "" };
    Err(ApiError::conflict(format!("object {}{of} is still being made ({}); {what} when it is done or failed", o.object, o.state.as_str())))
}

async fn delete_object_record(state: &AppState, o: &ObjectRecord) -> ApiResult<()> {
    if !state.ports.jobs.delete_object(&o.user, &o.session, &o.object, o.state).await? {
        return Err(ApiError::conflict(format!("object {} changed while it was being deleted; try again", o.object)));
    }
    Ok(())
}

/// `DELETE /v1/sessions/{s}/objects/{o}`: 204, the object's files and record gone.
pub async fn delete_object(State(state): State<AppState>, p: Principal, Path((session, object)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let o = load_object(&state, &p, &session, &object).await?;
    refuse_if_busy(&o, false)?;
    // The photo's scene holds the object's geometry: it goes too (made again on demand).
    let scene = ObjectKey::session_file(&o.user, &o.session, SessionFile::Scene);
    delete_files(&state, &[object_files(&state, &o).await?, vec![scene]].concat()).await?;
    delete_object_record(&state, &o).await?;
    tracing::info!(user = %o.user, session = %o.session, object = %o.object, "object deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/sessions/{s}`: 204, the photo, its embeddings, every object and every
/// record gone.
pub async fn delete_session(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<StatusCode> {
    let s = load_session(&state, &p, &session).await?;
    if matches!(s.state, SessionState::Uploaded | SessionState::Embedding) {
        return Err(ApiError::conflict(format!("the photo is still being prepared ({}); delete it when it is ready or failed", s.state.as_str())));
    }
    let objects = state.ports.jobs.objects(&s.user, &s.session).await?;
    for o in &objects {
        refuse_if_busy(o, true)?;
    }
    // Every file of the photo and its objects in one listing, then the records.
    delete_files(&state, &state.ports.blobs.list(&KeyPrefix::session(&s.user, &s.session)).await?).await?;
    for o in &objects {
        delete_object_record(&state, o).await?;
    }
    if !state.ports.jobs.delete_session(&s.user, &s.session, s.state).await? {
        return Err(ApiError::conflict("the photo changed while it was being deleted; try again".to_owned()));
    }
    tracing::info!(user = %s.user, session = %s.session, objects = objects.len(), "photo deleted");
    Ok(StatusCode::NO_CONTENT)
}

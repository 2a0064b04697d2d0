//! The API's handlers for accounts, sessions (photos, embeddings, masks) and objects.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gen3d_domain::{
    EmailAddress, EmbedRequested, IdempotencyKey, ImageInfo, MeshFormat, MeshMethod, MeshOptions, ObjectFile, ObjectId, ObjectKey, ObjectRecord,
    ObjectState, Point, Prompt, PromptBox, QueueMessage, ReconstructRequested, SessionFile, SessionId, SessionRecord, SessionState,
};
use gen3d_media::{Embeddings, Mask, MediaError, photo_size};
use gen3d_models::decoder::PromptTensors;
use gen3d_ports::{DirectAccess, PortError, QueueName, Transition, now_ms};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::views::Upload;
use crate::{ApiError, AppState, LocalAuth, ObjectView, Principal, SessionView};

type ApiResult<T> = Result<T, ApiError>;

pub async fn health() -> &'static str {
    "ok"
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

pub(crate) fn session_token(auth: &LocalAuth, p: &Principal) -> Value {
    json!({"user": p.user, "email": p.email, "token": auth.issue(p)})
}

pub async fn register(State(state): State<AppState>, Json(c): Json<Credentials>) -> ApiResult<(StatusCode, Json<Value>)> {
    let email = EmailAddress::parse(&c.email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let auth = state.auth.local()?;
    let p = auth.register(state.ports.blobs.as_ref(), &email, &c.password).await?;
    Ok((StatusCode::CREATED, Json(session_token(auth, &p))))
}

pub async fn login(State(state): State<AppState>, Json(c): Json<Credentials>) -> ApiResult<Json<Value>> {
    let email = EmailAddress::parse(&c.email).map_err(|_| ApiError::unauthorized("wrong email or password"))?;
    let auth = state.auth.local()?;
    let p = auth.login(state.ports.blobs.as_ref(), &email, &c.password).await?;
    Ok(Json(session_token(auth, &p)))
}

pub async fn decoder_model(State(state): State<AppState>) -> ApiResult<Response> {
    let decoder = state.decoder.get().await?;
    if let Some(url) = state.decoder.direct_url().await? {
        return Ok((StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, url)]).into_response());
    }
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, "public, max-age=3600")], decoder.onnx_bytes().to_vec())
        .into_response())
}

fn session_id(raw: &str) -> ApiResult<SessionId> {
    SessionId::parse(raw).map_err(|_| ApiError::not_found("session"))
}

pub(crate) async fn load_session(state: &AppState, p: &Principal, raw: &str) -> ApiResult<SessionRecord> {
    let id = session_id(raw)?;
    state.ports.jobs.session(&p.user, &id).await?.ok_or_else(|| ApiError::not_found("session"))
}

pub(crate) async fn load_object(state: &AppState, p: &Principal, session: &str, object: &str) -> ApiResult<ObjectRecord> {
    let s = session_id(session)?;
    let o = ObjectId::parse(object).map_err(|_| ApiError::not_found("object"))?;
    state.ports.jobs.object(&p.user, &s, &o).await?.ok_or_else(|| ApiError::not_found("object"))
}

pub async fn create_session(State(state): State<AppState>, p: Principal) -> ApiResult<(StatusCode, Json<SessionView>)> {
    crate::limits::check_photo(&state, &p.user).await?;
    let rec = SessionRecord::new(p.user.clone(), SessionId::generate(), p.email.clone(), now_ms());
    state.ports.jobs.create_session(&rec).await?;
    Ok((StatusCode::CREATED, Json(session_view(&state, &rec).await?)))
}

pub async fn list_sessions(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    let mut sessions = Vec::new();
    for rec in state.ports.jobs.sessions(&p.user).await? {
        sessions.push(session_view(&state, &rec).await?);
    }
    Ok(Json(json!({ "sessions": sessions })))
}

pub async fn get_session(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Json<SessionView>> {
    Ok(Json(session_view(&state, &load_session(&state, &p, &session).await?).await?))
}

/// The session's view. Where the store can (S3 in AWS), the photo and embeddings come
/// with presigned GETs the browser fetches itself (a redirect would reach S3 with the
/// `null` origin of a redirected CORS request). Its `upload` is the API's route; a
/// direct upload comes from [`upload_target`].
pub(crate) async fn session_view(state: &AppState, rec: &SessionRecord) -> ApiResult<SessionView> {
    let mut view = SessionView::of(rec);
    let key = |f| ObjectKey::session_file(&rec.user, &rec.session, f);
    let mut direct = crate::views::DirectUrls::default();
    if rec.image.is_some() {
        direct.image = state.ports.blobs.direct_url(&key(SessionFile::Image), DirectAccess::Get).await?;
    }
    if view.embeddings_url.is_some() {
        direct.embeddings = state.ports.blobs.direct_url(&key(SessionFile::Embeddings), DirectAccess::Get).await?;
    }
    if direct.image.is_some() || direct.embeddings.is_some() {
        view.direct = Some(direct);
    }
    Ok(view)
}

/// The object's view, its files with presigned GETs where the store offers them. A link
/// storage could not sign this time keeps only its API `url` (which serves or redirects):
/// one file's link never fails the view, or a listing of many objects' seven files each.
pub(crate) async fn object_view(state: &AppState, rec: &ObjectRecord) -> ApiResult<ObjectView> {
    let mut view = ObjectView::of(rec);
    for link in &mut view.files {
        if let Some(file) = ObjectFile::downloadable(link.name) {
            let key = ObjectKey::object_file(&rec.user, &rec.session, &rec.object, file);
            match state.ports.blobs.direct_url(&key, DirectAccess::Get).await {
                Ok(url) => link.direct_url = url,
                Err(e) => {
                    tracing::warn!(object = %rec.object, file = link.name, error = %e, "no direct URL this time; the API's route serves the file")
                }
            }
        }
    }
    Ok(view)
}

/// A redirect to storage's own URL for `key` where it offers one (an S3 presigned GET:
/// Lambda cannot return bodies over 6 MB); `None` where the API serves the bytes.
/// `missing` names the file in the 404 when it is not there.
pub(crate) async fn redirect_to_storage(state: &AppState, key: &ObjectKey, missing: &str) -> ApiResult<Option<Response>> {
    let Some(url) = state.ports.blobs.direct_url(key, DirectAccess::Get).await? else {
        return Ok(None);
    };
    if state.ports.blobs.head(key).await?.is_none() {
        return Err(ApiError::not_found(missing));
    }
    Ok(Some(Redirect::to(&url).into_response()))
}

fn media_error(what: &str, e: MediaError) -> ApiError {
    let message = format!("{what}: {e}");
    match e {
        MediaError::TooLarge { .. } | MediaError::TooManyPixels { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message),
        MediaError::NotAnImage(_) => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message),
        _ => ApiError::unprocessable(message),
    }
}

pub async fn upload_image(
    State(state): State<AppState>,
    p: Principal,
    Path(session): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let rec = load_session(&state, &p, &session).await?;
    let key = ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Image);
    // A retry of this very upload whose first attempt took effect: the same bytes are
    // stored and the embedding was asked for before the state changed (below).
    if !matches!(rec.state, SessionState::Created | SessionState::Failed) && state.ports.blobs.get(&key).await.is_ok_and(|stored| stored == body) {
        return Ok((StatusCode::ACCEPTED, Json(SessionView::of(&rec))));
    }
    if rec.state != SessionState::Created {
        return Err(ApiError::conflict(format!(
            "this session already has a photo (state: {}); start a new session for another photo",
            rec.state.as_str()
        )));
    }
    // The size from the header (constant memory whatever the file claims); the encoder
    // decodes the pixels, and a photo it cannot decode fails the session with the reason.
    let (width, height) = photo_size(&body).map_err(|e| media_error("photo", e))?;
    // One photo per session: the first write wins, and a racing upload of another photo
    // is refused before the record names a size. The same bytes again (a retry after a
    // lost response or a crash between the two writes) go on to the state change.
    if !state.ports.blobs.put_new(&key, body.clone(), "application/octet-stream").await? && state.ports.blobs.get(&key).await? != body {
        return Err(ApiError::conflict("this session already has another photo; start a new session for another photo"));
    }
    // The embedding is asked for before the state changes: if the state change is lost
    // (an error, a crash), the embedding service finds the photo of a `created` session
    // and accepts it as it does a direct upload. The other order could leave a session
    // `uploaded` that nothing would ever embed.
    let msg = QueueMessage::EmbedRequested(EmbedRequested { user: rec.user.clone(), session: rec.session.clone() });
    state.ports.queue.send(&QueueName::pipeline(QueueName::EMBEDDING), &msg.to_body()).await?;
    let mut next = rec.moved(SessionState::Uploaded, now_ms()).map_err(|e| ApiError::conflict(e.to_string()))?;
    next.image = Some(ImageInfo { width, height });
    match state.ports.jobs.update_session(SessionState::Created, &next).await? {
        Transition::Applied(r) => {
            state.ports.metrics.count("photos_uploaded", 1, &[]);
            Ok((StatusCode::ACCEPTED, Json(SessionView::of(&r))))
        }
        // The embedding service (this upload's message, or its storage event) accepted
        // the photo first: the upload succeeded.
        Transition::Stale(r) if r.image.is_some() && r.state != SessionState::Failed => Ok((StatusCode::ACCEPTED, Json(SessionView::of(&r)))),
        Transition::Stale(_) => Err(ApiError::conflict("this session's photo was uploaded concurrently")),
    }
}

#[derive(Deserialize)]
pub struct UploadRequest {
    bytes: u64,
    #[serde(rename = "type")]
    content_type: String,
}

const PHOTO_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// `POST /v1/sessions/{id}/upload` `{"bytes", "type"}`: where to send this photo. Where
/// storage offers it (S3 in AWS), a presigned PUT bound to exactly this length and type
/// that works once (`If-None-Match: *`), so photos up to 40 MB never pass through the
/// API and an upload URL cannot be reused to replace a photo; else the API's own route.
pub async fn upload_target(
    State(state): State<AppState>,
    p: Principal,
    Path(session): Path<String>,
    Json(req): Json<UploadRequest>,
) -> ApiResult<Json<Upload>> {
    let rec = load_session(&state, &p, &session).await?;
    if rec.state != SessionState::Created {
        return Err(ApiError::conflict(format!("this session already has a photo (state: {})", rec.state.as_str())));
    }
    let max = gen3d_media::MAX_PHOTO_BYTES as u64;
    if !(1..=max).contains(&req.bytes) {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("bytes: a photo is 1 to {max} bytes, not {}", req.bytes)));
    }
    let content_type = req.content_type.trim().to_ascii_lowercase();
    if !PHOTO_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("type: {:?} is not one of {}", req.content_type, PHOTO_TYPES.join(", ")),
        ));
    }
    let key = ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Image);
    let upload = match state.ports.blobs.direct_put_once(&key, req.bytes, &content_type).await? {
        Some(direct) => {
            Upload { method: "PUT", url: direct.url, max_bytes: gen3d_media::MAX_PHOTO_BYTES, headers: direct.headers.into_iter().collect() }
        }
        None => Upload {
            method: "PUT",
            url: format!("/v1/sessions/{}/image", rec.session),
            max_bytes: gen3d_media::MAX_PHOTO_BYTES,
            headers: [("content-type".to_owned(), content_type)].into(),
        },
    };
    Ok(Json(upload))
}

fn sniff(bytes: &[u8]) -> &'static str {
    match bytes {
        [0xFF, 0xD8, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        _ => "application/octet-stream",
    }
}

pub async fn get_image(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Response> {
    let rec = load_session(&state, &p, &session).await?;
    if rec.image.is_none() {
        return Err(ApiError::not_found("photo"));
    }
    let key = ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Image);
    if let Some(redirect) = redirect_to_storage(&state, &key, "photo").await? {
        return Ok(redirect);
    }
    let bytes = state.ports.blobs.get(&key).await?;
    Ok(([(header::CONTENT_TYPE, sniff(&bytes))], bytes).into_response())
}

/// `GET /v1/sessions/{s}/thumbnail`: the photo's thumbnail (a JPEG at most 320 px a
/// side, made with its embeddings); 404 before then.
pub async fn get_thumbnail(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Response> {
    let rec = load_session(&state, &p, &session).await?;
    let key = ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Thumbnail);
    if let Some(redirect) = redirect_to_storage(&state, &key, "thumbnail").await? {
        return Ok(redirect);
    }
    match state.ports.blobs.get(&key).await {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=3600")], bytes).into_response()),
        Err(PortError::NotFound(_)) => Err(ApiError::not_found("thumbnail")),
        Err(e) => Err(e.into()),
    }
}

pub async fn get_embeddings(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Response> {
    let rec = load_session(&state, &p, &session).await?;
    if rec.state != SessionState::Ready {
        return Err(ApiError::conflict(format!("embeddings are not ready (session state: {})", rec.state.as_str())));
    }
    let key = ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Embeddings);
    if let Some(redirect) = redirect_to_storage(&state, &key, "embeddings").await? {
        return Ok(redirect);
    }
    let bytes = state.ports.blobs.get(&key).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptBody {
    #[serde(default)]
    points: Vec<Point>,
    #[serde(rename = "box", default)]
    bbox: Option<PromptBox>,
    // Numbers arrive as JSON numbers and are narrowed by `whole` (naming the field).
    #[serde(default)]
    seed: Option<serde_json::Number>,
    #[serde(default)]
    target_triangles: Option<serde_json::Number>,
    #[serde(default)]
    method: Option<MeshMethod>,
    #[serde(default)]
    format: Option<MeshFormat>,
    #[serde(default)]
    remove_outliers: bool,
    #[serde(default)]
    max_points: Option<serde_json::Number>,
    #[serde(default)]
    variant_of: Option<String>,
}

/// A JSON body's number `field` as a whole number that fits `T`; else 400 naming the field
/// (serde's own message would not).
fn whole<T: TryFrom<u64>>(field: &str, value: Option<&serde_json::Number>) -> ApiResult<Option<T>> {
    value
        .map(|n| {
            n.as_u64().and_then(|v| T::try_from(v).ok()).ok_or_else(|| ApiError::bad_request(format!("{field}: {n} is not a whole number in range")))
        })
        .transpose()
}

/// Runs the click decoder server-side: the same ONNX file and arithmetic as the browser.
async fn decode(state: &AppState, rec: &SessionRecord, prompt: &Prompt) -> ApiResult<Mask> {
    if rec.state != SessionState::Ready {
        return Err(ApiError::conflict(format!("the photo is not ready for selection yet (session state: {})", rec.state.as_str())));
    }
    let image = rec.image.ok_or_else(|| ApiError::conflict("session has no photo"))?;
    let decoder = state.decoder.get().await?;
    let bytes = state.ports.blobs.get(&ObjectKey::session_file(&rec.user, &rec.session, SessionFile::Embeddings)).await?;
    let tensors = PromptTensors::new(prompt, image.width, image.height);
    tokio::task::spawn_blocking(move || -> ApiResult<Mask> {
        let emb = Embeddings::decode(&bytes).map_err(|e| ApiError::from(gen3d_ports::PortError::Internal(e.to_string())))?;
        let out = decoder.run(&emb, &tensors, None).map_err(|e| ApiError::from(gen3d_ports::PortError::Internal(e.to_string())))?;
        out.mask(out.best(), image.width, image.height)
            .map_err(|_| ApiError::unprocessable("the selection is empty: click inside the object you want"))
    })
    .await
    .map_err(|e| ApiError::from(gen3d_ports::PortError::Internal(e.to_string())))?
}

fn prompt_of(body: &PromptBody, rec: &SessionRecord) -> ApiResult<Prompt> {
    let image = rec.image.ok_or_else(|| ApiError::conflict("session has no photo"))?;
    Prompt::new(body.points.clone(), body.bbox, image.width, image.height).map_err(|e| ApiError::bad_request(e.to_string()))
}

pub async fn decode_mask(
    State(state): State<AppState>,
    p: Principal,
    Path(session): Path<String>,
    Json(body): Json<PromptBody>,
) -> ApiResult<Response> {
    let rec = load_session(&state, &p, &session).await?;
    let prompt = prompt_of(&body, &rec)?;
    let mask = decode(&state, &rec, &prompt).await?;
    let coverage = format!("{:.6}", mask.coverage());
    Ok(([(header::CONTENT_TYPE, "image/png".to_owned()), (header::HeaderName::from_static("x-gen3d-coverage"), coverage)], mask.encode_png())
        .into_response())
}

fn options_of(method: Option<MeshMethod>, target: Option<u32>, format: Option<MeshFormat>) -> ApiResult<MeshOptions> {
    MeshOptions::new(method.unwrap_or(MeshMethod::Poisson), target.unwrap_or(MeshOptions::DEFAULT_TRIANGLES), format.unwrap_or(MeshFormat::Glb))
        .map_err(|e| ApiError::bad_request(format!("target_triangles: {e}")))
}

/// `POST /v1/sessions/{id}/objects`: a JSON prompt (decoded server-side), or a mask PNG
/// (binary, or its alpha channel) with options in the query string.
pub async fn create_object(
    State(state): State<AppState>,
    p: Principal,
    Path(session): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ObjectView>)> {
    let rec = load_session(&state, &p, &session).await?;
    // `Idempotency-Key`: the client's name for this submission. A retry with the same key
    // (after a lost response, or a failure half-way) returns the object the first attempt
    // made, and makes sure it was queued, instead of making another.
    let request_key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| IdempotencyKey::parse(v).ok())
                .ok_or_else(|| ApiError::bad_request("Idempotency-Key: must be 1 to 64 printable ASCII characters"))
        })
        .transpose()?;
    let object = match &request_key {
        Some(k) => ObjectId::for_request(&rec.user, &rec.session, k),
        None => ObjectId::generate(),
    };
    if request_key.is_some()
        && let Some(existing) = state.ports.jobs.object(&rec.user, &rec.session, &object).await?
    {
        return submitted_again(&state, existing).await;
    }
    crate::limits::check_object(&state, &p.user).await?;
    // Media types are case-insensitive (RFC 9110 8.3.1).
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    let mut json_variant = None;
    let (mask, prompt, options, seed) = if content_type.starts_with("image/png") {
        let image = rec.image.ok_or_else(|| ApiError::conflict("upload the photo before its mask"))?;
        let mask = Mask::decode_png(&body, image.width, image.height).map_err(|e| media_error("mask", e))?;
        let parse =
            |k: &str| query.get(k).map(|v| v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("query parameter {k} must be a number"))));
        let target = parse("target_triangles")
            .transpose()?
            .map(|v| u32::try_from(v).map_err(|_| ApiError::bad_request(format!("target_triangles must be at most {}", MeshOptions::MAX_TRIANGLES))))
            .transpose()?;
        let seed = parse("seed").transpose()?;
        let method = query.get("method").map(|m| m.parse::<MeshMethod>().map_err(|e| ApiError::bad_request(e.to_string()))).transpose()?;
        let format = query.get("format").map(|f| f.parse::<MeshFormat>().map_err(|e| ApiError::bad_request(e.to_string()))).transpose()?;
        let remove_outliers = match query.get("remove_outliers").map(String::as_str) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ApiError::bad_request("query parameter remove_outliers must be true or false")),
        };
        let max_points = parse("max_points")
            .transpose()?
            .map(|v| u32::try_from(v).map_err(|_| ApiError::bad_request("query parameter max_points is too large")))
            .transpose()?;
        let options = options_of(method, target, format)?
            .with_cleanup(remove_outliers, max_points)
            .map_err(|e| ApiError::bad_request(format!("max_points: {e}")))?;
        (mask, None, options, seed)
    } else if content_type.starts_with("application/json") {
        let body: PromptBody = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
        let prompt = prompt_of(&body, &rec)?;
        json_variant = body.variant_of.clone();
        let mask = decode(&state, &rec, &prompt).await?;
        let options = options_of(body.method, whole("target_triangles", body.target_triangles.as_ref())?, body.format)?
            .with_cleanup(body.remove_outliers, whole("max_points", body.max_points.as_ref())?)
            .map_err(|e| ApiError::bad_request(format!("max_points: {e}")))?;
        (mask, Some(prompt), options, whole("seed", body.seed.as_ref())?)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json (a prompt) or image/png (a mask)",
        ));
    };
    if matches!(rec.state, SessionState::Created | SessionState::Failed) {
        return Err(ApiError::conflict(format!("the session cannot take objects (state: {})", rec.state.as_str())));
    }
    let variant_of = match query.get("variant_of").cloned().or(json_variant) {
        None => None,
        Some(raw) => {
            let id = ObjectId::parse(&raw).map_err(|_| ApiError::bad_request("variant_of: not an object id"))?;
            if state.ports.jobs.object(&rec.user, &rec.session, &id).await?.is_none() {
                return Err(ApiError::bad_request("variant_of: no such object in this session"));
            }
            Some(id)
        }
    };
    let mask_key = ObjectKey::object_file(&rec.user, &rec.session, &object, ObjectFile::Mask);
    state.ports.blobs.put(&mask_key, Bytes::from(mask.encode_png()), "image/png").await?;
    let now = now_ms();
    let record = ObjectRecord {
        prompt,
        variant_of,
        ..ObjectRecord::submitted(rec.user.clone(), rec.session.clone(), object.clone(), options, seed.unwrap_or(0), now)
    };
    match state.ports.jobs.create_object(&record).await {
        Ok(()) => {}
        // The same key's earlier attempt (one that timed out after it took effect, or one
        // racing this one) made it.
        Err(PortError::Conflict(_)) if request_key.is_some() => {
            let existing = state.ports.jobs.object(&rec.user, &rec.session, &record.object).await?.ok_or_else(|| ApiError::conflict("object"))?;
            return submitted_again(&state, existing).await;
        }
        Err(e) => return Err(e.into()),
    }
    queue_reconstruction(&state, &record).await?;
    state.ports.metrics.count("objects_submitted", 1, &[]);
    Ok((StatusCode::CREATED, Json(object_view(&state, &record).await?)))
}

async fn queue_reconstruction(state: &AppState, record: &ObjectRecord) -> ApiResult<()> {
    let msg = QueueMessage::ReconstructRequested(ReconstructRequested {
        user: record.user.clone(),
        session: record.session.clone(),
        object: record.object.clone(),
    });
    state.ports.queue.send(&QueueName::pipeline(QueueName::RECONSTRUCTION), &msg.to_body()).await?;
    Ok(())
}

/// The answer to a retried submission: the object as it is, queued again while it is
/// still `submitted` (its first message may never have been sent; a duplicate changes
/// nothing).
async fn submitted_again(state: &AppState, existing: ObjectRecord) -> ApiResult<(StatusCode, Json<ObjectView>)> {
    if existing.state == ObjectState::Submitted {
        queue_reconstruction(state, &existing).await?;
    }
    Ok((StatusCode::OK, Json(object_view(state, &existing).await?)))
}

pub async fn list_objects(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Json<Value>> {
    let rec = load_session(&state, &p, &session).await?;
    let mut objects: Vec<ObjectView> = Vec::new();
    for o in state.ports.jobs.objects(&rec.user, &rec.session).await? {
        objects.push(object_view(&state, &o).await?);
    }
    Ok(Json(json!({ "objects": objects })))
}

pub async fn get_object(State(state): State<AppState>, p: Principal, Path((session, object)): Path<(String, String)>) -> ApiResult<Json<ObjectView>> {
    Ok(Json(object_view(&state, &load_object(&state, &p, &session, &object).await?).await?))
}

pub async fn get_file(
    State(state): State<AppState>,
    p: Principal,
    Path((session, object, file)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let rec = load_object(&state, &p, &session, &object).await?;
    let file = ObjectFile::downloadable(&file).ok_or_else(|| ApiError::not_found("file"))?;
    serve_object_file(&state, &rec, file).await
}

/// One of an object's files: a redirect to storage where it has direct URLs, else the
/// bytes, as an attachment named for the object.
pub(crate) async fn serve_object_file(state: &AppState, rec: &ObjectRecord, file: ObjectFile) -> ApiResult<Response> {
    let key = ObjectKey::object_file(&rec.user, &rec.session, &rec.object, file);
    if let Some(redirect) = redirect_to_storage(state, &key, "file (not produced yet)").await? {
        return Ok(redirect);
    }
    let bytes = match state.ports.blobs.get(&key).await {
        Ok(b) => b,
        Err(gen3d_ports::PortError::NotFound(_)) => return Err(ApiError::not_found("file (not produced yet)")),
        Err(e) => return Err(e.into()),
    };
    let disposition = format!("attachment; filename=\"gen3d-{}-{}\"", rec.object, file.file_name());
    Ok(([(header::CONTENT_TYPE, file.content_type().to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

//! A photo's scene: `POST /v1/sessions/{s}/scene` merges the meshes of the photo's done
//! objects into one .glb (`gen3d_media::scene_glb`: one node per object, placed by its
//! pose in the photo's camera frame), stores it beside the photo and answers with its
//! link; `GET /v1/sessions/{s}/scene.glb` serves it (a presigned GET where storage offers
//! one: a scene can be over Lambda's 6 MB response limit). Deleting an object deletes the
//! stored scene, which held its geometry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gen3d_domain::{MeshFormat, ObjectFile, ObjectKey, ObjectState, SessionFile};
use gen3d_media::{ScenePart, scene_glb};
use gen3d_ports::{DirectAccess, PortError};
use serde::Serialize;

use crate::routes::{load_session, redirect_to_storage};
use crate::views::FileLink;
use crate::{ApiError, AppState, Principal};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize)]
pub struct SceneView {
    /// The objects in the scene, in the order of its nodes.
    pub objects: Vec<String>,
    pub file: FileLink,
}

/// `POST /v1/sessions/{s}/scene`: 200 with the scene's link; 409 while no object of the
/// photo is done.
pub async fn make_scene(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Json<SceneView>> {
    let s = load_session(&state, &p, &session).await?;
    let objects = state.ports.jobs.objects(&s.user, &s.session).await?;
    let mut meshes = Vec::new();
    for (i, o) in objects.iter().enumerate().filter(|(_, o)| o.state == ObjectState::Done) {
        let key = ObjectKey::object_file(&o.user, &o.session, &o.object, ObjectFile::Mesh(MeshFormat::Glb));
        match state.ports.blobs.get(&key).await {
            Ok(glb) => meshes.push((o, o.display_name(i), glb)),
            Err(PortError::NotFound(_)) => tracing::warn!(object = %o.object, "done object without its GLB: left out of the scene"),
            Err(e) => return Err(e.into()),
        }
    }
    if meshes.is_empty() {
        return Err(ApiError::conflict("no object of this photo is done yet: a scene needs at least one"));
    }
    let parts: Vec<ScenePart<'_>> = meshes.iter().map(|(o, name, glb)| ScenePart { name: name.clone(), glb, pose: o.pose }).collect();
    let glb = scene_glb(&parts).map_err(|e| ApiError::unprocessable(format!("the scene could not be made: {e}")))?;
    let key = ObjectKey::session_file(&s.user, &s.session, SessionFile::Scene);
    state.ports.blobs.put(&key, Bytes::from(glb), MeshFormat::Glb.content_type()).await?;
    tracing::info!(user = %s.user, session = %s.session, objects = meshes.len(), "scene made");
    let file = FileLink {
        name: SessionFile::Scene.file_name(),
        url: format!("/v1/sessions/{}/scene.glb", s.session),
        content_type: MeshFormat::Glb.content_type(),
        direct_url: state.ports.blobs.direct_url(&key, DirectAccess::Get).await?,
    };
    Ok(Json(SceneView { objects: meshes.iter().map(|(o, ..)| o.object.to_string()).collect(), file }))
}

/// `GET /v1/sessions/{s}/scene.glb`: the scene last made; 404 before one was made.
pub async fn get_scene(State(state): State<AppState>, p: Principal, Path(session): Path<String>) -> ApiResult<Response> {
    let s = load_session(&state, &p, &session).await?;
    let key = ObjectKey::session_file(&s.user, &s.session, SessionFile::Scene);
    if let Some(redirect) = redirect_to_storage(&state, &key, "scene (make it with POST …/scene)").await? {
        return Ok(redirect);
    }
    let bytes = match state.ports.blobs.get(&key).await {
        Ok(b) => b,
        Err(PortError::NotFound(_)) => return Err(ApiError::not_found("scene (make it with POST …/scene)")),
        Err(e) => return Err(e.into()),
    };
    let disposition = format!("attachment; filename=\"gen3d-{}-scene.glb\"", s.session);
    Ok(([(header::CONTENT_TYPE, MeshFormat::Glb.content_type().to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response())
}

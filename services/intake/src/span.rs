//! The span of one API request: its method and path, and the user, session and object it
//! is about, so every line the request logs (an internal error, a deletion, a file
//! without a direct URL) names them. The path gives the session and object; the
//! signed-in user is recorded once the bearer token is verified ([`record_user`]).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use gen3d_domain::{ObjectId, SessionId, UserId};
use tracing::Instrument;
use tracing::field::Empty;

/// The session and object ids in an API path (`/v1/sessions/{s}/objects/{o}/…`), when
/// they are valid ids (a hostile path logs nothing of itself here).
fn ids_in(path: &str) -> (Option<SessionId>, Option<ObjectId>) {
    let mut parts = path.trim_start_matches('/').split('/');
    if (parts.next(), parts.next()) != (Some("v1"), Some("sessions")) {
        return (None, None);
    }
    let session = parts.next().and_then(|s| SessionId::parse(s).ok());
    let object = match parts.next() {
        Some("objects") => parts.next().and_then(|o| ObjectId::parse(o).ok()),
        _ => None,
    };
    (session, object)
}

/// Middleware: runs the request inside its span.
pub async fn request_span(req: Request, next: Next) -> Response {
    let span = tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), user = Empty, session = Empty, object = Empty);
    let (session, object) = ids_in(req.uri().path());
    if let Some(session) = &session {
        span.record("session", session.as_str());
    }
    if let Some(object) = &object {
        span.record("object", object.as_str());
    }
    next.run(req).instrument(span).await
}

/// Names the signed-in user on the current request's span.
pub(crate) fn record_user(user: &UserId) {
    tracing::Span::current().record("user", user.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_api_paths_only_when_valid() {
        let ids = |p: &str| {
            let (s, o) = ids_in(p);
            (s.map(|s| s.as_str().to_owned()), o.map(|o| o.as_str().to_owned()))
        };
        assert_eq!(ids("/v1/sessions/s1/objects/o2/files/mesh.glb"), (Some("s1".into()), Some("o2".into())));
        assert_eq!(ids("/v1/sessions/s1/image"), (Some("s1".into()), None));
        assert_eq!(ids("/v1/sessions"), (None, None));
        assert_eq!(ids("/healthz"), (None, None));
        assert_eq!(ids("/v1/sessions/..%2F..%2Fetc/objects/x y"), (None, None), "not ids: left out");
    }
}

//! Messages that cross queues. Producer and consumer share these types; the wire form is
//! JSON with a version and a `type` tag:
//!
//! ```json
//! {"v":1,"type":"mesh_requested","user":"u","session":"s","object":"o"}
//! ```
//!
//! The one message Gen3D does not produce itself is the SageMaker asynchronous-inference
//! notification (delivered raw, or inside an SNS envelope); [`QueueMessage::parse`]
//! accepts it leniently and routes it by the request document's key.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{DomainError, ObjectId, ObjectKey, SessionId, UserId};

pub const MESSAGE_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedRequested {
    pub user: UserId,
    pub session: SessionId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconstructRequested {
    pub user: UserId,
    pub session: SessionId,
    pub object: ObjectId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshRequested {
    pub user: UserId,
    pub session: SessionId,
    pub object: ObjectId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequested {
    pub user: UserId,
    pub session: SessionId,
    pub object: ObjectId,
}

/// A session failed before any object could be made (its photo, its embeddings): tell
/// the owner and the admin, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionNotifyRequested {
    pub user: UserId,
    pub session: SessionId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InferenceStatus {
    Completed,
    Failed,
    Expired,
}

/// The result of an asynchronous inference, in SageMaker's notification shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceNotification {
    pub invocation_status: InferenceStatus,
    pub inference_id: String,
    /// The key of the request document (`*.request.json`) under the user's prefix.
    #[serde(skip)]
    pub request_key: Option<ObjectKey>,
    /// The key of the response document (`responseParameters.outputLocation`), on success.
    #[serde(skip)]
    pub output_key: Option<ObjectKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// The ids a message names, for logs (see [`QueueMessage::job`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobIds {
    pub user: Option<UserId>,
    pub session: Option<SessionId>,
    pub object: Option<ObjectId>,
}

/// Every message Gen3D's queues carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueMessage {
    EmbedRequested(EmbedRequested),
    ReconstructRequested(ReconstructRequested),
    MeshRequested(MeshRequested),
    NotifyRequested(NotifyRequested),
    SessionNotifyRequested(SessionNotifyRequested),
    #[serde(skip)]
    InferenceResult(InferenceNotification),
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    v: u32,
    #[serde(flatten)]
    message: &'a QueueMessage,
}

fn bad(reason: impl Into<String>) -> DomainError {
    DomainError::Invalid { what: "queue message", reason: reason.into() }
}

/// `s3://bucket/key` -> key (the bucket is the stack's, checked by the adapter).
fn key_from_s3_uri(uri: &str) -> Result<ObjectKey, DomainError> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| bad(format!("input location {uri:?} is not an s3:// uri")))?;
    let (_bucket, key) = rest.split_once('/').ok_or_else(|| bad(format!("input location {uri:?} has no key")))?;
    ObjectKey::parse(key)
}

/// Decodes an S3 event key: `%XX` escapes and `+` for a space.
fn url_decode(raw: &str) -> Result<String, DomainError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).ok_or_else(|| bad(format!("bad escape in key {raw:?}")))?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad(format!("bad escape in key {raw:?}")))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad(format!("key {raw:?} is not utf-8")))
}

impl QueueMessage {
    /// The JSON body sent on a queue.
    pub fn to_body(&self) -> String {
        assert!(!matches!(self, QueueMessage::InferenceResult(_)), "inference results are produced by the endpoint, not sent by Gen3D");
        serde_json::to_string(&EnvelopeOut { v: MESSAGE_VERSION, message: self }).expect("queue messages always serialise")
    }

    /// Parses a queue body: a Gen3D message, a SageMaker notification (raw or in an SNS
    /// envelope). Anything else is an error naming the problem.
    pub fn parse(body: &str) -> Result<Self, DomainError> {
        let value: Value = serde_json::from_str(body).map_err(|e| bad(format!("not json: {e}")))?;
        Self::from_value(value, 0)
    }

    fn from_value(mut value: Value, depth: u8) -> Result<Self, DomainError> {
        let obj = value.as_object_mut().ok_or_else(|| bad("not a json object"))?;
        if obj.get("Type").and_then(Value::as_str) == Some("Notification") && depth == 0 {
            let inner = obj.get("Message").and_then(Value::as_str).ok_or_else(|| bad("sns envelope without a Message string"))?;
            let inner: Value = serde_json::from_str(inner).map_err(|e| bad(format!("sns message is not json: {e}")))?;
            return Self::from_value(inner, depth + 1);
        }
        if obj.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
            return Err(bad("s3 test event"));
        }
        if obj.contains_key("Records") {
            return Self::s3_event(&value);
        }
        if obj.contains_key("invocationStatus") {
            return Self::inference_result(value);
        }
        let version = obj.remove("v").ok_or_else(|| bad("missing version field \"v\""))?;
        if version.as_u64() != Some(u64::from(MESSAGE_VERSION)) {
            return Err(bad(format!("unsupported version {version}")));
        }
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }

    /// True for the one-off `s3:TestEvent` S3 sends when notifications are configured:
    /// consumers delete it without handling.
    pub fn is_s3_test_event(body: &str) -> bool {
        serde_json::from_str::<Value>(body).is_ok_and(|v| v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent"))
    }

    /// An S3 `ObjectCreated` notification for a session's photo starts its embedding.
    /// Parsed leniently (moto's events lack some fields): only `eventName` and
    /// `s3.object.key` (URL-encoded, `+` for space) are read.
    fn s3_event(value: &Value) -> Result<Self, DomainError> {
        let records = value["Records"].as_array().ok_or_else(|| bad("s3 event without a Records list"))?;
        let [record] = records.as_slice() else {
            return Err(bad(format!("s3 event with {} records, expected one", records.len())));
        };
        let event = record["eventName"].as_str().unwrap_or_default();
        if !event.starts_with("ObjectCreated") {
            return Err(bad(format!("s3 event {event:?} is not an object creation")));
        }
        let raw = record["s3"]["object"]["key"].as_str().ok_or_else(|| bad("s3 event without s3.object.key"))?;
        let key = ObjectKey::parse(&url_decode(raw)?)?;
        match key.owner() {
            Some(crate::KeyOwner::Session { user, session, file: crate::SessionFile::Image }) => {
                Ok(QueueMessage::EmbedRequested(EmbedRequested { user, session }))
            }
            _ => Err(bad(format!("s3 event for {key}, which is not a session's photo"))),
        }
    }

    fn inference_result(value: Value) -> Result<Self, DomainError> {
        let input = value
            .pointer("/requestParameters/inputLocation")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("inference notification without requestParameters.inputLocation"))?;
        let request_key = key_from_s3_uri(input)?;
        let value_output = value.pointer("/responseParameters/outputLocation").and_then(Value::as_str).map(str::to_owned);
        let mut note: InferenceNotification = serde_json::from_value(value).map_err(|e| bad(format!("inference notification: {e}")))?;
        note.request_key = Some(request_key);
        note.output_key = value_output.map(|uri| key_from_s3_uri(&uri)).transpose()?;
        Ok(QueueMessage::InferenceResult(note))
    }

    /// The job the message is about, for logs: the user, session and object it names
    /// (an inference result's are those of its request document's key).
    pub fn job(&self) -> JobIds {
        let (user, session, object) = match self {
            QueueMessage::EmbedRequested(m) => (Some(&m.user), Some(&m.session), None),
            QueueMessage::SessionNotifyRequested(m) => (Some(&m.user), Some(&m.session), None),
            QueueMessage::ReconstructRequested(ReconstructRequested { user, session, object })
            | QueueMessage::MeshRequested(MeshRequested { user, session, object })
            | QueueMessage::NotifyRequested(NotifyRequested { user, session, object }) => (Some(user), Some(session), Some(object)),
            QueueMessage::InferenceResult(note) => {
                return match note.request_key.as_ref().and_then(ObjectKey::owner) {
                    Some(crate::KeyOwner::Session { user, session, .. }) => JobIds { user: Some(user), session: Some(session), object: None },
                    Some(crate::KeyOwner::Object { user, session, object, .. }) => {
                        JobIds { user: Some(user), session: Some(session), object: Some(object) }
                    }
                    None => JobIds::default(),
                };
            }
        };
        JobIds { user: user.cloned(), session: session.cloned(), object: object.cloned() }
    }

    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            QueueMessage::EmbedRequested(_) => "embed_requested",
            QueueMessage::ReconstructRequested(_) => "reconstruct_requested",
            QueueMessage::MeshRequested(_) => "mesh_requested",
            QueueMessage::NotifyRequested(_) => "notify_requested",
            QueueMessage::SessionNotifyRequested(_) => "session_notify_requested",
            QueueMessage::InferenceResult(_) => "inference_result",
        }
    }
}

/// Builds the notification body SageMaker publishes for an async invocation; used by the
/// local stand-in for the managed endpoint so both paths parse the same bytes.
pub fn inference_notification_body(
    status: InferenceStatus,
    inference_id: &str,
    input_location: &str,
    output_location: &str,
    failure_reason: Option<&str>,
) -> String {
    let mut response = serde_json::Map::new();
    let location_key = if status == InferenceStatus::Completed { "outputLocation" } else { "failureLocation" };
    response.insert(location_key.into(), Value::String(output_location.into()));
    let mut doc = serde_json::json!({
        "awsRegion": "local",
        "eventTime": "1970-01-01T00:00:00.000Z",
        "receivedTime": "1970-01-01T00:00:00.000Z",
        "invocationStatus": status,
        "inferenceId": inference_id,
        "eventName": "InferenceResult",
        "requestParameters": { "contentType": "application/json", "inputLocation": input_location },
        "responseParameters": Value::Object(response),
    });
    if let Some(reason) = failure_reason {
        doc["failureReason"] = Value::String(reason.into());
    }
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (UserId, SessionId, ObjectId) {
        (UserId::parse("user-1").unwrap(), SessionId::parse("sess1").unwrap(), ObjectId::parse("obj1").unwrap())
    }

    #[test]
    fn message_bodies_are_stable() {
        let (user, session, object) = ids();
        let bodies: Vec<String> = vec![
            QueueMessage::EmbedRequested(EmbedRequested { user: user.clone(), session: session.clone() }).to_body(),
            QueueMessage::ReconstructRequested(ReconstructRequested { user: user.clone(), session: session.clone(), object: object.clone() })
                .to_body(),
            QueueMessage::MeshRequested(MeshRequested { user: user.clone(), session: session.clone(), object: object.clone() }).to_body(),
            QueueMessage::NotifyRequested(NotifyRequested { user: user.clone(), session: session.clone(), object }).to_body(),
            QueueMessage::SessionNotifyRequested(SessionNotifyRequested { user, session }).to_body(),
        ];
        insta::assert_snapshot!(bodies.join("\n"));
        for body in &bodies {
            assert_eq!(QueueMessage::parse(body).unwrap().to_body(), *body);
        }
    }

    #[test]
    fn parses_sagemaker_notifications_raw_and_in_sns() {
        let raw = inference_notification_body(
            InferenceStatus::Failed,
            "r-obj1",
            "s3://bucket/users/user-1/sessions/sess1/objects/obj1/reconstruct.request.json",
            "s3://bucket/inference/failure/r-obj1.out",
            Some("mask is empty"),
        );
        insta::assert_snapshot!(raw);
        let sns = serde_json::json!({"Type": "Notification", "MessageId": "m", "Message": raw}).to_string();
        for body in [raw.as_str(), sns.as_str()] {
            let QueueMessage::InferenceResult(note) = QueueMessage::parse(body).unwrap() else { panic!("not a result") };
            assert_eq!(note.invocation_status, InferenceStatus::Failed);
            assert_eq!(note.failure_reason.as_deref(), Some("mask is empty"));
            assert_eq!(note.request_key.unwrap().as_str(), "users/user-1/sessions/sess1/objects/obj1/reconstruct.request.json");
        }
    }

    #[test]
    fn malformed_bodies_name_the_problem() {
        let cases = [
            ("not json", "invalid queue message: not json"),
            ("[1]", "not a json object"),
            (r#"{"type":"mesh_requested"}"#, "missing version"),
            (r#"{"v":2,"type":"mesh_requested"}"#, "unsupported version 2"),
            (r#"{"v":1,"type":"mesh_requested","user":"u"}"#, "missing field"),
            (r#"{"v":1,"type":"launch_rockets"}"#, "unknown variant"),
            (r#"{"v":1,"type":"embed_requested","user":"../x","session":"s"}"#, "invalid user id"),
            (r#"{"Event":"s3:TestEvent"}"#, "s3 test event"),
            (r#"{"invocationStatus":"Completed","inferenceId":"x"}"#, "without requestParameters"),
        ];
        for (body, expected) in cases {
            let err = QueueMessage::parse(body).unwrap_err().to_string();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn s3_photo_uploads_become_embedding_requests() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"users/user-1/sessions/sess%2D1/image","size":5}}}]}"#;
        let m = QueueMessage::parse(body).unwrap();
        assert_eq!(
            m,
            QueueMessage::EmbedRequested(EmbedRequested { user: UserId::parse("user-1").unwrap(), session: SessionId::parse("sess-1").unwrap() })
        );
        for (bad_body, why) in [
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"users/u/sessions/s/embeddings.g3e"}}}]}"#,
                "not a session's photo",
            ),
            (r#"{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"users/u/sessions/s/image"}}}]}"#, "not an object creation"),
            (r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"elsewhere/x"}}}]}"#, "not a session's photo"),
            (r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"users/u/sessions/s/im%ZZ"}}}]}"#, "bad escape"),
            (r#"{"Records":[]}"#, "expected one"),
        ] {
            let err = QueueMessage::parse(bad_body).unwrap_err().to_string();
            assert!(err.contains(why), "{bad_body}: {err}");
        }
        assert!(QueueMessage::is_s3_test_event(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#));
        assert!(!QueueMessage::is_s3_test_event(body));
    }
}

//! Gen3D's domain: identifiers parsed at the edge, the S3 key layout, the session and
//! object state machines, prompts and mesh options, and the messages that cross queues.
//!
//! **Invariant:** this crate does no I/O. Every type that arrives from outside is parsed
//! once (`parse`/`TryFrom`) and carried as a newtype afterwards.

mod email;
mod error;
mod ids;
mod keys;
mod mail;
mod messages;
mod name;
mod options;
mod pose;
mod prompt;
mod state;

pub use email::EmailAddress;
pub use error::DomainError;
pub use ids::{IdempotencyKey, JobId, ObjectId, SessionId, UserId};
pub use keys::{INFERENCE_FAILURE_PREFIX, INFERENCE_OUTPUT_PREFIX, KeyOwner, KeyPrefix, ObjectFile, ObjectKey, SessionFile, USERS_PREFIX};
pub use mail::{Delivery, MailLog};
pub use messages::{
    EmbedRequested, InferenceNotification, InferenceStatus, JobIds, MESSAGE_VERSION, MeshRequested, NotifyRequested, QueueMessage,
    ReconstructRequested, SessionNotifyRequested, inference_notification_body,
};
pub use name::DisplayName;
pub use options::{MeshFormat, MeshMethod, MeshOptions};
pub use pose::Pose;
pub use prompt::{Point, PointLabel, Prompt, PromptBox};
pub use state::{Failure, ImageInfo, MeshStats, ObjectRecord, ObjectState, SessionRecord, SessionState, Stage};

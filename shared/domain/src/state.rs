//! Job state machines and the records the job store keeps.
//!
//! ```text
//! session: created -> uploaded -> embedding -> ready
//!                                     \-> failed
//! object:  submitted -> reconstructing -> meshing -> done
//!              \--------------\---------------\-> failed { stage, reason }
//! ```
//!
//! Every step moves a record with a *conditional* update (`from` must still hold), so a
//! message delivered twice finds the record already moved and changes nothing.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DisplayName, DomainError, EmailAddress, MeshOptions, ObjectId, Prompt, SessionId, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Created,
    Uploaded,
    Embedding,
    Ready,
    Failed,
}

impl SessionState {
    pub fn can_become(self, next: SessionState) -> bool {
        use SessionState::*;
        matches!((self, next), (Created, Uploaded) | (Uploaded, Embedding) | (Embedding, Ready) | (Created | Uploaded | Embedding, Failed))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Created => "created",
            SessionState::Uploaded => "uploaded",
            SessionState::Embedding => "embedding",
            SessionState::Ready => "ready",
            SessionState::Failed => "failed",
        }
    }
}

/// The pipeline stage an object is in (or failed in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Submitted,
    Reconstructing,
    Meshing,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Submitted => "submitted",
            Stage::Reconstructing => "reconstructing",
            Stage::Meshing => "meshing",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectState {
    Submitted,
    Reconstructing,
    Meshing,
    Done,
    Failed,
}

impl ObjectState {
    pub fn can_become(self, next: ObjectState) -> bool {
        use ObjectState::*;
        matches!(
            (self, next),
            (Submitted, Reconstructing)
                | (Reconstructing, Meshing)
                | (Meshing, Done)
                | (Submitted | Reconstructing | Meshing, Failed)
                | (Failed, Submitted | Reconstructing | Meshing)
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, ObjectState::Done | ObjectState::Failed)
    }

    pub fn stage(self) -> Option<Stage> {
        match self {
            ObjectState::Submitted => Some(Stage::Submitted),
            ObjectState::Reconstructing => Some(Stage::Reconstructing),
            ObjectState::Meshing => Some(Stage::Meshing),
            ObjectState::Done | ObjectState::Failed => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::Submitted => "submitted",
            ObjectState::Reconstructing => "reconstructing",
            ObjectState::Meshing => "meshing",
            ObjectState::Done => "done",
            ObjectState::Failed => "failed",
        }
    }
}

/// Why and where a job failed, shown to the user and mailed to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub stage: Stage,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeshStats {
    pub vertices: u64,
    pub triangles: u64,
    pub watertight: bool,
    /// Axis-aligned bounds of the mesh in glTF (y-up) coordinates.
    pub bbox_min: [f32; 3],
    pub bbox_max: [f32; 3],
    pub splats_in: u64,
    pub splats_used: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user: UserId,
    pub session: SessionId,
    pub owner_email: EmailAddress,
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// The owner was told of the session's failure (set after the mail was sent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notified: bool,
    /// Each recipient's mail about the failure (`notified` is set once all are done).
    #[serde(default, skip_serializing_if = "crate::MailLog::is_empty")]
    pub mail: crate::MailLog,
    /// The name the user gave the photo. Stores keep it apart from the pipeline's
    /// writes (`JobStore::rename_session`), so a step moving the record never undoes a
    /// rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<DisplayName>,
}

impl SessionRecord {
    pub fn new(user: UserId, session: SessionId, owner_email: EmailAddress, now_ms: u64) -> Self {
        Self {
            user,
            session,
            owner_email,
            state: SessionState::Created,
            image: None,
            failure: None,
            created_ms: now_ms,
            updated_ms: now_ms,
            notified: false,
            mail: Default::default(),
            name: None,
        }
    }

    /// The name the user gave the photo, else "Photo W×H" (or "Photo" before its upload).
    pub fn display_name(&self) -> String {
        match (&self.name, self.image) {
            (Some(name), _) => name.to_string(),
            (None, Some(i)) => format!("Photo {}×{}", i.width, i.height),
            (None, None) => "Photo".to_owned(),
        }
    }

    /// The record moved to `next`, or an error if the state machine forbids it.
    pub fn moved(&self, next: SessionState, now_ms: u64) -> Result<Self, DomainError> {
        if !self.state.can_become(next) {
            return Err(DomainError::IllegalTransition { what: "session", from: self.state.as_str().into(), to: next.as_str().into() });
        }
        Ok(Self { state: next, updated_ms: now_ms, ..self.clone() })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub user: UserId,
    pub session: SessionId,
    pub object: ObjectId,
    pub state: ObjectState,
    /// The clicks that produced the mask; absent when the user uploaded a mask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<Prompt>,
    pub options: MeshOptions,
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<MeshStats>,
    /// Where the object sits in the photo's camera frame (from reconstruction on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<crate::Pose>,
    /// Set once the user has been told of the outcome (done or failed): every recipient's
    /// mail has been sent or refused for good.
    #[serde(default)]
    pub notified: bool,
    /// Each recipient's mail about the outcome (the owner's, the admin's copy).
    #[serde(default, skip_serializing_if = "crate::MailLog::is_empty")]
    pub mail: crate::MailLog,
    /// "Generate again": the object this one repeats with another seed (same mask and
    /// options), in the same session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<ObjectId>,
    /// When the object entered each state after `submitted` (which is `created_ms`): the
    /// card's time per stage. The latest entry wins when a replay re-enters a state.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub stage_ms: std::collections::BTreeMap<ObjectState, u64>,
    /// The name the user gave the object (kept apart like the session's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<DisplayName>,
    pub created_ms: u64,
    pub updated_ms: u64,
}

impl ObjectRecord {
    /// A new object of `session`, submitted at `now_ms`: no prompt, result, failure, name or
    /// stage times yet (set the prompt and `variant_of` with struct update syntax).
    pub fn submitted(user: UserId, session: SessionId, object: ObjectId, options: MeshOptions, seed: u64, now_ms: u64) -> Self {
        Self {
            user,
            session,
            object,
            state: ObjectState::Submitted,
            prompt: None,
            options,
            seed,
            failure: None,
            stats: None,
            pose: None,
            notified: false,
            mail: Default::default(),
            variant_of: None,
            stage_ms: Default::default(),
            name: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        }
    }

    /// The name the user gave the object, else "Object N", `index` being its place
    /// (from 0) among its photo's objects.
    pub fn display_name(&self, index: usize) -> String {
        self.name.as_ref().map_or_else(|| format!("Object {}", index + 1), ToString::to_string)
    }

    pub fn moved(&self, next: ObjectState, now_ms: u64) -> Result<Self, DomainError> {
        if !self.state.can_become(next) {
            return Err(DomainError::IllegalTransition { what: "object", from: self.state.as_str().into(), to: next.as_str().into() });
        }
        let mut stage_ms = self.stage_ms.clone();
        stage_ms.insert(next, now_ms);
        Ok(Self { state: next, updated_ms: now_ms, stage_ms, ..self.clone() })
    }

    /// A failed object taken back to the stage it failed in, for a replayed message to
    /// retry: the failure is cleared and the user will be told of the new outcome.
    pub fn resumed(&self, now_ms: u64) -> Result<Self, DomainError> {
        let stage = match (&self.state, &self.failure) {
            (ObjectState::Failed, Some(f)) => f.stage,
            _ => {
                return Err(DomainError::IllegalTransition { what: "object", from: self.state.as_str().into(), to: "resumed".into() });
            }
        };
        let state = match stage {
            Stage::Submitted => ObjectState::Submitted,
            Stage::Reconstructing => ObjectState::Reconstructing,
            Stage::Meshing => ObjectState::Meshing,
        };
        let mut next = self.moved(state, now_ms)?;
        next.failure = None;
        next.notified = false;
        next.mail = Default::default();
        Ok(next)
    }

    /// The record failed at its current stage with `reason`.
    pub fn failed(&self, reason: impl Into<String>, now_ms: u64) -> Result<Self, DomainError> {
        let stage = self.state.stage().ok_or_else(|| DomainError::IllegalTransition {
            what: "object",
            from: self.state.as_str().into(),
            to: "failed".into(),
        })?;
        let mut next = self.moved(ObjectState::Failed, now_ms)?;
        next.failure = Some(Failure { stage, reason: reason.into() });
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_happy_path_only() {
        use SessionState::*;
        assert!(Created.can_become(Uploaded));
        assert!(Uploaded.can_become(Embedding));
        assert!(Embedding.can_become(Ready));
        assert!(!Created.can_become(Ready));
        assert!(!Ready.can_become(Embedding));
        assert!(!Failed.can_become(Ready));
    }

    #[test]
    fn object_failure_records_stage() {
        let rec = ObjectRecord {
            state: ObjectState::Meshing,
            ..ObjectRecord::submitted(
                UserId::parse("u").unwrap(),
                SessionId::parse("s").unwrap(),
                ObjectId::parse("o").unwrap(),
                MeshOptions::standard(),
                1,
                0,
            )
        };
        let failed = rec.failed("poisson produced no triangles", 5).unwrap();
        assert_eq!(failed.failure, Some(Failure { stage: Stage::Meshing, reason: "poisson produced no triangles".into() }));
        assert!(failed.failed("again", 6).is_err(), "a terminal object cannot fail twice");
        assert!(rec.moved(ObjectState::Submitted, 1).is_err());
        let resumed = failed.resumed(7).unwrap();
        assert_eq!((resumed.state, resumed.failure.clone(), resumed.notified), (ObjectState::Meshing, None, false));
        assert!(rec.resumed(8).is_err(), "only a failed object resumes");
    }
}

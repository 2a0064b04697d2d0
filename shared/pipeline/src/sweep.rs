//! The sweeper: the last guarantee that every job ends. A job whose messages were all
//! lost or dead-lettered (a Lambda killed by its memory limit on every delivery, say)
//! would otherwise wait in its step for ever. Every few minutes the sweeper fails the
//! jobs that have not moved for longer than any step takes, with a reason that says so,
//! and asks the notify service to tell owners not yet told. The dead-letter queue keeps
//! the messages for the operator: a replayed object message retries the failed stage.

use std::time::Duration;

use gen3d_domain::{QueueMessage, SessionNotifyRequested, SessionRecord, SessionState};
use gen3d_ports::{Ports, QueueName, Transition, now_ms};

use crate::{HandlerError, fail_object, send};

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub sessions_failed: usize,
    pub objects_failed: usize,
    /// Ended jobs whose owners were asked about again.
    pub notices: usize,
    /// Jobs the sweep could not settle this time (the next sweep tries again).
    pub errors: usize,
}

/// The most jobs one sweep settles (the rest wait for the next).
pub const SWEEP_BATCH: usize = 500;

/// Fails every job that has not moved for `stall_after`, and re-asks for the mail of
/// every ended job not yet told.
pub async fn sweep(ports: &Ports, stall_after: Duration) -> Result<SweepReport, HandlerError> {
    let before = now_ms().saturating_sub(stall_after.as_millis() as u64);
    let stalled = ports.jobs.stalled(before, SWEEP_BATCH).await?;
    let minutes = stall_after.as_secs().div_ceil(60);
    let reason = format!("no progress for {minutes} min: gave up (its messages were lost or dead-lettered)");
    let mut report = SweepReport::default();
    for session in stalled.sessions {
        let told = session.state == SessionState::Failed;
        match fail_session(ports, &session, &reason).await {
            Ok(()) if told => report.notices += 1,
            Ok(()) => report.sessions_failed += 1,
            Err(e) => {
                tracing::error!(user = %session.user, session = %session.session, error = %e, "sweep could not settle a session");
                report.errors += 1;
            }
        }
    }
    for object in stalled.objects {
        let ended = object.state.is_terminal();
        match fail_object(ports, &object, &reason).await {
            Ok(()) if ended => report.notices += 1,
            Ok(()) => report.objects_failed += 1,
            Err(e) => {
                tracing::error!(user = %object.user, object = %object.object, error = %e, "sweep could not settle an object");
                report.errors += 1;
            }
        }
    }
    if report != SweepReport::default() {
        tracing::warn!(?report, "swept stalled jobs");
        ports.metrics.count("jobs_swept", (report.sessions_failed + report.objects_failed) as u64, &[]);
    }
    Ok(report)
}

/// Fails a session with `reason` (unless it already failed) and asks for its owner's mail.
async fn fail_session(ports: &Ports, session: &SessionRecord, reason: &str) -> Result<(), HandlerError> {
    let current = if session.state == SessionState::Failed {
        session.clone()
    } else {
        let mut failed = session.moved(SessionState::Failed, now_ms()).map_err(|e| HandlerError::Permanent(e.to_string()))?;
        failed.failure = Some(reason.to_owned());
        match ports.jobs.update_session(session.state, &failed).await? {
            Transition::Applied(r) => {
                tracing::warn!(user = %r.user, session = %r.session, reason, "session failed");
                ports.metrics.count("sessions_failed", 1, &[]);
                r
            }
            Transition::Stale(r) => r, // it moved meanwhile: leave it to its step
        }
    };
    if current.state == SessionState::Failed && !current.notified {
        let note = SessionNotifyRequested { user: current.user.clone(), session: current.session.clone() };
        send(ports, QueueName::NOTIFY, QueueMessage::SessionNotifyRequested(note)).await?;
    }
    Ok(())
}

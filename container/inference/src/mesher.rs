//! Where the mesh task runs: in this process, or in a child process per task so that a
//! crash or a hang inside Open3D costs one task, not the server (decision:
//! docs/decisions/0001-meshing-in-a-child-process.md).
//!
//! The child is a Gen3D binary started with [`gen3d_meshing::worker::WORKER_ARG`]; it
//! speaks `gen3d_meshing::worker`'s framed protocol on stdin/stdout. A task that takes
//! longer than the timeout is killed and refused; a crash (a signal) is retried once,
//! then reported with the signal's name.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use gen3d_domain::MeshOptions;
use gen3d_meshing::worker::{MeshFiles, WORKER_ARG, decode_reply, encode_request, mesh_task};
use tokio::io::AsyncWriteExt;

use crate::TaskError;

/// The default time a mesh task may take before it is killed.
pub const DEFAULT_MESH_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
pub enum Mesher {
    /// In this process (libraries, tests, benchmarks): a crash here ends the process.
    InProcess,
    /// In a child process per task.
    Child(ChildMesher),
}

#[derive(Clone, Debug)]
pub struct ChildMesher {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub timeout: Duration,
}

impl Mesher {
    /// Child processes of the running binary, which must answer [`WORKER_ARG`] (the
    /// `gen3d` and `gen3d-inference` binaries do).
    pub fn current_exe(timeout: Duration) -> std::io::Result<Self> {
        Ok(Self::Child(ChildMesher { program: std::env::current_exe()?, args: vec![WORKER_ARG.to_owned()], timeout }))
    }

    /// Meshes a splat PLY into every mesh format.
    pub async fn mesh(&self, ply: bytes::Bytes, options: MeshOptions) -> Result<MeshFiles, TaskError> {
        match self {
            Mesher::InProcess => tokio::task::spawn_blocking(move || mesh_task(&ply, &options))
                .await
                .map_err(|e| TaskError::Unavailable(format!("meshing task panicked or was cancelled: {e}")))?
                .map_err(TaskError::Rejected),
            Mesher::Child(child) => {
                let request = encode_request(&ply, &options);
                match child.run(&request).await {
                    Err(Outcome::Crashed(first)) => {
                        tracing::warn!(reason = %first, "meshing worker crashed; retrying once");
                        child.run(&request).await.map_err(|o| o.into_error(child.timeout))
                    }
                    other => other.map_err(|o| o.into_error(child.timeout)),
                }
            }
        }
    }
}

/// How a child run that gave no mesh ended.
enum Outcome {
    Refused(String),
    Crashed(String),
    TimedOut,
    Broken(String),
}

impl Outcome {
    fn into_error(self, timeout: Duration) -> TaskError {
        match self {
            Outcome::Refused(reason) => TaskError::Rejected(reason),
            Outcome::Crashed(reason) => TaskError::Model(format!("meshing crashed twice on this splat file: {reason}")),
            Outcome::TimedOut => {
                TaskError::Rejected(format!("meshing did not finish within {} s; try Poisson or fewer points (max_points)", timeout.as_secs()))
            }
            Outcome::Broken(reason) => TaskError::Model(format!("meshing worker failed: {reason}")),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL (e.g. out of memory)",
        11 => "SIGSEGV",
        _ => "a signal",
    }
}

/// The last lines of a child's stderr, for a failure reason.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

impl ChildMesher {
    async fn run(&self, request: &[u8]) -> Result<MeshFiles, Outcome> {
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Outcome::Broken(format!("cannot start {}: {e}", self.program.display())))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let feed = async move {
            // A worker that exits early closes the pipe; its exit status says why.
            let _ = stdin.write_all(request).await;
        };
        let run = async {
            let ((), out) = tokio::join!(feed, child.wait_with_output());
            out
        };
        let out = match tokio::time::timeout(self.timeout, run).await {
            Err(_) => return Err(Outcome::TimedOut), // dropping the child kills it
            Ok(Err(e)) => return Err(Outcome::Broken(format!("waiting for the worker: {e}"))),
            Ok(Ok(out)) => out,
        };
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = out.status.signal() {
                return Err(Outcome::Crashed(format!("killed by signal {signal} ({}) {}", signal_name(signal), tail(&out.stderr)).trim().to_owned()));
            }
        }
        if !out.stderr.is_empty() {
            tracing::debug!(stderr = %tail(&out.stderr), "meshing worker");
        }
        match decode_reply(&out.stdout) {
            Ok(Err(refusal)) => Err(Outcome::Refused(refusal)),
            _ if !out.status.success() => Err(Outcome::Broken(format!("{} {}", out.status, tail(&out.stderr)).trim().to_owned())),
            Ok(Ok(files)) => Ok(files),
            Err(e) => Err(Outcome::Broken(format!("unreadable reply: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gen3d_domain::{MeshFormat, MeshMethod};

    fn shell(script: &str, timeout: Duration) -> Mesher {
        Mesher::Child(ChildMesher { program: "/bin/sh".into(), args: vec!["-c".into(), script.into()], timeout })
    }

    fn options() -> MeshOptions {
        MeshOptions::new(MeshMethod::Poisson, 5_000, MeshFormat::Glb).unwrap()
    }

    #[tokio::test]
    async fn a_crashing_worker_is_retried_once_then_reported_with_its_signal() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("runs");
        let script = format!("cat >/dev/null; echo run >> {}; echo 'Open3D: boom' >&2; kill -SEGV $$", count.display());
        let err = shell(&script, Duration::from_secs(10)).mesh(bytes::Bytes::from_static(b"ply"), options()).await.unwrap_err();
        let TaskError::Model(reason) = err else { panic!("expected a model failure: {err:?}") };
        assert!(reason.contains("SIGSEGV") && reason.contains("Open3D: boom"), "{reason}");
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 2, "one retry");
    }

    #[tokio::test]
    async fn a_hanging_worker_is_killed_at_the_timeout() {
        let started = std::time::Instant::now();
        let err = shell("sleep 30", Duration::from_millis(300)).mesh(bytes::Bytes::from_static(b"ply"), options()).await.unwrap_err();
        assert!(matches!(&err, TaskError::Rejected(r) if r.contains("did not finish within")), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_worker_that_is_not_one_is_reported() {
        let err = shell("cat >/dev/null; echo hello", Duration::from_secs(10)).mesh(bytes::Bytes::from_static(b"ply"), options()).await.unwrap_err();
        assert!(matches!(&err, TaskError::Model(r) if r.contains("unreadable reply")), "{err:?}");
        let err = shell("exit 3", Duration::from_secs(10)).mesh(bytes::Bytes::from_static(b"ply"), options()).await.unwrap_err();
        assert!(matches!(&err, TaskError::Model(r) if r.contains("exit status: 3")), "{err:?}");
        let missing = Mesher::Child(ChildMesher { program: "/nonexistent/gen3d".into(), args: vec![], timeout: Duration::from_secs(1) });
        let err = missing.mesh(bytes::Bytes::from_static(b"ply"), options()).await.unwrap_err();
        assert!(matches!(&err, TaskError::Model(r) if r.contains("cannot start /nonexistent/gen3d")), "{err:?}");
    }
}

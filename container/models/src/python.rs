//! The `python` reconstructor backend: SAM 3D Objects' official code, which only runs as
//! Python on a CUDA GPU, in a long-lived worker process this server supervises.
//!
//! The worker (`python/gen3d_sam3d_worker.py`) loads the model once, then serves requests
//! over its stdin/stdout in frames (a 4-byte big-endian length, then the bytes):
//!
//! - worker → server, once: `{"ready": true, "model": "…"}` or `{"ready": false, "error": "…"}`;
//! - server → worker, per request: `{"op": "reconstruct", "width", "height", "seed"}`, the
//!   image (`height × width × 3` bytes, RGB) and the mask (`height × width` bytes, 0 or 1);
//! - worker → server: `{"ok": true, "rotation": [w,x,y,z], "translation": [x,y,z],
//!   "scale": s}` then the splat PLY, or `{"ok": false, "error": "…"}`.
//!
//! Supervision: a start-up timeout, a per-request timeout (the worker is killed past it),
//! a restart on the next request after a crash or a kill, at most `max_in_flight` workers
//! (each serves one request at a time), the worker's stderr in this server's log, and its
//! state in [`ObjectReconstructor::describe`] (the container's `/ping` body).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use gen3d_media::{Mask, Photo, SplatCloud};

use crate::ModelError;
use crate::backend::{ObjectReconstructor, Pose, Reconstruction};

/// The adapter script, shipped inside the binary and written next to the worker's
/// temporary files, so the image needs nothing beyond the official code.
pub const WORKER_SCRIPT: &str = include_str!("../python/gen3d_sam3d_worker.py");

/// The largest frame a worker may send (a splat PLY of SAM 3D Objects is tens of MB).
const MAX_FRAME: usize = 1 << 30;

/// How to start and bound the worker (the manifest's `python` reconstructor entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonSettings {
    /// The interpreter with the official code's environment.
    pub python: PathBuf,
    /// Added to `PYTHONPATH`: where the official `inference` module lives (the
    /// repository's `notebook/` directory).
    pub path: Option<PathBuf>,
    /// The name of that module (`inference`).
    pub module: String,
    /// The pipeline configuration (`checkpoints/hf/pipeline.yaml`), absolute.
    pub config: PathBuf,
    pub startup: Duration,
    pub request: Duration,
    pub max_in_flight: usize,
}

/// A running worker.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    frames: Receiver<Result<Vec<u8>, String>>,
    model: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The supervisor: a pool of at most `max_in_flight` workers, started on demand.
pub struct PythonReconstructor {
    settings: PythonSettings,
    script: PathBuf,
    /// Idle slots: `None` is a worker not (or no longer) running.
    slots: Mutex<Vec<Option<Worker>>>,
    freed: Condvar,
    /// What `/ping` shows: starting, ready, or why the last start or request failed.
    state: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl PythonReconstructor {
    /// Writes the adapter, then starts the first worker in the background (the model may
    /// take minutes to load; `/ping` answers meanwhile and says `starting`).
    pub fn start(settings: PythonSettings) -> Result<Arc<Self>, ModelError> {
        if settings.max_in_flight == 0 {
            return Err(ModelError::Manifest("reconstructor.max_in_flight must be at least 1".into()));
        }
        let dir = tempfile::tempdir().map_err(|e| ModelError::Load(format!("a directory for the worker script: {e}")))?;
        let script = dir.path().join("gen3d_sam3d_worker.py");
        std::fs::write(&script, WORKER_SCRIPT).map_err(|e| ModelError::Load(format!("writing {}: {e}", script.display())))?;
        let me = Arc::new(Self {
            slots: Mutex::new((0..settings.max_in_flight).map(|_| None).collect()),
            freed: Condvar::new(),
            state: Arc::new(Mutex::new("starting".into())),
            settings,
            script,
            _dir: dir,
        });
        let first = me.clone();
        std::thread::spawn(move || {
            let slot = first.take_slot();
            let started = first.ensure_started(slot);
            first.put_slot(started.ok());
        });
        Ok(me)
    }

    fn set_state(&self, state: impl Into<String>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state.into();
    }

    fn take_slot(&self) -> Option<Worker> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(slot) = slots.pop() {
                return slot;
            }
            slots = self.freed.wait(slots).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn put_slot(&self, worker: Option<Worker>) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).push(worker);
        self.freed.notify_one();
    }

    /// The slot's worker, started (and waited for) if it is not running.
    fn ensure_started(&self, slot: Option<Worker>) -> Result<Worker, ModelError> {
        if let Some(mut w) = slot {
            match w.child.try_wait() {
                Ok(None) => return Ok(w),
                Ok(Some(status)) => tracing::warn!(%status, "the python worker had exited; starting another"),
                Err(e) => tracing::warn!(error = %e, "the python worker's state is unknown; starting another"),
            }
        }
        self.set_state("starting");
        match self.spawn() {
            Ok(w) => {
                self.set_state(format!("ready ({})", w.model));
                Ok(w)
            }
            Err(e) => {
                self.set_state(format!("not running: {e}"));
                Err(e)
            }
        }
    }

    fn spawn(&self) -> Result<Worker, ModelError> {
        let s = &self.settings;
        let mut cmd = Command::new(&s.python);
        cmd.arg("-u").arg(&self.script).arg("--config").arg(&s.config).arg("--module").arg(&s.module);
        if let Some(path) = &s.path {
            let joined = match std::env::var_os("PYTHONPATH") {
                Some(old) if !old.is_empty() => {
                    let mut p = path.as_os_str().to_owned();
                    p.push(":");
                    p.push(old);
                    p
                }
                _ => path.as_os_str().to_owned(),
            };
            cmd.env("PYTHONPATH", joined);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ModelError::Load(format!("cannot start {}: {e}", s.python.display())))?;
        let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(mut stdout), Some(stderr)) = (stdin, stdout, stderr) else {
            return Err(ModelError::Load("the worker's pipes are missing".into()));
        };
        let pid = child.id();
        std::thread::spawn(move || log_stderr(pid, stderr));
        let (tx, frames) = channel();
        std::thread::spawn(move || {
            loop {
                let frame = read_frame(&mut stdout);
                let end = frame.is_err();
                if tx.send(frame).is_err() || end {
                    return;
                }
            }
        });
        let mut worker = Worker { child, stdin, frames, model: String::new() };
        let hello = match worker.frames.recv_timeout(s.startup) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) if !e.contains("failed to fill whole buffer") => {
                return Err(ModelError::Load(format!("the python worker sent a malformed frame while starting: {e}")));
            }
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                return Err(ModelError::Load(format!("the python worker exited while starting ({})", exit_reason(&mut worker.child))));
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(ModelError::Load(format!("the python worker did not start within {} s", s.startup.as_secs())));
            }
        };
        let hello: serde_json::Value =
            serde_json::from_slice(&hello).map_err(|e| ModelError::Load(format!("the python worker's greeting is not JSON: {e}")))?;
        if hello["ready"] != true {
            let error = hello["error"].as_str().unwrap_or("no reason given");
            return Err(ModelError::Load(format!("the python worker could not load the model: {error}")));
        }
        worker.model = hello["model"].as_str().unwrap_or("SAM 3D Objects").to_owned();
        Ok(worker)
    }

    /// One request on a running worker. `Err` with the worker still usable is `Ok(Err)`;
    /// an outer `Err` means the worker must go (timed out, exited, spoke garbage).
    fn ask(&self, w: &mut Worker, photo: &Photo, mask: &Mask, seed: u64) -> Result<Result<Reconstruction, ModelError>, ModelError> {
        let (width, height) = (photo.width(), photo.height());
        let header = serde_json::json!({"op": "reconstruct", "width": width, "height": height, "seed": seed});
        let mask_bytes: Vec<u8> = mask.data().iter().map(|&m| u8::from(m)).collect();
        let sent = write_frame(&mut w.stdin, header.to_string().as_bytes())
            .and_then(|()| write_frame(&mut w.stdin, photo.rgb.as_raw()))
            .and_then(|()| write_frame(&mut w.stdin, &mask_bytes));
        if let Err(e) = sent {
            return Err(ModelError::Run(format!("the python worker stopped reading ({e}; {})", exit_reason(&mut w.child))));
        }
        let reply = self.next_frame(w)?;
        let reply: serde_json::Value =
            serde_json::from_slice(&reply).map_err(|e| ModelError::Run(format!("the python worker's reply is not JSON: {e}")))?;
        if reply["ok"] != true {
            let error = reply["error"].as_str().map(str::to_owned).unwrap_or_else(|| format!("malformed reply {reply}"));
            return Ok(Err(ModelError::Run(format!("SAM 3D Objects failed: {error}"))));
        }
        let ply = self.next_frame(w)?;
        let pose = match pose_of(&reply) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        Ok(SplatCloud::read_ply(&ply).map_err(|e| ModelError::Output(format!("the worker's splat fails the PLY checks: {e}"))).and_then(|cloud| {
            if cloud.splats.is_empty() {
                Err(ModelError::Output("the worker's splat has no points".into()))
            } else {
                Ok(Reconstruction { cloud, pose: Some(pose) })
            }
        }))
    }

    fn next_frame(&self, w: &mut Worker) -> Result<Vec<u8>, ModelError> {
        match w.frames.recv_timeout(self.settings.request) {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) if !e.contains("failed to fill whole buffer") => {
                Err(ModelError::Run(format!("the python worker sent a malformed frame: {e}")))
            }
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                Err(ModelError::Run(format!("the python worker exited mid-request ({})", exit_reason(&mut w.child))))
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = w.child.kill();
                Err(ModelError::Run(format!("the python worker did not answer within {} s; it was stopped", self.settings.request.as_secs())))
            }
        }
    }
}

impl ObjectReconstructor for PythonReconstructor {
    fn describe(&self) -> String {
        format!("python worker: {}", self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn ready(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).starts_with("ready")
    }

    fn reconstruct(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<SplatCloud, ModelError> {
        self.reconstruct_posed(photo, mask, seed).map(|r| r.cloud)
    }

    fn reconstruct_posed(&self, photo: &Photo, mask: &Mask, seed: u64) -> Result<Reconstruction, ModelError> {
        let slot = self.take_slot();
        let mut worker = match self.ensure_started(slot) {
            Ok(w) => w,
            Err(e) => {
                self.put_slot(None);
                return Err(e);
            }
        };
        match self.ask(&mut worker, photo, mask, seed) {
            Ok(answer) => {
                self.put_slot(Some(worker));
                answer
            }
            Err(e) => {
                tracing::warn!(error = %e, "restarting the python worker on the next request");
                self.set_state(format!("restarting after: {e}"));
                drop(worker);
                self.put_slot(None);
                Err(e)
            }
        }
    }
}

/// The pose in a reply: finite numbers, a non-zero rotation, a positive scale.
fn pose_of(reply: &serde_json::Value) -> Result<Pose, ModelError> {
    let numbers = |key: &str, n: usize| -> Result<Vec<f32>, ModelError> {
        let v: Vec<f32> = reply[key].as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect()).unwrap_or_default();
        if v.len() != n || v.iter().any(|x| !x.is_finite()) {
            return Err(ModelError::Output(format!("the worker's pose has a bad {key}: {}", reply[key])));
        }
        Ok(v)
    };
    let rotation = numbers("rotation", 4)?;
    let translation = numbers("translation", 3)?;
    let scale = reply["scale"].as_f64().map(|s| s as f32).filter(|s| s.is_finite() && *s > 0.0);
    let Some(scale) = scale else {
        return Err(ModelError::Output(format!("the worker's pose has a bad scale: {}", reply["scale"])));
    };
    let norm = rotation.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm < 1e-6 {
        return Err(ModelError::Output("the worker's rotation is not a unit quaternion".into()));
    }
    Ok(Pose {
        rotation: [rotation[0] / norm, rotation[1] / norm, rotation[2] / norm, rotation[3] / norm],
        translation: [translation[0], translation[1], translation[2]],
        scale,
    })
}

fn write_frame(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

fn read_frame(r: &mut impl Read) -> Result<Vec<u8>, String> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(|e| e.to_string())?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(format!("a frame of {len} bytes is over the limit"));
    }
    let mut buf = vec![0; len];
    r.read_exact(&mut buf).map_err(|e| e.to_string())?;
    Ok(buf)
}

/// Why a child ended: its exit status, or the signal (SIGKILL usually means the kernel's
/// out-of-memory killer).
fn exit_reason(child: &mut Child) -> String {
    let status = (0..20).find_map(|_| match child.try_wait() {
        Ok(Some(s)) => Some(s),
        _ => {
            std::thread::sleep(Duration::from_millis(50));
            None
        }
    });
    match status {
        None => "still running".into(),
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match s.signal() {
                Some(9) => "killed by signal 9 (SIGKILL; out of memory?)".into(),
                Some(sig) => format!("killed by signal {sig}"),
                None => format!("exit status {}", s.code().unwrap_or(-1)),
            }
        }
    }
}

fn log_stderr(pid: u32, stderr: std::process::ChildStderr) {
    use std::io::BufRead;
    for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
        tracing::info!(target: "gen3d::python_worker", pid, "{line}");
    }
}

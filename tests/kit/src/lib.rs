//! What tests share about their surroundings (a dev-dependency only):
//!
//! - [`runs`] and [`skipping`]: a test that needs a tool (moto, the built web app with
//!   Node.js and Chromium, onnxruntime, a SAM 3 model directory) runs and fails where the
//!   tool is missing, unless `GEN3D_SKIP` (comma-separated: `moto`, `web`, `ort`, `sam3`)
//!   names it; a skipped test says on stderr what did not run. `make test` never skips.
//! - [`moto_url`]: moto server's address (`GEN3D_MOTO_URL`, set by `tests/with-moto.sh`).
//! - [`fixture`], [`fixture_bytes`] and [`fixture_dir`]: the shared photos in `../shared/fixtures/images`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Whether `GEN3D_SKIP` names `tool`.
pub fn skipping(tool: &str) -> bool {
    std::env::var("GEN3D_SKIP").is_ok_and(|v| v.split(',').any(|t| t.trim() == tool))
}

/// Whether a test needing `tool` should run: false only when `GEN3D_SKIP` names it, and
/// then "GEN3D_SKIP=tool: `what` did NOT run" is printed.
pub fn runs(tool: &str, what: &str) -> bool {
    if skipping(tool) {
        eprintln!("GEN3D_SKIP={tool}: {what} did NOT run");
        return false;
    }
    true
}

/// moto server's URL; `None` when `GEN3D_SKIP=moto` (after saying `what` did not run).
/// Without either, the test fails naming both ways out.
pub fn moto_url(what: &str) -> Option<String> {
    match std::env::var("GEN3D_MOTO_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if !runs("moto", what) => None,
        _ => panic!("GEN3D_MOTO_URL is not set: run `make test` (or set GEN3D_SKIP=moto to skip the tests that need moto)"),
    }
}

/// The root of the checkout under test (the directory holding `Cargo.lock`), found at run
/// time from the package cargo runs (`CARGO_MANIFEST_DIR` in a test's, bench's or `cargo
/// run`'s environment). Not `env!`: a shared target directory can hold this crate, or a
/// test binary, compiled in another clone of the repository (cargo keys freshness on paths
/// relative to the workspace), and a path fixed at compile time would point there.
pub fn repo() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    match start.ancestors().find(|dir| dir.join("Cargo.lock").is_file()) {
        Some(root) => root.to_path_buf(),
        None => panic!("no Cargo.lock in {} or above it: run the tests with cargo from the repository", start.display()),
    }
}

/// `../shared/fixtures/images` next to the repository.
pub fn fixture_dir() -> PathBuf {
    repo().join("../shared/fixtures/images")
}

/// `../shared/fixtures/images/{name}` next to the workspace.
pub fn fixture(name: &str) -> PathBuf {
    fixture_dir().join(name)
}

/// The bytes of [`fixture`]`(name)`; a missing fixture fails naming its path.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A log writer that keeps what is written (a `MakeWriter` through a closure cloning it).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixtures_are_where_it_says() {
        assert!(super::fixture("truck.jpg").is_file(), "{}", super::fixture("truck.jpg").display());
        assert_eq!(&super::fixture_bytes("truck.jpg")[..2], [0xff, 0xd8], "a JPEG");
    }

    /// The checkout cargo runs in, even when this test binary was compiled in another clone
    /// sharing the target directory (then `env!("CARGO_MANIFEST_DIR")` names that clone).
    #[test]
    fn the_repository_is_the_one_cargo_runs_in() {
        let here = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from).expect("cargo sets CARGO_MANIFEST_DIR");
        assert_eq!(Some(super::repo().as_path()), here.ancestors().nth(2), "tests/kit is two levels below the root");
        assert!(super::repo().join("Cargo.lock").is_file());
    }
}

//! The web app's browser tests (`web/tests/e2e.mjs`: Debian's Chromium, headless,
//! through playwright-core) against this crate's `gen3d serve`.
//!
//! Needs Node.js, `web/node_modules`, a built `web/dist` and `/usr/bin/chromium`:
//! `make test` provides them. Without them the test fails, unless `GEN3D_SKIP=web` asks
//! to skip it (it then says so and checks nothing). Screenshots of every step land in
//! `web/test-results/`.

use std::path::Path;
use std::process::Command;

#[test]
fn browser_journeys_pass_in_headless_chromium() {
    if std::env::var("GEN3D_SKIP").is_ok_and(|v| v.split(',').any(|t| t.trim() == "web")) {
        eprintln!("GEN3D_SKIP=web: the browser tests did NOT run");
        return;
    }
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    assert!(web.join("dist/index.html").is_file(), "web/dist is not built: run `make web` (or set GEN3D_SKIP=web)");
    let out = web.join("test-results");
    let status = Command::new("node")
        .current_dir(&web)
        .arg("tests/e2e.mjs")
        .arg("--gen3d")
        .arg(env!("CARGO_BIN_EXE_gen3d"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("node runs (install Node.js)");
    assert!(status.success(), "browser tests failed: see the output above and the screenshots in {}", out.display());
}

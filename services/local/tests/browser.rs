//! The web app's browser tests (`web/tests/e2e.mjs`: Debian's Chromium, headless,
//! through playwright-core) against this crate's `gen3d serve`.
//!
//! Needs Node.js, `web/node_modules`, a built `web/dist` and `/usr/bin/chromium`:
//! `make test` provides them. Without them the test fails, unless `GEN3D_SKIP=web` asks
//! to skip it (it then says so and checks nothing). Screenshots of every step land in
//! `web/test-results/`. Every screenshot docs/user-guide.md shows (`img/web-NAME.jpg`) must
//! be one this run took (`NAME.jpg`); `GEN3D_UPDATE_DOCS=1` (`make docs-screenshots`)
//! copies them into docs/img.

use std::process::Command;

#[test]
fn browser_journeys_pass_in_headless_chromium() {
    if !gen3d_testkit::runs("web", "the browser tests") {
        return;
    }
    let web = gen3d_testkit::repo().join("web");
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

    let repo = web.join("..");
    let guide = std::fs::read_to_string(repo.join("docs/user-guide.md")).expect("docs/user-guide.md");
    let shown: Vec<&str> = guide.split("(img/web-").skip(1).filter_map(|rest| rest.split_once(".jpg)").map(|(name, _)| name)).collect();
    assert!(shown.len() >= 8, "docs/user-guide.md shows only {} screenshots", shown.len());
    for name in shown {
        let taken = out.join(format!("{name}.jpg"));
        assert!(taken.is_file(), "docs/user-guide.md shows img/web-{name}.jpg, which the browser tests no longer take");
        if std::env::var_os("GEN3D_UPDATE_DOCS").is_some() {
            std::fs::copy(&taken, repo.join(format!("docs/img/web-{name}.jpg"))).expect("copy the screenshot into docs/img");
        }
    }
}

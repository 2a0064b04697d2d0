//! `gen3d-inference check DIR`: the models' state as `serve` would load them, and a
//! failing exit status when one is not ready (run before deploying a model artefact).

use std::process::Command;

fn check(dir: &std::path::Path) -> (bool, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gen3d-inference")).arg("check").arg(dir).output().unwrap();
    let status = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out.status.success(), status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn check_reports_each_model_and_fails_when_one_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, status, _) = check(dir.path());
    assert!(ok);
    assert_eq!(status["encoder"]["backend"], "builtin");

    std::fs::write(dir.path().join("manifest.json"), r#"{"reconstructor":{"backend":"torch","file":"sam3d_objects.pt"}}"#).unwrap();
    let (ok, status, stderr) = check(dir.path());
    assert!(!ok);
    assert_eq!(status["encoder"]["ready"], true, "{status}");
    assert_eq!(status["reconstructor"]["ready"], false, "{status}");
    assert!(status["reconstructor"]["error"].as_str().unwrap().contains("sam3d_objects.pt"), "{status}");
    assert!(stderr.contains("a model is not ready"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_gen3d-inference")).arg("dance").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: gen3d-inference serve | gen3d-inference check [MODEL_DIR]"));
}

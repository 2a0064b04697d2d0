//! The CLI names the file and the problem, and exits non-zero, on bad input.

use std::process::Command;

fn gen3d(args: &[&str]) -> (bool, String, String) {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gen3d")).arg("--data").arg(data.path()).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn run_names_the_bad_photo_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let not_image = dir.path().join("notes.jpg");
    std::fs::write(&not_image, "hello").unwrap();
    let out = dir.path().join("out");
    let (ok, _, err) = gen3d(&["run", not_image.to_str().unwrap(), "--point", "1,1", "--out", out.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("notes.jpg") && err.contains("not a supported image"), "{err}");

    let missing = dir.path().join("missing.jpg");
    let (ok, _, err) = gen3d(&["run", missing.to_str().unwrap(), "--point", "1,1", "--out", out.to_str().unwrap()]);
    assert!(!ok && err.contains("missing.jpg"), "{err}");

    let truck_path = gen3d_testkit::fixture("truck.jpg");
    let truck = truck_path.to_str().unwrap();
    let (ok, _, err) = gen3d(&["run", truck, "--point", "5000,1", "--out", out.to_str().unwrap()]);
    assert!(!ok && err.contains("truck.jpg") && err.contains("outside the 1800x1200 image"), "{err}");
    let (ok, _, err) = gen3d(&["run", truck, "--point", "five,1", "--out", out.to_str().unwrap()]);
    assert!(!ok && err.contains("invalid --point"), "{err}");

    // An output directory that cannot be written (even by root: /proc) fails before the
    // pipeline runs: no stage printed, no mail sent.
    let (ok, stdout, err) = gen3d(&["run", truck, "--point", "500,375", "--out", "/proc"]);
    assert!(!ok && err.contains("cannot write to output directory /proc"), "{err}");
    assert!(!stdout.contains("uploaded") && !stdout.contains("email"), "nothing ran: {stdout}");
}

#[test]
fn mesh_rejects_bad_plys_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("junk.ply", b"not a ply at all", "no end_header"),
        (
            "empty.ply",
            b"ply\nformat binary_little_endian 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\nend_header\n",
            "zero points",
        ),
        (
            "cut.ply",
            b"ply\nformat binary_little_endian 1.0\nelement vertex 100\nproperty float x\nproperty float y\nproperty float z\nend_header\n\0\0\0\0",
            "truncated",
        ),
    ];
    for (name, bytes, problem) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join("m.glb");
        let (ok, _, err) = gen3d(&["mesh", path.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(!ok && err.contains(name) && err.contains(problem), "{name}: {err}");
        assert!(!out.exists(), "nothing written for {name}");
    }
}

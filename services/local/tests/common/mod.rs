//! Starting `gen3d serve` as a child process for the tests that need its socket.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `gen3d --data DATA serve --port 0 EXTRA…` in `data` (so no built web app is
/// found) and returns it with its base URL (`http://host:port`) from the listening line.
pub fn serve(data: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gen3d"))
        .args(["--data", data.to_str().unwrap(), "serve", "--port", "0"])
        .args(extra)
        .current_dir(data)
        .env_remove("GEN3D_WEB_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gen3d starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).expect("listening line").to_owned();
    (child, base)
}

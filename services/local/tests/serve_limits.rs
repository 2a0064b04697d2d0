//! `gen3d serve` on its socket: stalled clients are cut off, and unknown API routes answer
//! with the API's JSON error whether or not the web app is built.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `gen3d serve` on a free port, without a built web app (run where there is no
/// `web/dist`); returns the server and its `host:port`.
fn start(data: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gen3d"))
        .args(["--data", data.to_str().unwrap(), "serve", "--port", "0", "--header-timeout-secs", "1"])
        .current_dir(data)
        .env_remove("GEN3D_WEB_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gen3d starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("listening line");
    (Server(child), url.trim_start_matches("http://").to_owned())
}

#[test]
fn a_connection_that_never_finishes_its_headers_is_closed() {
    let data = tempfile::tempdir().unwrap();
    let (_server, addr) = start(data.path());
    let mut stalled = TcpStream::connect(&addr).unwrap();
    stalled.write_all(b"GET /healthz HTTP/1.1\r\nHost: gen3d\r\nX-Slow: ").unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = stalled.read_to_end(&mut rest);
    assert!(closed.is_ok(), "the server closes the connection (not our read timeout): {closed:?}");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(10), "closed after {waited:?} (header timeout 1 s)");

    // A well-behaved client on the same server is served.
    let mut ok = TcpStream::connect(&addr).unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: gen3d\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    ok.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200") && reply.ends_with("ok"), "{reply}");
}

#[test]
fn unknown_api_routes_answer_json_without_the_web_app() {
    let data = tempfile::tempdir().unwrap();
    let (_server, addr) = start(data.path());
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /v1/no-such-thing HTTP/1.1\r\nHost: gen3d\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    assert!(reply.to_ascii_lowercase().contains("content-type: application/json"), "{reply}");
    assert!(reply.contains(r#""code":"not_found""#), "{reply}");
}

//! `gen3d serve` on its socket: stalled clients are cut off, and unknown API routes answer
//! with the API's JSON error whether or not the web app is built.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `gen3d serve` without a built web app and a 1 s header timeout; returns the
/// server and its `host:port`.
fn start(data: &std::path::Path) -> (Server, String) {
    let (child, base) = common::serve(data, &["--header-timeout-secs", "1"]);
    (Server(child), base.trim_start_matches("http://").to_owned())
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

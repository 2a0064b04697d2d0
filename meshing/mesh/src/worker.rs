//! The mesh task as one call, and the wire format that runs it in a separate process.
//!
//! Open3D can crash (a segfault in Poisson on some clouds) or run for minutes; inside a
//! server that would end every user's work or hold the process-wide Open3D lock. So the
//! servers run [`mesh_task`] in a child process (`<their binary> __mesh-worker`, see
//! `gen3d_inference::Mesher`), which reads one [`encode_request`] on stdin and writes one
//! reply on stdout:
//!
//! - request: `u32` little-endian length, that many bytes of JSON `{"options": …}`, then
//!   the splat PLY to the end;
//! - reply: `u32` length, JSON `{"stats": …, "files": [[format, bytes], …]}` or
//!   `{"refused": reason}`, then the files' bytes in that order.

use std::io::{Read, Write};

use gen3d_domain::{MeshFormat, MeshOptions, MeshStats};
use gen3d_media::SplatCloud;
use serde_json::{Value, json};

/// The argument that makes a Gen3D server binary act as a meshing worker.
pub const WORKER_ARG: &str = "__mesh-worker";

/// Every mesh format of one mesh, with its statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshFiles {
    pub files: Vec<(MeshFormat, Vec<u8>)>,
    pub stats: MeshStats,
}

/// The mesh task in this process: parse the splat PLY, mesh it, write every format.
/// `Err` is a refusal of this input, with the reason.
pub fn mesh_task(ply: &[u8], options: &MeshOptions) -> Result<MeshFiles, String> {
    let cloud = SplatCloud::read_ply(ply).map_err(|e| format!("splat file: {e}"))?;
    let (mesh, stats) = crate::mesh_splats(&cloud, options).map_err(|e| e.to_string())?;
    let files = MeshFormat::ALL.into_iter().map(|f| (f, crate::write_mesh(&mesh, f))).collect();
    Ok(MeshFiles { files, stats })
}

fn frame(header: &Value, tail: &[&[u8]]) -> Vec<u8> {
    let head = serde_json::to_vec(header).expect("json serialises");
    let mut out = Vec::with_capacity(4 + head.len() + tail.iter().map(|t| t.len()).sum::<usize>());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    for t in tail {
        out.extend_from_slice(t);
    }
    out
}

fn unframe(bytes: &[u8]) -> Result<(Value, &[u8]), String> {
    let len = bytes.get(..4).ok_or("shorter than its length prefix")?;
    let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
    let head = bytes.get(4..4 + len).ok_or("shorter than its header")?;
    let header = serde_json::from_slice(head).map_err(|e| format!("header is not JSON: {e}"))?;
    Ok((header, &bytes[4 + len..]))
}

pub fn encode_request(ply: &[u8], options: &MeshOptions) -> Vec<u8> {
    frame(&json!({ "options": options }), &[ply])
}

/// The worker's side: one request from `input`, one reply to `output`.
pub fn serve_one(mut input: impl Read, mut output: impl Write) -> std::io::Result<()> {
    let mut request = Vec::new();
    input.read_to_end(&mut request)?;
    let reply = match unframe(&request).and_then(|(header, ply)| {
        let options: MeshOptions = serde_json::from_value(header["options"].clone()).map_err(|e| format!("options: {e}"))?;
        Ok((options, ply))
    }) {
        Err(e) => frame(&json!({ "refused": format!("malformed meshing request: {e}") }), &[]),
        Ok((options, ply)) => match mesh_task(ply, &options) {
            Err(reason) => frame(&json!({ "refused": reason }), &[]),
            Ok(m) => {
                let sizes: Vec<(MeshFormat, usize)> = m.files.iter().map(|(f, b)| (*f, b.len())).collect();
                let bodies: Vec<&[u8]> = m.files.iter().map(|(_, b)| b.as_slice()).collect();
                frame(&json!({ "stats": m.stats, "files": sizes }), &bodies)
            }
        },
    };
    output.write_all(&reply)?;
    output.flush()
}

/// A worker's reply: `Ok(Ok(files))`, `Ok(Err(refusal))`, or `Err` when the reply is not
/// one (a broken or foreign worker).
pub fn decode_reply(bytes: &[u8]) -> Result<Result<MeshFiles, String>, String> {
    let (header, mut rest) = unframe(bytes)?;
    if let Some(reason) = header["refused"].as_str() {
        return Ok(Err(reason.to_owned()));
    }
    let stats: MeshStats = serde_json::from_value(header["stats"].clone()).map_err(|e| format!("stats: {e}"))?;
    let sizes: Vec<(MeshFormat, usize)> = serde_json::from_value(header["files"].clone()).map_err(|e| format!("files: {e}"))?;
    let mut files = Vec::with_capacity(sizes.len());
    for (format, len) in sizes {
        let body = rest.get(..len).ok_or_else(|| format!("the {} file is cut short", format.extension()))?;
        files.push((format, body.to_vec()));
        rest = &rest[len..];
    }
    if !rest.is_empty() {
        return Err(format!("{} bytes after the last file", rest.len()));
    }
    Ok(Ok(MeshFiles { files, stats }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gen3d_domain::{MeshFormat, MeshMethod};

    #[test]
    fn a_refusal_and_a_malformed_request_round_trip() {
        let options = MeshOptions::new(MeshMethod::Poisson, 5_000, MeshFormat::Glb).unwrap();
        let mut out = Vec::new();
        serve_one(&encode_request(b"not a ply", &options)[..], &mut out).unwrap();
        let refused = decode_reply(&out).unwrap().unwrap_err();
        assert!(refused.starts_with("splat file:"), "{refused}");

        let mut out = Vec::new();
        serve_one(&b"\x02\x00\x00\x00{"[..], &mut out).unwrap();
        assert!(decode_reply(&out).unwrap().unwrap_err().starts_with("malformed meshing request"));
    }

    #[test]
    fn broken_replies_are_named() {
        assert!(decode_reply(b"").unwrap_err().contains("length prefix"));
        assert!(decode_reply(b"\x10\x00\x00\x00{}").unwrap_err().contains("header"));
        let header = serde_json::to_vec(&json!({"stats": null, "files": []})).unwrap();
        let mut bytes = (header.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&header);
        assert!(decode_reply(&bytes).unwrap_err().starts_with("stats"));
    }
}

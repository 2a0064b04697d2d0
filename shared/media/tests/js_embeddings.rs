//! The browser reads the embeddings file the server writes: `web/src/embeddings.js`'s
//! `parseEmbeddings`, run in Node.js, on files `Embeddings::encode` (version 2, byte planes
//! and zlib) and `encode_raw` (version 1) wrote, gives exactly the values
//! `Embeddings::decode` gives, and refuses a cut-off file as Rust does. Needs `node`
//! (`make test` has it): fails without it, unless `GEN3D_SKIP=web` asks to skip.

use std::path::Path;
use std::process::Command;

use gen3d_media::{EMBED_SHAPE, Embeddings, HIGH_RES_0_SHAPE, HIGH_RES_1_SHAPE};

fn values(shape: [usize; 4], seed: u32) -> Vec<f32> {
    let n: usize = shape.iter().product();
    (0..n).map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 20_001) as f32 / 1000.0 - 10.0).collect()
}

/// Runs `parseEmbeddings` on each file; writes `{file}.{tensor}.f32`, or `{file}.error`.
fn parse_in_node(files: &[&Path]) {
    let repo = gen3d_testkit::repo();
    let module = repo.join("web/src/embeddings.js").canonicalize().expect("web/src/embeddings.js");
    let script = format!(
        "import {{ readFileSync, writeFileSync }} from 'node:fs';\n\
         import {{ parseEmbeddings }} from 'file://{}';\n\
         for (const f of process.argv.slice(1)) {{\n\
           const b = readFileSync(f);\n\
           try {{\n\
             const t = await parseEmbeddings(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));\n\
             for (const [name, {{ data }}] of Object.entries(t)) writeFileSync(`${{f}}.${{name}}.f32`, Buffer.from(data.buffer));\n\
           }} catch (e) {{ writeFileSync(`${{f}}.error`, String(e.message)); }}\n\
         }}\n",
        module.display()
    );
    let run = Command::new("node")
        .args(["--input-type=module", "-e", &script, "--"])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("node could not run ({e}): install Node.js 20+ (`make web-deps`), or set GEN3D_SKIP=web"));
    assert!(run.status.success(), "node failed: {}", String::from_utf8_lossy(&run.stderr));
}

fn floats(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn the_browser_reads_what_the_server_writes() {
    if !gen3d_testkit::runs("web", "checking embeddings.js against the server's files") {
        return;
    }
    let e = Embeddings::new(values(EMBED_SHAPE, 1), values(HIGH_RES_0_SHAPE, 2), values(HIGH_RES_1_SHAPE, 3)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let v2 = dir.path().join("v2.g3e");
    let v1 = dir.path().join("v1.g3e");
    let cut = dir.path().join("cut.g3e");
    let encoded = e.encode();
    std::fs::write(&v2, &encoded).unwrap();
    std::fs::write(&v1, e.encode_raw()).unwrap();
    std::fs::write(&cut, &encoded[..encoded.len() - 1000]).unwrap();
    parse_in_node(&[&v2, &v1, &cut]);
    for (file, bytes) in [(&v2, encoded.clone()), (&v1, e.encode_raw())] {
        let rust = Embeddings::decode(&bytes).unwrap();
        for (name, want) in
            [("image_embed", rust.image_embed()), ("high_res_feats_0", rust.high_res_feats_0()), ("high_res_feats_1", rust.high_res_feats_1())]
        {
            let got = floats(&dir.path().join(format!("{}.{name}.f32", file.file_name().unwrap().to_string_lossy())));
            assert_eq!(got.len(), want.len(), "{}: {name}", file.display());
            let differ = got.iter().zip(want).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert_eq!(differ, 0, "{}: {name}: {differ} values differ from Rust's", file.display());
        }
    }
    assert!(Embeddings::decode(&encoded[..encoded.len() - 1000]).is_err(), "Rust refuses the cut-off file");
    let error = std::fs::read_to_string(dir.path().join("cut.g3e.error")).expect("the browser refuses the cut-off file too");
    assert!(error.contains("truncated") || error.contains("incorrect") || error.contains("unexpected end"), "{error}");
}

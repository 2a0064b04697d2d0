//! The browser and the server make the same mask from the same logits (ARCHITECTURE.md's
//! invariant): `web/src/mask.js`'s `upsample`, run in Node.js, against
//! `DecoderOutput::mask`, on seeded logits with many boundaries, at three sizes. The two
//! may differ only where the interpolated logit is within float rounding of the threshold
//! (JavaScript interpolates in f64, Rust in f32). Needs `node` (`make test` has it): the
//! test fails without it, unless `GEN3D_SKIP=web` asks to skip.

use std::path::Path;
use std::process::Command;

use gen3d_models::decoder::DecoderOutput;

const N: usize = 288;

/// Seeded logits: a sum of waves (so boundaries cross the plane at every angle) plus noise.
fn logits() -> Vec<f32> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut out = Vec::with_capacity(3 * N * N);
    for c in 0..3 {
        for y in 0..N {
            for x in 0..N {
                let (fx, fy) = (x as f32 / N as f32, y as f32 / N as f32);
                let wave = (fx * (7.0 + c as f32) * 3.1).sin() + (fy * 5.3 + fx * 2.1).cos() - 0.3 * c as f32;
                out.push(4.0 * wave + noise());
            }
        }
    }
    out
}

/// The interpolated logit at (x, y) in f64, as JavaScript computes it.
fn value(plane: &[f32], x: u32, y: u32, w: u32, h: u32) -> f64 {
    let n = N as f64;
    let fx = ((f64::from(x) + 0.5) * n / f64::from(w) - 0.5).clamp(0.0, n - 1.0);
    let fy = ((f64::from(y) + 0.5) * n / f64::from(h) - 0.5).clamp(0.0, n - 1.0);
    let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(N - 1), (y0 + 1).min(N - 1));
    let (wx, wy) = (fx - x0 as f64, fy - y0 as f64);
    let at = |yy: usize, xx: usize| f64::from(plane[yy * N + xx]);
    let top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx;
    let bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx;
    top * (1.0 - wy) + bottom * wy
}

#[test]
fn js_upsampling_equals_the_servers() {
    if !gen3d_testkit::runs("web", "comparing the JS upsampling with Rust's") {
        return;
    }
    let repo = gen3d_testkit::repo();
    let mask_js = repo.join("web/src/mask.js").canonicalize().expect("web/src/mask.js");
    let dir = tempfile::tempdir().unwrap();
    let masks = logits();
    let bytes: Vec<u8> = masks.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.path().join("logits.f32"), bytes).unwrap();
    let out = DecoderOutput { masks: masks.clone(), iou_predictions: [0.9, 0.5, 0.1] };
    let sizes = [(800u32, 534u32, 0usize), (1800, 1200, 1), (37, 1000, 2)];
    let script = format!(
        "import {{ readFileSync, writeFileSync }} from 'node:fs';\n\
         import {{ upsample }} from '{}';\n\
         const b = readFileSync(process.argv[1]);\n\
         const masks = new Float32Array(b.buffer, b.byteOffset, b.length / 4);\n\
         for (const [w, h, c] of JSON.parse(process.argv[2])) writeFileSync(`${{process.argv[3]}}/${{w}}x${{h}}.bin`, upsample(masks, c, w, h));\n",
        url(&mask_js)
    );
    let sizes_json = serde_json::to_string(&sizes.iter().map(|&(w, h, c)| [w as usize, h as usize, c]).collect::<Vec<_>>()).unwrap();
    let run = Command::new("node")
        .args(["--input-type=module", "-e", &script, "--"])
        .arg(dir.path().join("logits.f32"))
        .arg(&sizes_json)
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("node could not run ({e}): install Node.js 20+ (`make web-deps`), or set GEN3D_SKIP=web"));
    assert!(run.status.success(), "node failed: {}", String::from_utf8_lossy(&run.stderr));
    for (w, h, c) in sizes {
        let js = std::fs::read(dir.path().join(format!("{w}x{h}.bin"))).unwrap();
        let rust = out.mask(c, w, h).unwrap();
        assert_eq!(js.len(), rust.data().len(), "{w}x{h}");
        let plane = &masks[c * N * N..(c + 1) * N * N];
        let mut differ = 0;
        for (i, (&j, &r)) in js.iter().zip(rust.data()).enumerate() {
            if (j == 1) != r {
                let (x, y) = ((i % w as usize) as u32, (i / w as usize) as u32);
                let v = value(plane, x, y, w, h);
                assert!(v.abs() < 1e-5, "{w}x{h} candidate {c}: pixel ({x}, {y}) differs with the logit at {v}, not a rounding tie");
                differ += 1;
            }
        }
        let on = rust.data().iter().filter(|&&b| b).count();
        eprintln!("{w}x{h}: {on} of {} pixels on, {differ} differ (each a rounding tie at the threshold)", rust.data().len());
        assert!(on > rust.data().len() / 10 && on < rust.data().len() * 9 / 10, "{w}x{h}: the logits make a real boundary");
    }
}

/// A `file://` URL for an absolute path.
fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

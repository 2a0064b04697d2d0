//! The built-in click decoder as an ONNX graph with the SAM 3 tracker decoder contract
//! (`../shared/contracts.md` section 2). No weights: it segments by *geodesic feature
//! affinity* on the encoder's embeddings.
//!
//! 1. The embedding at each prompt point (a 1-cell Gaussian on the 72x72 grid) is its
//!    feature; a box adds its centre as an include seed and gates growth to the box.
//! 2. Affinity of every cell to the include points (and the exclude points) is
//!    `exp(-|f - f_point|^2)`.
//! 3. A region grows from the include points through cells whose affinity passes a
//!    threshold, and stops at cells more like an exclude point (max-product paths:
//!    repeated 3x3 max-pooling times the passability). Three thresholds give the three
//!    candidates (tight, medium, loose), like SAM's multimask output.
//! 4. The region is upsampled to 288x288 logits; a previous mask biases it when given.

use crate::onnx::graph::{Attr, Dim, Graph, Value};

pub const GRID: i64 = 72;
pub const LOW_RES: i64 = 288;
pub const FRAME: f32 = 1008.0;
const OPSET: i64 = 17;

/// Affinity thresholds of the three candidate masks (tight, medium, loose).
const THRESHOLDS: [f32; 3] = [0.45, 0.28, 0.14];
/// Sharpness of the passability sigmoids.
const ALPHA: f32 = 14.0;
/// Growth steps (each extends the region by one cell); the grid is 72 cells wide.
const STEPS: usize = 56;

fn grid_coords() -> (Vec<f32>, Vec<f32>) {
    let p = (GRID * GRID) as usize;
    let gx = (0..p).map(|j| (j as i64 % GRID) as f32).collect();
    let gy = (0..p).map(|j| (j as i64 / GRID) as f32).collect();
    (gx, gy)
}

/// Builds the decoder and returns the ONNX model bytes. Each step below adds its nodes in
/// turn (value names are numbered in creation order, so the bytes depend on that order).
pub fn decoder_onnx() -> Vec<u8> {
    let mut g = Graph::default();
    let io = Inputs::declare(&mut g);
    let cells = Cells::new(&mut g, &io.image_embed);
    let prompt = Prompt::new(&mut g, &io);
    let seeds = Seeds::new(&mut g, &prompt);
    let affinity = Affinity::new(&mut g, &cells, &seeds);
    let gate = box_gate(&mut g, &prompt, &seeds.one);
    let pass = passability(&mut g, &affinity, &gate, &seeds.one);
    let region = grow(&mut g, &affinity.seed, &pass);
    let (masks, iou) = logits(&mut g, &region, &io);

    g.output(&masks, "masks", &[io.labels_dim.clone(), Dim::Fixed(3), Dim::Fixed(LOW_RES), Dim::Fixed(LOW_RES)]);
    g.output(&iou, "iou_predictions", &[io.labels_dim, Dim::Fixed(3)]);
    g.to_model(
        "gen3d_builtin_decoder",
        OPSET,
        "Gen3D built-in click decoder (weight-free, SAM 3 tracker decoder contract). See container/models/src/decoder_graph.rs.",
    )
}

/// The decoder contract's inputs (the two high-resolution feature maps are declared and
/// unused: the built-in decoder reads only the 72x72 embedding).
struct Inputs {
    labels_dim: Dim,
    image_embed: Value,
    coords: Value,
    labels: Value,
    mask_input: Value,
    has_mask: Value,
}

impl Inputs {
    fn declare(g: &mut Graph) -> Self {
        let l = Dim::Named("num_labels");
        let n = Dim::Named("num_points");
        let image_embed = g.input("image_embed", &[Dim::Fixed(1), Dim::Fixed(256), Dim::Fixed(GRID), Dim::Fixed(GRID)]);
        g.input("high_res_feats_0", &[Dim::Fixed(1), Dim::Fixed(32), Dim::Fixed(LOW_RES), Dim::Fixed(LOW_RES)]);
        g.input("high_res_feats_1", &[Dim::Fixed(1), Dim::Fixed(64), Dim::Fixed(144), Dim::Fixed(144)]);
        let coords = g.input("point_coords", &[l.clone(), n.clone(), Dim::Fixed(2)]);
        let labels = g.input("point_labels", &[l.clone(), n]);
        let mask_input = g.input("mask_input", &[l.clone(), Dim::Fixed(1), Dim::Fixed(LOW_RES), Dim::Fixed(LOW_RES)]);
        let has_mask = g.input("has_mask_input", std::slice::from_ref(&l));
        Self { labels_dim: l, image_embed, coords, labels, mask_input, has_mask }
    }
}

/// Cell features: `c` [256,P], `ct` [P,256] and their squared norms `cn` [P].
struct Cells {
    c: Value,
    ct: Value,
    cn: Value,
}

impl Cells {
    fn new(g: &mut Graph, image_embed: &str) -> Self {
        let c = g.reshape(image_embed, &[256, GRID * GRID]);
        let ct = g.op("Transpose", &[&c], vec![("perm", Attr::Ints(vec![1, 0]))]);
        let ct2 = g.square(&ct);
        let cn = g.reduce_sum(&ct2, &[1], false);
        Self { c, ct, cn }
    }
}

/// The prompt on the grid: point coordinates [L,N] (cell centres at integers), their
/// include and exclude masks [L,N], the box's corners and presence [L,1], and the grid's
/// own cell coordinates `gx`, `gy` [P].
struct Prompt {
    qx: Value,
    qy: Value,
    inc: Value,
    exc: Value,
    gx: Value,
    gy: Value,
    has_box: Value,
    x0: Value,
    y0: Value,
    x1: Value,
    y1: Value,
}

impl Prompt {
    fn new(g: &mut Graph, io: &Inputs) -> Self {
        let q = g.mul_s(&io.coords, GRID as f32 / FRAME);
        let q = g.add_s(&q, -0.5);
        let qx = g.gather(&q, 0, 2);
        let qy = g.gather(&q, 1, 2);
        let inc = g.equals_s(&io.labels, 1.0);
        let exc = g.equals_s(&io.labels, 0.0);
        let b0 = g.equals_s(&io.labels, 2.0);
        let b1 = g.equals_s(&io.labels, 3.0);

        let (gx_data, gy_data) = grid_coords();
        let gx = g.f32s(gx_data, &[GRID * GRID]);
        let gy = g.f32s(gy_data, &[GRID * GRID]);

        let has_box = g.reduce_max(&b0, &[1], true);
        let corner = |g: &mut Graph, v: &str, m: &str| {
            let t = g.mul(v, m);
            g.reduce_sum(&t, &[1], true)
        };
        let x0 = corner(g, &qx, &b0);
        let y0 = corner(g, &qy, &b0);
        let x1 = corner(g, &qx, &b1);
        let y1 = corner(g, &qy, &b1);
        Self { qx, qy, inc, exc, gx, gy, has_box, x0, y0, x1, y1 }
    }
}

/// Gaussian bumps around the point (`px`, `py`) on the grid, `exp(-d² · inv_two_sigma2)`.
fn bump(g: &mut Graph, p: &Prompt, px: &str, py: &str, inv_two_sigma2: &str) -> Value {
    let dx = g.sub(px, &p.gx);
    let dy = g.sub(py, &p.gy);
    let dx2 = g.square(&dx);
    let dy2 = g.square(&dy);
    let d2 = g.add(&dx2, &dy2);
    let e = g.mul(&d2, inv_two_sigma2);
    let e = g.unary("Neg", &e);
    g.unary("Exp", &e)
}

/// Step 1: a bump per point [L,N,P] plus the box centre as an extra include seed whose
/// spread scales with the box [L,1,P], concatenated to `bumps` [L,N+1,P], with their
/// include and exclude masks [L,N+1,1]. `one` is the shared constant 1.
struct Seeds {
    bumps: Value,
    inc3: Value,
    exc3: Value,
    one: Value,
}

impl Seeds {
    fn new(g: &mut Graph, p: &Prompt) -> Self {
        let qx3 = g.unsqueeze(&p.qx, &[2]);
        let qy3 = g.unsqueeze(&p.qy, &[2]);
        let half = g.scalar(0.5);
        let b_points = bump(g, p, &qx3, &qy3, &half);

        let sx = g.add(&p.x0, &p.x1);
        let cx = g.mul_s(&sx, 0.5);
        let sy = g.add(&p.y0, &p.y1);
        let cy = g.mul_s(&sy, 0.5);
        let bw = g.sub(&p.x1, &p.x0);
        let bh = g.sub(&p.y1, &p.y0);
        let bmin = g.op("Min", &[&bw, &bh], vec![]);
        let sigma = g.mul_s(&bmin, 0.15);
        let one = g.scalar(1.0);
        let sigma = g.op("Max", &[&sigma, &one], vec![]);
        let s2 = g.square(&sigma);
        let two_s2 = g.mul_s(&s2, 2.0);
        let inv_two_s2 = g.div(&one, &two_s2);
        let inv_two_s2 = g.unsqueeze(&inv_two_s2, &[2]);
        let cx3 = g.unsqueeze(&cx, &[2]);
        let cy3 = g.unsqueeze(&cy, &[2]);
        let b_centre = bump(g, p, &cx3, &cy3, &inv_two_s2);

        let bumps = g.op("Concat", &[&b_points, &b_centre], vec![("axis", Attr::Int(1))]);
        let inc_all = g.op("Concat", &[&p.inc, &p.has_box], vec![("axis", Attr::Int(1))]);
        let zero_col = g.mul_s(&p.has_box, 0.0);
        let exc_all = g.op("Concat", &[&p.exc, &zero_col], vec![("axis", Attr::Int(1))]);
        let inc3 = g.unsqueeze(&inc_all, &[2]);
        let exc3 = g.unsqueeze(&exc_all, &[2]);
        Self { bumps, inc3, exc3, one }
    }
}

/// Step 2, per cell [L,P]: the best affinity `exp(-|f - f_point|²)` to an include point
/// (`s_inc`) and to an exclude point (`s_exc`), the include seeds' bumps (`seed`) and the
/// exclude points' bumps (`ex_bump`).
struct Affinity {
    s_inc: Value,
    s_exc: Value,
    seed: Value,
    ex_bump: Value,
}

impl Affinity {
    fn new(g: &mut Graph, cells: &Cells, seeds: &Seeds) -> Self {
        // Point features [L,N+1,256] (bump-weighted means) and their squared distance to
        // every cell [L,N+1,P].
        let wsum = g.reduce_sum(&seeds.bumps, &[2], true);
        let wsum = g.add_s(&wsum, 1e-6);
        let wn = g.div(&seeds.bumps, &wsum);
        let fp = g.op("MatMul", &[&wn, &cells.ct], vec![]);
        let fp2 = g.square(&fp);
        let fpn = g.reduce_sum(&fp2, &[2], true);
        let dot = g.op("MatMul", &[&fp, &cells.c], vec![]);
        let dot2 = g.mul_s(&dot, -2.0);
        let d2 = g.add(&fpn, &cells.cn);
        let d2 = g.add(&d2, &dot2);
        let d2 = g.unary("Relu", &d2);
        let neg = g.unary("Neg", &d2);
        let k = g.unary("Exp", &neg);

        let k_inc = g.mul(&k, &seeds.inc3);
        let s_inc = g.reduce_max(&k_inc, &[1], false);
        let k_exc = g.mul(&k, &seeds.exc3);
        let s_exc = g.reduce_max(&k_exc, &[1], false);
        let seed_all = g.mul(&seeds.bumps, &seeds.inc3);
        let seed = g.reduce_max(&seed_all, &[1], false);
        let ex_all = g.mul(&seeds.bumps, &seeds.exc3);
        let ex_bump = g.reduce_max(&ex_all, &[1], false);
        Self { s_inc, s_exc, seed, ex_bump }
    }
}

/// The box gate [L,P]: ~1 inside the box, ~0 outside; 1 everywhere without a box.
fn box_gate(g: &mut Graph, p: &Prompt, one: &str) -> Value {
    let soft_step = |g: &mut Graph, a: &str, b: &str| {
        let d = g.sub(a, b);
        let d = g.mul_s(&d, 4.0);
        g.sigmoid(&d)
    };
    let i0 = soft_step(g, &p.gx, &p.x0);
    let i1 = soft_step(g, &p.x1, &p.gx);
    let i2 = soft_step(g, &p.gy, &p.y0);
    let i3 = soft_step(g, &p.y1, &p.gy);
    let inside = g.mul(&i0, &i1);
    let inside = g.mul(&inside, &i2);
    let inside = g.mul(&inside, &i3);
    let gated = g.mul(&p.has_box, &inside);
    let no_box = g.sub(one, &p.has_box);
    g.add(&gated, &no_box)
}

/// Step 3a, passability per candidate [L,3,72,72]: over the candidate's threshold, more
/// like an include point than an exclude point, away from exclude points, in the box.
fn passability(g: &mut Graph, a: &Affinity, gate: &str, one: &str) -> Value {
    let contrast = g.sub(&a.s_inc, &a.s_exc);
    let contrast = g.mul_s(&contrast, ALPHA);
    let contrast = g.sigmoid(&contrast);
    let not_ex = g.sub(one, &a.ex_bump);
    let common = g.mul(&contrast, &not_ex);
    let common = g.mul(&common, gate);
    let common = g.unsqueeze(&common, &[1]);
    let thresholds = g.f32s(THRESHOLDS.to_vec(), &[1, 3, 1]);
    let s_inc3 = g.unsqueeze(&a.s_inc, &[1]);
    let over = g.sub(&s_inc3, &thresholds);
    let over = g.mul_s(&over, ALPHA);
    let over = g.sigmoid(&over);
    let pass = g.mul(&over, &common);
    g.reshape(&pass, &[-1, 3, GRID, GRID])
}

/// Step 3b, geodesic growth [L,3,72,72]: from the seeds, `STEPS` rounds of 3x3 max-pooling
/// times the passability (max-product paths).
fn grow(g: &mut Graph, seed: &str, pass: &str) -> Value {
    let seed3 = g.unsqueeze(seed, &[1]);
    let region = g.reshape(&seed3, &[-1, 1, GRID, GRID]);
    let mut region = g.mul(&region, pass);
    for _ in 0..STEPS {
        let grown = g.op(
            "MaxPool",
            &[&region],
            vec![("kernel_shape", Attr::Ints(vec![3, 3])), ("pads", Attr::Ints(vec![1, 1, 1, 1])), ("strides", Attr::Ints(vec![1, 1]))],
        );
        let grown = g.mul(&grown, pass);
        region = g.op("Max", &[&region, &grown], vec![]);
    }
    region
}

/// Step 4: the region upsampled to 288x288 logits, plus a previous mask's (clipped) logits
/// when given, and each candidate's confidence: how crisp its region is (1 when every
/// selected cell passes fully).
fn logits(g: &mut Graph, region: &str, io: &Inputs) -> (Value, Value) {
    let scales = g.f32s(vec![1.0, 1.0, 4.0, 4.0], &[4]);
    let up = g.op("Resize", &[region, "", &scales], vec![("mode", Attr::Str("linear")), ("coordinate_transformation_mode", Attr::Str("half_pixel"))]);
    let logits = g.add_s(&up, -0.5);
    let logits = g.mul_s(&logits, 16.0);
    let lo = g.scalar(-8.0);
    let hi = g.scalar(8.0);
    let prev = g.op("Clip", &[&io.mask_input, &lo, &hi], vec![]);
    let hm = g.unsqueeze(&io.has_mask, &[1, 2, 3]);
    let prev = g.mul(&prev, &hm);
    let prev = g.mul_s(&prev, 0.25);
    let masks = g.add(&logits, &prev);

    let up2 = g.square(&up);
    let num = g.reduce_sum(&up2, &[2, 3], false);
    let den = g.reduce_sum(&up, &[2, 3], false);
    let den = g.add_s(&den, 1e-3);
    let iou = g.div(&num, &den);
    (masks, iou)
}

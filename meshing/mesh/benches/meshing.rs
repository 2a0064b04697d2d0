//! Gen3D's splat meshing against the plain Open3D recipe (normals from neighbourhoods,
//! tangent-plane orientation, Poisson depth 8, quadric decimation to 50k triangles), on
//! a splat torus of 10k, 100k and 1M splats, in the same run. Quality is the symmetric
//! Chamfer distance to the true torus.
//! `cargo bench -p gen3d-meshing --bench meshing` prints Markdown for docs/benchmarks.md.

#[path = "../tests/common/shapes.rs"]
mod shapes;

use std::time::Instant;

use gen3d_domain::MeshOptions;
use gen3d_meshing::{Mesh, prepare, srgb_to_linear};
use gen3d_open3d::{PoissonParams, estimate_normals, poisson_mesh};
use shapes::{Shape, chamfer};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The plain recipe: positions and colours only.
fn plain(cloud: &gen3d_media::SplatCloud) -> Mesh {
    let p = prepare(cloud).expect("prepare");
    let normals = estimate_normals(&p.positions, 0.03, 30, 30).expect("normals");
    let params = PoissonParams { depth: 8, trim_voxels: 0.0, target_triangles: 50_000, threads: -1 };
    let b = poisson_mesh(&p.positions, &normals, &p.colors, &params).expect("poisson");
    let triples = |v: &[f32]| v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect::<Vec<_>>();
    Mesh {
        positions: triples(&b.positions),
        normals: triples(&b.normals),
        colors: triples(&b.colors).into_iter().map(|c| c.map(srgb_to_linear)).collect(),
        watertight: gen3d_meshing::is_closed_manifold(&b.indices),
        indices: b.indices,
    }
}

fn main() {
    let options = MeshOptions::standard();
    println!("| splats | pipeline | median time | runs | triangles | watertight | Chamfer |");
    println!("|---:|---|---:|---:|---:|---|---:|");
    for (n, runs, plain_runs) in [(10_000usize, 5usize, 3usize), (100_000, 9, 1), (1_000_000, 3, 0)] {
        let cloud = Shape::Torus.splats(n, 11);
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let t = Instant::now();
            let (mesh, stats) = gen3d_meshing::mesh_splats(&cloud, &options).expect("gen3d meshing");
            times.push(t.elapsed().as_secs_f64());
            last = Some((mesh, stats));
        }
        let (mesh, stats) = last.expect("at least one run");
        let c = chamfer(Shape::Torus, &mesh.positions, 5_000);
        let (lo, hi) = times.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        println!("| {n} | Gen3D | {:.2} s ({lo:.2}–{hi:.2}) | {runs} | {} | {} | {c:.4} |", median(times), stats.triangles, stats.watertight);
        if plain_runs == 0 {
            println!("| {n} | plain recipe | not run: tangent-plane orientation of 1M points takes minutes | 0 | | | |");
            continue;
        }
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..plain_runs {
            let t = Instant::now();
            let mesh = plain(&cloud);
            times.push(t.elapsed().as_secs_f64());
            last = Some(mesh);
        }
        let mesh = last.expect("at least one run");
        let c = chamfer(Shape::Torus, &mesh.positions, 5_000);
        println!("| {n} | plain recipe | {:.2} s | {plain_runs} | {} | {} | {c:.4} |", median(times), mesh.triangle_count(), mesh.watertight);
    }
}

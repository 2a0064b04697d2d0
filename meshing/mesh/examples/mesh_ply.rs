//! Meshes a splat PLY and reports timings: `cargo run -p gen3d-meshing --example mesh_ply -- IN.ply OUT.glb`
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cloud = gen3d_media::SplatCloud::read_ply(&std::fs::read(&args[0]).expect("read")).expect("parse");
    let t = Instant::now();
    let (mesh, stats) = gen3d_meshing::mesh_splats(&cloud, &gen3d_domain::MeshOptions::standard()).expect("mesh");
    eprintln!("meshed {} splats in {:?}: {stats:?}", cloud.splats.len(), t.elapsed());
    std::fs::write(&args[1], gen3d_meshing::write_glb(&mesh)).expect("write");
}

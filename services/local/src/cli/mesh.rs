//! `gen3d mesh`: any splat or coloured point-cloud PLY to a mesh file.

use super::*;

pub(super) fn mesh(
    input: &Path,
    out: &Path,
    method: gen3d_domain::MeshMethod,
    target_triangles: u32,
    remove_outliers: bool,
    max_points: Option<u32>,
) -> anyhow::Result<()> {
    use gen3d_domain::{MeshFormat, MeshOptions};
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let format: MeshFormat = ext.parse().map_err(|e| anyhow::anyhow!("--out {}: {e}", out.display()))?;
    let options = MeshOptions::new(method, target_triangles, format)
        .map_err(|e| anyhow::anyhow!("--target-triangles: {e}"))?
        .with_cleanup(remove_outliers, max_points)
        .map_err(|e| anyhow::anyhow!("--max-points: {e}"))?;
    let bytes = read_input(input, "input")?;
    let started = Instant::now();
    let (mesh, stats) = match gen3d_media::SplatCloud::read_ply(&bytes) {
        Ok(splats) => gen3d_meshing::mesh_splats(&splats, &options),
        Err(splat_error) => match gen3d_media::PointCloud::read_ply(&bytes) {
            Ok(points) => gen3d_meshing::mesh_point_cloud(&points, &options),
            Err(points_error) => bail!("{}: not a splat ({splat_error}) nor a point cloud ({points_error})", input.display()),
        },
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", input.display()))?;
    std::fs::write(out, gen3d_meshing::write_mesh(&mesh, format)).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "wrote {} in {:.2} s: {} vertices, {} triangles, watertight: {}, bounds {:?}..{:?}",
        out.display(),
        started.elapsed().as_secs_f64(),
        stats.vertices,
        stats.triangles,
        stats.watertight,
        stats.bbox_min,
        stats.bbox_max
    );
    Ok(())
}

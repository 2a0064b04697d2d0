#include "gen3d-open3d/include/shim.h"
#include "gen3d-open3d/src/lib.rs.h"

#include <open3d/Open3DConfig.h>
#include <open3d/geometry/KDTreeFlann.h>
#include <open3d/geometry/PointCloud.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/utility/Logging.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace gen3d {

using open3d::geometry::KDTreeFlann;
using open3d::geometry::PointCloud;
using open3d::geometry::TriangleMesh;

namespace {

// Gives each vertex the colour of the nearest input point (decimation drops colours).
void recolour_from(const PointCloud &pcd, TriangleMesh &mesh) {
    KDTreeFlann tree(pcd);
    std::vector<int> index(1);
    std::vector<double> dist2(1);
    mesh.vertex_colors_.resize(mesh.vertices_.size());
    for (size_t i = 0; i < mesh.vertices_.size(); ++i) {
        if (tree.SearchKNN(mesh.vertices_[i], 1, index, dist2) > 0) {
            mesh.vertex_colors_[i] = pcd.colors_[index[0]];
        }
    }
}

}  // namespace

namespace {

PointCloud make_cloud(rust::Slice<const float> positions, rust::Slice<const float> normals,
                      rust::Slice<const float> colors) {
    // Open3D logs per-tetrahedron warnings to stdout; errors surface as exceptions instead.
    open3d::utility::SetVerbosityLevel(open3d::utility::VerbosityLevel::Error);
    if (positions.size() % 3 != 0 || (!normals.empty() && normals.size() != positions.size()) ||
        (!colors.empty() && colors.size() != positions.size())) {
        throw std::invalid_argument("positions, normals and colors must be equal-length xyz triples");
    }
    const size_t n = positions.size() / 3;
    if (n < 16) {
        throw std::invalid_argument("too few points for a surface (need at least 16)");
    }
    PointCloud pcd;
    pcd.points_.resize(n);
    for (size_t i = 0; i < n; ++i)
        pcd.points_[i] = Eigen::Vector3d(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]);
    if (!normals.empty()) {
        pcd.normals_.resize(n);
        for (size_t i = 0; i < n; ++i)
            pcd.normals_[i] = Eigen::Vector3d(normals[3 * i], normals[3 * i + 1], normals[3 * i + 2]);
    }
    if (!colors.empty()) {
        pcd.colors_.resize(n);
        for (size_t i = 0; i < n; ++i)
            pcd.colors_[i] = Eigen::Vector3d(colors[3 * i], colors[3 * i + 1], colors[3 * i + 2]);
    }
    return pcd;
}

// Cleans, decimates to the target, restores colours, computes normals, copies out.
MeshBuffers finish(const PointCloud &pcd, std::shared_ptr<TriangleMesh> mesh, uint32_t target_triangles) {
    mesh->RemoveDegenerateTriangles();
    mesh->RemoveDuplicatedTriangles();
    mesh->RemoveUnreferencedVertices();
    if (target_triangles > 0 && mesh->triangles_.size() > target_triangles) {
        mesh = mesh->SimplifyQuadricDecimation(static_cast<int>(target_triangles),
                                               std::numeric_limits<double>::infinity(), 1.0);
        mesh->RemoveDegenerateTriangles();
        mesh->RemoveUnreferencedVertices();
    }
    if (mesh->triangles_.empty()) {
        throw std::runtime_error("mesh has no triangles left after cleaning and decimation");
    }
    if (mesh->vertex_colors_.size() != mesh->vertices_.size() && pcd.HasColors()) {
        recolour_from(pcd, *mesh);
    }
    mesh->ComputeVertexNormals();
    MeshBuffers out;
    const bool colours = mesh->vertex_colors_.size() == mesh->vertices_.size();
    out.positions.reserve(mesh->vertices_.size() * 3);
    out.normals.reserve(mesh->vertices_.size() * 3);
    out.colors.reserve(mesh->vertices_.size() * 3);
    for (size_t i = 0; i < mesh->vertices_.size(); ++i) {
        for (int k = 0; k < 3; ++k) {
            out.positions.push_back(static_cast<float>(mesh->vertices_[i][k]));
            out.normals.push_back(static_cast<float>(mesh->vertex_normals_[i][k]));
            out.colors.push_back(colours ? static_cast<float>(std::clamp(mesh->vertex_colors_[i][k], 0.0, 1.0)) : 0.8f);
        }
    }
    out.indices.reserve(mesh->triangles_.size() * 3);
    for (const auto &t : mesh->triangles_) {
        for (int k = 0; k < 3; ++k) out.indices.push_back(static_cast<uint32_t>(t[k]));
    }
    return out;
}

}  // namespace

MeshBuffers poisson_mesh(rust::Slice<const float> positions, rust::Slice<const float> normals,
                         rust::Slice<const float> colors, const PoissonParams &params) {
    if (normals.size() != positions.size()) {
        throw std::invalid_argument("positions, normals and colors must be equal-length xyz triples");
    }
    if (params.depth < 4 || params.depth > 12) {
        throw std::invalid_argument("poisson depth must be within 4..=12");
    }
    PointCloud pcd = make_cloud(positions, normals, colors);
    std::shared_ptr<TriangleMesh> mesh;
    std::vector<double> density;
    std::tie(mesh, density) =
        TriangleMesh::CreateFromPointCloudPoisson(pcd, params.depth, 0.0f, 1.1f, false, params.threads);
    if (!mesh || mesh->triangles_.empty()) {
        throw std::runtime_error("poisson reconstruction produced no triangles");
    }
    // Trim the "balloon" Poisson stretches over unsampled space: vertices farther than
    // `trim_voxels` octree cells from every input point. A closed, well-sampled surface
    // loses nothing, so it stays watertight.
    if (params.trim_voxels > 0.0f) {
        const double extent = (pcd.GetMaxBound() - pcd.GetMinBound()).maxCoeff();
        const double voxel = extent * 1.1 / static_cast<double>(1u << params.depth);
        const double limit2 = std::pow(params.trim_voxels * voxel, 2.0);
        KDTreeFlann tree(pcd);
        std::vector<int> index(1);
        std::vector<double> dist2(1);
        std::vector<bool> remove(mesh->vertices_.size(), false);
        for (size_t i = 0; i < mesh->vertices_.size(); ++i) {
            if (tree.SearchKNN(mesh->vertices_[i], 1, index, dist2) > 0) remove[i] = dist2[0] > limit2;
        }
        mesh->RemoveVerticesByMask(remove);
    }
    return finish(pcd, mesh, params.target_triangles);
}

MeshBuffers ball_pivoting_mesh(rust::Slice<const float> positions, rust::Slice<const float> normals,
                               rust::Slice<const float> colors, rust::Slice<const float> radii,
                               uint32_t target_triangles) {
    if (normals.size() != positions.size()) {
        throw std::invalid_argument("ball pivoting needs a normal per point");
    }
    if (radii.empty()) throw std::invalid_argument("ball pivoting needs at least one radius");
    PointCloud pcd = make_cloud(positions, normals, colors);
    std::vector<double> r(radii.begin(), radii.end());
    auto mesh = TriangleMesh::CreateFromPointCloudBallPivoting(pcd, r);
    if (!mesh || mesh->triangles_.empty()) throw std::runtime_error("ball pivoting produced no triangles");
    return finish(pcd, mesh, target_triangles);
}

MeshBuffers alpha_shape_mesh(rust::Slice<const float> positions, rust::Slice<const float> colors, float alpha,
                             uint32_t target_triangles) {
    if (!(alpha > 0.0f)) throw std::invalid_argument("alpha must be positive");
    PointCloud pcd = make_cloud(positions, rust::Slice<const float>(), colors);
    // Points sampled exactly on a sphere (or any cospherical set) make the Delaunay
    // tetrahedralisation degenerate and Qhull returns almost nothing: joggle them by a
    // deterministic 1e-4 of the extent first, as Qhull's own QJ option would.
    const double extent = (pcd.GetMaxBound() - pcd.GetMinBound()).maxCoeff();
    uint64_t state = 0x9e3779b97f4a7c15ull;
    auto next = [&state]() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(state >> 11) / static_cast<double>(1ull << 53) - 0.5;
    };
    for (auto &p : pcd.points_) p += Eigen::Vector3d(next(), next(), next()) * (2e-4 * extent);
    auto mesh = TriangleMesh::CreateFromPointCloudAlphaShape(pcd, alpha);
    if (!mesh || mesh->triangles_.empty()) throw std::runtime_error("alpha shape produced no triangles");
    return finish(pcd, mesh, target_triangles);
}

PointBuffers clean_points(rust::Slice<const float> positions, rust::Slice<const float> normals,
                          rust::Slice<const float> colors, float voxel, uint32_t outlier_k, float outlier_std) {
    PointCloud pcd = make_cloud(positions, normals, colors);
    std::shared_ptr<PointCloud> out = std::make_shared<PointCloud>(pcd);
    if (voxel > 0.0f) out = out->VoxelDownSample(voxel);
    if (outlier_k > 0 && outlier_std > 0.0f) {
        std::vector<size_t> kept;
        std::tie(out, kept) = out->RemoveStatisticalOutliers(static_cast<size_t>(outlier_k), outlier_std);
    }
    if (out->points_.size() < 16) throw std::runtime_error("clean-up left too few points for a surface");
    PointBuffers b;
    for (const auto &p : out->points_) for (int k = 0; k < 3; ++k) b.positions.push_back(static_cast<float>(p[k]));
    if (out->HasNormals()) {
        for (auto n : out->normals_) {
            n.normalize();
            for (int k = 0; k < 3; ++k) b.normals.push_back(static_cast<float>(n[k]));
        }
    }
    if (out->HasColors())
        for (const auto &c : out->colors_) for (int k = 0; k < 3; ++k) b.colors.push_back(static_cast<float>(c[k]));
    return b;
}

rust::Vec<float> estimate_normals(rust::Slice<const float> positions, float radius, uint32_t max_nn,
                                  uint32_t orient_k) {
    PointCloud pcd = make_cloud(positions, rust::Slice<const float>(), rust::Slice<const float>());
    pcd.EstimateNormals(open3d::geometry::KDTreeSearchParamHybrid(radius, static_cast<int>(max_nn)));
    if (orient_k > 0) pcd.OrientNormalsConsistentTangentPlane(orient_k);
    rust::Vec<float> out;
    out.reserve(pcd.normals_.size() * 3);
    for (const auto &n : pcd.normals_)
        for (int k = 0; k < 3; ++k) out.push_back(static_cast<float>(n[k]));
    return out;
}

rust::String open3d_version() { return rust::String(OPEN3D_VERSION); }

}  // namespace gen3d

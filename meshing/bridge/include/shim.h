// Thin C++ shim over Open3D. Every function takes plain slices and returns plain
// buffers; Open3D objects never cross the bridge. Exceptions become Rust `Err`s.
#pragma once
#include "rust/cxx.h"
#include <cstdint>

namespace gen3d {

struct PoissonParams;
struct MeshBuffers;
struct PointBuffers;

MeshBuffers poisson_mesh(rust::Slice<const float> positions, rust::Slice<const float> normals,
                         rust::Slice<const float> colors, const PoissonParams &params);

MeshBuffers ball_pivoting_mesh(rust::Slice<const float> positions, rust::Slice<const float> normals,
                               rust::Slice<const float> colors, rust::Slice<const float> radii,
                               uint32_t target_triangles);

MeshBuffers alpha_shape_mesh(rust::Slice<const float> positions, rust::Slice<const float> colors, float alpha,
                             uint32_t target_triangles);

PointBuffers clean_points(rust::Slice<const float> positions, rust::Slice<const float> normals,
                          rust::Slice<const float> colors, float voxel, uint32_t outlier_k, float outlier_std);

rust::Vec<float> estimate_normals(rust::Slice<const float> positions, float radius, uint32_t max_nn,
                                  uint32_t orient_k);

rust::String open3d_version();

}  // namespace gen3d

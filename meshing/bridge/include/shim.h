// Thin C++ shim over Open3D. Every function takes plain slices and returns plain
// buffers; Open3D objects never cross the bridge. Exceptions become Rust `Err`s.
#pragma once
#include "rust/cxx.h"

namespace gen3d {

struct PoissonParams;
struct MeshBuffers;

MeshBuffers poisson_mesh(rust::Slice<const float> positions, rust::Slice<const float> normals,
                         rust::Slice<const float> colors, const PoissonParams &params);

rust::String open3d_version();

}  // namespace gen3d

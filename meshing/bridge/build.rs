//! Builds the C++ shim against the system Open3D (Debian `libopen3d-dev` 0.16.1).

use std::path::Path;

const INSTALL_HINT: &str = "install it with: apt-get install libopen3d-dev libeigen3-dev pkg-config (see README)";

fn main() {
    // The shim is written for Open3D 0.16 (its C++ API changes between minor releases): any
    // other version fails here, naming the version found, not later in a C++ error.
    let open3d = pkg_config::Config::new().range_version("0.16".."0.17").probe("Open3D").unwrap_or_else(|e| {
        panic!("Open3D 0.16 was not found by pkg-config ({e}); the shim is written for 0.16 (Debian bookworm's 0.16.1): {INSTALL_HINT}")
    });
    // pkg-config hands Open3D's include dirs over as -isystem flags, which the crate does
    // not parse: add them (and Eigen, which Open3D's .pc omits) ourselves.
    let include = pkg_config::get_variable("Open3D", "includedir").unwrap_or_else(|_| "/usr/include".into());
    let third_party = Path::new(&include).join("open3d/3rdparty");
    let eigen = ["/usr/include/eigen3", "/usr/local/include/eigen3"]
        .into_iter()
        .find(|p| Path::new(p).join("Eigen/Core").exists())
        .unwrap_or_else(|| panic!("Eigen 3 headers were not found; {INSTALL_HINT}"));
    cxx_build::bridge("src/lib.rs")
        .file("src/shim.cc")
        .std("c++17")
        .includes(&open3d.include_paths)
        .include(&include)
        .include(third_party)
        .include(eigen)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .define("FMT_SHARED", None)
        .flag_if_supported("-Wno-deprecated-declarations")
        .flag_if_supported("-Wno-unused-parameter")
        .opt_level(2)
        .compile("gen3d_open3d_shim");
    println!("cargo:rerun-if-changed=src/shim.cc");
    println!("cargo:rerun-if-changed=include/shim.h");
    println!("cargo:version={}", open3d.version);
}

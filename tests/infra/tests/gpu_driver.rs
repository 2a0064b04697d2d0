//! The inference image's CUDA (declared once, in `container/image/cuda.json`) against the
//! NVIDIA driver the endpoint's instances get from `Pulumi.yaml` (issue 17): the stack
//! would otherwise fail at start with `CannotStartContainerError`. The Dockerfile must use
//! the versions the file declares.

mod common;

use gen3d_infra::gpu::{driver_cuda, gpu_memory_gib, misfits};
use serde_json::Value;

fn cuda() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::repo().join("container/image/cuda.json")).unwrap()).unwrap()
}

/// Each production variant's instance type and inference AMI.
fn variants(ev: &gen3d_infra::Evaluated) -> Vec<(String, Option<String>)> {
    let out: Vec<(String, Option<String>)> = ev
        .of_type("aws:sagemaker:EndpointConfiguration")
        .flat_map(|(_, r)| r.properties["productionVariants"].as_array().cloned().unwrap_or_default())
        .map(|v| (v["instanceType"].as_str().unwrap_or_default().to_owned(), v["inferenceAmiVersion"].as_str().map(str::to_owned)))
        .collect();
    assert!(!out.is_empty(), "no production variant");
    out
}

#[test]
fn the_image_fits_the_endpoint_driver_in_every_stack() {
    for stack in ["dev", "prod"] {
        let ev = common::evaluated(stack);
        for (instance, ami) in variants(&ev) {
            let driver = driver_cuda(&instance, ami.as_deref()).unwrap();
            let problems = misfits(&cuda(), driver).unwrap();
            assert!(problems.is_empty(), "{stack} ({instance}, {ami:?}): {problems:?}");
        }
    }
}

#[test]
fn a_driver_too_old_for_the_image_is_caught() {
    // Without the AMI, ml.g5 runs driver 470 (CUDA 11.4): the CUDA 12 image cannot start.
    let old = driver_cuda("ml.g5.xlarge", None).unwrap();
    let problems = misfits(&cuda(), old).unwrap();
    assert!(problems.iter().any(|p| p.contains("base image needs CUDA 12.4")), "{problems:?}");
    // PyPI's torch 2.13 wheels are CUDA 13 builds: no AMI on offer supports them.
    let mut cuda13 = cuda();
    cuda13["runtimes"][0]["cuda"] = "13.0".into();
    let problems = misfits(&cuda13, driver_cuda("ml.g5.xlarge", Some("al2-ami-sagemaker-inference-gpu-3-1")).unwrap()).unwrap();
    assert!(problems.iter().any(|p| p.contains("bundles CUDA 13.0")), "{problems:?}");
    assert!(driver_cuda("ml.g5.xlarge", Some("al2-ami-unknown")).is_err());
}

#[test]
fn the_dockerfile_uses_the_declared_versions() {
    let dockerfile = std::fs::read_to_string(common::repo().join("container/image/Dockerfile")).unwrap();
    let cuda = cuda();
    let base = cuda["base"]["image"].as_str().unwrap();
    assert!(dockerfile.contains(base), "the Dockerfile's base image is not {base}");
    for r in cuda["runtimes"].as_array().unwrap() {
        let (package, index) = (r["package"].as_str().unwrap(), r["index"].as_str().unwrap());
        let line = dockerfile.lines().find(|l| l.contains(package)).unwrap_or_else(|| panic!("the Dockerfile installs no {package}"));
        assert!(dockerfile.lines().filter(|l| l.contains(package)).all(|l| l.contains(index)), "{package} must come from {index}: {line}");
    }
}

/// The smallest GPU memory the models need, from `container/image/cuda.json`.
fn gpu_memory_needed() -> u32 {
    cuda()["gpu_memory_gib"]["min"].as_u64().expect("cuda.json: gpu_memory_gib.min") as u32
}

#[test]
fn the_endpoint_gpu_holds_the_models_in_every_stack() {
    // ml.g5 (one A10G, 24 GB) was the stacks' choice until issue 20: SAM 3D Objects runs out
    // of memory there.
    let need = gpu_memory_needed();
    for stack in ["dev", "prod"] {
        for (instance, _) in variants(&common::evaluated(stack)) {
            let have = gpu_memory_gib(&instance).unwrap();
            assert!(have >= need, "{stack}: {instance} has {have} GiB of GPU memory, the models need {need}");
        }
    }
    assert!(gpu_memory_gib("ml.g5.2xlarge").unwrap() < need, "the check would not catch the old instance type");
    assert!(gpu_memory_gib("ml.m5.xlarge").is_err());
}

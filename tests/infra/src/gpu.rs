//! The NVIDIA driver a SageMaker endpoint's instances run, and whether an image's CUDA
//! fits it. Facts: AWS's "inference-gpu-drivers" page (../shared/contracts.md section 6):
//! asynchronous inference on ml.g4dn/ml.g5 defaults to driver 470 (CUDA 11.4) unless the
//! production variant selects an inference AMI.

use serde_json::Value;

/// The highest CUDA version (major, minor) the driver of `ami` supports on `instance`
/// (`None`: the instance family's default AMI).
pub fn driver_cuda(instance: &str, ami: Option<&str>) -> Result<(u32, u32), String> {
    match ami {
        Some("al2-ami-sagemaker-inference-gpu-2" | "al2-ami-sagemaker-inference-gpu-2-1") => Ok((12, 2)), // driver 535
        Some("al2-ami-sagemaker-inference-gpu-3-1") => Ok((12, 4)),                                       // driver 550
        Some(other) => Err(format!("inference AMI {other:?} is not one this check knows")),
        None if instance.starts_with("ml.g4dn.") || instance.starts_with("ml.g5.") => Ok((11, 4)), // driver 470
        None => Err(format!("the default driver of {instance} is not one this check knows")),
    }
}

/// "12.4" -> (12, 4).
pub fn version(v: &str) -> Result<(u32, u32), String> {
    let (major, minor) = v.split_once('.').ok_or_else(|| format!("CUDA version {v:?} is not MAJOR.MINOR"))?;
    Ok((major.parse().map_err(|_| format!("CUDA version {v:?}"))?, minor.parse().map_err(|_| format!("CUDA version {v:?}"))?))
}

/// What in `cuda` (container/image/cuda.json) the driver cannot run: the base image's
/// CUDA must not be newer than the driver's; a bundled runtime must share its major
/// version (minor version compatibility).
pub fn misfits(cuda: &Value, driver: (u32, u32)) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let base = version(cuda["base"]["cuda"].as_str().ok_or("cuda.json: base.cuda is missing")?)?;
    if base > driver {
        out.push(format!("the base image needs CUDA {}.{}, the driver supports {}.{}", base.0, base.1, driver.0, driver.1));
    }
    for r in cuda["runtimes"].as_array().ok_or("cuda.json: runtimes is missing")? {
        let v = version(r["cuda"].as_str().ok_or("cuda.json: a runtime without cuda")?)?;
        if v.0 != driver.0 {
            out.push(format!("{} bundles CUDA {}.{}, the driver supports {}.{}", r["name"], v.0, v.1, driver.0, driver.1));
        }
    }
    Ok(out)
}

/// The memory of one GPU of a SageMaker instance type, in GiB (AWS's accelerated
/// instance pages: T4 16 GB, A10G 24 GB, L4 24 GB, L40S 48 GB, A100 40/80 GB, H100 80 GB).
pub fn gpu_memory_gib(instance: &str) -> Result<u32, String> {
    let family = instance.strip_prefix("ml.").and_then(|s| s.split('.').next()).unwrap_or_default();
    match family {
        "g4dn" => Ok(16),
        "g5" | "g6" => Ok(24),
        "g6e" => Ok(48),
        "p4d" => Ok(40),
        "p4de" | "p5" => Ok(80),
        _ => Err(format!("the GPU memory of {instance} is not one this check knows")),
    }
}

//! The rest of what Gen3D's processes read from their environment: the AWS endpoint and
//! region, the inference container's settings, and the `gen3d` command's default
//! directories. Like [`crate::ServiceConfig`], each is read here and nowhere else, and
//! a bad value fails naming its variable.

use std::path::PathBuf;
use std::time::Duration;

use crate::ConfigError;
use crate::service::env;

/// `AWS_ENDPOINT_URL`: an emulator (moto) instead of AWS, when set.
pub fn aws_endpoint_url() -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.trim().is_empty())
}

/// `AWS_REGION` (set by Lambda in every function).
pub fn aws_region() -> Result<String, ConfigError> {
    std::env::var("AWS_REGION").ok().filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing("AWS_REGION"))
}

/// Where the inference container reads and writes the users' files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerBlobs {
    /// `GEN3D_BLOB_BUCKET`: S3 (set by Pulumi.yaml on the SageMaker model).
    Bucket(String),
    /// `GEN3D_BLOB_ROOT`: a local data directory (shared with `gen3d serve --inference-url`).
    Root(PathBuf),
}

/// The inference container's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerConfig {
    pub blobs: ContainerBlobs,
    /// `GEN3D_MODEL_DIR`, default `/opt/ml/model` (where SageMaker unpacks the model).
    pub model_dir: PathBuf,
    /// `SAGEMAKER_BIND_TO_PORT`, default 8080.
    pub port: u16,
    /// `GEN3D_MAX_CONCURRENCY`, default 1: model tasks at once.
    pub concurrency: usize,
    /// `GEN3D_MESH_TIMEOUT_SECS`: how long one meshing child may run (`None`: the default).
    pub mesh_timeout: Option<Duration>,
}

/// `name` parsed as a `T`, `None` when unset.
fn parsed<T: std::str::FromStr>(lookup: &impl Fn(&str) -> Option<String>, name: &'static str, what: &str) -> Result<Option<T>, ConfigError> {
    lookup(name).map(|v| v.trim().parse::<T>().map_err(|_| ConfigError::Invalid { name, reason: format!("{v:?} is not {what}") })).transpose()
}

impl ContainerConfig {
    /// `serve`'s settings; `check` needs only [`ContainerConfig::model_dir_from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let blobs = match (lookup(env::CONTAINER_BLOB_BUCKET), lookup("GEN3D_BLOB_ROOT")) {
            (Some(bucket), _) => ContainerBlobs::Bucket(bucket),
            (None, Some(root)) => ContainerBlobs::Root(root.into()),
            (None, None) => return Err(ConfigError::Missing("GEN3D_BLOB_BUCKET (S3) or GEN3D_BLOB_ROOT (a local data directory)")),
        };
        Ok(Self {
            blobs,
            model_dir: Self::model_dir(&lookup),
            port: parsed(&lookup, "SAGEMAKER_BIND_TO_PORT", "a port")?.unwrap_or(8080),
            concurrency: parsed(&lookup, env::CONTAINER_MAX_CONCURRENCY, "a number")?.unwrap_or(1),
            mesh_timeout: parsed(&lookup, "GEN3D_MESH_TIMEOUT_SECS", "a number of seconds")?.map(Duration::from_secs),
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn model_dir(lookup: &impl Fn(&str) -> Option<String>) -> PathBuf {
        lookup("GEN3D_MODEL_DIR").map_or_else(|| PathBuf::from("/opt/ml/model"), PathBuf::from)
    }

    pub fn model_dir_from_env() -> PathBuf {
        Self::model_dir(&|name: &str| std::env::var(name).ok())
    }
}

/// The `gen3d` command's data directory when `--data` is not given:
/// `$XDG_DATA_HOME/gen3d`, else `~/.local/share/gen3d`, else `./gen3d`.
pub fn default_data_dir() -> PathBuf {
    let base =
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.unwrap_or_else(|| PathBuf::from(".")).join("gen3d")
}

/// The web app `gen3d serve` serves when `--web-dir` is not given: `GEN3D_WEB_DIR`, else
/// `web/dist` under the working directory.
pub fn default_web_dir() -> PathBuf {
    std::env::var_os("GEN3D_WEB_DIR").map_or_else(|| PathBuf::from("web/dist"), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ContainerConfig, ConfigError> {
        ContainerConfig::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn the_container_defaults_to_sagemakers_contract() {
        let c = config(&[("GEN3D_BLOB_BUCKET", "b")]).unwrap();
        assert_eq!(
            c,
            ContainerConfig {
                blobs: ContainerBlobs::Bucket("b".into()),
                model_dir: "/opt/ml/model".into(),
                port: 8080,
                concurrency: 1,
                mesh_timeout: None
            }
        );
        let c = config(&[("GEN3D_BLOB_ROOT", "/data"), ("SAGEMAKER_BIND_TO_PORT", "9000"), ("GEN3D_MESH_TIMEOUT_SECS", "30")]).unwrap();
        assert_eq!((c.blobs, c.port, c.mesh_timeout), (ContainerBlobs::Root("/data".into()), 9000, Some(Duration::from_secs(30))));
    }

    #[test]
    fn a_bad_container_setting_names_its_variable() {
        assert!(matches!(config(&[]), Err(ConfigError::Missing(name)) if name.contains("GEN3D_BLOB_BUCKET")));
        for (name, value) in [("SAGEMAKER_BIND_TO_PORT", "70000"), ("GEN3D_MAX_CONCURRENCY", "-1"), ("GEN3D_MESH_TIMEOUT_SECS", "soon")] {
            let err = config(&[("GEN3D_BLOB_BUCKET", "b"), (name, value)]).unwrap_err();
            assert!(matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name), "{err}");
        }
    }
}

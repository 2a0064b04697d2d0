//! What a Gen3D process needs to know about its environment, in one place: the only
//! crate that reads environment variables (a tidy rule holds every other crate to it).
//! Beyond that it does no I/O.
//!
//! The AWS Lambda binaries read their configuration through [`ServiceConfig::from_lookup`];
//! the infrastructure test (`tests/infra`) checks that `Pulumi.yaml` sets exactly these
//! variables, names resources the way [`ResourceNames`] does and builds the job table
//! with [`job_table`]'s key schema. A rename on either side fails that test.

pub mod job_table;
mod logs;
mod names;
mod process;
mod service;
mod settings;

pub use logs::{LogSettings, LogTarget};
pub use names::ResourceNames;
pub use process::{ContainerBlobs, ContainerConfig, aws_endpoint_url, aws_region, default_data_dir, default_web_dir};
pub use service::{COMMON_ENV, Service, env};
pub use settings::{ConfigError, ServiceConfig, ServiceSettings, UserLimits};

//! What a deployed Gen3D service needs to know about its environment, in one place.
//!
//! The AWS Lambda binaries read their configuration through [`ServiceConfig::from_lookup`];
//! the infrastructure test (`tests/infra`) checks that `Pulumi.yaml` sets exactly these
//! variables, names resources the way [`ResourceNames`] does and builds the job table
//! with [`job_table`]'s key schema. A rename on either side fails that test.

pub mod job_table;
mod names;
mod service;
mod settings;

pub use names::ResourceNames;
pub use service::{COMMON_ENV, Service, env};
pub use settings::{ConfigError, ServiceConfig, ServiceSettings, UserLimits};

//! A checker for Gen3D's Pulumi YAML program, since the Pulumi CLI cannot run here.
//!
//! [`Program::load`] reads `Pulumi.yaml` and a [`Stack`] reads `Pulumi.<stack>.yaml`;
//! [`evaluate`] resolves every `${...}` reference and `fn::` call the way Pulumi YAML
//! does, with values only the cloud knows (ARNs, ids, URLs) kept as `⟨resource.attr⟩`
//! placeholders; [`checks::run`] applies the deployment rules to the result;
//! [`inventory`] lists the resources for snapshots and docs/aws-resources.md; [`apigw`]
//! and [`cloudfront`] read the HTTP API and the distribution as a browser meets them
//! (routes, authorizers, CORS, throttling; behaviours, origins, headers).

pub mod apigw;
pub mod checks;
pub mod cloudfront;
mod eval;
pub mod gpu;
pub mod iam;
pub mod inventory;
mod program;
mod types;

pub use eval::{Evaluated, Resolved, evaluate, lookup, placeholder_refs};
pub use program::{LoadError, Program, Resource, Stack};
pub use types::{KNOWN_TYPES, ResourceType, known_type};

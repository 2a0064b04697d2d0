//! The local all-in-one runner: every Gen3D service in one process, wired to the
//! embedded adapters, each hop crossing a real (SQLite) queue. Used by `gen3d serve`,
//! `gen3d run` and the end-to-end tests.

pub mod cli;
pub mod client;
mod http;
mod stack;
pub mod web;

pub use stack::{LocalConfig, LocalStack, Workers, queue_handler};

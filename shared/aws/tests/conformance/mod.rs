//! One behaviour suite per port, run against the embedded adapters (`embedded.rs`) and
//! the AWS adapters on moto server (`moto.rs`) alike.
#![allow(dead_code)] // each test binary uses the suites it runs

pub mod blob;
pub mod jobs;
pub mod mail;
pub mod queue;

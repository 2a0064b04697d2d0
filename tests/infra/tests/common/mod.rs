#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

use gen3d_infra::{Evaluated, Program, Stack, evaluate};

pub fn repo() -> PathBuf {
    gen3d_testkit::repo()
}

pub fn program() -> Program {
    Program::load(&repo().join("Pulumi.yaml")).expect("Pulumi.yaml loads")
}

pub fn stacks() -> Vec<Stack> {
    Program::stack_files(&repo())
        .expect("stack files listed")
        .into_iter()
        .map(|(name, path)| Stack::load(&name, &path).expect("stack file loads"))
        .collect()
}

pub fn stack(name: &str) -> Stack {
    stacks().into_iter().find(|s| s.name == name).expect("stack exists")
}

pub fn evaluated(name: &str) -> Evaluated {
    evaluate(&program(), &stack(name))
}

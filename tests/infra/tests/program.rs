//! The committed program and stacks pass every rule; their inventories are snapshots;
//! docs/aws-resources.md is generated from them.

mod common;

use gen3d_infra::{checks, evaluate, inventory};

#[test]
fn there_is_a_dev_and_a_prod_stack() {
    let names: Vec<String> = common::stacks().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["dev", "prod"]);
}

#[test]
fn every_stack_passes_every_check() {
    let program = common::program();
    for stack in common::stacks() {
        let ev = evaluate(&program, &stack);
        assert!(ev.resources.len() > 100, "stack {} has only {} resources", stack.name, ev.resources.len());
        let violations = checks::run(&ev, &stack.config);
        assert!(violations.is_empty(), "stack {}:\n{}", stack.name, violations.join("\n"));
    }
}

#[test]
fn inventories_match_the_snapshots() {
    let program = common::program();
    for stack in common::stacks() {
        let ev = evaluate(&program, &stack);
        insta::assert_snapshot!(format!("inventory_{}", stack.name), inventory::render_text(&ev));
    }
}

fn aws_resources_doc() -> String {
    let program = common::program();
    let mut doc = String::from(
        "# AWS resources\n\n\
         Generated from `Pulumi.yaml` and the `Pulumi.<stack>.yaml` files by `tests/infra`; do not edit.\n\
         Regenerate with `GEN3D_UPDATE_DOCS=1 cargo test -p gen3d-infra --test program`.\n\
         Values shown as `⟨resource.attribute⟩` are known only once the resource exists.\n\n",
    );
    for stack in common::stacks() {
        doc.push_str(&inventory::render_markdown(&evaluate(&program, &stack)));
        doc.push('\n');
    }
    doc
}

#[test]
fn aws_resources_doc_is_current() {
    let path = common::repo().join("docs/aws-resources.md");
    let want = aws_resources_doc();
    if std::env::var_os("GEN3D_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("write docs/aws-resources.md");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/aws-resources.md is stale: run GEN3D_UPDATE_DOCS=1 cargo test -p gen3d-infra --test program");
}

//! House rules that are cheap to check: only the AWS adapter crate depends on
//! `aws-sdk-*`, only the meshing bridge allows `unsafe`.

mod common;

use std::path::Path;

fn manifests(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
            manifests(&path, out);
        } else if name == "Cargo.toml" {
            out.push(path);
        }
    }
}

/// `(crate directory relative to the repository, manifest text)` of every member crate.
fn crates() -> Vec<(String, String)> {
    let root = common::repo();
    let mut found = Vec::new();
    for dir in ["shared", "services", "container", "meshing", "tests"] {
        manifests(&root.join(dir), &mut found);
    }
    found
        .into_iter()
        .map(|p| {
            let rel = p.parent().and_then(|d| d.strip_prefix(&root).ok()).map(|d| d.display().to_string()).unwrap_or_default();
            (rel, std::fs::read_to_string(&p).expect("manifest readable"))
        })
        .collect()
}

#[test]
fn only_the_aws_adapter_crate_depends_on_the_aws_sdk() {
    let users: Vec<String> = crates()
        .into_iter()
        .filter(|(_, text)| text.lines().any(|l| l.trim_start().starts_with("aws-sdk-") || l.trim_start().starts_with("aws-config")))
        .map(|(dir, _)| dir)
        .collect();
    assert_eq!(users, ["shared/aws"], "aws-sdk-* belongs in gen3d-aws only");
}

#[test]
fn only_the_meshing_bridge_allows_unsafe_code() {
    let root = common::repo();
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("workspace manifest");
    assert!(workspace.contains("unsafe_code = \"deny\""), "the workspace denies unsafe code");
    for (dir, text) in crates() {
        let inherits = text.contains("[lints]") && text.contains("workspace = true");
        assert!(inherits, "{dir} must take the workspace lints");
        let lib = root.join(&dir).join("src/lib.rs");
        let allows = std::fs::read_to_string(&lib).is_ok_and(|s| s.contains("allow(unsafe_code)"));
        assert_eq!(allows, dir == "meshing/bridge", "{dir}: only meshing/bridge may allow unsafe code");
    }
}

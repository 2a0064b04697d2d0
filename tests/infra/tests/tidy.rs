//! House rules that are cheap to check (ARCHITECTURE.md's invariants): only the AWS
//! adapter crate depends on `aws-sdk-*`; every crate takes the workspace lints and only the
//! meshing bridge allows `unsafe`; every module says what it is for (`//!`); the HTTP edge
//! never narrows a number with `as` (a wrapped value would pass its range check).

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

/// Every `.rs` file under a member crate's `src/`.
fn sources() -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = common::repo();
    let mut out = Vec::new();
    for (dir, _) in crates() {
        walk(&root.join(dir).join("src"), &mut out);
    }
    out.sort();
    out
}

#[test]
fn every_module_says_what_it_is_for() {
    let undocumented: Vec<String> = sources()
        .into_iter()
        .filter(|p| !std::fs::read_to_string(p).expect("source readable").starts_with("//!"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(sources().len() > 100, "the walk found the sources");
    assert!(undocumented.is_empty(), "modules without a `//!` doc at their top: {undocumented:#?}");
}

#[test]
fn the_http_edge_never_narrows_a_number_with_as() {
    let edge = common::repo().join("services/intake/src");
    let mut found = Vec::new();
    for path in sources().into_iter().filter(|p| p.starts_with(&edge)) {
        let text = std::fs::read_to_string(&path).expect("source readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for target in ["u8", "u16", "u32", "i8", "i16", "i32", "usize"] {
                if code.contains(&format!(" as {target}")) && !code.contains(&format!(" as {target}_")) {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "use `{{target}}::try_from` and answer 400 naming the field: {found:#?}");
}

/// The environment is read in config code only (`gen3d-config`: `ServiceConfig`,
/// `ContainerConfig`, `LogSettings`, the command's default directories), so every setting
/// a process takes is listed, parsed and named in one place. The exceptions say why.
#[test]
fn only_config_code_reads_the_environment() {
    let root = common::repo();
    let config = root.join("shared/config/src");
    let allowed = [
        // Extends the worker's PYTHONPATH with the model directory (the child's
        // environment, not a setting of Gen3D's).
        root.join("container/models/src/python.rs"),
    ];
    // The test crates (`tests/`) read the test run's switches (GEN3D_SKIP, tool paths).
    let test_support = root.join("tests");
    let mut found = Vec::new();
    for path in sources().into_iter().filter(|p| !p.starts_with(&config) && !p.starts_with(&test_support) && !allowed.contains(p)) {
        let text = std::fs::read_to_string(&path).expect("source readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if ["env::var(", "env::var_os(", "env::vars("].iter().any(|call| code.contains(call)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "read settings in gen3d-config (shared/config/src) and pass them in: {found:#?}");
}

/// Tests find the checkout at run time (`gen3d_testkit::repo()`), not at compile time: a
/// test binary in the shared target directory may have been compiled in another clone, and
/// the compile-time `CARGO_MANIFEST_DIR` would name that clone (make test once failed so). Only the
/// two run-time lookups fall back to it, for when cargo does not set the variable.
#[test]
fn tests_find_the_checkout_at_run_time() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && !matches!(name.to_str(), Some("target" | "node_modules" | ".git")) {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = common::repo();
    let allowed = [root.join("tests/kit/src/lib.rs"), root.join("xtask/src/main.rs")];
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert!(files.len() > 200, "the walk found the sources ({})", files.len());
    let found: Vec<String> = files
        .iter()
        .filter(|p| !allowed.contains(p))
        .filter(|p| std::fs::read_to_string(p).expect("source readable").contains(concat!("env!(\"CARGO_", "MANIFEST_DIR\")")))
        .map(|p| p.display().to_string())
        .collect();
    assert!(found.is_empty(), "use gen3d_testkit::repo() instead: {found:#?}");
}

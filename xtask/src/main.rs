//! `cargo xtask dist [--arch arm64|x86_64] [--out DIR]`: builds every Lambda's binary for
//! Lambda's `provided.al2023` runtime and lays out the bundles `Pulumi.yaml` deploys
//! (`dist/lambda/<service>/bootstrap`). AL2023 ships glibc 2.34, so the binaries are
//! linked by `cargo zigbuild` against that version; each bundle is then checked: an ELF
//! for the right machine that needs no newer glibc.

mod elf;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use gen3d_config::Service;

/// Lambda's `provided.al2023` runtime has glibc 2.34.
const GLIBC: (u32, u32) = (2, 34);
/// Lambda's limit on a function's unzipped code.
const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arch {
    Arm64,
    X86_64,
}

impl Arch {
    fn parse(raw: &str) -> anyhow::Result<Self> {
        match raw {
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            "x86_64" | "amd64" => Ok(Arch::X86_64),
            other => bail!("--arch {other:?}: expected arm64 (the default, as Pulumi.yaml deploys) or x86_64"),
        }
    }

    fn triple(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }
}

fn main() -> std::process::ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("dist") => {}
        Some(other) => bail!("unknown task {other:?}; the only task is `dist`"),
        None => bail!("usage: cargo xtask dist [--arch arm64|x86_64] [--out DIR]"),
    }
    // At run time (`cargo xtask` runs it through cargo): a build of xtask in a shared target
    // directory may come from another clone, and its compile-time path would point there.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let root = manifest.parent().map(Path::to_path_buf).context("xtask lives in the repository")?;
    let (mut arch, mut out) = (Arch::Arm64, root.join("dist/lambda"));
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--arch" => arch = Arch::parse(&value)?,
            "--out" => out = PathBuf::from(value),
            other => bail!("unknown flag {other}"),
        }
    }
    dist(&root, arch, &out)
}

fn dist(root: &Path, arch: Arch, out: &Path) -> anyhow::Result<()> {
    let triple = arch.triple();
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output().context("running rustup")?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == triple) {
        bail!("the Rust standard library for {triple} is not installed: run `rustup target add {triple}`");
    }
    let zigbuild = which("cargo-zigbuild").context("cargo-zigbuild is not on PATH: `make dist` installs it (pip: cargo-zigbuild, ziglang)")?;
    let mut build = Command::new(zigbuild);
    build.current_dir(root).args(["zigbuild", "--locked", "--release", "--target", &format!("{triple}.{}.{}", GLIBC.0, GLIBC.1)]);
    for service in Service::ALL {
        build.args(["--bin", &service.lambda_binary()]);
    }
    // The binaries need their crates' `lambda` feature (the libraries alone do not link
    // the Lambda runtime).
    let features: Vec<String> = Service::ALL.iter().map(|s| format!("{}/lambda", s.crate_name())).collect();
    build.args(["--features", &features.join(",")]);
    let status = build.status().context("running cargo zigbuild")?;
    if !status.success() {
        bail!("cargo zigbuild failed ({status})");
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    println!("{:<16} {:>10}  glibc  bundle", "service", "bytes");
    for service in Service::ALL {
        let built = target_dir.join(triple).join("release").join(service.lambda_binary());
        let dir = out.join(service.name());
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let bootstrap = dir.join("bootstrap");
        // The release profile keeps line tables for local backtraces; a Lambda bundle
        // drops them (symbols stay, so panics still name functions).
        strip_debug(arch, &built, &bootstrap)?;
        let bytes = std::fs::read(&bootstrap).with_context(|| format!("reading {}", bootstrap.display()))?;
        let needs = elf::check(&bytes, arch == Arch::Arm64, GLIBC).with_context(|| format!("{}", built.display()))?;
        if bytes.len() as u64 > MAX_UNZIPPED {
            bail!("{} is {} bytes, over Lambda's {MAX_UNZIPPED}-byte limit", bootstrap.display(), bytes.len());
        }
        set_executable(&bootstrap)?;
        println!("{:<16} {:>10}  {}.{:<3} {}", service.name(), bytes.len(), needs.0, needs.1, bootstrap.display());
    }
    Ok(())
}

/// binutils' `strip --strip-debug` for the target (`strip` for x86_64 on an x86_64 host,
/// `aarch64-linux-gnu-strip` from Debian's binutils-aarch64-linux-gnu for arm64; zig's
/// objcopy cannot strip these binaries yet).
fn strip_debug(arch: Arch, input: &Path, output: &Path) -> anyhow::Result<()> {
    let tool = match arch {
        Arch::Arm64 => "aarch64-linux-gnu-strip",
        Arch::X86_64 => "strip",
    };
    let status = Command::new(tool)
        .arg("--strip-debug")
        .arg("-o")
        .arg(output)
        .arg(input)
        .status()
        .with_context(|| format!("running {tool} (`make dist` installs it)"))?;
    if !status.success() {
        bail!("{tool} --strip-debug {} failed ({status})", input.display());
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
}

#[cfg(unix)]
fn set_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).with_context(|| format!("chmod {}", path.display()))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_where_the_program_points() {
        // Pulumi.yaml's `fn::fileArchive: ./dist/lambda/<service>` (checked by tests/infra).
        for service in Service::ALL {
            assert_eq!(service.lambda_bundle_dir(), format!("dist/lambda/{}", service.name()));
        }
        assert_eq!(Arch::parse("arm64").unwrap().triple(), "aarch64-unknown-linux-gnu");
        assert!(Arch::parse("mips").is_err());
        assert!(run(vec!["package".into()]).is_err());
    }
}

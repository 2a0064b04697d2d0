//! The `gen3d` binary: parse the command line and run it (`cli.rs`).

fn main() -> std::process::ExitCode {
    gen3d::cli::main()
}

fn main() -> std::process::ExitCode {
    gen3d::cli::main()
}

//! The `northbound` binary: glue only; the work is in the library.

fn main() -> std::process::ExitCode {
    northbound::cli::main()
}

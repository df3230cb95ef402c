//! `tokentray`: what users and scripts run (see `tokentray_cli::front`).

fn main() -> std::process::ExitCode {
    tokentray_cli::front::main()
}

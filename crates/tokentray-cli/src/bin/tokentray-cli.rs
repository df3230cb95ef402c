//! `tokentray-cli`: the whole command line, which `tokentray` hands every
//! command but an agent-served `tokentray token` to (see `tokentray_cli`).

fn main() -> std::process::ExitCode {
    tokentray_cli::main()
}

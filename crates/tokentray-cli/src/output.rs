//! How results and errors are printed: human text on a terminal, one JSON
//! document with `--json`. Errors go to stderr as `error: …`, or to stdout
//! as `{"error": {"kind", "message"}}` in JSON mode. A closed stdout (e.g.
//! `tokentray profile list | head -1`) is not an error.

use crate::exit;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> tokentray_core::Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| tokentray_core::Error::InvalidInput(format!("cannot encode JSON: {e}")))?;
    print_text(&format!("{text}\n"))
}

/// Prints text on stdout; a broken pipe ends quietly.
pub fn print_text(text: &str) -> tokentray_core::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(tokentray_core::Error::io("cannot write", "<stdout>", e)),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    kind: &'a str,
    message: String,
}

#[derive(Serialize)]
struct ErrorDoc<'a> {
    error: ErrorBody<'a>,
}

/// Prints `error` and returns its exit code.
pub fn report_error(error: &tokentray_core::Error, json: bool) -> ExitCode {
    let printed = json
        && print_json(&ErrorDoc {
            error: ErrorBody {
                kind: error.kind(),
                message: error.to_string(),
            },
        })
        .is_ok();
    if !printed {
        eprintln!("error: {error}");
    }
    exit::for_error(error)
}

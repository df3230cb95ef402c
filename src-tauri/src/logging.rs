//! Logging to a file in the app's log dir (the tray app has no terminal).
//!
//! Filter with `TOKENTRAY_LOG` (`tracing` env-filter syntax, default `info`).
//! Tokens never reach the log: they travel in redacting types and spans skip
//! them. The file is kept small: one previous run's file is kept as `.1`.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::{AppHandle, Manager};
use tracing_subscriber::EnvFilter;

use crate::Error;

const FILE_NAME: &str = "tokentray-app.log";
const ROTATE_AT_BYTES: u64 = 1024 * 1024;

pub fn init(app: &AppHandle) -> Result<(), Error> {
    let dir = app.path().app_log_dir()?;
    let path = dir.join(FILE_NAME);
    let file = open(&dir, &path).map_err(|source| Error::LogFile {
        path: path.clone(),
        source,
    })?;
    let filter =
        EnvFilter::try_from_env("TOKENTRAY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|error| Error::Logger(error.to_string()))?;
    tracing::debug!(path = %path.display(), "logging to file");
    Ok(())
}

fn open(dir: &Path, path: &Path) -> std::io::Result<File> {
    fs::create_dir_all(dir)?;
    if fs::metadata(path).is_ok_and(|meta| meta.len() > ROTATE_AT_BYTES) {
        let mut previous = PathBuf::from(path);
        previous.set_extension("log.1");
        fs::rename(path, previous)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

//! Reading an MSAL cache file: refusing directories, huge files and
//! non-UTF-8 text, checking the JSON's syntax and top level without
//! keeping or quoting any value, and the errors that name the place.

use super::entries::{build, Cache};
use super::Import;
use crate::error::{Error, Location, Result};
use crate::token::EpochSecs;
use std::collections::BTreeMap;
use std::path::Path;
use zeroize::Zeroizing;

/// The largest cache read (Azure CLI caches are tens of kilobytes).
const MAX_BYTES: u64 = 16 * 1024 * 1024;

pub(super) fn location(
    path: &Path,
    line: Option<usize>,
    column: Option<usize>,
    key: Option<&str>,
) -> Location {
    Location {
        file: path.to_path_buf(),
        line,
        column,
        key: key.map(str::to_string),
    }
}

/// Reads the MSAL cache at `path`; `now` decides which access tokens are
/// still valid.
pub fn read_cache(path: &Path, now: EpochSecs) -> Result<Vec<Import>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?;
    if meta.is_dir() {
        return Err(Error::InvalidInput(format!(
            "{} is a directory, not an MSAL token cache file (e.g. ~/.azure/msal_token_cache.json)",
            path.display()
        )));
    }
    if meta.len() > MAX_BYTES {
        return Err(Error::config(
            location(path, None, None, None),
            format!(
                "the file is {} bytes, too large for an MSAL token cache",
                meta.len()
            ),
        ));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::config(
            location(path, None, None, None),
            "not an MSAL token cache: the file is not UTF-8 text",
        )
    })?;
    parse_cache(text, path, now)
}

/// Parses cache JSON read from `path` (named in errors).
pub fn parse_cache(text: &str, path: &Path, now: EpochSecs) -> Result<Vec<Import>> {
    if text.trim().is_empty() {
        return Err(Error::config(
            location(path, None, None, None),
            "the file is empty: not an MSAL token cache",
        ));
    }
    // A first pass checks the syntax and the top level without keeping
    // any value (so no token sits in an unwiped copy).
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => {
                "the MSAL token cache is truncated (the JSON ends early)"
            }
            _ => "the MSAL token cache is not valid JSON",
        };
        // serde_json's position only: its message could quote the input.
        Error::config(location(path, Some(e.line()), Some(e.column()), None), what)
    })?;
    let Ok(top) = serde_json::from_str::<BTreeMap<String, serde::de::IgnoredAny>>(text) else {
        return Err(unknown_format(path));
    };
    const SECTIONS: [&str; 5] = [
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "account",
        "appmetadata",
    ];
    let known = top
        .keys()
        .any(|k| SECTIONS.contains(&k.to_ascii_lowercase().replace('_', "").as_str()));
    if !known {
        return Err(unknown_format(path));
    }
    let cache: Cache = serde_json::from_str(text).map_err(|e| {
        Error::config(
            location(path, None, None, None),
            format!(
                "not an MSAL token cache: a section is not a map of entries ({:?} error)",
                e.classify()
            ),
        )
    })?;
    build(&cache, path, now)
}

fn unknown_format(path: &Path) -> Error {
    Error::config(
        location(path, None, None, None),
        "unknown format: not an MSAL token cache (expected a JSON object with AccessToken, RefreshToken, IdToken, Account or AppMetadata sections)",
    )
}

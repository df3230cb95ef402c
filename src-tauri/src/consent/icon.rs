//! The asking program's icon, where the desktop has one: on Linux and the
//! other free desktops, the `Icon=` of the desktop entry
//! (`applications/*.desktop` in the XDG data directories) whose `TryExec=`
//! or `Exec=` program is the asking executable, found in the `hicolor`
//! theme (which every application installs to) or `pixmaps`, as a
//! `data:` URL for the dialog's `<img>`. Nothing for a script (the
//! interpreter's icon would name the wrong program), nothing when no entry
//! names the program, nothing on macOS and Windows (their icons live in
//! app bundles and executables' resources; the dialog shows the path
//! there). Only PNG and SVG files up to [`MAX_ICON`] bytes; an SVG in an
//! `<img>` runs no script.

use base64::Engine;
use std::path::{Path, PathBuf};

/// Largest icon file read.
pub const MAX_ICON: u64 = 256 * 1024;

/// Theme sizes looked in, best first for a 48-pixel icon.
const SIZES: &[&str] = &["48x48", "64x64", "128x128", "256x256", "32x32", "scalable"];

/// The icon of the program at `exe`, as a `data:` URL; `None` for a
/// script's interpreter, or when the desktop names no icon for it.
pub fn for_program(exe: Option<&str>, script: Option<&str>) -> Option<String> {
    if script.is_some() || cfg!(any(target_os = "macos", windows)) {
        return None;
    }
    let exe = Path::new(exe?);
    let dirs = data_dirs();
    let name = dirs
        .iter()
        .find_map(|dir| icon_name(&dir.join("applications"), exe))?;
    let file = find_icon(&dirs, &name)?;
    data_url(&file)
}

/// `$XDG_DATA_HOME` (default `~/.local/share`), then `$XDG_DATA_DIRS`
/// (default `/usr/local/share:/usr/share`).
fn data_dirs() -> Vec<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let home = var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    let system = var("XDG_DATA_DIRS").unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    home.into_iter()
        .chain(std::env::split_paths(&system))
        .filter(|dir| dir.is_absolute())
        .collect()
}

/// The `Icon=` of the first desktop entry in `dir` (sorted by file name)
/// that runs `exe`.
fn icon_name(dir: &Path, exe: &Path) -> Option<String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "desktop"))
        .collect();
    entries.sort();
    entries.iter().find_map(|path| {
        let text = read_small(path)?;
        let entry = DesktopEntry::parse(&text);
        entry.runs(exe).then_some(entry.icon).flatten()
    })
}

/// The keys of a `[Desktop Entry]` group that matter here.
#[derive(Debug, Default, PartialEq, Eq)]
struct DesktopEntry {
    exec: Option<String>,
    try_exec: Option<String>,
    icon: Option<String>,
}

impl DesktopEntry {
    fn parse(text: &str) -> Self {
        let mut entry = DesktopEntry::default();
        let mut in_main_group = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_main_group = line == "[Desktop Entry]";
                continue;
            }
            let Some((key, value)) = line.split_once('=').filter(|_| in_main_group) else {
                continue;
            };
            let value = Some(value.trim().to_string());
            match key.trim() {
                "Exec" => entry.exec = value,
                "TryExec" => entry.try_exec = value,
                "Icon" => entry.icon = value,
                _ => {}
            }
        }
        entry
    }

    /// Whether its `TryExec` or the program of its `Exec` (after `env` and
    /// its `NAME=value` settings) is `exe`: the same file for a path, the
    /// same file name for a bare name.
    fn runs(&self, exe: &Path) -> bool {
        let from_exec = self.exec.as_deref().and_then(exec_program);
        [self.try_exec.as_deref(), from_exec]
            .into_iter()
            .flatten()
            .any(|program| same_program(program, exe))
    }
}

/// The program an `Exec=` line starts.
fn exec_program(exec: &str) -> Option<&str> {
    exec.split_whitespace()
        .map(|word| word.trim_matches('"'))
        .find(|word| *word != "env" && !word.contains('='))
}

fn same_program(program: &str, exe: &Path) -> bool {
    let program = Path::new(program);
    if program.is_absolute() {
        program == exe || std::fs::canonicalize(program).is_ok_and(|real| real == exe)
    } else {
        program.file_name().is_some() && program.file_name() == exe.file_name()
    }
}

/// An absolute `Icon=` file, or the theme's or `pixmaps`' file of that
/// name.
fn find_icon(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let name_path = Path::new(name);
    if name_path.is_absolute() {
        return Some(name_path.to_path_buf()).filter(|p| p.is_file());
    }
    if name.contains('/') {
        return None;
    }
    let themed = dirs.iter().flat_map(|dir| {
        SIZES.iter().flat_map(move |size| {
            ["png", "svg"].map(|ext| {
                dir.join("icons/hicolor")
                    .join(size)
                    .join("apps")
                    .join(format!("{name}.{ext}"))
            })
        })
    });
    let pixmaps = dirs.iter().flat_map(|dir| {
        ["png", "svg"].map(|ext| dir.join("pixmaps").join(format!("{name}.{ext}")))
    });
    themed.chain(pixmaps).find(|path| path.is_file())
}

/// The file as a `data:` URL, when it is a PNG or an SVG of at most
/// [`MAX_ICON`] bytes.
fn data_url(file: &Path) -> Option<String> {
    let bytes = read_limited(file)?;
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if file.extension().is_some_and(|e| e == "svg")
        && String::from_utf8_lossy(&bytes).contains("<svg")
    {
        "image/svg+xml"
    } else {
        return None;
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Some(format!("data:{mime};base64,{encoded}"))
}

fn read_limited(file: &Path) -> Option<Vec<u8>> {
    let meta = std::fs::metadata(file).ok()?;
    (meta.is_file() && meta.len() <= MAX_ICON)
        .then(|| std::fs::read(file).ok())
        .flatten()
        .filter(|bytes| bytes.len() as u64 <= MAX_ICON)
}

fn read_small(file: &Path) -> Option<String> {
    read_limited(file).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    /// A data directory with one desktop entry and its icon.
    fn desktop(entry: &str, icon: &str, bytes: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("applications")).unwrap();
        std::fs::write(dir.path().join("applications/tool.desktop"), entry).unwrap();
        let icons = dir.path().join("icons/hicolor/48x48/apps");
        std::fs::create_dir_all(&icons).unwrap();
        std::fs::write(icons.join(icon), bytes).unwrap();
        dir
    }

    fn lookup(dir: &Path, exe: &Path) -> Option<String> {
        let name = icon_name(&dir.join("applications"), exe)?;
        data_url(&find_icon(&[dir.to_path_buf()], &name)?)
    }

    #[test]
    fn the_entry_that_runs_the_program_gives_its_themed_icon() {
        let entry = "[Desktop Entry]\nName=Tool\nExec=env GDK_BACKEND=x11 /opt/tool/bin/tool %U\nIcon=tool\n[Desktop Action New]\nIcon=other\n";
        let dir = desktop(entry, "tool.png", PNG);
        let url = lookup(dir.path(), Path::new("/opt/tool/bin/tool")).unwrap();
        assert!(url.starts_with("data:image/png;base64,"), "{url}");
        let encoded = url.trim_start_matches("data:image/png;base64,");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(decoded, PNG);
        // a bare name in Exec matches by file name; other programs get none
        let bare = desktop("[Desktop Entry]\nExec=tool\nIcon=tool\n", "tool.png", PNG);
        assert!(lookup(bare.path(), Path::new("/usr/lib/tool/tool")).is_some());
        assert_eq!(lookup(dir.path(), Path::new("/usr/bin/other")), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_exec_matches_the_real_executable() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-tool");
        std::fs::write(&real, b"").unwrap();
        let link = dir.path().join("tool");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let entry = DesktopEntry::parse(&format!(
            "[Desktop Entry]\nTryExec={}\nExec=\"{}\" --new\n",
            link.display(),
            link.display()
        ));
        assert!(entry.runs(&std::fs::canonicalize(&real).unwrap()));
    }

    #[test]
    fn only_small_png_and_svg_files_become_icons() {
        let svg = desktop(
            "[Desktop Entry]\nExec=tool\nIcon=tool\n",
            "tool.svg",
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        );
        let url = lookup(svg.path(), Path::new("/bin/tool")).unwrap();
        assert!(url.starts_with("data:image/svg+xml;base64,"));
        let text = desktop(
            "[Desktop Entry]\nExec=tool\nIcon=tool\n",
            "tool.png",
            b"not a png",
        );
        assert_eq!(lookup(text.path(), Path::new("/bin/tool")), None);
        let mut big = PNG.to_vec();
        big.resize(usize::try_from(MAX_ICON).unwrap() + 1, 0);
        let big = desktop("[Desktop Entry]\nExec=tool\nIcon=tool\n", "tool.png", &big);
        assert_eq!(lookup(big.path(), Path::new("/bin/tool")), None);
    }

    #[test]
    fn a_script_or_an_unknown_path_has_no_icon() {
        assert_eq!(
            for_program(Some("/usr/bin/python3"), Some("/srv/job.py")),
            None
        );
        assert_eq!(for_program(None, None), None);
        let relative = DesktopEntry::parse("[Desktop Entry]\nExec=tool\nIcon=../../etc/x\n");
        assert_eq!(relative.icon.as_deref(), Some("../../etc/x"));
        assert_eq!(
            find_icon(&[PathBuf::from("/usr/share")], "../../etc/x"),
            None
        );
    }
}

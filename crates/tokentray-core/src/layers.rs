//! The core's layers, declared once and checked against the source: each
//! module may use only modules of its own layer or below (a module's own
//! submodules are its business). A test reads every `crate::…` path in
//! `src/` and fails on one that points up, so "layers point down only" is
//! a fact of the build, not a hope. A second test holds the tray app's
//! modules (`src-tauri/src`) to a weaker rule with the same reader: no
//! module uses a module that uses it back, directly or around a circle.

/// The layers, top first. A module not listed here fails the test, so a
/// new module must say where it belongs.
pub const LAYERS: &[&[&str]] = &[
    // test fakes (`cfg(test)` and the `testing` feature): above everything,
    // so no other module can use them
    &["testing"],
    // the faces' entry points
    &["agent", "ipc", "import"],
    // the façade and what is built over it
    &["status", "schedule"],
    &["broker", "login", "access"],
    // the engine's parts
    &["flow"],
    &["provider"],
    &[
        "http",
        "lock",
        "account",
        "profile",
        "jwt",
        "hardening",
        "caller",
        "audit",
    ],
    &["vault", "token", "clock_words"],
    // the ground
    &["secret", "error", "fault", "private_dir", "win32", "html"],
];

#[cfg(test)]
mod tests {
    use super::LAYERS;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn layer_of(module: &str) -> Option<usize> {
        LAYERS.iter().position(|layer| layer.contains(&module))
    }

    /// Every `.rs` file under `dir`.
    fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    /// The top-level modules a source text names with `crate::`, in code
    /// (comments and doc links are skipped), including `crate::{a, b::c}`.
    pub(crate) fn used_modules(text: &str) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        let code: String = text
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ");
        {
            let mut rest = code.as_str();
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let inner = group.split('}').next().unwrap_or_default();
                    for path in inner.split(',') {
                        let first = path.trim().split("::").next().unwrap_or_default();
                        if !first.is_empty() {
                            used.insert(first.to_string());
                        }
                    }
                } else {
                    let ident: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !ident.is_empty() {
                        used.insert(ident);
                    }
                }
            }
        }
        used
    }

    /// The modules each file of a flat `src/` uses (code outside the
    /// trailing test module; the crate root's re-exports of `error` count
    /// as `error`).
    fn module_graph(src: &Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
        let mut files = Vec::new();
        sources(src, &mut files);
        files
            .iter()
            .filter_map(|file| {
                let module = file.file_stem()?.to_string_lossy().into_owned();
                let text = std::fs::read_to_string(file).ok()?;
                let code = text
                    .split("#[cfg(test)]\nmod tests")
                    .next()
                    .unwrap_or_default();
                let used = used_modules(code)
                    .into_iter()
                    .map(|m| match m.as_str() {
                        "Error" | "CommandError" => "error".to_string(),
                        _ => m,
                    })
                    .filter(|m| *m != module)
                    .collect();
                Some((module, used))
            })
            .collect()
    }

    /// A circle through `start`, if its uses lead back to it.
    fn circle(
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        start: &str,
    ) -> Option<Vec<String>> {
        let mut path = vec![start.to_string()];
        let mut seen = BTreeSet::new();
        fn walk(
            graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
            start: &str,
            path: &mut Vec<String>,
            seen: &mut BTreeSet<String>,
        ) -> bool {
            let Some(last) = path.last().cloned() else {
                return false;
            };
            for next in graph.get(&last).into_iter().flatten() {
                if next == start {
                    path.push(next.clone());
                    return true;
                }
                if next != "lib" && seen.insert(next.clone()) {
                    path.push(next.clone());
                    if walk(graph, start, path, seen) {
                        return true;
                    }
                    path.pop();
                }
            }
            false
        }
        walk(graph, start, &mut path, &mut seen).then_some(path)
    }

    #[test]
    fn a_circle_is_found_and_named() {
        let graph = [
            ("a", vec!["b"]),
            ("b", vec!["c"]),
            ("c", vec!["a"]),
            ("d", vec!["a"]),
        ]
        .into_iter()
        .map(|(m, uses)| (m.to_string(), uses.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(circle(&graph, "a").unwrap(), ["a", "b", "c", "a"]);
        assert_eq!(circle(&graph, "d"), None);
    }

    #[test]
    fn the_apps_modules_use_each_other_without_circles() {
        let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../src-tauri/src");
        if !app.is_dir() {
            return; // the core alone, outside the workspace
        }
        let graph = module_graph(&app);
        assert!(graph.len() > 10, "read the app's modules: {graph:?}");
        let circles: Vec<String> = graph
            .keys()
            .filter(|m| *m != "lib" && *m != "main")
            .filter_map(|m| circle(&graph, m))
            .map(|c| c.join(" → "))
            .collect();
        assert!(
            circles.is_empty(),
            "import circles:\n{}",
            circles.join("\n")
        );
    }

    #[test]
    fn crate_paths_are_read_from_code_only() {
        let text = "use crate::{broker::Broker, error::Result};\n\
                    // crate::agent in a comment\n\
                    use crate::{\n    account::Account,\n    lock,\n};\n\
                    let x = crate::token::now(); /// [`crate::ipc`]";
        let used: Vec<String> = used_modules(text).into_iter().collect();
        assert_eq!(used, ["account", "broker", "error", "lock", "token"]);
    }

    #[test]
    fn layers_point_down_only() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut wrong = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&src).unwrap();
            let module = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            let test_only = file.file_stem().is_some_and(|stem| {
                matches!(stem.to_str(), Some("tests" | "testing" | "properties"))
            });
            if matches!(module.as_str(), "lib" | "layers") || test_only {
                continue;
            }
            let Some(own) = layer_of(&module) else {
                wrong.push(format!("{module}: not in LAYERS"));
                continue;
            };
            let text = std::fs::read_to_string(&file).unwrap();
            // a module's tests may use anything (fakes, test rigs)
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            for used in used_modules(code) {
                // `crate::Error` and friends: the root's re-exports of the
                // ground's types
                if used == module || used.starts_with(|c: char| c.is_ascii_uppercase()) {
                    continue;
                }
                match layer_of(&used) {
                    Some(layer) if layer >= own => {}
                    Some(_) => wrong.push(format!(
                        "{}: uses `{used}`, a layer above",
                        relative.display()
                    )),
                    None => wrong.push(format!(
                        "{}: uses `{used}`, not in LAYERS",
                        relative.display()
                    )),
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

//! Registers our commands in the app manifest so each needs an explicit
//! permission (`allow-app-info`, ...) in a capability: deny by default (S17).
//! First it checks that the front end was built: `generate_context!` embeds
//! `ui/dist`, and without it a fresh checkout would fail deep inside the
//! macro instead of saying what to run.

use std::path::Path;

/// What a fresh checkout needs before `cargo build` (one line).
const BUILD_THE_UI: &str = "the front end is not built (no ui/dist/index.html): run `npm ci --prefix ui && npm run build --prefix ui` (or `scripts/run`, which does it), then build again";

fn main() {
    // relative: a build script runs in its package's directory (its
    // compile-time CARGO_MANIFEST_DIR may be another checkout's, as cargo
    // shares the compiled script between checkouts in one target dir)
    let index = Path::new("../ui/dist/index.html");
    println!("cargo::rerun-if-changed={}", index.display());
    if !index.is_file() {
        println!("cargo::error={BUILD_THE_UI}");
        return;
    }
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "take_view",
        "list_accounts",
        "account_action",
        "sign_in",
        "show_claims",
        "list_profiles",
        "save_profile",
        "remove_profile",
        "get_settings",
        "save_settings",
        "import_msal",
        "start_demo",
        "list_activity",
        "revoke_rule",
        "consent_question",
        "consent_answer",
    ]);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        // build scripts report failure through a panic, with the reason
        panic!("tauri-build failed: {error:#}");
    }
}

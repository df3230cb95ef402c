//! Registers our commands in the app manifest so each needs an explicit
//! permission (`allow-app-info`, ...) in a capability: deny by default (S17).

fn main() {
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
    ]);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        // build scripts report failure through a panic, with the reason
        panic!("tauri-build failed: {error:#}");
    }
}

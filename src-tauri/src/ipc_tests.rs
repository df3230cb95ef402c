//! IPC least privilege, checked by tauri's own ACL on its mock runtime
//! (S17): our real capabilities and app manifest (the context is generated
//! from `tauri.conf.json` and `capabilities/` like the app's), our real
//! command registration. The local accounts window may invoke the
//! accounts commands, the local consent dialog its two, neither the
//! other's; a login window (`login-<n>`) may invoke none, whatever its
//! URL, and neither may a remote page loaded in either window.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

const LOCAL: &str = "tauri://localhost";
/// Every command the app declares in its manifest (`build.rs`; the
/// file-level test in `tests/capabilities.rs` checks that every registered
/// command is declared there).
fn commands() -> Vec<&'static str> {
    let build = include_str!("../build.rs");
    let start = build
        .find(".commands(&[")
        .map_or(0, |at| at + ".commands(&[".len());
    let end = start + build[start..].find(']').unwrap_or(0);
    build[start..end]
        .split(',')
        .map(|item| item.trim().trim_matches('"'))
        .filter(|item| !item.is_empty())
        .collect()
}
const REMOTE: &str = "https://idp.example/authorize";

/// The commands a capability grants (`allow-app-info` → `app_info`).
fn granted(capability: &str) -> Vec<String> {
    let capability: serde_json::Value =
        serde_json::from_str(capability).unwrap_or_else(|e| panic!("capability: {e}"));
    capability["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|permission| permission.as_str()?.strip_prefix("allow-"))
        .map(|command| command.replace('-', "_"))
        .collect()
}

fn app() -> App<MockRuntime> {
    crate::with_commands(mock_builder())
        .build(tauri::generate_context!(test = true))
        .unwrap_or_else(|e| panic!("mock app: {e}"))
}

fn window(app: &App<MockRuntime>, label: &str, url: WebviewUrl) -> WebviewWindow<MockRuntime> {
    WebviewWindowBuilder::new(app, label, url)
        .build()
        .unwrap_or_else(|e| panic!("window {label}: {e}"))
}

fn invoke(window: &WebviewWindow<MockRuntime>, url: &str, command: &str) -> Result<(), String> {
    let request = InvokeRequest {
        cmd: command.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: url.parse().unwrap_or_else(|e| panic!("{url}: {e}")),
        body: InvokeBody::default(),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

/// Refused by the ACL (not for some other reason).
fn assert_refused(answer: Result<(), String>, command: &str, what: &str) {
    match answer {
        Ok(()) => panic!("{what}: {command} ran"),
        Err(error) => assert!(
            error.contains(&format!("{command} not allowed")),
            "{what}: {command}: {error}"
        ),
    }
}

// S17: every command is refused to the login window and to remote pages;
// each local window gets its own commands only
#[test]
fn only_the_local_accounts_window_may_invoke() {
    let app = app();
    let commands = commands();
    assert!(commands.len() >= 14, "{commands:?}");
    let windows = [
        (
            "accounts",
            "index.html",
            granted(include_str!("../capabilities/accounts.json")),
        ),
        (
            "consent",
            "consent.html",
            granted(include_str!("../capabilities/consent.json")),
        ),
    ];
    for (label, page, own) in &windows {
        let window = window(&app, label, WebviewUrl::App((*page).into()));
        for &command in &commands {
            let local = invoke(&window, LOCAL, command);
            if own.iter().any(|c| c == command) {
                // allowed by the ACL (the mock app lacks the state some need)
                if let Err(error) = local {
                    assert!(
                        !error.contains("not allowed"),
                        "{label}: {command}: {error}"
                    );
                }
            } else {
                assert_refused(local, command, &format!("the {label} window"));
            }
            let remote = invoke(&window, REMOTE, command);
            assert_refused(
                remote,
                command,
                &format!("a remote page in the {label} window"),
            );
        }
    }
    let accounts = app
        .get_webview_window("accounts")
        .unwrap_or_else(|| panic!("the accounts window"));
    assert_eq!(invoke(&accounts, LOCAL, "app_info"), Ok(()));

    let login = window(
        &app,
        "login-0",
        WebviewUrl::External(REMOTE.parse().unwrap_or_else(|e| panic!("{e}"))),
    );
    for url in [REMOTE, LOCAL] {
        for &command in &commands {
            let answer = invoke(&login, url, command);
            assert_refused(answer, command, &format!("the login window from {url}"));
        }
    }
}

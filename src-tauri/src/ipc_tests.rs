//! IPC least privilege, checked by tauri's own ACL on its mock runtime
//! (S17): our real capabilities and app manifest (the context is generated
//! from `tauri.conf.json` and `capabilities/` like the app's), our real
//! command registration. Only the local accounts window may invoke; a
//! login window (`login-<n>`) may not, whatever its URL, and neither may a
//! remote page loaded in the accounts window.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

const LOCAL: &str = "tauri://localhost";
const REMOTE: &str = "https://idp.example/authorize";

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

fn invoke(window: &WebviewWindow<MockRuntime>, url: &str) -> Result<(), String> {
    let request = InvokeRequest {
        cmd: "app_info".into(),
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
fn assert_refused(answer: Result<(), String>, what: &str) {
    match answer {
        Ok(()) => panic!("{what}: the command ran"),
        Err(error) => assert!(error.contains("app_info not allowed"), "{what}: {error}"),
    }
}

// S17: the login window has zero IPC
#[test]
fn only_the_local_accounts_window_may_invoke() {
    let app = app();
    let accounts = window(&app, "accounts", WebviewUrl::App("index.html".into()));
    assert_eq!(invoke(&accounts, LOCAL), Ok(()));
    let remote = invoke(&accounts, REMOTE);
    assert_refused(remote, "a remote page in the accounts window");

    let login = window(
        &app,
        "login-0",
        WebviewUrl::External(REMOTE.parse().unwrap_or_else(|e| panic!("{e}"))),
    );
    for url in [REMOTE, LOCAL] {
        let answer = invoke(&login, url);
        assert_refused(answer, &format!("the login window from {url}"));
    }
}

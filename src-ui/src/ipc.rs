//! Hand-written bindings to the IPC entry points Tauri 2 injects into every page
//! (`window.__TAURI_INTERNALS__`): `invoke` for Confab's commands and the opener plugin's
//! `open_url`, and `transformCallback` to register the event listener (`plugin:event|listen`,
//! what `@tauri-apps/api`'s `listen` does).
//!
//! Not the global API (`app.withGlobalTauri`): that injects the whole `@tauri-apps/api` bundle
//! (41 KB of JavaScript, and each plugin's) into the page, ~1.9 MB of the web process for two
//! functions (BENCHMARKS.md, idle memory). The internals are what that bundle itself calls; the
//! e2e tests would catch a Tauri that renamed them.
//!
//! Values cross as JSON text, so the serde shapes of `confab-model` are the whole contract.
//! Outside the webview (native tests) these functions are never called.

use confab_model::ipc::{IpcError, IpcErrorCode, UiEvent, EVENT};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    /// Registers a function the shell can call back (by the number returned).
    #[wasm_bindgen(js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = transformCallback)]
    fn transform_callback(handler: &Closure<dyn FnMut(JsValue)>, once: bool) -> JsValue;
}

fn to_js(value: &impl Serialize) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL)
}

fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, serde_json::Error> {
    let text = if value.is_undefined() || value.is_null() {
        "null".to_string()
    } else {
        js_sys::JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "null".into())
    };
    serde_json::from_str(&text)
}

/// Calls the shell's command `cmd` with `args` (its one argument, named `args`).
///
/// # Errors
/// The command's [`IpcError`]; an `Internal` one when the answer has an unexpected shape.
pub async fn invoke<T: DeserializeOwned>(cmd: &str, args: &impl Serialize) -> Result<T, IpcError> {
    match tauri_invoke(cmd, to_js(&serde_json::json!({ "args": args }))).await {
        Ok(v) => from_js(&v).map_err(|_| internal()),
        Err(e) => Err(from_js::<IpcError>(&e).unwrap_or_else(|_| internal())),
    }
}

/// Asks the shell's opener plugin (`plugin:opener|open_url`) to open `url` in the system's
/// browser or mail program. The shell grants it for `http://`, `https://` and `mailto:` only.
///
/// # Errors
/// The plugin's refusal or failure, as it words it (a URL outside the scope, no launcher).
pub async fn open_url(url: &str) -> Result<(), String> {
    // Plugins other than Confab's own take their arguments by name, not as one `args`.
    let args = to_js(&serde_json::json!({ "url": url }));
    tauri_invoke("plugin:opener|open_url", args)
        .await
        .map(drop)
        .map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

fn internal() -> IpcError {
    IpcError::new(IpcErrorCode::Internal, "Unexpected answer from the app.")
}

/// Calls `handler` with every [`UiEvent`] the shell forwards, for the life of the page.
pub async fn listen(handler: impl Fn(UiEvent) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload =
            js_sys::Reflect::get(&event, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        if let Ok(ev) = from_js::<UiEvent>(&payload) {
            handler(ev);
        }
    });
    // Any target: the shell emits to the app as a whole.
    let handler = transform_callback(&closure, false);
    let args = to_js(&serde_json::json!({
        "event": EVENT,
        "target": { "kind": "Any" },
        "handler": handler.as_f64(),
    }));
    // The listener lives as long as the page: leak the closure on purpose.
    let _ = tauri_invoke("plugin:event|listen", args).await;
    closure.forget();
}

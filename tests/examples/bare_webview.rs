//! The floor under the desktop app's idle memory: an empty WebKitGTK window made with the same
//! tao and wry that Tauri runs on, showing one line of text and nothing else (no IPC commands,
//! no wasm, no core, no tray). `bench_app` starts it after Confab and measures it the same way,
//! so the figure it prints beside Confab's is what any WebKitGTK app pays on this machine
//! before its own code: WebKit's three processes, JavaScriptCore and the GL stack.
//!
//! It renders the way Confab does (non-composited without a GPU), never talks to a backend
//! and is not part of the product. It prints `painted` once the page's second animation frame
//! has run, which is when `bench_app` starts its idle window.

use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoop};
use tao::platform::unix::WindowExtUnix;
use tao::window::WindowBuilder;
use wry::{WebViewBuilder, WebViewBuilderExtUnix};

/// Two frames: the first runs before the page is drawn, the second after it was.
const PAGE: &str = "<!doctype html><meta charset=utf-8><title>bare</title>\
    <p style=\"font-family: system-ui, sans-serif\">An empty web view.</p>\
    <script>requestAnimationFrame(() => requestAnimationFrame(() => \
    window.ipc.postMessage('painted')))</script>";

fn main() -> anyhow::Result<()> {
    // The rendering choice Confab makes (src-tauri/src/lib.rs): without a GPU render node,
    // WebKit's non-composited path. Measured otherwise the floor would be ~55 MB higher
    // (llvmpipe's GL buffers) and the comparison unfair to the peer.
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let gpu = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    if std::env::var_os(VAR).is_none() && !gpu {
        std::env::set_var(VAR, "1");
    }
    let event_loop = EventLoop::new();
    let window = WindowBuilder::new()
        .with_title("bare webview")
        .build(&event_loop)?;
    let vbox = window
        .default_vbox()
        .ok_or_else(|| anyhow::anyhow!("tao made no GTK box for the web view"))?;
    let _webview = WebViewBuilder::new()
        .with_html(PAGE)
        .with_ipc_handler(|message| println!("{}", message.body()))
        .build_gtk(vbox)?;
    event_loop.run(move |event, _, flow| {
        *flow = ControlFlow::Wait;
        if let Event::WindowEvent {
            event: WindowEvent::CloseRequested,
            ..
        } = event
        {
            *flow = ControlFlow::Exit;
        }
    })
}

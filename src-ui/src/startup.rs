//! Start-up timing: when the wasm module ran and when the first screen was in the DOM and
//! painted, reported once to the shell (it shows the window, then logs the figures the
//! cold-start benchmark reads).

use std::cell::Cell;

use confab_model::ipc::commands::{FirstPaint, ScreenReady};
use confab_model::ipc::PageMarks;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

use crate::commands::call;

thread_local! {
    static FIRST_PAINT_SENT: Cell<bool> = const { Cell::new(false) };
    /// When the wasm module started running (ms since the page began loading): the start-up
    /// log splits the page's time into loading the module and rendering the first screen.
    static WASM_STARTED_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// The name of the `performance.mark` set when the first screen with content was painted.
pub const FIRST_PAINT_MARK: &str = "confab-first-paint";

fn page_now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Called first thing in `run`: the module is compiled and instantiated.
pub fn wasm_started() {
    WASM_STARTED_MS.with(|s| s.set(page_now_ms()));
    mark("confab-wasm");
}

/// Gives the page `window.confabWasmBytes()`: the size of the UI's wasm memory, which only
/// ever grows (its peak stays), for the memory benchmarks to tell it from WebKit's own.
pub fn expose_wasm_bytes() {
    let bytes = wasm_bindgen::closure::Closure::<dyn Fn() -> f64>::new(|| {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .map_or(0.0, |m| {
                m.buffer()
                    .dyn_into::<js_sys::ArrayBuffer>()
                    .map_or(0.0, |b| f64::from(b.byte_length()))
            })
    });
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"confabWasmBytes".into(), bytes.as_ref());
    }
    // Lives as long as the page.
    bytes.forget();
}

/// Sets a mark on the page's own timeline (a step of the start, for a benchmark to read
/// through WebDriver with `performance.getEntriesByType("mark")`). Costs one call.
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Once per run, when the first screen with content is in the DOM: has the shell show the
/// window (it starts hidden, so its first draw finds a page ready to paint), then, after the
/// first frame of the shown window, reports the paint. Called from an effect, so the DOM is
/// updated; the animation frame runs before the paint and the zero timeout after.
pub fn first_paint(screen: &'static str, conversations: usize) {
    if FIRST_PAINT_SENT.with(|s| s.replace(true)) {
        return;
    }
    let content_ms = page_now_ms();
    mark("confab-content");
    spawn_local(async move {
        // Shown before the frame is requested: the reported paint is one a person could see.
        let _ = call(ScreenReady {}).await;
        let marks = PageMarks {
            wasm_ms: WASM_STARTED_MS.with(Cell::get) as u64,
            content_ms: content_ms as u64,
            shown_ms: page_now_ms() as u64,
            page_ms: 0,
        };
        let Some(window) = web_sys::window() else {
            return;
        };
        let after_frame = wasm_bindgen::closure::Closure::once_into_js(move || {
            gloo_timers::callback::Timeout::new(0, move || {
                // Also as a mark on the page's own timeline, for a benchmark to read through
                // WebDriver (`performance.getEntriesByName`): its start is the same moment.
                if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                    let _ = p.mark(FIRST_PAINT_MARK);
                }
                let marks = PageMarks {
                    page_ms: page_now_ms() as u64,
                    ..marks
                };
                let paint = FirstPaint {
                    screen: screen.into(),
                    conversations,
                    marks,
                };
                spawn_local(async move {
                    let _ = call(paint).await;
                });
            })
            .forget();
        });
        let _ = window.request_animation_frame(after_frame.unchecked_ref());
    });
}

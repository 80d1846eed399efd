//! The local time rules for [`crate::logic::format`], as the desktop handed them over with
//! `start` ([`LocalClock`]): the UTC offset in force at each instant (the machine's time zone,
//! daylight saving included) and whether the window's language reads a 12-hour clock.
//!
//! The web engine is asked only when the desktop could not tell: its `Date` and `Intl` load
//! ICU's time zone and locale data into the web process, ~2.7 MB kept for as long as the window
//! lives (BENCHMARKS.md, idle memory). The hour cycle depends on the engine's own language
//! data, so it is measured with `Intl` once per language and remembered by the core (the UI
//! setting [`HOUR_CYCLE_SETTING`]); later starts never load ICU.
//!
//! What it never does: run outside a browser (the logic's native tests use fixed rules).

use std::cell::{Cell, RefCell};

use confab_model::ipc::commands::SetSetting;
use confab_model::ipc::{HourCycle, LocalClock, ZoneSpan, HOUR_CYCLE_SETTING};
use wasm_bindgen::JsValue;

use crate::logic::format::LocalTime;

/// The window's rules (cheap to copy; they live in this module's thread-locals).
#[derive(Debug, Clone, Copy)]
pub struct Webview {
    hour12: bool,
}

thread_local! {
    /// `None` until the `start` answer: nothing shows a time before it.
    static CLOCK: RefCell<Option<LocalClock>> = const { RefCell::new(None) };
    static HOUR12: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Takes the desktop's rules (the `start` answer), before anything shows a time.
pub fn remember(clock: LocalClock) {
    if let Some(hour12) = clock.hour12_for(&language()) {
        HOUR12.with(|cached| cached.set(Some(hour12)));
    }
    CLOCK.with(|c| *c.borrow_mut() = Some(clock));
}

/// Takes the machine's new time zone, changed while the app ran ([`UiEvent::Clock`]); the
/// hour cycle stays as it was.
///
/// [`UiEvent::Clock`]: confab_model::ipc::UiEvent::Clock
pub fn change(zone: Vec<ZoneSpan>) {
    CLOCK.with(|c| c.borrow_mut().get_or_insert_with(LocalClock::default).zone = zone);
}

/// The time now (Unix ms) and the offset from UTC in force (minutes; 0 before [`remember`]).
pub fn now() -> (i64, i32) {
    #[expect(clippy::cast_possible_truncation, reason = "epoch ms fit an i64")]
    let now_ms = js_sys::Date::now() as i64;
    let known = CLOCK.with(|c| c.borrow().is_some());
    let offset_min = if known {
        local().offset_min_at(now_ms)
    } else {
        0
    };
    (now_ms, offset_min)
}

/// The local time rules of this window.
pub fn local() -> Webview {
    let hour12 = HOUR12.with(|cached| {
        cached.get().unwrap_or_else(|| {
            let language = language();
            let found = reads_twelve_hours();
            cached.set(Some(found));
            remember_hour_cycle(HourCycle {
                language,
                hour12: found,
            });
            found
        })
    });
    Webview { hour12 }
}

/// The window's language (`navigator.language`, which WebKit takes from the desktop's locale
/// without ICU), e.g. `en-US`.
fn language() -> String {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"navigator".into()).ok())
        .and_then(|n| js_sys::Reflect::get(&n, &"language".into()).ok())
        .and_then(|l| l.as_string())
        .unwrap_or_default()
}

/// Asks the core to remember a measured hour cycle for the next start (signed in only: the
/// setting belongs to the account; without one the next start measures again).
fn remember_hour_cycle(cycle: HourCycle) {
    let Ok(value) = serde_json::to_string(&cycle) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let key = HOUR_CYCLE_SETTING.to_string();
        let _ = crate::commands::call(SetSetting { key, value }).await;
    });
}

/// Whether `Intl` formats hours on a 12-hour cycle for the webview's language.
fn reads_twelve_hours() -> bool {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"hour".into(), &"numeric".into());
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options);
    let resolved = format.resolved_options();
    match js_sys::Reflect::get(&resolved, &"hourCycle".into())
        .ok()
        .and_then(|v| v.as_string())
    {
        Some(cycle) => cycle == "h11" || cycle == "h12",
        None => js_sys::Reflect::get(&resolved, &"hour12".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
    }
}

impl LocalTime for Webview {
    fn offset_min_at(self, utc_ms: i64) -> i32 {
        CLOCK
            .with(|c| c.borrow().as_ref().and_then(|c| c.offset_min_at(utc_ms)))
            .unwrap_or_else(|| engine_offset_min_at(utc_ms))
    }

    fn hour12(self) -> bool {
        self.hour12
    }
}

/// The engine's offset at `utc_ms`, when the desktop had none.
fn engine_offset_min_at(utc_ms: i64) -> i32 {
    // JavaScript gives minutes *behind* UTC, for that instant.
    #[expect(clippy::cast_precision_loss, reason = "epoch ms fit a double exactly")]
    let date = js_sys::Date::new(&JsValue::from_f64(utc_ms as f64));
    #[expect(clippy::cast_possible_truncation, reason = "offsets are whole minutes")]
    let behind = date.get_timezone_offset() as i32;
    -behind
}

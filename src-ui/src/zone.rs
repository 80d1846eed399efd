//! The webview's local time rules for [`crate::logic::format`]: the UTC offset in force at each
//! instant (JavaScript's `Date` knows the system's time zone, daylight saving included) and
//! whether the user's locale reads a 12-hour clock (`Intl.DateTimeFormat`'s resolved hour
//! cycle for the webview's language).
//!
//! What it never does: run outside a browser (the logic's native tests use fixed rules).

use std::cell::Cell;

use wasm_bindgen::JsValue;

use crate::logic::format::LocalTime;

/// The webview's rules (cheap to copy; the hour cycle is read once).
#[derive(Debug, Clone, Copy)]
pub struct Webview {
    hour12: bool,
}

thread_local! {
    static HOUR12: Cell<Option<bool>> = const { Cell::new(None) };
}

/// The local time rules of this webview.
pub fn local() -> Webview {
    let hour12 = HOUR12.with(|cached| {
        cached.get().unwrap_or_else(|| {
            let found = reads_twelve_hours();
            cached.set(Some(found));
            found
        })
    });
    Webview { hour12 }
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
        // JavaScript gives minutes *behind* UTC, for that instant.
        #[expect(clippy::cast_precision_loss, reason = "epoch ms fit a double exactly")]
        let date = js_sys::Date::new(&JsValue::from_f64(utc_ms as f64));
        #[expect(clippy::cast_possible_truncation, reason = "offsets are whole minutes")]
        let behind = date.get_timezone_offset() as i32;
        -behind
    }

    fn hour12(self) -> bool {
        self.hour12
    }
}

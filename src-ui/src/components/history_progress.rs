//! The sidebar's slim progress bar while a first sync's history loads in the background
//! ("Loading history… 12,500 of 100,000"), gone when it is complete. The newest screen is
//! already there: this only says that older messages are still arriving.

use yew::prelude::*;

use crate::store::use_store;

/// `n` with thousands separated by commas: 100000 → "100,000".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the bar says.
pub fn label(done: u64, total: u64) -> String {
    format!(
        "Loading history… {} of {}",
        grouped(done.min(total)),
        grouped(total)
    )
}

/// The bar, or nothing when no history is loading.
#[component(HistoryProgressBar)]
pub fn history_progress_bar() -> Html {
    let store = use_store();
    let Some(p) = store.history else {
        return html! {};
    };
    let text = label(p.done, p.total);
    // A native <progress> draws the bar without inline styles (the CSP allows none); the
    // wrapper carries the role and values for assistive technology and the tests.
    html! {
        <div class="history-progress" id="history-progress" role="progressbar"
             aria-label="Loading history" aria-valuemin="0"
             aria-valuemax={p.total.to_string()} aria-valuenow={p.done.min(p.total).to_string()}
             aria-valuetext={text.clone()}>
            <div class="history-progress-label">{ text }</div>
            <progress aria-hidden="true" max={p.total.max(1).to_string()}
                      value={p.done.min(p.total).to_string()} />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_groups_thousands_and_never_claims_more_than_the_total() {
        assert_eq!(label(12_500, 100_000), "Loading history… 12,500 of 100,000");
        assert_eq!(label(0, 999), "Loading history… 0 of 999");
        assert_eq!(
            label(2_000_000, 1_234_567),
            "Loading history… 1,234,567 of 1,234,567"
        );
    }
}

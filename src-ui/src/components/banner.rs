//! The connection banner: connecting / offline with a retry countdown; hidden when connected.

use confab_model::ipc::commands::CheckNow;
use yew::prelude::*;

use crate::components::icon::{Glyph, Icon};
use crate::effects;
use crate::logic::text::banner;
use crate::store::use_store;

/// The banner above the workspace.
#[component(Banner)]
pub fn banner_view() -> Html {
    let store = use_store();
    let elapsed = (store.now_ms - store.connection_since_ms).max(0) as u64 / 1000;
    let Some(b) = banner(&store.connection, elapsed) else {
        return html! {};
    };
    let d = store.dispatcher();
    let retry = Callback::from(move |_| effects::fire(&d, CheckNow {}));
    html! {
        <div class={classes!("banner", b.kind)} role="status" id="connection-banner">
            <span class="banner-dot" />
            <span class="banner-text">{ b.text }</span>
            if b.can_retry {
                <button class="link" onclick={retry}>
                    <Icon glyph={Glyph::Retry} />{ "Retry now" }
                </button>
            }
        </div>
    }
}

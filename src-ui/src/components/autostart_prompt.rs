//! Asked once, after the first sign-in: start Confab when the user logs in? Requests and
//! messages are the product, and a Confab that is not running tells nobody anything. Off until
//! the user says yes; either answer is remembered and the question never comes back (the tray
//! menu keeps the switch).

use confab_model::ipc::commands::{SetAutostart, SetSetting, Setting};
use yew::prelude::*;

use crate::commands::call;
use crate::effects;
use crate::store::use_store;

/// The setting remembering that the question was answered.
const ASKED: &str = "autostart.asked";

/// The prompt (nothing once answered).
#[component(AutostartPrompt)]
pub fn autostart_prompt() -> Html {
    let store = use_store();
    let ask = use_state(|| false);
    {
        let ask = ask.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(None) = call(Setting { key: ASKED.into() }).await {
                    ask.set(true);
                }
            });
        });
    }
    if !*ask {
        return html! {};
    }
    let answer = |enabled: bool| {
        let (ask, d) = (ask.clone(), store.dispatcher());
        Callback::from(move |_: MouseEvent| {
            ask.set(false);
            effects::fire(
                &d,
                SetSetting {
                    key: ASKED.into(),
                    value: if enabled { "yes" } else { "no" }.into(),
                },
            );
            if enabled {
                effects::fire(&d, SetAutostart { enabled: true });
            }
        })
    };
    html! {
        <div class="prompt" id="autostart-prompt" role="dialog" aria-label="Start at login">
            <p>{ "Start Confab when you log in? It waits in the tray, so questions and messages reach you." }</p>
            <div class="prompt-actions">
                <button class="ghost small" id="autostart-no" onclick={answer(false)}>{ "Not now" }</button>
                <button class="primary small" id="autostart-yes" onclick={answer(true)}>{ "Start at login" }</button>
            </div>
        </div>
    }
}

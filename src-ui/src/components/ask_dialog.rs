//! The "Ask for knowledge" dialog: pick a teammate, write the question.

use confab_model::ipc::commands::Ask;
use confab_model::UserId;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::commands::call;
use crate::components::modal::Modal;
use crate::state::Action;
use crate::store::use_store;

/// Properties of [`AskDialog`].
#[derive(Properties, PartialEq)]
pub struct AskDialogProps {
    /// The teammate chosen beforehand (from a direct chat).
    pub preselect: Option<UserId>,
}

/// The ask dialog.
#[component(AskDialog)]
pub fn ask_dialog(props: &AskDialogProps) -> Html {
    let store = use_store();
    let owner = use_state(|| props.preselect);
    let question = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let me = store.session.as_ref().map(|s| s.user_id);
    let mut people: Vec<_> = store
        .teammates
        .iter()
        .filter(|t| Some(t.id) != me)
        .cloned()
        .collect();
    people.sort_by(|a, b| b.online.cmp(&a.online).then_with(|| a.name.cmp(&b.name)));

    let onchange = {
        let owner = owner.clone();
        Callback::from(move |e: Event| {
            let el: HtmlSelectElement = e.target_unchecked_into();
            owner.set(el.value().parse().ok());
        })
    };
    let oninput = {
        let question = question.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlTextAreaElement = e.target_unchecked_into();
            question.set(el.value());
        })
    };
    let onsubmit = {
        let (owner, question, busy, error, d) = (
            owner.clone(),
            question.clone(),
            busy.clone(),
            error.clone(),
            store.dispatcher(),
        );
        let names = store.names();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(to) = *owner else {
                error.set(Some("Pick who to ask.".into()));
                return;
            };
            let q = (*question).trim().to_string();
            if q.is_empty() {
                error.set(Some("Write your question.".into()));
                return;
            }
            busy.set(true);
            let name = names
                .get(&to)
                .cloned()
                .unwrap_or_else(|| "your teammate".into());
            let (busy, error, d) = (busy.clone(), error.clone(), d.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match call(Ask {
                    owner_id: to,
                    question: q,
                })
                .await
                {
                    Ok(_) => {
                        d.dispatch(Action::CloseDialog);
                        d.dispatch(Action::Toast(format!("Question sent to {name}.")));
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e.message));
                    }
                }
            });
        })
    };
    let chosen = owner.map(|o| o.to_string()).unwrap_or_default();
    html! {
        <Modal title="Ask for knowledge" id="ask-dialog">
            <form {onsubmit}>
                <label class="field">
                    <span>{ "Ask" }</span>
                    <select id="ask-owner" {onchange} value={chosen.clone()}>
                        <option value="" selected={chosen.is_empty()} disabled=true>{ "Choose a teammate…" }</option>
                        { for people.iter().map(|t| {
                            let v = t.id.to_string();
                            let label = if t.online { format!("{} · online", t.name) } else { t.name.clone() };
                            html! { <option value={v.clone()} selected={v == chosen}>{ label }</option> }
                        }) }
                    </select>
                </label>
                <label class="field">
                    <span>{ "Question" }</span>
                    <textarea id="ask-question" rows="5" value={(*question).clone()} {oninput}
                              placeholder="What would you like them to share?" />
                </label>
                if let Some(e) = &*error {
                    <div class="form-error" role="alert">{ e.clone() }</div>
                }
                <div class="dialog-actions">
                    <button class="primary" type="submit" id="ask-submit" disabled={*busy}>
                        { if *busy { "Sending…" } else { "Send question" } }
                    </button>
                </div>
            </form>
        </Modal>
    }
}

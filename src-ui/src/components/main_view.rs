//! The main window: connection banner, split sidebar, chat pane, the open dialog and a toast.

use yew::prelude::*;

use crate::components::{
    account_dialog::AccountDialog, ask_dialog::AskDialog, autostart_prompt::AutostartPrompt,
    banner::Banner, chat_pane::ChatPane, group_dialog::GroupDialog,
    new_conversation::NewConversationDialog, requests_dialog::RequestsDialog,
    respond_dialog::RespondDialog, search_dialog::SearchDialog, sidebar::Sidebar,
    switcher::Switcher,
};
use crate::effects;
use crate::logic::text::{window_title, Waiting};
use crate::state::{Action, Dialog};
use crate::store::use_store;

/// The signed-in window.
#[component(MainView)]
pub fn main_view() -> Html {
    let store = use_store();
    {
        let d = store.dispatcher();
        use_effect_with((), move |_| effects::load_layout(d));
    }
    {
        // A toast disappears after a few seconds.
        let d = store.dispatcher();
        use_effect_with(store.toast.clone(), move |toast| {
            let timer = toast.as_ref().map(|_| {
                gloo_timers::callback::Timeout::new(4500, move || d.dispatch(Action::ClearToast))
            });
            move || drop(timer)
        });
    }
    {
        // The title (taskbar, window switcher) says what waits, like the tray.
        let waiting = Waiting {
            requests: store.pending_incoming().count() as i64,
            answers: store.unread_answers() as i64,
            mentions: store.mention_total(),
            unread: store.unread_total(),
        };
        use_effect_with(waiting, |waiting| {
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                doc.set_title(&window_title(*waiting));
            }
        });
    }
    let dialog = match &store.dialog {
        None => html! {},
        Some(Dialog::Respond(id)) => html! { <RespondDialog request_id={*id} /> },
        Some(Dialog::Ask(who)) => html! { <AskDialog preselect={*who} /> },
        Some(Dialog::Requests(h)) => html! { <RequestsDialog highlight={*h} /> },
        Some(Dialog::Search) => html! { <SearchDialog /> },
        Some(Dialog::Switcher) => html! { <Switcher /> },
        Some(Dialog::NewConversation) => html! { <NewConversationDialog /> },
        Some(Dialog::Group(id)) => html! { <GroupDialog conversation_id={*id} /> },
        Some(Dialog::Account) => html! { <AccountDialog /> },
    };
    let toast = store.toast.clone().map(|t| {
        let d = store.dispatcher();
        let close = Callback::from(move |_| d.dispatch(Action::ClearToast));
        html! { <div class="toast" role="status" onclick={close}>{ t }</div> }
    });
    html! {
        <div class="main">
            <Banner />
            <div class="workspace">
                <Sidebar />
                <ChatPane />
            </div>
            { dialog }
            <AutostartPrompt />
            { for toast }
        </div>
    }
}

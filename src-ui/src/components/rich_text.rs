//! Text with its links and mentions (`logic::rich_text`), for messages, questions and answers.
//!
//! What it does: shows plain runs as text nodes, `http(s)://` and `mailto:` links as
//! `<a class="link">` that open in the system browser or mail program through the shell's
//! opener plugin, and `@mentions` of the signed-in user and teammates as
//! `<span class="mention">` (`mention me` for mine).
//!
//! What it never does: build HTML from strings, give a link any other scheme, or let the
//! webview follow a link itself (that would replace the app in its own window).

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::logic::rich_text::{segments, Mentionable, Segment};
use crate::state::Action;
use crate::store::{use_store, Dispatch};

/// What [`RichText`] needs besides the text: the names to find, and where a link that would not
/// open is reported. Cheap to clone and to compare (the names are shared, and compared by
/// pointer first), so a list can hand one to every row.
#[derive(Clone, PartialEq)]
pub struct TextEnv {
    known: Rc<Mentionable>,
    dispatch: Dispatch,
}

/// The [`TextEnv`] of the signed-in user: their name and the team directory's. The names are
/// rebuilt only when one of them changes.
#[hook]
pub fn use_text_env() -> TextEnv {
    let store = use_store();
    let me = store.session.as_ref().map(|s| s.name.clone());
    let team: Vec<String> = store.teammates.iter().map(|t| t.name.clone()).collect();
    let known = use_memo((me, team), |(me, team)| {
        Mentionable::new(me.as_deref(), team.iter().map(String::as_str))
    });
    TextEnv {
        known,
        dispatch: store.dispatcher(),
    }
}

/// Properties of [`RichText`].
#[derive(Properties, PartialEq)]
pub struct RichTextProps {
    /// The text, as written.
    pub text: AttrValue,
    /// Names and error reporting ([`use_text_env`]).
    pub env: TextEnv,
    /// Make links clickable. Off where the text sits inside another control (a button), since
    /// a link in a button is invalid and steals the button's click; the link is then plain text.
    #[prop_or(true)]
    pub links: bool,
}

/// The text's runs, as siblings of whatever element holds it (its `textContent` is the text).
#[component(RichText)]
pub fn rich_text(props: &RichTextProps) -> Html {
    let runs = segments(&props.text, &props.env.known);
    html! {
        { for runs.into_iter().map(|run| match run {
            Segment::Text(text) => html! { { text } },
            Segment::Link { text, .. } if !props.links => html! { { text } },
            Segment::Link { text, url } => {
                let onclick = open_on(&props.env.dispatch, &url, 0);
                // The middle button opens a new window in a browser; here it opens the browser.
                let onauxclick = open_on(&props.env.dispatch, &url, 1);
                html! {
                    <a class="link" href={url.clone()} title={url} rel="noopener noreferrer"
                       {onclick} {onauxclick}>{ text }</a>
                }
            }
            Segment::Mention { text, name, me } => html! {
                <span class={classes!("mention", me.then_some("me"))} title={name}>{ text }</span>
            },
        }) }
    }
}

/// A click handler for the mouse `button` that opens `url` outside the app instead of
/// following it, with a toast when the system cannot open it.
fn open_on(d: &Dispatch, url: &str, button: i16) -> Callback<MouseEvent> {
    let (d, url) = (d.clone(), url.to_owned());
    Callback::from(move |e: MouseEvent| {
        if e.button() != button {
            return;
        }
        e.prevent_default();
        let (d, url) = (d.clone(), url.clone());
        spawn_local(async move {
            if crate::ipc::open_url(&url).await.is_err() {
                d.dispatch(Action::Toast("Couldn't open that link.".into()));
            }
        });
    })
}

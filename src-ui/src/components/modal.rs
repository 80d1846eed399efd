//! A dialog frame: backdrop, title bar with a close button, content. Escape closes it (a
//! window-wide shortcut); so does a click on the backdrop.

use yew::prelude::*;

use crate::components::icon::{Glyph, Icon};
use crate::state::Action;
use crate::store::use_store;

/// Properties of [`Modal`].
#[derive(Properties, PartialEq)]
pub struct ModalProps {
    /// Title line.
    pub title: AttrValue,
    /// Element id (for tests and accessibility).
    pub id: AttrValue,
    /// Content.
    pub children: Html,
    /// Wider variant.
    #[prop_or_default]
    pub wide: bool,
}

/// A modal dialog.
#[component(Modal)]
pub fn modal(props: &ModalProps) -> Html {
    let store = use_store();
    let close = {
        let d = store.dispatcher();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::CloseDialog))
    };
    let stop = Callback::from(|e: MouseEvent| e.stop_propagation());
    let title_id = format!("{}-title", props.id);
    html! {
        <div class="backdrop" onclick={close.clone()}>
            <div class={classes!("dialog", props.wide.then_some("wide"))} id={props.id.clone()}
                 role="dialog" aria-modal="true" aria-labelledby={title_id.clone()} onclick={stop}>
                <header class="dialog-head">
                    <h2 id={title_id}>{ props.title.clone() }</h2>
                    <button class="icon-button" aria-label="Close" onclick={close}>
                        <Icon glyph={Glyph::Close} />
                    </button>
                </header>
                <div class="dialog-body">{ props.children.clone() }</div>
            </div>
        </div>
    }
}

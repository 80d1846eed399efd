//! A round avatar with initials, coloured by a stable tone of the name, with an optional
//! online dot.

use yew::prelude::*;

use crate::logic::text::{hue, initials};

/// Properties of [`Avatar`].
#[derive(Properties, PartialEq)]
pub struct AvatarProps {
    /// Whose.
    pub name: AttrValue,
    /// `Some(online)` shows a presence dot.
    #[prop_or_default]
    pub online: Option<bool>,
    /// Smaller variant.
    #[prop_or_default]
    pub small: bool,
}

/// An avatar.
#[component(Avatar)]
pub fn avatar(props: &AvatarProps) -> Html {
    // A palette class, not a style attribute: the CSP allows no inline styles.
    let tone = format!("tone-{}", hue(&props.name) % 12);
    let class = classes!("avatar", tone, props.small.then_some("small"));
    html! {
        <span {class} aria-hidden="true">
            { initials(&props.name) }
            if let Some(online) = props.online {
                <span class={classes!("presence", online.then_some("online"))} />
            }
        </span>
    }
}

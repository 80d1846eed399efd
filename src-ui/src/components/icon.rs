//! Small inline SVG icons (stroke-based, drawn for Confab), coloured by `currentColor`.

use yew::prelude::*;

/// Which icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    /// Magnifier.
    Search,
    /// Plus in a speech bubble: ask for knowledge.
    Ask,
    /// Paper plane.
    Send,
    /// Clock: pending.
    Clock,
    /// Tick: sent.
    Check,
    /// Warning triangle: failed.
    Alert,
    /// Door with arrow: sign out.
    SignOut,
    /// Inbox tray: requests.
    Inbox,
    /// Cross: close.
    Close,
    /// Circular arrows: retry.
    Retry,
    /// Lightbulb: knowledge.
    Bulb,
    /// Pencil on a page: new conversation.
    Compose,
    /// Bell: notifications on.
    Bell,
    /// Struck-through bell: muted.
    BellOff,
    /// Two people: group settings.
    People,
    /// An arrow down to a line (jump to the newest messages).
    ArrowDown,
}

fn paths(g: Glyph) -> Html {
    match g {
        Glyph::Search => html! { <>
            <circle cx="11" cy="11" r="6.5" /><path d="M16 16l4.5 4.5" />
        </> },
        Glyph::Ask => html! { <>
            <path d="M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4h0A2.5 2.5 0 0 1 4 13.5z" />
            <path d="M12 6.5v6M9 9.5h6" />
        </> },
        Glyph::Send => html! { <>
            <path d="M4 12l16-8-6 16-2.5-6.5z" /><path d="M11.5 13.5L20 4" />
        </> },
        Glyph::Clock => html! { <>
            <circle cx="12" cy="12" r="8" /><path d="M12 8v4.5l3 1.5" />
        </> },
        Glyph::Check => html! { <path d="M5 12.5l4.5 4.5L19 7.5" /> },
        Glyph::Alert => html! { <>
            <path d="M12 4l9 16H3z" /><path d="M12 10v4.5M12 17.5v.01" />
        </> },
        Glyph::SignOut => html! { <>
            <path d="M14 4h4a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-4" /><path d="M10 8l-4 4 4 4M6 12h10" />
        </> },
        Glyph::Inbox => html! { <>
            <path d="M4 13l2.5-8h11L20 13v5a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2z" />
            <path d="M4 13h4.5l1.5 2.5h4l1.5-2.5H20" />
        </> },
        Glyph::Close => html! { <path d="M6 6l12 12M18 6L6 18" /> },
        Glyph::Retry => html! { <>
            <path d="M19 12a7 7 0 1 1-2.05-4.95" /><path d="M19 4.5V8h-3.5" />
        </> },
        Glyph::Bulb => html! { <>
            <path d="M9 17h6M10 20h4" />
            <path d="M12 3.5a5.5 5.5 0 0 0-3.3 9.9c.5.4.8 1 .8 1.6h5c0-.6.3-1.2.8-1.6A5.5 5.5 0 0 0 12 3.5z" />
        </> },
        Glyph::Compose => html! { <>
            <path d="M12 4H6a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-6" />
            <path d="M17.5 3.5l3 3L12 15l-4 1 1-4z" />
        </> },
        Glyph::Bell => html! { <>
            <path d="M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15z" /><path d="M10 20.5h4" />
        </> },
        Glyph::BellOff => html! { <>
            <path d="M6 16V11a6 6 0 0 1 9.5-4.9M18 11v5l1.5 2h-15z" /><path d="M10 20.5h4" />
            <path d="M4 4l16 16" />
        </> },
        Glyph::People => html! { <>
            <circle cx="9" cy="8.5" r="3" /><path d="M3.5 19a5.5 5.5 0 0 1 11 0" />
            <path d="M15.5 5.8a3 3 0 0 1 0 5.4M17 14.2a5.5 5.5 0 0 1 3.5 4.8" />
        </> },
        Glyph::ArrowDown => html! { <>
            <path d="M12 4v12M6.5 10.5L12 16l5.5-5.5" /><path d="M6 20h12" />
        </> },
    }
}

/// Properties of [`Icon`].
#[derive(Properties, PartialEq)]
pub struct IconProps {
    /// Which icon.
    pub glyph: Glyph,
}

/// An icon, 1em square, hidden from screen readers (buttons carry their own label).
#[component(Icon)]
pub fn icon(props: &IconProps) -> Html {
    html! {
        <svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor"
             stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
            { paths(props.glyph) }
        </svg>
    }
}

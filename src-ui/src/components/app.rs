//! The root: owns the state, starts the event stream and the clock, handles window-wide
//! shortcuts, and shows the screen the state asks for.

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::{main_view::MainView, sign_in::SignIn};
use crate::effects;
use crate::logic::keys::{shortcut, KeyPress, Shortcut};
use crate::state::{Action, AppState, Screen};
use crate::store::Store;

/// The application root.
#[component(App)]
pub fn app() -> Html {
    let store = use_reducer(AppState::default);
    {
        let d = store.dispatcher();
        use_effect_with((), move |_| {
            effects::tick(&d);
            effects::start(d.clone());
            let clock = gloo_timers::callback::Interval::new(1000, move || effects::tick(&d));
            move || drop(clock)
        });
    }
    {
        let d = store.dispatcher();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|w| {
                let options = EventListenerOptions::enable_prevent_default();
                EventListener::new_with_options(&w, "keydown", options, move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                        return;
                    };
                    let key = e.key();
                    let press = KeyPress {
                        key: &key,
                        ctrl: e.ctrl_key() || e.meta_key(),
                        shift: e.shift_key(),
                        alt: e.alt_key(),
                        composing: e.is_composing(),
                    };
                    if let Some(s) = shortcut(press) {
                        if s != Shortcut::Close {
                            // Ctrl+R must not reload the page, Ctrl+F not open WebKit's find.
                            e.prevent_default();
                        }
                        d.dispatch(Action::Shortcut(s));
                    }
                })
            });
            move || drop(listener)
        });
    }
    {
        // Startup timing: the first screen with content (the cached sidebar, or sign-in).
        let ready = match store.screen {
            Screen::Main if store.conversations_loaded => Some(("main", store.conversations.len())),
            Screen::SignIn => Some(("sign-in", 0)),
            _ => None,
        };
        use_effect_with(ready, |ready| {
            if let Some((screen, n)) = *ready {
                crate::startup::first_paint(screen, n);
            }
        });
    }
    let screen = match store.screen {
        Screen::Starting => html! { <div class="splash" aria-busy="true" /> },
        Screen::SignIn => html! { <SignIn /> },
        Screen::Main => html! { <MainView /> },
    };
    html! {
        <ContextProvider<Store> context={store.clone()}>
            { screen }
        </ContextProvider<Store>>
    }
}

//! The peer's page: a heading, a line of text and a counting button, the least a Yew app shows.
//! After its second animation frame it calls the shell's `painted` command, as Confab's UI
//! calls `first_paint`. It never calls anything else.

use wasm_bindgen::prelude::*;
use yew::prelude::*;

#[wasm_bindgen(inline_js = "export function painted() { \
    requestAnimationFrame(() => requestAnimationFrame(() => \
    window.__TAURI_INTERNALS__.invoke('painted'))); }")]
extern "C" {
    fn painted();
}

#[component(Hello)]
fn hello() -> Html {
    let count = use_state(|| 0u32);
    let click = {
        let count = count.clone();
        Callback::from(move |_| count.set(*count + 1))
    };
    html! {
        <main>
            <h1>{ "Hello" }</h1>
            <p>{ format!("Clicked {} times.", *count) }</p>
            <button onclick={click}>{ "Click" }</button>
        </main>
    }
}

fn main() {
    yew::Renderer::<Hello>::new().render();
    painted();
}

//! A scrolling `<ul>` of fixed-height rows that keeps only the rows in view (and a few around
//! them) in the DOM: 2,000 conversations cost what 20 do, to render and to filter. The rows
//! above and below are stood in for by two empty spacer items, so the list's scroll bar and
//! scroll positions are those of the whole list. The arithmetic is `logic::window`.
//!
//! The caller renders row `i` (one element exactly `row_height` high, as the CSS fixes it,
//! keyed, carrying `aria-setsize`/`aria-posinset` since assistive technology sees only the
//! rendered ones) and may name a row to keep in view: the keyboard's active one, scrolled to
//! from its index even when it is not rendered.

use std::cell::Cell;
use std::rc::Rc;

use gloo_events::EventListener;
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::logic::window::{reveal, slice};

/// A picker's row (`.card-row` with a small avatar, in a `.plain-list.windowed`): fixed in
/// styles.css.
pub const CARD_ROW_PX: f64 = 56.0;

/// Rows rendered beyond each edge of the viewport.
const OVERSCAN: usize = 6;

/// Properties of [`WindowedList`].
#[derive(Properties, PartialEq)]
pub struct WindowedListProps {
    /// The list's element id.
    pub id: AttrValue,
    /// Its classes (the CSS gives it a height and `overflow-y: auto`).
    #[prop_or_default]
    pub class: Classes,
    /// Its ARIA role (`listbox` for a picker), if not a plain list.
    #[prop_or_default]
    pub role: Option<AttrValue>,
    /// Its accessible name.
    #[prop_or_default]
    pub label: Option<AttrValue>,
    /// How many rows the whole list has.
    pub count: usize,
    /// Every row's height in CSS pixels, as the stylesheet fixes it.
    pub row_height: f64,
    /// Renders row `i`.
    pub row: Callback<usize, Html>,
    /// The row to keep in view, and a key: the list scrolls to the row when the key changes
    /// (a keyboard step, a new filter, another conversation opened), not when the row merely
    /// moves (a message reordering the list must not yank the view).
    #[prop_or_default]
    pub reveal: Option<(usize, AttrValue)>,
    /// Shown before the rows (an "empty" line when there are none).
    #[prop_or_default]
    pub children: Html,
}

/// What was measured of the element, kept between renders without causing them.
#[derive(Clone, Copy)]
struct Geometry {
    scroll_top: f64,
    viewport: f64,
}

/// A windowed list.
#[component(WindowedList)]
pub fn windowed_list(props: &WindowedListProps) -> Html {
    let list = use_node_ref();
    let (above, below) = (use_node_ref(), use_node_ref());
    // Before the first measure, a guess of a whole window high: the first paint has its rows.
    let geometry = use_memo((), |_| {
        let viewport = web_sys::window()
            .and_then(|w| w.inner_height().ok())
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        Cell::new(Geometry {
            scroll_top: 0.0,
            viewport,
        })
    });
    // The last render's row count, row height and rows, for the listeners between renders.
    let rendered = use_memo((), |_| Cell::new((0usize, 0.0f64, 0usize, 0usize)));
    let revealed = use_mut_ref(|| None::<AttrValue>);
    let redraw = use_force_update();

    let row_height = props.row_height;
    let g = geometry.get();
    let s = slice(g.scroll_top, g.viewport, row_height, props.count, OVERSCAN);
    rendered.set((props.count, row_height, s.first, s.end));

    // Measures the element; re-renders only when that changes which rows show.
    let measure = {
        let (list, geometry, rendered) = (list.clone(), Rc::clone(&geometry), Rc::clone(&rendered));
        use_memo((), move |_| {
            move || {
                let Some(el) = list.cast::<HtmlElement>() else {
                    return;
                };
                let g = Geometry {
                    scroll_top: f64::from(el.scroll_top()),
                    viewport: f64::from(el.client_height()),
                };
                geometry.set(g);
                let (count, row, first, end) = rendered.get();
                let s = slice(g.scroll_top, g.viewport, row, count, OVERSCAN);
                if (s.first, s.end) != (first, end) {
                    redraw.force_update();
                }
            }
        })
    };
    let onscroll = {
        let measure = Rc::clone(&measure);
        Callback::from(move |_: Event| measure())
    };
    {
        // After every render: the spacers' heights standing in for the rows not rendered
        // (through the CSS object model: the CSP allows no inline style attributes), then the
        // row to reveal. Spacers, not the list's own padding: a flex item is never smaller than
        // its padding, so a padded list grew to the whole list's height instead of scrolling.
        let (list, revealed, measure) = (list.clone(), revealed.clone(), Rc::clone(&measure));
        let (above, below) = (above.clone(), below.clone());
        let wanted = props.reveal.clone();
        use_effect(move || {
            for (spacer, px) in [(&above, s.top), (&below, s.bottom)] {
                if let Some(el) = spacer.cast::<HtmlElement>() {
                    let _ = el.style().set_property("height", &format!("{px}px"));
                }
            }
            if let Some(el) = list.cast::<HtmlElement>() {
                if let Some((index, key)) = wanted {
                    let fresh = revealed.borrow().as_ref() != Some(&key);
                    if fresh {
                        *revealed.borrow_mut() = Some(key);
                        let (top, viewport) =
                            (f64::from(el.scroll_top()), f64::from(el.client_height()));
                        if let Some(to) = reveal(index, row_height, top, viewport) {
                            // The rows there are rendered by the measure, before the next paint.
                            el.set_scroll_top(to as i32);
                        }
                    }
                }
            }
            measure();
        });
    }
    {
        // The window or the sidebar divider changes the viewport's height.
        let measure = Rc::clone(&measure);
        use_effect_with((), move |_| {
            let listener =
                web_sys::window().map(|w| EventListener::new(&w, "resize", move |_| measure()));
            move || drop(listener)
        });
    }

    html! {
        <ul ref={list} id={props.id.clone()} class={classes!("windowed", props.class.clone())}
            role={props.role.clone()} aria-label={props.label.clone()} {onscroll}>
            { props.children.clone() }
            <li ref={above} class="window-spacer" aria-hidden="true" />
            { for s.rows().map(|i| props.row.emit(i)) }
            <li ref={below} class="window-spacer" aria-hidden="true" />
        </ul>
    }
}

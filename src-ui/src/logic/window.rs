//! Windowing a long list of fixed-height rows: which rows a scrolled viewport shows, and where
//! to scroll so one row is in view. Only those rows are in the DOM; spacers above and below
//! stand in for the rest, so the scroll bar and scroll positions are those of the whole list.
//!
//! Pure arithmetic in CSS pixels; `components/windowed_list.rs` feeds it the element's
//! `scrollTop` and `clientHeight`.

/// The rows to render for one scroll position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slice {
    /// The first row rendered.
    pub first: usize,
    /// One past the last row rendered (`first..end`; empty when `first == end`).
    pub end: usize,
    /// Height standing in for the rows above `first`.
    pub top: f64,
    /// Height standing in for the rows from `end` on.
    pub bottom: f64,
}

impl Slice {
    /// The rows rendered.
    pub fn rows(&self) -> std::ops::Range<usize> {
        self.first..self.end
    }
}

/// The rows of a list of `count` rows, each `row` pixels high, that a viewport `viewport` high
/// scrolled to `scroll_top` shows, widened by `overscan` rows on each side (so a fast wheel
/// or a keyboard step finds the next rows already there).
///
/// A scroll position past the end (the list just got shorter) shows the last rows; a row
/// height that is not positive renders nothing rather than dividing by it.
pub fn slice(scroll_top: f64, viewport: f64, row: f64, count: usize, overscan: usize) -> Slice {
    if count == 0 || row.is_nan() || row <= 0.0 {
        return Slice {
            first: 0,
            end: 0,
            top: 0.0,
            bottom: 0.0,
        };
    }
    let viewport = viewport.max(0.0);
    let total = row * count as f64;
    // Clamped as the browser clamps scrollTop: never beyond the last screenful.
    let top_px = scroll_top.clamp(0.0, (total - viewport).max(0.0));
    let visible_first = ((top_px / row).floor() as usize).min(count - 1);
    let visible_end = (((top_px + viewport) / row).ceil() as usize).clamp(visible_first + 1, count);
    let first = visible_first.saturating_sub(overscan);
    let end = (visible_end + overscan).min(count);
    Slice {
        first,
        end,
        top: row * first as f64,
        bottom: row * (count - end) as f64,
    }
}

/// Where to scroll so row `index` is wholly in view: `None` when it already is, else the
/// smallest move (the row at the top edge when it is above, at the bottom edge when below).
/// Used for the keyboard's active row, which may not be rendered yet.
pub fn reveal(index: usize, row: f64, scroll_top: f64, viewport: f64) -> Option<f64> {
    let row_top = row * index as f64;
    let row_bottom = row_top + row;
    if row_top < scroll_top {
        Some(row_top)
    } else if row_bottom > scroll_top + viewport {
        Some((row_bottom - viewport).max(0.0))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_of_a_long_list_renders_one_screenful_and_the_overscan_below() {
        // 2,000 rows of 60 px in a 600 px viewport: rows 0..10 show, 3 more below.
        let s = slice(0.0, 600.0, 60.0, 2_000, 3);
        assert_eq!(s.rows(), 0..13);
        assert_eq!(s.top, 0.0);
        assert_eq!(s.bottom, 60.0 * (2_000 - 13) as f64);
    }

    #[test]
    fn a_scrolled_list_renders_the_rows_in_view_with_overscan_on_both_sides() {
        // Scrolled to 1,000 px: row 16 is cut at the top, row 26 at the bottom.
        let s = slice(1_000.0, 600.0, 60.0, 2_000, 3);
        assert_eq!(s.rows(), 13..30);
        assert_eq!(s.top, 13.0 * 60.0);
        assert_eq!(s.bottom, (2_000 - 30) as f64 * 60.0);
    }

    #[test]
    fn the_spacers_and_the_rendered_rows_always_add_up_to_the_whole_list() {
        for scroll in [0.0, 17.5, 599.0, 60_000.0, 119_400.0, 200_000.0] {
            let s = slice(scroll, 600.0, 60.0, 2_000, 4);
            let rendered = (s.end - s.first) as f64 * 60.0;
            assert_eq!(s.top + rendered + s.bottom, 120_000.0, "at {scroll}");
        }
    }

    #[test]
    fn the_bottom_of_the_list_renders_the_last_row() {
        let s = slice(120_000.0 - 600.0, 600.0, 60.0, 2_000, 3);
        assert_eq!(s.end, 2_000);
        assert_eq!(s.bottom, 0.0);
        assert_eq!(s.first, 2_000 - 10 - 3);
    }

    #[test]
    fn a_scroll_position_past_the_end_of_a_list_that_shrank_shows_its_last_rows() {
        // Scrolled far down, then a filter left 5 rows: they all render.
        let s = slice(50_000.0, 600.0, 60.0, 5, 3);
        assert_eq!(s.rows(), 0..5);
        assert_eq!((s.top, s.bottom), (0.0, 0.0));
    }

    #[test]
    fn a_short_list_renders_whole_and_an_empty_one_renders_nothing() {
        assert_eq!(slice(0.0, 600.0, 60.0, 4, 3).rows(), 0..4);
        assert_eq!(slice(0.0, 600.0, 60.0, 0, 3).rows(), 0..0);
    }

    #[test]
    fn a_viewport_not_measured_yet_still_renders_the_first_row_and_no_row_height_renders_none() {
        assert_eq!(slice(0.0, 0.0, 60.0, 100, 0).rows(), 0..1);
        assert_eq!(slice(0.0, 600.0, 0.0, 100, 3).rows(), 0..0);
        assert_eq!(slice(0.0, 600.0, f64::NAN, 100, 3).rows(), 0..0);
    }

    #[test]
    fn a_row_in_view_needs_no_scrolling() {
        assert_eq!(reveal(12, 60.0, 600.0, 600.0), None);
        assert_eq!(
            reveal(10, 60.0, 600.0, 600.0),
            None,
            "exactly at the top edge"
        );
        assert_eq!(
            reveal(19, 60.0, 600.0, 600.0),
            None,
            "exactly at the bottom edge"
        );
    }

    #[test]
    fn a_row_below_the_view_scrolls_up_to_the_bottom_edge_and_one_above_to_the_top_edge() {
        // The arrow key moved past the bottom: the row's bottom meets the viewport's.
        assert_eq!(reveal(20, 60.0, 600.0, 600.0), Some(21.0 * 60.0 - 600.0));
        // Far below, never rendered yet (End, or the switcher's pick): same rule.
        assert_eq!(
            reveal(1_999, 60.0, 0.0, 600.0),
            Some(2_000.0 * 60.0 - 600.0)
        );
        assert_eq!(reveal(9, 60.0, 600.0, 600.0), Some(9.0 * 60.0));
        assert_eq!(reveal(0, 60.0, 6_000.0, 600.0), Some(0.0));
    }
}

//! Pure logic behind the screens (no web APIs): time formatting, message timelines, sentences,
//! keyboard rules and text matching. Tested natively.

pub mod filter;
pub mod form;
pub mod format;
pub mod keys;
pub mod text;
pub mod timeline;

//! Pure logic behind the screens (no web APIs): time formatting, message timelines, sentences,
//! keyboard rules, text matching, links and mentions in text, and windowing long lists. Tested
//! natively.

pub mod complete;
pub mod filter;
pub mod form;
pub mod format;
pub mod keys;
pub mod library;
pub mod rich_text;
pub mod text;
pub mod timeline;
pub mod window;

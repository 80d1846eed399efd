//! Queries and transactions over the schema in `migrations/`. Functions take a
//! `&dyn Sql` connection and run inside whatever [`crate::db::Db`] gave them; write functions
//! must be called from [`crate::db::Db::write`] so their change and its sequence number commit
//! together.

pub mod chat;
pub mod conversations;
mod error;
pub mod knowledge;
pub mod retention;
pub mod sync;
pub mod users;

pub use error::StoreError;

use confab_model::MAX_MESSAGE_CHARS;

/// Checks user-written text: not blank, at most [`MAX_MESSAGE_CHARS`] characters.
///
/// # Errors
/// [`StoreError::Invalid`] naming `field`.
pub fn validate_text(field: &str, text: &str) -> Result<(), StoreError> {
    if text.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{field} must not be empty")));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(StoreError::Invalid(format!(
            "{field} must be at most {MAX_MESSAGE_CHARS} characters"
        )));
    }
    Ok(())
}

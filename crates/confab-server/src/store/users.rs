//! Users and login tokens.

use crate::args;
use crate::sql::{OptionalExt, Sql};
use confab_model::{User, UserId, UserSummary};

use crate::store::StoreError;

/// A user row with its account state, for `users list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user.
    pub user: User,
    /// Whether the account is disabled (cannot log in; tokens revoked).
    pub disabled: bool,
}

/// Creates a user.
///
/// # Errors
/// [`StoreError::Invalid`] for a blank name or an email without `@`, [`StoreError::Conflict`]
/// if the email is taken.
pub fn create_user(
    c: &dyn Sql,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<User, StoreError> {
    let email = email.trim();
    let name = name.trim();
    if !email.contains('@') || email.len() > 254 {
        return Err(StoreError::Invalid("email must look like name@host".into()));
    }
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::Invalid(
            "name must be 1 to 100 characters".into(),
        ));
    }
    let id = c
        .query_row(
            "INSERT INTO users (email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            args![email, name, password_hash, crate::time::now_rfc3339()],
            |r| r.get(0),
        )
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict(format!("a user with email {email} exists"))
            } else {
                e.into()
            }
        })?;
    Ok(User {
        id,
        name: name.to_owned(),
        email: email.to_owned(),
    })
}

/// Every account, enabled or not, by id.
///
/// # Errors
/// SQLite errors.
pub fn accounts(c: &dyn Sql) -> Result<Vec<Account>, StoreError> {
    Ok(c.query_map(
        "SELECT id, name, email, disabled FROM users ORDER BY id",
        args![],
        |r| {
            Ok(Account {
                user: User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                },
                disabled: r.get(3)?,
            })
        },
    )?)
}

/// The directory: enabled users, by name; ids and names only (never emails).
///
/// # Errors
/// SQLite errors.
pub fn directory(c: &dyn Sql) -> Result<Vec<UserSummary>, StoreError> {
    // lower(): SQLite's NOCASE, which PostgreSQL does not have (both fold ASCII only here).
    Ok(c.query_map(
        "SELECT id, name FROM users WHERE disabled = 0 ORDER BY lower(name), id",
        args![],
        |r| {
            Ok(UserSummary {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )?)
}

/// Disables the account with this email and revokes its tokens. Returns its id, or `None`
/// when there is no such account.
///
/// # Errors
/// SQLite errors.
pub fn disable(c: &dyn Sql, email: &str) -> Result<Option<UserId>, StoreError> {
    let id: Option<UserId> = c
        .query_row(
            "UPDATE users SET disabled = 1 WHERE lower(email) = lower(?1) RETURNING id",
            args![email.trim()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        revoke_tokens(c, id, None)?;
    }
    Ok(id)
}

/// Enables the account with this email again (its old tokens stay revoked: the user signs in
/// anew). Returns its id, or `None` when there is no such account.
///
/// # Errors
/// SQLite errors.
pub fn enable(c: &dyn Sql, email: &str) -> Result<Option<UserId>, StoreError> {
    Ok(c.query_row(
        "UPDATE users SET disabled = 0 WHERE lower(email) = lower(?1) RETURNING id",
        args![email.trim()],
        |r| r.get(0),
    )
    .optional()?)
}

/// The id of the account with this email, enabled or not.
///
/// # Errors
/// SQLite errors.
pub fn id_by_email(c: &dyn Sql, email: &str) -> Result<Option<UserId>, StoreError> {
    Ok(c.query_row(
        "SELECT id FROM users WHERE lower(email) = lower(?1)",
        args![email.trim()],
        |r| r.get(0),
    )
    .optional()?)
}

/// A user's password hash (enabled or not).
///
/// # Errors
/// SQLite errors.
pub fn password_hash(c: &dyn Sql, user: UserId) -> Result<Option<String>, StoreError> {
    Ok(c.query_row(
        "SELECT password_hash FROM users WHERE id = ?1",
        args![user],
        |r| r.get(0),
    )
    .optional()?)
}

/// Revokes every token of `user` but `keep` (the caller's own, when it stays signed in).
/// Returns how many were revoked.
///
/// # Errors
/// SQLite errors.
pub fn revoke_tokens(c: &dyn Sql, user: UserId, keep: Option<&[u8]>) -> Result<usize, StoreError> {
    Ok(c.execute(
        "DELETE FROM tokens WHERE user_id = ?1 AND (token_hash = ?2) IS NOT TRUE",
        args![user, keep],
    )?)
}

/// Stores a new password hash for `user` and revokes every token of theirs but `keep`, in the
/// caller's transaction. Returns how many tokens were revoked, or `None` for no such user.
///
/// # Errors
/// SQLite errors.
pub fn set_password(
    c: &dyn Sql,
    user: UserId,
    hash: &str,
    keep: Option<&[u8]>,
) -> Result<Option<usize>, StoreError> {
    let changed = c.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        args![user, hash],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    revoke_tokens(c, user, keep).map(Some)
}

/// An enabled user and their password hash, by email (case-insensitive).
///
/// # Errors
/// SQLite errors.
pub fn find_login(c: &dyn Sql, email: &str) -> Result<Option<(User, String)>, StoreError> {
    Ok(c.query_row(
"SELECT id, name, email, password_hash FROM users WHERE lower(email) = lower(?1) AND disabled = 0", args![email.trim()], |r| {
        Ok((
            User {
                id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
            },
            r.get(3)?,
        ))
    })
    .optional()?)
}

/// Stores a token hash for a user.
///
/// # Errors
/// SQLite errors.
pub fn insert_token(
    c: &dyn Sql,
    hash: &[u8],
    user: UserId,
    expires_ms: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO tokens (token_hash, user_id, expires_ms, created_ms) VALUES (?1, ?2, ?3, ?4)",
        args![hash, user, expires_ms, now_ms],
    )?;
    Ok(())
}

/// Revokes one token.
///
/// # Errors
/// SQLite errors.
pub fn delete_token(c: &dyn Sql, hash: &[u8]) -> Result<(), StoreError> {
    c.execute("DELETE FROM tokens WHERE token_hash = ?1", args![hash])?;
    Ok(())
}

/// The enabled user a live token belongs to.
///
/// # Errors
/// SQLite errors.
pub fn user_for_token(c: &dyn Sql, hash: &[u8], now_ms: i64) -> Result<Option<User>, StoreError> {
    Ok(c.query_row(
        "SELECT u.id, u.name, u.email FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.expires_ms > ?2 AND u.disabled = 0",
        args![hash, now_ms],
        |r| {
            Ok(User {
                id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
            })
        },
    )
    .optional()?)
}

/// An enabled user's id and name.
///
/// # Errors
/// SQLite errors.
pub fn summary(c: &dyn Sql, id: UserId) -> Result<Option<UserSummary>, StoreError> {
    Ok(c.query_row(
        "SELECT id, name FROM users WHERE id = ?1 AND disabled = 0",
        args![id],
        |r| {
            Ok(UserSummary {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
    .optional()?)
}

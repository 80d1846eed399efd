//! The user's own account: changing the password, and signing out everywhere.
//!
//! What it never does: keep, log or echo a password (each goes to the server once, over the
//! session's TLS), or act offline. Both need the server's answer: a password change that was
//! queued could be refused later with the user long gone, and "sign out everywhere" done only
//! here would leave the other devices signed in while saying otherwise.

use confab_model::api::ChangePasswordRequest;
use confab_model::ipc::UiEvent;

use crate::error::CoreError;
use crate::rest::ApiError;
use crate::Core;

/// What the user is told when the current password they typed is not the account's.
pub const WRONG_CURRENT_PASSWORD: &str = "Your current password is not right.";
/// What the sign-in form says after "sign out everywhere".
pub const SIGNED_OUT_EVERYWHERE: &str =
    "You are signed out on every device. Sign in again to use Confab here.";

impl Core {
    /// Changes the account's password. This device stays signed in; every other session of
    /// the account ends (the server closes their sockets too).
    ///
    /// # Errors
    /// The new password is too short, too long or the same as the current one; the current
    /// one is wrong ([`WRONG_CURRENT_PASSWORD`]); too many wrong tries (the server's sentence
    /// says when to try again); offline; the session ended.
    pub async fn change_password(&self, current: String, new: String) -> Result<(), CoreError> {
        let req = ChangePasswordRequest {
            current_password: current,
            new_password: new,
        };
        if let Some(problem) = req.problem() {
            return Err(CoreError::Invalid(problem));
        }
        let api = self.api().await?;
        match api
            .change_password(&req.current_password, &req.new_password)
            .await
        {
            Err(ApiError::Rejected { status: 403, .. }) => {
                Err(CoreError::Invalid(WRONG_CURRENT_PASSWORD.into()))
            }
            other => Ok(other?),
        }
    }

    /// Signs this account out on every device: the server revokes every session (this one
    /// included) and closes their sockets; then this device signs out as [`Core::sign_out`]
    /// does (token forgotten, cache deleted, the window back at the sign-in form).
    ///
    /// # Errors
    /// Offline, or the server failed: nothing is signed out then, here or elsewhere, so the
    /// user can try again knowing where they stand.
    pub async fn sign_out_everywhere(&self) -> Result<(), CoreError> {
        match self.api().await?.revoke_sessions().await {
            // Already revoked (by another device doing the same): the goal holds.
            Ok(()) | Err(ApiError::Unauthorized) => {}
            Err(e) => return Err(e.into()),
        }
        self.sign_out().await?;
        // After `SignedOut`: the sign-in form says why the window is back at it.
        self.inner.shared.emit(UiEvent::SessionEnded {
            reason: SIGNED_OUT_EVERYWHERE.into(),
        });
        Ok(())
    }
}

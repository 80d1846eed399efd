//! The sign-in and change-password forms' checks, before anything is sent.

use confab_model::api::ChangePasswordRequest;

/// The server address as typed, trimmed, once it could be one. The core decides the rest
/// (`confab_core::tls::server_url`: the scheme when none is given, and `http://` only for this
/// computer, by parsing the host) and answers a refused address with the sentence to show.
///
/// # Errors
/// A sentence when the field is empty or contains spaces.
pub fn server_url(input: &str) -> Result<String, &'static str> {
    let s = input.trim().trim_end_matches('/');
    if s.is_empty() {
        return Err("Enter your team's server address.");
    }
    if s.contains(char::is_whitespace) {
        return Err("A server address has no spaces.");
    }
    Ok(s.to_string())
}

/// A first check of the email and password fields.
///
/// # Errors
/// A sentence naming what is missing.
pub fn credentials(email: &str, password: &str) -> Result<(), &'static str> {
    let email = email.trim();
    if email.is_empty() || !email.contains('@') {
        return Err("Enter the email address you use for Confab.");
    }
    if password.is_empty() {
        return Err("Enter your password.");
    }
    Ok(())
}

/// The change-password form as a request, once it could succeed: the server's own rules
/// (`ChangePasswordRequest::problem`) and the new password typed the same twice.
///
/// # Errors
/// The sentence to show under the form.
pub fn password_change(
    current: &str,
    new: &str,
    repeated: &str,
) -> Result<ChangePasswordRequest, String> {
    let req = ChangePasswordRequest {
        current_password: current.to_owned(),
        new_password: new.to_owned(),
    };
    if let Some(problem) = req.problem() {
        return Err(problem);
    }
    if new != repeated {
        return Err("The two new passwords are not the same.".into());
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_change_goes_out_only_when_the_new_one_was_typed_the_same_twice() {
        let ok = password_change("old-secret", "new-secret-1", "new-secret-1").unwrap();
        assert_eq!(ok.current_password, "old-secret");
        assert_eq!(ok.new_password, "new-secret-1");
        let typo = password_change("old-secret", "new-secret-1", "new-secret-2").unwrap_err();
        assert!(typo.contains("not the same"), "{typo}");
        // The server's rules come first: a short password is named as such even when repeated.
        assert!(password_change("old-secret", "short", "short")
            .unwrap_err()
            .contains("at least"));
        assert!(password_change("", "new-secret-1", "new-secret-1")
            .unwrap_err()
            .contains("current password"));
    }

    #[test]
    fn an_address_is_trimmed_and_its_scheme_left_to_the_core() {
        assert_eq!(
            server_url(" chat.example.com/ ").unwrap(),
            "chat.example.com"
        );
        // No prefix guess here: `localhost.evil.example` must not become http.
        assert_eq!(
            server_url("localhost.evil.example").unwrap(),
            "localhost.evil.example"
        );
        assert_eq!(server_url(" http://x:1 ").unwrap(), "http://x:1");
    }

    #[test]
    fn empty_or_spaced_addresses_are_refused_with_a_sentence() {
        assert!(server_url("  ").is_err());
        assert!(server_url("my server").is_err());
    }

    #[test]
    fn credentials_need_an_email_and_a_password() {
        assert!(credentials("alice@example.com", "pw").is_ok());
        assert!(credentials("alice", "pw").is_err());
        assert!(credentials("alice@example.com", "").is_err());
    }
}

//! The sign-in form's checks, before anything is sent.

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

#[cfg(test)]
mod tests {
    use super::*;

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

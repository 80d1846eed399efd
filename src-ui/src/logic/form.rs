//! The sign-in form's checks, before anything is sent.

/// The server address as the core expects it: scheme added when missing (`https://`, or
/// `http://` for loopback), no trailing slash.
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
    if s.starts_with("http://") || s.starts_with("https://") {
        return Ok(s.to_string());
    }
    let local = ["localhost", "127.", "[::1]"]
        .iter()
        .any(|p| s.starts_with(p));
    Ok(format!("{}://{s}", if local { "http" } else { "https" }))
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
    fn a_bare_host_gets_a_scheme_and_loses_its_trailing_slash() {
        assert_eq!(
            server_url("chat.example.com/").unwrap(),
            "https://chat.example.com"
        );
        assert_eq!(
            server_url("localhost:8080").unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(server_url("127.0.0.1:9").unwrap(), "http://127.0.0.1:9");
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

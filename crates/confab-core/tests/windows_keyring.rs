//! The token through Windows' own keyring, the Credential Manager: stored, read back by a fresh
//! keyring value (the keyring crate's mock would have forgotten it), deleted. Runs on Windows
//! only; `scripts/windows-check.sh` runs it under Wine, whose credential store stands in.
#![cfg(windows)]

use confab_core::session::{native_keyring_built_in, OsKeyring, TokenStore};

#[test]
fn a_token_is_stored_read_back_and_deleted_in_the_windows_credential_manager() {
    assert!(
        native_keyring_built_in(),
        "built with the keyring crate's mock"
    );
    let service = format!("confab-test-{}", std::process::id());
    let account = "https://chat.example.test#7";
    let keyring = OsKeyring::new(&service);
    assert_eq!(keyring.load(account).unwrap(), None);

    keyring.save(account, "token-1").unwrap();
    assert_eq!(
        OsKeyring::new(&service).load(account).unwrap().as_deref(),
        Some("token-1")
    );
    keyring.save(account, "token-2").unwrap();
    assert_eq!(keyring.load(account).unwrap().as_deref(), Some("token-2"));
    // Another account of the same service is another credential.
    assert_eq!(keyring.load("https://chat.example.test#8").unwrap(), None);

    keyring.delete(account).unwrap();
    assert_eq!(OsKeyring::new(&service).load(account).unwrap(), None);
    keyring.delete(account).unwrap();
}

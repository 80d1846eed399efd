//! PostgreSQL over TLS: what a replica on another machine than its database uses. A binary of
//! its own, since it points the process's trust store (`SSL_CERT_FILE`) at a test CA.

use anyhow::{ensure, Result};
use confab_server::store::StoreError;
use confab_server::Db;
use confab_testkit::Postgres;

fn connect(url: String) -> Result<Db, confab_server::db::DbError> {
    Db::connect_postgres(&url)
}

#[tokio::test]
async fn a_database_over_tls_is_used_once_the_system_trusts_its_certificate_and_refused_before(
) -> Result<()> {
    let pg = Postgres::start_with_tls()?;
    let url = format!("{}?sslmode=require", pg.fresh_database()?);
    let ca = pg
        .tls_ca_pem()
        .ok_or_else(|| anyhow::anyhow!("started with TLS"))?
        .to_owned();

    // The test CA is in no trust store yet: the connection is refused, nothing sent in clear.
    let refused = tokio::task::spawn_blocking({
        let url = url.clone();
        move || connect(url)
    })
    .await?;
    let Err(error) = refused else {
        anyhow::bail!("a certificate the system does not trust was accepted");
    };
    let text = format!("{error:?}");
    ensure!(
        text.to_lowercase().contains("certificate"),
        "the error says why: {text}"
    );

    // Installed (as `update-ca-certificates` would, through the bundle the system reads).
    let dir = tempfile::tempdir()?;
    let roots = dir.path().join("roots.pem");
    std::fs::write(&roots, ca)?;
    std::env::set_var("SSL_CERT_FILE", &roots);
    std::env::remove_var("SSL_CERT_DIR");
    let db = tokio::task::spawn_blocking(move || connect(url)).await??;
    let encrypted: bool = db
        .read(|c| {
            c.one::<bool>(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                confab_server::args![],
            )
            .map_err(StoreError::from)
        })
        .await?;
    assert!(encrypted, "the session runs over TLS");
    Ok(())
}

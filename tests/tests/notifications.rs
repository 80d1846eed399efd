//! Notifications at the desktop's real daemon (dunst on the test session's D-Bus): a burst of
//! messages in one conversation arrives as one or two notifications, not fifty, and markup in a
//! conversation's name reaches the daemon escaped.

use anyhow::{ensure, Result};
use confab_e2e::steps::{eventually, sign_in};
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, GRACE, LINUS, WAIT};

#[test]
fn fifty_messages_in_a_conversation_reach_the_daemon_as_at_most_two_notifications_escaped() {
    in_desktop(
        "fifty_messages_in_a_conversation_reach_the_daemon_as_at_most_two_notifications_escaped",
        burst,
    );
}

async fn burst(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("notifications")?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "notifications").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;

    // Linus starts a group with Ada under a name holding markup.
    let linus = backend.api(LINUS).await?;
    let ops = linus
        .create_conversation(Some("<b>Ops</b>"), &[backend.user_id(ADA)])
        .await?;
    app.wait_for(&format!("button[data-conversation-id=\"{}\"]", ops.id))
        .await?;
    // Another conversation on screen: the group is not being watched.
    app.open_conversation(pair).await?;
    desktop.notifications()?;

    for i in 0..50 {
        linus
            .send_message(ops.id, &format!("burst {i}"), &format!("burst-{i}"), None)
            .await?;
    }
    app.wait_text("#conversation-list", |t| t.contains("burst 49"))
        .await?;
    let shown = eventually("the burst's notification", WAIT, || async {
        let ours: Vec<String> = desktop
            .notifications()?
            .into_iter()
            .filter(|n| n.contains("Ops"))
            .collect();
        Ok((!ours.is_empty() && ours.iter().any(|n| n.contains("burst 49"))).then_some(ours))
    })
    .await?;
    println!("notifications at the daemon: {shown:?}");
    ensure!(
        shown.len() <= 2,
        "fifty messages, at most two notifications: {shown:?}"
    );
    ensure!(
        shown
            .iter()
            .all(|n| !n.contains("<b>") && n.contains("&lt;b&gt;")),
        "the name's markup arrives escaped: {shown:?}"
    );
    app.quit().await
}

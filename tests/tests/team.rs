//! A team shaping its conversations, end to end: starting direct and group conversations from
//! the window's dialog (the other member's app has them within a second; a direct conversation
//! stays one per pair whoever starts it, even at the same moment), renaming and growing a group,
//! leaving one (its room is refused from then on and nothing sent there reaches the leaver),
//! and muting (no notification at the daemon, except for a mention of me).

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use confab_e2e::steps::{eventually, next_event, realtime_client_of, sign_in, teammate_core};
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, ENTER, GRACE, LINUS, WAIT};
use confab_model::ipc::UiEvent;
use confab_model::{ChannelName, ConversationKind};
use pusher_channels::proto::{AuthError, Event, SubscriptionError};

/// WebDriver keys: Control held for the next key, then all keys released.
const SELECT_ALL: &str = "\u{E009}a\u{E000}";

/// The conversations user `api` is in whose members are exactly `members` (sorted ids).
async fn conversations_with(
    api: &confab_core::Api,
    members: &[i64],
) -> Result<Vec<confab_model::Conversation>> {
    let mut want = members.to_vec();
    want.sort_unstable();
    Ok(api
        .conversations()
        .await?
        .into_iter()
        .filter(|c| {
            let mut ids = c.member_ids.clone();
            ids.sort_unstable();
            ids == want
        })
        .collect())
}

/// Whether a conversation-list event holds a conversation matching `pred`.
fn lists(e: &UiEvent, pred: impl Fn(&confab_model::ipc::ConversationSummary) -> bool) -> bool {
    matches!(e, UiEvent::Conversations(u) if u.conversations.iter().any(pred))
}

#[test]
fn conversations_started_from_the_dialog_reach_the_other_member_within_a_second_and_a_direct_one_stays_one_per_pair(
) {
    in_desktop(
        "conversations_started_from_the_dialog_reach_the_other_member_within_a_second_and_a_direct_one_stays_one_per_pair",
        start_conversations,
    );
}

async fn start_conversations(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("team-start")?;
    let (ada, grace, linus) = (
        backend.user_id(ADA),
        backend.user_id(GRACE),
        backend.user_id(LINUS),
    );
    // A teammate provisioned with `users add` only: no conversation with anyone yet.
    let (email, password) = ("margaret@example.com", "apollo-guidance-computer");
    let (margaret, margaret_api) = backend
        .add_user("Margaret Hamilton", email, password)
        .await?;
    let (margaret_core, mut margaret_events) =
        teammate_core(&backend, email, password, &desktop.home().join("margaret")).await?;

    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "team-start").await?;
    let (ada_email, ada_password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &ada_email, &ada_password).await?;

    // A direct conversation, keyboard only: type, Enter picks, Enter on the empty field starts.
    app.click("#new-conversation").await?;
    app.wait_for("#new-conversation-dialog").await?;
    app.type_into("#new-conversation-query", "marg").await?;
    app.wait_text("#new-conversation-people", |t| {
        t.contains("Margaret Hamilton") && !t.contains("Grace")
    })
    .await?;
    app.screenshot("picker").await?;
    app.type_into("#new-conversation-query", ENTER).await?;
    app.wait_text("#chosen-members", |t| t.contains("Margaret Hamilton"))
        .await?;
    let started = Instant::now();
    app.type_into("#new-conversation-query", ENTER).await?;
    app.wait_text("#chat-title", |t| t == "Margaret Hamilton")
        .await?;
    next_event(
        &mut margaret_events,
        "the direct conversation with Ada in Margaret's list",
        |e| {
            lists(e, |c| {
                c.kind == ConversationKind::Direct && c.direct_peer_id == Some(ada)
            })
        },
    )
    .await?;
    let took = started.elapsed();
    println!("Margaret's app had the new conversation {took:?} after Ada started it");
    ensure!(
        took < Duration::from_secs(1),
        "the other member sees it within a second: {took:?}"
    );
    app.screenshot("direct-started").await?;
    let direct = conversations_with(&margaret_api, &[ada, margaret]).await?;
    ensure!(direct.len() == 1, "one direct conversation: {direct:?}");
    let direct_id = direct[0].id;

    // Again from Ada's dialog: the same conversation opens, nothing new is made.
    app.click(&format!(
        "button[data-conversation-id=\"{}\"]",
        backend.conversation_id(ADA, &[ADA, GRACE]).await?
    ))
    .await?;
    app.click("#new-conversation").await?;
    app.type_into("#new-conversation-query", "marg").await?;
    app.type_into("#new-conversation-query", ENTER).await?;
    app.type_into("#new-conversation-query", ENTER).await?;
    app.wait_text("#chat-title", |t| t == "Margaret Hamilton")
        .await?;
    // From Margaret's side: the server answers the existing one.
    let again = margaret_core.create_conversation(vec![ada], None).await?;
    ensure!(again == direct_id, "Margaret got {again}, not {direct_id}");
    ensure!(
        conversations_with(&margaret_api, &[ada, margaret])
            .await?
            .len()
            == 1
    );

    // Both at once (Linus and Margaret, each asking for the other): one conversation.
    let linus_api = backend.api(LINUS).await?;
    let (to_margaret, to_linus) = ([margaret], [linus]);
    let (a, b) = tokio::join!(
        linus_api.create_conversation(None, &to_margaret),
        margaret_api.create_conversation(None, &to_linus),
    );
    let (a, b) = (a?, b?);
    ensure!(
        a.id == b.id,
        "both sides got the same one: {} and {}",
        a.id,
        b.id
    );
    let pair = conversations_with(&linus_api, &[linus, margaret]).await?;
    ensure!(pair.len() == 1, "one per pair under concurrency: {pair:?}");

    // A group with a name.
    app.click("#new-conversation").await?;
    app.type_into("#new-conversation-query", "grace").await?;
    app.type_into("#new-conversation-query", ENTER).await?;
    app.type_into("#new-conversation-query", "marg").await?;
    app.type_into("#new-conversation-query", ENTER).await?;
    app.wait_text("#chosen-members", |t| {
        t.contains("Grace Hopper") && t.contains("Margaret Hamilton")
    })
    .await?;
    app.type_into("#new-conversation-title", "Launch crew")
        .await?;
    app.screenshot("group-picked").await?;
    let started = Instant::now();
    app.click("#new-conversation-start").await?;
    app.wait_text("#chat-title", |t| t == "Launch crew").await?;
    next_event(&mut margaret_events, "the group in Margaret's list", |e| {
        lists(e, |c| {
            c.title == "Launch crew" && c.kind == ConversationKind::Group
        })
    })
    .await?;
    let took = started.elapsed();
    println!("Margaret's app had the group {took:?} after Ada started it");
    ensure!(took < Duration::from_secs(1), "within a second: {took:?}");
    let group = conversations_with(&margaret_api, &[ada, grace, margaret]).await?;
    ensure!(group.len() == 1 && group[0].title == "Launch crew");
    let group_id = group[0].id;

    // Renamed from the group dialog: every member's list follows.
    app.click("#chat-group").await?;
    app.wait_for("#group-dialog").await?;
    app.type_into("#group-title", SELECT_ALL).await?;
    app.type_into("#group-title", "Launch team").await?;
    app.click("#group-rename").await?;
    next_event(
        &mut margaret_events,
        "the new name in Margaret's list",
        |e| lists(e, |c| c.id == group_id && c.title == "Launch team"),
    )
    .await?;
    app.wait_text("#chat-title", |t| t == "Launch team").await?;

    // Linus is added: the group reaches him too.
    app.type_into("#group-add-query", "linus").await?;
    app.click(&format!(
        "#group-candidates button[data-user-id=\"{linus}\"]"
    ))
    .await?;
    app.click("#group-add").await?;
    app.wait_text("#group-members", |t| t.contains("Linus Torvalds"))
        .await?;
    app.screenshot("group-grown").await?;
    eventually("the group in Linus's list", WAIT, || async {
        Ok(
            conversations_with(&linus_api, &[ada, grace, linus, margaret])
                .await?
                .into_iter()
                .find(|c| c.id == group_id),
        )
    })
    .await?;
    next_event(
        &mut margaret_events,
        "four members in Margaret's view",
        |e| lists(e, |c| c.id == group_id && c.member_count == 4),
    )
    .await?;
    let mut four = vec![ada, grace, linus, margaret];
    four.sort_unstable();
    assert_eq!(margaret_core.members(group_id).await?, four);
    margaret_core.close().await;
    app.quit().await
}

#[test]
fn leaving_a_group_refuses_its_room_to_the_leaver_and_nothing_sent_there_afterwards_reaches_them() {
    in_desktop(
        "leaving_a_group_refuses_its_room_to_the_leaver_and_nothing_sent_there_afterwards_reaches_them",
        leave_group,
    );
}

async fn leave_group(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("team-leave")?;
    let ada = backend.user_id(ADA);
    let team = backend.conversation_id(ADA, &[ADA, GRACE, LINUS]).await?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    let (grace_email, grace_password) = backend.credentials(GRACE);
    let (grace, mut grace_events) = teammate_core(
        &backend,
        &grace_email,
        &grace_password,
        &desktop.home().join("grace"),
    )
    .await?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "team-leave").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;

    app.open_conversation(team).await?;
    app.wait_text("#chat-title", |t| t == "Team").await?;
    app.click("#chat-group").await?;
    app.wait_for("#group-dialog").await?;
    app.click("#group-leave").await?;
    app.wait_text("#group-leave", |t| t.contains("Really leave"))
        .await?;
    app.click("#group-leave").await?;
    app.wait_script(
        &format!("return !document.querySelector('button[data-conversation-id=\"{team}\"]');"),
        |v| v.as_bool() == Some(true),
    )
    .await?;
    app.screenshot("left").await?;
    next_event(&mut grace_events, "Team without Ada in Grace's list", |e| {
        lists(e, |c| c.id == team && c.member_count == 2)
    })
    .await?;
    assert!(!grace.members(team).await?.contains(&ada));

    // Ada's own credentials on a fresh realtime connection: the room is refused.
    let (client, mut events) = realtime_client_of(&backend, ADA).await?;
    let room = ChannelName::chat_room(team);
    client.subscribe(&room)?;
    let refused = tokio::time::timeout(WAIT, async {
        while let Some(e) = events.recv().await {
            match e {
                Event::SubscriptionFailed { channel, error } if channel == room => {
                    return Ok(error)
                }
                Event::Subscribed { channel, .. } if channel == room => {
                    bail!("the leaver was let into {room}")
                }
                _ => {}
            }
        }
        bail!("the connection closed")
    })
    .await
    .context("waiting for the room's subscription to be refused")??;
    ensure!(
        matches!(
            refused,
            SubscriptionError::Auth(AuthError {
                status: Some(403),
                ..
            })
        ),
        "refused by the backend with 403: {refused:?}"
    );

    // Grace writes in the group, then to Ada directly: the direct message arrives, the group's
    // never does (not on the window, not in the cache, not on Ada's socket).
    let secret = "Plans for the surprise party";
    grace.send_message(team, secret.into()).await?;
    grace
        .send_message(pair, "Did you see the release notes?".into())
        .await?;
    app.wait_text("#conversation-list", |t| {
        t.contains("Did you see the release notes?")
    })
    .await?;
    let page = app.wait_text("body", |_| true).await?;
    ensure!(
        !page.contains(secret),
        "the window shows nothing of the group"
    );
    app.click("#open-search").await?;
    app.type_into("#search-input", "surprise party").await?;
    app.wait_text("#search-dialog", |t| t.contains("Nothing matches"))
        .await?;
    app.screenshot("nothing-after-leaving").await?;
    while let Some(e) = events.try_recv() {
        if let Event::Message { channel, .. } = &e {
            ensure!(
                *channel != room,
                "an event of the room reached the leaver: {e:?}"
            );
        }
    }
    grace.close().await;
    app.quit().await
}

#[test]
fn a_muted_conversation_raises_no_notification_but_a_mention_of_me_in_it_does() {
    in_desktop(
        "a_muted_conversation_raises_no_notification_but_a_mention_of_me_in_it_does",
        mute_and_mention,
    );
}

async fn mute_and_mention(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("team-mute")?;
    let team = backend.conversation_id(ADA, &[ADA, GRACE, LINUS]).await?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    let data = desktop.home().join("confab-data");
    let mut app = AppWindow::launch(&desktop, &data, &backend.url(), "team-mute").await?;
    let (email, password) = backend.credentials(ADA);
    sign_in(&mut app, &backend, &email, &password).await?;
    let ada_api = backend.api(ADA).await?;

    // Muted from the conversation's header: kept on the server.
    app.open_conversation(team).await?;
    app.click("#chat-mute").await?;
    app.wait_script(
        "return document.querySelector('#chat-mute').getAttribute('aria-pressed');",
        |v| v.as_str() == Some("true"),
    )
    .await?;
    eventually("the server to keep the mute", WAIT, || async {
        Ok(ada_api
            .conversations()
            .await?
            .into_iter()
            .find(|c| c.id == team && c.muted == Some(true)))
    })
    .await?;
    // Another conversation on screen, so Team is not being watched.
    app.open_conversation(pair).await?;
    app.wait_text("#chat-title", |t| t.contains("Grace"))
        .await?;

    let linus = backend.api(LINUS).await?;
    let quiet = "Anyone up for lunch at noon?";
    linus.send_message(team, quiet, "mute-e2e-1", None).await?;
    app.wait_text("#conversation-list", |t| t.contains(quiet))
        .await?;
    let mention = "@Ada Lovelace can you review the launch checklist?";
    linus
        .send_message(team, mention, "mute-e2e-2", None)
        .await?;
    let shown = eventually("the mention's notification", WAIT, || async {
        Ok(desktop
            .notifications()?
            .into_iter()
            .find(|n| n.contains("launch checklist")))
    })
    .await?;
    ensure!(
        shown.contains("mentioned you"),
        "the notification says it is a mention: {shown}"
    );
    let all = desktop.notifications()?;
    ensure!(
        !all.iter().any(|n| n.contains("lunch")),
        "the muted conversation's plain message raised nothing: {all:?}"
    );
    app.wait_text(
        &format!("li:has(button[data-conversation-id=\"{team}\"]) .mention-badge"),
        |t| t.contains('1'),
    )
    .await?;
    app.screenshot("mention-badge").await?;

    // The composer completes a teammate after `@`.
    app.type_into("#composer", "thanks @lin").await?;
    app.wait_text("#mention-suggestions", |t| t.contains("Linus Torvalds"))
        .await?;
    app.screenshot("mention-suggestions").await?;
    app.type_into("#composer", ENTER).await?;
    let value = app.wait_for("#composer").await?.prop("value").await?;
    ensure!(
        value.as_deref() == Some("thanks @Linus Torvalds "),
        "completed in place: {value:?}"
    );

    // Unmuted from the sidebar item.
    app.client()
        .execute(
            &format!(
                "document.querySelector('li:has(button[data-conversation-id=\"{team}\"]) .mute-toggle').click();"
            ),
            vec![],
        )
        .await?;
    eventually("the server to drop the mute", WAIT, || async {
        Ok(ada_api
            .conversations()
            .await?
            .into_iter()
            .find(|c| c.id == team && c.muted == Some(false)))
    })
    .await?;
    app.quit().await
}

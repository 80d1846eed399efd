//! Demo mode: a seeded database and an optional "teammate" that keeps things moving.

use std::time::Duration;

use confab_model::events::{self, KnowledgeRequestEvent, UserNotice};
use confab_model::{ChannelName, ConversationId, User, UserId};
use rand::Rng;

use crate::auth::{generate_password, hash_password};
use crate::db::Db;
use crate::error::AppError;
use crate::routes::triggers::trigger;
use crate::state::AppState;
use crate::store::conversations::Created;
use crate::store::{self, StoreError};

/// A seeded user and the password printed for them.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// The user.
    pub user: User,
    /// Their generated password.
    pub password: String,
}

/// What [`seed`] created.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// Ada, Grace and Linus; Ada is the one to log in as.
    pub users: Vec<DemoUser>,
    /// Conversations the teammate posts into (all include Ada and Linus).
    pub teammate_rooms: Vec<ConversationId>,
}

const HISTORY: &[(usize, &str)] = &[
    (1, "Morning! Did the release notes go out?"),
    (0, "Not yet, I'm waiting for the changelog review."),
    (1, "I can review it after standup."),
    (0, "Perfect, thanks Grace."),
    (1, "Done, left two comments."),
];

const TEAM_HISTORY: &[(usize, &str)] = &[
    (2, "Build is green again."),
    (0, "Nice. What was it?"),
    (
        2,
        "A flaky test waiting on a sleep. Replaced it with an event.",
    ),
    (1, "Love to see it."),
];

const TEAMMATE_LINES: &[&str] = &[
    "Anyone up for a quick review?",
    "Pushed a fix for the sync cursor.",
    "Coffee break in 10?",
    "The benchmark numbers look good today.",
    "I'll be offline for an hour.",
    "Can you double-check my migration?",
];

const TEAMMATE_QUESTIONS: &[&str] = &[
    "Could you share how you set up the staging database?",
    "Do you have notes on the Pusher presence channels?",
    "Can you share the on-call runbook?",
];

/// Creates the demo users, three conversations (direct ones of Ada with Grace and with Linus,
/// the group "Team" of all three), history in two of them, and two pending requests to Ada.
///
/// # Errors
/// Database errors, or the database already has users (demo mode wants a fresh one).
pub fn seed(db: &Db) -> Result<DemoData, AppError> {
    let people = [
        ("ada@confab.local", "Ada Lovelace"),
        ("grace@confab.local", "Grace Hopper"),
        ("linus@confab.local", "Linus Torvalds"),
    ];
    let mut users = Vec::new();
    for (email, name) in people {
        let password = generate_password();
        let hash = hash_password(&password)?;
        let user = db.write_blocking(|c| store::users::create_user(c, email, name, &hash))?;
        users.push(DemoUser { user, password });
    }
    let [ada, grace, linus] = [&users[0].user, &users[1].user, &users[2].user];
    let rooms = db.write_blocking(|c| -> Result<_, StoreError> {
        // Two people without a title: direct conversations (one per pair); the titled one of
        // three is a group.
        let start = |creator: &User, title: Option<&str>, others: &[UserId]| {
            store::conversations::create(c, creator, title, others, None)
                .map(Created::into_conversation)
        };
        let pair = start(ada, None, &[grace.id])?;
        let team = start(ada, Some("Team"), &[grace.id, linus.id])?;
        let with_linus = start(linus, None, &[ada.id])?;
        let who = [ada, grace, linus];
        for (i, (from, text)) in HISTORY.iter().enumerate() {
            store::chat::post_message(c, pair.id, who[*from], text, &format!("seed-pair-{i}"))?;
        }
        for (i, (from, text)) in TEAM_HISTORY.iter().enumerate() {
            store::chat::post_message(c, team.id, who[*from], text, &format!("seed-team-{i}"))?;
        }
        store::knowledge::create(c, grace, ada.id, "How do we cut a release?")?;
        store::knowledge::create(c, linus, ada.id, "Can you share the design doc for sync?")?;
        Ok(vec![team.id, with_linus.id])
    })?;
    Ok(DemoData {
        users,
        teammate_rooms: rooms,
    })
}

/// Runs the teammate forever: every 4–12 s Linus posts a line in one of `rooms`, and about one
/// time in six asks Ada to share something. Goes through the same store and trigger path as
/// the REST handlers.
pub async fn run_teammate(
    state: AppState,
    teammate: User,
    target: User,
    rooms: Vec<ConversationId>,
) {
    let mut counter = 0u64;
    loop {
        let (pause_ms, pick, ask) = {
            let mut rng = rand::rng();
            (
                rng.random_range(4_000..12_000),
                rng.random_range(0..1_000usize),
                rng.random_range(0..6) == 0,
            )
        };
        // Pacing for a human watching the demo; not synchronization.
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        counter += 1;
        let result = if ask {
            ask_for_knowledge(
                &state,
                &teammate,
                &target,
                TEAMMATE_QUESTIONS[pick % TEAMMATE_QUESTIONS.len()],
            )
            .await
        } else if rooms.is_empty() {
            Ok(())
        } else {
            let room = rooms[pick % rooms.len()];
            let line = TEAMMATE_LINES[pick % TEAMMATE_LINES.len()];
            post(&state, &teammate, room, line, counter).await
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "teammate action failed");
        }
    }
}

async fn post(
    state: &AppState,
    who: &User,
    room: ConversationId,
    text: &str,
    n: u64,
) -> Result<(), AppError> {
    let sender = who.clone();
    let text = text.to_owned();
    let client_id = format!("teammate-{}-{n}", crate::time::now_ms());
    let (message, created) = state
        .db()
        .write(move |c| store::chat::post_message(c, room, &sender, &text, &client_id))
        .await?;
    if created {
        trigger(
            state,
            vec![ChannelName::chat_room(room)],
            events::NEW_MESSAGE,
            &message,
            None,
        )?;
    }
    Ok(())
}

async fn ask_for_knowledge(
    state: &AppState,
    who: &User,
    owner: &User,
    question: &str,
) -> Result<(), AppError> {
    let requester = who.clone();
    let owner_id = owner.id;
    let question = question.to_owned();
    let request = state
        .db()
        .write(move |c| store::knowledge::create(c, &requester, owner_id, &question))
        .await?;
    let notice = UserNotice::KnowledgeRequest(KnowledgeRequestEvent {
        request_id: request.id,
        question: request.question.clone(),
        requester_name: request.requester_name.clone(),
        created_at: request.created_at.clone(),
        seq: request.seq,
    });
    trigger(
        state,
        vec![ChannelName::private_user(owner_id)],
        events::KNOWLEDGE_REQUEST,
        &notice,
        None,
    )
}

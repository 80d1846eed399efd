//! What the window calls: reads it asks for (a page of messages, a draft, a search) and the
//! user's actions (send, answer, ask, mark read, type). An action answers with what the user
//! needs at once and announces what it changed on the UI feed; nobody re-reads a list after it.

use confab_model::ipc::{
    ChatMessage, ConnectionStatus, ConversationSummary, FocusState, RequestLists, ShareRequestView,
    Teammate,
};
use confab_model::{ConversationId, KnowledgeDecision, RequestId, UserId};
use confab_model::{MAX_MESSAGE_CHARS, MESSAGES_PAGE_MAX};
use confab_store::QueryCounts;

use crate::error::CoreError;
use crate::feed::Changes;
use crate::{engine, views, Core};

impl Core {
    /// A page of messages (ascending); the newest page when `before_seq` is `None`; at most
    /// [`MESSAGES_PAGE_MAX`].
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn messages(
        &self,
        conversation_id: ConversationId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let limit = limit.clamp(1, MESSAGES_PAGE_MAX) as usize;
        let db = self.db().await?;
        let page = db
            .run(move |s| s.messages_before(conversation_id, before_seq, limit))
            .await?;
        if page.len() >= limit || self.history_complete(conversation_id).await {
            return Ok(page);
        }
        // A short page: the cache may lack older history the server has (a conversation I was
        // added to: sync brings its changes from my joining on, so only what is older than that
        // can be missing; asking below it never races a catch-up in progress). Offline, the
        // cache's page is the answer.
        let (joined, history) = db
            .run(move |s| Ok((s.joined_seq(conversation_id)?, s.history()?)))
            .await?;
        // A first sync's history still loading: anything below its head may be missing yet
        // (a conversation from the snapshot has no joining seq), so ask the server for it.
        let joined = match history {
            Some(h) if joined <= 0 => h.end,
            _ => joined,
        };
        let Ok(api) = self.api().await else {
            return Ok(page);
        };
        if joined <= 0 {
            return Ok(page);
        }
        let below = page
            .iter()
            .filter_map(|m| m.seq)
            .chain(before_seq)
            .fold(joined, i64::min);
        let Ok(older) = api
            .messages(conversation_id, Some(below), MESSAGES_PAGE_MAX)
            .await
        else {
            return Ok(page);
        };
        if older.len() < MESSAGES_PAGE_MAX as usize {
            let _ = self
                .with_active(|a| {
                    if let Ok(mut done) = a.history_complete.lock() {
                        done.insert(conversation_id);
                    }
                })
                .await;
        }
        if older.is_empty() {
            return Ok(page);
        }
        db.run(move |s| {
            s.write(|tx| tx.apply_history(&older))?;
            s.messages_before(conversation_id, before_seq, limit)
        })
        .await
    }

    /// A page of messages (ascending) newer than `after_seq`, at most [`MESSAGES_PAGE_MAX`]
    /// sent ones, then (on the page that reaches the newest) the unsent ones. Only the cache is
    /// read: sync keeps everything newer than what the cache holds in it.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn messages_after(
        &self,
        conversation_id: ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, CoreError> {
        let limit = limit.clamp(1, MESSAGES_PAGE_MAX) as usize;
        let db = self.db().await?;
        db.run(move |s| s.messages_after(conversation_id, after_seq, limit))
            .await
    }

    /// Whether the server was found to have no older messages of a conversation than the cache.
    async fn history_complete(&self, conversation_id: ConversationId) -> bool {
        self.with_active(|a| {
            a.history_complete
                .lock()
                .is_ok_and(|done| done.contains(&conversation_id))
        })
        .await
        .unwrap_or(false)
    }

    /// Writes a message: stored and answered as pending at once (listeners get the row and the
    /// conversation's new summary), delivered by the outbox.
    ///
    /// # Errors
    /// Empty or too long; not signed in; a full disk (the text is not lost: the UI keeps it).
    pub async fn send_message(
        &self,
        conversation_id: ConversationId,
        content: String,
    ) -> Result<ChatMessage, CoreError> {
        let text = content.trim_end().to_owned();
        if text.trim().is_empty() {
            return Err(CoreError::Invalid("A message can't be empty.".into()));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CoreError::Invalid(format!(
                "A message can be at most {MAX_MESSAGE_CHARS} characters."
            )));
        }
        let db = self.db().await?;
        let client_id = views::new_client_id();
        let created = views::now_rfc3339();
        let msg = db
            .run(move |s| {
                let m = s.enqueue_message(
                    conversation_id,
                    &client_id,
                    &text,
                    &created,
                    views::now_ms(),
                )?;
                s.set_draft(conversation_id, "", views::now_ms())?;
                Ok(m)
            })
            .await?;
        // Announced before the sender is woken, so the pending row always reaches listeners
        // before the delivered one.
        self.with_active(|a| {
            a.feed.send(
                Changes::rows(conversation_id, vec![msg.clone()]).and_conversation(conversation_id),
            );
            if let Some(live) = &a.live {
                live.kick.notify_one();
                let _ = live.commands.send(engine::Command::Sent(conversation_id));
            }
        })
        .await?;
        Ok(msg)
    }

    /// Retries a failed message now.
    ///
    /// # Errors
    /// Not signed in; it was delivered or discarded meanwhile.
    pub async fn retry_message(&self, client_id: String) -> Result<(), CoreError> {
        let m = self
            .db()
            .await?
            .run(move |s| s.outbox_retry(&client_id, views::now_ms()))
            .await?;
        self.with_active(|a| {
            a.feed
                .send(Changes::rows(m.conversation_id, vec![m.clone()]));
            if let Some(live) = &a.live {
                live.kick.notify_one();
            }
        })
        .await
    }

    /// Discards an unsent message.
    ///
    /// # Errors
    /// Not signed in; it was delivered meanwhile.
    pub async fn discard_message(&self, client_id: String) -> Result<(), CoreError> {
        let id = client_id.clone();
        let conversation_id = self.db().await?.run(move |s| s.outbox_discard(&id)).await?;
        self.changed(Changes::removed(conversation_id, client_id))
            .await;
        Ok(())
    }

    /// The conversation list, most recent activity first (listeners get it on the event
    /// stream; this is for headless callers).
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn conversations(&self) -> Result<Vec<ConversationSummary>, CoreError> {
        self.db().await?.run(|s| s.conversation_list()).await
    }

    /// Incoming pending requests and my outgoing ones (listeners get them on the event
    /// stream; this is for headless callers).
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn requests(&self) -> Result<RequestLists, CoreError> {
        self.db().await?.run(|s| views::request_lists(s)).await
    }

    /// Answers a request (approve with content, or deny).
    ///
    /// # Errors
    /// Offline (answers need the server); already answered ([`CoreError::Api`] 409).
    pub async fn respond(
        &self,
        request_id: RequestId,
        approve: bool,
        content: Option<String>,
    ) -> Result<(), CoreError> {
        let decision = if approve {
            KnowledgeDecision::Approved
        } else {
            KnowledgeDecision::Denied
        };
        let content = content.filter(|c| !c.trim().is_empty());
        if approve && content.is_none() {
            return Err(CoreError::Invalid(
                "Write what you want to share before approving.".into(),
            ));
        }
        let r = self
            .api()
            .await?
            .respond(request_id, decision, content.as_deref())
            .await?;
        self.db().await?.run(move |s| s.apply_request(&r)).await?;
        self.changed(Changes::requests()).await;
        Ok(())
    }

    /// Asks a teammate to share knowledge.
    ///
    /// # Errors
    /// Offline; empty question; unknown teammate.
    pub async fn ask(
        &self,
        owner_id: UserId,
        question: String,
    ) -> Result<ShareRequestView, CoreError> {
        if question.trim().is_empty() {
            return Err(CoreError::Invalid("Write a question first.".into()));
        }
        let r = self.api().await?.ask(owner_id, question.trim()).await?;
        let req = r.clone();
        let users = self
            .db()
            .await?
            .run(move |s| {
                s.apply_request(&req)?;
                s.users()
            })
            .await?;
        self.changed(Changes::requests()).await;
        let me = self.with_active(|a| a.info.user_id).await?;
        Ok(views::request_view(&r, &users, Some(me)))
    }

    /// The directory with who is online (listeners get it on the event stream; this is for
    /// headless callers).
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn teammates(&self) -> Result<Vec<Teammate>, CoreError> {
        let me = self.with_active(|a| a.info.user_id).await?;
        let users = self.db().await?.run(|s| s.users()).await?;
        Ok(views::teammates(users, me, &self.inner.shared.online()))
    }

    /// The conversation is on screen: mark everything in it read (here and on the server).
    /// The local mark moves at once; the cache keeps it as unsent in the same transaction and
    /// the sender posts it now, and again after failures and restarts until the server has it.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn mark_seen(&self, conversation_id: ConversationId) -> Result<(), CoreError> {
        let db = self.db().await?;
        let moved = db
            .run(move |s| {
                let last = s
                    .messages_before(conversation_id, None, 1)?
                    .last()
                    .and_then(|m| m.seq);
                match last {
                    Some(seq) => s.mark_read(conversation_id, seq),
                    None => Ok(false),
                }
            })
            .await?;
        if moved {
            // The sender posts it (a task the core stops with the session, unlike one spawned
            // here, which could write the cache after close).
            self.inner.shared.send_read_marks_now();
            self.with_active(|a| {
                a.feed.send(Changes::conversation(conversation_id));
                if let Some(live) = &a.live {
                    live.kick.notify_one();
                }
            })
            .await?;
        }
        Ok(())
    }

    /// A key was pressed in the composer (the core throttles what it sends).
    ///
    /// # Errors
    /// Not signed in.
    pub async fn typing(&self, conversation_id: ConversationId) -> Result<(), CoreError> {
        self.with_active(|a| {
            if let Some(live) = &a.live {
                let _ = live
                    .commands
                    .send(engine::Command::Keystroke(conversation_id));
            }
        })
        .await
    }

    /// Who is in a conversation (ascending ids), from the cache.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn members(&self, conversation_id: ConversationId) -> Result<Vec<UserId>, CoreError> {
        self.db()
            .await?
            .run(move |s| s.conversation_members(conversation_id))
            .await
    }

    /// The saved draft of a conversation.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn draft(&self, conversation_id: ConversationId) -> Result<String, CoreError> {
        Ok(self
            .db()
            .await?
            .run(move |s| s.draft(conversation_id))
            .await?
            .unwrap_or_default())
    }

    /// Saves a draft (empty deletes it).
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn set_draft(
        &self,
        conversation_id: ConversationId,
        text: String,
    ) -> Result<(), CoreError> {
        self.db()
            .await?
            .run(move |s| s.set_draft(conversation_id, &text, views::now_ms()))
            .await
    }

    /// A remembered UI setting.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn setting(&self, key: String) -> Result<Option<String>, CoreError> {
        self.db().await?.run(move |s| s.setting(&key)).await
    }

    /// Remembers a UI setting.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn set_setting(&self, key: String, value: String) -> Result<(), CoreError> {
        self.db()
            .await?
            .run(move |s| s.set_setting(&key, &value))
            .await
    }

    /// What the window looks like (for the notification policy).
    pub fn set_focus(&self, focus: FocusState) {
        self.inner.shared.set_focus(focus);
    }

    /// Mutes or unmutes all notifications.
    pub fn set_muted(&self, muted: bool) {
        self.inner.shared.set_muted(muted);
    }

    /// Whether notifications are muted.
    pub fn muted(&self) -> bool {
        self.inner.shared.is_muted()
    }

    /// The window painted its first screen: the restored session's network work, held back
    /// so as not to compete with the page's start ([`crate::CoreConfig::connect_after_paint`]),
    /// begins now.
    pub fn window_painted(&self) {
        self.inner.shared.window_painted();
    }

    /// After a wake from sleep, a network change or "Retry now": check the connection and
    /// catch up now (or, without the token yet, ask the keyring again).
    pub fn check_now(&self) {
        if let Ok(guard) = self.inner.active.try_lock() {
            match guard.as_ref().map(|a| &a.live) {
                Some(None) => self.unlock(),
                Some(Some(live)) => {
                    let _ = live.commands.send(engine::Command::CheckNow);
                }
                None => {}
            }
        }
    }

    /// The realtime connection as the banner shows it.
    pub fn connection_status(&self) -> ConnectionStatus {
        self.inner.shared.status()
    }

    /// Watches whether the realtime socket is signed in as the user (`pusher:signin`), the
    /// state in which revoking the user's sessions closes it at once. Diagnostics and tests.
    pub fn realtime_signed_in(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shared.watch_signed_in()
    }

    /// How often the open account's cache ran its list queries: what changes cost (tests and
    /// benchmarks read it).
    ///
    /// # Errors
    /// Not signed in.
    pub async fn query_counts(&self) -> Result<QueryCounts, CoreError> {
        self.db().await?.run(|s| Ok(s.query_counts())).await
    }
}

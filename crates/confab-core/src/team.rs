//! What shapes the team's conversations and the knowledge library: starting a direct or group
//! conversation, renaming, adding people, leaving, muting, opening an answer, and searching
//! everything cached.
//!
//! What it never does: queue these for later. Unlike messages (which the outbox keeps until the
//! network returns), each of these needs the server's answer now (it may refuse: a teammate
//! disabled, a direct conversation that already exists), so offline they fail with a sentence
//! and change nothing here.

use confab_model::ipc::{RequestHit, SearchResults};
use confab_model::{ConversationId, LeftChange, RequestId, UserId};

use crate::error::CoreError;
use crate::feed::Changes;
use crate::{engine, views, Core};

/// The most hits of each kind one search answers with.
const SEARCH_LIMIT: usize = 50;
/// The most past answers the ask dialog offers.
const ASKED_BEFORE_LIMIT: usize = 5;

impl Core {
    /// Starts a conversation with `member_ids`: one teammate opens the direct conversation with
    /// them (the existing one, if any, from either side), several make a group titled `title`
    /// (or by the members' names). Answers its id; the list shows it at once.
    ///
    /// # Errors
    /// No one chosen; offline; a teammate unknown or disabled (as the server says).
    pub async fn create_conversation(
        &self,
        member_ids: Vec<UserId>,
        title: Option<String>,
    ) -> Result<ConversationId, CoreError> {
        if member_ids.is_empty() {
            return Err(CoreError::Invalid("Choose at least one teammate.".into()));
        }
        let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let conversation = self
            .api()
            .await?
            .create_conversation(title.as_deref(), &member_ids)
            .await?;
        let id = conversation.id;
        self.db()
            .await?
            .run(move |s| {
                // Placed by the newest change known until its own change arrives (by event or
                // sync) with the real seq: new conversations open at the top, not the bottom.
                let placed = s.sync_cursor()?;
                s.apply_conversation(&conversation, Some(placed))
            })
            .await?;
        self.after_shaping(id, Some(engine::Command::Join(id)))
            .await?;
        Ok(id)
    }

    /// Renames a group.
    ///
    /// # Errors
    /// Empty or too long; a direct conversation; offline; not a member.
    pub async fn rename_conversation(
        &self,
        conversation_id: ConversationId,
        title: String,
    ) -> Result<(), CoreError> {
        let title = title.trim().to_owned();
        if title.is_empty() {
            return Err(CoreError::Invalid("A group needs a name.".into()));
        }
        let c = self
            .api()
            .await?
            .rename_conversation(conversation_id, &title)
            .await?;
        self.store_shaped(c).await
    }

    /// Adds teammates to a group.
    ///
    /// # Errors
    /// No one chosen; a direct conversation; offline; not a member; too many members.
    pub async fn add_members(
        &self,
        conversation_id: ConversationId,
        member_ids: Vec<UserId>,
    ) -> Result<(), CoreError> {
        if member_ids.is_empty() {
            return Err(CoreError::Invalid("Choose at least one teammate.".into()));
        }
        let c = self
            .api()
            .await?
            .add_members(conversation_id, &member_ids)
            .await?;
        self.store_shaped(c).await
    }

    /// Leaves a group: it goes from this account with everything cached of it, and its room is
    /// left (the server refuses it to this account from now on).
    ///
    /// # Errors
    /// A direct conversation; offline; not a member.
    pub async fn leave_conversation(
        &self,
        conversation_id: ConversationId,
    ) -> Result<(), CoreError> {
        self.api()
            .await?
            .leave_conversation(conversation_id)
            .await?;
        let me = self.with_active(|a| a.info.user_id).await?;
        let left = LeftChange {
            seq: 0,
            conversation_id,
            user_id: me,
        };
        self.db()
            .await?
            .run(move |s| s.write(|tx| tx.apply_left(&left)))
            .await?;
        self.after_shaping(
            conversation_id,
            Some(engine::Command::Leave(conversation_id)),
        )
        .await
    }

    /// Mutes or unmutes a conversation, on the server (so it holds on every device and after a
    /// re-install) and here.
    ///
    /// # Errors
    /// Offline; not a member.
    pub async fn set_conversation_muted(
        &self,
        conversation_id: ConversationId,
        muted: bool,
    ) -> Result<(), CoreError> {
        self.api().await?.set_muted(conversation_id, muted).await?;
        self.db()
            .await?
            .run(move |s| s.set_muted(conversation_id, muted))
            .await?;
        self.after_shaping(conversation_id, None).await
    }

    /// I opened the answer to my request: no longer unread, here at once and on the server when
    /// it answers (offline, other devices learn it later: the answer stays read here).
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn mark_answer_seen(&self, request_id: RequestId) -> Result<(), CoreError> {
        let changed = self
            .db()
            .await?
            .run(move |s| s.mark_answer_seen(request_id))
            .await?;
        if !changed {
            return Ok(());
        }
        self.changed(Changes::requests()).await;
        if let Ok(api) = self.api().await {
            if let Err(e) = api.mark_answer_seen(request_id).await {
                tracing::info!(error = %e, "the server did not take the answer as seen");
            }
        }
        Ok(())
    }

    /// Everything cached that matches `query`: messages, and questions and answers.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn search(&self, query: String) -> Result<SearchResults, CoreError> {
        self.db()
            .await?
            .run(move |s| {
                let messages = s.search(&query, None, SEARCH_LIMIT)?;
                let users = s.users()?;
                let me = s.account()?.map(|u| u.id);
                let requests = s
                    .search_requests(&query, SEARCH_LIMIT)?
                    .iter()
                    .map(|m| views::request_hit(m, &users, me))
                    .collect();
                Ok(SearchResults { messages, requests })
            })
            .await
    }

    /// Answered questions like the one being typed ("asked before"), from the cache.
    ///
    /// # Errors
    /// Not signed in; cache errors.
    pub async fn asked_before(&self, question: String) -> Result<Vec<RequestHit>, CoreError> {
        self.db()
            .await?
            .run(move |s| {
                let users = s.users()?;
                let me = s.account()?.map(|u| u.id);
                Ok(s.asked_before(&question, ASKED_BEFORE_LIMIT)?
                    .iter()
                    .map(|m| views::request_hit(m, &users, me))
                    .collect())
            })
            .await
    }

    /// Stores a conversation as the server answered a change to it (renamed, grown) and tells
    /// the window.
    async fn store_shaped(&self, c: confab_model::Conversation) -> Result<(), CoreError> {
        let id = c.id;
        self.db()
            .await?
            .run(move |s| s.apply_conversation(&c, None))
            .await?;
        self.after_shaping(id, None).await
    }

    /// Tells the window the conversation changed and the engine what to do with its room.
    async fn after_shaping(
        &self,
        conversation_id: ConversationId,
        room: Option<engine::Command>,
    ) -> Result<(), CoreError> {
        self.with_active(|a| {
            a.feed.send(Changes::conversation(conversation_id));
            if let (Some(live), Some(cmd)) = (&a.live, room) {
                let _ = live.commands.send(cmd);
            }
        })
        .await
    }
}

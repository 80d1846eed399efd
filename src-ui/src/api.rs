//! The shell's commands as typed async functions, one per core method.
//!
//! Argument names are the commands' parameter names in camelCase (Tauri's convention).

use confab_model::ipc::{
    ChatMessage, ConnectionStatus, ConversationSummary, IpcError, PageMarks, RequestLists,
    SearchHit, SessionInfo, ShareRequestView, SignInRequest, Teammate,
};
use confab_model::{ConversationId, RequestId, Seq, UserId};
use serde_json::json;

use crate::ipc::invoke;

/// The result of every command.
pub type Res<T> = Result<T, IpcError>;

/// The restored session, if any.
pub async fn session() -> Res<Option<SessionInfo>> {
    invoke("session", json!({})).await
}

/// The server URL to pre-fill on the sign-in form.
pub async fn last_server_url() -> Res<Option<String>> {
    invoke("last_server_url", json!({})).await
}

/// Signs in.
pub async fn sign_in(req: SignInRequest) -> Res<SessionInfo> {
    invoke("sign_in", json!({ "req": req })).await
}

/// Signs out (and forgets this account's cache).
pub async fn sign_out() -> Res<()> {
    invoke("sign_out", json!({})).await
}

/// The conversation list.
pub async fn conversations() -> Res<Vec<ConversationSummary>> {
    invoke("conversations", json!({})).await
}

/// A page of messages, ascending; older than `before_seq` when given.
pub async fn messages(
    conversation_id: ConversationId,
    before_seq: Option<Seq>,
    limit: u32,
) -> Res<Vec<ChatMessage>> {
    let args =
        json!({ "conversationId": conversation_id, "beforeSeq": before_seq, "limit": limit });
    invoke("messages", args).await
}

/// Sends a message; the pending message comes back at once.
pub async fn send_message(conversation_id: ConversationId, content: String) -> Res<ChatMessage> {
    let args = json!({ "conversationId": conversation_id, "content": content });
    invoke("send_message", args).await
}

/// Retries a failed message.
pub async fn retry_message(client_id: String) -> Res<()> {
    invoke("retry_message", json!({ "clientId": client_id })).await
}

/// Discards a failed message.
pub async fn discard_message(client_id: String) -> Res<()> {
    invoke("discard_message", json!({ "clientId": client_id })).await
}

/// Incoming and outgoing requests.
pub async fn requests() -> Res<RequestLists> {
    invoke("requests", json!({})).await
}

/// Answers a request.
pub async fn respond(request_id: RequestId, approve: bool, content: Option<String>) -> Res<()> {
    let args = json!({ "requestId": request_id, "approve": approve, "content": content });
    invoke("respond", args).await
}

/// Asks a teammate.
pub async fn ask(owner_id: UserId, question: String) -> Res<ShareRequestView> {
    invoke("ask", json!({ "ownerId": owner_id, "question": question })).await
}

/// The team directory.
pub async fn teammates() -> Res<Vec<Teammate>> {
    invoke("teammates", json!({})).await
}

/// Marks a conversation as read.
pub async fn mark_seen(conversation_id: ConversationId) -> Res<()> {
    invoke("mark_seen", json!({ "conversationId": conversation_id })).await
}

/// Reports a keystroke in the composer (the core throttles).
pub async fn typing(conversation_id: ConversationId) -> Res<()> {
    invoke("typing", json!({ "conversationId": conversation_id })).await
}

/// The saved draft of a conversation.
pub async fn draft(conversation_id: ConversationId) -> Res<String> {
    invoke("draft", json!({ "conversationId": conversation_id })).await
}

/// Saves a draft.
pub async fn set_draft(conversation_id: ConversationId, text: String) -> Res<()> {
    invoke(
        "set_draft",
        json!({ "conversationId": conversation_id, "text": text }),
    )
    .await
}

/// Full-text search over cached messages.
pub async fn search(query: String) -> Res<Vec<SearchHit>> {
    invoke("search", json!({ "query": query })).await
}

/// A UI preference.
pub async fn setting(key: &str) -> Res<Option<String>> {
    invoke("setting", json!({ "key": key })).await
}

/// Saves a UI preference.
pub async fn set_setting(key: &str, value: String) -> Res<()> {
    invoke("set_setting", json!({ "key": key, "value": value })).await
}

/// Tells the notification policy which conversation is open.
pub async fn set_open_conversation(conversation_id: Option<ConversationId>) -> Res<()> {
    invoke(
        "set_open_conversation",
        json!({ "conversationId": conversation_id }),
    )
    .await
}

/// Why the last session ended, when that happened before the window listened.
pub async fn session_notice() -> Res<Option<String>> {
    invoke("session_notice", json!({})).await
}

/// The realtime connection's state right now (events report later changes).
pub async fn connection_status() -> Res<ConnectionStatus> {
    invoke("connection_status", json!({})).await
}

/// Reconnects now instead of waiting for the next attempt.
pub async fn check_now() -> Res<()> {
    invoke("check_now", json!({})).await
}

/// The first screen is in the DOM: the shell shows the window (created hidden).
pub async fn screen_ready() -> Res<()> {
    invoke("screen_ready", json!({})).await
}

/// Reports the first painted screen (startup timing in the app's log).
pub async fn first_paint(screen: &str, conversations: usize, marks: PageMarks) -> Res<()> {
    invoke(
        "first_paint",
        json!({ "screen": screen, "conversations": conversations, "marks": marks }),
    )
    .await
}

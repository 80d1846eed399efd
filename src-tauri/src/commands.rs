//! The window's commands: one per core method, each a few lines, all returning the one IPC
//! error type. Argument names become camelCase keys on the UI side (`conversationId`).

use confab_core::Core;
use confab_model::ipc::{
    ChatMessage, ConnectionStatus, ConversationSummary, IpcError, PageMarks, RequestLists,
    SearchHit, SessionInfo, ShareRequestView, SignInRequest, Teammate,
};
use confab_model::{ConversationId, RequestId, Seq, UserId};
use tauri::State;

use crate::focus::FocusTracker;
use crate::launch::Launch;
use crate::tray;

/// What every command returns.
type Res<T> = Result<T, IpcError>;

/// The restored (or current) session.
#[tauri::command]
pub async fn session(core: State<'_, Core>) -> Res<Option<SessionInfo>> {
    Ok(core.session().await)
}

/// The server URL to pre-fill: `CONFAB_SERVER_URL` if set, else the last one used.
#[tauri::command]
pub async fn last_server_url(
    core: State<'_, Core>,
    launch: State<'_, Launch>,
) -> Res<Option<String>> {
    match &launch.server_url {
        Some(url) => Ok(Some(url.clone())),
        None => Ok(core.last_server_url().await),
    }
}

/// Signs in.
#[tauri::command]
pub async fn sign_in(core: State<'_, Core>, req: SignInRequest) -> Res<SessionInfo> {
    Ok(core.sign_in(req).await?)
}

/// Signs out.
#[tauri::command]
pub async fn sign_out(app: tauri::AppHandle, core: State<'_, Core>) -> Res<()> {
    core.sign_out().await?;
    tray::refresh(&app, &core).await;
    Ok(())
}

/// The conversation list.
#[tauri::command]
pub async fn conversations(core: State<'_, Core>) -> Res<Vec<ConversationSummary>> {
    Ok(core.conversations().await?)
}

/// A page of messages (ascending), older than `before_seq` when given.
#[tauri::command]
pub async fn messages(
    core: State<'_, Core>,
    conversation_id: ConversationId,
    before_seq: Option<Seq>,
    limit: u32,
) -> Res<Vec<ChatMessage>> {
    Ok(core.messages(conversation_id, before_seq, limit).await?)
}

/// Sends a message; returns the pending message at once.
#[tauri::command]
pub async fn send_message(
    core: State<'_, Core>,
    conversation_id: ConversationId,
    content: String,
) -> Res<ChatMessage> {
    Ok(core.send_message(conversation_id, content).await?)
}

/// Retries a failed message.
#[tauri::command]
pub async fn retry_message(core: State<'_, Core>, client_id: String) -> Res<()> {
    Ok(core.retry_message(client_id).await?)
}

/// Discards a failed message.
#[tauri::command]
pub async fn discard_message(core: State<'_, Core>, client_id: String) -> Res<()> {
    Ok(core.discard_message(client_id).await?)
}

/// Incoming and outgoing share requests.
#[tauri::command]
pub async fn requests(core: State<'_, Core>) -> Res<RequestLists> {
    Ok(core.requests().await?)
}

/// Answers a request (approve with content, or deny).
#[tauri::command]
pub async fn respond(
    core: State<'_, Core>,
    request_id: RequestId,
    approve: bool,
    content: Option<String>,
) -> Res<()> {
    Ok(core.respond(request_id, approve, content).await?)
}

/// Asks a teammate for knowledge.
#[tauri::command]
pub async fn ask(
    core: State<'_, Core>,
    owner_id: UserId,
    question: String,
) -> Res<ShareRequestView> {
    Ok(core.ask(owner_id, question).await?)
}

/// The team directory.
#[tauri::command]
pub async fn teammates(core: State<'_, Core>) -> Res<Vec<Teammate>> {
    Ok(core.teammates().await?)
}

/// Marks a conversation as read.
#[tauri::command]
pub async fn mark_seen(core: State<'_, Core>, conversation_id: ConversationId) -> Res<()> {
    Ok(core.mark_seen(conversation_id).await?)
}

/// A keystroke in the composer (the core throttles `client-typing`).
#[tauri::command]
pub async fn typing(core: State<'_, Core>, conversation_id: ConversationId) -> Res<()> {
    Ok(core.typing(conversation_id).await?)
}

/// The saved draft of a conversation.
#[tauri::command]
pub async fn draft(core: State<'_, Core>, conversation_id: ConversationId) -> Res<String> {
    Ok(core.draft(conversation_id).await?)
}

/// Saves a draft.
#[tauri::command]
pub async fn set_draft(
    core: State<'_, Core>,
    conversation_id: ConversationId,
    text: String,
) -> Res<()> {
    Ok(core.set_draft(conversation_id, text).await?)
}

/// Full-text search over the cache.
#[tauri::command]
pub async fn search(core: State<'_, Core>, query: String) -> Res<Vec<SearchHit>> {
    Ok(core.search(query).await?)
}

/// A UI preference.
#[tauri::command]
pub async fn setting(core: State<'_, Core>, key: String) -> Res<Option<String>> {
    Ok(core.setting(key).await?)
}

/// Saves a UI preference.
#[tauri::command]
pub async fn set_setting(core: State<'_, Core>, key: String, value: String) -> Res<()> {
    Ok(core.set_setting(key, value).await?)
}

/// The conversation open in the chat pane (for the notification policy).
#[tauri::command]
pub fn set_open_conversation(
    core: State<'_, Core>,
    focus: State<'_, FocusTracker>,
    conversation_id: Option<ConversationId>,
) -> Res<()> {
    core.set_focus(focus.open_conversation(conversation_id));
    Ok(())
}

/// Mutes or unmutes notifications (the tray's checkbox follows).
#[tauri::command]
pub fn set_muted(app: tauri::AppHandle, core: State<'_, Core>, muted: bool) -> Res<()> {
    core.set_muted(muted);
    tray::show_muted(&app, muted);
    Ok(())
}

/// Whether notifications are muted.
#[tauri::command]
pub fn muted(core: State<'_, Core>) -> Res<bool> {
    Ok(core.muted())
}

/// Reconnects and catches up now.
#[tauri::command]
pub fn check_now(core: State<'_, Core>) -> Res<()> {
    core.check_now();
    Ok(())
}

/// Why the last session ended, if it did before the window listened (shown on sign-in).
#[tauri::command]
pub fn session_notice(core: State<'_, Core>) -> Res<Option<String>> {
    Ok(core.session_notice())
}

/// The realtime connection's state.
#[tauri::command]
pub fn connection_status(core: State<'_, Core>) -> Res<ConnectionStatus> {
    Ok(core.connection_status())
}

/// The page has rendered its first screen into the DOM: show the window (created hidden; see
/// `crate::show_main_window`). Runs on the main thread, so the window is mapped when it returns.
#[tauri::command]
pub fn screen_ready(app: tauri::AppHandle) {
    crate::show_main_window(&app);
}

/// The window painted its first screen (`screen`: "main" with the cached sidebar, or
/// "sign-in"; `marks`: when the page got there, step by step): logged with the time since the
/// process started, which the cold-start benchmark reads; then the start-up work that could
/// wait runs.
#[tauri::command]
pub fn first_paint(app: tauri::AppHandle, screen: String, conversations: usize, marks: PageMarks) {
    let since_start_ms = crate::since_start().as_millis();
    let PageMarks {
        wasm_ms,
        content_ms,
        shown_ms,
        page_ms,
    } = marks;
    tracing::info!(target: "confab::startup", %screen, conversations, wasm_ms, content_ms, shown_ms, page_ms, since_start_ms, "first paint");
    crate::after_first_paint(&app);
}

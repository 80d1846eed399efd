//! The handlers of the commands declared in `confab_model::ipc::commands`: one function per
//! command, named as the command, taking its argument struct and answering its declared
//! output (a command without a handler here does not compile: the plugin is registered from
//! the same list in `crate::confab_plugin`). Each is a few lines over a core method.

use confab_core::Core;
use confab_model::ipc::commands::{
    AddMembers, Ask, AskedBefore, Autostart, ChangePassword, CheckNow, Command, CreateConversation,
    DiscardMessage, Draft, FirstPaint, LeaveConversation, MarkAnswerSeen, MarkSeen, Members,
    Messages, MessagesAfter, RenameConversation, Respond, RetryMessage, ScreenReady, Search,
    SendMessage, SetAutostart, SetConversationMuted, SetDraft, SetOpenConversation, SetSetting,
    Setting, SignIn, SignOut, SignOutEverywhere, Start, Typing,
};
use confab_model::ipc::IpcError;
use tauri::{AppHandle, State};

use crate::focus::FocusTracker;
use crate::launch::Launch;
use crate::{startup, window};

/// What command `C` answers over IPC.
type Answer<C> = Result<<C as Command>::Output, IpcError>;

#[tauri::command]
pub(crate) async fn start(
    core: State<'_, Core>,
    launch: State<'_, Launch>,
    args: Start,
) -> Answer<Start> {
    let Start {} = args;
    let mut startup = core.startup().await;
    // `CONFAB_SERVER_URL` (tests, a packaged default) wins over the last one used.
    startup.server_url = launch.server_url.clone().or(startup.server_url);
    Ok(startup)
}

#[tauri::command]
pub(crate) async fn sign_in(core: State<'_, Core>, args: SignIn) -> Answer<SignIn> {
    Ok(core.sign_in(args.req).await?)
}

#[tauri::command]
pub(crate) async fn sign_out(core: State<'_, Core>, args: SignOut) -> Answer<SignOut> {
    let SignOut {} = args;
    Ok(core.sign_out().await?)
}

#[tauri::command]
pub(crate) async fn change_password(
    core: State<'_, Core>,
    args: ChangePassword,
) -> Answer<ChangePassword> {
    Ok(core.change_password(args.current, args.new).await?)
}

#[tauri::command]
pub(crate) async fn sign_out_everywhere(
    core: State<'_, Core>,
    args: SignOutEverywhere,
) -> Answer<SignOutEverywhere> {
    let SignOutEverywhere {} = args;
    Ok(core.sign_out_everywhere().await?)
}

#[tauri::command]
pub(crate) async fn messages(core: State<'_, Core>, args: Messages) -> Answer<Messages> {
    let Messages {
        conversation_id,
        before_seq,
        limit,
    } = args;
    Ok(core.messages(conversation_id, before_seq, limit).await?)
}

#[tauri::command]
pub(crate) async fn messages_after(
    core: State<'_, Core>,
    args: MessagesAfter,
) -> Answer<MessagesAfter> {
    let MessagesAfter {
        conversation_id,
        after_seq,
        limit,
    } = args;
    Ok(core
        .messages_after(conversation_id, after_seq, limit)
        .await?)
}

#[tauri::command]
pub(crate) async fn send_message(core: State<'_, Core>, args: SendMessage) -> Answer<SendMessage> {
    Ok(core
        .send_message(args.conversation_id, args.content)
        .await?)
}

#[tauri::command]
pub(crate) async fn retry_message(
    core: State<'_, Core>,
    args: RetryMessage,
) -> Answer<RetryMessage> {
    Ok(core.retry_message(args.client_id).await?)
}

#[tauri::command]
pub(crate) async fn discard_message(
    core: State<'_, Core>,
    args: DiscardMessage,
) -> Answer<DiscardMessage> {
    Ok(core.discard_message(args.client_id).await?)
}

#[tauri::command]
pub(crate) async fn respond(core: State<'_, Core>, args: Respond) -> Answer<Respond> {
    Ok(core
        .respond(args.request_id, args.approve, args.content)
        .await?)
}

#[tauri::command]
pub(crate) async fn ask(core: State<'_, Core>, args: Ask) -> Answer<Ask> {
    Ok(core.ask(args.owner_id, args.question).await?)
}

#[tauri::command]
pub(crate) async fn mark_seen(core: State<'_, Core>, args: MarkSeen) -> Answer<MarkSeen> {
    Ok(core.mark_seen(args.conversation_id).await?)
}

#[tauri::command]
pub(crate) async fn typing(core: State<'_, Core>, args: Typing) -> Answer<Typing> {
    Ok(core.typing(args.conversation_id).await?)
}

#[tauri::command]
pub(crate) async fn draft(core: State<'_, Core>, args: Draft) -> Answer<Draft> {
    Ok(core.draft(args.conversation_id).await?)
}

#[tauri::command]
pub(crate) async fn set_draft(core: State<'_, Core>, args: SetDraft) -> Answer<SetDraft> {
    Ok(core.set_draft(args.conversation_id, args.text).await?)
}

#[tauri::command]
pub(crate) async fn search(core: State<'_, Core>, args: Search) -> Answer<Search> {
    Ok(core.search(args.query).await?)
}

#[tauri::command]
pub(crate) async fn asked_before(core: State<'_, Core>, args: AskedBefore) -> Answer<AskedBefore> {
    Ok(core.asked_before(args.question).await?)
}

#[tauri::command]
pub(crate) async fn create_conversation(
    core: State<'_, Core>,
    args: CreateConversation,
) -> Answer<CreateConversation> {
    Ok(core
        .create_conversation(args.member_ids, args.title)
        .await?)
}

#[tauri::command]
pub(crate) async fn rename_conversation(
    core: State<'_, Core>,
    args: RenameConversation,
) -> Answer<RenameConversation> {
    Ok(core
        .rename_conversation(args.conversation_id, args.title)
        .await?)
}

#[tauri::command]
pub(crate) async fn members(core: State<'_, Core>, args: Members) -> Answer<Members> {
    Ok(core.members(args.conversation_id).await?)
}

#[tauri::command]
pub(crate) async fn add_members(core: State<'_, Core>, args: AddMembers) -> Answer<AddMembers> {
    Ok(core
        .add_members(args.conversation_id, args.member_ids)
        .await?)
}

#[tauri::command]
pub(crate) async fn leave_conversation(
    core: State<'_, Core>,
    args: LeaveConversation,
) -> Answer<LeaveConversation> {
    Ok(core.leave_conversation(args.conversation_id).await?)
}

#[tauri::command]
pub(crate) async fn set_conversation_muted(
    core: State<'_, Core>,
    args: SetConversationMuted,
) -> Answer<SetConversationMuted> {
    Ok(core
        .set_conversation_muted(args.conversation_id, args.muted)
        .await?)
}

#[tauri::command]
pub(crate) async fn mark_answer_seen(
    core: State<'_, Core>,
    args: MarkAnswerSeen,
) -> Answer<MarkAnswerSeen> {
    Ok(core.mark_answer_seen(args.request_id).await?)
}

#[tauri::command]
pub(crate) async fn setting(core: State<'_, Core>, args: Setting) -> Answer<Setting> {
    Ok(core.setting(args.key).await?)
}

#[tauri::command]
pub(crate) async fn set_setting(core: State<'_, Core>, args: SetSetting) -> Answer<SetSetting> {
    Ok(core.set_setting(args.key, args.value).await?)
}

#[tauri::command]
pub(crate) fn set_open_conversation(
    core: State<'_, Core>,
    focus: State<'_, FocusTracker>,
    args: SetOpenConversation,
) -> Answer<SetOpenConversation> {
    core.set_focus(focus.open_conversation(args.conversation_id));
    Ok(())
}

#[tauri::command]
pub(crate) fn check_now(core: State<'_, Core>, args: CheckNow) -> Answer<CheckNow> {
    let CheckNow {} = args;
    core.check_now();
    Ok(())
}

/// Runs on the main thread, so the window is mapped when it returns.
#[tauri::command]
pub(crate) fn screen_ready(
    app: AppHandle,
    launch: State<'_, Launch>,
    args: ScreenReady,
) -> Answer<ScreenReady> {
    let ScreenReady {} = args;
    // Started at login: ready in the tray, the window waits for the user.
    if launch.hidden {
        startup::ready_hidden(&app);
    } else {
        window::show_main_window(&app);
    }
    Ok(())
}

#[tauri::command]
pub(crate) fn autostart(app: AppHandle, args: Autostart) -> Answer<Autostart> {
    let Autostart {} = args;
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub(crate) fn set_autostart(app: AppHandle, args: SetAutostart) -> Answer<SetAutostart> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let done = if args.enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    done.map_err(autostart_error)
}

/// The login entry could not be read or written (a read-only config directory).
fn autostart_error(e: tauri_plugin_autostart::Error) -> IpcError {
    tracing::warn!(error = %e, "start at login");
    IpcError::new(
        confab_model::ipc::IpcErrorCode::Internal,
        "Confab could not change whether it starts when you log in.",
    )
}

#[tauri::command]
pub(crate) fn first_paint(app: AppHandle, args: FirstPaint) -> Answer<FirstPaint> {
    startup::first_paint(&app, &args);
    Ok(())
}

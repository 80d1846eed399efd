//! Every command the window may call, declared once in [`for_each_command!`](crate::for_each_command):
//! its name, its arguments (the JSON object the UI sends as `args`) and its answer.
//!
//! From that one list: this module defines an argument struct per command implementing
//! [`Command`] (the UI's typed calls), the shell registers a handler function of the same name
//! for each (a missing one does not compile), and the shell's build script grants exactly
//! [`NAMES`] to the window. Nothing else lists the commands.
//!
//! What a command never does: ask for state the event stream carries (conversation list,
//! request lists, directory). Reads here are pages and lookups the user asked for.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A command: `Self` is its arguments; its name and answer come from the declaration.
pub trait Command: Serialize + DeserializeOwned {
    /// The command's name (snake_case): the shell's handler function has this name.
    const NAME: &'static str;
    /// What it answers with.
    type Output: Serialize + DeserializeOwned;
}

/// The plugin the commands belong to in the shell: the UI invokes `plugin:confab|<name>`.
pub const PLUGIN: &str = "confab";

/// The name the UI invokes `C` by.
pub fn invoke_name<C: Command>() -> String {
    format!("plugin:{PLUGIN}|{}", C::NAME)
}

/// Calls `$then!` with the list of commands, each as
/// `/// doc` `name => ArgsType { /// doc field: Type, … } -> Output;`.
///
/// The one place a command is declared (see the module docs). Types are written with `$crate`
/// paths so the list means the same wherever it is expanded.
#[macro_export]
macro_rules! for_each_command {
    ($then:ident) => {
        $then! {
            /// The restored (or current) session and what the first screen needs. The core
            /// then publishes the whole conversation list, request lists and directory on the
            /// event stream, so a window that just started listening has everything.
            start => Start {} -> $crate::ipc::Startup;
            /// Signs in: password → token → keyring; opens the account's cache and connects.
            sign_in => SignIn {
                /// The form.
                req: $crate::ipc::SignInRequest,
            } -> $crate::ipc::SessionInfo;
            /// Signs out and forgets this account's cache (a `SignedOut` event follows).
            sign_out => SignOut {} -> ();
            /// Changes the account's password (needs the connection). This device stays signed
            /// in; every other session of the account ends.
            change_password => ChangePassword {
                /// The password the account has now.
                current: String,
                /// The new password.
                new: String,
            } -> ();
            /// Signs the account out on every device, this one included (needs the
            /// connection); a `SignedOut` event follows, then `SessionEnded` saying why.
            sign_out_everywhere => SignOutEverywhere {} -> ();
            /// A page of messages (ascending): the newest, or those older than `before_seq`.
            messages => Messages {
                /// The conversation.
                conversation_id: $crate::ConversationId,
                /// Older than this sequence; `None` for the newest page.
                before_seq: Option<$crate::Seq>,
                /// Page size (the core caps it at `confab_model::MESSAGES_PAGE_MAX`).
                limit: u32,
            } -> Vec<$crate::ipc::ChatMessage>;
            /// A page of messages (ascending) newer than `after_seq`, read from the cache:
            /// scrolling forward through a window of older history (opened at a search hit)
            /// back to the newest. Fewer than `limit` sent messages: this page reaches the
            /// newest, and ends with the unsent ones.
            messages_after => MessagesAfter {
                /// The conversation.
                conversation_id: $crate::ConversationId,
                /// Newer than this sequence.
                after_seq: $crate::Seq,
                /// Page size (the core caps it at `confab_model::MESSAGES_PAGE_MAX`).
                limit: u32,
            } -> Vec<$crate::ipc::ChatMessage>;
            /// Writes a message: stored and answered as pending at once, delivered by the outbox.
            send_message => SendMessage {
                /// The conversation.
                conversation_id: $crate::ConversationId,
                /// The text.
                content: String,
            } -> $crate::ipc::ChatMessage;
            /// Retries a failed message now.
            retry_message => RetryMessage {
                /// The message.
                client_id: String,
            } -> ();
            /// Discards an unsent message.
            discard_message => DiscardMessage {
                /// The message.
                client_id: String,
            } -> ();
            /// Answers a request: approve with content, or deny.
            respond => Respond {
                /// The request.
                request_id: $crate::RequestId,
                /// Approve (share `content`) or deny.
                approve: bool,
                /// What is shared.
                content: Option<String>,
            } -> ();
            /// Asks a teammate to share knowledge.
            ask => Ask {
                /// Who is asked.
                owner_id: $crate::UserId,
                /// The question.
                question: String,
            } -> $crate::ipc::ShareRequestView;
            /// The conversation is on screen: everything in it is read.
            mark_seen => MarkSeen {
                /// The conversation.
                conversation_id: $crate::ConversationId,
            } -> ();
            /// A keystroke in the composer (the core throttles what it sends).
            typing => Typing {
                /// The conversation.
                conversation_id: $crate::ConversationId,
            } -> ();
            /// The saved draft of a conversation.
            draft => Draft {
                /// The conversation.
                conversation_id: $crate::ConversationId,
            } -> String;
            /// Saves a draft (empty deletes it).
            set_draft => SetDraft {
                /// The conversation.
                conversation_id: $crate::ConversationId,
                /// The text.
                text: String,
            } -> ();
            /// Full-text search over everything cached: messages, questions and answers.
            search => Search {
                /// What the user typed.
                query: String,
            } -> $crate::ipc::SearchResults;
            /// Answered questions like the one being typed ("asked before"), from the cache.
            asked_before => AskedBefore {
                /// The question so far.
                question: String,
            } -> Vec<$crate::ipc::RequestHit>;
            /// Starts a conversation (needs the connection): one teammate opens the direct
            /// conversation with them (the existing one if there is one), several make a group.
            create_conversation => CreateConversation {
                /// The other members.
                member_ids: Vec<$crate::UserId>,
                /// A group's title (optional).
                title: Option<String>,
            } -> $crate::ConversationId;
            /// Renames a group (needs the connection).
            rename_conversation => RenameConversation {
                /// The group.
                conversation_id: $crate::ConversationId,
                /// The new title.
                title: String,
            } -> ();
            /// Adds people to a group (needs the connection).
            add_members => AddMembers {
                /// The group.
                conversation_id: $crate::ConversationId,
                /// Who joins.
                member_ids: Vec<$crate::UserId>,
            } -> ();
            /// Who is in a conversation, from the cache (ascending ids; empty for one not
            /// in the list). The list's summaries carry only how many.
            members => Members {
                /// The conversation.
                conversation_id: $crate::ConversationId,
            } -> Vec<$crate::UserId>;
            /// Leaves a group (needs the connection): it disappears from this account.
            leave_conversation => LeaveConversation {
                /// The group.
                conversation_id: $crate::ConversationId,
            } -> ();
            /// Mutes or unmutes a conversation (kept on the server; needs the connection).
            set_conversation_muted => SetConversationMuted {
                /// The conversation.
                conversation_id: $crate::ConversationId,
                /// Muted or not.
                muted: bool,
            } -> ();
            /// I opened the answer to my request: it is no longer unread.
            mark_answer_seen => MarkAnswerSeen {
                /// The request.
                request_id: $crate::RequestId,
            } -> ();
            /// A remembered UI setting.
            setting => Setting {
                /// Its key.
                key: String,
            } -> Option<String>;
            /// Remembers a UI setting.
            set_setting => SetSetting {
                /// Its key.
                key: String,
                /// Its value.
                value: String,
            } -> ();
            /// The conversation open in the chat pane (for the notification policy).
            set_open_conversation => SetOpenConversation {
                /// The conversation, or none.
                conversation_id: Option<$crate::ConversationId>,
            } -> ();
            /// Reconnects and catches up now (or asks the keyring again).
            check_now => CheckNow {} -> ();
            /// The first screen is in the DOM: the shell shows the window (created hidden),
            /// unless Confab was started at login.
            screen_ready => ScreenReady {} -> ();
            /// Whether Confab starts when the user logs in.
            autostart => Autostart {} -> bool;
            /// Starts Confab at login (in the tray, window hidden), or stops doing so.
            set_autostart => SetAutostart {
                /// Start at login.
                enabled: bool,
            } -> ();
            /// The first screen was painted: logged for the cold-start benchmark.
            first_paint => FirstPaint {
                /// "main" (the cached sidebar) or "sign-in".
                screen: String,
                /// Conversations on it.
                conversations: usize,
                /// When the page got there, step by step.
                marks: $crate::ipc::PageMarks,
            } -> ();
        }
    };
}

/// Defines the argument structs, their [`Command`] impls and [`NAMES`] from the list.
macro_rules! declare_commands {
    ($(
        $(#[$doc:meta])*
        $name:ident => $args:ident { $( $(#[$fdoc:meta])* $field:ident : $fty:ty ),* $(,)? } -> $out:ty;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[serde(rename_all = "camelCase")]
            pub struct $args {
                $( $(#[$fdoc])* pub $field: $fty, )*
            }

            impl Command for $args {
                const NAME: &'static str = stringify!($name);
                type Output = $out;
            }
        )*

        /// Every command's name, in declaration order: the window is granted exactly these.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

crate::for_each_command!(declare_commands);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_cross_as_camel_case_objects_under_their_command_name() {
        let args = Messages {
            conversation_id: 4,
            before_seq: None,
            limit: 50,
        };
        assert_eq!(
            serde_json::to_value(&args).expect("json"),
            serde_json::json!({ "conversationId": 4, "beforeSeq": null, "limit": 50 })
        );
        assert_eq!(Messages::NAME, "messages");
        assert_eq!(invoke_name::<SendMessage>(), "plugin:confab|send_message");
    }

    #[test]
    fn every_command_is_named_once() {
        let mut names = NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), NAMES.len());
        assert!(NAMES.contains(&"start") && NAMES.contains(&"first_paint"));
    }
}

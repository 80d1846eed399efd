//! The UI's components, one per file. They read the state from the [`crate::store::Store`] context,
//! dispatch actions, and start side effects through [`crate::effects`].

pub mod account_dialog;
pub mod app;
pub mod ask_dialog;
pub mod autostart_prompt;
pub mod avatar;
pub mod banner;
pub mod chat_pane;
pub mod composer;
pub mod conversation_item;
pub mod group_dialog;
pub mod history_progress;
pub mod icon;
pub mod main_view;
pub mod message_list;
pub mod message_row;
pub mod modal;
pub mod new_conversation;
pub mod owner_picker;
pub mod picker;
pub mod request_item;
pub mod requests_dialog;
pub mod respond_dialog;
pub mod rich_text;
pub mod search_dialog;
pub mod sidebar;
pub mod sign_in;
pub mod switcher;
pub mod windowed_list;

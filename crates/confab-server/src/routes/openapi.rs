//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{account, chat, conversations, health, knowledge, pusher, sessions, sync};

/// The API description served at `/api/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "Confab companion backend", description = "REST API, channel authorization and sync for Confab."),
    paths(
        account::healthz, health::readyz, account::login, account::logout, account::me, account::users,
        account::config, conversations::list_conversations, conversations::create_conversation,
        conversations::rename_conversation, conversations::add_members,
        conversations::leave_conversation, conversations::set_muted, chat::list_messages,
        chat::send_message, chat::mark_read, knowledge::create_request, knowledge::list_requests,
        knowledge::respond, knowledge::mark_answer_seen, sync::sync, sync::head,
        pusher::authorize, pusher::authorize_batch, pusher::authenticate, sessions::change_password,
        sessions::revoke_sessions,
    ),
    components(schemas(
        confab_model::events::UserNotice, confab_model::events::ConversationCreated,
        confab_model::events::ReadReceipt, confab_model::events::Typing,
        confab_model::LeftChange, confab_model::MuteChange,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> impl IntoResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()));
    ([(header::CONTENT_TYPE, "application/json")], doc.clone())
}

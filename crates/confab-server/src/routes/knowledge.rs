//! Knowledge-share requests.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use confab_model::api::{CreateKnowledgeRequest, KnowledgeRequestLists, RespondKnowledgeRequest};
use confab_model::events::{self, KnowledgeRequestEvent, KnowledgeResponseEvent, UserNotice};
use confab_model::{ChannelName, ErrorBody, KnowledgeRequest, RequestId};

use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiPath, AppError};
use crate::routes::triggers::trigger;
use crate::state::AppState;
use crate::store;
use crate::time::now_ms;
use crate::write_limit::{self, WriteKind};

/// Asks `ownerId` to share knowledge. Triggers `knowledge-request` on `private-user-{ownerId}`.
#[utoipa::path(post, path = "/api/knowledge/request", tag = "knowledge",
    security(("bearer" = [])), request_body = CreateKnowledgeRequest,
    responses((status = 201, body = KnowledgeRequest), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, description = "Over the account's request limit; nothing stored",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn create_request(
    State(state): State<AppState>,
    me: AuthUser,
    ApiJson(body): ApiJson<CreateKnowledgeRequest>,
) -> Result<(StatusCode, Json<KnowledgeRequest>), AppError> {
    let requester = me.user;
    let limits = *state.write_limits();
    let request = state
        .db()
        .write(move |c| {
            let request = store::knowledge::create(c, &requester, body.owner_id, &body.question)?;
            write_limit::spend(
                c,
                &limits,
                requester.id,
                WriteKind::KnowledgeRequest,
                now_ms(),
            )?;
            Ok::<_, AppError>(request)
        })
        .await?;
    let notice = UserNotice::KnowledgeRequest(KnowledgeRequestEvent {
        request_id: request.id,
        question: request.question.clone(),
        requester_name: request.requester_name.clone(),
        created_at: request.created_at.clone(),
        seq: request.seq,
    });
    trigger(
        &state,
        vec![ChannelName::private_user(request.owner_id)],
        events::KNOWLEDGE_REQUEST,
        &notice,
        None,
    )?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// The requests to and from the caller.
#[utoipa::path(get, path = "/api/knowledge/requests", tag = "knowledge",
    security(("bearer" = [])),
    responses((status = 200, body = KnowledgeRequestLists), (status = 401, body = ErrorBody)))]
pub async fn list_requests(
    State(state): State<AppState>,
    me: AuthUser,
) -> Result<Json<KnowledgeRequestLists>, AppError> {
    let id = me.id();
    Ok(Json(
        state
            .db()
            .read(move |c| store::knowledge::lists(c, id))
            .await?,
    ))
}

/// Answers a request addressed to the caller, with optional text: the answer when approving, the
/// reason when declining. Triggers `knowledge-response` on `private-user-{requesterId}`.
#[utoipa::path(post, path = "/api/knowledge/respond", tag = "knowledge",
    security(("bearer" = [])), request_body = RespondKnowledgeRequest,
    responses((status = 200, body = KnowledgeRequest), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn respond(
    State(state): State<AppState>,
    me: AuthUser,
    ApiJson(body): ApiJson<RespondKnowledgeRequest>,
) -> Result<Json<KnowledgeRequest>, AppError> {
    let owner = me.user;
    let answered = state
        .db()
        .write(move |c| {
            store::knowledge::respond(
                c,
                &owner,
                body.request_id,
                body.status,
                body.response_content.as_deref(),
            )
        })
        .await?;
    let notice = UserNotice::KnowledgeResponse(KnowledgeResponseEvent {
        request_id: answered.id,
        status: answered.status,
        response_content: answered.response_content.clone(),
        answered_at: answered.answered_at.clone(),
        seq: answered.seq,
    });
    trigger(
        &state,
        vec![ChannelName::private_user(answered.requester_id)],
        events::KNOWLEDGE_RESPONSE,
        &notice,
        None,
    )?;
    Ok(Json(answered))
}

/// Records that the caller, who made the request, opened its answer. Idempotent; the change
/// reaches the caller's other devices through `/api/sync` (no realtime event).
#[utoipa::path(post, path = "/api/knowledge/requests/{id}/seen", tag = "knowledge",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 204, description = "Seen (or already seen)"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn mark_answer_seen(
    State(state): State<AppState>,
    me: AuthUser,
    ApiPath(id): ApiPath<RequestId>,
) -> Result<StatusCode, AppError> {
    let user = me.id();
    state
        .db()
        .write(move |c| store::knowledge::mark_answer_seen(c, user, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

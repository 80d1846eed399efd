//! Knowledge-share requests and their answers.

use crate::args;
use crate::sql::{OptionalExt, Sql};
use confab_model::api::KnowledgeRequestLists;
use confab_model::{
    Change, KnowledgeChange, KnowledgeDecision, KnowledgeRequest, KnowledgeStatus, RequestId, User,
    UserId,
};

use crate::db::next_seq;
use crate::store::sync::{record_change, Visibility};
use crate::store::{users, validate_text, StoreError};

const COLUMNS: &str = "k.id, k.requester_id, r.name, k.owner_id, o.name, k.question, k.status, \
     k.response_content, k.created_at, k.answered_at, k.answer_seen, k.seq \
     FROM knowledge_requests k JOIN users r ON r.id = k.requester_id \
     JOIN users o ON o.id = k.owner_id";

fn from_row(r: &crate::sql::Row) -> Result<KnowledgeRequest, crate::sql::SqlError> {
    let status: String = r.get(6)?;
    Ok(KnowledgeRequest {
        id: r.get(0)?,
        requester_id: r.get(1)?,
        requester_name: r.get(2)?,
        owner_id: r.get(3)?,
        owner_name: r.get(4)?,
        question: r.get(5)?,
        status: KnowledgeStatus::parse(&status).unwrap_or(KnowledgeStatus::Pending),
        response_content: r.get(7)?,
        created_at: r.get(8)?,
        answered_at: r.get(9)?,
        answer_seen: r.get(10)?,
        seq: r.get(11)?,
    })
}

fn by_id(c: &dyn Sql, request: RequestId) -> Result<KnowledgeRequest, StoreError> {
    c.query_row(
        &format!("SELECT {COLUMNS} WHERE k.id = ?1"),
        args![request],
        from_row,
    )
    .optional()?
    .ok_or(StoreError::NotFound("no such request"))
}

/// Stores a pending request from `requester` to `owner` and records its change.
///
/// # Errors
/// [`StoreError::Invalid`] for a bad question, asking oneself, or an unknown owner.
pub fn create(
    c: &dyn Sql,
    requester: &User,
    owner: UserId,
    question: &str,
) -> Result<KnowledgeRequest, StoreError> {
    validate_text("question", question)?;
    if owner == requester.id {
        return Err(StoreError::Invalid("you cannot ask yourself".into()));
    }
    let owner_name = users::summary(c, owner)?
        .ok_or_else(|| StoreError::Invalid(format!("unknown user id {owner}")))?
        .name;
    let seq = next_seq(c)?;
    let created_at = crate::time::now_rfc3339();
    let id = c.query_row(
        "INSERT INTO knowledge_requests (requester_id, owner_id, question, status, created_at, seq)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5) RETURNING id",
        args![requester.id, owner, question, created_at, seq],
        |r| r.get(0),
    )?;
    let request = KnowledgeRequest {
        id,
        requester_id: requester.id,
        requester_name: requester.name.clone(),
        owner_id: owner,
        owner_name,
        question: question.to_owned(),
        status: KnowledgeStatus::Pending,
        response_content: None,
        created_at,
        answered_at: None,
        // Nothing to open yet: only an answer can be unseen.
        answer_seen: true,
        seq,
    };
    record_change(
        c,
        seq,
        Visibility::Users(requester.id, owner),
        &Change::KnowledgeRequest(KnowledgeChange {
            seq,
            request: request.clone(),
        }),
    )?;
    Ok(request)
}

/// The requests to and from `user`, newest first.
///
/// # Errors
/// SQLite errors.
pub fn lists(c: &dyn Sql, user: UserId) -> Result<KnowledgeRequestLists, StoreError> {
    let incoming = c.query_map(
        &format!("SELECT {COLUMNS} WHERE k.owner_id = ?1 ORDER BY k.id DESC"),
        args![user],
        from_row,
    )?;
    let outgoing = c.query_map(
        &format!("SELECT {COLUMNS} WHERE k.requester_id = ?1 ORDER BY k.id DESC"),
        args![user],
        from_row,
    )?;
    Ok(KnowledgeRequestLists { incoming, outgoing })
}

/// Records the owner's answer (the text when approving, the reason when declining; either may
/// be left out) and its change. The answer is unseen until the requester opens it
/// ([`mark_answer_seen`]).
///
/// # Errors
/// [`StoreError::NotFound`] for no such request, [`StoreError::NotAllowed`] unless `owner` owns
/// it, [`StoreError::Conflict`] if already answered, [`StoreError::Invalid`] for too-long text.
pub fn respond(
    c: &dyn Sql,
    owner: &User,
    request: RequestId,
    decision: KnowledgeDecision,
    content: Option<&str>,
) -> Result<KnowledgeRequest, StoreError> {
    let content = content.filter(|t| !t.trim().is_empty());
    if let Some(text) = content {
        validate_text("responseContent", text)?;
    }
    let current = by_id(c, request)?;
    if current.owner_id != owner.id {
        return Err(StoreError::NotAllowed(
            "only the owner may answer this request",
        ));
    }
    if current.status != KnowledgeStatus::Pending {
        return Err(StoreError::Conflict(
            "this request was already answered".into(),
        ));
    }
    let seq = next_seq(c)?;
    let status = KnowledgeStatus::from(decision);
    let answered_at = crate::time::now_rfc3339();
    c.execute(
        "UPDATE knowledge_requests SET status = ?2, response_content = ?3, seq = ?4,
            answered_at = ?5, answer_seen = 0
         WHERE id = ?1",
        args![request, status.as_str(), content, seq, answered_at],
    )?;
    let answered = KnowledgeRequest {
        status,
        response_content: content.map(str::to_owned),
        answered_at: Some(answered_at),
        answer_seen: false,
        seq,
        ..current
    };
    record_change(
        c,
        seq,
        Visibility::Users(answered.requester_id, answered.owner_id),
        &Change::KnowledgeResponse(KnowledgeChange {
            seq,
            request: answered.clone(),
        }),
    )?;
    Ok(answered)
}

/// Records that the requester opened the answer to their request. Returns the request as it
/// stands when that changed it (its change, visible to the requester alone, is recorded), `None`
/// when it was already seen.
///
/// # Errors
/// [`StoreError::NotFound`] for no such request, [`StoreError::NotAllowed`] unless `requester`
/// made it, [`StoreError::Conflict`] while it is still pending; SQLite errors.
pub fn mark_answer_seen(
    c: &dyn Sql,
    requester: UserId,
    request: RequestId,
) -> Result<Option<KnowledgeRequest>, StoreError> {
    let current = by_id(c, request)?;
    if current.requester_id != requester {
        return Err(StoreError::NotAllowed(
            "only the requester marks an answer seen",
        ));
    }
    if current.status == KnowledgeStatus::Pending {
        return Err(StoreError::Conflict(
            "this request has not been answered yet".into(),
        ));
    }
    if current.answer_seen {
        return Ok(None);
    }
    // The request's seq moves to this change too, so a client that keeps the newest version of
    // a request by seq takes it.
    let seq = next_seq(c)?;
    c.execute(
        "UPDATE knowledge_requests SET answer_seen = 1, seq = ?2 WHERE id = ?1",
        args![request, seq],
    )?;
    let seen = KnowledgeRequest {
        answer_seen: true,
        seq,
        ..current
    };
    record_change(
        c,
        seq,
        Visibility::User(requester),
        &Change::KnowledgeAnswerSeen(KnowledgeChange {
            seq,
            request: seen.clone(),
        }),
    )?;
    Ok(Some(seen))
}

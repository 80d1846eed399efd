//! What the policy is asked about: new messages and requests turned into [`Candidate`]s with
//! what the cache knows of them (the conversation's title as the list shows it, whether it is
//! muted, my read position, the answerer's name), and the notified cursor kept beside them.

use std::collections::HashMap;

use confab_model::ipc::Notification;
use confab_model::{ConversationId, KnowledgeRequest, KnowledgeStatus, Message, UserId};
use confab_store::{ConversationLabel, Store, StoreError};

use super::{decide, Candidate, Context};

/// Decides what to raise for new `messages` and `requests` and persists the new notified
/// cursor before returning it, so a crash can drop a notification but never repeat one.
/// `ctx.notified_cursor` is ignored: the cache's is used.
///
/// # Errors
/// Cache errors (then nothing is raised and the cursor stays).
pub(crate) fn decide_and_record(
    s: &mut Store,
    ctx: Context,
    messages: &[Message],
    requests: &[KnowledgeRequest],
) -> Result<Vec<Notification>, StoreError> {
    let batch = candidates(s, ctx.me, messages, requests)?;
    let ctx = Context {
        notified_cursor: s.notified_cursor()?,
        ..ctx
    };
    let (out, cursor) = decide(&ctx, &batch);
    s.advance_notified_cursor(cursor)?;
    Ok(out)
}

fn candidates(
    s: &Store,
    me: UserId,
    messages: &[Message],
    requests: &[KnowledgeRequest],
) -> Result<Vec<Candidate>, StoreError> {
    let mut out = Vec::with_capacity(messages.len() + requests.len());
    let my_name = s.account()?.map(|u| u.name).unwrap_or_default();
    // One lookup per conversation, not per message: a catch-up brings thousands.
    let mut labels: HashMap<ConversationId, Option<ConversationLabel>> = HashMap::new();
    for m in messages {
        let label = match labels.get(&m.conversation_id) {
            Some(l) => l.clone(),
            None => {
                let l = s.conversation_label(m.conversation_id)?;
                labels.insert(m.conversation_id, l.clone());
                l
            }
        };
        out.push(Candidate::Message {
            seq: m.seq,
            conversation_id: m.conversation_id,
            conversation_title: label.as_ref().map(|l| l.title.clone()).unwrap_or_default(),
            sender_id: m.sender_id,
            sender_name: m.sender.name.clone(),
            content: m.content.clone(),
            read_seq: label.as_ref().map_or(0, |l| l.last_read_seq),
            muted: label.is_some_and(|l| l.muted),
            mentions_me: m.sender_id != me && confab_store::mentions(&m.content, &my_name),
        });
    }
    let answers = requests
        .iter()
        .any(|r| r.requester_id == me && r.status != KnowledgeStatus::Pending);
    let users = if answers { s.users()? } else { Vec::new() };
    for r in requests {
        if r.owner_id == me && r.status == KnowledgeStatus::Pending {
            out.push(Candidate::Request {
                seq: r.seq,
                request_id: r.id,
                requester_name: r.requester_name.clone(),
                question: r.question.clone(),
                pending: true,
            });
        } else if r.requester_id == me && r.status != KnowledgeStatus::Pending {
            out.push(Candidate::Answer {
                seq: r.seq,
                request_id: r.id,
                owner_name: crate::views::owner_name(r, &users)
                    .unwrap_or_else(|| "A teammate".to_owned()),
                status: r.status,
                content: r.response_content.clone(),
            });
        }
    }
    Ok(out)
}

//! The notification policy: what deserves a native notification. Pure: the caller passes the
//! candidates, the window's focus, mutes and the persisted notified cursor; the policy returns
//! what to raise and the new cursor. The shell only displays.
//!
//! Rules: an incoming share request, an answer to my request, a message from someone else;
//! never my own messages, never anything already read or already notified (sequence at or
//! below the notified cursor, which is persisted so restarts and wake-ups never replay), not
//! for muted conversations (unless the message mentions me) or while globally muted, not for the
//! conversation the focused window shows; a catch-up of many items becomes one summary per conversation.
//!
//! [`decide_and_record`] builds the candidates from the cache and keeps the cursor there.

mod candidates;

use std::collections::BTreeMap;

use confab_model::ipc::{FocusState, NavigateTarget, Notification};
use confab_model::KnowledgeStatus;

pub(crate) use candidates::decide_and_record;

/// Something that might deserve a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidate {
    /// A message.
    Message {
        /// Its sequence.
        seq: i64,
        /// Conversation.
        conversation_id: i64,
        /// Conversation title.
        conversation_title: String,
        /// Sender.
        sender_id: i64,
        /// Sender's name.
        sender_name: String,
        /// Text.
        content: String,
        /// My read position in that conversation.
        read_seq: i64,
        /// Conversation muted.
        muted: bool,
        /// It mentions me (`@my name`): notified even when the conversation is muted.
        mentions_me: bool,
    },
    /// A share request addressed to me.
    Request {
        /// Its sequence.
        seq: i64,
        /// Request id.
        request_id: i64,
        /// Who asks.
        requester_name: String,
        /// The question.
        question: String,
        /// Still pending (an already-answered one is not news).
        pending: bool,
    },
    /// An answer to my request.
    Answer {
        /// Its sequence.
        seq: i64,
        /// Request id.
        request_id: i64,
        /// Who answered.
        owner_name: String,
        /// Approved or denied.
        status: KnowledgeStatus,
        /// What was shared.
        content: Option<String>,
    },
}

impl Candidate {
    fn seq(&self) -> i64 {
        match self {
            Candidate::Message { seq, .. }
            | Candidate::Request { seq, .. }
            | Candidate::Answer { seq, .. } => *seq,
        }
    }
}

/// The context the policy decides in.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Me.
    pub me: i64,
    /// The window.
    pub focus: FocusState,
    /// Everything muted (tray menu).
    pub muted: bool,
    /// Highest sequence already notified (persisted).
    pub notified_cursor: i64,
}

/// More than this many messages of one conversation in one batch become a summary.
const SUMMARY_AFTER: usize = 1;
/// Body previews are cut to this many characters.
const PREVIEW_CHARS: usize = 140;

/// Decides the notifications for a batch (one realtime event, or one catch-up) and returns
/// them with the new notified cursor (the highest sequence considered, so nothing in this
/// batch is ever considered again).
pub fn decide(ctx: &Context, batch: &[Candidate]) -> (Vec<Notification>, i64) {
    let cursor = batch
        .iter()
        .map(Candidate::seq)
        .fold(ctx.notified_cursor, i64::max);
    if ctx.muted {
        return (vec![], cursor);
    }
    let mut out = vec![];
    let mut per_conversation: BTreeMap<i64, Vec<&Candidate>> = BTreeMap::new();
    for c in batch {
        if c.seq() <= ctx.notified_cursor {
            continue;
        }
        match c {
            Candidate::Message {
                seq,
                conversation_id,
                sender_id,
                read_seq,
                muted,
                mentions_me,
                ..
            } => {
                let watching = ctx.focus.visible
                    && ctx.focus.focused
                    && ctx.focus.conversation_id == Some(*conversation_id);
                let wanted = !*muted || *mentions_me;
                if *sender_id != ctx.me && seq > read_seq && wanted && !watching {
                    per_conversation
                        .entry(*conversation_id)
                        .or_default()
                        .push(c);
                }
            }
            Candidate::Request {
                request_id,
                requester_name,
                question,
                pending,
                ..
            } => {
                if *pending {
                    out.push(Notification {
                        title: format!("{requester_name} asks you to share knowledge"),
                        body: preview(question),
                        target: NavigateTarget::Request(*request_id),
                        messages: 0,
                        place: None,
                        from: None,
                    });
                }
            }
            Candidate::Answer {
                request_id,
                owner_name,
                status,
                content,
                ..
            } => {
                let title = match status {
                    KnowledgeStatus::Approved => format!("{owner_name} shared knowledge with you"),
                    KnowledgeStatus::Denied => format!("{owner_name} declined your request"),
                    KnowledgeStatus::Pending => continue,
                };
                out.push(Notification {
                    title,
                    body: content.as_deref().map(preview).unwrap_or_default(),
                    target: NavigateTarget::Answer(*request_id),
                    messages: 0,
                    place: None,
                    from: None,
                });
            }
        }
    }
    for (conversation_id, msgs) in per_conversation {
        let Some(Candidate::Message {
            conversation_title,
            sender_name,
            content,
            ..
        }) = msgs.last().copied()
        else {
            continue;
        };
        let mention = msgs.iter().rev().find_map(|m| match m {
            Candidate::Message {
                mentions_me: true,
                sender_name,
                content,
                ..
            } => Some((sender_name, content)),
            _ => None,
        });
        // A mention stands alone (messages 0): never folded into a count that hides it.
        let count = u32::try_from(msgs.len()).unwrap_or(u32::MAX);
        let n = if let Some((sender_name, content)) = mention {
            Notification {
                title: format!("{sender_name} mentioned you in {conversation_title}"),
                body: preview(content),
                target: NavigateTarget::Conversation(conversation_id),
                messages: 0,
                place: None,
                from: None,
            }
        } else if msgs.len() > SUMMARY_AFTER {
            Notification {
                title: format!("{} new messages in {conversation_title}", msgs.len()),
                body: format!("{sender_name}: {}", preview(content)),
                target: NavigateTarget::Conversation(conversation_id),
                messages: count,
                place: Some(conversation_title.clone()),
                from: Some(sender_name.clone()),
            }
        } else {
            Notification {
                title: if conversation_title == sender_name {
                    sender_name.clone()
                } else {
                    format!("{sender_name} in {conversation_title}")
                },
                body: preview(content),
                target: NavigateTarget::Conversation(conversation_id),
                messages: count,
                place: Some(conversation_title.clone()),
                from: Some(sender_name.clone()),
            }
        };
        out.push(n);
    }
    (out, cursor)
}

fn preview(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > PREVIEW_CHARS {
        let cut: String = one_line.chars().take(PREVIEW_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i64, conv: i64, sender: i64) -> Candidate {
        Candidate::Message {
            seq,
            conversation_id: conv,
            conversation_title: format!("Room {conv}"),
            sender_id: sender,
            sender_name: format!("User {sender}"),
            content: format!("hello {seq}"),
            read_seq: 0,
            muted: false,
            mentions_me: false,
        }
    }

    fn ctx() -> Context {
        Context {
            me: 1,
            ..Context::default()
        }
    }

    #[test]
    fn a_message_from_someone_else_is_notified_and_mine_is_not() {
        let (n, cursor) = decide(&ctx(), &[msg(5, 7, 2), msg(6, 7, 1)]);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "User 2 in Room 7");
        assert_eq!(n[0].body, "hello 5");
        assert_eq!(n[0].target, NavigateTarget::Conversation(7));
        assert_eq!(cursor, 6);
    }

    #[test]
    fn nothing_at_or_below_the_notified_cursor_is_notified_again() {
        let c = Context {
            notified_cursor: 10,
            ..ctx()
        };
        let (n, cursor) = decide(&c, &[msg(9, 7, 2), msg(10, 7, 2)]);
        assert!(n.is_empty());
        assert_eq!(cursor, 10);
    }

    #[test]
    fn read_muted_and_watched_conversations_stay_quiet() {
        let mut read = msg(5, 7, 2);
        if let Candidate::Message { read_seq, .. } = &mut read {
            *read_seq = 5;
        }
        let mut muted = msg(6, 8, 2);
        if let Candidate::Message { muted: m, .. } = &mut muted {
            *m = true;
        }
        let watching = Context {
            focus: FocusState {
                visible: true,
                focused: true,
                conversation_id: Some(9),
            },
            ..ctx()
        };
        let (n, _) = decide(&watching, &[read, muted, msg(7, 9, 2)]);
        assert!(n.is_empty(), "{n:?}");
        // The same conversation with the window unfocused does notify.
        let away = Context {
            focus: FocusState {
                visible: true,
                focused: false,
                conversation_id: Some(9),
            },
            ..ctx()
        };
        assert_eq!(decide(&away, &[msg(7, 9, 2)]).0.len(), 1);
    }

    #[test]
    fn a_mention_of_me_in_a_muted_conversation_notifies_and_says_so() {
        let mut quiet = msg(5, 8, 2);
        let mut mention = msg(6, 8, 3);
        for c in [&mut quiet, &mut mention] {
            if let Candidate::Message { muted, .. } = c {
                *muted = true;
            }
        }
        assert!(decide(&ctx(), std::slice::from_ref(&quiet)).0.is_empty());
        if let Candidate::Message { mentions_me, .. } = &mut mention {
            *mentions_me = true;
        }
        let (n, _) = decide(&ctx(), &[quiet, mention]);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].title, "User 3 mentioned you in Room 8");
        assert_eq!(n[0].body, "hello 6");
    }

    #[test]
    fn global_mute_silences_everything_but_still_advances_the_cursor() {
        let c = Context {
            muted: true,
            ..ctx()
        };
        let (n, cursor) = decide(&c, &[msg(3, 1, 2)]);
        assert!(n.is_empty());
        assert_eq!(cursor, 3);
    }

    #[test]
    fn a_catch_up_of_many_messages_becomes_one_summary_per_conversation() {
        let batch: Vec<_> = (1..=50)
            .map(|i| msg(i, if i % 2 == 0 { 7 } else { 8 }, 2))
            .collect();
        let (n, cursor) = decide(&ctx(), &batch);
        assert_eq!(n.len(), 2);
        assert!(n.iter().any(|x| x.title == "25 new messages in Room 7"));
        assert!(n.iter().any(|x| x.title == "25 new messages in Room 8"));
        assert_eq!(cursor, 50);
    }

    #[test]
    fn share_requests_and_answers_are_notified_once() {
        let req = Candidate::Request {
            seq: 4,
            request_id: 11,
            requester_name: "Bob".into(),
            question: "How do we deploy?".into(),
            pending: true,
        };
        let answer = Candidate::Answer {
            seq: 5,
            request_id: 12,
            owner_name: "Cy".into(),
            status: KnowledgeStatus::Approved,
            content: Some("Run make deploy".into()),
        };
        let (n, cursor) = decide(&ctx(), &[req.clone(), answer.clone()]);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].target, NavigateTarget::Request(11));
        assert_eq!(n[1].title, "Cy shared knowledge with you");
        let again = Context {
            notified_cursor: cursor,
            ..ctx()
        };
        assert!(decide(&again, &[req, answer]).0.is_empty());
    }

    #[test]
    fn long_bodies_are_cut_to_a_one_line_preview() {
        let mut m = msg(5, 7, 2);
        if let Candidate::Message { content, .. } = &mut m {
            *content = format!("line one\n{}", "x".repeat(500));
        }
        let (n, _) = decide(&ctx(), &[m]);
        assert!(n[0].body.starts_with("line one x"));
        assert_eq!(n[0].body.chars().count(), PREVIEW_CHARS);
    }
}

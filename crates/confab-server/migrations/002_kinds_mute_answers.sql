-- Confab server schema, version 2: conversation kinds, leaving and muting, answered requests.

-- Direct (two people, one per pair) or group. Conversations from before kinds stay groups.
ALTER TABLE conversations ADD COLUMN kind TEXT NOT NULL DEFAULT 'group'
    CHECK (kind IN ('direct', 'group'));
-- A direct conversation's pair as "lo:hi" user ids; NULL for groups. The unique index makes the
-- database itself refuse a second direct conversation for the same pair.
ALTER TABLE conversations ADD COLUMN direct_key TEXT;
CREATE UNIQUE INDEX conversations_by_direct_key ON conversations(direct_key)
    WHERE direct_key IS NOT NULL;

-- The member's own notification setting.
ALTER TABLE members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
-- The seq of the change that made them a member: sync shows a member the conversation's
-- changes from there on, so someone added later does not receive its older history (messages
-- before the conversation itself) and someone re-added does not receive what happened while
-- they were away. Members from before this column see everything, as before.
ALTER TABLE members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;

-- When the owner answered (RFC 3339); NULL while pending and for answers from before this column.
ALTER TABLE knowledge_requests ADD COLUMN answered_at TEXT;
-- Whether the requester has opened the answer; history counts as seen.
ALTER TABLE knowledge_requests ADD COLUMN answer_seen INTEGER NOT NULL DEFAULT 1;

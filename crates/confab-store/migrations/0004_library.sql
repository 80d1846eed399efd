-- Confab client cache, version 4: conversation kinds, mentions and the knowledge library.

-- Direct (one per pair, kept so by the server) or group. Conversations cached before kinds existed
-- are groups, as the server's own migration makes them.
ALTER TABLE conversations ADD COLUMN kind TEXT NOT NULL DEFAULT 'group'
    CHECK (kind = 'direct' OR kind = 'group');

-- 1 for a message from someone else that mentions the account (`@Name`), decided once when it is
-- stored: the unread ones are the conversation's mention badge, and they notify even when muted.
-- Messages cached before this version count as no mention (they are history).
ALTER TABLE messages ADD COLUMN mentions_me INTEGER NOT NULL DEFAULT 0
    CHECK (mentions_me = 0 OR mentions_me = 1);

-- The knowledge library keeps every request in every state: who answered and when, and whether
-- the requester has opened the answer (history counts as opened).
ALTER TABLE share_requests ADD COLUMN owner_name TEXT;
ALTER TABLE share_requests ADD COLUMN answered_at TEXT;
ALTER TABLE share_requests ADD COLUMN answer_seen INTEGER NOT NULL DEFAULT 1
    CHECK (answer_seen = 0 OR answer_seen = 1);
CREATE INDEX share_requests_unseen ON share_requests (requester_id) WHERE answer_seen = 0;

-- Full-text search over questions and answers. Requests are few and written one by one, so the
-- index is kept by plain triggers (the batching that messages need would buy nothing here).
CREATE VIRTUAL TABLE share_requests_fts USING fts5 (
    question,
    response_content,
    content = 'share_requests',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER share_requests_fts_after_insert AFTER INSERT ON share_requests BEGIN
    INSERT INTO share_requests_fts (rowid, question, response_content)
        VALUES (new.id, new.question, new.response_content);
END;

CREATE TRIGGER share_requests_fts_after_delete AFTER DELETE ON share_requests BEGIN
    INSERT INTO share_requests_fts (share_requests_fts, rowid, question, response_content)
        VALUES ('delete', old.id, old.question, old.response_content);
END;

CREATE TRIGGER share_requests_fts_after_update AFTER UPDATE OF question, response_content
    ON share_requests
    WHEN old.question IS NOT new.question OR old.response_content IS NOT new.response_content
BEGIN
    INSERT INTO share_requests_fts (share_requests_fts, rowid, question, response_content)
        VALUES ('delete', old.id, old.question, old.response_content);
    INSERT INTO share_requests_fts (rowid, question, response_content)
        VALUES (new.id, new.question, new.response_content);
END;

-- Index the requests cached before this version.
INSERT INTO share_requests_fts (share_requests_fts) VALUES ('rebuild');

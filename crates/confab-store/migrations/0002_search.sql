-- Confab client cache, version 2: full-text search over message content (FTS5).
--
-- An external-content index: the text lives once, in `messages`. Triggers record which rows need
-- (re)indexing in `messages_fts_pending`, and the store indexes them with one statement just
-- before each commit (`search::index_pending`). Why not index straight from the trigger: FTS5
-- writes its in-memory buffer to disk at every statement savepoint, and a trigger makes every
-- INSERT a savepoint, so each message became its own tiny index segment, about ten times slower.
-- Deletes and content changes remove the old text from the index at once (the index must be told
-- the exact old text), unless the row was never indexed.

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'local_id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Messages written or changed in the current transaction and not indexed yet.
CREATE TABLE messages_fts_pending (
    local_id INTEGER PRIMARY KEY NOT NULL
);

CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO messages_fts_pending (local_id) VALUES (new.local_id);
END;

CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.local_id, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE local_id = old.local_id);
    DELETE FROM messages_fts_pending WHERE local_id = old.local_id;
END;

CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content ON messages
    WHEN old.content IS NOT new.content BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.local_id, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE local_id = old.local_id);
    INSERT OR IGNORE INTO messages_fts_pending (local_id) VALUES (new.local_id);
END;

-- Index the messages stored before this version.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

-- Confab client cache, version 6: the message search index keyed by recency, with a prefix index.
--
-- Search shows the newest hits first, one page at a time. Version 2 keyed the index by `local_id`,
-- which follows insertion order (history filled in later takes higher ids than newer messages),
-- so newest-first had to join every match to `messages` and sort them all: ~2 s for a common
-- word in a million messages. Now each message is indexed under a `search_key` that follows
-- recency, and FTS5, which reads its doclists in rowid order, answers
-- `ORDER BY rowid DESC LIMIT 50` by reading the newest 50 matches and stopping.
--
-- The key (assigned by `search::index_pending` when the row is indexed, NULL until then):
--   a sent message:   seq * 256 + n, where n (0, 1, ...) tells apart messages sharing a seq (a
--                     server restored from a backup numbers again from lower, so a stale cached
--                     message can share its seq with a new one); so key order is seq order;
--   an unsent one:    2^62 + local_id, above every sent message, newest written first.
-- When a message is sent (its seq set) or its text changes, the triggers take its old entry out
-- of the index and it is indexed again under its new key before the commit.
--
-- `prefix = '2 3'`: search as you type ends every query with a prefix; a 2- or 3-letter prefix
-- is then one doclist read in order, instead of the merge of every word that starts with it.
--
-- A second column holds one token naming the message's conversation (`c42`), so a search within
-- one conversation is an AND of two doclists that FTS5 walks together, skipping ahead, instead
-- of reading every match of the word and dropping those of other conversations (180 ms for a
-- word with few hits in the conversation). Searches match words in `content` only.

DROP TRIGGER messages_fts_after_insert;
DROP TRIGGER messages_fts_after_delete;
DROP TRIGGER messages_fts_after_update;
DROP TABLE messages_fts;

ALTER TABLE messages ADD COLUMN search_key INTEGER;
-- Unique: FTS5 trusts its rowids to be; also how the index finds a hit's row (and its text,
-- for the excerpt).
CREATE UNIQUE INDEX messages_by_search_key ON messages (search_key);
-- Computed when read (virtual): it costs no space in the table, only its token in the index.
ALTER TABLE messages ADD COLUMN search_conversation TEXT
    GENERATED ALWAYS AS ('c' || conversation_id) VIRTUAL;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    search_conversation,
    content = 'messages',
    content_rowid = 'search_key',
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- (messages_fts_pending, from version 2, still lists the rows to index before the commit.)

CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO messages_fts_pending (local_id) VALUES (new.local_id);
END;

-- An indexed row (it has a key) leaves the index with the exact text it was indexed with.
CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, search_conversation)
        SELECT 'delete', old.search_key, old.content, old.search_conversation
        WHERE old.search_key IS NOT NULL;
    DELETE FROM messages_fts_pending WHERE local_id = old.local_id;
END;

-- New text, a new seq (the message was sent, or the server renumbered it) or another
-- conversation: a new entry under a new key.
CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content, seq, conversation_id
    ON messages
    WHEN old.content IS NOT new.content OR old.seq IS NOT new.seq
        OR old.conversation_id IS NOT new.conversation_id
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, search_conversation)
        SELECT 'delete', old.search_key, old.content, old.search_conversation
        WHERE old.search_key IS NOT NULL;
    UPDATE messages SET search_key = NULL
        WHERE local_id = new.local_id AND search_key IS NOT NULL;
    INSERT OR IGNORE INTO messages_fts_pending (local_id) VALUES (new.local_id);
END;

-- Every message cached so far is indexed again, under its key, when the migration ends
-- (`migrate::migrate` indexes whatever is pending).
INSERT OR IGNORE INTO messages_fts_pending (local_id) SELECT local_id FROM messages;

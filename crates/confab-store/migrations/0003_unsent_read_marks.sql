-- Confab client cache, version 3: read marks the server has not confirmed yet.
--
-- Moving the account's own read mark (`conversations.last_read_seq`) is local and instant; telling
-- the server can fail (backend down, network gone). The mark waits here, one row per conversation
-- with the newest unsent seq, until the server confirms it (the POST answered, or the server's own
-- view of the mark arrived by sync or realtime), so a restart still sends it.

CREATE TABLE unsent_read_marks (
    conversation_id INTEGER PRIMARY KEY NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL
);

-- Builds before this version dropped a mark whose POST failed, and nothing tells a sent mark from
-- a lost one: every local mark counts as unsent once. Posting a mark the server already has
-- changes nothing there (it only moves a mark forward), so the price is one request per
-- conversation read, once.
INSERT INTO unsent_read_marks (conversation_id, seq)
    SELECT id, last_read_seq FROM conversations WHERE last_read_seq > 0;

-- Confab client cache, version 1: every table except full-text search.
--
-- CHECK constraints spell enumerations with OR, not IN: SQLite evaluates `x IN (a, b, c)` in a
-- CHECK by building a temporary index for every row written, which made inserts markedly slower.
--
-- Ids and sequence numbers come from the server (`i64`); `seq` is the server's single change
-- counter, so it also orders activity across conversations. Local-only rows (an optimistic message
-- not yet acknowledged) have no server id and no seq.

-- Small key-value facts: the signed-in account, sync and notification cursors, UI settings.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Everyone we have heard of. The email is unknown for users only seen as message senders.
CREATE TABLE users (
    id    INTEGER PRIMARY KEY NOT NULL,
    name  TEXT NOT NULL,
    email TEXT
);

-- Conversations the account belongs to. A row with an empty title is a placeholder created when a
-- message arrived before its conversation did; `apply_conversation` fills it in.
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    -- seq of the conversation-created change (0 when unknown).
    created_seq   INTEGER NOT NULL DEFAULT 0,
    -- the account's own read mark: messages above it from others are unread.
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    muted         INTEGER NOT NULL DEFAULT 0 CHECK (muted = 0 OR muted = 1),
    -- sort key of the list: the newest seq seen here, or (for a message still in the outbox) the
    -- newest seq known anywhere plus one half, so it sorts above everything already received and
    -- below anything the server sends next.
    activity_seq  REAL NOT NULL DEFAULT 0,
    -- tie-break between conversations bumped by unsent messages: the later bump wins.
    activity_bump INTEGER NOT NULL DEFAULT 0,
    -- RFC 3339 time of the newest activity, for display.
    activity_at   TEXT
);
CREATE INDEX conversations_by_activity
    ON conversations (activity_seq DESC, activity_bump DESC, id DESC);

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- Messages, sent and unsent. An optimistic message is written with state 'pending', no id and no
-- seq; when the server's copy arrives it is found by (sender_id, client_id) and upgraded in place.
CREATE TABLE messages (
    local_id        INTEGER PRIMARY KEY NOT NULL,
    id              INTEGER UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER,
    sender_id       INTEGER NOT NULL,
    sender_name     TEXT NOT NULL,
    content         TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    state           TEXT NOT NULL
                    CHECK (state = 'pending' OR state = 'sent' OR state = 'failed'),
    failure_reason  TEXT,
    UNIQUE (sender_id, client_id),
    CHECK ((state = 'sent') = (id IS NOT NULL AND seq IS NOT NULL))
);
-- Pages by seq, unread counts (covering: sender_id is in the index), unsent rows (seq IS NULL).
CREATE INDEX messages_by_conversation ON messages (conversation_id, seq, sender_id);

-- Knowledge-share requests made by or to the account; `seq` is the latest change applied.
CREATE TABLE share_requests (
    id               INTEGER PRIMARY KEY NOT NULL,
    requester_id     INTEGER NOT NULL,
    requester_name   TEXT NOT NULL,
    owner_id         INTEGER NOT NULL,
    question         TEXT NOT NULL,
    status           TEXT NOT NULL
                     CHECK (status = 'pending' OR status = 'approved' OR status = 'denied'),
    response_content TEXT,
    created_at       TEXT NOT NULL,
    seq              INTEGER NOT NULL
);
CREATE INDEX share_requests_by_owner ON share_requests (owner_id, status);
CREATE INDEX share_requests_by_requester ON share_requests (requester_id);

-- How far each member has read each conversation (for "seen" receipts). Only moves forward.
CREATE TABLE read_marks (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;

-- Messages waiting to be delivered, in the order they were written (`position`).
CREATE TABLE outbox (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id       TEXT NOT NULL UNIQUE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    sender_id       INTEGER NOT NULL,
    content         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- epoch milliseconds
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state = 'queued' OR state = 'failed'),
    last_error      TEXT
);
CREATE INDEX outbox_by_conversation ON outbox (conversation_id, state, position);

-- Unsent text per conversation.
CREATE TABLE drafts (
    conversation_id INTEGER PRIMARY KEY NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    content         TEXT NOT NULL,
    -- epoch milliseconds
    updated_at      INTEGER NOT NULL
);

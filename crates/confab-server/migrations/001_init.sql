-- Confab server schema, version 1.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE tokens (
    token_hash  BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    expires_ms  INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_user ON tokens(user_id);

-- The one counter every change takes its sequence number from.
CREATE TABLE counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO counter (id, value) VALUES (1, 0);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    title            TEXT NOT NULL,
    creator_id       INTEGER NOT NULL REFERENCES users(id),
    created_at       TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    last_message_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE members (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    last_read_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id, conversation_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL UNIQUE,
    sender_id       INTEGER NOT NULL REFERENCES users(id),
    content         TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (sender_id, client_id)
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, seq);

CREATE TABLE knowledge_requests (
    id               INTEGER PRIMARY KEY,
    requester_id     INTEGER NOT NULL REFERENCES users(id),
    owner_id         INTEGER NOT NULL REFERENCES users(id),
    question         TEXT NOT NULL,
    status           TEXT NOT NULL,
    response_content TEXT,
    created_at       TEXT NOT NULL,
    seq              INTEGER NOT NULL
);
CREATE INDEX requests_by_owner ON knowledge_requests(owner_id, id);
CREATE INDEX requests_by_requester ON knowledge_requests(requester_id, id);

-- Every change, as the JSON of a confab_model::Change, with who may see it:
-- the members of conversation_id, and user_a / user_b.
CREATE TABLE changes (
    seq             INTEGER PRIMARY KEY,
    conversation_id INTEGER,
    user_a          INTEGER,
    user_b          INTEGER,
    payload         TEXT NOT NULL
);
CREATE INDEX changes_by_user_a ON changes(user_a, seq) WHERE user_a IS NOT NULL;
CREATE INDEX changes_by_user_b ON changes(user_b, seq) WHERE user_b IS NOT NULL;
CREATE INDEX changes_by_conversation ON changes(conversation_id, seq) WHERE conversation_id IS NOT NULL;

-- Confab server schema, version 4: per-user write limits (token buckets).

-- One bucket per account and kind of write ('messages', 'requests', 'conversations'): its
-- level in writes at `at_ms`. Kept here rather than in memory so a restart, or a second
-- replica, does not hand a flooding account a fresh allowance.
CREATE TABLE write_buckets (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    level   REAL    NOT NULL,
    at_ms   INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

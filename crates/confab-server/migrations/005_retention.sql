-- Confab server schema, version 5: retention of the change log behind /api/sync.

-- When each change was recorded (epoch milliseconds), so maintenance can compact the changes
-- older than the retention window. Rows from before this column count from the upgrade: they are
-- kept one full window after it.
ALTER TABLE changes ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;
UPDATE changes SET at_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000;

-- The horizon: every change with seq at or below it may have been compacted away, so a sync
-- whose `since` is below it is answered 410 `cursor_expired` (the client reloads) instead of a
-- page with silent holes. Only ever moves up.
CREATE TABLE sync_horizon (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO sync_horizon (id, seq) VALUES (1, 0);

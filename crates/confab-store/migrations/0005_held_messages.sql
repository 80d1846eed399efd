-- Cache schema 5: messages the server asked to wait for (429 with Retry-After).

-- Epoch milliseconds before which the outbox must not send the entry, even when the network
-- comes back and every other entry is tried at once; NULL when the server set no wait.
ALTER TABLE outbox ADD COLUMN held_until INTEGER;
-- The same instant on the pending message, so the window can say until when it waits (the
-- sentence why is in failure_reason while the message is pending).
ALTER TABLE messages ADD COLUMN held_until INTEGER;

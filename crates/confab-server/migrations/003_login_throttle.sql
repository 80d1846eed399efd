-- Confab server schema, version 3: the login throttle, kept across restarts.

-- Per (normalised email, client address): attempts let through since the last success. The
-- address is an IPv4 address or an IPv6 /64 ("2001:db8::/64"). Times are ms since the epoch.
CREATE TABLE login_throttle_pairs (
    email TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (email, address)
) WITHOUT ROWID;
CREATE INDEX login_throttle_pairs_by_last_at ON login_throttle_pairs(last_at);

-- Per client address: attempts let through in the current window, across all emails.
CREATE TABLE login_throttle_addresses (
    address TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_throttle_addresses_by_window ON login_throttle_addresses(window_start);

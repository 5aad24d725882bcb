-- fwguard trust record ($FWGUARD_HOME/trust.db), migration 0001: the highest database version this
-- station accepted from each signing key, so an older signed database is refused (no rollback).
-- Written with synchronous=FULL before the database it records is used.

CREATE TABLE accepted (
    key_id      TEXT    PRIMARY KEY,     -- minisign key id, 16 upper-case hex digits
    version     INTEGER NOT NULL,        -- the highest database version accepted from the key
    sha256      TEXT    NOT NULL,        -- that database's content SHA-256
    accepted_at TEXT    NOT NULL,        -- UTC, RFC 3339: 2025-01-31T12:00:00Z
    origin      TEXT    NOT NULL         -- where it came from: a path or URL
);

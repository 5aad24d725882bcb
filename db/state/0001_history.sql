-- fwguard state database ($FWGUARD_HOME/history.db), migration 0001: the check history.
-- Applied once, in a transaction, when PRAGMA user_version < 1; the migration sets it to 1.

CREATE TABLE checks (
    id            INTEGER PRIMARY KEY,
    time          TEXT    NOT NULL,                 -- UTC, RFC 3339: 2025-01-31T12:00:00Z
    port          TEXT,                             -- the AT port queried, if any
    usb_id        TEXT,                             -- 2c7c:0125, when discovery knew the port
    device_source TEXT    NOT NULL,                 -- port | sim | manual
    model         TEXT,                             -- the ATI model line
    revision      TEXT    NOT NULL,                 -- as read (AT+QGMR or its fallbacks) or typed
    imei          TEXT,
    flash_id      TEXT,                             -- upper-case hex, 204117
    secure_boot   INTEGER CHECK (secure_boot IN (0, 1)),
    candidate     TEXT    NOT NULL,                 -- the image path or the --to name
    verdict       TEXT    NOT NULL CHECK (verdict IN ('allow', 'warn', 'block')),
    findings      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(findings)),
    db_version    INTEGER,                          -- the rules database's version
    db_sha256     TEXT                              -- and its hash
);

CREATE INDEX checks_by_time ON checks (time);

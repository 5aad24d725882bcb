-- fwguard state database ($FWGUARD_HOME/history.db), migration 0002: the flash journal and the
-- flash history. Applied once, in a transaction, when PRAGMA user_version < 2.
--
-- The journal is written before and after every step of a flash, with synchronous=FULL, so that
-- after a crash or a cut cable it says exactly what was sent to the module.

-- One flash of one package onto one module.
CREATE TABLE flash_runs (
    id               INTEGER PRIMARY KEY,
    started          TEXT    NOT NULL,                -- UTC, RFC 3339
    finished         TEXT,
    status           TEXT    NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'done', 'failed', 'superseded')),
    imei             TEXT,                            -- from AT+GSN
    serial           TEXT,                            -- from the boot ROM, once connected
    model            TEXT,
    product          TEXT,
    revision_before  TEXT,
    platform         TEXT    NOT NULL,
    package          TEXT    NOT NULL,                -- the path as given
    package_sha256   TEXT    NOT NULL,
    package_revision TEXT,
    db_version       INTEGER,
    db_sha256        TEXT,
    plan             TEXT    NOT NULL CHECK (json_valid(plan)),   -- the plan's steps
    backup_dir       TEXT,                            -- once a verified backup was taken
    message          TEXT                             -- why it failed
);

CREATE INDEX flash_runs_by_package ON flash_runs (package_sha256, status);

-- One row per operation, inserted before it starts and completed after it ends.
CREATE TABLE flash_steps (
    id               INTEGER PRIMARY KEY,
    run              INTEGER NOT NULL REFERENCES flash_runs (id),
    step             INTEGER,                         -- the plan step's index; NULL for phases
    kind             TEXT    NOT NULL CHECK (kind IN ('enter', 'connect', 'gate', 'backup', 'erase', 'write',
                                                      'verify', 'reset', 'reidentify')),
    partition        TEXT,
    offset           INTEGER,
    length           INTEGER,
    expected_sha256  TEXT,
    started          TEXT    NOT NULL,
    finished         TEXT,
    outcome          TEXT    CHECK (outcome IN ('done', 'skipped', 'failed')),  -- NULL: begun, never ended
    detail           TEXT,                            -- what happened, the hash read back, the error
    device_log       TEXT                             -- what the device logged during it
);

CREATE INDEX flash_steps_by_run ON flash_steps (run, id);

-- The outcome of every flash, for `fwguard history`.
CREATE TABLE flashes (
    id               INTEGER PRIMARY KEY,
    time             TEXT    NOT NULL,
    run              INTEGER REFERENCES flash_runs (id),
    imei             TEXT,
    serial           TEXT,
    model            TEXT,
    revision_before  TEXT,
    revision_after   TEXT,
    package          TEXT    NOT NULL,
    package_sha256   TEXT    NOT NULL,
    db_version       INTEGER,
    db_sha256        TEXT,
    backup_dir       TEXT,
    outcome          TEXT    NOT NULL CHECK (outcome IN ('flashed', 'dry-run', 'refused', 'failed')),
    exit_code        INTEGER NOT NULL,
    message          TEXT
);

CREATE INDEX flashes_by_time ON flashes (time);

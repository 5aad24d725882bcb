-- fwguard state database ($FWGUARD_HOME/history.db), migration 0003: the journal records patch
-- steps (the device changes bytes in place, e.g. a Qualcomm <patch> of the NAND partition table).
-- SQLite cannot change a CHECK constraint, so flash_steps is rebuilt with 'patch' among the kinds,
-- its rows kept. Applied once, in a transaction, when PRAGMA user_version < 3.

CREATE TABLE flash_steps_0003 (
    id               INTEGER PRIMARY KEY,
    run              INTEGER NOT NULL REFERENCES flash_runs (id),
    step             INTEGER,                         -- the plan step's index; NULL for phases
    kind             TEXT    NOT NULL CHECK (kind IN ('enter', 'connect', 'gate', 'backup', 'erase', 'write',
                                                      'patch', 'verify', 'reset', 'reidentify')),
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

INSERT INTO flash_steps_0003 (id, run, step, kind, partition, offset, length, expected_sha256, started, finished,
                              outcome, detail, device_log)
    SELECT id, run, step, kind, partition, offset, length, expected_sha256, started, finished, outcome, detail,
           device_log
    FROM flash_steps;

DROP TABLE flash_steps;

ALTER TABLE flash_steps_0003 RENAME TO flash_steps;

CREATE INDEX flash_steps_by_run ON flash_steps (run, id);

-- fwguard state database ($FWGUARD_HOME/history.db), migration 0004: checks can arrive through
-- the pending check log (history.pending beside this file), to which `fwguard check` appends one
-- line per check instead of opening this database. Each line carries a key unique to that check;
-- the import stores it here, so a line imported twice (the import was cut off after its commit
-- and before the log was emptied) is stored once. Checks written directly have no key.
-- Applied once, in a transaction, when PRAGMA user_version < 4.

ALTER TABLE checks ADD COLUMN pending_key TEXT;

CREATE UNIQUE INDEX checks_by_pending_key ON checks (pending_key);

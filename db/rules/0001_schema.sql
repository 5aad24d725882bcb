-- The compiled compatibility database: one file built from rules/ by `fwguard db build`.
-- Each table has typed key columns for queries and `record`, the rule entry as canonical JSON,
-- from which fwguard loads it.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE families (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    platform TEXT NOT NULL,
    chipset  TEXT NOT NULL,
    record   TEXT NOT NULL            -- the whole family file: family, products and its rules
);

CREATE TABLE models (
    model     TEXT PRIMARY KEY,       -- normalised: upper case, letters and digits only
    family_id TEXT NOT NULL REFERENCES families(id)
);

CREATE TABLE products (
    code      TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES families(id),
    variant   TEXT NOT NULL,
    feature   TEXT NOT NULL,
    memory    TEXT,
    nand      TEXT
);

CREATE TABLE product_chips (
    product_code TEXT NOT NULL REFERENCES products(code),
    jedec        TEXT NOT NULL,
    PRIMARY KEY (product_code, jedec)
);

CREATE TABLE family_rules (
    id        TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES families(id),
    kind      TEXT NOT NULL,          -- shared_image, step, known_bad, anti_rollback, signed
    record    TEXT NOT NULL
);

CREATE TABLE chips (
    jedec    TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    size_mib INTEGER NOT NULL,
    record   TEXT NOT NULL
);

CREATE TABLE usb_ids (
    vid      TEXT NOT NULL,
    pid      TEXT NOT NULL,
    mode     TEXT NOT NULL,
    platform TEXT NOT NULL,
    record   TEXT NOT NULL,
    PRIMARY KEY (vid, pid, mode)
);

CREATE TABLE policy (
    id       TEXT PRIMARY KEY,
    severity TEXT NOT NULL,
    record   TEXT NOT NULL
);

//! The compiled database as one SQLite file.

use std::path::Path;

use rusqlite::{Connection, MAIN_DB, params};

use super::migrate::{Migration, apply_migrations};
use super::provenance::Provenance;
use super::requirement::check_requirement;
use super::{Database, DbError, SCHEMA_VERSION, content_sha256};
use crate::identity::normalise_model;
use crate::rules::RuleSet;
use crate::rules::model::{DatabaseHeader, FamilyFile};

/// The migrations of the compiled-database schema, from `db/rules/`.
pub(super) const MIGRATIONS: &[Migration] =
    &[Migration { version: 1, sql: include_str!("../../db/rules/0001_schema.sql") }];

fn sql_err(path: &Path) -> impl Fn(rusqlite::Error) -> DbError + '_ {
    move |source| DbError::Sqlite { path: path.display().to_string(), source }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Writes `db` to `path` through a temporary file beside it, synced and renamed over `path`
/// only when that is absent or a regular file ([`super::Replacement`]); a failed build leaves
/// nothing.
pub(super) fn write(db: &Database, path: &Path) -> Result<(), DbError> {
    let replacement = super::Replacement::begin(path)?;
    write_to(db, replacement.temp_path())?;
    replacement.commit()?;
    Ok(())
}

fn write_to(db: &Database, path: &Path) -> Result<(), DbError> {
    let e = sql_err(path);
    let mut conn = Connection::open(path).map_err(&e)?;
    conn.pragma_update(None, "journal_mode", "OFF").map_err(&e)?;
    apply_migrations(&mut conn, MIGRATIONS)
        .map_err(|err| DbError::Invalid { path: path.display().to_string(), problem: err.to_string() })?;
    let tx = conn.transaction().map_err(&e)?;
    let r = db.rules();
    let mut meta = vec![
        ("name", r.database.name.clone()),
        ("version", r.database.version.to_string()),
        ("schema_version", SCHEMA_VERSION.to_string()),
        ("content_sha256", db.sha256().to_string()),
        // The whole header, so fields it gains are carried without a schema change.
        ("header", json(&r.database)),
    ];
    if let Some(req) = &r.database.requires_fwguard {
        meta.push(("requires_fwguard", req.clone()));
    }
    for (k, v) in meta {
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![k, v]).map_err(&e)?;
    }
    for f in &r.families {
        let fam = &f.family;
        tx.execute(
            "INSERT INTO families (id, name, platform, chipset, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![fam.id, fam.name, fam.platform, fam.chipset, json(f)],
        )
        .map_err(&e)?;
        for m in &fam.models {
            tx.execute(
                "INSERT OR IGNORE INTO models (model, family_id) VALUES (?1, ?2)",
                params![normalise_model(m), fam.id],
            )
            .map_err(&e)?;
        }
        for p in &f.products {
            tx.execute(
                "INSERT INTO products (code, family_id, variant, feature, memory, nand) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![p.code, fam.id, p.variant, p.feature, p.memory, p.nand],
            )
            .map_err(&e)?;
            for c in &p.flash_chips {
                tx.execute("INSERT INTO product_chips (product_code, jedec) VALUES (?1, ?2)", params![p.code, c])
                    .map_err(&e)?;
            }
        }
        let rules = f
            .shared_images
            .iter()
            .map(|x| (x.id.as_str(), "shared_image", json(x)))
            .chain(f.steps.iter().map(|x| (x.id.as_str(), "step", json(x))))
            .chain(f.known_bad.iter().map(|x| (x.id.as_str(), "known_bad", json(x))))
            .chain(f.anti_rollback.iter().map(|x| (x.id.as_str(), "anti_rollback", json(x))))
            .chain(f.signed.iter().map(|x| (x.id.as_str(), "signed", json(x))));
        for (id, kind, record) in rules {
            tx.execute(
                "INSERT INTO family_rules (id, family_id, kind, record) VALUES (?1, ?2, ?3, ?4)",
                params![id, fam.id, kind, record],
            )
            .map_err(&e)?;
        }
    }
    for c in &r.chips {
        tx.execute(
            "INSERT INTO chips (jedec, name, kind, size_mib, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![c.jedec, c.name, c.kind, c.size_mib, json(c)],
        )
        .map_err(&e)?;
    }
    for u in &r.usb {
        tx.execute(
            "INSERT INTO usb_ids (vid, pid, mode, platform, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![u.vid, u.pid, u.mode, u.platform, json(u)],
        )
        .map_err(&e)?;
    }
    for p in &r.policy {
        tx.execute(
            "INSERT INTO policy (id, severity, record) VALUES (?1, ?2, ?3)",
            params![p.id, p.severity.to_string(), json(p)],
        )
        .map_err(&e)?;
    }
    tx.commit().map_err(&e)?;
    conn.close().map_err(|(_, err)| e(err))?;
    Ok(())
}

/// Reads every `record` column of a table, in key order.
fn records<T: serde::de::DeserializeOwned>(conn: &Connection, label: &str, sql: &str) -> Result<Vec<T>, DbError> {
    let e = |source| DbError::Sqlite { path: label.to_string(), source };
    let mut stmt = conn.prepare(sql).map_err(e)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(e)?;
    let mut out = Vec::new();
    for row in rows {
        let text = row.map_err(e)?;
        out.push(serde_json::from_str(&text).map_err(|err| DbError::Invalid {
            path: label.to_string(),
            problem: format!("a record does not match this fwguard's rule model: {err}"),
        })?);
    }
    Ok(out)
}

fn open_bytes(bytes: &[u8], label: &str) -> Result<Connection, DbError> {
    if !bytes.starts_with(b"SQLite format 3\0") {
        return Err(DbError::Invalid {
            path: label.to_string(),
            problem: "not a fwguard database: not an SQLite file".into(),
        });
    }
    let e = |source| DbError::Sqlite { path: label.to_string(), source };
    let mut conn = Connection::open_in_memory().map_err(e)?;
    conn.deserialize_read_exact(MAIN_DB, bytes, bytes.len(), true).map_err(e)?;
    Ok(conn)
}

fn meta(conn: &Connection, label: &str, key: &str) -> Result<String, DbError> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).map_err(|err| DbError::Invalid {
        path: label.to_string(),
        problem: format!("not a fwguard database: meta {key:?}: {err}"),
    })
}

/// The database header, from the `header` meta entry or (older files) its parts.
fn header(conn: &Connection, label: &str) -> Result<DatabaseHeader, DbError> {
    let invalid = |problem: String| DbError::Invalid { path: label.to_string(), problem };
    match meta(conn, label, "header") {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|err| invalid(format!("its header does not match this fwguard's rule model: {err}"))),
        Err(_) => Ok(DatabaseHeader {
            version: meta(conn, label, "version")?
                .parse()
                .map_err(|_| invalid("meta version is not an integer".into()))?,
            name: meta(conn, label, "name")?,
            requires_fwguard: meta(conn, label, "requires_fwguard").ok(),
        }),
    }
}

/// Reads only a database file's header (name, version, requires_fwguard), whatever fwguard it
/// is made for: enough to sign it.
pub(super) fn read_header(bytes: &[u8], label: &str) -> Result<DatabaseHeader, DbError> {
    header(&open_bytes(bytes, label)?, label)
}

/// Reads a database from a file's bytes (held in memory, so what was verified is what is read).
/// `requires_fwguard` is checked before anything else, since a database for another fwguard may
/// use a schema or records this one misreads.
pub(super) fn read(bytes: &[u8], label: &str) -> Result<Database, DbError> {
    let invalid = |problem: String| DbError::Invalid { path: label.to_string(), problem };
    let conn = open_bytes(bytes, label)?;
    let requires = meta(&conn, label, "requires_fwguard").ok();
    check_requirement(requires.as_deref(), label)?;
    let user_version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|err| invalid(format!("not a fwguard database: {err}")))?;
    if user_version != SCHEMA_VERSION {
        return Err(invalid(format!(
            "schema version {user_version}, this fwguard reads schema version {SCHEMA_VERSION}"
        )));
    }
    let header = header(&conn, label)?;
    let version = meta(&conn, label, "version")?;
    if version != header.version.to_string() {
        return Err(invalid(format!(
            "meta version is {version} but its header says {}: it was altered",
            header.version
        )));
    }
    let stored_sha = meta(&conn, label, "content_sha256")?;
    let families: Vec<FamilyFile> = records(&conn, label, "SELECT record FROM families ORDER BY id")?;
    let rules = RuleSet {
        database: header,
        policy: records(&conn, label, "SELECT record FROM policy ORDER BY rowid")?,
        chips: records(&conn, label, "SELECT record FROM chips ORDER BY rowid")?,
        usb: records(&conn, label, "SELECT record FROM usb_ids ORDER BY rowid")?,
        families,
    };
    let sha = content_sha256(&rules);
    if sha != stored_sha {
        return Err(invalid(format!("content SHA-256 is {sha} but the file says {stored_sha}: it was altered")));
    }
    Ok(Database::assemble(rules, sha, label, Provenance::unchecked(&format!("read from {label}"))))
}

//! `fwguard db build|info|keygen|sign|verify|update|diff`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use fwguard::db::accepted::{Accepted, AcceptedStore};
use fwguard::db::installed::{InstallDir, Installed};
use fwguard::db::signature::{SecretKeyFile, keygen, sha256_hex, sign_bytes, with_suffix};
use fwguard::db::{Database, DbError, Record, SCHEMA_VERSION, Trust, home, open_trusted};

use super::db_error;
use crate::output::{hinted, print_json};

/// The environment variable a signing key's password can come from (automation).
const PASSWORD_ENV: &str = "FWGUARD_KEY_PASSWORD";

/// Database commands.
#[derive(Subcommand)]
pub enum Command {
    /// Compile rules into one versioned SQLite file; the same rules always give the same file.
    Build {
        /// The rules directory (default: the rules built into this binary).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Show which database is in effect and why, its version, signer and content SHA-256.
    Info {
        /// A database file (default: FWGUARD_DB, else the installed one, else the built-in one).
        #[arg(long, env = "FWGUARD_DB")]
        db: Option<PathBuf>,
        /// Describe a database file without a valid signature by a trusted key.
        #[arg(long)]
        allow_unsigned: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a signing key pair: NAME.key (secret) and NAME.pub, minisign's files.
    Keygen {
        /// The key pair's name (path without .key / .pub).
        #[arg(long)]
        out: PathBuf,
        /// Store the secret key without a password (tests, automation). Otherwise the password
        /// is asked for on the terminal, or read from FWGUARD_KEY_PASSWORD.
        #[arg(long)]
        no_password: bool,
    },
    /// Sign a database file: writes DB.minisig (minisign's format).
    Sign {
        /// The secret key (NAME.key from `fwguard db keygen` or `minisign -G`).
        #[arg(long)]
        key: PathBuf,
        /// The database file.
        db: PathBuf,
    },
    /// Check a database file's signature against the trusted keys, its version against what this
    /// station accepted, and its requires_fwguard (exit 0 trusted, 2 refused).
    Verify {
        /// The database file (its signature is DB.minisig).
        db: PathBuf,
    },
    /// Fetch a published database and its .minisig, verify them, and install the database as the
    /// one in effect; a failed update leaves the previous one in effect.
    Update {
        /// An http(s) URL or a file path (a share) of the database; URL.minisig is fetched too.
        #[arg(long, value_name = "URL|PATH")]
        from: String,
    },
    /// Show what a rule change does, family by family: OLD and NEW are database files or rules
    /// directories.
    Diff {
        /// The old database (file or rules directory).
        old: PathBuf,
        /// The new database (file or rules directory).
        new: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a db subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Build { rules, out } => build(rules.as_deref(), &out),
        Command::Info { db, allow_unsigned, json } => info(db.as_deref(), allow_unsigned, json),
        Command::Keygen { out, no_password } => keygen_cmd(&out, no_password),
        Command::Sign { key, db } => sign(&key, &db),
        Command::Verify { db } => verify(&db),
        Command::Update { from } => update(&from),
        Command::Diff { old, new, json } => super::db_diff::run(&old, &new, json),
    }
}

fn build(rules: Option<&Path>, out: &Path) -> anyhow::Result<ExitCode> {
    let db = match rules {
        Some(dir) => Database::from_dir(dir),
        None => Ok(Database::builtin()),
    }
    .map_err(db_error)?;
    db.write(out).map_err(db_error)?;
    println!(
        "wrote {}: version {}, schema {SCHEMA_VERSION}, sha256 {}, {} families",
        out.display(),
        db.version(),
        db.sha256(),
        db.rules().families.len()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct Info<'a> {
    origin: &'a str,
    name: &'a str,
    version: u32,
    schema_version: u32,
    sha256: &'a str,
    requires_fwguard: Option<&'a str>,
    why: &'a str,
    trust: Trust,
    signer: Option<&'a str>,
    signer_key: Option<&'a str>,
    allow_unsigned: bool,
    untrusted_because: Option<&'a str>,
    outdated_by: Option<&'a Accepted>,
    installed: Option<Installed>,
    families: usize,
    products: usize,
    flash_chips: usize,
    usb_ids: usize,
    policy_rules: usize,
}

fn info(db: Option<&Path>, allow_unsigned: bool, json: bool) -> anyhow::Result<ExitCode> {
    let db = super::load_database(db, allow_unsigned)?;
    let installed = home().ok().and_then(|h| InstallDir::in_home(&h).current().ok().flatten());
    let (r, p) = (db.rules(), db.provenance());
    let info = Info {
        origin: db.origin(),
        name: &r.database.name,
        version: db.version(),
        schema_version: SCHEMA_VERSION,
        sha256: db.sha256(),
        requires_fwguard: r.database.requires_fwguard.as_deref(),
        why: &p.why,
        trust: p.trust,
        signer: p.signer.as_deref(),
        signer_key: p.signer_key.as_deref(),
        allow_unsigned: p.allow_unsigned,
        untrusted_because: p.untrusted_because.as_deref(),
        outdated_by: p.outdated_by.as_ref(),
        installed,
        families: r.families.len(),
        products: r.families.iter().map(|f| f.products.len()).sum(),
        flash_chips: r.chips.len(),
        usb_ids: r.usb.len(),
        policy_rules: r.policy.len(),
    };
    if json {
        print_json(&info)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("database        {} ({})", info.name, info.origin);
    println!("in effect       {}", info.why);
    println!("trust           {}", p.describe());
    println!("version         {}", info.version);
    println!("requires        fwguard {}", info.requires_fwguard.unwrap_or("(any)"));
    println!("schema version  {}", info.schema_version);
    println!("sha256          {}", info.sha256);
    println!(
        "content         {} families, {} products, {} flash chips, {} USB ids, {} policy rules",
        info.families, info.products, info.flash_chips, info.usb_ids, info.policy_rules
    );
    if let Some(i) = &info.installed {
        println!("installed       version {} from {} at {} (key {})", i.version, i.from, i.installed_at, i.key_id);
    }
    if let Some((message, _)) = db.outdated_finding() {
        println!("warning         {message}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A password from FWGUARD_KEY_PASSWORD, else asked on the terminal (twice when `confirm`).
fn password(confirm: bool) -> anyhow::Result<String> {
    if let Some(pw) = std::env::var_os(PASSWORD_ENV) {
        return pw.into_string().map_err(|_| hinted(format!("{PASSWORD_ENV} is not UTF-8"), "use a UTF-8 password"));
    }
    let no_tty = |e: std::io::Error| {
        hinted(
            format!("cannot ask for the key's password: {e}"),
            "run it on a terminal, set FWGUARD_KEY_PASSWORD, or make keys for automation with --no-password",
        )
    };
    let pw = rpassword::prompt_password("Password: ").map_err(no_tty)?;
    if confirm && rpassword::prompt_password("Password (again): ").map_err(no_tty)? != pw {
        return Err(hinted("the passwords differ", "run it again"));
    }
    Ok(pw)
}

fn keygen_cmd(out: &Path, no_password: bool) -> anyhow::Result<ExitCode> {
    let pw = if no_password { None } else { Some(password(true)?) };
    let k = keygen(out, pw).map_err(db_error)?;
    println!("wrote {} (the secret key: keep it private) and {}", k.secret.display(), k.public.display());
    println!("key id {}", k.id);
    println!("stations trust it once {} is copied into $FWGUARD_HOME/trusted-keys/", k.public.display());
    Ok(ExitCode::SUCCESS)
}

fn sign(key: &Path, db_path: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(db_path)
        .map_err(|source| db_error(DbError::Io { path: db_path.display().to_string(), source }))?;
    let label = db_path.display().to_string();
    // A database made for a newer fwguard can still be signed; anything else must read whole.
    let version = match Database::from_bytes(&bytes, &label) {
        Ok(db) => db.version(),
        Err(DbError::Requires { .. }) => Database::header_of(&bytes, &label).map_err(db_error)?.version,
        Err(e) => return Err(db_error(e)),
    };
    let sk_file = SecretKeyFile::read(key).map_err(db_error)?;
    let pw = if sk_file.is_encrypted() { Some(password(false)?) } else { None };
    let sk = sk_file.unlock(pw).map_err(db_error)?;
    let name = db_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (sig, id) = sign_bytes(&sk, &bytes, &name, version).map_err(db_error)?;
    let sig_path = with_suffix(db_path, ".minisig");
    let tmp = with_suffix(db_path, ".minisig.tmp");
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| db_error(DbError::Io { path: p.clone(), source })
    };
    std::fs::write(&tmp, sig.as_bytes()).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &sig_path).map_err(io(&sig_path))?;
    println!("wrote {}: key {id}, version {version}, file sha256 {}", sig_path.display(), sha256_hex(&bytes));
    Ok(ExitCode::SUCCESS)
}

fn verify(db_path: &Path) -> anyhow::Result<ExitCode> {
    let home = home().map_err(db_error)?;
    let previous = |db: &Database| {
        let key = db.provenance().signer.clone().unwrap_or_default();
        AcceptedStore::in_home(&home).get(&key).ok().flatten()
    };
    let db = open_trusted(db_path, &home, false, "named on the command line", Record::No).map_err(db_error)?;
    let p = db.provenance();
    println!("{}: {}", db_path.display(), p.describe());
    println!(
        "version {}, content sha256 {}, requires fwguard {}",
        db.version(),
        db.sha256(),
        db.rules().database.requires_fwguard.as_deref().unwrap_or("(any)")
    );
    match previous(&db) {
        Some(a) => {
            println!("this station accepted version {} from this key at {} ({})", a.version, a.accepted_at, a.origin)
        }
        None => println!("this station has accepted no database from this key yet"),
    }
    Ok(ExitCode::SUCCESS)
}

fn update(from: &str) -> anyhow::Result<ExitCode> {
    let home = home().map_err(db_error)?;
    let out = fwguard::db::update::update(from, &home).map_err(db_error)?;
    let i = &out.installed;
    if out.unchanged {
        println!("version {} from {} is already installed (key {})", i.version, i.from, i.key_id);
    } else {
        let before = out.previous.as_ref().map(|p| format!(" (was version {})", p.version)).unwrap_or_default();
        println!(
            "installed version {}{before} from {}: signed by key {} ({})",
            i.version, i.from, i.key_id, out.key.from
        );
    }
    let effective = super::load_database(None, false)?;
    println!("in effect: version {}, {}", effective.version(), effective.provenance().why);
    Ok(ExitCode::SUCCESS)
}

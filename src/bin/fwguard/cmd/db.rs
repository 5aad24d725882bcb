//! `fwguard db build` and `fwguard db info`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use fwguard::db::{Database, SCHEMA_VERSION};

use crate::output::print_json;

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
    /// Show a database's version, schema version and content SHA-256.
    Info {
        /// A database file (default: FWGUARD_DB, else the built-in database).
        #[arg(long, env = "FWGUARD_DB")]
        db: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(serde::Serialize)]
struct Info<'a> {
    origin: &'a str,
    name: &'a str,
    version: u32,
    schema_version: u32,
    sha256: &'a str,
    families: usize,
    products: usize,
    flash_chips: usize,
    usb_ids: usize,
    policy_rules: usize,
}

/// Runs a db subcommand.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Build { rules, out } => {
            let db = match &rules {
                Some(dir) => Database::from_dir(dir),
                None => Database::builtin(),
            }?;
            db.write(&out)?;
            println!(
                "wrote {}: version {}, schema {SCHEMA_VERSION}, sha256 {}, {} families",
                out.display(),
                db.version(),
                db.sha256(),
                db.rules().families.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { db, json } => {
            let db = super::load_database(db.as_deref())?;
            let r = db.rules();
            let info = Info {
                origin: db.origin(),
                name: &r.database.name,
                version: db.version(),
                schema_version: SCHEMA_VERSION,
                sha256: db.sha256(),
                families: r.families.len(),
                products: r.families.iter().map(|f| f.products.len()).sum(),
                flash_chips: r.chips.len(),
                usb_ids: r.usb.len(),
                policy_rules: r.policy.len(),
            };
            if json {
                print_json(&info)?;
            } else {
                println!("database        {} ({})", info.name, info.origin);
                println!("version         {}", info.version);
                println!("schema version  {}", info.schema_version);
                println!("sha256          {}", info.sha256);
                println!(
                    "content         {} families, {} products, {} flash chips, {} USB ids, {} policy rules",
                    info.families, info.products, info.flash_chips, info.usb_ids, info.policy_rules
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

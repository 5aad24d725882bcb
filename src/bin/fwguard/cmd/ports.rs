//! `fwguard ports [--json]`: attached Quectel modules, found through sysfs
//! (`FWGUARD_SYSFS`, `FWGUARD_DEV`).

use std::path::PathBuf;
use std::process::ExitCode;

use fwguard::device::{self, Module};
use serde::Serialize;

/// Arguments of `fwguard ports`.
#[derive(clap::Args)]
pub struct Args {
    /// Print JSON: {"modules": [{usb_id, mode, platform, at_port, ports: [{path, interface, role}]}]}.
    #[arg(long)]
    pub json: bool,
    /// A published database file whose USB ids to use instead of the built-in ones.
    #[arg(long, env = "FWGUARD_DB")]
    pub db: Option<PathBuf>,
    /// Use a database file without a valid signature by a trusted key (for testing rules).
    #[arg(long)]
    pub allow_unsigned: bool,
}

#[derive(Serialize)]
struct ModuleJson<'a> {
    usb_id: String,
    at_port: Option<&'a PathBuf>,
    download_port: Option<&'a PathBuf>,
    #[serde(flatten)]
    module: &'a Module,
}

#[derive(Serialize)]
struct PortsJson<'a> {
    modules: Vec<ModuleJson<'a>>,
}

/// Runs `fwguard ports`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let db = super::load_database(args.db.as_deref(), args.allow_unsigned)?;
    let table = device::UsbTable::from_ids(db.usb()).map_err(device::PortsError::from)?;
    let modules = device::discover_in(&device::SysPaths::from_env(), &table)?;
    if args.json {
        let json = PortsJson {
            modules: modules
                .iter()
                .map(|m| ModuleJson {
                    usb_id: m.usb_id().to_string(),
                    at_port: m.at_port().map(|p| &p.path),
                    download_port: m.download_port().map(|p| &p.path),
                    module: m,
                })
                .collect(),
        };
        crate::output::print_json(&json)?;
        return Ok(ExitCode::SUCCESS);
    }
    if modules.is_empty() {
        super::out("no Quectel module attached")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut grid = crate::output::Grid::new(&["port", "USB id", "mode", "role", "module"]);
    for m in &modules {
        let label = format!("{} ({})", m.bus_id, m.models.join(", "));
        for p in &m.ports {
            grid.row(vec![
                p.path.display().to_string().into(),
                m.usb_id().to_string().into(),
                m.mode.to_string().into(),
                p.role.to_string().into(),
                label.clone().into(),
            ]);
        }
    }
    super::out(&grid.render())?;
    Ok(ExitCode::SUCCESS)
}

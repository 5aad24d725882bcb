//! Getting a module from normal mode into emergency download (EDL) and finding it there, through
//! port discovery (`FWGUARD_SYSFS`, `FWGUARD_DEV`): the DIAG port from the USB table's interface
//! layout, the switch, then the module re-enumerating as 05c6:9008.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::diag::{DiagOptions, DiagSession};
use super::error::QualcommError;
use super::wire::diag::BuildId;
use crate::device::{Mode, Module, Port, Role, SerialTransport, SysPaths, UsbTable, discover_in};

/// The module's DIAG port, by the role the USB table gives its interface.
pub fn diag_port(module: &Module) -> Result<&Port, QualcommError> {
    module.ports.iter().find(|p| p.role == Role::Diag).ok_or_else(|| QualcommError::NoDiagPort {
        module: format!("{} ({})", module.bus_id, module.usb_id()),
        ports: describe_ports(module),
    })
}

fn describe_ports(module: &Module) -> String {
    if module.ports.is_empty() {
        return "none".into();
    }
    let list: Vec<String> =
        module.ports.iter().map(|p| format!("{} (interface {}, {})", p.name, p.interface, p.role.as_str())).collect();
    list.join(", ")
}

fn describe(module: &Module) -> String {
    let names: Vec<&str> = module.ports.iter().map(|p| p.name.as_str()).collect();
    format!("{} {} {} [{}]", module.bus_id, module.usb_id(), module.mode, names.join(" "))
}

/// A module found in emergency download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdlPort {
    /// The module as discovery sees it.
    pub module: Module,
    /// Its download port (the device node Sahara runs on).
    pub port: Port,
}

impl EdlPort {
    /// The device node.
    pub fn path(&self) -> &PathBuf {
        &self.port.path
    }
}

/// Watches discovery until a module in emergency download appears: the one on hub port
/// `bus_id` when given, else the only one. Fails after `timeout`, naming everything seen.
pub fn wait_for_edl(
    paths: &SysPaths,
    table: &UsbTable,
    bus_id: Option<&str>,
    timeout: Duration,
) -> Result<EdlPort, QualcommError> {
    let started = Instant::now();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    loop {
        let modules = discover_in(paths, table).map_err(|e| QualcommError::Discovery(e.to_string()))?;
        if modules.is_empty() {
            seen.insert("no Quectel module".into());
        }
        seen.extend(modules.iter().map(describe));
        let edl: Vec<&Module> = modules
            .iter()
            .filter(|m| m.mode == Mode::Edl && bus_id.is_none_or(|b| m.bus_id == b) && m.download_port().is_some())
            .collect();
        if let [one] = edl.as_slice()
            && let Some(port) = one.download_port()
        {
            return Ok(EdlPort { module: (*one).clone(), port: port.clone() });
        }
        if started.elapsed() >= timeout {
            let seen = seen.into_iter().collect::<Vec<_>>().join("; ");
            let seen = if edl.len() > 1 { format!("{seen} (several in emergency download: name one)") } else { seen };
            return Err(QualcommError::NoEdl { after: timeout, seen });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What [`enter_edl`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdlEntry {
    /// The build id the module reported before the switch (`None` when it did not answer the
    /// query; the switch is still sent).
    pub build_id: Option<BuildId>,
    /// The module, now in emergency download.
    pub edl: EdlPort,
}

/// Sends `module` (in normal mode) to emergency download: finds its DIAG port, reads its build
/// id (`None` when it does not answer the query; the switch is still sent), and sends the switch.
/// Returns once the module echoed it; finding it again is [`wait_for_edl`]'s (or the flashing
/// core's discovery).
pub fn switch(module: &Module, diag: DiagOptions) -> Result<Option<BuildId>, QualcommError> {
    let port = diag_port(module)?;
    let mut transport = SerialTransport::open(&port.path, 115_200).map_err(|e| {
        QualcommError::io(
            format!("opening the DIAG port {}", port.path.display()),
            std::io::Error::other(e.to_string()),
        )
    })?;
    let mut session = DiagSession::new(&mut transport, diag);
    let build_id = session.build_id().ok();
    session.switch_to_edl()?;
    Ok(build_id)
}

/// Moves `module` (in normal mode) into emergency download: [`switch`], then waits up to
/// `timeout` for it to re-enumerate as 05c6:9008 on the same hub port.
pub fn enter_edl(
    paths: &SysPaths,
    table: &UsbTable,
    module: &Module,
    diag: DiagOptions,
    timeout: Duration,
) -> Result<EdlEntry, QualcommError> {
    let build_id = switch(module, diag)?;
    let edl = wait_for_edl(paths, table, Some(&module.bus_id), timeout)?;
    Ok(EdlEntry { build_id, edl })
}

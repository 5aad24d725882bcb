//! End-to-end: the real `fwguard sim` binary on a pseudo-terminal, queried with the AT session.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use fwguard::device::{self, DeviceError, Mode, RevisionSource, Role, SessionOptions, SysPaths, UsbTable};

/// A running `fwguard sim`; killed on drop if still running.
pub struct Sim {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: File,
    pub port: PathBuf,
}

impl Sim {
    pub fn start(args: &[&str]) -> Sim {
        Sim::start_with_env(args, &[])
    }

    /// Starts `fwguard sim ARGS` with more environment variables (`FWGUARD_LOG` for its trace).
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Sim {
        let stderr = tempfile::tempfile().expect("a temporary file for stderr");
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("fwguard"))
            .arg("sim")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.try_clone().expect("stderr file"))
            .spawn()
            .expect("fwguard sim starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("first line of fwguard sim");
        let port = PathBuf::from(line.trim_end());
        assert!(!line.trim().is_empty(), "fwguard sim {args:?} printed no port");
        Sim { child, stdin, stderr, port }
    }

    /// What the simulator printed on stderr so far.
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        let _ = self.stderr.rewind();
        let _ = self.stderr.read_to_string(&mut text);
        text
    }

    /// Closes stdin and waits for a clean exit (status 0, no panic on stderr).
    pub fn finish(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let stderr = self.stderr();
                assert!(status.success(), "fwguard sim exited with {status}: {stderr}");
                assert!(!stderr.contains("panicked"), "{stderr}");
                return;
            }
            assert!(Instant::now() < deadline, "fwguard sim did not stop when stdin closed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Sim {
    /// Stops the simulator whatever state it is in (a dropped link included): closes its stdin,
    /// waits for it to leave, kills it if it does not.
    pub fn kill(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let stderr = self.stderr();
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn quick() -> SessionOptions {
    SessionOptions {
        command_timeout: Duration::from_millis(700),
        boot_timeout: Duration::from_millis(2500),
        deadline: Duration::from_secs(15),
        ..SessionOptions::default()
    }
}

#[test]
fn sim_ec25_identifies() {
    let sim = Sim::start(&["ec25-e"]);
    assert!(sim.port.starts_with("/dev/pts"), "{}", sim.port.display());
    let started = Instant::now();
    let report = device::identify(&sim.port, &SessionOptions::default()).expect("identify");
    let wall = started.elapsed();
    assert_eq!(report.manufacturer.as_deref(), Some("Quectel"));
    assert_eq!(report.model.as_deref(), Some("EC25"));
    assert_eq!(report.revision, "EC25EFAR06A17M4G_20.200.20.200");
    assert_eq!(report.revision_source, RevisionSource::Qgmr);
    assert_eq!(report.ati_revision.as_deref(), Some("EC25EFAR06A17M4G"));
    assert_eq!(report.imei.as_deref(), Some("861234000000011"));
    assert_eq!(report.secure_boot, Some(false));
    let facts = report.facts();
    assert_eq!(facts.revision, "EC25EFAR06A17M4G_20.200.20.200");
    assert_eq!(facts.imei.as_deref(), Some("861234000000011"));
    eprintln!("identify: {} exchanges in {} ms", report.exchanges.len(), wall.as_millis());
    assert!(report.exchanges.len() <= 8, "{:#?}", report.exchanges);
    assert!(wall < Duration::from_secs(5));
    sim.finish();
}

#[test]
fn sim_quirky_profiles_identify() {
    for (profile, model, revision, source) in [
        ("ec20-old", "EC20", "EC20EQAR02A04E2G", RevisionSource::Cgmr),
        ("ec200u-eu", "EC200U", "EC200UEUABR01A03M08", RevisionSource::Qgmr),
        ("ec800k-cn", "EC800K", "EC800KCNCCR07A01M02", RevisionSource::Qgmr),
    ] {
        let sim = Sim::start(&[profile]);
        let report = device::identify(&sim.port, &quick()).unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert_eq!(report.model.as_deref(), Some(model), "{profile}");
        assert_eq!(report.revision, revision, "{profile}");
        assert_eq!(report.revision_source, source, "{profile}");
        sim.finish();
    }
}

#[test]
fn sim_described_by_hand() {
    let sim = Sim::start(&[
        "--model",
        "EC800M",
        "--revision",
        "EC800MCNLER06A05M08",
        "--flash-id",
        "0x20 0x4117",
        "--platform",
        "asr",
    ]);
    let report = device::identify(&sim.port, &quick()).expect("identify");
    assert_eq!(report.model.as_deref(), Some("EC800M"));
    assert_eq!(report.revision, "EC800MCNLER06A05M08");
    sim.finish();
}

/// Runs identify against a faulty sim; returns the error and how long it took.
fn faulty(fault: &str) -> (DeviceError, Duration) {
    let sim = Sim::start(&["ec25-e", "--fault", fault]);
    let started = Instant::now();
    let err = device::identify(&sim.port, &quick()).expect_err(fault);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{fault}: took {took:?}");
    assert_eq!(err.port(), sim.port.display().to_string());
    assert!(!err.hint().is_empty());
    (err, took)
}

#[test]
fn sim_fault_silent() {
    let (err, _) = faulty("silent");
    assert!(matches!(err, DeviceError::NotResponding { .. }), "{err}");
    assert_eq!(err.command(), Some("AT"));
}

#[test]
fn sim_fault_garbage() {
    let (err, _) = faulty("garbage");
    assert!(matches!(err, DeviceError::Garbage { .. }), "{err}");
}

#[test]
fn sim_fault_flood() {
    let (err, _) = faulty("flood");
    assert!(matches!(err, DeviceError::TooLong { limit: 4096, .. }), "{err}");
}

#[test]
fn sim_fault_slow() {
    let (err, _) = faulty("slow=1500");
    assert!(matches!(err, DeviceError::Timeout { ref command, .. } if command == "ATI"), "{err}");

    // Latency within the command timeout only costs time.
    let sim = Sim::start(&["ec25-e", "--fault", "slow=150"]);
    let report = device::identify(&sim.port, &quick()).expect("identify with slow=150");
    assert_eq!(report.model.as_deref(), Some("EC25"));
    sim.finish();
}

#[test]
fn sim_fault_drop_at() {
    // With the boot URCs glued to the first answers, the bytes before the cut are the same on
    // every run: RDY, AT's answer with its URCs (95 bytes), then the cut inside ATI's answer.
    let sim = Sim::start(&["ec25-e", "--fault", "glue-urcs", "--fault", "drop-at=100"]);
    let err = device::identify(&sim.port, &quick()).expect_err("drop-at=100");
    assert!(matches!(err, DeviceError::Disconnected { ref command, .. } if command == "ATI"), "{err}");
    // With the URCs on their own time the cut comes wherever the 100th byte falls.
    let (err, _) = faulty("drop-at=100");
    assert!(matches!(err, DeviceError::Disconnected { .. }), "{err}");
}

/// Reads from `port` until the link goes away; returns what arrived before.
fn read_until_gone(port: &mut device::SerialTransport) -> Vec<u8> {
    use device::Transport;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        assert!(Instant::now() < deadline, "the link stayed up; received {got:?}");
        match port.read_within(&mut buf, Duration::from_millis(100)) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => return got,
        }
    }
}

#[test]
fn sim_fault_drop_inside_the_qdownload_answer() {
    use device::Transport;
    use fwguard::sim::{self, AtEvent, AtMachine};
    // The byte count that falls inside the answer to AT+QDOWNLOAD=1: after the boot output
    // (RDY) and the echo, three bytes into "\r\nOK\r\n".
    let profile = sim::find("ec800m-cn-lf").expect("profile");
    let mut machine = AtMachine::new(std::sync::Arc::new(profile), true);
    let boot = machine.boot_output();
    let command = b"AT+QDOWNLOAD=1\r";
    let events = machine.feed(command);
    assert!(events.contains(&AtEvent::EnterDownload));
    let echo: usize = events.iter().map(|e| if let AtEvent::Echo(b) = e { b.len() } else { 0 }).sum();
    let drop_at = boot.len() + echo + 3;

    let sim = Sim::start(&["ec800m-cn-lf", "--fault", &format!("drop-at={drop_at}")]);
    let mut port = device::SerialTransport::open(&sim.port, 115_200).expect("open");
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + Duration::from_secs(3);
    while got.len() < boot.len() {
        assert!(Instant::now() < deadline, "no boot output: {got:?}");
        let n = port.read_within(&mut buf[..boot.len() - got.len()], Duration::from_millis(100)).expect("read");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, boot);
    port.send(command).expect("send");
    read_until_gone(&mut port);
    drop(port);
    // The module is gone, the simulator is not: it stops cleanly when asked.
    std::thread::sleep(Duration::from_millis(200));
    sim.finish();
}

#[test]
fn sim_fault_boot_is_waited_for() {
    // The module hears nothing for 500 ms after it starts: the first AT goes unanswered, and the
    // identification cannot end before the boot does.
    let started = Instant::now();
    let sim = Sim::start(&["ec25-e", "--fault", "boot=500"]);
    let report = device::identify(&sim.port, &quick()).expect("identify");
    assert!(started.elapsed() >= Duration::from_millis(500), "done in {:?}", started.elapsed());
    assert_eq!(report.model.as_deref(), Some("EC25"));
    let first = &report.exchanges[0];
    assert_eq!((first.command.as_str(), first.result.as_deref()), ("AT", None), "{:#?}", report.exchanges);
    sim.finish();
}

#[test]
fn sim_download_faults_are_refused_until_simulated() {
    // nak-at and flash-id act in the download protocols; accepting them where the protocol is
    // not simulated (ASR's WTPTP) would be a lie.
    for fault in ["flash-id=20:41:17", "nak-at=3"] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("fwguard"))
            .args(["sim", "ec200a-eu", "--fault", fault])
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{fault}");
        assert!(out.stdout.is_empty(), "{fault}: no port is printed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not simulated yet: this module's download mode does not act on nak-at and flash-id")
                && stderr.contains("hint: "),
            "{fault}: {stderr}"
        );
        assert!(stderr.contains(fault.split('=').next().unwrap_or(fault)), "{fault}: {stderr}");

        let sim = Sim::start(&["ec25-e", "--fault", fault]);
        assert!(sim.port.starts_with("/dev/pts"), "{fault}: {}", sim.port.display());
        sim.finish();
    }
}

#[test]
fn sim_bad_arguments_exit_2_with_hint() {
    for args in [&["ec25-e", "--fault", "loud"][..], &["no-such-module"][..], &["--model", "EC25"][..]] {
        let out = Command::new(assert_cmd::cargo::cargo_bin("fwguard")).arg("sim").args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error: ") && stderr.contains("hint: "), "{args:?}: {stderr}");
    }
}

#[test]
fn sim_list() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("fwguard")).args(["sim", "--list"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["ec25-e", "ec200u-cn", "ec200u-eu", "ec800m-cn-la", "ec800m-cn-le", "ec800m-cn-lf", "ec800k-cn"] {
        assert!(text.contains(name), "{name} missing from --list");
    }
}

fn ports_json(root: &Path) -> serde_json::Value {
    let out = Command::new(assert_cmd::cargo::cargo_bin("fwguard"))
        .args(["ports", "--json"])
        .env("FWGUARD_SYSFS", root.join("sys"))
        .env("FWGUARD_DEV", root.join("dev"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ports --json is JSON")
}

#[test]
fn sim_root_is_discovered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let state = root.join("state");
    let sim = Sim::start(&["ec25-e", "--root", &root.display().to_string(), "--state", &state.display().to_string()]);
    assert_eq!(sim.port, root.join("dev/ttyUSB2"));

    // The flash store exists at the profile's size (512 MiB NAND, sparse).
    assert_eq!(std::fs::metadata(state.join("flash.bin")).expect("flash.bin").len(), 512 << 20);

    // Library discovery: exactly one module, its AT port is the printed one.
    let paths = SysPaths { sysfs: root.join("sys"), dev: root.join("dev") };
    let modules = device::discover_in(&paths, UsbTable::builtin().expect("table")).expect("discover");
    assert_eq!(modules.len(), 1, "{modules:#?}");
    let m = &modules[0];
    assert_eq!(
        (m.usb_id().to_string().as_str(), m.mode, m.platform),
        ("2c7c:0125", Mode::At, Some(fwguard::platform::Platform::Qualcomm))
    );
    assert_eq!(m.ports.iter().map(|p| p.role).collect::<Vec<_>>(), [Role::Diag, Role::Nmea, Role::At, Role::Modem]);
    assert_eq!(m.at_port().map(|p| p.path.clone()), Some(sim.port.clone()));

    // identify through the device node finds the USB id too.
    let report = device::identify_with(&sim.port, &quick(), &paths).expect("identify");
    let usb = report.usb.expect("usb info");
    assert_eq!((usb.usb_id.as_str(), usb.interface, usb.role), ("2c7c:0125", 2, Role::At));

    // The binary agrees.
    let json = ports_json(root);
    let list = json["modules"].as_array().expect("modules array");
    assert_eq!(list.len(), 1, "{json:#}");
    assert_eq!(list[0]["usb_id"], "2c7c:0125");
    assert_eq!(list[0]["mode"], "at");
    assert_eq!(list[0]["at_port"], sim.port.display().to_string());
    assert_eq!(list[0]["ports"].as_array().map(Vec::len), Some(4));

    // Unplugged: the tree is empty again.
    sim.finish();
    assert_eq!(ports_json(root)["modules"].as_array().map(Vec::len), Some(0));
}

#[test]
fn history_json_empty() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(assert_cmd::cargo::cargo_bin("fwguard"))
        .args(["history", "--json"])
        .env("FWGUARD_HOME", home.path())
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["checks"].as_array().map(Vec::len), Some(0));
    assert!(home.path().join("history.db").exists());
}

/// Reads from `port` for `wait`, or until `want` has arrived; returns what arrived.
fn read_for(port: &mut device::SerialTransport, wait: Duration, want: Option<&str>) -> String {
    use device::Transport;
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while Instant::now() < deadline {
        if let Ok(n) = port.read_within(&mut buf, Duration::from_millis(50)) {
            got.extend_from_slice(&buf[..n]);
        }
        if want.is_some_and(|w| String::from_utf8_lossy(&got).contains(w)) {
            break;
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn sim_boot_urcs_arrive_on_their_own_time() {
    // After RDY the module says +CFUN, +CPIN, +QUSIM and later +QIND, with no command sent.
    let sim = Sim::start(&["ec25-e"]);
    let mut port = device::SerialTransport::open(&sim.port, 115_200).expect("open");
    let text = read_for(&mut port, Duration::from_secs(3), Some("+QIND: PB DONE"));
    let order = ["RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"];
    let at: Vec<usize> = order.iter().map(|u| text.find(u).unwrap_or_else(|| panic!("{u} not in {text:?}"))).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text:?}");
    // Answers carry no URCs now.
    use device::Transport;
    port.send(b"ATE0\r").expect("send");
    let answer = read_for(&mut port, Duration::from_secs(1), Some("OK\r\n"));
    assert_eq!(answer, "ATE0\r\r\nOK\r\n");
    drop(port);
    sim.finish();
}

#[test]
fn sim_fault_glue_urcs_still_identifies() {
    // The URCs come inside the first answers, as under load; the session still reads the
    // module, and takes the URCs for what they are.
    let sim = Sim::start(&["ec25-e", "--fault", "glue-urcs"]);
    let report = device::identify(&sim.port, &quick()).expect("identify");
    assert_eq!(report.revision, "EC25EFAR06A17M4G_20.200.20.200");
    assert_eq!(report.model.as_deref(), Some("EC25"));
    let qgmr = report.exchanges.iter().find(|e| e.command == "AT+QGMR").expect("AT+QGMR was sent");
    assert!(qgmr.lines.iter().any(|l| l == "+QIND: PB DONE"), "glued inside the answer: {:#?}", report.exchanges);
    sim.finish();
}

#[test]
fn sim_concatenated_commands_and_usb_configuration() {
    use device::Transport;
    let sim = Sim::start(&["ec25-e"]);
    let mut port = device::SerialTransport::open(&sim.port, 115_200).expect("open");
    read_for(&mut port, Duration::from_secs(3), Some("+QIND: PB DONE"));
    port.send(b"ATE0;+CGMI;+CGMM\r").expect("send");
    assert_eq!(
        read_for(&mut port, Duration::from_secs(1), Some("OK\r\n")),
        "ATE0;+CGMI;+CGMM\r\r\nQuectel\r\n\r\nEC25\r\n\r\nOK\r\n"
    );
    port.send(b"AT+QCFG=\"usbnet\";+QCFG=\"usbcfg\"\r").expect("send");
    assert_eq!(
        read_for(&mut port, Duration::from_secs(1), Some("OK\r\n")),
        "\r\n+QCFG: \"usbnet\",0\r\n\r\n+QCFG: \"usbcfg\",0x2C7C,0x0125,1,1,1,1,1,0,0\r\n\r\nOK\r\n"
    );
    port.send(b"AT+CGMI;+NOPE;+CGMM\r").expect("send");
    assert_eq!(read_for(&mut port, Duration::from_secs(1), Some("ERROR\r\n")), "\r\nQuectel\r\n\r\nERROR\r\n");
    drop(port);
    sim.finish();
}

#[test]
fn sim_cfun_1_1_resets_the_module() {
    use device::Transport;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // boot=1500: every boot, the first and the one after the reset, takes 1.5 s more, so the
    // checks below fall inside the reset on a loaded machine too.
    let sim = Sim::start(&["ec25-e", "--root", &root.display().to_string(), "--fault", "boot=1500"]);
    let mut port = device::SerialTransport::open(&sim.port, 115_200).expect("open");
    read_for(&mut port, Duration::from_secs(5), Some("+QIND: PB DONE"));
    port.send(b"ATE0\r").expect("send");
    read_for(&mut port, Duration::from_secs(1), Some("OK\r\n"));
    port.send(b"AT+QCFG=\"usbnet\",1\r").expect("send");
    assert_eq!(read_for(&mut port, Duration::from_secs(1), Some("OK\r\n")), "\r\nOK\r\n");

    port.send(b"AT+CFUN=1,1\r").expect("send");
    assert_eq!(read_for(&mut port, Duration::from_secs(1), Some("OK\r\n")), "\r\nOK\r\n");
    // The ports go away: the module hears and says nothing, and leaves the tree.
    let reset_at = Instant::now();
    port.send(b"AT\r").expect("send");
    assert_eq!(read_for(&mut port, Duration::from_millis(250), None), "", "a module that is resetting answered");
    assert_eq!(ports_json(root)["modules"].as_array().map(Vec::len), Some(0), "still on the tree during the reset");
    assert!(reset_at.elapsed() < Duration::from_millis(1900), "the checks took too long to fall inside the reset");
    // They come back: on the tree again, RDY, and echo on as after any power-up.
    let back = read_for(&mut port, Duration::from_secs(6), Some("+QIND: PB DONE"));
    assert!(back.starts_with("\r\nRDY\r\n") && back.contains("+CPIN: READY"), "{back:?}");
    assert_eq!(ports_json(root)["modules"].as_array().map(Vec::len), Some(1));
    port.send(b"AT+QCFG=\"usbnet\"\r").expect("send");
    let answer = read_for(&mut port, Duration::from_secs(1), Some("OK\r\n"));
    assert!(answer.starts_with("AT+QCFG=\"usbnet\"\r"), "echo is on again: {answer:?}");
    assert!(answer.contains("+QCFG: \"usbnet\",1\r\n"), "the NV setting stayed: {answer:?}");
    // And the library identifies it as before.
    drop(port);
    let report = device::identify(&sim.port, &quick()).expect("identify after the reset");
    assert_eq!(report.revision, "EC25EFAR06A17M4G_20.200.20.200");
    sim.finish();
}

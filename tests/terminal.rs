//! What people see: `fwguard` with its output on a real pseudo-terminal of a given width (a
//! table, colour, progress) and on a pipe (plain text).

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, Stdio};

use nix::pty::{Winsize, openpty};
use tempfile::TempDir;
use unicode_width::UnicodeWidthStr;

use crate::util::run;

const R06: &str = "EC25EFAR06A17M4G_20.200.20.200";
const R08: &str = "EC25EFAR08A01M4G_01.001.01.001";

/// Which of fwguard's streams the terminal gets.
#[derive(Clone, Copy, PartialEq)]
enum On {
    Stdout,
    Stderr,
}

/// Runs fwguard with stdout (or stderr) on a pseudo-terminal `cols` wide; returns the exit code,
/// what the terminal received (`\r\n` as `\n`) and the other stream.
fn on_terminal(home: &Path, on: On, cols: u16, args: &[&str]) -> (i32, String, String) {
    let size = Winsize { ws_row: 50, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = openpty(Some(&size), None).expect("a pseudo-terminal");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("fwguard"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("FWGUARD_HOME", home.join("fwguard"))
        .env("TERM", "xterm")
        .args(args)
        .stdin(Stdio::null());
    let slave: OwnedFd = pty.slave;
    match on {
        On::Stdout => cmd.stdout(Stdio::from(slave)).stderr(Stdio::piped()),
        On::Stderr => cmd.stderr(Stdio::from(slave)).stdout(Stdio::piped()),
    };
    let mut child = cmd.spawn().expect("fwguard runs");
    // The parent's copy of the terminal's slave side goes with `cmd`, so the master reads the
    // end (EIO) once the child has exited.
    drop(cmd);
    let mut master = File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
        }
        bytes
    });
    let mut other = String::new();
    match on {
        On::Stdout => child.stderr.take().unwrap().read_to_string(&mut other).unwrap(),
        On::Stderr => child.stdout.take().unwrap().read_to_string(&mut other).unwrap(),
    };
    let status = child.wait().unwrap();
    let seen = String::from_utf8_lossy(&reader.join().unwrap()).replace("\r\n", "\n");
    (status.code().unwrap_or(-1), seen, other)
}

/// `text` without ANSI escape sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_table_line(line: &str) -> bool {
    line.starts_with(['┌', '│', '╞', '├', '└'])
}

fn check_on_terminal(cols: u16, colour: &str) -> (i32, String) {
    let home = TempDir::new().unwrap();
    let args = ["check", "--color", colour, "--no-history", "--model", "EC25", "--revision", R06, "--to", R08];
    let (code, seen, err) = on_terminal(home.path(), On::Stdout, cols, &args);
    assert_eq!(code, 1, "{seen}{err}");
    (code, seen)
}

#[test]
fn the_check_table_lines_up_with_and_without_colour_at_80_and_200_columns() {
    for cols in [80u16, 200] {
        for colour in ["always", "never"] {
            let (_, seen) = check_on_terminal(cols, colour);
            assert_eq!(seen.contains("\x1b["), colour == "always", "{cols} {colour}:\n{seen}");
            let plain = strip_ansi(&seen);
            let table: Vec<&str> = plain.lines().filter(|l| is_table_line(l)).collect();
            assert!(table.len() >= 5, "{cols} {colour}: no table in\n{plain}");
            let widths: Vec<usize> = table.iter().map(|l| l.width()).collect();
            assert!(widths.iter().all(|w| *w == widths[0]), "{cols} {colour}: rows of widths {widths:?}\n{plain}");
            assert!(widths[0] <= usize::from(cols), "{cols} {colour}: {} wide\n{plain}", widths[0]);
            // Every line fits the terminal but the sources' URLs, printed whole.
            for line in plain.lines().filter(|l| !l.contains("https://")) {
                assert!(line.width() <= usize::from(cols), "{cols} {colour}: {line:?}");
            }
            // Revisions are never broken inside the table: each one starts and ends on one line.
            for line in &table {
                for (at, _) in line.match_indices("EC25EFAR0") {
                    let word: String = line[at..].chars().take_while(|c| !c.is_whitespace() && *c != ')').collect();
                    assert!(
                        [R06, R08, "EC25EFAR06AxxM4G_20.2xx.20.2xx"].contains(&word.as_str()),
                        "{cols} {colour}: broken revision {word:?} in {line:?}"
                    );
                }
            }
            // Sources are listed whole below the table, one a line, referenced from the cells.
            assert!(plain.contains("source: [1]"), "{plain}");
            let url = plain.lines().find(|l| l.starts_with("[1] https://")).expect("source [1] is listed");
            assert!(url.split_whitespace().nth(1).unwrap().len() > 20, "{url}");
        }
    }
}

#[test]
fn the_check_table_at_80_columns() {
    let (_, seen) = check_on_terminal(80, "never");
    // The database's hash changes with every rule change; the rest is the layout under test.
    let shown: String = seen
        .lines()
        .map(|l| match l.find("sha256 ") {
            Some(at) => format!("{}sha256 [hash]{}", &l[..at], &l[at + 7 + 16..]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(shown);
}

#[test]
fn piped_output_is_plain_text_one_row_a_line() {
    let home = TempDir::new().unwrap();
    let (code, list, _) = run(home.path(), &["sim", "--list"]);
    assert_eq!(code, 0);
    let (_, check, _) = run(home.path(), &["check", "--model", "EC25", "--revision", R06, "--to", R08]);
    let (_, history, _) = run(home.path(), &["history"]);
    let empty = TempDir::new().unwrap();
    std::fs::create_dir_all(empty.path().join("sys/class/tty")).unwrap();
    let ports = crate::util::fwguard(home.path())
        .env("FWGUARD_SYSFS", empty.path().join("sys"))
        .env("FWGUARD_DEV", empty.path().join("dev"))
        .arg("ports")
        .output()
        .unwrap();
    let ports = String::from_utf8_lossy(&ports.stdout).into_owned();
    for text in [&list, &check, &history, &ports] {
        assert!(!text.contains(['│', '─', '┌', '═']), "box drawing in a pipe:\n{text}");
    }
    // One profile a line, whole, however long (no 120-column layout): grep finds it.
    let ftm = list.lines().find(|l| l.starts_with("ec25-eux-ftm ")).expect("ec25-eux-ftm listed");
    assert!(ftm.contains("EC25EUXGAR08A15M1G_20.200.20.200") && ftm.ends_with("gives +CME ERROR: 3)"), "{ftm}");
    let finding = check.lines().find(|l| l.contains("cross-baseline")).unwrap();
    assert!(finding.starts_with("block") && finding.contains(R06) && finding.contains(R08), "{finding}");
    let row = history.lines().nth(1).unwrap();
    assert!(row.contains(R06) && row.contains(R08) && row.contains("block"), "{history}");
    assert_eq!(ports.trim(), "no Quectel module attached");
}

#[test]
fn waiting_for_a_booting_module_says_what_and_how_long_on_a_terminal() {
    let home = TempDir::new().unwrap();
    let args = ["check", "--no-history", "--sim", "ec25-e", "--fault", "boot=2500", "--to", R08, "--json"];
    let (code, seen, out) = on_terminal(home.path(), On::Stderr, 100, &args);
    assert_eq!(code, 1, "{seen}{out}");
    let shown = strip_ansi(&seen);
    assert!(
        // The simulated module's AT port: its pseudo-terminal, or its name on the tree that
        // `check --sim` describes it under.
        (shown.contains("waiting for the module on /dev/pts/") || shown.contains("/dev/ttyUSB2 to answer AT"))
            && shown.contains("to answer AT (it may still be booting"),
        "{shown:?}"
    );
    assert!(shown.contains("at most 10 s"), "{shown:?}");
    // The verdict on stdout is untouched by the progress on stderr.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "block");
}

#[test]
fn reading_the_flash_id_from_the_boot_loader_says_so_on_a_terminal() {
    use fwguard::image::build::quecpython::{QpyInner, QuecPythonBuilder};
    let home = TempDir::new().unwrap();
    let qpy = QuecPythonBuilder::ec800m_cn_lf();
    let QpyInner::Asr(asr) = &qpy.inner else { panic!("an ASR image") };
    let lf = home.path().join(&qpy.inner_name);
    std::fs::write(&lf, asr.zip().unwrap()).unwrap();
    let args = ["check", "--no-history", "--sim", "ec800m-cn-la", "--to", lf.to_str().unwrap(), "--json"];
    let (code, seen, out) = on_terminal(home.path(), On::Stderr, 200, &args);
    assert_eq!(code, 1, "{seen}{out}");
    let shown = strip_ansi(&seen);
    assert!(
        shown.contains("reading the flash ID from the module's boot loader (download mode and back, at most 120 s)"),
        "{shown:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["device"]["flash_id_source"], "bootloader");
}

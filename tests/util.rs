//! Shared test helpers: the binary under a hermetic environment.

use std::path::Path;

use assert_cmd::Command;

/// `fwguard` with a private FWGUARD_HOME and no colour, database or log settings leaking in.
pub fn fwguard(home: &Path) -> Command {
    let mut c = Command::cargo_bin("fwguard").expect("the fwguard binary is built");
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("FWGUARD_HOME", home.join("fwguard"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120");
    c
}

/// Runs `fwguard` with `args`, returning (exit code, stdout, stderr).
pub fn run(home: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(fwguard(home).args(args))
}

/// Runs `fwguard` with `args`, finding modules by discovery in the simulated `--root` tree at
/// `root` (`FWGUARD_SYSFS`, `FWGUARD_DEV`); returns (exit code, stdout, stderr).
pub fn run_in_tree(home: &Path, root: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(fwguard(home).env("FWGUARD_SYSFS", root.join("sys")).env("FWGUARD_DEV", root.join("dev")).args(args))
}

fn outcome(command: &mut Command) -> (i32, String, String) {
    let out = command.output().expect("fwguard runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

use std::time::Duration;

use super::*;
use crate::sim::profile::find;

fn machine(name: &str) -> AtMachine {
    AtMachine::new(Arc::new(find(name).unwrap()), true)
}

/// A machine with echo off.
fn quiet(name: &str) -> AtMachine {
    let mut m = machine(name);
    run(&mut m, "ATE0\r");
    m
}

fn run(m: &mut AtMachine, input: &str) -> String {
    let mut out = Vec::new();
    for e in m.feed(input.as_bytes()) {
        match e {
            AtEvent::Echo(b) | AtEvent::Reply(b) => out.extend(b),
            AtEvent::EnterDownload => out.extend_from_slice(b"<download>"),
            AtEvent::Reset => out.extend_from_slice(b"<reset>"),
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn echo_and_framing() {
    let mut m = machine("ec25-e");
    assert_eq!(m.boot_output(), b"\r\nRDY\r\n");
    assert_eq!(run(&mut m, "AT\r"), "AT\r\r\nOK\r\n");
    assert_eq!(run(&mut m, "ATI\r"), "ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A17M4G\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QGMR\r"), "AT+QGMR\r\r\nEC25EFAR06A17M4G_20.200.20.200\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "ATE0\r"), "ATE0\r\r\nOK\r\n");
    assert_eq!(run(&mut m, "at+gsn\r"), "\r\n861234000000011\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+BOGUS\r"), "\r\nERROR\r\n");
    assert_eq!(run(&mut m, "hello\r"), "");
    assert_eq!(run(&mut m, "AT+QSECBOOT=\"status\"\r"), "\r\nERROR\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"secbootstat\"\r"), "\r\n+QCFG: \"secbootstat\",0\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QDOWNLOAD=1\r"), "\r\nERROR\r\n");
}

#[test]
fn boot_urcs_come_on_their_own_time_not_inside_answers() {
    let m = machine("ec25-e");
    let urcs: Vec<(Duration, String)> =
        m.boot_urcs().into_iter().map(|(d, b)| (d, String::from_utf8(b).unwrap())).collect();
    let texts: Vec<&str> = urcs.iter().map(|(_, t)| t.trim()).collect();
    assert_eq!(texts, ["+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"]);
    assert!(urcs.windows(2).all(|w| w[0].0 <= w[1].0) && urcs[0].0 > Duration::ZERO);
    assert!(urcs.iter().all(|(_, t)| t.starts_with("\r\n") && t.ends_with("\r\n")));
    // No SIM: no +CPIN / +QUSIM. The modem port has no URCs.
    let nosim = find("ec25-e").map(|mut p| {
        p.quirks.push(Quirk::NoSim);
        p
    });
    let texts: Vec<String> = AtMachine::new(Arc::new(nosim.unwrap()), true)
        .boot_urcs()
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap().trim().to_string())
        .collect();
    assert_eq!(texts, ["+CFUN: 1", "+QIND: SMS DONE", "+QIND: PB DONE"]);
    assert!(AtMachine::new(Arc::new(find("ec25-e").unwrap()), false).boot_urcs().is_empty());
}

#[test]
fn the_glue_fault_puts_the_boot_urcs_inside_answers() {
    let mut m = machine("ec25-e");
    m.set_glued_urcs(true);
    assert!(m.boot_urcs().is_empty());
    assert_eq!(run(&mut m, "AT\r"), "AT\r\r\nOK\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n");
    run(&mut m, "ATE0\r");
    assert_eq!(
        run(&mut m, "AT+QGMR\r"),
        "\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n\r\nEC25EFAR06A17M4G_20.200.20.200\r\n\r\nOK\r\n"
    );
    assert!(m.rebooted().boot_urcs().is_empty(), "the fault lasts across a reset");
}

#[test]
fn concatenated_commands_answer_in_order_with_one_final_result() {
    let mut m = quiet("ec25-e");
    assert_eq!(run(&mut m, "AT+CGMI;+CGMM\r"), "\r\nQuectel\r\n\r\nEC25\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "ATE0;+CMEE=2;+CGMR\r"), "\r\nEC25EFAR06A17M4G\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+CMEE?;\r"), "\r\n+CMEE: 2\r\n\r\nOK\r\n");
    // The first failure ends the line: CGMM's answer never comes.
    assert_eq!(run(&mut m, "AT+CGMI;+BOGUS;+CGMM\r"), "\r\nQuectel\r\n\r\nERROR\r\n");
    assert_eq!(run(&mut m, "AT+CMEE=1;+CMEE=9;+CMEE=0\r"), "\r\nERROR\r\n");
    assert_eq!(run(&mut m, "AT+CMEE?\r"), "\r\n+CMEE: 1\r\n\r\nOK\r\n", "commands before the failure ran");
    // A ';' inside quotes is text.
    assert_eq!(run(&mut m, "AT+QCFG=\"usbnet;\"\r"), "\r\nERROR\r\n");
    let mut f = quiet("ec25-eux-ftm");
    assert_eq!(run(&mut f, "AT+CGMI;+CFUN=1;+CGMM\r"), "\r\nQuectel\r\n\r\n+CME ERROR: 3\r\n");
    let mut u = quiet("ec200u-cn");
    assert_eq!(run(&mut u, "AT+CGMM;+QDOWNLOAD=1;+CGMI\r"), "\r\nEC200U\r\n\r\nOK\r\n<download>");
}

#[test]
fn cfun_1_1_resets_and_nv_settings_survive() {
    let mut m = quiet("ec25-e");
    assert_eq!(run(&mut m, "AT+CFUN=1,1\r"), "\r\nOK\r\n<reset>");
    assert_eq!(run(&mut m, "AT+CFUN=1,0\r"), "\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+CFUN=4,1\r"), "\r\nERROR\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbnet\",1\r"), "\r\nOK\r\n");
    let mut after = m.rebooted();
    assert_eq!(run(&mut after, "AT\r"), "AT\r\r\nOK\r\n", "echo is on again after a reset");
    assert_eq!(run(&mut after, "AT+QCFG=\"usbnet\"\r"), "AT+QCFG=\"usbnet\"\r\r\n+QCFG: \"usbnet\",1\r\n\r\nOK\r\n");
}

#[test]
fn usbnet_and_usbcfg_answer_as_ec25_and_eg25_do() {
    let mut m = quiet("ec25-e");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbnet\"\r"), "\r\n+QCFG: \"usbnet\",0\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbnet\",3\r"), "\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbnet\"\r"), "\r\n+QCFG: \"usbnet\",3\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbnet\",7\r"), "\r\nERROR\r\n");
    // The EC25's default composition, 2C7C:0125 with DIAG, NMEA, AT, modem and RmNet.
    assert_eq!(run(&mut m, "AT+QCFG=\"usbcfg\"\r"), "\r\n+QCFG: \"usbcfg\",0x2C7C,0x0125,1,1,1,1,1,0,0\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbcfg\",0x2C7C,0x0125,1,1,1,1,1,0,1\r"), "\r\nOK\r\n");
    assert_eq!(run(&mut m, "at+qcfg=\"usbcfg\"\r"), "\r\n+QCFG: \"usbcfg\",0x2C7C,0x0125,1,1,1,1,1,0,1\r\n\r\nOK\r\n");
    assert_eq!(run(&mut m, "AT+QCFG=\"usbcfg\",0x2C7C,0x0125,1,1\r"), "\r\nERROR\r\n");
    let mut asr = quiet("ec800m-cn-lf");
    assert_eq!(run(&mut asr, "AT+QCFG=\"usbnet\"\r"), "\r\nERROR\r\n");
}

#[test]
fn quirks() {
    let mut m = quiet("ec20-old");
    assert_eq!(run(&mut m, "AT+QGMR\r"), "\r\nERROR\r\n");
    assert_eq!(run(&mut m, "AT+CGMR\r"), "\r\nEC20EQAR02A04E2G\r\n\r\nOK\r\n");
    let mut u = quiet("ec200u-cn");
    assert_eq!(run(&mut u, "AT+CGMR\r"), "\r\n+CGMR: EC200UCNAAR03A03M08\r\n\r\nOK\r\n");
    assert_eq!(run(&mut u, "AT+QDOWNLOAD=1\r"), "\r\nOK\r\n<download>");
    let mut f = quiet("ec25-eux-ftm");
    assert_eq!(run(&mut f, "AT+CFUN?\r"), "\r\n+CFUN: 5\r\n\r\nOK\r\n");
    assert_eq!(run(&mut f, "AT+CFUN=1\r"), "\r\n+CME ERROR: 3\r\n");
    run(&mut f, "AT+CMEE=2\r");
    assert_eq!(run(&mut f, "AT+CFUN=1\r"), "\r\n+CME ERROR: operation not allowed\r\n");
}

#[test]
fn split_input_and_long_lines() {
    let mut m = quiet("ec25-e");
    assert_eq!(run(&mut m, "AT+CG"), "");
    assert_eq!(run(&mut m, "MM\r\n"), "\r\nEC25\r\n\r\nOK\r\n");
    let long = format!("AT{}\r", "X".repeat(2000));
    assert_eq!(run(&mut m, &long), "\r\nERROR\r\n");
    assert_eq!(run(&mut m, "AT\r"), "\r\nOK\r\n");
}

//! `scripts/bench.sh fence`: time to a verified power-off against one ipmi_sim, side by side:
//!
//! * Lifeboat's native client, in process (what the engine does);
//! * `lifeboat fence ipmi --action off` as a process (like for like with the tools below);
//! * `ipmitool -I lanplus -C 3 chassis power off`, then `chassis power status` until off;
//! * `fence_ipmilan -o off` (lanplus, cipher 3), with its defaults (`power_wait` 2 s) and
//!   with `power_wait=0`.
//!
//! Each iteration starts with the chassis on. Prints median and p99 per tool and the ratios to
//! the native client. Environment: `LIFEBOAT_BIN` (the release binary), `ITERATIONS` (native
//! runs; the process-based tools run fewer, see below).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use lifeboat_core::config::Secret;
use lifeboat_core::fencing::PowerAction;
use lifeboat_fence::ipmi::{
    CipherChoice, CipherSuite, IpmiClient, IpmiTarget, Privilege, Timing, Verification,
};
use lifeboat_test_support::ipmi_sim::{IpmiSim, require_program};
use tokio::time::Instant;

fn quiet(mut c: Command) -> bool {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn piped(mut c: Command, input: &str) -> (bool, String) {
    use std::io::Write;
    let Ok(mut child) = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return (false, String::new());
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        Err(_) => (false, String::new()),
    }
}

/// Median and p99 of durations, in milliseconds.
fn stats(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99))
}

struct Row {
    name: String,
    runs: usize,
    median: f64,
    p99: f64,
}

async fn measure(name: &str, runs: usize, sim: &IpmiSim, mut off: impl FnMut() -> bool) -> Row {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        sim.set_power_on(true);
        let started = Instant::now();
        let ok = off();
        let took = started.elapsed();
        if !ok || sim.power_on() {
            panic!("[bench] {name}: run {i} did not power off");
        }
        samples.push(took);
    }
    let (median, p99) = stats(samples);
    Row {
        name: name.to_owned(),
        runs,
        median,
        p99,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let lifeboat =
        std::env::var("LIFEBOAT_BIN").unwrap_or_else(|_| "target/release/lifeboat".into());
    let ipmitool = require_program("ipmitool");
    let fence_ipmilan = require_program("fence_ipmilan");
    let sim = IpmiSim::start();
    let port = sim.port().to_string();
    let pw = sim.dir().join("bench.pw");
    std::fs::write(&pw, "password\n").unwrap_or_else(|e| panic!("{e}"));

    let client = IpmiClient::new(
        IpmiTarget {
            address: sim.address(),
            username: "admin".into(),
            password: Secret::new("password"),
            kg: None,
            privilege: Privilege::Administrator,
            cipher: CipherChoice::Only(CipherSuite::Suite3),
        },
        Timing::default(),
    );
    let verify = Verification::default();
    let mut rows = Vec::new();

    // Native, in process: one run at a time on the runtime.
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        sim.set_power_on(true);
        let started = Instant::now();
        client
            .run(PowerAction::Off, verify)
            .await
            .unwrap_or_else(|e| panic!("native off failed: {e}"));
        samples.push(started.elapsed());
        assert!(!sim.power_on());
    }
    let (median, p99) = stats(samples);
    rows.push(Row {
        name: "lifeboat native client (in process)".into(),
        runs: n,
        median,
        p99,
    });

    let processes = (n / 4).max(10);
    let lifeboat_path = Path::new(&lifeboat).to_path_buf();
    rows.push(
        measure("lifeboat fence ipmi (process)", processes, &sim, || {
            let mut c = Command::new(&lifeboat_path);
            c.args([
                "fence",
                "ipmi",
                "--address",
                &sim.address(),
                "--username",
                "admin",
                "--cipher",
                "3",
                "--action",
                "off",
                "--password-file",
            ])
            .arg(&pw);
            quiet(c)
        })
        .await,
    );
    let ipmi = |verb: &str| {
        let mut c = Command::new(&ipmitool);
        c.args([
            "-I",
            "lanplus",
            "-C",
            "3",
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "admin",
            "-f",
        ])
        .arg(&pw)
        .args(["chassis", "power", verb]);
        c
    };
    rows.push(
        measure(
            "ipmitool -I lanplus -C 3 (off, then status until off)",
            processes,
            &sim,
            || {
                if !quiet(ipmi("off")) {
                    return false;
                }
                for _ in 0..50 {
                    let (ok, out) = piped(ipmi("status"), "");
                    if ok && out.contains("is off") {
                        return true;
                    }
                }
                false
            },
        )
        .await,
    );
    let agent_runs = (n / 20).clamp(5, 20);
    for (label, extra) in [
        ("fence_ipmilan (defaults: power_wait 2 s)", ""),
        ("fence_ipmilan (power_wait=0)", "power_wait=0\n"),
    ] {
        let input = format!(
            "action=off\nip=127.0.0.1\nipport={port}\nusername=admin\npassword=password\nlanplus=1\ncipher=3\n{extra}"
        );
        rows.push(
            measure(label, agent_runs, &sim, || {
                piped(Command::new(&fence_ipmilan), &input).0
            })
            .await,
        );
    }

    let base = rows[0].median;
    println!(
        "\nTime to a verified power-off against ipmi_sim on 127.0.0.1 (ms; lower is better)\n"
    );
    println!(
        "{:<56} {:>5} {:>10} {:>10} {:>14}",
        "client", "runs", "median", "p99", "median ratio"
    );
    for r in &rows {
        println!(
            "{:<56} {:>5} {:>10.2} {:>10.2} {:>13.1}x",
            r.name,
            r.runs,
            r.median,
            r.p99,
            r.median / base
        );
    }
    println!("\n(ratio = the client's median / the native client's median)");
}

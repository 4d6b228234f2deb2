//! The `lifeboat` binary: parses the command line and hands over to the library crates.

mod cli;
mod commands;
mod http;
mod signals;
mod systemd;
mod telemetry;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

// glibc's allocator spends much of a busy API's time in malloc/free and fragments across
// threads; mimalloc is faster and keeps the resident set small.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits its first arena eagerly, and with transparent huge pages that costs every
/// long-running process memory it never uses: about 7 MiB for each small agent and 11–16 MiB
/// for the API under load (measured with the API bench; throughput the same within noise). The
/// daemons re-execute themselves once (same pid) with eager commit off.
fn lean_allocator(cli: &cli::Cli) {
    const OPTION: &str = "MIMALLOC_ARENA_EAGER_COMMIT";
    if !cli.command.is_daemon() || std::env::var_os(OPTION).is_some() {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        use std::os::unix::process::CommandExt;
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(OPTION, "0")
            .exec();
        // Only reached when exec failed; the process then runs as it is.
        eprintln!("lifeboat: re-executing with {OPTION}=0 failed ({error}); continuing");
    }
}

fn main() -> ExitCode {
    if let Some(code) = commands::agent_tools::run_if_called_as_one() {
        return code;
    }
    let cli = cli::Cli::parse();
    if let cli::Command::Crm { command } = cli.command {
        return commands::run_crm(command);
    }
    lean_allocator(&cli);
    // The agents run on every compute node and do little: one worker thread keeps them small (a
    // current-thread runtime measured larger). The services get a worker per core.
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if cli.command.is_agent() {
        builder.worker_threads(1);
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("lifeboat: starting the async runtime failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(commands::run(cli))
}

//! Logging: `RUST_LOG` if set, else `info` (or `debug` with `[DEFAULT] debug = true`), plain
//! text on stderr for journald.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber.
pub fn init(debug: bool) {
    let default = if debug {
        "debug,sqlx=warn,hyper=info"
    } else {
        "info,sqlx=warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// What a SIGHUP does to the log: nothing yet, as it goes to stderr, which the service manager
/// owns (journald, or a file it opened), so there is no file of Lifeboat's own to reopen.
pub fn reopen() {}

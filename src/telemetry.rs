//! Logging: `RUST_LOG` if set, else `info` (or `debug` with `[DEFAULT] debug = true`), as plain
//! text or one JSON object a line (`use_json`), on stderr for journald, or in `[DEFAULT]
//! log_file` (and on stderr too with `use_stderr`), which [`reopen`] opens anew.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use anyhow::{Context, Result};
use lifeboat_core::config::LoggingSection;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The daemon's log file, when it has one (for [`reopen`]).
static LOG_FILE: OnceLock<LogFile> = OnceLock::new();

fn filter(debug: bool) -> EnvFilter {
    let default = if debug {
        "debug,sqlx=warn,hyper=info"
    } else {
        "info,sqlx=warn"
    };
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Installs the global subscriber, writing plain text to stderr.
pub fn init(debug: bool) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(debug))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Installs the global subscriber of a long-running command as `[DEFAULT]` says: `log_file`
/// (else stderr), `use_stderr`, `use_json`, `debug`.
pub fn init_daemon(debug: bool, logging: &LoggingSection) -> Result<()> {
    let file = logging.path().map(LogFile::open).transpose()?;
    let mut outputs = Vec::new();
    if let Some(file) = &file {
        let _ = LOG_FILE.set(file.clone());
        outputs.push(output(logging.use_json, file.clone(), false));
    }
    if file.is_none() || logging.use_stderr {
        let ansi = !logging.use_json && std::io::stderr().is_terminal();
        outputs.push(output(logging.use_json, std::io::stderr, ansi));
    }
    let _ = tracing_subscriber::registry()
        .with(outputs)
        .with(filter(debug))
        .try_init();
    Ok(())
}

/// One destination's formatting: plain text, or JSON with the fields of the current span and
/// of every span it is in (`request.id`, `notification.id`, …).
fn output<W>(json: bool, writer: W, ansi: bool) -> Box<dyn Layer<Registry> + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false);
    if json {
        layer
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed()
    } else {
        layer.with_ansi(ansi).boxed()
    }
}

/// Opens the log file anew (after logrotate moved it away); logs to stderr need nothing.
pub fn reopen() {
    let Some(file) = LOG_FILE.get() else {
        return;
    };
    let shown = file.path.display().to_string();
    match file.reopen() {
        Ok(()) => tracing::info!(file.path = %shown, "log file reopened"),
        Err(e) => tracing::error!(
            file.path = %shown,
            error = format!("{e:#}"),
            "reopening the log file failed; logging on to the file already open"
        ),
    }
}

/// A log file whose open file can be replaced while every writer keeps working.
#[derive(Debug, Clone)]
struct LogFile {
    path: PathBuf,
    file: Arc<RwLock<Arc<File>>>,
}

impl LogFile {
    fn open(path: PathBuf) -> Result<Self> {
        let file = open_append(&path)?;
        Ok(Self {
            path,
            file: Arc::new(RwLock::new(Arc::new(file))),
        })
    }

    fn reopen(&self) -> Result<()> {
        let file = open_append(&self.path)?;
        *self.file.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(file);
        Ok(())
    }
}

fn open_append(path: &Path) -> Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the log file {}", path.display()))
}

/// One event's writer: the file open when the event began.
#[derive(Debug)]
struct LogWriter(Arc<File>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (&*self.0).write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&*self.0).flush()
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(
            self.file
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

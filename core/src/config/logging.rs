//! Where and how the long-running commands log (oslo.log's option names, shared by the server
//! and the agents; `[DEFAULT] debug` is with the other `[DEFAULT]` options).

use std::path::{Path, PathBuf};

use crate::config_section;

config_section! {
    /// Logging (oslo.log's options).
    pub struct LoggingSection in "DEFAULT" {
        /// File to log to instead of stderr, in `log_dir` when that is set (else relative to the
        /// working directory), opened for appending; SIGHUP reopens it (for logrotate). Empty:
        /// stderr (journald).
        pub log_file: Option<String> = "", aliases = ["logfile"];
        /// Directory of `log_file` (only used with `log_file`).
        pub log_dir: Option<String> = "", aliases = ["logdir"];
        /// Log one JSON object a line (the event's fields, its message, level and time, and
        /// the fields of the spans it is in) instead of plain text, wherever logs go.
        pub use_json: bool = "false";
        /// With `log_file`, log to stderr too (without `log_file` logs go to stderr anyway).
        pub use_stderr: bool = "false";
    }
}

impl LoggingSection {
    /// The log file, if one is configured.
    pub fn path(&self) -> Option<PathBuf> {
        let file = self.log_file.as_deref()?;
        Some(match &self.log_dir {
            Some(dir) => Path::new(dir).join(file),
            None => PathBuf::from(file),
        })
    }
}

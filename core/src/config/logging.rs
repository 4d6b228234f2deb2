//! Where the long-running commands log (oslo.log's option names, shared by the server and the
//! agents).

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

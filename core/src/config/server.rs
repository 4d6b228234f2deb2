//! How the API's HTTP server treats its connections, and how long a shutdown may take.

use super::values::Seconds;
use crate::config_section;

config_section! {
    /// The API's connections (Lifeboat's options; Masakari leaves them to eventlet).
    pub struct ApiServerSection in "DEFAULT" {
        /// Seconds a new connection has to send its first request's complete headers; a client
        /// that sends nothing, or half its headers, is disconnected after this.
        pub api_header_timeout: Seconds = "10";
        /// Seconds a request's body may take to arrive once its headers have (400 after that).
        pub api_body_timeout: Seconds = "30";
        /// Seconds a kept-alive connection may wait, after an answer, until its next request's
        /// headers are complete; it is closed after that.
        pub api_keep_alive_timeout: Seconds = "60";
        /// Most client connections open at once; further clients wait in the listen queue
        /// until one closes. Lowered to fit the open-file limit (less a reserve for the
        /// database pool and the service's own files), so that accepting never fails for want
        /// of descriptors.
        pub api_max_connections: u32 = "1000";
        /// Seconds a shutdown (SIGTERM, SIGINT) waits for requests and recoveries in flight
        /// before closing the rest (oslo.service's option; 0: close at once). A second signal
        /// exits at once.
        pub graceful_shutdown_timeout: Seconds = "30";
    }
}

impl ApiServerSection {
    /// A zero timeout would close every connection before its first byte.
    pub(super) fn validate(&self) -> Vec<super::ConfigError> {
        let mut errors = Vec::new();
        for (name, value) in [
            ("api_header_timeout", self.api_header_timeout),
            ("api_body_timeout", self.api_body_timeout),
            ("api_keep_alive_timeout", self.api_keep_alive_timeout),
        ] {
            if value.0.is_zero() {
                errors.push(super::ConfigError::Inconsistent(format!(
                    "[DEFAULT] {name} must be more than 0 seconds"
                )));
            }
        }
        if self.api_max_connections == 0 {
            errors.push(super::ConfigError::Inconsistent(
                "[DEFAULT] api_max_connections must be at least 1".to_owned(),
            ));
        }
        errors
    }
}

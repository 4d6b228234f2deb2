//! Configuration: one oslo-style INI file (or several, later ones winning), then environment
//! overrides `LIFEBOAT__<SECTION>__<OPTION>`. Masakari's section and option names are accepted
//! as they are, so a masakari.conf works unchanged; options Lifeboat does not know are reported
//! as warnings, never refused.
//!
//! Every option is declared once with `config_section!`: that declaration is the struct field,
//! its default, its documentation in `lifeboat manage config sample` and its parser.

mod choices;
mod database;
mod ini;
mod logging;
mod section;
mod sections;
mod server;
mod values;

use std::path::{Path, PathBuf};

pub use choices::{Fencing, InstanceAction, Placement};
pub use database::{DatabaseKind, DatabaseUrl, UnsupportedDatabase};
pub use ini::{IniSyntaxError, Origin, RawConfig, RawValue};
pub use logging::LoggingSection;
pub use section::{OptionSpec, SectionSpec};
pub use sections::{
    DatabaseSection, DefaultSection, EngineSection, EngineTimingSection, FencingSection,
    HealthcheckSection, HostFailureSection, InstanceFailureSection, KeystoneAuthtokenSection,
    NovaSection, OsloMiddlewareSection, OsloPolicySection, ProcessFailureSection,
    RecoveryFlowsSection,
};
pub use server::ApiServerSection;
pub use values::{AuthStrategy, OptionValue, ParseOptionError, Seconds, Secret};

/// Prefix of environment overrides: `LIFEBOAT__DATABASE__CONNECTION=...`.
pub const ENV_PREFIX: &str = "LIFEBOAT__";

/// A problem with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A config file could not be read.
    #[error("reading config file {path} failed: {reason}")]
    ReadFile {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// A config file is not INI.
    #[error(transparent)]
    Syntax(#[from] IniSyntaxError),
    /// A value does not parse.
    #[error("[{section}] {option} ({origin}): {reason}")]
    InvalidValue {
        /// Section.
        section: String,
        /// Option.
        option: String,
        /// Where the value was written.
        origin: String,
        /// Why it does not parse (secrets are never quoted).
        reason: String,
    },
    /// Options that make no sense together.
    #[error("{0}")]
    Inconsistent(String),
}

/// Parses one option, falling back to its default (and recording the error) if it is bad.
pub fn read_option<T: OptionValue>(
    raw: &RawConfig,
    section: &str,
    name: &str,
    aliases: &[&str],
    default: &str,
    errors: &mut Vec<ConfigError>,
) -> T {
    let written = std::iter::once(name)
        .chain(aliases.iter().copied())
        .find_map(|key| raw.get(section, key));
    if let Some(value) = written {
        match T::parse_option(&value.text) {
            Ok(v) => return v,
            Err(reason) => errors.push(ConfigError::InvalidValue {
                section: section.to_owned(),
                option: name.to_owned(),
                origin: value.origin.to_string(),
                reason: if T::SECRET {
                    "invalid secret value".to_owned()
                } else {
                    reason.to_string()
                },
            }),
        }
    }
    match T::parse_option(default) {
        Ok(v) => v,
        Err(reason) => {
            // Only reachable if a declared default is wrong; a unit test parses them all.
            errors.push(ConfigError::InvalidValue {
                section: section.to_owned(),
                option: name.to_owned(),
                origin: "built-in default".to_owned(),
                reason: reason.to_string(),
            });
            T::parse_option("").unwrap_or_else(|_| unreachable_default(name))
        }
    }
}

#[expect(
    clippy::panic,
    reason = "a built-in default that does not parse is a programming error caught by tests"
)]
fn unreachable_default<T>(name: &str) -> T {
    panic!("the built-in default of option {name} does not parse")
}

/// Everything Lifeboat's server reads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// `[DEFAULT]`.
    pub default: DefaultSection,
    /// The API's connections and the shutdown grace, in `[DEFAULT]`.
    pub api_server: ApiServerSection,
    /// Where to log, in `[DEFAULT]`.
    pub logging: LoggingSection,
    /// `[database]`.
    pub database: DatabaseSection,
    /// `[keystone_authtoken]`.
    pub keystone_authtoken: KeystoneAuthtokenSection,
    /// `[oslo_policy]`.
    pub oslo_policy: OsloPolicySection,
    /// `[oslo_middleware]`.
    pub oslo_middleware: OsloMiddlewareSection,
    /// `[healthcheck]`.
    pub healthcheck: HealthcheckSection,
    /// `[nova]`.
    pub nova: NovaSection,
    /// Engine timings in `[DEFAULT]`.
    pub engine_timing: EngineTimingSection,
    /// `[host_failure]`.
    pub host_failure: HostFailureSection,
    /// `[instance_failure]`.
    pub instance_failure: InstanceFailureSection,
    /// `[process_failure]`.
    pub process_failure: ProcessFailureSection,
    /// `[engine]`.
    pub engine: EngineSection,
    /// `[taskflow_driver_recovery_flows]`.
    pub recovery_flows: RecoveryFlowsSection,
    /// `[fencing]`.
    pub fencing: FencingSection,
    /// The directory of the first config file (relative paths in options resolve against it).
    pub config_dir: Option<PathBuf>,
}

/// A loaded configuration and what was noticed while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Options that were ignored (unknown names), to be logged once tracing is up.
    pub warnings: Vec<String>,
}

/// Sections of options Masakari or oslo libraries read that Lifeboat deliberately ignores;
/// their options produce one summary warning rather than one per key.
const FOREIGN_SECTIONS: &[&str] = &[
    "oslo_messaging_notifications",
    "oslo_messaging_rabbit",
    "oslo_concurrency",
    "coordination",
    "cors",
    "wsgi",
    "osapi_v1",
    "taskflow",
];

impl Config {
    /// Every section's documentation, in sample-file order.
    pub const SECTIONS: &'static [SectionSpec] = &[
        DefaultSection::SPEC,
        ApiServerSection::SPEC,
        LoggingSection::SPEC,
        DatabaseSection::SPEC,
        KeystoneAuthtokenSection::SPEC,
        OsloPolicySection::SPEC,
        OsloMiddlewareSection::SPEC,
        HealthcheckSection::SPEC,
        NovaSection::SPEC,
        EngineTimingSection::SPEC,
        HostFailureSection::SPEC,
        InstanceFailureSection::SPEC,
        ProcessFailureSection::SPEC,
        EngineSection::SPEC,
        RecoveryFlowsSection::SPEC,
        FencingSection::SPEC,
    ];

    /// Reads `files` in order (later ones override earlier ones), then environment overrides
    /// from `env`, and validates the result.
    pub fn load(
        files: &[PathBuf],
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, Vec<ConfigError>> {
        Self::load_onto(RawConfig::default(), files, env)
    }

    /// As [`Config::load`], on top of `base` values (which files and environment override).
    pub fn load_onto(
        base: RawConfig,
        files: &[PathBuf],
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Loaded, Vec<ConfigError>> {
        let raw = read_sources_onto(base, files, env, Self::SECTIONS).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let mut config = Self::from_raw(&raw, &mut errors);
        config.config_dir = files
            .first()
            .and_then(|f| f.parent())
            .map(Path::to_path_buf);
        errors.extend(config.validate());
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Loaded {
            warnings: unknown_option_warnings(&raw, Self::SECTIONS),
            config,
        })
    }

    /// Builds the typed configuration from raw values.
    pub fn from_raw(raw: &RawConfig, errors: &mut Vec<ConfigError>) -> Self {
        Self {
            default: DefaultSection::from_raw(raw, errors),
            api_server: ApiServerSection::from_raw(raw, errors),
            logging: LoggingSection::from_raw(raw, errors),
            database: DatabaseSection::from_raw(raw, errors),
            keystone_authtoken: KeystoneAuthtokenSection::from_raw(raw, errors),
            oslo_policy: OsloPolicySection::from_raw(raw, errors),
            oslo_middleware: OsloMiddlewareSection::from_raw(raw, errors),
            healthcheck: HealthcheckSection::from_raw(raw, errors),
            nova: NovaSection::from_raw(raw, errors),
            engine_timing: EngineTimingSection::from_raw(raw, errors),
            host_failure: HostFailureSection::from_raw(raw, errors),
            instance_failure: InstanceFailureSection::from_raw(raw, errors),
            process_failure: ProcessFailureSection::from_raw(raw, errors),
            engine: EngineSection::from_raw(raw, errors),
            recovery_flows: RecoveryFlowsSection::from_raw(raw, errors),
            fencing: FencingSection::from_raw(raw, errors),
            config_dir: None,
        }
    }

    /// Cross-option checks, all reported at once.
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if let Err(e) = self.database_url() {
            errors.push(ConfigError::Inconsistent(format!(
                "[database] connection: {e}"
            )));
        }
        if self.default.auth_strategy == AuthStrategy::Keystone {
            let ks = &self.keystone_authtoken;
            let missing: Vec<&str> = [
                ("auth_url", ks.auth_url.is_none()),
                ("username", ks.username.is_none()),
                ("password", ks.password.is_none()),
                ("project_name", ks.project_name.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            if !missing.is_empty() {
                errors.push(ConfigError::Inconsistent(format!(
                    "[DEFAULT] auth_strategy = keystone needs [keystone_authtoken] {} (or set \
                     auth_strategy = noauth2 for a trial without authentication)",
                    missing.join(", ")
                )));
            }
            if ks.auth_type != "password" {
                errors.push(ConfigError::Inconsistent(format!(
                    "[keystone_authtoken] auth_type = {}: only 'password' is supported",
                    ks.auth_type
                )));
            }
        }
        errors.extend(self.api_server.validate());
        if self.default.osapi_max_limit == 0 {
            errors.push(ConfigError::Inconsistent(
                "[DEFAULT] osapi_max_limit must be at least 1".to_owned(),
            ));
        }
        errors
    }

    /// The database to use: `[database] connection`, or SQLite under `state_path`.
    pub fn database_url(&self) -> Result<DatabaseUrl, UnsupportedDatabase> {
        match &self.database.connection {
            Some(url) => DatabaseUrl::parse(url.expose()),
            None => Ok(DatabaseUrl::sqlite_from_path(
                &Path::new(&self.default.state_path)
                    .join("lifeboat.sqlite")
                    .display()
                    .to_string(),
            )),
        }
    }

    /// Resolves a path option: absolute as is, relative against the config file's directory.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        match (&self.config_dir, p.is_absolute()) {
            (Some(dir), false) => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// The sample configuration file: every option, commented out, with its default.
    pub fn sample() -> String {
        render_sample(Self::SECTIONS)
    }
}

/// Reads config files in order, then environment overrides: the raw values every typed
/// configuration (server, monitors, resource manager) is built from.
pub fn read_sources(
    files: &[PathBuf],
    env: impl IntoIterator<Item = (String, String)>,
    sections: &[SectionSpec],
) -> Result<RawConfig, ConfigError> {
    read_sources_onto(RawConfig::default(), files, env, sections)
}

/// As [`read_sources`], on top of `raw`.
pub fn read_sources_onto(
    mut raw: RawConfig,
    files: &[PathBuf],
    env: impl IntoIterator<Item = (String, String)>,
    sections: &[SectionSpec],
) -> Result<RawConfig, ConfigError> {
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::ReadFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        raw.merge_ini(path, &text)?;
    }
    apply_env(&mut raw, env, sections);
    Ok(raw)
}

/// Applies `LIFEBOAT__SECTION__OPTION=value` overrides; the section is matched
/// case-insensitively against the known ones.
pub fn apply_env(
    raw: &mut RawConfig,
    env: impl IntoIterator<Item = (String, String)>,
    sections: &[SectionSpec],
) {
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((section, option)) = rest.split_once("__") else {
            continue;
        };
        let section = sections
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(section))
            .map_or_else(|| section.to_ascii_lowercase(), |s| s.name.to_owned());
        raw.set(
            &section,
            option,
            RawValue {
                text: value,
                origin: Origin::Env(name.clone()),
            },
        );
    }
}

/// One warning per option nobody reads.
pub fn unknown_option_warnings(raw: &RawConfig, sections: &[SectionSpec]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut foreign: Vec<&str> = Vec::new();
    for (section, key, value) in raw.entries() {
        let known = sections.iter().any(|s| {
            s.name == section
                && s.options
                    .iter()
                    .any(|o| o.name == key || o.aliases.contains(&key))
        });
        if known {
            continue;
        }
        if FOREIGN_SECTIONS.contains(&section) {
            if !foreign.contains(&section) {
                foreign.push(section);
            }
            continue;
        }
        warnings.push(format!(
            "unknown option [{section}] {key} ({}) is ignored",
            value.origin
        ));
    }
    if !foreign.is_empty() {
        warnings.push(format!(
            "sections used by Masakari but not by Lifeboat are ignored: [{}]",
            foreign.join("], [")
        ));
    }
    warnings
}

/// Renders sections as a commented sample file.
pub fn render_sample(sections: &[SectionSpec]) -> String {
    let mut out = String::from(
        "# Lifeboat configuration sample, generated by `lifeboat manage config sample`.\n\
         # Every option is shown commented out with its default. Masakari's option names are\n\
         # accepted as they are; environment variables LIFEBOAT__<SECTION>__<OPTION> override\n\
         # the files.\n",
    );
    for section in sections {
        out.push('\n');
        out.push_str(&format!("[{}]\n", section.name));
        for line in section.help.lines() {
            out.push_str(&format!("# {}\n", line.trim()).replace("# \n", "#\n"));
        }
        for option in section.options {
            out.push('\n');
            for line in option.help.lines() {
                let line = line.trim();
                if line.is_empty() {
                    out.push_str("#\n");
                } else {
                    out.push_str(&format!("# {line}\n"));
                }
            }
            if !option.aliases.is_empty() {
                out.push_str(&format!(
                    "# Also accepted as: {}\n",
                    option.aliases.join(", ")
                ));
            }
            if option.secret {
                out.push_str("# Secret: never logged.\n");
            }
            out.push_str(&format!("#{} = {}\n", option.name, option.default));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Loaded, Vec<ConfigError>> {
        let dir = std::env::temp_dir().join(format!("lifeboat-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.conf");
        std::fs::write(&path, text).unwrap();
        let result = Config::load(&[path], Vec::new());
        std::fs::remove_dir_all(&dir).unwrap();
        result
    }

    #[test]
    fn every_default_parses() {
        let mut errors = Vec::new();
        let config = Config::from_raw(&RawConfig::default(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(config.default.masakari_api_listen_port, 15868);
        assert_eq!(
            config
                .default
                .duplicate_notification_detection_interval
                .0
                .as_secs(),
            180
        );
    }

    #[test]
    fn a_masakari_conf_loads_as_is() {
        let loaded = load_text(
            "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen = 127.0.0.1\nmasakari_api_listen_port = 25868\n\
             transport_url = rabbit://guest:guest@127.0.0.1:5672/\n\
             [database]\nconnection = mysql+pymysql://masakari:pw@127.0.0.1/masakari?charset=utf8\n\
             [taskflow]\nconnection = sqlite://\n[oslo_messaging_notifications]\ndriver = noop\n",
        )
        .unwrap();
        let c = &loaded.config;
        assert_eq!(c.default.auth_strategy, AuthStrategy::Noauth2);
        assert_eq!(c.default.masakari_api_listen, "127.0.0.1");
        assert_eq!(c.default.masakari_api_listen_port, 25868);
        assert_eq!(c.database_url().unwrap().kind(), DatabaseKind::MySql);
        assert!(
            loaded.warnings.iter().any(|w| w.contains("transport_url")),
            "{:?}",
            loaded.warnings
        );
        assert!(
            loaded.warnings.iter().any(|w| w.contains("[taskflow]")),
            "{:?}",
            loaded.warnings
        );
        assert!(!loaded.warnings.iter().any(|w| w.contains("pw")));
    }

    #[test]
    fn later_files_and_environment_override_earlier_ones() {
        let dir = std::env::temp_dir().join(format!("lifeboat-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = dir.join("a.conf");
        let second = dir.join("b.conf");
        std::fs::write(&first, "[DEFAULT]\nauth_strategy = noauth2\nmasakari_api_listen_port = 1\nosapi_max_limit = 5\n").unwrap();
        std::fs::write(&second, "[DEFAULT]\nmasakari_api_listen_port = 2\n").unwrap();
        let env = vec![(
            "LIFEBOAT__DEFAULT__OSAPI_MAX_LIMIT".to_owned(),
            "7".to_owned(),
        )];
        let loaded = Config::load(&[first, second], env).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(loaded.config.default.masakari_api_listen_port, 2);
        assert_eq!(loaded.config.default.osapi_max_limit, 7);
        assert_eq!(loaded.config.config_dir.as_deref(), Some(dir.as_path()));
    }

    #[test]
    fn bad_values_are_all_reported_and_secrets_are_not_quoted() {
        let errors =
            load_text("[DEFAULT]\nauth_strategy = sometimes\nmasakari_api_listen_port = 99999\n")
                .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|e| e.contains("auth_strategy") && e.contains("test.conf:2")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|e| e.contains("masakari_api_listen_port")),
            "{text:?}"
        );
    }

    #[test]
    fn keystone_without_credentials_is_refused_with_the_missing_options() {
        let errors = load_text("[keystone_authtoken]\nusername = masakari\npassword = hunter2\n")
            .unwrap_err();
        let text = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            text.contains("auth_url") && text.contains("project_name"),
            "{text}"
        );
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn the_sample_lists_every_option_with_its_default() {
        let sample = Config::sample();
        for section in Config::SECTIONS {
            assert!(sample.contains(&format!("[{}]", section.name)));
            for option in section.options {
                assert!(
                    sample.contains(&format!("#{} = {}\n", option.name, option.default)),
                    "{}",
                    option.name
                );
            }
        }
        // Uncommenting every option gives back the defaults.
        let uncommented: String = sample
            .lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if rest.contains(" = ") && !rest.starts_with(' ') => rest.to_owned(),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut raw = RawConfig::default();
        raw.merge_ini(Path::new("sample"), &uncommented).unwrap();
        let mut errors = Vec::new();
        assert_eq!(Config::from_raw(&raw, &mut errors), Config::default());
        assert!(errors.is_empty(), "{errors:?}");
    }
}

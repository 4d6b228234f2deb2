//! Command line: `lifeboat [--config-file F]… <command>`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Lifeboat: keeps OpenStack instances alive when their compute node fails (a drop-in
/// replacement for OpenStack Masakari).
#[derive(Debug, Parser)]
#[command(name = "lifeboat", version, about)]
pub struct Cli {
    /// Configuration sources.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the configuration comes from (as OpenStack services take it).
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// An INI file (masakari.conf style); repeat it, later files override earlier ones.
    #[arg(long = "config-file", global = true, value_name = "PATH")]
    pub config_file: Vec<PathBuf>,
    /// A directory whose `*.conf` files are read, in name order, after the config files.
    #[arg(long = "config-dir", global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API and the recovery engine in one process. Without any configuration it
    /// starts a local trial instance: no authentication, 127.0.0.1:15868, SQLite in
    /// ./lifeboat.sqlite, created and migrated on the spot.
    Serve(ListenArgs),
    /// Run the API only (the database must be migrated with `manage db sync`).
    Api(ListenArgs),
    /// Run the recovery engine only (as many as you like, on one database).
    Engine,
    /// Run the host monitor (as masakari-hostmonitor): reports failed compute hosts.
    Hostmonitor,
    /// Run the process monitor (as masakari-processmonitor): restarts and reports processes.
    Processmonitor,
    /// Run the instance monitor (as masakari-instancemonitor): reports libvirt domain events.
    Instancemonitor,
    /// Run the host, process and instance monitors in one process.
    Monitors,
    /// Test a fence device by its parameters, before configuring it (as fence agents are
    /// run by hand): exit 0 on success, 2 for status "off", 1 on failure.
    Fence {
        /// The device kind.
        #[command(subcommand)]
        command: FenceCommand,
    },
    /// Cluster resource manager (Pacemaker-compatible): simulate what the scheduler does
    /// with a cluster's configuration and status.
    Crm {
        /// What to do.
        #[command(subcommand)]
        command: CrmCommand,
    },
    /// One screen of what the API knows: segments and their hosts, recoveries in progress with
    /// each instance, recent failures, the engine and the storm guard.
    Status(StatusArgs),
    /// Administration: database, configuration and fencing.
    Manage {
        /// What to manage.
        #[command(subcommand)]
        command: ManageCommand,
    },
}

impl Command {
    /// A monitor agent (runs on every compute node).
    pub fn is_agent(&self) -> bool {
        matches!(
            self,
            Self::Hostmonitor | Self::Processmonitor | Self::Instancemonitor | Self::Monitors
        )
    }

    /// A long-running process: a service or an agent.
    pub fn is_daemon(&self) -> bool {
        self.is_agent() || matches!(self, Self::Serve(_) | Self::Api(_) | Self::Engine)
    }
}

/// Where the API listens, when not where the configuration says.
#[derive(Debug, Args, Clone, Default)]
pub struct ListenArgs {
    /// Listen on this address and port instead of `[DEFAULT] masakari_api_listen` and
    /// `masakari_api_listen_port` (also for the trial instance), e.g. `127.0.0.1:8080` or
    /// `[::1]:8080`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
}

/// `lifeboat status`.
#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// The API to ask, e.g. `http://ha.example:15868` (default: the address the configuration
    /// file's `masakari_api_listen` and `masakari_api_listen_port` name; without one, the trial
    /// instance's `http://127.0.0.1:15868`).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// A Keystone token to send (default: none with `auth_strategy = noauth2`, else one for the
    /// configuration's `[keystone_authtoken]` user).
    #[arg(
        long,
        env = "OS_AUTH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Refresh in place every `--interval` seconds until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between refreshes with `--watch`.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub interval: f64,
    /// How many recent failures to show.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub failures: u32,
    /// `text` (one screen) or `json` (one object; one a line with `--watch`).
    #[arg(
        long = "output-as",
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: StatusFormat,
}

/// How `lifeboat status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// A screen for people.
    Text,
    /// JSON for tools.
    Json,
}

/// `lifeboat manage …`.
#[derive(Debug, Subcommand)]
pub enum ManageCommand {
    /// The database.
    Db {
        /// What to do.
        #[command(subcommand)]
        command: DbCommand,
    },
    /// The configuration.
    Config {
        /// What to do.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The API's policy rules.
    Policy {
        /// What to do.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Read or switch a configured host's power through its fence topology (exit 0 on
    /// success, 2 for status "off", 1 on failure).
    Fence {
        /// The host (its name in Lifeboat, the Nova compute host).
        host: String,
        /// What to do.
        #[arg(value_enum)]
        action: HostPowerAction,
    },
}

/// `lifeboat manage fence HOST …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HostPowerAction {
    /// Read the power state.
    Status,
    /// Power off (verified).
    Off,
    /// Power on.
    On,
}

/// `lifeboat fence …`.
#[derive(Debug, Subcommand)]
pub enum FenceCommand {
    /// Lifeboat's own IPMI v2.0 (RMCP+) client.
    Ipmi(IpmiArgs),
}

/// The power actions of `lifeboat fence ipmi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DevicePowerAction {
    /// Read the power state.
    Status,
    /// Power off (verified).
    Off,
    /// Power on (verified).
    On,
    /// Power off (verified), then on.
    Reboot,
}

/// `lifeboat fence ipmi`.
#[derive(Debug, Args)]
pub struct IpmiArgs {
    /// The BMC: `HOST`, `HOST:PORT`, `[V6]:PORT` (port 623 by default).
    #[arg(long)]
    pub address: String,
    /// The BMC user.
    #[arg(long)]
    pub username: String,
    /// A file holding the password (`-` reads it from standard input); never a command-line
    /// argument.
    #[arg(long, value_name = "FILE")]
    pub password_file: PathBuf,
    /// What to do.
    #[arg(long, value_enum)]
    pub action: DevicePowerAction,
    /// Cipher suite: `auto` (17 where offered, else 3), `3` or `17`.
    #[arg(long, default_value = "auto")]
    pub cipher: String,
    /// Privilege to work at: `operator` or `administrator`.
    #[arg(long, default_value = "administrator")]
    pub privilege: String,
    /// Seconds one IPMI request may take with its retransmissions.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
    /// Seconds a new power state may take to read back.
    #[arg(long, default_value_t = 20.0)]
    pub power_timeout: f64,
}

/// `lifeboat manage db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create or upgrade the schema to this release's version.
    Sync,
    /// Print the schema version of the database.
    Version,
    /// Copy a Masakari database's segments, hosts, notifications and vmoves (ids, uuids,
    /// timestamps, soft-deleted rows) into this one, which `db sync` must have created. The
    /// source is only read; the copy is one transaction (all or nothing).
    ImportMasakari {
        /// Masakari's database, as its masakari.conf `[database] connection` names it
        /// (`mysql+pymysql://user:pass@host/masakari`, `postgresql://…`, `sqlite:///…`).
        #[arg(long, value_name = "URL")]
        from: String,
        /// Import even though this database already holds data (taken ids or uuids still
        /// fail the whole import).
        #[arg(long)]
        into_non_empty: bool,
    },
}

/// `lifeboat manage policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print every policy rule with its default, what it guards and the calls it is checked
    /// on, all commented out (as oslopolicy-sample-generator writes a sample policy file).
    Sample,
}

/// `lifeboat manage config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every option with its default and documentation.
    Sample {
        /// The monitor agents' options (masakarimonitors.conf) instead of the server's.
        #[arg(long)]
        monitors: bool,
    },
    /// Load and validate the configuration; report unknown options.
    Check,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn config_files_repeat_before_or_after_the_subcommand() {
        for args in [
            vec![
                "lifeboat",
                "--config-file",
                "a.conf",
                "--config-file",
                "b.conf",
                "serve",
            ],
            vec![
                "lifeboat",
                "serve",
                "--config-file",
                "a.conf",
                "--config-file",
                "b.conf",
            ],
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            assert_eq!(
                cli.config.config_file,
                vec![PathBuf::from("a.conf"), PathBuf::from("b.conf")],
                "{args:?}"
            );
            assert!(matches!(cli.command, Command::Serve(_)));
        }
    }

    #[test]
    fn listen_takes_an_address_and_port_and_names_itself_when_it_is_not_one() {
        let cli = Cli::try_parse_from(["lifeboat", "serve", "--listen", "[::1]:8080"]).unwrap();
        let Command::Serve(listen) = cli.command else {
            panic!("not serve: {:?}", cli.command);
        };
        assert_eq!(listen.listen, Some("[::1]:8080".parse().unwrap()));
        let error = Cli::try_parse_from(["lifeboat", "api", "--listen", "localhost"]).unwrap_err();
        assert!(error.to_string().contains("--listen"), "{error}");
    }
}

/// `lifeboat crm …`.
#[derive(Debug, Subcommand)]
pub enum CrmCommand {
    /// Run the scheduler on a CIB and print the current status, the transition summary and
    /// the revised status, in the format of Pacemaker 2.1.5's `crm_simulate --simulate`.
    Simulate(CrmSimulateArgs),
    /// Say in sentences why a resource is (or will be) where it is, or why it is stopped:
    /// the winning and losing nodes with their scores, and each constraint, stickiness,
    /// fail count and node state that contributed.
    Explain {
        /// The cluster description.
        #[command(flatten)]
        input: CrmInput,
        /// The resource (a primitive, group or clone id; a clone instance as `rsc:N`).
        resource: String,
    },
    /// Check a cluster description as Pacemaker's `crm_verify --xml-file` does: print nothing
    /// and exit 0 when it is usable, else name each element, id and attribute at fault and
    /// exit 1.
    Verify {
        /// The cluster description.
        #[command(flatten)]
        input: CrmInput,
    },
    /// Cluster descriptions: convert between the CIB and the YAML format.
    Config {
        /// What to do.
        #[command(subcommand)]
        command: CrmConfigCommand,
    },
}

/// `lifeboat crm config …`.
#[derive(Debug, Subcommand)]
pub enum CrmConfigCommand {
    /// Read a cluster description (CIB XML or Lifeboat YAML, told apart by content), check it
    /// as `crm verify` does, and print it in the other format (or the same one, normalised).
    Export {
        /// The description to read.
        file: PathBuf,
        /// The format to print.
        #[arg(long = "as", value_name = "FORMAT")]
        format: CrmFormat,
    },
}

/// A cluster description's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrmFormat {
    /// Pacemaker's CIB XML (passes `crm_verify --xml-file`).
    Xml,
    /// Lifeboat's YAML (docs/CRM-YAML.md).
    Yaml,
}

/// `lifeboat crm simulate`: the CIB, crm_simulate's injections and what to print.
#[derive(Debug, Args)]
pub struct CrmSimulateArgs {
    /// The CIB (a whole `<cib>`, as `cibadmin --query` prints it).
    #[arg(long = "xml-file", short = 'x', value_name = "PATH")]
    pub xml_file: PathBuf,
    /// Bring a node online first (repeatable).
    #[arg(long = "node-up", short = 'u', value_name = "NODE")]
    pub node_up: Vec<String>,
    /// Take a node offline cleanly first (repeatable).
    #[arg(long = "node-down", short = 'd', value_name = "NODE")]
    pub node_down: Vec<String>,
    /// Make a node fail first: it leaves the membership while expected up (repeatable).
    #[arg(long = "node-fail", short = 'f', value_name = "NODE")]
    pub node_fail: Vec<String>,
    /// Set whether the partition has quorum (true or false).
    #[arg(long = "quorum", short = 'q', value_name = "BOOL")]
    pub quorum: Option<String>,
    /// Add an operation result to a node's history first, as crm_simulate's --op-inject:
    /// RSC_OP_INTERVAL@NODE=RC, e.g. vip_monitor_10000@ctl1=7 (repeatable).
    #[arg(long = "op-inject", short = 'i', value_name = "OPSPEC")]
    pub op_inject: Vec<String>,
    /// Make an action fail when the transition runs, as crm_simulate's --op-fail:
    /// RSC_OP_INTERVAL@NODE=RC, e.g. vip_start_0@ctl2=1; the transition stops there and the
    /// revised status is what ran (repeatable).
    #[arg(long = "op-fail", short = 'F', value_name = "OPSPEC")]
    pub op_fail: Vec<String>,
    /// "Now" for the scheduler, in ISO 8601 (wins over the CIB's execution-date).
    #[arg(long = "set-datetime", short = 't', value_name = "DATETIME")]
    pub set_datetime: Option<String>,
    /// Print the allocation and promotion scores.
    #[arg(long = "show-scores", short = 's')]
    pub show_scores: bool,
    /// Write the ordered action graph as JSON (docs/CRM-GRAPH.md) to this file.
    #[arg(long = "save-graph", short = 'G', value_name = "FILE")]
    pub save_graph: Option<PathBuf>,
}

/// A cluster description: a CIB or Lifeboat's YAML.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct CrmInput {
    /// A CIB (a whole `<cib>`, as `cibadmin --query` prints it).
    #[arg(long = "xml-file", short = 'x', value_name = "PATH")]
    pub xml_file: Option<PathBuf>,
    /// A cluster in Lifeboat's YAML format (docs/CRM-YAML.md).
    #[arg(long = "yaml-file", value_name = "PATH")]
    pub yaml_file: Option<PathBuf>,
}

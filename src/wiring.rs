//! Builds the real implementations from the configuration: the only place that knows which
//! database, Keystone and Nova are in use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use lifeboat_api::{Authenticator, Dependencies, Policy, Settings};
use lifeboat_core::clock::SystemClock;
use lifeboat_core::compute::Compute;
use lifeboat_core::config::{
    AuthStrategy, Config, DatabaseKind, DatabaseUrl, Loaded, Origin, RawConfig, RawValue,
};
use lifeboat_core::fencing::{CredentialSealer, Fencer};
use lifeboat_core::store::Store;
use lifeboat_fence::{FenceSettings, KeySealer, TopologyFencer};
use lifeboat_metrics::{EngineMetrics, FenceMetrics, Metrics};
use lifeboat_openstack::{
    Credentials, KeystoneSession, KeystoneTokenValidator, NovaAuth, NovaClient,
};
use lifeboat_store::StoreOptions;

use crate::cli::ConfigArgs;

/// Values `serve` uses when it is given no configuration at all: a local trial instance.
const QUICKSTART: &[(&str, &str, &str)] = &[
    ("DEFAULT", "auth_strategy", "noauth2"),
    ("DEFAULT", "masakari_api_listen", "127.0.0.1"),
    ("database", "connection", "sqlite:///lifeboat.sqlite"),
];

/// The config files to read: `--config-file`s, then `--config-dir/*.conf` in name order.
pub fn config_files(args: &ConfigArgs) -> Result<Vec<PathBuf>> {
    let mut files = args.config_file.clone();
    if let Some(dir) = &args.config_dir {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading config directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Loads the configuration. With `quickstart` and no file or `LIFEBOAT__` variable at all, the
/// trial defaults apply (and the returned flag says so).
pub fn load_config(args: &ConfigArgs, quickstart: bool) -> Result<(Loaded, bool), Vec<String>> {
    let files = config_files(args).map_err(|e| vec![format!("{e:#}")])?;
    let env: Vec<(String, String)> = std::env::vars().collect();
    let bare = files.is_empty()
        && !env
            .iter()
            .any(|(k, _)| k.starts_with(lifeboat_core::config::ENV_PREFIX));
    let mut base = RawConfig::default();
    let trial = quickstart && bare;
    if trial {
        for (section, key, value) in QUICKSTART {
            base.set(
                section,
                key,
                RawValue {
                    text: (*value).to_owned(),
                    origin: Origin::Env("(built-in trial defaults)".to_owned()),
                },
            );
        }
    }
    Config::load_onto(base, &files, env)
        .map(|loaded| (loaded, trial))
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

/// Opens the database; SQLite is migrated on the spot when `migrate_sqlite`.
pub async fn open_store(config: &Config, migrate_sqlite: bool) -> Result<Arc<dyn Store>> {
    let url = config
        .database_url()
        .context("reading [database] connection")?;
    let options = StoreOptions {
        max_connections: config.database.max_pool_size,
        acquire_timeout: config.database.pool_timeout.0,
        migrate: migrate_sqlite && url.kind() == DatabaseKind::Sqlite,
    };
    tracing::info!(database = %shown(&url), "opening the database");
    lifeboat_store::open(&url, &options)
        .await
        .with_context(|| format!("opening the database {url}"))
}

/// The database as logs show it: for SQLite the file's absolute path, else the URL with the
/// password hidden.
pub fn database_shown(config: &Config) -> Result<String> {
    let url = config
        .database_url()
        .context("reading [database] connection")?;
    Ok(shown(&url))
}

fn shown(url: &DatabaseUrl) -> String {
    match url.sqlite_path() {
        Some(path) => {
            std::path::absolute(path).map_or_else(|_| path.to_owned(), |p| p.display().to_string())
        }
        None => url.to_string(),
    }
}

/// The HTTP client towards Keystone, Nova and webhooks (TLS settings and CA files applied).
pub fn http_client(config: &Config) -> Result<reqwest::Client> {
    let ks = &config.keystone_authtoken;
    lifeboat_openstack::http_client(
        ks.http_connect_timeout.0.max(config.nova.timeout.0),
        ks.insecure,
        ks.cafile.as_deref(),
    )
    .map_err(anyhow::Error::msg)
}

fn authenticator(config: &Config, http: &reqwest::Client) -> Result<Authenticator> {
    if config.default.auth_strategy == AuthStrategy::Noauth2 {
        tracing::warn!(
            "auth_strategy = noauth2: every caller is an administrator; use keystone in production"
        );
        return Ok(Authenticator::NoAuth);
    }
    let ks = &config.keystone_authtoken;
    // validate() has checked these are present for the keystone strategy.
    let Some(credentials) = service_credentials(config) else {
        anyhow::bail!("[keystone_authtoken] auth_url, username and password are required");
    };
    let auth_url = credentials.auth_url.clone();
    let session = KeystoneSession::new(http.clone(), credentials, Arc::new(SystemClock));
    let validator =
        KeystoneTokenValidator::new(session, http.clone(), &auth_url, ks.token_cache_time.0);
    Ok(Authenticator::Keystone {
        validator: Arc::new(validator),
        www_authenticate_uri: ks
            .www_authenticate_uri
            .clone()
            .or_else(|| Some(auth_url.clone())),
    })
}

/// The service user of `[keystone_authtoken]`, when its URL, name and password are set.
pub fn service_credentials(config: &Config) -> Option<Credentials> {
    let ks = &config.keystone_authtoken;
    let (Some(auth_url), Some(username), Some(password)) =
        (&ks.auth_url, &ks.username, &ks.password)
    else {
        return None;
    };
    Some(Credentials {
        auth_url: auth_url.clone(),
        username: username.clone(),
        password: password.clone(),
        user_domain_name: ks.user_domain_name.clone(),
        project_name: ks.project_name.clone(),
        project_domain_name: ks.project_domain_name.clone(),
        system_scope: None,
    })
}

/// Nova, when configured: Masakari's privileged user through Keystone, or a fixed endpoint.
pub fn compute(config: &Config, http: &reqwest::Client) -> Option<Arc<dyn Compute>> {
    let d = &config.default;
    let auth = match (
        &d.os_privileged_user_auth_url,
        &d.os_privileged_user_name,
        &d.os_privileged_user_password,
    ) {
        (Some(auth_url), Some(username), Some(password)) => NovaAuth::Keystone {
            session: Box::new(KeystoneSession::new(
                http.clone(),
                Credentials {
                    auth_url: auth_url.clone(),
                    username: username.clone(),
                    password: password.clone(),
                    user_domain_name: d.os_user_domain_name.clone(),
                    project_name: d.os_privileged_user_tenant.clone(),
                    project_domain_name: d.os_project_domain_name.clone(),
                    system_scope: d.os_system_scope.clone(),
                },
                Arc::new(SystemClock),
            )),
            catalog_info: d.nova_catalog_admin_info.clone(),
            region: d.os_region_name.clone(),
            endpoint_override: config.nova.endpoint_override.clone(),
        },
        _ => match &config.nova.endpoint_override {
            Some(endpoint) => NovaAuth::Static {
                endpoint: endpoint.clone(),
                token: config.nova.token.clone(),
            },
            None => return None,
        },
    };
    Some(Arc::new(NovaClient::new(http.clone(), auth)))
}

/// The sealer of fence device passwords, when `[fencing] credential_key_file` is set.
pub fn credential_sealer(config: &Config) -> Result<Option<Arc<dyn CredentialSealer>>> {
    let Some(file) = &config.fencing.credential_key_file else {
        return Ok(None);
    };
    let path = config.resolve_path(file);
    let sealer = KeySealer::from_file(&path).context("loading the fence credential key")?;
    Ok(Some(Arc::new(sealer)))
}

/// The fencer: each host's fence topology from the database. One per process, shared by the
/// API and the engine, so it runs one power operation per host at a time.
pub fn fencer(
    config: &Config,
    store: Arc<dyn Store>,
    metrics: FenceMetrics,
) -> Result<Arc<dyn Fencer>> {
    Ok(Arc::new(
        TopologyFencer::new(
            store,
            credential_sealer(config)?,
            FenceSettings::from_config(&config.fencing),
            Arc::new(SystemClock),
        )
        .with_metrics(metrics),
    ))
}

/// The API policy: the built-in rules with `[oslo_policy] policy_file` over them.
pub fn api_policy(config: &Config) -> Result<Policy> {
    let path = config.resolve_path(&config.oslo_policy.policy_file);
    Policy::load(&path).with_context(|| format!("loading policy {}", path.display()))
}

/// The workflow policies: the default one from the configuration, and the named ones of
/// `[engine] workflow_policy_file`.
pub fn workflow_policies(config: &Config) -> Result<lifeboat_engine::Policies> {
    let path = config.resolve_path(&config.engine.workflow_policy_file);
    lifeboat_engine::Policies::load(config, &path)
        .with_context(|| format!("loading workflow policies {}", path.display()))
}

/// The address the API listens on.
pub fn listen_address(config: &Config) -> Result<SocketAddr> {
    let (host, port) = (
        &config.default.masakari_api_listen,
        config.default.masakari_api_listen_port,
    );
    format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .with_context(|| format!("parsing listen address {host}"))
}

/// Everything `serve` builds from the configuration before it opens the database, each built
/// as `serve` builds it; the errors of those that fail (for `manage config check`).
pub fn check(config: &Config) -> Vec<anyhow::Error> {
    [
        api_policy(config).map(drop),
        workflow_policies(config).map(drop),
        credential_sealer(config).map(drop),
        http_client(config).map(drop),
        listen_address(config).map(drop),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect()
}

/// Everything the API needs.
pub async fn api_dependencies(
    config: &Config,
    store: Arc<dyn Store>,
    fencer: Arc<dyn Fencer>,
    wake: Option<Arc<tokio::sync::Notify>>,
    metrics: Metrics,
) -> Result<Dependencies> {
    let http = http_client(config)?;
    let policy = api_policy(config)?;
    Ok(Dependencies {
        fencer: Some(fencer),
        sealer: credential_sealer(config)?,
        store,
        clock: Arc::new(SystemClock),
        authenticator: authenticator(config, &http)?,
        policy,
        compute: compute(config, &http),
        settings: Settings {
            max_limit: config.default.osapi_max_limit,
            link_prefix: config.default.osapi_masakari_link_prefix.clone(),
            duplicate_window: config.default.duplicate_notification_detection_interval.0,
            max_request_body_size: config.oslo_middleware.max_request_body_size,
            healthcheck_disable_file: config
                .healthcheck
                .disable_by_file_path
                .as_ref()
                .map(PathBuf::from),
            healthcheck_detailed: config.healthcheck.detailed,
        },
        new_notification: wake,
        metrics,
    })
}

/// This engine's name in claims: `[engine] engine_id`, else `<host>-<pid>`.
fn engine_id(config: &Config) -> String {
    config.engine.engine_id.clone().unwrap_or_else(|| {
        let host = config
            .default
            .host
            .clone()
            .or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
            })
            .unwrap_or_else(|| "lifeboat".into());
        format!("{host}-{}", std::process::id())
    })
}

/// The recovery engine, ready to run.
pub fn engine(
    config: &Config,
    store: Arc<dyn Store>,
    fencer: Arc<dyn Fencer>,
    wake: Arc<tokio::sync::Notify>,
    metrics: EngineMetrics,
) -> Result<lifeboat_engine::Engine> {
    let http = http_client(config)?;
    let compute = compute(config, &http);
    if compute.is_none() {
        tracing::warn!("no Nova is configured: the engine cannot recover anything until one is");
    }
    let policies = workflow_policies(config)?;
    let deps = lifeboat_engine::EngineDeps {
        fencer: Some(fencer),
        store,
        compute,
        clock: Arc::new(SystemClock),
        policies: Arc::new(policies),
        webhook: Some(Arc::new(lifeboat_openstack::HttpWebhook::new(http))),
        metrics,
    };
    let e = &config.engine;
    let settings = lifeboat_engine::EngineSettings {
        engine_id: engine_id(config),
        lease: e.lease.0,
        poll_interval: e.poll_interval.0,
        max_concurrent: usize::try_from(e.max_concurrent_notifications.max(1)).unwrap_or(1),
        max_attempts: e.max_attempts.max(1),
        retry_backoff: e.retry_backoff.0,
    };
    Ok(lifeboat_engine::Engine::new(deps, settings, wake))
}

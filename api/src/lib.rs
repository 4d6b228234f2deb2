//! The Masakari v1 REST API, wire-compatible with python-masakariclient, openstacksdk and
//! masakari-monitors, as an axum [`Router`].
//!
//! Layout: `routes/` has one module per resource; `error` is the only place errors become
//! HTTP answers; `microversion`, `auth`, `policy` and `extract` are the request plumbing.
//! Handlers are thin: check policy, validate with `lifeboat_core::wire`, call the
//! [`Store`](lifeboat_core::store::Store), shape the answer. This crate depends on `core`'s
//! seams only; the binary hands it real implementations.

pub mod auth;
pub mod error;
pub mod extract;
pub mod listing;
mod metrics;
pub mod microversion;
pub mod policy;
pub mod policy_sample;
mod request_id;
mod routes;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use lifeboat_core::clock::Clock;
use lifeboat_core::compute::Compute;
use lifeboat_core::fencing::{CredentialSealer, Fencer};
use lifeboat_core::store::Store;
use tokio::sync::Notify;

pub use auth::Authenticator;
pub use metrics::openmetrics_response;
pub use policy::{Policy, PolicyHandle};
pub use request_id::RequestId;

/// Tunables of the API.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest page (`osapi_max_limit`).
    pub max_limit: u32,
    /// Base URL for links instead of the request's (`osapi_masakari_link_prefix`).
    pub link_prefix: Option<String>,
    /// Duplicate-notification window (`duplicate_notification_detection_interval`).
    pub duplicate_window: Duration,
    /// Largest request body (`[oslo_middleware] max_request_body_size`).
    pub max_request_body_size: usize,
    /// While this file exists `/healthcheck` answers 503.
    pub healthcheck_disable_file: Option<PathBuf>,
    /// Whether `/healthcheck` shows details.
    pub healthcheck_detailed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_limit: 1000,
            link_prefix: None,
            duplicate_window: Duration::from_secs(180),
            max_request_body_size: 114_688,
            healthcheck_disable_file: None,
            healthcheck_detailed: false,
        }
    }
}

/// Everything handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) authenticator: Authenticator,
    pub(crate) policy: PolicyHandle,
    pub(crate) compute: Option<Arc<dyn Compute>>,
    pub(crate) fencer: Option<Arc<dyn Fencer>>,
    pub(crate) sealer: Option<Arc<dyn CredentialSealer>>,
    pub(crate) settings: Settings,
    pub(crate) new_notification: Option<Arc<Notify>>,
    pub(crate) write_watch: routes::health::WriteWatch,
    pub(crate) metrics: lifeboat_metrics::Metrics,
    nova_absence_logged: AtomicBool,
}

/// What the API needs from the rest of Lifeboat.
#[derive(Debug)]
pub struct Dependencies {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Authentication.
    pub authenticator: Authenticator,
    /// Authorization rules.
    pub policy: Policy,
    /// Nova, to check host names (none: names are accepted as given).
    pub compute: Option<Arc<dyn Compute>>,
    /// Fencing, for power actions and fence-agent checks (none: power actions answer 503).
    pub fencer: Option<Arc<dyn Fencer>>,
    /// Seals fence device passwords (none: passwords are refused).
    pub sealer: Option<Arc<dyn CredentialSealer>>,
    /// Tunables.
    pub settings: Settings,
    /// Woken whenever a notification is recorded (how `serve` starts the engine at once
    /// instead of waiting for its next poll).
    pub new_notification: Option<Arc<Notify>>,
    /// The process's metrics: the API counts in them and serves them at `/metrics`.
    pub metrics: lifeboat_metrics::Metrics,
}

impl AppState {
    /// State for the router.
    pub fn new(d: Dependencies) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: d.store,
                clock: d.clock,
                authenticator: d.authenticator,
                policy: PolicyHandle::new(d.policy),
                compute: d.compute,
                fencer: d.fencer,
                sealer: d.sealer,
                settings: d.settings,
                new_notification: d.new_notification,
                write_watch: routes::health::WriteWatch::default(),
                metrics: d.metrics,
                nova_absence_logged: AtomicBool::new(false),
            }),
        }
    }

    /// The rules in force, to replace them while the API runs.
    pub fn policy(&self) -> PolicyHandle {
        self.inner.policy.clone()
    }

    /// Logs, once per process, that host names are not checked against Nova.
    pub(crate) fn note_nova_absent(&self) {
        if !self.inner.nova_absence_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "no Nova endpoint is configured: host names are accepted without checking Nova's \
                 compute services (set [DEFAULT] os_privileged_user_* or [nova] endpoint_override)"
            );
        }
    }
}

/// The v1 resource routes, mounted at `/v1` and `/v1/{project_id}`.
fn v1_routes() -> Router<AppState> {
    use routes::{extensions, fencing, hosts, notifications, segments, vmoves};
    Router::new()
        .route("/extensions", get(extensions::index))
        .route("/extensions/{alias}", get(extensions::show))
        .route("/segments", get(segments::index).post(segments::create))
        .route(
            "/segments/{segment_id}",
            get(segments::show)
                .put(segments::update)
                .delete(segments::delete),
        )
        .route("/segments/{segment_id}/action", post(routes::bad_method))
        .route(
            "/segments/{segment_id}/hosts",
            get(hosts::index).post(hosts::create),
        )
        .route(
            "/segments/{segment_id}/hosts/{host_id}",
            get(hosts::show).put(hosts::update).delete(hosts::delete),
        )
        .route(
            "/segments/{segment_id}/hosts/{host_id}/action",
            post(fencing::action),
        )
        .route(
            "/segments/{segment_id}/hosts/{host_id}/fence_devices",
            get(fencing::index).post(fencing::create),
        )
        .route(
            "/segments/{segment_id}/hosts/{host_id}/fence_devices/{device_id}",
            get(fencing::show)
                .put(fencing::update)
                .delete(fencing::delete),
        )
        .route(
            "/segments/{segment_id}/hosts/{host_id}/fence_history",
            get(fencing::history),
        )
        .route(
            "/notifications",
            get(notifications::index).post(notifications::create),
        )
        .route(
            "/notifications/{notification_id}",
            get(notifications::show)
                .put(routes::bad_method)
                .delete(routes::bad_method),
        )
        .route(
            "/notifications/{notification_id}/action",
            post(notifications::action),
        )
        .route(
            "/notifications/{notification_id}/vmoves",
            get(vmoves::index),
        )
        .route(
            "/notifications/{notification_id}/vmoves/{vmove_id}",
            get(vmoves::show),
        )
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let authenticate = from_fn_with_state(state.clone(), auth::layer);
    let plain = v1_routes()
        .route_layer(authenticate.clone())
        .route_layer(from_fn(microversion::layer));
    let with_project = v1_routes()
        .route_layer(from_fn(auth::project_layer))
        .route_layer(authenticate)
        .route_layer(from_fn(microversion::layer));
    Router::new()
        .route("/", get(routes::versions::root))
        .route("/v1", get(routes::versions::v1))
        .route("/v1/", get(routes::versions::v1))
        .route("/healthcheck", get(routes::health::check))
        .route("/metrics", get(metrics::scrape))
        .route("/openapi.json", get(routes::openapi::document))
        .nest("/v1", plain)
        .nest("/v1/{project_id}", with_project)
        .fallback(routes::fallback)
        .method_not_allowed_fallback(routes::bad_method)
        .route_layer(from_fn(metrics::mark_route))
        .layer(from_fn_with_state(state.clone(), metrics::count))
        .layer(from_fn_with_state(
            state.clone(),
            routes::health::watch_writes,
        ))
        .layer(from_fn(request_id::layer))
        .with_state(state)
}

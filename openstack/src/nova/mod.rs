//! The Nova client (compute API). Service and server calls use microversion 2.53 (service
//! UUIDs, `forced_down`, embedded flavors); evacuation uses 2.68, where an evacuated server
//! comes back in the state it had (2.95 and later would leave it SHUTOFF) and no `force` flag
//! can bypass the scheduler's checks of the target. Migration listings use 2.59 (paging and
//! `changes-since`).

mod bodies;

use chrono::{DateTime, Utc};
use lifeboat_core::compute::{
    Aggregate, Compute, ComputeError, ComputeService, EvacuationMigration, Hypervisor, Server,
    VmState,
};
use lifeboat_core::config::Secret;
use reqwest::Method;
use serde_json::{Value, json};

use crate::keystone::KeystoneSession;
use bodies::{
    MigrationBody, ServerBody, ServiceBody, decode, fault_message, next_marker, nova_time,
    query_escape,
};

/// The microversion of most calls.
pub const NOVA_MICROVERSION: &str = "2.53";
/// The microversion of evacuations.
pub const EVACUATE_MICROVERSION: &str = "2.68";
/// The microversion of migration listings: 2.59 added paging and `changes-since`.
pub const MIGRATIONS_MICROVERSION: &str = "2.59";
/// Servers per page when listing a host's servers.
const PAGE: usize = 500;
/// Migrations per page (Nova's default `max_limit` is 1000).
const MIGRATION_PAGE: usize = 1000;

/// How the client reaches and authenticates to Nova.
#[derive(Debug, Clone)]
pub enum NovaAuth {
    /// A Keystone session; the endpoint comes from the catalog unless overridden.
    Keystone {
        /// The privileged user's session.
        session: Box<KeystoneSession>,
        /// `service_type:service_name:endpoint_type` (Masakari's `nova_catalog_admin_info`).
        catalog_info: String,
        /// Region to pick in the catalog.
        region: Option<String>,
        /// Fixed endpoint instead of the catalog's.
        endpoint_override: Option<String>,
    },
    /// A fixed endpoint and static token (a Nova without Keystone).
    Static {
        /// Nova API URL.
        endpoint: String,
        /// Token to send, if any.
        token: Option<Secret>,
    },
}

/// Nova over HTTP.
#[derive(Debug, Clone)]
pub struct NovaClient {
    http: reqwest::Client,
    auth: NovaAuth,
}

impl NovaClient {
    /// A client over `http`.
    pub fn new(http: reqwest::Client, auth: NovaAuth) -> Self {
        Self { http, auth }
    }

    async fn endpoint_and_token(
        &self,
        action: &str,
    ) -> Result<(String, Option<Secret>), ComputeError> {
        match &self.auth {
            NovaAuth::Static { endpoint, token } => {
                Ok((endpoint.trim_end_matches('/').to_owned(), token.clone()))
            }
            NovaAuth::Keystone {
                session,
                catalog_info,
                region,
                endpoint_override,
            } => {
                let (token, catalog) = session.token().await.map_err(|e| ComputeError::Auth {
                    action: action.to_owned(),
                    message: e.to_string(),
                    retryable: e.is_retryable(),
                })?;
                let endpoint = match endpoint_override {
                    Some(url) => url.trim_end_matches('/').to_owned(),
                    None => {
                        let mut parts = catalog_info.split(':');
                        let service_type = parts.next().unwrap_or("compute");
                        let service_name = parts.next();
                        let interface = parts.next().unwrap_or("publicURL");
                        catalog
                            .endpoint(service_type, service_name, interface, region.as_deref())
                            .map_err(|e| ComputeError::Auth {
                                action: action.to_owned(),
                                message: e.to_string(),
                                retryable: e.is_retryable(),
                            })?
                    }
                };
                Ok((endpoint, Some(token)))
            }
        }
    }

    /// One call. `Ok(None)` for an empty answer. A 401 with Keystone gets one retry with a
    /// fresh token (ours may have been revoked). An idempotent call (GET, PUT, DELETE) that
    /// fails in transport, not by timing out, is sent once more: servers close idle keep-alive
    /// connections (gunicorn after 2 s), and a request sent on one just as it closes fails
    /// although Nova is fine.
    async fn call(
        &self,
        action: &str,
        method: Method,
        path: &str,
        microversion: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, ComputeError> {
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let mut resent = false;
        for attempt in 0..2 {
            let (endpoint, token) = self.endpoint_and_token(action).await?;
            let build = || {
                let mut request = self
                    .http
                    .request(method.clone(), format!("{endpoint}{path}"))
                    .header("X-OpenStack-Nova-API-Version", microversion)
                    .header("OpenStack-API-Version", format!("compute {microversion}"));
                if let Some(token) = &token {
                    request = request.header("X-Auth-Token", token.expose());
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                request
            };
            let response = match build().send().await {
                Err(e) if idempotent && !resent && !e.is_timeout() => {
                    resent = true;
                    tracing::debug!(action, error = %e, "Nova call failed in transport; sending it again");
                    build().send().await
                }
                other => other,
            }
            .map_err(|e| ComputeError::Unreachable {
                action: action.to_owned(),
                source: Box::new(e),
            })?;
            let status = response.status();
            let text = response
                .text()
                .await
                .map_err(|e| ComputeError::Unreachable {
                    action: action.to_owned(),
                    source: Box::new(e),
                })?;
            if status.as_u16() == 401
                && attempt == 0
                && let NovaAuth::Keystone { session, .. } = &self.auth
            {
                session.invalidate().await;
                continue;
            }
            if !status.is_success() {
                return Err(ComputeError::Refused {
                    action: action.to_owned(),
                    status: status.as_u16(),
                    message: fault_message(&text),
                });
            }
            if text.trim().is_empty() {
                return Ok(None);
            }
            return serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| ComputeError::Refused {
                    action: action.to_owned(),
                    status: status.as_u16(),
                    message: format!("unreadable answer: {e}"),
                });
        }
        Err(ComputeError::Auth {
            action: action.to_owned(),
            message: "Nova refused two fresh tokens".to_owned(),
            retryable: false,
        })
    }

    async fn get(&self, action: &str, path: &str) -> Result<Value, ComputeError> {
        Ok(self
            .call(action, Method::GET, path, NOVA_MICROVERSION, None)
            .await?
            .unwrap_or(Value::Null))
    }

    async fn services(
        &self,
        action: &str,
        host: Option<&str>,
    ) -> Result<Vec<ComputeService>, ComputeError> {
        let mut path = "/os-services?binary=nova-compute".to_owned();
        if let Some(h) = host {
            path.push_str(&format!("&host={}", query_escape(h)));
        }
        let body = self.get(action, &path).await?;
        let services: Vec<ServiceBody> = decode(action, body["services"].clone())?;
        Ok(services.into_iter().map(ComputeService::from).collect())
    }

    async fn update_service(
        &self,
        action: &str,
        id: &str,
        body: Value,
    ) -> Result<(), ComputeError> {
        self.call(
            action,
            Method::PUT,
            &format!("/os-services/{id}"),
            NOVA_MICROVERSION,
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    async fn server_action(
        &self,
        action: &str,
        id: &str,
        microversion: &str,
        body: Value,
    ) -> Result<(), ComputeError> {
        self.call(
            action,
            Method::POST,
            &format!("/servers/{id}/action"),
            microversion,
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// An aggregate action; the answer `done` (the change was already made) counts as success.
    async fn aggregate_action(
        &self,
        action: &str,
        aggregate_id: &str,
        body: Value,
        done: u16,
    ) -> Result<(), ComputeError> {
        match self
            .call(
                action,
                Method::POST,
                &format!("/os-aggregates/{aggregate_id}/action"),
                NOVA_MICROVERSION,
                Some(&body),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(ComputeError::Refused { status, .. }) if status == done => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait::async_trait]
impl Compute for NovaClient {
    async fn find_compute_service(
        &self,
        host: &str,
    ) -> Result<Option<ComputeService>, ComputeError> {
        let action = format!("looking up the nova-compute service of host {host}");
        // Nova's host filter is exact already; re-check so a lenient proxy cannot widen it.
        Ok(self
            .services(&action, Some(host))
            .await?
            .into_iter()
            .find(|s| s.host == host))
    }

    async fn compute_services(&self) -> Result<Vec<ComputeService>, ComputeError> {
        self.services("listing nova-compute services", None).await
    }

    async fn set_forced_down(
        &self,
        service_id: &str,
        forced_down: bool,
    ) -> Result<(), ComputeError> {
        let action = format!("setting forced_down={forced_down} on compute service {service_id}");
        self.update_service(&action, service_id, json!({"forced_down": forced_down}))
            .await
    }

    async fn disable_service(&self, service_id: &str, reason: &str) -> Result<(), ComputeError> {
        let action = format!("disabling compute service {service_id}");
        self.update_service(
            &action,
            service_id,
            json!({"status": "disabled", "disabled_reason": reason}),
        )
        .await
    }

    async fn enable_service(&self, service_id: &str) -> Result<(), ComputeError> {
        let action = format!("enabling compute service {service_id}");
        self.update_service(&action, service_id, json!({"status": "enabled"}))
            .await
    }

    async fn servers_on_host(&self, host: &str) -> Result<Vec<Server>, ComputeError> {
        let action = format!("listing the servers of host {host}");
        let mut servers = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut path = format!(
                "/servers/detail?all_tenants=1&host={}&limit={PAGE}",
                query_escape(host)
            );
            if let Some(m) = &marker {
                path.push_str(&format!("&marker={}", query_escape(m)));
            }
            let body = self.get(&action, &path).await?;
            let page: Vec<ServerBody> = decode(&action, body["servers"].clone())?;
            let full = page.len() >= PAGE;
            marker = page.last().map(|s| s.id.clone());
            servers.extend(page.into_iter().map(Server::from));
            if !full {
                break;
            }
        }
        // The host filter matches Nova's `host` field exactly; keep it so even if a proxy widens it.
        servers.retain(|s| s.host.as_deref().is_none_or(|h| h == host));
        Ok(servers)
    }

    async fn get_server(&self, id: &str) -> Result<Server, ComputeError> {
        let action = format!("reading server {id}");
        let body = self.get(&action, &format!("/servers/{id}")).await?;
        decode::<ServerBody>(&action, body["server"].clone()).map(Server::from)
    }

    async fn evacuate(&self, id: &str, target: Option<&str>) -> Result<(), ComputeError> {
        let action = match target {
            Some(t) => format!("evacuating server {id} to host {t}"),
            None => format!("evacuating server {id}"),
        };
        let body = match target {
            Some(t) => json!({"evacuate": {"host": t}}),
            None => json!({"evacuate": {}}),
        };
        self.server_action(&action, id, EVACUATE_MICROVERSION, body)
            .await
    }

    async fn stop_server(&self, id: &str) -> Result<(), ComputeError> {
        self.server_action(
            &format!("stopping server {id}"),
            id,
            NOVA_MICROVERSION,
            json!({"os-stop": null}),
        )
        .await
    }

    async fn start_server(&self, id: &str) -> Result<(), ComputeError> {
        self.server_action(
            &format!("starting server {id}"),
            id,
            NOVA_MICROVERSION,
            json!({"os-start": null}),
        )
        .await
    }

    async fn hard_reboot(&self, id: &str) -> Result<(), ComputeError> {
        let body = json!({"reboot": {"type": "HARD"}});
        self.server_action(
            &format!("rebooting server {id}"),
            id,
            NOVA_MICROVERSION,
            body,
        )
        .await
    }

    async fn reset_state(&self, id: &str, state: VmState) -> Result<(), ComputeError> {
        let body = json!({"os-resetState": {"state": state.as_str()}});
        self.server_action(
            &format!("resetting server {id} to {state}"),
            id,
            NOVA_MICROVERSION,
            body,
        )
        .await
    }

    async fn aggregates(&self) -> Result<Vec<Aggregate>, ComputeError> {
        let action = "listing host aggregates";
        let body = self.get(action, "/os-aggregates").await?;
        let list = body["aggregates"].as_array().cloned().unwrap_or_default();
        Ok(list
            .into_iter()
            .map(|a| Aggregate {
                id: match &a["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                name: a["name"].as_str().unwrap_or_default().to_owned(),
                hosts: a["hosts"]
                    .as_array()
                    .map(|h| {
                        h.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }

    async fn add_host_to_aggregate(
        &self,
        aggregate_id: &str,
        host: &str,
    ) -> Result<(), ComputeError> {
        let action = format!("adding host {host} to aggregate {aggregate_id}");
        // 409: already a member.
        self.aggregate_action(
            &action,
            aggregate_id,
            json!({"add_host": {"host": host}}),
            409,
        )
        .await
    }

    async fn remove_host_from_aggregate(
        &self,
        aggregate_id: &str,
        host: &str,
    ) -> Result<(), ComputeError> {
        let action = format!("removing host {host} from aggregate {aggregate_id}");
        // 404: not a member.
        self.aggregate_action(
            &action,
            aggregate_id,
            json!({"remove_host": {"host": host}}),
            404,
        )
        .await
    }

    async fn evacuation_migrations(
        &self,
        source: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<EvacuationMigration>, ComputeError> {
        let action = format!("listing the evacuation migrations from host {source}");
        let base = format!(
            "/os-migrations?source_compute={}&migration_type=evacuation&changes-since={}&limit={MIGRATION_PAGE}",
            query_escape(source),
            query_escape(&since.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        );
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        // Nova pages by created_at: a page cannot repeat, but bound it all the same.
        for _ in 0..100 {
            let path = match &marker {
                // Our own path with Nova's marker: the link's host is Nova's public
                // endpoint, which need not be the one we reach it by. The marker is a
                // migration UUID and needs no escaping.
                Some(m) => format!("{base}&marker={}", query_escape(m)),
                None => base.clone(),
            };
            let body = self
                .call(&action, Method::GET, &path, MIGRATIONS_MICROVERSION, None)
                .await?
                .unwrap_or(Value::Null);
            let page: Vec<MigrationBody> = decode(&action, body["migrations"].clone())?;
            found.extend(page.into_iter().filter_map(|m| {
                // The filters are Nova's; keep them so even if a proxy widens them. The
                // host fields are null for a user without the `index:host` policy.
                let ours = m.source_compute.as_deref().is_none_or(|h| h == source)
                    && m.migration_type
                        .as_deref()
                        .is_none_or(|t| t == "evacuation");
                if !ours {
                    return None;
                }
                Some(EvacuationMigration {
                    id: m.id,
                    instance_uuid: m.instance_uuid?,
                    status: m.status,
                    dest_compute: m.dest_compute,
                    updated_at: m.updated_at.as_deref().and_then(nova_time),
                })
            }));
            match next_marker(&body) {
                Some(next) if marker.as_deref() != Some(next.as_str()) => marker = Some(next),
                _ => break,
            }
        }
        Ok(found)
    }

    async fn hypervisors(&self) -> Result<Vec<Hypervisor>, ComputeError> {
        let action = "listing hypervisors";
        let body = self.get(action, "/os-hypervisors/detail").await?;
        let list = body["hypervisors"].as_array().cloned().unwrap_or_default();
        Ok(list
            .into_iter()
            .map(|h| Hypervisor {
                host: h["service"]["host"]
                    .as_str()
                    .or_else(|| h["hypervisor_hostname"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                vcpus: h["vcpus"].as_u64().unwrap_or(0),
                vcpus_used: h["vcpus_used"].as_u64().unwrap_or(0),
                memory_mb: h["memory_mb"].as_u64().unwrap_or(0),
                memory_mb_used: h["memory_mb_used"].as_u64().unwrap_or(0),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;

//! The Nova client (compute API). Service and server calls use microversion 2.53 (service
//! UUIDs, `forced_down`, embedded flavors); evacuation uses 2.68, where an evacuated server
//! comes back in the state it had (2.95 and later would leave it SHUTOFF) and no `force` flag
//! can bypass the scheduler's checks of the target. Migration listings use 2.59 (paging and
//! `changes-since`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use lifeboat_core::compute::{
    Aggregate, Compute, ComputeError, ComputeService, EvacuationMigration, Hypervisor, Server,
    TaskState, VmState,
};
use lifeboat_core::config::Secret;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::keystone::KeystoneSession;

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

#[derive(Deserialize)]
struct ServiceBody {
    id: Value,
    host: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    disabled_reason: Option<String>,
    #[serde(default)]
    state: String,
    #[serde(default)]
    forced_down: bool,
}

impl From<ServiceBody> for ComputeService {
    fn from(s: ServiceBody) -> Self {
        Self {
            id: match s.id {
                Value::String(text) => text,
                other => other.to_string(),
            },
            host: s.host,
            status: s.status,
            disabled_reason: s.disabled_reason,
            state: s.state,
            forced_down: s.forced_down,
        }
    }
}

#[derive(Deserialize)]
struct ServerBody {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(rename = "OS-EXT-STS:vm_state", default)]
    vm_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    task_state: Option<String>,
    #[serde(rename = "OS-EXT-SRV-ATTR:host", default)]
    host: Option<String>,
    #[serde(default)]
    locked: bool,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    flavor: Value,
}

impl From<ServerBody> for Server {
    fn from(s: ServerBody) -> Self {
        Self {
            id: s.id,
            name: s.name,
            status: s.status,
            vm_state: VmState::from(s.vm_state.as_deref().unwrap_or_default()),
            task_state: s.task_state.as_deref().map(TaskState::from),
            host: s.host,
            locked: s.locked,
            metadata: s.metadata,
            vcpus: s.flavor.get("vcpus").and_then(Value::as_u64),
            ram_mb: s.flavor.get("ram").and_then(Value::as_u64),
        }
    }
}

#[derive(Deserialize)]
struct MigrationBody {
    id: u64,
    #[serde(default)]
    instance_uuid: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    source_compute: Option<String>,
    #[serde(default)]
    dest_compute: Option<String>,
    #[serde(default)]
    migration_type: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

/// Nova writes times as `2026-12-01T15:41:22.000000` (UTC, no zone) or with a zone.
fn nova_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// The `marker` of a `migrations_links` next link, if there is one.
fn next_marker(body: &Value) -> Option<String> {
    body["migrations_links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == "next")?["href"]
        .as_str()?
        .split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix("marker="))
        .map(str::to_owned)
}

/// Nova's fault body is `{"<name>": {"message": ...}}`.
fn fault_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.as_object()
                .and_then(|o| o.values().next())
                .and_then(|f| f["message"].as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

fn query_escape(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn decode<T: serde::de::DeserializeOwned>(action: &str, value: Value) -> Result<T, ComputeError> {
    serde_json::from_value(value).map_err(|e| ComputeError::Refused {
        action: action.to_owned(),
        status: 200,
        message: format!("unreadable answer: {e}"),
    })
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
        let body = json!({"add_host": {"host": host}});
        match self
            .call(
                &action,
                Method::POST,
                &format!("/os-aggregates/{aggregate_id}/action"),
                NOVA_MICROVERSION,
                Some(&body),
            )
            .await
        {
            Ok(_) | Err(ComputeError::Refused { status: 409, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn remove_host_from_aggregate(
        &self,
        aggregate_id: &str,
        host: &str,
    ) -> Result<(), ComputeError> {
        let action = format!("removing host {host} from aggregate {aggregate_id}");
        let body = json!({"remove_host": {"host": host}});
        match self
            .call(
                &action,
                Method::POST,
                &format!("/os-aggregates/{aggregate_id}/action"),
                NOVA_MICROVERSION,
                Some(&body),
            )
            .await
        {
            Ok(_) | Err(ComputeError::Refused { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
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
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Reads one request's head.
    async fn read_head(conn: &mut tokio::net::TcpStream) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if conn.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
    }

    /// A server that answers the first request of each connection (keeping it alive) and closes
    /// the connection as the next request on it arrives: a keep-alive timeout firing just as a
    /// pooled connection is reused, which a real Nova does now and then but never on cue.
    /// Counts the answers.
    async fn closing_server() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answered = Arc::new(AtomicUsize::new(0));
        let count = answered.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    read_head(&mut conn).await;
                    let body = r#"{"services": []}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    conn.write_all(answer.as_bytes()).await.unwrap();
                    count.fetch_add(1, Ordering::SeqCst);
                    read_head(&mut conn).await;
                });
            }
        });
        (url, answered)
    }

    #[tokio::test]
    async fn idempotent_calls_are_resent_when_a_reused_connection_closes_but_posts_are_not() {
        let (endpoint, answered) = closing_server().await;
        let nova = NovaClient::new(
            reqwest::Client::new(),
            NovaAuth::Static {
                endpoint,
                token: None,
            },
        );
        nova.compute_services().await.unwrap();
        // Reuses the kept-alive connection, which closes under it: sent again on a new one.
        nova.compute_services().await.unwrap();
        assert_eq!(answered.load(Ordering::SeqCst), 2);
        // An evacuation Nova may have received is never sent twice.
        let err = nova.evacuate("s1", None).await.unwrap_err();
        assert!(matches!(err, ComputeError::Unreachable { .. }), "{err}");
        assert_eq!(answered.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape("compute-1.example"), "compute-1.example");
        assert_eq!(query_escape("a b&c"), "a+b%26c");
        assert_eq!(
            query_escape("2026-12-01T15:41:22+00:00"),
            "2026-12-01T15%3A41%3A22%2B00%3A00"
        );
    }

    #[test]
    fn migration_times_and_next_markers_are_read() {
        let t = nova_time("2026-12-01T15:41:22.000000").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T15:41:22+00:00");
        assert_eq!(nova_time("2026-12-01T15:41:22Z"), Some(t));
        assert_eq!(nova_time("yesterday"), None);
        let body = json!({"migrations": [], "migrations_links": [{"rel": "next",
            "href": "http://nova/v2.1/os-migrations?limit=1000&marker=0a1b-2c&source_compute=h"}]});
        assert_eq!(next_marker(&body).as_deref(), Some("0a1b-2c"));
        assert_eq!(next_marker(&json!({"migrations": []})), None);
    }

    #[test]
    fn fault_messages_are_extracted() {
        assert_eq!(
            fault_message(r#"{"itemNotFound": {"code": 404, "message": "nope"}}"#),
            "nope"
        );
        assert_eq!(fault_message("plain"), "plain");
    }

    #[test]
    fn servers_read_the_admin_fields_and_embedded_flavor() {
        let body: ServerBody = serde_json::from_value(json!({
            "id": "s1", "name": "vm", "status": "ACTIVE", "OS-EXT-STS:vm_state": "active",
            "OS-EXT-STS:task_state": null, "OS-EXT-SRV-ATTR:host": "compute-a", "locked": false,
            "metadata": {"HA_Enabled": "True"}, "flavor": {"vcpus": 2, "ram": 512}
        }))
        .unwrap();
        let s = Server::from(body);
        assert_eq!(
            (s.vm_state.as_str(), s.host.as_deref(), s.vcpus, s.ram_mb),
            ("active", Some("compute-a"), Some(2), Some(512))
        );
        assert_eq!(
            s.metadata.get("HA_Enabled").map(String::as_str),
            Some("True")
        );
    }
}

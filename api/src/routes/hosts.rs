//! `/v1/segments/{segment_id}/hosts`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use lifeboat_core::model::Host;
use lifeboat_core::store::HostFilter;
use lifeboat_core::validation::parse_query_bool;
use lifeboat_core::wire::{HostView, parse_create_host, parse_update_host};
use serde_json::{Value, json};
use uuid::Uuid;

use super::path_uuid;
use super::segments::SegmentPath;
use crate::AppState;
use crate::auth::RequestContext;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::listing::{BaseUrl, page};
use crate::microversion::Microversion;

/// Path parameters of `/segments/{segment_id}/hosts/{host_id}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct HostPath {
    pub(crate) segment_id: String,
    pub(crate) host_id: String,
}

impl HostPath {
    pub(crate) fn uuids(&self) -> Result<(Uuid, Uuid), ApiError> {
        let not_found = || {
            ApiError::not_found(format!(
                "Host '{}' under failover_segment '{}' could not be found.",
                self.host_id, self.segment_id
            ))
        };
        let segment = SegmentPath {
            segment_id: self.segment_id.clone(),
        }
        .uuid()?;
        Ok((segment, path_uuid(&self.host_id, not_found)?))
    }
}

/// A host as shown at `version`: with why it is in maintenance from 1.6.
fn view(host: &Host, version: Microversion) -> HostView {
    let view = HostView::from(host);
    if version >= Microversion::MAINTENANCE_REASON {
        view.with_maintenance(host)
    } else {
        view
    }
}

fn host_body(host: &Host, version: Microversion) -> Json<Value> {
    Json(json!({ "host": view(host, version) }))
}

/// Masakari accepts a host only if Nova has a `nova-compute` service of that name. Without a
/// configured Nova, the name is taken as given (logged once).
async fn check_compute_service(state: &AppState, name: &str) -> Result<(), ApiError> {
    let Some(compute) = &state.inner.compute else {
        state.note_nova_absent();
        return Ok(());
    };
    match compute.find_compute_service(name).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_request(format!(
            "Compute service with name {name} could not be found."
        ))),
    }
}

/// `GET /segments/{id}/hosts`.
pub(crate) async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<SegmentPath>,
    params: QueryParams,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<super::ListBody<HostView>>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:os-hosts:index")?;
    let segment = path.uuid()?;
    let strict = |key: &str| {
        params
            .get(key)
            .map(|v| parse_query_bool(key, v))
            .transpose()
    };
    let filter = HostFilter {
        name: params.get_owned("name"),
        host_type: params.get_owned("type"),
        control_attributes: params.get_owned("control_attributes"),
        on_maintenance: strict("on_maintenance")?,
        reserved: strict("reserved")?,
    };
    let query = page(
        &params,
        Host::SORT_KEYS,
        state.inner.settings.max_limit,
        filter,
    )?;
    let hosts = state.inner.store.list_hosts(segment, &query).await?;
    let views: Vec<HostView> = hosts.iter().map(|h| view(h, version)).collect();
    Ok(super::list_body(
        "hosts",
        views,
        (
            &base,
            uri.path(),
            &params,
            query.limit,
            hosts.last().map(|h| h.id),
        ),
    ))
}

/// `POST /segments/{id}/hosts`.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<SegmentPath>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:os-hosts:create")?;
    let segment = path.uuid()?;
    let new = parse_create_host(&body)?;
    // The segment is checked before Nova is asked, so a typo'd segment is a plain 404.
    state.inner.store.get_segment(segment).await?;
    check_compute_service(&state, new.name.as_str()).await?;
    let host = state
        .inner
        .store
        .create_host(segment, new, state.inner.clock.now())
        .await?;
    tracing::info!(host.name = %host.name, segment.id = %segment, "host created");
    Ok((StatusCode::CREATED, host_body(&host, version)))
}

/// `GET /segments/{id}/hosts/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<HostPath>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:os-hosts:detail")?;
    let (segment, host) = path.uuids()?;
    Ok(host_body(
        &state.inner.store.get_host(segment, host).await?,
        version,
    ))
}

/// `PUT /segments/{id}/hosts/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<HostPath>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:os-hosts:update")?;
    let (segment, uuid) = path.uuids()?;
    let update = parse_update_host(&body)?;
    if let Some(name) = &update.name {
        state.inner.store.get_host(segment, uuid).await?;
        check_compute_service(&state, name.as_str()).await?;
    }
    let host = state
        .inner
        .store
        .update_host(segment, uuid, update, state.inner.clock.now())
        .await?;
    tracing::info!(host.name = %host.name, "host updated");
    Ok(host_body(&host, version))
}

/// `DELETE /segments/{id}/hosts/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(path): Path<HostPath>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:os-hosts:delete")?;
    let (segment, host) = path.uuids()?;
    state
        .inner
        .store
        .delete_host(segment, host, state.inner.clock.now())
        .await?;
    tracing::info!(host.id = %host, "host deleted");
    Ok(StatusCode::NO_CONTENT)
}

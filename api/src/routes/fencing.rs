//! Fence devices, fence history and power actions of a host (microversion 1.5):
//! `/v1/segments/{segment_id}/hosts/{host_id}/fence_devices[/{device_id}]`,
//! `…/fence_history` and `POST …/hosts/{host_id}/action`. Below 1.5 these paths do not exist.
//!
//! Passwords are write-only: sealed with the configured key before they are stored, never
//! returned (views say `password_set`), never logged.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lifeboat_core::fencing::{FenceError, PowerAction};
use lifeboat_core::model::{FenceDevice, Host, NewFenceDevice};
use lifeboat_core::wire::{
    FenceAttemptView, FenceDeviceView, FenceRecordView, PowerBody, PowerView, check_fence_device,
    parse_create_fence_device, parse_power_action, parse_update_fence_device,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::hosts::HostPath;
use super::path_uuid;
use crate::AppState;
use crate::auth::RequestContext;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::microversion::Microversion;

/// Path parameters of `…/fence_devices/{device_id}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct DevicePath {
    segment_id: String,
    host_id: String,
    device_id: String,
}

/// The host of the path, 404 if it is not a live host of that segment; 404 below 1.5.
async fn host_of(
    state: &AppState,
    version: Microversion,
    segment_id: &str,
    host_id: &str,
) -> Result<Host, ApiError> {
    if version < Microversion::FENCING {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let (segment, host) = HostPath {
        segment_id: segment_id.to_owned(),
        host_id: host_id.to_owned(),
    }
    .uuids()?;
    Ok(state.inner.store.get_host(segment, host).await?)
}

impl DevicePath {
    async fn resolve(
        &self,
        state: &AppState,
        version: Microversion,
    ) -> Result<(Host, Uuid), ApiError> {
        let host = host_of(state, version, &self.segment_id, &self.host_id).await?;
        let device = path_uuid(&self.device_id, || {
            ApiError::not_found(format!(
                "Fence device {} of host {} could not be found.",
                self.device_id, host.uuid
            ))
        })?;
        Ok((host, device))
    }
}

fn device_body(device: &FenceDevice) -> Json<Value> {
    Json(json!({ "fence_device": FenceDeviceView::from(device) }))
}

/// Seals a new password with the configured key.
fn seal(
    state: &AppState,
    password: Option<&lifeboat_core::config::Secret>,
) -> Result<Option<lifeboat_core::fencing::SealedSecret>, ApiError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let sealer = state.inner.sealer.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "Invalid input for field/attribute password. Passwords cannot be stored: this \
             Lifeboat has no credential key ([fencing] credential_key_file).",
        )
    })?;
    sealer
        .seal(password)
        .map(Some)
        .map_err(|e| ApiError::internal(&e))
}

/// The driver's own checks (a fence agent's parameters against its metadata).
async fn check_driver(state: &AppState, device: &NewFenceDevice) -> Result<(), ApiError> {
    match &state.inner.fencer {
        Some(fencer) => fencer.check_device(device).await.map_err(|reason| {
            ApiError::bad_request(format!(
                "Invalid input for field/attribute fence_device. {reason}"
            ))
        }),
        None => Ok(()),
    }
}

/// `GET …/hosts/{id}/fence_devices`.
pub(crate) async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<HostPath>,
) -> Result<Json<Value>, ApiError> {
    let host = host_of(&state, version, &path.segment_id, &path.host_id).await?;
    ctx.authorize(&state.inner.policy, "os_masakari_api:fence-devices:index")?;
    let devices = state.inner.store.list_fence_devices(host.uuid).await?;
    let views: Vec<FenceDeviceView> = devices.iter().map(FenceDeviceView::from).collect();
    Ok(Json(json!({ "fence_devices": views })))
}

/// `POST …/hosts/{id}/fence_devices`.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<HostPath>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let host = host_of(&state, version, &path.segment_id, &path.host_id).await?;
    ctx.authorize(&state.inner.policy, "os_masakari_api:fence-devices:create")?;
    let request = parse_create_fence_device(&body)?;
    let mut device = request.device;
    device.password = seal(&state, request.password.as_ref())?;
    check_driver(&state, &device).await?;
    let created = state
        .inner
        .store
        .create_fence_device(host.uuid, device, state.inner.clock.now())
        .await?;
    tracing::info!(host.name = %host.name, device.name = %created.name, level = created.level, driver = %created.driver, "fence device created");
    Ok((StatusCode::CREATED, device_body(&created)))
}

/// `GET …/fence_devices/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<DevicePath>,
) -> Result<Json<Value>, ApiError> {
    let (host, device) = path.resolve(&state, version).await?;
    ctx.authorize(&state.inner.policy, "os_masakari_api:fence-devices:detail")?;
    Ok(device_body(
        &state
            .inner
            .store
            .get_fence_device(host.uuid, device)
            .await?,
    ))
}

/// `PUT …/fence_devices/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<DevicePath>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (host, uuid) = path.resolve(&state, version).await?;
    ctx.authorize(&state.inner.policy, "os_masakari_api:fence-devices:update")?;
    let change = parse_update_fence_device(&body)?;
    let current = state.inner.store.get_fence_device(host.uuid, uuid).await?;
    let mut update = change.update;
    if let Some(password) = &change.password {
        update.password = Some(seal(&state, password.as_ref())?);
    }
    let merged = update.apply(&current.spec());
    check_fence_device(&merged, change.password.as_ref().and_then(Option::as_ref))?;
    check_driver(&state, &merged).await?;
    let changed = state
        .inner
        .store
        .update_fence_device(host.uuid, uuid, update, state.inner.clock.now())
        .await?;
    tracing::info!(host.name = %host.name, device.name = %changed.name, "fence device updated");
    Ok(device_body(&changed))
}

/// `DELETE …/fence_devices/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<DevicePath>,
) -> Result<StatusCode, ApiError> {
    let (host, uuid) = path.resolve(&state, version).await?;
    ctx.authorize(&state.inner.policy, "os_masakari_api:fence-devices:delete")?;
    state
        .inner
        .store
        .delete_fence_device(host.uuid, uuid)
        .await?;
    tracing::info!(host.name = %host.name, device.id = %uuid, "fence device deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET …/hosts/{id}/fence_history?limit=N`: newest first.
pub(crate) async fn history(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<HostPath>,
    params: QueryParams,
) -> Result<Json<Value>, ApiError> {
    let host = host_of(&state, version, &path.segment_id, &path.host_id).await?;
    ctx.authorize(&state.inner.policy, "os_masakari_api:fence-history:index")?;
    let max = state.inner.settings.max_limit;
    let limit = match params.get("limit") {
        None => max.min(100),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .map_err(|_| {
                ApiError::bad_request("Invalid input received: limit must be an integer >= 0")
            })?
            .min(max),
    };
    let records = state.inner.store.fence_history(&host.name, limit).await?;
    let views: Vec<FenceRecordView> = records.iter().map(FenceRecordView::from).collect();
    Ok(Json(json!({ "fence_history": views })))
}

/// `POST …/hosts/{id}/action` with `{"power": "status" | "off" | "on" | "reboot"}`: runs the
/// action through the host's fence topology (`off` verified). 200 with the outcome; 409 when
/// the host has no fence device; 503 when every level failed (the attempts say why).
pub(crate) async fn action(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<HostPath>,
    JsonBody(body): JsonBody,
) -> Result<Json<PowerBody>, ApiError> {
    let action: PowerAction = parse_power_action(&body)?;
    let rule = match action {
        PowerAction::Status => "os_masakari_api:os-hosts:power:status",
        _ => "os_masakari_api:os-hosts:power",
    };
    // Before the lookup, so a refused caller learns nothing of which hosts exist.
    ctx.authorize(&state.inner.policy, rule)?;
    let host = host_of(&state, version, &path.segment_id, &path.host_id).await?;
    let fencer = state.inner.fencer.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Fencing is not available in this API process.",
        )
    })?;
    tracing::info!(host.name = %host.name, action = action.as_str(), "power action requested");
    match fencer.power(&host.name, action).await {
        Ok(report) => {
            let power = PowerView {
                host: host.name,
                action,
                state: report.state,
                attempts: report.attempts.iter().map(FenceAttemptView::from).collect(),
            };
            Ok(Json(PowerBody { power }))
        }
        Err(FenceError::NoDevice { host }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("No fence device is configured for host {host}."),
        )),
        Err(FenceError::AllLevelsFailed { summary, .. }) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Power {} of host {} failed: {summary}",
                action.as_str(),
                host.name
            ),
        )),
        Err(e @ (FenceError::Status { .. } | FenceError::Power { .. })) => {
            Err(ApiError::internal(&e))
        }
    }
}

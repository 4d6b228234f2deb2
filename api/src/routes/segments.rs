//! `/v1/segments`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use lifeboat_core::model::Segment;
use lifeboat_core::store::SegmentFilter;
use lifeboat_core::validation::parse_query_bool;
use lifeboat_core::wire::{SegmentView, parse_create_segment, parse_update_segment};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{list_body, path_uuid};
use crate::AppState;
use crate::auth::RequestContext;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::listing::{BaseUrl, page};
use crate::microversion::Microversion;

/// Path parameters of `/segments/{segment_id}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct SegmentPath {
    pub(crate) segment_id: String,
}

impl SegmentPath {
    pub(crate) fn uuid(&self) -> Result<Uuid, ApiError> {
        path_uuid(&self.segment_id, || {
            ApiError::not_found(format!("No failover segment with id {}.", self.segment_id))
        })
    }
}

fn segment_body(segment: &Segment) -> Json<Value> {
    Json(json!({ "segment": SegmentView::from(segment) }))
}

/// `GET /segments`.
pub(crate) async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    params: QueryParams,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<super::ListBody<SegmentView>>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:segments:index")?;
    let filter = SegmentFilter {
        recovery_method: params.get_owned("recovery_method"),
        service_type: params.get_owned("service_type"),
        enabled: params
            .get("enabled")
            .map(|v| parse_query_bool("enabled", v))
            .transpose()?,
    };
    let query = page(
        &params,
        Segment::SORT_KEYS,
        state.inner.settings.max_limit,
        filter,
    )?;
    let segments = state.inner.store.list_segments(&query).await?;
    let views: Vec<SegmentView> = segments.iter().map(SegmentView::from).collect();
    Ok(list_body(
        "segments",
        views,
        (
            &base,
            uri.path(),
            &params,
            query.limit,
            segments.last().map(|s| s.id),
        ),
    ))
}

/// `POST /segments`.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:segments:create")?;
    let new = parse_create_segment(&body, version >= Microversion::SEGMENT_ENABLED)?;
    let segment = state
        .inner
        .store
        .create_segment(new, state.inner.clock.now())
        .await?;
    tracing::info!(segment.id = %segment.uuid, segment.name = %segment.name, "segment created");
    Ok((StatusCode::CREATED, segment_body(&segment)))
}

/// `GET /segments/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(path): Path<SegmentPath>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:segments:detail")?;
    let segment = state.inner.store.get_segment(path.uuid()?).await?;
    Ok(segment_body(&segment))
}

/// `PUT /segments/{id}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<SegmentPath>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:segments:update")?;
    let uuid = path.uuid()?;
    let update = parse_update_segment(&body, version >= Microversion::SEGMENT_ENABLED)?;
    let segment = state
        .inner
        .store
        .update_segment(uuid, update, state.inner.clock.now())
        .await?;
    tracing::info!(segment.id = %segment.uuid, "segment updated");
    Ok(segment_body(&segment))
}

/// `DELETE /segments/{id}`: also deletes the segment's hosts.
pub(crate) async fn delete(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(path): Path<SegmentPath>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:segments:delete")?;
    let uuid = path.uuid()?;
    state
        .inner
        .store
        .delete_segment(uuid, state.inner.clock.now())
        .await?;
    tracing::info!(segment.id = %uuid, "segment deleted");
    Ok(StatusCode::NO_CONTENT)
}

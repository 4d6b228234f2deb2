//! `/v1/notifications`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use lifeboat_core::model::Notification;
use lifeboat_core::store::{NotificationFilter, OperatorRequest};
use lifeboat_core::validation::parse_datetime;
use lifeboat_core::wire::{NotificationView, WorkflowDetailView, parse_create_notification};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{list_body, path_uuid};
use crate::AppState;
use crate::auth::RequestContext;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::listing::{BaseUrl, page};
use crate::microversion::Microversion;

/// Path parameters of `/notifications/{notification_id}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct NotificationPath {
    pub(crate) notification_id: String,
}

impl NotificationPath {
    pub(crate) fn uuid(&self) -> Result<Uuid, ApiError> {
        path_uuid(&self.notification_id, || {
            ApiError::not_found(format!("No notification with id {}.", self.notification_id))
        })
    }
}

/// `GET /notifications`.
pub(crate) async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    params: QueryParams,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<super::ListBody<NotificationView>>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:notifications:index")?;
    let generated_since = params
        .get("generated-since")
        .map(|v| {
            parse_datetime(v).ok_or_else(|| ApiError::bad_request("Invalid generated-since value"))
        })
        .transpose()?;
    let filter = NotificationFilter {
        status: params.get_owned("status"),
        source_host_uuid: params.get_owned("source_host_uuid"),
        notification_type: params.get_owned("type"),
        generated_since,
        failover_segment_uuid: params.get_owned("failover_segment_uuid"),
    };
    let query = page(
        &params,
        Notification::SORT_KEYS,
        state.inner.settings.max_limit,
        filter,
    )?;
    let notifications = state.inner.store.list_notifications(&query).await?;
    let views: Vec<NotificationView> = notifications.iter().map(NotificationView::from).collect();
    Ok(list_body(
        "notifications",
        views,
        (
            &base,
            uri.path(),
            &params,
            query.limit,
            notifications.last().map(|n| n.id),
        ),
    ))
}

/// `POST /notifications`: 202, recorded in status `new`; the engine takes it from there.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:notifications:create")?;
    let new = parse_create_notification(&body)?;
    let (host, kind) = (new.hostname.as_str().to_owned(), new.notification_type);
    let result = state
        .inner
        .store
        .create_notification(
            new,
            state.inner.settings.duplicate_window,
            state.inner.clock.now(),
        )
        .await;
    let notification = match result {
        Ok(n) => n,
        Err(e) => {
            // Refusals are part of normal operation (monitors re-send); log them for operators.
            tracing::info!(host.name = %host, notification.type = %kind, reason = %e, "notification refused");
            return Err(e.into());
        }
    };
    tracing::info!(
        notification.id = %notification.notification_uuid,
        notification.type = %notification.notification_type,
        host.name = %host,
        "notification accepted"
    );
    state
        .inner
        .metrics
        .api
        .notifications
        .reached(&notification.notification_type.to_string(), "new");
    if let Some(signal) = &state.inner.new_notification {
        signal.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "notification": NotificationView::from(&notification) })),
    ))
}

/// `GET /notifications/{id}`: from 1.1 with the recorded workflow steps.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<NotificationPath>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:notifications:detail")?;
    let uuid = path.uuid()?;
    let notification = state.inner.store.get_notification(uuid).await?;
    let mut view = NotificationView::from(&notification);
    if version >= Microversion::WORKFLOW_DETAILS {
        let steps = state.inner.store.list_recovery_steps(uuid).await?;
        view.recovery_workflow_details = Some(steps.iter().map(WorkflowDetailView::from).collect());
    }
    Ok(Json(json!({ "notification": view })))
}

/// `POST /notifications/{id}/action` (microversion 1.4): `{"cancel": null}` stops a recovery
/// at its next step; `{"retry": null}` recovers again a notification in `error` or `failed`.
/// Below 1.4 the route answers 405, as Masakari's does.
pub(crate) async fn action(
    State(state): State<AppState>,
    ctx: RequestContext,
    version: Microversion,
    Path(path): Path<NotificationPath>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if version < Microversion::OPERATOR_ACTIONS {
        return Err(ApiError::bad_method());
    }
    ctx.authorize(&state.inner.policy, "os_masakari_api:notifications:action")?;
    let uuid = path.uuid()?;
    let request = match body
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>())
        .as_deref()
    {
        Some(["cancel"]) => OperatorRequest::Cancel,
        Some(["retry"]) => OperatorRequest::Retry,
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute action. Value: {body}. The body must be {{\"cancel\": null}} or {{\"retry\": null}}"
            )));
        }
    };
    let notification = state
        .inner
        .store
        .request(uuid, request, state.inner.clock.now())
        .await?;
    tracing::info!(notification.id = %uuid, request = ?request, "operator request accepted");
    if request == OperatorRequest::Retry
        && let Some(signal) = &state.inner.new_notification
    {
        signal.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "notification": NotificationView::from(&notification) })),
    ))
}

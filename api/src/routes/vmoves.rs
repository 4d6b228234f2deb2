//! `/v1/notifications/{id}/vmoves`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use lifeboat_core::model::{NotificationType, VMove};
use lifeboat_core::store::VMoveFilter;
use lifeboat_core::wire::VMoveView;
use serde_json::{Value, json};
use uuid::Uuid;

use super::notifications::NotificationPath;
use super::{list_body, path_uuid};
use crate::AppState;
use crate::auth::RequestContext;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::listing::{BaseUrl, page};

/// Path parameters of `/notifications/{notification_id}/vmoves/{vmove_id}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct VMovePath {
    notification_id: String,
    vmove_id: String,
}

/// The notification, which must exist and be a host failure (only those move instances).
async fn host_notification(state: &AppState, path: &NotificationPath) -> Result<Uuid, ApiError> {
    let uuid = path.uuid()?;
    let notification = state.inner.store.get_notification(uuid).await?;
    if notification.notification_type != NotificationType::ComputeHost {
        return Err(ApiError::bad_request(format!(
            "This notification {uuid} without vm moves."
        )));
    }
    Ok(uuid)
}

/// `GET /notifications/{id}/vmoves`.
pub(crate) async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(path): Path<NotificationPath>,
    params: QueryParams,
    base: BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<super::ListBody<VMoveView>>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:vmoves:index")?;
    let notification = host_notification(&state, &path).await?;
    let filter = VMoveFilter {
        status: params.get_owned("status"),
        vmove_type: params.get_owned("type"),
    };
    let query = page(
        &params,
        VMove::SORT_KEYS,
        state.inner.settings.max_limit,
        filter,
    )?;
    let moves = state.inner.store.list_vmoves(notification, &query).await?;
    let views: Vec<VMoveView> = moves.iter().map(VMoveView::from).collect();
    Ok(list_body(
        "vmoves",
        views,
        (
            &base,
            uri.path(),
            &params,
            query.limit,
            moves.last().map(|m| m.id),
        ),
    ))
}

/// `GET /notifications/{id}/vmoves/{id}`: only a vmove of that notification.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(path): Path<VMovePath>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:vmoves:detail")?;
    let notification = host_notification(
        &state,
        &NotificationPath {
            notification_id: path.notification_id.clone(),
        },
    )
    .await?;
    let vmove_id = path_uuid(&path.vmove_id, || {
        ApiError::not_found(format!(
            "VMove {} of notification {} could not be found.",
            path.vmove_id, path.notification_id
        ))
    })?;
    let vmove = state.inner.store.get_vmove(notification, vmove_id).await?;
    Ok(Json(json!({ "vmove": VMoveView::from(&vmove) })))
}

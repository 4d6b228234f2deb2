//! `/v1/extensions`: Masakari's legacy extension list.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::RequestContext;
use crate::error::ApiError;

const EXTENSIONS: &[(&str, &str, &str)] = &[
    ("extensions", "Extensions", "Extension information."),
    ("notifications", "Notifications", "Notification support."),
    ("os-hosts", "Hosts", "Host management support."),
    ("segments", "Segments", "Segment management support."),
    ("versions", "Versions", "API Version information."),
    ("vmoves", "VMoves", "VM moves support."),
];

fn describe(alias: &str, name: &str, description: &str) -> Value {
    json!({"alias": alias, "description": description, "links": [], "name": name, "namespace": "", "updated": ""})
}

fn discoverable(state: &AppState, ctx: &RequestContext, alias: &str) -> bool {
    let rule = format!("os_masakari_api:{alias}:discoverable");
    ctx.authorize(&state.inner.policy, &rule).is_ok()
}

/// `GET /v1/extensions`: the extensions this caller may discover.
pub(crate) async fn index(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:extensions:index")?;
    let list: Vec<Value> = EXTENSIONS
        .iter()
        .filter(|(alias, _, _)| discoverable(&state, &ctx, alias))
        .map(|(alias, name, description)| describe(alias, name, description))
        .collect();
    Ok(Json(json!({ "extensions": list })))
}

/// `GET /v1/extensions/{alias}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&state.inner.policy, "os_masakari_api:extensions:detail")?;
    let alias = params.get("alias").map(String::as_str).unwrap_or_default();
    EXTENSIONS
        .iter()
        .find(|(a, _, _)| *a == alias && discoverable(&state, &ctx, a))
        .map(|(a, name, description)| Json(json!({ "extension": describe(a, name, description) })))
        .ok_or_else(|| ApiError::not_found(format!("Extension {alias} could not be found.")))
}

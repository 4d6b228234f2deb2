//! Version discovery documents (unauthenticated; keystoneauth and openstacksdk read them).

use axum::Json;
use serde_json::{Value, json};

use crate::listing::BaseUrl;
use crate::microversion::Microversion;

/// The v1 entry of the version documents.
pub(crate) fn version_document(base: &BaseUrl) -> Value {
    json!({
        "id": "v1.0",
        "status": "CURRENT",
        "version": Microversion::MAX.to_string(),
        "min_version": Microversion::MIN.to_string(),
        "updated": "2016-07-01T11:33:21Z",
        "links": [{"rel": "self", "href": format!("{}/v1/", base.0)}],
    })
}

/// `GET /`.
pub(crate) async fn root(base: BaseUrl) -> Json<Value> {
    Json(json!({ "versions": [version_document(&base)] }))
}

/// `GET /v1` and `GET /v1/`.
pub(crate) async fn v1(base: BaseUrl) -> Json<Value> {
    let mut doc = version_document(&base);
    doc["links"] = json!([
        {"rel": "self", "href": format!("{}/v1/", base.0)},
        {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"}
    ]);
    doc["media-types"] = json!([
        {"base": "application/json", "type": "application/vnd.openstack.masakari+json;version=1"}
    ]);
    Json(json!({ "version": doc }))
}

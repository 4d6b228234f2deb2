//! A Keystone that issues numbered tokens and counts validations, for the tests of what the
//! clients cache and for how long.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::post;
use lifeboat_core::clock::ManualClock;
use lifeboat_core::config::Secret;
use serde_json::json;

use crate::keystone::{Credentials, KeystoneSession};

/// Tokens it issued and validations it answered.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pub(crate) issued: AtomicUsize,
    pub(crate) validated: AtomicUsize,
}

/// Serves Keystone on a free port: every token expires at `expires_at`; every subject token
/// is valid. Returns its URL.
pub(crate) async fn serve(expires_at: &'static str, calls: Arc<Calls>) -> String {
    let (issue, validate) = (calls.clone(), calls);
    let app = axum::Router::new().route(
        "/v3/auth/tokens",
        post(move || {
            let n = issue.issued.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                (
                    [("x-subject-token", format!("token-{n}"))],
                    axum::Json(json!({"token": {"expires_at": expires_at, "catalog": []}})),
                )
            }
        })
        .get(move || {
            validate.validated.fetch_add(1, Ordering::SeqCst);
            async move {
                axum::Json(json!({"token": {
                    "expires_at": expires_at,
                    "user": {"id": "u1", "name": "alice"},
                    "roles": [{"id": "r1", "name": "admin"}]
                }}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A session for the fake at `url`, on `clock`.
pub(crate) fn session(url: &str, clock: Arc<ManualClock>) -> KeystoneSession {
    KeystoneSession::new(
        reqwest::Client::new(),
        Credentials {
            auth_url: url.to_owned(),
            username: "lifeboat".into(),
            password: Secret::new("secret"),
            user_domain_name: "Default".into(),
            project_name: Some("service".into()),
            project_domain_name: "Default".into(),
            system_scope: None,
        },
        clock,
    )
}

//! A real Keystone (PyPI `keystone`, SQLite, gunicorn): the CLI through the catalog, token
//! validation, and policy.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::cli::{Osc, all_fifteen_commands};
use crate::support::{ProcessGroup, Server, free_port, python_dir, run, venv_tool, wait_http};

const ADMIN_PASSWORD: &str = "admin-secret";

/// A Keystone on loopback, stopped when dropped.
pub struct Keystone {
    pub url: String,
    pub projects: Value,
    // Gunicorn forks its worker: the whole group goes, before the directory it works in.
    _gunicorn: ProcessGroup,
    _dir: tempfile::TempDir,
}

impl Keystone {
    /// Bootstraps a fresh Keystone whose catalog points `instance-ha` at `lifeboat_url`.
    pub async fn start(lifeboat_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/v3");
        let conf = d.join("keystone.conf");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nlog_file = {log}\n[database]\nconnection = sqlite:///{db}\n[token]\nprovider = fernet\n\
                 [identity]\npassword_hash_rounds = 4\n[fernet_tokens]\nkey_repository = {keys}\n\
                 [fernet_receipts]\nkey_repository = {keys}\n[credential]\nkey_repository = {creds}\n",
                log = d.join("keystone.log").display(),
                db = d.join("keystone.sqlite").display(),
                keys = d.join("fernet-keys").display(),
                creds = d.join("credential-keys").display(),
            ),
        )
        .unwrap();
        let manage = venv_tool("keystone", "keystone-manage");
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        for args in [
            vec!["db_sync".to_owned()],
            vec![
                "fernet_setup".into(),
                "--keystone-user".into(),
                user.clone(),
                "--keystone-group".into(),
                user.clone(),
            ],
            vec![
                "credential_setup".into(),
                "--keystone-user".into(),
                user.clone(),
                "--keystone-group".into(),
                user.clone(),
            ],
            vec![
                "bootstrap".into(),
                "--bootstrap-password".into(),
                ADMIN_PASSWORD.into(),
                "--bootstrap-admin-url".into(),
                url.clone(),
                "--bootstrap-internal-url".into(),
                url.clone(),
                "--bootstrap-public-url".into(),
                url.clone(),
                "--bootstrap-region-id".into(),
                "RegionOne".into(),
            ],
        ] {
            let (ok, out, err) = run(
                Command::new(&manage)
                    .arg("--config-file")
                    .arg(&conf)
                    .args(&args),
                Duration::from_secs(180),
            )
            .await;
            assert!(ok, "keystone-manage {} failed:\n{out}\n{err}", args[0]);
        }
        let gunicorn = ProcessGroup::spawn(
            std::process::Command::new(venv_tool("keystone", "gunicorn"))
                .args([
                    "--workers",
                    "1",
                    "--worker-class",
                    "gthread",
                    "--threads",
                    "4",
                    "--timeout",
                    "120",
                ])
                .arg("--bind")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--chdir")
                .arg(python_dir())
                .arg("keystone_wsgi:application")
                .env("OS_KEYSTONE_CONFIG_FILES", &conf),
            &d.join("gunicorn.log"),
        );
        assert!(
            wait_http(&url, Duration::from_secs(60)).await,
            "keystone did not start:\n{}",
            std::fs::read_to_string(d.join("gunicorn.log")).unwrap_or_default()
        );
        let (ok, out, err) = run(
            Command::new(venv_tool("clients", "python"))
                .arg(python_dir().join("keystone_setup.py"))
                .args([url.as_str(), ADMIN_PASSWORD, lifeboat_url]),
            Duration::from_secs(120),
        )
        .await;
        assert!(ok, "keystone_setup.py failed:\n{out}\n{err}");
        let projects = serde_json::from_str(out.lines().last().unwrap_or("{}")).unwrap();
        Self {
            url,
            projects,
            _gunicorn: gunicorn,
            _dir: dir,
        }
    }

    /// A project-scoped token for a user.
    pub async fn token(&self, user: &str, password: &str, project: &str) -> String {
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}});
        let response = reqwest::Client::new()
            .post(format!("{}/auth/tokens", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "token for {user}");
        response.headers()["x-subject-token"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The `openstack` CLI as the admin user, through the catalog.
    pub fn osc(&self) -> Osc {
        Osc {
            env: [
                ("OS_AUTH_URL", self.url.as_str()),
                ("OS_USERNAME", "admin"),
                ("OS_PASSWORD", ADMIN_PASSWORD),
                ("OS_PROJECT_NAME", "admin"),
                ("OS_USER_DOMAIN_NAME", "Default"),
                ("OS_PROJECT_DOMAIN_NAME", "Default"),
                ("OS_IDENTITY_API_VERSION", "3"),
                ("OS_REGION_NAME", "RegionOne"),
                ("OS_INTERFACE", "public"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        }
    }
}

pub fn keystone_config(keystone: &Keystone) -> String {
    format!(
        "[DEFAULT]\nauth_strategy = keystone\n[keystone_authtoken]\nwww_authenticate_uri = {url}\nauth_url = {url}\n\
         auth_type = password\nusername = lifeboat\npassword = lifeboat-secret\nproject_name = service\n\
         user_domain_name = Default\nproject_domain_name = Default\n",
        url = keystone.url
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keystone_tokens_are_validated_policy_applies_and_the_cli_works() {
    let port = free_port();
    let keystone = Keystone::start(&format!("http://127.0.0.1:{port}")).await;
    let server = Server::start_on(port, &keystone_config(&keystone)).await;
    // The whole CLI, through Keystone's catalog (`/v1/<project_id>/…` URLs).
    all_fifteen_commands(&keystone.osc(), &server).await;

    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut r = client.get(format!("{}{path}", server.url()));
        if let Some(t) = token {
            r = r.header("X-Auth-Token", t);
        }
        r.send()
    };

    // Discovery is public; everything else needs a valid token.
    assert_eq!(get("/v1", None).await.unwrap().status(), StatusCode::OK);
    let anonymous = get("/v1/segments", None).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"].to_str().unwrap(),
        format!("Keystone uri=\"{}\"", keystone.url)
    );
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["unauthorized"]["code"],
        401
    );
    assert_eq!(
        get("/v1/segments", Some("not-a-token"))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // A member gets 403 and no data; an admin gets the list.
    let member = keystone.token("demo", "demo-secret", "demo").await;
    let refused = get("/v1/segments", Some(&member)).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["forbidden"]["message"],
        "Policy doesn't allow os_masakari_api:segments:index to be performed."
    );
    assert!(body.get("segments").is_none());
    let admin = keystone.token("admin", ADMIN_PASSWORD, "admin").await;
    assert_eq!(
        get("/v1/segments", Some(&admin)).await.unwrap().status(),
        StatusCode::OK
    );
    // The project in the URL must be the token's.
    let demo_project = keystone.projects["demo"].as_str().unwrap();
    let admin_project = keystone.projects["admin"].as_str().unwrap();
    let mismatch = get(&format!("/v1/{demo_project}/segments"), Some(&admin))
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&format!("/v1/{admin_project}/segments"), Some(&admin))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // The monitor role may report failures and do nothing else.
    let seg: Value = client
        .post(format!("{}/v1/segments", server.url()))
        .header("X-Auth-Token", &admin)
        .json(&json!({"segment": {"name": "s", "recovery_method": "auto", "service_type": "COMPUTE"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hosts_url = format!(
        "{}/v1/segments/{}/hosts",
        server.url(),
        seg["segment"]["uuid"].as_str().unwrap()
    );
    let host = client
        .post(&hosts_url)
        .header("X-Auth-Token", &admin)
        .json(&json!({"host": {"name": "c1", "type": "COMPUTE", "control_attributes": "SSH"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(host.status(), StatusCode::CREATED);
    let monitor = keystone.token("monitor", "monitor-secret", "service").await;
    let report = client
        .post(format!("{}/v1/notifications", server.url()))
        .header("X-Auth-Token", &monitor)
        .json(&json!({"notification": {"type": "COMPUTE_HOST", "hostname": "c1", "generated_time": "2024-01-01T00:00:00",
            "payload": {"event": "STARTED", "host_status": "NORMAL", "cluster_status": "ONLINE"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::ACCEPTED);
    assert_eq!(
        get("/v1/notifications", Some(&monitor))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&hosts_url.replace(&server.url(), ""), Some(&monitor))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let delete = client
        .delete(format!(
            "{}/v1/segments/{}",
            server.url(),
            seg["segment"]["uuid"].as_str().unwrap()
        ))
        .header("X-Auth-Token", &monitor)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);

    assert!(
        !server.log().contains("lifeboat-secret"),
        "the service password must not be logged"
    );
    server.stop().await;
}

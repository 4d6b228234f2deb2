//! Fence devices, fence history and power actions (microversion 1.5), against ipmi_sim.

use lifeboat_test_support::ipmi_sim::IpmiSim;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, spawn_app, spawn_fencing_app, spawn_fencing_app_with_policy};

const V: Option<&str> = Some("1.5");

async fn host_path(app: &TestApp, name: &str) -> String {
    let seg = app.segment(&format!("seg-{name}"), "auto").await;
    let host = app.host(&seg, name).await;
    format!(
        "/v1/segments/{}/hosts/{}",
        seg["uuid"].as_str().unwrap(),
        host["uuid"].as_str().unwrap()
    )
}

fn bmc(address: &str, password: &str) -> Value {
    json!({"fence_device": {"name": "bmc", "driver": "ipmi", "address": address,
        "username": "admin", "password": password, "options": {"cipher": "3"}}})
}

#[tokio::test]
async fn fence_devices_are_configured_with_write_only_passwords() {
    let app = spawn_fencing_app().await;
    let host = host_path(&app, "c1").await;
    let devices = format!("{host}/fence_devices");

    // The paths do not exist below 1.5.
    let old = app.call(Method::GET, &devices, Some("1.4"), None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND, "{}", old.text);

    let created = app
        .call(
            Method::POST,
            &devices,
            V,
            Some(bmc("10.0.0.5:623", "s3cret-pw")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let device = &created.body["fence_device"];
    assert_eq!(device["password_set"], true);
    assert_eq!(device["level"], 1);
    assert_eq!(device["driver"], "ipmi");
    assert!(!created.text.contains("s3cret-pw"), "{}", created.text);
    let id = device["uuid"].as_str().unwrap();
    let one = format!("{devices}/{id}");

    let listed = app.call(Method::GET, &devices, V, None).await;
    assert_eq!(listed.body["fence_devices"].as_array().unwrap().len(), 1);
    assert!(!listed.text.contains("s3cret-pw"));
    let shown = app.call(Method::GET, &one, V, None).await;
    assert_eq!(shown.body["fence_device"], *device);

    let dup = app
        .call(Method::POST, &devices, V, Some(bmc("10.0.0.6", "x")))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);

    let changed = app
        .call(
            Method::PUT,
            &one,
            V,
            Some(json!({"fence_device": {"level": 2, "password": null}})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["fence_device"]["level"], 2);
    assert_eq!(changed.body["fence_device"]["password_set"], false);
    // An update that breaks the driver's needs is refused as a whole.
    let broken = app
        .call(
            Method::PUT,
            &one,
            V,
            Some(json!({"fence_device": {"address": null}})),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST, "{}", broken.text);
    assert!(broken.fault().contains("address"), "{}", broken.fault());

    let deleted = app.call(Method::DELETE, &one, V, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::GET, &one, V, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_fence_devices_are_refused_naming_the_field() {
    let app = spawn_fencing_app().await;
    let devices = format!("{}/fence_devices", host_path(&app, "c1").await);
    let cases = [
        (
            json!({"fence_device": {"name": "a", "driver": "ipmi", "username": "u"}}),
            "address",
        ),
        (
            json!({"fence_device": {"name": "a", "driver": "ipmi", "address": "h", "username": "u", "level": 10}}),
            "level",
        ),
        (
            json!({"fence_device": {"name": "a", "driver": "fence_ipmilan", "address": "h", "options": {"colour": "red"}}}),
            "colour",
        ),
        (
            json!({"fence_device": {"name": "a", "driver": "fence_nosuchagent", "address": "h"}}),
            "not installed",
        ),
        (
            json!({"fence_device": {"name": "a", "driver": "ipmi", "address": "h", "username": "u", "password": "x", "extra": 1}}),
            "extra",
        ),
    ];
    for (body, needle) in cases {
        let reply = app
            .call(Method::POST, &devices, V, Some(body.clone()))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert!(reply.fault().contains(needle), "{body}: {}", reply.fault());
    }
}

#[tokio::test]
async fn passwords_are_refused_without_a_credential_key() {
    let app = spawn_app().await;
    let devices = format!("{}/fence_devices", host_path(&app, "c1").await);
    let reply = app
        .call(Method::POST, &devices, V, Some(bmc("10.0.0.5", "pw")))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.fault().contains("credential_key_file"),
        "{}",
        reply.fault()
    );
}

#[tokio::test]
async fn operators_power_a_configured_host_and_see_its_fence_history() {
    let sim = IpmiSim::start();
    let app = spawn_fencing_app().await;
    let host = host_path(&app, "c1").await;
    let action = format!("{host}/action");

    let none = app
        .call(Method::POST, &action, V, Some(json!({"power": "status"})))
        .await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.text);

    add_bmc(&app, &host, &sim.address(), "password").await;

    let status = app
        .call(Method::POST, &action, V, Some(json!({"power": "status"})))
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    assert_eq!(status.body["power"]["state"], "on");

    let off = app
        .call(Method::POST, &action, V, Some(json!({"power": "off"})))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(off.body["power"]["state"], "off");
    assert_eq!(off.body["power"]["attempts"][0]["result"], "success");
    assert!(!sim.power_on());

    let bad = app
        .call(Method::POST, &action, V, Some(json!({"power": "explode"})))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let history = app
        .call(Method::GET, &format!("{host}/fence_history"), V, None)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let entries = history.body["fence_history"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "off");
    assert_eq!(entries[0]["result"], "success");
    assert_eq!(entries[0]["device"], "bmc");
    assert_eq!(entries[1]["action"], "status");
    assert!(!history.text.contains("password\""), "{}", history.text);
}

#[tokio::test]
async fn a_failed_power_action_says_why() {
    let sim = IpmiSim::start();
    let app = spawn_fencing_app().await;
    let host = host_path(&app, "c1").await;
    app.call(
        Method::POST,
        &format!("{host}/fence_devices"),
        V,
        Some(bmc(&sim.address(), "wrong-pw")),
    )
    .await;
    let off = app
        .call(
            Method::POST,
            &format!("{host}/action"),
            V,
            Some(json!({"power": "off"})),
        )
        .await;
    assert_eq!(off.status, StatusCode::SERVICE_UNAVAILABLE, "{}", off.text);
    assert!(off.fault().contains("wrong password"), "{}", off.fault());
    assert!(!off.text.contains("wrong-pw"), "{}", off.text);
    assert!(sim.power_on());
}

#[tokio::test]
async fn a_status_only_grant_reads_power_but_cannot_switch_it() {
    let sim = IpmiSim::start();
    // What an operator grants the monitors' role: reading power, not switching it.
    let app = spawn_fencing_app_with_policy(&[("os_masakari_api:os-hosts:power", "!")]).await;
    let host = host_path(&app, "c1").await;
    add_bmc(&app, &host, &sim.address(), "password").await;
    let action = format!("{host}/action");
    let status = app
        .call(Method::POST, &action, V, Some(json!({"power": "status"})))
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    assert_eq!(status.body["power"]["state"], "on");
    for switch in ["off", "reboot", "on"] {
        let refused = app
            .call(Method::POST, &action, V, Some(json!({"power": switch})))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{switch}: {}",
            refused.text
        );
    }
    assert!(sim.power_on(), "a refused power-off must not reach the BMC");
    // Refused before the host is looked up: an unknown host reads the same as a known one.
    let unknown = app
        .call(
            Method::POST,
            &action.replace(
                &host_path_tail(&host),
                "/hosts/00000000-0000-0000-0000-000000000000",
            ),
            V,
            Some(json!({"power": "off"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN, "{}", unknown.text);
}

/// Configures one IPMI device at `address` for `host` (a host path).
async fn add_bmc(app: &TestApp, host: &str, address: &str, password: &str) {
    let created = app
        .call(
            Method::POST,
            &format!("{host}/fence_devices"),
            V,
            Some(bmc(address, password)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}

/// `/hosts/<uuid>` of a host path.
fn host_path_tail(host: &str) -> String {
    host[host.rfind("/hosts/").unwrap()..].to_owned()
}

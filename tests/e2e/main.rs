//! End-to-end: the `lifeboat` binary against the real clients (the `openstack` CLI with
//! python-masakariclient, openstacksdk, schemathesis) and a real Keystone. The Python tools are
//! installed by `scripts/test-setup.sh`; a missing tool fails the test with that hint.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

mod cli;
mod config;
mod connections;
mod crm;
mod crm_config;
mod crm_executor;
mod faults;
mod fence;
mod import_masakari;
mod keystone;
mod logging_fields;
mod logs;
mod masakari;
mod metrics;
mod monitors;
mod nova;
mod packaging;
mod plugin;
mod recovery;
mod schema;
mod sdk;
mod secrets;
mod status;
mod support;
mod trial;

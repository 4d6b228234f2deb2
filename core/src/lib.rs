//! Lifeboat's domain: the types every other crate shares.
//!
//! * [`model`]: segments, hosts, notifications, vmoves and recovery steps, with the enums whose
//!   string forms are part of Masakari's wire contract;
//! * [`validation`]: parse-once newtypes for every user-supplied value (names, payloads, times,
//!   booleans) with messages that name the offending field;
//! * [`wire`]: the JSON shapes of the Masakari v1 API, shared by the API server and our client;
//! * [`store`], [`compute`], [`auth`], [`clock`]: the seams to the database, Nova, Keystone and
//!   time, as traits;
//! * [`config`]: the oslo-style INI configuration, typed and documented.
//!
//! This crate must not depend on sqlx, axum, reqwest or any other lifeboat crate: it is the
//! vocabulary, not the machinery.

pub mod auth;
pub mod clock;
pub mod compute;
pub mod config;
pub mod fencing;
pub mod model;
pub mod store;
pub mod validation;
pub mod wire;

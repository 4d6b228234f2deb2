//! Lifeboat's cluster resource manager, the executor (Pacemaker's `pacemaker-execd`): runs
//! one action of one resource on this node and says how it went, in OCF terms.
//!
//! * [`agent`]: a primitive's `class:provider:type` resolved to an OCF agent under
//!   `OCF_ROOT`, an LSB init script, a systemd unit (only where systemd is PID 1), or a
//!   stonith device (run by the `fence/` crate, never here);
//! * [`env`]: the OCF environment, as Pacemaker sets it, built from nothing;
//! * [`process`]: an agent in its own process group, output captured up to a bound, the
//!   group killed at the timeout;
//! * [`outcome`]: OCF return codes (LSB's mapped as Pacemaker maps them) apart from the
//!   op-status (done, timed out, not installed, error);
//! * [`metadata`]: an agent's `meta-data`, and the timeout an operation runs under;
//! * [`executor`]: all of it for one request;
//! * [`attributes`] and [`tools`]: the node attributes agents set through `crm_attribute`
//!   and `crm_master`, which the `lifeboat` binary answers to. The executor points agents at
//!   them: `HA_SBIN_DIR` (and the head of `PATH`) is a directory of links named after the
//!   tools, `LIFEBOAT_CRM_ATTRIBUTES` the store's directory, `LIFEBOAT_CRM_NODE` the node.

pub mod agent;
pub mod attributes;
pub mod env;
pub mod executor;
pub mod metadata;
pub mod outcome;
pub mod process;
mod systemd;
pub mod tools;

pub use agent::{Action, Agent, AgentDirs, AgentSpec, ResolveError};
pub use executor::{ExecError, Executor, ExecutorConfig, OpRequest};
pub use outcome::{OcfRc, OpResult, OpStatus};

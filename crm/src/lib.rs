//! Lifeboat's cluster resource manager, part 1: the cluster model (configuration and status,
//! as Pacemaker's CIB holds them), the CIB XML reader, and a scheduler that decides, as a pure
//! function of (configuration, status, now), which actions bring the cluster to where it
//! should be. It follows Pacemaker 2.1.5's placement rules so that operators can bring their
//! existing CIB, and prints the result as `crm_simulate --simulate` does.
//!
//! No I/O here (like `lifeboat-core`): the binary reads files and prints.

pub mod cib;
pub mod convert;
pub mod error;
pub mod explain;
pub mod graph;
pub mod model;
pub mod output;
pub mod scheduler;
pub mod simulate;
pub mod verify;
pub mod yaml;

pub use error::CibError;
pub use model::{Cluster, Score};
pub use scheduler::{Transition, schedule};

//! The executor against real agents: Debian's resource-agents (`ocf:heartbeat:Dummy`), test
//! scripts in a temporary `OCF_ROOT` (an agent that hangs), and an LSB init script.
//! `scripts/setup/crm-executor.sh` installs the agents.

mod lsb;
mod ocf;
mod support;

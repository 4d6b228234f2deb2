//! Remote and guest nodes in the node list, as `crm_mon` 2.1.5 prints them: unclean,
//! standby and maintenance ones on their own line (`RemoteNode X: …`), the others in the
//! `RemoteOnline`, `RemoteOFFLINE` and `GuestOnline` lists (offline guests are not shown).

use std::fmt::Write as _;

use super::status::View;
use crate::scheduler::Working;

/// The lists, filled node by node.
#[derive(Debug, Default)]
pub(super) struct NodeLists {
    remote_online: Vec<String>,
    remote_offline: Vec<String>,
    guest_online: Vec<String>,
}

impl NodeLists {
    /// Take node `i` if it is a remote or guest node: print its own line or list it.
    pub(super) fn take(&mut self, w: &Working, i: usize, view: View, out: &mut String) -> bool {
        let n = &w.nodes[i];
        let Some(info) = &n.remote else {
            return false;
        };
        let kind = if info.guest {
            "GuestNode"
        } else {
            "RemoteNode"
        };
        let online = match view {
            View::Current => info.online_now,
            View::Revised => crate::scheduler::revised_online(w, i),
        };
        let unclean = match view {
            View::Current => info.unclean_now || info.startup_unclean,
            View::Revised => n.unclean && (!n.fenced || info.held),
        };
        if unclean {
            let how = if online { "online" } else { "offline" };
            let _ = writeln!(out, "    * {kind} {}: UNCLEAN ({how})", n.uname);
        } else if online && n.standby {
            let _ = writeln!(out, "    * {kind} {}: standby", n.uname);
        } else if online && n.maintenance {
            let _ = writeln!(out, "    * {kind} {}: maintenance", n.uname);
        } else if online && info.guest {
            self.guest_online.push(n.uname.clone());
        } else if online {
            self.remote_online.push(n.uname.clone());
        } else if !info.guest {
            self.remote_offline.push(n.uname.clone());
        }
        true
    }

    /// Print the lists (after the cluster nodes' ones).
    pub(super) fn print(&self, out: &mut String) {
        for (title, list) in [
            ("RemoteOnline", &self.remote_online),
            ("RemoteOFFLINE", &self.remote_offline),
            ("GuestOnline", &self.guest_online),
        ] {
            if !list.is_empty() {
                let _ = writeln!(out, "    * {title}: [ {} ]", list.join(" "));
            }
        }
    }
}

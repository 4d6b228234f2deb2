//! Each resource's current state from its operation history on each node (Pacemaker's
//! `unpack_lrm_resource`, `unpack_rsc_op` and `process_rsc_state`), fail counts and
//! migration-threshold.

use crate::model::{Cluster, INFINITY, LrmResource, Role, Score, parse_interval_ms};

use super::working::{RscKind, Working};

/// What a failure asks for, from mild to severe (Pacemaker's `action_fail_response` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum OnFail {
    Ignore,
    Demote,
    Restart,
    Block,
    Stop,
    Standby,
    Fence,
}

pub(super) fn unpack_all(w: &mut Working, cluster: &Cluster) {
    // Cluster nodes first; a remote node's history is read once its connection is known
    // to be up (Pacemaker's `unpack_node_history`).
    unpack_nodes(w, cluster, |w, node| w.nodes[node].remote.is_none());
    let readable = super::remote::settle(w, cluster);
    unpack_nodes(w, cluster, |_, node| readable.contains(&node));
    // With fencing, the rest are read last: what is active there makes them fenced.
    if w.stonith_enabled {
        unpack_nodes(w, cluster, |w, node| {
            w.nodes[node].remote.is_some() && !readable.contains(&node)
        });
    }
    fail_counts(w);
    for i in 0..w.rscs.len() {
        let managed = w.meta(i, "is-managed").is_none_or(crate::model::is_true)
            && !w.maintenance_mode
            && !w.meta(i, "maintenance").is_some_and(crate::model::is_true);
        let on_maintenance_node = w.rscs[i]
            .running
            .iter()
            .any(|&(n, _)| w.nodes[n].maintenance);
        w.rscs[i].managed = managed && !w.rscs[i].blocked && !on_maintenance_node;
        // Inside a promotable clone, "Started" is the Unpromoted role.
        if w.is_promotable_instance(i) {
            for (_, role) in &mut w.rscs[i].running {
                if *role == Role::Started {
                    *role = Role::Unpromoted;
                }
            }
        }
    }
}

/// Read the history of the status entries whose node `wanted` accepts, in status order
/// (anonymous clone instances are numbered as their history is met).
fn unpack_nodes(w: &mut Working, cluster: &Cluster, wanted: impl Fn(&Working, usize) -> bool) {
    for si in 0..cluster.status.nodes.len() {
        let ns = &cluster.status.nodes[si];
        let Some(node) = w.node_index(&ns.uname) else {
            continue;
        };
        if !wanted(w, node) {
            continue;
        }
        // Without fencing, an offline node's history is not read: what ran there is gone.
        if !w.stonith_enabled && !w.nodes[node].online {
            continue;
        }
        for lrm in &ns.resources {
            let Some(rsc) = find_or_orphan(w, cluster, lrm, node) else {
                continue;
            };
            unpack_resource(w, rsc, node, lrm);
            if let Some(change) = super::digest::check(w, cluster, rsc, lrm) {
                w.rscs[rsc].param_changes.push((node, change));
            }
        }
    }
}

/// The arena entry that holds `lrm`'s history on `node`: a primitive by id, or an instance of
/// a clone (anonymous clones take the instance active there, else a free one).
fn find_or_orphan(
    w: &mut Working,
    cluster: &Cluster,
    lrm: &LrmResource,
    node: usize,
) -> Option<usize> {
    let (base, num) = match lrm.id.rsplit_once(':') {
        Some((b, n)) if n.parse::<usize>().is_ok() => (b, n.parse::<usize>().ok()),
        _ => (lrm.id.as_str(), None),
    };
    let candidates: Vec<usize> = (0..w.rscs.len())
        .filter(|&i| w.rscs[i].base == base && matches!(w.rscs[i].kind, RscKind::Primitive { .. }))
        .collect();
    if candidates.is_empty() {
        // An instance of a clone that has none configured (clone-max=0): an orphaned instance.
        if let Some(clone) = clone_of_child(w, cluster, base) {
            return Some(add_instance_orphan(w, lrm, clone, base, node));
        }
        return Some(add_orphan(w, lrm));
    }
    let Some(clone) = w.clone_ancestor(candidates[0]) else {
        return Some(candidates[0]);
    };
    let unique = matches!(w.rscs[clone].kind, RscKind::Clone { unique: true, .. });
    if unique && let Some(n) = num {
        return candidates
            .iter()
            .copied()
            .find(|&c| w.rscs[c].instance == Some(n))
            .or_else(|| Some(add_orphan(w, lrm)));
    }
    let _ = cluster;
    // Instance tops (the group instance for cloned groups).
    let inst_of = |w: &Working, c: usize| -> usize {
        let mut i = c;
        while w.rscs[i].parent != Some(clone) {
            i = w.rscs[i].parent.unwrap_or(i);
        }
        i
    };
    let active_on = |w: &Working, top: usize, n: usize| {
        w.primitives(top)
            .iter()
            .any(|&p| w.rscs[p].running.iter().any(|&(m, _)| m == n))
    };
    let active_anywhere = |w: &Working, top: usize| {
        w.primitives(top)
            .iter()
            .any(|&p| !w.rscs[p].running.is_empty())
    };
    // An instance active here whose copy of this member already has a history here: this
    // history is of another, orphaned instance (no inactive instance takes it).
    let mut skip_inactive = false;
    for &c in &candidates {
        if active_on(w, inst_of(w, c), node) {
            if w.rscs[c].running.is_empty() {
                return Some(c);
            }
            skip_inactive = true;
        }
    }
    for &c in &candidates {
        if !skip_inactive && !active_anywhere(w, inst_of(w, c)) {
            return Some(c);
        }
    }
    // More active copies than clone-max: an orphaned instance.
    Some(add_instance_orphan(w, lrm, clone, base, node))
}

/// The clone (in the arena) whose configured child is `base`.
fn clone_of_child(w: &Working, cluster: &Cluster, base: &str) -> Option<usize> {
    fn find(rs: &[crate::model::Resource], base: &str) -> Option<String> {
        rs.iter().find_map(|r| match &r.kind {
            crate::model::ResourceKind::Clone(inner) if inner.id == base => Some(r.id.clone()),
            crate::model::ResourceKind::Group(m) => find(m, base),
            _ => None,
        })
    }
    let id = find(&cluster.resources, base)?;
    (0..w.rscs.len())
        .find(|&i| w.rscs[i].base == id && matches!(w.rscs[i].kind, RscKind::Clone { .. }))
}

/// An orphaned instance under `clone`: one active here already, or an inactive one, or a
/// new one numbered after the others.
fn add_instance_orphan(
    w: &mut Working,
    lrm: &LrmResource,
    clone: usize,
    base: &str,
    node: usize,
) -> usize {
    let RscKind::Clone { instances, .. } = &w.rscs[clone].kind else {
        return add_orphan(w, lrm);
    };
    let all_orphans: Vec<usize> = instances
        .iter()
        .copied()
        .filter(|&i| w.rscs[i].orphan)
        .collect();
    let orphans: Vec<usize> = all_orphans
        .iter()
        .copied()
        .filter(|&i| w.rscs[i].base == base)
        .collect();
    // A member of a cloned group joins the orphaned instance its siblings made here.
    let taken: Vec<Option<usize>> = orphans.iter().map(|&i| w.rscs[i].instance).collect();
    let count = all_orphans
        .iter()
        .filter(|&&i| w.rscs[i].running.iter().any(|&(n, _)| n == node))
        .filter_map(|&i| w.rscs[i].instance)
        .filter(|k| !taken.contains(&Some(*k)))
        .min()
        .unwrap_or(instances.len());
    if let Some(&i) = orphans
        .iter()
        .find(|&&i| w.rscs[i].running.iter().any(|&(n, _)| n == node))
        .or_else(|| orphans.iter().find(|&&i| w.rscs[i].running.is_empty()))
    {
        return i;
    }
    let idx = add_orphan(w, lrm);
    w.tops.retain(|&t| t != idx);
    w.rscs[idx].id = format!("{base}:{count}");
    w.rscs[idx].parent = Some(clone);
    w.rscs[idx].base = base.to_string();
    w.rscs[idx].instance = Some(count);
    if let RscKind::Clone { instances, .. } = &mut w.rscs[clone].kind {
        instances.push(idx);
    }
    idx
}

fn add_orphan(w: &mut Working, lrm: &LrmResource) -> usize {
    let idx = w.rscs.len();
    let kind = RscKind::Primitive {
        class: lrm.class.clone(),
        provider: lrm.provider.clone(),
        agent: lrm.agent.clone(),
        ops: Vec::new(),
    };
    let mut r = super::unpack::blank(
        lrm.id.clone(),
        lrm.id.clone(),
        kind,
        None,
        Default::default(),
    );
    r.orphan = true;
    r.forced_role = Some(Role::Stopped);
    w.rscs.push(r);
    w.tops.push(idx);
    idx
}

/// rc → (success, role after, severity) for one finished operation.
enum Outcome {
    Ok(Option<Role>),
    Soft(Role),
    Hard(Role),
    Fatal(Role),
}

fn outcome(task: &str, interval_ms: u64, rc: i32, op_status: i32, expected: i32) -> Outcome {
    let probe = task == "monitor" && interval_ms == 0;
    let role_of_task = match task {
        "promote" => Role::Promoted,
        "demote" => Role::Promoted,
        _ => Role::Started,
    };
    match op_status {
        0 => {}
        2 | 4 => return Outcome::Soft(role_of_task),
        3 | 5 | 7 => return Outcome::Hard(role_of_task),
        6 => return Outcome::Fatal(role_of_task),
        _ => return Outcome::Ok(None),
    }
    let rc = match rc {
        190 => 0,
        191 => 8,
        r => r,
    };
    if rc == expected || (probe && matches!(rc, 0 | 7 | 8)) {
        let role = match (task, rc) {
            (_, 7) => Some(Role::Stopped),
            (_, 8) => Some(Role::Promoted),
            ("start" | "migrate_from", _) => Some(Role::Started),
            ("stop", _) => Some(Role::Stopped),
            ("promote", _) => Some(Role::Promoted),
            ("demote", _) => Some(Role::Unpromoted),
            ("monitor", 0) => Some(Role::Started),
            _ => None,
        };
        return Outcome::Ok(role);
    }
    match rc {
        7 if task == "stop" => Outcome::Ok(Some(Role::Stopped)),
        8 | 9 => Outcome::Soft(Role::Promoted),
        2 | 4 | 5 => Outcome::Hard(role_of_task),
        3 => Outcome::Hard(role_of_task),
        6 => Outcome::Fatal(role_of_task),
        _ => Outcome::Soft(role_of_task),
    }
}

fn configured_on_fail(w: &Working, rsc: usize, task: &str, interval_ms: u64) -> OnFail {
    let ops = match &w.rscs[rsc].kind {
        RscKind::Primitive { ops, .. } => ops.as_slice(),
        _ => &[],
    };
    let def = ops
        .iter()
        .find(|o| o.name == task && o.interval_ms == interval_ms)
        .and_then(|o| o.on_fail.clone());
    let def = def.or_else(|| {
        // A failed demote does what the Promoted monitor's on-fail says.
        (task == "demote")
            .then(|| {
                ops.iter()
                    .find(|o| o.name == "monitor" && o.role == Some(Role::Promoted))
                    .and_then(|o| o.on_fail.clone())
            })
            .flatten()
    });
    match def.as_deref() {
        Some("ignore") => OnFail::Ignore,
        Some("demote") => OnFail::Demote,
        Some("block") => OnFail::Block,
        Some("stop") => OnFail::Stop,
        Some("standby") => OnFail::Standby,
        Some("fence") if w.stonith_enabled => OnFail::Fence,
        Some("fence") => OnFail::Block,
        Some(_) => OnFail::Restart,
        None if task == "stop" => {
            if w.stonith_enabled {
                OnFail::Fence
            } else {
                OnFail::Block
            }
        }
        None => OnFail::Restart,
    }
}

fn unpack_resource(w: &mut Working, rsc: usize, node: usize, lrm: &LrmResource) {
    let mut ops: Vec<_> = lrm
        .ops
        .iter()
        .filter(|o| o.call_id >= 0 && o.op_status != -1 && o.op_status != 1)
        .collect();
    ops.sort_by_key(|o| (o.call_id, o.id.contains("last_failure")));
    let mut role = Role::Unknown;
    let mut on_fail = OnFail::Ignore;
    // A pending start or promote counts as done (the result is not in yet).
    let pending = lrm
        .ops
        .iter()
        .filter(|o| o.call_id == -1 || o.op_status == -1)
        .max_by_key(|o| o.call_id);
    for op in &ops {
        let expected =
            op.target_rc
                .unwrap_or(if op.operation == "monitor" && op.interval_ms == 0 {
                    7
                } else {
                    0
                });
        match outcome(&op.operation, op.interval_ms, op.rc, op.op_status, expected) {
            Outcome::Ok(r) => {
                if op.operation == "monitor" && op.interval_ms > 0 {
                    // A recurring monitor confirms; it does not clear a failure.
                    if let Some(Role::Promoted) = r {
                        role = Role::Promoted;
                    } else if let Some(Role::Stopped) = r {
                        // A monitor of the Stopped role, confirming it is not running.
                        role = Role::Stopped;
                    } else if role < Role::Started {
                        role = Role::Started;
                    }
                    continue;
                }
                if let Some(r) = r {
                    role = r;
                }
                if matches!(
                    op.operation.as_str(),
                    "stop" | "start" | "monitor" | "promote" | "demote"
                ) && matches!(
                    on_fail,
                    OnFail::Ignore | OnFail::Demote | OnFail::Restart | OnFail::Block
                ) {
                    on_fail = OnFail::Ignore;
                    w.rscs[rsc].failed_probes.remove(&node);
                }
            }
            Outcome::Soft(r) | Outcome::Hard(r) | Outcome::Fatal(r) => {
                // A failure older than failure-timeout has expired: it no longer counts.
                let timeout_s = w
                    .meta(rsc, "failure-timeout")
                    .and_then(parse_interval_ms)
                    .unwrap_or(0) as i64
                    / 1000;
                if timeout_s > 0 && op.last_rc_change.is_some_and(|t| t + timeout_s <= w.now) {
                    continue;
                }
                let sev = outcome(&op.operation, op.interval_ms, op.rc, op.op_status, expected);
                let mut configured = configured_on_fail(w, rsc, &op.operation, op.interval_ms);
                // on-fail=ignore covers what the agent reports, not the executor's own hard
                // errors (agent not installed, …): those are recovered.
                if configured == OnFail::Ignore && matches!(op.op_status, 3 | 5 | 6 | 7) {
                    configured = OnFail::Restart;
                }
                if configured == OnFail::Ignore {
                    // Pacemaker pretends the action succeeded.
                    w.rscs[rsc].failure_ignored = true;
                    role = match op.operation.as_str() {
                        "stop" => Role::Stopped,
                        "promote" => Role::Promoted,
                        "demote" => Role::Unpromoted,
                        _ => role.max(Role::Started),
                    };
                    continue;
                }
                let probe = op.operation == "monitor" && op.interval_ms == 0;
                if probe && op.rc == 5 {
                    // Not installed: the resource cannot run here, and is not running.
                    w.rscs[rsc].failed_probes.insert(node, op.rc);
                    w.rscs[rsc].bans.push((Some(node), Score::NEG_INF));
                    role = Role::Stopped;
                    continue;
                }
                on_fail = on_fail.max(configured);
                match sev {
                    Outcome::Hard(_) => w.rscs[rsc].bans.push((Some(node), Score::NEG_INF)),
                    Outcome::Fatal(_) => w.rscs[rsc].bans.push((None, Score::NEG_INF)),
                    _ => {}
                }
                if op.operation == "stop" {
                    w.rscs[rsc].bans.push((Some(node), Score::NEG_INF));
                }
                role = if op.operation == "demote" && r == Role::Promoted {
                    // Pacemaker: a failed demote leaves it Unpromoted (it is recovered by a
                    // stop anyway), or Promoted and to be stopped with on-fail=block.
                    if configured == OnFail::Block {
                        w.rscs[rsc].forced_role = Some(Role::Stopped);
                        Role::Promoted
                    } else if op.rc == 7 {
                        Role::Stopped
                    } else {
                        Role::Unpromoted
                    }
                } else if role >= Role::Started && r == Role::Started {
                    role
                } else {
                    r.max(Role::Started)
                };
                if op.operation == "monitor" && op.rc == 7 && role == Role::Stopped {
                    role = Role::Started;
                }
            }
        }
    }
    if let Some(p) = pending {
        match p.operation.as_str() {
            "start" | "migrate_from" => role = role.max(Role::Started),
            "promote" => role = Role::Promoted,
            _ => {}
        }
    }
    process_state(w, rsc, node, role, on_fail);
}

/// Pacemaker's `process_rsc_state`.
fn process_state(w: &mut Working, rsc: usize, node: usize, role: Role, mut on_fail: OnFail) {
    if !w.rscs[rsc].known_on.contains(&node) {
        w.rscs[rsc].known_on.push(node);
    }
    let managed = w.meta(rsc, "is-managed").is_none_or(crate::model::is_true)
        && !w.maintenance_mode
        && !w
            .meta(rsc, "maintenance")
            .is_some_and(crate::model::is_true);
    let active = role > Role::Stopped;
    if active
        && !w.nodes[node].online
        && !w.nodes[node].maintenance
        && managed
        && let Some(why) = super::remote::active_while_down(w, node, rsc)
    {
        fence(w, node, &why);
    }
    if w.nodes[node].unclean {
        on_fail = OnFail::Ignore;
    }
    match on_fail {
        OnFail::Fence => {
            let why = format!("{} failed there", w.rscs[rsc].id);
            fence(w, node, &why);
        }
        OnFail::Standby => w.nodes[node].standby = true,
        OnFail::Block => {
            w.rscs[rsc].blocked = true;
        }
        OnFail::Stop => w.rscs[rsc].forced_role = Some(Role::Stopped),
        _ => {}
    }
    if active {
        let role = if role == Role::Unknown {
            Role::Started
        } else {
            role
        };
        w.rscs[rsc].running.push((node, role));
        match on_fail {
            OnFail::Ignore => {}
            // Recovered by demotion (and promoted again where it stays promoted).
            OnFail::Demote if role == Role::Promoted => w.rscs[rsc].demote_failed = true,
            _ => w.rscs[rsc].failed = true,
        }
    }
}

pub(super) fn fence(w: &mut Working, node: usize, why: &str) {
    let n = &mut w.nodes[node];
    if !n.unclean {
        n.unclean = true;
        n.unclean_reason = Some(why.to_string());
    }
}

/// Fail counts (transient `fail-count-RSC[#op_interval]` attributes) against
/// migration-threshold: a node where the threshold is reached is banned.
fn fail_counts(w: &mut Working) {
    for rsc in 0..w.rscs.len() {
        if !matches!(w.rscs[rsc].kind, RscKind::Primitive { .. }) {
            continue;
        }
        let threshold = w
            .meta(rsc, "migration-threshold")
            .and_then(Score::parse)
            .unwrap_or(Score::INF)
            .0;
        if threshold <= 0 {
            continue;
        }
        let timeout_s = w
            .meta(rsc, "failure-timeout")
            .and_then(parse_interval_ms)
            .unwrap_or(0)
            / 1000;
        let names = [w.rscs[rsc].id.clone(), w.rscs[rsc].base.clone()];
        for node in 0..w.nodes.len() {
            let attrs = &w.nodes[node].attrs;
            let mut count = Score::ZERO;
            let mut last = 0i64;
            for (k, v) in attrs {
                let Some(rest) = k.strip_prefix("fail-count-") else {
                    continue;
                };
                let mut parts = rest.splitn(2, '#');
                let name = parts.next().unwrap_or(rest);
                if !names.iter().any(|n| n == name) {
                    continue;
                }
                // Failures of operations with on-fail=ignore do not count (a count without
                // the operation's name may be theirs: it does not count either).
                let op_key = parts.next().and_then(|k| k.rsplit_once('_'));
                let ignored = match &w.rscs[rsc].kind {
                    RscKind::Primitive { ops, .. } => ops.iter().any(|o| {
                        o.on_fail.as_deref() == Some("ignore")
                            && op_key.is_none_or(|(op, interval)| {
                                o.name == op && interval.parse() == Ok(o.interval_ms)
                            })
                    }),
                    _ => false,
                };
                if ignored {
                    continue;
                }
                count = count + Score::parse(v).unwrap_or(Score::ZERO);
            }
            for (k, v) in attrs {
                if let Some(rest) = k.strip_prefix("last-failure-") {
                    let name = rest.split('#').next().unwrap_or(rest);
                    if names.iter().any(|n| n == name) {
                        last = last.max(v.parse().unwrap_or(0));
                    }
                }
            }
            if timeout_s > 0 && last > 0 && w.now >= last + timeout_s as i64 {
                continue;
            }
            if count.0 > 0 && count.0 >= threshold.min(INFINITY) {
                // Anonymous clone instances share the ban: no instance may run there.
                let target = match w.clone_ancestor(rsc) {
                    Some(c) if !matches!(w.rscs[c].kind, RscKind::Clone { unique: true, .. }) => c,
                    _ => rsc,
                };
                w.rscs[target].bans.push((Some(node), Score::NEG_INF));
            }
        }
    }
}

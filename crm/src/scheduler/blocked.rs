//! Stops forced or prevented by the stops around them: a stop that cannot run because a stop
//! that must come first cannot (an unmanaged or blocked resource ordered after it), and an
//! interleaved instance whose partner instance stops.

use super::working::Working;

/// Whether the stop of `then` cannot run: a primitive of it is active but blocked or
/// unmanaged, or has a stop that cannot run itself.
fn stop_stuck(w: &Working, then: usize) -> bool {
    w.primitives(then).iter().any(|&p| {
        let r = &w.rscs[p];
        !r.running.is_empty() && (r.blocked || !r.managed || r.stop_blocked)
    })
}

/// Mark the stops of moving or restarting primitives that wait (`stop_waits`: first, then;
/// the stop of `then` runs first) for a stop that cannot run, and say why as Pacemaker does:
/// a restart cascaded from the stop of the member before it keeps "required <that> stop",
/// any other "unrunnable <then> stop".
pub(super) fn block_stops(w: &mut Working, stop_waits: &[(usize, usize)], restart: &mut [bool]) {
    let mut done = vec![false; w.rscs.len()];
    loop {
        let mut changed = false;
        for &(first, then) in stop_waits {
            if !stop_stuck(w, then) {
                continue;
            }
            for p in w.primitives(first) {
                let r = &w.rscs[p];
                let cur = r.running.first().map(|&(n, _)| n);
                let moves = r.next_node.is_some() && r.next_node != cur;
                if !r.managed || cur.is_none() || done[p] || !(moves || restart[p]) {
                    continue;
                }
                let cascaded = restart[p]
                    .then_some(r.stop_reason.as_deref())
                    .flatten()
                    .and_then(|why| why.strip_prefix("required "))
                    .and_then(|why| why.strip_suffix(" start"))
                    .filter(|pred| {
                        w.rscs
                            .iter()
                            .any(|q| q.id == *pred && !q.running.is_empty())
                    })
                    .map(str::to_string);
                let why = match cascaded {
                    Some(pred) => format!("required {pred} stop"),
                    None => format!("unrunnable {} stop", w.rscs[then].id),
                };
                done[p] = true;
                w.rscs[p].stop_blocked = true;
                w.rscs[p].stop_reason = Some(why);
                restart[p] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Whether the interleaved instance `p` loses the instance of `first` it follows: one runs on
/// its node now and none will after the transition, while `p` would stay.
pub(super) fn partner_leaves(w: &Working, first: usize, p: usize) -> bool {
    let r = &w.rscs[p];
    let here = r.running.first().map(|&(n, _)| n);
    let stays = here.is_some() && r.next_node == here && !r.failed;
    stays
        && w.primitives(first).iter().any(|&q| {
            let f = &w.rscs[q];
            f.managed && f.running.first().map(|&(n, _)| n) == here && f.next_node != here
        })
}

/// Whether `first` is a clone with an instance that stops and starts again on its node.
pub(super) fn restarts_in_place(w: &Working, first: usize, restart: &[bool]) -> bool {
    matches!(w.rscs[first].kind, super::working::RscKind::Clone { .. })
        && w.primitives(first).iter().any(|&q| {
            let r = &w.rscs[q];
            restart[q] && r.next_node.is_some() && r.running.first().map(|&(n, _)| n) == r.next_node
        })
}

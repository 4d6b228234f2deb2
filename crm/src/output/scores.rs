//! `--show-scores`: the allocation and promotion scores, one line each, as Pacemaker 2.1.5's
//! `crm_simulate --show-scores` prints them.

use std::fmt::Write as _;

use crate::scheduler::Working;

/// Every recorded score, in the order the scheduler decided; nodes by name.
pub fn scores_text(w: &Working) -> String {
    let mut by_name: Vec<usize> = (0..w.nodes.len()).collect();
    by_name.sort_by(|&a, &b| w.nodes[a].uname.cmp(&w.nodes[b].uname));
    let mut out = String::new();
    for a in &w.score_log.allocation {
        for &n in &by_name {
            let _ = writeln!(
                out,
                "{}: {} allocation score on {}: {}",
                a.stage.text(),
                w.rscs[a.rsc].id,
                w.nodes[n].uname,
                a.scores[n]
            );
        }
    }
    for p in &w.score_log.promotion {
        let node = p.node.map_or("none", |n| w.nodes[n].uname.as_str());
        let _ = writeln!(
            out,
            "{} promotion score on {node}: {}",
            w.rscs[p.rsc].id, p.score
        );
    }
    out
}

//! The peer driver's decisions, as pure functions of what was heard and when.
//!
//! Each agent keeps, per network, when it last heard each host, and the latest view every
//! other agent sent (which hosts *it* hears, per network). A host counts as down on a network
//! when a majority of the segment's agents, by their latest views, no longer hear it there
//! (only live agents vote, the host itself never); nothing is
//! decided at all unless the live agents are a majority of the segment (so a minority
//! partition never reports the majority). The matrix then says whether that combination of
//! down networks means recovery.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// A bit per network: set = heard recently on that network.
pub type Heard = u8;

/// Fixed facts of the segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// This agent.
    pub me: String,
    /// Every agent of the segment, this one included, sorted.
    pub hosts: Vec<String>,
    /// Networks in use (1 to 3).
    pub networks: usize,
    /// Silence after which a host is down on a network.
    pub dead_after: Duration,
}

impl Segment {
    fn all_networks(&self) -> Heard {
        ((1u16 << self.networks) - 1) as Heard
    }
}

/// What this agent has heard.
#[derive(Debug, Clone)]
pub struct Views {
    segment: Segment,
    /// `last[net][host]`: when `host` was last heard on `net`.
    last: Vec<HashMap<String, Instant>>,
    /// Latest view received from each agent, and when.
    theirs: HashMap<String, (Instant, HashMap<String, Heard>)>,
}

/// A host's state as the live majority sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The host.
    pub host: String,
    /// Down per network, by network index.
    pub down: Vec<bool>,
    /// Whether this agent is the one that reports it (the first, by name, of the live agents
    /// other than the host).
    pub reporter: bool,
}

impl Views {
    /// Starts with every host treated as heard at `heard_at` (pass `start + startup_grace -
    /// dead_after` so that hosts never heard count as down only after the grace period).
    pub fn new(segment: Segment, heard_at: Instant) -> Self {
        let seed: HashMap<String, Instant> = segment
            .hosts
            .iter()
            .filter(|h| **h != segment.me)
            .map(|h| (h.clone(), heard_at))
            .collect();
        Self {
            last: vec![seed; segment.networks],
            theirs: HashMap::new(),
            segment,
        }
    }

    /// The segment.
    pub fn segment(&self) -> &Segment {
        &self.segment
    }

    /// A heartbeat from `from` on network `net`, carrying its view.
    pub fn heard(&mut self, from: &str, net: usize, view: HashMap<String, Heard>, now: Instant) {
        if from == self.segment.me || !self.segment.hosts.iter().any(|h| h == from) {
            return;
        }
        if let Some(last) = self.last.get_mut(net) {
            last.insert(from.to_owned(), now);
        }
        self.theirs.insert(from.to_owned(), (now, view));
    }

    /// Which hosts this agent hears now, per network (itself: everywhere).
    pub fn mine(&self, now: Instant) -> HashMap<String, Heard> {
        self.segment
            .hosts
            .iter()
            .map(|h| {
                let bits = if *h == self.segment.me {
                    self.segment.all_networks()
                } else {
                    self.last
                        .iter()
                        .enumerate()
                        .filter(|(_, last)| {
                            last.get(h).is_some_and(|t| {
                                now.saturating_duration_since(*t) < self.segment.dead_after
                            })
                        })
                        .fold(0, |acc, (net, _)| acc | (1 << net))
                };
                (h.clone(), bits)
            })
            .collect()
    }

    /// The agents alive as this one sees it: itself and every host heard on some network.
    pub fn live(&self, now: Instant) -> Vec<String> {
        let mine = self.mine(now);
        self.segment
            .hosts
            .iter()
            .filter(|h| mine.get(*h).copied().unwrap_or(0) != 0)
            .cloned()
            .collect()
    }

    /// Whether the live agents are a majority of the segment.
    pub fn quorate(&self, now: Instant) -> bool {
        self.live(now).len() * 2 > self.segment.hosts.len()
    }

    /// The state of every other host, or `None` without quorum.
    pub fn verdicts(&self, now: Instant) -> Option<Vec<Verdict>> {
        let live = self.live(now);
        if live.len() * 2 <= self.segment.hosts.len() {
            return None;
        }
        let mine = self.mine(now);
        let view_of = |agent: &str| -> Option<&HashMap<String, Heard>> {
            if agent == self.segment.me {
                Some(&mine)
            } else {
                self.theirs.get(agent).map(|(_, v)| v)
            }
        };
        let verdicts = self
            .segment
            .hosts
            .iter()
            .filter(|h| **h != self.segment.me)
            .map(|host| {
                // Agents that have not sent a view yet (just started, seeded as heard) abstain.
                let voters: Vec<&String> = live
                    .iter()
                    .filter(|v| *v != host && view_of(v).is_some())
                    .collect();
                let down = (0..self.segment.networks)
                    .map(|net| {
                        let silent = voters
                            .iter()
                            .filter(|v| {
                                view_of(v).is_some_and(|view| {
                                    view.get(host).copied().unwrap_or(0) & (1 << net) == 0
                                })
                            })
                            .count();
                        // A majority of the whole segment, not of the live voters: when a
                        // partition cuts this agent off, the last views of the far side go stale
                        // one by one, and for a moment a stale view that still "hears" a host
                        // is outvoted by the near side's fresh silence. Counting against the
                        // segment, the near side alone never makes a majority.
                        silent * 2 > self.segment.hosts.len()
                    })
                    .collect();
                Verdict {
                    host: host.clone(),
                    down,
                    reporter: voters.first().is_some_and(|v| **v == self.segment.me),
                }
            })
            .collect();
        Some(verdicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(me: &str, n: usize, networks: usize) -> Segment {
        Segment {
            me: me.to_owned(),
            hosts: (1..=n).map(|i| format!("h{i}")).collect(),
            networks,
            dead_after: Duration::from_secs(2),
        }
    }

    fn everyone(seg: &Segment, bits: Heard) -> HashMap<String, Heard> {
        seg.hosts.iter().map(|h| (h.clone(), bits)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_host_is_down_once_the_majority_agrees_and_the_first_live_agent_reports() {
        let seg = segment("h1", 3, 1);
        let t0 = Instant::now();
        let mut v = Views::new(seg.clone(), t0);
        v.heard("h2", 0, everyone(&seg, 1), t0);
        v.heard("h3", 0, everyone(&seg, 1), t0);
        let t1 = t0 + Duration::from_millis(2500);
        // h1 stopped hearing h3, but h2's last view still has it: no majority yet.
        v.heard("h2", 0, everyone(&seg, 1), t1);
        let h3 = |v: &Views, t| {
            v.verdicts(t)
                .unwrap()
                .into_iter()
                .find(|x| x.host == "h3")
                .unwrap()
        };
        assert_eq!(h3(&v, t1).down, vec![false]);
        let mut h2_view = everyone(&seg, 1);
        h2_view.insert("h3".into(), 0);
        v.heard("h2", 0, h2_view, t1);
        let verdict = h3(&v, t1);
        assert_eq!(verdict.down, vec![true]);
        assert!(verdict.reporter, "h1 is the first live agent other than h3");
        // Seen from h2, h1 reports, not h2.
        let mut w = Views::new(segment("h2", 3, 1), t0);
        w.heard("h1", 0, v.mine(t1), t1);
        assert!(
            !w.verdicts(t1)
                .unwrap()
                .into_iter()
                .find(|x| x.host == "h3")
                .unwrap()
                .reporter
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_minority_decides_nothing() {
        let seg = segment("h1", 5, 1);
        let t0 = Instant::now();
        let mut v = Views::new(seg.clone(), t0);
        v.heard("h2", 0, everyone(&seg, 1), t0);
        let later = t0 + Duration::from_secs(3);
        v.heard("h2", 0, everyone(&seg, 1), later);
        assert_eq!(v.live(later), vec!["h1", "h2"]);
        assert!(v.verdicts(later).is_none());
        v.heard("h3", 0, everyone(&seg, 1), later);
        assert!(v.verdicts(later).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_far_side_of_a_partition_going_stale_one_by_one_makes_no_majority() {
        // {h1, h2} | {h3, h4, h5}: the far side's last heartbeats reached h1 a little apart.
        let seg = segment("h1", 5, 1);
        let t0 = Instant::now();
        let mut v = Views::new(seg.clone(), t0);
        for (i, h) in ["h3", "h4", "h5"].iter().enumerate() {
            let at = t0 + Duration::from_millis(500 * i as u64);
            v.heard(h, 0, everyone(&seg, 1), at);
        }
        // h3 and h4 are silent by now, h5 not yet; h2 (fresh) hears none of the far side.
        let t = t0 + Duration::from_millis(2700);
        let mut h2_view = everyone(&seg, 1);
        for far in ["h3", "h4", "h5"] {
            h2_view.insert(far.into(), 0);
        }
        v.heard("h2", 0, h2_view, t);
        assert_eq!(v.live(t), vec!["h1", "h2", "h5"], "still quorate");
        let verdicts = v.verdicts(t).expect("quorate");
        for far in ["h3", "h4"] {
            let verdict = verdicts.iter().find(|x| x.host == far).unwrap();
            assert_eq!(
                verdict.down,
                vec![false],
                "{far}: two of five is no majority"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn networks_are_judged_separately() {
        let seg = segment("h1", 3, 2);
        let t0 = Instant::now();
        let mut v = Views::new(seg.clone(), t0);
        let t1 = t0 + Duration::from_secs(3);
        // h3 is heard on the management network only, by both h1 and h2.
        let mut h2_view = everyone(&seg, 0b11);
        h2_view.insert("h3".into(), 0b01);
        v.heard("h2", 0, h2_view.clone(), t1);
        v.heard("h2", 1, h2_view, t1);
        v.heard("h3", 0, everyone(&seg, 0b11), t1);
        let h3 = v
            .verdicts(t1)
            .unwrap()
            .into_iter()
            .find(|x| x.host == "h3")
            .unwrap();
        assert_eq!(h3.down, vec![false, true]);
    }
}

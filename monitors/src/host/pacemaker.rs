//! The `pacemaker` driver (masakari-monitors' `default` and `simple`): membership and quorum
//! read from a real Pacemaker cluster with `crm_mon --output-as=xml`, judged as masakari's
//! hostmonitor judges them: nothing is decided without quorum (a partitioned minority must not
//! report the majority), a change counts after `monitoring_samples` equal samples, the first
//! sighting of a node is only remembered, and this node is skipped.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use lifeboat_core::clock::Clock;
use lifeboat_core::model::HostEvent;
use tokio_util::sync::CancellationToken;

use super::PowerCheck;
use crate::delivery::{HostStatus, Outbox, Report};

/// One node as Pacemaker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSample {
    /// Node name (= the Masakari host name).
    pub name: String,
    /// Online.
    pub online: bool,
    /// A pacemaker_remote node.
    pub remote: bool,
}

/// One look at the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSample {
    /// This partition has quorum (and a DC).
    pub quorate: bool,
    /// The nodes.
    pub nodes: Vec<NodeSample>,
}

/// Why the cluster could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PacemakerError {
    /// `crm_mon` could not run or failed.
    #[error("running {program} failed: {reason}")]
    Run {
        /// The program.
        program: String,
        /// Why.
        reason: String,
    },
    /// Its output is not what Pacemaker prints.
    #[error("reading crm_mon's XML failed: {0}")]
    Parse(String),
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

/// Parses `crm_mon --output-as=xml` (or the legacy `crm_mon -X`) output.
pub fn parse_crm_mon(xml: &str) -> Result<ClusterSample, PacemakerError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| PacemakerError::Parse(e.to_string()))?;
    let root = doc.root_element();
    let summary =
        child(root, "summary").ok_or_else(|| PacemakerError::Parse("no <summary>".to_owned()))?;
    let quorate = child(summary, "current_dc").is_some_and(|dc| {
        dc.attribute("present") != Some("false") && dc.attribute("with_quorum") == Some("true")
    });
    let nodes = child(root, "nodes")
        .map(|nodes| {
            nodes
                .children()
                .filter(|n| n.has_tag_name("node"))
                .filter_map(|n| {
                    Some(NodeSample {
                        name: n.attribute("name")?.to_owned(),
                        online: n.attribute("online") == Some("true"),
                        remote: n.attribute("type") == Some("remote"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ClusterSample { quorate, nodes })
}

/// A source of cluster samples.
#[async_trait::async_trait]
pub trait ClusterStatus: Send + Sync + std::fmt::Debug {
    /// Looks at the cluster once.
    async fn sample(&self) -> Result<ClusterSample, PacemakerError>;
}

/// `crm_mon --one-shot --output-as=xml`.
#[derive(Debug, Clone)]
pub struct CrmMon {
    /// The program.
    pub program: String,
}

#[async_trait::async_trait]
impl ClusterStatus for CrmMon {
    async fn sample(&self) -> Result<ClusterSample, PacemakerError> {
        let run = |reason: String| PacemakerError::Run {
            program: self.program.clone(),
            reason,
        };
        let output = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::process::Command::new(&self.program)
                .args(["--one-shot", "--output-as=xml"])
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| run("timed out after 30 s".to_owned()))?
        .map_err(|e| run(e.to_string()))?;
        let text = String::from_utf8_lossy(&output.stdout);
        // crm_mon exits non-zero without a cluster but still prints XML saying why.
        if !text.contains("<summary") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(run(format!("{}: {}", output.status, stderr.trim())));
        }
        parse_crm_mon(&text)
    }
}

/// The sample judge: pure, so every sequence is a table test.
#[derive(Debug, Clone)]
pub struct Judge {
    me: String,
    samples: usize,
    restrict_to_remotes: bool,
    buffers: HashMap<String, VecDeque<bool>>,
    remembered: HashMap<String, bool>,
}

impl Judge {
    /// A judge for node `me` needing `samples` equal samples.
    pub fn new(me: &str, samples: u32, restrict_to_remotes: bool) -> Self {
        Self {
            me: me.to_owned(),
            samples: usize::try_from(samples.max(1)).unwrap_or(1),
            restrict_to_remotes,
            buffers: HashMap::new(),
            remembered: HashMap::new(),
        }
    }

    /// The changes `sample` completes. Without quorum nothing is judged (and nothing is
    /// buffered: a minority's picture is not evidence).
    pub fn observe(&mut self, sample: &ClusterSample) -> Vec<(String, HostEvent)> {
        if !sample.quorate {
            return Vec::new();
        }
        let mut changes = Vec::new();
        for node in &sample.nodes {
            if node.name == self.me || (self.restrict_to_remotes && !node.remote) {
                continue;
            }
            let buffer = self.buffers.entry(node.name.clone()).or_default();
            buffer.push_back(node.online);
            while buffer.len() > self.samples {
                buffer.pop_front();
            }
            if buffer.len() < self.samples || buffer.iter().any(|s| *s != node.online) {
                continue;
            }
            match self.remembered.insert(node.name.clone(), node.online) {
                None => {
                    if !node.online {
                        tracing::warn!(host.name = %node.name, "{} is offline at first sight; not reported (it may have been recovered before this monitor started)", node.name);
                    }
                }
                Some(before) if before != node.online => {
                    let event = if node.online {
                        HostEvent::Started
                    } else {
                        HostEvent::Stopped
                    };
                    changes.push((node.name.clone(), event));
                }
                Some(_) => {}
            }
        }
        changes
    }
}

/// Driver settings (`[host]`).
#[derive(Debug, Clone)]
pub struct PacemakerSettings {
    /// This node's name in the cluster.
    pub hostname: String,
    /// Between samples.
    pub monitoring_interval: Duration,
    /// Equal samples needed.
    pub monitoring_samples: u32,
    /// Remote nodes only.
    pub restrict_to_remotes: bool,
}

/// The driver.
#[derive(Debug)]
pub struct PacemakerMonitor {
    settings: PacemakerSettings,
    source: Arc<dyn ClusterStatus>,
    outbox: Arc<Outbox>,
    clock: Arc<dyn Clock>,
    power: PowerCheck,
}

impl PacemakerMonitor {
    /// A driver over `source`.
    pub fn new(
        settings: PacemakerSettings,
        source: Arc<dyn ClusterStatus>,
        outbox: Arc<Outbox>,
        clock: Arc<dyn Clock>,
        power: PowerCheck,
    ) -> Self {
        Self {
            settings,
            source,
            outbox,
            clock,
            power,
        }
    }

    /// Samples every `monitoring_interval` until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        let s = &self.settings;
        let mut judge = Judge::new(&s.hostname, s.monitoring_samples, s.restrict_to_remotes);
        let mut quorate = true;
        tracing::info!(host.name = %s.hostname, "pacemaker hostmonitor running");
        loop {
            match self.source.sample().await {
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the cluster state; skipping this sample")
                }
                Ok(sample) => {
                    if !sample.quorate && quorate {
                        tracing::warn!("the cluster partition has no quorum: judging nobody");
                    } else if sample.quorate && !quorate {
                        tracing::info!("the cluster partition has quorum again");
                    }
                    quorate = sample.quorate;
                    for (host, event) in judge.observe(&sample) {
                        let status = match event {
                            HostEvent::Stopped => self.power.host_status(&host).await,
                            HostEvent::Started => HostStatus::Normal,
                        };
                        tracing::warn!(host.name = %host, event = %event, "{host}: {event} in the cluster");
                        let _ = self
                            .outbox
                            .push(&Report::compute_host(
                                &host,
                                event,
                                status,
                                self.clock.now(),
                            ))
                            .await;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(s.monitoring_interval) => {}
                () = cancel.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from a real `crm_mon --one-shot --output-as=xml` of Pacemaker 2.1.5.
    const CRM_MON: &str = r#"<pacemaker-result api-version="2.25" request="crm_mon --one-shot --output-as=xml">
  <summary><stack type="corosync"/><current_dc present="true" version="2.1.5" name="node1" id="1" with_quorum="true"/></summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" type="member"/>
    <node name="compute-1" id="compute-1" online="false" type="remote"/>
  </nodes>
  <status code="0" message="OK"/>
</pacemaker-result>"#;

    fn sample(quorate: bool, online: &[(&str, bool)]) -> ClusterSample {
        ClusterSample {
            quorate,
            nodes: online
                .iter()
                .map(|(n, o)| NodeSample {
                    name: (*n).to_owned(),
                    online: *o,
                    remote: false,
                })
                .collect(),
        }
    }

    #[test]
    fn crm_mon_xml_gives_quorum_and_nodes() {
        let s = parse_crm_mon(CRM_MON).unwrap();
        assert!(s.quorate);
        assert_eq!(s.nodes.len(), 2);
        assert!(s.nodes[1].remote && !s.nodes[1].online);
        let no_dc = CRM_MON.replace(r#"present="true""#, r#"present="false""#);
        assert!(!parse_crm_mon(&no_dc).unwrap().quorate);
        let legacy = CRM_MON
            .replace("pacemaker-result", "crm_mon")
            .replace(r#"with_quorum="true""#, r#"with_quorum="false""#);
        assert!(!parse_crm_mon(&legacy).unwrap().quorate);
        assert!(parse_crm_mon("<x/>").is_err());
    }

    #[test]
    fn changes_need_equal_samples_quorum_and_a_first_sighting() {
        let mut j = Judge::new("node1", 2, false);
        let on = |o| sample(true, &[("node1", true), ("node2", o)]);
        assert!(j.observe(&on(true)).is_empty(), "buffer not full");
        assert!(
            j.observe(&on(true)).is_empty(),
            "first sighting is remembered only"
        );
        assert!(j.observe(&on(false)).is_empty(), "mixed samples");
        assert!(
            j.observe(&sample(false, &[("node2", false)])).is_empty(),
            "no quorum"
        );
        assert_eq!(
            j.observe(&on(false)),
            vec![("node2".to_owned(), HostEvent::Stopped)]
        );
        assert!(j.observe(&on(false)).is_empty(), "reported once");
        assert!(j.observe(&on(true)).is_empty());
        assert_eq!(
            j.observe(&on(true)),
            vec![("node2".to_owned(), HostEvent::Started)]
        );
        let mut remotes = Judge::new("node1", 1, true);
        let s = parse_crm_mon(CRM_MON).unwrap();
        assert!(remotes.observe(&s).is_empty());
        assert!(
            remotes.buffers.contains_key("compute-1") && !remotes.buffers.contains_key("node1")
        );
    }
}

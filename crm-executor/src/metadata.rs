//! An agent's `meta-data`: its parameters and its actions with their default timeouts and
//! intervals, and the timeout an operation runs under when its configuration gives none.

use std::time::Duration;

use crate::Action;

/// Pacemaker's timeout for an operation that neither the configuration nor the agent's
/// meta-data times.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// One parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Its name (`OCF_RESKEY_<name>`).
    pub name: String,
    /// `required="1"`.
    pub required: bool,
    /// `unique="1"` (or a `unique-group`).
    pub unique: bool,
    /// `<content default=…>`.
    pub default: Option<String>,
}

/// One `<action>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    /// Its name.
    pub name: String,
    /// `timeout`.
    pub timeout: Option<Duration>,
    /// `interval`.
    pub interval: Option<Duration>,
    /// `role` (monitors per role).
    pub role: Option<String>,
    /// `depth` (`OCF_CHECK_LEVEL`).
    pub depth: Option<u32>,
}

/// An agent's meta-data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `<resource-agent name>`.
    pub name: String,
    /// `<version>` (the OCF version it follows).
    pub ocf_version: Option<String>,
    /// Its parameters.
    pub parameters: Vec<Parameter>,
    /// Its actions.
    pub actions: Vec<ActionSpec>,
}

/// Why meta-data cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not XML.
    #[error("parse meta-data: {0}")]
    ParseXml(String),
    /// XML, but not an agent's meta-data.
    #[error("read meta-data: the root element is <{0}>, not <resource-agent>")]
    NotAgentMetadata(String),
    /// A duration that does not parse.
    #[error("read meta-data: <action name=\"{action}\"> {attribute}=\"{value}\" is not a duration")]
    BadDuration {
        /// The action.
        action: String,
        /// timeout or interval.
        attribute: &'static str,
        /// The value.
        value: String,
    },
}

impl Metadata {
    /// Parses what `meta-data` printed.
    pub fn parse(xml: &str) -> Result<Self, MetadataError> {
        // resource-agents' meta-data starts with `<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">`.
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(xml, options)
            .map_err(|e| MetadataError::ParseXml(e.to_string()))?;
        let root = doc.root_element();
        if !root.has_tag_name("resource-agent") {
            return Err(MetadataError::NotAgentMetadata(
                root.tag_name().name().to_owned(),
            ));
        }
        let flag = |node: roxmltree::Node<'_, '_>, name: &str| {
            matches!(node.attribute(name), Some("1" | "true" | "yes"))
        };
        let parameters = child(root, "parameters")
            .into_iter()
            .flat_map(|p| p.children().filter(|c| c.has_tag_name("parameter")))
            .filter_map(|p| {
                Some(Parameter {
                    name: p.attribute("name")?.to_owned(),
                    required: flag(p, "required"),
                    unique: flag(p, "unique") || p.attribute("unique-group").is_some(),
                    default: child(p, "content")
                        .and_then(|c| c.attribute("default"))
                        .map(str::to_owned),
                })
            })
            .collect();
        let mut actions = Vec::new();
        for a in child(root, "actions")
            .into_iter()
            .flat_map(|a| a.children().filter(|c| c.has_tag_name("action")))
        {
            let Some(name) = a.attribute("name") else {
                continue;
            };
            let duration = |attribute: &'static str| {
                a.attribute(attribute)
                    .map(|value| {
                        parse_duration(value).ok_or_else(|| MetadataError::BadDuration {
                            action: name.to_owned(),
                            attribute,
                            value: value.to_owned(),
                        })
                    })
                    .transpose()
            };
            actions.push(ActionSpec {
                name: name.to_owned(),
                timeout: duration("timeout")?,
                interval: duration("interval")?,
                role: a.attribute("role").map(str::to_owned),
                depth: a.attribute("depth").and_then(|d| d.parse().ok()),
            });
        }
        Ok(Self {
            name: root.attribute("name").unwrap_or_default().to_owned(),
            ocf_version: child(root, "version")
                .and_then(|v| v.text())
                .map(|t| t.trim().to_owned()),
            parameters,
            actions,
        })
    }

    /// The parameter `name`.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The agent's default timeout for `action` at `interval_ms` (monitors: the entry with
    /// that interval, else the first monitor entry).
    pub fn timeout_for(&self, action: Action, interval_ms: u64) -> Option<Duration> {
        let named: Vec<&ActionSpec> = self
            .actions
            .iter()
            .filter(|a| a.name == action.as_str())
            .collect();
        let interval = Duration::from_millis(interval_ms);
        named
            .iter()
            .find(|a| a.interval.unwrap_or_default() == interval)
            .or_else(|| named.first())
            .and_then(|a| a.timeout)
    }

    /// The parameters that are required and not given (by name).
    pub fn missing_required<'a>(
        &'a self,
        given: &'a lifeboat_crm::model::Attrs,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.parameters
            .iter()
            .filter(|p| p.required && !given.contains_key(&p.name))
            .map(|p| p.name.as_str())
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, tag: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(tag))
}

/// The timeout an operation runs under: the configured one, else the agent's, else 20 s.
pub fn effective_timeout(
    configured_ms: Option<u64>,
    metadata: Option<&Metadata>,
    action: Action,
    interval_ms: u64,
) -> Duration {
    configured_ms
        .map(Duration::from_millis)
        .or_else(|| metadata.and_then(|m| m.timeout_for(action, interval_ms)))
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// A duration as Pacemaker writes them: a number with an optional unit (ms, s, m, h; `sec`,
/// `min`, `hr` too), seconds by default.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" | "msec" => n,
        "" | "s" | "sec" => n.checked_mul(1000)?,
        "m" | "min" => n.checked_mul(60_000)?,
        "h" | "hr" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Demo" version="1.0">
<version>1.1</version>
<parameters>
  <parameter name="state" unique-group="state"><content type="string" default="/run/x.state"/></parameter>
  <parameter name="ip" required="1" unique="1"><content type="string"/></parameter>
  <parameter name="delay"><content type="string" default="0"/></parameter>
</parameters>
<actions>
  <action name="start" timeout="90s"/>
  <action name="stop" timeout="100"/>
  <action name="monitor" timeout="20s" interval="10s" role="Promoted" depth="0"/>
  <action name="monitor" timeout="30s" interval="11s" role="Unpromoted"/>
  <action name="meta-data" timeout="5s"/>
  <action name="validate-all"/>
</actions>
</resource-agent>"#;

    #[test]
    fn parameters_and_actions_are_read() {
        let m = Metadata::parse(XML).unwrap();
        assert_eq!(m.name, "Demo");
        assert_eq!(m.ocf_version.as_deref(), Some("1.1"));
        let state = m.parameter("state").unwrap();
        assert!(state.unique && !state.required);
        assert_eq!(state.default.as_deref(), Some("/run/x.state"));
        let ip = m.parameter("ip").unwrap();
        assert!(ip.required && ip.unique && ip.default.is_none());
        assert_eq!(m.actions.len(), 6);
        assert_eq!(m.actions[2].role.as_deref(), Some("Promoted"));
        assert_eq!(m.actions[2].interval, Some(Duration::from_secs(10)));
        let given = lifeboat_crm::model::Attrs::new();
        assert_eq!(m.missing_required(&given).collect::<Vec<_>>(), ["ip"]);
    }

    #[test]
    fn timeouts_come_from_the_op_then_the_agent_then_twenty_seconds() {
        let m = Metadata::parse(XML).unwrap();
        let t = |op: Option<u64>, a: Action, i: u64| effective_timeout(op, Some(&m), a, i);
        assert_eq!(t(Some(7000), Action::Start, 0), Duration::from_secs(7));
        assert_eq!(t(None, Action::Start, 0), Duration::from_secs(90));
        assert_eq!(t(None, Action::Stop, 0), Duration::from_secs(100));
        assert_eq!(t(None, Action::Monitor, 11_000), Duration::from_secs(30));
        assert_eq!(
            t(None, Action::Monitor, 0),
            Duration::from_secs(20),
            "first monitor"
        );
        assert_eq!(
            t(None, Action::ValidateAll, 0),
            DEFAULT_TIMEOUT,
            "no timeout given"
        );
        assert_eq!(
            t(None, Action::Promote, 0),
            DEFAULT_TIMEOUT,
            "no such action"
        );
        assert_eq!(
            effective_timeout(None, None, Action::Start, 0),
            DEFAULT_TIMEOUT
        );
    }

    #[test]
    fn bad_meta_data_is_refused_with_where() {
        assert!(matches!(
            Metadata::parse("nope"),
            Err(MetadataError::ParseXml(_))
        ));
        assert_eq!(
            Metadata::parse("<other/>"),
            Err(MetadataError::NotAgentMetadata("other".into()))
        );
        let bad = r#"<resource-agent name="x"><actions><action name="start" timeout="soon"/></actions></resource-agent>"#;
        assert_eq!(
            Metadata::parse(bad).unwrap_err().to_string(),
            "read meta-data: <action name=\"start\"> timeout=\"soon\" is not a duration"
        );
    }

    #[test]
    fn durations_take_pacemakers_units() {
        assert_eq!(parse_duration("20s"), Some(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Some(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2min"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("5 days"), None);
    }
}

//! `crm verify`: what would make a cluster description unusable, found before anything is
//! scheduled. The checks run over the model (so the YAML format gets them too) and, for a CIB,
//! over the raw XML where the model keeps less than the document says (every element's id,
//! resource sets, rules).

mod model;
mod order;
mod xml;

use std::collections::BTreeSet;
use std::fmt;

use crate::error::CibError;
use crate::model::Cluster;

/// The resource classes Pacemaker 2.1's schema accepts.
pub const CLASSES: &[&str] = &[
    "ocf",
    "lsb",
    "heartbeat",
    "stonith",
    "upstart",
    "service",
    "systemd",
    "nagios",
];

/// One problem in a cluster description. Each names the element, its id and the attribute at
/// fault, as the operator would search for them in the file.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The description cannot be read at all (malformed XML, a missing required attribute).
    #[error(transparent)]
    Read(#[from] CibError),
    /// Two elements share an id.
    #[error("<{element} id=\"{id}\">: attribute id=\"{id}\" is already used by a <{first}>")]
    DuplicateId {
        /// The second element's tag.
        element: String,
        /// The id.
        id: String,
        /// The tag of the element that has it first.
        first: String,
    },
    /// A primitive's class is none Pacemaker knows.
    #[error(
        "<{element} id=\"{id}\">: attribute class=\"{value}\" is an unknown resource class (known: {})",
        CLASSES.join(", ")
    )]
    UnknownClass {
        /// The tag (primitive).
        element: String,
        /// The resource's id.
        id: String,
        /// The class found.
        value: String,
    },
    /// A primitive's agent cannot be resolved from its class, provider and type.
    #[error("<{element} id=\"{id}\">: attribute {attribute}=\"{value}\": {why}")]
    UnresolvableAgent {
        /// The tag (primitive).
        element: String,
        /// The resource's id.
        id: String,
        /// provider or type.
        attribute: &'static str,
        /// The value found ("" when missing).
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A constraint names a resource or node that does not exist.
    #[error("<{element} id=\"{id}\">: attribute {attribute}=\"{value}\" names no {what}")]
    DanglingReference {
        /// The constraint's tag.
        element: String,
        /// Its id.
        id: String,
        /// The attribute holding the reference.
        attribute: &'static str,
        /// The name that resolves to nothing.
        value: String,
        /// "resource" or "node".
        what: &'static str,
    },
    /// A score (or a score-valued meta attribute) is not an integer or ±INFINITY.
    #[error(
        "<{element} id=\"{id}\">: attribute {attribute}=\"{value}\" is not a score (an integer, INFINITY or -INFINITY)"
    )]
    InvalidScore {
        /// The tag.
        element: String,
        /// Its id.
        id: String,
        /// The attribute (or meta attribute name).
        attribute: String,
        /// The value found.
        value: String,
    },
    /// Mandatory orders that can never all be satisfied.
    #[error(
        "<rsc_order id=\"{id}\">: attribute {attribute}: mandatory orders form a cycle: {cycle}"
    )]
    OrderCycle {
        /// One order on the cycle (the one that closes it).
        id: String,
        /// first or then.
        attribute: &'static str,
        /// The actions around the cycle, e.g. `a start -> b start -> a start`.
        cycle: String,
    },
}

/// What a CIB holds beyond the model, which the model checks must not mistake for mistakes.
#[derive(Debug, Default)]
struct Known {
    /// Names constraints may use beyond the model's resources: bundles, templates, tags.
    referable: BTreeSet<String>,
    /// Primitives that take their agent from a `template`.
    templated: BTreeSet<String>,
    /// Bundles make their own (remote) nodes, whose names are not listed.
    has_bundles: bool,
    /// The resource pairs that the resource sets of orders stand for.
    set_orders: Vec<crate::model::Order>,
}

/// Every problem found, in document order.
#[derive(Debug, thiserror::Error)]
pub struct Problems(pub Vec<VerifyError>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Check a CIB document: read it, then run the XML and the model checks. The model is returned
/// when nothing is wrong.
pub fn verify_cib(text: &str) -> Result<Cluster, Problems> {
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| Problems(vec![CibError::ParseXml(e.to_string()).into()]))?;
    let (mut problems, known) = xml::check(&doc);
    match crate::cib::parse(text) {
        Ok(cluster) => {
            // The raw document already reported duplicate XML ids, with their real tags; node
            // ids are not XML ids, so only the model sees those.
            problems.extend(model::check(&cluster, &known).into_iter().filter(
                |e| !matches!(e, VerifyError::DuplicateId { element, .. } if element != "node"),
            ));
            if problems.is_empty() {
                return Ok(cluster);
            }
        }
        // A bad score the XML checks found already is said once.
        Err(CibError::InvalidAttribute {
            why: "not a score", ..
        }) if !problems.is_empty() => {}
        Err(e) => problems.push(e.into()),
    }
    Err(Problems(problems))
}

/// Check a model built some other way (the YAML format).
pub fn verify_model(cluster: &Cluster) -> Result<(), Problems> {
    let problems = model::check(cluster, &Default::default());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

#[cfg(test)]
mod tests;

//! A concise YAML format for people who write a cluster by hand (docs/CRM-YAML.md), read into
//! and written from the same model as the CIB. It holds the configuration only: the status is
//! runtime state.

mod doc;
mod read;
mod short;
mod write;

pub use read::parse;
pub use write::write;

/// A YAML document that cannot be turned into a model. Named like the CIB's errors: the
/// element (primitive, op, location, …), its id and the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// Not YAML, or not this format's shape (serde's message has the line and column).
    #[error("parse YAML: {0}")]
    ParseYaml(String),
    /// A field whose value cannot be used.
    #[error("read <{element} id=\"{id}\">: field {field}=\"{value}\": {why}")]
    InvalidField {
        /// What the entry is (primitive, group, clone, op, node, location, …).
        element: &'static str,
        /// Its id, or its position (`resources[3]`) when it has none.
        id: String,
        /// The field.
        field: &'static str,
        /// The value found.
        value: String,
        /// Why it is refused.
        why: &'static str,
    },
}

/// The model cannot be said in this format without changing its meaning.
#[derive(Debug, thiserror::Error)]
pub enum WriteYamlError {
    /// A location constraint read with a rule (not in the model yet).
    #[error("write location \"{id}\": it has no node (its rule is not in the model)")]
    LocationWithoutNode {
        /// The constraint's id.
        id: String,
    },
    /// serde_yaml refused the document (it should not).
    #[error("write YAML: {0}")]
    Serialize(String),
}

#[cfg(test)]
mod tests;

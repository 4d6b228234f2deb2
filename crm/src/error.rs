//! What can go wrong reading a cluster description.

/// A CIB that cannot be turned into a model. Each variant names the element id (or tag) and
/// the attribute at fault, so that an operator can find it in a large file.
#[derive(Debug, thiserror::Error)]
pub enum CibError {
    /// The text is not well-formed XML.
    #[error("parse CIB XML: {0}")]
    ParseXml(String),
    /// The document is not a `<cib>` with a `<configuration>`.
    #[error("read CIB: {0}")]
    Structure(String),
    /// A required attribute is missing.
    #[error("read <{element} id=\"{id}\">: attribute {attribute} is missing")]
    MissingAttribute {
        /// The element's tag.
        element: String,
        /// Its id (or "?" when it has none).
        id: String,
        /// The missing attribute.
        attribute: &'static str,
    },
    /// An attribute has a value that cannot be used.
    #[error("read <{element} id=\"{id}\">: attribute {attribute}=\"{value}\" is invalid: {why}")]
    InvalidAttribute {
        /// The element's tag.
        element: String,
        /// Its id.
        id: String,
        /// The attribute.
        attribute: String,
        /// The value found.
        value: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// Two elements of one kind share an id.
    #[error("read <{element} id=\"{id}\">: the id is used twice")]
    DuplicateId {
        /// The element's tag.
        element: String,
        /// The id.
        id: String,
    },
    /// A constraint names a resource (or node) that does not exist.
    #[error("read <{element} id=\"{id}\">: attribute {attribute}=\"{value}\" names no resource")]
    DanglingReference {
        /// The constraint's tag.
        element: String,
        /// Its id.
        id: String,
        /// The attribute holding the reference.
        attribute: &'static str,
        /// The name that resolves to nothing.
        value: String,
    },
}

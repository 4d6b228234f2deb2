//! `crm config export`: read either format (told apart by content), check it, write the other.

use crate::cib::write::WriteCibError;
use crate::model::Cluster;
use crate::verify::{self, Problems};
use crate::yaml::{self, WriteYamlError, YamlError};

/// The two ways to write a cluster down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Pacemaker's CIB XML.
    Xml,
    /// Lifeboat's YAML (docs/CRM-YAML.md).
    Yaml,
}

impl Format {
    /// A CIB starts with `<` (after white space); anything else is taken for YAML, whose
    /// parser then says what is wrong with it.
    pub fn detect(text: &str) -> Self {
        if text.trim_start().starts_with('<') {
            Self::Xml
        } else {
            Self::Yaml
        }
    }
}

/// Why a description could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The YAML is not this format.
    #[error(transparent)]
    ParseYaml(#[from] YamlError),
    /// The description says something unusable (either format).
    #[error(transparent)]
    Verify(#[from] Problems),
}

/// Why a model could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// As a CIB.
    #[error(transparent)]
    WriteCib(#[from] WriteCibError),
    /// As YAML.
    #[error(transparent)]
    WriteYaml(#[from] WriteYamlError),
}

/// Read a description in either format and check it as `crm verify` does.
pub fn read(text: &str) -> Result<Cluster, ReadError> {
    match Format::detect(text) {
        Format::Xml => Ok(verify::verify_cib(text)?),
        Format::Yaml => {
            let cluster = yaml::parse(text)?;
            verify::verify_model(&cluster)?;
            Ok(cluster)
        }
    }
}

/// Write the model in `format`.
pub fn write(cluster: &Cluster, format: Format) -> Result<String, WriteError> {
    Ok(match format {
        Format::Xml => crate::cib::write::write(cluster)?,
        Format::Yaml => yaml::write(cluster)?,
    })
}

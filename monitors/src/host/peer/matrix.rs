//! What a combination of down networks means: the Consul driver's matrix file
//! (`sequence` of networks, then `matrix` rows of `health` → `action`), or, without one, "recover
//! only a host that is down on every network".

use serde::Deserialize;

/// The networks the peer driver knows, in the Consul driver's names.
pub const NETWORKS: [&str; 3] = ["manage", "tenant", "storage"];

/// One row: `health` per network of `sequence` (`up`, `down` or `*`), and the actions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MatrixRow {
    /// Health per network.
    pub health: Vec<String>,
    /// Actions; `recovery` means "report the host STOPPED".
    pub action: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MatrixFile {
    #[serde(default)]
    sequence: Option<Vec<String>>,
    matrix: Vec<MatrixRow>,
}

/// What is wrong with a matrix file (rows count from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// The text is not the file's YAML.
    #[error("{reason}")]
    ReadYaml {
        /// The YAML parser's message.
        reason: String,
    },
    /// `sequence` names a network the driver does not know.
    #[error("sequence: unknown network {name:?} (manage, tenant, storage)")]
    UnknownNetwork {
        /// The name.
        name: String,
    },
    /// A row has not one health value per network.
    #[error("matrix row {row}: {found} health values for {expected} networks")]
    HealthCount {
        /// The row.
        row: usize,
        /// Its values.
        found: usize,
        /// The networks.
        expected: usize,
    },
    /// A health value is not `up`, `down` or `*`.
    #[error("matrix row {row}: health {value:?} is not up, down or *")]
    HealthValue {
        /// The row.
        row: usize,
        /// The value.
        value: String,
    },
}

/// The decision table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// Network names, in the order of each row's `health`.
    pub sequence: Vec<String>,
    /// Rows; the first match wins. Empty: recover only when every network is down.
    pub rows: Vec<MatrixRow>,
}

impl Matrix {
    /// The default: recovery only when a host is down on all of `networks`.
    pub fn all_down(networks: &[&str]) -> Self {
        Self {
            sequence: networks.iter().map(|n| (*n).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Parses a matrix file's text.
    pub fn parse(text: &str) -> Result<Self, MatrixError> {
        let file: MatrixFile = serde_yaml::from_str(text).map_err(|e| MatrixError::ReadYaml {
            reason: e.to_string(),
        })?;
        let sequence = file
            .sequence
            .unwrap_or_else(|| NETWORKS.iter().map(|n| (*n).to_owned()).collect());
        for name in &sequence {
            if !NETWORKS.contains(&name.as_str()) {
                return Err(MatrixError::UnknownNetwork { name: name.clone() });
            }
        }
        for (i, row) in file.matrix.iter().enumerate() {
            if row.health.len() != sequence.len() {
                return Err(MatrixError::HealthCount {
                    row: i + 1,
                    found: row.health.len(),
                    expected: sequence.len(),
                });
            }
            if let Some(bad) = row
                .health
                .iter()
                .find(|h| !["up", "down", "*"].contains(&h.as_str()))
            {
                return Err(MatrixError::HealthValue {
                    row: i + 1,
                    value: bad.clone(),
                });
            }
        }
        Ok(Self {
            sequence,
            rows: file.matrix,
        })
    }

    /// Whether a host with `down` (per network name) is to be recovered.
    pub fn recovery(&self, down: &dyn Fn(&str) -> bool) -> bool {
        if self.rows.is_empty() {
            return self.sequence.iter().all(|n| down(n));
        }
        self.rows
            .iter()
            .find(|row| {
                row.health
                    .iter()
                    .zip(&self.sequence)
                    .all(|(h, net)| match h.as_str() {
                        "*" => true,
                        "down" => down(net),
                        _ => !down(net),
                    })
            })
            .is_some_and(|row| row.action.iter().any(|a| a == "recovery"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_recovers_only_a_host_down_everywhere() {
        let m = Matrix::all_down(&["manage", "tenant"]);
        assert!(m.recovery(&|_| true));
        assert!(!m.recovery(&|n| n == "tenant"));
    }

    #[test]
    fn a_consul_matrix_file_is_read_and_applied_in_order() {
        let m = Matrix::parse(
            "sequence: [manage, tenant]\nmatrix:\n  - health: [\"*\", down]\n    action: [recovery]\n  - health: [down, up]\n    action: []\n",
        )
        .unwrap();
        assert!(m.recovery(&|n| n == "tenant"));
        assert!(!m.recovery(&|n| n == "manage"));
        assert!(!m.recovery(&|_| false));
        assert!(
            Matrix::parse(
                "sequence: [manage]\nmatrix:\n  - health: [down, up]\n    action: [recovery]\n"
            )
            .unwrap_err()
            .to_string()
            .contains("2 health values")
        );
        assert!(
            Matrix::parse("sequence: [mgmt]\nmatrix: []\n")
                .unwrap_err()
                .to_string()
                .contains("mgmt")
        );
    }
}

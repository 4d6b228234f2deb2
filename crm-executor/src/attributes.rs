//! The node attributes agents set (promotion scores through `crm_attribute --promotion` or
//! `crm_master`, anything else through `crm_attribute -N`), kept in files under one
//! directory: `<dir>/<lifetime>/<node>/<name>` holds the value. One file per attribute, each
//! written by rename, so agents of several resources writing at once lose nothing.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// How long an attribute lives (`crm_attribute -l`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// Until the node restarts (Pacemaker's status section; `-l reboot`).
    Reboot,
    /// In the configuration (`-l forever`).
    Forever,
}

impl Lifetime {
    /// The name on the command line and on disk.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reboot => "reboot",
            Self::Forever => "forever",
        }
    }

    /// `reboot`/`forever` (and Pacemaker's older `status`/`nodes`, `permanent`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reboot" | "status" => Some(Self::Reboot),
            "forever" | "nodes" | "permanent" => Some(Self::Forever),
            _ => None,
        }
    }

    /// Where `crm_attribute -G` says the attribute is (`scope=`).
    pub fn scope(self) -> &'static str {
        match self {
            Self::Reboot => "status",
            Self::Forever => "nodes",
        }
    }
}

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    /// A node or attribute name that cannot be a file name.
    #[error(
        "{field} '{value}' is not usable as an attribute store name (empty, '.', '..', or with '/' or NUL)"
    )]
    BadName {
        /// node or name.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// Writing failed.
    #[error("write attribute {name} of node {node} under {}: {source}", dir.display())]
    Write {
        /// The node.
        node: String,
        /// The attribute.
        name: String,
        /// The store.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Reading failed (other than "not there").
    #[error("read attribute {name} of node {node} under {}: {source}", dir.display())]
    Read {
        /// The node.
        node: String,
        /// The attribute.
        name: String,
        /// The store.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The file-backed store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeStore {
    dir: PathBuf,
}

impl AttributeStore {
    /// The store under `dir` (made on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, lifetime: Lifetime, node: &str, name: &str) -> Result<PathBuf, AttributeError> {
        for (field, value) in [("node", node), ("name", name)] {
            let bad =
                value.is_empty() || value == "." || value == ".." || value.contains(['/', '\0']);
            if bad {
                return Err(AttributeError::BadName {
                    field,
                    value: value.to_owned(),
                });
            }
        }
        Ok(self.dir.join(lifetime.as_str()).join(node).join(name))
    }

    /// Sets `name` of `node` to `value`.
    pub fn set(
        &self,
        lifetime: Lifetime,
        node: &str,
        name: &str,
        value: &str,
    ) -> Result<(), AttributeError> {
        let path = self.path(lifetime, node, name)?;
        let write_error = |source| AttributeError::Write {
            node: node.to_owned(),
            name: name.to_owned(),
            dir: self.dir.clone(),
            source,
        };
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent).map_err(write_error)?;
        let temp = parent.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&temp, value).map_err(write_error)?;
        std::fs::rename(&temp, &path).map_err(write_error)
    }

    /// The value of `name` of `node`, if set.
    pub fn get(
        &self,
        lifetime: Lifetime,
        node: &str,
        name: &str,
    ) -> Result<Option<String>, AttributeError> {
        let path = self.path(lifetime, node, name)?;
        match std::fs::read_to_string(&path) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(AttributeError::Read {
                node: node.to_owned(),
                name: name.to_owned(),
                dir: self.dir.clone(),
                source,
            }),
        }
    }

    /// Removes `name` of `node` (nothing to do when it is not set).
    pub fn delete(&self, lifetime: Lifetime, node: &str, name: &str) -> Result<(), AttributeError> {
        let path = self.path(lifetime, node, name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(source) => Err(AttributeError::Write {
                node: node.to_owned(),
                name: name.to_owned(),
                dir: self.dir.clone(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_per_lifetime_and_node() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttributeStore::new(dir.path());
        assert_eq!(
            store.get(Lifetime::Reboot, "n1", "master-st").unwrap(),
            None
        );
        store.set(Lifetime::Reboot, "n1", "master-st", "5").unwrap();
        store
            .set(Lifetime::Reboot, "n1", "master-st", "10")
            .unwrap();
        store
            .set(Lifetime::Forever, "n1", "master-st", "1")
            .unwrap();
        store.set(Lifetime::Reboot, "n2", "master-st", "7").unwrap();
        let get = |l, n| store.get(l, n, "master-st").unwrap();
        assert_eq!(get(Lifetime::Reboot, "n1").as_deref(), Some("10"));
        assert_eq!(get(Lifetime::Forever, "n1").as_deref(), Some("1"));
        assert_eq!(get(Lifetime::Reboot, "n2").as_deref(), Some("7"));
        store.delete(Lifetime::Reboot, "n1", "master-st").unwrap();
        store.delete(Lifetime::Reboot, "n1", "master-st").unwrap();
        assert_eq!(get(Lifetime::Reboot, "n1"), None);
        assert_eq!(get(Lifetime::Forever, "n1").as_deref(), Some("1"));
    }

    #[test]
    fn names_that_would_leave_the_store_are_refused() {
        let store = AttributeStore::new("/nonexistent");
        for (node, name) in [("n1", "../x"), ("..", "a"), ("", "a"), ("n1", "")] {
            assert!(matches!(
                store.set(Lifetime::Reboot, node, name, "1"),
                Err(AttributeError::BadName { .. })
            ));
        }
    }
}

//! Database URLs: SQLAlchemy's spelling (what masakari.conf holds) to sqlx's.

use std::fmt;

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

/// A database URL in sqlx form. `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    kind: DatabaseKind,
    url: String,
}

/// A URL that names no supported database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported database URL scheme '{0}': use sqlite://, postgresql:// or mysql://")]
pub struct UnsupportedDatabase(pub String);

impl DatabaseUrl {
    /// Parses a SQLAlchemy or sqlx URL.
    pub fn parse(text: &str) -> Result<Self, UnsupportedDatabase> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| UnsupportedDatabase(text.chars().take(20).collect()))?;
        let base = scheme
            .split('+')
            .next()
            .unwrap_or(scheme)
            .to_ascii_lowercase();
        match base.as_str() {
            "sqlite" => Ok(Self::sqlite_from_path(sqlalchemy_sqlite_path(rest))),
            "postgresql" | "postgres" => Ok(Self {
                kind: DatabaseKind::Postgres,
                url: format!("postgres://{rest}"),
            }),
            "mysql" | "mariadb" => Ok(Self {
                kind: DatabaseKind::MySql,
                url: format!(
                    "mysql://{}",
                    strip_params(
                        rest,
                        &["ssl-mode", "ssl-ca", "statement-cache-capacity", "socket"]
                    )
                ),
            }),
            _ => Err(UnsupportedDatabase(scheme.to_owned())),
        }
    }

    /// A SQLite database file at `path` (created if missing). `:memory:` for an in-memory one.
    pub fn sqlite_from_path(path: &str) -> Self {
        let url = if path.is_empty() || path == ":memory:" {
            "sqlite::memory:".to_owned()
        } else {
            format!("sqlite://{path}?mode=rwc")
        };
        Self {
            kind: DatabaseKind::Sqlite,
            url,
        }
    }

    /// Which database.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The URL to hand to the driver (contains the password).
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The SQLite file path, for SQLite URLs.
    pub fn sqlite_path(&self) -> Option<&str> {
        let rest = self.url.strip_prefix("sqlite://")?;
        Some(rest.split('?').next().unwrap_or(rest))
    }
}

/// `sqlite:///rel` is relative, `sqlite:////abs` absolute, `sqlite://` in memory.
fn sqlalchemy_sqlite_path(rest: &str) -> &str {
    let path = rest.split('?').next().unwrap_or(rest);
    path.strip_prefix('/').unwrap_or(path)
}

/// Keeps only query parameters sqlx understands (SQLAlchemy URLs carry `charset=utf8` etc.).
fn strip_params<'a>(rest: &'a str, keep: &[&str]) -> String {
    let Some((base, query)) = rest.split_once('?') else {
        return rest.to_owned();
    };
    let kept: Vec<&'a str> = query
        .split('&')
        .filter(|kv| keep.iter().any(|k| kv.split('=').next() == Some(*k)))
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // user:password@host → user:***@host
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &self.url[scheme_end + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => write!(
                        f,
                        "{}{user}:***{}",
                        &self.url[..scheme_end + 3],
                        &self.url[at..]
                    ),
                    None => f.write_str(&self.url),
                }
            }
            _ => f.write_str(&self.url),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_urls_become_sqlx_urls() {
        let rel = DatabaseUrl::parse("sqlite:///lifeboat.sqlite").unwrap();
        assert_eq!(rel.expose(), "sqlite://lifeboat.sqlite?mode=rwc");
        assert_eq!(rel.sqlite_path(), Some("lifeboat.sqlite"));
        let abs = DatabaseUrl::parse("sqlite:////var/lib/x.db").unwrap();
        assert_eq!(abs.sqlite_path(), Some("/var/lib/x.db"));
        let pg = DatabaseUrl::parse("postgresql+psycopg2://u:p@h:5432/db").unwrap();
        assert_eq!(
            (pg.kind(), pg.expose()),
            (DatabaseKind::Postgres, "postgres://u:p@h:5432/db")
        );
        let my = DatabaseUrl::parse("mysql+pymysql://u:p@h/masakari?charset=utf8").unwrap();
        assert_eq!(
            (my.kind(), my.expose()),
            (DatabaseKind::MySql, "mysql://u:p@h/masakari")
        );
        assert!(DatabaseUrl::parse("oracle://x").is_err());
        assert!(DatabaseUrl::parse("nonsense").is_err());
    }

    #[test]
    fn display_hides_the_password() {
        let my = DatabaseUrl::parse("mysql+pymysql://masakari:s3cret@db/masakari").unwrap();
        assert_eq!(my.to_string(), "mysql://masakari:***@db/masakari");
        assert!(!format!("{my:?}").contains("s3cret"));
    }
}

//! Building list queries: filters, sort order with Masakari's tie-breakers, and keyset paging
//! from an integer marker.
//!
//! Paging compares every sort key with the marker row's value (read by a scalar subquery), so
//! pages never skip or repeat rows whatever the sort order. NULLs are folded (`''` for text,
//! `created_at` for times) so that all three databases order them the same way.

use lifeboat_core::store::{Sort, SortDir};

use crate::backend::Value;

/// A statement under construction, keeping placeholders and values in step.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) args: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.args.push(value.into());
        self
    }
}

/// A listable table.
#[derive(Debug)]
pub(crate) struct ListTable {
    /// Table name.
    pub(crate) table: &'static str,
    /// Alias used in `from` and `columns`.
    pub(crate) alias: &'static str,
    /// `FROM` clause (with joins).
    pub(crate) from: &'static str,
    /// Select list.
    pub(crate) columns: &'static str,
    /// Text columns that may be NULL.
    pub(crate) nullable_text: &'static [&'static str],
    /// Time columns that may be NULL.
    pub(crate) nullable_time: &'static [&'static str],
}

impl ListTable {
    fn expr(&self, key: &str, alias: &str) -> String {
        if self.nullable_text.contains(&key) {
            format!("COALESCE({alias}.{key}, '')")
        } else if self.nullable_time.contains(&key) {
            format!("COALESCE({alias}.{key}, {alias}.created_at)")
        } else {
            format!("{alias}.{key}")
        }
    }
}

/// Equality filters.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    clauses: Vec<(String, Value)>,
}

impl Filters {
    /// `column = value` when `value` is given.
    pub(crate) fn eq(&mut self, column: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = value {
            self.clauses.push((format!("{column} = "), v.into()));
        }
        self
    }

    /// `column >= value` when `value` is given.
    pub(crate) fn at_least(&mut self, column: &str, value: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = value {
            self.clauses.push((format!("{column} >= "), v.into()));
        }
        self
    }
}

/// The full sort order: the requested keys (default `created_at desc`), then `created_at` and
/// `id` as tie-breakers in the first direction, as Masakari does.
pub(crate) fn effective_sort(requested: &[Sort]) -> Vec<Sort> {
    let mut sort = requested.to_vec();
    let first_dir = sort.first().map_or(SortDir::Desc, |s| s.dir);
    for key in ["created_at", "id"] {
        if !sort.iter().any(|s| s.key == key) {
            sort.push(Sort {
                key,
                dir: first_dir,
            });
        }
    }
    sort
}

/// `SELECT … WHERE live AND filters AND after-marker ORDER BY … LIMIT n`.
pub(crate) fn list_query(
    table: &ListTable,
    filters: Filters,
    requested_sort: &[Sort],
    limit: u32,
    marker: Option<i64>,
) -> Sql {
    let a = table.alias;
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM {} WHERE {a}.deleted = 0",
        table.columns, table.from
    ));
    for (clause, value) in filters.clauses {
        sql.push(" AND ").push(&clause).bind(value);
    }
    let sort = effective_sort(requested_sort);
    if let Some(marker) = marker {
        sql.push(" AND (");
        for (i, key) in sort.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("(");
            for earlier in &sort[..i] {
                sql.push(&format!("{} = ", table.expr(earlier.key, a)));
                marker_value(&mut sql, table, earlier.key, marker);
                sql.push(" AND ");
            }
            let op = match key.dir {
                SortDir::Asc => " > ",
                SortDir::Desc => " < ",
            };
            sql.push(&format!("{}{op}", table.expr(key.key, a)));
            marker_value(&mut sql, table, key.key, marker);
            sql.push(")");
        }
        sql.push(")");
    }
    let order: Vec<String> = sort
        .iter()
        .map(|s| format!("{} {}", table.expr(s.key, a), s.dir.as_sql()))
        .collect();
    sql.push(&format!(" ORDER BY {} LIMIT ", order.join(", ")));
    sql.bind(i64::from(limit));
    sql
}

fn marker_value(sql: &mut Sql, table: &ListTable, key: &str, marker: i64) {
    sql.push(&format!(
        "(SELECT {} FROM {} m WHERE m.id = ",
        table.expr(key, "m"),
        table.table
    ));
    sql.bind(marker);
    sql.push(")");
}

/// Counts the live row a marker names.
pub(crate) fn marker_exists_query(table: &ListTable, marker: i64) -> Sql {
    let mut sql = Sql::new(&format!(
        "SELECT COUNT(*) AS n FROM {} WHERE deleted = 0 AND id = ",
        table.table
    ));
    sql.bind(marker);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: ListTable = ListTable {
        table: "failover_segments",
        alias: "s",
        from: "failover_segments s",
        columns: "s.id",
        nullable_text: &["description"],
        nullable_time: &["updated_at"],
    };

    #[test]
    fn tie_breakers_follow_the_first_direction() {
        let sort = effective_sort(&[Sort {
            key: "name",
            dir: SortDir::Asc,
        }]);
        let keys: Vec<_> = sort.iter().map(|s| (s.key, s.dir)).collect();
        assert_eq!(
            keys,
            vec![
                ("name", SortDir::Asc),
                ("created_at", SortDir::Asc),
                ("id", SortDir::Asc)
            ]
        );
        let default = effective_sort(&[]);
        assert_eq!(
            default[0],
            Sort {
                key: "created_at",
                dir: SortDir::Desc
            }
        );
        assert_eq!(default.len(), 2);
    }

    #[test]
    fn marker_paging_compares_every_key_in_order() {
        let mut filters = Filters::default();
        filters.eq("s.service_type", Some("COMPUTE"));
        let sql = list_query(
            &T,
            filters,
            &[Sort {
                key: "description",
                dir: SortDir::Asc,
            }],
            10,
            Some(7),
        );
        assert!(sql.text.contains("COALESCE(s.description, '') > (SELECT COALESCE(m.description, '') FROM failover_segments m WHERE m.id = ?)"), "{}", sql.text);
        assert!(
            sql.text.ends_with(
                "ORDER BY COALESCE(s.description, '') ASC, s.created_at ASC, s.id ASC LIMIT ?"
            ),
            "{}",
            sql.text
        );
        // 1 filter + (1 + 2 + 3) marker lookups + limit.
        assert_eq!(sql.args.len(), 1 + 6 + 1);
        assert_eq!(sql.text.matches('?').count(), sql.args.len());
    }
}

//! The list parameters every collection shares (`limit`, `marker`, `sort_key`, `sort_dir`) and
//! the `next` links of a full page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lifeboat_core::store::{ListQuery, Sort, SortDir};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::QueryParams;

/// `limit`, `marker` and sort order, validated against a resource's sortable columns.
pub fn page<F>(
    params: &QueryParams,
    sort_keys: &'static [&'static str],
    max_limit: u32,
    filter: F,
) -> Result<ListQuery<F>, ApiError> {
    let limit = match params.get("limit") {
        None => max_limit,
        Some(text) => {
            let n: i64 = text.trim().parse().map_err(|_| {
                ApiError::bad_request("Invalid input received: limit must be an integer")
            })?;
            if n < 0 {
                return Err(ApiError::bad_request(
                    "Invalid input received: limit must be >= 0",
                ));
            }
            u32::try_from(n).unwrap_or(u32::MAX).min(max_limit)
        }
    };
    if let Some(text) = params.get("page_size") {
        text.trim().parse::<u32>().map_err(|_| {
            ApiError::bad_request("Invalid input received: page_size must be an integer >= 0")
        })?;
    }
    let marker = params
        .get("marker")
        .map(|text| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("Marker {text} could not be found.")))
        })
        .transpose()?;
    let keys = params.all("sort_key");
    let dirs = params.all("sort_dir");
    if dirs.len() > keys.len().max(1) {
        return Err(ApiError::bad_request(
            "Invalid input received: Sort direction size exceeds sort key size",
        ));
    }
    let parse_dir = |d: &str| match d {
        "asc" => Ok(SortDir::Asc),
        "desc" => Ok(SortDir::Desc),
        _ => Err(ApiError::bad_request(
            "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
        )),
    };
    let dirs: Vec<SortDir> = dirs.into_iter().map(parse_dir).collect::<Result<_, _>>()?;
    let default_dir = dirs.first().copied().unwrap_or(SortDir::Desc);
    let mut sort = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let known = sort_keys
            .iter()
            .find(|k| **k == *key)
            .ok_or_else(|| ApiError::bad_request(format!("Sort key supplied is invalid: {key}")))?;
        sort.push(Sort {
            key: known,
            dir: dirs.get(i).copied().unwrap_or(default_dir),
        });
    }
    if keys.is_empty() && !dirs.is_empty() {
        sort.push(Sort {
            key: "created_at",
            dir: default_dir,
        });
    }
    Ok(ListQuery {
        filter,
        sort,
        limit,
        marker,
    })
}

/// The base URL links are built on: `osapi_masakari_link_prefix`, or the request's scheme and
/// host (honouring `X-Forwarded-Proto` / `X-Forwarded-Host` from a proxy).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(prefix) = &state.inner.settings.link_prefix {
            return Ok(Self(prefix.trim_end_matches('/').to_owned()));
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let scheme = header("x-forwarded-proto").unwrap_or_else(|| "http".to_owned());
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(Self(format!("{scheme}://{host}")))
    }
}

/// `<collection>_links` for a page: a `next` link when the page is full.
pub fn next_links(
    base: &BaseUrl,
    path: &str,
    params: &QueryParams,
    limit: u32,
    count: usize,
    last_id: Option<i64>,
) -> Option<Value> {
    let last_id = last_id?;
    if limit == 0 || count < limit as usize {
        return None;
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.0.iter().filter(|(k, _)| k != "marker") {
        query.append_pair(k, v);
    }
    query.append_pair("marker", &last_id.to_string());
    Some(json!([{"rel": "next", "href": format!("{}{path}?{}", base.0, query.finish())}]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["id", "name", "created_at"];

    fn parse(query: &str) -> Result<ListQuery<()>, ApiError> {
        page(&QueryParams::parse(Some(query)), KEYS, 1000, ())
    }

    #[test]
    fn limits_markers_and_sorts_are_validated() {
        assert_eq!(parse("").unwrap().limit, 1000);
        assert_eq!(parse("limit=5000").unwrap().limit, 1000);
        assert_eq!(parse("limit=0").unwrap().limit, 0);
        assert!(
            parse("limit=x")
                .unwrap_err()
                .message
                .contains("limit must be an integer")
        );
        assert!(parse("limit=-1").unwrap_err().message.contains(">= 0"));
        assert_eq!(parse("marker=12").unwrap().marker, Some(12));
        assert!(
            parse("marker=abc")
                .unwrap_err()
                .message
                .contains("Marker abc could not be found.")
        );
        let q = parse("sort_key=name&sort_key=id&sort_dir=asc").unwrap();
        assert_eq!(
            q.sort,
            vec![
                Sort {
                    key: "name",
                    dir: SortDir::Asc
                },
                Sort {
                    key: "id",
                    dir: SortDir::Asc
                }
            ]
        );
        assert!(
            parse("sort_key=bogus")
                .unwrap_err()
                .message
                .contains("Sort key supplied is invalid: bogus")
        );
        assert!(
            parse("sort_key=name&sort_dir=up")
                .unwrap_err()
                .message
                .contains("Unknown sort direction")
        );
        assert!(
            parse("sort_key=name&sort_dir=asc&sort_dir=desc")
                .unwrap_err()
                .message
                .contains("exceeds")
        );
    }

    #[test]
    fn next_links_appear_only_for_full_pages() {
        let base = BaseUrl("http://h:1".into());
        let params = QueryParams::parse(Some("limit=2&marker=3&sort_key=name"));
        let link = next_links(&base, "/v1/segments", &params, 2, 2, Some(9)).unwrap();
        assert_eq!(
            link[0]["href"],
            "http://h:1/v1/segments?limit=2&sort_key=name&marker=9"
        );
        assert!(next_links(&base, "/v1/segments", &params, 2, 1, Some(9)).is_none());
        assert!(next_links(&base, "/v1/segments", &params, 0, 0, None).is_none());
    }
}

//! `OpenStack-API-Version: instance-ha X.Y` negotiation.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The service type clients name in the header.
pub const SERVICE_TYPE: &str = "instance-ha";
/// The header.
pub const HEADER: &str = "openstack-api-version";

/// A microversion `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    /// Major (always 1).
    pub major: u32,
    /// Minor.
    pub minor: u32,
}

impl Microversion {
    /// The oldest version served (and the default when no header is sent).
    pub const MIN: Self = Self::new(1, 0);
    /// 1.1: `recovery_workflow_details` on notification show.
    pub const WORKFLOW_DETAILS: Self = Self::new(1, 1);
    /// 1.2: `enabled` in segment bodies.
    pub const SEGMENT_ENABLED: Self = Self::new(1, 2);
    /// 1.4 (Lifeboat): `POST /notifications/{id}/action` with `cancel` or `retry`.
    pub const OPERATOR_ACTIONS: Self = Self::new(1, 4);
    /// 1.5 (Lifeboat): fence devices, fence history and power actions of hosts.
    pub const FENCING: Self = Self::new(1, 5);
    /// 1.6 (Lifeboat): `maintenance_reason` and `maintenance_notification_uuid` in host bodies.
    pub const MAINTENANCE_REASON: Self = Self::new(1, 6);
    /// The newest version served.
    pub const MAX: Self = Self::new(1, 6);

    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// Parses `X.Y` (no leading zeros, major at least 1).
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.')?;
        let number = |s: &str| -> Option<u32> {
            let canonical = !s.is_empty()
                && s.chars().all(|c| c.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'));
            if canonical { s.parse().ok() } else { None }
        };
        let v = Self::new(number(major)?, number(minor)?);
        (v.major >= 1).then_some(v)
    }
}

impl std::fmt::Display for Microversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a requested version was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum VersionError {
    /// Not `X.Y`: 400.
    Malformed(String),
    /// Outside MIN..=MAX: 406.
    Unsupported(Microversion),
}

/// Picks the version from the request headers: the last `instance-ha` entry of every
/// `OpenStack-API-Version` header, `latest` meaning MAX, none meaning MIN.
pub fn negotiate(headers: &HeaderMap) -> Result<Microversion, VersionError> {
    let requested = headers
        .get_all(HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| {
            let mut parts = entry.split_whitespace();
            let service = parts.next()?;
            let version = parts.next()?;
            service
                .eq_ignore_ascii_case(SERVICE_TYPE)
                .then(|| version.to_owned())
        })
        .next_back();
    let Some(text) = requested else {
        return Ok(Microversion::MIN);
    };
    if text.eq_ignore_ascii_case("latest") {
        return Ok(Microversion::MAX);
    }
    let version = Microversion::parse(&text).ok_or(VersionError::Malformed(text))?;
    if !(Microversion::MIN..=Microversion::MAX).contains(&version) {
        return Err(VersionError::Unsupported(version));
    }
    Ok(version)
}

/// Negotiates the version, refuses bad ones, and echoes the chosen one on the response.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let version = match negotiate(request.headers()) {
        Ok(v) => v,
        Err(VersionError::Malformed(text)) => {
            return ApiError::bad_request(format!(
                "API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
            ))
            .into_response();
        }
        Err(VersionError::Unsupported(v)) => {
            return ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                format!(
                    "Version {v} is not supported by the API. Minimum is {} and maximum is {}.",
                    Microversion::MIN,
                    Microversion::MAX
                ),
            )
            .into_response();
        }
    };
    request.extensions_mut().insert(version);
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&format!("{SERVICE_TYPE} {version}")) {
        let headers = response.headers_mut();
        headers.insert(HEADER, value);
        headers.insert("vary", HeaderValue::from_static("OpenStack-API-Version"));
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Microversion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or(Self::MIN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn negotiation_follows_masakari_rules() {
        assert_eq!(negotiate(&with(&[])), Ok(Microversion::MIN));
        assert_eq!(
            negotiate(&with(&["instance-ha 1.2"])),
            Ok(Microversion::new(1, 2))
        );
        assert_eq!(
            negotiate(&with(&["Instance-HA latest"])),
            Ok(Microversion::MAX)
        );
        assert_eq!(
            negotiate(&with(&["compute 2.53, instance-ha 1.1"])),
            Ok(Microversion::new(1, 1))
        );
        assert_eq!(
            negotiate(&with(&["instance-ha 1.1", "instance-ha 1.3"])),
            Ok(Microversion::new(1, 3))
        );
        assert_eq!(negotiate(&with(&["compute 2.1"])), Ok(Microversion::MIN));
        for bad in ["1.a", "01.1", "0.9", "1", "1.01", ""] {
            let header = format!("instance-ha {bad}");
            let result = negotiate(&with(&[header.as_str()]));
            assert!(
                matches!(
                    result,
                    Err(VersionError::Malformed(_)) | Ok(Microversion::MIN)
                ),
                "{bad}: {result:?}"
            );
            if !bad.is_empty() {
                assert!(matches!(result, Err(VersionError::Malformed(_))), "{bad}");
            }
        }
        assert_eq!(
            negotiate(&with(&["instance-ha 1.5"])),
            Ok(Microversion::FENCING)
        );
        assert_eq!(
            negotiate(&with(&["instance-ha 1.6"])),
            Ok(Microversion::MAINTENANCE_REASON)
        );
        assert_eq!(
            negotiate(&with(&["instance-ha 1.7"])),
            Err(VersionError::Unsupported(Microversion::new(1, 7)))
        );
        assert_eq!(
            negotiate(&with(&["instance-ha 2.0"])),
            Err(VersionError::Unsupported(Microversion::new(2, 0)))
        );
    }
}

//! How option text becomes typed values.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Why an option's text is not a value of its type. The texts quote what was written; the
/// caller replaces them for secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseOptionError {
    /// Reading a boolean failed.
    #[error("'{text}' is not a boolean (true/false)")]
    Boolean {
        /// What was written.
        text: String,
    },
    /// Reading a number failed.
    #[error("'{text}' is not a valid {kind}")]
    Number {
        /// What was written.
        text: String,
        /// The type it should have been (`u16`, `f64`, …).
        kind: &'static str,
    },
    /// Reading a number of seconds failed.
    #[error("'{text}' is not a number of seconds")]
    Seconds {
        /// What was written.
        text: String,
    },
    /// A number of seconds is negative or too large to be a duration.
    #[error("'{text}' is out of range for seconds")]
    SecondsRange {
        /// What was written.
        text: String,
    },
    /// Reading one of a few words failed.
    #[error("'{text}' is not one of {}", choices.join(", "))]
    Choice {
        /// What was written.
        text: String,
        /// The words accepted.
        choices: &'static [&'static str],
    },
}

/// A type an option can have.
pub trait OptionValue: Sized {
    /// Whether the value is a secret (redacted in messages and samples).
    const SECRET: bool = false;
    /// Parses the text written in a file or environment variable.
    fn parse_option(text: &str) -> Result<Self, ParseOptionError>;
}

impl OptionValue for String {
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        Ok(text.to_owned())
    }
}

impl OptionValue for bool {
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(ParseOptionError::Boolean {
                text: text.to_owned(),
            }),
        }
    }
}

macro_rules! integer_option {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
                text.parse().map_err(|_| ParseOptionError::Number {
                    text: text.to_owned(),
                    kind: stringify!($t),
                })
            }
        }
    )*};
}
integer_option!(u16, u32, u64, usize, i64, f64);

/// A duration written as integer seconds (oslo's convention), converted at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl OptionValue for Seconds {
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        let secs: f64 = text.parse().map_err(|_| ParseOptionError::Seconds {
            text: text.to_owned(),
        })?;
        if !(0.0..=1e9).contains(&secs) {
            return Err(ParseOptionError::SecondsRange {
                text: text.to_owned(),
            });
        }
        Ok(Self(Duration::from_secs_f64(secs)))
    }
}

/// A secret option (passwords, tokens): never printed.
#[derive(Clone)]
pub struct Secret(pub SecretString);

impl Secret {
    /// Wraps a secret obtained at run time (a token, a password read from a file).
    pub fn new(text: impl Into<String>) -> Self {
        Self(SecretString::from(text.into()))
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl OptionValue for Secret {
    const SECRET: bool = true;
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        Ok(Self(SecretString::from(text.to_owned())))
    }
}

/// An option that may be unset; an empty value means unset, as in oslo.
impl<T: OptionValue> OptionValue for Option<T> {
    const SECRET: bool = T::SECRET;
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        if text.is_empty() {
            Ok(None)
        } else {
            T::parse_option(text).map(Some)
        }
    }
}

/// A comma-separated list (oslo `ListOpt`).
impl OptionValue for Vec<String> {
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

/// How API requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStrategy {
    /// Keystone tokens, validated with the `[keystone_authtoken]` credentials.
    Keystone,
    /// No authentication: every caller is an administrator. For tests and trials only.
    Noauth2,
}

impl OptionValue for AuthStrategy {
    fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
        match text {
            "keystone" => Ok(Self::Keystone),
            "noauth2" | "noauth" => Ok(Self::Noauth2),
            _ => Err(ParseOptionError::Choice {
                text: text.to_owned(),
                choices: &["keystone", "noauth2"],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_does_not_parse_says_which_kind_it_should_be() {
        assert_eq!(
            bool::parse_option("maybe"),
            Err(ParseOptionError::Boolean {
                text: "maybe".into()
            })
        );
        assert_eq!(
            u16::parse_option("70000"),
            Err(ParseOptionError::Number {
                text: "70000".into(),
                kind: "u16"
            })
        );
        assert_eq!(
            Seconds::parse_option("-1"),
            Err(ParseOptionError::SecondsRange { text: "-1".into() })
        );
        let wrong = Seconds::parse_option("soon").unwrap_err();
        assert_eq!(wrong.to_string(), "'soon' is not a number of seconds");
        assert_eq!(
            <Option<AuthStrategy>>::parse_option("ldap").map_err(|e| e.to_string()),
            Err("'ldap' is not one of keystone, noauth2".to_owned())
        );
    }
}

//! How option text becomes typed values.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A type an option can have.
pub trait OptionValue: Sized {
    /// Whether the value is a secret (redacted in messages and samples).
    const SECRET: bool = false;
    /// Parses the text written in a file or environment variable.
    fn parse_option(text: &str) -> Result<Self, String>;
}

impl OptionValue for String {
    fn parse_option(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
}

impl OptionValue for bool {
    fn parse_option(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(format!("'{text}' is not a boolean (true/false)")),
        }
    }
}

macro_rules! integer_option {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            fn parse_option(text: &str) -> Result<Self, String> {
                text.parse().map_err(|_| format!("'{text}' is not a valid {}", stringify!($t)))
            }
        }
    )*};
}
integer_option!(u16, u32, u64, usize, i64, f64);

/// A duration written as integer seconds (oslo's convention), converted at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl OptionValue for Seconds {
    fn parse_option(text: &str) -> Result<Self, String> {
        let secs: f64 = text
            .parse()
            .map_err(|_| format!("'{text}' is not a number of seconds"))?;
        if !(0.0..=1e9).contains(&secs) {
            return Err(format!("'{text}' is out of range for seconds"));
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
    fn parse_option(text: &str) -> Result<Self, String> {
        Ok(Self(SecretString::from(text.to_owned())))
    }
}

/// An option that may be unset; an empty value means unset, as in oslo.
impl<T: OptionValue> OptionValue for Option<T> {
    const SECRET: bool = T::SECRET;
    fn parse_option(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            Ok(None)
        } else {
            T::parse_option(text).map(Some)
        }
    }
}

/// A comma-separated list (oslo `ListOpt`).
impl OptionValue for Vec<String> {
    fn parse_option(text: &str) -> Result<Self, String> {
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
    fn parse_option(text: &str) -> Result<Self, String> {
        match text {
            "keystone" => Ok(Self::Keystone),
            "noauth2" | "noauth" => Ok(Self::Noauth2),
            _ => Err(super::choices::not_one_of(text, &["keystone", "noauth2"])),
        }
    }
}

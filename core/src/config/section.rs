//! The `config_section!` macro: one declaration gives a typed section struct, its defaults, its
//! documentation for the sample file and its parser, so the three cannot drift apart.

/// One option, as documented in the sample file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// Option name.
    pub name: &'static str,
    /// Default, as written in a file (empty: unset).
    pub default: &'static str,
    /// Help text (the field's doc comment).
    pub help: &'static str,
    /// Whether the value is secret.
    pub secret: bool,
    /// Other names accepted for the same option (Masakari's or masakari-monitors').
    pub aliases: &'static [&'static str],
}

/// A section's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionSpec {
    /// Section name.
    pub name: &'static str,
    /// Help text.
    pub help: &'static str,
    /// Options.
    pub options: &'static [OptionSpec],
}

/// Declares a typed config section; see the module docs. Exported so that the monitor and
/// resource-manager crates declare their own sections the same way.
#[macro_export]
macro_rules! config_section {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident in $section:literal {
            $(
                $(#[doc = $doc:literal])*
                pub $field:ident : $ty:ty = $default:literal $(, aliases = [$($alias:literal),*])?
            );* $(;)?
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $name {
            /// This section's documentation.
            pub const SPEC: $crate::config::SectionSpec = $crate::config::SectionSpec {
                name: $section,
                help: concat!($($sdoc, "\n"),*),
                options: &[ $(
                    $crate::config::OptionSpec {
                        name: stringify!($field),
                        default: $default,
                        help: concat!($($doc, "\n"),*),
                        secret: <$ty as $crate::config::OptionValue>::SECRET,
                        aliases: &[$($($alias),*)?],
                    },
                )* ],
            };

            /// Reads the section, collecting every bad value in `errors`.
            pub fn from_raw(
                raw: &$crate::config::RawConfig,
                errors: &mut Vec<$crate::config::ConfigError>,
            ) -> Self {
                Self { $(
                    $field: $crate::config::read_option::<$ty>(
                        raw, $section, stringify!($field), &[$($($alias),*)?], $default, errors,
                    ),
                )* }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::from_raw(&$crate::config::RawConfig::default(), &mut Vec::new())
            }
        }
    };
}

//! Options whose value is one of a few words: parsed into enums where the file is read, so a
//! misspelt word is refused at load time (by `serve` and `manage config check` alike), naming the
//! option and the words it accepts.

use super::values::{OptionValue, ParseOptionError};

/// Declares an enum of words: its variants, their spelling in files (and in the workflow
/// policy YAML, through serde) and its [`OptionValue`] parser.
macro_rules! choice_option {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// The words accepted, in documentation order.
            pub const CHOICES: &'static [&'static str] = &[$($text),+];

            /// The word for this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }
        }

        impl OptionValue for $name {
            fn parse_option(text: &str) -> Result<Self, ParseOptionError> {
                match text {
                    $( $text => Ok(Self::$variant), )+
                    _ => Err(ParseOptionError::Choice {
                        text: text.to_owned(),
                        choices: Self::CHOICES,
                    }),
                }
            }
        }
    };
}

choice_option! {
    /// Whether a failed host must be fenced before its instances are evacuated.
    pub enum Fencing {
        /// Required when the host has a fence device, skipped (with a warning) when it has none.
        Auto = "auto",
        /// No evacuation without a verified power-off.
        Required = "required",
        /// Try; evacuate even if fencing fails (the operator accepts the risk).
        BestEffort = "best_effort",
        /// Never fence (the segment opted out; e.g. the monitors verify power themselves).
        Disabled = "disabled",
    }
}

choice_option! {
    /// Where `auto` evacuations go.
    pub enum Placement {
        /// A host of the same segment with room, chosen by Lifeboat.
        Segment = "segment",
        /// Wherever Nova's scheduler puts it (Masakari's behaviour).
        Scheduler = "scheduler",
    }
}

choice_option! {
    /// How a failed instance is recovered.
    pub enum InstanceAction {
        /// Stop, start, confirm active (Masakari).
        StopStart = "stop_start",
        /// Hard reboot, confirm active.
        HardReboot = "hard_reboot",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_and_a_misspelt_one_names_the_choices() {
        assert_eq!(
            Fencing::parse_option("best_effort"),
            Ok(Fencing::BestEffort)
        );
        assert_eq!(
            Fencing::parse_option("requird").map_err(|e| e.to_string()),
            Err("'requird' is not one of auto, required, best_effort, disabled".to_owned())
        );
        assert_eq!(Placement::parse_option("Segment").ok(), None);
        for word in InstanceAction::CHOICES {
            assert_eq!(InstanceAction::parse_option(word).unwrap().as_str(), *word);
        }
    }
}

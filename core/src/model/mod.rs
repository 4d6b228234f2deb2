//! Domain types. Each enum has one spelling, used by the store, the API and the engine alike.

mod fence;
mod host;
mod notification;
mod recovery;
mod segment;
mod vmove;

pub use fence::{FenceDevice, FenceDeviceUpdate, FenceDriver, FenceRecord, NewFenceDevice};
pub use host::{Host, HostUpdate, Maintenance, MaintenanceReason, NewHost};
pub use notification::{
    HostEvent, NewNotification, Notification, NotificationStatus, NotificationType, Payload,
};
pub use recovery::{CANCEL_STEP, CANCELLED_MESSAGE, ProgressDetail, RecoveryStep, StepState};
pub use segment::{NewSegment, RecoveryMethod, Segment, SegmentUpdate};
pub use vmove::{VMove, VMoveStatus, VMoveType};

/// An enum whose variants have fixed string forms (the wire and database spelling).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];

            /// The wire and database spelling.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $text ),+ }
            }

            /// The accepted spellings, for error messages.
            pub fn choices() -> String {
                let all: &[&str] = &[ $( $text ),+ ];
                all.join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::model::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok(Self::$variant), )+
                    other => Err(crate::model::UnknownVariant {
                        kind: stringify!($name),
                        value: other.to_owned(),
                        choices: Self::choices(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_enum;

/// A string that is not one of an enum's spellings (from the database or a filter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {kind}; expected one of: {choices}")]
pub struct UnknownVariant {
    /// The enum's name.
    pub kind: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub choices: String,
}

/// Timestamps every persisted resource carries (Masakari's `SoftDeleteMixin` + timestamps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamps {
    /// When the row was inserted.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the row last changed, if ever.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the row was soft-deleted, if it was.
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the row is soft-deleted (listed rows never are).
    pub deleted: bool,
}

//! The CAP 1.2 alert message (OASIS Common Alerting Protocol, version 1.2, 2010) as data.
//! Field names follow the standard's element names; the order of fields is the schema's
//! order, which is the order `write` puts them out in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The CAP 1.2 namespace.
pub const CAP_1_2: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// The CAP 1.1 namespace (read and upgraded to 1.2).
pub const CAP_1_1: &str = "urn:oasis:names:tc:emergency:cap:1.1";
/// The CAP 1.0 namespace (refused: it differs in structure, not only in name).
pub const CAP_1_0: &str = "http://www.incident.com/cap/1.0";
/// The XML digital signature namespace, whose `Signature` may close an alert.
pub const XMLDSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Declares a CAP code list: an enum whose variants carry the standard's exact spelling,
/// which serde and `parse`/`as_str` all use, so the spelling is written once.
macro_rules! cap_code {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the standard's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The standard's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Reads the standard's spelling (exact, case-sensitive as the schema is).
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The allowed spellings, for messages.
            pub fn choices() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

cap_code!(
    /// `status`: how the alert is to be handled.
    Status { Actual = "Actual", Exercise = "Exercise", System = "System", Test = "Test", Draft = "Draft" }
);
cap_code!(
    /// `msgType`: what the message does.
    MsgType { Alert = "Alert", Update = "Update", Cancel = "Cancel", Ack = "Ack", Error = "Error" }
);
cap_code!(
    /// `scope`: who may see it.
    Scope { Public = "Public", Restricted = "Restricted", Private = "Private" }
);
cap_code!(
    /// `category` of the event.
    Category {
        Geo = "Geo", Met = "Met", Safety = "Safety", Security = "Security", Rescue = "Rescue",
        Fire = "Fire", Health = "Health", Env = "Env", Transport = "Transport", Infra = "Infra",
        /// Chemical, biological, radiological, nuclear or high-yield explosive.
        Cbrne = "CBRNE",
        Other = "Other",
    }
);
cap_code!(
    /// `responseType`: the action recommended.
    ResponseType {
        Shelter = "Shelter", Evacuate = "Evacuate", Prepare = "Prepare", Execute = "Execute",
        Avoid = "Avoid", Monitor = "Monitor", Assess = "Assess", AllClear = "AllClear", None = "None",
    }
);
cap_code!(
    /// `urgency`: how soon to act.
    Urgency { Immediate = "Immediate", Expected = "Expected", Future = "Future", Past = "Past", Unknown = "Unknown" }
);
cap_code!(
    /// `severity`: how bad it is.
    Severity { Extreme = "Extreme", Severe = "Severe", Moderate = "Moderate", Minor = "Minor", Unknown = "Unknown" }
);
cap_code!(
    /// `certainty`: how likely it is.
    Certainty {
        Observed = "Observed", Likely = "Likely", Possible = "Possible", Unlikely = "Unlikely",
        Unknown = "Unknown",
    }
);

/// A `valueName`/`value` pair (`eventCode`, `parameter`, `geocode`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedValue {
    /// The system the value belongs to, e.g. `SAME` or `GB/T 2260`.
    pub value_name: String,
    /// The value.
    pub value: String,
}

/// An alert message: `alert`, the root element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alert {
    /// Unique for the sender; no spaces, commas or `<` `&`.
    pub identifier: String,
    /// The originator; no spaces, commas or `<` `&`.
    pub sender: String,
    /// When it was sent, `YYYY-MM-DDThh:mm:ss±hh:mm`.
    pub sent: String,
    /// How the alert is to be handled.
    pub status: Status,
    /// What the message does.
    pub msg_type: MsgType,
    /// The source, e.g. an operator or device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Who may see it.
    pub scope: Scope,
    /// Who may see a Restricted alert, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<String>,
    /// Addressees of a Private alert, space-separated (quoted when they hold spaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<String>,
    /// Special handling codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<String>,
    /// A note: the reason of an Error or Cancel, or anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Earlier messages this one refers to: `sender,identifier,sent` separated by spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
    /// Incidents it belongs to, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<String>,
    /// The information blocks, one per language (or per event).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<Info>,
}

/// An `info` block: the event and what to do, in one language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Info {
    /// RFC 3066 language, `en-US` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// At least one category.
    pub category: Vec<Category>,
    /// The event, in words.
    pub event: String,
    /// Recommended actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_type: Vec<ResponseType>,
    /// How soon to act.
    pub urgency: Urgency,
    /// How bad it is.
    pub severity: Severity,
    /// How likely it is.
    pub certainty: Certainty,
    /// Intended audience, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// System-specific event codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_code: Vec<NamedValue>,
    /// When the information takes effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// When the event is expected to begin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset: Option<String>,
    /// When the information expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The issuing authority's name, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// A short headline (160 characters suggested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    /// What is happening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// Where to read more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// Whom to contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// System-specific parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameter: Vec<NamedValue>,
    /// Attached files or links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Resource>,
    /// Where it applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub area: Vec<Area>,
}

impl Info {
    /// What to call the block in a list: its headline, or its event when it has none.
    pub fn title(&self) -> &str {
        self.headline.as_deref().unwrap_or(&self.event)
    }
}

/// A `resource`: a file or link that goes with the info.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resource {
    /// What it is, in words.
    pub resource_desc: String,
    /// Its MIME type.
    pub mime_type: String,
    /// Its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Where to fetch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its content, base64 (when sent inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deref_uri: Option<String>,
    /// Its SHA-1 digest, for checking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// An `area`: where the info applies, in words and as shapes and codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Area {
    /// The area, in words.
    pub area_desc: String,
    /// Polygons: `lat,lon` pairs separated by spaces, first equal to last, at least four.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygon: Vec<String>,
    /// Circles: `lat,lon radius` with the radius in kilometres.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub circle: Vec<String>,
    /// Region codes, e.g. `GB/T 2260` division codes for Chinese regions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub geocode: Vec<NamedValue>,
    /// Altitude in feet above mean sea level, as the standard has it (a decimal, kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude: Option<String>,
    /// Ceiling in feet; only with an altitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<String>,
}

/// A problem with an alert, with the element it is in (a path such as `info[1]/area[2]/polygon[1]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CapProblem {
    /// Where: the element's path, or a line of the document.
    pub element: String,
    /// What is wrong, in words.
    pub message: String,
}

impl CapProblem {
    /// A problem at `element`.
    pub fn at(element: impl Into<String>, message: impl Into<String>) -> CapProblem {
        CapProblem {
            element: element.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CapProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.element, self.message)
    }
}

/// The CAP version a document was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub enum CapVersion {
    /// CAP 1.1, upgraded to 1.2 on reading.
    #[serde(rename = "1.1")]
    V1_1,
    /// CAP 1.2.
    #[serde(rename = "1.2")]
    V1_2,
}

/// A document read: the alert, what it was written in, and what was kept aside.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadAlert {
    /// The alert, as CAP 1.2.
    pub alert: Alert,
    /// The version the document was in.
    pub version: CapVersion,
    /// The character encoding the document declared (`UTF-8` when none).
    pub encoding: String,
    /// The sender's XML signature, verbatim, if it was signed. Kept with the original
    /// document; a re-written alert cannot carry it (its bytes would no longer match).
    pub signature: Option<String>,
    /// What upgrading from 1.1 changed, in words (empty for 1.2).
    pub upgrade_notes: Vec<String>,
    /// The document as UTF-8 text.
    pub text: String,
}

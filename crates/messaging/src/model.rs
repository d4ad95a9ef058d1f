//! Notices, audiences and inbox entries.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who receives a notice: every registered resident who matches all the criteria given.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Residents of this region (GB/T 2260 code: a province, city or county code covers
    /// everything under it; a township or community code, itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Aged at least this many whole years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<i64>,
    /// Aged at most this many whole years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// Residents carrying every one of these tags (codes, at most 5; see `/api/v1/tags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Only these residents (person ids, at most 1,000).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persons: Vec<String>,
}

/// `POST /api/v1/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Subject (≤ 100).
    pub subject: String,
    /// Text (≤ 5,000).
    pub body: String,
    /// Who receives it (a region or named residents at least).
    pub audience: Audience,
    /// Ask each recipient to acknowledge it (收到请回复).
    #[serde(default)]
    pub ack_required: bool,
    /// The sending organisation (default: the sender's own).
    #[serde(default)]
    pub organisation_id: Option<String>,
}

/// A sent notice, as its sender sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Id.
    pub id: String,
    /// Sending organisation.
    pub sender_org_id: String,
    /// Its name.
    pub sender_name: String,
    /// Subject.
    pub subject: String,
    /// Text.
    pub body: String,
    /// The audience as sent.
    pub audience: Audience,
    /// Whether recipients are asked to acknowledge.
    pub ack_required: bool,
    /// How many residents it reached.
    pub recipients: i64,
    /// How many have read it.
    pub read: i64,
    /// How many have acknowledged it.
    pub acknowledged: i64,
    /// Sent.
    pub created_at: Timestamp,
}

/// A notice in a resident's inbox.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InboxItem {
    /// The message id.
    pub id: String,
    /// Sending organisation's name.
    pub sender_name: String,
    /// Subject.
    pub subject: String,
    /// Text.
    pub body: String,
    /// Whether she is asked to acknowledge.
    pub ack_required: bool,
    /// Arrived.
    pub created_at: Timestamp,
    /// First read.
    pub read_at: Option<Timestamp>,
    /// Acknowledged.
    pub acked_at: Option<Timestamp>,
}

/// `GET /api/v1/me/inbox/unread`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Unread {
    /// Unread notices.
    pub unread: i64,
    /// Notices awaiting her acknowledgement.
    pub awaiting_ack: i64,
}

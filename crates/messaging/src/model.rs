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
    /// Residents of any of these regions besides (at most 100 codes; an alert's area).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
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
    /// Channels beyond the inbox: `sms` (residents with a registered phone who did not
    /// turn SMS off), `email` (residents who gave an address). Webhooks of subscribed
    /// organisations receive every broadcast notice.
    #[serde(default)]
    pub channels: Vec<String>,
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

/// How one channel's deliveries of a notice stand.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelCount {
    /// `sms`, `email` or `webhook`.
    pub channel: String,
    /// Waiting to be sent or to be retried.
    pub pending: i64,
    /// Accepted by the gateway, mail server or webhook.
    pub sent: i64,
    /// Given up on.
    pub failed: i64,
}

/// A delivery not (yet) made.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Undelivered {
    /// Channel.
    pub channel: String,
    /// The person id or webhook id.
    pub recipient: String,
    /// `pending` (to be retried) or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// The next attempt (pending only).
    pub next_attempt_at: Option<Timestamp>,
}

/// `GET /api/v1/messages/{id}/deliveries`: the delivery log of a notice.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryReport {
    /// Per channel.
    pub channels: Vec<ChannelCount>,
    /// Up to 100 deliveries retrying or failed.
    pub undelivered: Vec<Undelivered>,
}

/// A resident's channel choices.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationSettings {
    /// SMS to her registered phone.
    pub sms: bool,
    /// That phone, masked (none: no SMS can reach her).
    pub phone_masked: Option<String>,
    /// E-mail.
    pub email: bool,
    /// The address, masked.
    pub email_masked: Option<String>,
}

/// `PUT /api/v1/me/notification-settings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotificationSettings {
    /// SMS on or off.
    pub sms: bool,
    /// E-mail on or off.
    pub email: bool,
    /// A new e-mail address; omit to keep the one on file, `""` to remove it.
    #[serde(default)]
    pub email_address: Option<String>,
}

/// An organisation's webhook.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    /// Id.
    pub id: String,
    /// The organisation.
    pub organisation_id: String,
    /// Where notices are posted.
    pub url: String,
    /// Only notices for this region (GB/T 2260 code; none: every broadcast notice).
    pub region: Option<String>,
    /// Registered.
    pub created_at: Timestamp,
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `https://…` (or `http://` inside a trusted network).
    pub url: String,
    /// Only notices for this region (and what it contains or lies in).
    #[serde(default)]
    pub region: Option<String>,
    /// The organisation (default: the caller's own).
    #[serde(default)]
    pub organisation_id: Option<String>,
}

/// A new webhook with its signing secret, shown only this once.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookCreated {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The HMAC-SHA256 key (hex) its posts are signed with: `X-Civitas-Signature:
    /// v1=hex(HMAC(secret, "{X-Civitas-Timestamp}.{body}"))`.
    pub secret: String,
}

/// What the outbox channel wrote (the demo's SMS and e-mail).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OutboxEntry {
    /// The notice.
    pub message_id: String,
    /// `sms` or `email`.
    pub channel: String,
    /// The address, masked.
    pub address_masked: String,
    /// Subject.
    pub subject: String,
    /// The text as it would have been sent.
    pub text: String,
    /// When.
    pub created_at: Timestamp,
}

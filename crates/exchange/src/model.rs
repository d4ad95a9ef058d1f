//! The catalogue's types: data resources with typed, classified fields; sharing requests;
//! agreements.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a string enum with its stored names and labels in Chinese and English.
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, for forms.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// Label in Chinese and English.
            pub fn label(self) -> (&'static str, &'static str) {
                match self { $($name::$variant => ($zh, $en),)+ }
            }
        }
    };
}

labelled_enum! {
    /// How sensitive one field is.
    Sensitivity {
        /// May be published.
        Public = "public", "公开", "Public";
        /// For government use.
        Internal = "internal", "内部", "Internal";
        /// Personal information.
        Personal = "personal", "个人信息", "Personal";
        /// Sensitive personal information (PIPL art. 28).
        SensitivePersonal = "sensitive_personal", "敏感个人信息", "Sensitive personal";
    }
}

labelled_enum! {
    /// The sharing class of a whole resource.
    SharingClass {
        /// 无条件共享: any department, with an automatically approved agreement.
        Unconditional = "unconditional", "无条件共享", "Unconditional";
        /// 有条件共享: the provider decides each request.
        Conditional = "conditional", "有条件共享", "Conditional";
        /// 不予共享: not shared, with the legal reason.
        NotShared = "not_shared", "不予共享", "Not shared";
    }
}

labelled_enum! {
    /// How often the provider updates the data.
    UpdateFrequency {
        /// As it changes.
        Realtime = "realtime", "实时", "Real time";
        /// Daily.
        Daily = "daily", "每日", "Daily";
        /// Weekly.
        Weekly = "weekly", "每周", "Weekly";
        /// Monthly.
        Monthly = "monthly", "每月", "Monthly";
        /// Yearly.
        Yearly = "yearly", "每年", "Yearly";
    }
}

labelled_enum! {
    /// How the resource is served.
    Serving {
        /// Records kept in Civitas, loaded by import.
        Hosted = "hosted", "平台托管", "Hosted";
        /// Each call forwarded to the provider's own endpoint.
        Proxied = "proxied", "接口代理", "Proxied";
    }
}

labelled_enum! {
    /// What a record is keyed by.
    SubjectKind {
        /// A resident ID number.
        Person = "person", "自然人（身份证号）", "Person (resident ID)";
        /// A unified social credit code.
        Organisation = "organisation", "法人（统一社会信用代码）", "Organisation (credit code)";
    }
}

labelled_enum! {
    /// The type of a field's values.
    FieldType {
        /// Text.
        String = "string", "文本", "Text";
        /// Whole number.
        Integer = "integer", "整数", "Integer";
        /// Decimal number.
        Number = "number", "数值", "Number";
        /// Yes or no.
        Boolean = "boolean", "是否", "Yes/no";
        /// Calendar date, `YYYY-MM-DD`.
        Date = "date", "日期", "Date";
    }
}

labelled_enum! {
    /// Where a sharing request stands.
    RequestStatus {
        /// Waiting for the provider.
        Pending = "pending", "待审核", "Pending";
        /// Approved: an agreement exists.
        Approved = "approved", "已批准", "Approved";
        /// Rejected with a reason.
        Rejected = "rejected", "已驳回", "Rejected";
    }
}

/// One field of a resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Machine name: lowercase letters, digits and `_`, starting with a letter (≤ 48).
    pub name: String,
    /// Human title (≤ 64).
    pub title: String,
    /// Value type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Sensitivity class.
    pub sensitivity: Sensitivity,
}

/// A data resource in the catalogue.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Resource {
    /// Id.
    pub id: String,
    /// Stable code used in URLs, e.g. `household-registration`.
    pub code: String,
    /// Name.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Providing organisation.
    pub provider_org_id: String,
    /// Its name.
    pub provider_name: String,
    /// Fields.
    pub fields: Vec<FieldSpec>,
    /// Sharing class.
    pub sharing_class: SharingClass,
    /// Legal reason (required when not shared).
    pub legal_reason: Option<String>,
    /// Update frequency.
    pub update_frequency: UpdateFrequency,
    /// Hosted or proxied.
    pub serving: Serving,
    /// What records are keyed by.
    pub subject_kind: SubjectKind,
    /// Provider endpoint for proxied resources.
    pub endpoint_url: Option<String>,
    /// Search keywords.
    pub keywords: Vec<String>,
    /// Published.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// `POST /api/v1/exchange/resources`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    /// Stable code: lowercase letters, digits and `-` (3–64).
    pub code: String,
    /// Name (≤ 64).
    pub name: String,
    /// Description (≤ 1000).
    pub description: String,
    /// Providing organisation (default: the publisher's own).
    #[serde(default)]
    pub provider_org_id: Option<String>,
    /// Fields (1–100).
    pub fields: Vec<FieldSpec>,
    /// Sharing class.
    pub sharing_class: SharingClass,
    /// Legal reason, required when `not_shared`.
    #[serde(default)]
    pub legal_reason: Option<String>,
    /// Update frequency.
    pub update_frequency: UpdateFrequency,
    /// Hosted or proxied.
    pub serving: Serving,
    /// What records are keyed by.
    pub subject_kind: SubjectKind,
    /// `http(s)://…` endpoint, required when proxied.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Search keywords (≤ 20, each ≤ 32).
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A sharing request (供需对接).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SharingRequest {
    /// Id.
    pub id: String,
    /// The resource.
    pub resource_id: String,
    /// Its name.
    pub resource_name: String,
    /// The requesting organisation.
    pub consumer_org_id: String,
    /// Its name.
    pub consumer_name: String,
    /// Fields asked for.
    pub fields: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Legal basis cited.
    pub legal_basis: String,
    /// Expected calls per day.
    pub expected_calls_per_day: i64,
    /// Status.
    pub status: RequestStatus,
    /// Why it was rejected (or notes on approval).
    pub decision_reason: Option<String>,
    /// The agreement, once approved.
    pub agreement_id: Option<String>,
    /// Filed.
    pub created_at: Timestamp,
    /// Decided.
    pub decided_at: Option<Timestamp>,
}

/// `POST /api/v1/exchange/requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Resource id or code.
    pub resource: String,
    /// Requesting organisation (default: the requester's own).
    #[serde(default)]
    pub consumer_org_id: Option<String>,
    /// Fields wanted (1–100, each a field of the resource).
    pub fields: Vec<String>,
    /// Purpose (≤ 500).
    pub purpose: String,
    /// Legal basis (≤ 500), e.g. the statute that gives the duty.
    pub legal_basis: String,
    /// Whether the legal basis is a statutory duty (then no consent is needed for
    /// personal fields); otherwise each person's consent is required.
    #[serde(default)]
    pub statutory: bool,
    /// Expected calls per day (1–100,000,000).
    pub expected_calls_per_day: i64,
}

/// `POST /api/v1/exchange/requests/{id}/decision`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Approve (true) or reject (false).
    pub approve: bool,
    /// Reason (required to reject, ≤ 500).
    #[serde(default)]
    pub reason: Option<String>,
    /// Narrow the fields to these (a subset of those asked for).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// When the agreement lapses (default one year, at most five).
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Calls per minute allowed (default 600).
    #[serde(default)]
    pub rate_limit_per_minute: Option<i64>,
}

/// An agreement: the named basis of every gateway call.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Agreement {
    /// Id.
    pub id: String,
    /// The request it came from.
    pub request_id: String,
    /// The resource.
    pub resource_id: String,
    /// Its name.
    pub resource_name: String,
    /// Provider.
    pub provider_org_id: String,
    /// Consumer.
    pub consumer_org_id: String,
    /// Consumer's name.
    pub consumer_name: String,
    /// Fields the consumer may receive.
    pub fields: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Legal basis.
    pub legal_basis: String,
    /// Whether the basis is a statutory duty (no consent needed).
    pub statutory: bool,
    /// Calls per minute allowed.
    pub rate_limit_per_minute: i64,
    /// When it lapses.
    pub expires_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// Created.
    pub created_at: Timestamp,
}

/// What the gateway returns for one subject (signed; see the `Signature` header).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct GatewayRecord {
    /// The call's id: the id of its audit record.
    pub call_id: String,
    /// The resource code.
    pub resource: String,
    /// The agreement the call was made under.
    pub agreement_id: String,
    /// The basis for the subject's personal data: `agreement`, `consent` or `statutory`.
    pub basis: String,
    /// The consent used, when the basis is consent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_id: Option<String>,
    /// The allowed fields of the record, by name.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// When it was served.
    pub served_at: Timestamp,
}

/// `POST /api/v1/exchange/{resource}/records:batch`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Subjects (resident IDs or credit codes), 1 to 1,000.
    pub subjects: Vec<String>,
    /// Fields wanted (default: every field of the agreement).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

/// One subject's result in a batch: the record, or the problem.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchItem {
    /// Position in the request's `subjects`.
    pub index: usize,
    /// HTTP status this subject would have had alone.
    pub status: u16,
    /// The record, when found and allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<GatewayRecord>,
    /// Why not, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<kernel::error::Problem>,
}

/// The batch answer (signed as a whole).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchAnswer {
    /// One item per subject, in request order.
    pub results: Vec<BatchItem>,
}

/// What an import did.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// Records read.
    pub records: u64,
    /// Of those, how many replaced an earlier record of the same subject.
    pub replaced: u64,
    /// Records of person subjects linked to a registered person.
    pub linked_to_persons: u64,
    /// Records the resource now hosts.
    pub total: i64,
}

/// A published signing key, as a JSON Web Key (RFC 8037, OKP / Ed25519).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PublishedKey {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// Key id, as in `Signature-Input`'s `keyid`.
    pub kid: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// The organisation whose key it is.
    pub organisation_id: String,
    /// Its name.
    pub organisation_name: String,
    /// Created.
    pub created_at: Timestamp,
    /// Retired (still verifies what it signed before).
    pub retired_at: Option<Timestamp>,
}

/// The published key set (JWKS).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct KeySet {
    /// Keys.
    pub keys: Vec<PublishedKey>,
}

/// Gateway calls summed per resource and counterpart.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageLine {
    /// Resource code.
    pub resource: String,
    /// Resource name.
    pub resource_name: String,
    /// Provider's name.
    pub provider: String,
    /// Consumer's name.
    pub consumer: String,
    /// Calls served.
    pub calls: i64,
    /// Calls refused.
    pub denied: i64,
    /// Last day with calls (`YYYY-MM-DD`).
    pub last_day: String,
}

/// An organisation's gateway traffic over the last 30 days.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Traffic {
    /// The organisation.
    pub organisation_id: String,
    /// Calls to its resources, per consumer.
    pub as_provider: Vec<UsageLine>,
    /// Its own calls to others' resources.
    pub as_consumer: Vec<UsageLine>,
}

/// `POST /api/v1/me/consents`: a resident allows a consumer to receive fields of a
/// resource.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsent {
    /// Resource id or code.
    pub resource: String,
    /// The organisation that may receive the data.
    pub consumer_org_id: String,
    /// Fields it may receive (default: the resource's personal fields in its agreement).
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Why (≤ 500; default: the agreement's purpose).
    #[serde(default)]
    pub purpose: Option<String>,
    /// `once` or `periodic` (default `once`).
    #[serde(default)]
    pub fetch_type: Option<trust::model::FetchType>,
    /// Fetches allowed per day when periodic (1–1,000; default 10).
    #[serde(default)]
    pub max_fetches_per_day: Option<i64>,
    /// When the window opens (default now).
    #[serde(default)]
    pub valid_from: Option<Timestamp>,
    /// When it closes (default 90 days later; at most 5 years ahead).
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
}

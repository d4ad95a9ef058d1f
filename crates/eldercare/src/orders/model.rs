//! What the care-orders API says about the service catalogue, orders, their subsidies and
//! ratings, and the subsidy report, and what it is asked.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::wire_enum;

wire_enum!(
    /// What a care service does.
    ServiceKind, SERVICE_KINDS {
        /// Meals cooked and brought to her door (助餐送餐).
        MealDelivery => "meal_delivery",
        /// Cleaning her home (助洁).
        Cleaning => "cleaning",
        /// Help with bathing (助浴).
        Bathing => "bathing",
        /// Going with her to the doctor (陪同就医).
        MedicalAccompaniment => "medical_accompaniment",
        /// Nursing at home by a nurse (上门护理).
        HomeNursing => "home_nursing",
    }
);

impl ServiceKind {
    /// In words.
    pub fn in_words(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            ServiceKind::MealDelivery => ("助餐送餐", "Meal delivery"),
            ServiceKind::Cleaning => ("助洁", "Cleaning"),
            ServiceKind::Bathing => ("助浴", "Bathing help"),
            ServiceKind::MedicalAccompaniment => ("陪同就医", "Medical accompaniment"),
            ServiceKind::HomeNursing => ("上门护理", "Home nursing"),
        };
        if zh { z } else { e }
    }
}

wire_enum!(
    /// What one unit of a service is, as it is priced.
    ServiceUnit, SERVICE_UNITS {
        /// An hour of work.
        Hour => "hour",
        /// One visit of a stated length.
        Visit => "visit",
        /// One meal.
        Meal => "meal",
    }
);

impl ServiceUnit {
    /// In words.
    pub fn in_words(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            ServiceUnit::Hour => ("小时", "hour"),
            ServiceUnit::Visit => ("次", "visit"),
            ServiceUnit::Meal => ("餐", "meal"),
        };
        if zh { z } else { e }
    }
}

wire_enum!(
    /// Where an order stands.
    OrderState, ORDER_STATES {
        /// Placed, waiting for the provider (待接单).
        Ordered => "ordered",
        /// Accepted by the provider, with a time (已接单).
        Accepted => "accepted",
        /// Done (已完成).
        Completed => "completed",
        /// Called off by the elder, her proxy or her community, or by the provider after
        /// accepting it (已取消).
        Cancelled => "cancelled",
        /// Turned down by the provider (未接单).
        Declined => "declined",
    }
);

impl OrderState {
    /// In words.
    pub fn in_words(self, zh: bool) -> &'static str {
        let (z, e) = match self {
            OrderState::Ordered => ("待接单", "Waiting for the provider"),
            OrderState::Accepted => ("已接单", "Accepted"),
            OrderState::Completed => ("已完成", "Completed"),
            OrderState::Cancelled => ("已取消", "Cancelled"),
            OrderState::Declined => ("未接单", "Declined"),
        };
        if zh { z } else { e }
    }

    /// Whether the order is still to be done (its subsidy held for it).
    pub fn is_open(self) -> bool {
        matches!(self, OrderState::Ordered | OrderState::Accepted)
    }
}

/// Offer a care service in the catalogue (the provider's staff).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCareService {
    /// The provider offering it (an organisation of kind `care_provider`).
    pub organisation_id: String,
    /// What it does.
    pub kind: ServiceKind,
    /// Its name as elders see it (2–40 characters).
    pub name: String,
    /// What it includes (at most 500 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// What one unit is.
    pub unit: ServiceUnit,
    /// The length of one unit in minutes: 60 for an hour (the default), the visit's
    /// length for a visit (required), 0 for a meal unless given. Subsidised hours are
    /// counted in these minutes.
    #[serde(default)]
    pub minutes: Option<i64>,
    /// The price of one unit in fen (分, a hundredth of a yuan), 0 – 1,000,000.
    pub price_fen: i64,
    /// The region codes it is offered in (up to 100; a region takes in those under it).
    /// Left out: the provider's own region.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
}

/// Change a service's price, description, length or whether it is offered.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareServiceChange {
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New length of a unit in minutes.
    #[serde(default)]
    pub minutes: Option<i64>,
    /// New price of a unit in fen (orders already placed keep theirs).
    #[serde(default)]
    pub price_fen: Option<i64>,
    /// Whether it can be ordered.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A care service in the catalogue.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CareService {
    /// Id.
    pub id: String,
    /// The provider.
    pub organisation_id: String,
    /// The provider's name.
    pub provider_name: String,
    /// What it does.
    pub kind: ServiceKind,
    /// Its name.
    pub name: String,
    /// What it includes.
    pub description: String,
    /// What one unit is.
    pub unit: ServiceUnit,
    /// The length of one unit in minutes (what a subsidised hour is counted in).
    pub minutes: i64,
    /// The price of one unit in fen.
    pub price_fen: i64,
    /// The region codes it is offered in.
    pub regions: Vec<String>,
    /// Whether it can be ordered.
    pub active: bool,
    /// Its average rating (1–5) over rated orders, if any.
    pub rating: Option<f64>,
    /// How many orders rated it.
    pub ratings: i64,
    /// When it was offered.
    pub created_at: Timestamp,
}

/// Order a care service for an elder (she, her proxy or her community's staff).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// The elder's person id.
    pub elder_id: String,
    /// The service.
    pub service_id: String,
    /// How many units (1–31).
    #[serde(default = "one")]
    pub quantity: i64,
    /// When she would like it (RFC 3339; from now to 60 days ahead).
    pub wanted_at: String,
    /// What the provider should know: the door code, what to bring (at most 500
    /// characters; sealed at rest, shown to the provider).
    #[serde(default)]
    pub note: Option<String>,
}

fn one() -> i64 {
    1
}

/// The subsidy an order was given when it was placed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrderSubsidy {
    /// The policy it was given under (rules as code), if one is set.
    pub policy_code: Option<String>,
    /// The month it counts against (local, `YYYY-MM`).
    pub month: String,
    /// Minutes of the order the subsidy covers.
    pub minutes: i64,
    /// The amount it covers, in fen.
    pub fen: i64,
    /// Why, in words: the rule that gives her the hours (or why she has none).
    pub reason: String,
}

/// The elder's name, phone and address as the provider needs them to come.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrderContact {
    /// Her full name.
    pub name: String,
    /// Her phone number.
    pub phone: Option<String>,
    /// Her address.
    pub address: Option<String>,
}

/// One step in an order's life.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrderStep {
    /// When.
    pub at: Timestamp,
    /// `ordered`, `accepted`, `rescheduled`, `declined`, `cancelled`, `completed`, `rated`.
    pub kind: String,
    /// Who.
    pub by_name: String,
    /// In words.
    pub detail: String,
}

/// A care order.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Order {
    /// Id.
    pub id: String,
    /// The elder's person id.
    pub elder_id: String,
    /// The elder's name (masked in a provider's list).
    pub elder_name: String,
    /// Her community organisation when the order was placed.
    pub community_id: String,
    /// The service.
    pub service_id: String,
    /// Its name.
    pub service_name: String,
    /// What it does.
    pub kind: ServiceKind,
    /// The provider.
    pub provider_id: String,
    /// The provider's name.
    pub provider_name: String,
    /// Units ordered.
    pub quantity: i64,
    /// What a unit is.
    pub unit: ServiceUnit,
    /// Minutes of service in all.
    pub minutes: i64,
    /// When she would like it.
    pub wanted_at: Timestamp,
    /// When the provider will come (once accepted).
    pub scheduled_at: Option<Timestamp>,
    /// Where it stands.
    pub state: OrderState,
    /// The price of a unit when ordered, in fen.
    pub unit_price_fen: i64,
    /// The price in all, in fen.
    pub price_fen: i64,
    /// What the subsidy covers.
    pub subsidy: OrderSubsidy,
    /// What she pays, in fen.
    pub payable_fen: i64,
    /// Her note to the provider (for those who may see it).
    pub note: Option<String>,
    /// Who placed it.
    pub ordered_by_name: String,
    /// When.
    pub ordered_at: Timestamp,
    /// When done.
    pub completed_at: Option<Timestamp>,
    /// Her rating (1–5), once rated.
    pub rating: Option<i64>,
    /// Her comment with the rating.
    pub rating_comment: Option<String>,
    /// Her name, phone and address, on one order's page for the provider and for her.
    pub contact: Option<OrderContact>,
    /// Its timeline, oldest first (in lists: empty).
    pub timeline: Vec<OrderStep>,
}

/// The provider accepts an order and says when it will come.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// When (RFC 3339); left out: when she asked for it.
    #[serde(default)]
    pub scheduled_at: Option<String>,
}

/// A new time for an accepted order.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    /// When (RFC 3339).
    pub scheduled_at: String,
}

/// Why an order is turned down or called off.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why (at most 500 characters; required when the provider turns down or calls off).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The elder (or her proxy) rates a completed order.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// 1 (poor) to 5 (very good).
    pub stars: i64,
    /// What she would like to say (at most 500 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// An elder's subsidised hours for a month.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SubsidyBalance {
    /// The elder's person id.
    pub elder_id: String,
    /// The month (local, `YYYY-MM`).
    pub month: String,
    /// The policy the hours come from, if one is set.
    pub policy_code: Option<String>,
    /// The policy's name.
    pub policy_name: Option<String>,
    /// Minutes a month the rules give her.
    pub entitled_minutes: i64,
    /// Minutes held by her orders of the month (open and completed).
    pub used_minutes: i64,
    /// Minutes left.
    pub remaining_minutes: i64,
    /// Why, in words.
    pub reason: String,
}

/// One row of the subsidy report: a provider or a community.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SubsidyRow {
    /// The organisation (the provider, or the elders' community committee).
    pub organisation_id: String,
    /// Its name.
    pub name: String,
    /// Orders completed in the month.
    pub orders: i64,
    /// Different elders served.
    pub elders: i64,
    /// Minutes of service.
    pub minutes: i64,
    /// Price of the services, in fen.
    pub price_fen: i64,
    /// What the subsidy paid, in fen.
    pub subsidy_fen: i64,
    /// What the elders paid, in fen.
    pub payable_fen: i64,
    /// Subsidy held by orders of the month not yet done, in fen.
    pub open_subsidy_fen: i64,
    /// Average rating of its rated orders of the month.
    pub rating: Option<f64>,
}

/// The month's subsidies by provider and by community: what the policy's department pays
/// out, and what each provider is owed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SubsidyReport {
    /// The month (local, `YYYY-MM`).
    pub month: String,
    /// By provider.
    pub providers: Vec<SubsidyRow>,
    /// By the elders' community.
    pub communities: Vec<SubsidyRow>,
    /// Everything.
    pub total: SubsidyRow,
}

/// Writes an amount in fen as yuan with two decimals (`1234` → `12.34`).
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// Writes minutes as hours (`90` → `1.5`).
pub fn hours(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    if (h - h.round()).abs() < 1e-9 {
        format!("{}", h.round() as i64)
    } else {
        format!("{h:.1}")
    }
}

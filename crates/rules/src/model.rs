//! What the rules API says about packages, and what it is asked.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A rules package as served: its entities, variables, reforms and stale parameters.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PackageSummary {
    /// Its name (`?package=` of `/calculate`).
    pub name: String,
    /// The version served: SHA-256 of its files.
    pub digest: String,
    /// Its entities: the persons first, then the groups with their roles.
    pub entities: Vec<EntitySummary>,
    /// How many variables it has.
    pub variable_count: usize,
    /// Its reforms.
    pub reforms: Vec<ReformSummary>,
    /// Parameters whose latest value is older than a year and not confirmed since.
    pub stale: Vec<StaleSummary>,
}

/// An entity and its roles.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntitySummary {
    /// Its key (`person`, `household`).
    pub key: String,
    /// Its plural, as situations name it.
    pub plural: String,
    /// Its roles' plurals, as situations list members (`adults`).
    pub roles: Vec<String>,
}

/// A reform of a package.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReformSummary {
    /// Its name (`?reforms=` of `/calculate`).
    pub name: String,
    /// What it does.
    pub label: Option<String>,
    /// The OpenFisca Python path it ports.
    pub openfisca: Option<String>,
}

/// A parameter not updated (or confirmed) for more than a year.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaleSummary {
    /// Its dotted path.
    pub path: String,
    /// The day of its latest value or confirmation.
    pub last: String,
}

/// A variable as the package defines it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VariableSummary {
    /// Its name.
    pub name: String,
    /// What it is.
    pub label: Option<String>,
    /// The entity it belongs to.
    pub entity: String,
    /// `day`, `week`, `month`, `year` or `eternity`.
    pub period: String,
    /// `number`, `bool`, `text` or `date`.
    pub value_type: String,
    /// Its unit.
    pub unit: Option<String>,
    /// The values a text variable may take.
    pub values: Vec<String>,
    /// The law it implements.
    #[schema(value_type = Option<Object>)]
    pub citation: Option<crate::parameters::Citation>,
    /// The first days of its formulas (none: an input).
    pub formulas_since: Vec<String>,
    /// Where it is written (file and line).
    pub source: String,
}

/// A package with its variables.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PackageDetail {
    /// The package.
    #[serde(flatten)]
    pub summary: PackageSummary,
    /// Its variables, by name.
    pub variables: Vec<VariableSummary>,
}

/// Which package (and reforms) a situation is computed with.
#[derive(Clone, Debug, Deserialize, IntoParams)]
pub struct CalculateQuery {
    /// The package's name (see `GET /api/v1/rules/packages`).
    pub package: String,
    /// Reforms to apply, comma-separated, by name or OpenFisca Python path.
    pub reforms: Option<String>,
}

/// A benefit policy published with its rules: who qualifies and for how much is the
/// value of one person variable of a package, computed for each month.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Policy {
    /// Its code, e.g. `old-age-allowance`.
    pub code: String,
    /// Its name, e.g. 高龄津贴.
    pub name: String,
    /// What it gives, in a sentence.
    pub summary: String,
    /// The rules package.
    pub package: String,
    /// The person variable whose value is the monthly amount (0: not entitled).
    pub variable: String,
    /// The department that confirms proposals and pays.
    pub organisation_id: String,
    /// The legal basis for reading residents' data to find who qualifies.
    pub basis: String,
    /// `published` or `withdrawn`.
    pub status: String,
    /// What the amount is counted in: `CNY` (money, the default) or `hour` (hours of a
    /// service given in kind), from the variable's unit.
    pub unit: String,
    /// Decisions by status.
    pub counts: std::collections::BTreeMap<String, i64>,
    /// When it was last run over the population.
    pub last_run_at: Option<kernel::time::Timestamp>,
}

/// `POST /api/v1/rules/policies`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewPolicy {
    /// Its code: 2–40 of a–z, 0–9 and `-`.
    pub code: String,
    /// Its name, up to 60 characters.
    pub name: String,
    /// What it gives, up to 300 characters.
    pub summary: String,
    /// A package the node serves.
    pub package: String,
    /// A number variable of the package's person entity.
    pub variable: String,
    /// The department (organisation id).
    pub organisation_id: String,
    /// The legal basis, e.g. 《示例市高龄津贴发放办法》第三条.
    pub basis: String,
}

/// What a run over the population did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RunReport {
    /// The policy.
    pub policy: String,
    /// The month computed.
    pub period: String,
    /// Persons evaluated.
    pub evaluated: usize,
    /// Persons entitled this month.
    pub eligible: usize,
    /// New proposals for the department to confirm.
    pub proposed: usize,
    /// Enrolled persons no longer entitled, or entitled to less, flagged for review (not
    /// cut off or cut down).
    pub flagged: usize,
    /// Enrolled persons entitled to more, whose enrolment follows (each told).
    pub raised: usize,
    /// Proposals withdrawn because the person is no longer entitled before anyone
    /// confirmed them.
    pub withdrawn: usize,
    /// The package version (digest) the decisions were made with.
    pub digest: String,
    /// Seconds the run took.
    pub seconds: f64,
}

/// A decision about one person, as the department sees it (name masked).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Decision {
    /// Its id.
    pub id: String,
    /// The policy.
    pub policy_code: String,
    /// The person.
    pub person_id: String,
    /// Her name, masked.
    pub person_name: String,
    /// `proposed`, `confirmed`, `declined`, `rejected`, `review` or `ended`.
    pub status: String,
    /// The month it was computed for.
    pub period: String,
    /// The monthly amount.
    pub amount: f64,
    /// Why, in words (as decided).
    pub reason: String,
    /// For a decision under review: why she no longer qualifies.
    pub review_reason: Option<String>,
    /// The package version it was computed with.
    pub digest: String,
    /// Last change.
    pub updated_at: kernel::time::Timestamp,
}

/// Which decisions (`ids`), for confirming or reviewing in bulk.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct DecisionIds {
    /// Up to 1,000 decision ids.
    pub ids: Vec<String>,
    /// For a review: keep paying (`true`) or end (`false`).
    #[serde(default)]
    pub keep: Option<bool>,
}

/// Filters for a policy's decisions.
#[derive(Clone, Debug, Deserialize, IntoParams)]
pub struct DecisionQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Return at most this many (default 50, at most 500).
    pub limit: Option<i64>,
    /// After this decision id (the previous page's last).
    pub after: Option<String>,
}

/// A month to run for.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct RunRequest {
    /// `YYYY-MM`: the current month (the default; decisions are made for what is due now).
    #[serde(default)]
    pub period: Option<String>,
}

/// What a resident is entitled to under one policy, and why.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Entitlement {
    /// The policy.
    pub policy_code: String,
    /// Its name.
    pub name: String,
    /// What it gives.
    pub summary: String,
    /// `qualifies`, `soon` (from `from`), `nearly` (one fact about her is missing, or one
    /// amount is at most a tenth over its limit: `missing`), or `not`.
    pub standing: String,
    /// When `nearly`: the one requirement she does not meet (e.g. 独居（社区标注）), or the
    /// amount over its limit (e.g. 家庭人均月收入).
    pub missing: Option<String>,
    /// When `nearly` by an amount: the amount and its limit.
    pub over_limit: Option<OverLimit>,
    /// The monthly amount this month (or from `from`).
    pub amount: f64,
    /// What the amount is counted in: `CNY` or `hour`.
    pub unit: String,
    /// The month she qualifies from, when `soon`.
    pub from: Option<String>,
    /// Why (or why not), in words, with the law.
    pub reason: String,
    /// The explanation (version 1 format).
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    /// The department's decision about her, if any (`proposed`, `confirmed`…).
    pub decision: Option<String>,
}

/// An amount a little over the limit it is compared with.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct OverLimit {
    /// The amount (e.g. her household's income per head).
    pub value: f64,
    /// The limit (e.g. the minimum living standard).
    pub limit: f64,
}

/// A decision computed again from the situation it kept.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Replay {
    /// The decision.
    pub decision: String,
    /// The month.
    pub period: String,
    /// The amount decided then.
    pub amount_decided: f64,
    /// The amount computed again from the same inputs with the rules decided with (the
    /// version kept in the store; the rules served now if it was never kept).
    pub amount_replayed: f64,
    /// The amount the rules served now give for the same inputs.
    pub amount_now: f64,
    /// The package version decided with.
    pub digest_decided: String,
    /// The package version served now.
    pub digest_now: String,
    /// Whether the version decided with was found kept and replayed.
    pub rules_kept: bool,
    /// Whether the rules served now are the version decided with.
    pub same_rules: bool,
    /// Whether the replay gives the amount decided.
    pub same_result: bool,
    /// The household's situation as kept, filled in (OpenFisca's format: feed it to
    /// `/calculate` or `civitas rules calculate`).
    #[schema(value_type = Object)]
    pub situation: serde_json::Value,
}

/// `POST /api/v1/rules/packages/{name}/versions`: a new version's files.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewVersion {
    /// What changed, for the record (e.g. "2027 amounts, decree 2026-14").
    #[serde(default)]
    pub note: String,
    /// Every file of the package as text, by its path in the package (`package.yaml`,
    /// `variables/…`, `parameters/…`, `reforms/…`, `tests/…`).
    pub files: std::collections::BTreeMap<String, String>,
}

/// A version of a rules package kept by the node.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PackageVersion {
    /// The package.
    pub package: String,
    /// SHA-256 of its files: what decisions name.
    pub digest: String,
    /// `folder` (read from the node's configured folder) or `upload`.
    pub source: String,
    /// What changed.
    pub note: String,
    /// How many of its own tests passed when it was kept.
    pub tests_passed: i64,
    /// Who gave it (an account, or `system`).
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: kernel::time::Timestamp,
    /// When it was last published, if ever.
    pub published_at: Option<kernel::time::Timestamp>,
    /// Whether it is the version served now.
    pub served: bool,
}

/// A kept version with its files.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VersionFiles {
    /// The version.
    pub version: PackageVersion,
    /// Its files by path.
    pub files: std::collections::BTreeMap<String, String>,
}

/// What publishing a version did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Publication {
    /// The package.
    pub package: String,
    /// The version served from now on.
    pub digest: String,
    /// The version it replaced.
    pub replaced: String,
    /// When.
    pub published_at: kernel::time::Timestamp,
    /// The policies on this package, run again over the population in the background.
    pub reruns: Vec<String>,
}

/// What one pass over the register's change feed did.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct FollowReport {
    /// Changes handled.
    pub changes: usize,
    /// Persons evaluated again (with their household members).
    pub persons: usize,
    /// New proposals.
    pub proposed: usize,
    /// Enrolments flagged for review.
    pub flagged: usize,
    /// Enrolments raised.
    pub raised: usize,
    /// Proposals withdrawn.
    pub withdrawn: usize,
    /// Changes kept to try again (a policy failed on them).
    pub kept: usize,
}

/// The unit a policy's amount is counted in, from its variable's unit: `hour` for hours of
/// a service given in kind (`hour`, `hours`, `h`), else `CNY`.
pub fn amount_unit(variable_unit: Option<&str>) -> &'static str {
    match variable_unit.map(str::trim) {
        Some("hour" | "hours" | "h") => "hour",
        _ => "CNY",
    }
}

/// A monthly amount in words: `300.00 元` or `8 小时` (`300.00 CNY`, `8 hours`).
pub fn amount_words(amount: f64, unit: &str, zh: bool) -> String {
    match (unit, zh) {
        ("hour", true) => format!("{} 小时", trim_number(amount)),
        ("hour", false) => format!("{} hours", trim_number(amount)),
        (_, true) => format!("{amount:.2} 元"),
        (_, false) => format!("{amount:.2} CNY"),
    }
}

fn trim_number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.1}")
    }
}

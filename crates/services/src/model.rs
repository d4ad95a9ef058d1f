//! The service catalogue, life events, applications and their cases, as the API shows them.

use std::collections::BTreeMap;

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Who may apply: every condition given must hold (plain conditions; the rules engine
/// will take over).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Aged at least this many whole years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<i64>,
    /// Aged at most this many whole years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// Living in this region (GB/T 2260; a city code covers its districts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Holding a certificate of this type in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds_certificate: Option<String>,
}

/// A record the department fetches through the exchange to satisfy a material.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceSource {
    /// Catalogue resource code.
    pub code: String,
    /// Fields to fetch (default: those the agreement allows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// A required material (申请材料) and the ways it can be satisfied, tried in this order:
/// a certificate from the applicant's wallet, a record fetched through the exchange,
/// an upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Key, unique within a life event (two items needing the same key share one).
    pub key: String,
    /// Name, e.g. 户口簿.
    pub name: String,
    /// A certificate type that satisfies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// An exchange resource that satisfies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceSource>,
    /// Whether the applicant may upload it (when nothing else satisfies it).
    #[serde(default)]
    pub upload: bool,
    /// Whether the application cannot be submitted without it.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// The kind of a workflow step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// 受理: the application is complete and accepted.
    Accept,
    /// 审核: its content is checked.
    Review,
    /// 审批: the decision.
    Approve,
    /// 办结: the result is delivered (a certificate into the wallet).
    Finish,
}

impl StepKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Accept => "accept",
            StepKind::Review => "review",
            StepKind::Approve => "approve",
            StepKind::Finish => "finish",
        }
    }

    /// The step's name in Chinese, as the public knows it.
    pub fn zh(self) -> &'static str {
        match self {
            StepKind::Accept => "受理",
            StepKind::Review => "审核",
            StepKind::Approve => "审批",
            StepKind::Finish => "办结",
        }
    }
}

/// One step of an item's workflow, assigned to a role of an organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step is.
    pub kind: StepKind,
    /// The organisation whose staff act (default: the lead department).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
    /// `clerk` or `reviewer` (a reviewer may also take a clerk's step).
    pub role: String,
}

/// The certificate a finished case issues into the applicant's wallet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultCertificate {
    /// Certificate type code.
    pub certificate_type: String,
    /// Claim name → where its value comes from: `form.FIELD` (pre-fill the field from the
    /// profile to carry a profile value), `case.number`, or a literal in quotes (`"'一级'"`).
    pub claims: BTreeMap<String, String>,
}

/// `POST /api/v1/services/items` and `PUT /api/v1/services/items/{code}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefinition {
    /// Code: 3–64 of a-z, 0-9 and `-`.
    pub code: String,
    /// Name (≤ 100).
    pub name: String,
    /// What it is for, in plain words (≤ 1,000).
    pub summary: String,
    /// Search words.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Life situations it belongs to (生育, 养老, 就业 …), for browsing.
    #[serde(default)]
    pub situations: Vec<String>,
    /// Responsible departments; the first leads (its staff see the applications).
    pub departments: Vec<String>,
    /// Legal basis (设定依据).
    pub legal_basis: String,
    /// Who may apply.
    #[serde(default)]
    pub eligibility: Eligibility,
    /// Statutory time limit (法定时限), working days.
    pub statutory_days: i64,
    /// Committed time limit (承诺时限), working days: the clock's limit.
    pub committed_days: i64,
    /// Fee in yuan (0: free).
    #[serde(default)]
    pub fee_yuan: f64,
    /// Required materials.
    #[serde(default)]
    pub materials: Vec<Material>,
    /// The form: a JSON Schema of an object (`properties` with `title`, `type`,
    /// `format`, `enum`; `required`).
    #[schema(value_type = Object)]
    pub form: Value,
    /// Where form fields are pre-filled from: field → `profile.name`,
    /// `resource.household-registration.registered_address`, `certificate.resident-card.address`.
    #[serde(default)]
    pub field_sources: BTreeMap<String, String>,
    /// The workflow, in order; the last step is `finish`.
    pub steps: Vec<Step>,
    /// The certificate a finished case issues, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultCertificate>,
}

/// A service item as the catalogue shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceItem {
    /// Id.
    pub id: String,
    /// The definition.
    #[serde(flatten)]
    pub definition: ServiceDefinition,
    /// Names of the departments, in order.
    pub department_names: Vec<String>,
    /// Share of its materials the government can supply without an upload (0–1).
    pub materials_without_upload: f64,
    /// Updated.
    pub updated_at: Timestamp,
}

/// `POST /api/v1/services/life-events`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLifeEvent {
    /// Code: 3–64 of a-z, 0-9 and `-`.
    pub code: String,
    /// Name (≤ 100), e.g. 新生儿出生一件事.
    pub name: String,
    /// What it covers (≤ 1,000).
    pub summary: String,
    /// The service items it bundles (2–10 codes).
    pub items: Vec<String>,
}

/// A life event with its items.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LifeEvent {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Summary.
    pub summary: String,
    /// Its items.
    pub items: Vec<ServiceItem>,
}

/// `GET /api/v1/services/items`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Words to look for in names, summaries and keywords.
    pub q: Option<String>,
    /// A life situation.
    pub situation: Option<String>,
}

/// `POST /api/v1/applications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// A service item code (or give `life_event`).
    #[serde(default)]
    pub item: Option<String>,
    /// A life event code.
    #[serde(default)]
    pub life_event: Option<String>,
    /// Let the departments fetch what the government already holds (pre-fill and
    /// materials); with `false`, she fills and uploads everything herself.
    #[serde(default)]
    pub fetch: bool,
    /// Submit at once when nothing is missing (apply in one step); when something is, the
    /// answer names it and the draft stays in her list to finish.
    #[serde(default)]
    pub submit: bool,
}

/// Where an application stands, as the applicant sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationState {
    /// Being filled in (a draft).
    Draft,
    /// Submitted: its cases are with the departments.
    Submitted,
    /// A department asked for supplementary materials (补正).
    Supplement,
    /// Every case ended (finished or rejected).
    Closed,
}

impl ApplicationState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Draft => "draft",
            ApplicationState::Submitted => "submitted",
            ApplicationState::Supplement => "supplement",
            ApplicationState::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> ApplicationState {
        match s {
            "submitted" => ApplicationState::Submitted,
            "supplement" => ApplicationState::Supplement,
            "closed" => ApplicationState::Closed,
            _ => ApplicationState::Draft,
        }
    }
}

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// At a workflow step.
    InProgress,
    /// Paused for supplementary materials (补正); the clock stops.
    Supplement,
    /// Rejected, with reasons.
    Rejected,
    /// Finished (办结).
    Finished,
}

impl CaseState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::InProgress => "in_progress",
            CaseState::Supplement => "supplement",
            CaseState::Rejected => "rejected",
            CaseState::Finished => "finished",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> CaseState {
        match s {
            "supplement" => CaseState::Supplement,
            "rejected" => CaseState::Rejected,
            "finished" => CaseState::Finished,
            _ => CaseState::InProgress,
        }
    }

    /// Whether the case has ended.
    pub fn ended(self) -> bool {
        matches!(self, CaseState::Rejected | CaseState::Finished)
    }
}

/// How a case's clock stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// More than two working days left, or ended in time.
    OnTrack,
    /// Two working days or fewer left.
    NearDue,
    /// Past its committed limit.
    Overdue,
    /// Paused for 补正.
    Paused,
}

/// One case (an item of an application, as a department handles it).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Case {
    /// Id.
    pub id: String,
    /// The application.
    pub application_id: String,
    /// The application's number.
    pub number: String,
    /// Item code.
    pub item_code: String,
    /// Item name.
    pub item_name: String,
    /// Lead department.
    pub lead_org_id: String,
    /// Its name.
    pub lead_org_name: String,
    /// State.
    pub state: CaseState,
    /// The current step (0-based) and its kind, while in progress.
    pub step_index: i64,
    /// The current step's kind.
    pub step: StepKind,
    /// The organisation whose staff act now.
    pub step_org_id: String,
    /// The role that acts now.
    pub step_role: String,
    /// Submitted on (`YYYY-MM-DD`).
    pub submitted_on: String,
    /// Due on: the committed limit in working days, moved on by any 补正 pause.
    pub due_on: String,
    /// Working days left (negative when overdue), while open.
    pub working_days_left: Option<i64>,
    /// The clock.
    pub urgency: Urgency,
    /// Finished or rejected on.
    pub finished_on: Option<String>,
    /// Working days it took (clock pauses excluded).
    pub working_days: Option<i64>,
    /// Statutory limit, working days.
    pub statutory_days: i64,
    /// Committed limit, working days.
    pub committed_days: i64,
    /// When it was escalated to the department's reviewer (overdue).
    pub escalated_at: Option<Timestamp>,
    /// The certificate issued when it finished.
    pub result_credential_id: Option<String>,
    /// The rejection reasons or the 补正 request.
    pub outcome_note: Option<String>,
    /// The applicant's rating (1–5), once given.
    pub rating: Option<i64>,
    /// Version, for optimistic concurrency (send it back with an action).
    pub version: i64,
}

/// How a material was satisfied.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachedMaterial {
    /// Material key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// `certificate`, `exchange`, `upload` or `missing`.
    pub source: String,
    /// The certificate id, the exchange call id (its audit record) or the upload id.
    pub reference: Option<String>,
    /// What it is, in plain words (e.g. 户籍登记信息 from 示例市公安局).
    pub description: Option<String>,
    /// Whether it is required.
    pub required: bool,
    /// Whether she may upload it.
    pub upload_allowed: bool,
    /// Fetched values (certificate claims or exchange fields), to the applicant and the
    /// case's staff.
    #[schema(value_type = Object)]
    pub values: Value,
}

/// One entry of an application's timeline.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    /// When.
    pub at: Timestamp,
    /// What happened: `created`, `prefilled`, `material`, `submitted`, `step`,
    /// `supplement`, `resubmitted`, `rejected`, `finished`, `escalated`, `rated`.
    pub kind: String,
    /// The case it concerns.
    pub case_id: Option<String>,
    /// The step, when a step was taken.
    pub step_name: Option<String>,
    /// Who.
    pub actor_name: String,
    /// Details (reasons, what to supply, what was fetched).
    pub note: Option<String>,
}

/// An application with its cases, materials and timeline.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Application {
    /// Id.
    pub id: String,
    /// Number (办件编号) to quote.
    pub number: String,
    /// What it is for (the item's or life event's name).
    pub title: String,
    /// The applicant.
    pub person_id: String,
    /// Life event code, when it bundles several items.
    pub life_event: Option<String>,
    /// State.
    pub state: ApplicationState,
    /// The form values.
    #[schema(value_type = Object)]
    pub form: Value,
    /// The combined form: JSON Schema (shared fields asked once).
    #[schema(value_type = Object)]
    pub schema: Value,
    /// Form fields that were pre-filled, with where from.
    pub prefilled: BTreeMap<String, String>,
    /// Materials.
    pub materials: Vec<AttachedMaterial>,
    /// Cases, once submitted.
    pub cases: Vec<Case>,
    /// Timeline, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Version (drafts).
    pub version: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Submitted.
    pub submitted_at: Option<Timestamp>,
}

/// An application in the applicant's list.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApplicationSummary {
    /// Id.
    pub id: String,
    /// Number.
    pub number: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: ApplicationState,
    /// Created.
    pub created_at: Timestamp,
    /// Submitted.
    pub submitted_at: Option<Timestamp>,
}

/// `PUT /api/v1/applications/{id}/form`: values to set (null clears one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormUpdate {
    /// Field → value.
    #[schema(value_type = Object)]
    pub values: serde_json::Map<String, Value>,
}

/// `POST /api/v1/cases/{id}/actions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseAction {
    /// `complete` (the step is done; the case moves on), `supplement` (ask for
    /// supplementary materials; accept and review steps), `reject`.
    pub action: String,
    /// The step acted on (its index): a step that is not the current one is refused.
    pub step: i64,
    /// The case's version as last read: a concurrent change makes this one fail.
    pub version: i64,
    /// Reasons (reject), what to supply (supplement), or a remark (≤ 1,000).
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/applications/{id}/rating`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// The case rated (default: every finished or rejected case not yet rated).
    #[serde(default)]
    pub case_id: Option<String>,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub score: i64,
    /// Comment (≤ 500).
    #[serde(default)]
    pub comment: Option<String>,
}

/// `GET /api/v1/cases`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` (default: in progress or awaiting 补正), `escalated` (overdue cases of my
    /// department, for its reviewer), `ended`.
    pub view: Option<String>,
    /// The organisation (default: my own).
    pub organisation_id: Option<String>,
}

/// A day in the holiday calendar.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Name (春节, 国庆节调休上班 …).
    pub name: String,
    /// `true`: a make-up working day on a weekend; `false`: a holiday.
    pub working: bool,
}

/// `PUT /api/v1/services/calendar/{day}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarEntry {
    /// Name (≤ 50).
    pub name: String,
    /// `true` for a make-up working day, `false` for a holiday.
    #[serde(default)]
    pub working: bool,
}

/// `GET /api/v1/services/calendar`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// The year (default: this year).
    pub year: Option<i32>,
}

/// Figures for one service item or department.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    /// Item code or department id.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Cases submitted.
    pub applications: i64,
    /// Cases ended (finished or rejected).
    pub ended: i64,
    /// Cases finished.
    pub finished: i64,
    /// Share of ended cases that ended by their due date (0–1).
    pub on_time_rate: Option<f64>,
    /// Average working days of the finished cases.
    pub average_days: Option<f64>,
    /// Average statutory limit of those cases, working days.
    pub statutory_days: Option<f64>,
    /// Share of attached materials that needed no upload (0–1).
    pub materials_without_upload: Option<f64>,
    /// Average rating (1–5).
    pub satisfaction: Option<f64>,
    /// Ratings given.
    pub ratings: i64,
    /// Open cases past their due date.
    pub overdue: i64,
}

/// `GET /api/v1/services/statistics`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Statistics {
    /// The whole platform.
    pub total: Figures,
    /// Per service item.
    pub items: Vec<Figures>,
    /// Per lead department.
    pub departments: Vec<Figures>,
}

/// `GET /api/v1/cases/{id}`: a case with the application it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseDetail {
    /// The case.
    pub case: Case,
    /// Its application (form, materials, timeline).
    pub application: Application,
}

/// `PUT /api/v1/applications/{id}/materials/{key}` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, for the applicant and the clerk.
    pub name: Option<String>,
}

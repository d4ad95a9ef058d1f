//! The rules of community elder care: who may see and change an elder's circle, her devices
//! and her alerts, and on which basis each read by someone else is audited. Readings are
//! taken in `ingest.rs`; alerts, their escalation and the minute's checks live in
//! `alerts.rs`.

use std::collections::HashMap;

use identity::model::ResidentId;
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::{Principal, Role};
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::model::*;
use crate::store::{self, DeviceRow, ElderRow, MemberRow};

/// The basis on which the staff of an elder's community organisation see her care data.
pub const STAFF_BASIS: &str = "老年人权益保障法：社区居家养老服务";

/// How someone reaches an elder's care data.
#[derive(Clone, Debug)]
pub enum Access {
    /// The elder herself.
    Elder,
    /// Her proxy (代办), under this authorisation.
    Proxy(String),
    /// A member of her care circle.
    Member(Box<MemberRow>),
    /// Staff of the organisation looking after her.
    Staff,
    /// A platform administrator.
    Admin,
}

impl Access {
    /// Whether this reader may change the circle and the devices' binding (the elder, her
    /// proxy, her community's staff, an administrator; not every relative).
    pub fn manages(&self) -> bool {
        !matches!(self, Access::Member(_))
    }

    /// Whether a read by this reader is someone else's, to be audited.
    pub fn audited(&self) -> bool {
        !matches!(self, Access::Elder)
    }

    /// The basis of a read or act by this reader.
    pub fn basis(&self) -> Basis {
        match self {
            Access::Elder => Basis::OwnData,
            Access::Proxy(id) => Basis::Proxy(id.clone()),
            // The elder (or her community worker with her) named the member in her circle:
            // that membership is the consent the member reads under.
            Access::Member(m) => Basis::Consent(format!("care-circle:{}", m.id)),
            Access::Staff | Access::Admin => Basis::Statutory(STAFF_BASIS.into()),
        }
    }
}

/// The elder, or a 404 that says nothing about whether she exists.
pub async fn elder_row(state: &AppState, elder_id: &str) -> ApiResult<ElderRow> {
    let not_found = || ApiError::NotFound("no such elder in community care".into());
    if !is_uuid(elder_id) {
        return Err(not_found());
    }
    store::elder(&state.db, elder_id)
        .await?
        .ok_or_else(not_found)
}

/// How `by` reaches the elder's care data; a 404 when not at all.
pub async fn access(state: &AppState, by: &Principal, elder: &ElderRow) -> ApiResult<Access> {
    if let Some(acting) = &by.acting_for {
        if acting.person_id == elder.person_id {
            by.require_scope("services")?;
            return Ok(Access::Proxy(acting.authorisation_id.clone()));
        }
    } else if by.person_id.as_deref() == Some(elder.person_id.as_str()) {
        return Ok(Access::Elder);
    }
    if by.acting_for.is_none() {
        if let Some(person) = by.person_id.as_deref() {
            let members = store::members(&state.db, &elder.person_id).await?;
            if let Some(m) = members.into_iter().find(|m| m.person_id == person) {
                return Ok(Access::Member(Box::new(m)));
            }
        }
        if by.is_platform_admin() {
            return Ok(Access::Admin);
        }
        if by.has_role_in(Role::OrgAdmin, &elder.organisation_id)
            || by.has_role_in(Role::Clerk, &elder.organisation_id)
            || by.has_role_in(Role::Reviewer, &elder.organisation_id)
        {
            return Ok(Access::Staff);
        }
    }
    Err(ApiError::NotFound("no such elder in community care".into()))
}

/// Records a read of the elder's data by someone else, before the data leaves.
pub async fn audit_read(
    state: &AppState,
    by: &Principal,
    access: &Access,
    elder_id: &str,
    action: &str,
    resource: String,
    purpose: &str,
) -> ApiResult<()> {
    if !access.audited() {
        return Ok(());
    }
    let event = AuditEvent::by(by, action, resource)
        .subject(elder_id)
        .because(purpose, access.basis());
    state.audit.record(event).await?;
    Ok(())
}

// ---- rules ----

/// The alert rules in force (the defaults until an administrator sets them).
pub async fn rules(state: &AppState) -> ApiResult<CareRules> {
    match store::rules(&state.db).await? {
        Some(doc) => serde_json::from_str(&doc).map_err(|e| ApiError::Unexpected(e.into())),
        None => Ok(CareRules::default()),
    }
}

/// A local `HH:MM` as minutes of the day.
pub fn minutes_of_day(field: &str, value: &str) -> ApiResult<i64> {
    let bad = || {
        ApiError::invalid(
            field,
            format!("{field} is a time of day as HH:MM, e.g. 07:30"),
        )
    };
    let (h, m) = value.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Minutes of the day as `HH:MM`.
pub fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn check_band(problems: &mut Vec<(String, String)>, field: &str, band: &Band, metric: Metric) {
    let (lo, hi) = metric.range();
    if !(band.low.is_finite() && band.high.is_finite()) || band.low >= band.high {
        problems.push((field.into(), format!("{field}: low must be below high")));
    } else if band.low < lo || band.high > hi {
        problems.push((
            field.into(),
            format!("{field} must lie within what a person can show ({lo}–{hi})"),
        ));
    }
}

fn check_floor(problems: &mut Vec<(String, String)>, field: &str, value: f64, metric: Metric) {
    let (lo, hi) = metric.range();
    if !value.is_finite() || value < lo || value > hi {
        problems.push((field.into(), format!("{field} must lie within {lo}–{hi}")));
    }
}

fn check_hours(problems: &mut Vec<(String, String)>, field: &str, hours: f64) {
    if !hours.is_finite() || !(0.0..=24.0).contains(&hours) {
        problems.push((field.into(), format!("{field} is 0 (never) to 24 hours")));
    }
}

fn invalid_fields(problems: Vec<(String, String)>) -> ApiError {
    ApiError::InvalidFields(
        problems
            .into_iter()
            .map(|(field, detail)| kernel::error::FieldError { field, detail })
            .collect(),
    )
}

/// Checks a rules document: every problem named with its field.
pub fn check_rules(r: &CareRules) -> ApiResult<()> {
    let mut problems = Vec::new();
    check_band(
        &mut problems,
        "heart_rate",
        &r.heart_rate,
        Metric::HeartRate,
    );
    check_floor(&mut problems, "spo2_low", r.spo2_low, Metric::Spo2);
    check_band(&mut problems, "systolic", &r.systolic, Metric::Systolic);
    check_band(&mut problems, "diastolic", &r.diastolic, Metric::Diastolic);
    check_band(&mut problems, "glucose", &r.glucose, Metric::Glucose);
    check_hours(&mut problems, "no_activity_hours", r.no_activity_hours);
    let mut times = Vec::new();
    for (field, value) in [("day_starts", &r.day_starts), ("day_ends", &r.day_ends)] {
        match minutes_of_day(field, value) {
            Ok(m) => times.push(m),
            Err(e) => problems.push((field.into(), e.public_detail())),
        }
    }
    if let [start, end] = times[..]
        && start >= end
    {
        problems.push(("day_ends".into(), "the day must end after it starts".into()));
    }
    if !r.no_water_by.is_empty()
        && let Err(e) = minutes_of_day("no_water_by", &r.no_water_by)
    {
        problems.push(("no_water_by".into(), e.public_detail()));
    }
    if !(1..=100).contains(&r.offline_after_missed) {
        problems.push((
            "offline_after_missed".into(),
            "offline_after_missed is 1 to 100 heartbeats".into(),
        ));
    }
    for (i, s) in r.escalate_after_seconds.iter().enumerate() {
        if !(10..=86_400).contains(s) {
            problems.push((
                format!("escalate_after_seconds[{i}]"),
                "an escalation waits 10 seconds to a day".into(),
            ));
        }
    }
    for (field, days) in [
        ("visit_every_days", r.visit_every_days),
        ("visit_alone_every_days", r.visit_alone_every_days),
    ] {
        if !(1..=365).contains(&days) {
            problems.push((field.into(), format!("{field} is 1 to 365 days")));
        }
    }
    if !(-720..=840).contains(&r.local_offset_minutes) {
        problems.push((
            "local_offset_minutes".into(),
            "local_offset_minutes is -720 to 840".into(),
        ));
    }
    let line = r.emergency_line.trim();
    if line.is_empty()
        || line.len() > 20
        || !line
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
    {
        problems.push((
            "emergency_line".into(),
            "emergency_line is a phone number (digits, + and -)".into(),
        ));
    }
    if let Some(code) = &r.subsidy_policy
        && (code.len() < 2
            || code.len() > 40
            || !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    {
        problems.push((
            "subsidy_policy".into(),
            "subsidy_policy is a policy code: 2–40 of a–z, 0–9 and -".into(),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid_fields(problems))
    }
}

/// Replaces the alert rules (a platform administrator).
pub async fn set_rules(state: &AppState, by: &Principal, new: CareRules) -> ApiResult<CareRules> {
    by.require_platform_admin()?;
    check_rules(&new)?;
    if let Some(code) = &new.subsidy_policy {
        match rules::service::policy(state, code).await {
            Err(_) => {
                return Err(ApiError::invalid(
                    "subsidy_policy",
                    format!("there is no policy {code}"),
                ));
            }
            Ok(p) if p.unit != "hour" => {
                return Err(ApiError::invalid(
                    "subsidy_policy",
                    format!(
                        "policy {code} counts {}; a care subsidy counts hours of service",
                        p.unit
                    ),
                ));
            }
            Ok(_) => {}
        }
    }
    let doc = serde_json::to_string(&new).map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut tx = state.db.begin().await?;
    store::put_rules(&mut tx, &doc, &by.account_id, Timestamp::now()).await?;
    let mut event = AuditEvent::by(by, "eldercare.rules.set", "eldercare:rules".to_string());
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(new)
}

/// Checks an elder's own limits.
pub fn check_baselines(b: &Baselines) -> ApiResult<()> {
    let mut problems = Vec::new();
    if let Some(band) = &b.heart_rate {
        check_band(&mut problems, "heart_rate", band, Metric::HeartRate);
    }
    if let Some(v) = b.spo2_low {
        check_floor(&mut problems, "spo2_low", v, Metric::Spo2);
    }
    if let Some(band) = &b.systolic {
        check_band(&mut problems, "systolic", band, Metric::Systolic);
    }
    if let Some(band) = &b.diastolic {
        check_band(&mut problems, "diastolic", band, Metric::Diastolic);
    }
    if let Some(band) = &b.glucose {
        check_band(&mut problems, "glucose", band, Metric::Glucose);
    }
    if let Some(h) = b.no_activity_hours {
        check_hours(&mut problems, "no_activity_hours", h);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid_fields(problems))
    }
}

/// An elder's limits: her own where set, the rules' elsewhere.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Heart rate (/min).
    pub heart_rate: Band,
    /// Blood oxygen floor (%).
    pub spo2_low: f64,
    /// Systolic pressure (mmHg).
    pub systolic: Band,
    /// Diastolic pressure (mmHg).
    pub diastolic: Band,
    /// Blood glucose (mmol/L).
    pub glucose: Band,
    /// Hours without movement in the day (0: never).
    pub no_activity_hours: f64,
}

impl Limits {
    /// Her own limits over the rules'.
    pub fn of(rules: &CareRules, own: &Baselines) -> Limits {
        Limits {
            heart_rate: own.heart_rate.unwrap_or(rules.heart_rate),
            spo2_low: own.spo2_low.unwrap_or(rules.spo2_low),
            systolic: own.systolic.unwrap_or(rules.systolic),
            diastolic: own.diastolic.unwrap_or(rules.diastolic),
            glucose: own.glucose.unwrap_or(rules.glucose),
            no_activity_hours: own.no_activity_hours.unwrap_or(rules.no_activity_hours),
        }
    }

    /// The alert a reading raises, if any, with why in words.
    pub fn judge(&self, metric: Metric, value: f64) -> Option<(AlertKind, String)> {
        let band = |b: &Band, kind| {
            if value < b.low {
                Some((kind, format!("below {}", b.low)))
            } else if value > b.high {
                Some((kind, format!("above {}", b.high)))
            } else {
                None
            }
        };
        match metric {
            Metric::Sos if value >= 1.0 => Some((AlertKind::Sos, "SOS pressed".into())),
            Metric::Fall if value >= 1.0 => Some((AlertKind::Fall, "fall detected".into())),
            Metric::HeartRate => band(&self.heart_rate, AlertKind::HeartRate),
            Metric::Spo2 if value < self.spo2_low => {
                Some((AlertKind::Spo2, format!("below {}", self.spo2_low)))
            }
            Metric::Systolic => band(&self.systolic, AlertKind::BloodPressure),
            Metric::Diastolic => band(&self.diastolic, AlertKind::BloodPressure),
            Metric::Glucose => band(&self.glucose, AlertKind::Glucose),
            _ => None,
        }
    }
}

/// Parses a stored baselines document (an unreadable one counts as none).
pub fn baselines_of(row: &ElderRow) -> Baselines {
    serde_json::from_str(&row.baselines).unwrap_or_default()
}

/// Sets an elder's own limits: her community's staff, a doctor of her circle, or an
/// administrator.
pub async fn set_baselines(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    new: Baselines,
) -> ApiResult<Baselines> {
    let elder = elder_row(state, elder_id).await?;
    let access = access(state, by, &elder).await?;
    let allowed = match &access {
        Access::Staff | Access::Admin => true,
        Access::Member(m) => m.role == MemberRole::Doctor.as_str(),
        _ => false,
    };
    if !allowed {
        return Err(ApiError::Forbidden(
            "an elder's limits are set by her doctor or her community's staff".into(),
        ));
    }
    check_baselines(&new)?;
    let doc = serde_json::to_string(&new).map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut tx = state.db.begin().await?;
    store::set_baselines(&mut tx, elder_id, &doc).await?;
    let event = AuditEvent::by(by, "eldercare.baselines.set", format!("elder:{elder_id}"))
        .subject(elder_id)
        .because("set an elder's alert limits", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(new)
}

// ---- elders ----

/// Enrols an elder in community care: staff of her community's organisation (or an
/// administrator).
pub async fn enrol(state: &AppState, by: &Principal, new: NewElder) -> ApiResult<Elder> {
    if !is_uuid(&new.person_id) {
        return Err(ApiError::invalid(
            "person_id",
            "person_id is not a person's id",
        ));
    }
    if !is_uuid(&new.organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "organisation_id is not an organisation's id",
        ));
    }
    if !(by.is_platform_admin()
        || by.has_role_in(Role::OrgAdmin, &new.organisation_id)
        || by.has_role_in(Role::Clerk, &new.organisation_id))
    {
        return Err(ApiError::Forbidden(
            "elders are enrolled by the staff of the organisation that will look after them".into(),
        ));
    }
    identity::service::get_organisation(state, &new.organisation_id)
        .await
        .map_err(|_| ApiError::invalid("organisation_id", "no organisation has this id"))?;
    if identity::service::person_summary_by_id(state, &new.person_id)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            "person_id",
            "no registered person has this id",
        ));
    }
    let row = ElderRow {
        person_id: new.person_id.clone(),
        organisation_id: new.organisation_id.clone(),
        lives_alone: i64::from(new.lives_alone),
        baselines: "{}".into(),
        last_activity_at: None,
        last_water_at: None,
        enrolled_by: by.account_id.clone(),
        enrolled_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    if !store::insert_elder(&mut tx, &row).await? {
        return Err(ApiError::Conflict(
            "this person is enrolled in community care already".into(),
        ));
    }
    let event = AuditEvent::by(by, "eldercare.enrol", format!("elder:{}", row.person_id))
        .subject(&row.person_id)
        .because(
            "enrol an elder in community care",
            Basis::Statutory(STAFF_BASIS.into()),
        );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let mut views = elder_views(state, vec![row]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("enrolled elder vanished")))
}

/// Elders as shown, with their open alerts and offline devices.
pub async fn elder_views(state: &AppState, rows: Vec<ElderRow>) -> ApiResult<Vec<Elder>> {
    let ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
    let counts: HashMap<String, (i64, i64)> = store::open_counts(&state.db, &ids)
        .await?
        .into_iter()
        .map(|(id, a, d)| (id, (a, d)))
        .collect();
    let mut persons: HashMap<String, identity::store::PersonRow> =
        identity::store::persons_by_id(&state.db, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
    let today = time::OffsetDateTime::now_utc().date();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(person) = persons.remove(&row.person_id) else {
            continue;
        };
        let (open_alerts, devices_offline) =
            counts.get(&row.person_id).copied().unwrap_or_default();
        out.push(Elder {
            baselines: baselines_of(&row),
            age: identity::service::age_on(&person.birth_date, today),
            name: person.name,
            region_code: person.region_code,
            person_id: row.person_id,
            organisation_id: row.organisation_id,
            lives_alone: row.lives_alone == 1,
            open_alerts,
            devices_offline,
            enrolled_at: row.enrolled_at,
        });
    }
    Ok(out)
}

/// One elder, for whoever may see her (audited when that is someone else).
pub async fn elder(state: &AppState, by: &Principal, elder_id: &str) -> ApiResult<(Elder, Access)> {
    let row = elder_row(state, elder_id).await?;
    let access = access(state, by, &row).await?;
    audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.elder.read",
        format!("elder:{elder_id}"),
        "look after an elder in community care",
    )
    .await?;
    let mut views = elder_views(state, vec![row]).await?;
    let view = views
        .pop()
        .ok_or_else(|| ApiError::NotFound("no such elder in community care".into()))?;
    Ok((view, access))
}

/// The elders someone looks after: her own record if she is enrolled (or the person she
/// acts for), those whose circles she is in, and, for staff, those of her organisations.
pub async fn my_elders(state: &AppState, by: &Principal) -> ApiResult<Vec<Elder>> {
    let mut ids: Vec<String> = Vec::new();
    if let Some(acting) = &by.acting_for {
        ids.push(acting.person_id.clone());
    } else if let Some(person) = by.person_id.as_deref() {
        ids.push(person.to_string());
        ids.extend(
            store::memberships(&state.db, person)
                .await?
                .into_iter()
                .map(|m| m.elder_id),
        );
    }
    let mut rows = store::elders_by_id(&state.db, &ids).await?;
    if by.acting_for.is_none() {
        let orgs: Vec<String> = by
            .staff_organisations()
            .into_iter()
            .map(str::to_string)
            .collect();
        for row in store::elders_of(&state.db, &orgs).await? {
            if !rows.iter().any(|r| r.person_id == row.person_id) {
                rows.push(row);
            }
        }
    }
    elder_views(state, rows).await
}

// ---- circle ----

fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            format!("{field} holds control characters"),
        ));
    }
    Ok(value.to_string())
}

/// An optional note of at most `max` characters (line breaks allowed; empty is none).
pub fn note(value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ApiError::invalid(
            "note",
            format!("a note is at most {max} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(ApiError::invalid(
            "note",
            "the note holds control characters",
        ));
    }
    Ok(Some(v.to_string()))
}

fn check_level(level: i64) -> ApiResult<i64> {
    if (1..=3).contains(&level) {
        Ok(level)
    } else {
        Err(ApiError::invalid("level", "level is 1, 2 or 3"))
    }
}

fn check_order(order: i64) -> ApiResult<i64> {
    if (1..=99).contains(&order) {
        Ok(order)
    } else {
        Err(ApiError::invalid(
            "contact_order",
            "contact_order is 1 to 99",
        ))
    }
}

fn quiet_hours(from: Option<&str>, until: Option<&str>) -> ApiResult<(Option<i64>, Option<i64>)> {
    let from = from.map(str::trim).filter(|s| !s.is_empty());
    let until = until.map(str::trim).filter(|s| !s.is_empty());
    match (from, until) {
        (None, None) => Ok((None, None)),
        (Some(f), Some(u)) => {
            let f = minutes_of_day("quiet_from", f)?;
            let u = minutes_of_day("quiet_until", u)?;
            if f == u {
                return Err(ApiError::invalid(
                    "quiet_until",
                    "quiet hours must end at another time than they start",
                ));
            }
            Ok((Some(f), Some(u)))
        }
        (Some(_), None) => Err(ApiError::invalid(
            "quiet_until",
            "quiet hours need an end as well as a start",
        )),
        (None, Some(_)) => Err(ApiError::invalid(
            "quiet_from",
            "quiet hours need a start as well as an end",
        )),
    }
}

/// Whether a local minute of the day falls in quiet hours (which may run past midnight).
pub fn in_quiet_hours(from: Option<i64>, until: Option<i64>, minute: i64) -> bool {
    match (from, until) {
        (Some(f), Some(u)) if f < u => (f..u).contains(&minute),
        (Some(f), Some(u)) => minute >= f || minute < u,
        _ => false,
    }
}

/// The local minute of the day at `at` (under the rules' offset).
pub fn local_minute(rules: &CareRules, at: Timestamp) -> i64 {
    let seconds = at.0.div_euclid(1_000_000) + rules.local_offset_minutes * 60;
    seconds.rem_euclid(86_400) / 60
}

/// The instant today's local `minute` falls at (today as of `at`).
pub fn local_today_at(rules: &CareRules, at: Timestamp, minute: i64) -> Timestamp {
    let offset = rules.local_offset_minutes * 60;
    let local = at.0.div_euclid(1_000_000) + offset;
    let midnight = local - local.rem_euclid(86_400);
    Timestamp((midnight + minute * 60 - offset) * 1_000_000)
}

/// The circle, with each relative's proxy authorisation in force.
pub async fn member_views(state: &AppState, rows: Vec<MemberRow>) -> ApiResult<Vec<Member>> {
    let now = Timestamp::now();
    let ids: Vec<String> = rows.iter().map(|m| m.person_id.clone()).collect();
    let names = person_names(state, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let proxy = identity::store::active_proxy(&state.db, &m.elder_id, &m.person_id, now)
            .await?
            .map(|p| p.id);
        out.push(Member {
            name: names.get(&m.person_id).cloned().unwrap_or_default(),
            role: MemberRole::parse(&m.role).unwrap_or(MemberRole::Relative),
            quiet_hours: match (m.quiet_from, m.quiet_until) {
                (Some(f), Some(u)) => Some(format!("{}–{}", hhmm(f), hhmm(u))),
                _ => None,
            },
            proxy_authorisation_id: proxy,
            id: m.id,
            elder_id: m.elder_id,
            person_id: m.person_id,
            relationship: m.relationship,
            organisation_id: m.organisation_id,
            level: m.level,
            contact_order: m.contact_order,
            added_at: m.added_at,
        });
    }
    Ok(out)
}

/// People's names by id.
pub async fn person_names(state: &AppState, ids: &[String]) -> ApiResult<HashMap<String, String>> {
    Ok(identity::store::persons_by_id(&state.db, ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// An elder's care circle, for whoever may see her (audited when someone else).
pub async fn circle(state: &AppState, by: &Principal, elder_id: &str) -> ApiResult<Vec<Member>> {
    let elder = elder_row(state, elder_id).await?;
    let access = access(state, by, &elder).await?;
    audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.circle.read",
        format!("elder:{elder_id}"),
        "see who is in an elder's care circle",
    )
    .await?;
    member_views(state, store::members(&state.db, elder_id).await?).await
}

fn require_manager(access: &Access) -> ApiResult<()> {
    if access.manages() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the elder, her proxy or her community's staff change her circle".into(),
        ))
    }
}

/// Adds someone to an elder's circle (the elder, her proxy, her community's staff).
pub async fn add_member(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    new: NewMember,
) -> ApiResult<Member> {
    let elder = elder_row(state, elder_id).await?;
    let access = access(state, by, &elder).await?;
    require_manager(&access)?;
    let name = text("name", &new.name, 64)?;
    let relationship = text("relationship", &new.relationship, 32)?;
    let resident_id = ResidentId::parse(new.resident_id.trim())
        .map_err(|e| ApiError::invalid("resident_id", e))?;
    let level = check_level(new.level.unwrap_or(new.role.default_level()))?;
    let contact_order = check_order(new.contact_order.unwrap_or(1))?;
    let quiet = quiet_hours(new.quiet_from.as_deref(), new.quiet_until.as_deref())?;
    let organisation_id = match (new.role.is_staff(), new.organisation_id.as_deref()) {
        (true, None) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "a community worker, carer or doctor names the organisation she acts for",
            ));
        }
        (true, Some(org)) => {
            if !is_uuid(org) {
                return Err(ApiError::invalid(
                    "organisation_id",
                    "no organisation has this id",
                ));
            }
            identity::service::get_organisation(state, org)
                .await
                .map_err(|_| ApiError::invalid("organisation_id", "no organisation has this id"))?;
            Some(org.to_string())
        }
        (false, _) => None,
    };
    let person = identity::service::person_by_resident_id(state, &resident_id)
        .await?
        .filter(|p| p.name == name)
        .ok_or_else(|| {
            ApiError::invalid(
                "resident_id",
                "no registered person has this name and resident ID number",
            )
        })?;
    if person.id == elder_id {
        return Err(ApiError::invalid(
            "resident_id",
            "the elder is the centre of her circle, not a member of it",
        ));
    }
    let row = MemberRow {
        id: new_id(),
        elder_id: elder_id.to_string(),
        person_id: person.id.clone(),
        role: new.role.as_str().to_string(),
        relationship,
        organisation_id,
        level,
        contact_order,
        channels: "inbox".into(),
        quiet_from: quiet.0,
        quiet_until: quiet.1,
        added_by: by.account_id.clone(),
        added_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    if !store::insert_member(&mut tx, &row).await? {
        return Err(ApiError::Conflict(
            "this person is in the elder's circle already".into(),
        ));
    }
    let event = AuditEvent::by(
        by,
        "eldercare.circle.add",
        format!("elder:{elder_id} member:{} role:{}", row.id, row.role),
    )
    .subject(elder_id)
    .because("add someone to an elder's care circle", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let mut views = member_views(state, vec![row]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("new member vanished")))
}

async fn member_of(state: &AppState, elder_id: &str, member_id: &str) -> ApiResult<MemberRow> {
    let not_found = || ApiError::NotFound("no such member of this circle".into());
    if !is_uuid(member_id) {
        return Err(not_found());
    }
    store::member(&state.db, member_id)
        .await?
        .filter(|m| m.elder_id == elder_id)
        .ok_or_else(not_found)
}

/// Changes a member's level, order or quiet hours (the elder, her proxy, her community's
/// staff; a member may change her own quiet hours and order).
pub async fn change_member(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    member_id: &str,
    change: MemberChange,
) -> ApiResult<Member> {
    let elder = elder_row(state, elder_id).await?;
    let access = access(state, by, &elder).await?;
    let row = member_of(state, elder_id, member_id).await?;
    let own = matches!(&access, Access::Member(m) if m.id == row.id);
    if !access.manages() && !own {
        return Err(ApiError::Forbidden(
            "the elder, her proxy or her community's staff change her circle".into(),
        ));
    }
    let level = check_level(change.level)?;
    if own && !access.manages() && level != row.level {
        return Err(ApiError::Forbidden(
            "a member changes her own order and quiet hours, not her level".into(),
        ));
    }
    let order = check_order(change.contact_order)?;
    let quiet = quiet_hours(change.quiet_from.as_deref(), change.quiet_until.as_deref())?;
    let mut tx = state.db.begin().await?;
    store::update_member(&mut tx, member_id, level, order, quiet).await?;
    let event = AuditEvent::by(
        by,
        "eldercare.circle.change",
        format!("elder:{elder_id} member:{member_id}"),
    )
    .subject(elder_id)
    .because("change an elder's care circle", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let row = store::member(&state.db, member_id).await?.unwrap_or(row);
    let mut views = member_views(state, vec![row]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("member vanished")))
}

/// Takes someone out of an elder's circle (the elder, her proxy, her community's staff; or
/// the member herself, leaving).
pub async fn remove_member(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    member_id: &str,
) -> ApiResult<()> {
    let elder = elder_row(state, elder_id).await?;
    let access = access(state, by, &elder).await?;
    let row = member_of(state, elder_id, member_id).await?;
    let own = matches!(&access, Access::Member(m) if m.id == row.id);
    if !access.manages() && !own {
        return Err(ApiError::Forbidden(
            "the elder, her proxy or her community's staff change her circle".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    if !store::delete_member(&mut tx, member_id).await? {
        return Err(ApiError::NotFound("no such member of this circle".into()));
    }
    let event = AuditEvent::by(
        by,
        "eldercare.circle.remove",
        format!("elder:{elder_id} member:{member_id}"),
    )
    .subject(elder_id)
    .because("change an elder's care circle", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(())
}

// ---- devices ----

/// Whether a device id is well formed: letters, digits, `-` and `_`, at most 40.
pub fn is_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `by` runs devices of this organisation (its staff or system, an administrator).
pub fn runs_devices_of(by: &Principal, organisation_id: &str) -> bool {
    by.acting_for.is_none()
        && (by.is_platform_admin() || by.staff_organisations().contains(&organisation_id))
}

/// A device as shown.
pub fn device_view(d: DeviceRow) -> Device {
    Device {
        kind: DeviceKind::parse(&d.kind).unwrap_or(DeviceKind::Wristband),
        online: d.online == 1,
        id: d.id,
        organisation_id: d.organisation_id,
        elder_id: d.elder_id,
        heartbeat_seconds: d.heartbeat_seconds,
        last_seen_at: d.last_seen_at,
        bound_at: d.bound_at,
    }
}

/// Registers a device (the staff of the organisation that runs it).
pub async fn register_device(
    state: &AppState,
    by: &Principal,
    new: NewDevice,
) -> ApiResult<Device> {
    let id = new.id.trim().to_string();
    if !is_device_id(&id) {
        return Err(ApiError::invalid(
            "id",
            "a device id is letters, digits, - and _ (at most 40)",
        ));
    }
    if !(10..=86_400).contains(&new.heartbeat_seconds) {
        return Err(ApiError::invalid(
            "heartbeat_seconds",
            "heartbeat_seconds is 10 to 86,400",
        ));
    }
    if !is_uuid(&new.organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "no organisation has this id",
        ));
    }
    if !runs_devices_of(by, &new.organisation_id) {
        return Err(ApiError::Forbidden(
            "devices are registered by the staff of the organisation that runs them".into(),
        ));
    }
    identity::service::get_organisation(state, &new.organisation_id)
        .await
        .map_err(|_| ApiError::invalid("organisation_id", "no organisation has this id"))?;
    let row = DeviceRow {
        id: id.clone(),
        kind: new.kind.as_str().to_string(),
        organisation_id: new.organisation_id,
        elder_id: None,
        heartbeat_seconds: new.heartbeat_seconds,
        online: 1,
        last_seen_at: None,
        last_reading_at: None,
        registered_by: by.account_id.clone(),
        registered_at: Timestamp::now(),
        bound_at: None,
    };
    let mut tx = state.db.begin().await?;
    if !store::insert_device(&mut tx, &row).await? {
        return Err(ApiError::Conflict(format!(
            "a device {id} is registered already"
        )));
    }
    let mut event = AuditEvent::by(by, "eldercare.device.register", format!("device:{id}"));
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(device_view(row))
}

async fn device_row(state: &AppState, id: &str) -> ApiResult<DeviceRow> {
    let not_found = || ApiError::NotFound("no such device".into());
    if !is_device_id(id) {
        return Err(not_found());
    }
    store::device(&state.db, id).await?.ok_or_else(not_found)
}

/// Binds a device to an elder, or unbinds it (`None`): the staff of the organisation that
/// runs it, for an elder whose data they may reach (her community's, or with her circle).
pub async fn bind_device(
    state: &AppState,
    by: &Principal,
    device_id: &str,
    elder_id: Option<&str>,
) -> ApiResult<Device> {
    let device = device_row(state, device_id).await?;
    if !runs_devices_of(by, &device.organisation_id) {
        return Err(ApiError::Forbidden(
            "a device is bound by the staff of the organisation that runs it".into(),
        ));
    }
    let subject = match elder_id {
        Some(e) => {
            let elder = elder_row(state, e).await.map_err(|_| {
                ApiError::invalid("elder_id", "no elder in community care has this id")
            })?;
            Some(elder.person_id)
        }
        None => device.elder_id.clone(),
    };
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    store::bind(&mut tx, device_id, elder_id, now).await?;
    let mut event = AuditEvent::by(
        by,
        if elder_id.is_some() {
            "eldercare.device.bind"
        } else {
            "eldercare.device.unbind"
        },
        format!("device:{device_id}"),
    );
    if let Some(s) = &subject {
        event = event.subject(s).because(
            "bind a care device to an elder",
            Basis::Statutory(STAFF_BASIS.into()),
        );
    } else {
        event.basis = Basis::NotApplicable;
    }
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(device_view(
        store::device(&state.db, device_id).await?.unwrap_or(device),
    ))
}

/// An elder's devices, for whoever may see her.
pub async fn devices(state: &AppState, by: &Principal, elder_id: &str) -> ApiResult<Vec<Device>> {
    let elder = elder_row(state, elder_id).await?;
    let access = access(state, by, &elder).await?;
    audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.devices.read",
        format!("elder:{elder_id}"),
        "see an elder's care devices",
    )
    .await?;
    Ok(store::devices_of(&state.db, elder_id)
        .await?
        .into_iter()
        .map(device_view)
        .collect())
}

/// One device (the staff of the organisation that runs it).
pub async fn device(state: &AppState, by: &Principal, device_id: &str) -> ApiResult<Device> {
    let device = device_row(state, device_id).await?;
    if !runs_devices_of(by, &device.organisation_id) {
        return Err(ApiError::NotFound("no such device".into()));
    }
    Ok(device_view(device))
}

//! Alerts about elders: raised by readings (`ingest.rs`), by the elder asking for help, and
//! by the minute's checks (devices gone silent, no movement in the day, no water by
//! morning); an alert already open takes the next one of its kind in (folded). An alert
//! tells level 1 of the circle at once and, unanswered, level 2 and then level 3 when its
//! steps fall due. The steps are kept in the store (`next_step_at`) and taken by one timer
//! per node, each step at most once however many nodes run (the step is taken by a
//! conditional update), so a restart neither loses nor repeats one.

use std::sync::Arc;
use std::time::Duration;

use kernel::audit::{AuditEvent, commit_audited};
use kernel::auth::Principal;
use kernel::db::Tx;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::model::*;
use crate::service::{self, Access};
use crate::store::{self, AlertRow, ElderRow, EventRow, MemberRow};

/// Vault context of the readings an alert shows.
const CTX_EVIDENCE: &str = "eldercare.alert.evidence";
/// The longest note an answer or a call for help carries.
const NOTE_MAX: usize = 500;
/// The highest escalation level.
const TOP_LEVEL: i64 = 3;

/// Wakes the escalation timer when a new step is set (see [`start`]).
#[derive(Clone, Default)]
pub struct Escalation {
    wake: Arc<tokio::sync::Notify>,
}

/// Tells the timer a step was set (after the commit that set it).
pub fn steps_changed(state: &AppState) {
    if let Some(e) = state.extensions.get::<Escalation>() {
        e.wake.notify_one();
    }
}

/// The key under which open alerts of one kind about one elder fold together (an offline
/// device's are kept apart per device).
pub fn open_key(elder_id: &str, kind: AlertKind, device_id: Option<&str>) -> String {
    match (kind, device_id) {
        (AlertKind::DeviceOffline, Some(d)) => format!("{elder_id}|{}|{d}", kind.as_str()),
        _ => format!("{elder_id}|{}", kind.as_str()),
    }
}

fn seal_evidence(state: &AppState, evidence: &[Evidence]) -> ApiResult<Option<Vec<u8>>> {
    if evidence.is_empty() {
        return Ok(None);
    }
    let json = serde_json::to_string(evidence).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(Some(
        state
            .vault
            .seal(&json, CTX_EVIDENCE)
            .map_err(ApiError::Unexpected)?,
    ))
}

fn open_evidence(state: &AppState, sealed: Option<&[u8]>) -> Vec<Evidence> {
    sealed
        .and_then(|s| state.vault.open(s, CTX_EVIDENCE).ok())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// A step of the timeline to write.
fn step(alert_id: &str, at: Timestamp, kind: &str, detail: String) -> EventRow {
    EventRow {
        id: new_id(),
        alert_id: alert_id.to_string(),
        at,
        kind: kind.to_string(),
        level: None,
        scheduled_at: None,
        by_person_id: None,
        by_name: None,
        response: None,
        detail,
        evidence_enc: None,
    }
}

/// What raising an alert did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raised {
    /// A new alert (its id), its first level told.
    New(String),
    /// Folded into the open alert (its id).
    Folded(String),
}

/// What raises an alert.
pub struct Raise<'a> {
    /// Its kind.
    pub kind: AlertKind,
    /// The device that raised it, if one did.
    pub device_id: Option<&'a str>,
    /// The readings that raised it.
    pub evidence: &'a [Evidence],
    /// In words.
    pub detail: &'a str,
}

/// Raises an alert about an elder inside the caller's transaction, or folds it into the
/// open one of its kind; a new one tells its first level at once. Call [`steps_changed`]
/// after the commit.
pub async fn raise_in(
    state: &AppState,
    tx: &mut Tx,
    rules: &CareRules,
    elder: &ElderRow,
    raise: Raise<'_>,
    now: Timestamp,
) -> ApiResult<Raised> {
    let Raise {
        kind,
        device_id,
        evidence,
        detail,
    } = raise;
    let row = AlertRow {
        id: new_id(),
        elder_id: elder.person_id.clone(),
        kind: kind.as_str().to_string(),
        device_id: device_id.map(str::to_string),
        state: AlertState::Open.as_str().to_string(),
        level: 1,
        raised_at: now,
        last_at: now,
        folded: 0,
        next_step_at: None,
        closed_at: None,
    };
    let key = open_key(&elder.person_id, kind, device_id);
    let (id, new) = store::raise(tx, &row, &key).await?;
    let mut event = step(
        &id,
        now,
        if new { "raised" } else { "folded" },
        detail.to_string(),
    );
    event.evidence_enc = seal_evidence(state, evidence)?;
    store::insert_event(tx, &event).await?;
    if !new {
        return Ok(Raised::Folded(id));
    }
    let members = store::members_in(tx, &elder.person_id).await?;
    // The first level with anyone in it (an elder with no relatives recorded starts with
    // her community worker).
    let level = (1..=TOP_LEVEL)
        .find(|l| members.iter().any(|m| m.level == *l))
        .unwrap_or(TOP_LEVEL);
    let next = tell(state, tx, rules, elder, &row, &id, level, &members, now).await?;
    store::set_next_step(tx, &id, level, next).await?;
    Ok(Raised::New(id))
}

/// Tells the members at `level` about an alert (urgent alerts reach everyone; the others
/// skip members in their quiet hours) and records whom; returns when the next step falls
/// due (none at the top level).
#[allow(clippy::too_many_arguments)]
async fn tell(
    state: &AppState,
    tx: &mut Tx,
    rules: &CareRules,
    elder: &ElderRow,
    alert: &AlertRow,
    alert_id: &str,
    level: i64,
    members: &[MemberRow],
    now: Timestamp,
) -> ApiResult<Option<Timestamp>> {
    let kind = AlertKind::parse(&alert.kind).unwrap_or(AlertKind::Sos);
    let minute = service::local_minute(rules, now);
    let at_level: Vec<&MemberRow> = members.iter().filter(|m| m.level == level).collect();
    let (quiet, told): (Vec<&MemberRow>, Vec<&MemberRow>) = at_level.into_iter().partition(|m| {
        !kind.urgent() && service::in_quiet_hours(m.quiet_from, m.quiet_until, minute)
    });
    let ids: Vec<String> = told.iter().map(|m| m.person_id.clone()).collect();
    let names = service::person_names(state, &ids).await?;
    let elder_name = identity::store::get_person(&state.db, &elder.person_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    if !ids.is_empty() {
        let subject = format!(
            "{}【{}】{}",
            if kind.urgent() { "紧急" } else { "提醒" },
            kind.in_words(true),
            elder_name
        );
        let body = format!(
            "{elder_name}：{}。请打开 /care/alerts/{alert_id} 查看，并回复“我在路上”“已处理”或“误报”。\n\
             {elder_name}: {}. Open /care/alerts/{alert_id} and answer \"on my way\", \"resolved\" or \"false alarm\".",
            kind.in_words(true),
            kind.in_words(false),
        );
        let notice = messaging::service::Notice {
            organisation_id: &elder.organisation_id,
            sender_account_id: "system",
            subject: &subject,
            body: &body,
            ack_required: false,
        };
        messaging::service::notify_many_in(
            state,
            tx,
            &notice,
            messaging::service::Recipients::Persons(&ids),
        )
        .await?;
    }
    let mut words: Vec<String> = told
        .iter()
        .map(|m| names.get(&m.person_id).cloned().unwrap_or_default())
        .collect();
    words.retain(|w| !w.is_empty());
    let mut detail = if words.is_empty() {
        format!("level {level}: no one told")
    } else {
        format!("level {level} told: {}", words.join(", "))
    };
    if !quiet.is_empty() {
        detail.push_str(&format!("; {} in quiet hours", quiet.len()));
    }
    let next = if level < TOP_LEVEL {
        let wait = rules.escalate_after_seconds[(level - 1) as usize];
        Some(Timestamp(now.0 + wait * 1_000_000))
    } else {
        detail.push_str(&format!(
            "; the last level: if no one answers, call {}",
            rules.emergency_line
        ));
        None
    };
    let mut event = step(alert_id, now, "told", detail);
    event.level = Some(level);
    store::insert_event(tx, &event).await?;
    Ok(next)
}

/// Takes one due escalation step, unless another node or an answer took it first: true
/// when taken.
pub async fn take_step(state: &AppState, alert: &AlertRow, now: Timestamp) -> ApiResult<bool> {
    let Some(due) = alert.next_step_at else {
        return Ok(false);
    };
    let Some(elder) = store::elder(&state.db, &alert.elder_id).await? else {
        return Ok(false);
    };
    let rules = service::rules(state).await?;
    let mut tx = state.db.begin().await?;
    let members = store::members_in(&mut tx, &alert.elder_id).await?;
    // The next level with anyone in it; the top level when none.
    let to = (alert.level + 1..=TOP_LEVEL)
        .find(|l| members.iter().any(|m| m.level == *l))
        .unwrap_or(TOP_LEVEL);
    if !store::escalate(&mut tx, &alert.id, alert.level, due, to, None).await? {
        return Ok(false);
    }
    let mut event = step(
        &alert.id,
        now,
        "escalated",
        format!("no answer at level {}: on to level {to}", alert.level),
    );
    event.level = Some(to);
    event.scheduled_at = Some(due);
    store::insert_event(&mut tx, &event).await?;
    let next = tell(
        state, &mut tx, &rules, &elder, alert, &alert.id, to, &members, now,
    )
    .await?;
    store::set_next_step(&mut tx, &alert.id, to, next).await?;
    tx.commit().await?;
    Ok(true)
}

/// Takes every step due by now.
pub async fn take_due_steps(state: &AppState) -> ApiResult<usize> {
    let mut taken = 0;
    loop {
        let now = Timestamp::now();
        let due = store::due(&state.db, now, 100).await?;
        if due.is_empty() {
            return Ok(taken);
        }
        let n = due.len();
        for alert in &due {
            if take_step(state, alert, now).await? {
                taken += 1;
            }
        }
        if n < 100 {
            return Ok(taken);
        }
    }
}

/// Starts the escalation timer: it sleeps until the earliest step (or a wake), takes what
/// is due, and looks again; and the minute's checks.
pub fn start(state: AppState) {
    let Some(escalation) = state.extensions.get::<Escalation>().cloned() else {
        return;
    };
    let timer_state = state.clone();
    tokio::spawn(async move {
        let state = timer_state;
        loop {
            if let Err(error) = take_due_steps(&state).await {
                tracing::warn!(%error, "taking escalation steps failed");
            }
            let wait = match store::next_step(&state.db).await {
                Ok(Some(next)) => {
                    let micros = (next.0 - Timestamp::now().0).clamp(0, 30_000_000);
                    Duration::from_micros(micros as u64)
                }
                Ok(None) => Duration::from_secs(30),
                Err(error) => {
                    tracing::warn!(%error, "reading the next escalation step failed");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = escalation.wake.notified() => {}
            }
        }
    });
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            if let Err(error) = check(&state, Timestamp::now()).await {
                tracing::warn!(%error, "the minute's care checks failed");
            }
            if let Err(error) = crate::orders::service::expire_stale(&state).await {
                tracing::warn!(%error, "calling off stale care orders failed");
            }
        }
    });
}

/// How often devices' silence, inactivity and water use are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);

/// The checks that need no reading to raise them: devices that missed their heartbeats,
/// elders without movement in the day, mornings without water. Returns the alerts raised.
pub async fn check(state: &AppState, now: Timestamp) -> ApiResult<usize> {
    let rules = service::rules(state).await?;
    let mut raised = 0;
    for device in store::overdue_devices(&state.db, now, rules.offline_after_missed).await? {
        let Some(elder_id) = device.elder_id.as_deref() else {
            continue;
        };
        let Some(elder) = store::elder(&state.db, elder_id).await? else {
            continue;
        };
        let silent_since = device.last_seen_at.or(device.bound_at).unwrap_or(now);
        let limit =
            Timestamp(now.0 - device.heartbeat_seconds * rules.offline_after_missed * 1_000_000);
        let mut tx = state.db.begin().await?;
        if !store::set_offline(&mut tx, &device.id, limit).await? {
            continue;
        }
        let detail = format!(
            "{} {} silent since {} ({} heartbeats missed)",
            device.kind,
            device.id,
            silent_since.rfc3339(),
            rules.offline_after_missed
        );
        raise_in(
            state,
            &mut tx,
            &rules,
            &elder,
            Raise {
                kind: AlertKind::DeviceOffline,
                device_id: Some(&device.id),
                evidence: &[],
                detail: &detail,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        raised += 1;
    }
    let minute = service::local_minute(&rules, now);
    let day_starts = service::minutes_of_day("day_starts", &rules.day_starts)?;
    let day_ends = service::minutes_of_day("day_ends", &rules.day_ends)?;
    if (day_starts..day_ends).contains(&minute) {
        let day_start = service::local_today_at(&rules, now, day_starts);
        raised += check_inactivity(state, &rules, now, day_start).await?;
        if !rules.no_water_by.is_empty() {
            let by = service::minutes_of_day("no_water_by", &rules.no_water_by)?;
            if minute >= by {
                raised += check_water(state, &rules, now, day_start).await?;
            }
        }
    }
    if raised > 0 {
        steps_changed(state);
    }
    Ok(raised)
}

async fn check_inactivity(
    state: &AppState,
    rules: &CareRules,
    now: Timestamp,
    day_start: Timestamp,
) -> ApiResult<usize> {
    let kinds: Vec<String> = DEVICE_KINDS
        .iter()
        .filter(|k| k.metrics().iter().any(|m| m.shows_activity(1.0)))
        .map(|k| k.as_str().to_string())
        .collect();
    let ids = store::elders_with_devices(&state.db, &kinds).await?;
    let mut raised = 0;
    for elder in store::elders_by_id(&state.db, &ids).await? {
        let limits = service::Limits::of(rules, &service::baselines_of(&elder));
        if limits.no_activity_hours <= 0.0 {
            continue;
        }
        // Quiet counts from the later of her last movement and the day's start.
        let since = elder
            .last_activity_at
            .map_or(day_start, |a| a.max(day_start));
        let quiet_micros = now.0 - since.0;
        if (quiet_micros as f64) < limits.no_activity_hours * 3_600_000_000.0 {
            continue;
        }
        // One alert per spell of stillness.
        if store::last_raised(&state.db, &elder.person_id, AlertKind::NoActivity.as_str())
            .await?
            .is_some_and(|at| at >= since)
        {
            continue;
        }
        let detail = format!(
            "no movement since {} ({:.1} hours; her limit is {} hours)",
            since.rfc3339(),
            quiet_micros as f64 / 3_600_000_000.0,
            limits.no_activity_hours
        );
        let mut tx = state.db.begin().await?;
        raise_in(
            state,
            &mut tx,
            rules,
            &elder,
            Raise {
                kind: AlertKind::NoActivity,
                device_id: None,
                evidence: &[],
                detail: &detail,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        raised += 1;
    }
    Ok(raised)
}

async fn check_water(
    state: &AppState,
    rules: &CareRules,
    now: Timestamp,
    day_start: Timestamp,
) -> ApiResult<usize> {
    let ids =
        store::elders_with_devices(&state.db, &[DeviceKind::WaterSensor.as_str().to_string()])
            .await?;
    let mut raised = 0;
    for elder in store::elders_by_id(&state.db, &ids).await? {
        if elder.last_water_at.is_some_and(|at| at >= day_start) {
            continue;
        }
        if store::last_raised(&state.db, &elder.person_id, AlertKind::NoWater.as_str())
            .await?
            .is_some_and(|at| at >= day_start)
        {
            continue;
        }
        let detail = match elder.last_water_at {
            Some(at) => format!("no water used today; last at {}", at.rfc3339()),
            None => "no water used today".to_string(),
        };
        let mut tx = state.db.begin().await?;
        raise_in(
            state,
            &mut tx,
            rules,
            &elder,
            Raise {
                kind: AlertKind::NoWater,
                device_id: None,
                evidence: &[],
                detail: &detail,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        raised += 1;
    }
    Ok(raised)
}

/// Closes an offline device's open alert when it reports again (inside the ingest's
/// transaction).
pub async fn back_online_in(
    tx: &mut Tx,
    elder_id: &str,
    device_id: &str,
    at: Timestamp,
) -> ApiResult<()> {
    let key = open_key(elder_id, AlertKind::DeviceOffline, Some(device_id));
    if let Some(alert) = store::open_alert_by_key(tx, &key).await?
        && store::set_state(tx, &alert.id, AlertState::Resolved.as_str(), Some(at)).await?
    {
        store::insert_event(
            tx,
            &step(
                &alert.id,
                at,
                "closed",
                format!("{device_id} reported again"),
            ),
        )
        .await?;
    }
    Ok(())
}

// ---- asking for help, answering, reading ----

/// The elder (or her proxy) asks for help: an SOS alert, told to her circle at once.
pub async fn ask_for_help(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    request: HelpRequest,
) -> ApiResult<Alert> {
    let elder = service::elder_row(state, elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    if !matches!(access, Access::Elder | Access::Proxy(_)) {
        return Err(ApiError::Forbidden(
            "help is asked for by the elder herself or her proxy".into(),
        ));
    }
    let note = service::note(request.note.as_deref(), NOTE_MAX)?;
    let now = Timestamp::now();
    let detail = match (&access, &note) {
        (Access::Proxy(_), Some(n)) => {
            format!("asked for help by her proxy {}: {n}", by.display_name)
        }
        (Access::Proxy(_), None) => format!("asked for help by her proxy {}", by.display_name),
        (_, Some(n)) => format!("asked for help: {n}"),
        (_, None) => "asked for help".to_string(),
    };
    let rules = service::rules(state).await?;
    let mut tx = state.db.begin().await?;
    let raised = raise_in(
        state,
        &mut tx,
        &rules,
        &elder,
        Raise {
            kind: AlertKind::Sos,
            device_id: None,
            evidence: &[],
            detail: &detail,
        },
        now,
    )
    .await?;
    let id = match &raised {
        Raised::New(id) | Raised::Folded(id) => id.clone(),
    };
    let event = AuditEvent::by(by, "eldercare.help", format!("alert:{id}"))
        .subject(elder_id)
        .because("ask for help", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    steps_changed(state);
    alert_view(state, &id, true).await
}

/// A circle member (or her community's staff) answers an alert: "on my way" stops its
/// escalation, "resolved" and "false alarm" close it.
pub async fn answer(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
    new: NewAnswer,
) -> ApiResult<Alert> {
    let alert = alert_row(state, alert_id).await?;
    let elder = service::elder_row(state, &alert.elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    if matches!(access, Access::Elder) && new.answer == Answer::OnMyWay {
        return Err(ApiError::invalid(
            "answer",
            "\"on my way\" is said by someone coming to help",
        ));
    }
    let state_now = AlertState::parse(&alert.state).unwrap_or(AlertState::Open);
    if state_now.closed() {
        return Err(ApiError::Conflict("this alert is closed already".into()));
    }
    let note = service::note(new.note.as_deref(), NOTE_MAX)?;
    let now = Timestamp::now();
    let (to, closed_at) = match new.answer {
        Answer::OnMyWay => (AlertState::Acknowledged, None),
        Answer::Resolved => (AlertState::Resolved, Some(now)),
        Answer::FalseAlarm => (AlertState::FalseAlarm, Some(now)),
    };
    let mut tx = state.db.begin().await?;
    if !store::set_state(&mut tx, alert_id, to.as_str(), closed_at).await? {
        return Err(ApiError::Conflict("this alert is closed already".into()));
    }
    let mut event = step(alert_id, now, "answered", note.unwrap_or_default());
    event.by_person_id = by.person_id.clone();
    event.by_name = Some(by.display_name.clone());
    event.response = Some(new.answer.as_str().to_string());
    event.level = Some(alert.level);
    store::insert_event(&mut tx, &event).await?;
    let audit = AuditEvent::by(
        by,
        "eldercare.alert.answer",
        format!("alert:{alert_id} answer:{}", new.answer.as_str()),
    )
    .subject(&alert.elder_id)
    .because("answer an elder's alert", access.basis());
    state.audit.record_in(&mut tx, audit).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    alert_view(state, alert_id, true).await
}

async fn alert_row(state: &AppState, id: &str) -> ApiResult<AlertRow> {
    let not_found = || ApiError::NotFound("no such alert".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    store::alert(&state.db, id).await?.ok_or_else(not_found)
}

async fn alert_view(state: &AppState, id: &str, with_timeline: bool) -> ApiResult<Alert> {
    let row = alert_row(state, id).await?;
    let names = service::person_names(state, std::slice::from_ref(&row.elder_id)).await?;
    views(state, vec![row], &names, with_timeline)
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("no such alert".into()))
}

async fn views(
    state: &AppState,
    rows: Vec<AlertRow>,
    names: &std::collections::HashMap<String, String>,
    with_timeline: bool,
) -> ApiResult<Vec<Alert>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let timeline = if with_timeline {
            store::events(&state.db, &row.id)
                .await?
                .into_iter()
                .map(|e| AlertStep {
                    evidence: open_evidence(state, e.evidence_enc.as_deref()),
                    at: e.at,
                    kind: e.kind,
                    level: e.level,
                    scheduled_at: e.scheduled_at,
                    by_name: e.by_name,
                    answer: e.response.as_deref().and_then(Answer::parse),
                    detail: e.detail,
                })
                .collect()
        } else {
            Vec::new()
        };
        out.push(Alert {
            elder_name: names.get(&row.elder_id).cloned().unwrap_or_default(),
            kind: AlertKind::parse(&row.kind).unwrap_or(AlertKind::Sos),
            state: AlertState::parse(&row.state).unwrap_or(AlertState::Open),
            id: row.id,
            elder_id: row.elder_id,
            device_id: row.device_id,
            level: row.level,
            raised_at: row.raised_at,
            last_at: row.last_at,
            folded: row.folded,
            next_step_at: row.next_step_at,
            closed_at: row.closed_at,
            timeline,
        });
    }
    Ok(out)
}

/// One alert with its timeline and readings, for the elder, her proxy, her circle and her
/// community's staff (audited when someone else).
pub async fn alert(state: &AppState, by: &Principal, id: &str) -> ApiResult<(Alert, Access)> {
    let row = alert_row(state, id).await?;
    let elder = service::elder_row(state, &row.elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    service::audit_read(
        state,
        by,
        &access,
        &row.elder_id,
        "eldercare.alert.read",
        format!("alert:{id}"),
        "follow an elder's alert",
    )
    .await?;
    Ok((alert_view(state, id, true).await?, access))
}

/// An elder's alerts, newest first (at most 100), for whoever may see her.
pub async fn alerts_of(state: &AppState, by: &Principal, elder_id: &str) -> ApiResult<Vec<Alert>> {
    let elder = service::elder_row(state, elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    service::audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.alerts.read",
        format!("elder:{elder_id}"),
        "see an elder's alerts",
    )
    .await?;
    let rows = store::alerts_of(&state.db, elder_id, 100).await?;
    let names = service::person_names(state, &[elder_id.to_string()]).await?;
    views(state, rows, &names, false).await
}

/// The open alerts of the elders someone looks after (her circles, her organisations'),
/// newest first.
pub async fn open_alerts(state: &AppState, by: &Principal) -> ApiResult<Vec<Alert>> {
    let elders = service::my_elders(state, by).await?;
    let ids: Vec<String> = elders.iter().map(|e| e.person_id.clone()).collect();
    let names = elders
        .iter()
        .map(|e| (e.person_id.clone(), e.name.clone()))
        .collect();
    let rows = store::open_alerts_of(&state.db, &ids).await?;
    views(state, rows, &names, false).await
}

/// Escalation steps taken since `since`, as (due, taken) pairs.
pub async fn escalations_since(
    state: &AppState,
    since: Timestamp,
) -> ApiResult<Vec<(Timestamp, Timestamp)>> {
    Ok(store::escalations_since(&state.db, since).await?)
}

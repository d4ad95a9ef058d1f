//! Targeted alerts: an issued alert reaches the residents registered in the regions its
//! area takes in and those whose shared location lies in it, and asks each to answer
//! ("I am safe" / "I need help"); the people needing help and the vulnerable of the area
//! appear on a danger-zone list for the community workers, who record each person's
//! evacuation.

use std::collections::{HashMap, HashSet};

use identity::model::RegionCode;
use kernel::audit::{AuditEvent, Basis};
use kernel::auth::Principal;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::cap::model::{Alert, MsgType, Scope, Status};
use crate::model::*;
use crate::store;
use crate::target::{AlertArea, cell_of};

/// Vault context of shared locations.
const CTX_LOCATION: &str = "safety.location";
/// Vault context of evacuation notes.
const CTX_NOTE: &str = "safety.evacuation.note";
/// How long a shared location counts as where the resident is.
pub const LOCATION_USED_FOR_HOURS: i64 = 24;
/// The most people a danger-zone list shows.
pub const DANGER_ZONE_LIMIT: i64 = 1_000;
/// The longest note an answer or a step may carry.
const NOTE_MAX: usize = 500;
/// The basis on which community workers and duty officers see and reach the people of an
/// alert's area.
const EVACUATION_BASIS: &str = "突发事件应对法：组织疏散、救助";

// ---- shared locations ----

/// The resident sharing her own location (a proxy cannot: a location is where the person
/// herself is, told by her own phone).
fn own_person(by: &Principal) -> ApiResult<&str> {
    if by.acting_for.is_some() {
        return Err(ApiError::Forbidden(
            "a location is shared by the resident herself, not by a proxy".into(),
        ));
    }
    by.person_id
        .as_deref()
        .ok_or_else(|| ApiError::Forbidden("only a resident shares her location".into()))
}

fn used_until(shared_at: Timestamp) -> Timestamp {
    shared_at.plus_minutes(LOCATION_USED_FOR_HOURS * 60)
}

/// Shares (or moves) the resident's location, so that alerts for where she is reach her.
pub async fn share_location(
    state: &AppState,
    by: &Principal,
    share: LocationShare,
) -> ApiResult<SharedLocation> {
    let person = own_person(by)?;
    let mut problems = Vec::new();
    if !share.latitude.is_finite() || !(-90.0..=90.0).contains(&share.latitude) {
        problems.push(("latitude", "a latitude from -90 to 90"));
    }
    if !share.longitude.is_finite() || !(-180.0..=180.0).contains(&share.longitude) {
        problems.push(("longitude", "a longitude from -180 to 180"));
    }
    if !problems.is_empty() {
        return Err(ApiError::InvalidFields(
            problems
                .into_iter()
                .map(|(field, detail)| kernel::error::FieldError {
                    field: field.into(),
                    detail: detail.into(),
                })
                .collect(),
        ));
    }
    let sealed = state
        .vault
        .seal(
            &format!("{},{}", share.latitude, share.longitude),
            CTX_LOCATION,
        )
        .map_err(ApiError::Unexpected)?;
    let now = Timestamp::now();
    store::put_location(
        &state.db,
        person,
        (cell_of(share.latitude), cell_of(share.longitude)),
        &sealed,
        now,
    )
    .await?;
    Ok(SharedLocation {
        latitude: share.latitude,
        longitude: share.longitude,
        shared_at: now,
        used_until: used_until(now),
    })
}

fn open_point(state: &AppState, sealed: &[u8]) -> Option<(f64, f64)> {
    let text = state.vault.open(sealed, CTX_LOCATION).ok()?;
    let (lat, lon) = text.split_once(',')?;
    Some((lat.parse().ok()?, lon.parse().ok()?))
}

/// The location the resident shared, if she did.
pub async fn my_location(state: &AppState, by: &Principal) -> ApiResult<Option<SharedLocation>> {
    let person = own_person(by)?;
    let Some((sealed, shared_at)) = store::location(&state.db, person).await? else {
        return Ok(None);
    };
    let (latitude, longitude) = open_point(state, &sealed)
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("a shared location does not open")))?;
    Ok(Some(SharedLocation {
        latitude,
        longitude,
        shared_at,
        used_until: used_until(shared_at),
    }))
}

/// Withdraws the resident's shared location.
pub async fn withdraw_location(state: &AppState, by: &Principal) -> ApiResult<()> {
    let person = own_person(by)?;
    if store::delete_location(&state.db, person).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound("you have not shared a location".into()))
    }
}

// ---- targeting an alert ----

/// Whom an alert about to be issued will reach, worked out before its transaction opens:
/// the regions its area takes in and the residents whose shared location is in it.
pub struct Plan {
    regions: Vec<TargetRegion>,
    codes: Vec<RegionCode>,
    persons: Vec<String>,
}

/// Whether an alert goes out to the residents: an Actual, Public Alert or Update.
pub fn pushes(alert: &Alert) -> bool {
    alert.status == Status::Actual
        && alert.scope == Scope::Public
        && matches!(alert.msg_type, MsgType::Alert | MsgType::Update)
}

/// Works out whom an alert reaches.
pub async fn plan(state: &AppState, alert: &Alert) -> ApiResult<Plan> {
    let area = AlertArea::of(alert);
    let names: HashMap<String, String> =
        store::region_names(&state.db).await?.into_iter().collect();
    let mut regions: Vec<TargetRegion> = Vec::new();
    for code in &area.region_codes {
        if let Some(name) = names.get(code) {
            regions.push(TargetRegion {
                code: code.clone(),
                name: name.clone(),
                by: MatchedBy::Geocode,
            });
        }
    }
    if area.has_shapes() {
        for a in super::areas(state).await? {
            if !regions.iter().any(|r| r.code == a.region) && area.meets(&a.shape) {
                regions.push(TargetRegion {
                    code: a.region,
                    name: a.name,
                    by: MatchedBy::Area,
                });
            }
        }
    }
    let codes: Vec<RegionCode> = regions
        .iter()
        .filter_map(|r| RegionCode::parse(&r.code).ok())
        .collect();
    let mut candidates: HashMap<String, Vec<u8>> = HashMap::new();
    let since = Timestamp::now().plus_minutes(-LOCATION_USED_FOR_HOURS * 60);
    for cells in area.cell_boxes() {
        for (person, sealed) in store::locations_in_cells(&state.db, cells, since).await? {
            candidates.insert(person, sealed);
        }
    }
    // Opening the points and testing them is CPU work: off the async workers.
    let vault = state.vault.clone();
    let persons = tokio::task::spawn_blocking(move || {
        candidates
            .into_iter()
            .filter(|(_, sealed)| {
                vault
                    .open(sealed, CTX_LOCATION)
                    .ok()
                    .and_then(|text| {
                        let (lat, lon) = text.split_once(',')?;
                        Some((lat.parse::<f64>().ok()?, lon.parse::<f64>().ok()?))
                    })
                    .is_some_and(|(lat, lon)| area.contains(lat, lon))
            })
            .map(|(person, _)| person)
            .collect::<Vec<String>>()
    })
    .await
    .map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(Plan {
        regions,
        codes,
        persons,
    })
}

/// The info block a notice is written from: the first in Chinese, else the first.
fn notice_block(alert: &Alert) -> Option<&crate::cap::model::Info> {
    alert
        .info
        .iter()
        .find(|i| {
            i.language
                .as_deref()
                .is_some_and(|l| l.to_ascii_lowercase().starts_with("zh"))
        })
        .or(alert.info.first())
}

/// The notice's subject and text.
fn notice_text(alert: &Alert, alert_id: &str, cancel_note: Option<&str>) -> (String, String) {
    let info = notice_block(alert);
    let title = info.map(|i| i.title().to_string()).unwrap_or_default();
    if alert.msg_type == MsgType::Cancel {
        let subject = format!("【预警解除】{title}");
        let body = format!(
            "{}\n\n预警已解除：{}\n详情：/safety/alerts/{alert_id}",
            title,
            cancel_note
                .or(alert.note.as_deref())
                .unwrap_or("发布机关已取消此预警。")
        );
        return (subject, body);
    }
    let prefix = if alert.msg_type == MsgType::Update {
        "【预警更新】"
    } else {
        "【预警】"
    };
    let mut body = title.clone();
    if let Some(info) = info {
        for part in [&info.description, &info.instruction].into_iter().flatten() {
            body.push_str("\n\n");
            body.push_str(part);
        }
        let areas: Vec<&str> = info.area.iter().map(|a| a.area_desc.as_str()).collect();
        if !areas.is_empty() {
            body.push_str("\n\n区域：");
            body.push_str(&areas.join("；"));
        }
    }
    body.push_str(&format!(
        "\n\n请告诉我们您的情况：打开 /safety/alerts/{alert_id} ，选择“我平安”或“我需要帮助”。"
    ));
    (format!("{prefix}{title}"), body)
}

fn targeting_of(row: store::AlertNoticeRow) -> AlertTargeting {
    AlertTargeting {
        regions: serde_json::from_str(&row.regions).unwrap_or_default(),
        notice_id: row.notice_id,
        chain_id: row.chain_id,
        kind: row.kind,
        by_region: row.by_region,
        by_location: row.by_location,
        reached: row.reached,
        sent_at: row.created_at,
    }
}

/// The chain an alert belongs to: its original's (an update's or a cancel's), or its own.
async fn chain_of(state: &AppState, alert_id: &str, refers_to: Option<&str>) -> ApiResult<String> {
    match refers_to {
        Some(earlier) => Ok(store::alert_notice(&state.db, earlier)
            .await?
            .map_or_else(|| earlier.to_string(), |n| n.chain_id)),
        None => Ok(alert_id.to_string()),
    }
}

/// Sends an issued alert's notice inside its transaction: an Alert or Update to the
/// people of its area (asking each to answer), a Cancel to everyone the chain reached.
/// Returns `None` for an alert that goes to no one (not Actual, not Public).
pub async fn push_in(
    state: &AppState,
    tx: &mut kernel::db::Tx,
    by: &Principal,
    organisation_id: &str,
    row: &store::AlertRow,
    alert: &Alert,
    plan: Option<Plan>,
) -> ApiResult<Option<AlertTargeting>> {
    let cancel = alert.msg_type == MsgType::Cancel
        && alert.status == Status::Actual
        && alert.scope == Scope::Public;
    if !pushes(alert) && !cancel {
        return Ok(None);
    }
    let chain_id = chain_of(state, &row.id, row.refers_to.as_deref()).await?;
    let (subject, body) = notice_text(alert, &row.id, None);
    let notice = messaging::service::Notice {
        organisation_id,
        sender_account_id: &by.account_id,
        subject: &subject,
        body: &body,
        ack_required: !cancel,
    };
    let (sent, regions) = if cancel {
        let earlier = store::chain_notices(&state.db, &chain_id).await?;
        let sent = messaging::service::notify_many_in(
            state,
            tx,
            &notice,
            messaging::service::Recipients::ReachedBy(&earlier),
        )
        .await?;
        (sent, Vec::new())
    } else {
        let plan = match plan {
            Some(plan) => plan,
            None => self::plan(state, alert).await?,
        };
        let sent = messaging::service::notify_many_in(
            state,
            tx,
            &notice,
            messaging::service::Recipients::Area {
                regions: &plan.codes,
                persons: &plan.persons,
            },
        )
        .await?;
        (sent, plan.regions)
    };
    let notice_row = store::AlertNoticeRow {
        alert_id: row.id.clone(),
        chain_id,
        notice_id: sent.id.clone(),
        kind: if cancel { "cancel" } else { "alert" }.into(),
        regions: serde_json::to_string(&regions).map_err(|e| ApiError::Unexpected(e.into()))?,
        by_region: sent.reached - sent.besides,
        by_location: sent.besides,
        reached: sent.reached,
        created_at: Timestamp::now(),
    };
    store::insert_alert_notice(tx, &notice_row).await?;
    // Residents were selected by region and by location only (no one is named in the
    // record); each one's location was opened by the platform to test it.
    let mut event = AuditEvent::by(
        by,
        "safety.alert.target",
        format!(
            "alert:{} message:{} regions:{} by_region:{} by_location:{} webhooks:{}",
            row.id,
            sent.id,
            regions.len(),
            notice_row.by_region,
            notice_row.by_location,
            sent.webhooks
        ),
    );
    event.purpose = "warn the people of an alert's area".into();
    event.basis = Basis::Statutory("突发事件应对法：预警信息发布".into());
    state.audit.record_in(tx, event).await?;
    Ok(Some(targeting_of(notice_row)))
}

/// Whom an alert's notice reached, if it went out with one.
pub async fn targeting(state: &AppState, alert_id: &str) -> ApiResult<Option<AlertTargeting>> {
    Ok(store::alert_notice(&state.db, alert_id)
        .await?
        .map(targeting_of))
}

// ---- answers and evacuation ----

/// The chain an issued alert belongs to and its notices that asked for answers.
async fn chain_and_notices(state: &AppState, alert_id: &str) -> ApiResult<(String, Vec<String>)> {
    let notice = store::alert_notice(&state.db, alert_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("alert {alert_id} was not sent to residents")))?;
    let notices = store::chain_notices(&state.db, &notice.chain_id).await?;
    Ok((notice.chain_id, notices))
}

fn note_of(note: Option<&str>) -> ApiResult<Option<String>> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > NOTE_MAX {
        return Err(ApiError::invalid(
            "note",
            format!("a note has at most {NOTE_MAX} characters"),
        ));
    }
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::invalid(
            "note",
            "the note holds control characters",
        ));
    }
    Ok(Some(note.to_string()))
}

fn seal_note(state: &AppState, note: Option<&str>) -> ApiResult<Option<Vec<u8>>> {
    note.map(|n| state.vault.seal(n, CTX_NOTE).map_err(ApiError::Unexpected))
        .transpose()
}

/// Where a person stands, from her record (if any) and whether she acknowledged.
fn status_of(recorded: Option<&str>, acknowledged: bool) -> EvacuationStatus {
    recorded
        .and_then(EvacuationStatus::parse)
        .unwrap_or(if acknowledged {
            EvacuationStatus::Acknowledged
        } else {
            EvacuationStatus::Notified
        })
}

/// How the caller stands towards an alert that reached her: her status, if it reached her.
pub async fn my_answer(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
) -> ApiResult<Option<EvacuationStatus>> {
    let Some(person) = by.subject_person_id() else {
        return Ok(None);
    };
    let Some(notice) = store::alert_notice(&state.db, alert_id).await? else {
        return Ok(None);
    };
    if notice.kind != "alert" {
        return Ok(None);
    }
    let notices = store::chain_notices(&state.db, &notice.chain_id).await?;
    if !store::reached(&state.db, person, &notices).await? {
        return Ok(None);
    }
    let recorded = store::evacuation(&state.db, &notice.chain_id, person).await?;
    let acked = store::acknowledged(&state.db, person, &notices).await?;
    Ok(Some(status_of(
        recorded.as_ref().map(|r| r.status.as_str()),
        acked,
    )))
}

/// A resident (or her proxy with the `services` scope) answers an alert that reached her:
/// "I am safe" or "I need help"; her notices of the alert are acknowledged with it.
pub async fn answer(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
    answer: AlertAnswer,
) -> ApiResult<EvacuationStatus> {
    by.require_scope("services")?;
    let person = by
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("only a resident answers an alert".into()))?
        .to_string();
    let note = note_of(answer.note.as_deref())?;
    let (chain_id, notices) = chain_and_notices(state, alert_id).await?;
    if !store::reached(&state.db, &person, &notices).await? {
        return Err(ApiError::NotFound(format!(
            "alert {alert_id} did not reach you"
        )));
    }
    let status = match answer.answer {
        Answer::Safe => EvacuationStatus::Safe,
        Answer::NeedHelp => EvacuationStatus::NeedsHelp,
    };
    store::put_evacuation(
        &state.db,
        &store::EvacuationRow {
            chain_id: chain_id.clone(),
            person_id: person.clone(),
            status: status.as_str().into(),
            asked_help: answer.answer == Answer::NeedHelp,
            note_enc: seal_note(state, note.as_deref())?,
            shelter: None,
            by_herself: true,
            updated_by: by.account_id.clone(),
            updated_at: Timestamp::now(),
        },
    )
    .await?;
    for notice in &notices {
        messaging::store::mark(&state.db, &person, notice, true).await?;
    }
    let mut event = AuditEvent::by(
        by,
        "safety.alert.answer",
        format!(
            "alert:{alert_id} chain:{chain_id} status:{}",
            status.as_str()
        ),
    )
    .subject(&person);
    match &by.acting_for {
        Some(acting) => {
            event = event.because(
                "answer an alert for the person (代办)",
                Basis::Proxy(acting.authorisation_id.clone()),
            );
        }
        None => event = event.because("answer an alert", Basis::OwnData),
    }
    state.audit.record(event).await?;
    Ok(status)
}

/// Who may see a chain's people and act: a duty officer (everywhere) or a community
/// committee's staff (the committee's region). Returns the region prefix a worker is
/// limited to.
async fn responder(state: &AppState, by: &Principal) -> ApiResult<Option<(String, String)>> {
    if super::require_duty(state, by).await.is_ok() {
        return Ok(None);
    }
    for org in by.staff_organisations() {
        let o = identity::service::get_organisation(state, org).await?;
        if o.kind == identity::model::OrgKind::CommunityCommittee
            && let Ok(code) = RegionCode::parse(&o.region_code)
        {
            return Ok(Some((
                messaging::service::region_prefix(&code),
                o.region_code.clone(),
            )));
        }
    }
    Err(ApiError::Forbidden(
        "this needs a duty officer or the staff of a community committee".into(),
    ))
}

/// The vulnerable tags of the risk method, as (keyed hash, code).
async fn vulnerable_tags(state: &AppState) -> ApiResult<Vec<(String, String)>> {
    Ok(super::method(state)
        .await?
        .vulnerable_tags
        .into_iter()
        .map(|code| (identity::service::tag_hash(state, &code), code))
        .collect())
}

/// The danger-zone list of an issued alert's chain: the people it reached who need help
/// or carry a vulnerable tag, those needing help first, with everyone's statuses counted.
/// A community worker sees her committee's region; reading the list is audited.
pub async fn danger_zone(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
) -> ApiResult<DangerZone> {
    let limit_to = responder(state, by).await?;
    let (chain_id, notices) = chain_and_notices(state, alert_id).await?;
    let prefix = limit_to.as_ref().map(|(p, _)| p.as_str());
    let tags = vulnerable_tags(state).await?;
    let hashes: Vec<String> = tags.iter().map(|(h, _)| h.clone()).collect();
    let mut rows = store::danger_zone(
        &state.db,
        &chain_id,
        &notices,
        &hashes,
        prefix,
        DANGER_ZONE_LIMIT + 1,
    )
    .await?;
    let truncated = rows.len() > DANGER_ZONE_LIMIT as usize;
    rows.truncate(DANGER_ZONE_LIMIT as usize);
    let ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
    let code_of: HashMap<&str, &str> = tags.iter().map(|(h, c)| (h.as_str(), c.as_str())).collect();
    let mut carried: HashMap<String, Vec<String>> = HashMap::new();
    for (person, hash) in store::tags_of(&state.db, &ids, &hashes).await? {
        if let Some(code) = code_of.get(hash.as_str()) {
            carried.entry(person).or_default().push((*code).to_string());
        }
    }
    let names: HashMap<String, String> =
        store::region_names(&state.db).await?.into_iter().collect();
    let people: Vec<DangerZoneEntry> = rows
        .into_iter()
        .map(|r| {
            let mut reasons = Vec::new();
            if r.asked_help == Some(true) || r.status.as_deref() == Some("needs_help") {
                reasons.push("asked for help".to_string());
            }
            if let Some(tags) = carried.remove(&r.person_id) {
                reasons.extend(tags);
            }
            DangerZoneEntry {
                name: kernel::crypto::mask_name(&r.name),
                region_name: names.get(&r.region_code).cloned().unwrap_or_default(),
                status: status_of(r.status.as_deref(), r.acked > 0),
                status_by_herself: r.by_herself.unwrap_or(false),
                person_id: r.person_id,
                region: r.region_code,
                reasons,
                shelter: r.shelter,
                updated_at: r.updated_at,
            }
        })
        .collect();
    let mut counts = EvacuationCounts::default();
    for (status, n) in store::evacuation_counts(&state.db, &chain_id, &notices, prefix).await? {
        counts.reached += n;
        match EvacuationStatus::parse(&status) {
            Some(EvacuationStatus::Notified) => counts.notified += n,
            Some(EvacuationStatus::Acknowledged) => counts.acknowledged += n,
            Some(EvacuationStatus::NeedsHelp) => counts.needs_help += n,
            Some(EvacuationStatus::Transferred) => counts.transferred += n,
            Some(EvacuationStatus::Safe) => counts.safe += n,
            None => {}
        }
    }
    let event = AuditEvent::by(
        by,
        "safety.danger_zone.read",
        format!(
            "alert:{alert_id} chain:{chain_id} people:{} fields: name (masked), region, tags, status",
            people.len()
        ),
    )
    .because(
        "find the people of an alert's area who need help",
        Basis::Statutory(EVACUATION_BASIS.into()),
    );
    state.audit.record(event).await?;
    Ok(DangerZone {
        alert_id: alert_id.to_string(),
        chain_id,
        region: limit_to.map(|(_, code)| code),
        counts,
        people,
        truncated,
    })
}

/// A person of the chain, for a responder who may see her (her region, reached by the
/// alert): her record and whether she acknowledged.
async fn person_in_zone(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
    person_id: &str,
) -> ApiResult<(String, Vec<String>, identity::model::Contact)> {
    let limit_to = responder(state, by).await?;
    let (chain_id, notices) = chain_and_notices(state, alert_id).await?;
    let not_found =
        || ApiError::NotFound(format!("alert {alert_id} did not reach person {person_id}"));
    if !kernel::ids::is_uuid(person_id) || !store::reached(&state.db, person_id, &notices).await? {
        return Err(not_found());
    }
    let contact = identity::service::contact_of(state, person_id)
        .await?
        .ok_or_else(not_found)?;
    if let Some((prefix, _)) = &limit_to
        && !contact.region_code.starts_with(prefix.as_str())
    {
        return Err(not_found());
    }
    Ok((chain_id, notices, contact))
}

/// Opens one person of a danger-zone list to reach her: name, phone, address, her note
/// (audited with purpose and basis before the data leaves).
pub async fn evacuee(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
    person_id: &str,
) -> ApiResult<Evacuee> {
    let (chain_id, notices, contact) = person_in_zone(state, by, alert_id, person_id).await?;
    let recorded = store::evacuation(&state.db, &chain_id, person_id).await?;
    let acked = store::acknowledged(&state.db, person_id, &notices).await?;
    let tags = vulnerable_tags(state).await?;
    let hashes: Vec<String> = tags.iter().map(|(h, _)| h.clone()).collect();
    let carried: HashSet<String> = store::tags_of(&state.db, &[person_id.to_string()], &hashes)
        .await?
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    let mut reasons = Vec::new();
    if recorded.as_ref().is_some_and(|r| r.asked_help) {
        reasons.push("asked for help".to_string());
    }
    reasons.extend(
        tags.iter()
            .filter(|(h, _)| carried.contains(h))
            .map(|(_, c)| c.clone()),
    );
    let note = recorded
        .as_ref()
        .and_then(|r| r.note_enc.as_deref())
        .map(|sealed| {
            state
                .vault
                .open(sealed, CTX_NOTE)
                .map_err(ApiError::Unexpected)
        })
        .transpose()?;
    let event = AuditEvent::by(
        by,
        "safety.evacuee.read",
        format!("alert:{alert_id} chain:{chain_id} person:{person_id} fields: name, phone, address, note"),
    )
    .subject(person_id)
    .because(
        "reach a person of an alert's area during the evacuation",
        Basis::Statutory(EVACUATION_BASIS.into()),
    );
    state.audit.record(event).await?;
    Ok(Evacuee {
        person_id: person_id.to_string(),
        name: contact.name,
        phone: contact.phone,
        address: contact.address,
        region: contact.region_code,
        reasons,
        status: status_of(recorded.as_ref().map(|r| r.status.as_str()), acked),
        status_by_herself: recorded.as_ref().is_some_and(|r| r.by_herself),
        shelter: recorded.as_ref().and_then(|r| r.shelter.clone()),
        note,
        updated_at: recorded.as_ref().map(|r| r.updated_at),
    })
}

/// A community worker (or duty officer) records a step of a person's evacuation: found
/// needing help, transferred (to a shelter), safe. Audited.
pub async fn record_step(
    state: &AppState,
    by: &Principal,
    alert_id: &str,
    person_id: &str,
    step: EvacuationStep,
) -> ApiResult<Evacuee> {
    if !matches!(
        step.status,
        EvacuationStatus::NeedsHelp | EvacuationStatus::Transferred | EvacuationStatus::Safe
    ) {
        return Err(ApiError::invalid(
            "status",
            "a worker records needs_help, transferred or safe (notified and acknowledged come from the resident)",
        ));
    }
    let note = note_of(step.note.as_deref())?;
    let shelter = step
        .shelter
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(code) = &shelter {
        if step.status != EvacuationStatus::Transferred {
            return Err(ApiError::invalid(
                "shelter",
                "a shelter goes with transferred",
            ));
        }
        if !store::shelters(&state.db)
            .await?
            .iter()
            .any(|s| &s.code == code)
        {
            return Err(ApiError::invalid("shelter", format!("no shelter {code}")));
        }
    }
    let (chain_id, _, _) = person_in_zone(state, by, alert_id, person_id).await?;
    store::put_evacuation(
        &state.db,
        &store::EvacuationRow {
            chain_id: chain_id.clone(),
            person_id: person_id.to_string(),
            status: step.status.as_str().into(),
            asked_help: false,
            note_enc: seal_note(state, note.as_deref())?,
            shelter,
            by_herself: false,
            updated_by: by.account_id.clone(),
            updated_at: Timestamp::now(),
        },
    )
    .await?;
    let event = AuditEvent::by(
        by,
        "safety.evacuation.step",
        format!(
            "alert:{alert_id} chain:{chain_id} person:{person_id} status:{}",
            step.status.as_str()
        ),
    )
    .subject(person_id)
    .because(
        "record a step of a person's evacuation",
        Basis::Statutory(EVACUATION_BASIS.into()),
    );
    state.audit.record(event).await?;
    evacuee(state, by, alert_id, person_id).await
}

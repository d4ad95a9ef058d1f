//! The rules of care orders: providers offer services; the elder, her proxy or her community
//! orders one for her; the provider accepts (with a time), turns it down, moves it, calls
//! it off or completes it; she rates it. Each order is given, when placed, the subsidy the
//! rules allow her for its month — hours a month from a published policy of the rules
//! engine (免申即享's policies: the same rules, the same explanations), less what her
//! other orders of the month hold — and what it covers is kept with it. The month's
//! subsidies are reported by provider and by community.

use std::collections::HashMap;

use identity::model::{OrgKind, RegionCode};
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::Principal;
use kernel::crypto::mask_name;
use kernel::db::Tx;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use super::model::*;
use super::store::{self, GroupBy, OrderEventRow, OrderRow, ServiceRow, SumRow};
use crate::service::{self as care, Access};

/// Vault context of an order's note to the provider.
const CTX_NOTE: &str = "eldercare.order.note";
/// Vault context of the words of a step in an order's timeline.
const CTX_STEP: &str = "eldercare.order.step";
/// Vault context of a rating's comment.
const CTX_COMMENT: &str = "eldercare.order.comment";
/// Vault context of the reason an order was given its subsidy (it speaks of her age and
/// circumstances).
const CTX_REASON: &str = "eldercare.order.subsidy_reason";
/// The longest note, reason or comment.
const TEXT_MAX: usize = 500;
/// The most units one order takes.
const MAX_QUANTITY: i64 = 31;
/// How far ahead an order may be wanted, in days.
const MAX_DAYS_AHEAD: i64 = 60;
/// How far in the past a wanted time may be (a clock a little behind, a form filled slowly).
const GRACE_MINUTES: i64 = 10;
/// The highest price of a unit, in fen (10,000 yuan).
const MAX_PRICE_FEN: i64 = 1_000_000;

fn db_error(e: sqlx::Error) -> ApiError {
    ApiError::from(e)
}

/// Whether `by` is staff of `organisation_id` acting for it (not as someone's proxy).
fn staff_of(by: &Principal, organisation_id: &str) -> bool {
    by.acting_for.is_none() && by.staff_organisations().contains(&organisation_id)
}

fn text(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    care::note(value, TEXT_MAX).map_err(|_| {
        ApiError::invalid(
            field,
            format!("{field} is at most {TEXT_MAX} characters, without control characters"),
        )
    })
}

fn seal(state: &AppState, value: Option<&str>, ctx: &str) -> ApiResult<Option<Vec<u8>>> {
    value
        .map(|v| state.vault.seal(v, ctx).map_err(ApiError::Unexpected))
        .transpose()
}

fn open(state: &AppState, sealed: Option<&[u8]>, ctx: &str) -> Option<String> {
    sealed.and_then(|s| state.vault.open(s, ctx).ok())
}

/// A local `YYYY-MM` month, checked.
pub fn parse_month(field: &str, value: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::invalid(
            field,
            format!("{field} is a month as YYYY-MM, e.g. 2026-12"),
        )
    };
    let (y, m) = value.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    if !(2000..=2999).contains(&y) || !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok(format!("{y:04}-{m:02}"))
}

/// The local month (`YYYY-MM`) an instant falls in, under the care rules' offset.
pub fn local_month(rules: &crate::model::CareRules, at: Timestamp) -> String {
    let local = at.plus_minutes(rules.local_offset_minutes).to_datetime();
    format!("{:04}-{:02}", local.year(), local.month() as u8)
}

fn parse_time(field: &str, value: &str, now: Timestamp) -> ApiResult<Timestamp> {
    let at = Timestamp::parse_rfc3339(value.trim()).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("{field} is a time in RFC 3339, e.g. 2026-12-08T09:00:00+08:00"),
        )
    })?;
    if at < now.plus_minutes(-GRACE_MINUTES) {
        return Err(ApiError::invalid(field, format!("{field} has passed")));
    }
    if at > now.plus_minutes(MAX_DAYS_AHEAD * 24 * 60) {
        return Err(ApiError::invalid(
            field,
            format!("{field} is at most {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    Ok(at)
}

// ---- the catalogue ----

fn service_view(
    row: ServiceRow,
    providers: &HashMap<String, String>,
    ratings: &HashMap<String, (f64, i64)>,
) -> CareService {
    let (rating, count) = ratings
        .get(&row.id)
        .map(|(avg, n)| (Some((avg * 10.0).round() / 10.0), *n))
        .unwrap_or((None, 0));
    CareService {
        provider_name: providers
            .get(&row.organisation_id)
            .cloned()
            .unwrap_or_default(),
        kind: ServiceKind::parse(&row.kind).unwrap_or(ServiceKind::Cleaning),
        unit: ServiceUnit::parse(&row.unit).unwrap_or(ServiceUnit::Visit),
        regions: serde_json::from_str(&row.regions).unwrap_or_default(),
        active: row.active == 1,
        rating,
        ratings: count,
        id: row.id,
        organisation_id: row.organisation_id,
        name: row.name,
        description: row.description,
        minutes: row.minutes,
        price_fen: row.price_fen,
        created_at: row.created_at,
    }
}

async fn service_views(state: &AppState, rows: Vec<ServiceRow>) -> ApiResult<Vec<CareService>> {
    let mut orgs: Vec<String> = rows.iter().map(|r| r.organisation_id.clone()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let providers = identity::service::organisation_names(state, &orgs).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let ratings: HashMap<String, (f64, i64)> = store::ratings(&state.db, &ids)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|(id, avg, n)| (id, (avg, n)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| service_view(r, &providers, &ratings))
        .collect())
}

fn check_minutes(unit: ServiceUnit, minutes: Option<i64>) -> ApiResult<i64> {
    match (unit, minutes) {
        (ServiceUnit::Hour, None | Some(60)) => Ok(60),
        (ServiceUnit::Hour, Some(_)) => Err(ApiError::invalid(
            "minutes",
            "a service priced by the hour is 60 minutes a unit",
        )),
        (ServiceUnit::Visit, None) => Err(ApiError::invalid(
            "minutes",
            "say how many minutes a visit lasts (10–600)",
        )),
        (ServiceUnit::Visit, Some(m)) if (10..=600).contains(&m) => Ok(m),
        (ServiceUnit::Visit, Some(_)) => Err(ApiError::invalid(
            "minutes",
            "a visit lasts 10 to 600 minutes",
        )),
        (ServiceUnit::Meal, None) => Ok(0),
        (ServiceUnit::Meal, Some(m)) if (0..=600).contains(&m) => Ok(m),
        (ServiceUnit::Meal, Some(_)) => Err(ApiError::invalid("minutes", "minutes are 0 to 600")),
    }
}

fn check_price(price: i64) -> ApiResult<i64> {
    if (0..=MAX_PRICE_FEN).contains(&price) {
        Ok(price)
    } else {
        Err(ApiError::invalid(
            "price_fen",
            format!("price_fen is 0 to {MAX_PRICE_FEN} (fen, a hundredth of a yuan)"),
        ))
    }
}

/// A provider offers a service (its staff, or a platform administrator).
pub async fn offer(
    state: &AppState,
    by: &Principal,
    new: NewCareService,
) -> ApiResult<CareService> {
    if !is_uuid(&new.organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "no organisation has this id",
        ));
    }
    let org = identity::service::get_organisation(state, &new.organisation_id)
        .await
        .map_err(|_| ApiError::invalid("organisation_id", "no organisation has this id"))?;
    if !(by.is_platform_admin() || staff_of(by, &org.id)) {
        return Err(ApiError::Forbidden(
            "a provider's services are offered by its staff".into(),
        ));
    }
    if !matches!(org.kind, OrgKind::CareProvider | OrgKind::Hospital) {
        return Err(ApiError::invalid(
            "organisation_id",
            "care services are offered by care providers and hospitals",
        ));
    }
    let name = new.name.trim().to_string();
    let length = name.chars().count();
    if !(2..=40).contains(&length) || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "name is 2 to 40 characters, without control characters",
        ));
    }
    let description = text("description", new.description.as_deref())?.unwrap_or_default();
    let minutes = check_minutes(new.unit, new.minutes)?;
    let price_fen = check_price(new.price_fen)?;
    let codes = match new.regions {
        Some(list) => list,
        None => vec![org.region_code.clone()],
    };
    if codes.is_empty() || codes.len() > 100 {
        return Err(ApiError::invalid(
            "regions",
            "name 1 to 100 regions the service is offered in",
        ));
    }
    let mut regions = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let field = format!("regions[{i}]");
        let region = identity::service::get_region(state, code.trim())
            .await
            .map_err(|_| ApiError::invalid(&field, format!("there is no region {code}")))?;
        if !regions.contains(&region.code) {
            regions.push(region.code);
        }
    }
    let row = ServiceRow {
        id: new_id(),
        organisation_id: org.id.clone(),
        kind: new.kind.as_str().into(),
        name,
        description,
        unit: new.unit.as_str().into(),
        minutes,
        price_fen,
        regions: serde_json::to_string(&regions).map_err(|e| ApiError::Unexpected(e.into()))?,
        active: 1,
        created_by: by.account_id.clone(),
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    if !store::insert_service(&mut tx, &row).await? {
        return Err(ApiError::Conflict(format!(
            "{} already offers a service named {}",
            org.name, row.name
        )));
    }
    let mut event = AuditEvent::by(by, "eldercare.service.offer", format!("service:{}", row.id));
    event.actor_organisation_id = Some(org.id.clone());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let mut views = service_views(state, vec![row]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the service vanished")))
}

async fn service_row(state: &AppState, id: &str) -> ApiResult<ServiceRow> {
    let not_found = || ApiError::NotFound("no such care service".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    store::service(&state.db, id).await?.ok_or_else(not_found)
}

/// One service.
pub async fn care_service(state: &AppState, id: &str) -> ApiResult<CareService> {
    let row = service_row(state, id).await?;
    let mut views = service_views(state, vec![row]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::NotFound("no such care service".into()))
}

/// A provider changes a service's description, length, price or whether it is offered.
pub async fn change_service(
    state: &AppState,
    by: &Principal,
    id: &str,
    change: CareServiceChange,
) -> ApiResult<CareService> {
    let mut row = service_row(state, id).await?;
    if !(by.is_platform_admin() || staff_of(by, &row.organisation_id)) {
        return Err(ApiError::Forbidden(
            "a provider's services are changed by its staff".into(),
        ));
    }
    if let Some(d) = change.description.as_deref() {
        row.description = text("description", Some(d))?.unwrap_or_default();
    }
    if let Some(m) = change.minutes {
        let unit = ServiceUnit::parse(&row.unit).unwrap_or(ServiceUnit::Visit);
        row.minutes = check_minutes(unit, Some(m))?;
    }
    if let Some(p) = change.price_fen {
        row.price_fen = check_price(p)?;
    }
    if let Some(a) = change.active {
        row.active = i64::from(a);
    }
    let mut tx = state.db.begin().await?;
    store::update_service(&mut tx, &row).await?;
    let mut event = AuditEvent::by(by, "eldercare.service.change", format!("service:{id}"));
    event.actor_organisation_id = Some(row.organisation_id.clone());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    care_service(state, id).await
}

/// Whether a region code lies in one of the regions a service is offered in.
pub fn offered_in(service: &CareService, region_code: &str) -> bool {
    service.regions.iter().any(|r| {
        RegionCode::parse(r)
            .map(|code| region_code.starts_with(&messaging::service::region_prefix(&code)))
            .unwrap_or(false)
    })
}

/// The catalogue: of one kind or provider when given, offered in one region (a resident's)
/// when given; a provider's staff see their withdrawn services too.
pub async fn catalogue(
    state: &AppState,
    by: &Principal,
    kind: Option<&str>,
    provider: Option<&str>,
    region: Option<&str>,
) -> ApiResult<Vec<CareService>> {
    let kind = match kind.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => Some(
            ServiceKind::parse(k)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "kind",
                        format!(
                            "kind is one of {}",
                            SERVICE_KINDS
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?
                .as_str(),
        ),
        None => None,
    };
    let provider = provider.map(str::trim).filter(|p| !p.is_empty());
    if let Some(p) = provider
        && !is_uuid(p)
    {
        return Err(ApiError::invalid("provider", "no organisation has this id"));
    }
    let all = provider.is_some_and(|p| by.is_platform_admin() || staff_of(by, p));
    let rows = store::services(&state.db, kind, provider, all).await?;
    let mut views = service_views(state, rows).await?;
    if let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) {
        RegionCode::parse(region).map_err(|e| ApiError::invalid("region", e))?;
        views.retain(|s| offered_in(s, region));
    }
    Ok(views)
}

// ---- the subsidy ----

/// What the rules give an elder for a month, in minutes, with the reason; none when no
/// subsidy policy is set.
struct Entitlement {
    policy_code: Option<String>,
    policy_name: Option<String>,
    minutes: i64,
    reason: String,
}

async fn entitlement(
    state: &AppState,
    elder_id: &str,
    month: &str,
    basis: Basis,
) -> ApiResult<Entitlement> {
    let rules = care::rules(state).await?;
    let Some(code) = rules.subsidy_policy.clone() else {
        return Ok(Entitlement {
            policy_code: None,
            policy_name: None,
            minutes: 0,
            reason: "未设定居家养老服务补贴政策 (no subsidy policy is set)".into(),
        });
    };
    let none = |reason: String| Entitlement {
        policy_code: Some(code.clone()),
        policy_name: None,
        minutes: 0,
        reason,
    };
    let found = match rules::service::policy_amount_for(
        state,
        &code,
        elder_id,
        month,
        "居家养老服务补贴核定 (home-care subsidy for a care order)",
        basis,
    )
    .await
    {
        Ok(found) => found,
        // A policy withdrawn (or an elder no longer in the register) gives no hours; the
        // orders go on without them.
        Err(ApiError::NotFound(detail)) => {
            return Ok(none(format!("不享受补贴：{detail}")));
        }
        Err(e @ (ApiError::Unavailable(_) | ApiError::Unexpected(_))) => {
            tracing::warn!(policy = %code, error = %e, "the care subsidy cannot be worked out");
            return Err(ApiError::Unavailable(format!(
                "the subsidy under policy {code} cannot be worked out now; try again later"
            )));
        }
        Err(other) => return Err(other),
    };
    if found.unit != "hour" {
        tracing::warn!(policy = %code, unit = found.unit, "the care subsidy policy is not counted in hours");
        return Ok(none(format!(
            "不享受补贴：政策 {code} 不按服务时长计 (the policy is not counted in hours)"
        )));
    }
    let minutes = if found.amount.is_finite() && found.amount > 0.0 {
        (found.amount * 60.0).round() as i64
    } else {
        0
    };
    Ok(Entitlement {
        policy_code: Some(code),
        policy_name: Some(found.policy_name),
        minutes,
        reason: found.reason,
    })
}

/// Takes up to `wanted` subsidised minutes of the month for an order; returns the minutes
/// granted. A conditional change of the month's row, so that two orders placed at once
/// never share the same hours.
async fn hold_minutes(
    tx: &mut Tx,
    elder_id: &str,
    month: &str,
    entitled: i64,
    wanted: i64,
) -> ApiResult<i64> {
    for _ in 0..8 {
        let used = store::used_minutes_in(tx, elder_id, month).await?;
        let grant = wanted.min((entitled - used).max(0));
        if grant == 0 {
            return Ok(0);
        }
        if store::swap_used_minutes(tx, elder_id, month, used, used + grant).await? {
            return Ok(grant);
        }
    }
    Err(ApiError::Conflict(
        "her subsidised hours changed while ordering; try again".into(),
    ))
}

/// The share of `price` that `covered` of `total` minutes is, rounded half up to a fen.
pub fn covered_fen(price: i64, covered: i64, total: i64) -> i64 {
    if total <= 0 || covered <= 0 {
        return 0;
    }
    let part = i128::from(price) * i128::from(covered.min(total));
    let whole = i128::from(total);
    i64::try_from((2 * part + whole) / (2 * whole)).unwrap_or(price)
}

/// An elder's subsidised hours for a month (the current one unless given), for whoever may
/// see her.
pub async fn balance(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    month: Option<&str>,
) -> ApiResult<SubsidyBalance> {
    let elder = care::elder_row(state, elder_id).await?;
    let access = care::access(state, by, &elder).await?;
    let rules = care::rules(state).await?;
    let month = match month.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => parse_month("month", m)?,
        None => local_month(&rules, Timestamp::now()),
    };
    care::audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.subsidy.read",
        format!("elder:{elder_id} month:{month}"),
        "see an elder's subsidised care hours",
    )
    .await?;
    let found = entitlement(state, elder_id, &month, access.basis()).await?;
    let used = store::used_minutes(&state.db, elder_id, &month).await?;
    Ok(SubsidyBalance {
        elder_id: elder_id.to_string(),
        remaining_minutes: (found.minutes - used).max(0),
        month,
        policy_code: found.policy_code,
        policy_name: found.policy_name,
        entitled_minutes: found.minutes,
        used_minutes: used,
        reason: found.reason,
    })
}

// ---- orders ----

/// How someone reaches an order.
enum OrderAccess {
    /// Through the elder: herself, her proxy, her circle, her community, an administrator.
    Elder(Access),
    /// The provider's staff, under the consent her ordering gave.
    Provider,
}

impl OrderAccess {
    fn basis(&self, order_id: &str) -> Basis {
        match self {
            OrderAccess::Elder(a) => a.basis(),
            OrderAccess::Provider => Basis::Consent(format!("care-order:{order_id}")),
        }
    }

    fn audited(&self) -> bool {
        match self {
            OrderAccess::Elder(a) => a.audited(),
            OrderAccess::Provider => true,
        }
    }

    /// The elder, her proxy, her community's staff or an administrator (not every relative).
    fn for_elder(&self) -> bool {
        matches!(self, OrderAccess::Elder(a) if a.manages())
    }
}

async fn order_row(state: &AppState, id: &str) -> ApiResult<OrderRow> {
    let not_found = || ApiError::NotFound("no such care order".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    store::order(&state.db, id).await?.ok_or_else(not_found)
}

async fn order_access(
    state: &AppState,
    by: &Principal,
    order: &OrderRow,
) -> ApiResult<OrderAccess> {
    if staff_of(by, &order.provider_id) {
        return Ok(OrderAccess::Provider);
    }
    let elder = care::elder_row(state, &order.elder_id)
        .await
        .map_err(|_| ApiError::NotFound("no such care order".into()))?;
    care::access(state, by, &elder)
        .await
        .map(OrderAccess::Elder)
        .map_err(|_| ApiError::NotFound("no such care order".into()))
}

struct Names {
    elders: HashMap<String, String>,
    orgs: HashMap<String, String>,
    services: HashMap<String, ServiceRow>,
}

async fn names_for(state: &AppState, rows: &[OrderRow]) -> ApiResult<Names> {
    let mut elders: Vec<String> = rows.iter().map(|r| r.elder_id.clone()).collect();
    elders.sort_unstable();
    elders.dedup();
    let mut orgs: Vec<String> = rows.iter().map(|r| r.provider_id.clone()).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let mut services = HashMap::new();
    for r in rows {
        if !services.contains_key(&r.service_id)
            && let Some(s) = store::service(&state.db, &r.service_id).await?
        {
            services.insert(r.service_id.clone(), s);
        }
    }
    Ok(Names {
        elders: care::person_names(state, &elders).await?,
        orgs: identity::service::organisation_names(state, &orgs).await?,
        services,
    })
}

/// What of an order a reader is shown beside its figures.
#[derive(Clone, Copy)]
struct Shown {
    /// Her name masked (a provider's list).
    masked: bool,
    /// Her note to the provider.
    note: bool,
    /// Why the rules gave her the subsidy (her age, her disability): hers and her circle's,
    /// not the provider's.
    reason: bool,
}

fn order_view(state: &AppState, row: OrderRow, names: &Names, shown: Shown) -> Order {
    let Shown {
        masked,
        note,
        reason,
    } = shown;
    let service = names.services.get(&row.service_id);
    let name = names.elders.get(&row.elder_id).cloned().unwrap_or_default();
    Order {
        elder_name: if masked { mask_name(&name) } else { name },
        service_name: service.map(|s| s.name.clone()).unwrap_or_default(),
        kind: service
            .and_then(|s| ServiceKind::parse(&s.kind))
            .unwrap_or(ServiceKind::Cleaning),
        unit: service
            .and_then(|s| ServiceUnit::parse(&s.unit))
            .unwrap_or(ServiceUnit::Visit),
        provider_name: names
            .orgs
            .get(&row.provider_id)
            .cloned()
            .unwrap_or_default(),
        state: OrderState::parse(&row.state).unwrap_or(OrderState::Ordered),
        subsidy: OrderSubsidy {
            policy_code: row.subsidy_policy.clone(),
            month: row.month.clone(),
            minutes: row.subsidy_minutes,
            fen: row.subsidy_fen,
            reason: if reason {
                open(state, row.subsidy_reason_enc.as_deref(), CTX_REASON).unwrap_or_default()
            } else {
                String::new()
            },
        },
        note: if note {
            open(state, row.note_enc.as_deref(), CTX_NOTE)
        } else {
            None
        },
        rating_comment: open(state, row.rating_comment_enc.as_deref(), CTX_COMMENT),
        contact: None,
        timeline: Vec::new(),
        id: row.id,
        elder_id: row.elder_id,
        community_id: row.community_id,
        service_id: row.service_id,
        provider_id: row.provider_id,
        quantity: row.quantity,
        minutes: row.minutes,
        wanted_at: row.wanted_at,
        scheduled_at: row.scheduled_at,
        unit_price_fen: row.unit_price_fen,
        price_fen: row.price_fen,
        payable_fen: row.payable_fen,
        ordered_by_name: row.ordered_by_name,
        ordered_at: row.ordered_at,
        completed_at: row.completed_at,
        rating: row.rating,
    }
}

fn step(
    state: &AppState,
    order_id: &str,
    at: Timestamp,
    kind: &str,
    by: &Principal,
    detail: &str,
) -> ApiResult<OrderEventRow> {
    Ok(OrderEventRow {
        id: new_id(),
        order_id: order_id.to_string(),
        at,
        kind: kind.into(),
        by_name: by.display_name.clone(),
        detail_enc: state
            .vault
            .seal(detail, CTX_STEP)
            .map_err(ApiError::Unexpected)?,
    })
}

/// Tells the elder about her order, inside the transaction that changes it.
async fn tell_elder(
    state: &AppState,
    tx: &mut Tx,
    by: &Principal,
    order: &OrderRow,
    service_name: &str,
    body: String,
) -> ApiResult<()> {
    messaging::service::notify_in(
        state,
        tx,
        &order.provider_id,
        &by.account_id,
        &order.elder_id,
        &format!("【居家养老服务】{service_name}"),
        &body,
    )
    .await?;
    Ok(())
}

/// Places an order for an elder (she, her proxy or her community's staff): the service must
/// be offered where she lives; the subsidy the rules give her for the month is applied as far
/// as her hours left allow, and held for the order until it is done or called off.
pub async fn place(state: &AppState, by: &Principal, new: NewOrder) -> ApiResult<Order> {
    let elder = care::elder_row(state, &new.elder_id).await?;
    let access = care::access(state, by, &elder).await?;
    if !access.manages() {
        return Err(ApiError::Forbidden(
            "care orders are placed by the elder, her proxy or her community".into(),
        ));
    }
    let service = service_row(state, new.service_id.trim())
        .await
        .map_err(|_| ApiError::invalid("service_id", "there is no such care service"))?;
    if service.active != 1 {
        return Err(ApiError::Conflict(
            "this service is no longer offered".into(),
        ));
    }
    let person = identity::store::persons_by_id(&state.db, std::slice::from_ref(&elder.person_id))
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound("no such elder in community care".into()))?;
    let view = care_service(state, &service.id).await?;
    if !offered_in(&view, &person.region_code) {
        return Err(ApiError::invalid(
            "service_id",
            "this service is not offered where she lives",
        ));
    }
    if !(1..=MAX_QUANTITY).contains(&new.quantity) {
        return Err(ApiError::invalid(
            "quantity",
            format!("quantity is 1 to {MAX_QUANTITY}"),
        ));
    }
    let now = Timestamp::now();
    let wanted_at = parse_time("wanted_at", &new.wanted_at, now)?;
    let note = text("note", new.note.as_deref())?;
    let rules = care::rules(state).await?;
    let month = local_month(&rules, wanted_at);
    let found = entitlement(state, &elder.person_id, &month, access.basis()).await?;
    let minutes = new.quantity * service.minutes;
    let price_fen = new.quantity * service.price_fen;

    let mut tx = state.db.begin().await?;
    let granted = hold_minutes(&mut tx, &elder.person_id, &month, found.minutes, minutes).await?;
    let subsidy_fen = covered_fen(price_fen, granted, minutes);
    let row = OrderRow {
        id: new_id(),
        elder_id: elder.person_id.clone(),
        community_id: elder.organisation_id.clone(),
        service_id: service.id.clone(),
        provider_id: service.organisation_id.clone(),
        quantity: new.quantity,
        minutes,
        wanted_at,
        scheduled_at: None,
        state: OrderState::Ordered.as_str().into(),
        month: month.clone(),
        unit_price_fen: service.price_fen,
        price_fen,
        subsidy_policy: found.policy_code.clone(),
        subsidy_minutes: granted,
        subsidy_fen,
        payable_fen: price_fen - subsidy_fen,
        subsidy_reason_enc: seal(state, Some(&found.reason), CTX_REASON)?,
        note_enc: seal(state, note.as_deref(), CTX_NOTE)?,
        ordered_by: by.account_id.clone(),
        ordered_by_name: by.display_name.clone(),
        ordered_at: now,
        completed_at: None,
        rating: None,
        rating_comment_enc: None,
        updated_at: now,
    };
    store::insert_order(&mut tx, &row).await?;
    let unit = ServiceUnit::parse(&service.unit).unwrap_or(ServiceUnit::Visit);
    let detail = format!(
        "{} × {}{}，共 {} 元，补贴 {} 元（{} 小时），自付 {} 元",
        service.name,
        row.quantity,
        unit.in_words(true),
        yuan(price_fen),
        yuan(subsidy_fen),
        hours(granted),
        yuan(row.payable_fen)
    );
    store::insert_event(&mut tx, &step(state, &row.id, now, "ordered", by, &detail)?).await?;
    tell_elder(
        state,
        &mut tx,
        by,
        &row,
        &service.name,
        format!(
            "已为您预约：{detail}。期望时间 {}。服务机构接单后会告诉您上门时间。",
            local_short(&rules, wanted_at)
        ),
    )
    .await?;
    let event = AuditEvent::by(by, "eldercare.order.place", format!("order:{}", row.id))
        .subject(&elder.person_id)
        .because("order a care service for an elder", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    order(state, by, &row.id).await
}

/// A local time as `YYYY-MM-DD HH:MM` under the care rules' offset.
pub fn local_short(rules: &crate::model::CareRules, at: Timestamp) -> String {
    at.plus_minutes(rules.local_offset_minutes).short()
}

/// One order with its timeline, for the elder and those who may see her, and for the
/// provider; her name, phone and address go to the provider and to her (each read by
/// someone else audited with its purpose and basis before the data leaves).
pub async fn order(state: &AppState, by: &Principal, id: &str) -> ApiResult<Order> {
    let row = order_row(state, id).await?;
    let access = order_access(state, by, &row).await?;
    // The provider reaches her (her name, phone, address, note) while the order is still to
    // be done; afterwards what it did stays, how to reach her does not.
    let still_open = OrderState::parse(&row.state).is_some_and(OrderState::is_open);
    let with_contact = match &access {
        OrderAccess::Provider => still_open,
        OrderAccess::Elder(a) => matches!(a, Access::Elder | Access::Proxy(_)),
    };
    if access.audited() {
        let event = AuditEvent::by(
            by,
            "eldercare.order.read",
            format!("order:{id}{}", if with_contact { " contact" } else { "" }),
        )
        .subject(&row.elder_id)
        .because(
            if matches!(access, OrderAccess::Provider) {
                "deliver a care service the elder ordered"
            } else {
                "see an elder's care order"
            },
            access.basis(id),
        );
        state.audit.record(event).await?;
    }
    let names = names_for(state, std::slice::from_ref(&row)).await?;
    let events = store::events(&state.db, id).await?;
    let elder_id = row.elder_id.clone();
    let provider = matches!(access, OrderAccess::Provider);
    let shown = Shown {
        masked: false,
        note: !provider || still_open,
        reason: !provider,
    };
    let mut view = order_view(state, row, &names, shown);
    if with_contact && let Some(c) = identity::service::contact_of(state, &elder_id).await? {
        view.contact = Some(OrderContact {
            name: c.name,
            phone: c.phone,
            address: c.address,
        });
    }
    view.timeline = events
        .into_iter()
        .map(|e| OrderStep {
            at: e.at,
            kind: e.kind,
            by_name: e.by_name,
            detail: open(state, Some(&e.detail_enc), CTX_STEP).unwrap_or_default(),
        })
        .collect();
    Ok(view)
}

/// An elder's orders, the latest first (at most 100), for whoever may see her.
pub async fn orders_of_elder(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
) -> ApiResult<Vec<Order>> {
    let elder = care::elder_row(state, elder_id).await?;
    let access = care::access(state, by, &elder).await?;
    care::audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.orders.read",
        format!("elder:{elder_id}"),
        "see an elder's care orders",
    )
    .await?;
    let rows = store::orders_of_elder(&state.db, elder_id, 100).await?;
    let names = names_for(state, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let shown = Shown {
                masked: false,
                note: true,
                reason: true,
            };
            order_view(state, r, &names, shown)
        })
        .collect())
}

/// A provider's orders in the states asked (open ones unless said), the soonest first, for
/// its staff: names masked, no notes; one audited read.
pub async fn provider_orders(
    state: &AppState,
    by: &Principal,
    organisation_id: &str,
    states: Option<&str>,
) -> ApiResult<Vec<Order>> {
    if !is_uuid(organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "no organisation has this id",
        ));
    }
    if !(by.is_platform_admin() || staff_of(by, organisation_id)) {
        return Err(ApiError::Forbidden(
            "a provider's orders are for its staff".into(),
        ));
    }
    let wanted: Vec<String> = match states.map(str::trim).filter(|s| !s.is_empty()) {
        Some(list) => list
            .split(',')
            .map(|s| {
                OrderState::parse(s.trim())
                    .map(|s| s.as_str().to_string())
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "state",
                            format!("'{}' is not a state of an order", s.trim()),
                        )
                    })
            })
            .collect::<ApiResult<_>>()?,
        None => vec!["ordered".into(), "accepted".into()],
    };
    let rows = store::orders_of_provider(&state.db, organisation_id, &wanted, 500).await?;
    let mut event = AuditEvent::by(
        by,
        "eldercare.orders.provider.read",
        format!("organisation:{organisation_id} orders:{}", rows.len()),
    )
    .because(
        "deliver the care services elders ordered",
        Basis::Consent("care-orders".into()),
    );
    event.actor_organisation_id = Some(organisation_id.to_string());
    state.audit.record(event).await?;
    let names = names_for(state, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let shown = Shown {
                masked: true,
                note: false,
                reason: false,
            };
            order_view(state, r, &names, shown)
        })
        .collect())
}

/// What a step of the provider's or the elder's does to an order.
struct Move<'a> {
    from: &'a [OrderState],
    to: OrderState,
    scheduled_at: Option<Timestamp>,
    kind: &'a str,
    detail: String,
    notice: Option<String>,
    action: &'a str,
}

async fn apply(
    state: &AppState,
    by: &Principal,
    row: &OrderRow,
    access: &OrderAccess,
    m: Move<'_>,
) -> ApiResult<()> {
    let now = Timestamp::now();
    let from: Vec<String> = m.from.iter().map(|s| s.as_str().to_string()).collect();
    let completed_at = (m.to == OrderState::Completed).then_some(now);
    let mut tx = state.db.begin().await?;
    if !store::move_order(
        &mut tx,
        &row.id,
        &from,
        m.to.as_str(),
        m.scheduled_at,
        completed_at,
        now,
    )
    .await?
    {
        let current = store::order(&state.db, &row.id)
            .await?
            .and_then(|o| OrderState::parse(&o.state))
            .unwrap_or(OrderState::Ordered);
        return Err(ApiError::Conflict(format!(
            "the order is {} now",
            current.as_str()
        )));
    }
    if matches!(m.to, OrderState::Cancelled | OrderState::Declined) && row.subsidy_minutes > 0 {
        store::give_back_minutes(&mut tx, &row.elder_id, &row.month, row.subsidy_minutes).await?;
    }
    store::insert_event(&mut tx, &step(state, &row.id, now, m.kind, by, &m.detail)?).await?;
    if let Some(body) = m.notice {
        let service_name = store::service(&state.db, &row.service_id)
            .await?
            .map(|s| s.name)
            .unwrap_or_default();
        tell_elder(state, &mut tx, by, row, &service_name, body).await?;
    }
    let mut event = AuditEvent::by(by, m.action, format!("order:{}", row.id))
        .subject(&row.elder_id)
        .because("handle a care order", access.basis(&row.id));
    if matches!(access, OrderAccess::Provider) {
        event.actor_organisation_id = Some(row.provider_id.clone());
    }
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(())
}

async fn provider_row(
    state: &AppState,
    by: &Principal,
    id: &str,
) -> ApiResult<(OrderRow, OrderAccess)> {
    let row = order_row(state, id).await?;
    let access = order_access(state, by, &row).await?;
    if !matches!(access, OrderAccess::Provider) && !by.is_platform_admin() {
        return Err(ApiError::Forbidden("this step is the provider's".into()));
    }
    Ok((row, access))
}

/// Sets the time the provider will come, from `from` to accepted: told to her and recorded
/// as `kind`.
async fn set_time(
    state: &AppState,
    by: &Principal,
    id: &str,
    at: Option<&str>,
    from: OrderState,
) -> ApiResult<Order> {
    let (row, access) = provider_row(state, by, id).await?;
    let rules = care::rules(state).await?;
    let now = Timestamp::now();
    let at = match at.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_time("scheduled_at", s, now)?,
        None if row.wanted_at < now.plus_minutes(-GRACE_MINUTES) => {
            return Err(ApiError::invalid(
                "scheduled_at",
                "the time she asked for has passed: say when you will come",
            ));
        }
        None => row.wanted_at,
    };
    // Her subsidised hours were taken from the month she ordered for; the visit stays in it.
    if local_month(&rules, at) != row.month {
        return Err(ApiError::invalid(
            "scheduled_at",
            format!(
                "the visit stays in {} (its subsidy is that month's); call the order off and order again",
                row.month
            ),
        ));
    }
    let when = local_short(&rules, at);
    let (kind, detail, notice, action) = if from == OrderState::Ordered {
        (
            "accepted",
            format!("上门时间 {when}"),
            format!("服务机构已接单，将于 {when} 上门。"),
            "eldercare.order.accept",
        )
    } else {
        (
            "rescheduled",
            format!("改为 {when}"),
            format!("上门时间改为 {when}。"),
            "eldercare.order.reschedule",
        )
    };
    apply(
        state,
        by,
        &row,
        &access,
        Move {
            from: &[from],
            to: OrderState::Accepted,
            scheduled_at: Some(at),
            kind,
            detail,
            notice: Some(notice),
            action,
        },
    )
    .await?;
    order(state, by, id).await
}

/// The provider accepts an order, saying when it will come (when she asked, unless said).
pub async fn accept(state: &AppState, by: &Principal, id: &str, a: Acceptance) -> ApiResult<Order> {
    set_time(
        state,
        by,
        id,
        a.scheduled_at.as_deref(),
        OrderState::Ordered,
    )
    .await
}

/// The provider moves an accepted order to another time.
pub async fn reschedule(
    state: &AppState,
    by: &Principal,
    id: &str,
    r: Reschedule,
) -> ApiResult<Order> {
    if r.scheduled_at.trim().is_empty() {
        return Err(ApiError::invalid(
            "scheduled_at",
            "say when the provider will come",
        ));
    }
    set_time(state, by, id, Some(&r.scheduled_at), OrderState::Accepted).await
}

fn required_reason(r: &Reason) -> ApiResult<String> {
    text("reason", r.reason.as_deref())?
        .ok_or_else(|| ApiError::invalid("reason", "say why, so that she knows"))
}

/// The provider turns down an order it has not accepted, saying why; her subsidised hours
/// come back.
pub async fn decline(state: &AppState, by: &Principal, id: &str, r: Reason) -> ApiResult<Order> {
    let (row, access) = provider_row(state, by, id).await?;
    let reason = required_reason(&r)?;
    apply(
        state,
        by,
        &row,
        &access,
        Move {
            from: &[OrderState::Ordered],
            to: OrderState::Declined,
            scheduled_at: None,
            kind: "declined",
            detail: reason.clone(),
            notice: Some(format!(
                "很抱歉，服务机构未能接单：{reason}。补贴时长已退回，您可以另选服务机构。"
            )),
            action: "eldercare.order.decline",
        },
    )
    .await?;
    order(state, by, id).await
}

/// The provider completes an accepted order.
pub async fn complete(state: &AppState, by: &Principal, id: &str) -> ApiResult<Order> {
    let (row, access) = provider_row(state, by, id).await?;
    apply(
        state,
        by,
        &row,
        &access,
        Move {
            from: &[OrderState::Accepted],
            to: OrderState::Completed,
            scheduled_at: None,
            kind: "completed",
            detail: format!("自付 {} 元", yuan(row.payable_fen)),
            notice: Some(format!(
                "服务已完成。自付 {} 元（补贴 {} 元）。欢迎在“我的服务订单”里评价。",
                yuan(row.payable_fen),
                yuan(row.subsidy_fen)
            )),
            action: "eldercare.order.complete",
        },
    )
    .await?;
    order(state, by, id).await
}

/// The order is called off before it is done: by the elder, her proxy or her community
/// (a reason optional), or by the provider after accepting it (a reason required). Her
/// subsidised hours come back.
pub async fn cancel(state: &AppState, by: &Principal, id: &str, r: Reason) -> ApiResult<Order> {
    let row = order_row(state, id).await?;
    let access = order_access(state, by, &row).await?;
    let (reason, notice) = match &access {
        OrderAccess::Provider => {
            let reason = required_reason(&r)?;
            let notice = format!("很抱歉，服务机构取消了这次服务：{reason}。补贴时长已退回。");
            (reason, Some(notice))
        }
        a if a.for_elder() => {
            let reason = text("reason", r.reason.as_deref())?.unwrap_or_default();
            (
                reason,
                Some("您的服务预约已取消，补贴时长已退回。".to_string()),
            )
        }
        _ => {
            return Err(ApiError::Forbidden(
                "an order is called off by the elder, her proxy, her community or the provider"
                    .into(),
            ));
        }
    };
    // The provider turns down what it has not accepted; it calls off only what it did.
    let from: &[OrderState] = if matches!(access, OrderAccess::Provider) {
        &[OrderState::Accepted]
    } else {
        &[OrderState::Ordered, OrderState::Accepted]
    };
    apply(
        state,
        by,
        &row,
        &access,
        Move {
            from,
            to: OrderState::Cancelled,
            scheduled_at: None,
            kind: "cancelled",
            detail: reason,
            notice,
            action: "eldercare.order.cancel",
        },
    )
    .await?;
    order(state, by, id).await
}

/// The elder (or her proxy) rates a completed order, once.
pub async fn rate(state: &AppState, by: &Principal, id: &str, r: NewRating) -> ApiResult<Order> {
    let row = order_row(state, id).await?;
    let access = order_access(state, by, &row).await?;
    if !matches!(access, OrderAccess::Elder(Access::Elder | Access::Proxy(_))) {
        return Err(ApiError::Forbidden(
            "an order is rated by the elder or her proxy".into(),
        ));
    }
    if !(1..=5).contains(&r.stars) {
        return Err(ApiError::invalid("stars", "stars are 1 to 5"));
    }
    let comment = text("comment", r.comment.as_deref())?;
    let sealed = seal(state, comment.as_deref(), CTX_COMMENT)?;
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    if !store::rate(&mut tx, id, r.stars, sealed.as_deref(), now).await? {
        return Err(ApiError::Conflict(
            "only a completed order is rated, and once".into(),
        ));
    }
    store::insert_event(
        &mut tx,
        &step(state, id, now, "rated", by, &format!("{} 星", r.stars))?,
    )
    .await?;
    let event = AuditEvent::by(by, "eldercare.order.rate", format!("order:{id}"))
        .subject(&row.elder_id)
        .because("rate a care service", access.basis(id));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    order(state, by, id).await
}

/// How long after the time she asked for an order no provider accepted is called off.
const EXPIRE_AFTER_MINUTES: i64 = 24 * 60;

/// Calls off orders no provider accepted by a day after the time she asked for, giving her
/// subsidised hours back and telling her (run with the minute's checks). Returns how many.
pub async fn expire_stale(state: &AppState) -> ApiResult<usize> {
    let now = Timestamp::now();
    let stale =
        store::stale_orders(&state.db, now.plus_minutes(-EXPIRE_AFTER_MINUTES), 100).await?;
    let system = Principal::system();
    let access = OrderAccess::Elder(Access::Admin);
    let mut expired = 0;
    for row in &stale {
        let outcome = apply(
            state,
            &system,
            row,
            &access,
            Move {
                from: &[OrderState::Ordered],
                to: OrderState::Cancelled,
                scheduled_at: None,
                kind: "cancelled",
                detail: "过了预约时间一天仍无机构接单，自动取消".into(),
                notice: Some(
                    "很抱歉，这次预约过了时间仍没有服务机构接单，已自动取消，补贴时长已退回。您可以重新预约。"
                        .into(),
                ),
                action: "eldercare.order.expire",
            },
        )
        .await;
        match outcome {
            Ok(()) => expired += 1,
            // Someone acted on it meanwhile.
            Err(ApiError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}

// ---- the report ----

fn sum_view(row: &SumRow, names: &HashMap<String, String>) -> SubsidyRow {
    SubsidyRow {
        name: names.get(&row.organisation_id).cloned().unwrap_or_default(),
        organisation_id: row.organisation_id.clone(),
        orders: row.orders,
        elders: row.elders,
        minutes: row.minutes,
        price_fen: row.price_fen,
        subsidy_fen: row.subsidy_fen,
        payable_fen: row.payable_fen,
        open_subsidy_fen: row.open_subsidy_fen,
        rating: row.rating.map(|r| (r * 10.0).round() / 10.0),
    }
}

fn total_of(rows: &[SubsidyRow]) -> SubsidyRow {
    let rated: Vec<f64> = rows.iter().filter_map(|r| r.rating).collect();
    SubsidyRow {
        organisation_id: String::new(),
        name: "合计".into(),
        orders: rows.iter().map(|r| r.orders).sum(),
        elders: rows.iter().map(|r| r.elders).sum(),
        minutes: rows.iter().map(|r| r.minutes).sum(),
        price_fen: rows.iter().map(|r| r.price_fen).sum(),
        subsidy_fen: rows.iter().map(|r| r.subsidy_fen).sum(),
        payable_fen: rows.iter().map(|r| r.payable_fen).sum(),
        open_subsidy_fen: rows.iter().map(|r| r.open_subsidy_fen).sum(),
        rating: (!rated.is_empty())
            .then(|| (rated.iter().sum::<f64>() / rated.len() as f64 * 10.0).round() / 10.0),
    }
}

/// The month's care orders by provider and by community: completed orders, their minutes,
/// price, subsidy and what the elders paid, and the subsidy open orders hold. The subsidy
/// policy's department and platform administrators see everything; a provider's staff
/// their provider; a community's staff their community.
pub async fn report(state: &AppState, by: &Principal, month: &str) -> ApiResult<SubsidyReport> {
    let month = parse_month("month", month)?;
    let rules = care::rules(state).await?;
    let payer = match &rules.subsidy_policy {
        Some(code) => rules::service::policy(state, code)
            .await
            .ok()
            .map(|p| p.organisation_id),
        None => None,
    };
    let everything = by.is_platform_admin() || payer.as_deref().is_some_and(|p| staff_of(by, p));
    let mine: Vec<String> = if by.acting_for.is_none() {
        by.staff_organisations()
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    if !everything && mine.is_empty() {
        return Err(ApiError::Forbidden(
            "the subsidy report is for the paying department, providers and communities".into(),
        ));
    }
    let mut providers = store::month_sums(&state.db, &month, GroupBy::Provider).await?;
    let mut communities = store::month_sums(&state.db, &month, GroupBy::Community).await?;
    if !everything {
        providers.retain(|r| mine.contains(&r.organisation_id));
        communities.retain(|r| mine.contains(&r.organisation_id));
    }
    let mut ids: Vec<String> = providers
        .iter()
        .chain(communities.iter())
        .map(|r| r.organisation_id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names = identity::service::organisation_names(state, &ids).await?;
    let providers: Vec<SubsidyRow> = providers.iter().map(|r| sum_view(r, &names)).collect();
    let communities: Vec<SubsidyRow> = communities.iter().map(|r| sum_view(r, &names)).collect();
    let only = (!everything).then_some(mine.as_slice());
    let total = match store::month_sums_of(&state.db, &month, GroupBy::Everything, only)
        .await?
        .first()
    {
        Some(row) => {
            let mut t = sum_view(row, &names);
            t.name = "合计".into();
            t.organisation_id = String::new();
            t
        }
        None => total_of(&[]),
    };
    let mut event = AuditEvent::by(by, "eldercare.subsidy.report", format!("month:{month}"));
    event.purpose = "settle the month's care subsidies".into();
    state.audit.record(event).await?;
    Ok(SubsidyReport {
        month,
        providers,
        communities,
        total,
    })
}

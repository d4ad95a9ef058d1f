//! Relief supplies: depots and their stock, the roads from depots to regions, the need of
//! each region from its residents and its warning level, the minimum-cost allocation plan
//! (`crate::supply`), and dispatching it out of the depots' stock. Staff on duty only.

use std::collections::{BTreeMap, HashMap};

use kernel::audit::{AuditEvent, Basis};
use kernel::auth::Principal;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::model::*;
use crate::store;
use crate::supply::{Transport, allocate};

/// The most of one supply a depot may hold.
pub const MAX_QUANTITY: i64 = 100_000_000;
/// The most routes.
pub const MAX_ROUTES: usize = 100_000;
/// The longest route, in minutes.
pub const MAX_MINUTES: f64 = 10_000.0;
/// Plans listed.
const PLANS_LISTED: i64 = 50;
/// Where the supply method is kept.
const METHOD_SETTING: &str = "safety.supply_method";

async fn audit(
    state: &AppState,
    tx: &mut kernel::db::Tx,
    by: &Principal,
    action: &str,
    resource: String,
    purpose: &str,
) -> ApiResult<()> {
    let mut event = AuditEvent::by(by, action, resource);
    event.purpose = purpose.into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(tx, event).await?;
    Ok(())
}

fn check_stock(stock: &BTreeMap<Supply, i64>) -> ApiResult<()> {
    for (supply, q) in stock {
        if !(0..=MAX_QUANTITY).contains(q) {
            return Err(ApiError::invalid(
                format!("stock.{}", supply.as_str()),
                format!("a quantity from 0 to {MAX_QUANTITY}"),
            ));
        }
    }
    Ok(())
}

fn depot_of(row: store::DepotRow, stock: &[(String, String, i64)]) -> Depot {
    let mut held: BTreeMap<Supply, i64> = Supply::ALL.into_iter().map(|s| (s, 0)).collect();
    for (depot, supply, q) in stock {
        if *depot == row.code
            && let Some(s) = Supply::parse(supply)
        {
            held.insert(s, *q);
        }
    }
    Depot {
        code: row.code,
        name: row.name,
        region: row.region_code,
        latitude: row.latitude,
        longitude: row.longitude,
        organisation_id: row.organisation_id,
        stock: held,
    }
}

/// Registers a depot with what it holds (a duty officer).
pub async fn register_depot(state: &AppState, by: &Principal, new: NewDepot) -> ApiResult<Depot> {
    let own = super::require_duty(state, by).await?;
    let org = match (new.organisation_id.as_deref(), own) {
        (Some(named), _) => {
            let org = by.staff_organisation(Some(named), "organisation_id")?;
            identity::service::get_organisation(state, &org)
                .await
                .map_err(|_| ApiError::invalid("organisation_id", "no such organisation"))?;
            org
        }
        (None, Some(own)) => own,
        (None, None) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "name the department that runs the depot",
            ));
        }
    };
    let code = new.code.trim().to_string();
    if !super::is_station_code(&code) {
        return Err(ApiError::invalid(
            "code",
            "a depot code is 2–40 of A–Z, a–z, 0–9, - and _",
        ));
    }
    let name = kernel::api::text("name", &new.name, 80, true)?;
    let region = new.region.trim().to_string();
    identity::service::get_region(state, &region)
        .await
        .map_err(|_| ApiError::invalid("region", format!("no region {region}")))?;
    super::check_position(new.latitude, new.longitude)?;
    check_stock(&new.stock)?;
    let row = store::DepotRow {
        code,
        name,
        region_code: region,
        latitude: new.latitude,
        longitude: new.longitude,
        organisation_id: org,
    };
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    if !store::insert_depot(&mut tx, &row, now).await? {
        return Err(ApiError::Conflict(format!(
            "a depot is already registered as {}",
            row.code
        )));
    }
    for supply in Supply::ALL {
        let q = new.stock.get(&supply).copied().unwrap_or(0);
        store::put_stock(&mut tx, &row.code, supply.as_str(), q, now).await?;
    }
    audit(
        state,
        &mut tx,
        by,
        "safety.depot.register",
        format!("depot:{} stock:{:?}", row.code, new.stock),
        "register a relief supply depot",
    )
    .await?;
    tx.commit().await?;
    let stock: Vec<(String, String, i64)> = Supply::ALL
        .into_iter()
        .map(|s| {
            (
                row.code.clone(),
                s.as_str().to_string(),
                new.stock.get(&s).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(depot_of(row, &stock))
}

/// Every depot with its stock (staff on duty).
pub async fn depots(state: &AppState, by: &Principal) -> ApiResult<Vec<Depot>> {
    super::require_duty(state, by).await?;
    let stock = store::stock(&state.db).await?;
    Ok(store::depots(&state.db)
        .await?
        .into_iter()
        .map(|row| depot_of(row, &stock))
        .collect())
}

/// Sets what a depot holds now of the supplies named (a count).
pub async fn set_stock(
    state: &AppState,
    by: &Principal,
    code: &str,
    count: StockCount,
) -> ApiResult<Depot> {
    super::require_duty(state, by).await?;
    let row = store::depot(&state.db, code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no depot {code}")))?;
    check_stock(&count.stock)?;
    if count.stock.is_empty() {
        return Err(ApiError::invalid("stock", "name at least one supply"));
    }
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    for (supply, q) in &count.stock {
        store::put_stock(&mut tx, code, supply.as_str(), *q, now).await?;
    }
    audit(
        state,
        &mut tx,
        by,
        "safety.depot.stock",
        format!("depot:{code} stock:{:?}", count.stock),
        "count a depot's stock",
    )
    .await?;
    tx.commit().await?;
    let stock = store::stock(&state.db).await?;
    Ok(depot_of(row, &stock))
}

/// Every route (staff on duty).
pub async fn routes(state: &AppState, by: &Principal) -> ApiResult<SupplyRoutes> {
    super::require_duty(state, by).await?;
    Ok(SupplyRoutes {
        routes: store::routes(&state.db)
            .await?
            .into_iter()
            .map(|(depot, region, minutes)| SupplyRoute {
                depot,
                region,
                minutes,
            })
            .collect(),
    })
}

/// Replaces every route: each names a depot and a region registered here, once, with
/// its minutes of travel.
pub async fn set_routes(
    state: &AppState,
    by: &Principal,
    new: SupplyRoutes,
) -> ApiResult<SupplyRoutes> {
    super::require_duty(state, by).await?;
    if new.routes.len() > MAX_ROUTES {
        return Err(ApiError::invalid(
            "routes",
            format!("at most {MAX_ROUTES} routes"),
        ));
    }
    let depots: std::collections::HashSet<String> = store::depots(&state.db)
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let regions: std::collections::HashSet<String> = store::region_names(&state.db)
        .await?
        .into_iter()
        .map(|(code, _)| code)
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::with_capacity(new.routes.len());
    for (i, r) in new.routes.iter().enumerate() {
        let (depot, region) = (r.depot.trim(), r.region.trim());
        if !depots.contains(depot) {
            return Err(ApiError::invalid(
                format!("routes[{i}].depot"),
                format!("no depot {depot}"),
            ));
        }
        if !regions.contains(region) {
            return Err(ApiError::invalid(
                format!("routes[{i}].region"),
                format!("no region {region}"),
            ));
        }
        if !r.minutes.is_finite() || !(0.0..=MAX_MINUTES).contains(&r.minutes) {
            return Err(ApiError::invalid(
                format!("routes[{i}].minutes"),
                format!("minutes of travel from 0 to {MAX_MINUTES}"),
            ));
        }
        if !seen.insert((depot.to_string(), region.to_string())) {
            return Err(ApiError::invalid(
                format!("routes[{i}]"),
                format!("the route from {depot} to {region} is given twice"),
            ));
        }
        rows.push((depot.to_string(), region.to_string(), r.minutes));
    }
    let mut tx = state.db.begin().await?;
    store::put_routes(&mut tx, &rows).await?;
    audit(
        state,
        &mut tx,
        by,
        "safety.routes.set",
        format!("routes:{}", rows.len()),
        "set the roads from depots to regions",
    )
    .await?;
    tx.commit().await?;
    routes(state, by).await
}

/// The method a region's need is reckoned by.
pub async fn method(state: &AppState) -> ApiResult<SupplyMethod> {
    super::read_setting(state, METHOD_SETTING).await
}

/// Sets the need method (a platform administrator): shares 0–1, rising with the level;
/// per-person needs 0–1,000.
pub async fn set_method(
    state: &AppState,
    by: &Principal,
    m: SupplyMethod,
) -> ApiResult<SupplyMethod> {
    by.require_platform_admin()?;
    for (i, share) in m.affected_share.iter().enumerate() {
        if !share.is_finite() || !(0.0..=1.0).contains(share) {
            return Err(ApiError::invalid(
                format!("affected_share[{i}]"),
                "a share from 0 to 1",
            ));
        }
        if i > 0 && *share < m.affected_share[i - 1] {
            return Err(ApiError::invalid(
                format!("affected_share[{i}]"),
                "a higher level affects at least as many as a lower one",
            ));
        }
    }
    for (supply, q) in &m.per_person {
        if !q.is_finite() || !(0.0..=1_000.0).contains(q) {
            return Err(ApiError::invalid(
                format!("per_person.{}", supply.as_str()),
                "a need per person from 0 to 1,000",
            ));
        }
    }
    let json = serde_json::to_string(&m).map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut tx = state.db.begin().await?;
    identity::service::put_setting_in(&mut tx, METHOD_SETTING, &json).await?;
    audit(
        state,
        &mut tx,
        by,
        "safety.supply.method",
        json,
        "set how relief needs are reckoned",
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

fn share_at(m: &SupplyMethod, level: RiskLevel) -> f64 {
    match level {
        RiskLevel::Green => 0.0,
        RiskLevel::Blue => m.affected_share[0],
        RiskLevel::Yellow => m.affected_share[1],
        RiskLevel::Orange => m.affected_share[2],
        RiskLevel::Red => m.affected_share[3],
    }
}

/// Computes the minimum-cost allocation plan for the levels at `horizon` (default 24 h)
/// and keeps it as proposed (audited).
pub async fn compute_plan(
    state: &AppState,
    by: &Principal,
    request: PlanRequest,
) -> ApiResult<SupplyPlan> {
    super::require_duty(state, by).await?;
    let horizon = super::horizon_of(request.horizon.or(Some(24)))?;
    let method = method(state).await?;
    let population = identity::service::population_by_region(state, 150, &[]).await?;
    let mut regions: Vec<RegionNeed> = Vec::new();
    for w in super::warnings(state, horizon).await? {
        if w.level == RiskLevel::Green {
            continue;
        }
        let residents: i64 = population
            .iter()
            .filter(|p| super::lies_in(&p.0, &w.region))
            .map(|p| p.1)
            .sum();
        let affected = (residents as f64 * share_at(&method, w.level)).ceil() as i64;
        let need: BTreeMap<Supply, i64> = Supply::ALL
            .into_iter()
            .map(|s| {
                let per = method.per_person.get(&s).copied().unwrap_or(0.0);
                (s, (affected as f64 * per).ceil() as i64)
            })
            .collect();
        regions.push(RegionNeed {
            region: w.region,
            name: w.name,
            level: w.level,
            residents,
            affected,
            need,
            unmet: BTreeMap::new(),
        });
    }
    let depots: Vec<Depot> = depots(state, by).await?;
    let region_index: HashMap<&str, usize> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.region.as_str(), i))
        .collect();
    let depot_index: HashMap<&str, usize> = depots
        .iter()
        .enumerate()
        .map(|(i, d)| (d.code.as_str(), i))
        .collect();
    let all_routes = store::routes(&state.db).await?;
    let routes: Vec<(usize, usize, f64)> = all_routes
        .iter()
        .filter_map(|(d, r, minutes)| {
            Some((
                *depot_index.get(d.as_str())?,
                *region_index.get(r.as_str())?,
                *minutes,
            ))
        })
        .collect();
    let problems: Vec<(Supply, Transport)> = Supply::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                Transport {
                    stock: depots
                        .iter()
                        .map(|d| d.stock.get(&s).copied().unwrap_or(0))
                        .collect(),
                    need: regions.iter().map(|r| r.need[&s]).collect(),
                    routes: routes.clone(),
                },
            )
        })
        .collect();
    // Solving is CPU work: off the async workers.
    let solved = tokio::task::spawn_blocking(move || {
        problems
            .into_iter()
            .map(|(s, t)| allocate(&t).map(|plan| (s, plan)))
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .map_err(|e| ApiError::Unexpected(e.into()))?
    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
    let mut shipments = Vec::new();
    let mut cost = 0.0;
    let mut total_need = BTreeMap::new();
    let mut total_unmet = BTreeMap::new();
    for (supply, plan) in solved {
        for (a, quantity) in plan.moves {
            let (d, r, minutes) = routes[a];
            shipments.push(Shipment {
                depot: depots[d].code.clone(),
                depot_name: depots[d].name.clone(),
                region: regions[r].region.clone(),
                region_name: regions[r].name.clone(),
                supply,
                quantity,
                minutes,
            });
        }
        cost += plan.cost;
        for (r, unmet) in plan.unmet.into_iter().enumerate() {
            if unmet > 0 {
                regions[r].unmet.insert(supply, unmet);
            }
            *total_unmet.entry(supply).or_insert(0) += unmet;
        }
        total_need.insert(supply, regions.iter().map(|r| r.need[&supply]).sum());
    }
    shipments.sort_by(|a, b| (&a.depot, &a.region, a.supply).cmp(&(&b.depot, &b.region, b.supply)));
    let plan = SupplyPlan {
        id: kernel::ids::new_id(),
        horizon,
        state: PlanState::Proposed,
        regions,
        shipments,
        total_need,
        total_unmet,
        cost,
        created_by: by.account_id.clone(),
        created_at: Timestamp::now(),
        dispatched_by: None,
        dispatched_at: None,
    };
    let body = serde_json::to_string(&plan).map_err(|e| ApiError::Unexpected(e.into()))?;
    store::insert_plan(
        &state.db,
        &plan.id,
        horizon as i32,
        &body,
        &by.account_id,
        plan.created_at,
    )
    .await?;
    let event = AuditEvent::by(
        by,
        "safety.supply.plan",
        format!(
            "plan:{} horizon:{horizon} shipments:{} unmet:{:?}",
            plan.id,
            plan.shipments.len(),
            plan.total_unmet
        ),
    )
    .because(
        "plan the allocation of relief supplies",
        Basis::NotApplicable,
    );
    state.audit.record(event).await?;
    Ok(plan)
}

fn plan_of(row: store::PlanRow) -> ApiResult<SupplyPlan> {
    let mut plan: SupplyPlan =
        serde_json::from_str(&row.body).map_err(|e| ApiError::Unexpected(e.into()))?;
    if row.state == "dispatched" {
        plan.state = PlanState::Dispatched;
        plan.dispatched_by = row.dispatched_by;
        plan.dispatched_at = row.dispatched_at;
    }
    Ok(plan)
}

/// The newest plans (staff on duty).
pub async fn plans(state: &AppState, by: &Principal) -> ApiResult<Vec<SupplyPlan>> {
    super::require_duty(state, by).await?;
    store::plans(&state.db, PLANS_LISTED)
        .await?
        .into_iter()
        .map(plan_of)
        .collect()
}

/// One plan (staff on duty).
pub async fn plan(state: &AppState, by: &Principal, id: &str) -> ApiResult<SupplyPlan> {
    super::require_duty(state, by).await?;
    store::plan(&state.db, id)
        .await?
        .map(plan_of)
        .transpose()?
        .ok_or_else(|| ApiError::NotFound(format!("no plan {id}")))
}

/// Dispatches a proposed plan: every shipment is taken out of its depot's stock in one
/// transaction, or none is (a depot that no longer holds enough is a 409: compute again).
pub async fn dispatch(state: &AppState, by: &Principal, id: &str) -> ApiResult<SupplyPlan> {
    super::require_duty(state, by).await?;
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    let row = store::plan_for_update(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no plan {id}")))?;
    if row.state != "proposed" {
        return Err(ApiError::Conflict(format!(
            "plan {id} was already dispatched"
        )));
    }
    let mut plan = plan_of(row)?;
    for s in &plan.shipments {
        if !store::take_stock(&mut tx, &s.depot, s.supply.as_str(), s.quantity, now).await? {
            return Err(ApiError::Conflict(format!(
                "depot {} no longer holds {} of {}; compute a new plan",
                s.depot,
                s.quantity,
                s.supply.as_str()
            )));
        }
    }
    store::dispatch_plan(&mut tx, id, &by.account_id, now).await?;
    audit(
        state,
        &mut tx,
        by,
        "safety.supply.dispatch",
        format!("plan:{id} shipments:{}", plan.shipments.len()),
        "dispatch relief supplies",
    )
    .await?;
    tx.commit().await?;
    plan.state = PlanState::Dispatched;
    plan.dispatched_by = Some(by.account_id.clone());
    plan.dispatched_at = Some(now);
    Ok(plan)
}

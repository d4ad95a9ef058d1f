//! The pages of relief supplies (staff on duty): the depots with their stock, the roads to
//! the regions, computing an allocation plan, a plan with what each region gets and goes
//! without, and dispatching it.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use kernel::AppState;
use kernel::error::ApiError;
use kernel::pages::{PageContext, PageResult, urlencode};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, form_page, form_pairs,
    form_value, post_button,
};

use crate::model::*;
use crate::service::{self, supplies};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/safety/supplies", get(supplies_page))
        .route("/safety/supplies/plans", post(compute_action))
        .route(
            "/safety/supplies/depots/new",
            get(new_depot_page).post(register_action),
        )
        .route(
            "/safety/supplies/depots/{code}",
            get(depot_page).post(stock_action),
        )
        .route(
            "/safety/supplies/routes",
            get(routes_page).post(routes_action),
        )
        .route("/safety/supplies/plans/{id}", get(plan_page))
        .route(
            "/safety/supplies/plans/{id}/dispatch",
            post(dispatch_action),
        )
}

fn supply_name(ctx: &PageContext, s: Supply) -> String {
    let ((zh, zh_unit), (en, en_unit)) = s.names();
    let (zh, en) = (format!("{zh}（{zh_unit}）"), format!("{en} ({en_unit})"));
    ctx.pick(&zh, &en).to_string()
}

fn level_name(ctx: &PageContext, level: RiskLevel) -> &'static str {
    let (zh, en) = level.names();
    ctx.pick(zh, en)
}

fn quantities(stock: &BTreeMap<Supply, i64>) -> Vec<Cell> {
    Supply::ALL
        .into_iter()
        .map(|s| Cell::from(stock.get(&s).copied().unwrap_or(0).to_string()))
        .collect()
}

fn supply_headers(ctx: &PageContext) -> Vec<String> {
    Supply::ALL
        .into_iter()
        .map(|s| supply_name(ctx, s))
        .collect()
}

async fn supplies_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let depots = supplies::depots(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let routes = supplies::routes(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let plans = supplies::plans(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("救灾物资调配", "Relief supplies");
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        esc(title),
        esc(ctx.pick(
            "按风险预警等级和各地区居民数计算需求，用储备库的库存和道路运输时间求最小成本调配方案（运输问题，线性规划）；满足不了的需求如实列出。",
            "Needs come from each region's warning level and residents; the plan is the minimum-cost allocation from the depots' stock over the roads (the transportation problem, a linear programme); what cannot be met is listed as it is.",
        ))
    );
    let mut headers = vec![
        ctx.pick("储备库", "Depot").to_string(),
        ctx.pick("所在地区", "Region").to_string(),
    ];
    headers.extend(supply_headers(&ctx));
    let rows = depots
        .iter()
        .map(|d| {
            let mut row = vec![
                Cell::link(
                    d.name.clone(),
                    format!("/safety/supplies/depots/{}", urlencode(&d.code)),
                ),
                Cell::from(d.region.clone()),
            ];
            row.extend(quantities(&d.stock));
            row
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("储备库与库存", "Depots and stock").into(),
            headers,
            rows,
            empty: ctx
                .pick("还没有登记储备库。", "No depot is registered yet.")
                .into(),
        }
        .html(),
    );
    body.push_str(&format!(
        "<p><a class=\"button\" href=\"/safety/supplies/depots/new\">{}</a> <a href=\"/safety/supplies/routes\">{}</a></p>",
        esc(ctx.pick("登记储备库", "Register a depot")),
        esc(&format!(
            "{}（{}）",
            ctx.pick("运输道路", "Roads to the regions"),
            routes.routes.len()
        )),
    ));
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        esc(ctx.pick("计算调配方案", "Compute a plan")),
        plan_form(&ctx).html()
    ));
    let rows = plans
        .iter()
        .map(|p| {
            let unmet: i64 = p.total_unmet.values().sum();
            vec![
                Cell::link(
                    p.created_at.rfc3339(),
                    format!("/safety/supplies/plans/{}", p.id),
                ),
                Cell::from(format!("{} h", p.horizon)),
                Cell::from(plan_state_name(&ctx, p.state).to_string()),
                Cell::from(p.shipments.len().to_string()),
                Cell::from(unmet.to_string()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("调配方案", "Plans").into(),
            headers: vec![
                ctx.pick("计算时间", "Computed").into(),
                ctx.pick("预警时效", "Horizon").into(),
                ctx.pick("状态", "State").into(),
                ctx.pick("运输批次", "Shipments").into(),
                ctx.pick("未满足需求（件）", "Unmet (units)").into(),
            ],
            rows,
            empty: ctx
                .pick("还没有计算过方案。", "No plan has been computed yet.")
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

fn plan_state_name(ctx: &PageContext, state: PlanState) -> &'static str {
    match state {
        PlanState::Proposed => ctx.pick("待调运", "Proposed"),
        PlanState::Dispatched => ctx.pick("已调运", "Dispatched"),
    }
}

fn plan_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/safety/supplies/plans",
        ctx.pick("计算方案", "Compute"),
        vec![Field::of(
            "horizon",
            ctx.pick("按哪个时效的预警等级", "Levels of which horizon"),
            FieldKind::Select(
                [24, 48, 6, 3]
                    .into_iter()
                    .map(|h| (h.to_string(), format!("{h} h")))
                    .collect(),
            ),
        )],
    )
}

async fn compute_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let horizon = form_value(&pairs, "horizon").parse::<u32>().ok();
    let plan = supplies::compute_plan(&state, user, PlanRequest { horizon })
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/safety/supplies/plans/{}", plan.id)).into_response())
}

fn stock_fields(ctx: &PageContext, stock: Option<&BTreeMap<Supply, i64>>) -> Vec<Field> {
    Supply::ALL
        .into_iter()
        .map(|s| {
            let f = Field::text(s.as_str(), &supply_name(ctx, s));
            match stock {
                Some(stock) => f.value(&stock.get(&s).copied().unwrap_or(0).to_string()),
                None => f.value("0"),
            }
        })
        .collect()
}

/// Reads the four quantities of a stock form (each a whole number).
fn stock_from(pairs: &[(String, String)]) -> Result<BTreeMap<Supply, i64>, ApiError> {
    let mut stock = BTreeMap::new();
    for s in Supply::ALL {
        let text = form_value(pairs, s.as_str()).trim();
        let q = if text.is_empty() {
            0
        } else {
            text.parse::<i64>()
                .map_err(|_| ApiError::invalid(s.as_str(), "a whole number"))?
        };
        stock.insert(s, q);
    }
    Ok(stock)
}

/// Field names of the API's errors (`stock.tent`) as the form's (`tent`).
fn form_error(error: ApiError) -> ApiError {
    match error {
        ApiError::InvalidFields(mut errors) => {
            for e in &mut errors {
                if let Some(name) = e.field.strip_prefix("stock.") {
                    e.field = name.to_string();
                }
            }
            ApiError::InvalidFields(errors)
        }
        other => other,
    }
}

fn depot_form(ctx: &PageContext) -> Form {
    let mut fields = vec![
        Field::text("code", ctx.pick("编号", "Code")).hint(ctx.pick(
            "2–40 位字母、数字、- 或 _",
            "2–40 of letters, digits, - and _",
        )),
        Field::text("name", ctx.pick("名称", "Name")),
        Field::text("region", ctx.pick("所在地区代码", "Region code")),
        Field::text("latitude", ctx.pick("纬度", "Latitude")),
        Field::text("longitude", ctx.pick("经度", "Longitude")),
    ];
    fields.extend(stock_fields(ctx, None));
    Form::new(
        ctx,
        "/safety/supplies/depots/new",
        ctx.pick("登记", "Register"),
        fields,
    )
}

async fn new_depot_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("登记储备库", "Register a depot"),
        &depot_form(&ctx),
    ))
}

async fn register_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let number = |name: &str| {
        form_value(&pairs, name)
            .trim()
            .parse::<f64>()
            .map_err(|_| ApiError::invalid(name, "a number of degrees"))
    };
    let outcome = async {
        let new = NewDepot {
            code: form_value(&pairs, "code").into(),
            name: form_value(&pairs, "name").into(),
            region: form_value(&pairs, "region").into(),
            latitude: number("latitude")?,
            longitude: number("longitude")?,
            stock: stock_from(&pairs)?,
            organisation_id: None,
        };
        supplies::register_depot(&state, user, new).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/safety/supplies").into_response()),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            let error = form_error(error);
            Ok(form_page(
                &ctx,
                error.status(),
                ctx.pick("登记储备库", "Register a depot"),
                &depot_form(&ctx).fill(&pairs).with_error(&error),
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn depot_response(
    state: &AppState,
    ctx: &PageContext,
    code: &str,
    status: StatusCode,
    error: Option<(&ApiError, &[(String, String)])>,
) -> PageResult {
    let user = ctx.user()?;
    let depots = supplies::depots(state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let depot = depots
        .into_iter()
        .find(|d| d.code == code)
        .ok_or_else(|| ctx.error(ApiError::NotFound(format!("no depot {code}"))))?;
    let mut form = Form::new(
        ctx,
        &format!("/safety/supplies/depots/{}", urlencode(code)),
        ctx.pick("保存库存", "Save the count"),
        stock_fields(ctx, Some(&depot.stock)),
    );
    if let Some((error, pairs)) = error {
        form = form.fill(pairs).with_error(error);
    }
    let title = depot.name.clone();
    let body = format!(
        "<h1>{}</h1>{}<h2>{}</h2>{}<p><a href=\"/safety/supplies\">{}</a></p>",
        esc(&title),
        Summary {
            rows: vec![
                (ctx.pick("编号", "Code").to_string(), depot.code.clone()),
                (
                    ctx.pick("所在地区", "Region").to_string(),
                    depot.region.clone()
                ),
                (
                    ctx.pick("位置", "Position").to_string(),
                    format!("{:.4}, {:.4}", depot.latitude, depot.longitude),
                ),
            ],
        }
        .html(),
        esc(ctx.pick("盘点库存", "Count the stock")),
        form.html(),
        esc(ctx.pick("返回救灾物资", "Back to relief supplies")),
    );
    let mut response = ctx.render(&title, &body).into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn depot_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
) -> PageResult {
    depot_response(&state, &ctx, &code, StatusCode::OK, None).await
}

async fn stock_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let outcome = match stock_from(&pairs) {
        Ok(stock) => supplies::set_stock(&state, user, &code, StockCount { stock })
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/safety/supplies").into_response()),
        Err(error) if error.status() == StatusCode::BAD_REQUEST => {
            let error = form_error(error);
            depot_response(&state, &ctx, &code, error.status(), Some((&error, &pairs))).await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

fn routes_form(ctx: &PageContext, text: &str) -> Form {
    Form::new(
        ctx,
        "/safety/supplies/routes",
        ctx.pick("保存道路", "Save the roads"),
        vec![
            Field::of(
                "routes",
                ctx.pick(
                    "道路（每行：储备库编号,地区代码,运输分钟）",
                    "Roads (one a line: depot code,region code,minutes)",
                ),
                FieldKind::TextArea,
            )
            .hint(ctx.pick(
                "保存后取代原有的全部道路。没有道路的储备库到不了该地区。",
                "Saving replaces every road. A depot without a road to a region cannot supply it.",
            ))
            .value(text),
        ],
    )
}

async fn routes_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let routes = supplies::routes(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let text: Vec<String> = routes
        .routes
        .iter()
        .map(|r| format!("{},{},{}", r.depot, r.region, r.minutes))
        .collect();
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("运输道路", "Roads to the regions"),
        &routes_form(&ctx, &text.join("\n")),
    ))
}

/// Reads the routes text: one `depot,region,minutes` a line; blank lines are skipped.
fn routes_from(text: &str) -> Result<SupplyRoutes, ApiError> {
    let mut routes = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split([',', '，']).map(str::trim).collect();
        let [depot, region, minutes] = parts.as_slice() else {
            return Err(ApiError::invalid(
                "routes",
                format!("line {}: write depot code,region code,minutes", i + 1),
            ));
        };
        let minutes = minutes.parse::<f64>().map_err(|_| {
            ApiError::invalid(
                "routes",
                format!("line {}: {minutes} is not a number of minutes", i + 1),
            )
        })?;
        routes.push(SupplyRoute {
            depot: depot.to_string(),
            region: region.to_string(),
            minutes,
        });
    }
    Ok(SupplyRoutes { routes })
}

async fn routes_action(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let text = form_value(&pairs, "routes");
    let outcome = match routes_from(text) {
        Ok(routes) => supplies::set_routes(&state, user, routes).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/safety/supplies").into_response()),
        Err(error) if error.status() == StatusCode::BAD_REQUEST => {
            // The API names the route (routes[3].depot); the form has one field.
            let error = match error {
                ApiError::InvalidFields(errors) => ApiError::InvalidFields(
                    errors
                        .into_iter()
                        .map(|mut e| {
                            if let Some(rest) = e.field.strip_prefix("routes[") {
                                let n: usize = rest
                                    .split(']')
                                    .next()
                                    .and_then(|n| n.parse().ok())
                                    .unwrap_or(0);
                                e.detail =
                                    format!("{} {}: {}", ctx.pick("第", "route"), n + 1, e.detail);
                                e.field = "routes".into();
                            }
                            e
                        })
                        .collect(),
                ),
                other => other,
            };
            Ok(form_page(
                &ctx,
                error.status(),
                ctx.pick("运输道路", "Roads to the regions"),
                &routes_form(&ctx, text).with_error(&error),
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn plan_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let plan = supplies::plan(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("调配方案", "Allocation plan");
    let mut body = format!("<h1>{}</h1>", esc(title));
    let mut rows = vec![
        (
            ctx.pick("状态", "State").to_string(),
            plan_state_name(&ctx, plan.state).to_string(),
        ),
        (
            ctx.pick("预警时效", "Horizon").to_string(),
            format!("{} h", plan.horizon),
        ),
        (
            ctx.pick("计算时间", "Computed").to_string(),
            plan.created_at.rfc3339(),
        ),
        (
            ctx.pick("运输成本（件·分钟）", "Cost (unit-minutes)")
                .to_string(),
            format!("{:.0}", plan.cost),
        ),
    ];
    for s in Supply::ALL {
        rows.push((
            supply_name(&ctx, s),
            format!(
                "{} {} / {} {}",
                ctx.pick("需求", "need"),
                plan.total_need.get(&s).copied().unwrap_or(0),
                ctx.pick("未满足", "unmet"),
                plan.total_unmet.get(&s).copied().unwrap_or(0)
            ),
        ));
    }
    body.push_str(&Summary { rows }.html());
    if plan.state == PlanState::Proposed {
        body.push_str(&post_button(
            &ctx,
            &format!("/safety/supplies/plans/{}/dispatch", plan.id),
            ctx.pick("按此方案调运", "Dispatch this plan"),
            false,
        ));
    }
    let mut headers = vec![
        ctx.pick("地区", "Region").to_string(),
        ctx.pick("等级", "Level").to_string(),
        ctx.pick("受影响人数", "Affected").to_string(),
    ];
    headers.extend(supply_headers(&ctx));
    let rows = plan
        .regions
        .iter()
        .map(|r| {
            let mut row = vec![
                Cell::from(r.name.clone()),
                Cell::from(level_name(&ctx, r.level).to_string()),
                Cell::from(format!("{} / {}", r.affected, r.residents)),
            ];
            row.extend(Supply::ALL.into_iter().map(|s| {
                let need = r.need.get(&s).copied().unwrap_or(0);
                match r.unmet.get(&s) {
                    Some(short) => {
                        Cell::from(format!("{need}（{}{short}）", ctx.pick("缺", "short ")))
                    }
                    None => Cell::from(need.to_string()),
                }
            }));
            row
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx
                .pick("各地区需求与缺口", "Need and shortfall by region")
                .into(),
            headers,
            rows,
            empty: ctx
                .pick("没有处于预警中的地区。", "No region is under a warning.")
                .into(),
        }
        .html(),
    );
    let rows = plan
        .shipments
        .iter()
        .map(|s| {
            vec![
                Cell::from(s.depot_name.clone()),
                Cell::from(s.region_name.clone()),
                Cell::from(supply_name(&ctx, s.supply)),
                Cell::from(s.quantity.to_string()),
                Cell::from(format!("{:.0}", s.minutes)),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("运输批次", "Shipments").into(),
            headers: vec![
                ctx.pick("从储备库", "From").into(),
                ctx.pick("到地区", "To").into(),
                ctx.pick("物资", "Supply").into(),
                ctx.pick("数量", "Quantity").into(),
                ctx.pick("运输分钟", "Minutes").into(),
            ],
            rows,
            empty: ctx
                .pick("没有可调运的物资。", "Nothing can be shipped.")
                .into(),
        }
        .html(),
    );
    body.push_str(&format!(
        "<p><a href=\"/safety/supplies\">{}</a></p>",
        esc(ctx.pick("返回救灾物资", "Back to relief supplies"))
    ));
    Ok(ctx.render(title, &body))
}

async fn dispatch_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    supplies::dispatch(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/safety/supplies/plans/{id}")).into_response())
}

//! The safety pages: the monitoring stations with their latest readings (public: a
//! resident watching a river rise can look), one station's readings, registering a
//! station (its department's administrator), and the refused readings (staff).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use kernel::AppState;
use kernel::auth::Principal;
use kernel::error::ApiError;
use kernel::pages::{NavItem, PageContext, PageResult, urlencode};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, form_page, form_pairs,
    form_value,
};

use crate::model::*;
use crate::service;

mod supplies;
mod targeting;

/// The safety page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(targeting::router())
        .merge(supplies::router())
        .route("/safety/stations", get(stations_page))
        .route(
            "/safety/stations/new",
            get(new_station_page).post(create_station),
        )
        .route("/safety/stations/{code}", get(station_page))
        .route("/safety/rejections", get(rejections_page))
        .route("/safety/map", get(map_page))
        .route("/safety/risk", get(risk_page))
        .route("/safety/risk/assess", axum::routing::post(assess_action))
        .route("/safety/warnings", get(warnings_page))
        .route(
            "/safety/warnings/recompute",
            axum::routing::post(recompute_action),
        )
        .route(
            "/safety/forecasts/new",
            get(new_forecasts_page).post(import_forecasts_action),
        )
        .route("/safety/alerts", get(alerts_page))
        .route(
            "/safety/alerts/new",
            get(new_alert_page).post(draft_alert_action),
        )
        .route(
            "/safety/alerts/import",
            get(import_cap_page).post(import_cap_action),
        )
        .route("/safety/alerts/{id}", get(alert_page))
        .route(
            "/safety/alerts/{id}/approve",
            axum::routing::post(approve_alert_action),
        )
        .route(
            "/safety/alerts/{id}/issue",
            axum::routing::post(issue_alert_action),
        )
        .route(
            "/safety/alerts/{id}/update",
            get(update_alert_page).post(update_alert_action),
        )
        .route(
            "/safety/alerts/{id}/cancel",
            get(cancel_alert_page).post(cancel_alert_action),
        )
}

fn is_staff(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.is_platform_admin() || p.organisation_id().is_some())
}

/// The safety navigation.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/safety/stations",
            zh: "监测站点",
            en: "Monitoring stations",
            visible: is_staff,
        },
        NavItem {
            href: "/safety/warnings",
            zh: "风险预警",
            en: "Risk warnings",
            visible: is_staff,
        },
        NavItem {
            href: "/safety/supplies",
            zh: "救灾物资",
            en: "Relief supplies",
            visible: is_staff,
        },
        NavItem {
            href: "/safety/alerts",
            zh: "预警信息",
            en: "Public alerts",
            visible: |_| true,
        },
        NavItem {
            href: "/me/location",
            zh: "位置共享",
            en: "Location sharing",
            visible: |p| p.is_some_and(|p| p.person_id.is_some() && p.acting_for.is_none()),
        },
    ]
}

fn kind_name(ctx: &PageContext, kind: StationKind) -> String {
    let (zh, en) = kind.names();
    ctx.pick(zh, en).to_string()
}

/// A reading with its unit, and how it stands against the station's levels.
fn reading_text(ctx: &PageContext, s: &Station, value: f64) -> String {
    let over = match (s.guarantee_level, s.warning_level) {
        (Some(g), _) if value >= g => ctx.pick("（超保证）", " (over guaranteed level)"),
        (_, Some(w)) if value >= w => ctx.pick("（超警戒）", " (over warning level)"),
        _ => "",
    };
    format!("{value} {}{over}", s.unit)
}

async fn stations_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let all = service::stations(&state, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("监测站点", "Monitoring stations");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "各部门的雨量、水位、风速、地质位移、气温和空气质量监测站点及其最新读数。读数超过警戒水位的站点会标出。",
            "Every department's rain, water level, wind, ground movement, temperature and air quality stations with their latest readings. Stations over their warning level are marked."
        ))
    ));
    body.push_str(&format!(
        "<p><a href=\"/safety/map\">{}</a></p>",
        esc(ctx.pick("监测站点分布图", "Map of the monitoring stations"))
    ));
    if is_staff(ctx.user.as_ref()) {
        body.push_str(&format!(
            "<p><a href=\"/safety/rejections\">{}</a></p>",
            esc(ctx.pick("被拒收的读数", "Refused readings"))
        ));
    }
    if ctx
        .user
        .as_ref()
        .is_some_and(|u| u.is_platform_admin() || u.has_role(kernel::auth::Role::OrgAdmin))
    {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/safety/stations/new\">{}</a></p>",
            esc(ctx.pick("登记监测站点", "Register a station"))
        ));
    }
    let rows = all
        .iter()
        .map(|s| {
            vec![
                Cell::link(
                    format!("{} {}", s.code, s.name),
                    format!("/safety/stations/{}", urlencode(&s.code)),
                ),
                Cell::from(kind_name(&ctx, s.kind)),
                Cell::from(s.region.clone()),
                Cell::from(
                    s.last_value
                        .map(|v| reading_text(&ctx, s, v))
                        .unwrap_or_else(|| ctx.pick("暂无读数", "no reading yet").into()),
                ),
                Cell::from(s.last_observed_at.map(|t| t.short()).unwrap_or_default()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: title.into(),
            headers: [
                ctx.pick("站点", "Station"),
                ctx.pick("类型", "Kind"),
                ctx.pick("所在区划", "Region"),
                ctx.pick("最新读数", "Latest reading"),
                ctx.pick("读数时间", "Measured at"),
            ]
            .map(String::from)
            .to_vec(),
            rows,
            empty: ctx
                .pick("还没有登记监测站点。", "No station is registered yet.")
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

async fn station_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
) -> PageResult {
    let s = service::station(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let readings = service::readings(&state, &code, &ObservationQuery::default())
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!("{} {}", s.code, s.name);
    let mut body = format!("<h1>{}</h1>", esc(&title));
    let level = |v: Option<f64>| {
        v.map(|v| format!("{v} {}", s.unit))
            .unwrap_or_else(|| ctx.pick("未设", "none").into())
    };
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("类型", "Kind").into(), kind_name(&ctx, s.kind)),
                (ctx.pick("单位", "Unit").into(), s.unit.clone()),
                (ctx.pick("所在区划", "Region").into(), s.region.clone()),
                (
                    ctx.pick("位置", "Location").into(),
                    format!("{:.5}, {:.5}", s.latitude, s.longitude),
                ),
                (
                    ctx.pick("警戒水位", "Warning level").into(),
                    level(s.warning_level),
                ),
                (
                    ctx.pick("保证水位", "Guaranteed level").into(),
                    level(s.guarantee_level),
                ),
            ],
        }
        .html(),
    );
    let rows = readings
        .iter()
        .map(|r| {
            vec![
                Cell::from(r.observed_at.short()),
                Cell::from(reading_text(&ctx, &s, r.value)),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx
                .pick("最近 48 小时读数", "Readings of the last 48 hours")
                .into(),
            headers: vec![
                ctx.pick("读数时间", "Measured at").into(),
                ctx.pick("读数", "Reading").into(),
            ],
            rows,
            empty: ctx
                .pick("最近 48 小时没有读数。", "No reading in the last 48 hours.")
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(&title, &body))
}

fn station_form(ctx: &PageContext) -> Form {
    let kinds = STATION_KINDS
        .iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                format!("{}（{}）", kind_name(ctx, *k), k.unit()),
            )
        })
        .collect();
    Form::new(
        ctx,
        "/safety/stations/new",
        ctx.pick("登记", "Register"),
        vec![
            Field::text("code", ctx.pick("站点编码", "Station code")).hint(ctx.pick(
                "2–40 位字母、数字、- 或 _，读数和 MQTT 主题用它指明站点",
                "2–40 letters, digits, - or _: readings and MQTT topics name the station by it",
            )),
            Field::text("name", ctx.pick("站点名称", "Name")),
            Field::of("kind", ctx.pick("类型", "Kind"), FieldKind::Select(kinds)),
            Field::text("region", ctx.pick("所在区划代码", "Region code"))
                .hint(ctx.pick("12 位区划代码", "12-digit region code")),
            Field::text("latitude", ctx.pick("纬度", "Latitude")),
            Field::text("longitude", ctx.pick("经度", "Longitude")),
            Field::text(
                "warning_level",
                ctx.pick("警戒水位（可不填）", "Warning level (optional)"),
            ),
            Field::text(
                "guarantee_level",
                ctx.pick("保证水位（可不填）", "Guaranteed level (optional)"),
            ),
        ],
    )
}

fn require_org_admin(ctx: &PageContext) -> Result<&Principal, axum::response::Response> {
    let user = ctx.user()?;
    if user.is_platform_admin() || user.has_role(kernel::auth::Role::OrgAdmin) {
        Ok(user)
    } else {
        Err(ctx.error(ApiError::Forbidden(
            ctx.pick(
                "只有部门管理员可以登记监测站点。",
                "Only a department's administrator can register a station.",
            )
            .into(),
        )))
    }
}

async fn new_station_page(ctx: PageContext) -> PageResult {
    require_org_admin(&ctx)?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("登记监测站点", "Register a station"),
        &station_form(&ctx),
    ))
}

/// A number from a form field, named on failure; empty is none when `optional`.
fn number(pairs: &[(String, String)], name: &str, optional: bool) -> Result<Option<f64>, ApiError> {
    let text = form_value(pairs, name).trim();
    if text.is_empty() && optional {
        return Ok(None);
    }
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| ApiError::invalid(name, format!("{name} is a number")))
}

async fn create_station(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = require_org_admin(&ctx)?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let title = ctx.pick("登记监测站点", "Register a station");
    let result = async {
        let new = NewStation {
            code: form_value(&pairs, "code").into(),
            name: form_value(&pairs, "name").into(),
            kind: form_value(&pairs, "kind").into(),
            region: form_value(&pairs, "region").into(),
            latitude: number(&pairs, "latitude", false)?.unwrap_or_default(),
            longitude: number(&pairs, "longitude", false)?.unwrap_or_default(),
            organisation_id: None,
            warning_level: number(&pairs, "warning_level", true)?,
            guarantee_level: number(&pairs, "guarantee_level", true)?,
        };
        service::register_station(&state, user, new).await
    }
    .await;
    match result {
        Ok(s) => {
            Ok(Redirect::to(&format!("/safety/stations/{}", urlencode(&s.code))).into_response())
        }
        Err(error) if error.status().is_client_error() => Ok(form_page(
            &ctx,
            error.status(),
            title,
            &station_form(&ctx).fill(&pairs).with_error(&error),
        )),
        Err(error) => Err(ctx.error(error)),
    }
}

async fn rejections_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let counts = service::rejections(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("被拒收的读数", "Refused readings");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "不存在的站点、单位不符、超出仪器量程、时间无法解析或超前的读数不会入库，按站点和原因计数，便于排查设备故障。",
            "Readings for unknown stations, in the wrong unit, beyond what the instrument can read, with a bad time or from the future are not stored: they are counted here by station and reason, to find faulty loggers."
        ))
    ));
    let reason = |r: Rejection| match r {
        Rejection::UnknownStation => ctx.pick("站点不存在", "unknown station"),
        Rejection::NotYourStation => ctx.pick("非本部门站点", "another department's station"),
        Rejection::UnitMismatch => ctx.pick("单位不符", "unit mismatch"),
        Rejection::OutOfRange => ctx.pick("超出量程", "out of range"),
        Rejection::BadTime => ctx.pick("时间无法解析", "bad time"),
        Rejection::InTheFuture => ctx.pick("时间超前", "in the future"),
        Rejection::BadPayload => ctx.pick("消息格式错误", "not a reading"),
    };
    let rows = counts
        .iter()
        .map(|c| {
            vec![
                Cell::from(c.station.clone()),
                Cell::from(reason(c.reason)),
                Cell::from(c.count.to_string()),
                Cell::from(c.last_at.short()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: title.into(),
            headers: [
                ctx.pick("站点编码", "Station code"),
                ctx.pick("原因", "Reason"),
                ctx.pick("次数", "Count"),
                ctx.pick("最近一次", "Latest"),
            ]
            .map(String::from)
            .to_vec(),
            rows,
            empty: ctx
                .pick("没有被拒收的读数。", "No reading has been refused.")
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

/// The map of areas and stations as SVG, labelled in `lang`.
pub async fn map_svg(state: &AppState, lang: kernel::pages::Lang) -> Result<String, ApiError> {
    let areas = service::areas(state).await?;
    let stations = service::stations(state, None).await?;
    let labels = crate::map::MapLabels {
        title: lang.pick("监测站点分布图", "Map of the monitoring stations"),
        legend: crate::map::station_legend([
            lang.pick("暂无读数", "no reading"),
            lang.pick("正常", "normal"),
            lang.pick("超警戒", "over warning level"),
            lang.pick("超保证", "over guaranteed level"),
        ]),
    };
    Ok(crate::map::svg(
        &areas,
        &crate::map::Shading::new(),
        &stations,
        &labels,
    ))
}

async fn map_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let svg = map_svg(&state, ctx.lang).await.map_err(|e| ctx.error(e))?;
    let stations = service::stations(&state, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("监测站点分布图", "Map of the monitoring stations");
    let mut body = format!("<h1>{}</h1>", esc(title));
    if svg.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "还没有导入区划范围（GeoJSON）。",
                "No region's area (GeoJSON) has been imported yet."
            ))
        ));
    } else {
        body.push_str(&format!("<figure class=\"map\">{svg}</figure>"));
    }
    // The map's content as text: the stations over a level.
    let rows = stations
        .iter()
        .filter_map(|s| {
            let v = s.last_value?;
            let over = s.warning_level.is_some_and(|w| v >= w);
            over.then(|| {
                vec![
                    Cell::link(
                        format!("{} {}", s.code, s.name),
                        format!("/safety/stations/{}", urlencode(&s.code)),
                    ),
                    Cell::from(s.region.clone()),
                    Cell::from(reading_text(&ctx, s, v)),
                ]
            })
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx
                .pick("超过警戒水位的站点", "Stations over their warning level")
                .into(),
            headers: vec![
                ctx.pick("站点", "Station").into(),
                ctx.pick("所在区划", "Region").into(),
                ctx.pick("最新读数", "Latest reading").into(),
            ],
            rows,
            empty: ctx
                .pick(
                    "没有站点超过警戒水位。",
                    "No station is over its warning level.",
                )
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

fn level_name(lang: kernel::pages::Lang, level: RiskLevel) -> &'static str {
    let (zh, en) = level.names();
    lang.pick(zh, en)
}

/// The five-colour legend.
fn level_legend(lang: kernel::pages::Lang) -> Vec<(crate::map::LegendMark, &'static str, String)> {
    RISK_LEVELS
        .iter()
        .map(|l| {
            (
                crate::map::LegendMark::Swatch,
                l.colour(),
                level_name(lang, *l).to_string(),
            )
        })
        .collect()
}

/// The five-colour map of the latest static assessment (empty without areas).
pub async fn risk_svg(state: &AppState, lang: kernel::pages::Lang) -> Result<String, ApiError> {
    let areas = service::areas(state).await?;
    let assessment = service::assessment(state).await?;
    let regions = assessment.map(|a| a.regions).unwrap_or_default();
    let shading: crate::map::Shading = regions
        .iter()
        .map(|r| {
            (
                r.region.as_str(),
                (
                    r.level.colour(),
                    format!("{} {:.1}", level_name(lang, r.level), r.score),
                ),
            )
        })
        .collect();
    let labels = crate::map::MapLabels {
        title: lang.pick(
            "五色风险图（静态评估）",
            "Five-colour risk map (static assessment)",
        ),
        legend: level_legend(lang),
    };
    Ok(crate::map::svg(&areas, &shading, &[], &labels))
}

/// One horizon's levels on the map (empty without areas).
pub async fn warnings_svg(
    state: &AppState,
    lang: kernel::pages::Lang,
    horizon: u32,
) -> Result<String, ApiError> {
    let areas = service::areas(state).await?;
    let warnings = service::warnings(state, horizon).await?;
    let shading: crate::map::Shading = warnings
        .iter()
        .map(|w| {
            (
                w.region.as_str(),
                (w.level.colour(), level_name(lang, w.level).to_string()),
            )
        })
        .collect();
    let title = match lang {
        kernel::pages::Lang::En => format!("Risk levels for the next {horizon} hours"),
        _ => format!("未来 {horizon} 小时风险等级"),
    };
    let labels = crate::map::MapLabels {
        title: &title,
        legend: level_legend(lang),
    };
    Ok(crate::map::svg(&areas, &shading, &[], &labels))
}

/// A button posting to `action` with the page's CSRF token.
fn post_button(ctx: &PageContext, action: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\" class=\"field\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\" class=\"button\">{}</button></form>",
        esc(&ctx.csrf),
        esc(label)
    )
}

async fn is_duty(state: &AppState, ctx: &PageContext) -> bool {
    match ctx.user.as_ref() {
        Some(p) => service::require_duty(state, p).await.is_ok(),
        None => false,
    }
}

async fn risk_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let svg = risk_svg(&state, ctx.lang).await.map_err(|e| ctx.error(e))?;
    let assessment = service::assessment(&state)
        .await
        .map_err(|e| ctx.error(e))?;
    let method = service::method(&state).await.map_err(|e| ctx.error(e))?;
    let shelters = service::shelters(&state).await.map_err(|e| ctx.error(e))?;
    let title = ctx.pick("五色风险图", "Five-colour risk map");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(&match ctx.lang {
            kernel::pages::Lang::En => format!(
                "Each region's static risk: score = 100 × hazard × ({:.0}% exposure + {:.0}% vulnerability) × (1 − {:.0}% × capacity). Exposure is its population against the most populous region's; vulnerability its share of residents aged {} or over or on a vulnerable list, against the highest share; capacity its shelter places against {:.0}% of its residents. Blue from {}, yellow from {}, orange from {}, red from {}.",
                method.exposure_weight * 100.0,
                method.vulnerability_weight * 100.0,
                method.capacity_relief * 100.0,
                method.elderly_age,
                method.shelter_share * 100.0,
                method.cuts[0],
                method.cuts[1],
                method.cuts[2],
                method.cuts[3]
            ),
            _ => format!(
                "各区域的静态风险：得分 = 100 × 致灾危险性 × （{:.0}% 暴露度 + {:.0}% 脆弱性）×（1 − {:.0}% × 应对能力）。暴露度为人口与人口最多区域之比；脆弱性为 {} 周岁以上或列入重点人群的居民占比与最高占比之比；应对能力为避难场所容量与 {:.0}% 居民之比。{} 分起为蓝色，{} 分起黄色，{} 分起橙色，{} 分起红色。",
                method.exposure_weight * 100.0,
                method.vulnerability_weight * 100.0,
                method.capacity_relief * 100.0,
                method.elderly_age,
                method.shelter_share * 100.0,
                method.cuts[0],
                method.cuts[1],
                method.cuts[2],
                method.cuts[3]
            ),
        })
    ));
    body.push_str(&format!(
        "<p><a href=\"/safety/warnings\">{}</a> · <a href=\"/api/v1/safety/risk/map.geojson\">GeoJSON</a></p>",
        esc(ctx.pick("动态风险预警（未来 3/6/24/48 小时）", "Dynamic warnings (next 3/6/24/48 hours)"))
    ));
    if is_duty(&state, &ctx).await {
        body.push_str(&post_button(
            &ctx,
            "/safety/risk/assess",
            ctx.pick("按当前数据重新评估", "Assess again with today's figures"),
        ));
    }
    let Some(assessment) = assessment else {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick("还没有做过评估。", "No assessment has been made yet."))
        ));
        return Ok(ctx.render(title, &body));
    };
    if !svg.is_empty() {
        body.push_str(&format!("<figure class=\"map\">{svg}</figure>"));
    }
    body.push_str(&format!(
        "<p>{} {}</p>",
        esc(ctx.pick("评估时间", "Assessed")),
        esc(&assessment.assessed_at.short()),
    ));
    // The figures behind the colours (residents counted per region) are for staff.
    if !is_staff(ctx.user.as_ref()) {
        body.push_str(&shelters_table(&ctx, &shelters));
        return Ok(ctx.render(title, &body));
    }
    let rows = assessment
        .regions
        .iter()
        .map(|r| {
            vec![
                Cell::from(format!("{} {}", r.region, r.name)),
                Cell::from(level_name(ctx.lang, r.level).to_string()),
                Cell::from(format!("{:.1}", r.score)),
                Cell::from(match &r.hazard_basis {
                    Some(b) => format!("{:.2}（{b}）", r.hazard),
                    None => ctx.pick("未录入", "not recorded").to_string(),
                }),
                Cell::from(r.population.to_string()),
                Cell::from(format!(
                    "{}（{:.0}%）",
                    r.vulnerable,
                    if r.population > 0 {
                        r.vulnerable as f64 * 100.0 / r.population as f64
                    } else {
                        0.0
                    }
                )),
                Cell::from(format!(
                    "{}（{:.0}%）",
                    r.shelter_places,
                    r.capacity * 100.0
                )),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("各区域风险等级", "Each region's level").into(),
            headers: vec![
                ctx.pick("区域", "Region").into(),
                ctx.pick("等级", "Level").into(),
                ctx.pick("得分", "Score").into(),
                ctx.pick("致灾危险性", "Hazard").into(),
                ctx.pick("人口", "Residents").into(),
                ctx.pick("老人和重点人群", "Elderly or vulnerable").into(),
                ctx.pick("避难容量（应对能力）", "Shelter places (capacity)")
                    .into(),
            ],
            rows,
            empty: ctx
                .pick("地图上没有区域。", "No region is on the map.")
                .into(),
        }
        .html(),
    );
    body.push_str(&shelters_table(&ctx, &shelters));
    Ok(ctx.render(title, &body))
}

/// The shelters as a table (public: residents need to know where to go).
fn shelters_table(ctx: &PageContext, shelters: &[Shelter]) -> String {
    let rows = shelters
        .iter()
        .map(|s| {
            vec![
                Cell::from(format!("{} {}", s.code, s.name)),
                Cell::from(s.region.clone()),
                Cell::from(s.capacity.to_string()),
            ]
        })
        .collect();
    Table {
        caption: ctx.pick("避难场所", "Shelters").into(),
        headers: vec![
            ctx.pick("场所", "Shelter").into(),
            ctx.pick("所在区划", "Region").into(),
            ctx.pick("容纳人数", "Takes").into(),
        ],
        rows,
        empty: ctx
            .pick("还没有登记避难场所。", "No shelter is registered.")
            .into(),
    }
    .html()
}

async fn assess_action(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    service::assess(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/safety/risk").into_response())
}

/// Which horizon a page shows.
#[derive(serde::Deserialize)]
struct HorizonQuery {
    horizon: Option<u32>,
}

async fn warnings_page(
    State(state): State<AppState>,
    ctx: PageContext,
    axum::extract::Query(q): axum::extract::Query<HorizonQuery>,
) -> PageResult {
    let horizon = service::horizon_of(q.horizon).map_err(|e| ctx.error(e))?;
    let svg = warnings_svg(&state, ctx.lang, horizon)
        .await
        .map_err(|e| ctx.error(e))?;
    let warnings = service::warnings(&state, horizon)
        .await
        .map_err(|e| ctx.error(e))?;
    let changes = service::changes(&state, 24)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("风险预警", "Risk warnings");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "按阈值规则，由各站点的最新读数和导入的预报计算每个区域未来 3、6、24、48 小时的风险等级；有新数据时自动重算。每个等级都说明是哪条规则、哪个站点、哪些数字。",
            "Each region's level for the next 3, 6, 24 and 48 hours, computed by the threshold rules from the stations' latest readings and the imported forecasts, and recomputed when data arrives. Each level says which rule, which station and which figures raised it."
        ))
    ));
    let links: Vec<String> = HORIZONS
        .iter()
        .map(|h| {
            let label = match ctx.lang {
                kernel::pages::Lang::En => format!("next {h} hours"),
                _ => format!("未来 {h} 小时"),
            };
            let current = if *h == horizon {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!(
                "<a href=\"/safety/warnings?horizon={h}\"{current}>{}</a>",
                esc(&label)
            )
        })
        .collect();
    body.push_str(&format!(
        "<nav aria-label=\"{}\"><p>{}</p></nav>",
        esc(ctx.pick("预警时段", "Horizon")),
        links.join(" · ")
    ));
    body.push_str(&format!(
        "<p><a href=\"/safety/risk\">{}</a> · <a href=\"/api/v1/safety/warnings/map.geojson?horizon={horizon}\">GeoJSON</a></p>",
        esc(ctx.pick("五色风险图（静态评估）", "Five-colour risk map (static assessment)"))
    ));
    if is_duty(&state, &ctx).await {
        body.push_str(&format!(
            "<p><a href=\"/safety/forecasts/new\">{}</a></p>",
            esc(ctx.pick("导入降雨预报（CSV）", "Import rainfall forecasts (CSV)"))
        ));
        body.push_str(&post_button(
            &ctx,
            "/safety/warnings/recompute",
            ctx.pick("立即重新计算", "Recompute now"),
        ));
    }
    if svg.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "还没有导入区划范围（GeoJSON）。",
                "No region's area (GeoJSON) has been imported yet."
            ))
        ));
    } else {
        body.push_str(&format!("<figure class=\"map\">{svg}</figure>"));
    }
    if let Some(w) = warnings.first() {
        body.push_str(&format!(
            "<p>{} {} · {} {}</p>",
            esc(ctx.pick("数据截至", "Data as of")),
            esc(&w.as_of.short()),
            esc(ctx.pick("计算于", "computed")),
            esc(&w.computed_at.short())
        ));
    }
    let zh = !matches!(ctx.lang, kernel::pages::Lang::En);
    let rows = warnings
        .iter()
        .map(|w| {
            let reasons = if w.reasons.is_empty() {
                ctx.pick("没有规则达到", "No rule is met").to_string()
            } else {
                w.reasons
                    .iter()
                    .map(|r| crate::risk::sentence(r, zh))
                    .collect::<Vec<_>>()
                    .join("；")
            };
            vec![
                Cell::from(format!("{} {}", w.region, w.name)),
                Cell::from(level_name(ctx.lang, w.level).to_string()),
                Cell::from(reasons),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: match ctx.lang {
                kernel::pages::Lang::En => format!("Levels for the next {horizon} hours"),
                _ => format!("未来 {horizon} 小时各区域风险等级"),
            },
            headers: vec![
                ctx.pick("区域", "Region").into(),
                ctx.pick("等级", "Level").into(),
                ctx.pick("依据", "Why").into(),
            ],
            rows,
            empty: ctx
                .pick("还没有计算过预警。", "No warning has been computed yet.")
                .into(),
        }
        .html(),
    );
    let rows = changes
        .iter()
        .map(|c| {
            vec![
                Cell::from(c.changed_at.short()),
                Cell::from(format!("{} {}", c.region, c.name)),
                Cell::from(match ctx.lang {
                    kernel::pages::Lang::En => format!("{} h", c.horizon_hours),
                    _ => format!("{} 小时", c.horizon_hours),
                }),
                Cell::from(format!(
                    "{} → {}",
                    level_name(ctx.lang, c.from),
                    level_name(ctx.lang, c.to)
                )),
                Cell::from(c.residents_notified.to_string()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx
                .pick("最近 24 小时的变化", "What changed in the last 24 hours")
                .into(),
            headers: vec![
                ctx.pick("时间", "When").into(),
                ctx.pick("区域", "Region").into(),
                ctx.pick("时段", "Horizon").into(),
                ctx.pick("等级变化", "Change").into(),
                ctx.pick("已通知居民", "Residents told").into(),
            ],
            rows,
            empty: ctx
                .pick(
                    "最近 24 小时没有变化。",
                    "Nothing changed in the last 24 hours.",
                )
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

async fn recompute_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    service::recompute(&state).await.map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/safety/warnings").into_response())
}

fn forecasts_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/safety/forecasts/new",
        ctx.pick("导入", "Import"),
        vec![
            Field::of("csv", ctx.pick("预报（CSV）", "Forecasts (CSV)"), FieldKind::TextArea).hint(
                ctx.pick(
                    "第一行为列名 region,horizon_hours,rain_mm（可加 issued_at）：区划代码、预报时段（3、6、24 或 48 小时）、该时段累计雨量（毫米）。",
                    "The first line names the columns region,horizon_hours,rain_mm (and issued_at): region code, horizon (3, 6, 24 or 48 hours), rain over it (mm).",
                ),
            ),
        ],
    )
}

async fn new_forecasts_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("导入降雨预报", "Import rainfall forecasts"),
        &forecasts_form(&ctx),
    ))
}

async fn import_forecasts_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let title = ctx.pick("导入降雨预报", "Import rainfall forecasts");
    match service::import_forecasts(&state, user, form_value(&pairs, "csv")).await {
        Ok(_) => Ok(Redirect::to("/safety/warnings").into_response()),
        Err(error) if error.status().is_client_error() => Ok(form_page(
            &ctx,
            error.status(),
            title,
            &forecasts_form(&ctx).fill(&pairs).with_error(&error),
        )),
        Err(error) => Err(ctx.error(error)),
    }
}

// ---- CAP alerts ----

use crate::cap::model::{Area, Category, Certainty, Info, NamedValue, Severity, Urgency};

fn alert_state_name(ctx: &PageContext, state: AlertState) -> &'static str {
    match state {
        AlertState::Draft => ctx.pick("草稿（待审核）", "Draft (awaiting approval)"),
        AlertState::Approved => ctx.pick("已审核（待发布）", "Approved (ready to issue)"),
        AlertState::Issued => ctx.pick("已发布", "Issued"),
        AlertState::Received => ctx.pick("已接收（外部）", "Received (other authority)"),
        AlertState::Superseded => ctx.pick("已被更新取代", "Superseded by an update"),
        AlertState::Cancelled => ctx.pick("已解除", "Cancelled"),
    }
}

fn severity_name(ctx: &PageContext, severity: Severity) -> &'static str {
    match severity {
        Severity::Extreme => ctx.pick("特别严重", "Extreme"),
        Severity::Severe => ctx.pick("严重", "Severe"),
        Severity::Moderate => ctx.pick("较重", "Moderate"),
        Severity::Minor => ctx.pick("一般", "Minor"),
        Severity::Unknown => ctx.pick("未知", "Unknown"),
    }
}

fn headline_of(ctx: &PageContext, r: &AlertRecord) -> String {
    let lang = ctx.pick("zh", "en");
    let info = r
        .alert
        .info
        .iter()
        .find(|i| i.language.as_deref().is_some_and(|l| l.starts_with(lang)))
        .or(r.alert.info.first());
    match info {
        Some(i) => i.title().to_string(),
        None => format!(
            "{} {}",
            r.alert.msg_type.as_str(),
            r.alert.note.clone().unwrap_or_default()
        ),
    }
}

async fn alerts_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let title = ctx.pick("预警信息", "Public alerts");
    let records = service::alerts(&state, ctx.user.as_ref(), None)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{} <a href=\"/api/v1/safety/cap/feed.atom\">Atom</a> · <a href=\"/api/v1/safety/cap/feed.rss\">RSS</a></p>",
        esc(ctx.pick("订阅：", "Subscribe:"))
    ));
    if is_duty(&state, &ctx).await {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/safety/alerts/new\">{}</a> <a href=\"/safety/alerts/import\">{}</a></p>",
            esc(ctx.pick("起草预警", "Draft an alert")),
            esc(ctx.pick("导入其他机构的 CAP 预警", "Import another authority's CAP alert"))
        ));
    }
    let rows = records
        .iter()
        .map(|r| {
            vec![
                Cell::link(headline_of(&ctx, r), format!("/safety/alerts/{}", r.id)),
                Cell::from(
                    r.alert
                        .info
                        .first()
                        .map(|i| severity_name(&ctx, i.severity))
                        .unwrap_or("—")
                        .to_string(),
                ),
                Cell::from(alert_state_name(&ctx, r.state).to_string()),
                Cell::from(r.alert.sender.clone()),
                Cell::from(r.issued_at.unwrap_or(r.created_at).short()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("最新的预警在前", "Newest first").into(),
            headers: vec![
                ctx.pick("预警", "Alert").into(),
                ctx.pick("严重程度", "Severity").into(),
                ctx.pick("状态", "State").into(),
                ctx.pick("发布机构", "Sender").into(),
                ctx.pick("时间", "When").into(),
            ],
            rows,
            empty: ctx.pick("目前没有预警。", "There are no alerts.").into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

fn code_options<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (name(*v).to_string(), name(*v).to_string()))
        .collect()
}

fn alert_form(ctx: &PageContext, action: &str) -> Form {
    Form::new(
        ctx,
        action,
        ctx.pick(
            "保存草稿（交另一名值班员审核）",
            "Save the draft (a second officer approves it)",
        ),
        vec![
            Field::text("event", ctx.pick("事件（中文）", "Event (Chinese)"))
                .hint(ctx.pick("例如：暴雨、洪水、台风", "e.g. 暴雨 (rainstorm)")),
            Field::of(
                "category",
                ctx.pick("类别", "Category"),
                FieldKind::Select(code_options(Category::ALL, Category::as_str)),
            )
            .value("Met"),
            Field::of(
                "severity",
                ctx.pick("严重程度", "Severity"),
                FieldKind::Select(code_options(Severity::ALL, Severity::as_str)),
            )
            .value("Severe"),
            Field::of(
                "urgency",
                ctx.pick("紧迫程度", "Urgency"),
                FieldKind::Select(code_options(Urgency::ALL, Urgency::as_str)),
            )
            .value("Expected"),
            Field::of(
                "certainty",
                ctx.pick("确定程度", "Certainty"),
                FieldKind::Select(code_options(Certainty::ALL, Certainty::as_str)),
            )
            .value("Likely"),
            Field::text("headline", ctx.pick("标题（中文）", "Headline (Chinese)")),
            Field::of(
                "description",
                ctx.pick("情况说明（中文）", "What is happening (Chinese)"),
                FieldKind::TextArea,
            ),
            Field::of(
                "instruction",
                ctx.pick("应对建议（中文）", "What to do (Chinese)"),
                FieldKind::TextArea,
            ),
            Field::text("area_desc", ctx.pick("影响区域（文字）", "Area, in words")),
            Field::text("regions", ctx.pick("区划代码", "Region codes")).hint(ctx.pick(
                "以空格分隔的区划代码（GB/T 2260 及以下），例如 990102001001",
                "Region codes separated by spaces, e.g. 990102001001",
            )),
            Field::of(
                "polygon",
                ctx.pick("多边形（可选）", "Polygon (optional)"),
                FieldKind::TextArea,
            )
            .hint(ctx.pick(
                "“纬度,经度”对，以空格分隔，首尾相同，至少四对",
                "\"lat,lon\" pairs separated by spaces, the first repeated last, at least four",
            )),
            Field::text("circle", ctx.pick("圆形区域（可选）", "Circle (optional)")).hint(
                ctx.pick(
                    "“纬度,经度 半径公里”，例如 30.05,114.05 8",
                    "\"lat,lon radius-km\", e.g. 30.05,114.05 8",
                ),
            ),
            Field::text(
                "expires_hours",
                ctx.pick("有效时长（小时）", "In force for (hours)"),
            )
            .value("24"),
            Field::text(
                "event_en",
                ctx.pick("事件（英文，可选）", "Event (English, optional)"),
            )
            .hint(ctx.pick(
                "填写后将附上英文信息块",
                "Filled in, an English info block is added",
            )),
            Field::text(
                "headline_en",
                ctx.pick("标题（英文）", "Headline (English)"),
            ),
            Field::of(
                "instruction_en",
                ctx.pick("应对建议（英文）", "What to do (English)"),
                FieldKind::TextArea,
            ),
        ],
    )
}

/// The draft a form describes: a Chinese info block, and an English one when its event is given.
fn draft_from_form(pairs: &[(String, String)]) -> Result<AlertDraft, ApiError> {
    let value = |name: &str| form_value(pairs, name).trim().to_string();
    let optional = |name: &str| Some(value(name)).filter(|v| !v.is_empty());
    let code = |name: &str| -> Result<String, ApiError> {
        let v = value(name);
        if v.is_empty() {
            Err(ApiError::invalid(name, "choose one"))
        } else {
            Ok(v)
        }
    };
    let category = Category::parse(&code("category")?)
        .ok_or_else(|| ApiError::invalid("category", format!("one of {}", Category::choices())))?;
    let severity = Severity::parse(&code("severity")?)
        .ok_or_else(|| ApiError::invalid("severity", format!("one of {}", Severity::choices())))?;
    let urgency = Urgency::parse(&code("urgency")?)
        .ok_or_else(|| ApiError::invalid("urgency", format!("one of {}", Urgency::choices())))?;
    let certainty = Certainty::parse(&code("certainty")?).ok_or_else(|| {
        ApiError::invalid("certainty", format!("one of {}", Certainty::choices()))
    })?;
    let event = kernel::api::text("event", &value("event"), 200, true)?;
    let area_desc = kernel::api::text("area_desc", &value("area_desc"), 500, true)?;
    let hours: i64 = value("expires_hours")
        .parse()
        .ok()
        .filter(|h| (1..=240).contains(h))
        .ok_or_else(|| ApiError::invalid("expires_hours", "a whole number of hours, 1 to 240"))?;
    let expires = service::cap_time(kernel::time::Timestamp::now().plus_minutes(hours * 60));
    let area = Area {
        area_desc,
        polygon: optional("polygon").into_iter().collect(),
        circle: optional("circle").into_iter().collect(),
        geocode: value("regions")
            .split_whitespace()
            .map(|code| NamedValue {
                value_name: "GB/T 2260".into(),
                value: code.to_string(),
            })
            .collect(),
        altitude: None,
        ceiling: None,
    };
    let block = |language: &str, event: String, headline, description, instruction| Info {
        language: Some(language.into()),
        category: vec![category],
        event,
        response_type: Vec::new(),
        urgency,
        severity,
        certainty,
        audience: None,
        event_code: Vec::new(),
        effective: None,
        onset: None,
        expires: Some(expires.clone()),
        sender_name: None,
        headline,
        description,
        instruction,
        web: None,
        contact: None,
        parameter: Vec::new(),
        resource: Vec::new(),
        area: vec![area.clone()],
    };
    let mut info = vec![block(
        "zh-CN",
        event,
        optional("headline"),
        optional("description"),
        optional("instruction"),
    )];
    if let Some(event_en) = optional("event_en") {
        info.push(block(
            "en-US",
            event_en,
            optional("headline_en"),
            None,
            optional("instruction_en"),
        ));
    }
    Ok(AlertDraft {
        status: None,
        scope: None,
        restriction: None,
        addresses: None,
        note: None,
        incidents: None,
        info,
    })
}

/// A CAP problem put at the form field it concerns: `alert/info[1]/area[1]/polygon[1]` → `polygon`.
fn at_form_fields(error: ApiError) -> ApiError {
    match error {
        ApiError::InvalidFields(errors) => ApiError::InvalidFields(
            errors
                .into_iter()
                .map(|mut e| {
                    let last = e.field.rsplit('/').next().unwrap_or(&e.field);
                    let name = last.split('[').next().unwrap_or(last).to_string();
                    e.field = match name.as_str() {
                        "areaDesc" => "area_desc".into(),
                        "expires" => "expires_hours".into(),
                        "geocode" => "regions".into(),
                        _ => name,
                    };
                    e
                })
                .collect(),
        ),
        other => other,
    }
}

async fn new_alert_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("起草预警", "Draft an alert"),
        &alert_form(&ctx, "/safety/alerts/new"),
    ))
}

async fn draft_alert_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let outcome = match draft_from_form(&pairs) {
        Ok(draft) => service::draft_alert(&state, user, draft).await,
        Err(error) => Err(error),
    };
    alert_form_outcome(
        &ctx,
        outcome,
        &pairs,
        "/safety/alerts/new",
        ctx.pick("起草预警", "Draft an alert"),
    )
}

fn alert_form_outcome(
    ctx: &PageContext,
    outcome: Result<AlertRecord, ApiError>,
    pairs: &[(String, String)],
    action: &str,
    title: &str,
) -> PageResult {
    match outcome {
        Ok(record) => Ok(Redirect::to(&format!("/safety/alerts/{}", record.id)).into_response()),
        Err(error) if error.status().is_client_error() => {
            let error = at_form_fields(error);
            Ok(form_page(
                ctx,
                error.status(),
                title,
                &alert_form(ctx, action).fill(pairs).with_error(&error),
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn update_alert_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let record = service::alert(&state, Some(user), &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut form = alert_form(&ctx, &format!("/safety/alerts/{id}/update"));
    if let Some(info) = record.alert.info.first() {
        let mut prefill = vec![
            ("event".to_string(), info.event.clone()),
            (
                "category".to_string(),
                info.category
                    .first()
                    .map(|c| c.as_str())
                    .unwrap_or("Met")
                    .to_string(),
            ),
            ("severity".to_string(), info.severity.as_str().to_string()),
            ("urgency".to_string(), info.urgency.as_str().to_string()),
            ("certainty".to_string(), info.certainty.as_str().to_string()),
            (
                "headline".to_string(),
                info.headline.clone().unwrap_or_default(),
            ),
            (
                "description".to_string(),
                info.description.clone().unwrap_or_default(),
            ),
            (
                "instruction".to_string(),
                info.instruction.clone().unwrap_or_default(),
            ),
            ("expires_hours".to_string(), "24".to_string()),
        ];
        if let Some(area) = info.area.first() {
            prefill.push(("area_desc".into(), area.area_desc.clone()));
            prefill.push((
                "polygon".into(),
                area.polygon.first().cloned().unwrap_or_default(),
            ));
            prefill.push((
                "circle".into(),
                area.circle.first().cloned().unwrap_or_default(),
            ));
            prefill.push((
                "regions".into(),
                area.geocode
                    .iter()
                    .map(|g| g.value.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ));
        }
        form = form.fill(&prefill);
    }
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("更新预警", "Update the alert"),
        &form,
    ))
}

async fn update_alert_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let outcome = match draft_from_form(&pairs) {
        Ok(draft) => service::draft_update(&state, user, &id, draft).await,
        Err(error) => Err(error),
    };
    let action = format!("/safety/alerts/{id}/update");
    alert_form_outcome(
        &ctx,
        outcome,
        &pairs,
        &action,
        ctx.pick("更新预警", "Update the alert"),
    )
}

fn cancel_form(ctx: &PageContext, id: &str) -> Form {
    Form::new(
        ctx,
        &format!("/safety/alerts/{id}/cancel"),
        ctx.pick(
            "起草解除（交另一名值班员审核）",
            "Draft the cancel (a second officer approves it)",
        ),
        vec![Field::of(
            "note",
            ctx.pick("解除原因", "Why it is cancelled"),
            FieldKind::TextArea,
        )],
    )
}

async fn cancel_alert_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("解除预警", "Cancel the alert"),
        &cancel_form(&ctx, &id),
    ))
}

async fn cancel_alert_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let cancel = AlertCancel {
        note: form_value(&pairs, "note").to_string(),
    };
    match service::draft_cancel(&state, user, &id, cancel).await {
        Ok(record) => Ok(Redirect::to(&format!("/safety/alerts/{}", record.id)).into_response()),
        Err(error) if error.status().is_client_error() => Ok(form_page(
            &ctx,
            error.status(),
            ctx.pick("解除预警", "Cancel the alert"),
            &cancel_form(&ctx, &id).fill(&pairs).with_error(&error),
        )),
        Err(error) => Err(ctx.error(error)),
    }
}

fn import_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/safety/alerts/import",
        ctx.pick("校验并导入", "Check and import"),
        vec![Field::of("xml", ctx.pick("CAP 预警（XML）", "CAP alert (XML)"), FieldKind::TextArea).hint(
            ctx.pick(
                "粘贴其他机构发布的 CAP 1.2 或 1.1 预警全文；将按官方模式和标准规则校验，逐条列出问题。",
                "Paste another authority's CAP 1.2 or 1.1 alert; it is checked against the official schema and the standard's rules, each problem listed.",
            ),
        )],
    )
}

async fn import_cap_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    service::require_duty(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("导入 CAP 预警", "Import a CAP alert"),
        &import_form(&ctx),
    ))
}

async fn import_cap_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let xml = form_value(&pairs, "xml");
    match service::import_cap(&state, user, xml.as_bytes()).await {
        Ok(record) => Ok(Redirect::to(&format!("/safety/alerts/{}", record.id)).into_response()),
        Err(error) if error.status().is_client_error() => {
            // Every problem, with its element, at the one field.
            let detail = match &error {
                ApiError::InvalidFields(errors) => errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.detail))
                    .collect::<Vec<_>>()
                    .join("\n"),
                other => other.public_detail(),
            };
            let error = ApiError::invalid("xml", detail);
            Ok(form_page(
                &ctx,
                error.status(),
                ctx.pick("导入 CAP 预警", "Import a CAP alert"),
                &import_form(&ctx).fill(&pairs).with_error(&error),
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

fn info_html(ctx: &PageContext, info: &Info) -> String {
    let lang = info.language.as_deref().unwrap_or("en-US");
    let mut rows = vec![
        (ctx.pick("事件", "Event").to_string(), info.event.clone()),
        (
            ctx.pick("严重程度 · 紧迫 · 确定", "Severity · urgency · certainty")
                .to_string(),
            format!(
                "{} · {} · {}",
                severity_name(ctx, info.severity),
                info.urgency.as_str(),
                info.certainty.as_str()
            ),
        ),
    ];
    for (label, value) in [
        (ctx.pick("情况", "What is happening"), &info.description),
        (ctx.pick("应对建议", "What to do"), &info.instruction),
        (ctx.pick("有效至", "Expires"), &info.expires),
        (ctx.pick("发布机构", "Issued by"), &info.sender_name),
    ] {
        if let Some(value) = value {
            rows.push((label.to_string(), value.clone()));
        }
    }
    for area in &info.area {
        let codes: Vec<&str> = area.geocode.iter().map(|g| g.value.as_str()).collect();
        let mut text = area.area_desc.clone();
        if !codes.is_empty() {
            text.push_str(&format!(" ({})", codes.join(" ")));
        }
        if !area.polygon.is_empty() || !area.circle.is_empty() {
            text.push_str(&format!(
                " · {} {}, {} {}",
                area.polygon.len(),
                ctx.pick("个多边形", "polygon(s)"),
                area.circle.len(),
                ctx.pick("个圆", "circle(s)")
            ));
        }
        rows.push((ctx.pick("区域", "Area").to_string(), text));
    }
    format!(
        "<section lang=\"{}\"><h2>{}</h2>{}</section>",
        esc(lang),
        esc(info.title()),
        Summary { rows }.html()
    )
}

async fn alert_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let record = service::alert(&state, ctx.user.as_ref(), &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = headline_of(&ctx, &record);
    let mut body = format!("<h1>{}</h1>", esc(&title));
    body.push_str(&targeting::answer_section(&state, &ctx, &record).await);
    let a = &record.alert;
    let mut rows = vec![
        (
            ctx.pick("状态", "State").to_string(),
            alert_state_name(&ctx, record.state).to_string(),
        ),
        (
            ctx.pick("类型", "Message").to_string(),
            format!(
                "{} · {} · {}",
                a.msg_type.as_str(),
                a.status.as_str(),
                a.scope.as_str()
            ),
        ),
        (ctx.pick("发布者", "Sender").to_string(), a.sender.clone()),
        (
            ctx.pick("编号", "Identifier").to_string(),
            a.identifier.clone(),
        ),
    ];
    if record.state.is_out() {
        rows.push((ctx.pick("发送时间", "Sent").to_string(), a.sent.clone()));
    }
    if let Some(note) = &a.note {
        rows.push((ctx.pick("说明", "Note").to_string(), note.clone()));
    }
    if let Some(references) = &a.references {
        rows.push((
            ctx.pick("所指预警", "Refers to").to_string(),
            references.clone(),
        ));
    }
    if record.signed {
        rows.push((
            ctx.pick("签名", "Signature").to_string(),
            ctx.pick(
                "附有发送方的 XML-DSig 签名（本平台未验证），原文原样保存",
                "Carries the sender's XML-DSig signature (not verified here); the original is kept as received",
            )
            .to_string(),
        ));
    }
    body.push_str(&Summary { rows }.html());
    let mut links = vec![format!(
        "<a href=\"/api/v1/safety/alerts/{}/cap.xml\">CAP 1.2 XML</a>",
        esc(&record.id)
    )];
    if record.origin == AlertOrigin::Imported {
        links.push(format!(
            "<a href=\"/api/v1/safety/alerts/{}/original.xml\">{}</a>",
            esc(&record.id),
            esc(ctx.pick("接收原文", "Original as received"))
        ));
    }
    links.push(format!(
        "<a href=\"/safety/alerts\">{}</a>",
        esc(ctx.pick("全部预警", "All alerts"))
    ));
    body.push_str(&format!("<p>{}</p>", links.join(" · ")));
    if let Some(user) = ctx.user.as_ref()
        && is_duty(&state, &ctx).await
    {
        match record.state {
            AlertState::Draft if record.created_by != user.account_id => body.push_str(&post_button(
                &ctx,
                &format!("/safety/alerts/{}/approve", record.id),
                ctx.pick("审核通过", "Approve"),
            )),
            AlertState::Draft => body.push_str(&format!(
                "<p>{}</p>",
                esc(ctx.pick("须由另一名值班员审核后才能发布。", "A second duty officer must approve it before it can be issued."))
            )),
            AlertState::Approved => body.push_str(&post_button(
                &ctx,
                &format!("/safety/alerts/{}/issue", record.id),
                ctx.pick("立即发布", "Issue now"),
            )),
            AlertState::Issued if record.origin == AlertOrigin::Drafted => body.push_str(&format!(
                "<p><a class=\"button\" href=\"/safety/alerts/{id}/update\">{}</a> <a class=\"button warning\" href=\"/safety/alerts/{id}/cancel\">{}</a></p>",
                esc(ctx.pick("更新预警", "Update")),
                esc(ctx.pick("解除预警", "Cancel")),
                id = esc(&record.id),
            )),
            _ => {}
        }
    }
    body.push_str(&targeting::responders_section(&state, &ctx, &record).await);
    for info in &a.info {
        body.push_str(&info_html(&ctx, info));
    }
    Ok(ctx.render(&title, &body))
}

async fn alert_step(
    state: &AppState,
    ctx: &PageContext,
    id: &str,
    body: &Bytes,
    issue: bool,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let outcome = if issue {
        service::issue_alert(state, user, id).await
    } else {
        service::approve_alert(state, user, id).await
    };
    outcome.map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/safety/alerts/{id}")).into_response())
}

async fn approve_alert_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    alert_step(&state, &ctx, &id, &body, false).await
}

async fn issue_alert_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    alert_step(&state, &ctx, &id, &body, true).await
}

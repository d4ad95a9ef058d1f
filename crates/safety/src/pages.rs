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

/// The safety page routes.
pub fn router() -> Router<AppState> {
    Router::new()
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

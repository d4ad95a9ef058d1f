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
}

fn is_staff(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.is_platform_admin() || p.organisation_id().is_some())
}

/// The safety navigation.
pub fn nav() -> Vec<NavItem> {
    vec![NavItem {
        href: "/safety/stations",
        zh: "监测站点",
        en: "Monitoring stations",
        visible: is_staff,
    }]
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
        legend: [
            lang.pick("暂无读数", "no reading"),
            lang.pick("正常", "normal"),
            lang.pick("超警戒", "over warning level"),
            lang.pick("超保证", "over guaranteed level"),
        ],
    };
    Ok(crate::map::svg(&areas, &stations, &labels))
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

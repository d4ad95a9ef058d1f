//! The demo city's monitoring network: 44 stations of the emergency management bureau
//! across its sixteen communities — a rain gauge in each, river gauges along the river
//! through 南桥区 and 青川县, two reservoirs and landslide monitors in the hills of
//! 青川县 and 西山区, wind, temperature and air quality in the districts — each with the
//! last 24 hours of hourly readings; the river at 滨江街道 has risen over its warning
//! level in the last hours. The communities' areas are fictional GeoJSON squares.

use kernel::AppState;
use kernel::auth::Principal;
use kernel::time::Timestamp;
use safety::model::{NewStation, ObservationIn};

/// A station to register: code, name, kind, community, position, levels.
struct DemoStation {
    code: String,
    name: String,
    kind: &'static str,
    region: String,
    latitude: f64,
    longitude: f64,
    warning: Option<f64>,
    guarantee: Option<f64>,
}

/// The corner of community `c` of township `t` of district `d` (0–3) on a fictional
/// 0.6° square north-east of 30.4° N, 114.1° E: each district a 0.3° block, each
/// community a 0.15° cell of it.
fn cell(d: usize, t: usize, c: usize) -> (f64, f64) {
    (
        30.4 + (d / 2) as f64 * 0.3 + t as f64 * 0.15,
        114.1 + (d % 2) as f64 * 0.3 + c as f64 * 0.15,
    )
}

/// Where the `k`th station of a community stands, inside its cell.
fn position(d: usize, t: usize, c: usize, k: usize) -> (f64, f64) {
    let (lat, lon) = cell(d, t, c);
    (
        lat + 0.03 + (k % 3) as f64 * 0.04,
        lon + 0.03 + (k / 3 % 3) as f64 * 0.04,
    )
}

/// The sixteen communities' areas as a GeoJSON FeatureCollection, each its cell.
pub fn areas_geojson() -> String {
    let districts = ["990102", "990103", "990104", "990121"];
    let mut features = Vec::new();
    for (d, district) in districts.iter().enumerate() {
        for t in 0..2 {
            for c in 0..2 {
                let (lat, lon) = cell(d, t, c);
                let s = 0.15;
                let ring = [
                    [lon, lat],
                    [lon + s, lat],
                    [lon + s, lat + s],
                    [lon, lat + s],
                    [lon, lat],
                ];
                features.push(serde_json::json!({
                    "type": "Feature",
                    "properties": {"code": format!("{district}{:03}{:03}", t + 1, c + 1)},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }));
            }
        }
    }
    serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn stations() -> Vec<DemoStation> {
    let districts = ["990102", "990103", "990104", "990121"];
    let mut out = Vec::new();
    let mut in_cell = std::collections::HashMap::new();
    let mut add = |code: String,
                   name: String,
                   kind,
                   d: usize,
                   t: usize,
                   c: usize,
                   levels: (Option<f64>, Option<f64>)| {
        let k = in_cell.entry((d, t, c)).or_insert(0usize);
        let (latitude, longitude) = position(d, t, c, *k);
        *k += 1;
        out.push(DemoStation {
            code,
            name,
            kind,
            region: format!("{}{:03}{:03}", districts[d], t + 1, c + 1),
            latitude,
            longitude,
            warning: levels.0,
            guarantee: levels.1,
        });
    };
    // A rain gauge in every community (16).
    for d in 0..4 {
        for t in 0..2 {
            for c in 0..2 {
                add(
                    format!("RG-{}{}{}", d + 1, t + 1, c + 1),
                    format!("雨量站 {}-{}-{}", d + 1, t + 1, c + 1),
                    "rain_gauge",
                    d,
                    t,
                    c,
                    (None, None),
                );
            }
        }
    }
    // River gauges along the river through 南桥区 (2) and 青川县 (0, 1) (10).
    for (i, (d, t, c)) in [
        (2, 1, 0),
        (2, 1, 1),
        (2, 0, 0),
        (2, 0, 1),
        (3, 0, 0),
        (3, 0, 1),
        (3, 1, 0),
        (3, 1, 1),
        (0, 0, 0),
        (0, 1, 1),
    ]
    .into_iter()
    .enumerate()
    {
        add(
            format!("RL-{:02}", i + 1),
            format!("河道水位站 {}", i + 1),
            "river_level",
            d,
            t,
            c,
            (Some(25.0), Some(27.5)),
        );
    }
    // Two reservoirs in 青川县.
    for (i, c) in [0, 1].into_iter().enumerate() {
        add(
            format!("RS-{:02}", i + 1),
            format!("水库水位站 {}", i + 1),
            "reservoir_level",
            3,
            1,
            c,
            (Some(118.0), Some(121.0)),
        );
    }
    // Landslide displacement in the hills of 青川县 石门乡 and 西山区 (4).
    for (i, (d, t, c)) in [(3, 1, 0), (3, 1, 1), (1, 0, 0), (1, 1, 1)]
        .into_iter()
        .enumerate()
    {
        add(
            format!("LS-{:02}", i + 1),
            format!("地质灾害位移监测点 {}", i + 1),
            "landslide_displacement",
            d,
            t,
            c,
            (Some(30.0), Some(60.0)),
        );
    }
    // Wind (4), temperature (4) and air quality (4): one of each per district.
    for d in 0..4 {
        add(
            format!("WD-{}", d + 1),
            format!("风速站 {}", d + 1),
            "wind",
            d,
            0,
            0,
            (Some(17.2), None),
        );
        add(
            format!("TP-{}", d + 1),
            format!("气温站 {}", d + 1),
            "temperature",
            d,
            0,
            1,
            (Some(35.0), None),
        );
        add(
            format!("AQ-{}", d + 1),
            format!("空气质量站 {}", d + 1),
            "air_quality",
            d,
            1,
            0,
            (Some(75.0), None),
        );
    }
    out
}

/// Reading `h` hours ago at station `i` of a kind: ordinary weather, with the river at
/// 滨江街道 (RL-01, RL-02) rising over its warning level in the last hours.
fn reading(kind: &str, code: &str, i: usize, h: i64) -> f64 {
    let wave = ((i as f64 + h as f64) * 0.7).sin();
    let v = match kind {
        "rain_gauge" => (2.0 + 2.0 * wave).max(0.0) + if h < 6 { 6.0 } else { 0.0 },
        "river_level" if code == "RL-01" || code == "RL-02" => 22.0 + (24 - h) as f64 * 0.16,
        "river_level" => 21.0 + 0.4 * wave,
        "reservoir_level" => 115.0 + 0.2 * wave,
        "landslide_displacement" => 4.0 + (24 - h) as f64 * 0.1,
        "wind" => 6.0 + 3.0 * wave,
        "temperature" => 24.0 + 4.0 * wave,
        _ => 35.0 + 10.0 * wave,
    };
    (v * 10.0).round() / 10.0
}

/// Imports the communities' areas, registers the stations for `emergency` (the emergency
/// management bureau) and sends their last 24 hours of readings.
pub async fn seed(
    state: &AppState,
    admin: &Principal,
    approver: &Principal,
    emergency: &str,
) -> anyhow::Result<()> {
    safety::service::import_areas(state, admin, &areas_geojson())
        .await
        .map_err(|e| anyhow::anyhow!("the demo's areas: {e}"))?;
    let all = stations();
    let now = Timestamp::now().0 / 3_600_000_000 * 3_600_000_000;
    let mut readings = Vec::new();
    for (i, s) in all.iter().enumerate() {
        safety::service::register_station(
            state,
            admin,
            NewStation {
                code: s.code.clone(),
                name: s.name.clone(),
                kind: s.kind.into(),
                region: s.region.clone(),
                latitude: s.latitude,
                longitude: s.longitude,
                organisation_id: Some(emergency.to_string()),
                warning_level: s.warning,
                guarantee_level: s.guarantee,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("station {}: {e}", s.code))?;
        for h in 0..24 {
            readings.push(ObservationIn {
                station: s.code.clone(),
                observed_at: Timestamp(now - h * 3_600_000_000).rfc3339(),
                value: reading(s.kind, &s.code, i, h),
                unit: None,
            });
        }
    }
    let report = safety::service::ingest(state, admin, &readings)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        report.rejected == 0,
        "the demo's readings were refused: {:?}",
        report.refused
    );
    seed_risk(state, admin, emergency, &all).await?;
    seed_alert(state, admin, approver, &all).await?;
    seed_supplies(state, admin, emergency, &all).await
}

/// Three relief depots (the city's reserve by the first shelter, two district stores),
/// roads from each to every community with a station (minutes from the distance, about
/// 30 km/h on flooded roads), and the first allocation plan for the next 24 hours, left
/// for an officer to dispatch.
async fn seed_supplies(
    state: &AppState,
    admin: &Principal,
    emergency: &str,
    stations: &[DemoStation],
) -> anyhow::Result<()> {
    use safety::model::*;
    let err = |what: &'static str| move |e: kernel::ApiError| anyhow::anyhow!("{what}: {e}");
    let shelters = safety::service::shelters(state)
        .await
        .map_err(err("shelters"))?;
    let picks = [0, shelters.len() / 2, shelters.len().saturating_sub(1)];
    let stocks = [
        ("CK-CITY", "示例市救灾物资储备库", [60, 3_000, 900, 12]),
        ("CK-EAST", "东湖区物资储备点", [15, 600, 200, 3]),
        ("CK-WEST", "西山县物资储备点", [10, 400, 150, 2]),
    ];
    let mut depots = Vec::new();
    for (pick, (code, name, [tent, water, food, medicine])) in picks.into_iter().zip(stocks) {
        let Some(at) = shelters.get(pick) else {
            continue;
        };
        let stock = [
            (Supply::Tent, tent),
            (Supply::Water, water),
            (Supply::Food, food),
            (Supply::Medicine, medicine),
        ]
        .into_iter()
        .collect();
        safety::service::supplies::register_depot(
            state,
            admin,
            NewDepot {
                code: code.into(),
                name: name.into(),
                region: at.region.clone(),
                latitude: at.latitude,
                longitude: at.longitude,
                stock,
                organisation_id: Some(emergency.to_string()),
            },
        )
        .await
        .map_err(err("depot"))?;
        depots.push((code, at.latitude, at.longitude));
    }
    let mut communities: Vec<(&str, f64, f64)> = Vec::new();
    for s in stations {
        if !communities.iter().any(|c| c.0 == s.region) {
            communities.push((&s.region, s.latitude, s.longitude));
        }
    }
    let mut routes = Vec::new();
    for (depot, lat, lon) in &depots {
        for (region, c_lat, c_lon) in &communities {
            let km = 111.0 * ((lat - c_lat).powi(2) + ((lon - c_lon) * 0.86).powi(2)).sqrt();
            routes.push(SupplyRoute {
                depot: depot.to_string(),
                region: region.to_string(),
                minutes: (10.0 + km * 2.0).round(),
            });
        }
    }
    safety::service::supplies::set_routes(state, admin, SupplyRoutes { routes })
        .await
        .map_err(err("routes"))?;
    safety::service::supplies::compute_plan(state, admin, PlanRequest { horizon: Some(24) })
        .await
        .map_err(err("the first allocation plan"))?;
    Ok(())
}

/// One issued CAP alert: a rainstorm warning for the river's first community, in Chinese
/// and English, drafted by the administrator and approved by a second officer.
async fn seed_alert(
    state: &AppState,
    admin: &Principal,
    approver: &Principal,
    stations: &[DemoStation],
) -> anyhow::Result<()> {
    use safety::cap::model::*;
    let err = |what: &'static str| move |e: kernel::ApiError| anyhow::anyhow!("{what}: {e}");
    let Some(river) = stations.iter().find(|s| s.kind == "river_level") else {
        return Ok(());
    };
    let area = Area {
        area_desc: format!("{}附近沿河社区", river.name),
        polygon: Vec::new(),
        circle: vec![format!("{:.4},{:.4} 3", river.latitude, river.longitude)],
        geocode: vec![NamedValue {
            value_name: "GB/T 2260".into(),
            value: river.region.clone(),
        }],
        altitude: None,
        ceiling: None,
    };
    let expires = safety::service::cap_time(Timestamp::now().plus_minutes(24 * 60));
    let info = |language: &str, event: &str, headline: &str, instruction: &str| Info {
        language: Some(language.into()),
        category: vec![Category::Met],
        event: event.into(),
        response_type: vec![ResponseType::Prepare, ResponseType::Avoid],
        urgency: Urgency::Expected,
        severity: Severity::Severe,
        certainty: Certainty::Likely,
        audience: None,
        event_code: Vec::new(),
        effective: None,
        onset: None,
        expires: Some(expires.clone()),
        sender_name: Some("示例市应急管理局".into()),
        headline: Some(headline.into()),
        description: None,
        instruction: Some(instruction.into()),
        web: None,
        contact: Some("12345".into()),
        parameter: Vec::new(),
        resource: Vec::new(),
        area: vec![area.clone()],
    };
    let draft = safety::model::AlertDraft {
        status: None,
        scope: None,
        restriction: None,
        addresses: None,
        note: None,
        incidents: None,
        info: vec![
            info(
                "zh-CN",
                "暴雨",
                "暴雨黄色预警：沿河社区未来6小时降雨将超过50毫米",
                "请远离河道和低洼地带，关注后续预警。",
            ),
            info(
                "en-US",
                "Rainstorm",
                "Yellow rainstorm warning: over 50 mm of rain in the next 6 hours by the river",
                "Keep away from the river and low ground; watch for further warnings.",
            ),
        ],
    };
    // The demo elder is visiting her daughter by the river and shared where she is: the
    // alert reaches her there, though she is registered elsewhere.
    let elder = identity::service::account_by_username(state, "demo-elder")
        .await
        .map_err(err("the demo elder"))?
        .and_then(|a| a.person_id);
    if let Some(person) = &elder {
        let mut visitor = Principal::system();
        visitor.account_id = "demo-elder".into();
        visitor.person_id = Some(person.clone());
        safety::service::targeting::share_location(
            state,
            &visitor,
            safety::model::LocationShare {
                latitude: river.latitude + 0.005,
                longitude: river.longitude,
            },
        )
        .await
        .map_err(err("the demo elder's location"))?;
    }
    let alert = safety::service::draft_alert(state, admin, draft)
        .await
        .map_err(err("the demo's alert"))?;
    safety::service::approve_alert(state, approver, &alert.id)
        .await
        .map_err(err("approving the demo's alert"))?;
    let issued = safety::service::issue_alert(state, admin, &alert.id)
        .await
        .map_err(err("issuing the demo's alert"))?;
    // Three of the residents it reached answered: one needs help, two are safe (the
    // elder has yet to answer).
    let Some(targeting) = issued.targeting else {
        return Ok(());
    };
    let reached: Vec<String> = kernel::on_pool!(state.db.read(), |c| sqlx::query_scalar(
        "SELECT person_id FROM inbox_entries WHERE message_id = $1 AND person_id <> $2
         ORDER BY person_id LIMIT 3"
    )
    .bind(&targeting.notice_id)
    .bind(elder.as_deref().unwrap_or_default())
    .fetch_all(c)
    .await)?;
    for (i, person) in reached.into_iter().enumerate() {
        let mut resident = Principal::system();
        resident.account_id = format!("demo-resident-{i}");
        resident.roles = vec![kernel::auth::RoleBinding {
            role: kernel::auth::Role::Citizen,
            organisation_id: None,
        }];
        resident.person_id = Some(person);
        let answer = if i == 0 {
            safety::model::AlertAnswer {
                answer: safety::model::Answer::NeedHelp,
                note: Some("家里老人腿脚不便，一楼已进水，需要帮忙转移。".into()),
            }
        } else {
            safety::model::AlertAnswer {
                answer: safety::model::Answer::Safe,
                note: None,
            }
        };
        safety::service::targeting::answer(state, &resident, &alert.id, answer)
            .await
            .map_err(err("a resident's answer to the demo's alert"))?;
    }
    Ok(())
}

/// The risk pictures: hazard indexes (the river's communities high, the hills' middling,
/// the rest low), a shelter in each township, the method counting elders and the tagged
/// as vulnerable, the warning rules telling residents from orange, a forecast of heavy
/// rain over the river's communities; then the first assessment and the first levels.
async fn seed_risk(
    state: &AppState,
    admin: &Principal,
    emergency: &str,
    stations: &[DemoStation],
) -> anyhow::Result<()> {
    use safety::model::*;
    let err = |what: &'static str| move |e: kernel::ApiError| anyhow::anyhow!("{what}: {e}");
    let mut communities: Vec<&str> = stations.iter().map(|s| s.region.as_str()).collect();
    communities.sort_unstable();
    communities.dedup();
    let on = |region: &str, kind: &str| {
        stations
            .iter()
            .any(|s| s.region == region && s.kind == kind)
    };
    let hazards = communities
        .iter()
        .map(|c| {
            let (hazard, basis) = if on(c, "river_level") {
                (0.85, "洪涝高风险区：沿河低洼（自然灾害综合风险普查，示例）")
            } else if on(c, "landslide_displacement") || on(c, "reservoir_level") {
                (
                    0.6,
                    "地质灾害隐患点、水库下游（自然灾害综合风险普查，示例）",
                )
            } else {
                (0.3, "一般风险区（自然灾害综合风险普查，示例）")
            };
            Hazard {
                region: c.to_string(),
                hazard,
                basis: basis.into(),
            }
        })
        .collect();
    safety::service::set_hazards(state, admin, HazardUpdate { hazards })
        .await
        .map_err(err("hazards"))?;
    for (i, c) in communities.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let (lat, lon) = stations
            .iter()
            .find(|s| s.region == *c)
            .map_or((30.5, 114.2), |s| (s.latitude + 0.01, s.longitude + 0.01));
        safety::service::register_shelter(
            state,
            admin,
            NewShelter {
                code: format!("SH-{:02}", i / 2 + 1),
                name: format!("应急避难场所 {}", i / 2 + 1),
                region: c.to_string(),
                latitude: lat,
                longitude: lon,
                capacity: 30 + (i as i64 % 3) * 20,
                organisation_id: Some(emergency.to_string()),
            },
        )
        .await
        .map_err(err("shelter"))?;
    }
    safety::service::set_method(
        state,
        admin,
        RiskMethod {
            vulnerable_tags: vec!["disability".into(), "lives-alone".into()],
            ..RiskMethod::default()
        },
    )
    .await
    .map_err(err("method"))?;
    safety::service::set_rules(
        state,
        admin,
        WarningRules {
            notify_residents_from: Some(RiskLevel::Orange),
            notify_organisation_id: Some(emergency.to_string()),
            ..WarningRules::default()
        },
    )
    .await
    .map_err(err("rules"))?;
    let mut csv = String::from("region,horizon_hours,rain_mm\n");
    for c in communities.iter().filter(|c| on(c, "river_level")) {
        for (h, mm) in [(3, 30.0), (6, 60.0), (24, 110.0), (48, 140.0)] {
            csv.push_str(&format!("{c},{h},{mm}\n"));
        }
    }
    safety::service::import_forecasts(state, admin, &csv)
        .await
        .map_err(err("forecasts"))?;
    safety::service::assess(state, admin)
        .await
        .map_err(err("assessment"))?;
    safety::service::recompute(state)
        .await
        .map_err(err("warnings"))?;
    Ok(())
}

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
pub async fn seed(state: &AppState, admin: &Principal, emergency: &str) -> anyhow::Result<()> {
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
    seed_risk(state, admin, emergency, &all).await
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

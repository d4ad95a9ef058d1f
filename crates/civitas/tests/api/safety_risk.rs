//! Risk end to end: the static five-colour assessment (hazard, residents counted from the
//! register, shelters) on the map and as GeoJSON; the dynamic warnings recomputed when
//! readings arrive — a river rising towards its warning level and rain with a forecast —
//! each level explained, its changes kept, the residents of a region whose level rose to
//! orange told at once; bad input named.

use kernel::auth::Role;
use kernel::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const HOME: &str = "990102001001";
const NEXT: &str = "990102001002";

fn square(code: &str, lon: f64) -> Value {
    json!({"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon",
        "coordinates": [[[lon, 30.0], [lon + 0.1, 30.0], [lon + 0.1, 30.1], [lon, 30.1], [lon, 30.0]]]}})
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.send(
        Method::PUT,
        path,
        Some(token),
        &[],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

async fn csv(app: &TestApp, token: &str, text: &str) -> reqwest::Response {
    app.send(
        Method::POST,
        "/api/v1/safety/forecasts",
        Some(token),
        &[],
        Some(("text/csv", text.as_bytes().to_vec())),
    )
    .await
}

#[tokio::test]
async fn the_five_colour_map_and_the_warnings_follow_the_data_and_explain_themselves() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let r = app
        .post(
            "/api/v1/regions",
            Some(&admin),
            &json!({"code": NEXT, "name": "和平社区", "urban": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let emergency = app.organisation(&admin, 1, "示例市应急管理局").await;
    let officer = app
        .account("duty-officer", Role::Clerk, Some(&emergency), None)
        .await;
    let logger = app
        .account("emergency-logger", Role::System, Some(&emergency), None)
        .await;
    let (_, _, resident) = app.citizen(&admin, 1, "王大妈", "wang").await;
    app.person(&admin, 2, "张大爷").await;
    app.person(&admin, 3, "赵奶奶").await;

    // Nothing to assess before the map has areas; residents cannot assess.
    let r = app
        .post("/api/v1/safety/risk/assessment", Some(&officer), &json!({}))
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let areas = json!({"type": "FeatureCollection", "features": [square(HOME, 114.0), square(NEXT, 114.1)]});
    let r = app
        .send(
            Method::PUT,
            "/api/v1/safety/areas",
            Some(&admin),
            &[],
            Some(("application/geo+json", areas.to_string().into_bytes())),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            "/api/v1/safety/risk/assessment",
            Some(&resident),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // Bad hazards, methods and shelters are named.
    for (body, field) in [
        (
            json!({"hazards": [{"region": HOME, "hazard": 1.5, "basis": "普查"}]}),
            "hazards[0].hazard",
        ),
        (
            json!({"hazards": [{"region": "990102009009", "hazard": 0.5, "basis": "普查"}]}),
            "hazards[0].region",
        ),
        (
            json!({"hazards": [{"region": HOME, "hazard": 0.5, "basis": " "}]}),
            "hazards[0].basis",
        ),
        (
            json!({"hazards": [{"region": HOME, "hazard": 0.5, "basis": "普查"},
                {"region": HOME, "hazard": 0.6, "basis": "普查"}]}),
            "hazards[1].region",
        ),
    ] {
        let r = put(&app, "/api/v1/safety/risk/hazards", &officer, &body).await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    let method = |changes: Value| {
        let mut m = json!({"exposure_weight": 0.4, "vulnerability_weight": 0.6,
            "capacity_relief": 0.3, "shelter_share": 0.1, "elderly_age": 60,
            "cuts": [20.0, 40.0, 60.0, 80.0]});
        m.as_object_mut()
            .unwrap()
            .extend(changes.as_object().unwrap().clone());
        m
    };
    for (changes, field) in [
        (json!({"vulnerability_weight": 0.7}), "vulnerability_weight"),
        (json!({"cuts": [20.0, 40.0, 30.0, 80.0]}), "cuts[2]"),
        (json!({"shelter_share": 0.0}), "shelter_share"),
        (
            json!({"vulnerable_tags": ["no-such-tag"]}),
            "vulnerable_tags[0]",
        ),
    ] {
        let r = put(&app, "/api/v1/safety/risk/method", &admin, &method(changes)).await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    let r = put(
        &app,
        "/api/v1/safety/risk/method",
        &officer,
        &method(json!({})),
    )
    .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = put(
        &app,
        "/api/v1/safety/risk/hazards",
        &officer,
        &json!({"hazards": [
            {"region": HOME, "hazard": 0.9, "basis": "沿河低洼，洪涝高风险区"},
            {"region": NEXT, "hazard": 0.2, "basis": "一般风险区"}]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let shelter = json!({"code": "SH-1", "name": "幸福社区避难点", "region": HOME,
        "latitude": 30.05, "longitude": 114.05, "capacity": 1});
    let r = app
        .post("/api/v1/safety/shelters", Some(&officer), &shelter)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post("/api/v1/safety/shelters", Some(&officer), &shelter)
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // The assessment: three residents born in 1950 (all elderly) by a river, one place
    // in a shelter (a third of the tenth the method asks for).
    let r = app
        .post("/api/v1/safety/risk/assessment", Some(&officer), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    let home = &a["regions"][0];
    assert_eq!(home["region"], HOME, "{a}");
    assert_eq!(home["population"], 3);
    assert_eq!(home["elderly"], 3);
    assert_eq!(home["vulnerable"], 3);
    assert_eq!(home["capacity"], 1.0);
    // 100 × 0.9 × (0.4 × 1 + 0.6 × 1) × (1 − 0.3 × 1) = 63: orange.
    assert_eq!(home["score"], 63.0);
    assert_eq!(home["level"], "orange");
    assert_eq!(a["regions"][1]["region"], NEXT);
    assert_eq!(a["regions"][1]["level"], "green");
    let r = app
        .get("/api/v1/safety/risk/assessment", Some(&resident))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let geo: Value = app
        .get("/api/v1/safety/risk/map.geojson", None)
        .await
        .json()
        .await
        .unwrap();
    let feature = geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["code"] == HOME)
        .unwrap();
    assert_eq!(feature["properties"]["level"], "orange");
    assert_eq!(feature["properties"]["colour"], "#ef6c00");
    assert!(feature["properties"].get("population").is_none());
    let svg = app
        .get("/api/v1/safety/risk/map.svg", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        svg.contains("fill=\"#ef6c00\"") && svg.contains("五色风险图"),
        "{svg}"
    );

    // Warnings: residents are told from orange, by the emergency bureau.
    let mut rules: Value = app
        .get("/api/v1/safety/warnings/rules", None)
        .await
        .json()
        .await
        .unwrap();
    rules["notify_residents_from"] = json!("green");
    let r = put(&app, "/api/v1/safety/warnings/rules", &admin, &rules).await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "notify_residents_from"
    );
    rules["notify_residents_from"] = json!("orange");
    let r = put(&app, "/api/v1/safety/warnings/rules", &admin, &rules).await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "notify_organisation_id"
    );
    rules["notify_organisation_id"] = json!(emergency);
    let r = put(&app, "/api/v1/safety/warnings/rules", &admin, &rules).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // Forecasts: bad lines named; the good import stored.
    for (text, field) in [
        ("area,hours,mm\n", "header"),
        (
            "region,horizon_hours,rain_mm\n990102009009,3,30\n",
            "line 2.region",
        ),
        (
            "region,horizon_hours,rain_mm\n990102001001,5,30\n",
            "line 2.horizon_hours",
        ),
        (
            "region,horizon_hours,rain_mm\n990102001001,3,-1\n",
            "line 2.rain_mm",
        ),
        (
            "region,horizon_hours,rain_mm\n990102001001,3,10\n990102001001,3,20\n",
            "line 3",
        ),
    ] {
        let r = csv(&app, &officer, text).await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            field,
            "{text}"
        );
    }
    problem(
        csv(&app, &resident, "region,horizon_hours,rain_mm\n").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = csv(
        &app,
        &officer,
        "region,horizon_hours,rain_mm\n990102001001,3,30\n990102001001,6,30\n",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // A rain gauge that took 40 mm in the last two hours, a river gauge rising 0.5 m an
    // hour towards its warning level of 25 m (guaranteed level 27.5 m).
    for body in [
        json!({"code": "RG-1", "name": "幸福雨量站", "kind": "rain_gauge", "region": HOME,
            "latitude": 30.02, "longitude": 114.02}),
        json!({"code": "RL-1", "name": "幸福水位站", "kind": "river_level", "region": HOME,
            "latitude": 30.03, "longitude": 114.03, "warning_level": 25.0, "guarantee_level": 27.5}),
    ] {
        let r = app
            .post(
                "/api/v1/safety/stations",
                Some(&admin),
                &Value::Object(
                    body.as_object()
                        .unwrap()
                        .clone()
                        .into_iter()
                        .chain([("organisation_id".to_string(), json!(emergency))])
                        .collect(),
                ),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let now = Timestamp::now().0;
    let at = |hours_ago: i64| Timestamp(now - hours_ago * 3_600_000_000).rfc3339();
    let batch = json!({"observations": [
        {"station": "RG-1", "observed_at": at(1), "value": 20.0},
        {"station": "RG-1", "observed_at": at(0), "value": 20.0},
        {"station": "RL-1", "observed_at": at(1), "value": 24.0},
        {"station": "RL-1", "observed_at": at(0), "value": 24.5},
    ]});
    let r = app
        .post("/api/v1/safety/observations", Some(&logger), &batch)
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The levels are recomputed on arrival, without being asked.
    let mut three = Value::Null;
    for _ in 0..100 {
        three = app
            .get("/api/v1/safety/warnings?horizon=3", None)
            .await
            .json()
            .await
            .unwrap();
        let home = three
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["region"] == HOME)
            .cloned();
        if home.is_some_and(|h| h["level"] == "orange") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let home = &three[0];
    assert_eq!(home["region"], HOME, "{three}");
    assert_eq!(home["level"], "orange", "{three}");
    // Why: the river, 24.5 m rising 0.5 m an hour, reaches its warning level of 25 m
    // within the hour; the last 2 hours' 40 mm with the hour's forecast 10 mm make 50 mm
    // in 3 hours (orange); with the 3 hours' forecast 30 mm, 70 mm in 6 hours (yellow),
    // also over 50 mm in 12 hours (blue).
    let reasons = home["reasons"].as_array().unwrap();
    let rule = |id: &str| {
        reasons
            .iter()
            .find(|r| r["rule"] == id)
            .unwrap_or_else(|| panic!("no {id}: {home}"))
    };
    let stage = rule("stage-warning");
    assert_eq!(stage["level"], "orange");
    assert_eq!(stage["station"], "RL-1");
    assert_eq!(stage["at_hours"], 1);
    assert_eq!(stage["rise_per_hour"], 0.5);
    assert_eq!(stage["observed"], 24.5);
    assert_eq!(stage["expected"], 0.5);
    let three_h = rule("rain-3h-50");
    assert_eq!(three_h["level"], "orange");
    assert_eq!(three_h["at_hours"], 1);
    assert_eq!(three_h["observed"], 40.0);
    assert_eq!(three_h["expected"], 10.0);
    let six_h = rule("rain-6h-50");
    assert_eq!(six_h["level"], "yellow");
    assert_eq!(six_h["observed"], 40.0);
    assert_eq!(six_h["expected"], 30.0);
    assert_eq!(rule("rain-12h-50")["level"], "blue");
    assert!(
        !reasons.iter().any(|r| r["rule"] == "rain-3h-100"),
        "{home}"
    );
    assert_eq!(reasons.len(), 4);
    let next = three
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["region"] == NEXT)
        .unwrap();
    assert_eq!(next["level"], "green");
    // In six hours the river reaches its guaranteed level: red.
    let six: Value = app
        .get("/api/v1/safety/warnings?horizon=6", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(six[0]["level"], "red", "{six}");
    assert_eq!(six[0]["reasons"][0]["rule"], "stage-guarantee");
    problem(
        app.get("/api/v1/safety/warnings?horizon=5", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // What changed, and the residents told at once, asked to acknowledge.
    let changes: Value = app
        .get("/api/v1/safety/warnings/changes", None)
        .await
        .json()
        .await
        .unwrap();
    let rise = changes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["region"] == HOME && c["horizon_hours"] == 3)
        .unwrap();
    assert_eq!(rise["from"], "green");
    assert_eq!(rise["to"], "orange");
    assert_eq!(rise["residents_notified"], 3);
    let inbox = app.all_pages("/api/v1/me/inbox", &resident).await;
    let notice = inbox
        .iter()
        .find(|m| m["subject"].as_str().unwrap_or("").contains("橙色预警"))
        .unwrap_or_else(|| panic!("{inbox:?}"));
    assert_eq!(notice["ack_required"], true);
    assert!(notice["body"].as_str().unwrap().contains("幸福水位站"));

    // The same batch again is all duplicates: the rain is not counted twice, and
    // recomputing changes nothing.
    let r = app
        .post("/api/v1/safety/observations", Some(&logger), &batch)
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["duplicates"], 4);
    let r = app
        .post(
            "/api/v1/safety/warnings/recompute",
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    let again: Value = app
        .get("/api/v1/safety/warnings?horizon=3", None)
        .await
        .json()
        .await
        .unwrap();
    let rain = again[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "rain-3h-50")
        .unwrap()
        .clone();
    assert_eq!(rain["observed"], 40.0, "{again}");
    let r = app
        .post(
            "/api/v1/safety/warnings/recompute",
            Some(&resident),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // The pages: the duty officer's map per horizon with every level explained, and the
    // five-colour map.
    let page = app
        .page(Method::GET, "/safety/warnings?horizon=6", &officer, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("红色") && page.contains("幸福水位站：现 24.50 m，每小时上涨 0.50 m，6 小时后约 27.50 m，将达到 27.50 m → 红色（规则 stage-guarantee）"),
        "{page}"
    );
    assert!(page.contains("最近 24 小时的变化") && page.contains("绿色（无） → 橙色"));
    let page = app
        .page(Method::GET, "/safety/risk", &officer, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("沿河低洼") && page.contains("63.0"), "{page}");
    let svg = app
        .get("/api/v1/safety/warnings/map.svg?horizon=6&lang=en", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(svg.contains("fill=\"#c62828\"") && svg.contains("next 6 hours"));
}

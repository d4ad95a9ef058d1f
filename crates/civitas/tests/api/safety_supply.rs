//! Relief supplies end to end: depots with stock, roads to the regions, needs from the
//! regions' warning levels and residents, the minimum-cost plan with its shortfall said,
//! dispatching it out of the stock all or nothing; bad input named; pages.

use kernel::auth::Role;
use kernel::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, rid};

const HAPPY: &str = "990102001001";
const PEACE: &str = "990102001002";
const FAR: &str = "990102002001";

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

/// A plan's shipments as (depot, region, supply, quantity), sorted.
fn shipments(plan: &Value) -> Vec<(String, String, String, i64)> {
    let mut out: Vec<_> = plan["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["depot"].as_str().unwrap().to_string(),
                s["region"].as_str().unwrap().to_string(),
                s["supply"].as_str().unwrap().to_string(),
                s["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_cheapest_plan_meets_what_stock_and_roads_allow_and_says_what_it_cannot() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    for (code, name) in [
        (PEACE, "平安社区"),
        ("990102002", "远山街道"),
        (FAR, "远山社区"),
    ] {
        let r = app
            .post(
                "/api/v1/regions",
                Some(&admin),
                &json!({"code": code, "name": name, "urban": true}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let areas = json!({"type": "FeatureCollection",
        "features": [square(HAPPY, 114.0), square(PEACE, 114.1), square(FAR, 115.0)]});
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
    let emergency = app.organisation(&admin, 1, "示例市应急管理局").await;
    let officer = app
        .account("duty", Role::Clerk, Some(&emergency), None)
        .await;
    let (_, _, resident) = app.citizen(&admin, 90, "居民", "resident").await;
    // Four residents in 幸福社区 (with the citizen: five), two in 平安社区.
    for (seq, region) in [
        (1, HAPPY),
        (2, HAPPY),
        (3, HAPPY),
        (4, HAPPY),
        (5, PEACE),
        (6, PEACE),
    ] {
        let r = app
            .post(
                "/api/v1/persons",
                Some(&admin),
                &json!({
                    "resident_id": rid(seq), "name": "居民", "region": region
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // The river over its guaranteed level in 幸福社区 (red), over its warning level in
    // 平安社区 (orange).
    for (code, region, value) in [("RL-H", HAPPY, 28.0), ("RL-P", PEACE, 25.5)] {
        let r = app
            .post(
                "/api/v1/safety/stations",
                Some(&admin),
                &json!({
                    "code": code, "name": code, "kind": "river_level", "region": region,
                    "latitude": 30.05, "longitude": 114.05, "warning_level": 25.0,
                    "guarantee_level": 27.5, "organisation_id": emergency
                }),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        let r = app
            .post(
                "/api/v1/safety/observations",
                Some(&officer),
                &json!({"observations": [
                {"station": code, "observed_at": Timestamp::now().rfc3339(), "value": value}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post(
            "/api/v1/safety/warnings/recompute",
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // The method: everyone affected at red, three in four at orange; per person a tent,
    // 10 litres of water, 3 rations.
    let method = json!({"affected_share": [0.25, 0.5, 0.75, 1.0],
        "per_person": {"tent": 1.0, "water": 10.0, "food": 3.0, "medicine": 0.0}});
    let r = put(&app, "/api/v1/safety/supplies/method", &officer, &method).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = put(
        &app,
        "/api/v1/safety/supplies/method",
        &admin,
        &json!({"affected_share": [0.5, 0.25, 0.75, 1.0], "per_person": {}}),
    )
    .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "affected_share[1]"
    );
    let r = put(
        &app,
        "/api/v1/safety/supplies/method",
        &admin,
        &json!({"affected_share": [0.0, 0.5, 0.75, 1.0], "per_person": {"water": -1.0}}),
    )
    .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "per_person.water"
    );
    let r = put(&app, "/api/v1/safety/supplies/method", &admin, &method).await;
    assert_eq!(r.status(), StatusCode::OK);

    // Depots: checked, staff on duty only.
    let depot = |code: &str, region: &str, stock: Value| {
        json!({"code": code, "name": format!("{code} 储备库"), "region": region,
            "latitude": 30.05, "longitude": 114.05, "stock": stock})
    };
    let r = app
        .post(
            "/api/v1/safety/depots",
            Some(&resident),
            &depot("D1", HAPPY, json!({})),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    for (body, field) in [
        (depot("D 1", HAPPY, json!({})), "code"),
        (depot("D1", "990102009009", json!({})), "region"),
        (depot("D1", HAPPY, json!({"tent": -1})), "stock.tent"),
    ] {
        let r = app
            .post("/api/v1/safety/depots", Some(&officer), &body)
            .await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    let r = app
        .post(
            "/api/v1/safety/depots",
            Some(&officer),
            &depot("D1", HAPPY, json!({"blankets": 3})),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;
    let r = app
        .post(
            "/api/v1/safety/depots",
            Some(&officer),
            &depot("D1", HAPPY, json!({"tent": 3, "water": 50, "food": 10})),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let r = app
        .post(
            "/api/v1/safety/depots",
            Some(&officer),
            &depot("D1", HAPPY, json!({})),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .post(
            "/api/v1/safety/depots",
            Some(&officer),
            &depot("D2", FAR, json!({"tent": 10, "food": 100})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Roads: each names a depot and a region, once, with its minutes.
    let road = |d: &str, r: &str, m: f64| json!({"depot": d, "region": r, "minutes": m});
    for (routes, field) in [
        (json!([road("D9", HAPPY, 1.0)]), "routes[0].depot"),
        (
            json!([road("D1", HAPPY, 1.0), road("D1", "990102009009", 1.0)]),
            "routes[1].region",
        ),
        (json!([road("D1", HAPPY, -1.0)]), "routes[0].minutes"),
        (
            json!([road("D1", HAPPY, 1.0), road("D1", HAPPY, 2.0)]),
            "routes[1]",
        ),
    ] {
        let r = put(
            &app,
            "/api/v1/safety/routes",
            &officer,
            &json!({"routes": routes}),
        )
        .await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    let routes = json!({"routes": [road("D1", HAPPY, 10.0), road("D1", PEACE, 30.0),
        road("D2", HAPPY, 60.0), road("D2", PEACE, 20.0)]});
    let r = put(&app, "/api/v1/safety/routes", &officer, &routes).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // The plan at 24 h: 幸福社区 red, 5 affected: 5 tents, 50 litres, 15 rations;
    // 平安社区 orange, 2 residents, 2 affected: 2 tents, 20 litres, 6 rations.
    let r = app
        .post(
            "/api/v1/safety/supplies/plans",
            Some(&officer),
            &json!({"horizon": 12}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "horizon"
    );
    let r = app
        .post("/api/v1/safety/supplies/plans", Some(&officer), &json!({}))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["state"], "proposed");
    assert_eq!(plan["horizon"], 24);
    let regions = plan["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 2, "{plan}");
    let happy = regions.iter().find(|r| r["region"] == HAPPY).unwrap();
    assert_eq!(happy["level"], "red");
    assert_eq!(happy["affected"], 5);
    assert_eq!(
        happy["need"],
        json!({"tent": 5, "water": 50, "food": 15, "medicine": 0})
    );
    assert_eq!(plan["total_need"]["water"], 70);
    // Water: D1's 50 litres go where they are cheapest (幸福社区, 10 minutes); 平安社区 is
    // 20 litres short, said so.
    assert_eq!(
        plan["total_unmet"],
        json!({"tent": 0, "water": 20, "food": 0, "medicine": 0})
    );
    let peace = regions.iter().find(|r| r["region"] == PEACE).unwrap();
    assert_eq!(peace["unmet"], json!({"water": 20}));
    let s = |d: &str, r: &str, supply: &str, q: i64| {
        (d.to_string(), r.to_string(), supply.to_string(), q)
    };
    assert_eq!(
        shipments(&plan),
        [
            s("D1", HAPPY, "food", 10),
            s("D1", HAPPY, "tent", 3),
            s("D1", HAPPY, "water", 50),
            s("D2", HAPPY, "food", 5),
            s("D2", HAPPY, "tent", 2),
            s("D2", PEACE, "food", 6),
            s("D2", PEACE, "tent", 2),
        ]
    );
    // tents 3×10 + 2×60 + 2×20, water 50×10, food 10×10 + 5×60 + 6×20
    assert_eq!(plan["cost"], 190.0 + 500.0 + 520.0);
    let id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(app.audit_count("safety.supply.plan").await, 1);

    // Dispatching takes the shipments out of the stock, once.
    let r = app
        .post(
            &format!("/api/v1/safety/supplies/plans/{id}/dispatch"),
            Some(&resident),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            &format!("/api/v1/safety/supplies/plans/{id}/dispatch"),
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "dispatched");
    let r = app
        .post(
            &format!("/api/v1/safety/supplies/plans/{id}/dispatch"),
            Some(&officer),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let depots: Value = app
        .get("/api/v1/safety/depots", Some(&officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        depots[0]["stock"],
        json!({"tent": 0, "water": 0, "food": 0, "medicine": 0})
    );
    assert_eq!(
        depots[1]["stock"],
        json!({"tent": 6, "water": 0, "food": 89, "medicine": 0})
    );

    // A plan whose stock changed before it was sent is refused whole.
    let second: Value = app
        .post(
            "/api/v1/safety/supplies/plans",
            Some(&officer),
            &json!({"horizon": 24}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["total_unmet"]["water"], 70);
    let r = put(
        &app,
        "/api/v1/safety/depots/D2/stock",
        &officer,
        &json!({"stock": {"tent": 1}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = put(
        &app,
        "/api/v1/safety/depots/D2/stock",
        &officer,
        &json!({"stock": {"tent": -5}}),
    )
    .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "stock.tent"
    );
    let r = put(
        &app,
        "/api/v1/safety/depots/D9/stock",
        &officer,
        &json!({"stock": {"tent": 1}}),
    )
    .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let second_id = second["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/safety/supplies/plans/{second_id}/dispatch"),
            Some(&officer),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let depots: Value = app
        .get("/api/v1/safety/depots", Some(&officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        depots[1]["stock"]["food"], 89,
        "nothing of the refused plan was taken"
    );

    // Pages.
    let page = app
        .page(Method::GET, "/safety/supplies", &officer, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("D1 储备库") && page.contains("已调运"),
        "{page}"
    );
    let page = app
        .page(
            Method::GET,
            &format!("/safety/supplies/plans/{second_id}"),
            &officer,
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("缺") && page.contains("按此方案调运"),
        "{page}"
    );
    let r = app
        .page(
            Method::POST,
            "/safety/supplies/routes",
            &officer,
            &[("routes", "D1,990102001001\n")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .page(
            Method::POST,
            "/safety/supplies/routes",
            &officer,
            &[("routes", "D1,990102001001,5\nD2，990102001002，15\n")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .page(
            Method::POST,
            "/safety/supplies/depots/new",
            &officer,
            &[
                ("code", "D3"),
                ("name", "三号库"),
                ("region", HAPPY),
                ("latitude", "30.0"),
                ("longitude", "114.0"),
                ("tent", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .page(
            Method::POST,
            "/safety/supplies/plans",
            &officer,
            &[("horizon", "6")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .page(Method::GET, "/safety/supplies", &resident, &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

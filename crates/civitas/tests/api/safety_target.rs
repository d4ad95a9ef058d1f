//! Targeted alerts end to end: an issued alert reaches exactly the residents registered in
//! the regions its area meets (or its geocodes name) and those whose shared location lies
//! in it, asking each to answer; the answers and the vulnerable of the area make the
//! danger-zone list, which a community worker sees for her region and works through; a
//! cancel goes to everyone the alert reached.

use kernel::auth::Role;
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

async fn resident(app: &TestApp, admin: &str, seq: u16, name: &str, region: &str) -> String {
    let r = app
        .post(
            "/api/v1/persons",
            Some(admin),
            &json!({
                "resident_id": rid(seq), "name": name, "phone": "13912345678", "region": region,
                "address": format!("{region} {seq} 号")
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn committee(app: &TestApp, admin: &str, index: usize, region: &str) -> String {
    let body = format!("54990100MB{index:07}");
    let check = identity::model::CreditCode::check_char(&body).unwrap();
    let r = app
        .post(
            "/api/v1/organisations",
            Some(admin),
            &json!({
                "credit_code": format!("{body}{check}"), "name": format!("{region} 居委会"),
                "kind": "community_committee", "level": "community", "region": region
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Drafts, approves and issues an alert; returns the issued record.
async fn issue(app: &TestApp, first: &str, second: &str, draft: &Value) -> Value {
    let r = app.post("/api/v1/safety/alerts", Some(first), draft).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    release(app, first, second, &id).await
}

async fn release(app: &TestApp, first: &str, second: &str, id: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/approve"),
            Some(second),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/issue"),
            Some(first),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

fn flood(area: Value) -> Value {
    json!({"info": [{"language": "zh-CN", "category": ["Met"], "event": "洪水",
        "urgency": "Immediate", "severity": "Extreme", "certainty": "Observed",
        "headline": "洪水红色预警", "instruction": "请立即向高处转移。", "area": [area]}]})
}

/// The notices in a resident's inbox: (subject, ack_required).
async fn inbox(app: &TestApp, token: &str) -> Vec<(String, bool)> {
    app.all_pages("/api/v1/me/inbox", token)
        .await
        .iter()
        .map(|m| {
            (
                m["subject"].as_str().unwrap().to_string(),
                m["ack_required"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn answer(app: &TestApp, token: &str, id: &str, body: &Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/safety/alerts/{id}/answer"),
        Some(token),
        body,
    )
    .await
}

#[tokio::test]
async fn an_alert_reaches_its_area_by_region_and_shared_location_and_its_people_are_helped() {
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
    let first = app
        .account("duty-first", Role::Clerk, Some(&emergency), None)
        .await;
    let second = app
        .account("duty-second", Role::Reviewer, Some(&emergency), None)
        .await;
    let happy_committee = committee(&app, &admin, 2, HAPPY).await;
    let far_committee = committee(&app, &admin, 3, FAR).await;
    let worker = app
        .account("worker", Role::Clerk, Some(&happy_committee), None)
        .await;
    let far_worker = app
        .account("far-worker", Role::Clerk, Some(&far_committee), None)
        .await;

    // 王大妈 and 李爷爷 (living alone) at home in 幸福社区; 赵叔 in 平安社区 next door;
    // 陈姐, registered in 远山社区 far away, is visiting 幸福社区 and shared where she is;
    // 周伯, also of 远山社区, stayed at home.
    // The far committee's system takes public notices for its own region only; the
    // district's hospital for the whole district.
    let far_admin = app
        .account("far-admin", Role::OrgAdmin, Some(&far_committee), None)
        .await;
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&far_admin),
            &json!({"url": "https://hooks.example.org/far", "region": FAR}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let happy_admin = app
        .account("happy-admin", Role::OrgAdmin, Some(&happy_committee), None)
        .await;
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&happy_admin),
            &json!({"url": "https://hooks.example.org/district", "region": "990102"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let wang = resident(&app, &admin, 1, "王大妈", HAPPY).await;
    let li = resident(&app, &admin, 2, "李爷爷", HAPPY).await;
    let zhao = resident(&app, &admin, 3, "赵叔", PEACE).await;
    let chen = resident(&app, &admin, 4, "陈姐", FAR).await;
    let zhou = resident(&app, &admin, 5, "周伯", FAR).await;
    let wang_t = app.account("wang", Role::Citizen, None, Some(&wang)).await;
    let zhao_t = app.account("zhao", Role::Citizen, None, Some(&zhao)).await;
    let chen_t = app.account("chen", Role::Citizen, None, Some(&chen)).await;
    let zhou_t = app.account("zhou", Role::Citizen, None, Some(&zhou)).await;

    let r = app
        .post(
            "/api/v1/tags",
            Some(&admin),
            &json!({
                "code": "lives-alone", "name": "独居老人", "organisation_id": happy_committee
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&worker),
            &json!({"add": [li], "purpose": "独居老人摸排"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let method = json!({"exposure_weight": 0.4, "vulnerability_weight": 0.6,
        "capacity_relief": 0.3, "shelter_share": 0.1, "elderly_age": 60,
        "vulnerable_tags": ["lives-alone"], "cuts": [20.0, 40.0, 60.0, 80.0]});
    let r = put(&app, "/api/v1/safety/risk/method", &admin, &method).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app
        .post(
            "/api/v1/safety/shelters",
            Some(&first),
            &json!({
                "code": "S-1", "name": "幸福小学", "region": HAPPY, "latitude": 30.02,
                "longitude": 114.02, "capacity": 300
            }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    // Sharing a location: checked, her own only, withdrawn and shared again.
    for (body, field) in [
        (json!({"latitude": 91.0, "longitude": 114.0}), "latitude"),
        (json!({"latitude": 30.0, "longitude": -181.0}), "longitude"),
    ] {
        let r = put(&app, "/api/v1/me/location", &chen_t, &body).await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    let r = put(
        &app,
        "/api/v1/me/location",
        &chen_t,
        &json!({"latitude": "north"}),
    )
    .await;
    problem(r, StatusCode::BAD_REQUEST).await;
    let here = json!({"latitude": 30.05, "longitude": 114.05});
    let r = put(&app, "/api/v1/me/location", &first, &here).await;
    problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        app.get("/api/v1/me/location", Some(&chen_t)).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = put(&app, "/api/v1/me/location", &chen_t, &here).await;
    assert_eq!(r.status(), StatusCode::OK);
    let shared: Value = app
        .get("/api/v1/me/location", Some(&chen_t))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shared["latitude"], 30.05);
    // Only a sealed point is stored, with its cell in clear.
    let (cell, sealed): (i64, Vec<u8>) = kernel::on_pool!(app.state.db.read(), |c| {
        sqlx::query_as("SELECT cell_lat, point_enc FROM safety_locations WHERE person_id = $1")
            .bind(&chen)
            .fetch_one(c)
            .await
    })
    .unwrap();
    assert_eq!(cell, 3005);
    assert!(!String::from_utf8_lossy(&sealed).contains("114.05"));
    let r = app
        .send(
            Method::DELETE,
            "/api/v1/me/location",
            Some(&zhou_t),
            &[],
            None,
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;

    // A flood polygon inside 幸福社区's square.
    let polygon = "30.01,114.01 30.01,114.09 30.09,114.09 30.09,114.01 30.01,114.01";
    let issued = issue(
        &app,
        &first,
        &second,
        &flood(json!({"areaDesc": "幸福社区沿河", "polygon": [polygon]})),
    )
    .await;
    let id = issued["id"].as_str().unwrap().to_string();
    let t = &issued["targeting"];
    assert_eq!(t["kind"], "alert");
    assert_eq!(
        t["regions"],
        json!([{"code": HAPPY, "name": "幸福社区", "by": "area"}])
    );
    assert_eq!(t["by_region"], 2, "{t}");
    assert_eq!(t["by_location"], 1, "{t}");
    assert_eq!(t["reached"], 3);
    assert_eq!(
        inbox(&app, &wang_t).await,
        [("【预警】洪水红色预警".to_string(), true)]
    );
    assert_eq!(inbox(&app, &chen_t).await.len(), 1);
    assert!(
        inbox(&app, &zhao_t).await.is_empty(),
        "next door is not in the area"
    );
    assert!(inbox(&app, &zhou_t).await.is_empty());
    assert_eq!(app.audit_count("safety.alert.target").await, 1);
    // Subscribed organisations: the district's webhook, not the far committee's.
    let notice = t["notice_id"].as_str().unwrap();
    let hooks: i64 = kernel::on_pool!(app.state.db.read(), |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE message_id = $1 AND channel = 'webhook'",
        )
        .bind(notice)
        .fetch_one(c)
        .await
    })
    .unwrap();
    assert_eq!(hooks, 1);
    let public: Value = app
        .get(&format!("/api/v1/safety/alerts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["targeting"]["reached"], 3);

    // Answers: hers only, checked.
    let r = answer(&app, &zhou_t, &id, &json!({"answer": "safe"})).await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = answer(&app, &wang_t, &id, &json!({"answer": "fine"})).await;
    problem(r, StatusCode::BAD_REQUEST).await;
    let r = answer(
        &app,
        &wang_t,
        &id,
        &json!({"answer": "safe", "note": "x".repeat(501)}),
    )
    .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "note");
    let r = answer(&app, &first, &id, &json!({"answer": "safe"})).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = answer(
        &app,
        &wang_t,
        &id,
        &json!({"answer": "need_help", "note": "腿脚不便，在二楼"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), "needs_help");
    let r = answer(&app, &chen_t, &id, &json!({"answer": "safe"})).await;
    assert_eq!(r.json::<Value>().await.unwrap(), "safe");
    let unread: Value = app
        .get("/api/v1/me/inbox/unread", Some(&wang_t))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        unread["awaiting_ack"], 0,
        "answering acknowledges the notice"
    );

    // The danger-zone list: those asking for help first, then the vulnerable; masked.
    let r = app
        .get(
            &format!("/api/v1/safety/alerts/{id}/danger-zone"),
            Some(&wang_t),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let zone: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{id}/danger-zone"),
            Some(&worker),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zone["region"], HAPPY);
    assert_eq!(
        zone["counts"],
        json!({"reached": 2, "notified": 1, "acknowledged": 0, "needs_help": 1, "transferred": 0, "safe": 0})
    );
    let people = zone["people"].as_array().unwrap();
    assert_eq!(people.len(), 2, "{zone}");
    assert_eq!(people[0]["person_id"], wang);
    assert_eq!(people[0]["status"], "needs_help");
    assert_eq!(people[0]["status_by_herself"], true);
    assert_eq!(people[0]["reasons"], json!(["asked for help"]));
    assert_ne!(people[0]["name"], "王大妈");
    assert_eq!(people[1]["person_id"], li);
    assert_eq!(people[1]["reasons"], json!(["lives-alone"]));
    assert_eq!(people[1]["status"], "notified");
    let whole: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{id}/danger-zone"),
            Some(&first),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(whole["counts"]["reached"], 3);
    assert_eq!(whole["counts"]["safe"], 1);
    let far: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{id}/danger-zone"),
            Some(&far_worker),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(far["counts"]["reached"], 1);
    assert_eq!(far["people"], json!([]));
    assert_eq!(app.audit_count("safety.danger_zone.read").await, 3);

    // A worker opens 王大妈 to reach her (audited) and records her transfer.
    let person = format!("/api/v1/safety/alerts/{id}/people/{wang}");
    let r = app.get(&person, Some(&far_worker)).await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .get(
            &format!("/api/v1/safety/alerts/{id}/people/{zhou}"),
            Some(&worker),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let opened: Value = app.get(&person, Some(&worker)).await.json().await.unwrap();
    assert_eq!(opened["name"], "王大妈");
    assert_eq!(opened["phone"], "13912345678");
    assert_eq!(opened["note"], "腿脚不便，在二楼");
    assert_eq!(app.audit_count("safety.evacuee.read").await, 1);
    for (body, field) in [
        (json!({"status": "notified"}), "status"),
        (
            json!({"status": "transferred", "shelter": "S-9"}),
            "shelter",
        ),
        (json!({"status": "safe", "shelter": "S-1"}), "shelter"),
    ] {
        let r = app.post(&person, Some(&worker), &body).await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    let r = app
        .post(
            &person,
            Some(&worker),
            &json!({"status": "transferred", "shelter": "S-1", "note": "已背下楼"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["status"], "transferred");
    assert_eq!(after["status_by_herself"], false);
    assert_eq!(after["shelter"], "S-1");
    assert_eq!(
        after["reasons"],
        json!(["asked for help"]),
        "she asked, and that stays"
    );
    assert_eq!(app.audit_count("safety.evacuation.step").await, 1);

    // Pages: her answer on the alert, the list for the worker, her location.
    let page = app
        .page(Method::GET, &format!("/safety/alerts/{id}"), &zhou_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("此预警发给了您"));
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/answer"),
            &chen_t,
            &[("answer", "need_help"), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app
        .page(Method::GET, &format!("/safety/alerts/{id}"), &chen_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("此预警发给了您") && page.contains("需要帮助"),
        "{page}"
    );
    let page = app
        .page(
            Method::GET,
            &format!("/safety/alerts/{id}/danger-zone"),
            &worker,
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("危险区域人员名单") && page.contains("已转移"),
        "{page}"
    );
    assert!(!page.contains("王大妈"));
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/people/{li}"),
            &worker,
            &[("status", "safe"), ("shelter", ""), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/people/{li}"),
            &worker,
            &[("status", "safe"), ("shelter", "S-1"), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = app
        .page(Method::GET, "/me/location", &chen_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("30.0500, 114.0500"), "{page}");
    let r = app
        .page(
            Method::POST,
            "/me/location",
            &zhou_t,
            &[("latitude", "abc"), ("longitude", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The cancel goes to the three it reached, asking nothing.
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/cancel"),
            Some(&first),
            &json!({"note": "洪水已退"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let cancel_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cancelled = release(&app, &first, &second, &cancel_id).await;
    assert_eq!(cancelled["targeting"]["kind"], "cancel");
    assert_eq!(cancelled["targeting"]["reached"], 3);
    assert_eq!(cancelled["targeting"]["chain_id"], id);
    let wang_inbox = inbox(&app, &wang_t).await;
    assert_eq!(wang_inbox.len(), 2);
    assert!(
        wang_inbox
            .iter()
            .any(|(s, ack)| s.starts_with("【预警解除】") && !ack)
    );
    assert!(inbox(&app, &zhou_t).await.is_empty());

    // Withdrawn, a location no longer draws alerts; geocodes name whole regions.
    let r = app
        .send(
            Method::DELETE,
            "/api/v1/me/location",
            Some(&chen_t),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let issued = issue(
        &app,
        &first,
        &second,
        &flood(
            json!({"areaDesc": "幸福社区与远山街道", "polygon": [polygon],
            "geocode": [{"valueName": "GB/T 2260", "value": "990102002"},
                        {"valueName": "SAME", "value": "006113"}]}),
        ),
    )
    .await;
    let t = &issued["targeting"];
    assert_eq!(
        t["regions"],
        json!([{"code": "990102002", "name": "远山街道", "by": "geocode"},
               {"code": HAPPY, "name": "幸福社区", "by": "area"}])
    );
    assert_eq!(t["by_region"], 4, "{t}");
    assert_eq!(t["by_location"], 0);
    assert_eq!(inbox(&app, &zhou_t).await.len(), 1);
    assert!(inbox(&app, &zhao_t).await.is_empty());
}

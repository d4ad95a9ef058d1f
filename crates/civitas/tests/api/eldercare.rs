//! Community elder care end to end: a community worker enrols an elder, the elder puts her
//! daughter in her circle, a wristband bound to her reports; bad readings are refused with
//! reasons and counted, a heart rate out of range raises an alert that tells her daughter,
//! folds the next one, escalates once (never twice) to the community worker when its step
//! falls due, and stops when the daughter is on her way; every read by someone else is in
//! the elder's footprint. A silent device raises its own alert and closes it on reporting
//! again; the elder asks for help from her page.

use kernel::auth::Role;
use kernel::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

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

/// The subjects in someone's inbox.
async fn inbox(app: &TestApp, token: &str) -> Vec<String> {
    app.all_pages("/api/v1/me/inbox", token)
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect()
}

/// A reading `seconds_ago` seconds old.
fn reading(device: &str, metric: &str, value: f64, seconds_ago: i64) -> Value {
    let at = Timestamp(Timestamp::now().0 - seconds_ago * 1_000_000).rfc3339();
    json!({"device": device, "metric": metric, "value": value, "observed_at": at})
}

struct Circle {
    app: TestApp,
    admin: String,
    elder: String,
    elder_t: String,
    daughter_t: String,
    worker_t: String,
    org: String,
}

/// An elder enrolled by her community worker, her daughter in her circle (level 1) and the
/// worker (level 2); a wristband bound to her.
async fn circle() -> Circle {
    circle_on(TestApp::spawn().await).await
}

/// The same circle on an app already spawned.
async fn circle_on(app: TestApp) -> Circle {
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "幸福社区居委会").await;
    let (elder, _, elder_t) = app.citizen(&admin, 1, "王秀英", "wang").await;
    let (_, daughter_rid, daughter_t) = app.citizen(&admin, 2, "李娟", "lijuan").await;
    let (worker, worker_rid) = app.person(&admin, 3, "张敏").await;
    let worker_t = app
        .account("zhangmin", Role::Clerk, Some(&org), Some(&worker))
        .await;
    // Enrolment is the community's.
    let r = app
        .post(
            "/api/v1/care/elders",
            Some(&daughter_t),
            &json!({"person_id": elder, "organisation_id": org}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/care/elders",
            Some(&worker_t),
            &json!({"person_id": elder, "organisation_id": org, "lives_alone": true}),
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
            "/api/v1/care/elders",
            Some(&worker_t),
            &json!({"person_id": elder, "organisation_id": org}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The elder adds her daughter; a wrong name does not find her.
    let path = format!("/api/v1/care/elders/{elder}/circle");
    let r = app
        .post(
            &path,
            Some(&elder_t),
            &json!({"name": "李娟娟", "resident_id": daughter_rid,
            "role": "relative", "relationship": "女儿"}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "resident_id"
    );
    let r = app
        .post(&path, Some(&elder_t), &json!({"name": "李娟", "resident_id": daughter_rid,
            "role": "relative", "relationship": "女儿", "quiet_from": "23:00", "quiet_until": "07:00"}))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let member: Value = r.json().await.unwrap();
    assert_eq!(member["level"], 1);
    assert_eq!(member["quiet_hours"], "23:00–07:00");
    // A staff member names her organisation.
    let r = app
        .post(
            &path,
            Some(&worker_t),
            &json!({"name": "张敏", "resident_id": worker_rid,
            "role": "community_worker", "relationship": "社区网格员"}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "organisation_id"
    );
    let r = app
        .post(
            &path,
            Some(&worker_t),
            &json!({"name": "张敏", "resident_id": worker_rid,
            "role": "community_worker", "relationship": "社区网格员", "organisation_id": org}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["level"], 2);
    // The daughter may see the circle but not change it.
    let r = app.get(&path, Some(&daughter_t)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        2
    );
    let r = app
        .post(
            &path,
            Some(&daughter_t),
            &json!({"name": "张敏", "resident_id": worker_rid,
            "role": "relative", "relationship": "邻居"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The wristband.
    let r = app
        .post(
            "/api/v1/care/devices",
            Some(&worker_t),
            &json!({"id": "WB-0001", "kind": "wristband",
            "organisation_id": org, "heartbeat_seconds": 60}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let r = put(
        &app,
        "/api/v1/care/devices/WB-0001/binding",
        &worker_t,
        &json!({"elder_id": elder}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["elder_id"], elder.as_str());
    Circle {
        app,
        admin,
        elder,
        elder_t,
        daughter_t,
        worker_t,
        org,
    }
}

#[tokio::test]
async fn an_alert_tells_the_circle_level_by_level_until_someone_answers() {
    let Circle {
        app,
        admin,
        elder,
        elder_t,
        daughter_t,
        worker_t,
        org,
    } = circle().await;
    let r = app
        .post(
            "/api/v1/care/devices",
            Some(&worker_t),
            &json!({"id": "WB-0002", "kind": "wristband",
            "organisation_id": org, "heartbeat_seconds": 60}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Bad readings are refused with reasons, counted, and raise nothing.
    let batch = json!({"readings": [
        reading("WB-9999", "heart_rate", 150.0, 5),
        {"device": "WB-0001", "metric": "heart_rate", "value": 150.0, "unit": "bpm",
         "observed_at": Timestamp::now().rfc3339()},
        reading("WB-0001", "heart_rate", 900.0, 5),
        reading("WB-0001", "glucose", 5.0, 5),
        reading("WB-0001", "pulse", 70.0, 5),
        reading("WB-0002", "heart_rate", 150.0, 5),
        reading("WB-0001", "heart_rate", 150.0, -3600),
        reading("WB-0001", "heart_rate", 72.0, 30),
    ]});
    let r = app
        .post("/api/v1/care/readings", Some(&worker_t), &batch)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    let reasons: Vec<&str> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "unknown_device",
            "wrong_unit",
            "impossible_value",
            "wrong_metric",
            "unknown_metric",
            "unbound_device",
            "in_the_future"
        ]
    );
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["alerts_raised"], 0);
    // Another organisation cannot send for this device.
    let (_, _, stranger_t) = app.citizen(&admin, 9, "赵六", "zhao").await;
    let r = app
        .post(
            "/api/v1/care/readings",
            Some(&stranger_t),
            &json!({"readings": [reading("WB-0001", "heart_rate", 150.0, 1)]}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["refused"][0]["reason"],
        "not_your_device"
    );
    let r = app
        .get(&format!("/api/v1/care/elders/{elder}"), Some(&stranger_t))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A heart rate of 150 raises an alert that tells the daughter at once.
    let high = json!({"readings": [reading("WB-0001", "heart_rate", 150.0, 2)]});
    let report: Value = app
        .post("/api/v1/care/readings", Some(&worker_t), &high)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["alerts_raised"], 1, "{report}");
    // Sent again: stored once, raises nothing more.
    let again: Value = app
        .post("/api/v1/care/readings", Some(&worker_t), &high)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            again["duplicates"].as_i64(),
            again["alerts_raised"].as_i64(),
            again["alerts_folded"].as_i64()
        ),
        (Some(1), Some(0), Some(0))
    );
    // A new high reading folds into the open alert.
    let report: Value = app
        .post(
            "/api/v1/care/readings",
            Some(&worker_t),
            &json!({"readings": [reading("WB-0001", "heart_rate", 160.0, 1)]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["alerts_folded"], 1);
    let alerts: Value = app
        .get(
            &format!("/api/v1/care/elders/{elder}/alerts"),
            Some(&daughter_t),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    let id = alerts[0]["id"].as_str().unwrap().to_string();
    assert_eq!(alerts[0]["kind"], "heart_rate");
    assert_eq!(alerts[0]["folded"], 1);
    assert_eq!(alerts[0]["level"], 1);
    assert!(
        inbox(&app, &daughter_t)
            .await
            .iter()
            .any(|s| s.contains("心率异常") && s.contains("王秀英"))
    );
    assert!(
        inbox(&app, &worker_t).await.is_empty(),
        "level 2 waits for its step"
    );
    let alert: Value = app
        .get(&format!("/api/v1/care/alerts/{id}"), Some(&daughter_t))
        .await
        .json()
        .await
        .unwrap();
    let timeline = alert["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["kind"], "raised");
    assert_eq!(timeline[0]["evidence"][0]["value"], 150.0);
    assert_eq!(timeline[0]["evidence"][0]["why"], "above 120");
    assert!(
        timeline
            .iter()
            .any(|s| s["kind"] == "told" && s["detail"].as_str().unwrap().contains("李娟"))
    );
    assert_eq!(timeline.last().unwrap()["kind"], "folded");
    // Readings are sealed at rest.
    let sealed: Vec<Vec<u8>> = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT value_enc FROM eldercare_readings"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    assert!(
        sealed
            .iter()
            .all(|v| !String::from_utf8_lossy(v).contains("150"))
    );

    // Its step falls due: it is taken once, however often the timer looks.
    app.exec(&format!(
        "UPDATE eldercare_alerts SET next_step_at = {} WHERE id = '{id}'",
        Timestamp::now().0 - 1_000_000
    ))
    .await;
    let first = eldercare::alerts::take_due_steps(&app.state).await.unwrap();
    let second = eldercare::alerts::take_due_steps(&app.state).await.unwrap();
    assert!(first <= 1 && second == 0);
    let alert: Value = app
        .get(&format!("/api/v1/care/alerts/{id}"), Some(&worker_t))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alert["level"], 2);
    let escalated: Vec<&Value> = alert["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "escalated")
        .collect();
    assert_eq!(escalated.len(), 1, "one step, never two: {alert}");
    assert!(escalated[0]["scheduled_at"].is_string());
    assert_eq!(inbox(&app, &worker_t).await.len(), 1);
    // The daughter is on her way: no more steps; then it is resolved, and closed.
    let path = format!("/api/v1/care/alerts/{id}/answers");
    let r = app
        .post(&path, Some(&elder_t), &json!({"answer": "on_my_way"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .post(
            &path,
            Some(&daughter_t),
            &json!({"answer": "on_my_way", "note": "十分钟到"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let alert: Value = r.json().await.unwrap();
    assert_eq!(alert["state"], "acknowledged");
    assert!(alert["next_step_at"].is_null());
    let r = app
        .post(&path, Some(&daughter_t), &json!({"answer": "maybe"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .post(&path, Some(&worker_t), &json!({"answer": "resolved"}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "resolved");
    let r = app
        .post(&path, Some(&daughter_t), &json!({"answer": "resolved"}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // Her daughter's and her worker's reads are in her footprint.
    assert!(app.audit_count("eldercare.alert.read").await >= 2);
    let footprint: Value = app
        .get("/api/v1/me/footprint?limit=100", Some(&elder_t))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        footprint["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "eldercare.alert.read"),
        "{footprint}"
    );
    // A closed alert frees its kind: the next high reading raises a new one.
    let report: Value = app
        .post(
            "/api/v1/care/readings",
            Some(&worker_t),
            &json!({"readings": [reading("WB-0001", "heart_rate", 30.0, 0)]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["alerts_raised"], 1);
}

#[tokio::test]
async fn a_silent_device_raises_its_alert_and_reporting_again_closes_it() {
    let Circle {
        app,
        elder,
        daughter_t,
        worker_t,
        ..
    } = circle().await;
    app.exec(&format!(
        "UPDATE eldercare_devices SET last_seen_at = {} WHERE id = 'WB-0001'",
        Timestamp::now().0 - 3_600_000_000
    ))
    .await;
    let raised = eldercare::alerts::check(&app.state, Timestamp::now())
        .await
        .unwrap();
    assert!(raised >= 1);
    let devices: Value = app
        .get(
            &format!("/api/v1/care/elders/{elder}/devices"),
            Some(&daughter_t),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(devices[0]["online"], false);
    let alerts: Value = app
        .get(
            &format!("/api/v1/care/elders/{elder}/alerts"),
            Some(&daughter_t),
        )
        .await
        .json()
        .await
        .unwrap();
    let offline = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "device_offline")
        .unwrap_or_else(|| panic!("no offline alert in {alerts}"));
    assert_eq!(offline["device_id"], "WB-0001");
    // Checking again raises nothing new.
    eldercare::alerts::check(&app.state, Timestamp::now())
        .await
        .unwrap();
    let r = app
        .post(
            "/api/v1/care/readings",
            Some(&worker_t),
            &json!({"readings": [reading("WB-0001", "heartbeat", 0.0, 0)]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let alerts: Value = app
        .get(
            &format!("/api/v1/care/elders/{elder}/alerts"),
            Some(&daughter_t),
        )
        .await
        .json()
        .await
        .unwrap();
    let offline: Vec<&Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "device_offline")
        .collect();
    assert_eq!(offline.len(), 1);
    assert_eq!(offline[0]["state"], "resolved");
}

#[tokio::test]
async fn the_elder_asks_for_help_from_her_page_and_her_daughter_answers_on_hers() {
    let Circle {
        app,
        elder_t,
        daughter_t,
        ..
    } = circle().await;
    let r = app.page(Method::GET, "/care", &elder_t, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("我需要帮助"), "{html}");
    assert!(html.contains("tel:13912345678"), "call my family: {html}");
    let r = app.page(Method::POST, "/care/help", &elder_t, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/care/alerts/"));
    let html = app
        .page(Method::GET, &location, &elder_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("紧急求助"), "{html}");
    let alerts: Value = app
        .get("/api/v1/care/alerts", Some(&daughter_t))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts[0]["kind"], "sos");
    let id = alerts[0]["id"].as_str().unwrap().to_string();
    assert!(
        inbox(&app, &daughter_t)
            .await
            .iter()
            .any(|s| s.contains("紧急求助"))
    );
    let page = app
        .page(Method::GET, &format!("/care/alerts/{id}"), &daughter_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("我在路上"));
    let r = app
        .page(
            Method::POST,
            &format!("/care/alerts/{id}/answer"),
            &daughter_t,
            &[("answer", "on_my_way")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app
        .page(Method::GET, &format!("/care/alerts/{id}"), &daughter_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("有人正在赶去"), "{page}");
    // The daughter's home lists her mother.
    let home = app
        .page(Method::GET, "/care", &daughter_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("王秀英"));
}

/// Readings published over MQTT (Mosquitto on 1883, as CI runs it) are taken as HTTP
/// batches are: a fall raises its alert; a message that is not a reading and a reading for
/// no device are counted.
#[tokio::test]
async fn a_fall_published_over_mqtt_raises_its_alert() {
    let prefix = format!("civitas-test-{}", kernel::ids::new_id());
    let topic_prefix = prefix.clone();
    let app = TestApp::spawn_configured(false, move |c| {
        c.mqtt_url = Some("mqtt://127.0.0.1:1883".into());
        c.mqtt_topic_prefix = topic_prefix;
    })
    .await;
    let Circle {
        app,
        elder,
        daughter_t,
        worker_t,
        ..
    } = circle_on(app).await;
    let mut options = rumqttc::MqttOptions::new(
        format!("publisher-{}", kernel::ids::new_id()),
        "127.0.0.1",
        1883,
    );
    options.set_keep_alive(std::time::Duration::from_secs(5));
    let (client, mut events) = rumqttc::AsyncClient::new(options, 100);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let at = Timestamp::now().rfc3339();
    let messages = [
        (
            "WB-0001",
            json!({"metric": "fall", "value": 1, "observed_at": at}).to_string(),
        ),
        ("WB-0001", "fell over".to_string()),
        (
            "XX-9",
            json!({"metric": "sos", "value": 1, "observed_at": at}).to_string(),
        ),
    ];
    // The node subscribes once it has connected: publish until the alert is there (the
    // same reading published again is stored once and raises nothing again).
    let mut alerts = Vec::new();
    for _ in 0..100 {
        for (device, payload) in &messages {
            client
                .publish(
                    format!("{prefix}/device/{device}"),
                    rumqttc::QoS::AtLeastOnce,
                    false,
                    payload.clone().into_bytes(),
                )
                .await
                .unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        alerts = app
            .get(
                &format!("/api/v1/care/elders/{elder}/alerts"),
                Some(&daughter_t),
            )
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap();
        if !alerts.is_empty() {
            break;
        }
    }
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "fall");
    assert_eq!(alerts[0]["folded"], 0, "published again, raised once");
    let counts: Vec<Value> = app
        .get("/api/v1/care/rejections", Some(&worker_t))
        .await
        .json()
        .await
        .unwrap();
    for (device, reason) in [("WB-0001", "bad_payload"), ("XX-9", "unknown_device")] {
        assert!(
            counts
                .iter()
                .any(|c| c["device"] == device && c["reason"] == reason),
            "{device} {reason} in {counts:?}"
        );
    }
}

#[tokio::test]
async fn the_community_worker_sees_her_elders_and_records_her_visits() {
    let Circle {
        app,
        elder,
        daughter_t,
        worker_t,
        org,
        ..
    } = circle().await;
    let path = format!("/api/v1/care/community?organisation_id={org}");
    let r = app.get(&path, Some(&daughter_t)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let list: Value = app.get(&path, Some(&worker_t)).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["person_id"], elder.as_str());
    assert_eq!(list[0]["lives_alone"], true);
    assert_eq!(list[0]["visit_due"], false, "enrolled today: due in a week");
    // Visits: hers to record; notes are sealed, and shown to the circle.
    let visits = format!("/api/v1/care/elders/{elder}/visits");
    let r = app
        .post(&visits, Some(&daughter_t), &json!({"note": "来看妈妈"}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(&visits, Some(&worker_t), &json!({"note": "x".repeat(1001)}))
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "note");
    let r = app
        .post(
            &visits,
            Some(&worker_t),
            &json!({"note": "血压正常，冰箱里有菜。"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let seen: Value = app
        .get(&visits, Some(&daughter_t))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen[0]["note"], "血压正常，冰箱里有菜。");
    assert_eq!(seen[0]["visitor_name"], "张敏");
    let sealed: Vec<Vec<u8>> = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT note_enc FROM eldercare_visits"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    assert!(!String::from_utf8_lossy(&sealed[0]).contains("血压"));
    // Eight days on, she is due again (she lives alone: every seven days).
    app.exec(&format!(
        "UPDATE eldercare_visits SET visited_at = {}",
        Timestamp::now().0 - 8 * 86_400_000_000
    ))
    .await;
    let list: Value = app.get(&path, Some(&worker_t)).await.json().await.unwrap();
    assert_eq!(list[0]["visit_due"], true);
    let page = app
        .page(Method::GET, "/care/community", &worker_t, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("王秀英") && page.contains("该走访了"),
        "{page}"
    );
    assert!(app.audit_count("eldercare.community.read").await >= 2);
}

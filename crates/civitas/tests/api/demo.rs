//! The demo city: enough people, organisations and regions to try every page, and the
//! demo accounts with their proxy authorisation.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

const PASSWORD: &str = civitas::demo::DEMO_PASSWORD;

#[tokio::test]
async fn demo_city_is_seeded() {
    assert_eq!(PASSWORD, "civitas-demo");
    let app = TestApp::spawn_demo().await;
    let admin = app.login("demo-admin", PASSWORD).await;

    // Residents: at least 1,000, at least 15% aged 60 or more.
    let persons = app.all_pages("/api/v1/persons?limit=200", &admin).await;
    assert!(persons.len() >= 1000, "{} persons", persons.len());
    let ids: BTreeSet<&str> = persons.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), persons.len(), "paging repeats no one");
    let today = time::OffsetDateTime::now_utc().date();
    // Born at least 61 years before this year: 60 or older whatever the birthday.
    let cutoff = i64::from(today.year() - 61);
    let elders = persons
        .iter()
        .filter(|p| p["birth_year"].as_i64().unwrap() <= cutoff)
        .count();
    assert!(
        elders * 100 >= persons.len() * 15,
        "{elders} of {} are 60 or older",
        persons.len()
    );
    for p in &persons {
        assert!(
            p["resident_id_masked"]
                .as_str()
                .unwrap()
                .contains("**********"),
            "{p}"
        );
        assert!(
            p["region_code"].as_str().unwrap().starts_with("9901"),
            "{p}"
        );
    }

    // Organisations: at least 20, of every kind.
    let orgs = app
        .all_pages("/api/v1/organisations?limit=200", &admin)
        .await;
    assert!(orgs.len() >= 20, "{} organisations", orgs.len());
    let kinds: BTreeSet<&str> = orgs.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    let all: BTreeSet<&str> = identity::model::OrgKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(all.len(), 7);
    assert_eq!(kinds, all);

    // Regions: at least 3 districts and 10 communities.
    let regions = app.all_pages("/api/v1/regions?limit=200", &admin).await;
    let level = |l: &str| regions.iter().filter(|r| r["level"] == l).count();
    assert!(level("county") >= 3, "{} districts", level("county"));
    assert!(
        level("community") >= 10,
        "{} communities",
        level("community")
    );

    // Every demo account signs in.
    for (username, _) in civitas::demo::DEMO_ACCOUNTS {
        app.login(username, PASSWORD).await;
    }

    // The relative acts for the elder.
    let elder = app.login("demo-elder", PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me", Some(&elder))
        .await
        .json()
        .await
        .unwrap();
    let elder_id = me["person"]["id"].as_str().unwrap().to_string();
    let relative = app.login("demo-relative", PASSWORD).await;
    let acting: Value = app
        .get_for("/api/v1/me", &relative, &elder_id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acting["acting_for"]["person"]["id"], elder_id.as_str());
    let r = app
        .get_for(&format!("/api/v1/persons/{elder_id}"), &relative, &elder_id)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "李秀英");

    // The elder's footprint shows the departments' reads and her son's.
    let page: Value = app
        .get("/api/v1/me/footprint", Some(&elder))
        .await
        .json()
        .await
        .unwrap();
    let reads: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "person.read")
        .collect();
    assert!(
        reads
            .iter()
            .any(|e| e["basis_kind"] == "proxy" && e["actor"] == "李建国"),
        "{reads:?}"
    );
    assert!(
        reads
            .iter()
            .filter(|e| e["basis_kind"] == "statutory" && e["organisation"].is_string())
            .count()
            >= 2,
        "{reads:?}"
    );

    // The citizen cannot act for the elder.
    let citizen = app.login("demo-citizen", PASSWORD).await;
    assert_eq!(
        app.get_for("/api/v1/me", &citizen, &elder_id)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // At least 40 monitoring stations of the emergency management bureau, each with its
    // last day of readings; the river at 滨江街道 is over its warning level.
    let stations: Vec<Value> = app
        .get("/api/v1/safety/stations", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(stations.len() >= 40, "{} stations", stations.len());
    let emergency = orgs
        .iter()
        .find(|o| o["name"] == "示例市应急管理局")
        .unwrap();
    assert!(
        stations
            .iter()
            .all(|s| s["organisation_id"] == emergency["id"])
    );
    let river = stations.iter().find(|s| s["code"] == "RL-01").unwrap();
    assert!(
        river["last_value"].as_f64().unwrap() > river["warning_level"].as_f64().unwrap(),
        "{river}"
    );
    let day: Vec<Value> = app
        .get("/api/v1/safety/stations/RG-111/observations", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(day.len(), 24);

    // The risk pictures: the river's community is orange for the next 3 hours, told at
    // once; the five-colour map ranks it above the hills and the rest.
    let three: Vec<Value> = app
        .get("/api/v1/safety/warnings?horizon=3", None)
        .await
        .json()
        .await
        .unwrap();
    let river_region = river["region"].as_str().unwrap();
    let there = three.iter().find(|w| w["region"] == river_region).unwrap();
    assert!(
        ["orange", "red"].contains(&there["level"].as_str().unwrap()),
        "{there}"
    );
    let changes: Vec<Value> = app
        .get("/api/v1/safety/warnings/changes", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["region"] == river_region && c["residents_notified"].as_i64() > Some(0)),
        "{changes:?}"
    );
    let map: Value = app
        .get("/api/v1/safety/risk/map.geojson", None)
        .await
        .json()
        .await
        .unwrap();
    let levels: std::collections::BTreeSet<&str> = map["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["properties"]["level"].as_str())
        .collect();
    assert!(levels.len() >= 3, "{levels:?}");
    // An issued CAP alert, public, in two languages, valid against the schema.
    let alerts: Value = app
        .get("/api/v1/safety/alerts", None)
        .await
        .json()
        .await
        .unwrap();
    let alert = &alerts[0];
    assert_eq!(alert["state"], "issued", "{alerts}");
    assert_eq!(alert["alert"]["info"].as_array().unwrap().len(), 2);
    let xml = app
        .get(
            &format!(
                "/api/v1/safety/alerts/{}/cap.xml",
                alert["id"].as_str().unwrap()
            ),
            None,
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert!(safety::cap::validate(&xml).is_valid());
    // It reached the river's residents; one asked for help and leads the danger-zone list.
    assert!(alert["targeting"].is_null(), "lists leave targeting out");
    let id = alert["id"].as_str().unwrap();
    let one: Value = app
        .get(&format!("/api/v1/safety/alerts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(one["targeting"]["reached"].as_i64() >= Some(3), "{one}");
    // The demo elder, registered elsewhere, shared her location by the river.
    assert_eq!(one["targeting"]["by_location"], 1, "{one}");
    let page = app
        .page(Method::GET, &format!("/safety/alerts/{id}"), &elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("此预警发给了您") && page.contains("我需要帮助"),
        "{page}"
    );
    let zone: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{id}/danger-zone"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zone["counts"]["needs_help"], 1, "{zone}");
    assert_eq!(zone["counts"]["safe"], 2, "{zone}");
    assert_eq!(zone["people"][0]["status"], "needs_help", "{zone}");
    // Three depots and a first allocation plan for the regions under warning.
    let depots: Value = app
        .get("/api/v1/safety/depots", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(depots.as_array().unwrap().len(), 3, "{depots}");
    let plans: Value = app
        .get("/api/v1/safety/supplies/plans", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plans[0]["state"], "proposed", "{plans}");
    assert!(
        !plans[0]["shipments"].as_array().unwrap().is_empty(),
        "{plans}"
    );

    // Community elder care: the demo elder with her son, and fifty-five more elders, each
    // with a relative in her circle and a wristband.
    let relative = app.login("demo-relative", "civitas-demo").await;
    let elders: Value = app
        .get("/api/v1/care/elders", Some(&relative))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(elders[0]["name"], "李秀英", "{elders}");
    let counts: (i64, i64, i64) = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM eldercare_elders),
                (SELECT COUNT(DISTINCT elder_id) FROM eldercare_members),
                (SELECT COUNT(DISTINCT elder_id) FROM eldercare_devices WHERE kind = 'wristband')"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert!(
        counts.0 >= 50 && counts.1 == counts.0 && counts.2 == counts.0,
        "{counts:?}"
    );

    // The demo's audit chains are intact.
    let (code, stdout, stderr) = app.cli(&["audit", "verify"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("intact"));
}

/// The readings of RL-01 since `since` (the replay's, not the demo's own).
async fn replayed(app: &TestApp, since: kernel::time::Timestamp) -> usize {
    let from = kernel::time::Timestamp(kernel::time::Timestamp::now().0 - 72 * 3_600_000_000);
    let readings: Value = app
        .get(
            &format!(
                "/api/v1/safety/stations/RL-01/observations?from={}",
                from.rfc3339()
            ),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    readings
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            kernel::time::Timestamp::parse_rfc3339(r["observed_at"].as_str().unwrap())
                .is_some_and(|t| t >= since)
        })
        .count()
}

/// `civitas demo replay-storm`: the recorded storm raises the levels, the officer's alert
/// reaches the river's people (the elder by her shared location) and she asks for help,
/// and the supplies are allocated and dispatched, over HTTP and over MQTT.
#[tokio::test]
async fn the_recorded_storm_replays_into_the_demo_over_http_and_mqtt() {
    use civitas::storm::{Via, demo_options, replay};
    let app = TestApp::spawn_demo().await;
    let mut options = demo_options(&app.url(""), Via::Http, PASSWORD);
    options.speed = 10_000_000.0;
    let stations: Value = app
        .get("/api/v1/safety/stations", None)
        .await
        .json()
        .await
        .unwrap();
    let since = kernel::time::Timestamp::now();
    let report = replay(&options).await.unwrap();
    assert_eq!(
        report.readings,
        48 * stations.as_array().unwrap().len(),
        "{report:?}"
    );
    assert_eq!(report.refused, 0, "{report:?}");
    assert!(
        report.orange_at_hour.is_some_and(|h| h > 0),
        "the storm raised a level: {report:?}"
    );
    assert_eq!(report.highest, "red", "{report:?}");
    assert!(report.reached > 0, "{report:?}");
    assert_eq!(
        report.answered, 1,
        "the elder, by her shared location: {report:?}"
    );
    assert!(report.shipments > 0, "{report:?}");
    assert_eq!(replayed(&app, since).await, 48);
    let admin = app.login("demo-admin", PASSWORD).await;
    let alert = report.alert_id.unwrap();
    let zone: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{alert}/danger-zone"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zone["counts"]["needs_help"], 1, "{zone}");
    let plan: Value = app
        .get(
            &format!("/api/v1/safety/supplies/plans/{}", report.plan_id.unwrap()),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plan["state"], "dispatched");

    // Over MQTT, through the broker the server listens to.
    let prefix = format!("civitas-test-{}", kernel::ids::new_id());
    let topic_prefix = prefix.clone();
    let app = TestApp::spawn_configured(true, move |c| {
        c.mqtt_url = Some("mqtt://127.0.0.1:1883".into());
        c.mqtt_topic_prefix = topic_prefix;
    })
    .await;
    // Let the listener subscribe.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut options = demo_options(&app.url(""), Via::Mqtt, PASSWORD);
    options.topic_prefix = prefix;
    options.speed = 200_000.0;
    let since = kernel::time::Timestamp::now();
    let report = replay(&options).await.unwrap();
    assert!(report.alert_id.is_some(), "{report:?}");
    let mut seen = 0;
    for _ in 0..100 {
        seen = replayed(&app, since).await;
        if seen == 48 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 48, "every replayed hour of RL-01 arrived over MQTT");
}

/// `civitas demo simulate-devices`: the demo's care devices report round after round; the
/// demo elder's fall and SOS press raise their alerts and tell her son; over MQTT too.
#[tokio::test]
async fn the_device_simulator_plays_the_demo_devices_and_the_elder_falls_and_asks_for_help() {
    use civitas::simulate::{Options, simulate};
    use civitas::storm::Via;
    let prefix = format!("civitas-test-{}", kernel::ids::new_id());
    let topic_prefix = prefix.clone();
    let app = TestApp::spawn_configured(true, move |c| {
        c.mqtt_url = Some("mqtt://127.0.0.1:1883".into());
        c.mqtt_topic_prefix = topic_prefix;
    })
    .await;
    let mut options = Options {
        base: app.url(""),
        via: Via::Http,
        mqtt_url: "mqtt://127.0.0.1:1883".into(),
        topic_prefix: prefix,
        password: PASSWORD.into(),
        rounds: 3,
        every: std::time::Duration::from_millis(50),
        fall_at: 2,
        sos_at: 3,
    };
    let report = simulate(&options).await.unwrap();
    assert!(report.devices >= 56, "{report:?}");
    assert!(report.fell && report.pressed, "{report:?}");
    assert_eq!(report.refused, 0, "{report:?}");
    let son = app.login("demo-relative", PASSWORD).await;
    let open: Value = app
        .get("/api/v1/care/alerts", Some(&son))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"fall") && kinds.contains(&"sos"), "{open}");
    // Over MQTT: the same devices' readings arrive through the broker, every one stored.
    let stored = || async {
        kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM eldercare_readings"
        )
        .fetch_one(c)
        .await)
        .unwrap()
    };
    let before = stored().await;
    options.via = Via::Mqtt;
    options.rounds = 2;
    options.fall_at = 0;
    options.sos_at = 0;
    let report = simulate(&options).await.unwrap();
    let mut taken = 0;
    for _ in 0..100 {
        taken = stored().await - before;
        if taken as usize >= report.readings {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(taken as usize, report.readings, "{report:?}");
}

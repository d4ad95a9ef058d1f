//! The demo city: enough people, organisations and regions to try every page, and the
//! demo accounts with their proxy authorisation.

use std::collections::BTreeSet;

use reqwest::StatusCode;
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

    // The demo's audit chains are intact.
    let (code, stdout, stderr) = app.cli(&["audit", "verify"]).await;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("intact"));
}

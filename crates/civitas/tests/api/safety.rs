//! Monitoring end to end: a department registers its stations; its system sends batches
//! of readings, each stored once per station and instant; bad readings — unknown
//! station, another department's station, wrong unit, impossible value, bad or future
//! time — are refused with reasons and counted; readings and stations read back, on the
//! API and the pages.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

fn station(code: &str, kind: &str, extra: Value) -> Value {
    let mut s = json!({"code": code, "name": format!("{code} 站"), "kind": kind,
        "region": "990102001001", "latitude": 30.51, "longitude": 114.32});
    if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
        s.extend(extra.clone());
    }
    s
}

#[tokio::test]
async fn stations_take_readings_once_and_refuse_bad_ones_with_reasons() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let water = app.organisation(&admin, 1, "示例市水务局").await;
    let weather = app.organisation(&admin, 2, "示例市气象局").await;
    let water_admin = app
        .account("water-admin", Role::OrgAdmin, Some(&water), None)
        .await;
    let logger = app
        .account("water-logger", Role::System, Some(&water), None)
        .await;
    let weather_logger = app
        .account("weather-logger", Role::System, Some(&weather), None)
        .await;

    // Registering: bad input is named; a clerk or another department cannot.
    for (field, body) in [
        ("code", station("a/b", "river_level", json!({}))),
        ("kind", station("RL-1", "tide", json!({}))),
        (
            "latitude",
            station("RL-1", "river_level", json!({"latitude": 91.0})),
        ),
        (
            "region",
            station("RL-1", "river_level", json!({"region": "990199999999"})),
        ),
        (
            "warning_level",
            station("RL-1", "river_level", json!({"warning_level": 900.0})),
        ),
        (
            "guarantee_level",
            station(
                "RL-1",
                "river_level",
                json!({"warning_level": 25.0, "guarantee_level": 24.0}),
            ),
        ),
    ] {
        let r = app
            .post("/api/v1/safety/stations", Some(&water_admin), &body)
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], field, "{p}");
    }
    let r = app
        .post(
            "/api/v1/safety/stations",
            Some(&logger),
            &station("RL-1", "river_level", json!({})),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    for body in [
        station(
            "RL-1",
            "river_level",
            json!({"warning_level": 25.0, "guarantee_level": 27.5}),
        ),
        station("RG-1", "rain_gauge", json!({})),
    ] {
        let r = app
            .post("/api/v1/safety/stations", Some(&water_admin), &body)
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let r = app
        .post(
            "/api/v1/safety/stations",
            Some(&water_admin),
            &station("RL-1", "river_level", json!({})),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // A batch: good readings, one sent twice, and one of each bad kind.
    let now = time::OffsetDateTime::now_utc();
    let at = |minutes_ago: i64| {
        kernel::time::Timestamp::from_datetime(now - time::Duration::minutes(minutes_ago)).rfc3339()
    };
    let batch = json!({"observations": [
        {"station": "RL-1", "observed_at": at(30), "value": 24.1, "unit": "m"},
        {"station": "RL-1", "observed_at": at(10), "value": 25.6},
        {"station": "RL-1", "observed_at": at(20), "value": 24.9},
        {"station": "RL-1", "observed_at": at(20), "value": 24.9},
        {"station": "RG-1", "observed_at": at(10), "value": 12.5, "unit": "mm"},
        {"station": "XX-9", "observed_at": at(10), "value": 1.0},
        {"station": "RL-1", "observed_at": at(5), "value": 25.0, "unit": "cm"},
        {"station": "RG-1", "observed_at": at(5), "value": -3.0},
        {"station": "RG-1", "observed_at": "yesterday", "value": 1.0},
        {"station": "RG-1", "observed_at": at(-60), "value": 1.0},
    ]});
    let r = app
        .post("/api/v1/safety/observations", Some(&logger), &batch)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &report["accepted"],
            &report["duplicates"],
            &report["rejected"]
        ),
        (&json!(4), &json!(1), &json!(5)),
        "{report:#}"
    );
    let reasons: Vec<(u64, &str)> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (5, "unknown_station"),
            (6, "unit_mismatch"),
            (7, "out_of_range"),
            (8, "bad_time"),
            (9, "in_the_future")
        ]
    );
    // Sent again: every good reading is a duplicate, nothing new is stored.
    let r = app
        .post("/api/v1/safety/observations", Some(&logger), &batch)
        .await;
    let again: Value = r.json().await.unwrap();
    assert_eq!(
        (&again["accepted"], &again["duplicates"]),
        (&json!(0), &json!(5))
    );
    // Another department's system cannot send this department's readings.
    let r = app
        .post(
            "/api/v1/safety/observations",
            Some(&weather_logger),
            &json!({"observations": [{"station": "RL-1", "observed_at": at(1), "value": 25.0}]}),
        )
        .await;
    let theirs: Value = r.json().await.unwrap();
    assert_eq!(
        theirs["refused"][0]["reason"], "not_your_station",
        "{theirs}"
    );

    // Bad batches: too many, not JSON, not signed in.
    let many: Vec<Value> = (0..10_001)
        .map(|i| json!({"station": "RG-1", "observed_at": at(i), "value": 0.0}))
        .collect();
    let r = app
        .post(
            "/api/v1/safety/observations",
            Some(&logger),
            &json!({"observations": many}),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "observations", "{p}");
    let r = app
        .send(
            Method::POST,
            "/api/v1/safety/observations",
            Some(&logger),
            &[],
            Some(("text/plain", b"RL-1 25.0".to_vec())),
        )
        .await;
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let r = app
        .post(
            "/api/v1/safety/observations",
            Some(&logger),
            &json!({"observations": [{"station": "RL-1", "value": 1.0}]}),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(p["field"].as_str().unwrap().contains("observations"), "{p}");
    let r = app.post("/api/v1/safety/observations", None, &batch).await;
    problem(r, StatusCode::UNAUTHORIZED).await;

    // The station keeps its latest reading (not the last sent); readings read back.
    let r = app.get("/api/v1/safety/stations/RL-1", None).await;
    let rl: Value = r.json().await.unwrap();
    assert_eq!(rl["last_value"], 25.6, "{rl}");
    let r = app
        .get("/api/v1/safety/stations/RL-1/observations", None)
        .await;
    let readings: Vec<Value> = r.json().await.unwrap();
    let values: Vec<f64> = readings
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [25.6, 24.9, 24.1]);
    let r = app
        .get("/api/v1/safety/stations/RL-1/observations?from=soon", None)
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "from");
    let r = app
        .get("/api/v1/safety/stations/NOPE/observations", None)
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app.get("/api/v1/safety/stations?region=990102", None).await;
    let listed: Vec<Value> = r.json().await.unwrap();
    assert_eq!(listed.len(), 2);

    // Refused readings are counted by station and reason, for staff.
    let r = app
        .get("/api/v1/safety/rejections", Some(&water_admin))
        .await;
    let counts: Vec<Value> = r.json().await.unwrap();
    let count = |station: &str, reason: &str| {
        counts
            .iter()
            .find(|c| c["station"] == station && c["reason"] == reason)
            .map(|c| c["count"].as_i64().unwrap())
    };
    assert_eq!(count("XX-9", "unknown_station"), Some(2), "{counts:?}");
    assert_eq!(count("RL-1", "not_your_station"), Some(1), "{counts:?}");

    // The pages: the list marks the station over its warning level; the station's page
    // lists its readings; registering through the form names a bad field.
    let page = app
        .page(Method::GET, "/safety/stations", &water_admin, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("25.6 m（超警戒）"), "{page}");
    let page = app
        .page(Method::GET, "/safety/stations/RL-1", &water_admin, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("24.9 m") && page.contains("27.5 m"), "{page}");
    let r = app
        .page(
            Method::POST,
            "/safety/stations/new",
            &water_admin,
            &[
                ("code", "WD-1"),
                ("name", "江滩风速站"),
                ("kind", "wind"),
                ("region", "990102001001"),
                ("latitude", "north"),
                ("longitude", "114.3"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("latitude is a number"));
    let r = app
        .page(
            Method::POST,
            "/safety/stations/new",
            &water_admin,
            &[
                ("code", "WD-1"),
                ("name", "江滩风速站"),
                ("kind", "wind"),
                ("region", "990102001001"),
                ("latitude", "30.6"),
                ("longitude", "114.3"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app
        .page(Method::GET, "/safety/rejections", &water_admin, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("XX-9") && page.contains("站点不存在"),
        "{page}"
    );
}

/// Readings published over MQTT (Mosquitto on 1883, as CI runs it) are stored as HTTP
/// batches are: one reading or a list per message, the station named by the topic; a
/// message that is not a reading, and a reading for no station, are counted.
#[tokio::test]
async fn readings_arrive_over_mqtt() {
    let prefix = format!("civitas-test-{}", kernel::ids::new_id());
    let topic_prefix = prefix.clone();
    let app = TestApp::spawn_configured(false, move |c| {
        c.mqtt_url = Some("mqtt://127.0.0.1:1883".into());
        c.mqtt_topic_prefix = topic_prefix;
    })
    .await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let water = app.organisation(&admin, 1, "示例市水务局").await;
    let water_admin = app
        .account("water-admin", Role::OrgAdmin, Some(&water), None)
        .await;
    let r = app
        .post(
            "/api/v1/safety/stations",
            Some(&water_admin),
            &station("RL-1", "river_level", json!({"warning_level": 25.0})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let mut options = rumqttc::MqttOptions::new(
        format!("publisher-{}", kernel::ids::new_id()),
        "127.0.0.1",
        1883,
    );
    options.set_keep_alive(std::time::Duration::from_secs(5));
    let (client, mut events) = rumqttc::AsyncClient::new(options, 100);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let now = time::OffsetDateTime::now_utc();
    let at = |minutes_ago: i64| {
        kernel::time::Timestamp::from_datetime(now - time::Duration::minutes(minutes_ago)).rfc3339()
    };
    let messages = [
        (
            "RL-1",
            json!({"observed_at": at(3), "value": 24.2, "unit": "m"}).to_string(),
        ),
        (
            "RL-1",
            json!([{"observed_at": at(2), "value": 24.8}, {"observed_at": at(1), "value": 25.3}])
                .to_string(),
        ),
        ("RL-1", "25.9 m".to_string()),
        (
            "XX-9",
            json!({"observed_at": at(1), "value": 1.0}).to_string(),
        ),
    ];
    // The node subscribes once it has connected: publish until the first reading lands.
    let mut stored = Vec::new();
    for _ in 0..100 {
        for (station, payload) in &messages {
            client
                .publish(
                    format!("{prefix}/obs/{station}"),
                    rumqttc::QoS::AtLeastOnce,
                    false,
                    payload.clone().into_bytes(),
                )
                .await
                .unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let r = app
            .get("/api/v1/safety/stations/RL-1/observations", None)
            .await;
        stored = r.json::<Vec<Value>>().await.unwrap();
        if stored.len() >= 3 {
            break;
        }
    }
    let values: Vec<f64> = stored
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [25.3, 24.8, 24.2], "published again, stored once");
    let r = app
        .get("/api/v1/safety/rejections", Some(&water_admin))
        .await;
    let counts: Vec<Value> = r.json().await.unwrap();
    for (station, reason) in [("RL-1", "bad_payload"), ("XX-9", "unknown_station")] {
        assert!(
            counts
                .iter()
                .any(|c| c["station"] == station && c["reason"] == reason),
            "{station} {reason} in {counts:?}"
        );
    }
}

/// Regions' areas are imported as GeoJSON (bad features named), served back as GeoJSON,
/// and drawn with the stations as an SVG map on the API and the map page.
#[tokio::test]
async fn areas_import_as_geojson_and_the_map_draws_them_with_the_stations() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let square = |lon: f64, lat: f64| json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]]});
    let collection = |features: Vec<Value>| {
        json!({"type": "FeatureCollection", "features": features})
            .to_string()
            .into_bytes()
    };
    let feature = |code: &str, geometry: Value| json!({"type": "Feature", "properties": {"code": code}, "geometry": geometry});
    let put = |body: Vec<u8>, token: String| {
        let app = &app;
        async move {
            app.send(
                Method::PUT,
                "/api/v1/safety/areas",
                Some(&token),
                &[],
                Some(("application/geo+json", body)),
            )
            .await
        }
    };
    for (body, field) in [
        (b"{\"type\": \"Point\"".to_vec(), None),
        (
            collection(vec![
                json!({"type": "Feature", "properties": {}, "geometry": square(114.0, 30.0)}),
            ]),
            Some("features[0].properties.code"),
        ),
        (
            collection(vec![
                feature("990102001001", square(114.0, 30.0)),
                feature("990199000000", square(114.2, 30.0)),
            ]),
            Some("features[1].properties.code"),
        ),
        (
            collection(vec![feature(
                "990102001001",
                json!({"type": "Polygon", "coordinates": [[[114.0, 30.0], [114.1, 30.0], [114.1, 30.1], [114.0, 30.1]]]}),
            )]),
            Some("features[0].geometry"),
        ),
        (
            collection(vec![feature(
                "990102001001",
                json!({"type": "Point", "coordinates": [114.0, 30.0]}),
            )]),
            Some("features[0].geometry"),
        ),
        (
            collection(vec![feature("990102001001", square(214.0, 30.0))]),
            Some("features[0].geometry"),
        ),
    ] {
        let p = problem(put(body, admin.clone()).await, StatusCode::BAD_REQUEST).await;
        if let Some(field) = field {
            assert_eq!(p["field"], field, "{p}");
        }
    }
    let org = app.organisation(&admin, 1, "示例市应急管理局").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let good = collection(vec![feature("990102001001", square(114.3, 30.5))]);
    problem(put(good.clone(), clerk).await, StatusCode::FORBIDDEN).await;
    let r = put(good, admin.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 1);

    let r = app.get("/api/v1/safety/areas", None).await;
    assert_eq!(r.headers()["content-type"], "application/geo+json");
    let areas: Value = r.json().await.unwrap();
    assert_eq!(areas["features"][0]["properties"]["name"], "幸福社区");
    assert_eq!(areas["features"][0]["geometry"]["type"], "Polygon");

    // A station over its warning level is drawn in the warning colour.
    let r = app
        .post(
            "/api/v1/safety/stations",
            Some(&admin),
            &station(
                "RL-1",
                "river_level",
                json!({"organisation_id": org, "latitude": 30.55, "longitude": 114.35, "warning_level": 25.0}),
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let at = kernel::time::Timestamp::now().rfc3339();
    let r = app
        .post(
            "/api/v1/safety/observations",
            Some(&admin),
            &json!({"observations": [{"station": "RL-1", "observed_at": at, "value": 25.4}]}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["accepted"], 1);
    let r = app.get("/api/v1/safety/map.svg?lang=en", None).await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("幸福社区"), "{svg}");
    assert!(
        svg.contains("fill=\"#e65100\" stroke=\"#ffffff\" stroke-width=\"1.5\"><title>RL-1"),
        "{svg}"
    );
    assert!(svg.contains("over warning level"));
    let page = app
        .page(Method::GET, "/safety/map", &admin, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("超过警戒水位的站点") && page.contains("25.4 m"),
        "{page}"
    );
}

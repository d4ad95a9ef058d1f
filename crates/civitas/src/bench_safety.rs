//! `civitas bench safety`: readings ingested per second over HTTP batches of 10,000 and
//! over MQTT from a separate publisher process, beside the rate Mosquitto alone passes the
//! same messages from the same publisher to a subscriber that only counts them, measured
//! in the same run on a scratch store (a temporary SQLite folder, or a scratch schema on
//! PostgreSQL); then the time from a river reading crossing its warning level to the
//! automatic notice being in the inboxes of the community's residents; then the time to
//! issue one CAP alert whose polygon covers four communities of N synthetic residents
//! (1,000,000 by default) plus residents registered elsewhere who shared a location inside
//! it: the regions it meets, the locations opened and tested, the fan-out into every
//! inbox, the commit.

use std::time::{Duration, Instant};

use kernel::config::Config;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Serialize;

/// Figures of one safety benchmark run.
#[derive(Debug, Serialize)]
pub struct SafetyFigures {
    /// Always `safety`.
    pub bench: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Stations the readings are spread over.
    pub stations: usize,
    /// Readings stored over HTTP.
    pub http_readings: u64,
    /// Readings per second over HTTP batches of 10,000 (checked, stored, once each).
    pub http_obs_per_s: f64,
    /// Messages (one reading each) the publisher sent in each MQTT phase.
    pub mqtt_messages: u64,
    /// Readings per second taken over MQTT (checked and stored).
    pub mqtt_obs_per_s: f64,
    /// Messages the node never received (the broker drops what a subscriber's queue
    /// cannot hold: Mosquitto's `max_queued_messages`, 1,000 by default).
    pub mqtt_dropped: u64,
    /// Messages per second Mosquitto passes from the same publisher to a counting
    /// subscriber (reference).
    pub mosquitto_per_s: f64,
    /// Messages the counting subscriber never received.
    pub mosquitto_dropped: u64,
    /// mqtt_obs_per_s / mosquitto_per_s.
    pub mqtt_ratio: f64,
    /// Residents of the community whose river crosses its warning level.
    pub threshold_residents: i64,
    /// Crossings timed.
    pub threshold_rounds: usize,
    /// From sending the reading that crosses the threshold (HTTP) to the notice being in
    /// every affected resident's inbox: median.
    pub threshold_to_inbox_p50_ms: Option<f64>,
    /// The same, 99th percentile.
    pub threshold_to_inbox_p99_ms: Option<f64>,
    /// Residents registered in the alert's regions, in the targeting phase.
    pub target_residents: i64,
    /// Residents registered elsewhere who shared a location inside the alert's area.
    pub target_located: i64,
    /// Issuing the alert and targeting every one of them (seconds).
    pub target_s: f64,
    /// `target_s` when `target_residents` is 1,000,000 (else null).
    pub target_1m_s: Option<f64>,
}

/// The payload of reading `k` of station `s`: one per second from `start`.
fn payload(start: i64, k: u64, value: f64) -> String {
    let at = kernel::time::Timestamp(start + k as i64 * 1_000_000).rfc3339();
    format!("{{\"observed_at\":\"{at}\",\"value\":{value}}}")
}

fn station_code(i: usize) -> String {
    format!("RG-{i:04}")
}

/// The publisher process: `messages` messages of one reading each to
/// `{topic}/RG-0000…`, spread over `stations`, QoS 1, as fast as the broker takes them;
/// exits once the broker acknowledged every one.
pub async fn publish(
    url: &str,
    topic: &str,
    stations: usize,
    messages: u64,
    start: i64,
) -> anyhow::Result<()> {
    let (host, port) = kernel::mqtt::broker(url).map_err(anyhow::Error::msg)?;
    let mut options = MqttOptions::new(format!("bench-pub-{}", kernel::ids::new_id()), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_inflight(1_000);
    let (client, mut events) = AsyncClient::new(options, 10_000);
    let stations = stations.max(1);
    let topics: Vec<String> = (0..stations)
        .map(|i| format!("{topic}/{}", station_code(i)))
        .collect();
    let sender = tokio::spawn(async move {
        for k in 0..messages {
            let s = (k % stations as u64) as usize;
            let body = payload(start, k / stations as u64, (k % 50) as f64 * 0.1);
            client
                .publish(
                    topics[s].clone(),
                    QoS::AtLeastOnce,
                    false,
                    body.into_bytes(),
                )
                .await?;
        }
        anyhow::Ok(client)
    });
    let mut acked = 0u64;
    while acked < messages {
        match events.poll().await? {
            Event::Incoming(Packet::PubAck(_)) => acked += 1,
            _ => continue,
        }
    }
    let client = sender.await??;
    client.disconnect().await.ok();
    Ok(())
}

/// Starts the publisher as its own process (this binary, `bench mqtt-publish`).
fn spawn_publisher(
    url: &str,
    topic: &str,
    stations: usize,
    messages: u64,
    start: i64,
) -> anyhow::Result<std::process::Child> {
    let exe = std::env::current_exe()?;
    Ok(std::process::Command::new(exe)
        .args([
            "bench",
            "mqtt-publish",
            "--url",
            url,
            "--topic",
            topic,
            "--stations",
            &stations.to_string(),
            "--messages",
            &messages.to_string(),
            "--start",
            &start.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()?)
}

/// Mosquitto alone: a subscriber that only counts, the publisher in its own process;
/// messages per second from the first received to the last, and how many never came.
async fn mosquitto_rate(
    url: &str,
    topic: &str,
    stations: usize,
    messages: u64,
) -> anyhow::Result<(f64, u64)> {
    use rumqttc::v5::mqttbytes::v5::Packet as Packet5;
    let (host, port) = kernel::mqtt::broker(url).map_err(anyhow::Error::msg)?;
    // An MQTT 5 subscriber with the node's own receive window, so that the reference and
    // the node get the same treatment from the broker.
    let mut options =
        rumqttc::v5::MqttOptions::new(format!("bench-ref-{}", kernel::ids::new_id()), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_receive_maximum(Some(kernel::mqtt::RECEIVE_MAXIMUM));
    let (client, mut events) = rumqttc::v5::AsyncClient::new(options, 10_000);
    client
        .subscribe(
            format!("{topic}/+"),
            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
        )
        .await?;
    // Wait for the subscription to be granted before publishing.
    loop {
        if let rumqttc::v5::Event::Incoming(Packet5::SubAck(_)) = events.poll().await? {
            break;
        }
    }
    let mut publisher = spawn_publisher(url, topic, stations, messages, 0)?;
    let mut received = 0u64;
    let (mut first, mut last) = (None, None);
    // Until every message arrived, or none for two seconds (a broker drops what a slow
    // subscriber's queue cannot hold: counted, not waited for).
    while received < messages {
        match tokio::time::timeout(Duration::from_secs(2), events.poll()).await {
            Ok(Ok(rumqttc::v5::Event::Incoming(Packet5::Publish(_)))) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last = Some(now);
                received += 1;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => break,
        }
    }
    publisher.wait()?;
    client.disconnect().await.ok();
    let elapsed = match (first, last) {
        (Some(f), Some(l)) => (l - f).as_secs_f64(),
        _ => 0.0,
    };
    Ok((
        received.saturating_sub(1) as f64 / elapsed.max(1e-9),
        messages - received,
    ))
}

/// Runs the benchmark: `seconds` of HTTP batches, then `messages` over MQTT (the
/// reference first, then the node), on the broker `mqtt_url` names (127.0.0.1:1883 when
/// unset).
pub async fn safety(
    config: &Config,
    seconds: f64,
    messages: u64,
    residents: i64,
) -> anyhow::Result<SafetyFigures> {
    let (app, demo, url, prefix, org) = crate::bench::mqtt_scratch(config).await?;
    let state = demo.state.clone();
    let admin = crate::demo::system_admin();
    let stations = 200;
    for i in 0..stations {
        safety::service::register_station(
            &state,
            &admin,
            safety::model::NewStation {
                code: station_code(i),
                name: format!("雨量站 {i}"),
                kind: "rain_gauge".into(),
                region: "990102001001".into(),
                latitude: 30.5,
                longitude: 114.3,
                organisation_id: Some(org.clone()),
                warning_level: Some(50.0),
                guarantee_level: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    identity::service::create_account(
        &state,
        None,
        identity::model::NewAccount {
            username: identity::model::Username::parse("bench-logger")
                .map_err(anyhow::Error::msg)?,
            password: crate::demo::DEMO_PASSWORD.into(),
            role: kernel::auth::Role::System,
            organisation_id: Some(org.clone()),
            person_id: None,
            display_name: Some("雨量站数据采集".into()),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (login, _) = identity::service::login(
        &state,
        identity::model::LoginRequest {
            username: "bench-logger".into(),
            password: crate::demo::DEMO_PASSWORD.into(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = demo.base.clone();
    tokio::spawn(app.run_until_stopped());

    // HTTP: batches of 10,000 readings, two connections, for `seconds`.
    let day_ago = kernel::time::Timestamp::now().0 - 86_400_000_000;
    let batch_body = |b: u64| {
        let readings: Vec<String> = (0..10_000u64)
            .map(|j| {
                let k = b * 10_000 + j;
                let s = (k % stations as u64) as usize;
                let at = kernel::time::Timestamp(
                    day_ago - 40 * 86_400_000_000 + (k / stations as u64) as i64 * 1_000_000,
                )
                .rfc3339();
                format!(
                    "{{\"station\":\"{}\",\"observed_at\":\"{at}\",\"value\":{}}}",
                    station_code(s),
                    (k % 50) as f64 * 0.1
                )
            })
            .collect();
        format!("{{\"observations\":[{}]}}", readings.join(","))
    };
    let planned = ((seconds * 120_000.0 / 10_000.0).ceil() as u64).clamp(4, 400);
    eprintln!("preparing {planned} batches of 10,000 readings…");
    let bodies: Vec<bytes::Bytes> = (0..planned)
        .map(|b| bytes::Bytes::from(batch_body(b)))
        .collect();
    let bodies = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    eprintln!("sending batches over HTTP for {seconds} s…");
    let started = Instant::now();
    let stop = started + Duration::from_secs_f64(seconds);
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (bodies, next, base, token) = (
            bodies.clone(),
            next.clone(),
            base.clone(),
            login.token.clone(),
        );
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut accepted = 0u64;
            while Instant::now() < stop {
                let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(b as usize) else {
                    break;
                };
                let r = client
                    .post(format!("{base}/api/v1/safety/observations"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                anyhow::ensure!(
                    r.status().is_success(),
                    "a batch was answered {}",
                    r.status()
                );
                let report: serde_json::Value = r.json().await?;
                accepted += report["accepted"].as_u64().unwrap_or(0);
            }
            anyhow::Ok(accepted)
        }));
    }
    let mut http_readings = 0;
    for w in workers {
        http_readings += w.await??;
    }
    let http_elapsed = started.elapsed().as_secs_f64();

    // MQTT: Mosquitto alone, then the node, the same messages from the same publisher.
    eprintln!("{messages} messages through Mosquitto to a counting subscriber (reference)…");
    let (mosquitto, mosquitto_dropped) =
        mosquitto_rate(&url, &format!("{prefix}/ref"), stations, messages).await?;
    eprintln!("{messages} readings over MQTT into the node…");
    let before = safety::mqtt::readings_taken();
    // Give the node's listener its subscription (it subscribes on connecting).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut publisher =
        spawn_publisher(&url, &format!("{prefix}/obs"), stations, messages, day_ago)?;
    let (mut first, mut last) = (None, Instant::now());
    let mut taken = 0;
    let mut quiet_since = Instant::now();
    // Until every reading is taken, or none for two seconds.
    while taken < messages && quiet_since.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let now_taken = safety::mqtt::readings_taken() - before;
        if now_taken > taken {
            let now = Instant::now();
            first.get_or_insert(now);
            last = now;
            quiet_since = now;
            taken = now_taken;
        }
    }
    publisher.wait()?;
    let mqtt_elapsed = first.map_or(0.0, |f| (last - f).as_secs_f64());
    let mqtt_rate = taken as f64 / mqtt_elapsed.max(1e-9);

    eprintln!(
        "{THRESHOLD_ROUNDS} threshold crossings, each told to {THRESHOLD_RESIDENTS} residents…"
    );
    let crossings = threshold_to_inbox(&state, &base, &login.token, &org).await?;
    eprintln!("an alert targeted at {residents} residents and {TARGET_LOCATED} shared locations…");
    let target = target_alert(&state, residents).await?;
    let store = demo.finish().await?;
    let round = crate::bench::round3;
    Ok(SafetyFigures {
        bench: "safety",
        store,
        stations,
        http_readings,
        http_obs_per_s: round(http_readings as f64 / http_elapsed.max(1e-9)),
        mqtt_messages: messages,
        mqtt_obs_per_s: round(mqtt_rate),
        mqtt_dropped: messages - taken,
        mosquitto_per_s: round(mosquitto),
        mosquitto_dropped,
        mqtt_ratio: round(mqtt_rate / mosquitto.max(1e-9)),
        threshold_residents: THRESHOLD_RESIDENTS,
        threshold_rounds: crossings.len(),
        threshold_to_inbox_p50_ms: Some(round(crate::bench::percentile(&crossings, 0.50))),
        threshold_to_inbox_p99_ms: Some(round(crate::bench::percentile(&crossings, 0.99))),
        target_residents: residents,
        target_located: TARGET_LOCATED,
        target_s: round(target.as_secs_f64()),
        target_1m_s: (residents == 1_000_000).then(|| round(target.as_secs_f64())),
    })
}

/// Residents registered elsewhere who shared a location inside the alert's area.
const TARGET_LOCATED: i64 = 10_000;

/// A square area of a region: 0.1° a side, its south-west corner at (lat, lon).
fn square(code: &str, lat: f64, lon: f64) -> serde_json::Value {
    serde_json::json!({"type": "Feature", "properties": {"code": code}, "geometry": {
        "type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1],
        [lon, lat + 0.1], [lon, lat]]]}})
}

/// The targeting phase: four communities side by side holding `residents` between them,
/// a far community whose `TARGET_LOCATED` residents shared a location inside the first
/// square; one alert drafted, approved by a second officer and issued through the service,
/// timed from the issue call to its return (the plan, the fan-out, the commit), and its
/// reach checked.
async fn target_alert(state: &kernel::AppState, residents: i64) -> anyhow::Result<Duration> {
    use safety::cap::model::*;
    let admin = crate::demo::system_admin();
    let err = |e: kernel::ApiError| anyhow::anyhow!("{e}");
    let region = |code: &str, name: &str| -> anyhow::Result<identity::model::NewRegion> {
        Ok(identity::model::NewRegion {
            code: identity::model::RegionCode::parse(code).map_err(anyhow::Error::msg)?,
            name: name.into(),
            urban: true,
        })
    };
    identity::service::create_region(state, &admin, region("990102002", "远山街道")?)
        .await
        .map_err(err)?;
    let mut features = Vec::new();
    for i in 1..=4 {
        let code = format!("99010200200{i}");
        identity::service::create_region(state, &admin, region(&code, &format!("远山{i}社区"))?)
            .await
            .map_err(err)?;
        let share = residents / 4 + i64::from(i <= (residents % 4) as i32);
        crate::bench_messaging::synthetic_persons(&state.db, share, &code, &format!("t{i}-"))
            .await?;
        features.push(square(&code, 31.0, 115.0 + 0.1 * f64::from(i - 1)));
    }
    let far = "990102003001";
    identity::service::create_region(state, &admin, region("990102003", "外地街道")?)
        .await
        .map_err(err)?;
    identity::service::create_region(state, &admin, region(far, "外地社区")?)
        .await
        .map_err(err)?;
    crate::bench_messaging::synthetic_persons(&state.db, TARGET_LOCATED, far, "loc-").await?;
    features.push(square(far, 35.0, 118.0));
    let areas = serde_json::json!({"type": "FeatureCollection", "features": features});
    safety::service::import_areas(state, &admin, &areas.to_string())
        .await
        .map_err(err)?;
    for k in 1..=TARGET_LOCATED {
        let mut visitor = kernel::auth::Principal::system();
        visitor.person_id = Some(format!("loc-{k:09}"));
        safety::service::targeting::share_location(
            state,
            &visitor,
            safety::model::LocationShare {
                latitude: 31.01 + (k % 80) as f64 * 0.001,
                longitude: 115.01 + (k / 80 % 80) as f64 * 0.001,
            },
        )
        .await
        .map_err(err)?;
    }
    let area = Area {
        area_desc: "远山街道全境".into(),
        polygon: vec!["30.99,114.99 30.99,115.41 31.11,115.41 31.11,114.99 30.99,114.99".into()],
        circle: Vec::new(),
        geocode: Vec::new(),
        altitude: None,
        ceiling: None,
    };
    let draft = safety::model::AlertDraft {
        status: None,
        scope: None,
        restriction: None,
        addresses: None,
        note: None,
        incidents: None,
        info: vec![Info {
            language: Some("zh-CN".into()),
            category: vec![Category::Met],
            event: "暴雨".into(),
            response_type: vec![ResponseType::Evacuate],
            urgency: Urgency::Immediate,
            severity: Severity::Extreme,
            certainty: Certainty::Observed,
            audience: None,
            event_code: Vec::new(),
            effective: None,
            onset: None,
            expires: None,
            sender_name: None,
            headline: Some("暴雨红色预警".into()),
            description: None,
            instruction: Some("请立即转移到安全地带。".into()),
            web: None,
            contact: None,
            parameter: Vec::new(),
            resource: Vec::new(),
            area: vec![area],
        }],
    };
    let record = safety::service::draft_alert(state, &admin, draft)
        .await
        .map_err(err)?;
    let mut approver = kernel::auth::Principal::system();
    approver.account_id = "bench-approver".into();
    safety::service::approve_alert(state, &approver, &record.id)
        .await
        .map_err(err)?;
    let started = Instant::now();
    let issued = safety::service::issue_alert(state, &admin, &record.id)
        .await
        .map_err(err)?;
    let took = started.elapsed();
    let reached = issued.targeting.map_or(0, |t| t.reached);
    anyhow::ensure!(
        reached == residents + TARGET_LOCATED,
        "the alert reached {reached}, not {}",
        residents + TARGET_LOCATED
    );
    Ok(took)
}

/// Residents of the community the river crosses its warning level in.
const THRESHOLD_RESIDENTS: i64 = 10_000;
/// Crossings timed.
const THRESHOLD_ROUNDS: usize = 20;

/// Threshold to inbox: a river gauge in a second community of `THRESHOLD_RESIDENTS`
/// synthetic residents, the rules telling residents from orange (no projection, so the
/// reading alone decides). Each round sends a reading under the warning level and waits
/// for the community to be green again, then sends one over it and times until the notice
/// is in the inboxes (it is written in the same transaction as every inbox entry, which
/// is checked after each round).
async fn threshold_to_inbox(
    state: &kernel::AppState,
    base: &str,
    token: &str,
    org: &str,
) -> anyhow::Result<Vec<Duration>> {
    use safety::model::{RiskLevel, WarningRules};
    let admin = crate::demo::system_admin();
    let err = |e: kernel::ApiError| anyhow::anyhow!("{e}");
    let community = "990102001002";
    identity::service::create_region(
        state,
        &admin,
        identity::model::NewRegion {
            code: identity::model::RegionCode::parse(community).map_err(anyhow::Error::msg)?,
            name: "和平社区".into(),
            urban: true,
        },
    )
    .await
    .map_err(err)?;
    crate::bench_messaging::synthetic_persons(&state.db, THRESHOLD_RESIDENTS, community, "river-")
        .await?;
    safety::service::register_station(
        state,
        &admin,
        safety::model::NewStation {
            code: "RL-BENCH".into(),
            name: "和平水位站".into(),
            kind: "river_level".into(),
            region: community.into(),
            latitude: 30.5,
            longitude: 114.3,
            organisation_id: Some(org.to_string()),
            warning_level: Some(25.0),
            guarantee_level: Some(27.5),
        },
    )
    .await
    .map_err(err)?;
    safety::service::set_rules(
        state,
        &admin,
        WarningRules {
            notify_residents_from: Some(RiskLevel::Orange),
            notify_organisation_id: Some(org.to_string()),
            project_hours: 0,
            // Every crossing is told: the bench times each.
            notify_again_after_hours: 0,
            ..WarningRules::default()
        },
    )
    .await
    .map_err(err)?;
    let client = reqwest::Client::new();
    let send = |value: f64| {
        let body = serde_json::json!({"observations": [{"station": "RL-BENCH",
            "observed_at": kernel::time::Timestamp::now().rfc3339(), "value": value}]});
        client
            .post(format!("{base}/api/v1/safety/observations"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let level = || async {
        let warnings = safety::service::warnings(state, 3).await.map_err(err)?;
        anyhow::Ok(
            warnings
                .iter()
                .find(|w| w.region == community)
                .map(|w| w.level),
        )
    };
    // Notices that reached someone: a rain gauge's region of the ingest phases may turn
    // a level too, and its notice, to no residents, is no crossing of this river.
    let notices = || async {
        let n: i64 = kernel::on_pool!(state.db.read(), |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE sender_org_id = $1 AND recipients > 0"
        )
        .bind(org)
        .fetch_one(c)
        .await)?;
        anyhow::Ok(n)
    };
    let deadline = Duration::from_secs(10);
    let mut timings = Vec::with_capacity(THRESHOLD_ROUNDS);
    for round in 0..THRESHOLD_ROUNDS {
        anyhow::ensure!(
            send(24.0).await?.status().is_success(),
            "a reading was refused"
        );
        let waiting = Instant::now();
        while level().await? != Some(RiskLevel::Green) {
            anyhow::ensure!(waiting.elapsed() < deadline, "the level never fell back");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let before = notices().await?;
        let started = Instant::now();
        anyhow::ensure!(
            send(25.5).await?.status().is_success(),
            "a reading was refused"
        );
        while notices().await? == before {
            anyhow::ensure!(
                started.elapsed() < deadline,
                "crossing {round}: no notice within {deadline:?}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        timings.push(started.elapsed());
        let reached: i64 = kernel::on_pool!(state.db.read(), |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbox_entries e JOIN messages m ON m.id = e.message_id
             WHERE m.sender_org_id = $1"
        )
        .bind(org)
        .fetch_one(c)
        .await)?;
        anyhow::ensure!(
            reached == THRESHOLD_RESIDENTS * (before + 1),
            "crossing {round}: {reached} inbox entries"
        );
    }
    timings.sort();
    Ok(timings)
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_safety(f: &SafetyFigures) {
    println!(
        "civitas bench safety — store: {}, {} stations",
        f.store, f.stations
    );
    println!("{:<60} {:>14}", "", "readings/s");
    println!(
        "{:<60} {:>14.0}",
        "HTTP batches of 10,000 (checked, stored once each)", f.http_obs_per_s
    );
    println!(
        "{:<60} {:>14.0}",
        "Mosquitto alone: publisher process → counting subscriber", f.mosquitto_per_s
    );
    println!(
        "{:<60} {:>14.0}",
        "MQTT into the node: publisher process → checked, stored", f.mqtt_obs_per_s
    );
    println!(
        "messages the broker dropped: node {}, counting subscriber {} (of {} each)",
        f.mqtt_dropped, f.mosquitto_dropped, f.mqtt_messages
    );
    println!(
        "MQTT ratio (node / Mosquitto alone): {:.3}  (goal ≥ 0.5); HTTP goal ≥ 50,000/s",
        f.mqtt_ratio
    );
    println!(
        "threshold → inbox ({} crossings, {} residents each): p50 {:.1} ms, p99 {:.1} ms  (goal p99 < 2,000 ms)",
        f.threshold_rounds,
        f.threshold_residents,
        f.threshold_to_inbox_p50_ms.unwrap_or(f64::NAN),
        f.threshold_to_inbox_p99_ms.unwrap_or(f64::NAN)
    );
    println!(
        "alert targeting: {} residents of 4 regions + {} by shared location in {:.3} s  (goal at 1M < 10 s)",
        f.target_residents, f.target_located, f.target_s
    );
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

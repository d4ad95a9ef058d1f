//! `civitas demo simulate-devices`: plays the demo's care devices against a running demo
//! server, over HTTP or MQTT. It finds every device bound to an elder of a community
//! committee (through the public API, as demo-admin), then each round sends what each kind
//! reports — a wristband its heart rate, blood oxygen, movement and battery, a water sensor
//! the water used, an SOS button its heartbeat — with a resting heart rate and a daily
//! rhythm of its own per elder; at the rounds it is told, the demo elder's wristband
//! reports a fall and her SOS button is pressed.

use std::time::Duration;

use anyhow::Context;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::storm::{Client, Via, connect};

/// The demo elder's devices, which fall and press for help.
const DEMO_WRISTBAND: &str = "WB-DEMO-0001";
const DEMO_SOS: &str = "SOS-DEMO-0001";

/// What `simulate-devices` is told.
#[derive(Clone, Debug)]
pub struct Options {
    /// The server, e.g. `http://127.0.0.1:8080`.
    pub base: String,
    /// HTTP or MQTT.
    pub via: Via,
    /// The broker (MQTT).
    pub mqtt_url: String,
    /// The server's topic prefix (MQTT).
    pub topic_prefix: String,
    /// demo-admin's password.
    pub password: String,
    /// Rounds to play (0: until stopped).
    pub rounds: u64,
    /// Time between rounds.
    pub every: Duration,
    /// The round at which the demo elder falls (0: never).
    pub fall_at: u64,
    /// The round at which she presses her SOS button (0: never).
    pub sos_at: u64,
}

/// What a simulation did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Devices played.
    pub devices: usize,
    /// Rounds played.
    pub rounds: u64,
    /// Readings sent.
    pub readings: usize,
    /// Readings the server refused (HTTP only: MQTT does not answer).
    pub refused: usize,
    /// Alerts raised and folded (HTTP only).
    pub alerts: usize,
    /// Whether the fall was sent.
    pub fell: bool,
    /// Whether the SOS was pressed.
    pub pressed: bool,
}

/// A device as played: its id, kind and its elder's resting heart rate.
struct Played {
    id: String,
    kind: String,
    resting: f64,
    battery: f64,
}

async fn devices(client: &Client, token: &str) -> anyhow::Result<Vec<Played>> {
    let mut committees = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => {
                format!("/api/v1/organisations?kind=community_committee&limit=200&cursor={c}")
            }
            None => "/api/v1/organisations?kind=community_committee&limit=200".to_string(),
        };
        let page = client
            .send(reqwest::Method::GET, &path, Some(token), None)
            .await?;
        for org in page["items"].as_array().into_iter().flatten() {
            committees.extend(org["id"].as_str().map(str::to_string));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let mut played = Vec::new();
    for org in committees {
        let elders = client
            .send(
                reqwest::Method::GET,
                &format!("/api/v1/care/community?organisation_id={org}"),
                Some(token),
                None,
            )
            .await?;
        for elder in elders.as_array().into_iter().flatten() {
            let Some(id) = elder["person_id"].as_str() else {
                continue;
            };
            let resting = rng.gen_range(58.0..82.0);
            let bound = client
                .send(
                    reqwest::Method::GET,
                    &format!("/api/v1/care/elders/{id}/devices"),
                    Some(token),
                    None,
                )
                .await?;
            for d in bound.as_array().into_iter().flatten() {
                if let (Some(id), Some(kind)) = (d["id"].as_str(), d["kind"].as_str()) {
                    played.push(Played {
                        id: id.to_string(),
                        kind: kind.to_string(),
                        resting,
                        battery: rng.gen_range(60.0..100.0),
                    });
                }
            }
        }
    }
    Ok(played)
}

/// One device's readings for one round: (device, metric, value).
fn round_of(
    device: &mut Played,
    round: u64,
    options: &Options,
    rng: &mut impl Rng,
) -> Vec<(&'static str, f64)> {
    let mut out = Vec::new();
    match device.kind.as_str() {
        "wristband" => {
            let hr: f64 = device.resting + rng.gen_range(-4.0..6.0);
            out.push(("heart_rate", hr.round()));
            out.push(("spo2", rng.gen_range(95.0f64..99.5).round()));
            out.push(("activity", f64::from(rng.gen_range(0..40u32))));
            device.battery = (device.battery - 0.01).max(5.0);
            out.push(("battery", (device.battery * 10.0).round() / 10.0));
            if device.id == DEMO_WRISTBAND && round == options.fall_at {
                out.push(("fall", 1.0));
            }
        }
        "water_sensor" => {
            let litres = if rng.gen_bool(0.3) {
                rng.gen_range(0.5f64..3.0)
            } else {
                0.0
            };
            out.push(("water_use", (litres * 10.0).round() / 10.0));
        }
        "sos_button" if device.id == DEMO_SOS && round == options.sos_at => out.push(("sos", 1.0)),
        _ => out.push(("heartbeat", 0.0)),
    }
    out
}

/// Plays the devices.
pub async fn simulate(options: &Options) -> anyhow::Result<Report> {
    let client = Client::new(&options.base);
    let token = client.login("demo-admin", &options.password).await?;
    let mut played = devices(&client, &token).await?;
    anyhow::ensure!(
        !played.is_empty(),
        "the server has no care devices bound to elders"
    );
    let mqtt = match options.via {
        Via::Mqtt => Some(connect(&options.mqtt_url).await?),
        Via::Http => None,
    };
    let prefix = options.topic_prefix.trim_end_matches('/');
    let mut rng = rand::rngs::StdRng::seed_from_u64(80);
    let mut report = Report {
        devices: played.len(),
        ..Report::default()
    };
    let mut round = 0;
    while options.rounds == 0 || round < options.rounds {
        round += 1;
        let at = kernel::time::Timestamp::now().rfc3339();
        let mut batch: Vec<Value> = Vec::new();
        for device in &mut played {
            let readings = round_of(device, round, options, &mut rng);
            report.fell |= readings.iter().any(|(m, _)| *m == "fall");
            report.pressed |= readings.iter().any(|(m, _)| *m == "sos");
            report.readings += readings.len();
            match &mqtt {
                Some(mqtt) => {
                    let body: Vec<Value> = readings
                        .iter()
                        .map(|(metric, value)| json!({"metric": metric, "value": value, "observed_at": at}))
                        .collect();
                    mqtt.publish(
                        format!("{prefix}/device/{}", device.id),
                        rumqttc::QoS::AtLeastOnce,
                        false,
                        serde_json::to_vec(&body)?,
                    )
                    .await
                    .context("publishing to the broker")?;
                }
                None => batch.extend(readings.iter().map(|(metric, value)| {
                    json!({"device": device.id, "metric": metric, "value": value, "observed_at": at})
                })),
            }
        }
        for chunk in batch.chunks(eldercare::ingest::MAX_BATCH) {
            let answer = client
                .send(
                    reqwest::Method::POST,
                    "/api/v1/care/readings",
                    Some(&token),
                    Some(json!({"readings": chunk})),
                )
                .await?;
            report.refused += answer["rejected"].as_u64().unwrap_or(0) as usize;
            report.alerts += (answer["alerts_raised"].as_u64().unwrap_or(0)
                + answer["alerts_folded"].as_u64().unwrap_or(0))
                as usize;
        }
        report.rounds = round;
        println!(
            "round {round}: {} devices, {} readings sent{}",
            report.devices,
            report.readings,
            if mqtt.is_some() {
                String::new()
            } else {
                format!(", {} refused, {} alerts", report.refused, report.alerts)
            }
        );
        tokio::time::sleep(options.every).await;
    }
    if let Some(mqtt) = mqtt {
        mqtt.disconnect().await.ok();
    }
    Ok(report)
}

//! `civitas demo replay-storm`: feeds the recorded 48-hour storm (`storm/storm-48h.csv`)
//! into a running demo server, over HTTP or MQTT, in accelerated time, and plays the
//! duty officer: when the storm raises a region's 3-hour level to orange it drafts a CAP
//! alert for the regions at orange and red, has a second officer approve it and issues it; residents
//! it reached answer; once the storm has passed its peak it computes the relief supply
//! plan and dispatches it. Everything goes through the public API, as a client would.
//!
//! The storm is recorded as one row per hour of curves — rain in the river's communities
//! and elsewhere, the river's stage against each gauge's warning level, a reservoir's rise,
//! wind, landslide displacement, temperature, PM2.5 — applied to each of the server's
//! stations by its kind. Each hour's readings are stamped as they are sent, so the server
//! sees the storm in accelerated time: an hour of it passes in 3,600 / speed seconds, and
//! the server's windows (rain over 3 or 6 hours, a river's rise per hour) hold more of the
//! storm than they would in a real one — its levels run ahead of a real storm's. With
//! `--speed 1` the storm is replayed as it happened. (Stamping the storm in the past at
//! its own hours does not work: the server judges as of its newest reading, which is the
//! demo's own of the present hour, so the replayed hours would fall outside its windows.)

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

/// The recorded storm: one row per hour.
const STORM: &str = include_str!("../storm/storm-48h.csv");

/// How readings reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// `POST /api/v1/safety/observations`, one batch per hour.
    Http,
    /// One message per reading to `{prefix}/obs/{station}` on the broker the server
    /// listens to.
    Mqtt,
}

/// What `replay-storm` is told.
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
    /// Storm hours per real second × 3,600 (3,600: an hour a second).
    pub speed: f64,
    /// The duty officer who drafts and issues (a platform administrator or a department's
    /// staff) and the second who approves.
    pub officer: (String, String),
    /// The second officer.
    pub approver: (String, String),
    /// Residents who answer the alert if it reaches them: (username, password, answer).
    pub residents: Vec<(String, String, &'static str)>,
}

/// One hour of the recorded storm.
#[derive(Clone, Debug)]
struct Hour {
    rain_core: f64,
    rain_edge: f64,
    stage: f64,
    reservoir: f64,
    wind: f64,
    landslide: f64,
    temperature: f64,
    pm25: f64,
}

fn storm() -> anyhow::Result<Vec<Hour>> {
    let mut reader = csv::Reader::from_reader(STORM.as_bytes());
    let mut hours = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row?;
        let f = |k: usize| -> anyhow::Result<f64> {
            row.get(k)
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("storm-48h.csv line {}: column {k}", i + 2))
        };
        hours.push(Hour {
            rain_core: f(1)?,
            rain_edge: f(2)?,
            stage: f(3)?,
            reservoir: f(4)?,
            wind: f(5)?,
            landslide: f(6)?,
            temperature: f(7)?,
            pm25: f(8)?,
        });
    }
    anyhow::ensure!(
        hours.len() == 48,
        "the recorded storm has {} hours, not 48",
        hours.len()
    );
    Ok(hours)
}

/// A station as the server lists it, with what the storm does to it.
struct Gauge {
    code: String,
    kind: String,
    /// In a community along the river (a river gauge stands in it): the storm's core.
    core: bool,
    warning: f64,
    start: f64,
    /// 0.8–1.2, from the code: gauges of a kind do not read alike.
    spread: f64,
}

impl Gauge {
    fn value(&self, h: &Hour) -> f64 {
        let v = match self.kind.as_str() {
            "rain_gauge" => (if self.core { h.rain_core } else { h.rain_edge }) * self.spread,
            "river_level" => self.warning + h.stage * self.spread,
            "reservoir_level" => self.start + h.reservoir * self.spread,
            "wind" => h.wind * self.spread,
            "landslide_displacement" => self.start + h.landslide * self.spread,
            "temperature" => h.temperature + (self.spread - 1.0) * 5.0,
            _ => h.pm25 * self.spread,
        };
        (v * 100.0).round() / 100.0
    }
}

/// What the replay did.
#[derive(Debug, Default)]
pub struct Report {
    /// Readings sent.
    pub readings: usize,
    /// Readings the server refused.
    pub refused: u64,
    /// The first hour the storm raised a region's 3-hour level to orange.
    pub orange_at_hour: Option<usize>,
    /// The highest 3-hour level seen.
    pub highest: String,
    /// The issued alert's id.
    pub alert_id: Option<String>,
    /// Whom it reached.
    pub reached: i64,
    /// Residents who answered.
    pub answered: usize,
    /// The dispatched plan's id.
    pub plan_id: Option<String>,
    /// Its shipments.
    pub shipments: usize,
    /// Units it could not bring.
    pub unmet: i64,
}

/// A client of a running server's public API (the demo's commands play its users).
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// A client of the server at `base`.
    pub(crate) fn new(base: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// Logs in: the bearer token.
    pub(crate) async fn login(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let reply: Value = self
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({
                    "username": username, "password": password
                })),
            )
            .await
            .with_context(|| format!("logging in as {username}"))?;
        reply["token"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no token for {username}"))
    }

    /// Sends a request; a reply other than 2xx is an error naming it.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn level_rank(level: &str) -> usize {
    ["green", "blue", "yellow", "orange", "red"]
        .iter()
        .position(|l| *l == level)
        .unwrap_or(0)
}

/// Replays the storm against a running server; prints a line per hour and what the
/// officer did, and returns the same.
pub async fn replay(options: &Options) -> anyhow::Result<Report> {
    let hours = storm()?;
    let client = Client::new(&options.base);
    let officer = client.login(&options.officer.0, &options.officer.1).await?;
    let approver = client
        .login(&options.approver.0, &options.approver.1)
        .await?;
    let stations: Value = client
        .send(reqwest::Method::GET, "/api/v1/safety/stations", None, None)
        .await?;
    let stations = stations.as_array().context("the stations are not a list")?;
    let river_regions: Vec<&str> = stations
        .iter()
        .filter(|s| s["kind"] == "river_level")
        .filter_map(|s| s["region"].as_str())
        .collect();
    let gauges: Vec<Gauge> = stations
        .iter()
        .filter_map(|s| {
            let code = s["code"].as_str()?.to_string();
            let spread = 0.8 + (code.bytes().map(u64::from).sum::<u64>() % 41) as f64 / 100.0;
            Some(Gauge {
                kind: s["kind"].as_str()?.to_string(),
                core: river_regions.contains(&s["region"].as_str()?),
                warning: s["warning_level"].as_f64().unwrap_or(20.0),
                start: s["last_value"].as_f64().unwrap_or(0.0),
                spread,
                code,
            })
        })
        .collect();
    anyhow::ensure!(
        !gauges.is_empty(),
        "the server has no stations: is it the demo?"
    );
    let mqtt = match options.via {
        Via::Mqtt => Some(connect(&options.mqtt_url).await?),
        Via::Http => None,
    };
    let hot = |levels: &[Value]| {
        levels
            .iter()
            .filter(|w| level_rank(w["level"].as_str().unwrap_or("green")) >= level_rank("orange"))
            .count()
    };
    // The regions at orange or above once the first hour is in: the server judges as of
    // its newest reading, so the first reading alone may move levels (the demo's forecast).
    let mut hot_before = usize::MAX;
    let started = Instant::now();
    let mut report = Report::default();
    let hour_len = Duration::from_secs_f64(3_600.0 / options.speed.max(1.0));
    println!(
        "replaying a 48-hour storm over {} stations by {:?}, an hour every {:.2} s",
        gauges.len(),
        options.via,
        hour_len.as_secs_f64()
    );
    for (h, hour) in hours.iter().enumerate() {
        let at = kernel::time::Timestamp::now().rfc3339();
        let readings: Vec<Value> = gauges
            .iter()
            .map(|g| json!({"station": g.code, "observed_at": at, "value": g.value(hour)}))
            .collect();
        report.readings += readings.len();
        match &mqtt {
            None => {
                let reply = client
                    .send(
                        reqwest::Method::POST,
                        "/api/v1/safety/observations",
                        Some(&officer),
                        Some(json!({ "observations": readings })),
                    )
                    .await?;
                report.refused += reply["rejected"].as_u64().unwrap_or(0);
            }
            Some(mqtt) => {
                for r in &readings {
                    let topic = format!(
                        "{}/obs/{}",
                        options.topic_prefix,
                        r["station"].as_str().unwrap_or_default()
                    );
                    let payload = json!({"observed_at": r["observed_at"], "value": r["value"]});
                    mqtt.publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_string())
                        .await?;
                }
            }
        }
        // The server recomputes on arrival; ask it to now, so the hour's levels are read.
        client
            .send(
                reqwest::Method::POST,
                "/api/v1/safety/warnings/recompute",
                Some(&officer),
                Some(json!({})),
            )
            .await?;
        let levels: Value = client
            .send(
                reqwest::Method::GET,
                "/api/v1/safety/warnings?horizon=3",
                None,
                None,
            )
            .await?;
        let levels = levels.as_array().cloned().unwrap_or_default();
        let top = levels
            .iter()
            .filter_map(|w| w["level"].as_str())
            .max_by_key(|l| level_rank(l))
            .unwrap_or("green")
            .to_string();
        if level_rank(&top) > level_rank(&report.highest) {
            report.highest = top.clone();
        }
        let count = |l: &str| levels.iter().filter(|w| w["level"] == l).count();
        println!(
            "hour {h:>2}: {} readings; 3-hour levels: {} red, {} orange, {} yellow, {} blue",
            readings.len(),
            count("red"),
            count("orange"),
            count("yellow"),
            count("blue")
        );
        // The officer acts when the storm raises a region to orange (one may be there
        // already before it).
        if h == 0 {
            hot_before = hot(&levels);
        } else if report.alert_id.is_none() && hot(&levels) > hot_before {
            report.orange_at_hour = Some(h);
            issue_alert(&client, &officer, &approver, &levels, stations, &mut report).await?;
            answer(&client, options, &officer, &mut report).await?;
        }
        let due = started + hour_len * (h as u32 + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    if let Some(mqtt) = mqtt {
        mqtt.disconnect().await.ok();
    }
    allocate(&client, &officer, &mut report).await?;
    Ok(report)
}

/// Connects to the broker, its event loop polled in the background.
pub(crate) async fn connect(url: &str) -> anyhow::Result<rumqttc::AsyncClient> {
    let (host, port) = kernel::mqtt::broker(url).map_err(anyhow::Error::msg)?;
    let mut options = rumqttc::MqttOptions::new(
        format!("civitas-storm-{}", kernel::ids::new_id()),
        host,
        port,
    );
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut events) = rumqttc::AsyncClient::new(options, 10_000);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    Ok(client)
}

/// Drafts the alert for the regions at orange and red (their codes) and the river's banks
/// (a 3 km circle around every river gauge: a flood comes down the whole river), has it
/// approved and issues it.
async fn issue_alert(
    client: &Client,
    officer: &str,
    approver: &str,
    levels: &[Value],
    stations: &[Value],
    report: &mut Report,
) -> anyhow::Result<()> {
    let hot: Vec<&Value> = levels
        .iter()
        .filter(|w| level_rank(w["level"].as_str().unwrap_or("green")) >= level_rank("orange"))
        .collect();
    let names: Vec<&str> = hot.iter().filter_map(|w| w["name"].as_str()).collect();
    let geocode: Vec<Value> = hot
        .iter()
        .map(|w| json!({"valueName": "GB/T 2260", "value": w["region"]}))
        .collect();
    let circle: Vec<String> = stations
        .iter()
        .filter(|s| s["kind"] == "river_level")
        .filter_map(|s| {
            Some(format!(
                "{:.4},{:.4} 3",
                s["latitude"].as_f64()?,
                s["longitude"].as_f64()?
            ))
        })
        .collect();
    let mut area = json!({"areaDesc": names.join("、"), "geocode": geocode});
    if !circle.is_empty() {
        area["circle"] = json!(circle);
    }
    let draft = json!({"info": [{
        "language": "zh-CN", "category": ["Met"], "event": "暴雨洪涝",
        "responseType": ["Evacuate", "Prepare"], "urgency": "Immediate",
        "severity": "Severe", "certainty": "Likely", "senderName": "示例市应急管理局",
        "headline": format!("暴雨洪涝橙色预警：{}", names.join("、")),
        "instruction": "沿河低洼地带居民请立即向高处转移，听从社区安排；请回复平安或求助。",
        "area": [area]
    }]});
    let drafted = client
        .send(
            reqwest::Method::POST,
            "/api/v1/safety/alerts",
            Some(officer),
            Some(draft),
        )
        .await?;
    let id = drafted["id"]
        .as_str()
        .context("the draft has no id")?
        .to_string();
    client
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/safety/alerts/{id}/approve"),
            Some(approver),
            Some(json!({})),
        )
        .await?;
    let issued = client
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/safety/alerts/{id}/issue"),
            Some(officer),
            Some(json!({})),
        )
        .await?;
    report.reached = issued["targeting"]["reached"].as_i64().unwrap_or(0);
    println!(
        "  → alert issued for {} region(s): reached {} residents ({} by shared location)",
        hot.len(),
        report.reached,
        issued["targeting"]["by_location"]
    );
    report.alert_id = Some(id);
    Ok(())
}

/// The residents it reached answer.
async fn answer(
    client: &Client,
    options: &Options,
    officer: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Some(id) = report.alert_id.clone() else {
        return Ok(());
    };
    for (username, password, answer) in &options.residents {
        let token = client.login(username, password).await?;
        let path = format!("/api/v1/safety/alerts/{id}/answer");
        match client
            .send(
                reqwest::Method::POST,
                &path,
                Some(&token),
                Some(json!({"answer": answer})),
            )
            .await
        {
            Ok(status) => {
                report.answered += 1;
                println!("  → {username} answered: {status}");
            }
            Err(e) if e.to_string().contains("404") => {
                println!("  → the alert did not reach {username}");
            }
            Err(e) => return Err(e),
        }
    }
    let zone = client
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/safety/alerts/{id}/danger-zone"),
            Some(officer),
            None,
        )
        .await
        .ok();
    if let Some(zone) = zone {
        println!("  → danger zone: {}", zone["counts"]);
    }
    Ok(())
}

/// After the storm: the plan for the next 24 hours, dispatched.
async fn allocate(client: &Client, officer: &str, report: &mut Report) -> anyhow::Result<()> {
    let plan = client
        .send(
            reqwest::Method::POST,
            "/api/v1/safety/supplies/plans",
            Some(officer),
            Some(json!({"horizon": 24})),
        )
        .await?;
    let id = plan["id"]
        .as_str()
        .context("the plan has no id")?
        .to_string();
    report.shipments = plan["shipments"].as_array().map_or(0, Vec::len);
    report.unmet = plan["total_unmet"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_i64).sum());
    client
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/safety/supplies/plans/{id}/dispatch"),
            Some(officer),
            Some(json!({})),
        )
        .await?;
    println!(
        "supplies: plan {id} dispatched, {} shipments, {} units unmet ({})",
        report.shipments, report.unmet, plan["total_unmet"]
    );
    report.plan_id = Some(id);
    Ok(())
}

/// What `civitas demo …` does.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Feed the recorded 48-hour storm into a running demo server in accelerated time and
    /// play the duty officer: levels rise, an alert is issued, residents answer, supplies
    /// are allocated and dispatched.
    ReplayStorm {
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// How readings reach it.
        #[arg(long, value_enum, default_value = "http")]
        via: Via,
        /// The broker the server listens to (with `--via mqtt`).
        #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
        mqtt_url: String,
        /// The server's MQTT topic prefix.
        #[arg(long, default_value = "civitas")]
        topic_prefix: String,
        /// Storm seconds per real second (3600: an hour a second; the default, 1440, plays
        /// the 48 hours in two minutes).
        #[arg(long, default_value_t = 1440.0)]
        speed: f64,
        /// The password of the demo accounts (demo-admin issues, demo-clerk approves,
        /// demo-elder answers).
        #[arg(long, default_value = crate::demo::DEMO_PASSWORD)]
        password: String,
    },
    /// Play the demo's care devices against a running demo server: each round, what each
    /// device reports; at the rounds given, the demo elder falls and presses her SOS button.
    SimulateDevices {
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// How readings reach it.
        #[arg(long, value_enum, default_value = "http")]
        via: Via,
        /// The broker the server listens to (with `--via mqtt`).
        #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
        mqtt_url: String,
        /// The server's MQTT topic prefix.
        #[arg(long, default_value = "civitas")]
        topic_prefix: String,
        /// Rounds to play (0: until stopped).
        #[arg(long, default_value_t = 0)]
        rounds: u64,
        /// Seconds between rounds.
        #[arg(long, default_value_t = 10.0)]
        every: f64,
        /// The round at which the demo elder falls (0: never).
        #[arg(long, default_value_t = 3)]
        fall_at: u64,
        /// The round at which she presses her SOS button (0: never).
        #[arg(long, default_value_t = 6)]
        sos_at: u64,
        /// demo-admin's password.
        #[arg(long, default_value = crate::demo::DEMO_PASSWORD)]
        password: String,
    },
}

/// The demo's cast: demo-admin issues, demo-clerk (a department's staff) approves, the
/// demo elder and citizen answer if the alert reaches them.
pub fn demo_options(base: &str, via: Via, password: &str) -> Options {
    Options {
        base: base.to_string(),
        via,
        mqtt_url: "mqtt://127.0.0.1:1883".into(),
        topic_prefix: "civitas".into(),
        speed: 1440.0,
        officer: ("demo-admin".into(), password.into()),
        approver: ("demo-clerk".into(), password.into()),
        residents: vec![
            ("demo-elder".into(), password.into(), "need_help"),
            ("demo-citizen".into(), password.into(), "safe"),
        ],
    }
}

/// Runs a `civitas demo` command.
pub async fn run(command: Command) -> anyhow::Result<std::process::ExitCode> {
    match command {
        Command::ReplayStorm {
            url,
            via,
            mqtt_url,
            topic_prefix,
            speed,
            password,
        } => {
            let mut options = demo_options(&url, via, &password);
            options.mqtt_url = mqtt_url;
            options.topic_prefix = topic_prefix;
            options.speed = speed.clamp(60.0, 10_000_000.0);
            let report = replay(&options).await?;
            println!(
                "done: {} readings ({} refused); highest 3-hour level {}; alert {}; reached {}, {} answered; plan {} ({} shipments, {} units unmet)",
                report.readings,
                report.refused,
                report.highest,
                report.alert_id.as_deref().unwrap_or("none"),
                report.reached,
                report.answered,
                report.plan_id.as_deref().unwrap_or("none"),
                report.shipments,
                report.unmet
            );
            Ok(if report.alert_id.is_some() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            })
        }
        Command::SimulateDevices {
            url,
            via,
            mqtt_url,
            topic_prefix,
            rounds,
            every,
            fall_at,
            sos_at,
            password,
        } => {
            let options = crate::simulate::Options {
                base: url,
                via,
                mqtt_url,
                topic_prefix,
                password,
                rounds,
                every: Duration::from_secs_f64(every.clamp(0.01, 3_600.0)),
                fall_at,
                sos_at,
            };
            let report = crate::simulate::simulate(&options).await?;
            println!(
                "done: {} devices, {} rounds, {} readings{}{}",
                report.devices,
                report.rounds,
                report.readings,
                if report.fell { "; she fell" } else { "" },
                if report.pressed {
                    "; she pressed SOS"
                } else {
                    ""
                }
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

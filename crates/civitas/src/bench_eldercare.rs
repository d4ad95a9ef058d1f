//! `civitas bench eldercare`: N care devices (10,000 by default), each reporting a heart
//! rate every `every` seconds (10: 1,000 readings a second), sustained for `seconds` (300)
//! over MQTT from a separate publisher process, into a node on a scratch store (a temporary
//! SQLite folder, or a scratch schema on PostgreSQL). Every `alert_every` seconds one more
//! elder's wristband reports a blood oxygen of 85 %, which raises an alert that tells her
//! relative (level 1); no one answers, so each alert escalates to her community worker
//! after 10 s and to the last level 10 s later. Measured: from the reading's time (the
//! publisher stamps it as it sends) to the first notice being committed in her relative's
//! inbox, as seen by a watcher polling the store every 10 ms; each escalation from its
//! scheduled time to its notice being committed, seen the same way; the node process's CPU
//! time over the window as a share of both cores, and its peak resident memory.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::time::{Duration, Instant};

use eldercare::store::{DeviceRow, ElderRow, MemberRow};
use kernel::config::Config;
use kernel::on_pool;
use kernel::time::Timestamp;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::{Deserialize, Serialize};

/// How often the watcher looks at the store.
const POLL: Duration = Duration::from_millis(10);
/// The escalation waits set for the run (level 1 → 2, level 2 → 3), seconds.
const ESCALATE_AFTER: [i64; 2] = [10, 10];

/// Figures of one elder-care benchmark run.
#[derive(Debug, Serialize)]
pub struct EldercareFigures {
    /// Always `eldercare`.
    pub bench: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Devices reporting (one elder each).
    pub devices: usize,
    /// Seconds between a device's readings.
    pub every_s: u64,
    /// Seconds the publisher ran.
    pub seconds: f64,
    /// Readings the publisher sent (and the broker acknowledged).
    pub readings_sent: u64,
    /// Readings the node took (checked and stored).
    pub readings_taken: u64,
    /// Readings per second taken over the window.
    pub readings_per_s: f64,
    /// Alerts raised by the low blood oxygen readings.
    pub alerts: usize,
    /// From the reading's time to the first notice committed in her relative's inbox:
    /// median, milliseconds (seen by a watcher polling every 10 ms).
    pub reading_to_notification_p50_ms: f64,
    /// The same, 99th percentile.
    pub reading_to_notification_p99_ms: f64,
    /// The same, the slowest.
    pub reading_to_notification_max_ms: f64,
    /// Escalation steps taken.
    pub escalations: usize,
    /// From an escalation's scheduled time to its notice committed: median, milliseconds.
    pub escalation_error_p50_ms: f64,
    /// The same, 99th percentile.
    pub escalation_error_p99_ms: f64,
    /// The same as the timer recorded it (the step's start), 99th percentile.
    pub escalation_recorded_error_p99_ms: f64,
    /// The node process's CPU time over the window, as a share of both cores (0–1).
    pub cpu_share: f64,
    /// PostgreSQL's processes' CPU time over the window, as a share of both cores (null on
    /// SQLite, which runs inside the node).
    pub store_cpu_share: Option<f64>,
    /// The whole machine's busy time over the window (the broker and the publisher too).
    pub machine_cpu_share: f64,
    /// The node process's peak resident memory over the window, MiB.
    pub rss_mib: f64,
}

/// What the publisher reports on its standard output when done.
#[derive(Debug, Serialize, Deserialize)]
pub struct Published {
    /// Readings sent and acknowledged.
    pub sent: u64,
    /// Of them, low blood oxygen readings (one alert each).
    pub alerts: u64,
}

fn device_id(i: usize) -> String {
    format!("CB-{i:05}")
}

/// The publisher process: every 10 ms, the devices whose turn it is send a heart rate (each
/// device every `every` seconds); every `alert_every` seconds one more device sends a blood
/// oxygen of 85 % besides. Each reading is stamped as it is sent. QoS 1; prints what it
/// sent as JSON once the broker acknowledged every message.
pub async fn publish(
    url: &str,
    topic: &str,
    devices: usize,
    every: u64,
    seconds: f64,
    alert_every: f64,
) -> anyhow::Result<()> {
    let (host, port) = kernel::mqtt::broker(url).map_err(anyhow::Error::msg)?;
    let mut options = MqttOptions::new(format!("bench-care-{}", kernel::ids::new_id()), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_inflight(1_000);
    let (client, mut events) = AsyncClient::new(options, 10_000);
    let devices = devices.max(1);
    let period = (every.max(1) * 100) as usize;
    let ticks = (seconds * 100.0).round() as u64;
    let alert_ticks = ((alert_every * 100.0).round() as u64).max(1);
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = acked.clone();
    let acks = tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(e) => return e.to_string(),
            }
        }
    });
    let mut sent = 0u64;
    let mut alerts = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for t in 0..ticks {
        tick.tick().await;
        let slot = (t as usize) % period;
        let (from, to) = (slot * devices / period, (slot + 1) * devices / period);
        for i in from..to {
            let body = format!(
                "{{\"metric\":\"heart_rate\",\"value\":{},\"observed_at\":\"{}\"}}",
                62 + (i + t as usize) % 20,
                Timestamp::now().rfc3339()
            );
            client
                .publish(
                    format!("{topic}/{}", device_id(i)),
                    QoS::AtLeastOnce,
                    false,
                    body,
                )
                .await?;
            sent += 1;
        }
        if t % alert_ticks == 0 && (alerts as usize) < devices {
            let i = alerts as usize;
            let body = format!(
                "{{\"metric\":\"spo2\",\"value\":85,\"observed_at\":\"{}\"}}",
                Timestamp::now().rfc3339()
            );
            client
                .publish(
                    format!("{topic}/{}", device_id(i)),
                    QoS::AtLeastOnce,
                    false,
                    body,
                )
                .await?;
            sent += 1;
            alerts += 1;
        }
    }
    let waiting = Instant::now();
    let count = || acked.load(std::sync::atomic::Ordering::Relaxed);
    while count() < sent && !acks.is_finished() && waiting.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.disconnect().await.ok();
    if count() < sent {
        let error = if acks.is_finished() {
            acks.await.unwrap_or_default()
        } else {
            acks.abort();
            "no answer for 30 s".into()
        };
        anyhow::bail!(
            "the broker acknowledged {} of {sent} messages ({error})",
            count()
        );
    }
    acks.abort();
    println!("{}", serde_json::to_string(&Published { sent, alerts })?);
    Ok(())
}

/// Starts the publisher as its own process (this binary, `bench care-publish`).
fn spawn_publisher(
    url: &str,
    topic: &str,
    devices: usize,
    every: u64,
    seconds: f64,
    alert_every: f64,
) -> anyhow::Result<std::process::Child> {
    let exe = std::env::current_exe()?;
    Ok(std::process::Command::new(exe)
        .args([
            "bench",
            "care-publish",
            "--url",
            url,
            "--topic",
            topic,
            "--devices",
            &devices.to_string(),
            "--every",
            &every.to_string(),
            "--seconds",
            &seconds.to_string(),
            "--alert-every",
            &alert_every.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()?)
}

/// This process's CPU time (user and system), from `/proc/self/stat`: Linux reports it in
/// clock ticks of 1/100 s (USER_HZ, fixed by the kernel's ABI for `/proc`).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name may hold spaces; the fields follow its closing parenthesis.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("/proc/self/stat is not as expected"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are the 12th and 13th after it.
    let ticks: f64 = fields
        .get(11)
        .zip(fields.get(12))
        .and_then(|(u, s)| Some(u.parse::<f64>().ok()? + s.parse::<f64>().ok()?))
        .ok_or_else(|| anyhow::anyhow!("/proc/self/stat has no CPU times"))?;
    Ok(ticks / 100.0)
}

/// CPU seconds of every process named `postgres` (the server's backends), from
/// `/proc/PID/stat`, in the same clock ticks.
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| stat.contains("(postgres)"))
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1.to_string();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
        })
        .sum::<f64>()
        / 100.0
}

/// The machine's busy and total CPU time so far, from `/proc/stat` (clock ticks).
fn machine_ticks() -> (f64, f64) {
    let line = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_default();
    let values: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: f64 = values.iter().sum();
    // idle and iowait are the 4th and 5th.
    let idle = values.get(3).copied().unwrap_or(0.0) + values.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// This process's resident memory now, MiB (`/proc/self/status`, VmRSS).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// What the watcher saw.
#[derive(Default)]
struct Watch {
    seen: HashSet<String>,
    cursor: i64,
    /// Device → when its alert's first notice was seen (µs since the epoch).
    first_notice: HashMap<String, i64>,
    /// Escalations: (seen − scheduled) in µs.
    escalations: Vec<i64>,
}

type EventRow = (
    String,
    String,
    Option<i64>,
    Option<Timestamp>,
    Option<String>,
    Timestamp,
);

impl Watch {
    /// Looks once at the alert events committed since the last look.
    async fn look(&mut self, db: &kernel::db::Db) -> anyhow::Result<()> {
        let rows: Vec<EventRow> = on_pool!(db.read(), |c| sqlx::query_as(
            "SELECT e.id, e.kind, e.level, e.scheduled_at, a.device_id, e.at
             FROM eldercare_alert_events e JOIN eldercare_alerts a ON a.id = e.alert_id
             WHERE e.at > $1 AND e.kind IN ('told', 'escalated')"
        )
        .bind(self.cursor)
        .fetch_all(c)
        .await)?;
        let now = Timestamp::now().0;
        for (id, kind, level, scheduled, device, at) in rows {
            if !self.seen.insert(id) {
                continue;
            }
            // A transaction stamped earlier may commit later: look back two seconds.
            self.cursor = self.cursor.max(at.0 - 2_000_000);
            match (kind.as_str(), level, scheduled, device) {
                ("told", Some(1), _, Some(device)) => {
                    self.first_notice.entry(device).or_insert(now);
                }
                ("escalated", _, Some(due), _) => self.escalations.push(now - due.0),
                _ => {}
            }
        }
        Ok(())
    }
}

fn percentile_ms(sorted_micros: &[i64], p: f64) -> f64 {
    if sorted_micros.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_micros.len() as f64 - 1.0) * p).round() as usize;
    crate::bench::round3(sorted_micros[i.min(sorted_micros.len() - 1)] as f64 / 1_000.0)
}

/// Sets up N elders, each with a relative (level 1), the community worker (level 2) and a
/// wristband, in one transaction.
async fn enrol(
    state: &kernel::AppState,
    org: &str,
    devices: usize,
    every: u64,
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    for i in 0..devices {
        let n = i + 1;
        let elder = format!("elder-{n:09}");
        eldercare::store::insert_elder(
            &mut tx,
            &ElderRow {
                person_id: elder.clone(),
                organisation_id: org.to_string(),
                lives_alone: 0,
                baselines: "{}".into(),
                last_activity_at: None,
                last_water_at: None,
                enrolled_by: "bench".into(),
                enrolled_at: now,
            },
        )
        .await?;
        for (person, role, level) in [
            (format!("kin-{n:09}"), "relative", 1),
            ("worker-000000001".to_string(), "community_worker", 2),
        ] {
            eldercare::store::insert_member(
                &mut tx,
                &MemberRow {
                    id: kernel::ids::new_id(),
                    elder_id: elder.clone(),
                    person_id: person,
                    role: role.into(),
                    relationship: "家人".into(),
                    organisation_id: (level == 2).then(|| org.to_string()),
                    level,
                    contact_order: 1,
                    channels: "[]".into(),
                    quiet_from: None,
                    quiet_until: None,
                    added_by: "bench".into(),
                    added_at: now,
                },
            )
            .await?;
        }
        eldercare::store::insert_device(
            &mut tx,
            &DeviceRow {
                id: device_id(i),
                kind: "wristband".into(),
                organisation_id: org.to_string(),
                elder_id: Some(elder),
                heartbeat_seconds: every as i64,
                online: 1,
                last_seen_at: Some(now),
                last_reading_at: None,
                registered_by: "bench".into(),
                registered_at: now,
                bound_at: Some(now),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Runs the benchmark on the broker `mqtt_url` names (127.0.0.1:1883 when unset).
pub async fn eldercare(
    config: &Config,
    devices: usize,
    every: u64,
    seconds: f64,
    alert_every: f64,
) -> anyhow::Result<EldercareFigures> {
    let (app, demo, url, prefix, org) = crate::bench::mqtt_scratch(config).await?;
    let state = demo.state.clone();
    let admin = crate::demo::system_admin();
    eprintln!(
        "enrolling {devices} elders, each with a relative, the community worker and a wristband…"
    );
    let community = "990102001001";
    crate::bench_messaging::synthetic_persons(&state.db, devices as i64, community, "elder-")
        .await?;
    crate::bench_messaging::synthetic_persons(&state.db, devices as i64, community, "kin-").await?;
    crate::bench_messaging::synthetic_persons(&state.db, 1, community, "worker-").await?;
    enrol(&state, &org, devices, every).await?;
    let rules = eldercare::model::CareRules {
        // Only the readings' alerts: no stillness or water checks on synthetic elders.
        no_activity_hours: 0.0,
        no_water_by: String::new(),
        escalate_after_seconds: ESCALATE_AFTER,
        ..eldercare::model::CareRules::default()
    };
    eldercare::service::set_rules(&state, &admin, rules)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tokio::spawn(app.run_until_stopped());
    // Give the node's listener its subscription (it subscribes on connecting).
    tokio::time::sleep(Duration::from_millis(800)).await;

    eprintln!(
        "{devices} devices, one reading each every {every} s, for {seconds} s over MQTT (an alert every {alert_every} s)…"
    );
    let taken_before = eldercare::mqtt::readings_taken();
    let mut watch = Watch {
        cursor: Timestamp::now().0,
        ..Watch::default()
    };
    let cpu_before = cpu_seconds()?;
    let postgres_before = postgres_cpu_seconds();
    let machine_before = machine_ticks();
    let started = Instant::now();
    let mut publisher = spawn_publisher(
        &url,
        &format!("{prefix}/device"),
        devices,
        every,
        seconds,
        alert_every,
    )?;
    let mut peak_rss = rss_mib();
    let mut last_sample = Instant::now();
    let status = loop {
        watch.look(&state.db).await?;
        if last_sample.elapsed() >= Duration::from_secs(1) {
            peak_rss = peak_rss.max(rss_mib());
            last_sample = Instant::now();
        }
        if let Some(status) = publisher.try_wait()? {
            break status;
        }
        tokio::time::sleep(POLL).await;
    };
    let window = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds()? - cpu_before;
    let postgres = postgres_cpu_seconds() - postgres_before;
    let machine_after = machine_ticks();
    let machine_share =
        (machine_after.0 - machine_before.0) / (machine_after.1 - machine_before.1).max(1.0);
    peak_rss = peak_rss.max(rss_mib());
    let mut out = String::new();
    if let Some(mut stdout) = publisher.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    anyhow::ensure!(status.success(), "the publisher failed ({status})");
    let published: Published = serde_json::from_str(out.trim())
        .map_err(|e| anyhow::anyhow!("the publisher's report '{}': {e}", out.trim()))?;

    eprintln!("waiting for the last escalations…");
    let escalations_due = published.alerts as usize * 2;
    let waiting = Instant::now();
    let patience = Duration::from_secs((ESCALATE_AFTER[0] + ESCALATE_AFTER[1] + 10) as u64);
    while (watch.escalations.len() < escalations_due
        || watch.first_notice.len() < published.alerts as usize
        || eldercare::mqtt::readings_taken() - taken_before < published.sent)
        && waiting.elapsed() < patience
    {
        watch.look(&state.db).await?;
        tokio::time::sleep(POLL).await;
    }
    let taken = eldercare::mqtt::readings_taken() - taken_before;
    anyhow::ensure!(
        taken == published.sent,
        "the node took {taken} of {} readings",
        published.sent
    );
    let refused: i64 = on_pool!(state.db.read(), |c| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM eldercare_rejections"
    )
    .fetch_one(c)
    .await)?;
    anyhow::ensure!(refused == 0, "the node refused {refused} readings");
    anyhow::ensure!(
        watch.first_notice.len() == published.alerts as usize,
        "{} of {} alerts told anyone",
        watch.first_notice.len(),
        published.alerts
    );
    anyhow::ensure!(
        watch.escalations.len() == escalations_due,
        "{} of {escalations_due} escalations were taken",
        watch.escalations.len()
    );

    // Each alert's reading: the device's one blood oxygen reading, stamped when sent.
    let sent_at: HashMap<String, Timestamp> = on_pool!(state.db.read(), |c| sqlx::query_as(
        "SELECT device_id, observed_at FROM eldercare_readings WHERE metric = 'spo2'"
    )
    .fetch_all(c)
    .await)?
    .into_iter()
    .collect();
    let mut latencies: Vec<i64> = watch
        .first_notice
        .iter()
        .filter_map(|(device, seen)| sent_at.get(device).map(|at| seen - at.0))
        .collect();
    anyhow::ensure!(
        latencies.len() == watch.first_notice.len(),
        "an alert's reading is missing"
    );
    latencies.sort_unstable();
    watch.escalations.sort_unstable();
    let mut recorded: Vec<i64> = on_pool!(state.db.read(), |c| sqlx::query_as(
        "SELECT at, scheduled_at FROM eldercare_alert_events
         WHERE kind = 'escalated' AND scheduled_at IS NOT NULL"
    )
    .fetch_all(c)
    .await)?
    .into_iter()
    .map(|(at, due): (Timestamp, Timestamp)| at.0 - due.0)
    .collect();
    recorded.sort_unstable();
    let store = demo.finish().await?;
    let round = crate::bench::round3;
    Ok(EldercareFigures {
        bench: "eldercare",
        store,
        devices,
        every_s: every,
        seconds: round(window),
        readings_sent: published.sent,
        readings_taken: taken,
        readings_per_s: round(taken as f64 / window.max(1e-9)),
        alerts: latencies.len(),
        reading_to_notification_p50_ms: percentile_ms(&latencies, 0.50),
        reading_to_notification_p99_ms: percentile_ms(&latencies, 0.99),
        reading_to_notification_max_ms: percentile_ms(&latencies, 1.0),
        escalations: watch.escalations.len(),
        escalation_error_p50_ms: percentile_ms(&watch.escalations, 0.50),
        escalation_error_p99_ms: percentile_ms(&watch.escalations, 0.99),
        escalation_recorded_error_p99_ms: percentile_ms(&recorded, 0.99),
        cpu_share: round(cpu / window.max(1e-9) / 2.0),
        store_cpu_share: (store == "postgres").then(|| round(postgres / window.max(1e-9) / 2.0)),
        machine_cpu_share: round(machine_share),
        rss_mib: round(peak_rss),
    })
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_eldercare(f: &EldercareFigures) {
    println!(
        "civitas bench eldercare — store: {}, {} devices, a reading each every {} s, {:.0} s over MQTT",
        f.store, f.devices, f.every_s, f.seconds
    );
    println!(
        "readings: {} sent, {} taken ({:.0}/s)",
        f.readings_sent, f.readings_taken, f.readings_per_s
    );
    println!(
        "{:<62} {:>10} {:>10} {:>10}",
        "", "p50 ms", "p99 ms", "goal"
    );
    println!(
        "{:<62} {:>10.1} {:>10.1} {:>10}",
        format!(
            "reading → first notice in the relative's inbox ({} alerts)",
            f.alerts
        ),
        f.reading_to_notification_p50_ms,
        f.reading_to_notification_p99_ms,
        "< 1000"
    );
    println!(
        "{:<62} {:>10.1} {:>10.1} {:>10}",
        format!(
            "escalation: scheduled → notice committed ({})",
            f.escalations
        ),
        f.escalation_error_p50_ms,
        f.escalation_error_p99_ms,
        "< 1000"
    );
    println!(
        "node process: {:.1} % of both cores (goal < 50 %), peak resident memory {:.0} MiB",
        f.cpu_share * 100.0,
        f.rss_mib
    );
    if let Some(store) = f.store_cpu_share {
        println!(
            "PostgreSQL's processes: {:.1} % of both cores",
            store * 100.0
        );
    }
    println!(
        "the whole machine (broker and publisher too): {:.1} % busy",
        f.machine_cpu_share * 100.0
    );
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

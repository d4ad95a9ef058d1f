//! Readings over MQTT: the node subscribes to `{prefix}/obs/+` on the configured broker
//! (QoS 1) and stores what stations publish there — one reading or a list of readings in
//! JSON, the station named by the topic — checked as an HTTP batch is. Messages are
//! gathered for up to 50 ms (or 10,000 readings) and stored in one transaction, two
//! such transactions at a time.
//!
//! Messages are acknowledged as they arrive, not once stored: a broker keeps only a few
//! unacknowledged messages in flight to a subscriber (Mosquitto: 20), so acknowledging
//! after a gathered transaction would hold the node to a few hundred readings a second.
//! What a crash can lose is the readings of the last 50 ms; a logger that keeps its own
//! readings sends them again over HTTP, where a reading sent twice is stored once. Who may
//! publish to a station's topic is the broker's to decide (its ACLs), as who may send over
//! HTTP is the platform's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kernel::AppState;
use kernel::auth::Principal;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::model::{ObservationIn, Rejection};
use crate::service;

/// How long messages are gathered before they are stored together.
const GATHER: Duration = Duration::from_millis(50);

/// The most readings stored together.
const GATHER_MAX: usize = 10_000;

/// One reading as a station publishes it (the station is the topic's last level).
#[derive(Deserialize)]
struct Published {
    observed_at: String,
    value: f64,
    unit: Option<String>,
}

/// A message's readings: one object, or a list of them (told apart by the first byte,
/// not by serde's untagged enums, which buffer every message before trying each form).
fn readings_of(payload: &[u8]) -> Result<Vec<Published>, serde_json::Error> {
    match payload.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice(payload),
        _ => serde_json::from_slice(payload).map(|one| vec![one]),
    }
}

/// Where the broker is: `mqtt://host:port` (port 1883 when left out).
pub fn broker(url: &str) -> Result<(String, u16), String> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| format!("mqtt_url {url:?} is not mqtt://host:port"))?;
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) => port
            .parse()
            .map(|p| (host.to_string(), p))
            .map_err(|_| format!("mqtt_url {url:?} has no valid port")),
        None => Ok((rest.to_string(), 1883)),
    }
}

/// Starts listening when `mqtt_url` is configured; a bad URL is refused at start.
pub fn start(state: AppState) -> anyhow::Result<()> {
    let Some(url) = state.config.mqtt_url.clone() else {
        return Ok(());
    };
    let (host, port) = broker(&url).map_err(anyhow::Error::msg)?;
    let prefix = state
        .config
        .mqtt_topic_prefix
        .trim_end_matches('/')
        .to_string();
    let mut options = MqttOptions::new(format!("civitas-{}", kernel::ids::new_id()), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1024 * 1024, 1024 * 1024);
    // Room for a burst of four seconds at full speed (a message is a few hundred bytes).
    let (sender, received) = mpsc::channel(400_000);
    // The listener has a thread of its own: it only reads, acknowledges and passes
    // messages on, and must keep doing so while checking and storing keep the runtime's
    // workers busy — a broker drops what a slow subscriber's queue cannot hold.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("mqtt-listener".into())
        .spawn(move || {
            runtime.block_on(async move {
                let (client, events) = AsyncClient::new(options, 10_000);
                listen(client, events, prefix, sender).await;
            });
        })?;
    tokio::spawn(store(state, received));
    Ok(())
}

/// Polls the broker: subscribes on every (re)connection and passes each message on.
async fn listen(
    client: AsyncClient,
    mut events: EventLoop,
    prefix: String,
    sender: mpsc::Sender<Publish>,
) {
    let topic = format!("{prefix}/obs/+");
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!(%topic, "listening for readings over MQTT");
                if let Err(error) = client.subscribe(topic.clone(), QoS::AtLeastOnce).await {
                    tracing::warn!(%error, "subscribing to the readings' topic failed");
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if sender.send(p).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "the MQTT broker is not reachable: trying again in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Readings taken over MQTT and checked since the node started (stored or refused).
static STORED: AtomicU64 = AtomicU64::new(0);

/// How many readings the node has taken over MQTT and checked since it started (stored,
/// duplicates or refused): what the benchmark waits for.
pub fn readings_taken() -> u64 {
    STORED.load(Ordering::Relaxed)
}

/// Gathers messages and stores their readings together.
async fn store(state: AppState, mut received: mpsc::Receiver<Publish>) {
    // Two transactions at once: one gathers while the other commits (as two HTTP
    // connections would); stations are updated in one order, so they never deadlock.
    let writers = std::sync::Arc::new(tokio::sync::Semaphore::new(STORING_AT_ONCE));
    while let Some(first) = received.recv().await {
        let mut messages = vec![first];
        let deadline = tokio::time::Instant::now() + GATHER;
        while messages.len() < GATHER_MAX {
            match tokio::time::timeout_at(deadline, received.recv()).await {
                Ok(Some(p)) => messages.push(p),
                Ok(None) => break,
                Err(_) => break,
            }
        }
        let Ok(permit) = writers.clone().acquire_owned().await else {
            return;
        };
        let state = state.clone();
        tokio::spawn(async move {
            store_gathered(&state, &messages).await;
            drop(permit);
        });
    }
}

/// How many gathered batches are stored at once.
const STORING_AT_ONCE: usize = 2;

/// Checks and stores one gathered lot of messages.
async fn store_gathered(state: &AppState, messages: &[Publish]) {
    let system = Principal::system();
    let mut readings = Vec::new();
    let mut bad = Vec::new();
    for m in messages {
        let station = m.topic.rsplit('/').next().unwrap_or_default().to_string();
        match readings_of(&m.payload) {
            Ok(rs) => readings.extend(rs.into_iter().map(|r| reading(&station, r))),
            Err(_) => bad.push((station, Rejection::BadPayload)),
        }
    }
    let stored = async {
        for chunk in readings.chunks(service::MAX_BATCH) {
            service::ingest(state, &system, chunk).await?;
        }
        service::count_refused(state, &bad).await
    }
    .await;
    match stored {
        Ok(()) => {
            STORED.fetch_add(readings.len() as u64, Ordering::Relaxed);
        }
        Err(error) => {
            tracing::warn!(%error, messages = messages.len(), "storing readings from MQTT failed");
        }
    }
}

fn reading(station: &str, r: Published) -> ObservationIn {
    ObservationIn {
        station: station.to_string(),
        observed_at: r.observed_at,
        value: r.value,
        unit: r.unit,
    }
}

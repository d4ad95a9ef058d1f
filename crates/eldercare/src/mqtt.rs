//! Readings over MQTT: the node subscribes to `{prefix}/device/+` on the configured broker
//! (QoS 1) and takes what devices publish there — one reading or a list of readings in
//! JSON, `{"metric": "heart_rate", "value": 72, "observed_at": "…", "unit": "/min"}`, the
//! device named by the topic — checked and stored as an HTTP batch is, gathered for up to
//! 20 ms (a fall must not wait for a batch to fill). Who may publish to a device's topic is
//! the broker's to decide (its ACLs), as who may send over HTTP is the platform's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kernel::AppState;
use kernel::auth::Principal;
use kernel::mqtt::{Gathering, Publish};
use serde::Deserialize;

use crate::ingest;
use crate::model::{ReadingIn, Rejection};

/// One reading as a device publishes it (the device is the topic's last level).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Published {
    metric: String,
    value: f64,
    observed_at: String,
    #[serde(default)]
    unit: Option<String>,
}

/// Readings taken over MQTT and checked since the node started (stored or refused).
static TAKEN: AtomicU64 = AtomicU64::new(0);

/// How many readings the node has taken over MQTT since it started: what the benchmark
/// and the simulator wait for.
pub fn readings_taken() -> u64 {
    TAKEN.load(Ordering::Relaxed)
}

/// Starts listening when `mqtt_url` is configured; a bad URL is refused at start.
pub fn start(state: AppState) -> anyhow::Result<()> {
    let Some(url) = state.config.mqtt_url.clone() else {
        return Ok(());
    };
    let prefix = state.config.mqtt_topic_prefix.trim_end_matches('/');
    let gathering = Gathering {
        wait: Duration::from_millis(20),
        most: ingest::MAX_BATCH,
        at_once: 2,
    };
    kernel::mqtt::subscribe(
        &url,
        format!("{prefix}/device/+"),
        gathering,
        move |messages| {
            let state = state.clone();
            async move { take(&state, &messages).await }
        },
    )
}

/// Checks and stores one gathering of messages.
async fn take(state: &AppState, messages: &[Publish]) {
    let system = Principal::system();
    let mut readings = Vec::new();
    let mut bad = Vec::new();
    for m in messages {
        let device = kernel::mqtt::last_level(m).to_string();
        match kernel::mqtt::one_or_many::<Published>(&m.payload) {
            Ok(rs) => readings.extend(rs.into_iter().map(|r| ReadingIn {
                device: device.clone(),
                observed_at: r.observed_at,
                metric: r.metric,
                value: r.value,
                unit: r.unit,
            })),
            Err(_) => bad.push((device, Rejection::BadPayload)),
        }
    }
    let stored = async {
        for chunk in readings.chunks(ingest::MAX_BATCH) {
            ingest::ingest(state, &system, chunk).await?;
        }
        ingest::count_refused(state, &bad).await
    }
    .await;
    match stored {
        Ok(()) => {
            TAKEN.fetch_add((readings.len() + bad.len()) as u64, Ordering::Relaxed);
        }
        Err(error) => {
            tracing::warn!(%error, messages = messages.len(), "storing device readings from MQTT failed");
        }
    }
}

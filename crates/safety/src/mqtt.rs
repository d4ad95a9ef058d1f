//! Readings over MQTT: the node subscribes to `{prefix}/obs/+` on the configured broker
//! (QoS 1, through `kernel::mqtt`) and stores what stations publish there — one reading or
//! a list of readings in JSON, the station named by the topic — checked as an HTTP batch
//! is. Messages are gathered for 50 ms (and, while both storing transactions are busy,
//! until one is free; at most 10,000 readings) and stored in one transaction, two such
//! transactions at a time. What a crash can lose, and who may publish, `kernel::mqtt` says.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kernel::AppState;
use kernel::auth::Principal;
use kernel::mqtt::{Gathering, Publish};
use serde::Deserialize;

use crate::model::{ObservationIn, Rejection};
use crate::service;

/// One reading as a station publishes it (the station is the topic's last level).
#[derive(Deserialize)]
struct Published {
    observed_at: String,
    value: f64,
    unit: Option<String>,
}

/// Readings taken over MQTT and checked since the node started (stored or refused).
static STORED: AtomicU64 = AtomicU64::new(0);

/// How many readings the node has taken over MQTT and checked since it started (stored,
/// duplicates or refused): what the benchmark waits for.
pub fn readings_taken() -> u64 {
    STORED.load(Ordering::Relaxed)
}

/// Starts listening when `mqtt_url` is configured; a bad URL is refused at start.
pub fn start(state: AppState) -> anyhow::Result<()> {
    let Some(url) = state.config.mqtt_url.clone() else {
        return Ok(());
    };
    let prefix = state.config.mqtt_topic_prefix.trim_end_matches('/');
    let gathering = Gathering {
        wait: Duration::from_millis(50),
        most: service::MAX_BATCH,
        // One gathers while the other commits (as two HTTP connections would); stations
        // are updated in one order, so they never deadlock.
        at_once: 2,
    };
    kernel::mqtt::subscribe(
        &url,
        format!("{prefix}/obs/+"),
        gathering,
        move |messages| {
            let state = state.clone();
            async move { store_gathered(&state, &messages).await }
        },
    )
}

/// Checks and stores one gathered lot of messages.
async fn store_gathered(state: &AppState, messages: &[Publish]) {
    let system = Principal::system();
    let mut readings = Vec::new();
    let mut bad = Vec::new();
    for m in messages {
        let station = kernel::mqtt::last_level(m).to_string();
        match kernel::mqtt::one_or_many::<Published>(&m.payload) {
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

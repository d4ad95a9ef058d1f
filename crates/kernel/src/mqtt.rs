//! Listening to an MQTT broker for what devices and stations publish (rumqttc, QoS 1):
//! one subscription per capability, its messages gathered for a moment and handed over
//! together, so that the capability stores a lot in one transaction.
//!
//! The listener speaks MQTT 5 and tells the broker in its CONNECT how many unacknowledged
//! messages it may have in flight to it (`Receive Maximum`, [`RECEIVE_MAXIMUM`]): an MQTT
//! 3.1.1 subscriber gets the broker's own window (Mosquitto: 20 messages), which holds a
//! subscriber to one round trip per 20 messages whenever a busy machine schedules it late.
//! Messages are acknowledged as they arrive, not once stored, for the same reason:
//! acknowledging after a gathered transaction would hold the node to a few hundred
//! messages a second.
//! What a crash can lose is the last gathering; a sender that keeps its own readings sends
//! them again over HTTP, where a reading sent twice is stored once. Who may publish to a
//! topic is the broker's to decide (its ACLs).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
pub use rumqttc::v5::mqttbytes::v5::Publish;
use rumqttc::v5::{AsyncClient, Event, EventLoop, MqttOptions};

/// How many unacknowledged messages the broker may have in flight to the node (MQTT 5's
/// Receive Maximum, sent in CONNECT).
pub const RECEIVE_MAXIMUM: u16 = 1_000;
use tokio::sync::mpsc;

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

/// How messages are gathered before they are handed over.
#[derive(Clone, Copy, Debug)]
pub struct Gathering {
    /// How long after the first message the gathering waits for more.
    pub wait: Duration,
    /// The most messages handed over together.
    pub most: usize,
    /// How many gatherings are handled at once (one gathers while another is stored).
    pub at_once: usize,
}

/// A message's payload as one JSON object or a list of them (told apart by the first byte,
/// not by serde's untagged enums, which buffer every message before trying each form).
pub fn one_or_many<T: serde::de::DeserializeOwned>(
    payload: &[u8],
) -> Result<Vec<T>, serde_json::Error> {
    match payload.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice(payload),
        _ => serde_json::from_slice(payload).map(|one| vec![one]),
    }
}

/// The last level of a message's topic (the station or device it names; empty when the
/// topic is not UTF-8, which MQTT requires it to be).
pub fn last_level(message: &Publish) -> &str {
    std::str::from_utf8(&message.topic)
        .ok()
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or_default()
}

/// Subscribes to `topic` on the broker `url` names (refused at once when the URL is bad)
/// and hands each gathering of messages to `handle`, on every (re)connection.
pub fn subscribe<H, F>(
    url: &str,
    topic: String,
    gathering: Gathering,
    handle: H,
) -> anyhow::Result<()>
where
    H: Fn(Vec<Publish>) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let (host, port) = broker(url).map_err(anyhow::Error::msg)?;
    let mut options = MqttOptions::new(format!("civitas-{}", crate::ids::new_id()), host, port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(Some(1024 * 1024));
    options.set_receive_maximum(Some(RECEIVE_MAXIMUM));
    // Room for a burst of a few seconds at full speed (a message is a few hundred bytes).
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
                listen(client, events, topic, sender).await;
            });
        })?;
    tokio::spawn(gather(received, gathering, Arc::new(handle)));
    Ok(())
}

/// Polls the broker: subscribes on every (re)connection and passes each message on.
async fn listen(
    client: AsyncClient,
    mut events: EventLoop,
    topic: String,
    sender: mpsc::Sender<Publish>,
) {
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!(%topic, "listening over MQTT");
                if let Err(error) = client.subscribe(topic.clone(), QoS::AtLeastOnce).await {
                    tracing::warn!(%error, %topic, "subscribing over MQTT failed");
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

/// Gathers messages and hands each gathering over, `at_once` at a time. After the first
/// message it sleeps out the wait and then takes what came meanwhile, rather than waking for
/// every message: at tens of thousands of messages a second, a wake-up per message between
/// the listener's thread and the runtime's would cost more than storing them.
async fn gather<H, F>(mut received: mpsc::Receiver<Publish>, gathering: Gathering, handle: Arc<H>)
where
    H: Fn(Vec<Publish>) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let handlers = Arc::new(tokio::sync::Semaphore::new(gathering.at_once.max(1)));
    let most = gathering.most.max(1);
    while let Some(first) = received.recv().await {
        let mut messages = vec![first];
        tokio::time::sleep(gathering.wait).await;
        take_waiting(&mut received, &mut messages, most);
        // While every handler is busy, what arrives waits in the channel; once one is free,
        // the gathering takes it too: under load, fewer and larger transactions.
        let Ok(permit) = handlers.clone().acquire_owned().await else {
            return;
        };
        take_waiting(&mut received, &mut messages, most);
        let work = handle(messages);
        tokio::spawn(async move {
            work.await;
            drop(permit);
        });
    }
}

/// Takes the messages already waiting, up to `most` in all.
fn take_waiting(received: &mut mpsc::Receiver<Publish>, messages: &mut Vec<Publish>, most: usize) {
    while messages.len() < most {
        match received.try_recv() {
            Ok(p) => messages.push(p),
            Err(_) => break,
        }
    }
}

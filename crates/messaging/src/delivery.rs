//! The delivery worker: claims due deliveries from the log in batches, sends each through
//! its channel (several at once), and records the outcome — sent, retried later with a
//! growing pause, or failed after the configured attempts. Claims are leases, so a node
//! that dies mid-batch leaves its deliveries to be claimed again, never lost.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::channels::{ChannelKind, Channels, Failure, Outgoing};
use crate::service::CTX_EMAIL;
use crate::store::{self, DueRow, Outcome};

/// Deliveries claimed per round.
const BATCH: i64 = 64;
/// Deliveries in flight at once (a group; outcomes are recorded after each group).
const IN_FLIGHT: usize = 16;
/// How long a claim holds before another round may take the delivery again: more than
/// a round's groups each waiting the channels' full timeout (4 × 10 s, SMTP a few
/// commands of 10 s each).
const LEASE: Duration = Duration::from_secs(300);
/// The pause before the first retry; it doubles with each attempt.
const FIRST_RETRY: Duration = Duration::from_secs(30);

/// The platform's channels (inserted into the application's extensions at start).
pub fn channels(state: &AppState) -> ApiResult<&Channels> {
    state
        .extensions
        .get::<Arc<Channels>>()
        .map(|c| c.as_ref())
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("messaging channels not set up")))
}

/// Starts the worker: a round whenever a notice with deliveries commits, and every few
/// seconds for retries; rounds follow each other while there is work.
pub fn start(state: AppState) {
    if channels(&state).is_err() {
        tracing::warn!("no messaging channels: the delivery worker does not run");
        return;
    }
    tokio::spawn(async move {
        loop {
            match deliver_due(&state).await {
                Ok(n) if n as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "a delivery round failed"),
            }
            if let Ok(channels) = channels(&state) {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), channels.wake.notified()).await;
            }
        }
    });
}

/// Rings the worker's bell (after a commit that queued deliveries).
pub fn wake(state: &AppState) {
    if let Ok(channels) = channels(state) {
        channels.wake.notify_one();
    }
}

/// What a notice needs to be sent, loaded once per round.
struct Notice {
    sender_name: String,
    subject: String,
    body: String,
    created_at: Timestamp,
    ack_required: bool,
}

/// One round: claims up to a batch of due deliveries, sends them (several at once) and
/// records each group's outcomes as soon as it is done, so that a node stopped mid-round
/// re-sends at most the group in flight. If the round fails as a whole (the store does
/// not answer), its claims are given back. Returns how many were attempted.
pub async fn deliver_due(state: &AppState) -> ApiResult<usize> {
    let channels = channels(state)?;
    let now = Timestamp::now();
    let lease = Timestamp(now.0 + LEASE.as_micros() as i64);
    let due = store::claim_due(&state.db, now, lease, BATCH).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let max_attempts = state.config.delivery_attempts.max(1);
    if let Err(error) = send_round(state, channels, &due, lease, max_attempts).await {
        store::release(
            &state.db,
            lease,
            max_attempts,
            &format!("round failed: {error}"),
        )
        .await?;
        return Err(error);
    }
    Ok(due.len())
}

async fn send_round(
    state: &AppState,
    channels: &Channels,
    due: &[DueRow],
    lease: Timestamp,
    max_attempts: i64,
) -> ApiResult<()> {
    let addresses = addresses(state, due).await?;
    let mut notices: HashMap<String, Notice> = HashMap::new();
    for d in due {
        if !notices.contains_key(&d.message_id)
            && let Some(m) = store::get_message(&state.db, &d.message_id).await?
        {
            notices.insert(
                d.message_id.clone(),
                Notice {
                    sender_name: m.sender_name,
                    subject: m.subject,
                    body: m.body,
                    created_at: m.created_at,
                    ack_required: m.ack_required == 1,
                },
            );
        }
    }
    let base = state.config.public_base_url();
    for group in due.chunks(IN_FLIGHT) {
        let results: Vec<Result<Option<String>, Failure>> =
            futures::future::join_all(group.iter().map(|d| {
                let notice = notices.get(&d.message_id);
                let address = addresses.get(&(d.channel.clone(), d.recipient.clone()));
                send_one(channels, d, notice, address, &base)
            }))
            .await;
        let now = Timestamp::now();
        let outcomes: Vec<Outcome> = group
            .iter()
            .zip(&results)
            .map(|(d, result)| {
                let base = Outcome {
                    message_id: &d.message_id,
                    channel: &d.channel,
                    recipient: &d.recipient,
                    status: "sent",
                    next_attempt_at: now,
                    error: None,
                    provider_ref: None,
                };
                match result {
                    Ok(reference) => Outcome {
                        provider_ref: reference.as_deref(),
                        ..base
                    },
                    Err(Failure::Retry(error)) if d.attempts < max_attempts => Outcome {
                        status: "pending",
                        next_attempt_at: retry_at(now, d.attempts),
                        error: Some(error),
                        ..base
                    },
                    Err(Failure::Retry(error) | Failure::Permanent(error)) => Outcome {
                        status: "failed",
                        error: Some(error),
                        ..base
                    },
                }
            })
            .collect();
        store::record_outcomes(&state.db, &outcomes, lease).await?;
        let failed = outcomes.iter().filter(|o| o.status != "sent").count();
        metrics::counter!("civitas_deliveries_total", "outcome" => "sent")
            .increment((outcomes.len() - failed) as u64);
        metrics::counter!("civitas_deliveries_total", "outcome" => "not_sent")
            .increment(failed as u64);
    }
    Ok(())
}

/// When to try again after `attempts` attempts: 30 s, 1 min, 2 min, … (at most a day).
fn retry_at(now: Timestamp, attempts: i64) -> Timestamp {
    let exponent = u32::try_from(attempts.clamp(1, 14) - 1).unwrap_or(0);
    let pause = (FIRST_RETRY.as_micros() as i64)
        .saturating_mul(1 << exponent)
        .min(86_400_000_000);
    Timestamp(now.0 + pause)
}

/// An address to send to: (address, masked address, webhook secret).
type Address = (String, String, Option<Vec<u8>>);

/// The addresses of a round's recipients, opened from the vault in bulk: phones from the
/// register, e-mail addresses from the settings, webhook URLs and secrets.
async fn addresses(
    state: &AppState,
    due: &[DueRow],
) -> ApiResult<HashMap<(String, String), Address>> {
    let of = |kind: ChannelKind| -> Vec<String> {
        let mut ids: Vec<String> = due
            .iter()
            .filter(|d| d.channel == kind.as_str())
            .map(|d| d.recipient.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut out = HashMap::new();
    // A resident who turned SMS off after the notice was queued is not texted.
    let sms_ids = of(ChannelKind::Sms);
    let off: std::collections::HashSet<String> = store::sms_off(&state.db, &sms_ids)
        .await?
        .into_iter()
        .collect();
    let sms_ids: Vec<String> = sms_ids.into_iter().filter(|id| !off.contains(id)).collect();
    for (id, phone) in identity::service::phones_of(state, &sms_ids).await? {
        let masked = kernel::crypto::mask_phone(&phone);
        out.insert(("sms".to_string(), id), (phone, masked, None));
    }
    for (id, sealed) in store::emails_of(&state.db, &of(ChannelKind::Email)).await? {
        // One address that does not open fails its own delivery, not the round.
        let Ok(email) = state.vault.open(&sealed, CTX_EMAIL) else {
            tracing::warn!(person = %id, "an e-mail address does not open with this key");
            continue;
        };
        let masked = crate::service::mask_email(&email);
        out.insert(("email".to_string(), id), (email, masked, None));
    }
    for hook in store::get_webhooks(&state.db, &of(ChannelKind::Webhook)).await? {
        let Ok(secret) = state
            .vault
            .open_bytes(&hook.secret_enc, crate::service::CTX_WEBHOOK_SECRET)
        else {
            tracing::warn!(webhook = %hook.id, "a webhook secret does not open with this key");
            continue;
        };
        out.insert(
            ("webhook".to_string(), hook.id),
            (hook.url.clone(), hook.url, Some(secret)),
        );
    }
    Ok(out)
}

async fn send_one(
    channels: &Channels,
    due: &DueRow,
    notice: Option<&Notice>,
    address: Option<&Address>,
    base: &str,
) -> Result<Option<String>, Failure> {
    let kind = ChannelKind::parse(&due.channel)
        .ok_or_else(|| Failure::Permanent(format!("unknown channel {}", due.channel)))?;
    let channel = channels
        .get(kind)
        .ok_or_else(|| Failure::Retry(format!("the {} channel is not configured", due.channel)))?;
    let notice = notice.ok_or_else(|| Failure::Permanent("the notice is gone".into()))?;
    let (address, masked, secret) = address.ok_or_else(|| {
        Failure::Permanent("the recipient has no address for this channel any more".into())
    })?;
    let link = format!("{base}/me/inbox/{}", due.message_id);
    let payload = secret.as_ref().map(|_| {
        serde_json::json!({
            "id": due.message_id,
            "sender": notice.sender_name,
            "subject": notice.subject,
            "body": notice.body,
            "ack_required": notice.ack_required,
            "created_at": notice.created_at,
        })
        .to_string()
    });
    let out = Outgoing {
        message_id: &due.message_id,
        recipient: &due.recipient,
        address,
        address_masked: masked,
        sender_name: &notice.sender_name,
        subject: &notice.subject,
        body: &notice.body,
        link: &link,
        webhook: payload.as_deref().zip(secret.as_deref()),
    };
    channel.send(&out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_growing_at_a_day() {
        let now = Timestamp(0);
        assert_eq!(retry_at(now, 1).0, 30_000_000);
        assert_eq!(retry_at(now, 2).0, 60_000_000);
        assert_eq!(retry_at(now, 4).0, 240_000_000);
        assert_eq!(retry_at(now, 40).0, 86_400_000_000);
    }
}

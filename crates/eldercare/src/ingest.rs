//! Readings from care devices, over HTTP batches and MQTT (`mqtt.rs`): each checked —
//! unknown or unbound devices, metrics the device does not report, wrong units, impossible
//! values, times ahead of the clock and floods from one device are refused with reasons and
//! counted; a reading sent twice is stored once; a late one is kept as history. Values are
//! sealed at rest (health data). Fresh readings outside the elder's limits, falls and SOS
//! presses raise alerts (`alerts.rs`) in the same transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use kernel::auth::Principal;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::alerts::{self, Raised};
use crate::model::*;
use crate::service::{self, Limits};
use crate::store::{self, DeviceRow, ElderRow, NewReading};

/// The most readings a batch holds.
pub const MAX_BATCH: usize = 1_000;
/// How far ahead of the server's clock a device's clock may run.
const FUTURE_TOLERANCE_MICROS: i64 = 30_000_000;
/// Readings older than this are history: stored, never raising an alert.
const FRESH_FOR_MICROS: i64 = 10 * 60 * 1_000_000;
/// The refused readings listed in a report.
const REFUSED_LISTED: usize = 100;
/// The most readings shown with one alert.
const EVIDENCE_MAX: usize = 20;
/// Vault context of reading values.
pub const CTX_READING: &str = "eldercare.reading";

/// A device's allowance: a burst of this many readings …
const BURST: f64 = 1_000.0;
/// … refilled at this many a second (a wristband sends four readings every ten seconds; a
/// gateway catching up on an hour offline sends a burst).
const REFILL_PER_SECOND: f64 = 5.0;

/// Each device's allowance of readings on this node (a token bucket per device: a device
/// that floods is refused what is over, counted as `rate_limited`).
#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimits {
    /// Takes one reading from the device's allowance: false when it has none left.
    pub fn take(&self, device: &str) -> bool {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        if buckets.len() > 200_000 {
            // Forget devices whose buckets are full again.
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * REFILL_PER_SECOND < BURST
            });
        }
        let (tokens, at) = buckets.entry(device.to_string()).or_insert((BURST, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * REFILL_PER_SECOND).min(BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A reading that passed its checks.
struct Checked<'a> {
    device: &'a DeviceRow,
    elder_id: &'a str,
    metric: Metric,
    at: Timestamp,
    value: f64,
}

fn check<'a>(
    reading: &ReadingIn,
    device: Option<&'a DeviceRow>,
    by: &Principal,
    now: Timestamp,
) -> Result<Checked<'a>, (Rejection, String)> {
    let Some(device) = device else {
        return Err((
            Rejection::UnknownDevice,
            format!("no device is registered as {:?}", short(&reading.device)),
        ));
    };
    if !service::runs_devices_of(by, &device.organisation_id) {
        return Err((
            Rejection::NotYourDevice,
            format!("{} is run by another organisation", device.id),
        ));
    }
    let Some(elder_id) = device.elder_id.as_deref() else {
        return Err((
            Rejection::UnboundDevice,
            format!("{} is bound to no elder", device.id),
        ));
    };
    let Some(metric) = Metric::parse(reading.metric.trim()) else {
        return Err((
            Rejection::UnknownMetric,
            format!(
                "{:?} is not a metric (e.g. heart_rate, spo2, fall, sos)",
                short(&reading.metric)
            ),
        ));
    };
    let kind = DeviceKind::parse(&device.kind).unwrap_or(DeviceKind::Wristband);
    if !kind.reports(metric) {
        return Err((
            Rejection::WrongMetric,
            format!("a {} does not report {}", kind.as_str(), metric.as_str()),
        ));
    }
    if let Some(unit) = reading.unit.as_deref()
        && unit.trim() != metric.unit()
    {
        return Err((
            Rejection::WrongUnit,
            format!(
                "{} is in {}, not {:?}",
                metric.as_str(),
                metric.unit(),
                short(unit)
            ),
        ));
    }
    let (lo, hi) = metric.range();
    if !reading.value.is_finite() || reading.value < lo || reading.value > hi {
        return Err((
            Rejection::Impossible,
            format!("{} {} is outside {lo}–{hi}", metric.as_str(), reading.value),
        ));
    }
    let Some(at) = Timestamp::parse_rfc3339(reading.observed_at.trim()) else {
        return Err((
            Rejection::BadTime,
            format!(
                "{:?} is not an RFC 3339 time (e.g. 2026-07-21T14:00:00+08:00)",
                short(&reading.observed_at)
            ),
        ));
    };
    if at.0 > now.0 + FUTURE_TOLERANCE_MICROS {
        return Err((
            Rejection::InTheFuture,
            format!("{} is ahead of the server's clock", at.rfc3339()),
        ));
    }
    Ok(Checked {
        device,
        elder_id,
        metric,
        at,
        value: reading.value,
    })
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Stores a batch of readings (the staff or system of the organisation running the
/// devices): every good one once, every bad one refused with its reason and counted, the
/// alerts they raise raised — all in one transaction.
pub async fn ingest(
    state: &AppState,
    by: &Principal,
    batch: &[ReadingIn],
) -> ApiResult<IngestReport> {
    if batch.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "readings",
            format!(
                "a batch holds at most {MAX_BATCH} readings, not {}",
                batch.len()
            ),
        ));
    }
    let named: HashSet<&str> = batch
        .iter()
        .map(|r| r.device.trim())
        .filter(|d| service::is_device_id(d))
        .collect();
    let ids: Vec<String> = named.into_iter().map(str::to_string).collect();
    let devices: HashMap<String, DeviceRow> = store::devices_by_id(&state.db, &ids)
        .await?
        .into_iter()
        .map(|d| (d.id.clone(), d))
        .collect();
    let elder_ids: Vec<String> = devices
        .values()
        .filter_map(|d| d.elder_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let elders: HashMap<String, ElderRow> = store::elders_by_id(&state.db, &elder_ids)
        .await?
        .into_iter()
        .map(|e| (e.person_id.clone(), e))
        .collect();
    let rules = service::rules(state).await?;
    let limits: HashMap<&str, Limits> = elders
        .iter()
        .map(|(id, e)| (id.as_str(), Limits::of(&rules, &service::baselines_of(e))))
        .collect();
    let rate = state.extensions.get::<std::sync::Arc<RateLimits>>();
    let now = Timestamp::now();
    let mut report = IngestReport::default();
    let mut counts: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
    let mut good: Vec<Checked> = Vec::with_capacity(batch.len());
    for (index, reading) in batch.iter().enumerate() {
        let checked = check(reading, devices.get(reading.device.trim()), by, now).and_then(|c| {
            if rate.is_none_or(|r| r.take(&c.device.id)) {
                Ok(c)
            } else {
                Err((
                    Rejection::RateLimited,
                    format!("{} sent more than its share of readings", c.device.id),
                ))
            }
        });
        match checked {
            Ok(c) if elders.contains_key(c.elder_id) => good.push(c),
            Ok(c) => {
                report.rejected += 1;
                *counts
                    .entry((c.device.id.clone(), Rejection::UnboundDevice.as_str()))
                    .or_default() += 1;
            }
            Err((reason, detail)) => {
                report.rejected += 1;
                let device = short(reading.device.trim());
                *counts.entry((device.clone(), reason.as_str())).or_default() += 1;
                if report.refused.len() < REFUSED_LISTED {
                    report.refused.push(Refused {
                        index,
                        device,
                        reason,
                        detail,
                    });
                }
            }
        }
    }
    let mut rows = Vec::with_capacity(good.len());
    for c in &good {
        rows.push(NewReading {
            device_id: &c.device.id,
            metric: c.metric.as_str(),
            observed_at: c.at,
            elder_id: c.elder_id,
            value_enc: state
                .vault
                .seal(&c.value.to_string(), CTX_READING)
                .map_err(ApiError::Unexpected)?,
        });
    }
    // Fresh readings that raise an alert, by elder and kind (with why).
    let fresh_since = Timestamp(now.0 - FRESH_FOR_MICROS);
    let mut raising: BTreeMap<(&str, AlertKind), Vec<(&Checked, String)>> = BTreeMap::new();
    for c in &good {
        let late = c.at < fresh_since || c.device.last_reading_at.is_some_and(|s| c.at < s);
        if late {
            report.late += 1;
            continue;
        }
        if let Some((kind, why)) = limits
            .get(c.elder_id)
            .and_then(|l| l.judge(c.metric, c.value))
        {
            raising
                .entry((c.elder_id, kind))
                .or_default()
                .push((c, why));
        }
    }
    let mut tx = state.db.begin().await?;
    // A reading sent again raises nothing again.
    let keys: Vec<(&str, &'static str, Timestamp)> = raising
        .values()
        .flatten()
        .map(|(c, _)| (c.device.id.as_str(), c.metric.as_str(), c.at))
        .collect();
    let stored: HashSet<(String, String, Timestamp)> = store::stored_already(&mut tx, &keys)
        .await?
        .into_iter()
        .collect();
    report.accepted = store::insert_readings(&mut tx, &rows, now).await? as usize;
    report.duplicates = good.len() - report.accepted;
    // Devices heard from, movements and water use.
    let mut seen: BTreeMap<&str, (&DeviceRow, Timestamp)> = BTreeMap::new();
    let mut activity: BTreeMap<&str, Timestamp> = BTreeMap::new();
    let mut water: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for c in &good {
        let newest = seen.entry(&c.device.id).or_insert((c.device, c.at));
        newest.1 = newest.1.max(c.at);
        if c.metric.shows_activity(c.value) {
            let at = activity.entry(c.elder_id).or_insert(c.at);
            *at = (*at).max(c.at);
        }
        if c.metric == Metric::WaterUse && c.value > 0.0 {
            let at = water.entry(c.elder_id).or_insert(c.at);
            *at = (*at).max(c.at);
        }
    }
    let heard: Vec<(&str, Timestamp, Timestamp)> = seen
        .iter()
        .map(|(d, (_, newest))| (*d, now, *newest))
        .collect();
    store::seen(&mut tx, &heard).await?;
    for (device, _) in seen.values().filter(|(d, _)| d.online == 0) {
        if let Some(elder) = device.elder_id.as_deref() {
            alerts::back_online_in(&mut tx, elder, &device.id, now).await?;
        }
    }
    store::touch(&mut tx, false, &activity.into_iter().collect::<Vec<_>>()).await?;
    store::touch(&mut tx, true, &water.into_iter().collect::<Vec<_>>()).await?;
    for ((elder_id, kind), readings) in &raising {
        let fresh: Vec<&(&Checked, String)> = readings
            .iter()
            .filter(|(c, _)| {
                !stored.contains(&(c.device.id.clone(), c.metric.as_str().to_string(), c.at))
            })
            .collect();
        let Some(elder) = elders.get(*elder_id) else {
            continue;
        };
        let Some((first, _)) = fresh.first() else {
            continue;
        };
        let evidence: Vec<Evidence> = fresh
            .iter()
            .take(EVIDENCE_MAX)
            .map(|(c, why)| Evidence {
                device_id: c.device.id.clone(),
                metric: c.metric,
                observed_at: c.at,
                value: c.value,
                why: why.clone(),
            })
            .collect();
        let detail = format!(
            "{} reading{} from {}",
            fresh.len(),
            if fresh.len() == 1 { "" } else { "s" },
            first.device.id
        );
        let raise = alerts::Raise {
            kind: *kind,
            device_id: Some(&first.device.id),
            evidence: &evidence,
            detail: &detail,
        };
        match alerts::raise_in(state, &mut tx, &rules, elder, raise, now).await? {
            Raised::New(_) => report.alerts_raised += 1,
            Raised::Folded(_) => report.alerts_folded += 1,
        }
    }
    let counts: Vec<(String, &'static str, i64)> =
        counts.into_iter().map(|((d, r), n)| (d, r, n)).collect();
    store::count_rejections(&mut tx, &counts, now).await?;
    tx.commit().await?;
    if report.alerts_raised > 0 {
        alerts::steps_changed(state);
    }
    Ok(report)
}

/// Counts readings refused before they could be checked (an MQTT message that is not
/// JSON): (device id as named, reason).
pub async fn count_refused(state: &AppState, refused: &[(String, Rejection)]) -> ApiResult<()> {
    if refused.is_empty() {
        return Ok(());
    }
    let mut counts: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
    for (device, reason) in refused {
        *counts.entry((short(device), reason.as_str())).or_default() += 1;
    }
    let counts: Vec<(String, &'static str, i64)> =
        counts.into_iter().map(|((d, r), n)| (d, r, n)).collect();
    let mut tx = state.db.begin().await?;
    store::count_rejections(&mut tx, &counts, Timestamp::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// An elder's readings of the last `hours` (at most 500, newest first), opened for whoever
/// may see her (audited when someone else).
pub async fn readings(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    hours: i64,
) -> ApiResult<Vec<Evidence>> {
    let elder = service::elder_row(state, elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    if !(1..=24 * 31).contains(&hours) {
        return Err(ApiError::invalid("hours", "hours is 1 to 744"));
    }
    service::audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.readings.read",
        format!("elder:{elder_id} hours:{hours}"),
        "see an elder's device readings",
    )
    .await?;
    let since = Timestamp(Timestamp::now().0 - hours * 3_600_000_000);
    let rows = store::readings_of(&state.db, elder_id, since, 500).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let metric = Metric::parse(&r.metric)?;
            let value = state
                .vault
                .open(&r.value_enc, CTX_READING)
                .ok()?
                .parse()
                .ok()?;
            Some(Evidence {
                device_id: r.device_id,
                metric,
                observed_at: r.observed_at,
                value,
                why: String::new(),
            })
        })
        .collect())
}

/// The refused readings' counts (the staff of any organisation running devices, or an
/// administrator).
pub async fn rejections(
    state: &AppState,
    by: &Principal,
) -> ApiResult<Vec<(String, String, i64, Timestamp)>> {
    if !by.is_platform_admin() && by.staff_organisations().is_empty() {
        return Err(ApiError::Forbidden(
            "refused readings are for the staff who run devices".into(),
        ));
    }
    Ok(store::rejections(&state.db).await?)
}

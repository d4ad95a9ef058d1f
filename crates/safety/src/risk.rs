//! The two risk computations, kept free of the store so that they can be read (and
//! tested) as the method they are:
//!
//! - the **static assessment** (五色图): hazard × (exposure, vulnerability) relieved by
//!   capacity, per region, by the documented [`RiskMethod`];
//! - the **dynamic warnings**: each region's level 3, 6, 24 and 48 hours ahead, from its
//!   stations' recent readings and its forecast, by [`WarningRules`], each level with the
//!   rules, stations and figures that raised it.

use std::collections::HashMap;

use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult};

use crate::model::*;

/// An hour in the store's microseconds.
pub const HOUR: i64 = 3_600_000_000;

/// A gauge whose newest reading is older than this (hours before the data's time) is not
/// read: a silent station says nothing about now.
pub const STALE_HOURS: i64 = 6;

/// What the static assessment knows of one region.
pub struct RegionFacts {
    /// The region's code.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Its hazard index and what it rests on, if recorded.
    pub hazard: Option<(f64, String)>,
    /// Residents registered there.
    pub population: i64,
    /// Of them, elderly.
    pub elderly: i64,
    /// Of them, carrying a vulnerable tag.
    pub tagged: i64,
    /// Of them, elderly or tagged.
    pub vulnerable: i64,
    /// Shelter places there.
    pub shelter_places: i64,
}

fn share(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The level a score reaches by the method's cuts.
pub fn level_of(score: f64, cuts: &[f64; 4]) -> RiskLevel {
    let reached = cuts.iter().filter(|c| score >= **c).count();
    RISK_LEVELS[reached]
}

/// Checks a method: weights in 0–1 summing to 1, relief in 0–1, shelter share in (0, 1],
/// an age of 0–150, cuts rising within 0–100, at most 5 tags.
pub fn check_method(m: &RiskMethod) -> ApiResult<()> {
    for (field, v) in [
        ("exposure_weight", m.exposure_weight),
        ("vulnerability_weight", m.vulnerability_weight),
        ("capacity_relief", m.capacity_relief),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(ApiError::invalid(field, format!("{field} is from 0 to 1")));
        }
    }
    if ((m.exposure_weight + m.vulnerability_weight) - 1.0).abs() > 1e-6 {
        return Err(ApiError::invalid(
            "vulnerability_weight",
            "exposure_weight and vulnerability_weight sum to 1",
        ));
    }
    if !(m.shelter_share > 0.0 && m.shelter_share <= 1.0) {
        return Err(ApiError::invalid(
            "shelter_share",
            "shelter_share is more than 0 and at most 1",
        ));
    }
    if !(0..=150).contains(&m.elderly_age) {
        return Err(ApiError::invalid("elderly_age", "an age from 0 to 150"));
    }
    if m.vulnerable_tags.len() > 5 {
        return Err(ApiError::invalid("vulnerable_tags", "name at most 5 tags"));
    }
    let mut last = 0.0;
    for (i, c) in m.cuts.iter().enumerate() {
        if !(0.0..=100.0).contains(c) || *c <= last && i > 0 || (i == 0 && *c <= 0.0) {
            return Err(ApiError::invalid(
                format!("cuts[{i}]"),
                "the four cuts rise, each above the one before, within (0, 100]",
            ));
        }
        last = *c;
    }
    Ok(())
}

/// Assesses each region by the method, highest score first.
pub fn assess(method: &RiskMethod, facts: Vec<RegionFacts>) -> Vec<RegionRisk> {
    // Regions are compared with regions of their own level (same code length): a county's
    // population does not shrink every community's exposure.
    let mut most_people: HashMap<usize, i64> = HashMap::new();
    let mut highest_share: HashMap<usize, f64> = HashMap::new();
    for f in &facts {
        let level = f.region.len();
        let people = most_people.entry(level).or_default();
        *people = (*people).max(f.population);
        let top = highest_share.entry(level).or_default();
        *top = top.max(share(f.vulnerable, f.population));
    }
    let mut out: Vec<RegionRisk> = facts
        .into_iter()
        .map(|f| {
            let level = f.region.len();
            let most_people = most_people.get(&level).copied().unwrap_or(0);
            let highest_share = highest_share.get(&level).copied().unwrap_or(0.0);
            let hazard = f.hazard.as_ref().map_or(0.0, |h| h.0);
            let exposure = share(f.population, most_people);
            let vulnerability = if highest_share > 0.0 {
                share(f.vulnerable, f.population) / highest_share
            } else {
                0.0
            };
            let needed = f.population as f64 * method.shelter_share;
            let capacity = if needed > 0.0 {
                (f.shelter_places as f64 / needed).min(1.0)
            } else {
                1.0
            };
            let score = 100.0
                * hazard
                * (method.exposure_weight * exposure + method.vulnerability_weight * vulnerability)
                * (1.0 - method.capacity_relief * capacity);
            let score = (score * 10.0).round() / 10.0;
            RegionRisk {
                region: f.region,
                name: f.name,
                level: level_of(score, &method.cuts),
                score,
                hazard,
                hazard_basis: f.hazard.map(|h| h.1),
                population: f.population,
                elderly: f.elderly,
                tagged: f.tagged,
                vulnerable: f.vulnerable,
                shelter_places: f.shelter_places,
                exposure: round3(exposure),
                vulnerability: round3(vulnerability),
                capacity: round3(capacity),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.region.cmp(&b.region))
    });
    out
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn is_rule_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Checks warning rules: at most 100, unique ids, windows of 1–72 hours, positive
/// amounts within the kind's range, no rule raising green, a sender for automatic
/// notices.
pub fn check_rules(r: &WarningRules) -> ApiResult<()> {
    if r.rules.len() > 100 {
        return Err(ApiError::invalid("rules", "at most 100 rules"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, rule) in r.rules.iter().enumerate() {
        let field = |f: &str| format!("rules[{i}].{f}");
        if !is_rule_id(rule.id()) {
            return Err(ApiError::invalid(
                field("id"),
                "a rule id is 1–40 of A–Z, a–z, 0–9, - and _",
            ));
        }
        if !seen.insert(rule.id()) {
            return Err(ApiError::invalid(
                field("id"),
                format!("two rules are called {}", rule.id()),
            ));
        }
        if rule.level() == RiskLevel::Green {
            return Err(ApiError::invalid(
                field("level"),
                "a rule raises blue, yellow, orange or red",
            ));
        }
        match rule {
            WarningRule::Rain {
                hours, millimetres, ..
            } => {
                if !(1..=72).contains(hours) {
                    return Err(ApiError::invalid(
                        field("hours"),
                        "a window of 1 to 72 hours",
                    ));
                }
                if !(*millimetres > 0.0 && *millimetres <= 5_000.0) {
                    return Err(ApiError::invalid(
                        field("millimetres"),
                        "more than 0 and at most 5,000 mm",
                    ));
                }
            }
            WarningRule::Reading { kind, at_least, .. } => {
                let (low, high) = kind.range();
                if !(low..=high).contains(at_least) {
                    return Err(ApiError::invalid(
                        field("at_least"),
                        format!("a {} reads {low}–{high} {}", kind.names().1, kind.unit()),
                    ));
                }
            }
            WarningRule::Stage { .. } => {}
        }
    }
    if !(1..=6).contains(&r.rise_hours) {
        return Err(ApiError::invalid("rise_hours", "from 1 to 6 hours"));
    }
    if r.project_hours > 12 {
        return Err(ApiError::invalid("project_hours", "from 0 to 12 hours"));
    }
    if r.notify_again_after_hours > 168 {
        return Err(ApiError::invalid(
            "notify_again_after_hours",
            "from 0 to 168 hours",
        ));
    }
    if r.notify_residents_from == Some(RiskLevel::Green) {
        return Err(ApiError::invalid(
            "notify_residents_from",
            "residents are told from blue, yellow, orange or red",
        ));
    }
    if r.notify_residents_from.is_some() && r.notify_organisation_id.is_none() {
        return Err(ApiError::invalid(
            "notify_organisation_id",
            "name the organisation the automatic notices come from",
        ));
    }
    Ok(())
}

/// A station with its readings of the last hours (oldest first).
pub struct Gauge<'a> {
    /// The station.
    pub station: &'a Station,
    /// (time, value), oldest first.
    pub readings: &'a [(Timestamp, f64)],
}

impl Gauge<'_> {
    /// The newest reading, unless it is stale at `as_of`.
    fn latest(&self, as_of: Timestamp) -> Option<(Timestamp, f64)> {
        let last = *self.readings.last()?;
        (last.0.0 > as_of.0 - STALE_HOURS * HOUR).then_some(last)
    }

    /// Rain over the `hours` up to `as_of` (readings after `as_of − hours`).
    fn rain_over(&self, as_of: Timestamp, hours: u32) -> f64 {
        let from = as_of.0 - i64::from(hours) * HOUR;
        self.readings
            .iter()
            .filter(|(t, _)| t.0 > from && t.0 <= as_of.0)
            .map(|(_, v)| v)
            .sum()
    }

    /// Rise per hour over the last `hours` before its newest reading (none without a
    /// reading at least half that far back).
    fn rise_per_hour(&self, hours: u32) -> Option<f64> {
        let (last_at, last) = *self.readings.last()?;
        let from = last_at.0 - i64::from(hours) * HOUR;
        let (t, v) = self
            .readings
            .iter()
            .find(|(t, _)| t.0 >= from && t.0 < last_at.0)?;
        let elapsed = (last_at.0 - t.0) as f64 / HOUR as f64;
        // Two readings minutes apart (after a gap, or from a new gauge) make noise a rate.
        (elapsed >= f64::from(hours) / 2.0).then(|| (last - v) / elapsed)
    }
}

/// A region's forecast rain as a cumulative curve from the data's time: the issued
/// amounts (0 at issue, each horizon's amount at its hour), read between them linearly
/// and held after the last.
pub struct ForecastCurve {
    /// (hours after issue, cumulative mm), rising in hours, starting at (0, 0).
    points: Vec<(f64, f64)>,
    /// Hours from issue to the data's time.
    offset: f64,
}

impl ForecastCurve {
    /// The curve of a region's forecasts (all issued at the latest issue among them)
    /// seen from `as_of`; none without forecasts.
    pub fn new(forecasts: &[&Forecast], as_of: Timestamp) -> Option<ForecastCurve> {
        let issued = forecasts.iter().map(|f| f.issued_at.0).max()?;
        let mut points = vec![(0.0, 0.0)];
        let mut latest: Vec<&&Forecast> = forecasts
            .iter()
            .filter(|f| f.issued_at.0 == issued)
            .collect();
        latest.sort_by_key(|f| f.horizon_hours);
        for f in latest {
            let previous = points.last().map_or(0.0, |p| p.1);
            // Cumulative amounts never fall: a later horizon holds the earlier rain.
            points.push((f64::from(f.horizon_hours), f.rain_mm.max(previous)));
        }
        Some(ForecastCurve {
            points,
            // A forecast issued after the newest reading starts at the data's time.
            offset: ((as_of.0 - issued) as f64 / HOUR as f64).max(0.0),
        })
    }

    fn cumulative(&self, hours_after_issue: f64) -> f64 {
        let h = hours_after_issue.max(0.0);
        for pair in self.points.windows(2) {
            let ((h0, r0), (h1, r1)) = (pair[0], pair[1]);
            if h <= h1 {
                return r0 + (r1 - r0) * (h - h0) / (h1 - h0);
            }
        }
        self.points.last().map_or(0.0, |p| p.1)
    }

    /// Rain expected between `from` and `to` hours after the data's time.
    pub fn between(&self, from: f64, to: f64) -> f64 {
        let v = self.cumulative(self.offset + to) - self.cumulative(self.offset + from);
        (v * 10.0).round() / 10.0
    }
}

/// The window ends a horizon looks at: now and every whole hour up to it.
fn window_ends(horizon: u32) -> impl Iterator<Item = u32> {
    0..=horizon
}

fn reason(
    rule: &WarningRule,
    station: Option<&Station>,
    at_hours: u32,
    observed: f64,
    expected: f64,
    threshold: f64,
    unit: &str,
) -> Reason {
    Reason {
        rule: rule.id().to_string(),
        measure: rule.measure().to_string(),
        level: rule.level(),
        station: station.map(|s| s.code.clone()),
        station_name: station.map(|s| s.name.clone()),
        at_hours,
        window_hours: match rule {
            WarningRule::Rain { hours, .. } => Some(*hours),
            _ => None,
        },
        observed: (observed * 100.0).round() / 100.0,
        expected: (expected * 100.0).round() / 100.0,
        threshold,
        unit: unit.to_string(),
        rise_per_hour: None,
    }
}

/// A region's level `horizon` hours ahead of `as_of`, from its gauges and its forecast
/// curve, with the reasons: for each rule that is met, its worst station and window.
pub fn evaluate(
    rules: &WarningRules,
    gauges: &[Gauge<'_>],
    forecast: Option<&ForecastCurve>,
    as_of: Timestamp,
    horizon: u32,
) -> (RiskLevel, Vec<Reason>) {
    let mut reasons: Vec<Reason> = Vec::new();
    for rule in &rules.rules {
        let mut worst: Option<(f64, Reason)> = None;
        let mut consider = |margin: f64, r: Reason| {
            if worst.as_ref().is_none_or(|(m, _)| margin > *m) {
                worst = Some((margin, r));
            }
        };
        match rule {
            WarningRule::Rain {
                hours, millimetres, ..
            } => {
                let rain: Vec<&Gauge> = gauges
                    .iter()
                    .filter(|g| {
                        g.station.kind == StationKind::RainGauge && g.latest(as_of).is_some()
                    })
                    .collect();
                for end in window_ends(horizon) {
                    let past_hours = hours.saturating_sub(end);
                    let expected = forecast.map_or(0.0, |f| {
                        f.between(f64::from(end.saturating_sub(*hours)), f64::from(end))
                    });
                    let mut measured: Vec<(Option<&Station>, f64)> = rain
                        .iter()
                        .map(|g| {
                            let observed = if past_hours > 0 {
                                g.rain_over(as_of, past_hours)
                            } else {
                                0.0
                            };
                            (Some(g.station), observed)
                        })
                        .collect();
                    if measured.is_empty() {
                        measured.push((None, 0.0));
                    }
                    for (station, observed) in measured {
                        let total = observed + expected;
                        if total >= *millimetres {
                            consider(
                                total - millimetres,
                                reason(rule, station, end, observed, expected, *millimetres, "mm"),
                            );
                        }
                    }
                }
            }
            WarningRule::Stage { mark, .. } => {
                for g in gauges.iter().filter(|g| {
                    matches!(
                        g.station.kind,
                        StationKind::RiverLevel | StationKind::ReservoirLevel
                    )
                }) {
                    let Some((_, last)) = g.latest(as_of) else {
                        continue;
                    };
                    let Some(threshold) = (match mark {
                        StageMark::Warning => g.station.warning_level,
                        StageMark::Guarantee => g.station.guarantee_level,
                    }) else {
                        continue;
                    };
                    let rise = g.rise_per_hour(rules.rise_hours);
                    for end in window_ends(horizon) {
                        let ahead = end.min(rules.project_hours);
                        let expected = rise.unwrap_or(0.0).max(0.0) * f64::from(ahead);
                        if last + expected >= threshold {
                            let mut r = reason(
                                rule,
                                Some(g.station),
                                end,
                                last,
                                expected,
                                threshold,
                                g.station.kind.unit(),
                            );
                            r.rise_per_hour = rise.map(|v| (v * 1000.0).round() / 1000.0);
                            // Met now beats met later: the earliest window counts.
                            consider(last + expected - threshold - f64::from(end), r);
                            break;
                        }
                    }
                }
            }
            WarningRule::Reading { kind, at_least, .. } => {
                for g in gauges.iter().filter(|g| g.station.kind == *kind) {
                    if let Some((_, last)) = g.latest(as_of)
                        && last >= *at_least
                    {
                        consider(
                            last - at_least,
                            reason(rule, Some(g.station), 0, last, 0.0, *at_least, kind.unit()),
                        );
                    }
                }
            }
        }
        if let Some((_, r)) = worst {
            reasons.push(r);
        }
    }
    reasons.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.rule.cmp(&b.rule)));
    let level = reasons.first().map_or(RiskLevel::Green, |r| r.level);
    (level, reasons)
}

/// A reason in a sentence, in the page's language.
pub fn sentence(r: &Reason, zh: bool) -> String {
    let who = r.station_name.clone().unwrap_or_else(|| {
        if zh {
            "本区域".into()
        } else {
            "the region".into()
        }
    });
    let level = if zh {
        r.level.names().0
    } else {
        r.level.names().1
    };
    let (u, h, rule) = (&r.unit, r.at_hours, &r.rule);
    let (observed, expected, total, threshold) =
        (r.observed, r.expected, r.observed + r.expected, r.threshold);
    if let Some(rise) = r.rise_per_hour.or((r.measure == "stage").then_some(0.0)) {
        let trend = match (rise >= 0.0, zh) {
            (true, true) => "上涨",
            (false, true) => "回落",
            (true, false) => "rising",
            (false, false) => "falling",
        };
        let rise = rise.abs();
        return match (h, zh) {
            (0, true) => format!(
                "{who}：现 {observed:.2} {u}，每小时{trend} {rise:.2} {u}，已达到 {threshold:.2} {u} → {level}（规则 {rule}）"
            ),
            (_, true) => format!(
                "{who}：现 {observed:.2} {u}，每小时{trend} {rise:.2} {u}，{h} 小时后约 {total:.2} {u}，将达到 {threshold:.2} {u} → {level}（规则 {rule}）"
            ),
            (0, false) => format!(
                "{who}: {observed:.2} {u} now, {trend} {rise:.2} {u} an hour, has reached {threshold:.2} {u} → {level} (rule {rule})"
            ),
            (_, false) => format!(
                "{who}: {observed:.2} {u} now, {trend} {rise:.2} {u} an hour, about {total:.2} {u} in {h} h, reaching {threshold:.2} {u} → {level} (rule {rule})"
            ),
        };
    }
    if let Some(w) = r.window_hours {
        return match (h, zh) {
            (0, true) => format!(
                "{who}：过去 {w} 小时雨量 {observed:.1} mm，达到 {threshold:.0} mm → {level}（规则 {rule}）"
            ),
            (_, true) => format!(
                "{who}：到 {h} 小时后的 {w} 小时雨量 = 已测 {observed:.1} mm + 预报 {expected:.1} mm = {total:.1} mm，将达到 {threshold:.0} mm → {level}（规则 {rule}）"
            ),
            (0, false) => format!(
                "{who}: {observed:.1} mm of rain in the last {w} h, reaching {threshold:.0} mm → {level} (rule {rule})"
            ),
            (_, false) => format!(
                "{who}: rain over the {w} h ending in {h} h = measured {observed:.1} mm + forecast {expected:.1} mm = {total:.1} mm, reaching {threshold:.0} mm → {level} (rule {rule})"
            ),
        };
    }
    if zh {
        format!(
            "{who}：最新读数 {observed:.2} {u}，达到 {threshold:.2} {u} → {level}（规则 {rule}）"
        )
    } else {
        format!(
            "{who}: latest reading {observed:.2} {u}, reaching {threshold:.2} {u} → {level} (rule {rule})"
        )
    }
}

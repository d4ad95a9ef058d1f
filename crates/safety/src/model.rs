//! What the safety API says about monitoring stations and their observations, and what
//! it is asked.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What a station measures: each kind has one unit and a physical range outside which a
/// reading is an instrument fault, never a hazard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StationKind {
    /// Rainfall in the interval since the last reading (mm).
    RainGauge,
    /// River stage above the gauge's datum (m).
    RiverLevel,
    /// Reservoir water level above sea level (m).
    ReservoirLevel,
    /// Wind speed (m/s).
    Wind,
    /// Landslide displacement since installation (mm, either direction).
    LandslideDisplacement,
    /// Air temperature (°C).
    Temperature,
    /// Fine particulate matter, PM2.5 (µg/m³).
    AirQuality,
}

/// Every kind, in the order pages list them.
pub const STATION_KINDS: [StationKind; 7] = [
    StationKind::RainGauge,
    StationKind::RiverLevel,
    StationKind::ReservoirLevel,
    StationKind::Wind,
    StationKind::LandslideDisplacement,
    StationKind::Temperature,
    StationKind::AirQuality,
];

impl StationKind {
    /// The wire name, e.g. `rain_gauge`.
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::RainGauge => "rain_gauge",
            StationKind::RiverLevel => "river_level",
            StationKind::ReservoirLevel => "reservoir_level",
            StationKind::Wind => "wind",
            StationKind::LandslideDisplacement => "landslide_displacement",
            StationKind::Temperature => "temperature",
            StationKind::AirQuality => "air_quality",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<StationKind> {
        STATION_KINDS.into_iter().find(|k| k.as_str() == s)
    }

    /// The unit its readings are in (UCUM-style codes as CAP and SensorThings write them).
    pub fn unit(self) -> &'static str {
        match self {
            StationKind::RainGauge | StationKind::LandslideDisplacement => "mm",
            StationKind::RiverLevel | StationKind::ReservoirLevel => "m",
            StationKind::Wind => "m/s",
            StationKind::Temperature => "Cel",
            StationKind::AirQuality => "ug/m3",
        }
    }

    /// The values a working instrument can report: beyond them a reading is refused.
    /// Rain: 0–500 mm in one reading (the world's heaviest hour is ~305 mm); river stage
    /// 0–200 m; reservoir level −450–6,000 m (the Dead Sea to the highest lakes); wind
    /// 0–120 m/s (the strongest gust measured is 113 m/s); displacement ±10 m;
    /// temperature −90–60 °C; PM2.5 0–2,000 µg/m³.
    pub fn range(self) -> (f64, f64) {
        match self {
            StationKind::RainGauge => (0.0, 500.0),
            StationKind::RiverLevel => (0.0, 200.0),
            StationKind::ReservoirLevel => (-450.0, 6000.0),
            StationKind::Wind => (0.0, 120.0),
            StationKind::LandslideDisplacement => (-10_000.0, 10_000.0),
            StationKind::Temperature => (-90.0, 60.0),
            StationKind::AirQuality => (0.0, 2000.0),
        }
    }

    /// Its name in Chinese and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            StationKind::RainGauge => ("雨量站", "rain gauge"),
            StationKind::RiverLevel => ("河道水位站", "river level"),
            StationKind::ReservoirLevel => ("水库水位站", "reservoir level"),
            StationKind::Wind => ("风速站", "wind"),
            StationKind::LandslideDisplacement => ("地质灾害位移监测点", "landslide displacement"),
            StationKind::Temperature => ("气温站", "temperature"),
            StationKind::AirQuality => ("空气质量站", "air quality (PM2.5)"),
        }
    }
}

/// A monitoring station as registered by its department.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Station {
    /// Its id.
    pub id: String,
    /// Its code, unique on the platform (what observations and MQTT topics name).
    pub code: String,
    /// Its name.
    pub name: String,
    /// What it measures.
    pub kind: StationKind,
    /// The unit of its readings.
    pub unit: String,
    /// The region (12-digit code) it stands in.
    pub region: String,
    /// Latitude (WGS 84).
    pub latitude: f64,
    /// Longitude (WGS 84).
    pub longitude: f64,
    /// The department that runs it.
    pub organisation_id: String,
    /// The warning level (警戒水位, or a kind's own threshold), if it has one.
    pub warning_level: Option<f64>,
    /// The guaranteed level (保证水位), if it has one.
    pub guarantee_level: Option<f64>,
    /// When it was registered.
    pub created_at: kernel::time::Timestamp,
    /// Its latest reading's time, if any.
    pub last_observed_at: Option<kernel::time::Timestamp>,
    /// Its latest reading, if any.
    pub last_value: Option<f64>,
}

/// A station to register.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewStation {
    /// Its code: 2–40 of A–Z, a–z, 0–9, `-` and `_` (it names an MQTT topic).
    pub code: String,
    /// Its name.
    pub name: String,
    /// What it measures.
    pub kind: String,
    /// The region it stands in (12 digits).
    pub region: String,
    /// Latitude (WGS 84, −90–90).
    pub latitude: f64,
    /// Longitude (WGS 84, −180–180).
    pub longitude: f64,
    /// The department that runs it (its staff send the readings); the caller's own when
    /// left out.
    pub organisation_id: Option<String>,
    /// The warning level, if any.
    pub warning_level: Option<f64>,
    /// The guaranteed level, if any (at or above the warning level).
    pub guarantee_level: Option<f64>,
}

/// One reading sent by a station (or its department's system).
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ObservationIn {
    /// The station's code.
    pub station: String,
    /// When it was measured (RFC 3339).
    pub observed_at: String,
    /// The value.
    pub value: f64,
    /// Its unit, if given: it must be the station's.
    pub unit: Option<String>,
}

/// A batch of readings: up to 10,000.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct ObservationBatch {
    /// The readings.
    pub observations: Vec<ObservationIn>,
}

/// Why a reading was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// No station has that code.
    UnknownStation,
    /// The caller does not run that station.
    NotYourStation,
    /// The unit is not the station's.
    UnitMismatch,
    /// The value cannot come from a working instrument of that kind (or is not a number).
    OutOfRange,
    /// The time does not parse as RFC 3339.
    BadTime,
    /// The time is more than five minutes ahead of the server's clock.
    InTheFuture,
    /// An MQTT message that is not a reading (or a list of readings) in JSON.
    BadPayload,
}

/// Every reason, in the order pages list them.
pub const REJECTIONS: [Rejection; 7] = [
    Rejection::UnknownStation,
    Rejection::NotYourStation,
    Rejection::UnitMismatch,
    Rejection::OutOfRange,
    Rejection::BadTime,
    Rejection::InTheFuture,
    Rejection::BadPayload,
];

impl Rejection {
    /// From the wire name.
    pub fn parse(s: &str) -> Option<Rejection> {
        REJECTIONS.into_iter().find(|r| r.as_str() == s)
    }

    /// The wire name, e.g. `unit_mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::UnknownStation => "unknown_station",
            Rejection::NotYourStation => "not_your_station",
            Rejection::UnitMismatch => "unit_mismatch",
            Rejection::OutOfRange => "out_of_range",
            Rejection::BadTime => "bad_time",
            Rejection::InTheFuture => "in_the_future",
            Rejection::BadPayload => "bad_payload",
        }
    }
}

/// One refused reading of a batch.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Refused {
    /// Its place in the batch (from 0).
    pub index: usize,
    /// The station it named.
    pub station: String,
    /// Why.
    pub reason: Rejection,
    /// In words.
    pub detail: String,
}

/// What became of a batch.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IngestReport {
    /// Readings stored now.
    pub accepted: usize,
    /// Readings already stored (same station and time): ignored, so a batch may be sent
    /// again safely.
    pub duplicates: usize,
    /// Readings refused.
    pub rejected: usize,
    /// The first 100 refused, each with its reason.
    pub refused: Vec<Refused>,
}

/// A stored reading.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Observation {
    /// The station's code.
    pub station: String,
    /// When it was measured.
    pub observed_at: kernel::time::Timestamp,
    /// The value, in the station's unit.
    pub value: f64,
    /// When the platform received it.
    pub received_at: kernel::time::Timestamp,
}

/// Which readings to list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
pub struct ObservationQuery {
    /// From (RFC 3339); the last 48 hours when left out.
    pub from: Option<String>,
    /// Until (RFC 3339); now when left out.
    pub until: Option<String>,
    /// At most this many, newest first (1–5,000; 500 when left out).
    pub limit: Option<i64>,
}

/// How many readings were refused, by reason and station, since the node's store began.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RejectionCount {
    /// The station code named (as sent).
    pub station: String,
    /// Why.
    pub reason: Rejection,
    /// How many.
    pub count: i64,
    /// The latest refusal.
    pub last_at: kernel::time::Timestamp,
}

/// What became of an import of areas.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AreaReport {
    /// Regions whose area was set (or replaced).
    pub imported: usize,
}

/// A risk or warning level: China's warning colours, green for none.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// No particular risk.
    #[default]
    Green,
    /// Blue (IV, general).
    Blue,
    /// Yellow (III, heavier).
    Yellow,
    /// Orange (II, serious).
    Orange,
    /// Red (I, especially serious).
    Red,
}

/// Every level, lowest first.
pub const RISK_LEVELS: [RiskLevel; 5] = [
    RiskLevel::Green,
    RiskLevel::Blue,
    RiskLevel::Yellow,
    RiskLevel::Orange,
    RiskLevel::Red,
];

impl RiskLevel {
    /// The wire name, e.g. `orange`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Green => "green",
            RiskLevel::Blue => "blue",
            RiskLevel::Yellow => "yellow",
            RiskLevel::Orange => "orange",
            RiskLevel::Red => "red",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<RiskLevel> {
        RISK_LEVELS.into_iter().find(|l| l.as_str() == s)
    }

    /// Its names (Chinese, English).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            RiskLevel::Green => ("绿色（无）", "green (none)"),
            RiskLevel::Blue => ("蓝色", "blue"),
            RiskLevel::Yellow => ("黄色", "yellow"),
            RiskLevel::Orange => ("橙色", "orange"),
            RiskLevel::Red => ("红色", "red"),
        }
    }

    /// Its colour on the map.
    pub fn colour(self) -> &'static str {
        match self {
            RiskLevel::Green => "#2e7d32",
            RiskLevel::Blue => "#1565c0",
            RiskLevel::Yellow => "#fbc02d",
            RiskLevel::Orange => "#ef6c00",
            RiskLevel::Red => "#c62828",
        }
    }
}

/// The static risk assessment's method (五色图): for each region,
/// `score = 100 × hazard × (exposure_weight × exposure + vulnerability_weight ×
/// vulnerability) × (1 − capacity_relief × capacity)`, the level the highest of `cuts`
/// the score reaches. Exposure is the region's population over the most populous (of its level)
/// region's; vulnerability its share of elderly or tagged residents over the highest
/// share; capacity its shelter places over `shelter_share` of its residents (at most 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskMethod {
    /// Weight of exposure (0–1; with `vulnerability_weight`, sums to 1).
    pub exposure_weight: f64,
    /// Weight of vulnerability (0–1).
    pub vulnerability_weight: f64,
    /// How much full capacity lowers the score (0–1).
    pub capacity_relief: f64,
    /// The share of its residents a region should be able to shelter (0–1].
    pub shelter_share: f64,
    /// The age from which a resident counts as elderly.
    pub elderly_age: i64,
    /// Tags (codes) whose carriers count as vulnerable, e.g. `disability`.
    #[serde(default)]
    pub vulnerable_tags: Vec<String>,
    /// The scores (0–100, rising) from which a region is blue, yellow, orange and red.
    pub cuts: [f64; 4],
}

impl Default for RiskMethod {
    fn default() -> Self {
        RiskMethod {
            exposure_weight: 0.4,
            vulnerability_weight: 0.6,
            capacity_relief: 0.3,
            shelter_share: 0.1,
            elderly_age: 60,
            vulnerable_tags: Vec::new(),
            cuts: [20.0, 40.0, 60.0, 80.0],
        }
    }
}

/// A region's hazard exposure, as assessed by the departments (e.g. the natural hazard
/// risk census).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hazard {
    /// The region's code.
    pub region: String,
    /// Hazard index: 0 (none) to 1 (highest).
    pub hazard: f64,
    /// What it rests on (≤ 200).
    pub basis: String,
}

/// `PUT /api/v1/safety/risk/hazards`: regions' hazard indexes (others keep theirs).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardUpdate {
    /// Up to 5,000 regions.
    pub hazards: Vec<Hazard>,
}

/// A shelter (避难场所) residents can be taken to.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Shelter {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The region it stands in.
    pub region: String,
    /// Latitude (WGS 84).
    pub latitude: f64,
    /// Longitude (WGS 84).
    pub longitude: f64,
    /// How many people it takes.
    pub capacity: i64,
}

/// `POST /api/v1/safety/shelters`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShelter {
    /// Its code (2–40 of A–Z, a–z, 0–9, `-`, `_`).
    pub code: String,
    /// Its name (≤ 80).
    pub name: String,
    /// The region it stands in.
    pub region: String,
    /// Latitude (WGS 84).
    pub latitude: f64,
    /// Longitude (WGS 84).
    pub longitude: f64,
    /// How many people it takes (1–1,000,000).
    pub capacity: i64,
    /// The department that runs it (a platform administrator names it; staff default to
    /// their own).
    #[serde(default)]
    pub organisation_id: Option<String>,
}

/// One region in a static assessment, with every figure its level comes from.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RegionRisk {
    /// The region's code.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: RiskLevel,
    /// Its score (0–100).
    pub score: f64,
    /// Its hazard index (0 when none is recorded).
    pub hazard: f64,
    /// What the hazard index rests on.
    pub hazard_basis: Option<String>,
    /// Residents registered there.
    pub population: i64,
    /// Of them, elderly (at or over the method's age).
    pub elderly: i64,
    /// Of them, carrying one of the method's tags.
    pub tagged: i64,
    /// Of them, elderly or tagged (each counted once).
    pub vulnerable: i64,
    /// Shelter places there.
    pub shelter_places: i64,
    /// Exposure (0–1).
    pub exposure: f64,
    /// Vulnerability (0–1).
    pub vulnerability: f64,
    /// Capacity (0–1).
    pub capacity: f64,
}

/// A static risk assessment: the method, when and by whom, and every region on the map.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RiskAssessment {
    /// When it was made.
    pub assessed_at: kernel::time::Timestamp,
    /// Who made it.
    pub assessed_by: String,
    /// The method it used.
    pub method: RiskMethod,
    /// The regions, highest score first.
    pub regions: Vec<RegionRisk>,
}

/// The horizons warnings look ahead to (hours).
pub const HORIZONS: [u32; 4] = [3, 6, 24, 48];

/// Which level of a gauge a stage rule compares with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageMark {
    /// The warning level (警戒水位).
    Warning,
    /// The guaranteed level (保证水位).
    Guarantee,
}

/// One threshold rule of the dynamic warnings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "measure", rename_all = "snake_case", deny_unknown_fields)]
pub enum WarningRule {
    /// Rain over `hours` — measured at a gauge of the region plus the region's forecast —
    /// reaching `millimetres`, in a window ending now or within the horizon.
    Rain {
        /// The rule's id (1–40 of A–Z, a–z, 0–9, `-`, `_`).
        id: String,
        /// The window (1–72 hours).
        hours: u32,
        /// The amount (mm).
        millimetres: f64,
        /// The level it raises.
        level: RiskLevel,
    },
    /// A river or reservoir gauge at or over its warning or guaranteed level, now or —
    /// projected from its rise — within the horizon.
    Stage {
        /// The rule's id.
        id: String,
        /// Which level.
        mark: StageMark,
        /// The level it raises.
        level: RiskLevel,
    },
    /// A station's latest reading at or over a value (wind, displacement…).
    Reading {
        /// The rule's id.
        id: String,
        /// Which kind of station.
        kind: StationKind,
        /// The value, in the kind's unit.
        at_least: f64,
        /// The level it raises.
        level: RiskLevel,
    },
}

impl WarningRule {
    /// The rule's id.
    pub fn id(&self) -> &str {
        match self {
            WarningRule::Rain { id, .. }
            | WarningRule::Stage { id, .. }
            | WarningRule::Reading { id, .. } => id,
        }
    }

    /// What it measures: `rain`, `stage` or `reading`.
    pub fn measure(&self) -> &'static str {
        match self {
            WarningRule::Rain { .. } => "rain",
            WarningRule::Stage { .. } => "stage",
            WarningRule::Reading { .. } => "reading",
        }
    }

    /// The level it raises.
    pub fn level(&self) -> RiskLevel {
        match self {
            WarningRule::Rain { level, .. }
            | WarningRule::Stage { level, .. }
            | WarningRule::Reading { level, .. } => *level,
        }
    }
}

/// The dynamic warnings' rules (`PUT /api/v1/safety/warnings/rules`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningRules {
    /// The rules (at most 100).
    pub rules: Vec<WarningRule>,
    /// Over how many hours a gauge's rise is measured (1–6).
    pub rise_hours: u32,
    /// How many hours ahead a rise is projected at most (0–12; 0: not at all).
    pub project_hours: u32,
    /// From which level a region's residents are told at once, when its 3-hour level
    /// rises to it (none: never automatically).
    pub notify_residents_from: Option<RiskLevel>,
    /// The organisation those notices come from (required with `notify_residents_from`).
    pub notify_organisation_id: Option<String>,
    /// A region told at a level is not told again at that level or below for this many
    /// hours (0–168; 6 when left out), so a gauge wavering about its level does not call
    /// everyone each time it crosses.
    #[serde(default = "six_hours")]
    pub notify_again_after_hours: u32,
}

fn six_hours() -> u32 {
    6
}

impl Default for WarningRules {
    /// China's rainstorm signal criteria (blue 50 mm in 12 h, yellow 50 mm in 6 h,
    /// orange 50 mm in 3 h, red 100 mm in 3 h), gauges over their warning (orange) and
    /// guaranteed (red) levels, and gale force 8, 10 and 12 (yellow, orange, red).
    fn default() -> Self {
        let rain = |id: &str, hours, millimetres, level| WarningRule::Rain {
            id: id.into(),
            hours,
            millimetres,
            level,
        };
        let wind = |id: &str, at_least, level| WarningRule::Reading {
            id: id.into(),
            kind: StationKind::Wind,
            at_least,
            level,
        };
        WarningRules {
            rules: vec![
                rain("rain-12h-50", 12, 50.0, RiskLevel::Blue),
                rain("rain-6h-50", 6, 50.0, RiskLevel::Yellow),
                rain("rain-3h-50", 3, 50.0, RiskLevel::Orange),
                rain("rain-3h-100", 3, 100.0, RiskLevel::Red),
                WarningRule::Stage {
                    id: "stage-warning".into(),
                    mark: StageMark::Warning,
                    level: RiskLevel::Orange,
                },
                WarningRule::Stage {
                    id: "stage-guarantee".into(),
                    mark: StageMark::Guarantee,
                    level: RiskLevel::Red,
                },
                wind("gale-8", 17.2, RiskLevel::Yellow),
                wind("gale-10", 24.5, RiskLevel::Orange),
                wind("gale-12", 32.7, RiskLevel::Red),
            ],
            rise_hours: 1,
            project_hours: 6,
            notify_residents_from: None,
            notify_organisation_id: None,
            notify_again_after_hours: six_hours(),
        }
    }
}

/// A region's forecast rainfall over the next `horizon_hours` from `issued_at`.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Forecast {
    /// The region's code.
    pub region: String,
    /// Hours ahead (3, 6, 24 or 48).
    pub horizon_hours: u32,
    /// Rain expected over those hours (mm).
    pub rain_mm: f64,
    /// When it was issued.
    pub issued_at: kernel::time::Timestamp,
}

/// What became of an import of forecasts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ForecastReport {
    /// Forecasts stored (each replaces the region's earlier one for its horizon).
    pub imported: usize,
}

/// Why a region stands at a level: one rule, and the readings it looked at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// The rule's id.
    pub rule: String,
    /// What the rule measures: `rain`, `stage` or `reading`.
    pub measure: String,
    /// The level it raised.
    pub level: RiskLevel,
    /// The station whose readings met it (none: the forecast alone).
    pub station: Option<String>,
    /// Its name.
    pub station_name: Option<String>,
    /// The window's end or the projection's time, in hours from the data's time (0: now).
    pub at_hours: u32,
    /// For rain rules: the window's length (hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_hours: Option<u32>,
    /// Measured: rain over the window so far, or the gauge's or station's latest reading.
    pub observed: f64,
    /// Expected on top: forecast rain in the window, or the projected rise.
    pub expected: f64,
    /// The threshold reached.
    pub threshold: f64,
    /// The unit of the figures.
    pub unit: String,
    /// The gauge's rise per hour, for stage rules.
    pub rise_per_hour: Option<f64>,
}

/// A region's level for one horizon, explained.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RegionWarning {
    /// The region's code.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Hours ahead.
    pub horizon_hours: u32,
    /// The level.
    pub level: RiskLevel,
    /// The rules that raised it (each at its worst station and window), highest first.
    pub reasons: Vec<Reason>,
    /// The data's time the level was computed as of (the newest reading).
    pub as_of: kernel::time::Timestamp,
    /// When it was computed.
    pub computed_at: kernel::time::Timestamp,
}

/// A change of a region's level.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LevelChange {
    /// The region's code.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Hours ahead.
    pub horizon_hours: u32,
    /// The level before.
    pub from: RiskLevel,
    /// The level now.
    pub to: RiskLevel,
    /// When it changed.
    pub changed_at: kernel::time::Timestamp,
    /// Residents told at once (0 unless the rules say so).
    pub residents_notified: i64,
}

/// `GET /api/v1/safety/warnings`: which horizon.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
pub struct WarningQuery {
    /// Hours ahead: 3, 6, 24 or 48 (3 when left out).
    pub horizon: Option<u32>,
}

// ---- CAP alerts: drafted, approved by a second person, issued; or imported ----

/// Where a stored alert was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertOrigin {
    /// Drafted here by a duty officer.
    Drafted,
    /// Received from another authority (`POST /api/v1/safety/cap`).
    Imported,
}

impl AlertOrigin {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertOrigin::Drafted => "drafted",
            AlertOrigin::Imported => "imported",
        }
    }
}

/// Where an alert is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Being written; not yet approved.
    Draft,
    /// Approved by a second duty officer; ready to issue.
    Approved,
    /// Issued (sent): in force until updated, cancelled or expired.
    Issued,
    /// Received from another authority, valid, in force.
    Received,
    /// Replaced by an issued or received Update.
    Superseded,
    /// Withdrawn by an issued or received Cancel.
    Cancelled,
}

impl AlertState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Draft => "draft",
            AlertState::Approved => "approved",
            AlertState::Issued => "issued",
            AlertState::Received => "received",
            AlertState::Superseded => "superseded",
            AlertState::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<AlertState> {
        [
            AlertState::Draft,
            AlertState::Approved,
            AlertState::Issued,
            AlertState::Received,
            AlertState::Superseded,
            AlertState::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Whether the alert has gone out (issued here or received), so the public may see it.
    pub fn is_out(self) -> bool {
        !matches!(self, AlertState::Draft | AlertState::Approved)
    }
}

/// What a duty officer writes for a new alert (or an update of one): the platform fills in
/// the identifier, the sender, the time sent and, for an update, the references.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertDraft {
    /// Actual for real alerts; Exercise, System, Test or Draft otherwise. Default Actual.
    #[serde(default)]
    pub status: Option<crate::cap::model::Status>,
    /// Who may see it; default Public.
    #[serde(default)]
    pub scope: Option<crate::cap::model::Scope>,
    /// Who may see a Restricted alert.
    #[serde(default)]
    pub restriction: Option<String>,
    /// Addressees of a Private alert.
    #[serde(default)]
    pub addresses: Option<String>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// Incidents it belongs to, space-separated.
    #[serde(default)]
    pub incidents: Option<String>,
    /// The information blocks, one per language (at least one).
    pub info: Vec<crate::cap::model::Info>,
}

/// Why an alert is cancelled.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertCancel {
    /// The reason, shown to everyone who saw the alert.
    pub note: String,
}

/// A stored alert.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertRecord {
    /// The platform's id of the record.
    pub id: String,
    /// Drafted here or imported.
    pub origin: AlertOrigin,
    /// Where it is in its life.
    pub state: AlertState,
    /// The alert itself (CAP 1.2).
    pub alert: crate::cap::model::Alert,
    /// The CAP version it arrived in (imported alerts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_version: Option<crate::cap::model::CapVersion>,
    /// Whether the sender signed it (XML-DSig); the original is kept verbatim.
    pub signed: bool,
    /// The record this one updates or cancels, when it is stored here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<String>,
    /// Who drafted or imported it (account id).
    pub created_by: String,
    /// When.
    pub created_at: kernel::time::Timestamp,
    /// Who approved it (a second duty officer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<kernel::time::Timestamp>,
    /// Who issued it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<kernel::time::Timestamp>,
    /// Whom its notice reached (an issued Actual, Public alert of this platform).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targeting: Option<AlertTargeting>,
}

/// Which alerts to list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AlertQuery {
    /// Only alerts in this state (`draft`, `approved`, `issued`, `received`, `superseded`,
    /// `cancelled`).
    pub state: Option<String>,
}

/// `PUT /api/v1/me/location`: where the resident is now, shared so that alerts for that
/// place reach her (opt-in; `DELETE` withdraws it).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationShare {
    /// WGS 84 latitude, −90…90.
    pub latitude: f64,
    /// WGS 84 longitude, −180…180.
    pub longitude: f64,
}

/// The location a resident shared.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SharedLocation {
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// When she shared it.
    pub shared_at: kernel::time::Timestamp,
    /// Until when alerts use it (a location older than a day no longer says where she is).
    pub used_until: kernel::time::Timestamp,
}

/// How an alert's area took in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// A geocode names it (or a region it lies in).
    Geocode,
    /// Its area on the map meets a polygon or circle of the alert.
    Area,
}

/// A region an alert reached.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TargetRegion {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// How the area took it in.
    pub by: MatchedBy,
}

/// Whom an issued alert's notice reached.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertTargeting {
    /// The notice in the residents' inboxes.
    pub notice_id: String,
    /// The first alert of the chain (an update's or a cancel's original).
    pub chain_id: String,
    /// `alert` (asks each resident to answer) or `cancel` (tells the same people it is over).
    pub kind: String,
    /// The regions the area took in (empty for a cancel, which goes to the alert's people).
    pub regions: Vec<TargetRegion>,
    /// Residents registered in those regions.
    pub by_region: i64,
    /// Residents registered elsewhere whose shared location is in the area.
    pub by_location: i64,
    /// Everyone it reached.
    pub reached: i64,
    /// When it went out.
    pub sent_at: kernel::time::Timestamp,
}

/// What a resident says to an alert that reached her.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// 我平安.
    Safe,
    /// 我需要帮助.
    NeedHelp,
}

/// `POST /api/v1/safety/alerts/{id}/answer`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAnswer {
    /// `safe` or `need_help`.
    pub answer: Answer,
    /// What help, or where she is (≤ 500 characters; sealed, shown to the community
    /// workers who help her).
    #[serde(default)]
    pub note: Option<String>,
}

/// Where a person an alert reached stands in the evacuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvacuationStatus {
    /// The notice is in her inbox; no answer yet.
    Notified,
    /// She acknowledged the notice.
    Acknowledged,
    /// She asked for help, or a worker found she needs it.
    NeedsHelp,
    /// Moved to a shelter or a safe place by the community.
    Transferred,
    /// Safe: she said so, or a worker confirmed it.
    Safe,
}

impl EvacuationStatus {
    /// Every status, in the order of the evacuation.
    pub const ALL: [EvacuationStatus; 5] = [
        EvacuationStatus::Notified,
        EvacuationStatus::Acknowledged,
        EvacuationStatus::NeedsHelp,
        EvacuationStatus::Transferred,
        EvacuationStatus::Safe,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvacuationStatus::Notified => "notified",
            EvacuationStatus::Acknowledged => "acknowledged",
            EvacuationStatus::NeedsHelp => "needs_help",
            EvacuationStatus::Transferred => "transferred",
            EvacuationStatus::Safe => "safe",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<EvacuationStatus> {
        EvacuationStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `POST /api/v1/safety/alerts/{id}/people/{person_id}`: a community worker records a
/// step of a person's evacuation.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvacuationStep {
    /// `needs_help`, `transferred` or `safe`.
    pub status: EvacuationStatus,
    /// The shelter she was taken to (its code), for `transferred`.
    #[serde(default)]
    pub shelter: Option<String>,
    /// What was done (≤ 500 characters; sealed).
    #[serde(default)]
    pub note: Option<String>,
}

/// How many of the people an alert chain reached stand where.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct EvacuationCounts {
    /// Reached by the alert's notices.
    pub reached: i64,
    /// No answer yet.
    pub notified: i64,
    /// Acknowledged the notice, nothing more.
    pub acknowledged: i64,
    /// Need help.
    pub needs_help: i64,
    /// Transferred.
    pub transferred: i64,
    /// Safe.
    pub safe: i64,
}

/// One person on a danger-zone list: names masked; a worker opens the person to act.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DangerZoneEntry {
    /// The person's id.
    pub person_id: String,
    /// Her name, masked.
    pub name: String,
    /// The region she is registered in.
    pub region: String,
    /// Its name.
    pub region_name: String,
    /// Why she is on the list: `asked for help`, or the vulnerable tags she carries.
    pub reasons: Vec<String>,
    /// Where she stands.
    pub status: EvacuationStatus,
    /// Whether the status is her own word (or her proxy's), not a worker's record.
    pub status_by_herself: bool,
    /// The shelter she was taken to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelter: Option<String>,
    /// When the status was last set (none: as notified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<kernel::time::Timestamp>,
}

/// `GET /api/v1/safety/alerts/{id}/danger-zone`: the people of an alert's area who need
/// help or are vulnerable (the risk method's tags), for the community workers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DangerZone {
    /// The alert asked about.
    pub alert_id: String,
    /// The first alert of its chain, under which answers are kept.
    pub chain_id: String,
    /// Only this region and what lies under it (a community worker's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Everyone the chain reached, by status (the whole area, or the region).
    pub counts: EvacuationCounts,
    /// Those needing help first, then the vulnerable not yet safe, then the rest.
    pub people: Vec<DangerZoneEntry>,
    /// Whether the list was cut at its limit.
    pub truncated: bool,
}

/// One person of a danger-zone list, opened by a worker to act (audited).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Evacuee {
    /// The person's id.
    pub person_id: String,
    /// Full name.
    pub name: String,
    /// Phone, when registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Address, when registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Region.
    pub region: String,
    /// Why she is on the list.
    pub reasons: Vec<String>,
    /// Where she stands.
    pub status: EvacuationStatus,
    /// Whether the status is her own word.
    pub status_by_herself: bool,
    /// The shelter she was taken to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelter: Option<String>,
    /// Her note or the worker's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the status was last set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<kernel::time::Timestamp>,
}

/// A relief supply depots hold and regions need.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Supply {
    /// Tents (顶).
    Tent,
    /// Drinking water (litres).
    Water,
    /// Food (day rations).
    Food,
    /// Medicine (first-aid kits).
    Medicine,
}

impl Supply {
    /// Every supply.
    pub const ALL: [Supply; 4] = [Supply::Tent, Supply::Water, Supply::Food, Supply::Medicine];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Supply::Tent => "tent",
            Supply::Water => "water",
            Supply::Food => "food",
            Supply::Medicine => "medicine",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Option<Supply> {
        Supply::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Its name and unit (Chinese, English).
    pub fn names(self) -> ((&'static str, &'static str), (&'static str, &'static str)) {
        match self {
            Supply::Tent => (("帐篷", "顶"), ("Tents", "tents")),
            Supply::Water => (("饮用水", "升"), ("Drinking water", "litres")),
            Supply::Food => (("食品", "份"), ("Food", "day rations")),
            Supply::Medicine => (("药品", "箱"), ("Medicine", "first-aid kits")),
        }
    }
}

/// `POST /api/v1/safety/depots`: a depot and what it holds.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepot {
    /// Its code (2–40 of A–Z, a–z, 0–9, `-`, `_`).
    pub code: String,
    /// Its name (≤ 80).
    pub name: String,
    /// The region it stands in.
    pub region: String,
    /// Latitude (WGS 84).
    pub latitude: f64,
    /// Longitude (WGS 84).
    pub longitude: f64,
    /// What it holds, by supply (0–100,000,000 each).
    #[serde(default)]
    pub stock: std::collections::BTreeMap<Supply, i64>,
    /// The department that runs it (a platform administrator names it; staff default to
    /// their own).
    #[serde(default)]
    pub organisation_id: Option<String>,
}

/// A depot with its stock.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Depot {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The region it stands in.
    pub region: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// The department that runs it.
    pub organisation_id: String,
    /// What it holds, by supply (a supply it holds none of is 0).
    pub stock: std::collections::BTreeMap<Supply, i64>,
}

/// `PUT /api/v1/safety/depots/{code}/stock`: what the depot holds now, for the supplies
/// named (a count after a delivery, say).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    /// Quantities by supply.
    pub stock: std::collections::BTreeMap<Supply, i64>,
}

/// A road from a depot to a region, with what moving one unit along it costs.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplyRoute {
    /// The depot's code.
    pub depot: String,
    /// The region's code.
    pub region: String,
    /// Minutes of road travel (the cost of each unit moved; 0–10,000).
    pub minutes: f64,
}

/// `PUT /api/v1/safety/routes`: every route (replacing those before).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplyRoutes {
    /// The routes (at most 100,000).
    pub routes: Vec<SupplyRoute>,
}

/// How much a region needs: the share of its residents affected at each level, times what
/// one affected person needs of each supply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplyMethod {
    /// Share of residents affected (0–1) at blue, yellow, orange and red.
    pub affected_share: [f64; 4],
    /// What one affected person needs, by supply (0–1,000 each): e.g. a quarter of a tent,
    /// 9 litres of water and 3 rations for three days, a fiftieth of a first-aid kit.
    pub per_person: std::collections::BTreeMap<Supply, f64>,
}

impl Default for SupplyMethod {
    fn default() -> Self {
        SupplyMethod {
            affected_share: [0.0, 0.05, 0.2, 0.5],
            per_person: [
                (Supply::Tent, 0.25),
                (Supply::Water, 9.0),
                (Supply::Food, 3.0),
                (Supply::Medicine, 0.02),
            ]
            .into_iter()
            .collect(),
        }
    }
}

/// `POST /api/v1/safety/supplies/plans`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The warning horizon whose levels decide the need: 3, 6, 24 (default) or 48 hours.
    #[serde(default)]
    pub horizon: Option<u32>,
}

/// What one region needs and gets.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RegionNeed {
    /// The region's code.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Its level at the plan's horizon.
    pub level: RiskLevel,
    /// Residents registered there.
    pub residents: i64,
    /// Of them, affected at that level.
    pub affected: i64,
    /// What they need, by supply.
    pub need: std::collections::BTreeMap<Supply, i64>,
    /// What the plan cannot bring, by supply (only supplies short).
    pub unmet: std::collections::BTreeMap<Supply, i64>,
}

/// One shipment of a plan.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Shipment {
    /// From this depot.
    pub depot: String,
    /// Its name.
    pub depot_name: String,
    /// To this region.
    pub region: String,
    /// Its name.
    pub region_name: String,
    /// Of this supply.
    pub supply: Supply,
    /// How much.
    pub quantity: i64,
    /// Minutes of road travel.
    pub minutes: f64,
}

/// Where a plan is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    /// Computed, not yet sent.
    Proposed,
    /// Dispatched: the depots' stock was taken out.
    Dispatched,
}

/// A supply allocation plan: the minimum-cost shipments that meet as much need as the
/// stock and the routes allow, and what stays unmet.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SupplyPlan {
    /// Id.
    pub id: String,
    /// The horizon whose levels it answers.
    pub horizon: u32,
    /// Where it is.
    pub state: PlanState,
    /// The regions in need (level blue or above), with what they need and go without.
    pub regions: Vec<RegionNeed>,
    /// The shipments.
    pub shipments: Vec<Shipment>,
    /// Total need, by supply.
    pub total_need: std::collections::BTreeMap<Supply, i64>,
    /// Total unmet, by supply.
    pub total_unmet: std::collections::BTreeMap<Supply, i64>,
    /// Σ quantity × minutes of the shipments.
    pub cost: f64,
    /// Computed by (account id).
    pub created_by: String,
    /// When.
    pub created_at: kernel::time::Timestamp,
    /// Dispatched by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatched_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatched_at: Option<kernel::time::Timestamp>,
}

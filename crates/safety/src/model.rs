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

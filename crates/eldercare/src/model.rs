//! What the elder-care API says about elders, their care circles, devices, readings and
//! alerts, and what it is asked.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Defines a wire enum: its variants, wire names, `as_str`, `parse` and the list of all.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $all:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+ }

        /// Every value, in the order pages list them.
        pub const $all: &[$name] = &[$($name::$variant),+];

        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// From the wire name.
            pub fn parse(s: &str) -> Option<$name> {
                $all.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// What a member of a care circle is to the elder.
    MemberRole, MEMBER_ROLES {
        /// A relative (a son, a daughter, a neighbour she trusts).
        Relative => "relative",
        /// The community worker of her neighbourhood committee (社区工作者).
        CommunityWorker => "community_worker",
        /// A care provider's carer.
        CareProvider => "care_provider",
        /// A doctor of the community hospital (家庭医生).
        Doctor => "doctor",
    }
);

impl MemberRole {
    /// The escalation level members of this role are told at unless set otherwise:
    /// relatives first, then the community worker, then the carer and the doctor.
    pub fn default_level(self) -> i64 {
        match self {
            MemberRole::Relative => 1,
            MemberRole::CommunityWorker => 2,
            MemberRole::CareProvider | MemberRole::Doctor => 3,
        }
    }

    /// Whether the member acts for an organisation (and must name it).
    pub fn is_staff(self) -> bool {
        !matches!(self, MemberRole::Relative)
    }
}

wire_enum!(
    /// What a reading measures, with its IEEE 11073-10101 term where there is one: one
    /// UCUM unit each, and a range outside which a reading is a device fault, not a state of
    /// the elder.
    Metric, METRICS {
        /// Heart rate (MDC_PULS_RATE, beats per minute).
        HeartRate => "heart_rate",
        /// Blood oxygen saturation (MDC_PULS_OXIM_SAT_O2, %).
        Spo2 => "spo2",
        /// Systolic blood pressure (MDC_PRESS_BLD_NONINV_SYS, mmHg).
        Systolic => "systolic",
        /// Diastolic blood pressure (MDC_PRESS_BLD_NONINV_DIA, mmHg).
        Diastolic => "diastolic",
        /// Capillary blood glucose (MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD, mmol/L).
        Glucose => "glucose",
        /// Body temperature (MDC_TEMP_BODY, °C).
        BodyTemperature => "body_temperature",
        /// Movements counted since the last reading (a wristband's or a motion sensor's).
        Activity => "activity",
        /// A door opened (1) or closed (0).
        Door => "door",
        /// In bed (1) or out of it (0).
        Bed => "bed",
        /// Water used since the last reading (litres).
        WaterUse => "water_use",
        /// A fall detected (1).
        Fall => "fall",
        /// The SOS button pressed (1).
        Sos => "sos",
        /// Battery charge (%).
        Battery => "battery",
        /// The device saying it is alive (any value).
        Heartbeat => "heartbeat",
    }
);

impl Metric {
    /// The unit its readings are in (UCUM codes, as IEEE 11073 and FHIR write them).
    pub fn unit(self) -> &'static str {
        match self {
            Metric::HeartRate => "/min",
            Metric::Spo2 | Metric::Battery => "%",
            Metric::Systolic | Metric::Diastolic => "mm[Hg]",
            Metric::Glucose => "mmol/L",
            Metric::BodyTemperature => "Cel",
            Metric::WaterUse => "L",
            Metric::Activity
            | Metric::Door
            | Metric::Bed
            | Metric::Fall
            | Metric::Sos
            | Metric::Heartbeat => "1",
        }
    }

    /// The physically possible values (inclusive).
    pub fn range(self) -> (f64, f64) {
        match self {
            Metric::HeartRate => (20.0, 250.0),
            Metric::Spo2 => (50.0, 100.0),
            Metric::Systolic => (50.0, 280.0),
            Metric::Diastolic => (20.0, 180.0),
            Metric::Glucose => (0.5, 40.0),
            Metric::BodyTemperature => (30.0, 44.0),
            Metric::Activity => (0.0, 100_000.0),
            Metric::Door | Metric::Bed | Metric::Fall | Metric::Sos => (0.0, 1.0),
            Metric::WaterUse => (0.0, 2_000.0),
            Metric::Battery => (0.0, 100.0),
            Metric::Heartbeat => (f64::MIN, f64::MAX),
        }
    }

    /// Whether a reading of this metric with `value` shows the elder moving about.
    pub fn shows_activity(self, value: f64) -> bool {
        match self {
            Metric::Activity | Metric::WaterUse => value > 0.0,
            Metric::Door | Metric::Bed | Metric::Sos => true,
            _ => false,
        }
    }

    /// The metric in words (Chinese or English).
    pub fn in_words(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Metric::HeartRate, true) => "心率",
            (Metric::HeartRate, false) => "Heart rate",
            (Metric::Spo2, true) => "血氧",
            (Metric::Spo2, false) => "Blood oxygen",
            (Metric::Systolic, true) => "收缩压",
            (Metric::Systolic, false) => "Systolic pressure",
            (Metric::Diastolic, true) => "舒张压",
            (Metric::Diastolic, false) => "Diastolic pressure",
            (Metric::Glucose, true) => "血糖",
            (Metric::Glucose, false) => "Blood glucose",
            (Metric::BodyTemperature, true) => "体温",
            (Metric::BodyTemperature, false) => "Body temperature",
            (Metric::Activity, true) => "活动",
            (Metric::Activity, false) => "Activity",
            (Metric::Door, true) => "门",
            (Metric::Door, false) => "Door",
            (Metric::Bed, true) => "床",
            (Metric::Bed, false) => "Bed",
            (Metric::WaterUse, true) => "用水",
            (Metric::WaterUse, false) => "Water use",
            (Metric::Fall, true) => "跌倒",
            (Metric::Fall, false) => "Fall",
            (Metric::Sos, true) => "求助按钮",
            (Metric::Sos, false) => "SOS button",
            (Metric::Battery, true) => "电量",
            (Metric::Battery, false) => "Battery",
            (Metric::Heartbeat, true) => "在线信号",
            (Metric::Heartbeat, false) => "Heartbeat",
        }
    }
}

wire_enum!(
    /// A kind of device, and what it may report.
    DeviceKind, DEVICE_KINDS {
        /// A wristband: heart rate, blood oxygen, activity, falls and an SOS key.
        Wristband => "wristband",
        /// A fall detector (radar or wearable).
        FallDetector => "fall_detector",
        /// An SOS button (一键呼叫).
        SosButton => "sos_button",
        /// A blood-pressure monitor.
        BloodPressureMonitor => "blood_pressure_monitor",
        /// A glucose meter.
        GlucoseMeter => "glucose_meter",
        /// A door sensor.
        DoorSensor => "door_sensor",
        /// A bed sensor.
        BedSensor => "bed_sensor",
        /// A water-use sensor on the supply.
        WaterSensor => "water_sensor",
    }
);

impl DeviceKind {
    /// The metrics a device of this kind reports (every device also reports its battery and
    /// its heartbeat).
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            DeviceKind::Wristband => &[
                Metric::HeartRate,
                Metric::Spo2,
                Metric::BodyTemperature,
                Metric::Activity,
                Metric::Fall,
                Metric::Sos,
            ],
            DeviceKind::FallDetector => &[Metric::Fall, Metric::Activity],
            DeviceKind::SosButton => &[Metric::Sos],
            DeviceKind::BloodPressureMonitor => {
                &[Metric::Systolic, Metric::Diastolic, Metric::HeartRate]
            }
            DeviceKind::GlucoseMeter => &[Metric::Glucose],
            DeviceKind::DoorSensor => &[Metric::Door],
            DeviceKind::BedSensor => &[Metric::Bed],
            DeviceKind::WaterSensor => &[Metric::WaterUse],
        }
    }

    /// Whether a device of this kind reports `metric`.
    pub fn reports(self, metric: Metric) -> bool {
        matches!(metric, Metric::Battery | Metric::Heartbeat) || self.metrics().contains(&metric)
    }
}

wire_enum!(
    /// What raised an alert.
    AlertKind, ALERT_KINDS {
        /// The SOS button pressed, or help asked for on a page.
        Sos => "sos",
        /// A fall detected.
        Fall => "fall",
        /// Heart rate outside her range.
        HeartRate => "heart_rate",
        /// Blood oxygen below her floor.
        Spo2 => "spo2",
        /// Blood pressure outside her range.
        BloodPressure => "blood_pressure",
        /// Blood glucose outside her range.
        Glucose => "glucose",
        /// No movement for longer than her rule allows, in the day.
        NoActivity => "no_activity",
        /// No water used since the morning.
        NoWater => "no_water",
        /// A device stopped reporting.
        DeviceOffline => "device_offline",
    }
);

impl AlertKind {
    /// Urgent alerts reach every member at once, quiet hours or not; the others wait for
    /// members' quiet hours to end.
    pub fn urgent(self) -> bool {
        !matches!(
            self,
            AlertKind::NoActivity | AlertKind::NoWater | AlertKind::DeviceOffline
        )
    }

    /// The alert in the elder's words (Chinese) or English.
    pub fn in_words(self, zh: bool) -> &'static str {
        match (self, zh) {
            (AlertKind::Sos, true) => "紧急求助",
            (AlertKind::Sos, false) => "Asked for help",
            (AlertKind::Fall, true) => "跌倒",
            (AlertKind::Fall, false) => "A fall",
            (AlertKind::HeartRate, true) => "心率异常",
            (AlertKind::HeartRate, false) => "Heart rate out of range",
            (AlertKind::Spo2, true) => "血氧偏低",
            (AlertKind::Spo2, false) => "Low blood oxygen",
            (AlertKind::BloodPressure, true) => "血压异常",
            (AlertKind::BloodPressure, false) => "Blood pressure out of range",
            (AlertKind::Glucose, true) => "血糖异常",
            (AlertKind::Glucose, false) => "Blood glucose out of range",
            (AlertKind::NoActivity, true) => "长时间无活动",
            (AlertKind::NoActivity, false) => "No activity for a long time",
            (AlertKind::NoWater, true) => "今晨未用水",
            (AlertKind::NoWater, false) => "No water used this morning",
            (AlertKind::DeviceOffline, true) => "设备离线",
            (AlertKind::DeviceOffline, false) => "A device went offline",
        }
    }
}

wire_enum!(
    /// Where an alert stands.
    AlertState, ALERT_STATES {
        /// Raised, no one has answered: it escalates when its step falls due.
        Open => "open",
        /// Someone is on the way: it no longer escalates.
        Acknowledged => "acknowledged",
        /// Dealt with.
        Resolved => "resolved",
        /// Nothing was wrong.
        FalseAlarm => "false_alarm",
    }
);

impl AlertState {
    /// Whether the alert is closed.
    pub fn closed(self) -> bool {
        matches!(self, AlertState::Resolved | AlertState::FalseAlarm)
    }
}

wire_enum!(
    /// A circle member's answer to an alert.
    Answer, ANSWERS {
        /// "On my way": the alert stops escalating.
        OnMyWay => "on_my_way",
        /// "Resolved": the alert is closed.
        Resolved => "resolved",
        /// "False alarm": the alert is closed as one.
        FalseAlarm => "false_alarm",
    }
);

wire_enum!(
    /// Why a reading was refused.
    Rejection, REJECTIONS {
        /// No device has this id.
        UnknownDevice => "unknown_device",
        /// The device is bound to no elder.
        UnboundDevice => "unbound_device",
        /// The sender does not run this device.
        NotYourDevice => "not_your_device",
        /// No metric has this name.
        UnknownMetric => "unknown_metric",
        /// A device of this kind does not report this metric.
        WrongMetric => "wrong_metric",
        /// The unit is not the metric's.
        WrongUnit => "wrong_unit",
        /// The value is physically impossible (a device fault).
        Impossible => "impossible_value",
        /// The time is not RFC 3339.
        BadTime => "bad_time",
        /// The time is ahead of the server's clock.
        InTheFuture => "in_the_future",
        /// The device sent more than its share (a flood).
        RateLimited => "rate_limited",
        /// An MQTT message that is not a reading in JSON.
        BadPayload => "bad_payload",
    }
);

/// A band a reading should stay within.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Below this is out of range.
    pub low: f64,
    /// Above this is out of range.
    pub high: f64,
}

/// The alert rules every elder starts with (a platform administrator sets them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareRules {
    /// Heart rate (/min).
    pub heart_rate: Band,
    /// Blood oxygen below this (%) raises an alert.
    pub spo2_low: f64,
    /// Systolic pressure (mmHg).
    pub systolic: Band,
    /// Diastolic pressure (mmHg).
    pub diastolic: Band,
    /// Blood glucose (mmol/L).
    pub glucose: Band,
    /// No movement for this many hours within the day raises an alert (0: never).
    pub no_activity_hours: f64,
    /// The day starts (local time, `HH:MM`): no-activity counts only within the day.
    pub day_starts: String,
    /// The day ends (local time, `HH:MM`).
    pub day_ends: String,
    /// No water used from the day's start until this time (local, `HH:MM`) raises an alert
    /// for elders with a water sensor (empty: never).
    pub no_water_by: String,
    /// A device that misses this many heartbeats is offline.
    pub offline_after_missed: i64,
    /// Seconds an alert waits unanswered at level 1 before going to level 2, then at level
    /// 2 before going to level 3.
    pub escalate_after_seconds: [i64; 2],
    /// The local time's offset from UTC in minutes (480: China Standard Time).
    pub local_offset_minutes: i64,
    /// The emergency line named when no one at level 3 can be told (e.g. 120).
    pub emergency_line: String,
    /// Days between a community worker's visits to an elder.
    #[serde(default = "default_visit_every_days")]
    pub visit_every_days: i64,
    /// Days between visits to an elder who lives alone.
    #[serde(default = "default_visit_alone_every_days")]
    pub visit_alone_every_days: i64,
    /// The published policy (rules as code) whose amount is an elder's subsidised hours of
    /// care services a month (none: care orders carry no subsidy).
    #[serde(default)]
    pub subsidy_policy: Option<String>,
}

fn default_visit_every_days() -> i64 {
    30
}

fn default_visit_alone_every_days() -> i64 {
    7
}

impl Default for CareRules {
    fn default() -> Self {
        CareRules {
            heart_rate: Band {
                low: 45.0,
                high: 120.0,
            },
            spo2_low: 90.0,
            systolic: Band {
                low: 90.0,
                high: 180.0,
            },
            diastolic: Band {
                low: 50.0,
                high: 110.0,
            },
            glucose: Band {
                low: 3.9,
                high: 16.7,
            },
            no_activity_hours: 4.0,
            day_starts: "07:00".into(),
            day_ends: "21:00".into(),
            no_water_by: "10:00".into(),
            offline_after_missed: 3,
            escalate_after_seconds: [180, 300],
            local_offset_minutes: 480,
            emergency_line: "120".into(),
            visit_every_days: default_visit_every_days(),
            visit_alone_every_days: default_visit_alone_every_days(),
            subsidy_policy: None,
        }
    }
}

/// One elder's own limits, set by her doctor or community worker where the general rules do
/// not fit her (a resting heart rate of 50 is hers, say); what is left out follows the rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Baselines {
    /// Heart rate (/min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heart_rate: Option<Band>,
    /// Blood oxygen floor (%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spo2_low: Option<f64>,
    /// Systolic pressure (mmHg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systolic: Option<Band>,
    /// Diastolic pressure (mmHg).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diastolic: Option<Band>,
    /// Blood glucose (mmol/L).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glucose: Option<Band>,
    /// Hours without movement in the day (0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_activity_hours: Option<f64>,
}

/// Enrol an elder in community care.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewElder {
    /// The elder's person id (from the register).
    pub person_id: String,
    /// The organisation looking after her: her neighbourhood committee.
    pub organisation_id: String,
    /// Whether she lives alone.
    #[serde(default)]
    pub lives_alone: bool,
}

/// An elder in community care.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Elder {
    /// Her person id.
    pub person_id: String,
    /// Her name.
    pub name: String,
    /// Her age in whole years.
    pub age: i64,
    /// Her community (region code).
    pub region_code: String,
    /// The organisation looking after her.
    pub organisation_id: String,
    /// Whether she lives alone.
    pub lives_alone: bool,
    /// Her own limits.
    pub baselines: Baselines,
    /// Alerts not yet closed.
    pub open_alerts: i64,
    /// Her devices that are offline.
    pub devices_offline: i64,
    /// When she was enrolled.
    pub enrolled_at: Timestamp,
}

/// Add someone to an elder's care circle: named by name and resident ID number, as a proxy
/// is.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Full name, as registered.
    pub name: String,
    /// Resident ID number (GB 11643).
    pub resident_id: String,
    /// What the member is to her.
    pub role: MemberRole,
    /// In words: 儿子, 女儿, 社区网格员 … (at most 32 characters).
    pub relationship: String,
    /// The organisation a staff member acts for (required unless `relative`).
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// The escalation level (1–3) the member is told at; the role's unless given.
    #[serde(default)]
    pub level: Option<i64>,
    /// Order within the level, 1 first (also whom "call my family" rings).
    #[serde(default)]
    pub contact_order: Option<i64>,
    /// Quiet hours start (local `HH:MM`): alerts that are not urgent wait until they end.
    #[serde(default)]
    pub quiet_from: Option<String>,
    /// Quiet hours end (local `HH:MM`).
    #[serde(default)]
    pub quiet_until: Option<String>,
}

/// Change a member's place in the circle.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    /// The escalation level (1–3).
    pub level: i64,
    /// Order within the level, 1 first.
    pub contact_order: i64,
    /// Quiet hours start (local `HH:MM`), or none.
    #[serde(default)]
    pub quiet_from: Option<String>,
    /// Quiet hours end (local `HH:MM`), or none.
    #[serde(default)]
    pub quiet_until: Option<String>,
}

/// A member of an elder's care circle.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Member {
    /// Id.
    pub id: String,
    /// The elder's person id.
    pub elder_id: String,
    /// The member's person id.
    pub person_id: String,
    /// The member's name.
    pub name: String,
    /// What the member is to her.
    pub role: MemberRole,
    /// In words.
    pub relationship: String,
    /// The organisation a staff member acts for.
    pub organisation_id: Option<String>,
    /// The proxy authorisation (代办) the elder gave this member, in force now.
    pub proxy_authorisation_id: Option<String>,
    /// Escalation level (1–3).
    pub level: i64,
    /// Order within the level.
    pub contact_order: i64,
    /// Quiet hours (local `HH:MM–HH:MM`), if any.
    pub quiet_hours: Option<String>,
    /// When added.
    pub added_at: Timestamp,
}

/// Register a device.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// The device's own id (letters, digits, `-` and `_`, at most 40): the last level of its
    /// MQTT topic.
    pub id: String,
    /// What it is.
    pub kind: DeviceKind,
    /// The organisation that runs it (its readings come from that organisation).
    pub organisation_id: String,
    /// How often it reports at least (seconds, 10 to 86,400).
    pub heartbeat_seconds: i64,
}

/// Bind a device to an elder.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The elder's person id.
    pub elder_id: String,
}

/// A device.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Device {
    /// Its id.
    pub id: String,
    /// What it is.
    pub kind: DeviceKind,
    /// The organisation that runs it.
    pub organisation_id: String,
    /// The elder it is bound to.
    pub elder_id: Option<String>,
    /// How often it reports at least (seconds).
    pub heartbeat_seconds: i64,
    /// Whether it is reporting.
    pub online: bool,
    /// When it last reported.
    pub last_seen_at: Option<Timestamp>,
    /// When it was bound.
    pub bound_at: Option<Timestamp>,
}

/// One reading as a device (or its gateway) sends it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingIn {
    /// The device's id.
    pub device: String,
    /// When measured (RFC 3339).
    pub observed_at: String,
    /// What was measured.
    pub metric: String,
    /// The value.
    pub value: f64,
    /// The unit (UCUM); the metric's unit when left out.
    #[serde(default)]
    pub unit: Option<String>,
}

/// A batch of readings (at most 1,000).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingBatch {
    /// The readings.
    pub readings: Vec<ReadingIn>,
}

/// A reading refused, and why.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Refused {
    /// Its place in the batch.
    pub index: usize,
    /// The device named.
    pub device: String,
    /// Why.
    pub reason: Rejection,
    /// In words.
    pub detail: String,
}

/// What became of a batch of readings.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct IngestReport {
    /// Readings stored.
    pub accepted: usize,
    /// Readings already stored (sent again): ignored.
    pub duplicates: usize,
    /// Of the stored, readings older than the device's newest or too old to raise an alert:
    /// kept as history only.
    pub late: usize,
    /// Readings refused.
    pub rejected: usize,
    /// The first 100 refused, with reasons.
    pub refused: Vec<Refused>,
    /// Alerts raised.
    pub alerts_raised: usize,
    /// Alerts that were already open and took the readings in (folded).
    pub alerts_folded: usize,
}

/// A reading shown with an alert.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// The device.
    pub device_id: String,
    /// What was measured.
    pub metric: Metric,
    /// When.
    pub observed_at: Timestamp,
    /// The value.
    pub value: f64,
    /// Why it counts, in words (e.g. "above 120").
    pub why: String,
}

/// One step in an alert's life.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertStep {
    /// When it happened.
    pub at: Timestamp,
    /// `raised`, `folded`, `told`, `escalated`, `answered`, `closed`.
    pub kind: String,
    /// The level told or reached.
    pub level: Option<i64>,
    /// When an escalation was due (its timer), beside `at`, when it happened.
    pub scheduled_at: Option<Timestamp>,
    /// Who answered.
    pub by_name: Option<String>,
    /// The answer.
    pub answer: Option<Answer>,
    /// In words.
    pub detail: String,
    /// The readings that raised it (or were folded into it).
    pub evidence: Vec<Evidence>,
}

/// An alert about an elder.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Alert {
    /// Id.
    pub id: String,
    /// The elder's person id.
    pub elder_id: String,
    /// The elder's name.
    pub elder_name: String,
    /// What raised it.
    pub kind: AlertKind,
    /// The device, if one raised it.
    pub device_id: Option<String>,
    /// Where it stands.
    pub state: AlertState,
    /// The escalation level reached (1–3).
    pub level: i64,
    /// When raised.
    pub raised_at: Timestamp,
    /// When last raised again (folded).
    pub last_at: Timestamp,
    /// How many more times it was raised while open (folded into this one).
    pub folded: i64,
    /// When it escalates next, if it will.
    pub next_step_at: Option<Timestamp>,
    /// When closed.
    pub closed_at: Option<Timestamp>,
    /// Its timeline, oldest first (in the list of alerts: empty).
    pub timeline: Vec<AlertStep>,
}

/// A member's answer to an alert.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    /// The answer.
    pub answer: Answer,
    /// A note (at most 500 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// The elder (or her proxy) asking for help from a page or an app.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HelpRequest {
    /// What is wrong, if she says (at most 500 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// Record a visit to an elder.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisit {
    /// What was seen and done (at most 1,000 characters; sealed at rest).
    #[serde(default)]
    pub note: Option<String>,
}

/// A community worker's visit.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Visit {
    /// Id.
    pub id: String,
    /// The elder's person id.
    pub elder_id: String,
    /// Who visited.
    pub visitor_name: String,
    /// When.
    pub visited_at: Timestamp,
    /// What was seen and done.
    pub note: Option<String>,
}

/// One elder as her community worker sees her in the community's list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CommunityElder {
    /// The elder.
    #[serde(flatten)]
    pub elder: Elder,
    /// When last visited.
    pub last_visit_at: Option<Timestamp>,
    /// When the next visit is due (now or past: due).
    pub visit_due_at: Timestamp,
    /// Whether a visit is due.
    pub visit_due: bool,
}

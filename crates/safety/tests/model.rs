//! Station kinds and codes: each kind reads back from its wire name, has one unit and a
//! physical range that holds ordinary weather and refuses faults; a station code is one
//! MQTT topic level.

use safety::model::{REJECTIONS, Rejection, STATION_KINDS, StationKind};
use safety::service::is_station_code;

#[test]
fn kinds_and_reasons_read_back_from_their_wire_names() {
    for kind in STATION_KINDS {
        assert_eq!(StationKind::parse(kind.as_str()), Some(kind));
        let (low, high) = kind.range();
        assert!(low < high, "{kind:?}");
        assert!(!kind.unit().is_empty());
    }
    assert_eq!(StationKind::parse("tide_gauge"), None);
    for reason in REJECTIONS {
        assert_eq!(Rejection::parse(reason.as_str()), Some(reason));
    }
    assert_eq!(Rejection::parse("bad"), None);
}

#[test]
fn ranges_hold_extreme_weather_and_refuse_faults() {
    let holds = |kind: StationKind, v: f64| {
        let (low, high) = kind.range();
        (low..=high).contains(&v)
    };
    // The heaviest hour of rain measured (~305 mm), the strongest gust (113 m/s), Death
    // Valley's 56.7 °C and Vostok's −89.2 °C are readings; a negative rainfall, a
    // 150 m/s wind and 70 °C air are faults.
    assert!(holds(StationKind::RainGauge, 305.0));
    assert!(holds(StationKind::Wind, 113.0));
    assert!(holds(StationKind::Temperature, 56.7) && holds(StationKind::Temperature, -89.2));
    assert!(!holds(StationKind::RainGauge, -0.1));
    assert!(!holds(StationKind::Wind, 150.0));
    assert!(!holds(StationKind::Temperature, 70.0));
}

#[test]
fn a_station_code_is_one_topic_level() {
    for good in ["RG-0001", "river_gauge_7", "AB"] {
        assert!(is_station_code(good), "{good}");
    }
    for bad in ["A", "a/b", "a+b", "a#", "站点1", &"x".repeat(41), "a b"] {
        assert!(!is_station_code(bad), "{bad}");
    }
}

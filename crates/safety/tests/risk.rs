//! The risk method as arithmetic: cuts, the static score, the forecast curve, stale
//! gauges, the wind rule, and the rules' checks.

use kernel::time::Timestamp;
use safety::model::*;
use safety::risk::{ForecastCurve, Gauge, RegionFacts, assess, check_rules, evaluate, level_of};

const HOUR: i64 = 3_600_000_000;

fn station(code: &str, kind: StationKind) -> Station {
    Station {
        id: code.into(),
        code: code.into(),
        name: format!("{code} 站"),
        kind,
        unit: kind.unit().into(),
        region: "990102001001".into(),
        latitude: 30.0,
        longitude: 114.0,
        organisation_id: "org".into(),
        warning_level: None,
        guarantee_level: None,
        created_at: Timestamp(0),
        last_observed_at: None,
        last_value: None,
    }
}

#[test]
fn cuts_give_the_five_levels() {
    let cuts = [20.0, 40.0, 60.0, 80.0];
    assert_eq!(level_of(0.0, &cuts), RiskLevel::Green);
    assert_eq!(level_of(19.9, &cuts), RiskLevel::Green);
    assert_eq!(level_of(20.0, &cuts), RiskLevel::Blue);
    assert_eq!(level_of(59.9, &cuts), RiskLevel::Yellow);
    assert_eq!(level_of(60.0, &cuts), RiskLevel::Orange);
    assert_eq!(level_of(100.0, &cuts), RiskLevel::Red);
}

#[test]
fn no_hazard_is_no_risk_and_shelters_relieve_it() {
    let facts =
        |region: &str, hazard: Option<f64>, population, vulnerable, shelter_places| RegionFacts {
            region: region.into(),
            name: region.into(),
            hazard: hazard.map(|h| (h, "普查".to_string())),
            population,
            elderly: vulnerable,
            tagged: 0,
            vulnerable,
            shelter_places,
        };
    let out = assess(
        &RiskMethod::default(),
        vec![
            facts("A", Some(1.0), 1000, 500, 0),
            facts("B", Some(1.0), 1000, 500, 100),
            facts("C", None, 1000, 500, 0),
            facts("D", Some(1.0), 500, 0, 0),
        ],
    );
    let by = |r: &str| out.iter().find(|x| x.region == r).unwrap();
    // A: 100 × 1 × (0.4 + 0.6) × 1; B shelters a tenth: relieved by 30 %.
    assert_eq!(by("A").score, 100.0);
    assert_eq!(by("A").level, RiskLevel::Red);
    assert_eq!(by("B").score, 70.0);
    assert_eq!(by("B").level, RiskLevel::Orange);
    assert_eq!(by("C").score, 0.0);
    // D: half the people, none vulnerable: 100 × 0.4 × 0.5.
    assert_eq!(by("D").score, 20.0);
    assert_eq!(out[0].region, "A");
}

#[test]
fn a_forecast_is_read_between_its_horizons_and_ages_from_its_issue() {
    let f = |h, mm, issued| Forecast {
        region: "R".into(),
        horizon_hours: h,
        rain_mm: mm,
        issued_at: Timestamp(issued),
    };
    let list = [f(3, 30.0, 0), f(6, 90.0, 0), f(24, 90.0, 0)];
    let refs: Vec<&Forecast> = list.iter().collect();
    let fresh = ForecastCurve::new(&refs, Timestamp(0)).unwrap();
    assert_eq!(fresh.between(0.0, 3.0), 30.0);
    assert_eq!(fresh.between(0.0, 1.5), 15.0);
    assert_eq!(fresh.between(3.0, 6.0), 60.0);
    assert_eq!(fresh.between(6.0, 48.0), 0.0);
    // Two hours later, the next three hours hold an hour at 10 mm and two at 20 mm.
    let later = ForecastCurve::new(&refs, Timestamp(2 * HOUR)).unwrap();
    assert_eq!(later.between(0.0, 3.0), 50.0);
    assert!(ForecastCurve::new(&[], Timestamp(0)).is_none());
}

#[test]
fn a_silent_gauge_says_nothing_and_wind_raises_its_level() {
    let rules = WarningRules::default();
    let wind = station("WD-1", StationKind::Wind);
    let as_of = Timestamp(100 * HOUR);
    let gale = [(Timestamp(as_of.0 - HOUR), 25.0)];
    let (level, reasons) = evaluate(
        &rules,
        &[Gauge {
            station: &wind,
            readings: &gale,
        }],
        None,
        as_of,
        3,
    );
    assert_eq!(level, RiskLevel::Orange);
    assert_eq!(reasons[0].rule, "gale-10");
    assert_eq!(reasons[1].rule, "gale-8");
    let old = [(Timestamp(as_of.0 - 7 * HOUR), 40.0)];
    let (level, reasons) = evaluate(
        &rules,
        &[Gauge {
            station: &wind,
            readings: &old,
        }],
        None,
        as_of,
        3,
    );
    assert_eq!(level, RiskLevel::Green);
    assert!(reasons.is_empty());
}

#[test]
fn the_rules_are_checked() {
    let mut r = WarningRules::default();
    assert!(check_rules(&r).is_ok());
    r.rules.push(r.rules[0].clone());
    let e = check_rules(&r).unwrap_err();
    assert!(e.to_string().contains("two rules"), "{e}");
    let mut r = WarningRules::default();
    r.rules.push(WarningRule::Rain {
        id: "long".into(),
        hours: 100,
        millimetres: 50.0,
        level: RiskLevel::Red,
    });
    assert!(check_rules(&r).is_err());
    let mut r = WarningRules::default();
    r.rules.push(WarningRule::Reading {
        id: "calm".into(),
        kind: StationKind::Wind,
        at_least: 1.0,
        level: RiskLevel::Green,
    });
    assert!(check_rules(&r).is_err());
}

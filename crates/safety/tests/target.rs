//! An alert's area on the ground: CAP's `lat,lon` polygons and circles against points and
//! regions' GeoJSON shapes (`[lon, lat]`), geocodes sorted into region codes and others,
//! and the location cells an area looks in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use safety::cap::model::{
    Alert, Area, Category, Certainty, Info, MsgType, NamedValue, Scope, Severity, Status, Urgency,
};
use safety::target::{AlertArea, cell_of};

fn alert(area: Area) -> Alert {
    Alert {
        identifier: "t-1".into(),
        sender: "t@example.org".into(),
        sent: "2026-12-04T10:00:00+08:00".into(),
        status: Status::Actual,
        msg_type: MsgType::Alert,
        source: None,
        scope: Scope::Public,
        restriction: None,
        addresses: None,
        code: Vec::new(),
        note: None,
        references: None,
        incidents: None,
        info: vec![Info {
            language: None,
            category: vec![Category::Met],
            event: "洪水".into(),
            response_type: Vec::new(),
            urgency: Urgency::Immediate,
            severity: Severity::Extreme,
            certainty: Certainty::Observed,
            audience: None,
            event_code: Vec::new(),
            effective: None,
            onset: None,
            expires: None,
            sender_name: None,
            headline: None,
            description: None,
            instruction: None,
            web: None,
            contact: None,
            parameter: Vec::new(),
            resource: Vec::new(),
            area: vec![area],
        }],
    }
}

fn area(polygon: &[&str], circle: &[&str], geocode: &[(&str, &str)]) -> Area {
    Area {
        area_desc: "区域".into(),
        polygon: polygon.iter().map(|s| s.to_string()).collect(),
        circle: circle.iter().map(|s| s.to_string()).collect(),
        geocode: geocode
            .iter()
            .map(|(n, v)| NamedValue {
                value_name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        altitude: None,
        ceiling: None,
    }
}

/// A region's square (lon, lat), 0.1° a side from its south-west corner.
fn square(lat: f64, lon: f64) -> geo::MultiPolygon<f64> {
    geo::MultiPolygon(vec![geo::Polygon::new(
        vec![
            (lon, lat),
            (lon + 0.1, lat),
            (lon + 0.1, lat + 0.1),
            (lon, lat + 0.1),
            (lon, lat),
        ]
        .into(),
        Vec::new(),
    )])
}

#[test]
fn a_polygon_holds_the_points_inside_it_latitude_first() {
    // A tall, narrow polygon: latitude 30.0–31.0, longitude 114.0–114.1.
    let a = AlertArea::of(&alert(area(
        &["30.0,114.0 31.0,114.0 31.0,114.1 30.0,114.1 30.0,114.0"],
        &[],
        &[],
    )));
    assert!(a.has_shapes());
    assert!(a.contains(30.5, 114.05));
    assert!(a.contains(30.0, 114.05), "the edge is in");
    assert!(
        !a.contains(114.05, 30.5),
        "latitude and longitude are not swapped"
    );
    assert!(!a.contains(30.5, 114.2));
    assert!(a.meets(&square(30.9, 114.05)));
    assert!(!a.meets(&square(30.5, 114.2)));
}

#[test]
fn a_circle_holds_what_is_within_its_radius_on_the_sphere() {
    // 5 km around (30.0, 114.0): 0.04° of latitude is about 4.4 km, of longitude at 30° N
    // about 3.9 km; 0.05° of latitude is about 5.6 km.
    let a = AlertArea::of(&alert(area(&[], &["30.0,114.0 5"], &[])));
    assert!(a.contains(30.04, 114.0));
    assert!(
        a.contains(30.0, 114.05),
        "0.05° of longitude at 30° N is 4.8 km"
    );
    assert!(!a.contains(30.05, 114.0));
    assert!(
        !a.contains(30.04, 114.04),
        "the corner of the box is outside the circle"
    );
    assert!(a.meets(&square(30.02, 114.02)));
    assert!(!a.meets(&square(30.1, 114.1)));
    let zero = AlertArea::of(&alert(area(&[], &["30.0,114.0 0"], &[])));
    assert!(zero.contains(30.0, 114.0));
    assert!(!zero.contains(30.001, 114.0));
}

#[test]
fn geocodes_name_regions_only_when_they_are_region_codes() {
    let a = AlertArea::of(&alert(area(
        &[],
        &[],
        &[
            ("GB/T 2260", "990102"),
            ("region", "990102001001"),
            ("GB/T 2260", "990102"),
            ("SAME", "006113"),
            ("GB/T 2260", "12"),
        ],
    )));
    assert!(!a.has_shapes());
    assert_eq!(a.region_codes, ["990102", "990102001001"]);
    assert_eq!(a.other_geocodes, ["SAME=006113", "GB/T 2260=12"]);
    assert!(!a.contains(30.0, 114.0));
    assert!(a.cell_boxes().is_empty());
}

#[test]
fn cells_cover_each_shape_and_a_shape_that_does_not_read_is_left_out() {
    assert_eq!(cell_of(30.05), 3005);
    assert_eq!(cell_of(-0.005), -1);
    let a = AlertArea::of(&alert(area(
        &[
            "30.0,114.0 30.2,114.0 30.2,114.3 30.0,114.3 30.0,114.0",
            "30.0,114.0 30.2,114.0",
        ],
        &["not a circle"],
        &[],
    )));
    assert_eq!(a.cell_boxes(), [(3000, 3020, 11400, 11430)]);
}

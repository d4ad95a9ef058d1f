//! Where an alert reaches: the areas of its information blocks (CAP polygons and circles,
//! region geocodes) as shapes on the ground, matched against the regions' areas on the map
//! and against residents' shared locations.
//!
//! CAP writes points as `lat,lon`; GeoJSON and `geo` as (longitude, latitude). Every shape
//! here is in `geo`'s order, so the two never mix.

use geo::{BoundingRect, Contains, Destination, Distance, Haversine, Intersects};

use crate::cap::check::{circle_parts, polygon_points};
use crate::cap::model::Alert;

/// The `valueName`s of geocodes that name regions of this platform (their values are the
/// 6-, 9- or 12-digit division codes regions are registered under).
pub const REGION_GEOCODES: &[&str] = &["GB/T 2260", "GB/T 10114", "region"];

/// Location cells per degree: a cell is 0.01° (about 1.1 km north–south). A shared
/// location is kept sealed and only its cell in clear, so an alert's area picks its
/// candidates by index.
pub const CELLS_PER_DEGREE: f64 = 100.0;

/// Points on the outline a circle is drawn with when it is matched against regions' areas.
const CIRCLE_POINTS: u32 = 64;

/// One shape of an alert's area, in (longitude, latitude).
enum Shape {
    Polygon(geo::Polygon<f64>),
    Circle {
        centre: geo::Point<f64>,
        metres: f64,
        outline: geo::Polygon<f64>,
    },
}

impl Shape {
    fn outline(&self) -> &geo::Polygon<f64> {
        match self {
            Shape::Polygon(p) => p,
            Shape::Circle { outline, .. } => outline,
        }
    }
}

/// The ground an alert covers: every polygon and circle of every information block, and
/// the regions its geocodes name.
pub struct AlertArea {
    shapes: Vec<Shape>,
    /// Region codes named by geocodes ([`REGION_GEOCODES`]), each once.
    pub region_codes: Vec<String>,
    /// Geocodes that do not name a region here (`valueName=value`), each once.
    pub other_geocodes: Vec<String>,
}

/// A cell index of a latitude or longitude.
pub fn cell_of(degrees: f64) -> i64 {
    // A latitude or longitude is within ±180, so the cell fits easily.
    (degrees * CELLS_PER_DEGREE).floor() as i64
}

fn circle_outline(centre: geo::Point<f64>, metres: f64) -> geo::Polygon<f64> {
    let ring: Vec<geo::Coord<f64>> = (0..=CIRCLE_POINTS)
        .map(|i| {
            let bearing = 360.0 * f64::from(i % CIRCLE_POINTS) / f64::from(CIRCLE_POINTS);
            Haversine.destination(centre, bearing, metres).into()
        })
        .collect();
    geo::Polygon::new(geo::LineString::new(ring), Vec::new())
}

impl AlertArea {
    /// The area of an alert (its shapes already checked when it was drafted or imported;
    /// one that does not read is left out).
    pub fn of(alert: &Alert) -> AlertArea {
        let mut area = AlertArea {
            shapes: Vec::new(),
            region_codes: Vec::new(),
            other_geocodes: Vec::new(),
        };
        for block in alert.info.iter().flat_map(|i| &i.area) {
            for text in &block.polygon {
                if let Ok(points) = polygon_points(text) {
                    let ring: Vec<(f64, f64)> =
                        points.into_iter().map(|(lat, lon)| (lon, lat)).collect();
                    area.shapes
                        .push(Shape::Polygon(geo::Polygon::new(ring.into(), Vec::new())));
                }
            }
            for text in &block.circle {
                if let Ok(((lat, lon), km)) = circle_parts(text) {
                    let centre = geo::Point::new(lon, lat);
                    let metres = km * 1000.0;
                    area.shapes.push(Shape::Circle {
                        centre,
                        metres,
                        outline: circle_outline(centre, metres),
                    });
                }
            }
            for code in &block.geocode {
                let value = code.value.trim();
                let names_region = REGION_GEOCODES.contains(&code.value_name.trim())
                    && identity::model::RegionCode::parse(value).is_ok();
                let list = if names_region {
                    &mut area.region_codes
                } else {
                    &mut area.other_geocodes
                };
                let item = if names_region {
                    value.to_string()
                } else {
                    format!("{}={}", code.value_name.trim(), value)
                };
                if !list.contains(&item) {
                    list.push(item);
                }
            }
        }
        area
    }

    /// Whether the alert has any polygon or circle.
    pub fn has_shapes(&self) -> bool {
        !self.shapes.is_empty()
    }

    /// Whether a point (latitude, longitude) lies in the area: inside or on a polygon, or
    /// within a circle's radius (great-circle distance).
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        let p = geo::Point::new(longitude, latitude);
        self.shapes.iter().any(|s| match s {
            Shape::Polygon(polygon) => polygon.contains(&p) || polygon.intersects(&p),
            Shape::Circle { centre, metres, .. } => Haversine.distance(*centre, p) <= *metres,
        })
    }

    /// Whether a region's area (longitude, latitude) meets the alert's: a region touched by
    /// the alert is warned whole, since no one can tell which of its residents stand in
    /// the part outside.
    pub fn meets(&self, region: &geo::MultiPolygon<f64>) -> bool {
        self.shapes.iter().any(|s| s.outline().intersects(region))
    }

    /// The location cells to look in: for each shape the (south, north, west, east) cell
    /// indices of its bounding box.
    pub fn cell_boxes(&self) -> Vec<(i64, i64, i64, i64)> {
        self.shapes
            .iter()
            .filter_map(|s| s.outline().bounding_rect())
            .map(|r| {
                (
                    cell_of(r.min().y),
                    cell_of(r.max().y),
                    cell_of(r.min().x),
                    cell_of(r.max().x),
                )
            })
            .collect()
    }
}

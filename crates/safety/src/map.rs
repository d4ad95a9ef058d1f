//! Regions' areas on the map: imported as a GeoJSON FeatureCollection (each feature a
//! region's Polygon or MultiPolygon, `properties.code` its 12-digit code), checked, and
//! drawn with the stations as an SVG map — the ground the five-colour risk map is drawn
//! on.

use geo::{BoundingRect, Centroid};
use geojson::{FeatureCollection, GeometryValue};
use kernel::ApiError;

use crate::model::Station;

/// One region's area.
pub struct Area {
    /// The region's code.
    pub region: String,
    /// Its name.
    pub name: String,
    /// Its shape (longitude, latitude).
    pub shape: geo::MultiPolygon<f64>,
}

/// The most features one import may hold.
pub const MAX_AREAS: usize = 5_000;

/// A feature's shape, checked: a Polygon or MultiPolygon of closed rings of at least four
/// positions, within WGS 84's bounds.
fn checked_shape(value: &GeometryValue, field: &str) -> Result<geo::MultiPolygon<f64>, ApiError> {
    let polygons: Vec<&Vec<Vec<geojson::Position>>> = match value {
        GeometryValue::Polygon { coordinates } => vec![coordinates],
        GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        _ => {
            return Err(ApiError::invalid(
                field,
                "an area is a Polygon or a MultiPolygon",
            ));
        }
    };
    for rings in &polygons {
        if rings.is_empty() {
            return Err(ApiError::invalid(field, "a polygon has at least one ring"));
        }
        for ring in rings.iter() {
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err(ApiError::invalid(
                    field,
                    "each ring is closed (its last position is its first) and has at least four positions",
                ));
            }
            for p in ring {
                let [lon, lat, ..] = p.as_slice() else {
                    return Err(ApiError::invalid(
                        field,
                        "a position is [longitude, latitude]",
                    ));
                };
                if !(-180.0..=180.0).contains(lon) || !(-90.0..=90.0).contains(lat) {
                    return Err(ApiError::invalid(
                        field,
                        format!("[{lon}, {lat}] is not a WGS 84 [longitude, latitude]"),
                    ));
                }
            }
        }
    }
    match geo::Geometry::<f64>::try_from(value) {
        Ok(geo::Geometry::Polygon(p)) => Ok(geo::MultiPolygon(vec![p])),
        Ok(geo::Geometry::MultiPolygon(m)) => Ok(m),
        _ => Err(ApiError::invalid(
            field,
            "an area is a Polygon or a MultiPolygon",
        )),
    }
}

/// Reads an import: (region code, geometry as GeoJSON) for each feature, every problem
/// named at its feature.
pub fn parse_areas(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    let collection: FeatureCollection = text.parse().map_err(|e| {
        ApiError::bad_request(format!("the body is not a GeoJSON FeatureCollection: {e}"))
    })?;
    if collection.features.len() > MAX_AREAS {
        return Err(ApiError::invalid(
            "features",
            format!("an import holds at most {MAX_AREAS} areas"),
        ));
    }
    let mut out = Vec::with_capacity(collection.features.len());
    for (i, feature) in collection.features.iter().enumerate() {
        let code = feature
            .properties
            .as_ref()
            .and_then(|p| p.get("code"))
            .and_then(|c| c.as_str())
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("features[{i}].properties.code"),
                    "each feature names its region's code in properties.code",
                )
            })?;
        let geometry = feature.geometry.as_ref().ok_or_else(|| {
            ApiError::invalid(
                format!("features[{i}].geometry"),
                "the feature has no geometry",
            )
        })?;
        checked_shape(&geometry.value, &format!("features[{i}].geometry"))?;
        let json = serde_json::to_string(geometry)
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
        out.push((code.to_string(), json));
    }
    Ok(out)
}

/// A stored area's shape (none if the stored text no longer reads).
pub fn shape_of(geometry: &str) -> Option<geo::MultiPolygon<f64>> {
    let g: geojson::Geometry = geometry.parse().ok()?;
    checked_shape(&g.value, "geometry").ok()
}

/// How a station stands: no reading, normal, over its warning or its guaranteed level.
fn standing(s: &Station) -> (&'static str, &'static str) {
    match (s.last_value, s.warning_level, s.guarantee_level) {
        (None, ..) => ("#757575", "none"),
        (Some(v), _, Some(g)) if v >= g => ("#b71c1c", "guarantee"),
        (Some(v), Some(w), _) if v >= w => ("#e65100", "warning"),
        _ => ("#1b5e20", "normal"),
    }
}

/// A mark of the legend.
pub enum LegendMark {
    /// A dot, as stations are drawn.
    Dot,
    /// A filled square, as areas are shaded.
    Swatch,
}

/// Labels of the map, in the page's language.
pub struct MapLabels<'a> {
    /// The map's title.
    pub title: &'a str,
    /// The legend: (mark, colour, label).
    pub legend: Vec<(LegendMark, &'a str, String)>,
}

/// The station map's legend: no reading, normal, over warning, over guaranteed.
pub fn station_legend(labels: [&str; 4]) -> Vec<(LegendMark, &'static str, String)> {
    ["#757575", "#1b5e20", "#e65100", "#b71c1c"]
        .into_iter()
        .zip(labels)
        .map(|(colour, label)| (LegendMark::Dot, colour, label.to_string()))
        .collect()
}

/// How areas are shaded: by region code, (fill colour, what it means); others are pale.
pub type Shading<'a> = std::collections::HashMap<&'a str, (&'a str, String)>;

/// The SVG map: every area outlined, shaded and named, every station a dot coloured by
/// how it stands, with a legend; each shape and dot carries a `<title>`.
pub fn svg(
    areas: &[Area],
    shading: &Shading<'_>,
    stations: &[Station],
    labels: &MapLabels<'_>,
) -> String {
    let esc = kernel::widgets::askama_escape;
    let mut rects = areas.iter().filter_map(|a| a.shape.bounding_rect());
    let Some(first) = rects.next() else {
        return String::new();
    };
    let (mut min_x, mut min_y, mut max_x, mut max_y) =
        (first.min().x, first.min().y, first.max().x, first.max().y);
    for r in rects {
        min_x = min_x.min(r.min().x);
        min_y = min_y.min(r.min().y);
        max_x = max_x.max(r.max().x);
        max_y = max_y.max(r.max().y);
    }
    // Longitude shrinks with latitude: degrees east are cos(latitude) as long.
    let aspect = ((min_y + max_y) / 2.0).to_radians().cos();
    let width = 800.0;
    let span_x = ((max_x - min_x) * aspect).max(1e-9);
    let span_y = (max_y - min_y).max(1e-9);
    let height = (width * span_y / span_x).clamp(200.0, 1200.0);
    let legend_height = 40.0 + (labels.legend.len().saturating_sub(1) / 4) as f64 * 24.0;
    let x = |lon: f64| (lon - min_x) * aspect / span_x * width;
    let y = |lat: f64| (max_y - lat) / span_y * height;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"-10 -10 {:.0} {:.0}\" role=\"img\" aria-labelledby=\"map-title\" class=\"map\"><title id=\"map-title\">{}</title>",
        width + 20.0,
        height + legend_height + 20.0,
        esc(labels.title)
    );
    for a in areas {
        let mut d = String::new();
        for polygon in &a.shape.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    d.push_str(&format!(
                        "{}{:.1} {:.1} ",
                        if i == 0 { "M" } else { "L" },
                        x(c.x),
                        y(c.y)
                    ));
                }
                d.push_str("Z ");
            }
        }
        let (fill, note) = shading
            .get(a.region.as_str())
            .map_or(("#eef3ee", ""), |(f, n)| (*f, n.as_str()));
        out.push_str(&format!(
            "<path d=\"{}\" fill=\"{fill}\" stroke=\"#424242\" stroke-width=\"1\"><title>{} {} {}</title></path>",
            d.trim_end(),
            esc(&a.region),
            esc(&a.name),
            esc(note)
        ));
        if let Some(c) = a.shape.centroid() {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#212121\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                x(c.x()),
                y(c.y()),
                esc(&a.name)
            ));
        }
    }
    for s in stations {
        let (colour, _) = standing(s);
        let reading = s
            .last_value
            .map(|v| format!("{v} {}", s.unit))
            .unwrap_or_default();
        out.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"6\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"1.5\"><title>{} {} {}</title></circle>",
            x(s.longitude),
            y(s.latitude),
            esc(&s.code),
            esc(&s.name),
            esc(&reading)
        ));
    }
    let per_row = 4;
    for (i, (mark, colour, label)) in labels.legend.iter().enumerate() {
        let lx = (i % per_row) as f64 * 200.0;
        let ly = height + 25.0 + (i / per_row) as f64 * 24.0;
        let shape = match mark {
            LegendMark::Dot => format!(
                "<circle cx=\"{:.1}\" cy=\"{ly:.1}\" r=\"6\" fill=\"{colour}\"/>",
                lx + 8.0
            ),
            LegendMark::Swatch => format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"14\" height=\"14\" fill=\"{colour}\" stroke=\"#424242\"/>",
                lx + 1.0,
                ly - 7.0
            ),
        };
        out.push_str(&format!(
            "{shape}<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" fill=\"#212121\">{}</text>",
            lx + 20.0,
            ly + 5.0,
            esc(label)
        ));
    }
    out.push_str("</svg>");
    out
}

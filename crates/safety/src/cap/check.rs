//! The rules of CAP 1.2 that its schema cannot say: the forms of times, identifiers,
//! polygons and circles, and the fields a scope or message type needs. (An alert that
//! expires before it was sent is legal CAP, and real ones exist: it is not refused here.)

use super::model::{Alert, Area, CapProblem, MsgType, Scope};
use time::OffsetDateTime;

/// Every rule the alert breaks, each with its element; empty when it keeps them all.
pub fn check(alert: &Alert) -> Vec<CapProblem> {
    let mut problems = Vec::new();
    let mut problem = |element: &str, message: String| {
        problems.push(CapProblem::at(element, message));
    };
    for (name, value) in [("identifier", &alert.identifier), ("sender", &alert.sender)] {
        if let Some(message) = token_problem(value) {
            problem(&format!("alert/{name}"), message);
        }
    }
    if let Err(message) = datetime(&alert.sent) {
        problem("alert/sent", message);
    }
    match alert.scope {
        Scope::Restricted if blank(alert.restriction.as_deref()) => problem(
            "alert/restriction",
            "a Restricted alert must say who may see it in <restriction>".to_owned(),
        ),
        Scope::Private if blank(alert.addresses.as_deref()) => problem(
            "alert/addresses",
            "a Private alert must name its addressees in <addresses>".to_owned(),
        ),
        _ => {}
    }
    match alert.msg_type {
        MsgType::Update | MsgType::Cancel | MsgType::Ack | MsgType::Error => {
            match alert.references.as_deref().map(str::trim) {
                None | Some("") => problem(
                    "alert/references",
                    format!(
                        "a message of type {} must name the message(s) it refers to in <references>",
                        alert.msg_type.as_str()
                    ),
                ),
                Some(references) => {
                    for message in references_problems(references) {
                        problem("alert/references", message);
                    }
                }
            }
        }
        MsgType::Alert => {
            if let Some(references) = alert.references.as_deref() {
                for message in references_problems(references) {
                    problem("alert/references", message);
                }
            }
        }
    }
    for (i, info) in alert.info.iter().enumerate() {
        let path = format!("alert/info[{}]", i + 1);
        for (name, value) in [
            ("effective", &info.effective),
            ("onset", &info.onset),
            ("expires", &info.expires),
        ] {
            if let Some(Err(message)) = value.as_deref().map(datetime) {
                problem(&format!("{path}/{name}"), message);
            }
        }
        for (j, area) in info.area.iter().enumerate() {
            let path = format!("{path}/area[{}]", j + 1);
            for (element, message) in area_problems(area, &path) {
                problem(&element, message);
            }
        }
        for (j, code) in info.event_code.iter().chain(&info.parameter).enumerate() {
            if code.value_name.trim().is_empty() {
                let kind = if j < info.event_code.len() {
                    "eventCode"
                } else {
                    "parameter"
                };
                problem(&format!("{path}/{kind}"), "<valueName> is empty".to_owned());
            }
        }
    }
    problems
}

fn blank(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// Identifiers and senders: no spaces, commas or the XML-restricted `<` and `&`.
fn token_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("it is empty".to_owned());
    }
    let bad: Vec<String> = [
        (' ', "spaces"),
        (',', "commas"),
        ('<', "\"<\""),
        ('&', "\"&\""),
    ]
    .iter()
    .filter(|(c, _)| value.contains(*c))
    .map(|(_, name)| (*name).to_owned())
    .collect();
    let bad = if value.chars().any(|c| c.is_whitespace() && c != ' ') {
        [bad, vec!["whitespace".to_owned()]].concat()
    } else {
        bad
    };
    (!bad.is_empty()).then(|| {
        format!(
            "\"{value}\" holds {}, which CAP forbids here",
            bad.join(" and ")
        )
    })
}

/// `sender,identifier,sent` triples separated by whitespace.
fn references_problems(references: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for reference in references.split_whitespace() {
        let parts: Vec<&str> = reference.split(',').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            problems.push(format!(
                "\"{reference}\" is not sender,identifier,sent (three parts, comma-separated)"
            ));
        } else if let Err(message) = datetime(parts[2]) {
            problems.push(format!("\"{reference}\": {message}"));
        }
    }
    problems
}

/// A CAP time: `YYYY-MM-DDThh:mm:ss±hh:mm`, no fractions, no "Z", a real date.
pub fn datetime(value: &str) -> Result<OffsetDateTime, String> {
    let form = value.len() == 25
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 | 22 => b == b':',
            19 => b == b'+' || b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !form {
        return Err(format!(
            "\"{value}\" is not a CAP time (YYYY-MM-DDThh:mm:ss+hh:mm, no fractions or \"Z\"; UTC is -00:00)"
        ));
    }
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("\"{value}\" is not a real date and time"))
}

/// The problems of one area's shapes and levels.
pub fn area_problems(area: &Area, path: &str) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (i, polygon) in area.polygon.iter().enumerate() {
        let here = format!("{path}/polygon[{}]", i + 1);
        if let Err(message) = polygon_points(polygon) {
            problems.push((here, message));
        }
    }
    for (i, circle) in area.circle.iter().enumerate() {
        let here = format!("{path}/circle[{}]", i + 1);
        if let Err(message) = circle_parts(circle) {
            problems.push((here, message));
        }
    }
    for (i, geocode) in area.geocode.iter().enumerate() {
        if geocode.value_name.trim().is_empty() || geocode.value.trim().is_empty() {
            problems.push((
                format!("{path}/geocode[{}]", i + 1),
                "a geocode needs both <valueName> and <value>".to_owned(),
            ));
        }
    }
    let decimal = |text: &str| -> Result<f64, ()> {
        // xs:decimal: digits with an optional sign and point; no exponent, NaN or infinity.
        let t = text.trim();
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        let plain = !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.matches('.').count() <= 1
            && digits != ".";
        if plain {
            t.parse::<f64>().map_err(|_| ())
        } else {
            Err(())
        }
    };
    let altitude = area.altitude.as_deref().map(|a| (a, decimal(a)));
    let ceiling = area.ceiling.as_deref().map(|c| (c, decimal(c)));
    for (name, value) in [("altitude", &altitude), ("ceiling", &ceiling)] {
        if let Some((text, Err(_))) = value {
            problems.push((
                format!("{path}/{name}"),
                format!("\"{text}\" is not a number"),
            ));
        }
    }
    match (altitude, ceiling) {
        (None, Some(_)) => problems.push((
            format!("{path}/ceiling"),
            "a ceiling needs an altitude".to_owned(),
        )),
        (Some((_, Ok(a))), Some((_, Ok(c)))) if c < a => problems.push((
            format!("{path}/ceiling"),
            "the ceiling is below the altitude".to_owned(),
        )),
        _ => {}
    }
    problems
}

/// A polygon's points as (lat, lon): at least four, closed, in range, enclosing an area.
pub fn polygon_points(polygon: &str) -> Result<Vec<(f64, f64)>, String> {
    let mut points = Vec::new();
    for pair in polygon.split_whitespace() {
        points.push(point(pair)?);
    }
    if points.len() < 4 {
        return Err(format!(
            "a polygon needs at least four points (the first repeated last); this has {}",
            points.len()
        ));
    }
    if points.first() != points.last() {
        return Err("the polygon is not closed: its last point must repeat its first".to_owned());
    }
    let twice_area: f64 = points
        .windows(2)
        .map(|w| w[0].1 * w[1].0 - w[1].1 * w[0].0)
        .sum();
    if twice_area.abs() < 1e-12 {
        return Err("the polygon encloses no area (its points are in a line)".to_owned());
    }
    Ok(points)
}

/// A circle's centre (lat, lon) and radius in kilometres.
pub fn circle_parts(circle: &str) -> Result<((f64, f64), f64), String> {
    let mut parts = circle.split_whitespace();
    let (Some(centre), Some(radius), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "\"{circle}\" is not a circle: write the centre and the radius in km, \"lat,lon radius\""
        ));
    };
    let centre = point(centre)?;
    let radius: f64 = radius
        .parse()
        .map_err(|_| format!("the radius \"{radius}\" is not a number of kilometres"))?;
    if !radius.is_finite() || radius < 0.0 {
        return Err(format!("the radius {radius} is not a distance"));
    }
    Ok((centre, radius))
}

fn point(pair: &str) -> Result<(f64, f64), String> {
    let (lat, lon) = pair
        .split_once(',')
        .ok_or_else(|| format!("\"{pair}\" is not a point \"lat,lon\""))?;
    let lat: f64 = lat
        .parse()
        .map_err(|_| format!("the latitude in \"{pair}\" is not a number"))?;
    let lon: f64 = lon
        .parse()
        .map_err(|_| format!("the longitude in \"{pair}\" is not a number"))?;
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!(
            "the latitude {lat} in \"{pair}\" is outside -90…90"
        ));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "the longitude {lon} in \"{pair}\" is outside -180…180"
        ));
    }
    Ok((lat, lon))
}

//! Parameters with dated values: amounts, rates and ages that change by date, and scales
//! (brackets of thresholds with rates or amounts). Every value may carry its legal
//! citation. Reading a parameter on a day outside its validity is an error that names the
//! parameter, the day and the dates it is valid for — never a silent zero. Parameters not
//! reviewed for a long time are reported as stale.
//!
//! Loaded from OpenFisca's parameter YAML (a folder is a node, `index.yaml` its metadata,
//! a file with `values` a parameter, with `brackets` a scale, a file of dates the short
//! form); each problem is reported with its file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use marked_yaml::Node;
use time::Date;

/// Where a rule or value comes from in law. Its texts are shared, not copied: every
/// explanation step that reads a parameter carries its citation.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Citation {
    /// The document (regulation, notice), e.g. `《上海市老年人优待办法》`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Arc<str>>,
    /// The article or section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<Arc<str>>,
    /// Where to read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Arc<str>>,
    /// The version or date of the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Arc<str>>,
}

/// A place in a source file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One dated value: in force from `from` until the next one; `None` ends validity.
#[derive(Clone, Debug)]
pub struct Dated {
    /// First day in force.
    pub from: Date,
    /// The value, or `None` where the parameter stops existing.
    pub value: Option<f64>,
    /// Its citation (else the parameter's).
    pub citation: Option<Arc<Citation>>,
    /// Where it is written.
    pub origin: Origin,
}

/// Values by date, sorted by first day.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// The values, earliest first.
    pub values: Vec<Dated>,
}

/// What reading a series on a day found.
enum Found<'a> {
    Value(&'a Dated, f64),
    Before(Date),
    Ended(Date),
    Empty,
}

impl Series {
    fn at(&self, day: Date) -> Found<'_> {
        match self.values.iter().rev().find(|d| d.from <= day) {
            Some(d) => match d.value {
                Some(v) => Found::Value(d, v),
                None => Found::Ended(d.from),
            },
            None => match self.values.first() {
                Some(first) => Found::Before(first.from),
                None => Found::Empty,
            },
        }
    }

    /// The day its values were last changed or confirmed.
    fn last_change(&self) -> Option<Date> {
        self.values.last().map(|d| d.from)
    }
}

/// A parameter with one value at a time.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// Dotted path, e.g. `benefits.basic_income`.
    pub path: String,
    /// What it is.
    pub description: Option<String>,
    /// Unit (`currency-EUR`, `year`, `/1`).
    pub unit: Option<String>,
    /// The citation of the whole parameter.
    pub citation: Option<Arc<Citation>>,
    /// Its values.
    pub series: Series,
    /// The last day someone confirmed the latest value still holds
    /// (`metadata.last_value_still_valid_on`).
    pub confirmed_on: Option<Date>,
    /// Where it is defined.
    pub origin: Origin,
}

/// How a scale turns a base into an amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    /// Each bracket's rate applies to the part of the base inside it (income tax).
    MarginalRate,
    /// The amount of the highest bracket the base reaches.
    SingleAmount,
    /// The sum of the amounts of every bracket whose threshold the base exceeds.
    MarginalAmount,
}

/// One bracket of a scale: from `threshold`, a `rate` or an `amount`.
#[derive(Clone, Debug)]
pub struct Bracket {
    /// Lower bound of the bracket, by date.
    pub threshold: Series,
    /// Rate (marginal rate scales) or amount (amount scales), by date.
    pub value: Series,
}

/// A scale: brackets whose thresholds and rates or amounts change by date.
#[derive(Clone, Debug)]
pub struct Scale {
    /// Dotted path.
    pub path: String,
    /// How it computes.
    pub kind: ScaleKind,
    /// What it is.
    pub description: Option<String>,
    /// Its citation.
    pub citation: Option<Arc<Citation>>,
    /// Brackets as written.
    pub brackets: Vec<Bracket>,
    /// The day its latest values were confirmed.
    pub confirmed_on: Option<Date>,
    /// Where it is defined.
    pub origin: Origin,
}

/// A scale as in force on one day: (threshold, rate or amount), by threshold.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScaleAt {
    /// How it computes.
    pub kind: ScaleKind,
    /// Brackets in force, lowest threshold first.
    pub brackets: Vec<(f64, f64)>,
}

impl ScaleAt {
    /// The scale applied to `base`.
    pub fn calc(&self, base: f64) -> f64 {
        match self.kind {
            ScaleKind::MarginalRate => self
                .brackets
                .iter()
                .enumerate()
                .map(|(i, (low, rate))| {
                    let high = self.brackets.get(i + 1).map_or(f64::INFINITY, |b| b.0);
                    rate * (base.min(high) - low).max(0.0)
                })
                .sum(),
            ScaleKind::SingleAmount => self
                .brackets
                .iter()
                .rev()
                .find(|(low, _)| *low <= base)
                .map_or(0.0, |(_, amount)| *amount),
            ScaleKind::MarginalAmount => self
                .brackets
                .iter()
                .filter(|(low, _)| base > *low)
                .map(|(_, amount)| amount)
                .sum(),
        }
    }
}

/// A node of the parameter tree.
#[derive(Clone, Debug)]
pub enum Entry {
    /// One value at a time.
    Value(Parameter),
    /// A scale.
    Scale(Scale),
    /// A group of named children.
    Group(BTreeMap<String, Entry>),
}

/// A value read on a day, with what an explanation needs.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Reading {
    /// The parameter.
    pub path: String,
    /// The value.
    pub value: f64,
    /// In force since.
    pub since: Date,
    /// Its citation (the value's, else the parameter's).
    pub citation: Option<Arc<Citation>>,
}

/// Why a parameter could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// No parameter with that path.
    #[error("there is no parameter {0}")]
    Unknown(String),
    /// The path names a group or a scale where a value was wanted, or the reverse.
    #[error("{path} is a {found}, not a {wanted}")]
    WrongKind {
        /// The path.
        path: String,
        /// What it is.
        found: &'static str,
        /// What was asked.
        wanted: &'static str,
    },
    /// Read before its first value.
    #[error("{path} has no value on {day}: it is valid from {first}")]
    BeforeValidity {
        /// The path.
        path: String,
        /// The day asked.
        day: Date,
        /// Its first day.
        first: Date,
    },
    /// Read after it ended.
    #[error("{path} has no value on {day}: it ended on {ended}")]
    Ended {
        /// The path.
        path: String,
        /// The day asked.
        day: Date,
        /// The day it stopped.
        ended: Date,
    },
    /// A parameter with no values at all.
    #[error("{0} has no values")]
    Empty(String),
}

/// A parameter not changed or confirmed for longer than allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stale {
    /// The parameter.
    pub path: String,
    /// When its values were last changed or confirmed.
    pub last: Date,
    /// Where it is defined.
    pub origin: Origin,
}

/// A tree of parameters.
#[derive(Clone, Debug, Default)]
pub struct Parameters {
    /// The root's children.
    pub root: BTreeMap<String, Entry>,
}

fn read_series<'a>(
    path: &str,
    series: &'a Series,
    day: Date,
) -> Result<(f64, &'a Dated), ReadError> {
    match series.at(day) {
        Found::Value(d, v) => Ok((v, d)),
        Found::Before(first) => Err(ReadError::BeforeValidity {
            path: path.into(),
            day,
            first,
        }),
        Found::Ended(ended) => Err(ReadError::Ended {
            path: path.into(),
            day,
            ended,
        }),
        Found::Empty => Err(ReadError::Empty(path.into())),
    }
}

impl Parameters {
    /// The entry at a dotted path.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        let mut parts = path.split('.');
        let mut entry = self.root.get(parts.next()?)?;
        for part in parts {
            match entry {
                Entry::Group(children) => entry = children.get(part)?,
                _ => return None,
            }
        }
        Some(entry)
    }

    /// Puts `entry` at a dotted path, in place of what was there (groups on the way
    /// are made as needed; a value or scale on the way is an error naming it).
    pub fn replace(&mut self, path: &str, entry: Entry) -> Result<(), String> {
        let parts: Vec<&str> = path.split('.').collect();
        let Some((last, ancestors)) = parts.split_last() else {
            return Err("a parameter path is not empty".into());
        };
        let mut children = &mut self.root;
        for (i, part) in ancestors.iter().enumerate() {
            let next = children
                .entry((*part).to_string())
                .or_insert_with(|| Entry::Group(BTreeMap::new()));
            match next {
                Entry::Group(grand) => children = grand,
                other => {
                    return Err(format!(
                        "{} is a {}, not a group",
                        parts[..=i].join("."),
                        kind_name(other)
                    ));
                }
            }
        }
        children.insert((*last).to_string(), entry);
        Ok(())
    }

    /// The value parameter at a path given as parts, found without building the path.
    fn value_entry(&self, parts: &[String]) -> Option<&Parameter> {
        let (first, rest) = parts.split_first()?;
        let mut entry = self.root.get(first)?;
        for part in rest {
            match entry {
                Entry::Group(children) => entry = children.get(part)?,
                _ => return None,
            }
        }
        match entry {
            Entry::Value(p) => Some(p),
            _ => None,
        }
    }

    /// A parameter's value on `day`, the day it has been in force since and its citation
    /// (the value's, else the parameter's), its path given as parts: what an explanation
    /// step shows, found without building a path; an error as [`Parameters::value`]
    /// names it.
    pub fn reading_at(
        &self,
        parts: &[String],
        day: Date,
    ) -> Result<(f64, Date, Option<&Arc<Citation>>), ReadError> {
        if let Some(p) = self.value_entry(parts)
            && let Found::Value(d, v) = p.series.at(day)
        {
            return Ok((v, d.from, d.citation.as_ref().or(p.citation.as_ref())));
        }
        Err(self
            .value(&parts.join("."), day)
            .err()
            .unwrap_or_else(|| ReadError::Unknown(parts.join("."))))
    }

    /// Just the number a parameter has on `day`, its path given as parts (what a
    /// formula's `p.a.b` reads, without building a path or a citation); an error as
    /// [`Parameters::value`] names it.
    pub fn number(&self, parts: &[String], day: Date) -> Result<f64, ReadError> {
        if let Some(p) = self.value_entry(parts)
            && let Found::Value(_, v) = p.series.at(day)
        {
            return Ok(v);
        }
        self.value(&parts.join("."), day).map(|r| r.value)
    }

    /// The value of a parameter on `day`.
    pub fn value(&self, path: &str, day: Date) -> Result<Reading, ReadError> {
        let parameter = match self.entry(path) {
            Some(Entry::Value(p)) => p,
            Some(other) => {
                return Err(ReadError::WrongKind {
                    path: path.into(),
                    found: kind_name(other),
                    wanted: "value",
                });
            }
            None => return Err(ReadError::Unknown(path.into())),
        };
        let (value, dated) = read_series(path, &parameter.series, day)?;
        Ok(Reading {
            path: path.into(),
            value,
            since: dated.from,
            citation: dated
                .citation
                .clone()
                .or_else(|| parameter.citation.clone()),
        })
    }

    /// A scale as in force on `day`: brackets with no threshold or value that day are
    /// left out (a scale before its first bracket is empty and computes 0).
    pub fn scale(&self, path: &str, day: Date) -> Result<ScaleAt, ReadError> {
        let scale = match self.entry(path) {
            Some(Entry::Scale(s)) => s,
            Some(other) => {
                return Err(ReadError::WrongKind {
                    path: path.into(),
                    found: kind_name(other),
                    wanted: "scale",
                });
            }
            None => return Err(ReadError::Unknown(path.into())),
        };
        let mut brackets: Vec<(f64, f64)> = Vec::new();
        for b in &scale.brackets {
            if let (Found::Value(_, t), Found::Value(_, v)) = (b.threshold.at(day), b.value.at(day))
            {
                match brackets.iter_mut().find(|(low, _)| *low == t) {
                    // Brackets written with the same threshold add up.
                    Some(existing) => existing.1 += v,
                    None => brackets.push((t, v)),
                }
            }
        }
        brackets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(ScaleAt {
            kind: scale.kind,
            brackets,
        })
    }

    /// Every parameter whose latest value was set or confirmed before `cutoff`, and that
    /// has not ended: someone should check it still holds.
    pub fn stale(&self, cutoff: Date) -> Vec<Stale> {
        let mut out = Vec::new();
        walk(&self.root, &mut |entry| {
            let (path, last, ended, confirmed, origin) = match entry {
                Entry::Value(p) => (
                    &p.path,
                    p.series.last_change(),
                    p.series.values.last().is_some_and(|d| d.value.is_none()),
                    p.confirmed_on,
                    &p.origin,
                ),
                Entry::Scale(s) => (
                    &s.path,
                    s.brackets
                        .iter()
                        .flat_map(|b| [b.threshold.last_change(), b.value.last_change()])
                        .flatten()
                        .max(),
                    false,
                    s.confirmed_on,
                    &s.origin,
                ),
                Entry::Group(_) => return,
            };
            let last = last.max(confirmed);
            if let Some(last) = last
                && !ended
                && last < cutoff
            {
                out.push(Stale {
                    path: path.clone(),
                    last,
                    origin: origin.clone(),
                });
            }
        });
        out
    }
}

fn kind_name(entry: &Entry) -> &'static str {
    match entry {
        Entry::Value(_) => "value",
        Entry::Scale(_) => "scale",
        Entry::Group(_) => "group",
    }
}

fn walk(children: &BTreeMap<String, Entry>, f: &mut impl FnMut(&Entry)) {
    for entry in children.values() {
        f(entry);
        if let Entry::Group(grand) = entry {
            walk(grand, f);
        }
    }
}

// ---- loading OpenFisca's parameter YAML ----

/// A problem in a parameter file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{origin}: {message}")]
pub struct LoadError {
    /// Where.
    pub origin: Origin,
    /// What is wrong.
    pub message: String,
}

struct Loader<'a> {
    file: &'a Path,
    errors: &'a mut Vec<LoadError>,
}

impl Loader<'_> {
    fn origin(&self, node: &Node) -> Origin {
        Origin {
            file: self.file.to_path_buf(),
            line: node.span().start().map_or(0, |m| m.line()),
        }
    }

    fn fail(&mut self, node: &Node, message: impl Into<String>) {
        let origin = self.origin(node);
        self.errors.push(LoadError {
            origin,
            message: message.into(),
        });
    }

    fn text(node: &Node) -> Option<String> {
        node.as_scalar().map(|s| s.as_str().to_string())
    }

    fn citation(node: Option<&Node>) -> Option<Arc<Citation>> {
        let node = node?;
        let first = match node {
            Node::Scalar(s) => Some(s.as_str().to_string()),
            Node::Sequence(list) => list.iter().find_map(Self::text),
            Node::Mapping(map) => map.iter().find_map(|(_, v)| match v {
                Node::Sequence(list) => list.iter().find_map(Self::text),
                other => Self::text(other),
            }),
        }?;
        let first = first.trim().to_string();
        if first.is_empty() {
            return None;
        }
        Some(Arc::new(
            if first.starts_with("http://") || first.starts_with("https://") {
                Citation {
                    url: Some(first.into()),
                    ..Citation::default()
                }
            } else {
                Citation {
                    document: Some(first.into()),
                    ..Citation::default()
                }
            },
        ))
    }

    fn date(&mut self, node: &Node, raw: &str) -> Option<Date> {
        let day = crate::period::parse_day(raw);
        if day.is_none() {
            self.fail(node, format!("'{raw}' is not a date (YYYY-MM-DD)"));
        }
        day
    }

    /// A mapping of dates to values (each a number, `null`, `expected`, or
    /// `{value, metadata: {reference}}`).
    fn series(&mut self, node: &Node) -> Series {
        let Some(map) = node.as_mapping() else {
            self.fail(node, "values are a mapping of dates (YYYY-MM-DD) to values");
            return Series::default();
        };
        let mut values = Vec::new();
        for (key, value) in map.iter() {
            let key_node = Node::Scalar(key.clone());
            let Some(from) = self.date(&key_node, key.as_str()) else {
                continue;
            };
            let (raw, citation) = match value {
                Node::Mapping(inner) => {
                    let raw = inner.get_node("value").and_then(Self::text);
                    let citation = inner
                        .get_mapping("metadata")
                        .and_then(|m| Self::citation(m.get_node("reference")));
                    (raw, citation)
                }
                other => (Self::text(other), None),
            };
            let Some(raw) = raw else {
                self.fail(value, "a value is a number, true/false, null or expected");
                continue;
            };
            let raw = raw.trim();
            let value_of = match raw {
                "expected" => continue,
                "null" | "~" | "" => None,
                "true" => Some(1.0),
                "false" => Some(0.0),
                number => match number.replace('_', "").parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(v),
                    _ => {
                        self.fail(value, format!("'{number}' is not a number"));
                        continue;
                    }
                },
            };
            values.push(Dated {
                from,
                value: value_of,
                citation,
                origin: self.origin(value),
            });
        }
        values.sort_by_key(|d| d.from);
        Series { values }
    }

    fn is_dates(map: &marked_yaml::types::MarkedMappingNode) -> bool {
        !map.is_empty()
            && map.iter().all(|(k, _)| {
                let k = k.as_str();
                k.len() == 10 && k.as_bytes()[4] == b'-' && k.as_bytes()[7] == b'-'
            })
    }

    /// Parses one node (a file's top or a child inside a file) at `path`.
    fn entry(&mut self, path: &str, node: &Node) -> Option<Entry> {
        let Some(map) = node.as_mapping() else {
            self.fail(node, format!("{path}: expected a mapping"));
            return None;
        };
        let metadata = map.get_mapping("metadata");
        let citation = metadata
            .and_then(|m| Self::citation(m.get_node("reference")))
            .or_else(|| Self::citation(map.get_node("reference")));
        let description = map.get_node("description").and_then(Self::text);
        let confirmed_on = metadata
            .and_then(|m| m.get_node("last_value_still_valid_on"))
            .and_then(|n| {
                let raw = Self::text(n)?;
                self.date(n, &raw)
            });
        if let Some(values) = map.get_node("values") {
            return Some(Entry::Value(Parameter {
                path: path.into(),
                description,
                unit: metadata
                    .and_then(|m| m.get_node("unit"))
                    .and_then(Self::text),
                citation,
                series: self.series(values),
                confirmed_on,
                origin: self.origin(node),
            }));
        }
        if let Some(brackets) = map.get_node("brackets") {
            let kind = match metadata
                .and_then(|m| m.get_node("type"))
                .and_then(Self::text)
                .as_deref()
            {
                Some("single_amount") => ScaleKind::SingleAmount,
                Some("marginal_amount") => ScaleKind::MarginalAmount,
                Some("marginal_rate") | None => ScaleKind::MarginalRate,
                Some(other) => {
                    self.fail(node, format!("{path}: unknown scale type '{other}'"));
                    ScaleKind::MarginalRate
                }
            };
            let Some(list) = brackets.as_sequence() else {
                self.fail(brackets, format!("{path}: brackets are a list"));
                return None;
            };
            let mut parsed = Vec::new();
            let mut kind = kind;
            for b in list.iter() {
                let Some(bm) = b.as_mapping() else {
                    self.fail(b, "a bracket is a mapping of threshold and rate or amount");
                    continue;
                };
                let Some(threshold) = bm.get_node("threshold") else {
                    self.fail(b, "a bracket needs a threshold");
                    continue;
                };
                let value = match (bm.get_node("rate"), bm.get_node("amount")) {
                    (Some(rate), None) => rate,
                    (None, Some(amount)) => {
                        if kind == ScaleKind::MarginalRate {
                            kind = ScaleKind::MarginalAmount;
                        }
                        amount
                    }
                    _ => {
                        self.fail(b, "a bracket has either a rate or an amount");
                        continue;
                    }
                };
                parsed.push(Bracket {
                    threshold: self.series(threshold),
                    value: self.series(value),
                });
            }
            return Some(Entry::Scale(Scale {
                path: path.into(),
                kind,
                description,
                citation,
                brackets: parsed,
                confirmed_on,
                origin: self.origin(node),
            }));
        }
        if Self::is_dates(map) {
            return Some(Entry::Value(Parameter {
                path: path.into(),
                description: None,
                unit: None,
                citation: None,
                series: self.series(node),
                confirmed_on: None,
                origin: self.origin(node),
            }));
        }
        let mut children = BTreeMap::new();
        for (key, child) in map.iter() {
            let name = key.as_str();
            if matches!(
                name,
                "description" | "metadata" | "documentation" | "reference"
            ) {
                continue;
            }
            let child_path = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            if let Some(entry) = self.entry(&child_path, child) {
                children.insert(name.to_string(), entry);
            }
        }
        Some(Entry::Group(children))
    }
}

/// Loads an OpenFisca parameter folder: every problem of every file is reported, each
/// with its file and line.
pub fn load_openfisca(dir: &Path) -> Result<Parameters, Vec<LoadError>> {
    let mut errors = Vec::new();
    let root = load_dir(dir, "", &mut errors);
    if errors.is_empty() {
        Ok(Parameters { root })
    } else {
        Err(errors)
    }
}

/// Reads one OpenFisca parameter node found inside another file (a reform's replacement
/// of a parameter, a test's inline `parameters:`) as the entry at `path` (`""`: the
/// whole tree).
pub fn load_node(file: &Path, path: &str, node: &Node) -> Result<Entry, Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut loader = Loader {
        file,
        errors: &mut errors,
    };
    match loader.entry(path, node) {
        Some(entry) if errors.is_empty() => Ok(entry),
        _ => Err(errors),
    }
}

fn load_dir(dir: &Path, prefix: &str, errors: &mut Vec<LoadError>) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(read) => read.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            errors.push(LoadError {
                origin: Origin {
                    file: dir.to_path_buf(),
                    line: 0,
                },
                message: format!("cannot read the folder: {e}"),
            });
            return out;
        }
    };
    entries.sort();
    for path in entries {
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let child_path = if prefix.is_empty() {
            stem.clone()
        } else {
            format!("{prefix}.{stem}")
        };
        if path.is_dir() {
            out.insert(stem, Entry::Group(load_dir(&path, &child_path, errors)));
            continue;
        }
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if !is_yaml || stem == "index" {
            continue;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(LoadError {
                    origin: Origin {
                        file: path.clone(),
                        line: 0,
                    },
                    message: format!("cannot read the file: {e}"),
                });
                continue;
            }
        };
        let node = match marked_yaml::parse_yaml(0, &text) {
            Ok(node) => node,
            Err(e) => {
                errors.push(LoadError {
                    origin: Origin {
                        file: path.clone(),
                        line: 0,
                    },
                    message: format!("not valid YAML: {e}"),
                });
                continue;
            }
        };
        let mut loader = Loader {
            file: &path,
            errors,
        };
        if let Some(entry) = loader.entry(&child_path, &node) {
            out.insert(stem, entry);
        }
    }
    out
}

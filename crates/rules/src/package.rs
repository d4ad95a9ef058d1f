//! A rules package: the entities (persons, households and their roles), the variables with
//! their formulas by date, and the parameters — read from a folder written by a policy
//! officer, and checked whole before anything is computed: every problem is reported with
//! its file and line (and, in a formula, its column).
//!
//! ```text
//! package.yaml            name, entities and roles
//! parameters/             OpenFisca parameter YAML (see `parameters`)
//! variables/**/*.yaml     variables: entity, period, type, default, citation, formulas
//! reforms/*.yaml          reforms: variables added, updated or neutralised, parameters replaced
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use marked_yaml::Node;
use time::Date;

use crate::formula::{self, Expr};
use crate::parameters::{Citation, LoadError, Origin, Parameters, load_openfisca};
use crate::period::Unit;
use crate::reform::Reform;

/// The kind of value a variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// Amounts, ages, rates.
    Number,
    /// Conditions (eligible or not).
    Bool,
    /// Enumeration values (`tenant`).
    Text,
    /// Days (`1980-02-15`).
    Date,
}

/// A kind of entity: persons, or a group of persons with roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// Singular key (`person`, `household`).
    pub key: String,
    /// Plural (`persons`, `households`).
    pub plural: String,
    /// Roles in a group: (role, plural), e.g. (`adult`, `adults`).
    pub roles: Vec<(String, String)>,
}

/// A formula as written, with its parsed tree.
#[derive(Clone, Debug)]
pub struct Written {
    /// The text (shared by every explanation step that quotes it).
    pub text: Arc<str>,
    /// The tree.
    pub expr: Expr,
}

/// One case of a formula: `when` it holds, `then` this value.
#[derive(Clone, Debug)]
pub struct Case {
    /// The condition.
    pub when: Written,
    /// The value.
    pub then: Written,
    /// The article it comes from.
    pub citation: Option<Arc<Citation>>,
    /// Where it is written.
    pub origin: Origin,
}

/// What a variable's formula is from one day on.
#[derive(Clone, Debug)]
pub enum Body {
    /// One formula.
    Formula(Written),
    /// Cases of which at most one may hold for each member (two holding at once is an
    /// error, as is none without `otherwise`).
    Cases {
        /// The cases.
        cases: Vec<Case>,
        /// The value when none holds.
        otherwise: Option<Written>,
    },
    /// From this day the variable is no longer computed (its default applies).
    End,
}

/// A formula in force from a day until the next one.
#[derive(Clone, Debug)]
pub struct Formula {
    /// First day in force.
    pub from: Date,
    /// What it computes.
    pub body: Body,
    /// Where it is written.
    pub origin: Origin,
}

/// A variable of an entity.
#[derive(Clone, Debug)]
pub struct Variable {
    /// Its name.
    pub name: Arc<str>,
    /// What it is, in words.
    pub label: Option<Arc<str>>,
    /// The entity it belongs to.
    pub entity: String,
    /// The period it is defined for.
    pub period: Unit,
    /// The kind of value.
    pub value_type: ValueType,
    /// The value when nothing is known or computed.
    pub default: DefaultValue,
    /// Its unit.
    pub unit: Option<String>,
    /// For a text variable, the values it may take (an enumeration), if listed.
    pub values: Vec<String>,
    /// The law it implements.
    pub citation: Option<Arc<Citation>>,
    /// Formulas by first day, earliest first (none: an input).
    pub formulas: Vec<Formula>,
    /// Neutralised by a reform: always its default, whatever is given or computed.
    pub neutralized: bool,
    /// Where a population run reads this input from (`source:`), if anywhere.
    pub source: Option<Source>,
    /// Where it is defined.
    pub origin: Origin,
}

/// Where a population run reads an input from, in the platform's registers (under the
/// statutory basis of the policy that runs it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `identity.birth_date`: the date of birth in the population register.
    BirthDate,
    /// `identity.sex`: `female` or `male`.
    Sex,
    /// `identity.region`: the code of the address region.
    Region,
    /// `identity.tag.CODE`: whether the person carries the resident tag.
    Tag(String),
    /// `exchange.RESOURCE.FIELD`: a field of a hosted resource about persons in the data
    /// exchange (a disability grade, an income), read under the running department's
    /// agreement; the variable's default where she has no record.
    Exchange {
        /// The resource's code.
        resource: String,
        /// The field.
        field: String,
    },
}

impl Source {
    /// Reads `identity.birth_date`, `identity.sex`, `identity.region`, `identity.tag.CODE`,
    /// `exchange.RESOURCE.FIELD`.
    pub fn parse(text: &str) -> Option<Source> {
        match text {
            "identity.birth_date" => Some(Source::BirthDate),
            "identity.sex" => Some(Source::Sex),
            "identity.region" => Some(Source::Region),
            other => {
                if let Some(code) = other.strip_prefix("identity.tag.") {
                    return (!code.is_empty()).then(|| Source::Tag(code.to_string()));
                }
                let (resource, field) = other.strip_prefix("exchange.")?.rsplit_once('.')?;
                (!resource.is_empty() && !field.is_empty()).then(|| Source::Exchange {
                    resource: resource.to_string(),
                    field: field.to_string(),
                })
            }
        }
    }

    /// `resource.field` of an exchange source.
    pub fn exchange_key(&self) -> Option<String> {
        match self {
            Source::Exchange { resource, field } => Some(format!("{resource}.{field}")),
            _ => None,
        }
    }

    /// The type a variable read from here has (an exchange field's is the resource's,
    /// checked when a run reads it).
    pub fn value_type(&self) -> Option<ValueType> {
        match self {
            Source::BirthDate => Some(ValueType::Date),
            Source::Sex | Source::Region => Some(ValueType::Text),
            Source::Tag(_) => Some(ValueType::Bool),
            Source::Exchange { .. } => None,
        }
    }
}

/// A default value.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// A number.
    Number(f64),
    /// A condition.
    Bool(bool),
    /// A text.
    Text(String),
    /// A day.
    Date(Date),
}

impl Variable {
    /// The formula in force on `day`, if any.
    pub fn formula_on(&self, day: Date) -> Option<&Formula> {
        self.formulas.iter().rev().find(|f| f.from <= day)
    }
}

/// A rules package.
#[derive(Clone, Debug, Default)]
pub struct Package {
    /// Its name.
    pub name: String,
    /// Entities by key.
    pub entities: BTreeMap<String, Entity>,
    /// Variables by name.
    pub variables: BTreeMap<String, Variable>,
    /// Parameters.
    pub parameters: Parameters,
    /// Reforms that may be applied to it, by name.
    pub reforms: BTreeMap<String, Reform>,
    /// SHA-256 of every file it was read from (names and contents): the version a
    /// decision was made with.
    pub digest: String,
}

impl Package {
    /// The variables computing `variable` may read, itself included (every variable a
    /// formula names, in any of its versions, and theirs in turn): a run reads from the
    /// registers only the sources among them.
    pub fn needs(&self, variable: &str) -> std::collections::BTreeSet<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![variable.to_string()];
        while let Some(name) = todo.pop() {
            let Some(v) = self.variables.get(&name) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            let mut found = Vec::new();
            let mut visit = |w: &Written| {
                w.expr.each(&mut |e| {
                    if let Expr::Reference { path, .. } = e {
                        found.extend(path.iter().cloned());
                    }
                });
            };
            for f in &v.formulas {
                match &f.body {
                    Body::Formula(w) => visit(w),
                    Body::Cases { cases, otherwise } => {
                        for c in cases {
                            visit(&c.when);
                            visit(&c.then);
                        }
                        if let Some(w) = otherwise {
                            visit(w);
                        }
                    }
                    Body::End => {}
                }
            }
            todo.extend(
                found
                    .into_iter()
                    .filter(|part| self.variables.contains_key(part) && !seen.contains(part)),
            );
        }
        seen
    }
}

/// Function names of the formula language (not variables).
const FUNCTIONS: &[&str] = &[
    "max",
    "min",
    "abs",
    "floor",
    "ceil",
    "round",
    "calc",
    "total",
    "per_month",
    "years_since",
    "months_since",
];

pub(crate) struct Reader<'a> {
    pub(crate) file: PathBuf,
    pub(crate) errors: &'a mut Vec<LoadError>,
}

impl Reader<'_> {
    pub(crate) fn origin(&self, node: &Node) -> Origin {
        Origin {
            file: self.file.clone(),
            line: node.span().start().map_or(0, |m| m.line()),
        }
    }

    pub(crate) fn fail(&mut self, node: &Node, message: impl Into<String>) {
        let origin = self.origin(node);
        self.errors.push(LoadError {
            origin,
            message: message.into(),
        });
    }

    pub(crate) fn text(node: Option<&Node>) -> Option<String> {
        node.and_then(Node::as_scalar)
            .map(|s| s.as_str().trim().to_string())
    }

    pub(crate) fn citation(node: Option<&Node>) -> Option<Arc<Citation>> {
        let map = node?.as_mapping()?;
        let field = |k: &str| {
            Self::text(map.get_node(k))
                .filter(|s| !s.is_empty())
                .map(Into::into)
        };
        Some(Arc::new(Citation {
            document: field("document"),
            article: field("article"),
            url: field("url"),
            version: field("version"),
        }))
    }

    fn formula(&mut self, node: &Node, what: &str) -> Option<Written> {
        let Some(text) = Self::text(Some(node)) else {
            self.fail(node, format!("{what} is a formula, written as text"));
            return None;
        };
        match formula::parse(&text) {
            Ok(expr) => Some(Written {
                text: text.into(),
                expr,
            }),
            Err(e) => {
                self.fail(node, format!("{what}: {e} in `{text}`"));
                None
            }
        }
    }

    fn body(&mut self, name: &str, node: &Node) -> Option<Body> {
        if let Some(scalar) = node.as_scalar()
            && matches!(scalar.as_str().trim(), "null" | "~" | "end")
        {
            return Some(Body::End);
        }
        let Some(map) = node.as_mapping() else {
            return self.formula(node, name).map(Body::Formula);
        };
        let Some(list) = map.get_node("cases").and_then(Node::as_sequence) else {
            self.fail(
                node,
                format!(
                    "{name}: a formula is a text, `null`, or `cases:` with an optional `otherwise:`"
                ),
            );
            return None;
        };
        let mut cases = Vec::new();
        for case in list.iter() {
            let Some(c) = case.as_mapping() else {
                self.fail(case, "a case has `when:` and `then:`");
                continue;
            };
            let (Some(when), Some(then)) = (c.get_node("when"), c.get_node("then")) else {
                self.fail(case, "a case has `when:` and `then:`");
                continue;
            };
            let when = self.formula(when, "when");
            let then = self.formula(then, "then");
            if let (Some(when), Some(then)) = (when, then) {
                cases.push(Case {
                    when,
                    then,
                    citation: Self::citation(c.get_node("citation")),
                    origin: self.origin(case),
                });
            }
        }
        let otherwise = match map.get_node("otherwise") {
            Some(o) => Some(self.formula(o, "otherwise")?),
            None => None,
        };
        Some(Body::Cases { cases, otherwise })
    }

    /// A variable's `formula:` (in force always) or dated `formulas:`, earliest first.
    pub(crate) fn formulas(
        &mut self,
        name: &str,
        node: &Node,
        map: &marked_yaml::types::MarkedMappingNode,
    ) -> Vec<Formula> {
        let mut formulas = Vec::new();
        if let Some(f) = map.get_node("formula")
            && let Some(body) = self.body(name, f)
        {
            formulas.push(Formula {
                from: Date::MIN,
                body,
                origin: self.origin(f),
            });
        }
        if let Some(dated) = map.get_node("formulas") {
            match dated.as_mapping() {
                Some(m) => {
                    for (day, f) in m.iter() {
                        let Some(from) = crate::period::parse_day(day.as_str()) else {
                            self.fail(
                                f,
                                format!("{name}: '{}' is not a date (YYYY-MM-DD)", day.as_str()),
                            );
                            continue;
                        };
                        if let Some(body) = self.body(name, f) {
                            formulas.push(Formula {
                                from,
                                body,
                                origin: self.origin(f),
                            });
                        }
                    }
                }
                None => self.fail(
                    dated,
                    format!("{name}: `formulas:` maps first days to formulas"),
                ),
            }
        }
        if map.get_node("formula").is_some() && map.get_node("formulas").is_some() {
            self.fail(
                node,
                format!("{name}: write `formula:` or dated `formulas:`, not both"),
            );
        }
        formulas.sort_by_key(|f| f.from);
        formulas
    }

    pub(crate) fn variable(&mut self, name: &str, node: &Node) -> Option<Variable> {
        let Some(map) = node.as_mapping() else {
            self.fail(
                node,
                format!("{name}: a variable is a mapping (entity, period, type, formulas)"),
            );
            return None;
        };
        for (key, value) in map.iter() {
            if !matches!(
                key.as_str(),
                "label"
                    | "entity"
                    | "period"
                    | "type"
                    | "default"
                    | "unit"
                    | "values"
                    | "citation"
                    | "formula"
                    | "formulas"
                    | "source"
            ) {
                self.fail(value, format!("{name}: unknown key `{}`", key.as_str()));
            }
        }
        let entity = Self::text(map.get_node("entity")).unwrap_or_default();
        let period = match Self::text(map.get_node("period"))
            .as_deref()
            .and_then(Unit::parse)
        {
            Some(unit) => unit,
            None => {
                let at = map.get_node("period").unwrap_or(node);
                self.fail(
                    at,
                    format!("{name}: `period:` is day, week, month, year or eternity"),
                );
                Unit::Month
            }
        };
        let value_type = match Self::text(map.get_node("type")).as_deref() {
            Some("number") | None => ValueType::Number,
            Some("bool") => ValueType::Bool,
            Some("text") => ValueType::Text,
            Some("date") => ValueType::Date,
            Some(other) => {
                self.fail(
                    node,
                    format!("{name}: `type: {other}` — a type is number, bool or text"),
                );
                ValueType::Number
            }
        };
        let default = match (value_type, map.get_node("default")) {
            (ValueType::Number, None) => DefaultValue::Number(0.0),
            (ValueType::Bool, None) => DefaultValue::Bool(false),
            (ValueType::Text, None) => DefaultValue::Text(String::new()),
            // As OpenFisca: an unknown date is the first day of 1970.
            (ValueType::Date, None) => DefaultValue::Date(time::macros::date!(1970 - 01 - 01)),
            (kind, Some(d)) => {
                let raw = Self::text(Some(d)).unwrap_or_default();
                match kind {
                    ValueType::Number => match raw.parse::<f64>() {
                        Ok(v) => DefaultValue::Number(v),
                        Err(_) => {
                            self.fail(d, format!("{name}: the default '{raw}' is not a number"));
                            DefaultValue::Number(0.0)
                        }
                    },
                    ValueType::Bool => match raw.as_str() {
                        "true" => DefaultValue::Bool(true),
                        "false" => DefaultValue::Bool(false),
                        _ => {
                            self.fail(
                                d,
                                format!("{name}: the default '{raw}' is not true or false"),
                            );
                            DefaultValue::Bool(false)
                        }
                    },
                    ValueType::Text => DefaultValue::Text(raw),
                    ValueType::Date => match crate::period::parse_day(&raw) {
                        Some(d) => DefaultValue::Date(d),
                        None => {
                            self.fail(
                                d,
                                format!("{name}: the default '{raw}' is not a date (YYYY-MM-DD)"),
                            );
                            DefaultValue::Date(time::macros::date!(1970 - 01 - 01))
                        }
                    },
                }
            }
        };
        let values: Vec<String> = match map.get_node("values") {
            None => Vec::new(),
            Some(list) => match list.as_sequence() {
                Some(items) if value_type == ValueType::Text => {
                    items.iter().filter_map(|i| Self::text(Some(i))).collect()
                }
                _ => {
                    self.fail(
                        list,
                        format!("{name}: `values:` lists the texts a text variable may take"),
                    );
                    Vec::new()
                }
            },
        };
        if let DefaultValue::Text(d) = &default
            && !values.is_empty()
            && !values.contains(d)
        {
            let at = map.get_node("default").unwrap_or(node);
            self.fail(
                at,
                format!(
                    "{name}: the default '{d}' is not one of its values ({})",
                    values.join(", ")
                ),
            );
        }
        let formulas = self.formulas(name, node, map);
        let source = match map.get_node("source") {
            None => None,
            Some(at) => {
                let text = Self::text(Some(at)).unwrap_or_default();
                match Source::parse(&text) {
                    Some(source) if source.value_type().is_some_and(|t| t != value_type) => {
                        self.fail(
                            at,
                            format!(
                                "{name}: `source: {text}` gives {}, not the variable's type",
                                match source.value_type() {
                                    Some(ValueType::Date) => "a date",
                                    Some(ValueType::Text) => "a text",
                                    Some(ValueType::Bool) => "true or false",
                                    _ => "a number",
                                }
                            ),
                        );
                        None
                    }
                    Some(source) => Some(source),
                    None => {
                        self.fail(
                            at,
                            format!(
                                "{name}: `source: {text}` — a source is identity.birth_date, identity.sex, identity.region, identity.tag.CODE or exchange.RESOURCE.FIELD"
                            ),
                        );
                        None
                    }
                }
            }
        };
        Some(Variable {
            name: name.into(),
            label: Self::text(map.get_node("label")).map(Into::into),
            entity,
            period,
            value_type,
            default,
            unit: Self::text(map.get_node("unit")),
            values,
            citation: Self::citation(map.get_node("citation")),
            formulas,
            neutralized: false,
            source,
            origin: self.origin(node),
        })
    }
}

pub(crate) fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

pub(crate) fn parse_file(path: &Path, errors: &mut Vec<LoadError>) -> Option<Node> {
    let fail = |errors: &mut Vec<LoadError>, message: String| {
        errors.push(LoadError {
            origin: Origin {
                file: path.to_path_buf(),
                line: 0,
            },
            message,
        });
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            fail(errors, format!("cannot read the file: {e}"));
            return None;
        }
    };
    match marked_yaml::parse_yaml(0, &text) {
        Ok(node) => Some(node),
        Err(e) => {
            fail(errors, format!("not valid YAML: {e}"));
            None
        }
    }
}

/// A package's files as text, by their path below the package folder (`/`-separated);
/// its parameters are under `parameters/` wherever they were read from. This is what the
/// store keeps of each version and what the digest is taken over.
pub type PackageFiles = BTreeMap<String, String>;

/// Reads a package's files: everything under `dir` (its own `parameters/` replaced by
/// `parameters` when given), hidden files left out; a file that is not UTF-8 text is an
/// error naming it.
pub fn package_files(dir: &Path, parameters: Option<&Path>) -> Result<PackageFiles, LoadError> {
    fn walk(
        root: &Path,
        dir: &Path,
        prefix: &str,
        skip: Option<&Path>,
        out: &mut PackageFiles,
    ) -> Result<(), LoadError> {
        let Ok(read) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in read.filter_map(Result::ok) {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') || Some(path.as_path()) == skip
            {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, prefix, skip, out)?;
                continue;
            }
            let below = path.strip_prefix(root).unwrap_or(&path);
            let name: Vec<String> = below
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let text = std::fs::read(&path)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| LoadError {
                    origin: Origin {
                        file: path.clone(),
                        line: 1,
                    },
                    message: "not readable as UTF-8 text".into(),
                })?;
            out.insert(format!("{prefix}{}", name.join("/")), text);
        }
        Ok(())
    }
    let mut files = PackageFiles::new();
    match parameters {
        Some(params) => {
            let own = dir.join("parameters");
            walk(dir, dir, "", Some(&own), &mut files)?;
            walk(params, params, "parameters/", None, &mut files)?;
        }
        None => walk(dir, dir, "", None, &mut files)?,
    }
    Ok(files)
}

/// SHA-256 over a package's files (each path, then its text), in path order: the same
/// files give the same digest wherever they are read from.
pub fn files_digest(files: &PackageFiles) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (name, text) in files {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(text.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
}

/// Whether `path` may name a file of a package: relative, `/`-separated, no `..`, no
/// hidden parts.
pub fn is_package_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 300
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains(':'))
}

/// Loads a package from its files, written first under `folder/{digest}` (content
/// addressed, so one version is written once and its places in errors and explanations
/// stay readable); errors name files by their path in the package.
pub fn load_package_files(
    files: &PackageFiles,
    folder: &Path,
) -> Result<(Package, PathBuf), Vec<LoadError>> {
    let io = |e: std::io::Error| {
        vec![LoadError {
            origin: Origin {
                file: folder.to_path_buf(),
                line: 1,
            },
            message: format!("cannot write the package out: {e}"),
        }]
    };
    if let Some(bad) = files.keys().find(|p| !is_package_path(p)) {
        return Err(vec![LoadError {
            origin: Origin {
                file: PathBuf::from(bad),
                line: 1,
            },
            message: "not a file path inside a package (relative, no `..` or hidden parts)".into(),
        }]);
    }
    let digest = files_digest(files);
    let dir = folder.join(&digest);
    if !dir.join("package.yaml").is_file() {
        std::fs::create_dir_all(folder).map_err(io)?;
        let staging = tempfile::tempdir_in(folder).map_err(io)?;
        for (name, text) in files {
            let path = staging.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&path, text).map_err(io)?;
        }
        let staged = staging.keep();
        if std::fs::rename(&staged, &dir).is_err() {
            // Another loader wrote the same version first: its copy is the same files.
            let _ = std::fs::remove_dir_all(&staged);
        }
    }
    let package = load_package(&dir).map_err(|errors| {
        errors
            .into_iter()
            .map(|mut e| {
                if let Ok(inside) = e.origin.file.strip_prefix(&dir) {
                    e.origin.file = inside.to_path_buf();
                }
                e
            })
            .collect::<Vec<_>>()
    })?;
    Ok((package, dir))
}

/// Loads and checks a rules package folder.
pub fn load_package(dir: &Path) -> Result<Package, Vec<LoadError>> {
    load_package_with(dir, None)
}

/// Loads and checks a rules package whose parameters live elsewhere (a port whose
/// parameters are read from the original's installed files, say); `None` reads the
/// package's own `parameters/`.
pub fn load_package_with(dir: &Path, parameters: Option<&Path>) -> Result<Package, Vec<LoadError>> {
    let mut errors = Vec::new();
    let mut package = Package::default();
    let manifest = dir.join("package.yaml");
    if let Some(node) = parse_file(&manifest, &mut errors) {
        let mut reader = Reader {
            file: manifest.clone(),
            errors: &mut errors,
        };
        let map = node.as_mapping();
        package.name = Reader::text(map.and_then(|m| m.get_node("name"))).unwrap_or_default();
        match map.and_then(|m| m.get_mapping("entities")) {
            Some(entities) => {
                for (key, e) in entities.iter() {
                    let em = e.as_mapping();
                    let plural = Reader::text(em.and_then(|m| m.get_node("plural")))
                        .unwrap_or_else(|| format!("{}s", key.as_str()));
                    let roles = em
                        .and_then(|m| m.get_mapping("roles"))
                        .map(|roles| {
                            roles
                                .iter()
                                .map(|(role, plural)| {
                                    let plural = Reader::text(Some(plural))
                                        .unwrap_or_else(|| format!("{}s", role.as_str()));
                                    (role.as_str().to_string(), plural)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    package.entities.insert(
                        key.as_str().to_string(),
                        Entity {
                            key: key.as_str().to_string(),
                            plural,
                            roles,
                        },
                    );
                }
            }
            None => reader.fail(
                &node,
                "package.yaml names its `entities:` (person, household…)",
            ),
        }
    }
    let parameters_dir = parameters.map_or_else(|| dir.join("parameters"), Path::to_path_buf);
    if parameters_dir.is_dir() {
        match load_openfisca(&parameters_dir) {
            Ok(p) => package.parameters = p,
            Err(mut e) => errors.append(&mut e),
        }
    }
    let mut files = Vec::new();
    yaml_files(&dir.join("variables"), &mut files);
    for file in files {
        let Some(node) = parse_file(&file, &mut errors) else {
            continue;
        };
        let mut reader = Reader {
            file: file.clone(),
            errors: &mut errors,
        };
        let Some(map) = node.as_mapping() else {
            reader.fail(&node, "a variables file maps names to variables");
            continue;
        };
        for (name, v) in map.iter() {
            let name = name.as_str().to_string();
            if let Some(variable) = reader.variable(&name, v) {
                match package.variables.entry(name) {
                    std::collections::btree_map::Entry::Occupied(e) => {
                        reader.fail(v, format!("{} is defined twice", e.key()));
                    }
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(variable);
                    }
                }
            }
        }
    }
    match package_files(dir, parameters) {
        Ok(files) => package.digest = files_digest(&files),
        Err(e) => errors.push(e),
    }
    check(&package, &mut errors);
    if errors.is_empty() {
        crate::reform::load_reforms(&dir.join("reforms"), &mut package, &mut errors);
    }
    if errors.is_empty() {
        Ok(package)
    } else {
        Err(errors)
    }
}

/// Checks what the variables refer to: entities, other variables, parameters, functions.
pub(crate) fn check(package: &Package, errors: &mut Vec<LoadError>) {
    let group_words: Vec<String> = package
        .entities
        .values()
        .flat_map(|e| {
            std::iter::once(e.key.clone())
                .chain(e.roles.iter().map(|(_, plural)| plural.clone()))
                .chain(std::iter::once("members".to_string()))
        })
        .collect();
    for v in package.variables.values() {
        if !package.entities.contains_key(&v.entity) {
            errors.push(LoadError {
                origin: v.origin.clone(),
                message: format!(
                    "{}: `entity: {}` is not one of the package's entities ({})",
                    v.name,
                    v.entity,
                    package
                        .entities
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        for f in &v.formulas {
            let mut written: Vec<&Written> = Vec::new();
            match &f.body {
                Body::Formula(w) => written.push(w),
                Body::Cases { cases, otherwise } => {
                    for c in cases {
                        written.push(&c.when);
                        written.push(&c.then);
                    }
                    written.extend(otherwise.iter());
                }
                Body::End => {}
            }
            for w in written {
                let column = |span: formula::Span| w.text[..span.start].chars().count() + 1;
                let mut refs = Vec::new();
                let mut used = Vec::new();
                let mut texts = Vec::new();
                w.expr.each(&mut |e| match e {
                    Expr::Reference { path, span, .. } => refs.push((path, *span)),
                    Expr::Call { name, span, .. } => used.push((name, *span)),
                    Expr::Binary {
                        op: formula::BinaryOp::Eq | formula::BinaryOp::Ne,
                        left,
                        right,
                        ..
                    } => {
                        // `variable == 'text'`, either way round.
                        if let (Expr::Reference { path, .. }, Expr::Text(t, span))
                        | (Expr::Text(t, span), Expr::Reference { path, .. }) =
                            (left.as_ref(), right.as_ref())
                            && let Some(last) = path.last()
                        {
                            texts.push((last, t, *span));
                        }
                    }
                    _ => {}
                });
                for (path, span) in refs {
                    let problem = if path[0] == "p" {
                        (package.parameters.entry(&path[1..].join(".")).is_none())
                            .then(|| format!("there is no parameter {}", path[1..].join(".")))
                    } else if path.len() == 1 {
                        (!package.variables.contains_key(&path[0])
                            && !group_words.contains(&path[0]))
                        .then(|| format!("there is no variable {}", path[0]))
                    } else {
                        (!group_words.contains(&path[0]))
                            .then(|| format!("`{}` is not an entity or a role", path[0]))
                    };
                    if let Some(problem) = problem {
                        errors.push(LoadError {
                            origin: f.origin.clone(),
                            message: format!(
                                "{}: column {}: {problem} in `{}`",
                                v.name,
                                column(span),
                                w.text
                            ),
                        });
                    }
                }
                for (var, value, span) in texts {
                    if let Some(known) = package.variables.get(var)
                        && !known.values.is_empty()
                        && !known.values.contains(value)
                    {
                        errors.push(LoadError {
                            origin: f.origin.clone(),
                            message: format!(
                                "{}: column {}: '{value}' is not a value of {var} ({}) in `{}`",
                                v.name,
                                column(span),
                                known.values.join(", "),
                                w.text
                            ),
                        });
                    }
                }
                for (name, span) in used {
                    if !FUNCTIONS.contains(&name.as_str())
                        && !matches!(name.as_str(), "sum" | "any" | "all" | "count")
                    {
                        errors.push(LoadError {
                            origin: f.origin.clone(),
                            message: format!(
                                "{}: column {}: there is no function {name} in `{}`",
                                v.name,
                                column(span),
                                w.text
                            ),
                        });
                    }
                }
            }
        }
    }
}

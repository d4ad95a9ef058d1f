//! Reforms: a named set of changes to a package — variables added, formulas updated,
//! variables neutralised, parameters replaced — to compute "what if" beside the law in
//! force, as OpenFisca's reforms do. A reform is a file in the package's `reforms/`:
//!
//! ```yaml
//! reform: add_new_tax                     # its name (default: the file's name)
//! label: A tax on car owners
//! openfisca: openfisca_country_template.reforms.add_new_tax.add_new_tax
//! citation: { document: Bill 12, url: https://law.gov.example/new_tax }
//! parameters:                             # replaced whole, in OpenFisca's parameter YAML
//!   taxes.new_tax_rate: { values: { 2017-01-01: { value: 0.1 } } }
//! add:                                    # new variables, as in variables/
//!   has_car: { entity: person, period: month, type: bool, default: true }
//! update:                                 # new formulas (label, unit, citation) for existing ones
//!   income_tax: { formula: salary * 0.2 }
//! neutralize: [basic_income]              # always their default
//! ```
//!
//! `openfisca:` is the Python path an OpenFisca YAML test names the reform by; the tests
//! run against the reformed package. A reform is checked whole when its package loads, as
//! if applied, so a broken reform never waits to be found by whoever applies it first.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use marked_yaml::Node;

use crate::package::{Package, Reader, Variable, check, parse_file, yaml_files};
use crate::parameters::{Citation, Entry, LoadError, Origin, load_node};

/// One change a reform makes.
#[derive(Clone, Debug)]
pub enum Change {
    /// A parameter (or group) replaced whole.
    Parameter {
        /// Its dotted path.
        path: String,
        /// What it becomes.
        entry: Entry,
        /// Where the change is written.
        origin: Origin,
    },
    /// A new variable.
    Add(Variable),
    /// New formulas (and, if given, label, unit and citation) for an existing variable.
    Update {
        /// The variable.
        name: String,
        /// Its new label.
        label: Option<String>,
        /// Its new unit.
        unit: Option<String>,
        /// Its new citation.
        citation: Option<Arc<Citation>>,
        /// Its formulas by date, replacing all of the reference's.
        formulas: Vec<crate::package::Formula>,
        /// Where the change is written.
        origin: Origin,
    },
    /// A variable that always keeps its default value.
    Neutralize {
        /// The variable.
        name: String,
        /// Where the change is written.
        origin: Origin,
    },
}

/// A reform of a package.
#[derive(Clone, Debug)]
pub struct Reform {
    /// Its name.
    pub name: String,
    /// What it does, in words.
    pub label: Option<String>,
    /// The Python path of the OpenFisca reform it ports, if any.
    pub openfisca: Option<String>,
    /// The bill or decision it implements.
    pub citation: Option<Arc<Citation>>,
    /// Its changes, applied in this order: parameters, additions, updates, neutralisations.
    pub changes: Vec<Change>,
    /// Where it is written.
    pub origin: Origin,
}

impl Package {
    /// The reform a name or an OpenFisca Python path designates.
    pub fn reform(&self, name: &str) -> Option<&Reform> {
        self.reforms.get(name).or_else(|| {
            self.reforms
                .values()
                .find(|r| r.openfisca.as_deref() == Some(name))
        })
    }

    /// This package with reforms applied one after the other (each by name or Python
    /// path), checked whole as a package is.
    pub fn reformed(&self, names: &[&str]) -> Result<Package, Vec<LoadError>> {
        let mut package = self.clone();
        let mut errors = Vec::new();
        for name in names {
            let Some(reform) = self.reform(name) else {
                let known: Vec<&str> = self.reforms.keys().map(String::as_str).collect();
                return Err(vec![LoadError {
                    origin: Origin::default(),
                    message: format!(
                        "{} has no reform {name} (it has: {})",
                        self.name,
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                }]);
            };
            apply(&mut package, reform, &mut errors);
        }
        check(&package, &mut errors);
        if errors.is_empty() {
            Ok(package)
        } else {
            Err(errors)
        }
    }
}

fn apply(package: &mut Package, reform: &Reform, errors: &mut Vec<LoadError>) {
    let mut fail = |origin: &Origin, message: String| {
        errors.push(LoadError {
            origin: origin.clone(),
            message: format!("reform {}: {message}", reform.name),
        });
    };
    for change in &reform.changes {
        match change {
            Change::Parameter {
                path,
                entry,
                origin,
            } => {
                if let Err(e) = package.parameters.replace(path, entry.clone()) {
                    fail(origin, e);
                }
            }
            Change::Add(variable) => {
                if package.variables.contains_key(&*variable.name) {
                    fail(
                        &variable.origin,
                        format!(
                            "{} exists already: a reform changes it under `update:`",
                            variable.name
                        ),
                    );
                } else {
                    package
                        .variables
                        .insert(variable.name.to_string(), variable.clone());
                }
            }
            Change::Update {
                name,
                label,
                unit,
                citation,
                formulas,
                origin,
            } => match package.variables.get_mut(name) {
                Some(v) => {
                    v.formulas = formulas.clone();
                    if label.is_some() {
                        v.label = label.as_deref().map(Into::into);
                    }
                    if unit.is_some() {
                        v.unit = unit.clone();
                    }
                    if citation.is_some() {
                        v.citation = citation.clone();
                    }
                }
                None => fail(
                    origin,
                    format!("there is no variable {name} to update (add it under `add:`)"),
                ),
            },
            Change::Neutralize { name, origin } => match package.variables.get_mut(name) {
                Some(v) => v.neutralized = true,
                None => fail(origin, format!("there is no variable {name} to neutralize")),
            },
        }
    }
}

impl Reader<'_> {
    fn reform(&mut self, stem: &str, node: &Node) -> Option<Reform> {
        let Some(map) = node.as_mapping() else {
            self.fail(
                node,
                "a reform is a mapping (reform, label, parameters, add, update, neutralize)",
            );
            return None;
        };
        for (key, value) in map.iter() {
            if !matches!(
                key.as_str(),
                "reform"
                    | "label"
                    | "openfisca"
                    | "citation"
                    | "parameters"
                    | "add"
                    | "update"
                    | "neutralize"
            ) {
                self.fail(value, format!("unknown key `{}` in a reform", key.as_str()));
            }
        }
        let name = Self::text(map.get_node("reform")).unwrap_or_else(|| stem.to_string());
        let mut changes = Vec::new();
        if let Some(parameters) = map.get_node("parameters") {
            match parameters.as_mapping() {
                Some(m) => {
                    for (path, value) in m.iter() {
                        match load_node(&self.file, path.as_str(), value) {
                            Ok(entry) => changes.push(Change::Parameter {
                                path: path.as_str().to_string(),
                                entry,
                                origin: self.origin(value),
                            }),
                            Err(mut e) => self.errors.append(&mut e),
                        }
                    }
                }
                None => self.fail(
                    parameters,
                    "`parameters:` maps dotted paths to their replacements",
                ),
            }
        }
        if let Some(add) = map.get_node("add") {
            match add.as_mapping() {
                Some(m) => {
                    for (name, value) in m.iter() {
                        if let Some(v) = self.variable(name.as_str(), value) {
                            changes.push(Change::Add(v));
                        }
                    }
                }
                None => self.fail(add, "`add:` maps names to variables"),
            }
        }
        if let Some(update) = map.get_node("update") {
            match update.as_mapping() {
                Some(m) => {
                    for (name, value) in m.iter() {
                        if let Some(change) = self.update(name.as_str(), value) {
                            changes.push(change);
                        }
                    }
                }
                None => self.fail(update, "`update:` maps names to their new formulas"),
            }
        }
        if let Some(list) = map.get_node("neutralize") {
            match list.as_sequence() {
                Some(items) => {
                    for item in items.iter() {
                        match Self::text(Some(item)) {
                            Some(name) => changes.push(Change::Neutralize {
                                name,
                                origin: self.origin(item),
                            }),
                            None => self.fail(item, "`neutralize:` lists variable names"),
                        }
                    }
                }
                None => self.fail(list, "`neutralize:` lists variable names"),
            }
        }
        Some(Reform {
            name,
            label: Self::text(map.get_node("label")),
            openfisca: Self::text(map.get_node("openfisca")),
            citation: Self::citation(map.get_node("citation")),
            changes,
            origin: self.origin(node),
        })
    }

    fn update(&mut self, name: &str, node: &Node) -> Option<Change> {
        let Some(map) = node.as_mapping() else {
            self.fail(
                node,
                format!("{name}: an update gives `formula:` or `formulas:`"),
            );
            return None;
        };
        for (key, value) in map.iter() {
            if !matches!(
                key.as_str(),
                "label" | "unit" | "citation" | "formula" | "formulas"
            ) {
                self.fail(
                    value,
                    format!(
                        "{name}: an update changes label, unit, citation and formulas, not `{}`",
                        key.as_str()
                    ),
                );
            }
        }
        if map.get_node("formula").is_none() && map.get_node("formulas").is_none() {
            self.fail(
                node,
                format!("{name}: an update gives `formula:` or `formulas:`"),
            );
        }
        Some(Change::Update {
            name: name.to_string(),
            label: Self::text(map.get_node("label")),
            unit: Self::text(map.get_node("unit")),
            citation: Self::citation(map.get_node("citation")),
            formulas: self.formulas(name, node, map),
            origin: self.origin(node),
        })
    }
}

/// Reads the reforms of a package's `reforms/` folder into it, each checked as if applied.
pub(crate) fn load_reforms(dir: &Path, package: &mut Package, errors: &mut Vec<LoadError>) {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let mut reforms: BTreeMap<String, Reform> = BTreeMap::new();
    for file in files {
        let Some(node) = parse_file(&file, errors) else {
            continue;
        };
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let mut reader = Reader {
            file: file.clone(),
            errors,
        };
        if let Some(reform) = reader.reform(&stem, &node) {
            if reforms.contains_key(&reform.name) {
                reader.fail(&node, format!("reform {} is defined twice", reform.name));
            } else {
                reforms.insert(reform.name.clone(), reform);
            }
        }
    }
    package.reforms = reforms;
    let names: Vec<String> = package.reforms.keys().cloned().collect();
    for name in names {
        if let Err(mut e) = package.reformed(&[&name]) {
            errors.append(&mut e);
        }
    }
}

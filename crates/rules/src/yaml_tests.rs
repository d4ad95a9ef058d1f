//! Running OpenFisca's YAML tests against a package: each test's situation (variables
//! only — one person in one household each — or persons with a household and roles) is
//! built as a simulation, its inputs set by period, and its outputs compared as OpenFisca
//! compares them (as 32-bit floats, within the test's absolute and relative margins).
//! Expected values may be arithmetic (`600 - 200 / 12`), read with the formula language.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use marked_yaml::Node;

use crate::eval::{Column, EvalError, Resolver, evaluate};
use crate::package::{Package, ValueType};
use crate::parameters::Parameters;
use crate::period::Period;
use crate::simulation::Simulation;
use crate::situation::{Inputs, Value, set_inputs};

/// What one test gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The file.
    pub file: PathBuf,
    /// The test's name.
    pub name: String,
    /// `None` when it passed; else what failed.
    pub failure: Option<String>,
    /// Why it was not run (a reform not ported yet), if so.
    pub skipped: Option<String>,
}

fn text(node: &Node) -> Option<String> {
    node.as_scalar().map(|s| s.as_str().trim().to_string())
}

/// A constant expected value (`600`, `600 - 200 / 12`).
struct Constant(Parameters);

impl Resolver for Constant {
    fn members(&self) -> usize {
        1
    }
    fn variable(&mut self, name: &str, _: Period) -> Result<Column, EvalError> {
        Err(EvalError::UnknownVariable(name.to_string()))
    }
    fn parameters(&self) -> &Parameters {
        &self.0
    }
}

fn number(raw: &str) -> Result<f64, String> {
    if let Ok(v) = raw.parse::<f64>() {
        return Ok(v);
    }
    let expr = crate::formula::parse(raw).map_err(|e| format!("'{raw}': {e}"))?;
    let period = Period::eternity();
    match evaluate(&expr, period, &mut Constant(Parameters::default())) {
        Ok(Column::Number(v)) => v
            .first()
            .copied()
            .ok_or_else(|| format!("'{raw}' has no value")),
        Ok(Column::Bool(v)) => Ok(f64::from(u8::from(v.first().copied().unwrap_or(false)))),
        _ => Err(format!("'{raw}' is not a number")),
    }
}

/// A value of a variable's type written as text (a number may be arithmetic, `600 - 200 / 12`).
pub(crate) fn value(kind: ValueType, raw: &str) -> Result<Value, String> {
    Ok(match kind {
        ValueType::Number => Value::Number(number(raw)?),
        ValueType::Bool => match raw {
            "true" | "True" => Value::Bool(true),
            "false" | "False" => Value::Bool(false),
            other => Value::Bool(number(other)? != 0.0),
        },
        ValueType::Text => Value::Text(raw.to_string()),
        ValueType::Date => Value::Date(
            crate::period::parse_day(raw).ok_or_else(|| format!("'{raw}' is not a date"))?,
        ),
    })
}

/// (period, raw value) pairs of one input or output node: a scalar at the test's period,
/// or `{period: value}`.
fn by_period(node: &Node, test_period: Period) -> Result<Vec<(Period, String)>, String> {
    match node {
        Node::Mapping(map) => map
            .iter()
            .map(|(k, v)| {
                let p = Period::parse(k.as_str()).map_err(|e| e.to_string())?;
                Ok((p, text(v).unwrap_or_default()))
            })
            .collect(),
        other => Ok(vec![(test_period, text(other).unwrap_or_default())]),
    }
}

/// An input as written: its period and each member's raw value (none: the default).
type Given = (Period, Vec<Option<String>>);

/// The members of the situation: per person, (household index, role), and who is who.
struct Situation {
    persons: Vec<String>,
    households: Vec<String>,
    household_of: Vec<usize>,
    role_of: Vec<String>,
}

/// Runs every test of a file.
pub fn run_file(package: &Package, path: &Path) -> Vec<Outcome> {
    let fail = |name: &str, message: String| Outcome {
        file: path.to_path_buf(),
        name: name.to_string(),
        failure: Some(message),
        skipped: None,
    };
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return vec![fail("(file)", format!("cannot read: {e}"))],
    };
    // A test file is a list of tests (or one test); duplicate keys are errors, as in
    // OpenFisca.
    let options = || marked_yaml::LoaderOptions::default().error_on_duplicate_keys(true);
    let node = match marked_yaml::parse_yaml_with_options(0, &source, options().toplevel_sequence())
        .or_else(|_| marked_yaml::parse_yaml_with_options(0, &source, options()))
    {
        Ok(n) => n,
        Err(e) => return vec![fail("(file)", format!("not valid YAML: {e}"))],
    };
    let tests: Vec<&Node> = match &node {
        Node::Sequence(list) => list.iter().collect(),
        other => vec![other],
    };
    tests
        .into_iter()
        .map(|t| {
            let name = t
                .as_mapping()
                .and_then(|m| m.get_node("name"))
                .and_then(text)
                .unwrap_or_else(|| "(unnamed)".into());
            let Some(map) = t.as_mapping() else {
                return fail(&name, "a test is a mapping".into());
            };
            if map.get_node("extensions").is_some() {
                return Outcome {
                    file: path.to_path_buf(),
                    name,
                    failure: None,
                    skipped: Some("`extensions:` (Python packages) are not run".into()),
                };
            }
            let reformed = match reformed(package, path, map) {
                Ok(r) => r,
                Err(message) => return fail(&name, message),
            };
            let package = reformed.as_ref().unwrap_or(package);
            Outcome {
                file: path.to_path_buf(),
                failure: run_one(package, map).err(),
                name,
                skipped: None,
            }
        })
        .collect()
}

/// The package a test runs against: with the reforms it names (by OpenFisca Python path
/// or by name, one or a list) and with its inline `parameters:` in place of the whole
/// parameter tree, as OpenFisca does; `None` when the test changes nothing.
fn reformed(
    package: &Package,
    path: &Path,
    map: &marked_yaml::types::MarkedMappingNode,
) -> Result<Option<Package>, String> {
    let mut names = Vec::new();
    match map.get_node("reforms") {
        None => {}
        Some(Node::Sequence(list)) => names.extend(list.iter().filter_map(text)),
        Some(other) => names.extend(text(other)),
    }
    let inline = map.get_node("parameters");
    if names.is_empty() && inline.is_none() {
        return Ok(None);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let join = |errors: Vec<crate::parameters::LoadError>| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut reformed = package.reformed(&refs).map_err(join)?;
    if let Some(node) = inline {
        match crate::parameters::load_node(path, "", node).map_err(join)? {
            crate::parameters::Entry::Group(root) => {
                reformed.parameters = crate::parameters::Parameters { root };
            }
            _ => return Err("`parameters:` holds a tree of parameters".into()),
        }
    }
    Ok(Some(reformed))
}

fn run_one(package: &Package, map: &marked_yaml::types::MarkedMappingNode) -> Result<(), String> {
    let period_text = map
        .get_node("period")
        .and_then(text)
        .ok_or("a test has a period")?;
    let period = Period::parse(&period_text).map_err(|e| e.to_string())?;
    let margin = |key: &str| {
        map.get_node(key)
            .and_then(text)
            .map(|t| number(&t))
            .transpose()
    };
    let absolute = margin("absolute_error_margin")?;
    let relative = margin("relative_error_margin")?;
    let absolute = absolute.unwrap_or(if relative.is_some() {
        f64::INFINITY
    } else {
        0.0
    });
    let empty = marked_yaml::types::MarkedMappingNode::new_empty(marked_yaml::Span::new_blank());
    let input = map.get_mapping("input").unwrap_or(&empty);
    let output = map.get_mapping("output").ok_or("a test has an output")?;
    let entity_form = ["persons", "household", "households"]
        .iter()
        .any(|k| input.get_node(k).is_some());
    // Who is in the situation.
    let situation = if entity_form {
        let mut persons: Vec<String> = input
            .get_mapping("persons")
            .map(|p| p.iter().map(|(k, _)| k.as_str().to_string()).collect())
            .unwrap_or_default();
        let mut households = Vec::new();
        let mut household_of = vec![usize::MAX; persons.len()];
        let mut role_of = vec![String::new(); persons.len()];
        let mut groups: Vec<(String, &marked_yaml::types::MarkedMappingNode)> = Vec::new();
        if let Some(h) = input.get_mapping("household") {
            groups.push(("household".into(), h));
        }
        if let Some(hs) = input.get_mapping("households") {
            for (k, v) in hs.iter() {
                if let Some(m) = v.as_mapping() {
                    groups.push((k.as_str().to_string(), m));
                }
            }
        }
        let roles = package
            .entities
            .get("household")
            .map(|e| e.roles.clone())
            .unwrap_or_default();
        for (g, (id, h)) in groups.iter().enumerate() {
            households.push(id.clone());
            for (role, plural) in &roles {
                if let Some(list) = h.get_sequence(plural) {
                    for member in list.iter().filter_map(text) {
                        let i = match persons.iter().position(|p| *p == member) {
                            Some(i) => i,
                            None => {
                                persons.push(member.clone());
                                household_of.push(usize::MAX);
                                role_of.push(String::new());
                                persons.len() - 1
                            }
                        };
                        household_of[i] = g;
                        role_of[i] = role.clone();
                    }
                }
            }
        }
        let first_role = roles.first().map(|r| r.0.clone()).unwrap_or_default();
        for i in 0..persons.len() {
            if household_of[i] == usize::MAX {
                households.push(format!("_{}", persons[i]));
                household_of[i] = households.len() - 1;
                role_of[i] = first_role.clone();
            }
        }
        Situation {
            persons,
            households,
            household_of,
            role_of,
        }
    } else {
        let n = input
            .iter()
            .chain(output.iter())
            .filter_map(|(_, v)| v.as_sequence().map(|s| s.len()))
            .max()
            .unwrap_or(1)
            .max(1);
        let first_role = package
            .entities
            .get("household")
            .and_then(|e| e.roles.first())
            .map(|r| r.0.clone())
            .unwrap_or_default();
        Situation {
            persons: (0..n).map(|i| i.to_string()).collect(),
            households: (0..n).map(|i| i.to_string()).collect(),
            household_of: (0..n).collect(),
            role_of: vec![first_role; n],
        }
    };
    let mut sim = Simulation::new(package, situation.persons.len());
    sim.add_group(
        "household",
        situation.households.len(),
        situation.household_of.clone(),
        situation.role_of.clone(),
    )
    .map_err(|e| e.to_string())?;
    let count = |entity: &str| {
        if entity == "household" {
            situation.households.len()
        } else {
            situation.persons.len()
        }
    };
    // Inputs: (variable, period) → values per member.
    let mut inputs: BTreeMap<(String, String), Given> = BTreeMap::new();
    let mut add = |var: &str, member: Option<usize>, node: &Node| -> Result<(), String> {
        let variable = package
            .variables
            .get(var)
            .ok_or_else(|| format!("input {var}: no such variable"))?;
        let n = count(&variable.entity);
        if let Node::Sequence(list) = node {
            let entry = inputs
                .entry((var.to_string(), period.to_string()))
                .or_insert((period, vec![None; n]));
            for (i, v) in list.iter().enumerate().take(n) {
                entry.1[i] = text(v);
            }
            return Ok(());
        }
        for (p, raw) in by_period(node, period)? {
            let entry = inputs
                .entry((var.to_string(), p.to_string()))
                .or_insert((p, vec![None; n]));
            match member {
                Some(i) if i < n => entry.1[i] = Some(raw),
                _ => entry.1.iter_mut().for_each(|v| *v = Some(raw.clone())),
            }
        }
        Ok(())
    };
    if entity_form {
        if let Some(ps) = input.get_mapping("persons") {
            for (name, vars) in ps.iter() {
                let i = situation
                    .persons
                    .iter()
                    .position(|p| p == name.as_str())
                    .unwrap_or(0);
                for (var, v) in vars.as_mapping().into_iter().flat_map(|m| m.iter()) {
                    add(var.as_str(), Some(i), v)?;
                }
            }
        }
        let mut groups: Vec<(usize, &marked_yaml::types::MarkedMappingNode)> = Vec::new();
        if let Some(h) = input.get_mapping("household") {
            groups.push((0, h));
        }
        if let Some(hs) = input.get_mapping("households") {
            for (k, v) in hs.iter() {
                if let (Some(m), Some(g)) = (
                    v.as_mapping(),
                    situation.households.iter().position(|h| h == k.as_str()),
                ) {
                    groups.push((g, m));
                }
            }
        }
        let plurals: Vec<String> = package
            .entities
            .get("household")
            .map(|e| e.roles.iter().map(|r| r.1.clone()).collect())
            .unwrap_or_default();
        for (g, h) in groups {
            for (var, v) in h.iter() {
                if !plurals.iter().any(|p| p == var.as_str()) {
                    add(var.as_str(), Some(g), v)?;
                }
            }
        }
    } else {
        for (var, v) in input.iter() {
            add(var.as_str(), None, v)?;
        }
    }
    let mut typed: Inputs = BTreeMap::new();
    for (key, (p, raw)) in inputs {
        let variable = &package.variables[&key.0];
        let values = raw
            .iter()
            .map(|r| {
                r.as_deref()
                    .map(|r| value(variable.value_type, r))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("input {}: {e}", key.0))?;
        typed.insert(key, (p, values));
    }
    set_inputs(&mut sim, package, typed).map_err(|(var, p, e)| format!("input {var}@{p}: {e}"))?;
    // Outputs.
    let mut checks: Vec<(String, Option<usize>, Node)> = Vec::new();
    if entity_form {
        if let Some(ps) = output.get_mapping("persons") {
            for (name, vars) in ps.iter() {
                let i = situation.persons.iter().position(|p| p == name.as_str());
                for (var, v) in vars.as_mapping().into_iter().flat_map(|m| m.iter()) {
                    checks.push((var.as_str().to_string(), i, v.clone()));
                }
            }
        }
        if let Some(h) = output.get_mapping("household") {
            for (var, v) in h.iter() {
                checks.push((var.as_str().to_string(), Some(0), v.clone()));
            }
        }
        for (var, v) in output.iter() {
            if !matches!(var.as_str(), "persons" | "household" | "households") {
                checks.push((var.as_str().to_string(), None, v.clone()));
            }
        }
    } else {
        for (var, v) in output.iter() {
            checks.push((var.as_str().to_string(), None, v.clone()));
        }
    }
    let mut problems = Vec::new();
    for (var, member, node) in checks {
        let variable = package
            .variables
            .get(&var)
            .ok_or_else(|| format!("output {var}: no such variable"))?;
        let expectations: Vec<(Period, Vec<String>)> = match &node {
            Node::Sequence(list) => vec![(period, list.iter().filter_map(text).collect())],
            other => by_period(other, period)?
                .into_iter()
                .map(|(p, raw)| (p, vec![raw]))
                .collect(),
        };
        for (p, expected) in expectations {
            let got = sim
                .calculate(&var, p)
                .map_err(|e| format!("{var}@{p}: {e}"))?;
            let n = got.len();
            for m in 0..n {
                if member.is_some_and(|only| only != m) {
                    continue;
                }
                let raw = if expected.len() == 1 {
                    &expected[0]
                } else {
                    match expected.get(m) {
                        Some(r) => r,
                        None => continue,
                    }
                };
                let want =
                    value(variable.value_type, raw).map_err(|e| format!("output {var}: {e}"))?;
                let ok = match (&got, &want) {
                    (Column::Number(v), Value::Number(w)) => {
                        let (g, w) = (f64::from(v[m] as f32), f64::from(*w as f32));
                        let diff = (g - w).abs();
                        diff <= absolute && relative.is_none_or(|r| diff <= (r * w).abs())
                    }
                    (Column::Bool(v), Value::Bool(w)) => v[m] == *w,
                    (Column::Text(v), Value::Text(w)) => &v[m] == w,
                    (Column::Date(v), Value::Date(w)) => v[m] == *w,
                    _ => false,
                };
                if !ok {
                    let shown = match &got {
                        Column::Number(v) => v[m].to_string(),
                        Column::Bool(v) => v[m].to_string(),
                        Column::Text(v) => v[m].clone(),
                        Column::Date(v) => v[m].to_string(),
                    };
                    problems.push(format!("{var}@{p} member {m}: expected {raw}, got {shown}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

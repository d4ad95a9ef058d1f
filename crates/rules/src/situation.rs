//! OpenFisca's situation JSON, as its Web API takes it at `/calculate` and `/trace`:
//! entities by their plural (`persons`, `households`), each member by its id, a group's
//! members listed under its roles' plurals (`adults`, `children`), and each variable's
//! values by period — `null` for what is to be computed. The answer is the same
//! situation with every `null` filled in.
//!
//! ```json
//! {"persons": {"Ari": {"salary": {"2017-01": 2000}, "income_tax": {"2017-01": null}}},
//!  "households": {"h": {"adults": ["Ari"], "housing_tax": {"2017": null}}}}
//! ```
//!
//! A person in no group of an entity is put in one of her own, as OpenFisca does. A
//! yearly value of a monthly number is spread over the months not given. Every problem is
//! named by its place in the document (`persons/Ari/salary/2017-13`), all of them at once.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::eval::{Column, EvalError};
use crate::explain::{Explanation, explain_all};
use crate::package::{DefaultValue, Package, ValueType};
use crate::period::{Period, Unit, format_day, parse_day};
use crate::simulation::Simulation;

/// The most members (persons and groups together) one situation may hold.
pub const MAX_MEMBERS: usize = 10_000;

/// A problem at a place in the situation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Problem {
    /// Where: keys from the top joined by `/`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn problem(path: &[&str], message: impl Into<String>) -> Problem {
    Problem {
        path: path.join("/"),
        message: message.into(),
    }
}

/// One value of a variable's type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Number(f64),
    Bool(bool),
    Text(String),
    Date(time::Date),
}

/// A variable's default as a value.
pub(crate) fn default_value(package: &Package, name: &str) -> Value {
    match package.variables.get(name).map(|v| &v.default) {
        Some(DefaultValue::Number(x)) => Value::Number(*x),
        Some(DefaultValue::Bool(b)) => Value::Bool(*b),
        Some(DefaultValue::Text(t)) => Value::Text(t.clone()),
        Some(DefaultValue::Date(d)) => Value::Date(*d),
        None => Value::Number(0.0),
    }
}

/// The column of a variable's type holding `values` (a value of another kind reads as
/// the kind's zero; callers check kinds first).
pub(crate) fn column(kind: ValueType, values: Vec<Value>) -> Column {
    match kind {
        ValueType::Number => Column::Number(
            values
                .into_iter()
                .map(|v| if let Value::Number(x) = v { x } else { 0.0 })
                .collect(),
        ),
        ValueType::Bool => Column::Bool(
            values
                .into_iter()
                .map(|v| matches!(v, Value::Bool(true)))
                .collect(),
        ),
        ValueType::Text => Column::Text(
            values
                .into_iter()
                .map(|v| {
                    if let Value::Text(t) = v {
                        t
                    } else {
                        String::new()
                    }
                })
                .collect(),
        ),
        ValueType::Date => Column::Date(
            values
                .into_iter()
                .map(|v| {
                    if let Value::Date(d) = v {
                        d
                    } else {
                        time::macros::date!(1970 - 01 - 01)
                    }
                })
                .collect(),
        ),
    }
}

/// The value of one member of a column, as JSON.
pub fn json_at(column: &Column, member: usize) -> Json {
    match column {
        Column::Number(v) => v.get(member).map_or(Json::Null, |x| json!(x)),
        Column::Bool(v) => v.get(member).map_or(Json::Null, |x| json!(x)),
        Column::Text(v) => v.get(member).map_or(Json::Null, |x| json!(x)),
        Column::Date(v) => v.get(member).map_or(Json::Null, |d| json!(format_day(*d))),
    }
}

/// Inputs as gathered: by (variable, period as written), the period and each member's
/// value (none: the variable's default).
pub(crate) type Inputs = BTreeMap<(String, String), (Period, Vec<Option<Value>>)>;

/// Gives a simulation its inputs, shorter periods first so that a year's value is spread
/// over the months not given. Errors name the variable and period.
pub(crate) fn set_inputs(
    sim: &mut Simulation<'_>,
    package: &Package,
    inputs: Inputs,
) -> Result<(), (String, String, EvalError)> {
    let mut ordered: Vec<_> = inputs.into_iter().collect();
    ordered.sort_by_key(|(_, (p, _)): &(_, (Period, _))| (p.size_in_days(), p.start));
    for ((var, written), (p, given)) in ordered {
        let Some(variable) = package.variables.get(&var) else {
            return Err((var.clone(), written, EvalError::UnknownVariable(var)));
        };
        let values: Vec<Value> = given
            .into_iter()
            .map(|v| v.unwrap_or_else(|| default_value(package, &var)))
            .collect();
        let col = column(variable.value_type, values);
        let spread = variable.period != Unit::Eternity
            && (p.unit > variable.period || p.size > 1)
            && variable.value_type == ValueType::Number;
        let result = if spread {
            sim.set_input_spread(&var, p, col)
        } else {
            sim.set_input(&var, p, col)
        };
        result.map_err(|e| (var, written, e))?;
    }
    Ok(())
}

/// What `/calculate` and `/trace` answer.
#[derive(Debug)]
pub struct Answer {
    /// The situation with every `null` filled in.
    pub situation: Json,
    /// OpenFisca's trace (`/trace`): per `name<period>`, its dependencies, the parameters
    /// read and its value for every member; the members of each entity in order; and what
    /// was asked. With each asked value's per-member explanation under `explanations`.
    pub trace: Option<Json>,
}

/// One entity's members as the situation lists them.
struct Members<'j> {
    plural: String,
    ids: Vec<String>,
    bodies: Vec<&'j Map<String, Json>>,
}

/// Reads a value of a variable's type from JSON.
/// A JSON value read as `var`'s type, or why it cannot be.
pub(crate) fn typed(package: &Package, var: &str, raw: &Json) -> Result<Value, String> {
    let Some(variable) = package.variables.get(var) else {
        return Err(format!("there is no variable {var}"));
    };
    match (variable.value_type, raw) {
        (ValueType::Number, Json::Number(n)) => n
            .as_f64()
            .map(Value::Number)
            .ok_or_else(|| "the number is out of range".to_string()),
        (ValueType::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (ValueType::Text, Json::String(t)) => {
            if !variable.values.is_empty() && !variable.values.contains(t) {
                return Err(format!(
                    "'{t}' is not one of {var}'s values ({})",
                    variable.values.join(", ")
                ));
            }
            Ok(Value::Text(t.clone()))
        }
        (ValueType::Date, Json::String(t)) => parse_day(t)
            .map(Value::Date)
            .ok_or_else(|| format!("'{t}' is not a date (YYYY-MM-DD)")),
        (kind, other) => Err(format!(
            "{var} holds {}, not {}",
            match kind {
                ValueType::Number => "a number",
                ValueType::Bool => "true or false",
                ValueType::Text => "a text",
                ValueType::Date => "a date (YYYY-MM-DD)",
            },
            match other {
                Json::Null => "null",
                Json::Bool(_) => "true or false",
                Json::Number(_) => "a number",
                Json::String(_) => "a text",
                Json::Array(_) => "a list",
                Json::Object(_) => "an object",
            }
        )),
    }
}

/// Computes a situation: every `null` filled in; with `trace`, OpenFisca's trace and a
/// per-member explanation of each value asked for.
pub fn calculate(package: &Package, situation: &Json, trace: bool) -> Result<Answer, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some(top) = situation.as_object() else {
        return Err(vec![problem(
            &[],
            "a situation is an object of entities (persons, households…)",
        )]);
    };
    let person_entity = package
        .entities
        .values()
        .find(|e| e.roles.is_empty())
        .ok_or_else(|| vec![problem(&[], "the package has no person entity")])?;
    let ordered: Vec<&crate::package::Entity> = std::iter::once(person_entity)
        .chain(package.entities.values().filter(|e| !e.roles.is_empty()))
        .collect();
    let plurals: Vec<&str> = ordered.iter().map(|e| e.plural.as_str()).collect();
    for key in top.keys() {
        if !plurals.contains(&key.as_str()) {
            problems.push(problem(
                &[key],
                format!(
                    "{key} is not an entity of {} ({})",
                    package.name,
                    plurals.join(", ")
                ),
            ));
        }
    }
    // Members of each entity, persons first.
    let mut entities: Vec<(&crate::package::Entity, Members<'_>)> = Vec::new();
    let mut total = 0;
    for &entity in &ordered {
        let mut members = Members {
            plural: entity.plural.clone(),
            ids: Vec::new(),
            bodies: Vec::new(),
        };
        if let Some(node) = top.get(&entity.plural) {
            match node.as_object() {
                Some(map) => {
                    for (id, body) in map {
                        match body.as_object() {
                            Some(b) => {
                                members.ids.push(id.clone());
                                members.bodies.push(b);
                            }
                            None => problems.push(problem(
                                &[&entity.plural, id],
                                "a member is an object of its variables (and, in a group, its roles)",
                            )),
                        }
                    }
                }
                None => problems.push(problem(
                    &[&entity.plural],
                    "an entity maps its members' ids to their variables",
                )),
            }
        }
        total += members.ids.len();
        entities.push((entity, members));
    }
    if total > MAX_MEMBERS {
        return Err(vec![problem(
            &[],
            format!(
                "{total} members: a situation holds at most {MAX_MEMBERS}; run a population instead"
            ),
        )]);
    }
    let persons = entities[0].1.ids.clone();
    if persons.is_empty() && problems.is_empty() {
        problems.push(problem(
            &[&person_entity.plural],
            format!(
                "a situation has at least one of its {}",
                person_entity.plural
            ),
        ));
    }
    let mut sim = Simulation::new(package, persons.len());
    if trace {
        sim.enable_trace();
        // The trace explains each asked value afterwards.
        sim.keep_for_explanations();
    }
    // Groups: each person in one group of each group entity, in one role.
    let mut group_counts: BTreeMap<String, usize> = BTreeMap::new();
    for (entity, members) in entities.iter().skip(1) {
        let mut group_of = vec![usize::MAX; persons.len()];
        let mut role_of = vec![String::new(); persons.len()];
        for (g, (id, body)) in members.ids.iter().zip(&members.bodies).enumerate() {
            for (role, role_plural) in &entity.roles {
                let Some(list) = body.get(role_plural) else {
                    continue;
                };
                let Some(list) = list.as_array() else {
                    problems.push(problem(
                        &[&entity.plural, id, role_plural],
                        "a role lists the ids of persons",
                    ));
                    continue;
                };
                for (k, member) in list.iter().enumerate() {
                    let at = k.to_string();
                    let here = [entity.plural.as_str(), id, role_plural, &at];
                    let Some(person) = member.as_str() else {
                        problems.push(problem(&here, "a role lists the ids of persons"));
                        continue;
                    };
                    let Some(i) = persons.iter().position(|p| p == person) else {
                        problems.push(problem(
                            &here,
                            format!("{person} is not one of the {}", person_entity.plural),
                        ));
                        continue;
                    };
                    if group_of[i] != usize::MAX {
                        problems.push(problem(
                            &here,
                            format!(
                                "{person} is in {} already: a person is in one of the {} only",
                                members.ids[group_of[i]], entity.plural
                            ),
                        ));
                        continue;
                    }
                    group_of[i] = g;
                    role_of[i] = role.clone();
                }
            }
        }
        // As OpenFisca: a person in no group gets one of her own, in the first role.
        let mut count = members.ids.len();
        let first_role = entity
            .roles
            .first()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        for i in 0..persons.len() {
            if group_of[i] == usize::MAX {
                group_of[i] = count;
                role_of[i] = first_role.clone();
                count += 1;
            }
        }
        group_counts.insert(entity.key.clone(), count);
        if let Err(e) = sim.add_group(&entity.key, count, group_of, role_of) {
            problems.push(problem(&[&entity.plural], e.to_string()));
        }
    }
    let count_of = |entity: &str| {
        if entity == person_entity.key {
            persons.len()
        } else {
            group_counts.get(entity).copied().unwrap_or(0)
        }
    };
    // Values: inputs, and what is asked (null).
    let mut inputs: Inputs = BTreeMap::new();
    let mut asked: Vec<(String, Period, usize, Vec<String>)> = Vec::new();
    for (entity, members) in &entities {
        let roles: Vec<&str> = entity.roles.iter().map(|r| r.1.as_str()).collect();
        for (m, (id, body)) in members.ids.iter().zip(&members.bodies).enumerate() {
            for (var, by_period) in body.iter() {
                if roles.contains(&var.as_str()) {
                    continue;
                }
                let here = [members.plural.as_str(), id, var];
                let Some(variable) = package.variables.get(var) else {
                    problems.push(problem(
                        &here,
                        format!("there is no variable {var} in {}", package.name),
                    ));
                    continue;
                };
                if variable.entity != entity.key {
                    problems.push(problem(
                        &here,
                        format!(
                            "{var} belongs to the {}, not the {}",
                            package
                                .entities
                                .get(&variable.entity)
                                .map_or(variable.entity.as_str(), |e| e.plural.as_str()),
                            members.plural
                        ),
                    ));
                    continue;
                }
                let Some(by_period) = by_period.as_object() else {
                    problems.push(problem(
                        &here,
                        format!(
                            "values are given by period, e.g. {{\"{}\": …}}",
                            example_period(variable.period)
                        ),
                    ));
                    continue;
                };
                for (written, raw) in by_period {
                    let here = [members.plural.as_str(), id, var, written];
                    let period = match Period::parse(written) {
                        Ok(p) => p,
                        Err(e) => {
                            problems.push(problem(&here, e.to_string()));
                            continue;
                        }
                    };
                    if raw.is_null() {
                        asked.push((
                            var.clone(),
                            period,
                            m,
                            here.iter().map(|s| (*s).to_string()).collect(),
                        ));
                        continue;
                    }
                    match typed(package, var, raw) {
                        Ok(v) => {
                            let n = count_of(&entity.key);
                            let entry = inputs
                                .entry((var.clone(), written.clone()))
                                .or_insert_with(|| (period, vec![None; n]));
                            entry.1[m] = Some(v);
                        }
                        Err(e) => problems.push(problem(&here, e)),
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if let Err((var, written, e)) = set_inputs(&mut sim, package, inputs) {
        // The first member giving it names the place.
        let place = entities
            .iter()
            .find_map(|(_, members)| {
                members
                    .ids
                    .iter()
                    .zip(&members.bodies)
                    .find(|(_, b)| b.get(&var).and_then(|p| p.get(&written)).is_some())
                    .map(|(id, _)| {
                        vec![
                            members.plural.clone(),
                            id.clone(),
                            var.clone(),
                            written.clone(),
                        ]
                    })
            })
            .unwrap_or_else(|| vec![var.clone(), written.clone()]);
        return Err(vec![Problem {
            path: place.join("/"),
            message: e.to_string(),
        }]);
    }
    // Compute what is asked, each variable and period once for everybody.
    let mut filled = situation.clone();
    let mut requested: Vec<String> = Vec::new();
    for (var, period, member, path) in &asked {
        let column = match sim.calculate(var, *period) {
            Ok(c) => c,
            Err(e) => {
                problems.push(Problem {
                    path: path.join("/"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let name = format!("{var}<{period}>");
        if !requested.contains(&name) {
            requested.push(name);
        }
        if let Some(slot) = path
            .iter()
            .try_fold(&mut filled, |node, key| node.get_mut(key))
        {
            *slot = json_at(&column, *member);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let trace = trace.then(|| {
        let mut nodes = Map::new();
        for ((name, period), node) in sim.trace().unwrap_or_default() {
            let value = sim.known(name, *period).map_or(Json::Null, |c| {
                Json::Array((0..c.len()).map(|m| json_at(c, m)).collect())
            });
            let parameters: Map<String, Json> = node.parameters.iter().cloned().collect();
            nodes.insert(
                format!("{name}<{period}>"),
                json!({"dependencies": node.dependencies, "parameters": parameters, "value": value}),
            );
        }
        let description: Map<String, Json> = entities
            .iter()
            .map(|(_, m)| (m.plural.clone(), json!(m.ids)))
            .collect();
        // Civitas' addition: why each asked value is what it is, per member (each
        // variable and period explained once for everybody).
        let mut explained: BTreeMap<(String, String), Result<Vec<Explanation>, EvalError>> =
            BTreeMap::new();
        let mut explanations = Map::new();
        for (var, period, member, path) in &asked {
            let all = explained
                .entry((var.clone(), period.to_string()))
                .or_insert_with(|| explain_all(&mut sim, var, *period));
            let entry = match all {
                Ok(all) => all
                    .get(*member)
                    .and_then(|e| serde_json::to_value(e).ok())
                    .unwrap_or(Json::Null),
                Err(e) => json!({"error": e.to_string()}),
            };
            explanations.insert(path.join("/"), entry);
        }
        json!({
            "trace": nodes,
            "entitiesDescription": description,
            "requestedCalculations": requested,
            "explanations": explanations,
        })
    });
    Ok(Answer {
        situation: filled,
        trace,
    })
}

fn example_period(unit: Unit) -> &'static str {
    match unit {
        Unit::Day => "2017-01-15",
        Unit::Week => "2017-W03",
        Unit::Month => "2017-01",
        Unit::Year => "2017",
        Unit::Eternity => "ETERNITY",
    }
}

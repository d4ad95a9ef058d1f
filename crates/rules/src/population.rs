//! A simulation of registered residents: the inputs a package names with `source:` read
//! from the population register (birth date, sex, address region, resident tags), and
//! the residents grouped in their registered households — the first role (adults) for
//! those 18 and over on the period's first day, the second (children) for the younger.

use std::collections::{HashMap, HashSet};

use crate::eval::{Column, EvalError};
use crate::package::{Package, Source, ValueType};
use crate::period::{Period, parse_day};
use crate::simulation::Simulation;
use crate::situation::{Value as Typed, column, default_value, typed};
use crate::store::PersonInputs;

/// What a run reads from the registers beyond the persons themselves: who carries each
/// tag a package names, and the exchange fields it names (by `resource.field`, then
/// person; a person without a record is absent).
#[derive(Clone, Debug, Default)]
pub struct Registers {
    /// Per tag code, who carries it.
    pub tags: HashMap<String, HashSet<String>>,
    /// Per `resource.field`, each person's value.
    pub records: HashMap<String, HashMap<String, serde_json::Value>>,
}

impl Registers {
    /// Whether `person` carries the tag `code`.
    fn tagged(&self, code: &str, person: &str) -> bool {
        self.tags.get(code).is_some_and(|c| c.contains(person))
    }

    /// A person's value of an exchange field, as the variable's type (its default where
    /// she has no record).
    fn record(
        &self,
        package: &Package,
        variable: &str,
        key: &str,
        person: &str,
    ) -> Result<Typed, EvalError> {
        match self.records.get(key).and_then(|r| r.get(person)) {
            None | Some(serde_json::Value::Null) => Ok(default_value(package, variable)),
            Some(raw) => typed(package, variable, raw)
                .map_err(|why| EvalError::Call(format!("{variable} (from exchange.{key}): {why}"))),
        }
    }
}

/// The exchange resources and fields computing `variable` reads: (resource, fields).
pub fn exchange_named(package: &Package, variable: &str) -> Vec<(String, Vec<String>)> {
    let mut named: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let needed = package.needs(variable);
    for v in package
        .variables
        .values()
        .filter(|v| needed.contains(&*v.name))
    {
        if let Some(Source::Exchange { resource, field }) = &v.source {
            named
                .entry(resource.clone())
                .or_default()
                .push(field.clone());
        }
    }
    named
        .into_iter()
        .map(|(r, mut f)| {
            f.sort();
            f.dedup();
            (r, f)
        })
        .collect()
}

/// The tags a package's sources name.
pub fn tags_named(package: &Package) -> Vec<String> {
    let mut tags: Vec<String> = package
        .variables
        .values()
        .filter_map(|v| match &v.source {
            Some(Source::Tag(code)) => Some(code.clone()),
            _ => None,
        })
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// Whole years from `birth` to `day`.
fn age_on(birth: time::Date, day: time::Date) -> i32 {
    let mut years = day.year() - birth.year();
    if (day.month() as u8, day.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// Builds the simulation of `persons` for `period`, with what the registers hold about
/// them, ready to be explained (every decision about them is).
pub fn simulation<'p>(
    package: &'p Package,
    persons: &[PersonInputs],
    registers: &Registers,
    period: Period,
) -> Result<Simulation<'p>, EvalError> {
    let epoch = time::macros::date!(1970 - 01 - 01);
    let births: Vec<time::Date> = persons
        .iter()
        .map(|p| parse_day(&p.birth_date).unwrap_or(epoch))
        .collect();
    let mut sim = Simulation::new(package, persons.len());
    sim.keep_for_explanations();
    if let Some(group) = package.entities.values().find(|e| !e.roles.is_empty()) {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut group_of = Vec::with_capacity(persons.len());
        let mut role_of = Vec::with_capacity(persons.len());
        for (p, birth) in persons.iter().zip(&births) {
            let key = p.household_id.as_deref().unwrap_or(p.id.as_str());
            let next = index.len();
            group_of.push(*index.entry(key).or_insert(next));
            let child = group.roles.len() > 1 && age_on(*birth, period.start) < 18;
            role_of.push(u16::from(child));
        }
        sim.add_group_indexed(&group.key, index.len(), group_of, role_of)?;
    }
    for variable in package.variables.values() {
        let Some(source) = &variable.source else {
            continue;
        };
        let column = match source {
            Source::BirthDate => Column::Date(births.clone()),
            Source::Sex => Column::Text(persons.iter().map(|p| p.sex.clone()).collect()),
            Source::Region => Column::Text(persons.iter().map(|p| p.region_code.clone()).collect()),
            Source::Tag(code) => Column::Bool(
                persons
                    .iter()
                    .map(|p| registers.tagged(code, &p.id))
                    .collect(),
            ),
            Source::Exchange { .. } => {
                let key = source.exchange_key().unwrap_or_default();
                let values = persons
                    .iter()
                    .map(|p| registers.record(package, &variable.name, &key, &p.id))
                    .collect::<Result<Vec<_>, _>>()?;
                column(variable.value_type, values)
            }
        };
        if variable.value_type == ValueType::Text
            && !variable.values.is_empty()
            && let Column::Text(values) = &column
            && values.iter().any(|v| !variable.values.contains(v))
        {
            return Err(EvalError::Call(format!(
                "{}: the register holds values its `values:` do not list",
                variable.name
            )));
        }
        let at = match variable.period {
            crate::period::Unit::Eternity => Period::eternity(),
            _ => period,
        };
        sim.set_input(&variable.name, at, column)?;
    }
    Ok(sim)
}

/// The OpenFisca situation of `persons[member]`'s household as the register gave it for
/// `period` — every sourced input of each member, the household's roles — asking
/// `variable` for her: what a decision keeps so that it can be replayed, and what
/// `civitas rules calculate` or `/calculate` recompute.
pub fn situation_of(
    package: &Package,
    persons: &[PersonInputs],
    member: usize,
    registers: &Registers,
    period: Period,
    variable: &str,
) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let Some(me) = persons.get(member) else {
        return Value::Null;
    };
    let household: Vec<&PersonInputs> = match &me.household_id {
        Some(h) => persons
            .iter()
            .filter(|p| p.household_id.as_deref() == Some(h.as_str()))
            .collect(),
        None => vec![me],
    };
    let epoch = time::macros::date!(1970 - 01 - 01);
    let mut people = Map::new();
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for p in &household {
        let mut values = Map::new();
        for v in package.variables.values() {
            let Some(source) = &v.source else {
                continue;
            };
            let value = match source {
                // As the run read it (an unreadable date counts as 1970-01-01 in both).
                Source::BirthDate => json!(crate::period::format_day(
                    parse_day(&p.birth_date).unwrap_or(epoch)
                )),
                Source::Sex => json!(p.sex),
                Source::Region => json!(p.region_code),
                Source::Tag(code) => json!(registers.tagged(code, &p.id)),
                Source::Exchange { .. } => {
                    let key = source.exchange_key().unwrap_or_default();
                    match registers.record(package, &v.name, &key, &p.id) {
                        Ok(Typed::Number(x)) => json!(x),
                        Ok(Typed::Bool(b)) => json!(b),
                        Ok(Typed::Text(t)) => json!(t),
                        Ok(Typed::Date(d)) => json!(crate::period::format_day(d)),
                        Err(_) => serde_json::Value::Null,
                    }
                }
            };
            let at = match v.period {
                crate::period::Unit::Eternity => "ETERNITY".to_string(),
                _ => period.to_string(),
            };
            values.insert(v.name.to_string(), json!({ at: value }));
        }
        if p.id == me.id {
            values.insert(variable.to_string(), json!({ period.to_string(): null }));
        }
        let birth = parse_day(&p.birth_date).unwrap_or(epoch);
        if age_on(birth, period.start) < 18 {
            second.push(p.id.clone());
        } else {
            first.push(p.id.clone());
        }
        people.insert(p.id.clone(), Value::Object(values));
    }
    let mut situation = Map::new();
    if let Some(person) = package.entities.values().find(|e| e.roles.is_empty()) {
        situation.insert(person.plural.clone(), Value::Object(people));
    }
    if let Some(group) = package.entities.values().find(|e| !e.roles.is_empty()) {
        let mut members = Map::new();
        let roles: Vec<&String> = group.roles.iter().map(|r| &r.1).collect();
        match roles.as_slice() {
            [adults, children, ..] => {
                members.insert((*adults).clone(), json!(first));
                members.insert((*children).clone(), json!(second));
            }
            [only] => {
                first.extend(second);
                members.insert((*only).clone(), json!(first));
            }
            [] => {}
        }
        let id = me
            .household_id
            .clone()
            .unwrap_or_else(|| format!("_{}", me.id));
        situation.insert(group.plural.clone(), json!({ id: Value::Object(members) }));
    }
    Value::Object(situation)
}

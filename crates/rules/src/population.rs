//! A simulation of registered residents: the inputs a package names with `source:` read
//! from the population register (birth date, sex, address region, resident tags), and
//! the residents grouped in their registered households — the first role (adults) for
//! those 18 and over on the period's first day, the second (children) for the younger.

use std::collections::{HashMap, HashSet};

use crate::eval::{Column, EvalError};
use crate::package::{Package, Source, ValueType};
use crate::period::{Period, parse_day};
use crate::simulation::Simulation;
use crate::store::PersonInputs;

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

/// Builds the simulation of `persons` for `period`; `tags` holds, per tag code, who
/// carries it.
pub fn simulation<'p>(
    package: &'p Package,
    persons: &[PersonInputs],
    tags: &HashMap<String, HashSet<String>>,
    period: Period,
) -> Result<Simulation<'p>, EvalError> {
    let epoch = time::macros::date!(1970 - 01 - 01);
    let births: Vec<time::Date> = persons
        .iter()
        .map(|p| parse_day(&p.birth_date).unwrap_or(epoch))
        .collect();
    let mut sim = Simulation::new(package, persons.len());
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
            Source::Tag(code) => {
                let carriers = tags.get(code);
                Column::Bool(
                    persons
                        .iter()
                        .map(|p| carriers.is_some_and(|c| c.contains(&p.id)))
                        .collect(),
                )
            }
        };
        debug_assert_eq!(source.value_type(), variable.value_type);
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

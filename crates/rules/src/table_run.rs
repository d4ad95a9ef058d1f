//! Population runs from a table, for analysts: a CSV of persons — `id`, optionally
//! `household` and `role`, and a column per input variable — computed for a period,
//! columnar, in chunks of whole households spread over the cores, answering a row per
//! person with the variables asked (a household's variable on each of its members' rows).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::eval::Column;
use crate::package::Package;
use crate::period::{Period, Unit, format_day};
use crate::simulation::Simulation;
use crate::situation::{Value, column, default_value, json_at};

/// A chunk's rows, or what went wrong computing it.
type ChunkRows = Result<Vec<Vec<String>>, String>;

/// Persons per chunk (whole households).
const CHUNK: usize = 10_000;

/// The table answered: a header and a row per person, in the input's order.
pub struct TableResult {
    /// `id`, then the variables asked.
    pub header: Vec<String>,
    /// One row per person.
    pub rows: Vec<Vec<String>>,
}

struct Input {
    ids: Vec<String>,
    households: Vec<String>,
    roles: Vec<String>,
    columns: Vec<(String, Vec<String>)>,
}

/// Reads and checks the table: every problem is named with its line and column.
fn read(package: &Package, csv_text: &str) -> Result<Input, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| vec![format!("line 1: {e}")])?
        .iter()
        .map(str::to_string)
        .collect();
    let mut problems = Vec::new();
    let at = |name: &str| header.iter().position(|h| h == name);
    let Some(id_at) = at("id") else {
        return Err(vec!["line 1: the table has an `id` column".into()]);
    };
    let (household_at, role_at) = (at("household"), at("role"));
    let mut inputs = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if matches!(name.as_str(), "id" | "household" | "role") {
            continue;
        }
        match package.variables.get(name) {
            Some(_) => inputs.push((i, name.clone())),
            None => problems.push(format!(
                "line 1, column {}: there is no variable {name} in {}",
                i + 1,
                package.name
            )),
        }
    }
    let mut input = Input {
        ids: Vec::new(),
        households: Vec::new(),
        roles: Vec::new(),
        columns: inputs
            .iter()
            .map(|(_, n)| (n.clone(), Vec::new()))
            .collect(),
    };
    for (line, record) in reader.records().enumerate() {
        let line = line + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or("").to_string();
        let id = field(id_at);
        if id.is_empty() {
            problems.push(format!("line {line}: the id is empty"));
        }
        input.households.push(
            household_at
                .map(&field)
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| format!("_{id}")),
        );
        input.roles.push(role_at.map(&field).unwrap_or_default());
        input.ids.push(id);
        for (k, (i, name)) in inputs.iter().enumerate() {
            let raw = field(*i);
            if !raw.is_empty()
                && let Err(e) = value_of(package, name, &raw)
            {
                problems.push(format!("line {line}, column {}: {e}", i + 1));
            }
            input.columns[k].1.push(raw);
        }
        if problems.len() > 50 {
            problems.push("… and more".into());
            break;
        }
    }
    if problems.is_empty() {
        Ok(input)
    } else {
        Err(problems)
    }
}

/// A cell as a value of its variable's type (an enumeration's values checked).
fn value_of(package: &Package, name: &str, raw: &str) -> Result<Value, String> {
    let Some(v) = package.variables.get(name) else {
        return Err(format!("there is no variable {name}"));
    };
    let value = crate::yaml_tests::value(v.value_type, raw).map_err(|e| format!("{name}: {e}"))?;
    if let Value::Text(t) = &value
        && !v.values.is_empty()
        && !v.values.contains(t)
    {
        return Err(format!(
            "{name}: '{t}' is not one of its values ({})",
            v.values.join(", ")
        ));
    }
    Ok(value)
}

/// Computes `variables` for `period` over the persons of `csv_text`, on `threads`
/// threads; `progress(done, total)` is told as chunks finish.
pub fn run(
    package: &Package,
    csv_text: &str,
    variables: &[String],
    period: Period,
    threads: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<TableResult, Vec<String>> {
    let mut problems = Vec::new();
    for v in variables {
        if !package.variables.contains_key(v) {
            problems.push(format!(
                "there is no variable {v} to compute in {}",
                package.name
            ));
        }
    }
    if variables.is_empty() {
        problems.push("name the variables to compute".into());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let input = read(package, csv_text)?;
    let group = package.entities.values().find(|e| !e.roles.is_empty());
    if let Some(g) = group
        && let Some((line, bad)) = input.roles.iter().enumerate().find(|(_, r)| {
            !r.is_empty()
                && !g
                    .roles
                    .iter()
                    .any(|(role, plural)| role == *r || plural == *r)
        })
    {
        return Err(vec![format!(
            "line {}: '{bad}' is not a role of {} ({})",
            line + 2,
            g.key,
            g.roles
                .iter()
                .map(|r| r.0.clone())
                .collect::<Vec<_>>()
                .join(", ")
        )]);
    }
    // Persons grouped by household, households in order of first appearance.
    let mut first: HashMap<&str, usize> = HashMap::new();
    for h in &input.households {
        let n = first.len();
        first.entry(h.as_str()).or_insert(n);
    }
    let mut order: Vec<usize> = (0..input.ids.len()).collect();
    order.sort_by_key(|i| first[input.households[*i].as_str()]);
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        current.push(i);
        let next_same = order
            .get(k + 1)
            .is_some_and(|&j| input.households[j] == input.households[i]);
        if current.len() >= CHUNK && !next_same {
            chunks.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let total = chunks.len();
    let slots: Vec<std::sync::Mutex<Option<ChunkRows>>> =
        (0..total).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, 64) {
            scope.spawn(|| {
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(c) else {
                        break;
                    };
                    let out = compute(package, &input, chunk, variables, period, group);
                    if let Ok(mut slot) = slots[c].lock() {
                        *slot = Some(out);
                    }
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
            });
        }
    });
    let results: Vec<Option<ChunkRows>> = slots
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten())
        .collect();
    let mut rows: Vec<Vec<String>> = vec![Vec::new(); input.ids.len()];
    for (chunk, result) in chunks.iter().zip(results) {
        match result {
            Some(Ok(values)) => {
                for (&i, row) in chunk.iter().zip(values) {
                    rows[i] = row;
                }
            }
            Some(Err(e)) => return Err(vec![e]),
            None => return Err(vec!["a chunk was not computed".into()]),
        }
    }
    let mut header = vec!["id".to_string()];
    header.extend(variables.iter().cloned());
    Ok(TableResult { header, rows })
}

fn text_of(column: &Column, m: usize) -> String {
    match column {
        Column::Text(v) => v.get(m).cloned().unwrap_or_default(),
        Column::Date(v) => v.get(m).map(|d| format_day(*d)).unwrap_or_default(),
        other => json_at(other, m).to_string(),
    }
}

/// One chunk: its persons' rows.
fn compute(
    package: &Package,
    input: &Input,
    chunk: &[usize],
    variables: &[String],
    period: Period,
    group: Option<&crate::package::Entity>,
) -> Result<Vec<Vec<String>>, String> {
    let n = chunk.len();
    let mut sim = Simulation::new(package, n);
    let mut group_of = Vec::with_capacity(n);
    let mut first_member: Vec<usize> = Vec::new();
    if let Some(g) = group {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut roles = Vec::with_capacity(n);
        for (k, &i) in chunk.iter().enumerate() {
            let next = index.len();
            let at = *index.entry(input.households[i].as_str()).or_insert(next);
            if at == first_member.len() {
                first_member.push(k);
            }
            group_of.push(at);
            let role = &input.roles[i];
            roles.push(
                g.roles
                    .iter()
                    .position(|(r, plural)| r == role || plural == role)
                    .unwrap_or(0) as u16,
            );
        }
        sim.add_group_indexed(&g.key, index.len(), group_of.clone(), roles)
            .map_err(|e| e.to_string())?;
    }
    for (name, raw) in &input.columns {
        let Some(variable) = package.variables.get(name) else {
            continue;
        };
        let on_group = group.is_some_and(|g| g.key == variable.entity);
        let members: Vec<usize> = if on_group {
            first_member.iter().map(|&k| chunk[k]).collect()
        } else {
            chunk.to_vec()
        };
        let values: Vec<Value> = members
            .iter()
            .map(|&i| match raw[i].as_str() {
                "" => Ok(default_value(package, name)),
                text => value_of(package, name, text),
            })
            .collect::<Result<_, _>>()?;
        let column = column(variable.value_type, values);
        let at = match variable.period {
            Unit::Eternity => Period::eternity(),
            _ => period,
        };
        sim.set_input(name, at, column)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let mut columns = Vec::with_capacity(variables.len());
    for v in variables {
        let column = sim
            .calculate(v, period)
            .map_err(|e| format!("{v}@{period}: {e}"))?;
        let on_group = group.is_some_and(|g| package.variables[v].entity == g.key);
        columns.push((column, on_group));
    }
    Ok(chunk
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mut row = vec![input.ids[i].clone()];
            for (column, on_group) in &columns {
                let m = if *on_group { group_of[k] } else { k };
                row.push(text_of(column, m));
            }
            row
        })
        .collect())
}

//! Computing a package's variables for a population: persons, and the groups they belong
//! to (households) with their roles. Inputs are given by variable and period; everything
//! else comes from the formulas in force on the period's first day, each result computed
//! once and kept. A group's formula adds up its members (`sum(members.salary)`,
//! `count(adults)`, `any(children.age < 6)`); a person's formula reads her group's
//! variables (`household.rent`).

use rustc_hash::FxHashMap as HashMap;

use std::sync::Arc;

use crate::eval::{Column, EvalError, Resolver, evaluate};
use crate::formula::Expr;
use crate::package::{Body, DefaultValue, Package, ValueType, Variable};
use crate::parameters::Parameters;
use crate::period::{Period, Unit};

/// Which group each person is in, and in what role.
struct Grouping {
    count: usize,
    /// Shared with the explanations that read a group's variable for its persons.
    group_of: Arc<[usize]>,
    /// The place of each person's role in the entity's roles.
    role_of: Vec<u16>,
}

/// What one computation used, for OpenFisca's trace: the variables it read (each as
/// `name<period>`) and the parameters (`path<day>` with the value read).
#[derive(Clone, Debug, Default)]
pub struct TraceNode {
    /// The variables read, in order, once each.
    pub dependencies: Vec<String>,
    /// The parameters read, once each.
    pub parameters: Vec<(String, serde_json::Value)>,
}

/// A variable (its name, borrowed from the package) and a period.
type Key<'a> = (&'a str, Period);

/// A population and what is known and computed about it.
pub struct Simulation<'a> {
    package: &'a Package,
    persons: usize,
    person_entity: &'a str,
    groups: HashMap<String, Grouping>,
    // Keyed by the variable's name as the package holds it: no allocation per lookup.
    inputs: HashMap<Key<'a>, Column>,
    computed: HashMap<Key<'a>, Column>,
    stack: Vec<Key<'a>>,
    trace: Option<Vec<((String, Period), TraceNode)>>,
    /// When explanations are to follow: each `sum`, `count`, `any` and `all` over a
    /// group's members as the formulas computed it, under its argument's place in the
    /// package and the period.
    members_kept: Option<HashMap<(usize, Period), Column>>,
}

impl<'a> Simulation<'a> {
    /// `persons` persons (the package's entity without roles), in no group yet.
    pub fn new(package: &'a Package, persons: usize) -> Simulation<'a> {
        let person_entity = package
            .entities
            .values()
            .find(|e| e.roles.is_empty())
            .map_or("person", |e| e.key.as_str());
        Simulation {
            package,
            persons,
            person_entity,
            groups: HashMap::default(),
            inputs: HashMap::default(),
            computed: HashMap::default(),
            stack: Vec::new(),
            trace: None,
            members_kept: None,
        }
    }

    /// Keeps what each `sum`, `count`, `any` and `all` over a group's members computes
    /// from now on, so that explanations made afterwards take it instead of computing it
    /// again.
    pub fn keep_for_explanations(&mut self) {
        self.members_kept.get_or_insert_with(HashMap::default);
    }

    /// Takes what a `sum`, `count`, `any` or `all` of `argument` computed for `period`,
    /// if it was kept (see [`Simulation::keep_for_explanations`]).
    pub(crate) fn take_kept_members(&mut self, argument: &Expr, period: Period) -> Option<Column> {
        self.members_kept
            .as_mut()?
            .remove(&(std::ptr::from_ref(argument) as usize, period))
    }

    /// Which group of `entity` each person is in, once the groups are added.
    pub(crate) fn group_of(&self, entity: &str) -> Option<Arc<[usize]>> {
        self.groups.get(entity).map(|g| g.group_of.clone())
    }

    /// Puts the persons into `count` groups of a group entity: person `i` is in group
    /// `group_of[i]` with role `role_of[i]` (a role's name, e.g. `adult`).
    pub fn add_group(
        &mut self,
        entity: &str,
        count: usize,
        group_of: Vec<usize>,
        role_of: Vec<String>,
    ) -> Result<(), EvalError> {
        let roles = self.roles_of(entity)?;
        let mut indices = Vec::with_capacity(role_of.len());
        for (i, r) in role_of.iter().enumerate() {
            match roles.iter().position(|(role, _)| role == r) {
                Some(k) => indices.push(k as u16),
                None => {
                    return Err(EvalError::Call(format!(
                        "{entity}: person {i} has the role '{r}', which {entity} does not have"
                    )));
                }
            }
        }
        self.add_group_indexed(entity, count, group_of, indices)
    }

    /// As `add_group`, each person's role given by its place in the entity's roles
    /// (`0` for the first, e.g. `adult`): for populations, where a name per person costs.
    pub fn add_group_indexed(
        &mut self,
        entity: &str,
        count: usize,
        group_of: Vec<usize>,
        role_of: Vec<u16>,
    ) -> Result<(), EvalError> {
        let wrong = |m: String| Err(EvalError::Call(format!("{entity}: {m}")));
        let roles = self.roles_of(entity)?.len();
        if group_of.len() != self.persons || role_of.len() != self.persons {
            return wrong(format!(
                "give a group and a role for each of {} persons",
                self.persons
            ));
        }
        if let Some(i) = group_of.iter().position(|g| *g >= count) {
            return wrong(format!(
                "person {i} is in group {}, of {count}",
                group_of[i]
            ));
        }
        if let Some(i) = role_of.iter().position(|r| usize::from(*r) >= roles) {
            return wrong(format!(
                "person {i} has role number {}, of {roles}",
                role_of[i]
            ));
        }
        self.groups.insert(
            entity.to_string(),
            Grouping {
                count,
                group_of: group_of.into(),
                role_of,
            },
        );
        Ok(())
    }

    /// A group entity's roles.
    fn roles_of(&self, entity: &str) -> Result<&'a [(String, String)], EvalError> {
        self.package
            .entities
            .get(entity)
            .filter(|e| !e.roles.is_empty())
            .map(|e| e.roles.as_slice())
            .ok_or_else(|| EvalError::Call(format!("{entity}: not a group entity of this package")))
    }

    /// Records from now on what each computation reads (OpenFisca's `/trace`).
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }

    /// What each variable computed or read used, in the order first met, if traced.
    pub fn trace(&self) -> Option<&[((String, Period), TraceNode)]> {
        self.trace.as_deref()
    }

    /// The values already given or computed for a variable and period.
    pub fn known(&self, name: &str, period: Period) -> Option<&Column> {
        let key = self.key(name, period)?;
        self.inputs.get(&key).or_else(|| self.computed.get(&key))
    }

    /// The key a variable's values for `period` are kept under, if it exists.
    fn key(&self, name: &str, period: Period) -> Option<Key<'a>> {
        self.found(name, period).map(|(key, _)| key)
    }

    /// A variable and the key its values for `period` are kept under: one lookup serves
    /// both.
    fn found(&self, name: &str, period: Period) -> Option<(Key<'a>, &'a Variable)> {
        let (name, variable) = self.package.variables.get_key_value(name)?;
        Some((key_of(name, variable, period), variable))
    }

    fn trace_node(&mut self, key: &Key<'_>) -> Option<&mut TraceNode> {
        let trace = self.trace.as_mut()?;
        let key = (key.0.to_string(), key.1);
        let at = match trace.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                trace.push((key, TraceNode::default()));
                trace.len() - 1
            }
        };
        Some(&mut trace[at].1)
    }

    /// Notes, when tracing, that the computation under way read `key`.
    fn note_read(&mut self, key: &Key<'a>) {
        if self.trace.is_none() {
            return;
        }
        self.trace_node(key);
        if let Some(reader) = self.stack.last().copied() {
            let name = format!("{}<{}>", key.0, key.1);
            if let Some(node) = self.trace_node(&reader)
                && !node.dependencies.contains(&name)
            {
                node.dependencies.push(name);
            }
        }
    }

    /// The package it computes.
    pub fn package(&self) -> &'a Package {
        self.package
    }

    /// Whether a variable's values for a period were given as input.
    pub fn is_input(&self, name: &str, period: Period) -> bool {
        self.key(name, period)
            .is_some_and(|key| self.inputs.contains_key(&key))
    }

    /// Evaluates a formula as a variable of `entity` would (for explanations).
    pub fn evaluate_for_entity(
        &mut self,
        entity: &str,
        expr: &Expr,
        period: Period,
    ) -> Result<Column, EvalError> {
        let live = vec![true; self.count_of(entity)];
        self.evaluate_where(entity, expr, period, &live)
    }

    /// As `evaluate_for_entity`, for the members where `live` is true (errors of the
    /// others, such as a division by zero outside their branch, do not count).
    pub fn evaluate_where(
        &mut self,
        entity: &str,
        expr: &Expr,
        period: Period,
        live: &[bool],
    ) -> Result<Column, EvalError> {
        let entity = self
            .package
            .entities
            .get_key_value(entity)
            .map(|(k, _)| k.as_str())
            .ok_or_else(|| EvalError::Call(format!("there is no entity {entity}")))?;
        let mut view = View {
            sim: self,
            entity,
            scope: None,
        };
        crate::eval::evaluate_where(expr, period, &mut view, live)
    }

    fn count_of(&self, entity: &str) -> usize {
        if entity == self.person_entity {
            self.persons
        } else {
            self.groups.get(entity).map_or(0, |g| g.count)
        }
    }

    /// Gives a variable's values for a period (they win over its formula).
    pub fn set_input(
        &mut self,
        name: &str,
        period: Period,
        values: Column,
    ) -> Result<(), EvalError> {
        let variable = self
            .package
            .variables
            .get(name)
            .ok_or_else(|| EvalError::UnknownVariable(name.to_string()))?;
        if let Column::Text(given) = &values
            && !variable.values.is_empty()
            && let Some(bad) = given.iter().find(|g| !variable.values.contains(g))
        {
            return Err(EvalError::Call(format!(
                "{name}: '{bad}' is not one of its values ({})",
                variable.values.join(", ")
            )));
        }
        let count = self.count_of(&variable.entity);
        if values.len() != count {
            return Err(EvalError::Call(format!(
                "{name}: {} values for {count} {}",
                values.len(),
                variable.entity
            )));
        }
        let Some(key) = self.key(name, period) else {
            return Err(EvalError::UnknownVariable(name.to_string()));
        };
        self.inputs.insert(key, values);
        Ok(())
    }

    /// Gives a monthly variable's values for a longer period (a year's salary): what the
    /// months already given do not account for is spread equally over the others; an
    /// error when every month is given and they do not add up.
    pub fn set_input_spread(
        &mut self,
        name: &str,
        period: Period,
        values: Column,
    ) -> Result<(), EvalError> {
        let unit = self
            .package
            .variables
            .get(name)
            .map(|v| v.period)
            .ok_or_else(|| EvalError::UnknownVariable(name.to_string()))?;
        let Column::Number(total) = values else {
            return Err(EvalError::Call(format!(
                "{name}: only numbers can be spread over months"
            )));
        };
        let months = period.subperiods(unit).map_err(EvalError::Call)?;
        let mut rest = total.clone();
        let mut open = Vec::new();
        for m in &months {
            match self.key(name, *m).and_then(|key| self.inputs.get(&key)) {
                Some(Column::Number(known)) => {
                    for (r, k) in rest.iter_mut().zip(known) {
                        *r -= k;
                    }
                }
                _ => open.push(*m),
            }
        }
        if open.is_empty() {
            if rest.iter().any(|r| r.abs() > 1e-6) {
                return Err(EvalError::Call(format!(
                    "{name}: every {} of {period} is given and they do not add up to it",
                    unit.as_str()
                )));
            }
            return Ok(());
        }
        let share: Vec<f64> = rest.iter().map(|r| r / open.len() as f64).collect();
        for m in open {
            self.set_input(name, m, Column::Number(share.clone()))?;
        }
        Ok(())
    }

    /// A variable's values for a period: an input, else its formula, else its default.
    pub fn calculate(&mut self, name: &str, period: Period) -> Result<Column, EvalError> {
        let Some((key, variable)) = self.found(name, period) else {
            return Err(EvalError::UnknownVariable(name.to_string()));
        };
        self.calculate_found(key, variable)
    }

    /// As [`Simulation::calculate`], for a variable already found in the package (its
    /// name as the package holds it).
    pub(crate) fn calculate_variable(
        &mut self,
        name: &'a str,
        variable: &'a Variable,
        period: Period,
    ) -> Result<Column, EvalError> {
        self.calculate_found(key_of(name, variable, period), variable)
    }

    /// As [`Simulation::is_input`], for a variable already found in the package.
    pub(crate) fn is_input_variable(
        &self,
        name: &'a str,
        variable: &'a Variable,
        period: Period,
    ) -> bool {
        self.inputs.contains_key(&key_of(name, variable, period))
    }

    fn calculate_found(
        &mut self,
        key: Key<'a>,
        variable: &'a Variable,
    ) -> Result<Column, EvalError> {
        let (name, period) = key;
        if variable.neutralized {
            // As OpenFisca: a neutralised variable is its default, whatever was given.
            return Ok(Self::default_column(
                &variable.default,
                self.count_of(&variable.entity),
            ));
        }
        self.note_read(&key);
        if let Some(c) = self.inputs.get(&key).or_else(|| self.computed.get(&key)) {
            return Ok(c.clone());
        }
        if self.stack.contains(&key) {
            let circle: Vec<String> = self
                .stack
                .iter()
                .map(|(n, p)| format!("{n}@{p}"))
                .chain(std::iter::once(format!("{name}@{period}")))
                .collect();
            return Err(EvalError::Cycle(circle.join(" → ")));
        }
        self.stack.push(key);
        let result = self.compute(name, variable, period);
        self.stack.pop();
        let column = result?;
        self.computed.insert(key, column.clone());
        Ok(column)
    }

    fn default_column(default: &DefaultValue, n: usize) -> Column {
        match default {
            DefaultValue::Number(v) => Column::Number(vec![*v; n]),
            DefaultValue::Bool(b) => Column::Bool(vec![*b; n]),
            DefaultValue::Text(t) => Column::Text(vec![t.clone(); n]),
            DefaultValue::Date(d) => Column::Date(vec![*d; n]),
        }
    }

    fn compute(
        &mut self,
        name: &str,
        variable: &'a Variable,
        period: Period,
    ) -> Result<Column, EvalError> {
        let fits = match variable.period {
            Unit::Eternity => true,
            unit => period.unit == unit && period.size == 1,
        };
        if !fits {
            return Err(EvalError::PeriodMismatch {
                variable: name.to_string(),
                unit: variable.period.as_str(),
                period: period.to_string(),
            });
        }
        let n = self.count_of(&variable.entity);
        let Some(formula) = variable.formula_on(period.start) else {
            return Ok(Self::default_column(&variable.default, n));
        };
        let mut view = View {
            sim: self,
            entity: variable.entity.as_str(),
            scope: None,
        };
        Ok(match &formula.body {
            Body::End => Self::default_column(&variable.default, n),
            Body::Formula(w) => evaluate(&w.expr, period, &mut view)?,
            Body::Cases { cases, otherwise } => {
                let mut chosen: Vec<Option<usize>> = vec![None; n];
                let mut values = Vec::with_capacity(cases.len());
                for (i, case) in cases.iter().enumerate() {
                    let Column::Bool(holds) = evaluate(&case.when.expr, period, &mut view)? else {
                        return Err(EvalError::Call(format!(
                            "{name}: the case at {} is not a condition",
                            case.origin
                        )));
                    };
                    let mut clash: Option<usize> = None;
                    let mut clashes = 0;
                    for (m, h) in holds.iter().enumerate() {
                        if *h {
                            match chosen[m] {
                                Some(j) => {
                                    clash = Some(j);
                                    clashes += 1;
                                }
                                None => chosen[m] = Some(i),
                            }
                        }
                    }
                    if let Some(j) = clash {
                        return Err(EvalError::Conflict {
                            variable: name.to_string(),
                            period: period.to_string(),
                            first: cases[j].origin.to_string(),
                            second: case.origin.to_string(),
                            count: clashes,
                            of: n,
                        });
                    }
                    values.push(evaluate(&case.then.expr, period, &mut view)?);
                }
                let fallback = match otherwise {
                    Some(w) => Some(evaluate(&w.expr, period, &mut view)?),
                    None => None,
                };
                let missing = chosen.iter().filter(|c| c.is_none()).count();
                if missing > 0 && fallback.is_none() {
                    return Err(EvalError::NoCase {
                        variable: name.to_string(),
                        period: period.to_string(),
                        count: missing,
                        of: n,
                    });
                }
                pick(variable.value_type, &chosen, &values, fallback.as_ref())?
            }
        })
    }
}

/// The simulation as one entity's formulas see it. Inside `sum(…)` of a group, the
/// persons' view is scoped to that group, so `members.salary` and `adults.salary` name the
/// persons' `salary`.
struct View<'s, 'a> {
    sim: &'s mut Simulation<'a>,
    entity: &'a str,
    scope: Option<&'a str>,
}

impl View<'_, '_> {
    fn is_member_word(&self, word: &str) -> bool {
        let Some(group) = self.scope else {
            return false;
        };
        word == "members"
            || self
                .sim
                .package
                .entities
                .get(group)
                .is_some_and(|e| e.roles.iter().any(|(_, plural)| plural == word))
    }

    /// The role a member word selects, by its place (`adults` → 0; `members` → any).
    fn role_of_word(&self, group: &str, word: &str) -> Option<Option<u16>> {
        if word == "members" {
            return Some(None);
        }
        self.sim
            .package
            .entities
            .get(group)?
            .roles
            .iter()
            .position(|(_, plural)| plural == word)
            .map(|k| Some(k as u16))
    }
}

impl Resolver for View<'_, '_> {
    fn members(&self) -> usize {
        self.sim.count_of(self.entity)
    }

    fn variable(&mut self, name: &str, period: Period) -> Result<Column, EvalError> {
        let package = self.sim.package;
        let (target, variable_name): (&str, &str) = match name.split_once('.') {
            None => (self.entity, name),
            Some((word, var)) if !var.contains('.') && self.is_member_word(word) => {
                (self.entity, var)
            }
            Some((group, var)) if !var.contains('.') => {
                match package.entities.get_key_value(group) {
                    Some((key, _)) => (key.as_str(), var),
                    None => return Err(EvalError::UnknownVariable(name.to_string())),
                }
            }
            _ => return Err(EvalError::UnknownVariable(name.to_string())),
        };
        let (variable_name, variable) = package
            .variables
            .get_key_value(variable_name)
            .ok_or_else(|| EvalError::UnknownVariable(variable_name.to_string()))?;
        if variable.entity != target {
            return Err(EvalError::Call(format!(
                "{variable_name} belongs to {}, not {target}: {}",
                variable.entity,
                if variable.entity == self.sim.person_entity {
                    format!("add it up with sum(members.{variable_name})")
                } else {
                    format!("read it as {}.{variable_name}", variable.entity)
                }
            )));
        }
        let column = self
            .sim
            .calculate_variable(variable_name, variable, period)?;
        if target == self.entity {
            return Ok(column);
        }
        // A person's formula reading her group's variable: each person gets her group's.
        if self.entity != self.sim.person_entity {
            return Err(EvalError::Call(format!(
                "{} reads {target}'s variables only through its persons",
                self.entity
            )));
        }
        let grouping = self.sim.groups.get(target).ok_or_else(|| {
            EvalError::Call(format!(
                "the persons are in no {target}: add the groups first"
            ))
        })?;
        Ok(column.gather(&grouping.group_of))
    }

    fn parameters(&self) -> &Parameters {
        &self.sim.package.parameters
    }

    fn tracing(&self) -> bool {
        self.sim.trace.is_some()
    }

    fn noted(&mut self, path: &str, day: time::Date, value: serde_json::Value) {
        let Some(reader) = self.sim.stack.last().cloned() else {
            return;
        };
        let name = format!("{path}<{}>", crate::period::format_day(day));
        if let Some(node) = self.sim.trace_node(&reader)
            && !node.parameters.iter().any(|(n, _)| *n == name)
        {
            node.parameters.push((name, value));
        }
    }

    fn convert(&mut self, function: &str, name: &str, period: Period) -> Result<Column, EvalError> {
        let variable_name = name.rsplit('.').next().unwrap_or(name);
        let unit = self
            .sim
            .package
            .variables
            .get(variable_name)
            .map(|v| v.period)
            .ok_or_else(|| EvalError::UnknownVariable(variable_name.to_string()))?;
        let add = |a: Column, b: Column| -> Result<Column, EvalError> {
            match (a, b) {
                (Column::Number(a), Column::Number(b)) => Ok(Column::Number(
                    a.into_iter().zip(b).map(|(x, y)| x + y).collect(),
                )),
                _ => Err(EvalError::Call(format!("total({name}) adds numbers"))),
            }
        };
        match function {
            "total" => {
                let parts = period.subperiods(unit).map_err(EvalError::Call)?;
                let mut sum: Option<Column> = None;
                for part in parts {
                    let column = self.variable(name, part)?;
                    sum = Some(match sum {
                        None => column,
                        Some(acc) => add(acc, column)?,
                    });
                }
                sum.ok_or_else(|| {
                    EvalError::Call(format!("total({name}): {period} has no {}s", unit.as_str()))
                })
            }
            _ => {
                if unit != Unit::Year || period.unit != Unit::Month || period.size != 1 {
                    return Err(EvalError::Call(format!(
                        "per_month({name}) spreads a yearly variable over one month, not {} over {period}",
                        unit.as_str()
                    )));
                }
                match self.variable(name, period.this_year())? {
                    Column::Number(v) => {
                        Ok(Column::Number(v.into_iter().map(|x| x / 12.0).collect()))
                    }
                    _ => Err(EvalError::Call(format!(
                        "per_month({name}) spreads a number"
                    ))),
                }
            }
        }
    }

    fn aggregate(
        &mut self,
        function: &str,
        argument: &Expr,
        period: Period,
    ) -> Result<Column, EvalError> {
        let column = self.aggregate_now(function, argument, period)?;
        if let Some(kept) = self.sim.members_kept.as_mut() {
            // The argument's place in the package names the call: the package outlives
            // the simulation and does not change under it.
            kept.insert(
                (std::ptr::from_ref(argument) as usize, period),
                column.clone(),
            );
        }
        Ok(column)
    }
}

impl View<'_, '_> {
    /// `sum`, `count`, `any` or `all` of `argument` over the group's members, computed.
    fn aggregate_now(
        &mut self,
        function: &str,
        argument: &Expr,
        period: Period,
    ) -> Result<Column, EvalError> {
        let group = self.entity;
        let Some(count) = self.sim.groups.get(group).map(|g| g.count) else {
            return Err(EvalError::Call(format!(
                "{function}(…) adds up a group's members; {group} has none"
            )));
        };
        // The member word (`members`, `adults`…) the argument's references use; they must
        // all use the same one.
        let mut words = Vec::new();
        argument.each(&mut |e| {
            if let Expr::Reference { path, .. } = e
                && path.first().is_some_and(|p| p != "p")
                && (path.len() == 1 || path.len() == 2)
            {
                words.push(path[0].as_str());
            }
        });
        words.sort();
        words.dedup();
        let word = match words.as_slice() {
            [one] => *one,
            _ => {
                return Err(EvalError::Call(format!(
                    "{function}(…) names the members once: members, or one role's plural ({})",
                    words.join(", ")
                )));
            }
        };
        let role = self.role_of_word(group, word).ok_or_else(|| {
            EvalError::Call(format!("{word} is not members or a role of {group}"))
        })?;
        // `count(adults)`: the members themselves; otherwise the argument for each person.
        let values = match argument {
            Expr::Reference { path, .. } if path.len() == 1 => {
                Column::Bool(vec![true; self.sim.persons])
            }
            _ => {
                let person = self.sim.person_entity;
                let mut persons = View {
                    sim: &mut *self.sim,
                    entity: person,
                    scope: Some(group),
                };
                evaluate(argument, period, &mut persons)?
            }
        };
        let grouping = &self.sim.groups[group];
        let included = |i: usize| role.is_none_or(|r| grouping.role_of[i] == r);
        Ok(match (function, values) {
            ("sum", Column::Number(v)) => {
                let mut out = vec![0.0; count];
                for (i, x) in v.iter().enumerate().filter(|(i, _)| included(*i)) {
                    out[grouping.group_of[i]] += x;
                }
                Column::Number(out)
            }
            ("sum" | "count", Column::Bool(v)) => {
                let mut out = vec![0.0; count];
                for (i, x) in v.iter().enumerate().filter(|(i, _)| included(*i)) {
                    out[grouping.group_of[i]] += f64::from(u8::from(*x));
                }
                Column::Number(out)
            }
            ("any" | "all", Column::Bool(v)) => {
                let all = function == "all";
                let mut out = vec![all; count];
                for (i, x) in v.iter().enumerate().filter(|(i, _)| included(*i)) {
                    let g = grouping.group_of[i];
                    out[g] = if all { out[g] && *x } else { out[g] || *x };
                }
                Column::Bool(out)
            }
            (f, c) => {
                return Err(EvalError::Call(format!(
                    "{f}(…) takes {} over the members, not {}",
                    if f == "sum" { "numbers" } else { "conditions" },
                    match c {
                        Column::Number(_) => "numbers",
                        Column::Bool(_) => "conditions",
                        Column::Text(_) => "texts",
                        Column::Date(_) => "dates",
                    }
                )));
            }
        })
    }
}

/// The key a variable's values for `period` are kept under: an eternal variable's are
/// kept once, for every period.
fn key_of<'a>(name: &'a str, variable: &Variable, period: Period) -> Key<'a> {
    let period = match variable.period {
        Unit::Eternity => Period::eternity(),
        _ => period,
    };
    (name, period)
}

/// Each member's value from the case that holds for it, else the fallback.
fn pick(
    kind: ValueType,
    chosen: &[Option<usize>],
    values: &[Column],
    fallback: Option<&Column>,
) -> Result<Column, EvalError> {
    let source = |m: usize| match chosen[m] {
        Some(i) => values.get(i),
        None => fallback,
    };
    let wrong = || EvalError::Call("a case's value is not of the variable's type".into());
    Ok(match kind {
        ValueType::Number => Column::Number(
            (0..chosen.len())
                .map(|m| match source(m) {
                    Some(Column::Number(v)) => Ok(v[m]),
                    Some(Column::Bool(v)) => Ok(f64::from(u8::from(v[m]))),
                    _ => Err(wrong()),
                })
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Bool => Column::Bool(
            (0..chosen.len())
                .map(|m| match source(m) {
                    Some(Column::Bool(v)) => Ok(v[m]),
                    _ => Err(wrong()),
                })
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Date => Column::Date(
            (0..chosen.len())
                .map(|m| match source(m) {
                    Some(Column::Date(v)) => Ok(v[m]),
                    _ => Err(wrong()),
                })
                .collect::<Result<_, _>>()?,
        ),
        ValueType::Text => Column::Text(
            (0..chosen.len())
                .map(|m| match source(m) {
                    Some(Column::Text(v)) => Ok(v[m].clone()),
                    _ => Err(wrong()),
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

//! Computing a package's variables for a population of one entity (persons, say): inputs
//! given by variable and period, everything else from the formulas in force on the
//! period's first day, each result computed once and kept. Group entities and roles
//! (households and their members) come next.

use std::collections::HashMap;

use crate::eval::{Column, EvalError, Resolver, evaluate};
use crate::package::{Body, DefaultValue, Package, ValueType};
use crate::parameters::Parameters;
use crate::period::{Period, Unit};

/// A population of one entity and what is known and computed about it.
pub struct Simulation<'a> {
    package: &'a Package,
    members: usize,
    inputs: HashMap<(String, Period), Column>,
    computed: HashMap<(String, Period), Column>,
    stack: Vec<(String, Period)>,
}

impl<'a> Simulation<'a> {
    /// A population of `members` of one entity.
    pub fn new(package: &'a Package, members: usize) -> Simulation<'a> {
        Simulation {
            package,
            members,
            inputs: HashMap::new(),
            computed: HashMap::new(),
            stack: Vec::new(),
        }
    }

    /// Gives a variable's values for a period (they win over its formula).
    pub fn set_input(
        &mut self,
        name: &str,
        period: Period,
        values: Column,
    ) -> Result<(), EvalError> {
        if values.len() != self.members {
            return Err(EvalError::Call(format!(
                "{name}: {} values for {} members",
                values.len(),
                self.members
            )));
        }
        self.inputs.insert((name.to_string(), period), values);
        Ok(())
    }

    /// A variable's values for a period: an input, else its formula, else its default.
    pub fn calculate(&mut self, name: &str, period: Period) -> Result<Column, EvalError> {
        self.variable(name, period)
    }

    fn default_column(&self, default: &DefaultValue) -> Column {
        match default {
            DefaultValue::Number(v) => Column::Number(vec![*v; self.members]),
            DefaultValue::Bool(b) => Column::Bool(vec![*b; self.members]),
            DefaultValue::Text(t) => Column::Text(vec![t.clone(); self.members]),
        }
    }

    fn compute(&mut self, name: &str, period: Period) -> Result<Column, EvalError> {
        let package = self.package;
        let variable = package
            .variables
            .get(name)
            .ok_or_else(|| EvalError::UnknownVariable(name.to_string()))?;
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
        let Some(formula) = variable.formula_on(period.start) else {
            return Ok(self.default_column(&variable.default));
        };
        let column = match &formula.body {
            Body::End => self.default_column(&variable.default),
            Body::Formula(w) => evaluate(&w.expr, period, self)?,
            Body::Cases { cases, otherwise } => {
                let n = self.members;
                let mut chosen: Vec<Option<usize>> = vec![None; n];
                let mut values = Vec::with_capacity(cases.len());
                for (i, case) in cases.iter().enumerate() {
                    let holds = match evaluate(&case.when.expr, period, self)? {
                        Column::Bool(v) => v,
                        _ => {
                            return Err(EvalError::Call(format!(
                                "{name}: the case at {} is not a condition",
                                case.origin
                            )));
                        }
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
                    values.push(evaluate(&case.then.expr, period, self)?);
                }
                let fallback = match otherwise {
                    Some(w) => Some(evaluate(&w.expr, period, self)?),
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
        };
        Ok(column)
    }
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

impl Resolver for Simulation<'_> {
    fn members(&self) -> usize {
        self.members
    }

    fn variable(&mut self, name: &str, period: Period) -> Result<Column, EvalError> {
        let key = (name.to_string(), period);
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
        self.stack.push(key.clone());
        let result = self.compute(name, period);
        self.stack.pop();
        let column = result?;
        self.computed.insert(key, column.clone());
        Ok(column)
    }

    fn parameters(&self) -> &Parameters {
        &self.package.parameters
    }
}

//! Explanations: for one member of the population, why a variable has its value — the
//! formula in force and since when, which case applied (and why the others did not), each
//! condition with its value, each parameter read with its value, the day it has been in
//! force since and its citation, and the variables it used, explained in turn. A stable,
//! versioned JSON shape (`"version": 1`), cheap enough to keep with every decision: what
//! the formula's evaluation already computed is not computed again, texts and citations
//! are shared with the package, and days are written out only when serialised.

use std::sync::Arc;

use serde::{Serialize, Serializer};
use time::Date;

use crate::eval::{Column, EvalError};
use crate::formula::{BinaryOp, Expr};
use crate::package::{Body, Package, Variable};
use crate::parameters::Citation;
use crate::period::{Period, format_day};
use crate::simulation::Simulation;
use crate::situation::json_at;

/// The version of the explanation format.
pub const FORMAT_VERSION: u32 = 1;

/// Why a variable has its value for one member.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Explanation {
    /// The format version.
    pub version: u32,
    /// The variable.
    pub variable: Arc<str>,
    /// Its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Arc<str>>,
    /// The period (written as `2024-03`, `2024`, …).
    #[serde(serialize_with = "as_text")]
    pub period: Period,
    /// The member (index in its entity's population).
    pub member: usize,
    /// The value.
    pub value: serde_json::Value,
    /// How it was obtained: `input`, `formula`, `case`, `otherwise`, `default`.
    pub source: &'static str,
    /// The first day of the formula in force (written `YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_day")]
    pub formula_since: Option<Date>,
    /// The law the variable implements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Arc<Citation>>,
    /// The formula or case that gave the value, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<Arc<str>>,
    /// The case's own citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_citation: Option<Arc<Citation>>,
    /// What the formula used, in the order written.
    pub steps: Vec<Step>,
    /// For cases: each case's condition and whether it held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<CaseOutcome>,
}

/// One thing a formula used.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Step {
    /// `condition`, `parameter`, `scale` (its brackets in force), `variable`, or `members`
    /// (a sum, count, any or all over a group's members).
    pub kind: &'static str,
    /// As written in the formula.
    pub text: Quote,
    /// Its value for the member.
    pub value: serde_json::Value,
    /// A parameter's first day in force (written `YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_day")]
    pub since: Option<Date>,
    /// A parameter's citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Arc<Citation>>,
    /// A variable's own explanation (to a limited depth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<Box<Explanation>>,
}

/// Whether one case held.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CaseOutcome {
    /// Its condition as written.
    pub when: Arc<str>,
    /// Whether it held for the member.
    pub held: bool,
    /// Its citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Arc<Citation>>,
    /// What the condition used.
    pub steps: Vec<Step>,
}

/// A part of a formula as written: the formula's text, shared with the package, and
/// where in it (serialised as the part itself).
#[derive(Clone, Debug)]
pub struct Quote {
    formula: Arc<str>,
    start: usize,
    end: usize,
}

impl Quote {
    /// The part as text.
    pub fn as_str(&self) -> &str {
        self.formula.get(self.start..self.end).unwrap_or("")
    }
}

impl std::ops::Deref for Quote {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Quote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Quote {
    fn eq(&self, other: &Quote) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Quote {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

fn as_text<S: Serializer>(period: &Period, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(period)
}

fn as_day<S: Serializer>(day: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match day {
        Some(d) => s.serialize_str(&format_day(*d)),
        None => s.serialize_none(),
    }
}

/// How deep variables used by a formula are explained in turn.
const DEPTH: usize = 3;

/// Explains `variable` for one member.
pub fn explain(
    sim: &mut Simulation<'_>,
    variable: &str,
    period: Period,
    member: usize,
) -> Result<Explanation, EvalError> {
    let mut all = explain_all(sim, variable, period)?;
    if member >= all.len() {
        return Err(EvalError::Call(format!(
            "{variable} has {} members, not {}",
            all.len(),
            member + 1
        )));
    }
    Ok(all.swap_remove(member))
}

/// Explains `variable` for every member of its entity at once: each condition,
/// parameter and variable is evaluated once for everybody (as the formula was), then each
/// member's explanation picks its own values.
pub fn explain_all(
    sim: &mut Simulation<'_>,
    variable: &str,
    period: Period,
) -> Result<Vec<Explanation>, EvalError> {
    let recorded = record(sim, variable, period)?;
    Ok((0..recorded.len()).map(|m| recorded.member(m)).collect())
}

/// Records why `variable` has its values for everybody, as columns — every condition,
/// parameter, case and variable used, once for all members — without making any
/// member's tree: [`Recorded::member`] makes one when it is read or stored. What a run
/// over the population keeps for everybody and builds only for the decisions it writes.
pub fn record(
    sim: &mut Simulation<'_>,
    variable: &str,
    period: Period,
) -> Result<Recorded, EvalError> {
    let package = sim.package();
    let (name, found) = package
        .variables
        .get_key_value(variable)
        .ok_or_else(|| EvalError::UnknownVariable(variable.to_string()))?;
    explain_to(sim, name, found, period, DEPTH)
}

/// What a formula used, for everybody at once: a step's values as a column, or the
/// steps of an `if` per branch with who took which.
enum Item {
    Step {
        kind: &'static str,
        text: Quote,
        values: Values,
        since: Option<Date>,
        citation: Option<Arc<Citation>>,
        /// The variable used, recorded for everybody (explained at its first mention).
        because: Option<Because>,
    },
    Branch {
        held: Vec<bool>,
        then: Vec<Item>,
        otherwise: Vec<Item>,
    },
}

/// A variable used by a formula, recorded for everybody of its own entity: the formula's
/// (`via` none) or, for a person's formula reading her group's variable, the group's
/// (`via`: each person's group).
struct Because {
    recorded: Box<Recorded>,
    via: Option<Arc<[usize]>>,
}

/// A step's values: one per member, or the same for all (a parameter, a scale).
enum Values {
    Each(Column),
    Same(serde_json::Value),
}

/// A variable explained for everybody, as columns (see [`record`]).
pub struct Recorded {
    variable: Arc<str>,
    label: Option<Arc<str>>,
    period: Period,
    citation: Option<Arc<Citation>>,
    value: Column,
    how: How,
}

/// How a recorded variable got its values.
enum How {
    Input,
    Default {
        since: Option<Date>,
    },
    Formula {
        since: Option<Date>,
        text: Arc<str>,
        items: Vec<Item>,
    },
    Cases {
        since: Option<Date>,
        whens: Vec<Arc<str>>,
        thens: Vec<Arc<str>>,
        citations: Vec<Option<Arc<Citation>>>,
        otherwise_text: Option<Arc<str>>,
        held: Vec<Vec<bool>>,
        when_items: Vec<Vec<Item>>,
        then_items: Vec<Vec<Item>>,
        otherwise_items: Vec<Item>,
        /// The case that gave each member's value, if any.
        applied: Vec<Option<usize>>,
    },
}

impl Recorded {
    /// How many members it explains.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether it explains nobody.
    pub fn is_empty(&self) -> bool {
        self.value.len() == 0
    }

    /// One member's explanation (her tree, made now).
    pub fn member(&self, m: usize) -> Explanation {
        let mut e = Explanation {
            version: FORMAT_VERSION,
            variable: self.variable.clone(),
            label: self.label.clone(),
            period: self.period,
            member: m,
            value: json_at(&self.value, m),
            source: "default",
            formula_since: None,
            citation: self.citation.clone(),
            formula: None,
            case_citation: None,
            steps: Vec::new(),
            cases: Vec::new(),
        };
        match &self.how {
            How::Input => e.source = "input",
            How::Default { since } => e.formula_since = *since,
            How::Formula { since, text, items } => {
                e.source = "formula";
                e.formula_since = *since;
                e.formula = Some(text.clone());
                e.steps = member_steps(items, m);
            }
            How::Cases {
                since,
                whens,
                thens,
                citations,
                otherwise_text,
                held,
                when_items,
                then_items,
                otherwise_items,
                applied,
            } => {
                e.formula_since = *since;
                e.cases = when_items
                    .iter()
                    .enumerate()
                    .map(|(i, items)| CaseOutcome {
                        when: whens[i].clone(),
                        held: held[i].get(m).copied().unwrap_or(false),
                        citation: citations[i].clone(),
                        steps: member_steps(items, m),
                    })
                    .collect();
                match (applied.get(m).copied().flatten(), otherwise_text) {
                    (Some(i), _) => {
                        e.source = "case";
                        e.formula = Some(thens[i].clone());
                        e.case_citation = citations[i].clone();
                        e.steps = member_steps(&then_items[i], m);
                    }
                    (None, Some(w)) => {
                        e.source = "otherwise";
                        e.formula = Some(w.clone());
                        e.steps = member_steps(otherwise_items, m);
                    }
                    (None, None) => {}
                }
            }
        }
        e
    }
}

/// A member's own steps out of the items recorded for everybody.
fn steps_of(items: &[Item], member: usize, out: &mut Vec<Step>) {
    for item in items {
        match item {
            Item::Step {
                kind,
                text,
                values,
                since,
                citation,
                because,
            } => out.push(Step {
                kind,
                text: text.clone(),
                value: match values {
                    Values::Each(c) => json_at(c, member),
                    Values::Same(v) => v.clone(),
                },
                since: *since,
                citation: citation.clone(),
                because: because.as_ref().and_then(|b| {
                    let own = match &b.via {
                        Some(via) => *via.get(member)?,
                        None => member,
                    };
                    Some(Box::new(b.recorded.member(own)))
                }),
            }),
            Item::Branch {
                held,
                then,
                otherwise,
            } => steps_of(
                if held.get(member).copied().unwrap_or(false) {
                    then
                } else {
                    otherwise
                },
                member,
                out,
            ),
        }
    }
}

fn member_steps(items: &[Item], member: usize) -> Vec<Step> {
    let mut out = Vec::new();
    steps_of(items, member, &mut out);
    out
}

/// The variables already explained within one formula's explanation: each is explained
/// at its first mention in it only (a formula explained in turn has its own). A handful
/// at most, so a list (cheaper than hashing the names).
type Seen<'a> = Vec<(&'a str, Period)>;

fn explain_to<'a>(
    sim: &mut Simulation<'a>,
    name: &'a str,
    variable: &'a Variable,
    period: Period,
    depth: usize,
) -> Result<Recorded, EvalError> {
    let value = sim.calculate_variable(name, variable, period)?;
    let recorded = |how: How, value: Column| Recorded {
        variable: variable.name.clone(),
        label: variable.label.clone(),
        period,
        citation: variable.citation.clone(),
        value,
        how,
    };
    if sim.is_input_variable(name, variable, period) {
        return Ok(recorded(How::Input, value));
    }
    let Some(formula) = variable.formula_on(period.start) else {
        return Ok(recorded(How::Default { since: None }, value));
    };
    let since = (formula.from != Date::MIN).then_some(formula.from);
    let n = value.len();
    let everybody = vec![true; n];
    let mut seen = Seen::new();
    let mut walker = Walker {
        sim,
        entity: variable.entity.as_str(),
        members: n,
        period,
        depth,
        seen: &mut seen,
    };
    let how = match &formula.body {
        Body::End => How::Default { since },
        Body::Formula(w) => How::Formula {
            since,
            text: w.text.clone(),
            items: walker.walk(&w.expr, &w.text, &everybody, false)?.0,
        },
        Body::Cases { cases, otherwise } => {
            // Each case's condition and what it used, for everybody.
            let mut held = Vec::with_capacity(cases.len());
            let mut when_items = Vec::with_capacity(cases.len());
            for case in cases {
                let (items, known) =
                    walker.walk(&case.when.expr, &case.when.text, &everybody, true)?;
                let known = match known {
                    Some(c) => c,
                    None => walker.evaluate(&case.when.expr, &everybody)?,
                };
                let Column::Bool(h) = known else {
                    return Err(EvalError::Call(format!(
                        "{name}: the case at {} is not a condition",
                        case.origin
                    )));
                };
                when_items.push(items);
                held.push(h);
            }
            let applied: Vec<Option<usize>> = (0..n)
                .map(|m| held.iter().position(|h| h.get(m).copied().unwrap_or(false)))
                .collect();
            // What gave each member's value: the case that held, else `otherwise`; each
            // walked only for the members it gave a value to.
            let mut then_items = Vec::with_capacity(cases.len());
            for (i, case) in cases.iter().enumerate() {
                let live: Vec<bool> = applied.iter().map(|a| *a == Some(i)).collect();
                then_items.push(if live.contains(&true) {
                    walker
                        .walk(&case.then.expr, &case.then.text, &live, false)?
                        .0
                } else {
                    Vec::new()
                });
            }
            let otherwise_items = match otherwise {
                Some(w) => {
                    let live: Vec<bool> = applied.iter().map(Option::is_none).collect();
                    if live.contains(&true) {
                        walker.walk(&w.expr, &w.text, &live, false)?.0
                    } else {
                        Vec::new()
                    }
                }
                None => Vec::new(),
            };
            How::Cases {
                since,
                whens: cases.iter().map(|c| c.when.text.clone()).collect(),
                thens: cases.iter().map(|c| c.then.text.clone()).collect(),
                citations: cases.iter().map(|c| c.citation.clone()).collect(),
                otherwise_text: otherwise.as_ref().map(|w| w.text.clone()),
                held,
                when_items,
                then_items,
                otherwise_items,
                applied,
            }
        }
    };
    Ok(recorded(how, value))
}

/// Walks one variable's formula for everybody: the conditions, parameters and variables
/// it uses, in the order written. Each part's column is made once, from its parts' own
/// (a condition from the variable and parameter it compares, as the formula's evaluation
/// made it); a part that cannot be made so (a function call) is evaluated on its own.
struct Walker<'w, 'a> {
    sim: &'w mut Simulation<'a>,
    entity: &'a str,
    members: usize,
    period: Period,
    depth: usize,
    seen: &'w mut Seen<'a>,
}

impl<'a> Walker<'_, 'a> {
    /// The items of `expr` (part of the formula `text`) where `live`, and its column if
    /// `wanted` and it could be made on the way.
    fn walk(
        &mut self,
        expr: &Expr,
        text: &Arc<str>,
        live: &[bool],
        wanted: bool,
    ) -> Result<(Vec<Item>, Option<Column>), EvalError> {
        let mut out = Vec::with_capacity(8);
        let known = self.walk_into(expr, text, live, wanted, &mut out)?;
        Ok((out, known))
    }

    /// `expr` evaluated on its own where `live` (a division by zero outside a member's
    /// branch is not hers).
    fn evaluate(&mut self, expr: &Expr, live: &[bool]) -> Result<Column, EvalError> {
        self.sim
            .evaluate_where(self.entity, expr, self.period, live)
    }

    /// `expr`'s column: the one made on the way, else evaluated now.
    fn column(
        &mut self,
        known: Option<Column>,
        expr: &Expr,
        live: &[bool],
    ) -> Result<Column, EvalError> {
        match known {
            Some(c) => Ok(c),
            None => self.evaluate(expr, live),
        }
    }

    fn walk_into(
        &mut self,
        expr: &Expr,
        text: &Arc<str>,
        live: &[bool],
        wanted: bool,
        out: &mut Vec<Item>,
    ) -> Result<Option<Column>, EvalError> {
        let quote = |e: &Expr| Quote {
            formula: text.clone(),
            start: e.span().start,
            end: e.span().end,
        };
        let step = |kind, text, values| Item::Step {
            kind,
            text,
            values: Values::Each(values),
            since: None,
            citation: None,
            because: None,
        };
        let n = self.members;
        Ok(match expr {
            Expr::Number(v, _) => wanted.then(|| Column::Number(vec![*v; n])),
            Expr::Bool(b, _) => wanted.then(|| Column::Bool(vec![*b; n])),
            Expr::Text(..) => None,
            Expr::Binary {
                op,
                left,
                right,
                span,
            } => {
                let condition = matches!(
                    op,
                    BinaryOp::Eq
                        | BinaryOp::Ne
                        | BinaryOp::Lt
                        | BinaryOp::Le
                        | BinaryOp::Gt
                        | BinaryOp::Ge
                );
                // A condition's column is a step of its own; any other part's is made
                // only for a part that needs it.
                let needed = wanted || condition;
                let a = self.walk_into(left, text, live, needed, out)?;
                let b = self.walk_into(right, text, live, needed, out)?;
                let value = match (a, b) {
                    (Some(a), Some(b)) if needed => {
                        Some(crate::eval::binary(*op, a, b, *span, live)?)
                    }
                    _ => None,
                };
                if condition {
                    let v = self.column(value, expr, live)?;
                    let known = wanted.then(|| v.clone());
                    out.push(step("condition", quote(expr), v));
                    known
                } else {
                    value
                }
            }
            Expr::Not(x, _) => match self.walk_into(x, text, live, wanted, out)? {
                Some(Column::Bool(v)) => Some(Column::Bool(v.into_iter().map(|b| !b).collect())),
                _ => None,
            },
            Expr::Negate(x, _) => {
                self.walk_into(x, text, live, false, out)?;
                None
            }
            Expr::If {
                condition,
                then,
                otherwise,
                ..
            } => {
                let known = self.walk_into(condition, text, live, true, out)?;
                let Column::Bool(held) = self.column(known, condition, live)? else {
                    return Err(EvalError::Call(format!(
                        "`{}` is not a condition",
                        quote(condition)
                    )));
                };
                let then_live: Vec<bool> = live.iter().zip(&held).map(|(l, h)| *l && *h).collect();
                let else_live: Vec<bool> = live.iter().zip(&held).map(|(l, h)| *l && !*h).collect();
                let then = if then_live.contains(&true) {
                    self.walk(then, text, &then_live, false)?.0
                } else {
                    Vec::new()
                };
                let otherwise = if else_live.contains(&true) {
                    self.walk(otherwise, text, &else_live, false)?.0
                } else {
                    Vec::new()
                };
                out.push(Item::Branch {
                    held,
                    then,
                    otherwise,
                });
                None
            }
            Expr::Call { name, args, .. }
                if matches!(name.as_str(), "sum" | "any" | "all" | "count") =>
            {
                // Over the group's members: the result for the group, as one step (what
                // the members' values are is each member's own explanation), as the
                // formula's evaluation kept it if it did.
                let kept = match args.first() {
                    Some(argument) => self.sim.take_kept_members(argument, self.period),
                    None => None,
                };
                let v = self.column(kept, expr, live)?;
                let known = wanted.then(|| v.clone());
                out.push(step("members", quote(expr), v));
                known
            }
            Expr::Call { name, args, .. } if matches!(name.as_str(), "total" | "per_month") => {
                // A variable read over another period (a year's total of months, a year
                // spread over one month): one step with the converted value; a yearly
                // variable spread over a month is explained for its year.
                let v = self.evaluate(expr, live)?;
                let because = match args.first() {
                    Some(Expr::Reference {
                        path,
                        period: shift,
                        ..
                    }) if name == "per_month" => {
                        let package = self.sim.package();
                        match path.as_slice() {
                            [variable] => match package.variables.get_key_value(variable) {
                                Some((variable, found)) if found.entity == self.entity => {
                                    let at = match shift {
                                        Some(s) => crate::eval::shifted(self.period, s)?,
                                        None => self.period,
                                    };
                                    self.because(variable, found, at.this_year(), None)?
                                }
                                _ => None,
                            },
                            _ => None,
                        }
                    }
                    _ => None,
                };
                push_variable(quote(expr), v, because, wanted, out)
            }
            Expr::Call { name, args, .. } if name == "calc" && args.len() == 2 => {
                if let Expr::Reference { path, .. } = &args[0]
                    && path.first().map(String::as_str) == Some("p")
                {
                    out.push(self.scale_step(&path[1..].join("."), quote(&args[0]))?);
                }
                self.walk_into(&args[1], text, live, false, out)?;
                None
            }
            Expr::Call { args, .. } => {
                for a in args {
                    self.walk_into(a, text, live, false, out)?;
                }
                None
            }
            Expr::Reference {
                path,
                period: shift,
                ..
            } => {
                let at = match shift {
                    Some(s) => crate::eval::shifted(self.period, s)?,
                    None => self.period,
                };
                let package = self.sim.package();
                if path.first().map(String::as_str) == Some("p") {
                    let (value, since, citation) =
                        package.parameters.reading_at(&path[1..], at.start)?;
                    out.push(Item::Step {
                        kind: "parameter",
                        text: quote(expr),
                        values: Values::Same(serde_json::json!(value)),
                        since: Some(since),
                        citation: citation.cloned(),
                        because: None,
                    });
                    wanted.then(|| Column::Number(vec![value; n]))
                } else if let [name] = path.as_slice()
                    && let Some((name, variable)) = package.variables.get_key_value(name)
                {
                    let (v, because) = if variable.entity == self.entity {
                        let v = self.sim.calculate_variable(name, variable, at)?;
                        (v, self.because(name, variable, at, None)?)
                    } else {
                        (self.evaluate(expr, live)?, None)
                    };
                    push_variable(quote(expr), v, because, wanted, out)
                } else if let [group, name] = path.as_slice()
                    && let Some((name, variable)) = package.variables.get_key_value(name)
                    && variable.entity == *group
                    && variable.entity != self.entity
                {
                    // A person's formula reading her group's variable (`household.rent`):
                    // each person's value is her group's, explained for the group.
                    let v = self.evaluate(expr, live)?;
                    let via = self.sim.group_of(group);
                    let because = match via {
                        Some(via) => self.because(name, variable, at, Some(via))?,
                        None => None,
                    };
                    push_variable(quote(expr), v, because, wanted, out)
                } else {
                    None
                }
            }
        })
    }

    /// A variable used, explained in turn at its first mention, to a limited depth (not
    /// an input): the formula's entity's own (`via` none), or her group's for a person
    /// (`via`: each person's group).
    fn because(
        &mut self,
        name: &'a str,
        variable: &'a Variable,
        at: Period,
        via: Option<Arc<[usize]>>,
    ) -> Result<Option<Because>, EvalError> {
        if self.depth > 0
            && !self.seen.contains(&(name, at))
            && !self.sim.is_input_variable(name, variable, at)
        {
            self.seen.push((name, at));
            let recorded = Box::new(explain_to(self.sim, name, variable, at, self.depth - 1)?);
            Ok(Some(Because { recorded, via }))
        } else {
            Ok(None)
        }
    }

    /// A scale's step: its brackets in force, the latest day one of them changed and its
    /// citation.
    fn scale_step(&self, dotted: &str, text: Quote) -> Result<Item, EvalError> {
        let day = self.period.start;
        let parameters = &self.sim.package().parameters;
        let scale = parameters.scale(dotted, day)?;
        let (since, citation) = match parameters.entry(dotted) {
            Some(crate::parameters::Entry::Scale(s)) => (
                s.brackets
                    .iter()
                    .flat_map(|b| b.threshold.values.iter().chain(&b.value.values))
                    .map(|d| d.from)
                    .filter(|d| *d <= day)
                    .max(),
                s.citation.clone(),
            ),
            _ => (None, None),
        };
        let brackets = scale
            .brackets
            .iter()
            .map(|(threshold, value)| serde_json::json!({"threshold": threshold, "value": value}))
            .collect();
        Ok(Item::Step {
            kind: "scale",
            text,
            values: Values::Same(serde_json::Value::Array(brackets)),
            since,
            citation,
            because: None,
        })
    }
}

/// Records a variable's step — its values for everybody and, if made, its explanation —
/// and gives its column back when the part above wants it.
fn push_variable(
    text: Quote,
    v: Column,
    because: Option<Because>,
    wanted: bool,
    out: &mut Vec<Item>,
) -> Option<Column> {
    let known = wanted.then(|| v.clone());
    out.push(Item::Step {
        kind: "variable",
        text,
        values: Values::Each(v),
        since: None,
        citation: None,
        because,
    });
    known
}

/// What a member who nearly qualifies misses.
#[derive(Clone, Debug, PartialEq)]
pub enum Shortfall {
    /// A yes-or-no fact about her, an input such as being registered as living alone, is
    /// not so (its label, or its name).
    Fact(String),
    /// An amount (a variable in a currency) is over the limit it is compared with, by no
    /// more than [`NEARLY_SHARE`] of the limit.
    Margin {
        /// The amount's label, or its name.
        name: String,
        /// The amount.
        value: f64,
        /// The limit.
        limit: f64,
    },
}

/// How far over a limit an amount may be for its member to "nearly" qualify: a tenth.
pub const NEARLY_SHARE: f64 = 0.1;

/// What "nearly qualifies" names: the one requirement a member misses, when she misses
/// exactly one, and it is a fact about her (a yes-or-no input) or an amount a little over
/// its limit. A threshold on anything else — an age — is not "nearly" (an age is "soon").
/// A yes-or-no variable computed by a formula is looked into: she nearly qualifies when
/// she nearly meets it. In a formula of cases, any one case she nearly meets.
///
/// Never "nearly" when a case held (the case decides her value, even when it is none),
/// for a case that pays nothing (an exclusion), nor under a `not` (a step's value is
/// what it is, not whether she meets it).
pub fn nearly(e: &Explanation, package: &Package) -> Option<Shortfall> {
    if e.cases.iter().any(|c| c.held) {
        return None;
    }
    let negated = |text: &str| {
        let mut found = false;
        match crate::formula::parse(text) {
            Ok(expr) => expr.each(&mut |x| found |= matches!(x, Expr::Not(..))),
            Err(_) => found = true,
        }
        found
    };
    // A case that pays nothing (an exclusion: `then: 0`) is not one to nearly meet.
    let pays = |i: usize| {
        let written = package
            .variables
            .get(&*e.variable)
            .and_then(|v| v.formula_on(e.period.start))
            .and_then(|f| match &f.body {
                Body::Cases { cases, .. } => cases.get(i),
                _ => None,
            });
        !matches!(
            written.map(|c| &c.then.expr),
            Some(Expr::Number(v, _)) if *v == 0.0
        ) && !matches!(written.map(|c| &c.then.expr), Some(Expr::Bool(false, _)))
    };
    let considered: Vec<(&[Step], &str)> = if e.cases.is_empty() {
        vec![(&e.steps[..], e.formula.as_deref().unwrap_or(""))]
    } else {
        e.cases
            .iter()
            .enumerate()
            .filter(|(i, _)| pays(*i))
            .map(|(_, c)| (&c.steps[..], &*c.when))
            .collect()
    };
    considered.into_iter().find_map(|(steps, text)| {
        // A false `any` or `all` over members is unmet too, but never named.
        let mut unmet = steps.iter().filter(|s| {
            matches!(s.kind, "condition" | "variable" | "members")
                && s.value == serde_json::json!(false)
        });
        match (unmet.next(), unmet.next()) {
            (Some(step), None) if step.kind != "members" && !negated(text) => {
                shortfall(step, steps, package)
            }
            _ => None,
        }
    })
}

/// The shortfall one unmet step names, if it is a fact or a small margin.
fn shortfall(step: &Step, steps: &[Step], package: &Package) -> Option<Shortfall> {
    let label = |v: &Variable| v.label.as_deref().unwrap_or(&v.name).to_string();
    match step.kind {
        "variable" => {
            let variable = named(&step.text, package)?;
            if variable.formulas.is_empty() {
                Some(Shortfall::Fact(label(variable)))
            } else {
                nearly(step.because.as_deref()?, package)
            }
        }
        _ => {
            // The condition is read again from its own text (only here, never while
            // evaluating): a comparison of an amount with a limit, each side a step.
            let Ok(Expr::Binary {
                op, left, right, ..
            }) = crate::formula::parse(&step.text)
            else {
                return None;
            };
            let (amount, limit) = match op {
                BinaryOp::Lt | BinaryOp::Le => (left, right),
                BinaryOp::Gt | BinaryOp::Ge => (right, left),
                _ => return None,
            };
            let side = |expr: &Expr| {
                let text = &step.text[expr.span().start..expr.span().end];
                match expr {
                    Expr::Number(v, _) => Some(*v),
                    _ => steps
                        .iter()
                        .find(|s| &*s.text == text)
                        .and_then(|s| s.value.as_f64()),
                }
            };
            // The amount is a variable (hers or her group's), never a parameter.
            let Expr::Reference { path, .. } = &*amount else {
                return None;
            };
            let variable = match path.as_slice() {
                [name] => package.variables.get(name.as_str())?,
                [group, name] if group != "p" => package
                    .variables
                    .get(name.as_str())
                    .filter(|v| v.entity == *group)?,
                _ => return None,
            };
            if !variable
                .unit
                .as_deref()
                .is_some_and(|u| u.starts_with("currency"))
            {
                return None;
            }
            let (value, limit) = (side(&amount)?, side(&limit)?);
            (value >= limit && value - limit <= limit.abs() * NEARLY_SHARE).then(|| {
                Shortfall::Margin {
                    name: label(variable),
                    value,
                    limit,
                }
            })
        }
    }
}

/// The variable a reference names (`household.income_per_head@last_month` names
/// `income_per_head`).
fn named<'p>(reference: &str, package: &'p Package) -> Option<&'p Variable> {
    let name = reference.split('@').next()?.rsplit('.').next()?.trim();
    package.variables.get(name)
}

/// The explanation in words: "old_age_allowance (高龄津贴) is 100 for 2020-03 because …".
pub fn sentence(e: &Explanation) -> String {
    let name = e.label.clone().unwrap_or_else(|| e.variable.clone());
    let mut text = format!("{name} = {} ({})", e.value, e.period);
    let reasons: Vec<String> = e
        .cases
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                c.when,
                if c.held { "holds" } else { "does not hold" },
                c.citation
                    .as_ref()
                    .and_then(|c| c.article.clone())
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            )
        })
        .chain(e.steps.iter().map(|s| match (&s.kind, &s.since) {
            (&"parameter", Some(since)) => {
                format!("{} = {} since {}", s.text, s.value, format_day(*since))
            }
            _ => format!("{} = {}", s.text, s.value),
        }))
        .collect();
    if !reasons.is_empty() {
        text.push_str(" because ");
        text.push_str(&reasons.join("; "));
    }
    if let Some(document) = e.citation.as_ref().and_then(|c| c.document.clone()) {
        text.push_str(&format!(" — {document}"));
    }
    text
}

//! Explanations: for one member of the population, why a variable has its value — the
//! formula in force and since when, which case applied (and why the others did not), each
//! condition with its value, each parameter read with its value, the day it has been in
//! force since and its citation, and the variables it used, explained in turn. A stable,
//! versioned JSON shape (`"version": 1`), cheap enough to keep with every decision.

use rustc_hash::FxHashSet as HashSet;
use std::sync::Arc;

use serde::Serialize;

use crate::eval::{Column, EvalError};
use crate::formula::{BinaryOp, Expr};
use crate::package::Body;
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
    /// The period.
    pub period: Arc<str>,
    /// The member (index in its entity's population).
    pub member: usize,
    /// The value.
    pub value: serde_json::Value,
    /// How it was obtained: `input`, `formula`, `case`, `otherwise`, `default`.
    pub source: &'static str,
    /// The first day of the formula in force, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula_since: Option<Arc<str>>,
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
    pub text: Arc<str>,
    /// Its value for the member.
    pub value: serde_json::Value,
    /// A parameter's first day in force, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Arc<str>>,
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
    explain_to(sim, variable, period, DEPTH)
}

/// What a formula used, for everybody at once: a step's values as a column, or the
/// steps of an `if` per branch with who took which.
enum Item {
    Step {
        kind: &'static str,
        text: Arc<str>,
        values: Values,
        since: Option<Arc<str>>,
        citation: Option<Arc<Citation>>,
        /// The variable used, recorded for everybody (explained at its first mention).
        because: Option<Box<Recorded>>,
    },
    Branch {
        held: Vec<bool>,
        then: Vec<Item>,
        otherwise: Vec<Item>,
    },
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
    period: Arc<str>,
    citation: Option<Arc<Citation>>,
    value: Column,
    how: How,
}

/// How a recorded variable got its values.
enum How {
    Input,
    Default {
        since: Option<Arc<str>>,
    },
    Formula {
        since: Option<Arc<str>>,
        text: Arc<str>,
        items: Vec<Item>,
    },
    Cases {
        since: Option<Arc<str>>,
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
            period: self.period.clone(),
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
            How::Default { since } => e.formula_since = since.clone(),
            How::Formula { since, text, items } => {
                e.source = "formula";
                e.formula_since = since.clone();
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
                e.formula_since = since.clone();
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
                since: since.clone(),
                citation: citation.clone(),
                because: because.as_ref().map(|b| Box::new(b.member(member))),
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

fn explain_to(
    sim: &mut Simulation<'_>,
    name: &str,
    period: Period,
    depth: usize,
) -> Result<Recorded, EvalError> {
    let value = sim.calculate(name, period)?;
    let package = sim.package();
    let variable = package
        .variables
        .get(name)
        .ok_or_else(|| EvalError::UnknownVariable(name.to_string()))?;
    let n = value.len();
    let recorded = |how: How, value: Column| Recorded {
        variable: name.into(),
        label: variable.label.as_deref().map(Arc::from),
        period: period.to_string().into(),
        citation: variable.citation.clone().map(Arc::new),
        value,
        how,
    };
    if sim.is_input(name, period) {
        return Ok(recorded(How::Input, value));
    }
    let Some(formula) = variable.formula_on(period.start) else {
        return Ok(recorded(How::Default { since: None }, value));
    };
    let since: Option<Arc<str>> =
        (formula.from != time::Date::MIN).then(|| format_day(formula.from).into());
    let mut seen = HashSet::default();
    let entity = variable.entity.as_str();
    let everybody = vec![true; n];
    let how = match &formula.body {
        Body::End => How::Default { since },
        Body::Formula(w) => How::Formula {
            since,
            text: w.text.as_str().into(),
            items: walk(
                sim, entity, &w.expr, &w.text, period, depth, &everybody, &mut seen,
            )?,
        },
        Body::Cases { cases, otherwise } => {
            // Each case's condition and what it used, for everybody.
            let mut held = Vec::with_capacity(cases.len());
            let mut when_items = Vec::with_capacity(cases.len());
            for case in cases {
                let Column::Bool(h) = sim.evaluate_for_entity(entity, &case.when.expr, period)?
                else {
                    return Err(EvalError::Call(format!(
                        "{name}: the case at {} is not a condition",
                        case.origin
                    )));
                };
                when_items.push(walk(
                    sim,
                    entity,
                    &case.when.expr,
                    &case.when.text,
                    period,
                    depth,
                    &everybody,
                    &mut seen,
                )?);
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
                    walk(
                        sim,
                        entity,
                        &case.then.expr,
                        &case.then.text,
                        period,
                        depth,
                        &live,
                        &mut seen,
                    )?
                } else {
                    Vec::new()
                });
            }
            let otherwise_items = match otherwise {
                Some(w) => {
                    let live: Vec<bool> = applied.iter().map(Option::is_none).collect();
                    if live.contains(&true) {
                        walk(
                            sim, entity, &w.expr, &w.text, period, depth, &live, &mut seen,
                        )?
                    } else {
                        Vec::new()
                    }
                }
                None => Vec::new(),
            };
            How::Cases {
                since,
                whens: cases.iter().map(|c| c.when.text.as_str().into()).collect(),
                thens: cases.iter().map(|c| c.then.text.as_str().into()).collect(),
                citations: cases
                    .iter()
                    .map(|c| c.citation.clone().map(Arc::new))
                    .collect(),
                otherwise_text: otherwise.as_ref().map(|w| w.text.as_str().into()),
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

/// The conditions, parameters and variables a formula uses, for everybody, evaluated
/// where `live` (a division by zero outside a member's branch is not hers).
#[allow(clippy::too_many_arguments)]
fn walk(
    sim: &mut Simulation<'_>,
    entity: &str,
    expr: &Expr,
    text: &str,
    period: Period,
    depth: usize,
    live: &[bool],
    seen: &mut Seen,
) -> Result<Vec<Item>, EvalError> {
    let mut out = Vec::new();
    walk_into(sim, entity, expr, text, period, depth, live, seen, &mut out)?;
    Ok(out)
}

/// The variables already explained within one explanation: each is explained at its
/// first mention only.
type Seen = HashSet<(String, Period)>;

#[allow(clippy::too_many_arguments)]
fn walk_into(
    sim: &mut Simulation<'_>,
    entity: &str,
    expr: &Expr,
    text: &str,
    period: Period,
    depth: usize,
    live: &[bool],
    seen: &mut Seen,
    out: &mut Vec<Item>,
) -> Result<(), EvalError> {
    let written =
        |e: &Expr| -> Arc<str> { text.get(e.span().start..e.span().end).unwrap_or("").into() };
    let step = |kind, text, values| Item::Step {
        kind,
        text,
        values: Values::Each(values),
        since: None,
        citation: None,
        because: None,
    };
    match expr {
        Expr::Binary {
            op, left, right, ..
        } => {
            walk_into(sim, entity, left, text, period, depth, live, seen, out)?;
            walk_into(sim, entity, right, text, period, depth, live, seen, out)?;
            let condition = matches!(
                op,
                BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge
            );
            if condition {
                let v = sim.evaluate_where(entity, expr, period, live)?;
                out.push(step("condition", written(expr), v));
            }
        }
        Expr::Not(x, _) | Expr::Negate(x, _) => {
            walk_into(sim, entity, x, text, period, depth, live, seen, out)?
        }
        Expr::If {
            condition,
            then,
            otherwise,
            ..
        } => {
            walk_into(sim, entity, condition, text, period, depth, live, seen, out)?;
            let Column::Bool(held) = sim.evaluate_where(entity, condition, period, live)? else {
                return Err(EvalError::Call(format!(
                    "`{}` is not a condition",
                    written(condition)
                )));
            };
            let then_live: Vec<bool> = live.iter().zip(&held).map(|(l, h)| *l && *h).collect();
            let else_live: Vec<bool> = live.iter().zip(&held).map(|(l, h)| *l && !*h).collect();
            let then = if then_live.contains(&true) {
                walk(sim, entity, then, text, period, depth, &then_live, seen)?
            } else {
                Vec::new()
            };
            let otherwise = if else_live.contains(&true) {
                walk(
                    sim, entity, otherwise, text, period, depth, &else_live, seen,
                )?
            } else {
                Vec::new()
            };
            out.push(Item::Branch {
                held,
                then,
                otherwise,
            });
        }
        Expr::Call { name, .. } if matches!(name.as_str(), "sum" | "any" | "all" | "count") => {
            // Over the group's members: the result for the group, as one step (what the
            // members' values are is each member's own explanation).
            let v = sim.evaluate_where(entity, expr, period, live)?;
            out.push(step("members", written(expr), v));
        }
        Expr::Call { name, args, .. } if name == "calc" && args.len() == 2 => {
            if let Expr::Reference { path, .. } = &args[0]
                && path.first().map(String::as_str) == Some("p")
            {
                let dotted = path[1..].join(".");
                let scale = sim.package().parameters.scale(&dotted, period.start)?;
                let (since, citation) = match sim.package().parameters.entry(&dotted) {
                    Some(crate::parameters::Entry::Scale(s)) => (
                        s.brackets
                            .iter()
                            .flat_map(|b| b.threshold.values.iter().chain(&b.value.values))
                            .map(|d| d.from)
                            .filter(|d| *d <= period.start)
                            .max()
                            .map(|d| format_day(d).into()),
                        s.citation.clone().map(Arc::new),
                    ),
                    _ => (None, None),
                };
                let brackets = serde_json::json!(
                    scale
                        .brackets
                        .iter()
                        .map(|(threshold, value)| serde_json::json!({"threshold": threshold, "value": value}))
                        .collect::<Vec<_>>()
                );
                out.push(Item::Step {
                    kind: "scale",
                    text: written(&args[0]),
                    values: Values::Same(brackets),
                    since,
                    citation,
                    because: None,
                });
            }
            walk_into(sim, entity, &args[1], text, period, depth, live, seen, out)?;
        }
        Expr::Call { args, .. } => {
            for a in args {
                walk_into(sim, entity, a, text, period, depth, live, seen, out)?;
            }
        }
        Expr::Reference {
            path,
            period: shift,
            ..
        } => {
            let at = match shift {
                Some(s) => crate::eval::shifted(period, s)?,
                None => period,
            };
            if path.first().map(String::as_str) == Some("p") {
                let (value, since, citation) =
                    sim.package().parameters.reading_at(&path[1..], at.start)?;
                out.push(Item::Step {
                    kind: "parameter",
                    text: written(expr),
                    values: Values::Same(serde_json::json!(value)),
                    since: Some(format_day(since).into()),
                    citation: citation.cloned().map(Arc::new),
                    because: None,
                });
            } else if path.len() == 1 && sim.package().variables.contains_key(&path[0]) {
                let v = sim.evaluate_where(entity, expr, period, live)?;
                let because = if depth > 0
                    && sim.package().variables[&path[0]].entity == entity
                    && !sim.is_input(&path[0], at)
                    && seen.insert((path[0].clone(), at))
                {
                    Some(Box::new(explain_to(sim, &path[0], at, depth - 1)?))
                } else {
                    None
                };
                out.push(Item::Step {
                    kind: "variable",
                    text: written(expr),
                    values: Values::Each(v),
                    since: None,
                    citation: None,
                    because,
                });
            }
        }
        Expr::Number(..) | Expr::Bool(..) | Expr::Text(..) => {}
    }
    Ok(())
}

/// The one requirement a member misses, when she misses exactly one and it is a fact
/// about her — a yes-or-no variable such as being registered as living alone — rather
/// than a threshold (an age is "soon", not "nearly"): what "nearly qualifies" names. In a
/// formula of cases, any one case she misses by such a fact.
pub fn one_missing(e: &Explanation) -> Option<&Step> {
    fn unmet(steps: &[Step]) -> Vec<&Step> {
        steps
            .iter()
            .filter(|s| {
                matches!(s.kind, "condition" | "variable") && s.value == serde_json::json!(false)
            })
            .collect()
    }
    std::iter::once(unmet(&e.steps))
        .chain(e.cases.iter().map(|c| unmet(&c.steps)))
        .filter(|u| u.len() == 1)
        .map(|u| u[0])
        .find(|s| s.kind == "variable")
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
            (&"parameter", Some(since)) => format!("{} = {} since {since}", s.text, s.value),
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

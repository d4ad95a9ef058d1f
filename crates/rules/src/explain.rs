//! Explanations: for one member of the population, why a variable has its value — the
//! formula in force and since when, which case applied (and why the others did not), each
//! condition with its value, each parameter read with its value, the day it has been in
//! force since and its citation, and the variables it used, explained in turn. A stable,
//! versioned JSON shape (`"version": 1`), cheap enough to keep with every decision.

use serde::Serialize;

use crate::eval::EvalError;
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
    pub variable: String,
    /// Its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The period.
    pub period: String,
    /// The member (index in its entity's population).
    pub member: usize,
    /// The value.
    pub value: serde_json::Value,
    /// How it was obtained: `input`, `formula`, `case`, `otherwise`, `default`.
    pub source: &'static str,
    /// The first day of the formula in force, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula_since: Option<String>,
    /// The law the variable implements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Citation>,
    /// The formula or case that gave the value, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The case's own citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_citation: Option<Citation>,
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
    pub text: String,
    /// Its value for the member.
    pub value: serde_json::Value,
    /// A parameter's first day in force, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// A parameter's citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Citation>,
    /// A variable's own explanation (to a limited depth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<Box<Explanation>>,
}

/// Whether one case held.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CaseOutcome {
    /// Its condition as written.
    pub when: String,
    /// Whether it held for the member.
    pub held: bool,
    /// Its citation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citation: Option<Citation>,
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
    explain_to(sim, variable, period, member, DEPTH)
}

fn explain_to(
    sim: &mut Simulation<'_>,
    name: &str,
    period: Period,
    member: usize,
    depth: usize,
) -> Result<Explanation, EvalError> {
    let value = sim.calculate(name, period)?;
    let package = sim.package();
    let variable = package
        .variables
        .get(name)
        .ok_or_else(|| EvalError::UnknownVariable(name.to_string()))?;
    let mut out = Explanation {
        version: FORMAT_VERSION,
        variable: name.to_string(),
        label: variable.label.clone(),
        period: period.to_string(),
        member,
        value: json_at(&value, member),
        source: "default",
        formula_since: None,
        citation: variable.citation.clone(),
        formula: None,
        case_citation: None,
        steps: Vec::new(),
        cases: Vec::new(),
    };
    if sim.is_input(name, period) {
        out.source = "input";
        return Ok(out);
    }
    let Some(formula) = variable.formula_on(period.start) else {
        return Ok(out);
    };
    out.formula_since = (formula.from != time::Date::MIN).then(|| format_day(formula.from));
    match &formula.body {
        Body::End => {}
        Body::Formula(w) => {
            out.source = "formula";
            out.formula = Some(w.text.clone());
            out.steps = steps(
                sim,
                &variable.entity,
                &w.expr,
                &w.text,
                period,
                member,
                depth,
            )?;
        }
        Body::Cases { cases, otherwise } => {
            let mut applied = None;
            for (i, case) in cases.iter().enumerate() {
                let held = sim.evaluate_for_entity(&variable.entity, &case.when.expr, period)?;
                let held = matches!(json_at(&held, member), serde_json::Value::Bool(true));
                if held && applied.is_none() {
                    applied = Some(i);
                }
                out.cases.push(CaseOutcome {
                    when: case.when.text.clone(),
                    held,
                    citation: case.citation.clone(),
                    steps: steps(
                        sim,
                        &variable.entity,
                        &case.when.expr,
                        &case.when.text,
                        period,
                        member,
                        depth,
                    )?,
                });
            }
            match (applied, otherwise) {
                (Some(i), _) => {
                    let case = &cases[i];
                    out.source = "case";
                    out.formula = Some(case.then.text.clone());
                    out.case_citation = case.citation.clone();
                    out.steps = steps(
                        sim,
                        &variable.entity,
                        &case.then.expr,
                        &case.then.text,
                        period,
                        member,
                        depth,
                    )?;
                }
                (None, Some(w)) => {
                    out.source = "otherwise";
                    out.formula = Some(w.text.clone());
                    out.steps = steps(
                        sim,
                        &variable.entity,
                        &w.expr,
                        &w.text,
                        period,
                        member,
                        depth,
                    )?;
                }
                (None, None) => {}
            }
        }
    }
    Ok(out)
}

/// The conditions, parameters and variables a formula uses, with their values for the
/// member.
fn steps(
    sim: &mut Simulation<'_>,
    entity: &str,
    expr: &Expr,
    text: &str,
    period: Period,
    member: usize,
    depth: usize,
) -> Result<Vec<Step>, EvalError> {
    let mut out = Vec::new();
    walk(sim, entity, expr, text, period, member, depth, &mut out)?;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    sim: &mut Simulation<'_>,
    entity: &str,
    expr: &Expr,
    text: &str,
    period: Period,
    member: usize,
    depth: usize,
    out: &mut Vec<Step>,
) -> Result<(), EvalError> {
    let written = |e: &Expr| {
        text.get(e.span().start..e.span().end)
            .unwrap_or("")
            .to_string()
    };
    match expr {
        Expr::Binary {
            op, left, right, ..
        } => {
            walk(sim, entity, left, text, period, member, depth, out)?;
            walk(sim, entity, right, text, period, member, depth, out)?;
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
                let v = sim.evaluate_for_entity(entity, expr, period)?;
                out.push(Step {
                    kind: "condition",
                    text: written(expr),
                    value: json_at(&v, member),
                    since: None,
                    citation: None,
                    because: None,
                });
            }
        }
        Expr::Not(x, _) | Expr::Negate(x, _) => {
            walk(sim, entity, x, text, period, member, depth, out)?
        }
        Expr::If {
            condition,
            then,
            otherwise,
            ..
        } => {
            walk(sim, entity, condition, text, period, member, depth, out)?;
            let held = sim.evaluate_for_entity(entity, condition, period)?;
            let branch = if matches!(json_at(&held, member), serde_json::Value::Bool(true)) {
                then
            } else {
                otherwise
            };
            walk(sim, entity, branch, text, period, member, depth, out)?;
        }
        Expr::Call { name, args, .. }
            if matches!(name.as_str(), "sum" | "any" | "all" | "count") =>
        {
            // Over the group's members: the result for the group, as one step (what the
            // members' values are is each member's own explanation).
            let v = sim.evaluate_for_entity(entity, expr, period)?;
            out.push(Step {
                kind: "members",
                text: written(expr),
                value: json_at(&v, member),
                since: None,
                citation: None,
                because: None,
            });
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
                            .map(format_day),
                        s.citation.clone(),
                    ),
                    _ => (None, None),
                };
                out.push(Step {
                    kind: "scale",
                    text: written(&args[0]),
                    value: serde_json::json!(scale
                        .brackets
                        .iter()
                        .map(|(threshold, value)| serde_json::json!({"threshold": threshold, "value": value}))
                        .collect::<Vec<_>>()),
                    since,
                    citation,
                    because: None,
                });
            }
            walk(sim, entity, &args[1], text, period, member, depth, out)?;
        }
        Expr::Call { args, .. } => {
            for a in args {
                walk(sim, entity, a, text, period, member, depth, out)?;
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
                let reading = sim
                    .package()
                    .parameters
                    .value(&path[1..].join("."), at.start)?;
                out.push(Step {
                    kind: "parameter",
                    text: written(expr),
                    value: serde_json::json!(reading.value),
                    since: Some(format_day(reading.since)),
                    citation: reading.citation,
                    because: None,
                });
            } else if path.len() == 1 && sim.package().variables.contains_key(&path[0]) {
                let v = sim.evaluate_for_entity(entity, expr, period)?;
                let because = if depth > 0
                    && sim.package().variables[&path[0]].entity == entity
                    && !sim.is_input(&path[0], at)
                {
                    Some(Box::new(explain_to(sim, &path[0], at, member, depth - 1)?))
                } else {
                    None
                };
                out.push(Step {
                    kind: "variable",
                    text: written(expr),
                    value: json_at(&v, member),
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

//! Evaluating formulas over a whole population at once: each value is a column (one entry
//! per person or household), so a formula costs a pass over arrays, not a call per person.
//! Variables come from a [`Resolver`] (inputs, or other formulas); parameters are read on
//! the period's first day, with their validity checked.

use crate::formula::{BinaryOp, Expr, Span};
use crate::parameters::{Parameters, ReadError};
use crate::period::Period;

/// A column of values, one per member of the population.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Amounts, counts, rates.
    Number(Vec<f64>),
    /// Conditions.
    Bool(Vec<bool>),
    /// Enumeration values (`tenant`).
    Text(Vec<String>),
    /// Days (a birth date).
    Date(Vec<time::Date>),
}

impl Column {
    /// How many entries.
    pub fn len(&self) -> usize {
        match self {
            Column::Number(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Text(v) => v.len(),
            Column::Date(v) => v.len(),
        }
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kind(&self) -> &'static str {
        match self {
            Column::Number(_) => "a number",
            Column::Bool(_) => "true or false",
            Column::Text(_) => "a text",
            Column::Date(_) => "a date",
        }
    }
}

/// Why a formula could not be evaluated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EvalError {
    /// A value of the wrong kind.
    #[error("{what} at {at}: expected {expected}, found {found}")]
    Kind {
        /// What was being done.
        what: String,
        /// Where, as a byte range of the formula.
        at: String,
        /// The kind wanted.
        expected: &'static str,
        /// The kind found.
        found: &'static str,
    },
    /// A parameter read outside its validity, or not there.
    #[error(transparent)]
    Parameter(#[from] ReadError),
    /// A variable the resolver does not know.
    #[error("there is no variable {0}")]
    UnknownVariable(String),
    /// A function not in the language, or called wrongly.
    #[error("{0}")]
    Call(String),
    /// `@` with a period the language does not name.
    #[error(
        "'{0}' is not a period to refer to: use this_month, first_month, last_month, this_year, last_year or next_month"
    )]
    UnknownPeriod(String),
    /// Two cases of a formula hold at once for some members (the law is ambiguous there).
    #[error("{variable} for {period}: cases at {first} and {second} both hold for {count} of {of}")]
    Conflict {
        /// The variable.
        variable: String,
        /// The period.
        period: String,
        /// Where the first case is written.
        first: String,
        /// Where the second is.
        second: String,
        /// For how many.
        count: usize,
        /// Of how many.
        of: usize,
    },
    /// No case holds for some members and there is no `otherwise`.
    #[error(
        "{variable} for {period}: no case holds for {count} of {of}, and there is no otherwise"
    )]
    NoCase {
        /// The variable.
        variable: String,
        /// The period.
        period: String,
        /// For how many.
        count: usize,
        /// Of how many.
        of: usize,
    },
    /// A variable asked for a period it is not defined for.
    #[error("{variable} is defined by {unit}, not for {period}")]
    PeriodMismatch {
        /// The variable.
        variable: String,
        /// Its unit.
        unit: &'static str,
        /// The period asked.
        period: String,
    },
    /// Variables that depend on themselves.
    #[error("these formulas depend on each other in a circle: {0}")]
    Cycle(String),
    /// Division by zero for some members.
    #[error("division by zero at {at} for {count} of {of}")]
    DivisionByZero {
        /// Where.
        at: String,
        /// For how many.
        count: usize,
        /// Of how many.
        of: usize,
    },
}

fn at(span: Span) -> String {
    format!("{}..{}", span.start, span.end)
}

/// Where a formula's variables come from.
pub trait Resolver {
    /// How many members the population has.
    fn members(&self) -> usize;
    /// The column of a variable for a period (an input, or another formula's result).
    fn variable(&mut self, name: &str, period: Period) -> Result<Column, EvalError>;
    /// The parameters in force.
    fn parameters(&self) -> &Parameters;
    /// Whether parameter reads are to be told to `noted`.
    fn tracing(&self) -> bool {
        false
    }
    /// Told of each parameter read (its path, the day and what was read), for a trace.
    fn noted(&mut self, path: &str, day: time::Date, value: serde_json::Value) {
        let _ = (path, day, value);
    }
    /// A variable of another period unit: `total` adds a monthly variable up over the
    /// months of a longer period; `per_month` spreads a yearly variable over its months
    /// (a twelfth for each).
    fn convert(&mut self, function: &str, name: &str, period: Period) -> Result<Column, EvalError> {
        let _ = period;
        Err(EvalError::Call(format!(
            "{function}({name}) needs a simulation that knows {name}'s period"
        )))
    }
    /// `sum`, `any`, `all` or `count` over a group's members (`sum(members.salary)`,
    /// `count(adults)`, `any(children.age < 6)`): only a group entity has members.
    fn aggregate(
        &mut self,
        function: &str,
        argument: &Expr,
        period: Period,
    ) -> Result<Column, EvalError> {
        let _ = (argument, period);
        Err(EvalError::Call(format!(
            "{function}(…) adds up a group's members, and this population has none"
        )))
    }
}

/// The period a reference `x@name` points to, from the formula's own period.
pub fn shifted(period: Period, name: &str) -> Result<Period, EvalError> {
    Ok(match name {
        "this_month" | "first_month" => period.first_month(),
        "last_month" => period.last_month(),
        "next_month" => period.first_month().offset(1),
        "this_year" => period.this_year(),
        "last_year" => period.last_year(),
        other => return Err(EvalError::UnknownPeriod(other.to_string())),
    })
}

fn numbers(c: Column, what: &str, span: Span) -> Result<Vec<f64>, EvalError> {
    match c {
        Column::Number(v) => Ok(v),
        // Conditions count as 1 and 0 in arithmetic, as policy texts use them.
        Column::Bool(v) => Ok(v.into_iter().map(|b| f64::from(u8::from(b))).collect()),
        other => Err(EvalError::Kind {
            what: what.to_string(),
            at: at(span),
            expected: "a number",
            found: other.kind(),
        }),
    }
}

fn bools(c: Column, what: &str, span: Span) -> Result<Vec<bool>, EvalError> {
    match c {
        Column::Bool(v) => Ok(v),
        other => Err(EvalError::Kind {
            what: what.to_string(),
            at: at(span),
            expected: "true or false",
            found: other.kind(),
        }),
    }
}

/// Evaluates `expr` for every member of the population, for `period`.
pub fn evaluate(expr: &Expr, period: Period, r: &mut dyn Resolver) -> Result<Column, EvalError> {
    let live = vec![true; r.members()];
    evaluate_for(expr, period, r, &live)
}

/// Evaluates `expr` for the members where `live` is true (the others' values are
/// computed but their errors, such as a division by zero, do not count).
pub fn evaluate_where(
    expr: &Expr,
    period: Period,
    r: &mut dyn Resolver,
    live: &[bool],
) -> Result<Column, EvalError> {
    evaluate_for(expr, period, r, live)
}

/// Evaluates `expr` where `live` is true matters: the branches of an `if` are computed for
/// everyone (columns), but a division by zero counts only for the members whose branch it
/// is (`if salary > 0 then rent / salary else 0` is fine).
fn evaluate_for(
    expr: &Expr,
    period: Period,
    r: &mut dyn Resolver,
    live: &[bool],
) -> Result<Column, EvalError> {
    let n = r.members();
    match expr {
        Expr::Number(v, _) => Ok(Column::Number(vec![*v; n])),
        Expr::Bool(b, _) => Ok(Column::Bool(vec![*b; n])),
        Expr::Text(t, _) => Ok(Column::Text(vec![t.clone(); n])),
        Expr::Reference {
            path,
            period: shift,
            ..
        } => {
            let period = match shift {
                Some(name) => shifted(period, name)?,
                None => period,
            };
            if path.first().map(String::as_str) == Some("p") && path.len() > 1 {
                let value = r.parameters().number(&path[1..], period.start)?;
                if r.tracing() {
                    r.noted(&path[1..].join("."), period.start, serde_json::json!(value));
                }
                return Ok(Column::Number(vec![value; n]));
            }
            match path.as_slice() {
                [single] => r.variable(single, period),
                _ => r.variable(&path.join("."), period),
            }
        }
        Expr::Not(x, span) => {
            let v = bools(evaluate_for(x, period, r, live)?, "not", *span)?;
            Ok(Column::Bool(v.into_iter().map(|b| !b).collect()))
        }
        Expr::Negate(x, span) => {
            let v = numbers(evaluate_for(x, period, r, live)?, "a minus sign", *span)?;
            Ok(Column::Number(v.into_iter().map(|x| -x).collect()))
        }
        Expr::If {
            condition,
            then,
            otherwise,
            span,
        } => {
            let c = bools(
                evaluate_for(condition, period, r, live)?,
                "if",
                condition.span(),
            )?;
            let then_live: Vec<bool> = live.iter().zip(&c).map(|(l, c)| *l && *c).collect();
            let else_live: Vec<bool> = live.iter().zip(&c).map(|(l, c)| *l && !*c).collect();
            let a = evaluate_for(then, period, r, &then_live)?;
            let b = evaluate_for(otherwise, period, r, &else_live)?;
            Ok(match (a, b) {
                (Column::Bool(a), Column::Bool(b)) => Column::Bool(select(&c, a, b)),
                (Column::Text(a), Column::Text(b)) => Column::Text(select(&c, a, b)),
                (Column::Date(a), Column::Date(b)) => Column::Date(select(&c, a, b)),
                (a, b) => Column::Number(select(
                    &c,
                    numbers(a, "then", *span)?,
                    numbers(b, "else", *span)?,
                )),
            })
        }
        Expr::Binary {
            op,
            left,
            right,
            span,
        } => binary(
            *op,
            evaluate_for(left, period, r, live)?,
            evaluate_for(right, period, r, live)?,
            *span,
            live,
        ),
        Expr::Call { name, args, span } => call(name, args, *span, period, r, live),
    }
}

/// Each member's value from `a` where `c` holds, else from `b`.
fn select<T>(c: &[bool], a: Vec<T>, b: Vec<T>) -> Vec<T> {
    c.iter()
        .zip(a.into_iter().zip(b))
        .map(|(c, (a, b))| if *c { a } else { b })
        .collect()
}

/// A comparison, member by member.
fn compare<T: PartialOrd>(op: BinaryOp, a: Vec<T>, b: Vec<T>) -> Vec<bool> {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| match op {
            BinaryOp::Eq => x == y,
            BinaryOp::Ne => x != y,
            BinaryOp::Lt => x < y,
            BinaryOp::Le => x <= y,
            BinaryOp::Gt => x > y,
            _ => x >= y,
        })
        .collect()
}

impl Column {
    /// The entries at `indices`, in that order (a group's value for each of its members).
    pub fn gather(&self, indices: &[usize]) -> Column {
        match self {
            Column::Number(v) => Column::Number(indices.iter().map(|i| v[*i]).collect()),
            Column::Bool(v) => Column::Bool(indices.iter().map(|i| v[*i]).collect()),
            Column::Text(v) => Column::Text(indices.iter().map(|i| v[*i].clone()).collect()),
            Column::Date(v) => Column::Date(indices.iter().map(|i| v[*i]).collect()),
        }
    }
}

pub(crate) fn binary(
    op: BinaryOp,
    a: Column,
    b: Column,
    span: Span,
    live: &[bool],
) -> Result<Column, EvalError> {
    let what = op.symbol();
    Ok(match op {
        BinaryOp::And | BinaryOp::Or => {
            let a = bools(a, what, span)?;
            let b = bools(b, what, span)?;
            let and = op == BinaryOp::And;
            Column::Bool(
                a.into_iter()
                    .zip(b)
                    .map(|(x, y)| if and { x && y } else { x || y })
                    .collect(),
            )
        }
        BinaryOp::Eq | BinaryOp::Ne if matches!((&a, &b), (Column::Text(_), Column::Text(_))) => {
            let (Column::Text(a), Column::Text(b)) = (a, b) else {
                unreachable!("matched above")
            };
            let eq = op == BinaryOp::Eq;
            Column::Bool(a.iter().zip(&b).map(|(x, y)| (x == y) == eq).collect())
        }
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            match (a, b) {
                (Column::Date(a), Column::Date(b)) => Column::Bool(compare(op, a, b)),
                (a, b) => Column::Bool(compare(
                    op,
                    numbers(a, what, span)?,
                    numbers(b, what, span)?,
                )),
            }
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
            let a = numbers(a, what, span)?;
            let b = numbers(b, what, span)?;
            if op == BinaryOp::Div {
                let zeros = b
                    .iter()
                    .zip(live)
                    .filter(|(y, live)| **live && **y == 0.0)
                    .count();
                if zeros > 0 {
                    return Err(EvalError::DivisionByZero {
                        at: at(span),
                        count: zeros,
                        of: b.len(),
                    });
                }
            }
            Column::Number(
                a.into_iter()
                    .zip(b)
                    .map(|(x, y)| match op {
                        BinaryOp::Add => x + y,
                        BinaryOp::Sub => x - y,
                        BinaryOp::Mul => x * y,
                        _ => x / y,
                    })
                    .collect(),
            )
        }
    })
}

fn call(
    name: &str,
    args: &[Expr],
    span: Span,
    period: Period,
    r: &mut dyn Resolver,
    live: &[bool],
) -> Result<Column, EvalError> {
    let arity = |want: std::ops::RangeInclusive<usize>, shape: &str| {
        if want.contains(&args.len()) {
            Ok(())
        } else {
            Err(EvalError::Call(format!(
                "{name} takes {shape}, not {} argument(s) (at {})",
                args.len(),
                at(span)
            )))
        }
    };
    match name {
        "max" | "min" => {
            arity(2..=usize::MAX, "two or more numbers")?;
            let mut out = numbers(evaluate_for(&args[0], period, r, live)?, name, span)?;
            for arg in &args[1..] {
                let next = numbers(evaluate_for(arg, period, r, live)?, name, span)?;
                for (o, x) in out.iter_mut().zip(next) {
                    *o = if name == "max" { o.max(x) } else { o.min(x) };
                }
            }
            Ok(Column::Number(out))
        }
        "abs" | "floor" | "ceil" => {
            arity(1..=1, "one number")?;
            let v = numbers(evaluate_for(&args[0], period, r, live)?, name, span)?;
            Ok(Column::Number(
                v.into_iter()
                    .map(|x| match name {
                        "abs" => x.abs(),
                        "floor" => x.floor(),
                        _ => x.ceil(),
                    })
                    .collect(),
            ))
        }
        "round" => {
            arity(1..=2, "a number and, optionally, how many decimals")?;
            let v = numbers(evaluate_for(&args[0], period, r, live)?, name, span)?;
            let digits = match args.get(1) {
                Some(Expr::Number(d, _)) if *d >= 0.0 && d.fract() == 0.0 && *d <= 10.0 => *d,
                Some(_) => {
                    return Err(EvalError::Call(format!(
                        "round's decimals are a whole number from 0 to 10 (at {})",
                        at(span)
                    )));
                }
                None => 0.0,
            };
            let scale = 10f64.powf(digits);
            Ok(Column::Number(
                v.into_iter().map(|x| (x * scale).round() / scale).collect(),
            ))
        }
        "calc" => {
            arity(2..=2, "a scale parameter and a base")?;
            let Expr::Reference { path, .. } = &args[0] else {
                return Err(EvalError::Call(format!(
                    "calc's first argument is a scale parameter, p.… (at {})",
                    at(span)
                )));
            };
            if path.first().map(String::as_str) != Some("p") {
                return Err(EvalError::Call(format!(
                    "calc's first argument is a scale parameter, p.… (at {})",
                    at(span)
                )));
            }
            let dotted = path[1..].join(".");
            let scale = r.parameters().scale(&dotted, period.start)?;
            if r.tracing() {
                let brackets: Vec<serde_json::Value> = scale
                    .brackets
                    .iter()
                    .map(|(threshold, value)| serde_json::json!({"threshold": threshold, "value": value}))
                    .collect();
                r.noted(
                    &dotted,
                    period.start,
                    serde_json::json!({ "brackets": brackets }),
                );
            }
            let base = numbers(evaluate_for(&args[1], period, r, live)?, name, span)?;
            Ok(Column::Number(
                base.into_iter().map(|b| scale.calc(b)).collect(),
            ))
        }
        "years_since" | "months_since" => {
            arity(1..=1, "one date, e.g. years_since(birth)")?;
            let Column::Date(days) = evaluate_for(&args[0], period, r, live)? else {
                return Err(EvalError::Call(format!(
                    "{name} takes a date (at {})",
                    at(span)
                )));
            };
            let on = period.start;
            Ok(Column::Number(
                days.into_iter()
                    .map(|d| {
                        let months = (i64::from(on.year()) - i64::from(d.year())) * 12
                            + i64::from(u8::from(on.month()))
                            - i64::from(u8::from(d.month()))
                            - i64::from(on.day() < d.day());
                        if name == "years_since" {
                            months.div_euclid(12) as f64
                        } else {
                            months as f64
                        }
                    })
                    .collect(),
            ))
        }
        "total" | "per_month" => {
            arity(1..=1, "one variable, e.g. total(salary@this_year)")?;
            let Expr::Reference {
                path,
                period: shift,
                ..
            } = &args[0]
            else {
                return Err(EvalError::Call(format!(
                    "{name} takes a variable, e.g. {name}(salary@this_year) (at {})",
                    at(span)
                )));
            };
            let target = match shift {
                Some(s) => shifted(period, s)?,
                None => period,
            };
            r.convert(name, &path.join("."), target)
        }
        "sum" | "any" | "all" | "count" => {
            arity(
                1..=1,
                "the members to add up, e.g. members.salary or adults",
            )?;
            r.aggregate(name, &args[0], period)
        }
        other => Err(EvalError::Call(format!(
            "there is no function {other} (at {}): use max, min, abs, floor, ceil, round, calc, years_since, months_since, total, per_month, sum, any, all or count",
            at(span)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::formula::parse;

    /// Three persons with inputs by (name, period).
    struct Inputs {
        columns: HashMap<(String, String), Column>,
        parameters: Parameters,
        _dir: tempfile::TempDir,
    }

    impl Resolver for Inputs {
        fn members(&self) -> usize {
            3
        }
        fn variable(&mut self, name: &str, period: Period) -> Result<Column, EvalError> {
            self.columns
                .get(&(name.to_string(), period.to_string()))
                .cloned()
                .ok_or_else(|| EvalError::UnknownVariable(format!("{name}@{period}")))
        }
        fn parameters(&self) -> &Parameters {
            &self.parameters
        }
    }

    fn inputs() -> Inputs {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("general")).unwrap();
        std::fs::write(dir.join("general/age_of_majority.yaml"), "2001-01-01: 18\n").unwrap();
        std::fs::write(
            dir.join("contribution.yaml"),
            "brackets:\n  - threshold: {2015-01-01: 0}\n    rate: {2015-01-01: 0.1}\n  - threshold: {2015-01-01: 1000}\n    rate: {2015-01-01: 0.2}\n",
        )
        .unwrap();
        let parameters = crate::parameters::load_openfisca(&dir).unwrap();
        let mut columns = HashMap::new();
        let month = "2024-05".to_string();
        columns.insert(
            ("age".into(), month.clone()),
            Column::Number(vec![17.0, 18.0, 70.0]),
        );
        columns.insert(
            ("salary".into(), month.clone()),
            Column::Number(vec![0.0, 1500.0, 0.0]),
        );
        columns.insert(
            ("salary".into(), "2024-04".into()),
            Column::Number(vec![100.0, 1400.0, 0.0]),
        );
        columns.insert(
            ("status".into(), month),
            Column::Text(vec!["tenant".into(), "owner".into(), "tenant".into()]),
        );
        Inputs {
            columns,
            parameters,
            _dir: tmp,
        }
    }

    fn run(text: &str) -> Result<Column, EvalError> {
        let period = Period::parse("2024-05").unwrap();
        evaluate(&parse(text).unwrap(), period, &mut inputs())
    }

    #[test]
    fn formulas_compute_a_column_per_population() {
        assert_eq!(
            run("age >= p.general.age_of_majority and salary == 0"),
            Ok(Column::Bool(vec![false, false, true]))
        );
        assert_eq!(
            run("if age >= 18 then 600 - salary * 0.5 else 0"),
            Ok(Column::Number(vec![0.0, -150.0, 600.0]))
        );
        assert_eq!(
            run("salary - salary@last_month"),
            Ok(Column::Number(vec![-100.0, 100.0, 0.0]))
        );
        assert_eq!(
            run("status == 'tenant'"),
            Ok(Column::Bool(vec![true, false, true]))
        );
        assert_eq!(
            run("max(salary, 200, age)"),
            Ok(Column::Number(vec![200.0, 1500.0, 200.0]))
        );
        assert_eq!(
            run("calc(p.contribution, salary)"),
            Ok(Column::Number(vec![0.0, 100.0 + 100.0, 0.0]))
        );
        assert_eq!(
            run("round(salary / 7, 2)"),
            Ok(Column::Number(vec![0.0, 214.29, 0.0]))
        );
        assert_eq!(
            run("(age >= 18) * 100"),
            Ok(Column::Number(vec![0.0, 100.0, 100.0]))
        );
    }

    #[test]
    fn evaluation_problems_are_named() {
        let kind = run("salary and age").unwrap_err().to_string();
        assert!(
            kind.contains("expected true or false, found a number"),
            "{kind}"
        );
        assert_eq!(
            run("p.general.age_of_majority@last_year"),
            Ok(Column::Number(vec![18.0; 3]))
        );
        assert!(matches!(
            run("p.nope"),
            Err(EvalError::Parameter(ReadError::Unknown(_)))
        ));
        assert!(matches!(run("wealth"), Err(EvalError::UnknownVariable(_))));
        assert!(matches!(
            run("salary@someday"),
            Err(EvalError::UnknownPeriod(_))
        ));
        assert_eq!(
            run("age / salary").unwrap_err().to_string(),
            "division by zero at 0..12 for 2 of 3"
        );
        // Only where the branch is taken.
        assert_eq!(
            run("if salary > 0 then age / salary else 0"),
            Ok(Column::Number(vec![0.0, 0.012, 0.0]))
        );
        assert!(
            run("sqrt(age)")
                .unwrap_err()
                .to_string()
                .contains("no function sqrt")
        );
        assert!(
            run("max(age)")
                .unwrap_err()
                .to_string()
                .contains("two or more")
        );
        assert!(
            run("calc(age, salary)")
                .unwrap_err()
                .to_string()
                .contains("scale parameter")
        );
    }
}

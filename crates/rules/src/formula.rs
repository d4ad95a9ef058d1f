//! The formula language: conditions and amounts as a policy officer writes them in a rules
//! file (`age >= p.general.age_of_majority and salary == 0`,
//! `if household_income <= p.threshold then p.amount else 0`). The grammar is
//! `formula.pest` beside this file — read with `pest`, so the grammar itself documents
//! the language — and turned into a small tree that keeps where each part was written, so
//! an explanation can quote it and an error can point at it.

use pest::Parser;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "formula.pest"]
struct FormulaParser;

/// Where in the formula text a part was written (byte offsets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// An operator between two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinaryOp {
    /// As written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    fn parse(symbol: &str) -> Option<BinaryOp> {
        Some(match symbol {
            "or" => BinaryOp::Or,
            "and" => BinaryOp::And,
            "==" => BinaryOp::Eq,
            "!=" => BinaryOp::Ne,
            "<" => BinaryOp::Lt,
            "<=" => BinaryOp::Le,
            ">" => BinaryOp::Gt,
            ">=" => BinaryOp::Ge,
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            _ => return None,
        })
    }
}

/// A formula, as a tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Number(f64, Span),
    /// `true` or `false`.
    Bool(bool, Span),
    /// A quoted text (an enumeration's value: `'tenant'`).
    Text(String, Span),
    /// A variable or parameter (`age`, `p.benefits.basic_income`, `household.rent`), on the
    /// formula's own period or another (`salary@last_month`).
    Reference {
        /// The dotted name, split.
        path: Vec<String>,
        /// The period named after `@`, if any.
        period: Option<String>,
        /// Where.
        span: Span,
    },
    /// A function: `max(a, b)`, `sum(members.salary)`.
    Call {
        /// Its name.
        name: String,
        /// Its arguments.
        args: Vec<Expr>,
        /// Where.
        span: Span,
    },
    /// `not x`.
    Not(Box<Expr>, Span),
    /// `-x`.
    Negate(Box<Expr>, Span),
    /// `a op b`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left.
        left: Box<Expr>,
        /// Right.
        right: Box<Expr>,
        /// Where.
        span: Span,
    },
    /// `if c then a else b`.
    If {
        /// The condition.
        condition: Box<Expr>,
        /// When it holds.
        then: Box<Expr>,
        /// When it does not.
        otherwise: Box<Expr>,
        /// Where.
        span: Span,
    },
}

impl Expr {
    /// Calls `f` on this part and on every part inside it, outside in.
    pub fn each<'e, F: FnMut(&'e Expr)>(&'e self, f: &mut F) {
        f(self);
        match self {
            Expr::Call { args, .. } => args.iter().for_each(|a| a.each(f)),
            Expr::Not(x, _) | Expr::Negate(x, _) => x.each(f),
            Expr::Binary { left, right, .. } => {
                left.each(f);
                right.each(f);
            }
            Expr::If {
                condition,
                then,
                otherwise,
                ..
            } => {
                condition.each(f);
                then.each(f);
                otherwise.each(f);
            }
            Expr::Number(..) | Expr::Bool(..) | Expr::Text(..) | Expr::Reference { .. } => {}
        }
    }

    /// Where it was written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(_, s) | Expr::Bool(_, s) | Expr::Text(_, s) => *s,
            Expr::Not(_, s) | Expr::Negate(_, s) => *s,
            Expr::Reference { span, .. }
            | Expr::Call { span, .. }
            | Expr::Binary { span, .. }
            | Expr::If { span, .. } => *span,
        }
    }

    /// Widens where it was written to `to` (a part in brackets: the brackets belong to it,
    /// so that quoting it in an explanation quotes them too).
    fn widen(&mut self, to: Span) {
        match self {
            Expr::Number(_, s) | Expr::Bool(_, s) | Expr::Text(_, s) => *s = to,
            Expr::Not(_, s) | Expr::Negate(_, s) => *s = to,
            Expr::Reference { span, .. }
            | Expr::Call { span, .. }
            | Expr::Binary { span, .. }
            | Expr::If { span, .. } => *span = to,
        }
    }
}

/// Why a formula does not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("column {column}: {message}")]
pub struct FormulaError {
    /// 1-based column in the formula.
    pub column: usize,
    /// What was expected there.
    pub message: String,
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span {
        start: s.start(),
        end: s.end(),
    }
}

fn rule_words(rule: &Rule) -> &'static str {
    match rule {
        Rule::number => "a number",
        Rule::boolean => "true or false",
        Rule::text => "a quoted text",
        Rule::name | Rule::reference | Rule::call => "a name",
        Rule::compare => "a comparison (>=, <=, ==, !=, >, <)",
        Rule::plus_minus | Rule::times_divide => "an operator",
        Rule::or => "or",
        Rule::and => "and",
        Rule::not => "not",
        Rule::period_name => "a period after @ (last_month, this_year…)",
        Rule::EOI => "the end of the formula",
        Rule::if_then_else | Rule::kw_if => "if … then … else …",
        Rule::kw_then => "then",
        Rule::kw_else => "else",
        Rule::open => "(",
        Rule::close => ")",
        Rule::comma => ",",
        _ => "a value",
    }
}

/// Reads a formula.
pub fn parse(text: &str) -> Result<Expr, FormulaError> {
    let mut pairs = FormulaParser::parse(Rule::formula, text).map_err(|e| {
        let column = match e.line_col {
            pest::error::LineColLocation::Pos((_, c))
            | pest::error::LineColLocation::Span((_, c), _) => c,
        };
        let message = match &e.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                let mut wanted: Vec<&str> = positives.iter().map(rule_words).collect();
                wanted.sort_unstable();
                wanted.dedup();
                if wanted.is_empty() {
                    "this cannot be read here".to_string()
                } else {
                    format!("expected {}", wanted.join(" or "))
                }
            }
            pest::error::ErrorVariant::CustomError { message } => message.clone(),
        };
        FormulaError { column, message }
    })?;
    let formula = pairs.next().ok_or_else(|| FormulaError {
        column: 1,
        message: "the formula is empty".into(),
    })?;
    let choice = formula.into_inner().next().ok_or_else(|| FormulaError {
        column: 1,
        message: "the formula is empty".into(),
    })?;
    Ok(build(choice))
}

/// Whether a pair is punctuation or a keyword, which the tree does not keep.
fn is_mark(pair: &Pair<'_, Rule>) -> bool {
    matches!(
        pair.as_rule(),
        Rule::kw_if | Rule::kw_then | Rule::kw_else | Rule::open | Rule::close | Rule::comma
    )
}

/// The meaningful parts of a pair.
fn parts<'a>(pair: Pair<'a, Rule>) -> impl Iterator<Item = Pair<'a, Rule>> {
    pair.into_inner().filter(|p| !is_mark(p))
}

/// Builds the tree from a parsed pair; the grammar guarantees each rule's shape.
fn build(pair: Pair<'_, Rule>) -> Expr {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::choice | Rule::primary | Rule::negation | Rule::signed | Rule::comparison
            if parts(pair.clone()).count() == 1 =>
        {
            let bracketed = pair.as_rule() == Rule::primary
                && pair.clone().into_inner().any(|p| p.as_rule() == Rule::open);
            let mut inner = parts(pair)
                .next()
                .map(build)
                .unwrap_or(Expr::Bool(false, span));
            if bracketed {
                inner.widen(span);
            }
            inner
        }
        Rule::if_then_else => {
            let mut parts = parts(pair).map(build);
            let condition = parts.next().unwrap_or(Expr::Bool(false, span));
            let then = parts.next().unwrap_or(Expr::Bool(false, span));
            let otherwise = parts.next().unwrap_or(Expr::Bool(false, span));
            Expr::If {
                condition: Box::new(condition),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
                span,
            }
        }
        Rule::either | Rule::both | Rule::sum | Rule::product | Rule::comparison => {
            let mut inner = pair.into_inner();
            let mut left = inner.next().map(build).unwrap_or(Expr::Bool(false, span));
            while let (Some(op), Some(right)) = (inner.next(), inner.next()) {
                let right = build(right);
                let joined = Span {
                    start: left.span().start,
                    end: right.span().end,
                };
                let op = BinaryOp::parse(op.as_str().trim()).unwrap_or(BinaryOp::Add);
                left = Expr::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                    span: joined,
                };
            }
            left
        }
        Rule::negation => {
            let mut inner = pair.into_inner();
            inner.next();
            let operand = inner.next().map(build).unwrap_or(Expr::Bool(false, span));
            Expr::Not(Box::new(operand), span)
        }
        Rule::signed => {
            let mut inner = pair.into_inner();
            inner.next();
            let operand = inner.next().map(build).unwrap_or(Expr::Bool(false, span));
            Expr::Negate(Box::new(operand), span)
        }
        Rule::at_period => {
            let mut inner = pair.into_inner();
            let base = inner.next().map(build).unwrap_or(Expr::Bool(false, span));
            match (base, inner.next()) {
                (Expr::Reference { path, .. }, Some(period)) => Expr::Reference {
                    path,
                    period: Some(period.as_str().to_string()),
                    span,
                },
                (base, _) => base,
            }
        }
        Rule::call => {
            let mut inner = parts(pair);
            let name = inner
                .next()
                .map(|n| n.as_str().to_string())
                .unwrap_or_default();
            Expr::Call {
                name,
                args: inner.map(build).collect(),
                span,
            }
        }
        Rule::reference => Expr::Reference {
            path: pair.as_str().split('.').map(str::to_string).collect(),
            period: None,
            span,
        },
        Rule::number => Expr::Number(pair.as_str().parse().unwrap_or(0.0), span),
        Rule::boolean => Expr::Bool(pair.as_str() == "true", span),
        Rule::text => Expr::Text(
            pair.into_inner()
                .next()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            span,
        ),
        _ => Expr::Bool(false, span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree, fully bracketed.
    fn show(e: &Expr) -> String {
        match e {
            Expr::Number(n, _) => n.to_string(),
            Expr::Bool(b, _) => b.to_string(),
            Expr::Text(t, _) => format!("'{t}'"),
            Expr::Reference { path, period, .. } => match period {
                Some(p) => format!("{}@{p}", path.join(".")),
                None => path.join("."),
            },
            Expr::Call { name, args, .. } => format!(
                "{name}({})",
                args.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            Expr::Not(x, _) => format!("(not {})", show(x)),
            Expr::Negate(x, _) => format!("(-{})", show(x)),
            Expr::Binary {
                op, left, right, ..
            } => format!("({} {} {})", show(left), op.symbol(), show(right)),
            Expr::If {
                condition,
                then,
                otherwise,
                ..
            } => format!(
                "(if {} then {} else {})",
                show(condition),
                show(then),
                show(otherwise)
            ),
        }
    }

    fn read(text: &str) -> String {
        show(&parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    #[test]
    fn operators_bind_as_policy_texts_read() {
        assert_eq!(
            read("age >= p.general.age_of_majority and salary == 0"),
            "((age >= p.general.age_of_majority) and (salary == 0))"
        );
        assert_eq!(read("a or b and not c"), "(a or (b and (not c)))");
        assert_eq!(read("1 + 2 * 3 - 4 / 2"), "((1 + (2 * 3)) - (4 / 2))");
        assert_eq!(read("-x * 2"), "((-x) * 2)");
        assert_eq!(read("(1 + 2) * 3"), "((1 + 2) * 3)");
        assert_eq!(
            read("if household_income <= p.threshold then p.amount else 0"),
            "(if (household_income <= p.threshold) then p.amount else 0)"
        );
        assert_eq!(
            read("if a then 1 else if b then 2 else 3"),
            "(if a then 1 else (if b then 2 else 3))"
        );
        assert_eq!(
            read("max(accommodation_size@first_month * p.rate, p.minimal_amount)"),
            "max((accommodation_size@first_month * p.rate), p.minimal_amount)"
        );
        assert_eq!(
            read("count(adults) == 1 and any(members.age < 8)"),
            "((count(adults) == 1) and any((members.age < 8)))"
        );
        assert_eq!(
            read("status == 'tenant' or owner"),
            "((status == 'tenant') or owner)"
        );
        assert_eq!(
            read("android and notary"),
            "(android and notary)",
            "keywords end at a word's end"
        );
        assert_eq!(read("true and not false"), "(true and (not false))");
        assert_eq!(read("  0.25  "), "0.25");
    }

    #[test]
    fn spans_point_at_what_was_written() {
        let text = "age >= 80";
        let Expr::Binary {
            left, right, span, ..
        } = parse(text).unwrap()
        else {
            panic!("not a comparison");
        };
        assert_eq!((span.start, span.end), (0, 9));
        assert_eq!(&text[left.span().start..left.span().end], "age");
        assert_eq!(&text[right.span().start..right.span().end], "80");
    }

    #[test]
    fn bad_formulas_say_where_and_what_was_expected() {
        for (text, column, says) in [
            ("age >=", 7, "a value"),
            ("age >= 80 and", 14, "a value"),
            ("if a then 1", 12, "else"),
            ("max(1, 2", 9, ")"),
            ("if a 1 else 2", 6, "then"),
            ("1 +* 2", 4, "a value"),
            ("salary@", 8, "period"),
            ("", 1, "a value"),
            ("a b", 3, "end of the formula"),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.column, column, "{text}: {error}");
            assert!(error.message.contains(says), "{text}: {error}");
        }
    }
}

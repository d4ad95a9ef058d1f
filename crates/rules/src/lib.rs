//! Civitas rules as code (issue 6, in progress): the calendar of periods rules are
//! computed for; parameters with dated values and legal citations, loaded from OpenFisca's
//! parameter YAML with every problem named by file and line; and the formula language a
//! policy officer writes conditions and amounts in.
//!
//! Still to come: rules files (variables, formulas by date, entities and roles), the
//! columnar evaluator with per-person explanations, OpenFisca's YAML tests and situation
//! API, population runs and proactive benefits.

pub mod eval;
pub mod formula;
pub mod package;
pub mod parameters;
pub mod period;
pub mod simulation;

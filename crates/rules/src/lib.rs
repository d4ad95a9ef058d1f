//! Civitas rules as code (issue 6, in progress): the calendar of periods rules are
//! computed for; parameters with dated values and legal citations, loaded from OpenFisca's
//! parameter YAML with every problem named by file and line; and the formula language a
//! policy officer writes conditions and amounts in.
//!
//! Packages of variables (entities and roles, formulas by date, exclusive cases) are
//! loaded and checked whole, and a simulation computes them column by column for a
//! population of one entity.
//!
//! Still to come: group entities and roles in the simulation, per-person explanations,
//! OpenFisca's YAML tests and situation API, the ported country template, population runs
//! and proactive benefits.

pub mod api;
pub mod eval;
pub mod explain;
pub mod formula;
pub mod model;
pub mod package;
pub mod parameters;
pub mod period;
pub mod reform;
pub mod service;
pub mod simulation;
pub mod situation;
pub mod yaml_tests;

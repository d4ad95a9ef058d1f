//! CAP 1.2, the OASIS Common Alerting Protocol: reading (1.2, and 1.1 upgraded), writing,
//! the rules beyond the schema, and validation against the official schema.
//!
//! Not the `oasiscap` crate: it has not been released since 2022, reads through a
//! serde-XML layer that drops the XML signature a CAP alert may end with, and does not
//! validate against the schema; the reader here keeps the signature verbatim, reports every
//! problem with its element, and refuses hostile XML before anything is parsed.

pub mod check;
pub mod feed;
pub mod model;
pub mod read;
pub mod write;

use model::{CapProblem, CapVersion, ReadAlert};
use std::sync::OnceLock;

/// The OASIS CAP 1.2 schema, shipped with the program so validation needs no network.
pub const CAP_1_2_XSD: &str = include_str!("cap12.xsd");

/// The compiled CAP 1.2 schema (compiled once per process).
pub fn schema() -> Result<&'static xmlschema::Schema, CapProblem> {
    static SCHEMA: OnceLock<Result<xmlschema::Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            xmlschema::Schema::compile(CAP_1_2_XSD.as_bytes()).map_err(|problems| {
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .as_ref()
        .map_err(|message| {
            CapProblem::at(
                "schema",
                format!("the CAP schema did not compile: {message}"),
            )
        })
}

/// Checks a document against the CAP 1.2 schema, naming each problem's line.
pub fn schema_problems(document: &[u8]) -> Vec<CapProblem> {
    match schema() {
        Err(problem) => vec![problem],
        Ok(schema) => match schema.validate(document) {
            Ok(()) => Vec::new(),
            Err(problems) => problems
                .into_iter()
                .map(|p| {
                    CapProblem::at(
                        if p.line > 0 {
                            format!("line {}", p.line)
                        } else {
                            "document".to_owned()
                        },
                        format!("schema: {}", p.message),
                    )
                })
                .collect(),
        },
    }
}

/// What validating a document found.
#[derive(Debug)]
pub struct Validation {
    /// The alert read, when the document is a valid alert.
    pub read: Option<ReadAlert>,
    /// Every problem, each with its element or line; empty for a valid alert.
    pub problems: Vec<CapProblem>,
}

impl Validation {
    /// Whether the document is a valid CAP alert.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty() && self.read.is_some()
    }
}

/// Validates a CAP document completely: the official schema (a CAP 1.1 document is checked
/// as upgraded to 1.2), then the rules beyond it. A CAP 1.2 document is checked as sent.
pub fn validate(document: &[u8]) -> Validation {
    let (read, read_problems) = match read::read_all(document) {
        Ok(read) => read,
        Err(problems) => {
            return Validation {
                read: None,
                problems,
            };
        }
    };
    let mut problems = match read.version {
        // The sender's own bytes, in their own encoding: libxml2 reads the declaration.
        CapVersion::V1_2 => schema_problems(document),
        CapVersion::V1_1 if read_problems.is_empty() => {
            schema_problems(write::write(&read.alert).as_bytes())
        }
        CapVersion::V1_1 => Vec::new(),
    };
    // The schema names structural problems by line; the reader's say the same by element,
    // so they are added only when the schema found nothing (or was not run).
    if problems.is_empty() {
        problems = read_problems.clone();
    }
    // A field the reader could not read is already a problem; its default is not another.
    let unread: std::collections::HashSet<&str> =
        read_problems.iter().map(|r| r.element.as_str()).collect();
    problems.extend(
        check::check(&read.alert)
            .into_iter()
            .filter(|p| !unread.contains(p.element.as_str())),
    );
    read::cap_problems(&mut problems);
    let valid = problems.is_empty() && read_problems.is_empty();
    Validation {
        read: valid.then_some(read),
        problems,
    }
}

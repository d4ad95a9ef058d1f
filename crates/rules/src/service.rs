//! The packages a node serves (its rulebook) and computing situations with them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use kernel::{ApiError, AppState};

use crate::model::*;
use crate::package::{Package, ValueType, load_package_with};
use crate::period::format_day;
use crate::situation::{Answer, calculate};

/// The most reformed variants of packages kept ready at once.
const REFORMED_KEPT: usize = 64;

/// Reformed packages kept, by package name and the reforms applied in order.
type ReformedKept = BTreeMap<(String, Vec<String>), Arc<Package>>;

/// The rules packages a node serves, by name, and the reformed variants asked for.
#[derive(Default)]
pub struct Rulebook {
    packages: BTreeMap<String, Arc<Package>>,
    reformed: RwLock<ReformedKept>,
}

/// Splits a `DIR` or `DIR=PARAMETERS_DIR` entry.
fn entry_paths(entry: &str) -> (PathBuf, Option<PathBuf>) {
    match entry.split_once('=') {
        Some((dir, params)) => (PathBuf::from(dir), Some(PathBuf::from(params))),
        None => (PathBuf::from(entry), None),
    }
}

impl Rulebook {
    /// Loads every configured package; a package that does not load stops the node,
    /// naming each problem with its file and line.
    pub fn load(entries: &[String]) -> anyhow::Result<Rulebook> {
        let mut book = Rulebook::default();
        for entry in entries {
            let (dir, params) = entry_paths(entry);
            let package = load_package_with(&dir, params.as_deref()).map_err(|errors| {
                anyhow::anyhow!(
                    "the rules package in {} does not load:\n{}",
                    dir.display(),
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })?;
            book.insert(package)?;
        }
        Ok(book)
    }

    /// Adds a package (its name must be new).
    pub fn insert(&mut self, package: Package) -> anyhow::Result<()> {
        if self.packages.contains_key(&package.name) {
            anyhow::bail!("two rules packages are named {}", package.name);
        }
        self.packages
            .insert(package.name.clone(), Arc::new(package));
        Ok(())
    }

    /// The packages, by name.
    pub fn packages(&self) -> impl Iterator<Item = &Arc<Package>> {
        self.packages.values()
    }

    /// A package by name, with reforms applied (kept for the next call).
    pub fn package(&self, name: &str, reforms: &[String]) -> Result<Arc<Package>, ApiError> {
        let base = self.packages.get(name).ok_or_else(|| {
            ApiError::NotFound(format!(
                "there is no rules package {name} (there are: {})",
                self.packages.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        if reforms.is_empty() {
            return Ok(base.clone());
        }
        let key = (name.to_string(), reforms.to_vec());
        if let Some(p) = self.reformed.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(p);
        }
        let names: Vec<&str> = reforms.iter().map(String::as_str).collect();
        let reformed = Arc::new(base.reformed(&names).map_err(|errors| {
            ApiError::Invalid {
                field: Some("reforms".into()),
                detail: errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })?);
        if let Ok(mut kept) = self.reformed.write() {
            if kept.len() >= REFORMED_KEPT {
                kept.clear();
            }
            kept.insert(key, reformed.clone());
        }
        Ok(reformed)
    }
}

/// The node's rulebook.
pub fn rulebook(state: &AppState) -> Result<Arc<Rulebook>, ApiError> {
    state
        .extensions
        .get::<Arc<Rulebook>>()
        .cloned()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the rulebook is not loaded")))
}

/// What a package is, for the API and the pages.
pub fn summary(package: &Package) -> PackageSummary {
    let mut entities: Vec<EntitySummary> = package
        .entities
        .values()
        .map(|e| EntitySummary {
            key: e.key.clone(),
            plural: e.plural.clone(),
            roles: e.roles.iter().map(|r| r.1.clone()).collect(),
        })
        .collect();
    entities.sort_by_key(|e| !e.roles.is_empty());
    let cutoff = time::OffsetDateTime::now_utc().date() - time::Duration::days(365);
    PackageSummary {
        name: package.name.clone(),
        entities,
        variable_count: package.variables.len(),
        reforms: package
            .reforms
            .values()
            .map(|r| ReformSummary {
                name: r.name.clone(),
                label: r.label.clone(),
                openfisca: r.openfisca.clone(),
            })
            .collect(),
        stale: package
            .parameters
            .stale(cutoff)
            .into_iter()
            .map(|s| StaleSummary {
                path: s.path,
                last: format_day(s.last),
            })
            .collect(),
    }
}

/// A package with its variables.
pub fn detail(package: &Package) -> PackageDetail {
    PackageDetail {
        summary: summary(package),
        variables: package
            .variables
            .values()
            .map(|v| VariableSummary {
                name: v.name.clone(),
                label: v.label.clone(),
                entity: v.entity.clone(),
                period: v.period.as_str().to_string(),
                value_type: match v.value_type {
                    ValueType::Number => "number",
                    ValueType::Bool => "bool",
                    ValueType::Text => "text",
                    ValueType::Date => "date",
                }
                .to_string(),
                unit: v.unit.clone(),
                values: v.values.clone(),
                citation: v.citation.clone(),
                formulas_since: v
                    .formulas
                    .iter()
                    .filter(|f| f.from != time::Date::MIN)
                    .map(|f| format_day(f.from))
                    .collect(),
                source: relative(&v.origin.file, v.origin.line),
            })
            .collect(),
    }
}

/// A source place without the machine's folders above the package.
fn relative(file: &Path, line: usize) -> String {
    let parts: Vec<_> = file.components().rev().take(3).collect();
    let shown: PathBuf = parts.into_iter().rev().collect();
    format!("{}:{line}", shown.display())
}

/// The reforms asked for in `?reforms=a,b`.
pub fn reform_list(raw: Option<&str>) -> Vec<String> {
    raw.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Computes a situation (OpenFisca's `/calculate` and `/trace`); every problem of the
/// situation is named by its place.
pub fn compute(
    state: &AppState,
    query: &CalculateQuery,
    situation: &serde_json::Value,
    trace: bool,
) -> Result<Answer, ApiError> {
    let package =
        rulebook(state)?.package(&query.package, &reform_list(query.reforms.as_deref()))?;
    calculate(&package, situation, trace).map_err(|problems| {
        ApiError::InvalidFields(
            problems
                .into_iter()
                .map(|p| kernel::error::FieldError {
                    field: p.path,
                    detail: p.message,
                })
                .collect(),
        )
    })
}

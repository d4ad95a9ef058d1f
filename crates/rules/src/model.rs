//! What the rules API says about packages, and what it is asked.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A rules package as served: its entities, variables, reforms and stale parameters.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PackageSummary {
    /// Its name (`?package=` of `/calculate`).
    pub name: String,
    /// Its entities: the persons first, then the groups with their roles.
    pub entities: Vec<EntitySummary>,
    /// How many variables it has.
    pub variable_count: usize,
    /// Its reforms.
    pub reforms: Vec<ReformSummary>,
    /// Parameters whose latest value is older than a year and not confirmed since.
    pub stale: Vec<StaleSummary>,
}

/// An entity and its roles.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntitySummary {
    /// Its key (`person`, `household`).
    pub key: String,
    /// Its plural, as situations name it.
    pub plural: String,
    /// Its roles' plurals, as situations list members (`adults`).
    pub roles: Vec<String>,
}

/// A reform of a package.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReformSummary {
    /// Its name (`?reforms=` of `/calculate`).
    pub name: String,
    /// What it does.
    pub label: Option<String>,
    /// The OpenFisca Python path it ports.
    pub openfisca: Option<String>,
}

/// A parameter not updated (or confirmed) for more than a year.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaleSummary {
    /// Its dotted path.
    pub path: String,
    /// The day of its latest value or confirmation.
    pub last: String,
}

/// A variable as the package defines it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VariableSummary {
    /// Its name.
    pub name: String,
    /// What it is.
    pub label: Option<String>,
    /// The entity it belongs to.
    pub entity: String,
    /// `day`, `week`, `month`, `year` or `eternity`.
    pub period: String,
    /// `number`, `bool`, `text` or `date`.
    pub value_type: String,
    /// Its unit.
    pub unit: Option<String>,
    /// The values a text variable may take.
    pub values: Vec<String>,
    /// The law it implements.
    #[schema(value_type = Option<Object>)]
    pub citation: Option<crate::parameters::Citation>,
    /// The first days of its formulas (none: an input).
    pub formulas_since: Vec<String>,
    /// Where it is written (file and line).
    pub source: String,
}

/// A package with its variables.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PackageDetail {
    /// The package.
    #[serde(flatten)]
    pub summary: PackageSummary,
    /// Its variables, by name.
    pub variables: Vec<VariableSummary>,
}

/// Which package (and reforms) a situation is computed with.
#[derive(Clone, Debug, Deserialize, IntoParams)]
pub struct CalculateQuery {
    /// The package's name (see `GET /api/v1/rules/packages`).
    pub package: String,
    /// Reforms to apply, comma-separated, by name or OpenFisca Python path.
    pub reforms: Option<String>,
}

//! The packages a node serves (its rulebook) and computing situations with them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use kernel::audit::{AuditEvent, Basis};
use kernel::auth::Principal;
use kernel::db::Db;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::eval::{Column, EvalError};
use crate::explain::{Explanation, explain_all, sentence};
use crate::period::Period;
use crate::store::{self, DecisionRow, PersonInputs, PolicyRow};

use crate::model::*;
use crate::package::{
    Package, PackageFiles, ValueType, files_digest, load_package_files, load_package_with,
    package_files,
};
use crate::period::format_day;
use crate::situation::{Answer, calculate};

/// The most reformed variants of packages kept ready at once.
const REFORMED_KEPT: usize = 64;

/// The most past versions kept loaded (for replays) at once.
const PAST_KEPT: usize = 16;

/// Reformed packages kept, by the digest of the package and the reforms applied in order.
type ReformedKept = BTreeMap<(String, Vec<String>), Arc<Package>>;

/// The rules packages a node serves, by name (each at its latest published version), the
/// past versions loaded for replays, and the reformed variants asked for.
#[derive(Default)]
pub struct Rulebook {
    served: RwLock<BTreeMap<String, Arc<Package>>>,
    /// The files of each package read from a configured folder, kept as a version at start.
    folders: BTreeMap<String, (String, PackageFiles, usize)>,
    past: RwLock<HashMap<String, Arc<Package>>>,
    reformed: RwLock<ReformedKept>,
    /// One refresh at a time, so that an older read of the publications never replaces a
    /// newer one.
    refreshing: tokio::sync::Mutex<()>,
}

/// Splits a `DIR` or `DIR=PARAMETERS_DIR` entry.
fn entry_paths(entry: &str) -> (PathBuf, Option<PathBuf>) {
    match entry.split_once('=') {
        Some((dir, params)) => (PathBuf::from(dir), Some(PathBuf::from(params))),
        None => (PathBuf::from(entry), None),
    }
}

/// Loads a package folder (its parameters from `parameters` when given), or fails naming
/// every problem with its file and line.
pub fn load_folder(dir: &Path, parameters: Option<&Path>) -> anyhow::Result<Package> {
    load_package_with(dir, parameters).map_err(|errors| {
        anyhow::anyhow!(
            "the rules package in {} does not load:\n{}",
            dir.display(),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Runs the OpenFisca YAML tests in a package's `tests/` folder: how many passed, and each
/// failure as `file — test: what failed`.
pub fn package_tests(package: &Package, dir: &Path) -> (usize, Vec<String>) {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        for path in read.filter_map(Result::ok).map(|e| e.path()) {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(path);
            }
        }
    }
    let tests = dir.join("tests");
    let mut files = Vec::new();
    walk(&tests, &mut files);
    files.sort();
    let (mut passed, mut failures) = (0, Vec::new());
    for file in &files {
        let shown = file
            .strip_prefix(&tests)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        for outcome in crate::yaml_tests::run_file(package, file) {
            match outcome.failure {
                Some(failure) => {
                    failures.push(format!("tests/{shown} — {}: {failure}", outcome.name))
                }
                None if outcome.skipped.is_none() => passed += 1,
                None => {}
            }
        }
    }
    (passed, failures)
}

impl Rulebook {
    /// Loads every configured package and runs its own tests; a package that does not
    /// load, or whose tests fail, stops the node, naming each problem.
    pub fn load(entries: &[String]) -> anyhow::Result<Rulebook> {
        let mut book = Rulebook::default();
        for entry in entries {
            let (dir, params) = entry_paths(entry);
            let package = load_folder(&dir, params.as_deref())?;
            let (passed, failures) = package_tests(&package, &dir);
            if !failures.is_empty() {
                anyhow::bail!(
                    "the tests of the rules package in {} fail:\n{}",
                    dir.display(),
                    failures.join("\n")
                );
            }
            let files =
                package_files(&dir, params.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
            book.folders.insert(
                package.name.clone(),
                (
                    std::fs::canonicalize(&dir)
                        .unwrap_or_else(|_| dir.clone())
                        .display()
                        .to_string(),
                    files,
                    passed,
                ),
            );
            book.insert(package)?;
        }
        Ok(book)
    }

    /// Adds a package (its name must be new).
    pub fn insert(&mut self, package: Package) -> anyhow::Result<()> {
        let served = self
            .served
            .get_mut()
            .map_err(|_| anyhow::anyhow!("the rulebook lock is poisoned"))?;
        if served.contains_key(&package.name) {
            anyhow::bail!("two rules packages are named {}", package.name);
        }
        served.insert(package.name.clone(), Arc::new(package));
        Ok(())
    }

    /// The packages served, by name.
    pub fn packages(&self) -> Vec<Arc<Package>> {
        self.served
            .read()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The package served under `name`, if any.
    pub fn served(&self, name: &str) -> Option<Arc<Package>> {
        self.served.read().ok().and_then(|s| s.get(name).cloned())
    }

    /// Serves `package` under its name from now on (a publication).
    pub fn serve(&self, package: Arc<Package>) {
        if let Ok(mut served) = self.served.write() {
            served.insert(package.name.clone(), package);
        }
    }

    /// A package by name, with reforms applied (kept for the next call).
    pub fn package(&self, name: &str, reforms: &[String]) -> Result<Arc<Package>, ApiError> {
        let base = {
            let served = self.served.read().map_err(|_| {
                ApiError::Unexpected(anyhow::anyhow!("the rulebook lock is poisoned"))
            })?;
            served.get(name).cloned().ok_or_else(|| {
                ApiError::NotFound(format!(
                    "there is no rules package {name} (there are: {})",
                    served.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?
        };
        if reforms.is_empty() {
            return Ok(base);
        }
        let key = (base.digest.clone(), reforms.to_vec());
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

    /// The package version with `digest`: served now, loaded before, or read from the
    /// store's kept versions; `None` when the node never kept it.
    pub async fn version(
        &self,
        db: &Db,
        folder: &Path,
        digest: &str,
    ) -> ApiResult<Option<Arc<Package>>> {
        if let Some(p) = self.packages().into_iter().find(|p| p.digest == digest) {
            return Ok(Some(p));
        }
        if let Some(p) = self.past.read().ok().and_then(|m| m.get(digest).cloned()) {
            return Ok(Some(p));
        }
        let Some(files) = store::files_by_digest(db, digest).await.map_err(db_error)? else {
            return Ok(None);
        };
        let package = Arc::new(load_kept(files, folder.to_path_buf()).await?);
        if let Ok(mut past) = self.past.write() {
            if past.len() >= PAST_KEPT {
                past.clear();
            }
            past.insert(digest.to_string(), package.clone());
        }
        Ok(Some(package))
    }

    /// Keeps the configured folders' packages as versions in the store (a folder whose
    /// files are new counts as publishing them), then serves each package's latest
    /// publication.
    pub async fn sync(&self, db: &Db, folder: &Path) -> anyhow::Result<()> {
        for (name, (dir, files, passed)) in &self.folders {
            let row = store::VersionRow {
                package: name.clone(),
                digest: files_digest(files),
                source: "folder".into(),
                note: format!("read from {dir}"),
                tests_passed: *passed as i64,
                uploaded_by: "system".into(),
                uploaded_at: Timestamp::now(),
                published_at: None,
            };
            let mut tx = db.begin().await?;
            if store::insert_version(&mut tx, &row, &serde_json::to_string(files)?).await? {
                store::insert_publication(&mut tx, name, &row.digest, "system", row.uploaded_at)
                    .await?;
            }
            tx.commit().await?;
        }
        self.refresh(db, folder).await
    }

    /// Serves each package's latest publication (another node may have published one).
    pub async fn refresh(&self, db: &Db, folder: &Path) -> anyhow::Result<()> {
        let _one_at_a_time = self.refreshing.lock().await;
        for (name, digest) in store::published(db).await? {
            let current = self.served(&name);
            if current.is_some_and(|p| p.digest == digest) {
                continue;
            }
            match self.version(db, folder, &digest).await {
                Ok(Some(package)) => {
                    tracing::info!(package = %name, %digest, "serving the published rules");
                    self.serve(package);
                }
                Ok(None) => {
                    tracing::warn!(package = %name, %digest, "the published version is not kept")
                }
                Err(error) => {
                    tracing::warn!(package = %name, %digest, %error, "the published version does not load")
                }
            }
        }
        Ok(())
    }
}

/// Loads a kept version (its files as stored JSON) off the async workers.
async fn load_kept(files: String, folder: PathBuf) -> ApiResult<Package> {
    tokio::task::spawn_blocking(move || {
        let files: PackageFiles =
            serde_json::from_str(&files).map_err(|e| ApiError::Unexpected(e.into()))?;
        load_package_files(&files, &folder)
            .map(|(package, _)| package)
            .map_err(|errors| {
                ApiError::Unexpected(anyhow::anyhow!(
                    "a kept rules version no longer loads: {}",
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })
    })
    .await
    .map_err(|e| ApiError::Unexpected(e.into()))?
}

/// Where a node writes out the kept versions it loads.
pub fn versions_folder(config: &kernel::config::Config) -> PathBuf {
    config.data_dir.join("rules-versions")
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
        digest: package.digest.clone(),
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
                name: v.name.to_string(),
                label: v.label.as_deref().map(String::from),
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
                citation: v.citation.as_deref().cloned(),
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

// ---- policies and proactive decisions (免申即享) ----

/// What a run changes about one person's decision.
enum Change {
    /// A new proposal, or one rewritten from the status given (`ended`, or a `proposed`
    /// one refreshed because the amount or the rules changed).
    Propose(Option<&'static str>),
    /// Enrolled, no longer entitled or entitled to less: flagged for review (this
    /// decision), with why.
    Flag(String, Option<f64>),
    /// Enrolled and entitled to more (a raise): the enrolment follows, and she is told.
    Raise(f64),
    /// Under review, entitled again: confirmed as it was.
    Restore(String),
    /// Proposed, no longer entitled: withdrawn.
    Withdraw(String),
}

/// Persons computed at once by a run.
const RUN_PAGE: i64 = 20_000;
/// The most decisions one confirm or review call takes.
const MAX_BULK: usize = 1_000;
/// How many months ahead "soon" looks.
const SOON_MONTHS: i64 = 12;
/// Sealing contexts (bound as associated data).
const SENTENCE_CONTEXT: &str = "rules_decisions.sentence";
const EXPLANATION_CONTEXT: &str = "rules_decisions.explanation";
const INPUTS_CONTEXT: &str = "rules_decisions.inputs";

fn db_error(e: sqlx::Error) -> ApiError {
    ApiError::Unexpected(e.into())
}

/// The month now, `YYYY-MM`.
pub fn this_month() -> Period {
    let today = time::OffsetDateTime::now_utc().date();
    Period {
        unit: crate::period::Unit::Month,
        start: today.replace_day(1).unwrap_or(today),
        size: 1,
    }
}

/// The month a run decides for: the current one (a decision is about what is due now;
/// another month is refused rather than decided on).
fn month(raw: Option<&str>) -> Result<Period, ApiError> {
    let now = this_month();
    match raw {
        None => Ok(now),
        Some(text) => {
            let p = Period::parse(text).map_err(|e| ApiError::invalid("period", e.to_string()))?;
            if p.unit != crate::period::Unit::Month || p.size != 1 {
                return Err(ApiError::invalid(
                    "period",
                    format!("'{text}' is not one month (YYYY-MM)"),
                ));
            }
            if p != now {
                return Err(ApiError::invalid(
                    "period",
                    format!("decisions are made for the current month, {now}, not {text}"),
                ));
            }
            Ok(p)
        }
    }
}

async fn policy_view(state: &AppState, row: PolicyRow) -> ApiResult<Policy> {
    let counts = store::decision_counts(&state.db, &row.code)
        .await
        .map_err(db_error)?
        .into_iter()
        .collect();
    Ok(Policy {
        unit: policy_unit(state, &row).into(),
        code: row.code,
        name: row.name,
        summary: row.summary,
        package: row.package,
        variable: row.variable,
        organisation_id: row.organisation_id,
        basis: row.basis,
        status: row.status,
        counts,
        last_run_at: row.last_run_at,
    })
}

/// What a policy's amount is counted in (`CNY` or `hour`), from its variable's unit in the
/// package served (`CNY` when the package is not served).
fn policy_unit(state: &AppState, policy: &PolicyRow) -> &'static str {
    let unit = rulebook(state)
        .ok()
        .and_then(|book| book.package(&policy.package, &[]).ok())
        .and_then(|p| {
            p.variables
                .get(&policy.variable)
                .and_then(|v| v.unit.clone())
        });
    amount_unit(unit.as_deref())
}

/// Why `variable` cannot be a policy's monthly amount in `package`, if it cannot: it must
/// be a number of the package's persons.
fn amount_problem(package: &Package, variable: &str) -> Option<String> {
    let person = package
        .entities
        .values()
        .find(|e| e.roles.is_empty())
        .map(|e| e.key.clone())
        .unwrap_or_default();
    match package.variables.get(variable) {
        Some(v) if v.entity == person && v.value_type == ValueType::Number => None,
        Some(_) => Some(format!(
            "{variable} is not a number of the package's {person}s"
        )),
        None => Some(format!("{} has no variable {variable}", package.name)),
    }
}

/// Publishes a policy (platform administrator, or the department's administrator): its
/// package must be served and its variable a number of the package's persons.
pub async fn define_policy(state: &AppState, by: &Principal, new: NewPolicy) -> ApiResult<Policy> {
    let code = new.code.trim().to_string();
    if !(2..=40).contains(&code.len())
        || !code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(ApiError::invalid(
            "code",
            "a policy code is 2–40 of a–z, 0–9 and -",
        ));
    }
    let name = kernel::api::text("name", &new.name, 60, true)?;
    let summary = kernel::api::text("summary", &new.summary, 300, true)?;
    let basis = kernel::api::text("basis", &new.basis, 300, true)?;
    if !kernel::ids::is_uuid(&new.organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "not a valid organisation id",
        ));
    }
    by.require_org_admin(&new.organisation_id)?;
    identity::service::get_organisation(state, &new.organisation_id).await?;
    let package = rulebook(state)?.package(&new.package, &[]).map_err(|_| {
        ApiError::invalid(
            "package",
            format!("no rules package {} is served", new.package),
        )
    })?;
    if let Some(problem) = amount_problem(&package, &new.variable) {
        return Err(ApiError::invalid("variable", problem));
    }
    let row = PolicyRow {
        code: code.clone(),
        name,
        summary,
        package: package.name.clone(),
        variable: new.variable,
        organisation_id: new.organisation_id,
        basis,
        status: "published".into(),
        created_at: Timestamp::now(),
        last_run_at: None,
        last_digest: None,
    };
    let mut tx = state.db.begin().await.map_err(db_error)?;
    if store::policy(&state.db, &code)
        .await
        .map_err(db_error)?
        .is_some()
    {
        return Err(ApiError::Conflict(format!(
            "a policy {code} exists already"
        )));
    }
    store::insert_policy(&mut tx, &row).await.map_err(|e| {
        if kernel::db::is_unique_violation(&e) {
            ApiError::Conflict(format!("a policy {code} exists already"))
        } else {
            db_error(e)
        }
    })?;
    let mut event = AuditEvent::by(by, "rules.policy.publish", format!("policy:{code}"));
    event.purpose = "publish a benefit policy".into();
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await.map_err(db_error)?;
    policy_view(state, row).await
}

/// Every policy (public: what the city offers and under which law).
pub async fn policies(state: &AppState) -> ApiResult<Vec<Policy>> {
    let mut out = Vec::new();
    for row in store::policies(&state.db).await.map_err(db_error)? {
        out.push(policy_view(state, row).await?);
    }
    Ok(out)
}

async fn policy_row(state: &AppState, code: &str) -> ApiResult<PolicyRow> {
    store::policy(&state.db, code)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no policy {code}")))
}

/// One policy.
pub async fn policy(state: &AppState, code: &str) -> ApiResult<Policy> {
    let row = policy_row(state, code).await?;
    policy_view(state, row).await
}

/// Who carries each tag the package's sources name — of `among` only, when given (one
/// household's members).
async fn tag_sets(
    state: &AppState,
    package: &Package,
    among: Option<&HashSet<&str>>,
) -> ApiResult<HashMap<String, HashSet<String>>> {
    let mut tags = HashMap::new();
    for code in crate::population::tags_named(package) {
        let hash = identity::service::tag_hash(state, &code);
        // One household's members only: asked of the store, not the whole city's carriers.
        let only: Option<Vec<String>> = among.map(|a| a.iter().map(|m| m.to_string()).collect());
        let carriers: HashSet<String> = store::tagged(&state.db, &hash, only.as_deref())
            .await
            .map_err(db_error)?
            .into_iter()
            .collect();
        tags.insert(code, carriers);
    }
    Ok(tags)
}

/// The exchange fields computing `variable` reads, for `persons`, read by `department`
/// under its agreements (by `resource.field`, then person).
async fn exchange_records(
    state: &AppState,
    package: &Package,
    variable: &str,
    department: &str,
    persons: &[PersonInputs],
    purpose: &str,
    basis: Basis,
) -> ApiResult<HashMap<String, HashMap<String, serde_json::Value>>> {
    let mut out = HashMap::new();
    let named = crate::population::exchange_named(package, variable);
    if named.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = persons.iter().map(|p| p.id.clone()).collect();
    for (resource, fields) in named {
        let found = exchange::service::fields_of_persons(
            state,
            department,
            &resource,
            &fields,
            &ids,
            purpose,
            basis.clone(),
        )
        .await?;
        for field in &fields {
            let column: HashMap<String, serde_json::Value> = found
                .iter()
                .filter_map(|(person, record)| {
                    record.get(field).map(|v| (person.clone(), v.clone()))
                })
                .collect();
            out.insert(format!("{resource}.{field}"), column);
        }
    }
    Ok(out)
}

/// `persons` with the other members of their households (household variables are
/// computed whole).
async fn with_households(
    state: &AppState,
    mut persons: Vec<PersonInputs>,
) -> ApiResult<Vec<PersonInputs>> {
    let known: HashSet<String> = persons.iter().map(|p| p.id.clone()).collect();
    let households: Vec<String> = persons
        .iter()
        .filter_map(|p| p.household_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for member in store::household_members(&state.db, &households)
        .await
        .map_err(db_error)?
    {
        if !known.contains(&member.id) {
            persons.push(member);
        }
    }
    Ok(persons)
}

/// A resident and the other members of her household, as the register has them (her first).
async fn household_of(state: &AppState, person: &str) -> ApiResult<Vec<PersonInputs>> {
    let me = store::person_inputs(&state.db, "", 1, Some(&[person.to_string()]))
        .await
        .map_err(db_error)?;
    let Some(me) = me.into_iter().next() else {
        return Err(ApiError::NotFound(
            "the resident's record is not in the register".into(),
        ));
    };
    with_households(state, vec![me]).await
}

/// What a policy's rules read about `persons` beside the register: who carries the tags
/// they name, and the exchange fields they read, under the policy's department's
/// agreements (each read audited with `purpose` and `basis`).
async fn registers_for(
    state: &AppState,
    package: &Package,
    policy: &PolicyRow,
    persons: &[PersonInputs],
    purpose: &str,
    basis: Basis,
) -> ApiResult<crate::population::Registers> {
    let household: HashSet<&str> = persons.iter().map(|p| p.id.as_str()).collect();
    let tags = tag_sets(state, package, Some(&household)).await?;
    let records = exchange_records(
        state,
        package,
        &policy.variable,
        &policy.organisation_id,
        persons,
        purpose,
        basis,
    )
    .await?;
    Ok(crate::population::Registers { tags, records })
}

/// A number variable for the first of `persons` (her household with her) for a period,
/// with its explanation.
fn evaluate_first(
    package: &Package,
    persons: &[PersonInputs],
    registers: &crate::population::Registers,
    variable: &str,
    period: Period,
) -> Result<(f64, Explanation), EvalError> {
    let mut sim = crate::population::simulation(package, persons, registers, period)?;
    let amount = match sim.calculate(variable, period)? {
        Column::Number(v) => v.first().copied().unwrap_or(0.0),
        _ => 0.0,
    };
    let mut all = explain_all(&mut sim, variable, period)?;
    if all.is_empty() {
        return Err(EvalError::Call("no explanation".into()));
    }
    Ok((amount, all.swap_remove(0)))
}

/// What a published policy gives one resident for a month.
#[derive(Clone, Debug)]
pub struct PersonAmount {
    /// The policy's name.
    pub policy_name: String,
    /// The amount, in `unit`.
    pub amount: f64,
    /// What the amount is counted in: `CNY` or `hour`.
    pub unit: &'static str,
    /// Why, in words, with the articles.
    pub reason: String,
}

/// What a published policy gives one resident for a month (`YYYY-MM`), computed now from
/// the register — her record, her household, the tags and exchange fields its rules read
/// under its department's agreements (each read audited with `purpose` and `basis`) — with
/// the reason in words. For another capability applying a policy as it stands (elder care's
/// subsidised hours, say); nothing is decided or stored here.
pub async fn policy_amount_for(
    state: &AppState,
    code: &str,
    person_id: &str,
    month: &str,
    purpose: &str,
    basis: Basis,
) -> ApiResult<PersonAmount> {
    let policy = policy_row(state, code).await?;
    if policy.status != "published" {
        return Err(ApiError::NotFound(format!(
            "policy {code} is not published"
        )));
    }
    let period = Period::parse(month).map_err(|e| ApiError::invalid("month", e.to_string()))?;
    if period.unit != crate::period::Unit::Month || period.size != 1 {
        return Err(ApiError::invalid("month", "a month is written YYYY-MM"));
    }
    let package = rulebook(state)?
        .package(&policy.package, &[])
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let persons = household_of(state, person_id).await?;
    let registers = registers_for(state, &package, &policy, &persons, purpose, basis).await?;
    let (amount, why) = evaluate_first(&package, &persons, &registers, &policy.variable, period)
        .map_err(|e| {
            ApiError::Unexpected(anyhow::anyhow!("policy {code} does not compute: {e}"))
        })?;
    // Her household's register entries were read to compute it: each member's read is
    // in her own footprint, under the policy's statutory basis.
    for member in persons.iter().filter(|p| p.id != person_id) {
        let mut event = AuditEvent::system(
            "rules.register.read",
            format!("policy:{code} person:{}", member.id),
        )
        .subject(&member.id)
        .because(purpose, Basis::Statutory(policy.basis.clone()));
        event.actor_organisation_id = Some(policy.organisation_id.clone());
        state.audit.record(event).await?;
    }
    Ok(PersonAmount {
        unit: policy_unit(state, &policy),
        policy_name: policy.name,
        amount,
        reason: sentence(&why),
    })
}

/// Seals a decision's reason and explanation.
fn sealed(state: &AppState, e: &Explanation) -> ApiResult<(Vec<u8>, Vec<u8>)> {
    let json = serde_json::to_string(e).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok((
        state.vault.seal(&sentence(e), SENTENCE_CONTEXT)?,
        state.vault.seal(&json, EXPLANATION_CONTEXT)?,
    ))
}

/// Runs a policy over the whole population for a month (its department's staff, or a
/// platform administrator): newly entitled residents become proposals; enrolled ones no
/// longer entitled are flagged for review, never cut off; proposals nobody confirmed
/// whose person is no longer entitled are withdrawn. Reading the register is audited
/// under the policy's legal basis. `progress` is told how many persons are done.
pub async fn run_policy(
    state: &AppState,
    by: &Principal,
    code: &str,
    period: Option<&str>,
    progress: &(dyn Fn(usize) + Sync),
) -> ApiResult<RunReport> {
    evaluate_policy(state, by, code, period, None, progress).await
}

/// Runs a policy as [`run_policy`] does, over the whole register or `only` the persons
/// named (the register changed for them); a run over some persons is not the policy's
/// last run.
async fn evaluate_policy(
    state: &AppState,
    by: &Principal,
    code: &str,
    period: Option<&str>,
    only: Option<&[String]>,
    progress: &(dyn Fn(usize) + Sync),
) -> ApiResult<RunReport> {
    let started = std::time::Instant::now();
    let policy = policy_row(state, code).await?;
    by.staff_organisation(Some(&policy.organisation_id), "code")?;
    if policy.status != "published" {
        return Err(ApiError::Conflict(format!("{code} is withdrawn")));
    }
    let period = month(period)?;
    let package = rulebook(state)?.package(&policy.package, &[])?;
    let unit = policy_unit(state, &policy);
    let tags = tag_sets(state, &package, None).await?;
    let existing: HashMap<String, store::DecisionState> =
        store::decision_states(&state.db, code, only)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|d| (d.person_id.clone(), d))
            .collect();
    let now = Timestamp::now();
    let mut report = RunReport {
        policy: code.to_string(),
        period: period.to_string(),
        evaluated: 0,
        eligible: 0,
        proposed: 0,
        flagged: 0,
        raised: 0,
        withdrawn: 0,
        digest: package.digest.clone(),
        seconds: 0.0,
    };
    let (mut inserts, mut rewrites, mut deletes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut flags, mut restores, mut raises) = (Vec::new(), Vec::new(), Vec::new());
    let mut after = String::new();
    loop {
        let page = store::person_inputs(&state.db, &after, RUN_PAGE, only)
            .await
            .map_err(db_error)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id.clone();
        let asked = page.len();
        // Household members outside the page come after it, so that household
        // variables are whole; only the page's persons are decided on.
        let persons = with_households(state, page).await?;
        let registers = Arc::new(crate::population::Registers {
            tags: tags.clone(),
            records: exchange_records(
                state,
                &package,
                &policy.variable,
                &policy.organisation_id,
                &persons,
                &format!("find who is entitled to {} (免申即享)", policy.name),
                Basis::Statutory(policy.basis.clone()),
            )
            .await?,
        });
        let registers_here = registers.clone();
        let shared = package.clone();
        let variable = policy.variable.clone();
        // Columnar and CPU-bound: off the async workers.
        let computed = tokio::task::spawn_blocking(move || -> Result<_, EvalError> {
            let mut sim =
                crate::population::simulation(&shared, &persons, &registers_here, period)?;
            let amounts = match sim.calculate(&variable, period)? {
                Column::Number(v) => v,
                _ => return Err(EvalError::Call(format!("{variable} is not a number"))),
            };
            // Recorded for everybody; a member's tree is made only for a decision written.
            Ok((
                persons,
                amounts,
                crate::explain::record(&mut sim, &variable, period)?,
            ))
        })
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("{code}: {e}")))?;
        let (persons, amounts, explanations) = computed;
        for (i, person) in persons.iter().enumerate().take(asked) {
            let amount = amounts[i];
            let entitled = amount > 0.0;
            if entitled {
                report.eligible += 1;
            }
            let current = existing.get(&person.id);
            // What changes: a new or refreshed proposal (a full record), or only a status;
            // a confirmed enrolment keeps what it was decided on.
            let change = match (entitled, current) {
                (true, None) => Change::Propose(None),
                (true, Some(d)) if d.status == "ended" => Change::Propose(Some("ended")),
                (true, Some(d))
                    if d.status == "proposed"
                        && ((d.amount - amount).abs() > 1e-9 || d.digest != report.digest) =>
                {
                    Change::Propose(Some("proposed"))
                }
                // Entitled again to at least what was decided: confirmed as it was; to less,
                // it stays for the reviewer.
                (true, Some(d)) if d.status == "review" && amount >= d.amount - 1e-9 => {
                    Change::Restore(d.id.clone())
                }
                (true, Some(d)) if d.status == "confirmed" && amount > d.amount + 1e-9 => {
                    Change::Raise(d.amount)
                }
                (true, Some(d)) if d.status == "confirmed" && amount < d.amount - 1e-9 => {
                    Change::Flag(d.id.clone(), Some(d.amount))
                }
                (false, Some(d)) if d.status == "confirmed" => Change::Flag(d.id.clone(), None),
                (false, Some(d)) if d.status == "proposed" => Change::Withdraw(d.id.clone()),
                _ => continue,
            };
            match change {
                Change::Withdraw(id) => deletes.push(id),
                Change::Restore(id) => restores.push(id),
                Change::Flag(id, decided) => {
                    let why = sentence(&explanations.member(i));
                    let why = match decided {
                        Some(before) => format!(
                            "按现行规则每月应为 {}（现为 {}）：{why}",
                            amount_words(amount, unit, true),
                            amount_words(before, unit, true)
                        ),
                        None => why,
                    };
                    let reason = state.vault.seal(&why, SENTENCE_CONTEXT)?;
                    report.flagged += 1;
                    flags.push((id, reason));
                }
                Change::Propose(_) | Change::Raise(_) => {
                    let (sentence_enc, explanation_enc) = sealed(state, &explanations.member(i))?;
                    let situation = crate::population::situation_of(
                        &package,
                        &persons,
                        i,
                        &registers,
                        period,
                        &policy.variable,
                    );
                    let inputs_enc = state.vault.seal(&situation.to_string(), INPUTS_CONTEXT)?;
                    let row = DecisionRow {
                        id: current.map_or_else(kernel::ids::new_id, |d| d.id.clone()),
                        policy_code: code.to_string(),
                        person_id: person.id.clone(),
                        status: if matches!(change, Change::Raise(_)) {
                            "confirmed"
                        } else {
                            "proposed"
                        }
                        .to_string(),
                        period: period.to_string(),
                        amount,
                        sentence_enc,
                        explanation_enc,
                        inputs_enc,
                        review_reason_enc: None,
                        digest: report.digest.clone(),
                        created_at: now,
                        updated_at: now,
                        decided_by: None,
                    };
                    let expected = match change {
                        Change::Raise(before) => {
                            raises.push((row, before));
                            continue;
                        }
                        Change::Propose(expected) => expected,
                        _ => None,
                    };
                    match expected {
                        None => {
                            report.proposed += 1;
                            inserts.push(row);
                        }
                        Some(from) => {
                            if from == "ended" {
                                report.proposed += 1;
                            }
                            rewrites.push((row, from));
                        }
                    }
                }
            }
        }
        report.evaluated += asked;
        progress(report.evaluated);
    }
    report.withdrawn = deletes.len();
    let mut tx = state.db.begin().await.map_err(db_error)?;
    store::insert_decisions(&mut tx, &inserts)
        .await
        .map_err(db_error)?;
    // Every change below applies only if the decision is still as the run read it: a
    // reviewer's or resident's decision made meanwhile wins.
    for (row, expected) in &rewrites {
        store::rewrite_decision(&mut tx, row, expected)
            .await
            .map_err(db_error)?;
    }
    for (id, reason) in &flags {
        store::flag_review(&mut tx, id, reason, now)
            .await
            .map_err(db_error)?;
    }
    for id in &restores {
        store::restore_confirmed(&mut tx, id, now)
            .await
            .map_err(db_error)?;
    }
    // A raise reaches the enrolled at once, and she is told; it applies only if her
    // enrolment is as the run read it.
    for (row, before) in &raises {
        if !store::raise_enrolment(&mut tx, row, *before)
            .await
            .map_err(db_error)?
        {
            continue;
        }
        report.raised += 1;
        let reason = state.vault.open(&row.sentence_enc, SENTENCE_CONTEXT)?;
        let body = format!(
            "您的“{}”自 {} 起调整为每月 {}（原为 {}），无需申请。\n理由：{reason}\n依据：{}",
            policy.name,
            row.period,
            amount_words(row.amount, unit, true),
            amount_words(*before, unit, true),
            policy.basis
        );
        messaging::service::notify_in(
            state,
            &mut tx,
            &policy.organisation_id,
            &by.account_id,
            &row.person_id,
            &format!("{}：标准调整", policy.name),
            &body,
        )
        .await?;
        let mut event = AuditEvent::by(by, "rules.decision.raise", format!("decision:{}", row.id));
        event.subject_person_id = Some(row.person_id.clone());
        event.purpose = format!("apply the new amount of {}", policy.name);
        event.basis = Basis::Statutory(policy.basis.clone());
        state.audit.record_in(&mut tx, event).await?;
    }
    store::delete_proposals(&mut tx, &deletes)
        .await
        .map_err(db_error)?;
    if only.is_none() {
        store::set_last_run(&mut tx, code, now, &report.digest)
            .await
            .map_err(db_error)?;
    }
    let mut event = AuditEvent::by(
        by,
        if only.is_none() {
            "rules.policy.run"
        } else {
            "rules.policy.reevaluate"
        },
        format!(
            "policy:{code} period:{} persons:{} proposed:{} flagged:{}",
            report.period, report.evaluated, report.proposed, report.flagged
        ),
    );
    event.purpose = format!("find who is entitled to {} (免申即享)", policy.name);
    event.basis = Basis::Statutory(policy.basis.clone());
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await.map_err(db_error)?;
    report.seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    Ok(report)
}

fn decision_view(state: &AppState, d: DecisionRow, name: &str) -> ApiResult<Decision> {
    Ok(Decision {
        id: d.id,
        policy_code: d.policy_code,
        person_id: d.person_id,
        person_name: kernel::crypto::mask_name(name),
        status: d.status,
        period: d.period,
        amount: d.amount,
        reason: state.vault.open(&d.sentence_enc, SENTENCE_CONTEXT)?,
        review_reason: d
            .review_reason_enc
            .as_deref()
            .map(|r| state.vault.open(r, SENTENCE_CONTEXT))
            .transpose()?,
        digest: d.digest,
        updated_at: d.updated_at,
    })
}

/// A page of a policy's decisions (its department's staff), names masked; the read is
/// audited under the policy's basis.
pub async fn decisions(
    state: &AppState,
    by: &Principal,
    code: &str,
    q: &DecisionQuery,
) -> ApiResult<kernel::api::Page<Decision>> {
    let policy = policy_row(state, code).await?;
    by.staff_organisation(Some(&policy.organisation_id), "code")?;
    if let Some(s) = &q.status
        && ![
            "proposed",
            "confirmed",
            "declined",
            "rejected",
            "review",
            "ended",
        ]
        .contains(&s.as_str())
    {
        return Err(ApiError::invalid(
            "status",
            "a status is proposed, confirmed, declined, rejected, review or ended",
        ));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let rows = store::decision_page(
        &state.db,
        code,
        q.status.as_deref(),
        q.after.as_deref().unwrap_or_default(),
        limit + 1,
    )
    .await
    .map_err(db_error)?;
    let mut items = Vec::with_capacity(rows.len());
    for (d, name) in rows {
        items.push(decision_view(state, d, &name)?);
    }
    // Each resident shown finds the read in her own footprint.
    for d in items.iter().take(limit as usize) {
        let mut event = AuditEvent::by(by, "rules.decision.read", format!("decision:{}", d.id));
        event.subject_person_id = Some(d.person_id.clone());
        event.purpose = format!("review decisions on {}", policy.name);
        event.basis = Basis::Statutory(policy.basis.clone());
        state.audit.record(event).await?;
    }
    Ok(kernel::api::Page::from_rows(items, limit, |d| d.id.clone()))
}

fn bulk_ids(ids: &[String]) -> ApiResult<Vec<String>> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::invalid(
            "ids",
            format!("give 1 to {MAX_BULK} decision ids"),
        ));
    }
    let mut unique: Vec<String> = ids.to_vec();
    unique.sort();
    unique.dedup();
    Ok(unique)
}

/// What a bulk decision works on: the policy, its open transaction, and the decisions
/// named — after checking that the caller is a reviewer or administrator of the policy's
/// department (`act` says what for), that every id is one of the policy's decisions and
/// that each is `from` (`from_words` in the error).
async fn decisions_to_decide(
    state: &AppState,
    by: &Principal,
    code: &str,
    ids: &[String],
    act: &str,
    from: &str,
    from_words: &str,
) -> ApiResult<(PolicyRow, kernel::db::Tx, Vec<String>, Vec<DecisionRow>)> {
    let policy = policy_row(state, code).await?;
    let allowed = by.is_platform_admin()
        || by.has_role_in(kernel::auth::Role::Reviewer, &policy.organisation_id)
        || by.has_role_in(kernel::auth::Role::OrgAdmin, &policy.organisation_id);
    if !allowed {
        return Err(ApiError::Forbidden(format!(
            "{act} needs a reviewer or administrator of the policy's department"
        )));
    }
    let ids = bulk_ids(ids)?;
    let mut tx = state.db.begin().await.map_err(db_error)?;
    let rows = store::decisions_by_id(&mut tx, code, &ids)
        .await
        .map_err(db_error)?;
    if rows.len() != ids.len() {
        return Err(ApiError::invalid(
            "ids",
            format!(
                "{} of the ids are not decisions of {code}",
                ids.len() - rows.len()
            ),
        ));
    }
    if let Some(d) = rows.iter().find(|d| d.status != from) {
        return Err(ApiError::Conflict(format!(
            "decision {} is {}, not {from_words}",
            d.id, d.status
        )));
    }
    Ok((policy, tx, ids, rows))
}

/// Confirms proposals (the department's reviewer or administrator): each person is
/// enrolled and told, through her inbox (and SMS or e-mail as she chose), what she is
/// entitled to, from when, why, and that she may decline. Returns how many.
pub async fn confirm(
    state: &AppState,
    by: &Principal,
    code: &str,
    ids: &[String],
) -> ApiResult<usize> {
    let (policy, mut tx, ids, rows) =
        decisions_to_decide(state, by, code, ids, "confirming", "proposed", "proposed").await?;
    let unit = policy_unit(state, &policy);
    let now = Timestamp::now();
    store::set_status(
        &mut tx,
        &ids,
        &["proposed"],
        "confirmed",
        &by.account_id,
        now,
    )
    .await
    .map_err(db_error)?;
    for d in &rows {
        let reason = state.vault.open(&d.sentence_enc, SENTENCE_CONTEXT)?;
        let body = format!(
            "您可享受“{}”：每月 {}，自 {} 起，无需申请。\n理由：{}\n依据：{}\n如不需要，可在“我的待遇”中放弃。",
            policy.name,
            amount_words(d.amount, unit, true),
            d.period,
            reason,
            policy.basis
        );
        messaging::service::notify_in(
            state,
            &mut tx,
            &policy.organisation_id,
            &by.account_id,
            &d.person_id,
            &format!("{}：您已被纳入（免申即享）", policy.name),
            &body,
        )
        .await?;
        let mut event = AuditEvent::by(by, "rules.decision.confirm", format!("decision:{}", d.id));
        event.subject_person_id = Some(d.person_id.clone());
        event.purpose = format!("enrol in {}", policy.name);
        event.basis = Basis::Statutory(policy.basis.clone());
        state.audit.record_in(&mut tx, event).await?;
    }
    tx.commit().await.map_err(db_error)?;
    messaging::delivery::wake(state);
    Ok(rows.len())
}

/// Decides on decisions flagged for review (the department's reviewer or administrator):
/// keep paying, or end. Returns how many.
pub async fn review(
    state: &AppState,
    by: &Principal,
    code: &str,
    ids: &[String],
    keep: bool,
) -> ApiResult<usize> {
    let (policy, mut tx, ids, rows) =
        decisions_to_decide(state, by, code, ids, "reviewing", "review", "under review").await?;
    let status = if keep { "confirmed" } else { "ended" };
    store::set_status(
        &mut tx,
        &ids,
        &["review"],
        status,
        &by.account_id,
        Timestamp::now(),
    )
    .await
    .map_err(db_error)?;
    for d in &rows {
        let mut event = AuditEvent::by(
            by,
            if keep {
                "rules.decision.keep"
            } else {
                "rules.decision.end"
            },
            format!("decision:{}", d.id),
        );
        event.subject_person_id = Some(d.person_id.clone());
        event.purpose = format!("review entitlement to {}", policy.name);
        event.basis = Basis::Statutory(policy.basis.clone());
        state.audit.record_in(&mut tx, event).await?;
    }
    tx.commit().await.map_err(db_error)?;
    Ok(rows.len())
}

/// Replays a decision (its department's staff): its household's situation as the
/// register gave it that month is computed again with the rules it was decided with (the
/// version kept under its digest) and with the rules served now. The same amount from
/// the version decided with is the proof a decision is reproducible; the amount now says
/// what the current rules would decide.
pub async fn replay(state: &AppState, by: &Principal, id: &str) -> ApiResult<Replay> {
    let mut tx = state.db.begin().await.map_err(db_error)?;
    let d = store::decision(&mut tx, id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no decision {id}")))?;
    tx.commit().await.map_err(db_error)?;
    let policy = policy_row(state, &d.policy_code).await?;
    by.staff_organisation(Some(&policy.organisation_id), "id")?;
    let book = rulebook(state)?;
    let now = book.package(&policy.package, &[])?;
    let decided = book
        .version(&state.db, &versions_folder(&state.config), &d.digest)
        .await?;
    let situation: serde_json::Value =
        serde_json::from_str(&state.vault.open(&d.inputs_enc, INPUTS_CONTEXT)?)
            .map_err(|e| ApiError::Unexpected(e.into()))?;
    let person_plural = now
        .entities
        .values()
        .find(|e| e.roles.is_empty())
        .map(|e| e.plural.clone())
        .unwrap_or_default();
    let amount_with = |package: &Package| -> ApiResult<(f64, serde_json::Value)> {
        let answer = crate::situation::calculate(package, &situation, false).map_err(|p| {
            ApiError::Unexpected(anyhow::anyhow!(
                "the kept situation no longer computes: {}",
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        let amount = answer.situation[&person_plural][&d.person_id][&policy.variable][&d.period]
            .as_f64()
            .unwrap_or(0.0);
        Ok((amount, answer.situation))
    };
    let (amount_now, filled_now) = amount_with(&now)?;
    let (amount_replayed, filled) = match &decided {
        Some(package) if package.digest != now.digest => amount_with(package)?,
        _ => (amount_now, filled_now),
    };
    // The kept situation holds her household's register data: each member finds the read
    // in her own footprint.
    let members: Vec<String> = situation
        .get(&person_plural)
        .and_then(|p| p.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for member in members {
        let mut event = AuditEvent::by(by, "rules.decision.replay", format!("decision:{id}"));
        event.subject_person_id = Some(member);
        event.purpose = format!("check a decision on {}", policy.name);
        event.basis = Basis::Statutory(policy.basis.clone());
        state.audit.record(event).await?;
    }
    Ok(Replay {
        decision: d.id,
        period: d.period,
        amount_decided: d.amount,
        amount_replayed,
        amount_now,
        rules_kept: decided.is_some(),
        same_rules: d.digest == now.digest,
        same_result: (amount_replayed - d.amount).abs() < 1e-9,
        digest_decided: d.digest,
        digest_now: now.digest.clone(),
        situation: filled,
    })
}

fn own_basis(by: &Principal) -> Basis {
    match &by.acting_for {
        Some(a) => Basis::Proxy(a.authorisation_id.clone()),
        None => Basis::OwnData,
    }
}

/// A resident declines a proposal or an enrolment (she, or her proxy).
pub async fn decline(state: &AppState, by: &Principal, code: &str) -> ApiResult<()> {
    by.require_scope("services")?;
    let person = by
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("only a resident can decline".into()))?
        .to_string();
    let policy = policy_row(state, code).await?;
    let mut tx = state.db.begin().await.map_err(db_error)?;
    let Some(d) = store::decision_of_person(&mut tx, code, &person)
        .await
        .map_err(db_error)?
    else {
        return Err(ApiError::NotFound(format!(
            "there is no decision about you under {code}"
        )));
    };
    if !["proposed", "confirmed", "review"].contains(&d.status.as_str()) {
        return Err(ApiError::Conflict(format!("it is {} already", d.status)));
    }
    store::set_status(
        &mut tx,
        std::slice::from_ref(&d.id),
        &["proposed", "confirmed", "review"],
        "declined",
        &by.account_id,
        Timestamp::now(),
    )
    .await
    .map_err(db_error)?;
    let mut event = AuditEvent::by(by, "rules.decision.decline", format!("decision:{}", d.id));
    event.subject_person_id = Some(person);
    event.purpose = format!("decline {}", policy.name);
    event.basis = own_basis(by);
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await.map_err(db_error)
}

/// What the resident (or the person her proxy acts for) is entitled to under every
/// published policy: qualifies now, soon (the first month within a year), nearly (a
/// single fact about her is missing, e.g. being registered as living alone), or not —
/// each with why, in words and as an explanation — and the department's decision.
pub async fn my_entitlements(state: &AppState, by: &Principal) -> ApiResult<Vec<Entitlement>> {
    by.require_scope("services")?;
    let person = by
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("only a resident has entitlements".into()))?
        .to_string();
    let persons = household_of(state, &person).await?;
    let decisions: HashMap<String, String> = store::decisions_of_person(&state.db, &person)
        .await
        .map_err(db_error)?
        .into_iter()
        .collect();
    let book = rulebook(state)?;
    let mut out = Vec::new();
    for policy in store::policies(&state.db).await.map_err(db_error)? {
        if policy.status != "published" {
            continue;
        }
        // A policy whose rules are not served or do not compute is left out (and logged),
        // not a failure of every other one.
        let Ok(package) = book.package(&policy.package, &[]) else {
            tracing::warn!(policy = %policy.code, package = %policy.package, "the policy's package is not served");
            continue;
        };
        let registers = match registers_for(
            state,
            &package,
            &policy,
            &persons,
            &format!("what she is entitled to under {}", policy.name),
            own_basis(by),
        )
        .await
        {
            Ok(r) => r,
            Err(error) => {
                tracing::warn!(policy = %policy.code, %error, "the policy's exchange data cannot be read");
                continue;
            }
        };
        let now = this_month();
        let evaluate = |period: Period| {
            evaluate_first(&package, &persons, &registers, &policy.variable, period)
        };
        let (amount, why) = match evaluate(now) {
            Ok(x) => x,
            Err(error) => {
                tracing::warn!(policy = %policy.code, %error, "the policy does not compute");
                continue;
            }
        };
        let mut standing = if amount > 0.0 { "qualifies" } else { "not" };
        let (mut shown_amount, mut shown, mut from) = (amount, why, None);
        if amount <= 0.0 {
            for ahead in 1..=SOON_MONTHS {
                let later = now.offset(ahead);
                // A parameter that ends or a formula not yet written: not "soon".
                let Ok((a, e)) = evaluate(later) else {
                    break;
                };
                if a > 0.0 {
                    standing = "soon";
                    shown_amount = a;
                    shown = e;
                    from = Some(later.to_string());
                    break;
                }
            }
        }
        // Not now, not soon: nearly, when a single fact about her is all that is missing, or
        // an amount of hers is a little over its limit.
        let mut missing = None;
        let mut over_limit = None;
        if standing == "not"
            && let Some(shortfall) = crate::explain::nearly(&shown, &package)
        {
            standing = "nearly";
            missing = Some(match shortfall {
                crate::explain::Shortfall::Fact(name) => name,
                crate::explain::Shortfall::Margin { name, value, limit } => {
                    over_limit = Some(OverLimit { value, limit });
                    name
                }
            });
        }
        out.push(Entitlement {
            policy_code: policy.code.clone(),
            name: policy.name.clone(),
            summary: policy.summary.clone(),
            standing: standing.into(),
            missing,
            over_limit,
            amount: shown_amount,
            unit: policy_unit(state, &policy).into(),
            from,
            reason: sentence(&shown),
            explanation: serde_json::to_value(&shown).unwrap_or_default(),
            decision: decisions.get(&policy.code).cloned(),
        });
    }
    if by.acting_for.is_some() {
        let mut event = AuditEvent::by(by, "rules.entitlements.read", format!("person:{person}"));
        event.subject_person_id = Some(person);
        event.purpose = "what she is entitled to".into();
        event.basis = own_basis(by);
        state.audit.record(event).await?;
    }
    Ok(out)
}

/// How old a run may be before the sweep runs the policy again.
const RERUN_AFTER_SECONDS: i64 = 24 * 3600;

/// Runs every published policy whose last run is older than a day, or was made with
/// other rules than those served now (a parameter or formula changed), as the platform
/// itself. Returns what each run did.
pub async fn sweep(state: &AppState) -> ApiResult<Vec<RunReport>> {
    let system = Principal::system();
    let book = rulebook(state)?;
    let now = Timestamp::now();
    let mut reports = Vec::new();
    for policy in store::policies(&state.db).await.map_err(db_error)? {
        if policy.status != "published" {
            continue;
        }
        let Ok(package) = book.package(&policy.package, &[]) else {
            continue;
        };
        let stale = policy.last_run_at.is_none_or(|t| {
            (now.to_datetime() - t.to_datetime()).whole_seconds() >= RERUN_AFTER_SECONDS
        });
        let changed = policy.last_digest.as_deref() != Some(package.digest.as_str());
        if stale || changed {
            match run_policy(state, &system, &policy.code, None, &|_| {}).await {
                Ok(report) => reports.push(report),
                Err(error) => {
                    tracing::warn!(policy = %policy.code, %error, "the policy's run failed")
                }
            }
        }
    }
    Ok(reports)
}

/// The most files a package version may have.
const MAX_VERSION_FILES: usize = 2_000;

/// The most text a package version may hold, in bytes.
const MAX_VERSION_BYTES: usize = 8 * 1024 * 1024;

fn version_view(row: store::VersionRow, served: &str) -> PackageVersion {
    PackageVersion {
        served: row.digest == served,
        package: row.package,
        digest: row.digest,
        source: row.source,
        note: row.note,
        tests_passed: row.tests_passed,
        uploaded_by: row.uploaded_by,
        uploaded_at: row.uploaded_at,
        published_at: row.published_at,
    }
}

/// The digest a package is served at now (empty when it is not served).
fn served_digest(state: &AppState, name: &str) -> ApiResult<String> {
    Ok(rulebook(state)?
        .served(name)
        .map(|p| p.digest.clone())
        .unwrap_or_default())
}

/// Every kept version of a package, newest first.
pub async fn package_versions(state: &AppState, name: &str) -> ApiResult<Vec<PackageVersion>> {
    let served = served_digest(state, name)?;
    let rows = store::versions(&state.db, name).await.map_err(db_error)?;
    if rows.is_empty() && served.is_empty() {
        return Err(ApiError::NotFound(format!(
            "there is no rules package {name}"
        )));
    }
    Ok(rows.into_iter().map(|r| version_view(r, &served)).collect())
}

/// One kept version with its files: the rules exactly as they were.
pub async fn package_version(
    state: &AppState,
    name: &str,
    digest: &str,
) -> ApiResult<VersionFiles> {
    let (row, files) = store::version_files(&state.db, name, digest)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::NotFound(format!("{name} has no version {digest}")))?;
    let files = serde_json::from_str(&files).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(VersionFiles {
        version: version_view(row, &served_digest(state, name)?),
        files,
    })
}

/// Keeps a new version of a package (platform administrator) once it loads and its own
/// tests pass; nothing is kept otherwise and what is served is untouched. It is served
/// only once published.
pub async fn upload_version(
    state: &AppState,
    by: &Principal,
    name: &str,
    new: NewVersion,
) -> ApiResult<PackageVersion> {
    by.require_platform_admin()?;
    let note = kernel::api::text("note", &new.note, 300, false)?;
    if new.files.is_empty() {
        return Err(ApiError::invalid("files", "a version needs its files"));
    }
    if new.files.len() > MAX_VERSION_FILES {
        return Err(ApiError::invalid(
            "files",
            format!("a version has at most {MAX_VERSION_FILES} files"),
        ));
    }
    if new
        .files
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum::<usize>()
        > MAX_VERSION_BYTES
    {
        return Err(ApiError::invalid(
            "files",
            "a version holds at most 8 MiB of text",
        ));
    }
    if let Some(bad) = new
        .files
        .keys()
        .find(|p| !crate::package::is_package_path(p))
    {
        return Err(ApiError::invalid(
            format!("files/{bad}"),
            "not a file path inside a package (relative, `/`-separated, no `..` or hidden parts)",
        ));
    }
    if !new.files.contains_key("package.yaml") {
        return Err(ApiError::invalid(
            "files/package.yaml",
            "a package needs its package.yaml",
        ));
    }
    let folder = versions_folder(&state.config);
    let files = new.files;
    let expected = name.to_string();
    let (files, digest, passed) = tokio::task::spawn_blocking(move || {
        let (package, dir) =
            load_package_files(&files, &folder).map_err(|errors| ApiError::Invalid {
                field: Some("files".into()),
                detail: errors
                    .iter()
                    .take(20)
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            })?;
        if package.name != expected {
            return Err(ApiError::invalid(
                "files/package.yaml",
                format!("it names the package {}, not {expected}", package.name),
            ));
        }
        let (passed, failures) = package_tests(&package, &dir);
        if !failures.is_empty() {
            return Err(ApiError::Invalid {
                field: Some("files/tests".into()),
                detail: format!(
                    "{} of its tests fail:\n{}",
                    failures.len(),
                    failures
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            });
        }
        Ok((files, package.digest.clone(), passed))
    })
    .await
    .map_err(|e| ApiError::Unexpected(e.into()))??;
    let row = store::VersionRow {
        package: name.to_string(),
        digest: digest.clone(),
        source: "upload".into(),
        note,
        tests_passed: passed as i64,
        uploaded_by: by.account_id.clone(),
        uploaded_at: Timestamp::now(),
        published_at: None,
    };
    let json = serde_json::to_string(&files).map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut tx = state.db.begin().await.map_err(db_error)?;
    if !store::insert_version(&mut tx, &row, &json)
        .await
        .map_err(db_error)?
    {
        return Err(ApiError::Conflict(format!(
            "{name} already has this version ({digest})"
        )));
    }
    let mut event = AuditEvent::by(
        by,
        "rules.package.upload",
        format!("rules-package:{name}@{digest}"),
    );
    event.purpose = format!("keep a new version of the rules {name}");
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(version_view(row, &served_digest(state, name)?))
}

/// Publishes a kept version (platform administrator): the node serves it from now on
/// (other nodes within half a minute); the published policies on the package, to run
/// again, are named in the answer ([`rerun_in_background`] runs them). A version that would break a published policy (its amount
/// variable gone or no longer a person's number) is refused.
pub async fn publish_version(
    state: &AppState,
    by: &Principal,
    name: &str,
    digest: &str,
) -> ApiResult<Publication> {
    by.require_platform_admin()?;
    let book = rulebook(state)?;
    let replaced = served_digest(state, name)?;
    if replaced == digest {
        return Err(ApiError::Conflict(format!(
            "{name} is served at {digest} already"
        )));
    }
    // One read of the kept version: its digest names its files, package.yaml (the name)
    // included.
    let package = book
        .version(&state.db, &versions_folder(&state.config), digest)
        .await?
        .filter(|p| p.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("{name} has no version {digest}")))?;
    let affected: Vec<PolicyRow> = store::policies(&state.db)
        .await
        .map_err(db_error)?
        .into_iter()
        .filter(|p| p.package == name && p.status == "published")
        .collect();
    let broken: Vec<String> = affected
        .iter()
        .filter_map(|p| {
            amount_problem(&package, &p.variable).map(|why| format!("policy {}: {why}", p.code))
        })
        .collect();
    if !broken.is_empty() {
        return Err(ApiError::Invalid {
            field: Some("digest".into()),
            detail: format!("publishing it would break {}", broken.join("; ")),
        });
    }
    let at = Timestamp::now();
    let mut tx = state.db.begin().await.map_err(db_error)?;
    store::insert_publication(&mut tx, name, digest, &by.account_id, at)
        .await
        .map_err(db_error)?;
    let mut event = AuditEvent::by(
        by,
        "rules.package.publish",
        format!("rules-package:{name}@{digest}"),
    );
    event.purpose = format!("serve a new version of the rules {name}");
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await.map_err(db_error)?;
    // Served as the latest publication: a publication made meanwhile elsewhere wins.
    drop(package);
    book.refresh(&state.db, &versions_folder(&state.config))
        .await
        .map_err(ApiError::Unexpected)?;
    let reruns: Vec<String> = affected.iter().map(|p| p.code.clone()).collect();
    Ok(Publication {
        package: name.to_string(),
        digest: digest.to_string(),
        replaced,
        published_at: at,
        reruns,
    })
}

/// Runs policies again over the population, one after another, in the background (after
/// a publication changed their rules).
pub fn rerun_in_background(state: &AppState, codes: Vec<String>) {
    let state = state.clone();
    tokio::spawn(async move {
        for code in codes {
            match run_policy(&state, &Principal::system(), &code, None, &|_| {}).await {
                Ok(r) => {
                    tracing::info!(policy = %r.policy, proposed = r.proposed, flagged = r.flagged, "policy run after a publication")
                }
                Err(error) => {
                    tracing::warn!(policy = %code, %error, "running a policy after a publication failed")
                }
            }
        }
    });
}

/// How many register changes the follower takes at once.
const FOLLOW_BATCH: i64 = 1_000;

/// Follows the register's change feed: the persons whose register data changed, with
/// their households, are evaluated again under every published policy for this month
/// (newly entitled become proposals, the enrolled no longer entitled are flagged for
/// review); the changes handled are then forgotten. Handling a change twice (a crash
/// between the two, two nodes at once) changes nothing the second time; a batch any
/// policy failed on is kept, to be tried again at the next pass.
pub async fn follow_register(state: &AppState) -> ApiResult<FollowReport> {
    let mut report = FollowReport::default();
    let by = Principal::system();
    loop {
        let changes = identity::store::register_changes(&state.db, FOLLOW_BATCH)
            .await
            .map_err(db_error)?;
        if changes.is_empty() {
            break;
        }
        let mut persons: Vec<String> = changes.iter().map(|(_, p)| p.clone()).collect();
        persons.sort_unstable();
        persons.dedup();
        // Her household's members: household variables (income per head, living alone)
        // change for them too.
        let rows = store::person_inputs(&state.db, "", FOLLOW_BATCH * 10, Some(&persons))
            .await
            .map_err(db_error)?;
        let households: Vec<String> = rows.iter().filter_map(|r| r.household_id.clone()).collect();
        for member in store::household_members(&state.db, &households)
            .await
            .map_err(db_error)?
        {
            persons.push(member.id);
        }
        persons.sort_unstable();
        persons.dedup();
        report.persons += persons.len();
        let mut failed = false;
        for policy in store::policies(&state.db).await.map_err(db_error)? {
            if policy.status != "published" {
                continue;
            }
            for chunk in persons.chunks(FOLLOW_BATCH as usize) {
                match evaluate_policy(state, &by, &policy.code, None, Some(chunk), &|_| {}).await {
                    Ok(r) => {
                        report.proposed += r.proposed;
                        report.flagged += r.flagged;
                        report.raised += r.raised;
                        report.withdrawn += r.withdrawn;
                    }
                    // The other policies still go on; the batch is kept and tried again.
                    Err(error) => {
                        failed = true;
                        tracing::warn!(policy = %policy.code, %error, "re-evaluating after register changes failed; the changes are kept");
                    }
                }
            }
        }
        if failed {
            report.kept = changes.len();
            break;
        }
        let seqs: Vec<i64> = changes.iter().map(|(seq, _)| *seq).collect();
        identity::store::forget_changes(&state.db, &seqs)
            .await
            .map_err(db_error)?;
        report.changes += changes.len();
    }
    Ok(report)
}

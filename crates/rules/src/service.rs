//! The packages a node serves (its rulebook) and computing situations with them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use kernel::audit::{AuditEvent, Basis};
use kernel::auth::Principal;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::eval::{Column, EvalError};
use crate::explain::{Explanation, explain_all, sentence};
use crate::period::Period;
use crate::store::{self, DecisionRow, PersonInputs, PolicyRow};

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

impl Rulebook {
    /// Loads every configured package; a package that does not load stops the node,
    /// naming each problem with its file and line.
    pub fn load(entries: &[String]) -> anyhow::Result<Rulebook> {
        let mut book = Rulebook::default();
        for entry in entries {
            let (dir, params) = entry_paths(entry);
            book.insert(load_folder(&dir, params.as_deref())?)?;
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

// ---- policies and proactive decisions (免申即享) ----

/// What a run changes about one person's decision.
enum Change {
    /// A new proposal, or one rewritten from the status given (`ended`, or a `proposed`
    /// one refreshed because the amount or the rules changed).
    Propose(Option<&'static str>),
    /// Enrolled, no longer entitled: flagged for review (this decision).
    Flag(String),
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
    let person = package
        .entities
        .values()
        .find(|e| e.roles.is_empty())
        .map(|e| e.key.clone())
        .unwrap_or_default();
    match package.variables.get(&new.variable) {
        Some(v) if v.entity == person && v.value_type == ValueType::Number => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "variable",
                format!(
                    "{} is not a number of the package's {person}s",
                    new.variable
                ),
            ));
        }
        None => {
            return Err(ApiError::invalid(
                "variable",
                format!("{} has no variable {}", package.name, new.variable),
            ));
        }
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
        let carriers: HashSet<String> = store::tagged(&state.db, &hash)
            .await
            .map_err(db_error)?
            .into_iter()
            .filter(|m| among.is_none_or(|a| a.contains(m.as_str())))
            .collect();
        tags.insert(code, carriers);
    }
    Ok(tags)
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
    let started = std::time::Instant::now();
    let policy = policy_row(state, code).await?;
    by.staff_organisation(Some(&policy.organisation_id), "code")?;
    if policy.status != "published" {
        return Err(ApiError::Conflict(format!("{code} is withdrawn")));
    }
    let period = month(period)?;
    let package = rulebook(state)?.package(&policy.package, &[])?;
    let tags = tag_sets(state, &package, None).await?;
    let existing: HashMap<String, store::DecisionState> = store::decision_states(&state.db, code)
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
        withdrawn: 0,
        digest: package.digest.clone(),
        seconds: 0.0,
    };
    let (mut inserts, mut rewrites, mut deletes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut flags, mut restores) = (Vec::new(), Vec::new());
    let mut after = String::new();
    loop {
        let page = store::person_inputs(&state.db, &after, RUN_PAGE, None)
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
        let shared = package.clone();
        let tags_here = tags.clone();
        let variable = policy.variable.clone();
        // Columnar and CPU-bound: off the async workers.
        let computed = tokio::task::spawn_blocking(move || -> Result<_, EvalError> {
            let mut sim = crate::population::simulation(&shared, &persons, &tags_here, period)?;
            let amounts = match sim.calculate(&variable, period)? {
                Column::Number(v) => v,
                _ => return Err(EvalError::Call(format!("{variable} is not a number"))),
            };
            Ok((persons, amounts, explain_all(&mut sim, &variable, period)?))
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
                (true, Some(d)) if d.status == "review" => Change::Restore(d.id.clone()),
                (false, Some(d)) if d.status == "confirmed" => Change::Flag(d.id.clone()),
                (false, Some(d)) if d.status == "proposed" => Change::Withdraw(d.id.clone()),
                _ => continue,
            };
            match change {
                Change::Withdraw(id) => deletes.push(id),
                Change::Restore(id) => restores.push(id),
                Change::Flag(id) => {
                    let reason = state
                        .vault
                        .seal(&sentence(&explanations[i]), SENTENCE_CONTEXT)?;
                    report.flagged += 1;
                    flags.push((id, reason));
                }
                Change::Propose(expected) => {
                    let (sentence_enc, explanation_enc) = sealed(state, &explanations[i])?;
                    let situation = crate::population::situation_of(
                        &package,
                        &persons,
                        i,
                        &tags,
                        period,
                        &policy.variable,
                    );
                    let inputs_enc = state.vault.seal(&situation.to_string(), INPUTS_CONTEXT)?;
                    let row = DecisionRow {
                        id: current.map_or_else(kernel::ids::new_id, |d| d.id.clone()),
                        policy_code: code.to_string(),
                        person_id: person.id.clone(),
                        status: "proposed".to_string(),
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
    store::delete_proposals(&mut tx, &deletes)
        .await
        .map_err(db_error)?;
    store::set_last_run(&mut tx, code, now, &report.digest)
        .await
        .map_err(db_error)?;
    let mut event = AuditEvent::by(
        by,
        "rules.policy.run",
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
            "您可享受“{}”：每月 {:.2} 元，自 {} 起，无需申请。\n理由：{}\n依据：{}\n如不需要，可在“我的待遇”中放弃。",
            policy.name, d.amount, d.period, reason, policy.basis
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
/// register gave it that month is computed again with the rules served now. The same
/// amount with the same package version is the proof a decision is reproducible; a
/// different version says what the current rules would decide.
pub async fn replay(state: &AppState, by: &Principal, id: &str) -> ApiResult<Replay> {
    let mut tx = state.db.begin().await.map_err(db_error)?;
    let d = store::decision(&mut tx, id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no decision {id}")))?;
    tx.commit().await.map_err(db_error)?;
    let policy = policy_row(state, &d.policy_code).await?;
    by.staff_organisation(Some(&policy.organisation_id), "id")?;
    let package = rulebook(state)?.package(&policy.package, &[])?;
    let situation: serde_json::Value =
        serde_json::from_str(&state.vault.open(&d.inputs_enc, INPUTS_CONTEXT)?)
            .map_err(|e| ApiError::Unexpected(e.into()))?;
    let answer = crate::situation::calculate(&package, &situation, false).map_err(|p| {
        ApiError::Unexpected(anyhow::anyhow!(
            "the kept situation no longer computes: {}",
            p.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let person_plural = package
        .entities
        .values()
        .find(|e| e.roles.is_empty())
        .map(|e| e.plural.clone())
        .unwrap_or_default();
    let amount = answer.situation[&person_plural][&d.person_id][&policy.variable][&d.period]
        .as_f64()
        .unwrap_or(0.0);
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
        amount_replayed: amount,
        digest_decided: d.digest.clone(),
        digest_now: package.digest.clone(),
        same_rules: d.digest == package.digest,
        same_result: (amount - d.amount).abs() < 1e-9,
        situation: answer.situation,
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
/// published policy: qualifies now, soon (the first month within a year), or not — each
/// with why, in words and as an explanation — and the department's decision.
pub async fn my_entitlements(state: &AppState, by: &Principal) -> ApiResult<Vec<Entitlement>> {
    by.require_scope("services")?;
    let person = by
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("only a resident has entitlements".into()))?
        .to_string();
    let me = store::person_inputs(&state.db, "", 1, Some(std::slice::from_ref(&person)))
        .await
        .map_err(db_error)?;
    let Some(me) = me.into_iter().next() else {
        return Err(ApiError::NotFound(
            "your record is not in the register".into(),
        ));
    };
    let persons = with_households(state, vec![me]).await?;
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
        let household: HashSet<&str> = persons.iter().map(|p| p.id.as_str()).collect();
        let tags = tag_sets(state, &package, Some(&household)).await?;
        let now = this_month();
        let evaluate = |period: Period| -> Result<(f64, Explanation), EvalError> {
            let mut sim = crate::population::simulation(&package, &persons, &tags, period)?;
            let amount = match sim.calculate(&policy.variable, period)? {
                Column::Number(v) => v.first().copied().unwrap_or(0.0),
                _ => 0.0,
            };
            let mut all = explain_all(&mut sim, &policy.variable, period)?;
            if all.is_empty() {
                return Err(EvalError::Call("no explanation".into()));
            }
            Ok((amount, all.swap_remove(0)))
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
        out.push(Entitlement {
            policy_code: policy.code.clone(),
            name: policy.name.clone(),
            summary: policy.summary.clone(),
            standing: standing.into(),
            amount: shown_amount,
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

//! The rules of identity: who may create what, how personal data is sealed and shown,
//! how sessions start and end, how proxies are authorised. No HTTP here.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use kernel::api::{Page, PageQuery, text};
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::{ActingFor, Principal, Role, RoleBinding};
use kernel::db::is_unique_violation;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::model::*;
use crate::store::{
    self, AccountRow, OrgRow, PersonInsert, PersonRow, ProxyRow, RegionRow, TagRow,
};

/// Vault contexts: each sealed column binds its own.
pub const CTX_RESIDENT_ID: &str = "person.resident_id";
/// Vault context of the phone column.
pub const CTX_PHONE: &str = "person.phone";
/// Vault context of the address column.
pub const CTX_ADDRESS: &str = "person.address";

/// The statutory basis cited when platform administrators handle personal data.
pub const ADMIN_BASIS: &str = "platform administration (platform operating rules)";

/// Failed logins allowed in the window before the account name is locked.
pub const MAX_FAILURES: i64 = 5;
const FAILURE_WINDOW_MINUTES: i64 = 15;

fn conflict_or(error: sqlx::Error, what: &str) -> ApiError {
    if is_unique_violation(&error) {
        ApiError::Conflict(format!("{what} already exists"))
    } else {
        error.into()
    }
}

fn check_id(field: &str, id: &str) -> ApiResult<()> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("{field} is not a valid id"),
        ))
    }
}

// ---- regions ----

fn region_view(row: RegionRow) -> Region {
    Region {
        level: RegionLevel::parse(&row.level).unwrap_or(RegionLevel::Community),
        code: row.code,
        name: row.name,
        parent_code: row.parent_code,
        urban: row.urban,
    }
}

/// Creates a region; its parent (by code shape) must exist.
pub async fn create_region(
    state: &AppState,
    actor: &Principal,
    new: NewRegion,
) -> ApiResult<Region> {
    actor.require_platform_admin()?;
    let name = text("name", &new.name, 64, true)?;
    let parent = new.code.parent();
    if let Some(parent) = &parent
        && store::get_region(&state.db, parent.as_str())
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            "code",
            format!("the parent region {parent} does not exist; create it first"),
        ));
    }
    let row = RegionRow {
        code: new.code.to_string(),
        name,
        level: new.code.level().as_str().to_string(),
        parent_code: parent.map(|p| p.to_string()),
        urban: new.urban,
    };
    let mut tx = state.db.begin().await?;
    store::insert_region(&mut tx, &row)
        .await
        .map_err(|e| conflict_or(e, "a region with this code"))?;
    let event = AuditEvent::by(actor, "region.create", format!("region:{}", row.code));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(region_view(row))
}

/// One region.
pub async fn get_region(state: &AppState, code: &str) -> ApiResult<Region> {
    let code = RegionCode::parse(code).map_err(|e| ApiError::invalid("code", e))?;
    store::get_region(&state.db, code.as_str())
        .await?
        .map(region_view)
        .ok_or_else(|| ApiError::NotFound(format!("no region with code {code}")))
}

/// Regions, optionally under one parent, in code order.
pub async fn list_regions(
    state: &AppState,
    parent: Option<&str>,
    page: &PageQuery,
) -> ApiResult<Page<Region>> {
    let parent = parent
        .filter(|p| !p.is_empty())
        .map(|p| RegionCode::parse(p).map_err(|e| ApiError::invalid("parent", e)))
        .transpose()?;
    let rows = store::list_regions(
        &state.db,
        parent.as_ref().map(RegionCode::as_str),
        page.cursor()?,
        page.limit(),
    )
    .await?;
    let regions = rows.into_iter().map(region_view).collect();
    Ok(Page::from_rows(regions, page.limit(), |r: &Region| {
        r.code.clone()
    }))
}

// ---- organisations ----

fn org_view(row: OrgRow) -> Organisation {
    Organisation {
        kind: OrgKind::parse(&row.kind).unwrap_or(OrgKind::Other),
        level: AdminLevel::parse(&row.level).unwrap_or(AdminLevel::City),
        id: row.id,
        credit_code: row.credit_code,
        name: row.name,
        region_code: row.region_code,
        parent_id: row.parent_id,
        created_at: row.created_at,
    }
}

/// Registers an organisation.
pub async fn create_organisation(
    state: &AppState,
    actor: &Principal,
    new: NewOrganisation,
) -> ApiResult<Organisation> {
    actor.require_platform_admin()?;
    let name = text("name", &new.name, 128, true)?;
    if store::get_region(&state.db, new.region.as_str())
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            "region",
            format!("no region with code {}", new.region),
        ));
    }
    if let Some(parent) = &new.parent_id {
        check_id("parent_id", parent)?;
        if store::get_org(&state.db, parent).await?.is_none() {
            return Err(ApiError::invalid(
                "parent_id",
                "no organisation with that id",
            ));
        }
    }
    let row = OrgRow {
        id: new_id(),
        credit_code: new.credit_code.to_string(),
        name,
        kind: new.kind.as_str().into(),
        level: new.level.as_str().into(),
        region_code: new.region.to_string(),
        parent_id: new.parent_id,
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    store::insert_org(&mut tx, &row)
        .await
        .map_err(|e| conflict_or(e, "an organisation with this credit code"))?;
    let event = AuditEvent::by(
        actor,
        "organisation.create",
        format!("organisation:{}", row.id),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(org_view(row))
}

/// One organisation.
pub async fn get_organisation(state: &AppState, id: &str) -> ApiResult<Organisation> {
    check_id("id", id)?;
    store::get_org(&state.db, id)
        .await?
        .map(org_view)
        .ok_or_else(|| ApiError::NotFound("no organisation with that id".into()))
}

/// One organisation by its credit code.
pub async fn organisation_by_code(state: &AppState, code: &str) -> ApiResult<Organisation> {
    let code = CreditCode::parse(code).map_err(|e| ApiError::invalid("org", e))?;
    store::get_org_by_code(&state.db, code.as_str())
        .await?
        .map(org_view)
        .ok_or_else(|| ApiError::NotFound(format!("no organisation with credit code {code}")))
}

/// Organisations, optionally of one kind.
pub async fn list_organisations(
    state: &AppState,
    kind: Option<OrgKind>,
    page: &PageQuery,
) -> ApiResult<Page<Organisation>> {
    let rows = store::list_orgs(
        &state.db,
        kind.map(OrgKind::as_str),
        page.cursor()?,
        page.limit(),
    )
    .await?;
    let orgs = rows.into_iter().map(org_view).collect();
    Ok(Page::from_rows(orgs, page.limit(), |o: &Organisation| {
        o.id.clone()
    }))
}

/// Organisation names by id (for display).
pub async fn organisation_names(
    state: &AppState,
    ids: &[String],
) -> ApiResult<HashMap<String, String>> {
    Ok(store::org_names(&state.db, ids)
        .await?
        .into_iter()
        .collect())
}

// ---- persons ----

fn person_summary(row: &PersonRow) -> PersonSummary {
    PersonSummary {
        id: row.id.clone(),
        name: row.name.clone(),
        resident_id_masked: row.resident_id_masked.clone(),
        phone_masked: row.phone_masked.clone(),
        sex: if row.sex == "male" {
            Sex::Male
        } else {
            Sex::Female
        },
        birth_year: birth_year(&row.birth_date),
        region_code: row.region_code.clone(),
        household_id: row.household_id.clone(),
    }
}

/// The year of a stored `YYYY-MM-DD` birth date.
fn birth_year(date: &str) -> i32 {
    date.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0)
}

fn person_detail(
    state: &AppState,
    row: &PersonRow,
    region_name: Option<String>,
) -> ApiResult<PersonDetail> {
    let vault = &state.vault;
    let open = |sealed: &Option<Vec<u8>>, ctx: &str| -> ApiResult<Option<String>> {
        sealed
            .as_deref()
            .map(|s| vault.open(s, ctx).map_err(ApiError::Unexpected))
            .transpose()
    };
    Ok(PersonDetail {
        summary: person_summary(row),
        resident_id: vault
            .open(&row.resident_id_enc, CTX_RESIDENT_ID)
            .map_err(ApiError::Unexpected)?,
        phone: open(&row.phone_enc, CTX_PHONE)?,
        address: open(&row.address_enc, CTX_ADDRESS)?,
        birth_date: row.birth_date.clone(),
        region_name,
        tags: Vec::new(),
        created_at: row.created_at,
    })
}

/// A person's name, phone and address, opened for someone whose duty is to reach her (a
/// community worker during an evacuation, say). The caller has authorised the reader and
/// records the read, with its purpose and basis, before the data leaves.
pub async fn contact_of(state: &AppState, person_id: &str) -> ApiResult<Option<Contact>> {
    let Some(row) = store::get_person(&state.db, person_id).await? else {
        return Ok(None);
    };
    let detail = person_detail(state, &row, None)?;
    Ok(Some(Contact {
        name: row.name,
        phone: detail.phone,
        address: detail.address,
        region_code: row.region_code,
    }))
}

/// Registers a person: the resident ID, phone and address are sealed, with keyed hashes
/// for look-up; a new household is started unless one is named.
pub async fn create_person(
    state: &AppState,
    actor: &Principal,
    new: NewPerson,
) -> ApiResult<PersonSummary> {
    actor.require_platform_admin()?;
    insert_person(state, new, Some(actor)).await
}

/// Inserts a person; with an actor, the registration is audited in the same transaction.
/// Without one (the demo seeder) no actor check is made.
pub async fn insert_person(
    state: &AppState,
    new: NewPerson,
    actor: Option<&Principal>,
) -> ApiResult<PersonSummary> {
    let name = text("name", &new.name, 64, true)?;
    let address = new
        .address
        .as_deref()
        .map(|a| text("address", a, 200, false))
        .transpose()?
        .filter(|a| !a.is_empty());
    if store::get_region(&state.db, new.region.as_str())
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            "region",
            format!("no region with code {}", new.region),
        ));
    }
    if let Some(h) = &new.household_id {
        check_id("household_id", h)?;
    }
    let birth = new
        .resident_id
        .birth_date()
        .ok_or_else(|| ApiError::invalid("resident_id", "no birth date"))?;
    if birth > time::OffsetDateTime::now_utc().date() {
        return Err(ApiError::invalid(
            "resident_id",
            "the birth date in the resident ID number is in the future",
        ));
    }
    let vault = &state.vault;
    let rid = new.resident_id.as_str();
    let rid_hash = vault.lookup_hash(rid, CTX_RESIDENT_ID);
    let rid_enc = vault.seal(rid, CTX_RESIDENT_ID)?;
    let phone = new.phone.as_ref().map(|p| p.as_str().to_string());
    let phone_hash = phone.as_deref().map(|p| vault.lookup_hash(p, CTX_PHONE));
    let phone_enc = phone
        .as_deref()
        .map(|p| vault.seal(p, CTX_PHONE))
        .transpose()?;
    let phone_masked = phone.as_deref().map(kernel::crypto::mask_phone);
    let address_enc = address
        .as_deref()
        .map(|a| vault.seal(a, CTX_ADDRESS))
        .transpose()?;
    let id = new_id();
    let birth_date = birth.to_string();
    let masked = new.resident_id.masked();

    let mut tx = state.db.begin().await?;
    let household_id = match new.household_id {
        Some(h) => {
            if !store::household_exists(&mut tx, &h).await? {
                return Err(ApiError::invalid(
                    "household_id",
                    "no household with that id",
                ));
            }
            h
        }
        None => {
            let h = new_id();
            store::insert_household(&mut tx, &h, new.region.as_str()).await?;
            h
        }
    };
    let insert = PersonInsert {
        id: &id,
        resident_id_hash: &rid_hash,
        resident_id_enc: &rid_enc,
        resident_id_masked: &masked,
        name: &name,
        birth_date: &birth_date,
        sex: new.resident_id.sex().as_str(),
        phone_hash: phone_hash.as_deref(),
        phone_enc: phone_enc.as_deref(),
        phone_masked: phone_masked.as_deref(),
        address_enc: address_enc.as_deref(),
        region_code: new.region.as_str(),
        household_id: &household_id,
        created_at: Timestamp::now(),
    };
    store::insert_person(&mut tx, &insert)
        .await
        .map_err(|e| conflict_or(e, "a person with this resident ID number"))?;
    store::record_changes(
        &mut tx,
        std::slice::from_ref(&id),
        "person",
        insert.created_at,
    )
    .await?;
    if let Some(actor) = actor {
        let event = AuditEvent::by(actor, "person.create", format!("person:{id}"))
            .subject(&id)
            .because("register a resident", Basis::Statutory(ADMIN_BASIS.into()));
        state.audit.record_in(&mut tx, event).await?;
    }
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(PersonSummary {
        id,
        name,
        resident_id_masked: masked,
        phone_masked,
        sex: new.resident_id.sex(),
        birth_year: birth.year(),
        region_code: new.region.to_string(),
        household_id: Some(household_id),
    })
}

/// Persons, masked; platform administrators only. The listing itself is audited.
pub async fn list_persons(
    state: &AppState,
    actor: &Principal,
    region: Option<&str>,
    name: Option<&str>,
    page: &PageQuery,
) -> ApiResult<Page<PersonSummary>> {
    actor.require_platform_admin()?;
    let region = region
        .filter(|r| !r.is_empty())
        .map(|r| RegionCode::parse(r).map_err(|e| ApiError::invalid("region", e)))
        .transpose()?;
    let name = name
        .map(|n| text("name", n, 64, false))
        .transpose()?
        .filter(|n| !n.is_empty());
    let rows = store::list_persons(
        &state.db,
        region.as_ref().map(RegionCode::as_str),
        name.as_deref(),
        page.cursor()?,
        page.limit(),
    )
    .await?;
    state
        .audit
        .record(
            AuditEvent::by(
                actor,
                "person.list",
                format!(
                    "persons: {} rows, masked",
                    rows.len().min(page.limit() as usize)
                ),
            )
            .because(
                "administer the population register",
                Basis::Statutory(ADMIN_BASIS.into()),
            ),
        )
        .await?;
    let people = rows.iter().map(person_summary).collect();
    Ok(Page::from_rows(
        people,
        page.limit(),
        |p: &PersonSummary| p.id.clone(),
    ))
}

/// A person's full record. The person herself and her proxy (with the `profile` scope)
/// may read it; a platform administrator may, stating a purpose. Every read by someone
/// other than the person is audited with purpose and basis.
pub async fn read_person(
    state: &AppState,
    actor: &Principal,
    person_id: &str,
    purpose: Option<&str>,
) -> ApiResult<PersonDetail> {
    check_id("id", person_id)?;
    let own = actor.person_id.as_deref() == Some(person_id) && actor.acting_for.is_none();
    let proxy = actor
        .acting_for
        .as_ref()
        .filter(|a| a.person_id == person_id)
        .map(|a| a.authorisation_id.clone());
    let basis = if own {
        None
    } else if let Some(authorisation) = proxy {
        actor.require_scope("profile")?;
        let purpose = purpose
            .map(|p| text("purpose", p, 200, false))
            .transpose()?
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "act for the person (代办)".to_string());
        Some((purpose, Basis::Proxy(authorisation)))
    } else if actor.is_platform_admin() {
        let purpose = purpose
            .map(|p| text("purpose", p, 200, true))
            .transpose()?
            .ok_or_else(|| {
                ApiError::invalid("purpose", "say why you read this person's data: ?purpose=…")
            })?;
        Some((purpose, Basis::Statutory(ADMIN_BASIS.into())))
    } else {
        // Do not reveal whether the person exists; the attempt itself is recorded.
        state
            .audit
            .record(
                AuditEvent::by(actor, "person.read", format!("person:{person_id}"))
                    .subject(person_id)
                    .because(
                        purpose.unwrap_or("").chars().take(200).collect::<String>(),
                        Basis::NotApplicable,
                    )
                    .outcome(kernel::audit::Outcome::Denied),
            )
            .await?;
        return Err(ApiError::Forbidden(
            "you may only read your own record".into(),
        ));
    };
    let row = store::get_person(&state.db, person_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no person with that id".into()))?;
    let region_name = store::get_region(&state.db, &row.region_code)
        .await?
        .map(|r| r.name);
    let mut detail = person_detail(state, &row, region_name)?;
    detail.tags = person_tags(state, person_id).await?;
    if let Some((purpose, basis)) = basis {
        // The audit record is committed before the data leaves.
        state
            .audit
            .record(
                AuditEvent::by(
                    actor,
                    "person.read",
                    format!("person:{person_id} fields: resident_id, name, phone, address, tags"),
                )
                .subject(person_id)
                .because(purpose, basis),
            )
            .await?;
    }
    Ok(detail)
}

/// Finds a person by resident ID (exact, through the keyed hash).
pub async fn person_by_resident_id(
    state: &AppState,
    resident_id: &ResidentId,
) -> ApiResult<Option<PersonSummary>> {
    let hash = resident_id_hash(state, resident_id);
    Ok(store::find_person_by_hash(&state.db, &hash)
        .await?
        .as_ref()
        .map(person_summary))
}

/// The keyed hash under which a resident ID is looked up (the same in every table that
/// keys records by person, so they join without ever holding the number in clear).
pub fn resident_id_hash(state: &AppState, resident_id: &ResidentId) -> String {
    state
        .vault
        .lookup_hash(resident_id.as_str(), CTX_RESIDENT_ID)
}

/// Person ids by resident ID hash, for the hashes that belong to registered persons.
pub async fn person_ids_by_hashes(
    state: &AppState,
    hashes: &[String],
) -> ApiResult<HashMap<String, String>> {
    Ok(store::person_ids_by_hashes(&state.db, hashes)
        .await?
        .into_iter()
        .collect())
}

/// A person's masked summary by id (no audit: masked data).
pub async fn person_summary_by_id(state: &AppState, id: &str) -> ApiResult<Option<PersonSummary>> {
    Ok(store::get_person(&state.db, id)
        .await?
        .as_ref()
        .map(person_summary))
}

/// A person's name and age in whole years today (UTC), for rules that depend on age.
pub async fn name_and_age(state: &AppState, id: &str) -> ApiResult<Option<(String, i64)>> {
    let today = time::OffsetDateTime::now_utc().date();
    Ok(store::get_person(&state.db, id)
        .await?
        .map(|row| (row.name.clone(), age_on(&row.birth_date, today))))
}

/// Whole years from a stored `YYYY-MM-DD` birth date to `day`.
pub fn age_on(birth_date: &str, day: time::Date) -> i64 {
    let part = |r: std::ops::Range<usize>| {
        birth_date
            .get(r)
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let (year, month, date) = (part(0..4), part(5..7), part(8..10));
    // A date that does not read gives no age (0): no age rule is met by accident.
    if year == 0 {
        return 0;
    }
    let mut age = i64::from(day.year()) - year;
    if (i64::from(day.month() as u8), i64::from(day.day())) < (month, date) {
        age -= 1;
    }
    age.max(0)
}

/// The latest birth date (`YYYY-MM-DD`) of someone who is `years` old on `day` (29
/// February counts as the 28th): residents born on or before it are at least that age.
pub fn birth_date_years_before(day: time::Date, years: i64) -> String {
    let year = i64::from(day.year()) - years;
    let year = i32::try_from(year).unwrap_or(0).max(0);
    let (month, date) = (day.month() as u8, day.day());
    let date = if month == 2 && date == 29 { 28 } else { date };
    format!("{year:04}-{month:02}-{date:02}")
}

/// Residents per region they are registered in: (region code, residents, of them aged
/// `elderly_age` or more, carrying one of `tags`, either) — counts only, no one named.
pub async fn population_by_region(
    state: &AppState,
    elderly_age: i64,
    tags: &[String],
) -> ApiResult<Vec<(String, i64, i64, i64, i64)>> {
    let today = time::OffsetDateTime::now_utc().date();
    let cutoff = birth_date_years_before(today, elderly_age);
    let hashes: Vec<String> = tags.iter().map(|t| tag_hash(state, t)).collect();
    Ok(store::population_by_region(&state.db, &cutoff, &hashes).await?)
}

/// How many persons are registered.
pub async fn count_persons(state: &AppState) -> ApiResult<i64> {
    Ok(store::count_persons(&state.db).await?)
}

// ---- accounts ----

/// Hashes a password with argon2id (off the async threads).
pub async fn hash_password(password: &Password) -> ApiResult<String> {
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await
    .map_err(|e| ApiError::Unexpected(e.into()))?
    .map_err(ApiError::Unexpected)
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let password = password.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn account_view(row: AccountRow, roles: Vec<RoleBinding>) -> Account {
    Account {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        person_id: row.person_id,
        roles,
        disabled: row.disabled,
        created_at: row.created_at,
    }
}

async fn roles_by_account(
    db: &kernel::db::Db,
    ids: &[String],
) -> ApiResult<HashMap<String, Vec<RoleBinding>>> {
    let mut map: HashMap<String, Vec<RoleBinding>> = HashMap::new();
    for row in store::roles_of(db, ids).await? {
        if let Some(role) = Role::parse(&row.role) {
            map.entry(row.account_id).or_default().push(RoleBinding {
                role,
                organisation_id: row.organisation_id,
            });
        }
    }
    Ok(map)
}

/// The role bindings of one account.
async fn roles_of_account(db: &kernel::db::Db, id: &str) -> ApiResult<Vec<RoleBinding>> {
    let ids = [id.to_string()];
    Ok(roles_by_account(db, &ids)
        .await?
        .remove(id)
        .unwrap_or_default())
}

/// Who may create an account with `role` in `organisation`: platform admins anything;
/// an organisation's admin only staff of her own organisation, and not linked to a person
/// (linking an account to a person lets it act as that person, which only the platform
/// administration may decide).
fn may_create(
    actor: &Principal,
    role: Role,
    organisation: Option<&str>,
    linked: bool,
) -> ApiResult<()> {
    if actor.is_platform_admin() {
        return Ok(());
    }
    if linked {
        return Err(ApiError::Forbidden(
            "only a platform administrator links an account to a person".into(),
        ));
    }
    match (role.is_staff(), organisation) {
        (true, Some(org)) if actor.has_role_in(Role::OrgAdmin, org) => Ok(()),
        (true, _) => Err(ApiError::Forbidden(
            "you may only create staff accounts for your own organisation".into(),
        )),
        (false, _) => Err(ApiError::Forbidden(
            "only a platform administrator creates this kind of account".into(),
        )),
    }
}

/// Creates an account with one role binding.
pub async fn create_account(
    state: &AppState,
    actor: Option<&Principal>,
    new: NewAccount,
) -> ApiResult<Account> {
    if let Some(actor) = actor {
        may_create(
            actor,
            new.role,
            new.organisation_id.as_deref(),
            new.person_id.is_some(),
        )?;
    }
    let password = Password::parse(&new.password).map_err(|e| ApiError::invalid("password", e))?;
    let organisation_id = match (new.role.is_staff(), new.organisation_id) {
        (true, Some(org)) => {
            check_id("organisation_id", &org)?;
            if store::get_org(&state.db, &org).await?.is_none() {
                return Err(ApiError::invalid(
                    "organisation_id",
                    "no organisation with that id",
                ));
            }
            Some(org)
        }
        (true, None) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "staff roles need an organisation_id",
            ));
        }
        (false, Some(_)) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "only staff roles belong to an organisation",
            ));
        }
        (false, None) => None,
    };
    let person = match &new.person_id {
        Some(p) => {
            check_id("person_id", p)?;
            Some(
                store::get_person(&state.db, p)
                    .await?
                    .ok_or_else(|| ApiError::invalid("person_id", "no person with that id"))?,
            )
        }
        None if new.role == Role::Citizen => {
            return Err(ApiError::invalid(
                "person_id",
                "a citizen account needs a person_id",
            ));
        }
        None => None,
    };
    let display_name = match (&person, &new.display_name) {
        (Some(p), _) => p.name.clone(),
        (None, Some(d)) => text("display_name", d, 64, true)?,
        (None, None) => new.username.to_string(),
    };
    let row = AccountRow {
        id: new_id(),
        username: new.username.to_string(),
        password_hash: hash_password(&password).await?,
        person_id: person.map(|p| p.id),
        display_name,
        disabled: false,
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    store::insert_account(&mut tx, &row)
        .await
        .map_err(|e| conflict_or(e, "an account with this username"))?;
    store::insert_role(
        &mut tx,
        &row.id,
        new.role.as_str(),
        organisation_id.as_deref(),
    )
    .await?;
    let what = format!("account:{} role:{}", row.id, new.role.as_str());
    let event = match actor {
        Some(actor) => AuditEvent::by(actor, "account.create", what),
        None => AuditEvent::system("account.create", what),
    };
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let roles = vec![RoleBinding {
        role: new.role,
        organisation_id,
    }];
    Ok(account_view(row, roles))
}

/// Accounts: all for platform admins, the organisation's staff for its admin.
pub async fn list_accounts(
    state: &AppState,
    actor: &Principal,
    organisation_id: Option<&str>,
    page: &PageQuery,
) -> ApiResult<Page<Account>> {
    match organisation_id {
        Some(org) => {
            check_id("organisation_id", org)?;
            actor.require_org_admin(org)?;
        }
        None => actor.require_platform_admin()?,
    }
    let rows =
        store::list_accounts(&state.db, organisation_id, page.cursor()?, page.limit()).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut roles = roles_by_account(&state.db, &ids).await?;
    let accounts = rows
        .into_iter()
        .map(|r| {
            let bindings = roles.remove(&r.id).unwrap_or_default();
            account_view(r, bindings)
        })
        .collect();
    Ok(Page::from_rows(accounts, page.limit(), |a: &Account| {
        a.id.clone()
    }))
}

/// Blocks or unblocks sign-in (and ends the account's sessions when blocking).
pub async fn set_account_disabled(
    state: &AppState,
    actor: &Principal,
    account_id: &str,
    disabled: bool,
) -> ApiResult<Account> {
    check_id("id", account_id)?;
    let row = store::get_account(&state.db, account_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no account with that id".into()))?;
    let roles = roles_of_account(&state.db, &row.id).await?;
    if !actor.is_platform_admin() {
        let staff_only = !roles.is_empty() && roles.iter().all(|b| b.role.is_staff());
        let all_mine = roles.iter().all(|b| {
            b.organisation_id
                .as_deref()
                .is_some_and(|o| actor.has_role_in(Role::OrgAdmin, o))
        });
        if !(staff_only && all_mine) {
            return Err(ApiError::Forbidden(
                "you may only manage your own organisation's staff".into(),
            ));
        }
    }
    if row.id == actor.account_id && disabled {
        return Err(ApiError::Conflict(
            "you cannot disable your own account".into(),
        ));
    }
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    let mut tx = state.db.begin().await?;
    store::set_disabled(&mut tx, account_id, disabled).await?;
    let event = AuditEvent::by(actor, action, format!("account:{account_id}"));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    // Sessions of a disabled account stop at once on this node.
    state.auth.forget_sessions();
    let mut row = row;
    row.disabled = disabled;
    Ok(account_view(row, roles))
}

/// The account behind a principal.
pub async fn account_of(state: &AppState, principal: &Principal) -> ApiResult<Account> {
    let row = store::get_account(&state.db, &principal.account_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("account not found".into()))?;
    Ok(account_view(row, principal.roles.clone()))
}

/// Looks up an account by username (CLI).
pub async fn account_by_username(state: &AppState, username: &str) -> ApiResult<Option<Account>> {
    let Some(row) = store::get_account_by_username(&state.db, username).await? else {
        return Ok(None);
    };
    let roles = roles_of_account(&state.db, &row.id).await?;
    Ok(Some(account_view(row, roles)))
}

// ---- sessions ----

async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            let mut bytes = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            match Password::parse(&hex::encode(bytes)) {
                Ok(p) => hash_password(&p).await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        })
        .await
        .clone()
}

/// The stored form of a session token (SHA-256, hex).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks a username and password and starts a session. Failures are counted per
/// username; after [`MAX_FAILURES`] in 15 minutes the name is locked for a growing time.
pub async fn login(state: &AppState, request: LoginRequest) -> ApiResult<(LoginResponse, Account)> {
    let username = request.username.trim().to_ascii_lowercase();
    // No account name has control characters (and PostgreSQL text cannot hold NUL).
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_control) {
        return Err(ApiError::invalid("username", "enter your username"));
    }
    if request.password.is_empty() || request.password.len() > 1024 {
        return Err(ApiError::invalid("password", "enter your password"));
    }
    let now = Timestamp::now();
    if let Some(until) = store::locked_until(&state.db, &username, now).await? {
        let secs = ((until.0 - now.0) / 1_000_000).max(1) as u64;
        return Err(ApiError::TooManyRequests {
            detail: format!(
                "too many failed sign-ins for this username; try again in {secs} seconds"
            ),
            retry_after_secs: secs,
        });
    }
    // Count the attempt before checking the password, so parallel guesses cannot slip
    // past the limit; a successful sign-in clears the count again.
    let attempts = store::record_failure(
        &state.db,
        &username,
        now,
        now.plus_minutes(-FAILURE_WINDOW_MINUTES),
    )
    .await?;
    if attempts > MAX_FAILURES {
        let minutes = 1i64 << (attempts - MAX_FAILURES - 1).min(6);
        store::lock(&state.db, &username, now.plus_minutes(minutes)).await?;
        return Err(ApiError::TooManyRequests {
            detail: format!(
                "too many failed sign-ins for this username; try again in {} seconds",
                minutes * 60
            ),
            retry_after_secs: (minutes * 60) as u64,
        });
    }
    let account = store::get_account_by_username(&state.db, &username).await?;
    // Verify against a throwaway hash when the user is unknown, so timing does not tell.
    let hash = match &account {
        Some(a) => a.password_hash.clone(),
        None => dummy_hash().await,
    };
    let ok = verify_password(&request.password, &hash).await
        && account.as_ref().is_some_and(|a| !a.disabled);
    let Some(account) = account.filter(|_| ok) else {
        if attempts >= MAX_FAILURES {
            store::lock(&state.db, &username, now.plus_minutes(1)).await?;
        }
        // People type ID or phone numbers into the username field: never keep the text.
        let who = state.vault.lookup_hash(&username, "auth.login.username");
        state
            .audit
            .record(
                AuditEvent::system("auth.login", format!("username-hmac:{}", &who[..16]))
                    .outcome(kernel::audit::Outcome::Denied),
            )
            .await?;
        return Err(ApiError::Unauthenticated(
            "the username or password is wrong".into(),
        ));
    };
    store::clear_failures(&state.db, &username).await?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at = now.plus_minutes(state.config.session_minutes.max(1));
    let session_id = new_id();
    store::insert_session(
        &state.db,
        &session_id,
        &token_hash(&token),
        &account.id,
        expires_at,
    )
    .await?;
    let roles = roles_of_account(&state.db, &account.id).await?;
    let view = account_view(account, roles);
    Ok((LoginResponse { token, expires_at }, view))
}

/// Ends the session of a principal.
pub async fn logout(state: &AppState, principal: &Principal) -> ApiResult<()> {
    store::revoke_session(&state.db, &principal.session_id).await?;
    state.auth.forget_sessions();
    Ok(())
}

/// Resolves a token to a principal (the kernel's [`kernel::auth::Authenticator`]).
pub async fn authenticate(db: &kernel::db::Db, token: &str) -> ApiResult<Option<Principal>> {
    if token.is_empty() || token.len() > 256 {
        return Ok(None);
    }
    let Some((session_id, account)) =
        store::live_session(db, &token_hash(token), Timestamp::now()).await?
    else {
        return Ok(None);
    };
    let roles = roles_of_account(db, &account.id).await?;
    Ok(Some(Principal {
        account_id: account.id,
        username: account.username,
        display_name: account.display_name,
        person_id: account.person_id,
        roles,
        session_id,
        acting_for: None,
    }))
}

// ---- proxies ----

fn proxy_view(row: ProxyRow) -> ProxyAuthorisation {
    ProxyAuthorisation {
        scopes: row
            .scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        id: row.id,
        principal_person_id: row.principal_person_id,
        principal_name: row.principal_name,
        proxy_person_id: row.proxy_person_id,
        proxy_name: row.proxy_name,
        relationship: row.relationship,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        created_at: row.created_at,
    }
}

fn own_person(actor: &Principal) -> ApiResult<&str> {
    if actor.acting_for.is_some() {
        return Err(ApiError::Forbidden(
            "a proxy cannot manage authorisations for someone else".into(),
        ));
    }
    actor.person_id.as_deref().ok_or_else(|| {
        ApiError::Forbidden("only a resident's own account has proxy authorisations".into())
    })
}

/// The person behind `actor` authorises another person to act for her.
pub async fn grant_proxy(
    state: &AppState,
    actor: &Principal,
    new: NewProxy,
) -> ApiResult<ProxyAuthorisation> {
    let principal_person = own_person(actor)?.to_string();
    let relationship = text("relationship", &new.relationship, 32, true)?;
    if new.scopes.is_empty() {
        return Err(ApiError::invalid("scopes", "choose at least one scope"));
    }
    if new.scopes.len() > PROXY_SCOPES.len() {
        return Err(ApiError::invalid("scopes", "too many scopes"));
    }
    for (i, scope) in new.scopes.iter().enumerate() {
        if !PROXY_SCOPES.iter().any(|(s, _, _)| s == scope) {
            return Err(ApiError::invalid(
                format!("scopes[{i}]"),
                format!(
                    "unknown scope '{}'; use profile, footprint, services or all",
                    scope.chars().take(32).collect::<String>()
                ),
            ));
        }
    }
    let now = Timestamp::now();
    if new.expires_at <= now {
        return Err(ApiError::invalid(
            "expires_at",
            "the expiry must be in the future",
        ));
    }
    if new.expires_at > now.plus_minutes(5 * 366 * 24 * 60) {
        return Err(ApiError::invalid(
            "expires_at",
            "an authorisation lasts at most 5 years",
        ));
    }
    let proxy_name = text("proxy_name", &new.proxy_name, 64, true)?;
    let proxy = person_by_resident_id(state, &new.proxy_resident_id)
        .await?
        .filter(|p| p.name == proxy_name)
        .ok_or_else(|| {
            ApiError::invalid(
                "proxy_resident_id",
                "no registered person has this name and resident ID number",
            )
        })?;
    if proxy.id == principal_person {
        return Err(ApiError::invalid(
            "proxy_resident_id",
            "you cannot authorise yourself",
        ));
    }
    let id = new_id();
    let mut scopes = new.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let mut tx = state.db.begin().await?;
    store::insert_proxy(
        &mut tx,
        &id,
        &principal_person,
        &proxy.id,
        &relationship,
        &scopes.join(","),
        new.expires_at,
        &actor.account_id,
    )
    .await?;
    let event = AuditEvent::by(
        actor,
        "proxy.grant",
        format!("proxy:{id} scopes:{}", scopes.join(",")),
    )
    .subject(&proxy.id)
    .because("authorise a proxy (代办授权)", Basis::OwnData);
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let row = store::get_proxy(&state.db, &id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("proxy vanished after insert")))?;
    Ok(proxy_view(row))
}

/// Authorisations the actor's person gave (`given`) and received (`received`).
pub async fn my_proxies(
    state: &AppState,
    actor: &Principal,
) -> ApiResult<(Vec<ProxyAuthorisation>, Vec<ProxyAuthorisation>)> {
    let Some(person) = actor.person_id.as_deref() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let given = store::list_proxies(&state.db, person, true).await?;
    let received = store::list_proxies(&state.db, person, false).await?;
    Ok((
        given.into_iter().map(proxy_view).collect(),
        received.into_iter().map(proxy_view).collect(),
    ))
}

/// Revokes an authorisation; either of the two people may.
pub async fn revoke_proxy(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> ApiResult<ProxyAuthorisation> {
    check_id("id", id)?;
    let person = own_person(actor)?;
    let row = store::get_proxy(&state.db, id)
        .await?
        .filter(|r| r.principal_person_id == person || r.proxy_person_id == person)
        .ok_or_else(|| ApiError::NotFound("no such authorisation of yours".into()))?;
    let mut tx = state.db.begin().await?;
    if store::revoke_proxy(&mut tx, id).await? == 0 {
        return Err(ApiError::Conflict(
            "this authorisation was already revoked".into(),
        ));
    }
    let event = AuditEvent::by(actor, "proxy.revoke", format!("proxy:{id}"))
        .subject(&row.principal_person_id);
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    let row = store::get_proxy(&state.db, id).await?.unwrap_or(row);
    Ok(proxy_view(row))
}

/// Checks that `principal` may act for `person_id` now.
pub async fn acting_for(
    db: &kernel::db::Db,
    principal: &Principal,
    person_id: &str,
) -> ApiResult<ActingFor> {
    let denied =
        || ApiError::Forbidden("you hold no proxy authorisation in force for that person".into());
    if !is_uuid(person_id) {
        return Err(ApiError::invalid(
            "x-act-for",
            "x-act-for is not a valid person id",
        ));
    }
    let Some(own) = principal.person_id.as_deref() else {
        return Err(denied());
    };
    let row = store::active_proxy(db, person_id, own, Timestamp::now())
        .await?
        .ok_or_else(denied)?;
    let view = proxy_view(row);
    Ok(ActingFor {
        person_id: view.principal_person_id,
        person_name: view.principal_name,
        authorisation_id: view.id,
        scopes: view.scopes,
    })
}

/// `GET /api/v1/me`: the account, its person masked, and the person acted for.
pub async fn me(state: &AppState, principal: &Principal) -> ApiResult<Me> {
    let account = account_of(state, principal).await?;
    let person = match &principal.person_id {
        Some(id) => person_summary_by_id(state, id).await?,
        None => None,
    };
    let acting_for = match &principal.acting_for {
        Some(a) => person_summary_by_id(state, &a.person_id)
            .await?
            .map(|person| ActingForView {
                person,
                authorisation_id: a.authorisation_id.clone(),
                scopes: a.scopes.clone(),
            }),
        None => None,
    };
    Ok(Me {
        account,
        person,
        acting_for,
    })
}

// ---- settings ----

/// A platform setting (e.g. whether the demo was seeded).
pub async fn setting(state: &AppState, key: &str) -> ApiResult<Option<String>> {
    Ok(store::get_setting(&state.db, key).await?)
}

/// Stores a platform setting.
pub async fn put_setting(state: &AppState, key: &str, value: &str) -> ApiResult<()> {
    Ok(store::put_setting(&state.db, key, value).await?)
}

/// Stores a platform setting inside the caller's transaction (with its audit record).
pub async fn put_setting_in(tx: &mut kernel::db::Tx, key: &str, value: &str) -> ApiResult<()> {
    Ok(store::put_setting_in(tx, key, value).await?)
}

/// Account display names by id (for footprints and audit views).
pub async fn account_names(state: &AppState, ids: &[String]) -> ApiResult<HashMap<String, String>> {
    Ok(store::account_names(&state.db, ids)
        .await?
        .into_iter()
        .collect())
}

// ---- tags ----

/// Most residents one tag change may name.
pub const MAX_TAG_CHANGE: usize = 1_000;

const CTX_TAG: &str = "person.tag";

/// The keyed hash a tag's members are stored under (see the `0002_tags` migration); an
/// audience selects members with it.
pub fn tag_hash(state: &AppState, code: &str) -> String {
    state.vault.lookup_hash(code, CTX_TAG)
}

fn tag_view(state: &AppState, row: TagRow, members: &HashMap<String, i64>) -> Tag {
    let members = members
        .get(&tag_hash(state, &row.code))
        .copied()
        .unwrap_or(0);
    Tag {
        code: row.code,
        name: row.name,
        description: row.description,
        organisation_id: row.organisation_id,
        organisation_name: row.organisation_name,
        members,
        created_at: row.created_at,
    }
}

async fn tag_views(state: &AppState, rows: Vec<TagRow>) -> ApiResult<Vec<Tag>> {
    let hashes: Vec<String> = rows.iter().map(|r| tag_hash(state, &r.code)).collect();
    let members: HashMap<String, i64> = store::tag_members(&state.db, &hashes)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| tag_view(state, r, &members))
        .collect())
}

/// Checks a tag code's form.
pub fn check_tag_code(field: &str, code: &str) -> ApiResult<()> {
    let ok = (2..=40).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !code.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "a tag code is 2–40 lower-case letters, digits and hyphens",
        ))
    }
}

/// Defines a tag (platform administrator).
pub async fn create_tag(state: &AppState, actor: &Principal, new: NewTag) -> ApiResult<Tag> {
    actor.require_platform_admin()?;
    let code = new.code.trim().to_string();
    check_tag_code("code", &code)?;
    let name = text("name", &new.name, 40, true)?;
    let description = text("description", &new.description, 200, false)?;
    check_id("organisation_id", &new.organisation_id)?;
    let organisation = store::get_org(&state.db, &new.organisation_id)
        .await?
        .ok_or_else(|| ApiError::invalid("organisation_id", "no such organisation"))?;
    let row = TagRow {
        code,
        name,
        description,
        organisation_id: organisation.id,
        organisation_name: organisation.name,
        created_at: Timestamp::now(),
    };
    if let Err(e) = store::insert_tag(&state.db, &row).await {
        return Err(if is_unique_violation(&e) {
            ApiError::Conflict(format!("a tag with code {} exists", row.code))
        } else {
            e.into()
        });
    }
    Ok(tag_view(state, row, &HashMap::new()))
}

/// Every tag with its member count (any organisation's staff).
pub async fn list_tags(state: &AppState, actor: &Principal) -> ApiResult<Vec<Tag>> {
    if actor.organisation_id().is_none() && !actor.is_platform_admin() {
        return Err(ApiError::Forbidden(
            "only an organisation's staff can see tags".into(),
        ));
    }
    tag_views(state, store::list_tags(&state.db).await?).await
}

/// One tag; 404 if there is none (a code that exists, checked for an audience).
pub async fn get_tag(state: &AppState, code: &str) -> ApiResult<Tag> {
    let row = store::get_tag(&state.db, code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no tag {code}")))?;
    Ok(tag_views(state, vec![row]).await?.remove(0))
}

/// Puts residents on a tag and takes others off (the staff of the tag's organisation, or
/// a platform administrator): set-based, in one transaction, each resident's change in her
/// footprint with the purpose given.
pub async fn change_tag(
    state: &AppState,
    actor: &Principal,
    code: &str,
    change: TagChange,
) -> ApiResult<TagChanged> {
    let tag = get_tag(state, code).await?;
    actor.staff_organisation(Some(&tag.organisation_id), "code")?;
    let purpose = text("purpose", &change.purpose, 200, true)?;
    if change.add.len() + change.remove.len() > MAX_TAG_CHANGE {
        return Err(ApiError::invalid(
            "add",
            format!("name at most {MAX_TAG_CHANGE} residents per change"),
        ));
    }
    let mut all: Vec<String> = Vec::new();
    for (field, list) in [("add", &change.add), ("remove", &change.remove)] {
        if let Some(bad) = list.iter().position(|p| !is_uuid(p)) {
            return Err(ApiError::invalid(
                format!("{field}[{bad}]"),
                "not a valid person id",
            ));
        }
        all.extend(list.iter().cloned());
    }
    let mut add = change.add.clone();
    add.sort_unstable();
    add.dedup();
    let mut remove = change.remove.clone();
    remove.sort_unstable();
    remove.dedup();
    if let Some(both) = add.iter().find(|p| remove.binary_search(p).is_ok()) {
        return Err(ApiError::invalid(
            "remove",
            format!("{both} is both added and removed"),
        ));
    }
    let known: std::collections::HashSet<String> = store::existing_persons(&state.db, &add)
        .await?
        .into_iter()
        .collect();
    if let Some(bad) = change.add.iter().position(|p| !known.contains(p)) {
        return Err(ApiError::invalid(
            format!("add[{bad}]"),
            "no registered person with this id",
        ));
    }
    let hash = tag_hash(state, &tag.code);
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    let present: std::collections::HashSet<String> = store::tagged_among(&mut tx, &hash, &all)
        .await?
        .into_iter()
        .collect();
    let to_add: Vec<String> = add.into_iter().filter(|p| !present.contains(p)).collect();
    let to_remove: Vec<String> = remove.into_iter().filter(|p| present.contains(p)).collect();
    let added = store::add_tagged(&mut tx, &hash, &to_add, now).await?;
    store::remove_tagged(&mut tx, &hash, &to_remove).await?;
    let changed: Vec<String> = to_add.iter().chain(&to_remove).cloned().collect();
    store::record_changes(&mut tx, &changed, "tag", now).await?;
    for (person, action) in to_add
        .iter()
        .map(|p| (p, "person.tag"))
        .chain(to_remove.iter().map(|p| (p, "person.untag")))
    {
        let event = AuditEvent::by(actor, action, format!("person:{person} tag:{}", tag.code))
            .subject(person.as_str())
            .because(
                purpose.clone(),
                Basis::Statutory(tag.organisation_name.clone()),
            );
        state.audit.record_in(&mut tx, event).await?;
    }
    commit_audited(state.audit.as_ref(), tx).await?;
    let members = get_tag(state, &tag.code).await?.members;
    Ok(TagChanged {
        added,
        removed: to_remove.len() as u64,
        members,
    })
}

/// A tag's members, masked (names too), by person id (the tag's organisation's staff).
/// Who is on a list is itself personal data: each page read is audited with the tag and
/// how many it showed.
pub async fn tag_members(
    state: &AppState,
    actor: &Principal,
    code: &str,
    page: &PageQuery,
) -> ApiResult<Page<PersonSummary>> {
    let tag = get_tag(state, code).await?;
    actor.staff_organisation(Some(&tag.organisation_id), "code")?;
    let limit = page.limit();
    let rows = store::tag_member_page(
        &state.db,
        &tag_hash(state, &tag.code),
        page.cursor()?,
        limit + 1,
    )
    .await?;
    let page = Page::from_rows(
        rows.iter()
            .map(|r| {
                let mut p = person_summary(r);
                p.name = kernel::crypto::mask_name(&p.name);
                p
            })
            .collect(),
        limit,
        |p: &PersonSummary| p.id.clone(),
    );
    state
        .audit
        .record(
            AuditEvent::by(
                actor,
                "tag.members",
                format!("tag:{} shown:{}", tag.code, page.items.len()),
            )
            .because(
                format!("keep the list {}", tag.name),
                Basis::Statutory(tag.organisation_name.clone()),
            ),
        )
        .await?;
    Ok(page)
}

/// The tags the signed-in resident (or the person her proxy acts for, audited) carries.
pub async fn my_tags(state: &AppState, actor: &Principal) -> ApiResult<Vec<PersonTag>> {
    actor.require_scope("profile")?;
    let person = actor
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("only a resident carries tags".into()))?;
    if let Some(acting) = &actor.acting_for {
        state
            .audit
            .record(
                AuditEvent::by(
                    actor,
                    "person.read",
                    format!("person:{person} fields: tags"),
                )
                .subject(person)
                .because(
                    "act for the person (代办)",
                    Basis::Proxy(acting.authorisation_id.clone()),
                ),
            )
            .await?;
    }
    person_tags(state, person).await
}

/// The tags a person carries (no audit here: the caller reads for her or is audited).
pub async fn person_tags(state: &AppState, person_id: &str) -> ApiResult<Vec<PersonTag>> {
    let held = store::tags_of_person(&state.db, person_id).await?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let names: HashMap<String, TagRow> = store::list_tags(&state.db)
        .await?
        .into_iter()
        .map(|t| (tag_hash(state, &t.code), t))
        .collect();
    Ok(held
        .into_iter()
        .filter_map(|(hash, since)| {
            names.get(&hash).map(|t| PersonTag {
                code: t.code.clone(),
                name: t.name.clone(),
                organisation_name: t.organisation_name.clone(),
                since,
            })
        })
        .collect())
}

/// The phone numbers of the persons among `ids` that have one, opened for the platform's
/// own delivery of notices to them (the sending is audited once per notice, not here). A
/// number that does not open is left out (and logged), not fatal to the others.
pub async fn phones_of(state: &AppState, ids: &[String]) -> ApiResult<Vec<(String, String)>> {
    Ok(store::sealed_phones(&state.db, ids)
        .await?
        .into_iter()
        .filter_map(|(id, sealed)| match state.vault.open(&sealed, CTX_PHONE) {
            Ok(phone) => Some((id, phone)),
            Err(_) => {
                tracing::warn!(person = %id, "a phone number does not open with this key");
                None
            }
        })
        .collect())
}

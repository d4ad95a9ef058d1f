//! The community worker's view: the elders her organisation looks after — who lives alone,
//! whose alerts are open, whose devices are offline, whose visit is due — and the visits she
//! records.

use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::{Principal, Role};
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::model::*;
use crate::service::{self, Access, STAFF_BASIS};
use crate::store::{self, VisitRow};

/// Vault context of visit notes.
const CTX_NOTE: &str = "eldercare.visit.note";
/// The longest visit note.
const NOTE_MAX: usize = 1_000;

fn is_staff_of(by: &Principal, organisation_id: &str) -> bool {
    by.acting_for.is_none()
        && (by.has_role_in(Role::OrgAdmin, organisation_id)
            || by.has_role_in(Role::Clerk, organisation_id)
            || by.has_role_in(Role::Reviewer, organisation_id))
}

/// The elders an organisation looks after, for its staff (or an administrator): open
/// alerts first, then visits due (the longest overdue first), then the rest by name. The
/// list is audited as one read of each elder's care data.
pub async fn community(
    state: &AppState,
    by: &Principal,
    organisation_id: &str,
) -> ApiResult<Vec<CommunityElder>> {
    if !is_uuid(organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "no organisation has this id",
        ));
    }
    if !(by.is_platform_admin() || is_staff_of(by, organisation_id)) {
        return Err(ApiError::Forbidden(
            "an organisation's elders are for its staff".into(),
        ));
    }
    let rows = store::elders_of(&state.db, &[organisation_id.to_string()]).await?;
    let rules = service::rules(state).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.person_id.clone()).collect();
    let last: std::collections::HashMap<String, Timestamp> = store::last_visits(&state.db, &ids)
        .await?
        .into_iter()
        .collect();
    let now = Timestamp::now();
    let mut out: Vec<CommunityElder> = service::elder_views(state, rows)
        .await?
        .into_iter()
        .map(|elder| {
            let every = if elder.lives_alone {
                rules.visit_alone_every_days
            } else {
                rules.visit_every_days
            };
            let last_visit_at = last.get(&elder.person_id).copied();
            let from = last_visit_at.unwrap_or(elder.enrolled_at);
            let visit_due_at = from.plus_minutes(every * 24 * 60);
            CommunityElder {
                visit_due: visit_due_at <= now,
                elder,
                last_visit_at,
                visit_due_at,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (b.elder.open_alerts > 0)
            .cmp(&(a.elder.open_alerts > 0))
            .then(b.visit_due.cmp(&a.visit_due))
            .then(a.visit_due_at.cmp(&b.visit_due_at))
            .then(a.elder.name.cmp(&b.elder.name))
    });
    let mut event = AuditEvent::by(
        by,
        "eldercare.community.read",
        format!("organisation:{organisation_id} elders:{}", out.len()),
    )
    .because(
        "look after the community's elders",
        Basis::Statutory(STAFF_BASIS.into()),
    );
    event.actor_organisation_id = Some(organisation_id.to_string());
    state.audit.record(event).await?;
    Ok(out)
}

/// Records a visit to an elder (her community's staff, or her circle's community worker).
pub async fn record_visit(
    state: &AppState,
    by: &Principal,
    elder_id: &str,
    new: NewVisit,
) -> ApiResult<Visit> {
    let elder = service::elder_row(state, elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    let allowed = match &access {
        Access::Staff | Access::Admin => true,
        Access::Member(m) => m.role == MemberRole::CommunityWorker.as_str(),
        _ => false,
    };
    if !allowed {
        return Err(ApiError::Forbidden(
            "visits are recorded by the elder's community worker".into(),
        ));
    }
    let note = service::note(new.note.as_deref(), NOTE_MAX)?;
    let row = VisitRow {
        id: new_id(),
        elder_id: elder_id.to_string(),
        organisation_id: elder.organisation_id.clone(),
        visited_by: by.account_id.clone(),
        visitor_name: by.display_name.clone(),
        visited_at: Timestamp::now(),
        note_enc: match &note {
            Some(n) => Some(
                state
                    .vault
                    .seal(n, CTX_NOTE)
                    .map_err(ApiError::Unexpected)?,
            ),
            None => None,
        },
    };
    let mut tx = state.db.begin().await?;
    store::insert_visit(&mut tx, &row).await?;
    let event = AuditEvent::by(
        by,
        "eldercare.visit",
        format!("elder:{elder_id} visit:{}", row.id),
    )
    .subject(elder_id)
    .because("record a visit to an elder", access.basis());
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(Visit {
        id: row.id,
        elder_id: row.elder_id,
        visitor_name: row.visitor_name,
        visited_at: row.visited_at,
        note,
    })
}

/// An elder's visits, the latest first (at most 50), for whoever may see her.
pub async fn visits(state: &AppState, by: &Principal, elder_id: &str) -> ApiResult<Vec<Visit>> {
    let elder = service::elder_row(state, elder_id).await?;
    let access = service::access(state, by, &elder).await?;
    service::audit_read(
        state,
        by,
        &access,
        elder_id,
        "eldercare.visits.read",
        format!("elder:{elder_id}"),
        "see an elder's visits",
    )
    .await?;
    Ok(store::visits_of(&state.db, elder_id, 50)
        .await?
        .into_iter()
        .map(|v| Visit {
            note: v
                .note_enc
                .as_deref()
                .and_then(|s| state.vault.open(s, CTX_NOTE).ok()),
            id: v.id,
            elder_id: v.elder_id,
            visitor_name: v.visitor_name,
            visited_at: v.visited_at,
        })
        .collect())
}

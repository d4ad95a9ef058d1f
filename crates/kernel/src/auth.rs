//! The authenticated principal and how a request finds it: a bearer token for API clients
//! or the session cookie for pages. Accounts and sessions live in the identity crate, which
//! implements [`Authenticator`]; every other crate only sees [`Principal`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Name of the session cookie used by pages.
pub const SESSION_COOKIE: &str = "civitas_session";
/// Name of the cookie that says which person a proxy is acting for (pages).
pub const ACT_FOR_COOKIE: &str = "civitas_act_for";
/// Header that says which person a proxy is acting for (API).
pub const ACT_FOR_HEADER: &str = "x-act-for";

/// A role an account holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the whole platform.
    PlatformAdmin,
    /// Manages one organisation and its staff.
    OrgAdmin,
    /// Reviews and approves within one organisation.
    Reviewer,
    /// Handles cases within one organisation.
    Clerk,
    /// A resident acting for herself (or, as a proxy, for someone who authorised her).
    Citizen,
    /// An organisation's information system calling the exchange gateway (X-Road's
    /// subsystem): no person behind it, acts only for its organisation.
    System,
}

impl Role {
    /// The wire name, e.g. `org_admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::OrgAdmin => "org_admin",
            Role::Reviewer => "reviewer",
            Role::Clerk => "clerk",
            Role::Citizen => "citizen",
            Role::System => "system",
        }
    }

    /// Parses a wire name; staff-facing synonyms `admin` means `org_admin`.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "platform_admin" => Role::PlatformAdmin,
            "org_admin" | "admin" => Role::OrgAdmin,
            "reviewer" => Role::Reviewer,
            "clerk" => Role::Clerk,
            "citizen" => Role::Citizen,
            "system" => Role::System,
            _ => return None,
        })
    }

    /// Whether this role is held within an organisation.
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::OrgAdmin | Role::Reviewer | Role::Clerk | Role::System
        )
    }
}

/// One role held by an account, within an organisation for staff roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleBinding {
    /// The role.
    pub role: Role,
    /// The organisation it applies to (staff roles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
}

/// A proxy (代办) relation in force for this request.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActingFor {
    /// The person being acted for.
    pub person_id: String,
    /// That person's name, for display.
    pub person_name: String,
    /// The authorisation that allows it.
    pub authorisation_id: String,
    /// What the proxy may do.
    pub scopes: Vec<String>,
}

/// Who is making the request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Principal {
    /// Account id.
    pub account_id: String,
    /// Login name.
    pub username: String,
    /// Display name (the person's name, or the username).
    pub display_name: String,
    /// The person this account belongs to, if any.
    pub person_id: Option<String>,
    /// Roles held.
    pub roles: Vec<RoleBinding>,
    /// The session the request came with.
    pub session_id: String,
    /// Set when a proxy acts for someone else.
    pub acting_for: Option<ActingFor>,
}

impl Principal {
    /// The platform itself acting as administrator (seeding, background runs, the CLI).
    pub fn system() -> Principal {
        Principal {
            account_id: "system".into(),
            username: "system".into(),
            display_name: "system".into(),
            person_id: None,
            roles: vec![RoleBinding {
                role: Role::PlatformAdmin,
                organisation_id: None,
            }],
            session_id: String::new(),
            acting_for: None,
        }
    }

    /// Whether the account holds `role` (in any organisation).
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|b| b.role == role)
    }

    /// Whether the account is a platform administrator.
    pub fn is_platform_admin(&self) -> bool {
        self.has_role(Role::PlatformAdmin)
    }

    /// Whether the account holds `role` in `organisation_id`.
    pub fn has_role_in(&self, role: Role, organisation_id: &str) -> bool {
        self.roles
            .iter()
            .any(|b| b.role == role && b.organisation_id.as_deref() == Some(organisation_id))
    }

    /// Organisations where the account holds any staff role.
    pub fn staff_organisations(&self) -> Vec<&str> {
        let mut orgs: Vec<&str> = self
            .roles
            .iter()
            .filter(|b| b.role.is_staff())
            .filter_map(|b| b.organisation_id.as_deref())
            .collect();
        orgs.sort_unstable();
        orgs.dedup();
        orgs
    }

    /// The organisation acts are attributed to: the first staff organisation, if any.
    pub fn organisation_id(&self) -> Option<&str> {
        self.staff_organisations().first().copied()
    }

    /// Fails with 403 unless the account is a platform administrator.
    pub fn require_platform_admin(&self) -> ApiResult<()> {
        if self.is_platform_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs the platform administrator role".into(),
            ))
        }
    }

    /// Fails with 403 unless the account may administer `organisation_id` (its org admin
    /// or a platform admin).
    pub fn require_org_admin(&self, organisation_id: &str) -> ApiResult<()> {
        if self.is_platform_admin() || self.has_role_in(Role::OrgAdmin, organisation_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs the administrator role of that organisation".into(),
            ))
        }
    }

    /// The organisation an officer acts for: `requested` (named by `field` in the request)
    /// or her own; she must be its clerk, reviewer or administrator, or a platform admin.
    pub fn staff_organisation(&self, requested: Option<&str>, field: &str) -> ApiResult<String> {
        let org = match requested {
            Some(org) if crate::ids::is_uuid(org) => org.to_string(),
            Some(_) => return Err(ApiError::invalid(field, "not a valid organisation id")),
            None => self
                .organisation_id()
                .ok_or_else(|| {
                    ApiError::Forbidden("only an organisation's staff can do this".into())
                })?
                .to_string(),
        };
        let staff = [Role::Clerk, Role::Reviewer, Role::OrgAdmin]
            .iter()
            .any(|r| self.has_role_in(*r, &org));
        if staff || self.is_platform_admin() {
            Ok(org)
        } else {
            Err(ApiError::Forbidden(
                "this needs a clerk, reviewer or administrator of that organisation".into(),
            ))
        }
    }

    /// The person whose own data this request concerns: the person acted for when a
    /// proxy acts, else the account's own person.
    pub fn subject_person_id(&self) -> Option<&str> {
        self.acting_for
            .as_ref()
            .map(|a| a.person_id.as_str())
            .or(self.person_id.as_deref())
    }

    /// Fails with 403 unless the proxy authorisation in force allows `scope`.
    pub fn require_scope(&self, scope: &str) -> ApiResult<()> {
        match &self.acting_for {
            Some(a) if !a.scopes.iter().any(|s| s == scope || s == "all") => Err(
                ApiError::Forbidden(format!("the proxy authorisation does not cover '{scope}'")),
            ),
            _ => Ok(()),
        }
    }
}

/// Resolves session tokens and proxy relations; implemented by the identity crate.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// The principal behind a session token, or `None` when the token is unknown,
    /// expired or revoked.
    async fn authenticate(&self, token: &str) -> ApiResult<Option<Principal>>;

    /// Checks that `principal` holds a proxy authorisation in force for `person_id`.
    async fn acting_for(&self, principal: &Principal, person_id: &str) -> ApiResult<ActingFor>;

    /// Drops any principals remembered from earlier requests (after a logout or an
    /// account change), so the next request is checked against the store.
    fn forget_sessions(&self) {}
}

/// Where a request's credentials come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Bearer …` and the `x-act-for` header: the JSON API. Cookies are
    /// ignored there, so a cross-site page cannot ride on a browser's session.
    Bearer,
    /// The session and acting-for cookies: the pages, whose forms carry a CSRF token.
    Cookie,
}

/// The bearer token a request carries, if any.
pub fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

/// The value of cookie `name`, if the request has it.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Finds the principal of a request from the given kind of credentials, and applies the
/// acting-for header (API) or cookie (pages).
pub async fn principal_of(
    parts: &Parts,
    state: &AppState,
    credentials: Credentials,
) -> ApiResult<Option<Principal>> {
    let (token, act_for) = match credentials {
        Credentials::Bearer => (
            bearer_token(parts),
            parts
                .headers
                .get(ACT_FOR_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ),
        Credentials::Cookie => (cookie(parts, SESSION_COOKIE), cookie(parts, ACT_FOR_COOKIE)),
    };
    let Some(token) = token else {
        return Ok(None);
    };
    let authenticator: Arc<dyn Authenticator> = state.auth.clone();
    let Some(mut principal) = authenticator.authenticate(&token).await? else {
        return Ok(None);
    };
    if let Some(person_id) = act_for.filter(|v| !v.is_empty()) {
        principal.acting_for = Some(authenticator.acting_for(&principal, &person_id).await?);
    }
    Ok(Some(principal))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        principal_of(parts, state, Credentials::Bearer)
            .await?
            .ok_or_else(|| {
                ApiError::Unauthenticated(
                "sign in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/login"
                    .into(),
            )
            })
    }
}

/// The principal of an API request when its bearer token is valid, `None` when it has
/// none (or an unknown one): for routes anyone may call, or that record an unauthenticated
/// attempt before refusing it.
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybePrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybePrincipal(
            principal_of(parts, state, Credentials::Bearer).await?,
        ))
    }
}

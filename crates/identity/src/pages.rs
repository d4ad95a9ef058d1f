//! Identity's pages: home, sign in/out, my profile, proxies, and the administration of
//! regions, organisations, persons, accounts and an organisation's staff.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kernel::api::PageQuery;
use kernel::auth::{ACT_FOR_COOKIE, Principal, Role, SESSION_COOKIE};
use kernel::pages::{NavItem, PageContext, PageResult, safe_back};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, action_table, askama_escape as esc, form_page,
    form_pairs, form_value, form_values, pager, post_button,
};
use kernel::{ApiError, AppState};
use serde::Deserialize;

use crate::model::*;
use crate::service;

/// Identity's page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/me", get(profile))
        .route("/me/proxies", get(proxies_page).post(grant_proxy))
        .route("/me/proxies/{id}/revoke", post(revoke_proxy))
        .route("/me/act-for", post(act_for))
        .route("/admin/regions", get(regions_page).post(create_region))
        .route("/admin/regions/new", get(new_region_page))
        .route("/admin/organisations", get(orgs_page).post(create_org))
        .route("/admin/organisations/new", get(new_org_page))
        .route("/admin/persons", get(persons_page).post(create_person))
        .route("/admin/persons/new", get(new_person_page))
        .route("/admin/persons/{id}", get(person_page).post(person_detail))
        .route("/admin/accounts", get(accounts_page).post(create_account))
        .route("/admin/accounts/new", get(new_account_page))
        .route("/org/staff", get(staff_page).post(create_staff))
        .route("/accounts/{id}/{to}", post(toggle_account))
        .route("/tags", get(tags_page))
        .route("/tags/new", get(new_tag_page).post(create_tag))
        .route("/tags/{code}", get(tag_page).post(change_tag))
}

fn is_citizen(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.person_id.is_some())
}
fn is_admin(p: Option<&Principal>) -> bool {
    p.is_some_and(Principal::is_platform_admin)
}
fn is_staff(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| {
        p.is_platform_admin() || (p.organisation_id().is_some() && !p.has_role(Role::System))
    })
}
fn is_org_admin(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.has_role(Role::OrgAdmin))
}

/// Identity's navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/",
            zh: "首页",
            en: "Home",
            visible: |_| true,
        },
        NavItem {
            href: "/me",
            zh: "我的资料",
            en: "My profile",
            visible: |p| p.is_some(),
        },
        NavItem {
            href: "/me/proxies",
            zh: "代办授权",
            en: "Proxies",
            visible: is_citizen,
        },
        NavItem {
            href: "/admin/regions",
            zh: "行政区划",
            en: "Regions",
            visible: is_admin,
        },
        NavItem {
            href: "/admin/organisations",
            zh: "机构",
            en: "Organisations",
            visible: is_admin,
        },
        NavItem {
            href: "/admin/persons",
            zh: "人口",
            en: "Persons",
            visible: is_admin,
        },
        NavItem {
            href: "/admin/accounts",
            zh: "账号",
            en: "Accounts",
            visible: is_admin,
        },
        NavItem {
            href: "/tags",
            zh: "居民标签",
            en: "Resident tags",
            visible: is_staff,
        },
        NavItem {
            href: "/org/staff",
            zh: "本机构人员",
            en: "Our staff",
            visible: is_org_admin,
        },
    ]
}

fn h1(title: &str) -> String {
    format!("<h1>{}</h1>", esc(title))
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn role_label(ctx: &PageContext, role: Role) -> String {
    match role {
        Role::PlatformAdmin => ctx.pick("平台管理员", "Platform administrator"),
        Role::OrgAdmin => ctx.pick("机构管理员", "Organisation administrator"),
        Role::Reviewer => ctx.pick("审核人员", "Reviewer"),
        Role::Clerk => ctx.pick("经办人员", "Clerk"),
        Role::Citizen => ctx.pick("居民", "Resident"),
        Role::System => ctx.pick("系统账号（数据交换）", "System account (data exchange)"),
    }
    .to_string()
}

fn sex_label(ctx: &PageContext, sex: Sex) -> String {
    match sex {
        Sex::Male => ctx.pick("男", "Male"),
        Sex::Female => ctx.pick("女", "Female"),
    }
    .to_string()
}

// ---- home, login, logout ----

async fn home(ctx: PageContext) -> PageResult {
    let mut body = String::new();
    match &ctx.user {
        None => {
            body.push_str(&h1(ctx.pick("城市综合服务平台", "City services")));
            body.push_str(&format!(
                "<p class=\"lead\">{}</p><p><a class=\"button\" href=\"/login\">{}</a></p>",
                ctx.pick(
                    "办事、查询、授权家人代办，一个账号全搞定。",
                    "One account for public services, your records, and letting family act for you."
                ),
                ctx.pick("登录", "Sign in")
            ));
        }
        Some(user) => {
            body.push_str(&h1(&format!(
                "{}{}",
                ctx.pick("您好，", "Hello, "),
                user.display_name
            )));
            let cards: Vec<(&str, &str)> = ctx
                .nav
                .iter()
                .filter(|n| n.href != "/" && (n.visible)(Some(user)))
                .map(|n| (n.href, ctx.pick(n.zh, n.en)))
                .collect();
            body.push_str("<ul class=\"cards\">");
            for (href, label) in cards {
                body.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", esc(label)));
            }
            body.push_str("</ul>");
        }
    }
    Ok(ctx.render(ctx.pick("首页", "Home"), &body))
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn login_form(ctx: &PageContext, next: &str) -> Form {
    Form::new(
        ctx,
        &format!("/login?next={}", kernel::pages::urlencode(next)),
        ctx.pick("登录", "Sign in"),
        vec![
            Field::text("username", ctx.pick("用户名", "Username")).autocomplete("username"),
            Field::of(
                "password",
                ctx.pick("密码", "Password"),
                FieldKind::Password,
            )
            .autocomplete("current-password"),
        ],
    )
}

fn login_body(ctx: &PageContext, form: &Form) -> String {
    format!(
        "{}<p>{}</p>{}",
        h1(ctx.pick("登录", "Sign in")),
        ctx.pick(
            "请输入您的用户名和密码。",
            "Enter your username and password."
        ),
        form.html()
    )
}

async fn login_page(ctx: PageContext, Query(q): Query<NextQuery>) -> PageResult {
    let next = safe_back(q.next.as_deref());
    let form = login_form(&ctx, &next);
    Ok(ctx.render(ctx.pick("登录", "Sign in"), &login_body(&ctx, &form)))
}

async fn login_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<NextQuery>,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let next = safe_back(q.next.as_deref());
    let request = LoginRequest {
        username: form_value(&pairs, "username").to_string(),
        password: form_value(&pairs, "password").to_string(),
    };
    match service::login(&state, request).await {
        Ok((session, _)) => {
            let max_age = state.config.session_minutes * 60;
            let secure = if state.config.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let response = with_cookie(
                see_other(&next),
                format!(
                    "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
                    session.token
                ),
            );
            Ok(with_cookie(
                response,
                format!("{ACT_FOR_COOKIE}=; Path=/; Max-Age=0"),
            ))
        }
        Err(error) => {
            let error = match error {
                ApiError::Unauthenticated(_) => ApiError::bad_request(
                    ctx.pick("用户名或密码不正确。", "The username or password is wrong."),
                ),
                other => other,
            };
            let status = if matches!(error, ApiError::TooManyRequests { .. }) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::BAD_REQUEST
            };
            let form = login_form(&ctx, &next).fill(&pairs).with_error(&error);
            Ok(ctx.render_status(
                status,
                ctx.pick("登录", "Sign in"),
                &login_body(&ctx, &form),
            ))
        }
    }
}

async fn logout(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    if let Some(user) = &ctx.user {
        service::logout(&state, user)
            .await
            .map_err(|e| ctx.error(e))?;
    }
    let response = with_cookie(
        see_other("/"),
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(with_cookie(
        response,
        format!("{ACT_FOR_COOKIE}=; Path=/; Max-Age=0"),
    ))
}

// ---- profile ----

fn person_rows(ctx: &PageContext, p: &PersonSummary) -> Vec<(String, String)> {
    vec![
        (ctx.pick("姓名", "Name").into(), p.name.clone()),
        (
            ctx.pick("身份证号", "Resident ID").into(),
            p.resident_id_masked.clone(),
        ),
        (
            ctx.pick("手机号", "Phone").into(),
            p.phone_masked.clone().unwrap_or_else(|| "—".into()),
        ),
        (ctx.pick("性别", "Sex").into(), sex_label(ctx, p.sex)),
        (
            ctx.pick("出生年份", "Year of birth").into(),
            p.birth_year.to_string(),
        ),
        (
            ctx.pick("所在社区", "Community").into(),
            p.region_code.clone(),
        ),
    ]
}

async fn profile(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let me = service::me(&state, user).await.map_err(|e| ctx.error(e))?;
    let mut body = h1(ctx.pick("我的资料", "My profile"));
    if let Some(acting) = &me.acting_for {
        body.push_str(&format!(
            "<h2>{} {}</h2>",
            ctx.pick("代办对象：", "Acting for:"),
            esc(&acting.person.name)
        ));
        // Her record is shown only with the `profile` scope; reading it is audited.
        if user.require_scope("profile").is_ok() {
            service::read_person(&state, user, &acting.person.id, None)
                .await
                .map_err(|e| ctx.error(e))?;
            body.push_str(
                &Summary {
                    rows: person_rows(&ctx, &acting.person),
                }
                .html(),
            );
        }
    }
    let mut rows = vec![
        (
            ctx.pick("用户名", "Username").to_string(),
            me.account.username.clone(),
        ),
        (
            ctx.pick("角色", "Roles").to_string(),
            me.account
                .roles
                .iter()
                .map(|r| role_label(&ctx, r.role))
                .collect::<Vec<_>>()
                .join("、"),
        ),
    ];
    if let Some(person) = &me.person {
        rows.extend(person_rows(&ctx, person));
    }
    body.push_str(&format!("<h2>{}</h2>", ctx.pick("我的账号", "My account")));
    body.push_str(&Summary { rows }.html());
    body.push_str(&format!(
        "<p class=\"notice\">{}</p>",
        ctx.pick(
            "为保护您的隐私，身份证号和手机号只显示部分数字。",
            "To protect your privacy, only part of your ID and phone number is shown."
        )
    ));
    if let Some(own) = &me.person {
        // Her own tags, also when she is acting for someone else.
        let tags = service::person_tags(&state, &own.id)
            .await
            .map_err(|e| ctx.error(e))?;
        if !tags.is_empty() {
            body.push_str(&format!("<h2>{}</h2>", ctx.pick("我的标签", "My tags")));
            body.push_str(&format!(
                "<p>{}</p>",
                ctx.pick(
                    "有关部门按这些标签给您发送定向通知（例如防汛时优先通知独居老人）。",
                    "Departments use these tags to send you targeted notices (for example, people living alone first in a flood)."
                )
            ));
            body.push_str(
                &Table {
                    caption: ctx.pick("我的标签", "My tags").into(),
                    headers: vec![
                        ctx.pick("标签", "Tag").into(),
                        ctx.pick("标注单位", "Set by").into(),
                        ctx.pick("时间", "Since").into(),
                    ],
                    rows: tags
                        .iter()
                        .map(|t| {
                            vec![
                                Cell::from(t.name.clone()),
                                Cell::from(t.organisation_name.clone()),
                                Cell::from(t.since.short()),
                            ]
                        })
                        .collect(),
                    empty: String::new(),
                }
                .html(),
            );
        }
        body.push_str(&format!(
            "<p><a href=\"/me/footprint\">{}</a></p>",
            ctx.pick("查看谁使用过我的数据", "See who used my data")
        ));
    }
    Ok(ctx.render(ctx.pick("我的资料", "My profile"), &body))
}

// ---- proxies ----

fn proxy_form(ctx: &PageContext) -> Form {
    let scopes = PROXY_SCOPES
        .iter()
        .map(|(v, zh, en)| (v.to_string(), ctx.pick(zh, en).to_string()))
        .collect();
    let in_a_year = kernel::time::Timestamp::now()
        .plus_minutes(365 * 24 * 60)
        .to_datetime()
        .date();
    Form::new(
        ctx,
        "/me/proxies",
        ctx.pick("授权", "Authorise"),
        vec![
            Field::text("proxy_name", ctx.pick("代办人姓名", "Proxy's full name")),
            Field::text(
                "proxy_resident_id",
                ctx.pick("代办人身份证号", "Proxy's resident ID number"),
            )
            .hint(ctx.pick(
                "18 位，最后一位可能是 X",
                "18 characters; the last may be X",
            )),
            Field::text(
                "relationship",
                ctx.pick("与您的关系", "Relationship to you"),
            )
            .hint(ctx.pick("例如：子女、配偶", "For example: son, daughter, spouse")),
            Field::of(
                "scopes",
                ctx.pick("可以代办的事项", "What they may do"),
                FieldKind::Checkboxes(scopes),
            ),
            Field::of(
                "expires_on",
                ctx.pick("有效期至", "Valid until"),
                FieldKind::Date,
            )
            .value(&in_a_year.to_string()),
        ],
    )
}

async fn proxies_body(
    state: &AppState,
    ctx: &PageContext,
    user: &Principal,
    form: &Form,
) -> Result<String, Response> {
    let (given, received) = service::my_proxies(state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let now = kernel::time::Timestamp::now();
    let status = |p: &ProxyAuthorisation| -> String {
        if p.revoked_at.is_some() {
            ctx.pick("已撤销", "Revoked").into()
        } else if p.expires_at <= now {
            ctx.pick("已过期", "Expired").into()
        } else {
            ctx.pick("有效", "In force").into()
        }
    };
    let active = |p: &ProxyAuthorisation| p.revoked_at.is_none() && p.expires_at > now;
    let scopes = |p: &ProxyAuthorisation| -> String {
        p.scopes
            .iter()
            .map(|s| {
                PROXY_SCOPES
                    .iter()
                    .find(|(k, _, _)| k == s)
                    .map(|(_, zh, en)| ctx.pick(zh, en).to_string())
                    .unwrap_or_else(|| s.clone())
            })
            .collect::<Vec<_>>()
            .join("、")
    };
    let mut body = h1(ctx.pick("代办授权", "Proxies"));
    body.push_str(&format!("<p>{}</p>", ctx.pick(
        "您可以授权家人替您在网上办事。他们的每一次操作都会记录在您的数据足迹中。",
        "You can let a family member act for you online. Everything they do is recorded in your data footprint."
    )));
    if !received.is_empty() {
        body.push_str(&format!(
            "<h2>{}</h2>",
            ctx.pick("我可以代办的人", "People I can act for")
        ));
        for p in received.iter().filter(|p| active(p)) {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/me/act-for\" class=\"field\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"person_id\" value=\"{}\"><button type=\"submit\" class=\"button\">{} {}</button></form>",
                esc(&ctx.csrf), esc(&p.principal_person_id), ctx.pick("代办：", "Act for"), esc(&p.principal_name)
            ));
        }
        if user.acting_for.is_some() {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/me/act-for\" class=\"field\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"person_id\" value=\"\"><button type=\"submit\" class=\"button secondary\">{}</button></form>",
                esc(&ctx.csrf), ctx.pick("结束代办，回到我自己", "Stop acting for someone else")
            ));
        }
        let rows = received
            .iter()
            .map(|p| {
                vec![
                    Cell::from(p.principal_name.clone()),
                    Cell::from(p.relationship.clone()),
                    Cell::from(scopes(p)),
                    Cell::from(p.expires_at.short()),
                    Cell::from(status(p)),
                ]
            })
            .collect();
        body.push_str(
            &Table {
                caption: ctx.pick("授权我代办的人", "Who authorised me").into(),
                headers: vec![
                    ctx.pick("姓名", "Name").into(),
                    ctx.pick("关系", "Relationship").into(),
                    ctx.pick("事项", "Scopes").into(),
                    ctx.pick("有效期至", "Until").into(),
                    ctx.pick("状态", "Status").into(),
                ],
                rows,
                empty: String::new(),
            }
            .html(),
        );
    }
    if user.acting_for.is_none() {
        let rows = given
            .iter()
            .map(|p| {
                let action = if active(p) {
                    post_button(
                        ctx,
                        &format!("/me/proxies/{}/revoke", p.id),
                        ctx.pick("撤销", "Revoke"),
                        true,
                    )
                } else {
                    String::new()
                };
                vec![
                    Cell::from(p.proxy_name.clone()),
                    Cell::from(p.relationship.clone()),
                    Cell::from(scopes(p)),
                    Cell::from(p.expires_at.short()),
                    Cell::from(status(p)),
                    Cell::from(action),
                ]
            })
            .collect::<Vec<_>>();
        // The revoke buttons are trusted markup built above; render the table by hand.
        body.push_str(&action_table(
            ctx.pick("我授权的代办人", "People who may act for me"),
            &[
                ctx.pick("姓名", "Name"),
                ctx.pick("关系", "Relationship"),
                ctx.pick("事项", "Scopes"),
                ctx.pick("有效期至", "Until"),
                ctx.pick("状态", "Status"),
                ctx.pick("操作", "Action"),
            ],
            rows,
            ctx.pick("还没有授权任何人。", "You have not authorised anyone."),
        ));
        body.push_str(&format!(
            "<h2>{}</h2>",
            ctx.pick("新增代办人", "Authorise someone")
        ));
        body.push_str(&form.html());
    }
    Ok(body)
}

async fn proxies_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let body = proxies_body(&state, &ctx, user, &proxy_form(&ctx)).await?;
    Ok(ctx.render(ctx.pick("代办授权", "Proxies"), &body))
}

async fn grant_proxy(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let parsed = (|| -> Result<NewProxy, ApiError> {
        let rid = ResidentId::parse(form_value(&pairs, "proxy_resident_id"))
            .map_err(|e| ApiError::invalid("proxy_resident_id", e))?;
        let date = form_value(&pairs, "expires_on");
        let expires_at = kernel::time::Timestamp::parse_rfc3339(&format!("{date}T23:59:59Z"))
            .ok_or_else(|| {
                ApiError::invalid(
                    "expires_on",
                    ctx.pick("请填写有效的日期", "Enter a real date"),
                )
            })?;
        Ok(NewProxy {
            proxy_resident_id: rid,
            proxy_name: form_value(&pairs, "proxy_name").to_string(),
            relationship: form_value(&pairs, "relationship").to_string(),
            scopes: form_values(&pairs, "scopes"),
            expires_at,
        })
    })();
    let result = match parsed {
        Ok(new) => service::grant_proxy(&state, user, new).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/me/proxies")),
        Err(error) if error.status().is_client_error() => {
            let form = proxy_form(&ctx).fill(&pairs).with_error(&error);
            let body = proxies_body(&state, &ctx, user, &form).await?;
            Ok(ctx.render_status(
                StatusCode::BAD_REQUEST,
                ctx.pick("代办授权", "Proxies"),
                &body,
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn revoke_proxy(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    service::revoke_proxy(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(see_other("/me/proxies"))
}

async fn act_for(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let person = form_value(&pairs, "person_id");
    if person.is_empty() {
        return Ok(with_cookie(
            see_other("/me/proxies"),
            format!("{ACT_FOR_COOKIE}=; Path=/; Max-Age=0"),
        ));
    }
    service::acting_for(&state.db, user, person)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(with_cookie(
        see_other("/"),
        format!("{ACT_FOR_COOKIE}={person}; Path=/; HttpOnly; SameSite=Lax"),
    ))
}

// ---- administration ----

fn require_admin(ctx: &PageContext) -> Result<&Principal, Response> {
    let user = ctx.user()?;
    user.require_platform_admin().map_err(|e| ctx.error(e))?;
    Ok(user)
}

fn new_link(href: &str, label: &str) -> String {
    format!(
        "<p><a class=\"button\" href=\"{href}\">{}</a></p>",
        esc(label)
    )
}

fn yes_no(ctx: &PageContext) -> Vec<(String, String)> {
    vec![
        ("true".into(), ctx.pick("城镇", "Urban").into()),
        ("false".into(), ctx.pick("农村", "Rural").into()),
    ]
}

fn region_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/admin/regions",
        ctx.pick("保存", "Save"),
        vec![
            Field::text("code", ctx.pick("区划代码", "Region code")).hint(ctx.pick(
                "6 位（省市区县）、9 位（街道）或 12 位（社区）数字",
                "6 digits (province, city, county), 9 (township) or 12 (community)",
            )),
            Field::text("name", ctx.pick("名称", "Name")),
            Field::of(
                "urban",
                ctx.pick("城乡属性", "Urban or rural"),
                FieldKind::Select(yes_no(ctx)),
            ),
        ],
    )
}

async fn regions_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<RegionPageQuery>,
) -> PageResult {
    require_admin(&ctx)?;
    let page = PageQuery {
        cursor: q.cursor.clone(),
        limit: Some(100),
    };
    let regions = service::list_regions(&state, q.parent.as_deref(), &page)
        .await
        .map_err(|e| ctx.error(e))?;
    let level = |l: RegionLevel| match l {
        RegionLevel::Province => ctx.pick("省", "Province"),
        RegionLevel::City => ctx.pick("市", "City"),
        RegionLevel::County => ctx.pick("区县", "County"),
        RegionLevel::Township => ctx.pick("街道乡镇", "Township"),
        RegionLevel::Community => ctx.pick("社区村", "Community"),
    };
    let rows = regions
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::link(r.code.clone(), format!("/admin/regions?parent={}", r.code)),
                Cell::from(r.name.clone()),
                Cell::from(level(r.level)),
                Cell::from(if r.urban {
                    ctx.pick("城镇", "Urban")
                } else {
                    ctx.pick("农村", "Rural")
                }),
            ]
        })
        .collect();
    let mut body = h1(ctx.pick("行政区划", "Regions"));
    body.push_str(&new_link(
        "/admin/regions/new",
        ctx.pick("新增区划", "Add a region"),
    ));
    if let Some(parent) = &q.parent {
        body.push_str(&format!(
            "<p><a href=\"/admin/regions\">{}</a> · {} {}</p>",
            ctx.pick("全部区划", "All regions"),
            ctx.pick("下级区划：", "Inside"),
            esc(parent)
        ));
    }
    body.push_str(
        &Table {
            caption: ctx
                .pick(
                    "区划列表（点代码看下级）",
                    "Regions (select a code to see what is inside)",
                )
                .into(),
            headers: vec![
                ctx.pick("代码", "Code").into(),
                ctx.pick("名称", "Name").into(),
                ctx.pick("层级", "Level").into(),
                ctx.pick("城乡", "Urban/rural").into(),
            ],
            rows,
            empty: ctx.pick("没有区划。", "No regions.").into(),
        }
        .html(),
    );
    let base = match &q.parent {
        Some(p) => format!("/admin/regions?parent={}", kernel::pages::urlencode(p)),
        None => "/admin/regions".into(),
    };
    body.push_str(&pager(&ctx, &base, regions.next_cursor.as_deref()));
    Ok(ctx.render(ctx.pick("行政区划", "Regions"), &body))
}

#[derive(Deserialize)]
struct RegionPageQuery {
    parent: Option<String>,
    cursor: Option<String>,
}

async fn new_region_page(ctx: PageContext) -> PageResult {
    require_admin(&ctx)?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("新增区划", "Add a region"),
        &region_form(&ctx),
    ))
}

/// Handles a create form: parse, call the service, redirect on success, re-render the
/// form with the error at its field on a client error.
async fn create_with<T, F, Fut>(
    ctx: &PageContext,
    title: &str,
    form: Form,
    pairs: &[(String, String)],
    redirect: &str,
    run: F,
) -> PageResult
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    ctx.check_csrf(form_value(pairs, "csrf"))?;
    match run().await {
        Ok(_) => Ok(see_other(redirect)),
        Err(error) if error.status().is_client_error() => Ok(form_page(
            ctx,
            error.status(),
            title,
            &form.fill(pairs).with_error(&error),
        )),
        Err(error) => Err(ctx.error(error)),
    }
}

/// Parses a form field with a model parser, naming the field on failure.
fn field<T>(
    pairs: &[(String, String)],
    name: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, ApiError> {
    parse(form_value(pairs, name)).map_err(|e| ApiError::invalid(name, e))
}

async fn create_region(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = require_admin(&ctx)?;
    let pairs = form_pairs(&body);
    create_with(
        &ctx,
        ctx.pick("新增区划", "Add a region"),
        region_form(&ctx),
        &pairs,
        "/admin/regions",
        || async {
            let new = NewRegion {
                code: field(&pairs, "code", RegionCode::parse)?,
                name: form_value(&pairs, "name").into(),
                urban: form_value(&pairs, "urban") != "false",
            };
            service::create_region(&state, user, new).await
        },
    )
    .await
}

fn org_kinds(ctx: &PageContext) -> Vec<(String, String)> {
    OrgKind::ALL
        .iter()
        .map(|k| {
            let (zh, en) = k.label();
            (k.as_str().to_string(), ctx.pick(zh, en).to_string())
        })
        .collect()
}

fn org_form(ctx: &PageContext) -> Form {
    let levels = AdminLevel::ALL
        .iter()
        .map(|l| (l.as_str().to_string(), l.as_str().to_string()))
        .collect();
    Form::new(
        ctx,
        "/admin/organisations",
        ctx.pick("保存", "Save"),
        vec![
            Field::text(
                "credit_code",
                ctx.pick("统一社会信用代码", "Unified social credit code"),
            )
            .hint(ctx.pick(
                "18 位，最后一位是校验码",
                "18 characters; the last is a check character",
            )),
            Field::text("name", ctx.pick("名称", "Name")),
            Field::of(
                "kind",
                ctx.pick("类型", "Kind"),
                FieldKind::Select(org_kinds(ctx)),
            ),
            Field::of(
                "level",
                ctx.pick("行政层级", "Administrative level"),
                FieldKind::Select(levels),
            ),
            Field::text("region", ctx.pick("所在区划代码", "Region code")),
        ],
    )
}

async fn orgs_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(page): Query<PageQuery>,
) -> PageResult {
    require_admin(&ctx)?;
    let orgs = service::list_organisations(&state, None, &page)
        .await
        .map_err(|e| ctx.error(e))?;
    let rows = orgs
        .items
        .iter()
        .map(|o| {
            let (zh, en) = o.kind.label();
            vec![
                Cell::from(o.name.clone()),
                Cell::from(o.credit_code.clone()),
                Cell::from(ctx.pick(zh, en)),
                Cell::from(o.region_code.clone()),
            ]
        })
        .collect();
    let mut body = h1(ctx.pick("机构", "Organisations"));
    body.push_str(&new_link(
        "/admin/organisations/new",
        ctx.pick("登记机构", "Register an organisation"),
    ));
    body.push_str(
        &Table {
            caption: ctx.pick("机构列表", "Organisations").into(),
            headers: vec![
                ctx.pick("名称", "Name").into(),
                ctx.pick("信用代码", "Credit code").into(),
                ctx.pick("类型", "Kind").into(),
                ctx.pick("区划", "Region").into(),
            ],
            rows,
            empty: ctx.pick("没有机构。", "No organisations.").into(),
        }
        .html(),
    );
    body.push_str(&pager(
        &ctx,
        "/admin/organisations",
        orgs.next_cursor.as_deref(),
    ));
    Ok(ctx.render(ctx.pick("机构", "Organisations"), &body))
}

async fn new_org_page(ctx: PageContext) -> PageResult {
    require_admin(&ctx)?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("登记机构", "Register an organisation"),
        &org_form(&ctx),
    ))
}

async fn create_org(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = require_admin(&ctx)?;
    let pairs = form_pairs(&body);
    create_with(
        &ctx,
        ctx.pick("登记机构", "Register an organisation"),
        org_form(&ctx),
        &pairs,
        "/admin/organisations",
        || async {
            let new = NewOrganisation {
                credit_code: field(&pairs, "credit_code", CreditCode::parse)?,
                name: form_value(&pairs, "name").into(),
                kind: OrgKind::parse(form_value(&pairs, "kind"))
                    .ok_or_else(|| ApiError::invalid("kind", "choose a kind"))?,
                level: AdminLevel::parse(form_value(&pairs, "level"))
                    .ok_or_else(|| ApiError::invalid("level", "choose a level"))?,
                region: field(&pairs, "region", RegionCode::parse)?,
                parent_id: None,
            };
            service::create_organisation(&state, user, new).await
        },
    )
    .await
}

fn person_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/admin/persons",
        ctx.pick("保存", "Save"),
        vec![
            Field::text("resident_id", ctx.pick("身份证号", "Resident ID number")).hint(ctx.pick(
                "18 位，最后一位可能是 X",
                "18 characters; the last may be X",
            )),
            Field::text("name", ctx.pick("姓名", "Name")),
            Field::text("phone", ctx.pick("手机号（可不填）", "Phone (optional)"))
                .autocomplete("off"),
            Field::text("region", ctx.pick("所在社区代码", "Community code"))
                .hint(ctx.pick("12 位社区代码", "12-digit community code")),
            Field::text(
                "address",
                ctx.pick("详细地址（可不填）", "Street address (optional)"),
            ),
        ],
    )
}

#[derive(Deserialize)]
struct PersonPageQuery {
    name: Option<String>,
    region: Option<String>,
    cursor: Option<String>,
}

async fn persons_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<PersonPageQuery>,
) -> PageResult {
    let user = require_admin(&ctx)?;
    let page = PageQuery {
        cursor: q.cursor.clone(),
        limit: Some(50),
    };
    let persons =
        service::list_persons(&state, user, q.region.as_deref(), q.name.as_deref(), &page)
            .await
            .map_err(|e| ctx.error(e))?;
    let rows = persons
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::link(p.name.clone(), format!("/admin/persons/{}", p.id)),
                Cell::from(p.resident_id_masked.clone()),
                Cell::from(p.phone_masked.clone().unwrap_or_default()),
                Cell::from(sex_label(&ctx, p.sex)),
                Cell::from(p.birth_year.to_string()),
                Cell::from(p.region_code.clone()),
            ]
        })
        .collect();
    let mut body = h1(ctx.pick("人口", "Persons"));
    body.push_str(&new_link(
        "/admin/persons/new",
        ctx.pick("登记人员", "Register a person"),
    ));
    body.push_str(&format!(
        "<form method=\"get\" action=\"/admin/persons\" class=\"field\"><label for=\"search-name\">{}</label><input type=\"search\" id=\"search-name\" name=\"name\" value=\"{}\"> <button type=\"submit\" class=\"button secondary\">{}</button></form>",
        ctx.pick("按姓名查找", "Search by name"), esc(q.name.as_deref().unwrap_or("")), ctx.pick("查找", "Search")
    ));
    body.push_str(
        &Table {
            caption: ctx
                .pick(
                    "人员列表（敏感信息已脱敏）",
                    "Persons (sensitive fields masked)",
                )
                .into(),
            headers: vec![
                ctx.pick("姓名", "Name").into(),
                ctx.pick("身份证号", "Resident ID").into(),
                ctx.pick("手机号", "Phone").into(),
                ctx.pick("性别", "Sex").into(),
                ctx.pick("出生年份", "Born in").into(),
                ctx.pick("社区", "Community").into(),
            ],
            rows,
            empty: ctx.pick("没有找到人员。", "No persons found.").into(),
        }
        .html(),
    );
    let base = format!(
        "/admin/persons?name={}&region={}",
        kernel::pages::urlencode(q.name.as_deref().unwrap_or("")),
        kernel::pages::urlencode(q.region.as_deref().unwrap_or(""))
    );
    body.push_str(&pager(&ctx, &base, persons.next_cursor.as_deref()));
    Ok(ctx.render(ctx.pick("人口", "Persons"), &body))
}

async fn new_person_page(ctx: PageContext) -> PageResult {
    require_admin(&ctx)?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("登记人员", "Register a person"),
        &person_form(&ctx),
    ))
}

async fn create_person(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = require_admin(&ctx)?;
    let pairs = form_pairs(&body);
    create_with(
        &ctx,
        ctx.pick("登记人员", "Register a person"),
        person_form(&ctx),
        &pairs,
        "/admin/persons",
        || async {
            let phone = form_value(&pairs, "phone");
            let new = NewPerson {
                resident_id: field(&pairs, "resident_id", ResidentId::parse)?,
                name: form_value(&pairs, "name").into(),
                phone: if phone.trim().is_empty() {
                    None
                } else {
                    Some(field(&pairs, "phone", Phone::parse)?)
                },
                region: field(&pairs, "region", RegionCode::parse)?,
                address: Some(form_value(&pairs, "address").to_string()),
                household_id: None,
            };
            service::create_person(&state, user, new).await
        },
    )
    .await
}

/// The purpose form: viewing the full record is a POST, so a link cannot make an
/// administrator read someone's data with a purpose she did not write.
async fn person_page(ctx: PageContext, Path(id): Path<String>) -> PageResult {
    require_admin(&ctx)?;
    let title = ctx.pick("人员详情", "Person");
    let form = Form::new(
        &ctx,
        &format!("/admin/persons/{}", kernel::pages::urlencode(&id)),
        ctx.pick("查看", "View"),
        vec![
            Field::text("purpose", ctx.pick("查看用途", "Purpose")).hint(ctx.pick(
                "例如：核实低保申请材料",
                "For example: check an application for minimum living allowance",
            )),
        ],
    );
    let body = format!(
        "{}<p>{}</p>{}",
        h1(title),
        ctx.pick(
            "查看完整信息会被记录，并告知本人。请说明用途。",
            "Viewing the full record is recorded and shown to the person. Say why you need it."
        ),
        form.html()
    );
    Ok(ctx.render(title, &body))
}

/// Shows the full record for the stated purpose (audited), never cached.
async fn person_detail(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = require_admin(&ctx)?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let purpose = form_value(&pairs, "purpose");
    let title = ctx.pick("人员详情", "Person");
    let p = match service::read_person(&state, user, &id, Some(purpose)).await {
        Ok(p) => p,
        Err(error) if error.field() == Some("purpose") => {
            let form = Form::new(
                &ctx,
                &format!("/admin/persons/{}", kernel::pages::urlencode(&id)),
                ctx.pick("查看", "View"),
                vec![Field::text("purpose", ctx.pick("查看用途", "Purpose"))],
            )
            .with_error(&ApiError::invalid(
                "purpose",
                ctx.pick("请说明查看用途", "Say why you need to see this record"),
            ));
            let body = format!("{}{}", h1(title), form.html());
            return Ok(ctx.render_status(StatusCode::BAD_REQUEST, title, &body));
        }
        Err(error) => return Err(ctx.error(error)),
    };
    let rows = vec![
        (ctx.pick("姓名", "Name").into(), p.summary.name.clone()),
        (
            ctx.pick("身份证号", "Resident ID").into(),
            p.resident_id.clone(),
        ),
        (
            ctx.pick("手机号", "Phone").into(),
            p.phone.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            ctx.pick("地址", "Address").into(),
            p.address.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            ctx.pick("社区", "Community").into(),
            format!(
                "{} {}",
                p.summary.region_code,
                p.region_name.clone().unwrap_or_default()
            ),
        ),
        (ctx.pick("出生日期", "Born").into(), p.birth_date.clone()),
        (
            ctx.pick("查看用途（已记录）", "Purpose (recorded)").into(),
            purpose.trim().to_string(),
        ),
    ];
    let body = format!("{}{}", h1(title), Summary { rows }.html());
    let mut response = ctx.render(title, &body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn role_options(ctx: &PageContext, staff_only: bool) -> Vec<(String, String)> {
    let roles: &[Role] = if staff_only {
        &[Role::Clerk, Role::Reviewer, Role::OrgAdmin, Role::System]
    } else {
        &[
            Role::Citizen,
            Role::Clerk,
            Role::Reviewer,
            Role::OrgAdmin,
            Role::System,
            Role::PlatformAdmin,
        ]
    };
    roles
        .iter()
        .map(|r| (r.as_str().to_string(), role_label(ctx, *r)))
        .collect()
}

async fn account_form(state: &AppState, ctx: &PageContext) -> Result<Form, Response> {
    let orgs = service::list_organisations(
        state,
        None,
        &PageQuery {
            cursor: None,
            limit: Some(200),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let mut options = vec![(String::new(), ctx.pick("（无）", "(none)").to_string())];
    options.extend(orgs.items.into_iter().map(|o| (o.id, o.name)));
    Ok(Form::new(
        ctx,
        "/admin/accounts",
        ctx.pick("创建账号", "Create account"),
        vec![
            Field::text("username", ctx.pick("用户名", "Username")).autocomplete("off"),
            Field::of(
                "password",
                ctx.pick("初始密码", "Initial password"),
                FieldKind::Password,
            )
            .hint(ctx.pick("至少 10 个字符", "At least 10 characters"))
            .autocomplete("new-password"),
            Field::of(
                "role",
                ctx.pick("角色", "Role"),
                FieldKind::Select(role_options(ctx, false)),
            ),
            Field::of(
                "organisation_id",
                ctx.pick("所属机构（工作人员）", "Organisation (staff)"),
                FieldKind::Select(options),
            ),
            Field::text(
                "resident_id",
                ctx.pick("本人身份证号（居民）", "Resident ID (residents)"),
            ),
        ],
    ))
}

/// Builds a [`NewAccount`] from submitted form pairs (person found by resident ID).
async fn new_account_from(
    state: &AppState,
    pairs: &[(String, String)],
    role: Role,
    organisation_id: Option<String>,
) -> Result<NewAccount, ApiError> {
    let rid = form_value(pairs, "resident_id");
    let person_id = if rid.trim().is_empty() {
        None
    } else {
        let rid = field(pairs, "resident_id", ResidentId::parse)?;
        Some(
            service::person_by_resident_id(state, &rid)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid(
                        "resident_id",
                        "no registered person has this resident ID number",
                    )
                })?
                .id,
        )
    };
    Ok(NewAccount {
        username: field(pairs, "username", Username::parse)?,
        password: form_value(pairs, "password").to_string(),
        role,
        organisation_id,
        person_id,
        display_name: Some(form_value(pairs, "display_name").to_string())
            .filter(|d| !d.trim().is_empty()),
    })
}

async fn accounts_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(page): Query<PageQuery>,
) -> PageResult {
    let user = require_admin(&ctx)?;
    let accounts = service::list_accounts(&state, user, None, &page)
        .await
        .map_err(|e| ctx.error(e))?;
    let body = accounts_table(
        &ctx,
        ctx.pick("账号", "Accounts"),
        &accounts.items,
        Some("/admin/accounts/new"),
        "/admin/accounts",
    ) + &pager(&ctx, "/admin/accounts", accounts.next_cursor.as_deref());
    Ok(ctx.render(ctx.pick("账号", "Accounts"), &body))
}

fn accounts_table(
    ctx: &PageContext,
    title: &str,
    accounts: &[Account],
    new: Option<&str>,
    back: &str,
) -> String {
    let rows = accounts
        .iter()
        .map(|a| {
            let own = ctx.user.as_ref().is_some_and(|u| u.account_id == a.id);
            let (label, to) = if a.disabled {
                (ctx.pick("启用", "Enable"), "enable")
            } else {
                (ctx.pick("停用", "Disable"), "disable")
            };
            let action = if own {
                String::new()
            } else {
                format!(
                    "<form method=\"post\" action=\"/accounts/{}/{to}?back={}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\" class=\"button secondary\">{} <span class=\"visually-hidden\">{}</span></button></form>",
                    esc(&a.id),
                    kernel::pages::urlencode(back),
                    esc(&ctx.csrf),
                    label,
                    esc(&a.username)
                )
            };
            vec![
                Cell::from(a.username.clone()),
                Cell::from(a.display_name.clone()),
                Cell::from(
                    a.roles
                        .iter()
                        .map(|r| role_label(ctx, r.role))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                Cell::from(if a.disabled {
                    ctx.pick("已停用", "Disabled")
                } else {
                    ctx.pick("正常", "Active")
                }),
                Cell::from(action),
            ]
        })
        .collect();
    let mut body = h1(title);
    if let Some(href) = new {
        body.push_str(&new_link(href, ctx.pick("创建账号", "Create an account")));
    }
    body.push_str(&action_table(
        title,
        &[
            ctx.pick("用户名", "Username"),
            ctx.pick("名称", "Name"),
            ctx.pick("角色", "Roles"),
            ctx.pick("状态", "Status"),
            ctx.pick("操作", "Action"),
        ],
        rows,
        ctx.pick("没有账号。", "No accounts."),
    ));
    body
}

#[derive(Deserialize)]
struct BackQuery {
    back: Option<String>,
}

/// Disables or enables an account (platform admin, or the admin of its organisation).
async fn toggle_account(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, to)): Path<(String, String)>,
    Query(q): Query<BackQuery>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    let disabled = match to.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(ctx.error(ApiError::NotFound("no such action".into()))),
    };
    service::set_account_disabled(&state, user, &id, disabled)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(see_other(&safe_back(q.back.as_deref())))
}

async fn new_account_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    require_admin(&ctx)?;
    let form = account_form(&state, &ctx).await?;
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("创建账号", "Create an account"),
        &form,
    ))
}

async fn create_account(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = require_admin(&ctx)?;
    let pairs = form_pairs(&body);
    let form = account_form(&state, &ctx).await?;
    create_with(
        &ctx,
        ctx.pick("创建账号", "Create an account"),
        form,
        &pairs,
        "/admin/accounts",
        || async {
            let role = Role::parse(form_value(&pairs, "role"))
                .ok_or_else(|| ApiError::invalid("role", "choose a role"))?;
            let org =
                Some(form_value(&pairs, "organisation_id").to_string()).filter(|o| !o.is_empty());
            let new = new_account_from(&state, &pairs, role, org).await?;
            service::create_account(&state, Some(user), new).await
        },
    )
    .await
}

// ---- an organisation's own staff ----

fn admin_org(ctx: &PageContext) -> Result<(&Principal, String), Response> {
    let user = ctx.user()?;
    let org = user
        .roles
        .iter()
        .find(|r| r.role == Role::OrgAdmin)
        .and_then(|r| r.organisation_id.clone())
        .ok_or_else(|| {
            ctx.error(ApiError::Forbidden(
                ctx.pick(
                    "只有机构管理员可以管理本机构人员。",
                    "Only an organisation's administrator manages its staff.",
                )
                .into(),
            ))
        })?;
    Ok((user, org))
}

fn staff_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/org/staff",
        ctx.pick("添加人员", "Add staff member"),
        vec![
            Field::text("username", ctx.pick("用户名", "Username")).autocomplete("off"),
            Field::of(
                "password",
                ctx.pick("初始密码", "Initial password"),
                FieldKind::Password,
            )
            .hint(ctx.pick("至少 10 个字符", "At least 10 characters"))
            .autocomplete("new-password"),
            Field::of(
                "role",
                ctx.pick("角色", "Role"),
                FieldKind::Select(role_options(ctx, true)),
            ),
            Field::text("display_name", ctx.pick("姓名", "Name")),
        ],
    )
}

async fn staff_body(
    state: &AppState,
    ctx: &PageContext,
    user: &Principal,
    org: &str,
    form: &Form,
) -> Result<String, Response> {
    let organisation = service::get_organisation(state, org)
        .await
        .map_err(|e| ctx.error(e))?;
    let staff = service::list_accounts(
        state,
        user,
        Some(org),
        &PageQuery {
            cursor: None,
            limit: Some(200),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let mut body = accounts_table(
        ctx,
        &format!("{} · {}", organisation.name, ctx.pick("人员", "Staff")),
        &staff.items,
        None,
        "/org/staff",
    );
    body.push_str(&format!(
        "<h2>{}</h2>",
        ctx.pick("添加人员", "Add a staff member")
    ));
    body.push_str(&form.html());
    Ok(body)
}

async fn staff_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let (user, org) = admin_org(&ctx)?;
    let body = staff_body(&state, &ctx, user, &org, &staff_form(&ctx)).await?;
    Ok(ctx.render(ctx.pick("本机构人员", "Our staff"), &body))
}

async fn create_staff(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let (user, org) = admin_org(&ctx)?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let result = async {
        let role = Role::parse(form_value(&pairs, "role"))
            .filter(|r| r.is_staff())
            .ok_or_else(|| ApiError::invalid("role", "choose a staff role"))?;
        let new = new_account_from(&state, &pairs, role, Some(org.clone())).await?;
        service::create_account(&state, Some(user), new).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/org/staff")),
        Err(error) if error.status().is_client_error() => {
            let form = staff_form(&ctx).fill(&pairs).with_error(&error);
            let body = staff_body(&state, &ctx, user, &org, &form).await?;
            Ok(ctx.render_status(error.status(), ctx.pick("本机构人员", "Our staff"), &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

// ---- tags ----

async fn tags_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let tags = service::list_tags(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("居民标签", "Resident tags");
    let mut body = h1(title);
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "标签用于定向通知：由负责单位标注居民，发送通知时可按标签选择收件人。谁带有哪个标签只以加密形式保存，每次标注都记入居民的数据足迹。",
            "Tags target notices: the organisation in charge puts residents on a tag, and a notice can go to a tag's residents. Who carries a tag is stored only in keyed form, and every change is in the resident's data footprint."
        ))
    ));
    if user.is_platform_admin() {
        body.push_str(&new_link("/tags/new", ctx.pick("新增标签", "Define a tag")));
    }
    let rows = tags
        .iter()
        .map(|t| {
            let name = if user
                .staff_organisation(Some(&t.organisation_id), "code")
                .is_ok()
            {
                Cell::link(
                    t.name.clone(),
                    format!("/tags/{}", kernel::pages::urlencode(&t.code)),
                )
            } else {
                Cell::from(t.name.clone())
            };
            vec![
                name,
                Cell::from(t.code.clone()),
                Cell::from(t.organisation_name.clone()),
                Cell::from(t.members.to_string()),
                Cell::from(t.description.clone()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("名称", "Name").into(),
                ctx.pick("代码", "Code").into(),
                ctx.pick("负责单位", "Kept by").into(),
                ctx.pick("人数", "Residents").into(),
                ctx.pick("说明", "Meaning").into(),
            ],
            rows,
            empty: ctx.pick("还没有标签。", "No tags yet.").into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

fn tag_form(ctx: &PageContext, organisations: Vec<(String, String)>) -> Form {
    Form::new(
        ctx,
        "/tags/new",
        ctx.pick("保存", "Save"),
        vec![
            Field::text("code", ctx.pick("代码", "Code")).hint(ctx.pick(
                "小写字母、数字和连字符，例如 lives-alone",
                "Lower-case letters, digits and hyphens, e.g. lives-alone",
            )),
            Field::text("name", ctx.pick("名称", "Name")),
            Field::text(
                "description",
                ctx.pick("说明（可不填）", "Meaning (optional)"),
            ),
            Field::of(
                "organisation_id",
                ctx.pick("负责单位", "Kept by"),
                FieldKind::Select(organisations),
            ),
        ],
    )
}

async fn organisation_choices(
    state: &AppState,
    ctx: &PageContext,
) -> Result<Vec<(String, String)>, Response> {
    let page = PageQuery {
        cursor: None,
        limit: Some(200),
    };
    Ok(service::list_organisations(state, None, &page)
        .await
        .map_err(|e| ctx.error(e))?
        .items
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

async fn new_tag_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    require_admin(&ctx)?;
    let form = tag_form(&ctx, organisation_choices(&state, &ctx).await?);
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("新增标签", "Define a tag"),
        &form,
    ))
}

async fn create_tag(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = require_admin(&ctx)?;
    let pairs = form_pairs(&body);
    let form = tag_form(&ctx, organisation_choices(&state, &ctx).await?);
    create_with(
        &ctx,
        ctx.pick("新增标签", "Define a tag"),
        form,
        &pairs,
        "/tags",
        || async {
            let new = NewTag {
                code: form_value(&pairs, "code").into(),
                name: form_value(&pairs, "name").into(),
                description: form_value(&pairs, "description").into(),
                organisation_id: form_value(&pairs, "organisation_id").into(),
            };
            service::create_tag(&state, user, new).await
        },
    )
    .await
}

fn tag_change_form(ctx: &PageContext, code: &str) -> Form {
    Form::new(
        ctx,
        &format!("/tags/{}", kernel::pages::urlencode(code)),
        ctx.pick("保存", "Save"),
        vec![
            Field::text(
                "resident_id",
                ctx.pick("居民身份证号", "Resident ID number"),
            )
            .autocomplete("off"),
            Field::of(
                "change",
                ctx.pick("操作", "Change"),
                FieldKind::Select(vec![
                    ("add".into(), ctx.pick("加上标签", "Put on the tag").into()),
                    (
                        "remove".into(),
                        ctx.pick("去掉标签", "Take off the tag").into(),
                    ),
                ]),
            ),
            Field::text("purpose", ctx.pick("依据和用途", "Basis and purpose")).hint(ctx.pick(
                "例如：2026 年独居老人摸排结果",
                "For example: the 2026 survey of people living alone",
            )),
        ],
    )
}

async fn tag_page_with(
    state: &AppState,
    ctx: &PageContext,
    code: &str,
    form: Form,
    status: StatusCode,
    page: &PageQuery,
) -> PageResult {
    let user = ctx.user()?;
    let tag = service::get_tag(state, code)
        .await
        .map_err(|e| ctx.error(e))?;
    let members = service::tag_members(state, user, code, page)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = h1(&tag.name);
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("代码", "Code").into(), tag.code.clone()),
                (
                    ctx.pick("负责单位", "Kept by").into(),
                    tag.organisation_name.clone(),
                ),
                (
                    ctx.pick("人数", "Residents").into(),
                    tag.members.to_string(),
                ),
                (ctx.pick("说明", "Meaning").into(), tag.description.clone()),
            ],
        }
        .html(),
    );
    body.push_str(&format!(
        "<h2>{}</h2>",
        esc(ctx.pick("加上或去掉一位居民", "Put a resident on or off"))
    ));
    body.push_str(&form.html());
    body.push_str(
        &Table {
            caption: ctx
                .pick("带有此标签的居民", "Residents with this tag")
                .into(),
            headers: vec![
                ctx.pick("姓名", "Name").into(),
                ctx.pick("身份证号", "Resident ID").into(),
                ctx.pick("出生年份", "Born").into(),
                ctx.pick("社区", "Community").into(),
            ],
            rows: members
                .items
                .iter()
                .map(|p| {
                    vec![
                        Cell::from(p.name.clone()),
                        Cell::from(p.resident_id_masked.clone()),
                        Cell::from(p.birth_year.to_string()),
                        Cell::from(p.region_code.clone()),
                    ]
                })
                .collect(),
            empty: ctx
                .pick("还没有居民带有此标签。", "Nobody carries this tag yet.")
                .into(),
        }
        .html(),
    );
    Ok(ctx.render_status(status, &tag.name, &body))
}

async fn tag_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    Query(page): Query<PageQuery>,
) -> PageResult {
    let form = tag_change_form(&ctx, &code);
    tag_page_with(&state, &ctx, &code, form, StatusCode::OK, &page).await
}

async fn change_tag(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let result = async {
        // Only the tag's keepers may look residents up here.
        let tag = service::get_tag(&state, &code).await?;
        user.staff_organisation(Some(&tag.organisation_id), "code")?;
        let resident_id = field(&pairs, "resident_id", ResidentId::parse)?;
        let person = service::person_by_resident_id(&state, &resident_id)
            .await?
            .ok_or_else(|| {
                ApiError::invalid("resident_id", "no registered resident with this ID")
            })?;
        let mut change = TagChange {
            purpose: form_value(&pairs, "purpose").into(),
            ..TagChange::default()
        };
        match form_value(&pairs, "change") {
            "add" => change.add.push(person.id),
            "remove" => change.remove.push(person.id),
            _ => return Err(ApiError::invalid("change", "choose to put on or take off")),
        }
        service::change_tag(&state, user, &code, change).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/tags/{}",
            kernel::pages::urlencode(&code)
        ))),
        Err(error) if error.status().is_client_error() && error.field().is_some() => {
            let form = tag_change_form(&ctx, &code).fill(&pairs).with_error(&error);
            tag_page_with(
                &state,
                &ctx,
                &code,
                form,
                error.status(),
                &PageQuery::default(),
            )
            .await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

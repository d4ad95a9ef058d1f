//! One-stop services' pages. Residents: the service hall (办事大厅) with search, life
//! situations and life events; an item's page (what it needs, how long it takes); the
//! application as a task list — the form on its own page, each upload on its own page —
//! with its timeline and rating. Departments: the queue with its clocks, a case with its
//! actions. Everyone: the statistics with charts; administrators: the holiday calendar.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kernel::api::PageQuery;
use kernel::auth::{Principal, Role};
use kernel::pages::{NavItem, PageContext, PageResult, urlencode};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, error_summary, form_pairs,
    form_value, post_button,
};
use kernel::{ApiError, AppState};
use serde_json::{Map, Value};

use crate::model::*;
use crate::service;

/// The page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(hall_page))
        .route("/services/items/new", get(new_item_page).post(create_item))
        .route("/services/items/{code}", get(item_page))
        .route(
            "/services/items/{code}/edit",
            get(edit_item_page).post(save_item),
        )
        .route("/services/items/{code}/start", post(start_item))
        .route("/services/life-events/{code}", get(life_event_page))
        .route("/services/life-events/{code}/start", post(start_life_event))
        .route("/services/statistics", get(statistics_page))
        .route("/services/calendar", get(calendar_page).post(set_day))
        .route("/services/calendar/{day}/delete", post(delete_day))
        .route("/me/applications", get(my_page))
        .route("/me/applications/{id}", get(application_page))
        .route("/me/applications/{id}/form", get(form_page).post(save_form))
        .route(
            "/me/applications/{id}/materials/{key}",
            get(upload_page)
                .post(upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/me/applications/{id}/submit", post(submit))
        .route("/me/applications/{id}/rating", post(rate))
        .route("/files/{id}", get(file))
        .route("/cases", get(queue_page))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/act", post(act))
}

fn is_staff(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.has_role(Role::Clerk) || p.has_role(Role::Reviewer))
}

/// Navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/services",
            zh: "办事大厅",
            en: "Services",
            visible: |_| true,
        },
        NavItem {
            href: "/me/applications",
            zh: "我的办件",
            en: "My applications",
            visible: |p| p.is_some_and(|p| p.subject_person_id().is_some()),
        },
        NavItem {
            href: "/services/calendar",
            zh: "节假日安排",
            en: "Holiday calendar",
            visible: |p| p.is_some_and(Principal::is_platform_admin),
        },
        NavItem {
            href: "/cases",
            zh: "办件受理",
            en: "Case work",
            visible: is_staff,
        },
    ]
}

fn days_words(ctx: &PageContext, n: i64) -> String {
    match ctx.lang {
        kernel::pages::Lang::ZhCn => format!("{n} 个工作日"),
        kernel::pages::Lang::En => format!("{n} working days"),
    }
}

fn percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

// ---- the hall ----

#[derive(serde::Deserialize, Default)]
struct HallQuery {
    q: Option<String>,
    situation: Option<String>,
}

async fn hall_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<HallQuery>,
) -> PageResult {
    let query = CatalogueQuery {
        q: q.q.clone(),
        situation: q.situation.clone(),
    };
    let items = service::catalogue(&state, &query)
        .await
        .map_err(|e| ctx.error(e))?;
    let situations = service::situations(&state)
        .await
        .map_err(|e| ctx.error(e))?;
    let events = service::life_events(&state)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("办事大厅", "Services");
    let mut body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(title),
        esc(ctx.pick(
            "找到要办的事，看清要什么、要多久；政府已有的材料不用您再交。",
            "Find what you need to do, see what it takes and how long; what the government already holds you need not bring."
        ))
    );
    body.push_str(&format!(
        "<form method=\"get\" action=\"/services\" role=\"search\"><div class=\"field\"><label for=\"field-q\">{}</label>\
         <input type=\"text\" id=\"field-q\" name=\"q\" value=\"{}\"></div><button type=\"submit\" class=\"button\">{}</button></form>",
        esc(ctx.pick("搜索事项（例如：高龄津贴、出生）", "Search (e.g. allowance, birth)")),
        esc(q.q.as_deref().unwrap_or("")),
        esc(ctx.pick("搜索", "Search"))
    ));
    if ctx.user.as_ref().is_some_and(Principal::is_platform_admin) {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/services/items/new\">{}</a></p>",
            esc(ctx.pick("新增服务事项", "New service item"))
        ));
    }
    if !events.is_empty() {
        body.push_str(&format!(
            "<h2>{}</h2><ul class=\"cards\">",
            esc(ctx.pick("一件事一次办", "Life events: several services at once"))
        ));
        for e in &events {
            body.push_str(&format!(
                "<li><a href=\"/services/life-events/{}\">{}</a> <span class=\"hint\">{}</span></li>",
                esc(&e.code),
                esc(&e.name),
                esc(&e.summary)
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str(&format!(
        "<h2>{}</h2><ul class=\"inline-list\">",
        esc(ctx.pick("按生活场景", "By life situation"))
    ));
    for (s, n) in &situations {
        let current = q.situation.as_deref() == Some(s.as_str());
        body.push_str(&format!(
            "<li><a href=\"/services?situation={}\"{}>{} ({n})</a></li>",
            urlencode(s),
            if current {
                " aria-current=\"page\""
            } else {
                ""
            },
            esc(s)
        ));
    }
    body.push_str("</ul>");
    let rows = items
        .iter()
        .map(|i| {
            let d = &i.definition;
            let auto = d
                .materials
                .iter()
                .filter(|m| m.certificate.is_some() || m.resource.is_some())
                .count();
            vec![
                Cell::link(d.name.clone(), format!("/services/items/{}", d.code)),
                Cell::from(i.department_names.join("、")),
                Cell::from(days_words(&ctx, d.committed_days)),
                Cell::from(format!("{auto} / {}", d.materials.len())),
                Cell::from(if d.fee_yuan > 0.0 {
                    format!("{:.2} 元", d.fee_yuan)
                } else {
                    ctx.pick("免费", "Free").to_string()
                }),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("办事事项", "Services").into(),
            headers: vec![
                ctx.pick("事项", "Service").into(),
                ctx.pick("部门", "Department").into(),
                ctx.pick("承诺时限", "Committed time").into(),
                ctx.pick("免交材料", "Materials we fetch").into(),
                ctx.pick("收费", "Fee").into(),
            ],
            rows,
            empty: ctx.pick("没有找到相关事项。", "No service matches.").into(),
        }
        .html(),
    );
    body.push_str(&format!(
        "<p><a href=\"/services/statistics\">{}</a></p>",
        esc(ctx.pick("办件统计与好差评", "Figures and ratings"))
    ));
    Ok(ctx.render(title, &body))
}

fn how_satisfied(ctx: &PageContext, m: &Material) -> String {
    let mut ways = Vec::new();
    if let Some(t) = &m.certificate {
        ways.push(format!(
            "{}（{}）",
            ctx.pick("从您的证照夹自动获取", "taken from your wallet"),
            t
        ));
    }
    if let Some(r) = &m.resource {
        ways.push(format!(
            "{}（{}）",
            ctx.pick("由部门共享获取", "fetched from the department holding it"),
            r.code
        ));
    }
    if m.upload {
        ways.push(ctx.pick("或由您上传", "or uploaded by you").into());
    }
    ways.join(ctx.pick("；", "; "))
}

fn eligibility_words(ctx: &PageContext, e: &Eligibility) -> String {
    let mut parts = Vec::new();
    if let Some(a) = e.min_age {
        parts.push(format!("{} {a}", ctx.pick("年满", "aged at least")));
    }
    if let Some(a) = e.max_age {
        parts.push(format!("{} {a}", ctx.pick("不超过", "aged at most")));
    }
    if let Some(r) = &e.region {
        parts.push(format!("{} {r}", ctx.pick("居住在", "living in")));
    }
    if let Some(t) = &e.holds_certificate {
        parts.push(format!("{} {t}", ctx.pick("持有有效的", "holding a valid")));
    }
    if parts.is_empty() {
        ctx.pick("所有居民", "Every resident").into()
    } else {
        parts.join(ctx.pick("，", ", "))
    }
}

fn item_html(ctx: &PageContext, item: &ServiceItem, in_bundle: bool) -> String {
    let d = &item.definition;
    let mut body = format!("<p class=\"lead\">{}</p>", esc(&d.summary));
    body.push_str(
        &Summary {
            rows: vec![
                (
                    ctx.pick("办理部门", "Departments").into(),
                    item.department_names.join("、"),
                ),
                (
                    ctx.pick("设定依据", "Legal basis").into(),
                    d.legal_basis.clone(),
                ),
                (
                    ctx.pick("申请条件", "Who may apply").into(),
                    eligibility_words(ctx, &d.eligibility),
                ),
                (
                    ctx.pick("法定时限", "Statutory limit").into(),
                    days_words(ctx, d.statutory_days),
                ),
                (
                    ctx.pick("承诺时限", "Committed limit").into(),
                    days_words(ctx, d.committed_days),
                ),
                (
                    ctx.pick("收费", "Fee").into(),
                    if d.fee_yuan > 0.0 {
                        format!("{:.2} 元", d.fee_yuan)
                    } else {
                        ctx.pick("免费", "Free").into()
                    },
                ),
                (
                    ctx.pick("办理流程", "Steps").into(),
                    d.steps
                        .iter()
                        .map(|s| s.kind.zh())
                        .collect::<Vec<_>>()
                        .join(" → "),
                ),
            ],
        }
        .html(),
    );
    let rows = d
        .materials
        .iter()
        .map(|m| {
            vec![
                Cell::from(m.name.clone()),
                Cell::from(how_satisfied(ctx, m)),
                Cell::from(if m.required {
                    ctx.pick("必需", "Required")
                } else {
                    ctx.pick("可选", "Optional")
                }),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            // Several items on one page: each table needs its own name.
            caption: if in_bundle {
                format!("{}：{}", ctx.pick("申请材料", "Materials"), d.name)
            } else {
                ctx.pick("申请材料", "Materials").into()
            },
            headers: vec![
                ctx.pick("材料", "Material").into(),
                ctx.pick("如何提供", "How it is provided").into(),
                ctx.pick("是否必需", "Required").into(),
            ],
            rows,
            empty: ctx.pick("无需材料。", "No materials needed.").into(),
        }
        .html(),
    );
    body
}

fn start_buttons(ctx: &PageContext, action: &str) -> String {
    if ctx.user.is_none() {
        return format!(
            "<p><a class=\"button\" href=\"/login?next={}\">{}</a></p>",
            urlencode(&ctx.path),
            esc(ctx.pick("登录后办理", "Sign in to apply"))
        );
    }
    format!(
        "<h2>{}</h2><p>{}</p><form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" name=\"fetch\" value=\"true\" class=\"button\">{}</button> \
         <button type=\"submit\" name=\"fetch\" value=\"false\" class=\"button secondary\">{}</button></form>",
        esc(ctx.pick("开始办理", "Apply")),
        esc(ctx.pick(
            "同意后，上表中可共享的材料由办理部门从持有部门调取、从您的证照夹读取，每一次调取都会记入您的数据足迹；您也可以选择全部自己填写和上传。",
            "If you agree, the department fetches the materials above from the departments that hold them and reads your wallet; each use is written to your data footprint. You may also fill in and upload everything yourself."
        )),
        esc(&ctx.csrf),
        esc(ctx.pick("同意调取，开始办理", "Agree and start")),
        esc(ctx.pick("不调取，自己填写", "Start without fetching"))
    )
}

async fn item_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
) -> PageResult {
    let item = service::get_item(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = format!("<h1>{}</h1>", esc(&item.definition.name));
    body.push_str(&item_html(&ctx, &item, false));
    body.push_str(&start_buttons(
        &ctx,
        &format!("/services/items/{}/start", esc(&item.definition.code)),
    ));
    let may_edit = ctx.user.as_ref().is_some_and(|p| {
        item.definition
            .departments
            .first()
            .is_some_and(|lead| p.require_org_admin(lead).is_ok())
    });
    if may_edit {
        body.push_str(&format!(
            "<p><a href=\"/services/items/{}/edit\">{}</a></p>",
            esc(&item.definition.code),
            esc(ctx.pick("修改事项定义", "Edit the item's definition"))
        ));
    }
    Ok(ctx.render(&item.definition.name, &body))
}

/// The definition editor: the whole definition as JSON (materials, form schema and
/// sources, workflow and result are nested structures no flat form can hold), checked by
/// the same rules as the API, each problem named with its place in the definition.
fn definition_form(ctx: &PageContext, action: &str, json: &str) -> Form {
    Form::new(
        ctx,
        action,
        ctx.pick("保存", "Save"),
        vec![
            Field::of(
                "definition",
                ctx.pick("事项定义（JSON）", "Definition (JSON)"),
                FieldKind::TextArea,
            )
            .hint(ctx.pick(
                "格式同 POST /api/v1/services/items：编码、名称、部门、设定依据、申请条件、时限、收费、材料、表单、办理流程、办结证照。",
                "As for POST /api/v1/services/items: code, name, departments, legal basis, eligibility, time limits, fee, materials, form, workflow, result.",
            ))
            .value(json),
        ],
    )
}

/// An error from checking a definition, placed at the editor with the definition's own
/// path (`materials[1].resource: …`).
fn definition_error(error: &ApiError) -> ApiError {
    let mut lines: Vec<String> = error
        .field_errors()
        .into_iter()
        .map(|e| format!("{}: {}", e.field, e.detail))
        .collect();
    if lines.is_empty() {
        lines.push(match error.field() {
            Some(field) => format!("{field}: {}", error.public_detail()),
            None => error.public_detail(),
        });
    }
    ApiError::invalid("definition", lines.join("; "))
}

fn parse_definition(raw: &str) -> Result<ServiceDefinition, ApiError> {
    serde_json::from_str(raw).map_err(|e| {
        ApiError::invalid(
            "definition",
            format!("line {}, column {}: {e}", e.line(), e.column()),
        )
    })
}

async fn definition_page(
    ctx: &PageContext,
    status: StatusCode,
    title: &str,
    form: &Form,
) -> PageResult {
    let mut response = kernel::widgets::form_page(ctx, status, title, form);
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn new_item_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    user.require_platform_admin().map_err(|e| ctx.error(e))?;
    // Start from the first item of the catalogue, with a new code, as a worked example.
    let example = service::catalogue(&state, &CatalogueQuery::default())
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .next()
        .map(|mut item| {
            item.definition.code = "new-item".into();
            serde_json::to_string_pretty(&item.definition).unwrap_or_default()
        })
        .unwrap_or_else(|| "{}".into());
    let title = ctx.pick("新增服务事项", "New service item");
    let form = definition_form(&ctx, "/services/items/new", &example);
    definition_page(&ctx, StatusCode::OK, title, &form).await
}

async fn create_item(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let raw = form_value(&pairs, "definition");
    let result = match parse_definition(raw) {
        Ok(def) => service::define_item(&state, user, def).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(item) => Ok(Redirect::to(&format!(
            "/services/items/{}",
            kernel::pages::urlencode(&item.definition.code)
        ))
        .into_response()),
        Err(error) if error.status().is_client_error() => {
            let title = ctx.pick("新增服务事项", "New service item");
            let form = definition_form(&ctx, "/services/items/new", raw)
                .with_error(&definition_error(&error));
            definition_page(&ctx, error.status(), title, &form).await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn edit_item_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let item = service::get_item(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let lead = item
        .definition
        .departments
        .first()
        .cloned()
        .unwrap_or_default();
    user.require_org_admin(&lead).map_err(|e| ctx.error(e))?;
    let json = serde_json::to_string_pretty(&item.definition).unwrap_or_default();
    let action = format!("/services/items/{}/edit", kernel::pages::urlencode(&code));
    let title = format!(
        "{}：{}",
        ctx.pick("修改事项定义", "Edit"),
        item.definition.name
    );
    let form = definition_form(&ctx, &action, &json);
    definition_page(&ctx, StatusCode::OK, &title, &form).await
}

async fn save_item(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let raw = form_value(&pairs, "definition");
    let result = match parse_definition(raw) {
        Ok(def) => service::update_item(&state, user, &code, def).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(item) => Ok(Redirect::to(&format!(
            "/services/items/{}",
            kernel::pages::urlencode(&item.definition.code)
        ))
        .into_response()),
        Err(error) if error.status().is_client_error() => {
            let action = format!("/services/items/{}/edit", kernel::pages::urlencode(&code));
            let title = ctx.pick("修改事项定义", "Edit the item's definition");
            let form = definition_form(&ctx, &action, raw).with_error(&definition_error(&error));
            definition_page(&ctx, error.status(), title, &form).await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn life_event_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
) -> PageResult {
    let event = service::get_life_event(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p><p>{}</p>",
        esc(&event.name),
        esc(&event.summary),
        esc(ctx.pick(
            "一次申请，多个部门同时办理；相同的信息只填一次。",
            "One application, handled by several departments at once; shared details are asked once."
        ))
    );
    for item in &event.items {
        body.push_str(&format!("<h2>{}</h2>", esc(&item.definition.name)));
        body.push_str(&item_html(&ctx, item, true));
    }
    body.push_str(&start_buttons(
        &ctx,
        &format!("/services/life-events/{}/start", esc(&event.code)),
    ));
    Ok(ctx.render(&event.name, &body))
}

async fn start_with(
    state: &AppState,
    ctx: &PageContext,
    body: &Bytes,
    item: Option<String>,
    life_event: Option<String>,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let application = service::start(
        state,
        user,
        NewApplication {
            item,
            life_event,
            fetch: form_value(&pairs, "fetch") == "true",
            submit: false,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/me/applications/{}", application.id)).into_response())
}

async fn start_item(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    start_with(&state, &ctx, &body, Some(code), None).await
}

async fn start_life_event(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    start_with(&state, &ctx, &body, None, Some(code)).await
}

// ---- the applicant ----

fn application_state_words(ctx: &PageContext, s: ApplicationState) -> &'static str {
    match s {
        ApplicationState::Draft => ctx.pick("草稿", "Draft"),
        ApplicationState::Submitted => ctx.pick("办理中", "With the departments"),
        ApplicationState::Supplement => ctx.pick("待补正", "Please supply more"),
        ApplicationState::Closed => ctx.pick("已办结", "Closed"),
    }
}

fn case_state_words(ctx: &PageContext, c: &Case) -> String {
    match c.state {
        CaseState::InProgress => format!("{}{}", ctx.pick("待", "Awaiting "), c.step.zh()),
        CaseState::Supplement => ctx
            .pick("待补正（暂停计时）", "Awaiting 补正 (clock paused)")
            .into(),
        CaseState::Rejected => ctx.pick("不予办理", "Rejected").into(),
        CaseState::Finished => ctx.pick("已办结", "Finished").into(),
    }
}

fn urgency_words(ctx: &PageContext, c: &Case) -> String {
    match (c.urgency, c.working_days_left) {
        (Urgency::Overdue, _) if c.state.ended() => ctx.pick("超期办结", "Finished late").into(),
        (Urgency::Overdue, _) => ctx.pick("已超期", "Overdue").into(),
        (Urgency::NearDue, Some(n)) => match ctx.lang {
            kernel::pages::Lang::ZhCn => format!("临近期限：剩 {n} 个工作日"),
            kernel::pages::Lang::En => format!("Near due: {n} working days left"),
        },
        (Urgency::Paused, _) => ctx.pick("暂停计时", "Paused").into(),
        (_, Some(n)) => days_words(ctx, n),
        _ => ctx.pick("按时办结", "On time").into(),
    }
}

async fn my_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let page = service::my_applications(&state, user, &PageQuery::default())
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("我的办件", "My applications");
    let rows = page
        .items
        .iter()
        .map(|a| {
            vec![
                Cell::link(a.title.clone(), format!("/me/applications/{}", a.id)),
                Cell::from(a.number.clone()),
                Cell::from(application_state_words(&ctx, a.state)),
                Cell::from(a.created_at.short()),
            ]
        })
        .collect();
    let body = format!(
        "<h1>{}</h1><p><a href=\"/services\">{}</a></p>",
        esc(title),
        esc(ctx.pick("去办事大厅", "Go to the services"))
    ) + &Table {
        caption: title.into(),
        headers: vec![
            ctx.pick("事项", "Service").into(),
            ctx.pick("编号", "Number").into(),
            ctx.pick("状态", "Status").into(),
            ctx.pick("创建时间", "Started").into(),
        ],
        rows,
        empty: ctx.pick("还没有办件。", "No applications yet.").into(),
    }
    .html();
    Ok(ctx.render(title, &body))
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        other => other.to_string(),
    }
}

fn field_title(schema: &Value, name: &str) -> String {
    schema["properties"][name]["title"]
        .as_str()
        .unwrap_or(name)
        .to_string()
}

fn form_summary(a: &Application) -> String {
    let props = a.schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    Summary {
        rows: props
            .keys()
            .map(|k| (field_title(&a.schema, k), value_text(&a.form[k])))
            .collect(),
    }
    .html()
}

fn material_words(ctx: &PageContext, m: &AttachedMaterial) -> String {
    match m.source.as_str() {
        "certificate" => format!(
            "{} {}",
            ctx.pick("已从证照夹获取：", "From your wallet:"),
            m.description.clone().unwrap_or_default()
        ),
        "exchange" => format!(
            "{} {}",
            ctx.pick("已由部门共享：", "Fetched:"),
            m.description.clone().unwrap_or_default()
        ),
        "upload" => format!(
            "{} {}",
            ctx.pick("已上传：", "Uploaded:"),
            m.description.clone().unwrap_or_default()
        ),
        _ if m.required => ctx.pick("未提供：请上传", "Missing: please upload").into(),
        _ => ctx.pick("未提供（可选）", "Not provided (optional)").into(),
    }
}

fn timeline_html(ctx: &PageContext, a: &Application) -> String {
    let mut html = format!(
        "<h2>{}</h2><ol class=\"timeline\">",
        esc(ctx.pick("办理进度", "Timeline"))
    );
    for e in &a.timeline {
        let kind = match e.kind.as_str() {
            "created" => ctx.pick("创建申请", "Started"),
            "prefilled" => ctx.pick("调取数据", "Data fetched"),
            "material" => ctx.pick("材料", "Material"),
            "submitted" => ctx.pick("提交申请", "Submitted"),
            "case" => ctx.pick("部门收件", "Received"),
            "step" => ctx.pick("完成环节", "Step done"),
            "supplement" => ctx.pick("要求补正", "More needed"),
            "resubmitted" => ctx.pick("补正后提交", "Resubmitted"),
            "rejected" => ctx.pick("不予办理", "Rejected"),
            "finished" => ctx.pick("办结", "Finished"),
            "escalated" => ctx.pick("超期督办", "Escalated"),
            "rated" => ctx.pick("评价", "Rated"),
            _ => "",
        };
        html.push_str(&format!(
            "<li><span class=\"hint\">{}</span> <strong>{}{}</strong> {} {}</li>",
            esc(&e.at.short()),
            esc(kind),
            e.step_name
                .as_deref()
                .map(|s| format!("（{}）", esc(s)))
                .unwrap_or_default(),
            esc(&e.actor_name),
            esc(e.note.as_deref().unwrap_or(""))
        ));
    }
    html.push_str("</ol>");
    html
}

fn cases_table(ctx: &PageContext, a: &Application) -> String {
    let rows = a
        .cases
        .iter()
        .map(|c| {
            vec![
                Cell::from(c.item_name.clone()),
                Cell::from(c.lead_org_name.clone()),
                Cell::from(case_state_words(ctx, c)),
                Cell::from(c.due_on.clone()),
                Cell::from(urgency_words(ctx, c)),
                Cell::from(c.outcome_note.clone().unwrap_or_default()),
            ]
        })
        .collect();
    Table {
        caption: ctx.pick("各部门办理情况", "At each department").into(),
        headers: vec![
            ctx.pick("事项", "Service").into(),
            ctx.pick("部门", "Department").into(),
            ctx.pick("状态", "Status").into(),
            ctx.pick("办结期限", "Due").into(),
            ctx.pick("时限", "Clock").into(),
            ctx.pick("说明", "Notes").into(),
        ],
        rows,
        empty: String::new(),
    }
    .html()
}

async fn application_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let a = service::application(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let editable = matches!(
        a.state,
        ApplicationState::Draft | ApplicationState::Supplement
    );
    let mut body = format!("<h1>{}</h1>", esc(&a.title));
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("编号", "Number").into(), a.number.clone()),
                (
                    ctx.pick("状态", "Status").into(),
                    application_state_words(&ctx, a.state).into(),
                ),
            ],
        }
        .html(),
    );
    if !a.cases.is_empty() {
        body.push_str(&cases_table(&ctx, &a));
    }
    // The task list (GOV.UK pattern): the form, then each material.
    let missing_fields: Vec<String> = a.schema["required"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .filter(|k| a.form.get(*k).is_none_or(Value::is_null))
        .map(|k| field_title(&a.schema, k))
        .collect();
    body.push_str(&format!(
        "<h2>{}</h2><ul class=\"task-list\">",
        esc(ctx.pick("办理清单", "What to do"))
    ));
    let form_status = if missing_fields.is_empty() {
        ctx.pick("已填写", "Complete").to_string()
    } else {
        format!(
            "{}{}",
            ctx.pick("待填写：", "To fill in: "),
            missing_fields.join("、")
        )
    };
    body.push_str(&format!(
        "<li>{} <span class=\"hint\">{}</span></li>",
        if editable {
            format!(
                "<a href=\"/me/applications/{}/form\">{}</a>",
                esc(&a.id),
                esc(ctx.pick("填写申请表", "Fill in the form"))
            )
        } else {
            esc(ctx.pick("申请表", "The form"))
        },
        esc(&form_status)
    ));
    for m in &a.materials {
        let name = if editable
            && m.upload_allowed
            && m.source != "certificate"
            && m.source != "exchange"
        {
            format!(
                "<a href=\"/me/applications/{}/materials/{}\">{}</a>",
                esc(&a.id),
                esc(&m.key),
                esc(&m.name)
            )
        } else {
            esc(&m.name)
        };
        body.push_str(&format!(
            "<li>{name} <span class=\"hint\">{}</span></li>",
            esc(&material_words(&ctx, m))
        ));
    }
    body.push_str("</ul>");
    if !a.prefilled.is_empty() {
        body.push_str(&format!(
            "<p class=\"notice\">{} {}</p>",
            esc(ctx.pick(
                "以下信息已为您自动填写，请核对：",
                "Filled in for you — please check:"
            )),
            esc(&a
                .prefilled
                .iter()
                .map(|(k, from)| format!("{}（{}）", field_title(&a.schema, k), from))
                .collect::<Vec<_>>()
                .join("、"))
        ));
    }
    match a.state {
        ApplicationState::Draft => body.push_str(&post_button(
            &ctx,
            &format!("/me/applications/{}/submit", a.id),
            ctx.pick("提交申请", "Submit the application"),
            false,
        )),
        ApplicationState::Supplement => body.push_str(&post_button(
            &ctx,
            &format!("/me/applications/{}/submit", a.id),
            ctx.pick("补正完毕，重新提交", "Resubmit with the supplements"),
            false,
        )),
        _ => {}
    }
    let rateable = a
        .cases
        .iter()
        .any(|c| c.state.ended() && c.rating.is_none());
    if rateable {
        let form = Form::new(
            &ctx,
            &format!("/me/applications/{}/rating", a.id),
            ctx.pick("提交评价", "Send the rating"),
            vec![
                Field::of(
                    "score",
                    ctx.pick("您对本次服务满意吗？", "How satisfied are you?"),
                    FieldKind::Select(vec![
                        ("5".into(), ctx.pick("非常满意", "Very satisfied").into()),
                        ("4".into(), ctx.pick("满意", "Satisfied").into()),
                        ("3".into(), ctx.pick("基本满意", "Fairly satisfied").into()),
                        ("2".into(), ctx.pick("不满意", "Dissatisfied").into()),
                        (
                            "1".into(),
                            ctx.pick("非常不满意", "Very dissatisfied").into(),
                        ),
                    ]),
                ),
                Field::of(
                    "comment",
                    ctx.pick("意见建议（可不填）", "Comments (optional)"),
                    FieldKind::TextArea,
                ),
            ],
        );
        body.push_str(&format!(
            "<h2>{}</h2>{}",
            esc(ctx.pick("好差评", "Rate this service")),
            form.html()
        ));
    }
    if let Some(c) = a.cases.iter().find(|c| c.result_credential_id.is_some()) {
        body.push_str(&format!(
            "<p class=\"notice\">{} <a href=\"/me/wallet\">{}</a></p>",
            esc(&format!(
                "{}「{}」",
                ctx.pick("办结结果已放入证照夹：", "The result is in your wallet:"),
                c.item_name
            )),
            esc(ctx.pick("查看我的证照", "See my certificates"))
        ));
    }
    body.push_str(&timeline_html(&ctx, &a));
    Ok(ctx.render(&a.title, &body))
}

/// The form's fields, from its schema, with the current values and pre-fill hints.
fn schema_fields(ctx: &PageContext, a: &Application) -> Vec<Field> {
    let props = a.schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let required: Vec<&str> = a.schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    props
        .iter()
        .map(|(name, spec)| {
            let mut label = spec["title"].as_str().unwrap_or(name).to_string();
            if !required.contains(&name.as_str()) {
                label.push_str(ctx.pick("（可不填）", " (optional)"));
            }
            let kind = match (
                spec["type"].as_str(),
                spec.get("enum"),
                spec["format"].as_str(),
            ) {
                (_, Some(Value::Array(options)), _) => {
                    let mut choices =
                        vec![(String::new(), ctx.pick("请选择", "Choose").to_string())];
                    choices.extend(options.iter().map(|o| (value_text(o), value_text(o))));
                    FieldKind::Select(choices)
                }
                (Some("boolean"), _, _) => FieldKind::Checkbox,
                (_, _, Some("date")) => FieldKind::Date,
                _ => FieldKind::Text,
            };
            let mut field = Field::of(name, &label, kind);
            let value = match &a.form[name] {
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                other => value_text(other),
            };
            field = field.value(&value);
            let mut hints = Vec::new();
            if let Some(d) = spec["description"].as_str() {
                hints.push(d.to_string());
            }
            if let Some(from) = a.prefilled.get(name) {
                hints.push(format!(
                    "{}{from}",
                    ctx.pick("已自动填写，来自：", "Filled in from: ")
                ));
            }
            if !hints.is_empty() {
                field = field.hint(&hints.join(" "));
            }
            field
        })
        .collect()
}

fn application_form(ctx: &PageContext, a: &Application) -> Form {
    Form::new(
        ctx,
        &format!("/me/applications/{}/form", a.id),
        ctx.pick("保存", "Save"),
        schema_fields(ctx, a),
    )
}

async fn form_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let a = service::application(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!(
        "{}：{}",
        ctx.pick("填写申请表", "Fill in the form"),
        a.title
    );
    Ok(kernel::widgets::form_page(
        &ctx,
        StatusCode::OK,
        &title,
        &application_form(&ctx, &a),
    ))
}

/// Turns posted strings into the schema's types; a wrong one is named.
fn typed_values(
    schema: &Value,
    pairs: &[(String, String)],
) -> Result<Map<String, Value>, ApiError> {
    let props = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut values = Map::new();
    let mut errors = Vec::new();
    for (name, spec) in &props {
        let raw = form_value(pairs, name).trim();
        let value = match spec["type"].as_str() {
            Some("boolean") => Value::Bool(raw == "true"),
            _ if raw.is_empty() => Value::Null,
            Some("integer") => match raw.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.push(kernel::error::FieldError {
                        field: name.clone(),
                        detail: format!(
                            "{}: enter a whole number",
                            spec["title"].as_str().unwrap_or(name)
                        ),
                    });
                    continue;
                }
            },
            Some("number") => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => Value::from(n),
                _ => {
                    errors.push(kernel::error::FieldError {
                        field: name.clone(),
                        detail: format!(
                            "{}: enter a number",
                            spec["title"].as_str().unwrap_or(name)
                        ),
                    });
                    continue;
                }
            },
            _ => Value::String(raw.to_string()),
        };
        values.insert(name.clone(), value);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::InvalidFields(errors))
    }
}

async fn save_form(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let a = service::application(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let result = match typed_values(&a.schema, &pairs) {
        Ok(values) => service::update_form(&state, user, &id, FormUpdate { values }).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/me/applications/{id}")).into_response()),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
        {
            let title = format!(
                "{}：{}",
                ctx.pick("填写申请表", "Fill in the form"),
                a.title
            );
            let form = application_form(&ctx, &a).fill(&pairs).with_error(&error);
            Ok(kernel::widgets::form_page(
                &ctx,
                error.status(),
                &title,
                &form,
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

fn upload_form_html(
    ctx: &PageContext,
    a: &Application,
    m: &AttachedMaterial,
    error: Option<&ApiError>,
) -> String {
    let mut html = String::new();
    if let Some(e) = error {
        html.push_str(&error_summary(
            ctx,
            &[("#field-file".to_string(), e.public_detail())],
        ));
    }
    html.push_str(&format!(
        "<p>{}</p><form method=\"post\" action=\"/me/applications/{}/materials/{}\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <div class=\"field{}\"><label for=\"field-file\">{}</label><span class=\"hint\" id=\"hint-file\">{}</span>{}\
         <input type=\"file\" id=\"field-file\" name=\"file\" accept=\"application/pdf,image/jpeg,image/png\" aria-describedby=\"hint-file\"></div>\
         <button type=\"submit\" class=\"button\">{}</button></form>",
        esc(&material_words(ctx, m)),
        esc(&a.id),
        esc(&m.key),
        esc(&ctx.csrf),
        if error.is_some() { " field-error" } else { "" },
        esc(&m.name),
        esc(ctx.pick("PDF、JPG 或 PNG 文件", "A PDF, JPG or PNG file")),
        error
            .map(|e| format!("<span class=\"error-message\">{}</span>", esc(&e.public_detail())))
            .unwrap_or_default(),
        esc(ctx.pick("上传", "Upload"))
    ));
    html
}

async fn upload_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, key)): Path<(String, String)>,
) -> PageResult {
    let user = ctx.user()?;
    let a = service::application(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let m = a
        .materials
        .iter()
        .find(|m| m.key == key)
        .ok_or_else(|| ctx.error(ApiError::NotFound("no such material".into())))?;
    let title = format!("{}：{}", ctx.pick("上传材料", "Upload"), m.name);
    let body = format!(
        "<h1>{}</h1>{}",
        esc(&title),
        upload_form_html(&ctx, &a, m, None)
    );
    Ok(ctx.render(&title, &body))
}

async fn upload(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, key)): Path<(String, String)>,
    mut multipart: Multipart,
) -> PageResult {
    let user = ctx.user()?;
    let max = state.config.max_upload_bytes as usize;
    let mut csrf = String::new();
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    let mut error: Option<ApiError> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("file") => {
                    let name = field.file_name().unwrap_or("upload").to_string();
                    let claimed = field.content_type().map(str::to_string);
                    let mut bytes = Vec::new();
                    loop {
                        match field.chunk().await {
                            Ok(Some(chunk)) => {
                                if bytes.len() + chunk.len() > max {
                                    error = Some(ApiError::PayloadTooLarge(format!(
                                        "the file is larger than {max} bytes"
                                    )));
                                    break;
                                }
                                bytes.extend_from_slice(&chunk);
                            }
                            Ok(None) => break,
                            Err(_) => {
                                error = Some(ApiError::bad_request("the upload was interrupted"));
                                break;
                            }
                        }
                    }
                    file = Some((name, claimed, bytes));
                    if error.is_some() {
                        break;
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                error = Some(ApiError::bad_request("the form could not be read"));
                break;
            }
        }
    }
    ctx.check_csrf(&csrf)?;
    let result = match (error, file) {
        (Some(e), _) => Err(e),
        (None, None) => Err(ApiError::invalid("file", "choose a file to upload")),
        (None, Some((_, _, bytes))) if bytes.is_empty() => {
            Err(ApiError::invalid("file", "choose a file to upload"))
        }
        (None, Some((name, claimed, bytes))) => {
            service::upload(&state, user, &id, &key, &name, claimed.as_deref(), &bytes).await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/me/applications/{id}")).into_response()),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND =>
        {
            let a = service::application(&state, user, &id)
                .await
                .map_err(|e| ctx.error(e))?;
            let m = a
                .materials
                .iter()
                .find(|m| m.key == key)
                .ok_or_else(|| ctx.error(ApiError::NotFound("no such material".into())))?;
            let title = format!("{}：{}", ctx.pick("上传材料", "Upload"), m.name);
            let body = format!(
                "<h1>{}</h1>{}",
                esc(&title),
                upload_form_html(&ctx, &a, m, Some(&error))
            );
            Ok(ctx.render_status(error.status(), &title, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn submit(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    match service::hand_in(&state, user, &id).await {
        Ok(_) => Ok(Redirect::to(&format!("/me/applications/{id}")).into_response()),
        Err(error @ ApiError::InvalidFields(_)) => {
            // Say what is still missing, each linked to where it is put right.
            let title = ctx.pick("还不能提交", "Not ready to submit");
            let items: Vec<(String, String)> = error
                .field_errors()
                .into_iter()
                .map(|e| {
                    let href = match e.field.strip_prefix("materials.") {
                        Some(key) => format!("/me/applications/{id}/materials/{key}"),
                        None => format!("/me/applications/{id}/form#field-{}", e.field),
                    };
                    (href, e.detail)
                })
                .collect();
            let body = format!(
                "{}<h1>{}</h1><p><a href=\"/me/applications/{}\">{}</a></p>",
                error_summary(&ctx, &items),
                esc(title),
                esc(&id),
                esc(ctx.pick("返回办理清单", "Back to the task list"))
            );
            Ok(ctx.render_status(StatusCode::BAD_REQUEST, title, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn rate(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let score = form_value(&pairs, "score")
        .parse::<i64>()
        .map_err(|_| ctx.error(ApiError::invalid("score", "choose how satisfied you are")))?;
    let comment = form_value(&pairs, "comment").trim();
    service::rate(
        &state,
        user,
        &id,
        NewRating {
            case_id: None,
            score,
            comment: (!comment.is_empty()).then(|| comment.to_string()),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/me/applications/{id}")).into_response())
}

async fn file(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let file = service::download(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    crate::api::file_response(file).map_err(|e| ctx.error(e))
}

// ---- departments ----

#[derive(serde::Deserialize, Default)]
struct QueuePageQuery {
    view: Option<String>,
}

async fn queue_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<QueuePageQuery>,
) -> PageResult {
    let user = ctx.user()?;
    let view = q.view.unwrap_or_else(|| "open".into());
    let entries = service::queue(
        &state,
        user,
        &QueueQuery {
            view: Some(view.clone()),
            organisation_id: None,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("办件受理", "Case work");
    let mut body = format!(
        "<h1>{}</h1><nav class=\"tabs\" aria-label=\"{}\"><ul class=\"inline-list\">",
        esc(title),
        esc(ctx.pick("办件分类", "Views"))
    );
    for (key, zh, en) in [
        ("open", "待办", "To do"),
        ("escalated", "超期督办", "Overdue"),
        ("ended", "已办结", "Ended"),
    ] {
        body.push_str(&format!(
            "<li><a href=\"/cases?view={key}\"{}>{}</a></li>",
            if view == key {
                " aria-current=\"page\""
            } else {
                ""
            },
            esc(ctx.pick(zh, en))
        ));
    }
    body.push_str("</ul></nav>");
    let rows = entries
        .iter()
        .map(|e| {
            let c = &e.case;
            vec![
                Cell::link(c.number.clone(), format!("/cases/{}", c.id)),
                Cell::from(c.item_name.clone()),
                Cell::from(e.applicant.clone()),
                Cell::from(case_state_words(&ctx, c)),
                Cell::from(c.due_on.clone()),
                Cell::from(urgency_words(&ctx, c)),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("办件", "Cases").into(),
            headers: vec![
                ctx.pick("编号", "Number").into(),
                ctx.pick("事项", "Service").into(),
                ctx.pick("申请人", "Applicant").into(),
                ctx.pick("状态", "Status").into(),
                ctx.pick("办结期限", "Due").into(),
                ctx.pick("时限", "Clock").into(),
            ],
            rows,
            empty: ctx.pick("没有办件。", "No cases.").into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

fn action_form(ctx: &PageContext, c: &Case) -> Form {
    let mut actions = vec![(
        "complete".to_string(),
        format!("{}{}", ctx.pick("完成：", "Complete: "), c.step.zh()),
    )];
    if matches!(c.step, StepKind::Accept | StepKind::Review) {
        actions.push((
            "supplement".into(),
            ctx.pick(
                "要求补正材料（暂停计时）",
                "Ask for supplementary materials (pauses the clock)",
            )
            .into(),
        ));
    }
    actions.push(("reject".into(), ctx.pick("不予办理", "Reject").into()));
    Form::new(
        ctx,
        &format!(
            "/cases/{}/act?step={}&version={}",
            c.id, c.step_index, c.version
        ),
        ctx.pick("确定", "Confirm"),
        vec![
            Field::of(
                "action",
                ctx.pick("处理", "Action"),
                FieldKind::Select(actions),
            ),
            Field::of(
                "note",
                ctx.pick(
                    "意见（补正内容或不予办理理由必填）",
                    "Remarks (required to ask for more or to reject)",
                ),
                FieldKind::TextArea,
            ),
        ],
    )
}

async fn case_body(
    state: &AppState,
    ctx: &PageContext,
    user: &Principal,
    id: &str,
    form: Option<Form>,
) -> Result<(String, String), Response> {
    let (c, a) = service::case(state, user, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!("{} {}", c.number, c.item_name);
    let mut body = format!("<h1>{}</h1>", esc(&title));
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("状态", "Status").into(), case_state_words(ctx, &c)),
                (
                    ctx.pick("受理日期", "Submitted").into(),
                    c.submitted_on.clone(),
                ),
                (ctx.pick("办结期限", "Due").into(), c.due_on.clone()),
                (ctx.pick("时限", "Clock").into(), urgency_words(ctx, &c)),
                (
                    ctx.pick("法定 / 承诺时限", "Statutory / committed").into(),
                    format!(
                        "{} / {}",
                        days_words(ctx, c.statutory_days),
                        days_words(ctx, c.committed_days)
                    ),
                ),
            ],
        }
        .html(),
    );
    body.push_str(&format!("<h2>{}</h2>", esc(ctx.pick("申请表", "The form"))));
    body.push_str(&form_summary(&a));
    let rows = a
        .materials
        .iter()
        .map(|m| {
            let link = match (m.source.as_str(), &m.reference) {
                ("upload", Some(r)) => {
                    Cell::link(ctx.pick("下载", "Download"), format!("/files/{r}"))
                }
                (_, Some(r)) => Cell::from(r.clone()),
                _ => Cell::from("—"),
            };
            vec![
                Cell::from(m.name.clone()),
                Cell::from(material_words(ctx, m)),
                Cell::from(match &m.values {
                    Value::Object(o) if m.source != "upload" => o
                        .iter()
                        .filter(|(k, _)| k.as_str() != "id")
                        .map(|(k, v)| format!("{k}: {}", value_text(v)))
                        .collect::<Vec<_>>()
                        .join("；"),
                    _ => String::new(),
                }),
                link,
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("材料", "Materials").into(),
            headers: vec![
                ctx.pick("材料", "Material").into(),
                ctx.pick("来源", "Source").into(),
                ctx.pick("内容", "Content").into(),
                ctx.pick("凭据", "Reference").into(),
            ],
            rows,
            empty: String::new(),
        }
        .html(),
    );
    if c.state == CaseState::InProgress {
        let form = form.unwrap_or_else(|| action_form(ctx, &c));
        body.push_str(&format!(
            "<h2>{}</h2>{}",
            esc(ctx.pick("办理", "Act")),
            form.html()
        ));
    }
    body.push_str(&timeline_html(ctx, &a));
    Ok((title, body))
}

async fn case_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let (title, body) = case_body(&state, &ctx, user, &id, None).await?;
    Ok(ctx.render(&title, &body))
}

#[derive(serde::Deserialize)]
struct ActQuery {
    step: i64,
    version: i64,
}

async fn act(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    Query(q): Query<ActQuery>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let note = form_value(&pairs, "note").trim();
    let result = service::act(
        &state,
        user,
        &id,
        CaseAction {
            action: form_value(&pairs, "action").to_string(),
            step: q.step,
            version: q.version,
            note: (!note.is_empty()).then(|| note.to_string()),
        },
    )
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(error @ ApiError::Invalid { .. }) => {
            let (c, _) = service::case(&state, user, &id)
                .await
                .map_err(|e| ctx.error(e))?;
            let form = action_form(&ctx, &c).fill(&pairs).with_error(&error);
            let (title, body) = case_body(&state, &ctx, user, &id, Some(form)).await?;
            Ok(ctx.render_status(StatusCode::BAD_REQUEST, &title, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

// ---- statistics and calendar ----

/// A horizontal bar chart as inline SVG: one bar per (label, value in 0–max). Written by
/// hand: a few rectangles and labels, where a plotting crate would bring a font stack.
pub fn bar_chart(title: &str, bars: &[(String, f64)], max: f64, unit: &str) -> String {
    let row = 28.0;
    let label_w = 220.0;
    let bar_w = 360.0;
    let height = row * bars.len() as f64 + 10.0;
    let mut svg = format!(
        "<figure class=\"chart\"><svg role=\"img\" aria-labelledby=\"t-{id}\" viewBox=\"0 0 {w} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"t-{id}\">{t}</title>",
        id = esc(&title
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()),
        w = label_w + bar_w + 80.0,
        t = esc(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = i as f64 * row + 5.0;
        let w = if max > 0.0 {
            (value / max).clamp(0.0, 1.0) * bar_w
        } else {
            0.0
        };
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"14\" fill=\"currentColor\">{l}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"#1d70b8\"></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"14\" fill=\"currentColor\">{v}{u}</text>",
            lx = label_w - 8.0,
            ty = y + 16.0,
            l = esc(&label.chars().take(16).collect::<String>()),
            bx = label_w,
            h = row - 8.0,
            vx = label_w + w + 6.0,
            v = if unit == "%" { format!("{:.0}", value * 100.0) } else { format!("{value:.1}") },
            u = esc(unit)
        ));
    }
    svg.push_str(&format!(
        "</svg><figcaption>{}</figcaption></figure>",
        esc(title)
    ));
    svg
}

async fn statistics_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let s = service::statistics(&state)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("办件统计与好差评", "Figures and ratings");
    let t = &s.total;
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(
        &Summary {
            rows: vec![
                (
                    ctx.pick("办件数", "Cases").into(),
                    t.applications.to_string(),
                ),
                (
                    ctx.pick("按时办结率", "Ended on time").into(),
                    percent(t.on_time_rate),
                ),
                (
                    ctx.pick("平均办理 / 法定时限", "Average days / statutory")
                        .into(),
                    format!(
                        "{} / {}",
                        t.average_days
                            .map(|d| format!("{d:.1}"))
                            .unwrap_or_else(|| "—".into()),
                        t.statutory_days
                            .map(|d| format!("{d:.1}"))
                            .unwrap_or_else(|| "—".into())
                    ),
                ),
                (
                    ctx.pick("免交材料占比", "Materials without upload").into(),
                    percent(t.materials_without_upload),
                ),
                (
                    ctx.pick("满意度（5 分制）", "Satisfaction (of 5)").into(),
                    t.satisfaction
                        .map(|x| format!("{x:.2}"))
                        .unwrap_or_else(|| "—".into()),
                ),
            ],
        }
        .html(),
    );
    let with_cases: Vec<&Figures> = s.items.iter().filter(|f| f.applications > 0).collect();
    let days: Vec<(String, f64)> = with_cases
        .iter()
        .filter_map(|f| f.average_days.map(|d| (f.name.clone(), d)))
        .collect();
    let max_days = with_cases
        .iter()
        .filter_map(|f| f.statutory_days)
        .fold(1.0_f64, f64::max);
    if !days.is_empty() {
        body.push_str(&bar_chart(
            ctx.pick(
                "平均办理工作日（按事项）",
                "Average working days per service",
            ),
            &days,
            max_days,
            "",
        ));
    }
    let dept_rate: Vec<(String, f64)> = s
        .departments
        .iter()
        .filter_map(|f| f.materials_without_upload.map(|r| (f.name.clone(), r)))
        .collect();
    if !dept_rate.is_empty() {
        body.push_str(&bar_chart(
            ctx.pick(
                "免交材料占比（按部门）",
                "Materials without upload per department",
            ),
            &dept_rate,
            1.0,
            "%",
        ));
    }
    let table = |caption: &str, rows: &[Figures]| {
        Table {
            caption: caption.into(),
            headers: vec![
                ctx.pick("名称", "Name").into(),
                ctx.pick("办件", "Cases").into(),
                ctx.pick("按时率", "On time").into(),
                ctx.pick("平均/法定工作日", "Days / statutory").into(),
                ctx.pick("免交材料", "No upload").into(),
                ctx.pick("满意度", "Satisfaction").into(),
                ctx.pick("超期在办", "Overdue open").into(),
            ],
            rows: rows
                .iter()
                .map(|f| {
                    vec![
                        Cell::from(f.name.clone()),
                        Cell::from(f.applications.to_string()),
                        Cell::from(percent(f.on_time_rate)),
                        Cell::from(format!(
                            "{} / {}",
                            f.average_days
                                .map(|d| format!("{d:.1}"))
                                .unwrap_or_else(|| "—".into()),
                            f.statutory_days
                                .map(|d| format!("{d:.0}"))
                                .unwrap_or_else(|| "—".into())
                        )),
                        Cell::from(percent(f.materials_without_upload)),
                        Cell::from(
                            f.satisfaction
                                .map(|x| format!("{x:.1}（{}）", f.ratings))
                                .unwrap_or_else(|| "—".into()),
                        ),
                        Cell::from(f.overdue.to_string()),
                    ]
                })
                .collect(),
            empty: "—".into(),
        }
        .html()
    };
    body.push_str(&table(ctx.pick("按部门", "By department"), &s.departments));
    body.push_str(&table(ctx.pick("按事项", "By service"), &s.items));
    Ok(ctx.render(title, &body))
}

fn calendar_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/services/calendar",
        ctx.pick("保存", "Save"),
        vec![
            Field::of("day", ctx.pick("日期", "Date"), FieldKind::Date),
            Field::text(
                "name",
                ctx.pick("名称（如：春节）", "Name (e.g. Spring Festival)"),
            ),
            Field::of(
                "working",
                ctx.pick(
                    "调休上班日（不勾选则为放假）",
                    "A make-up working day (unticked: a holiday)",
                ),
                FieldKind::Checkbox,
            ),
        ],
    )
}

async fn calendar_body(
    state: &AppState,
    ctx: &PageContext,
    form: Form,
) -> Result<String, Response> {
    let user = ctx.user()?;
    let days = service::calendar(state, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let admin = user.is_platform_admin();
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        esc(ctx.pick("节假日安排", "Holiday calendar")),
        esc(ctx.pick(
            "办理时限按工作日计算：周一至周五上班，以下日期除外。",
            "Time limits count working days: Monday to Friday, except the days below."
        ))
    );
    let rows = days
        .iter()
        .map(|d| {
            let mut row = vec![
                Cell::from(d.day.clone()),
                Cell::from(d.name.clone()),
                Cell::from(if d.working {
                    ctx.pick("上班", "Working")
                } else {
                    ctx.pick("放假", "Holiday")
                }),
            ];
            if admin {
                row.push(Cell::from(post_button(
                    ctx,
                    &format!("/services/calendar/{}/delete", d.day),
                    ctx.pick("删除", "Remove"),
                    true,
                )));
            }
            row
        })
        .collect();
    if admin {
        body.push_str(&kernel::widgets::action_table(
            ctx.pick("今年的节假日", "This year"),
            &[
                ctx.pick("日期", "Date"),
                ctx.pick("名称", "Name"),
                ctx.pick("安排", "Kind"),
                ctx.pick("操作", "Action"),
            ],
            rows,
            ctx.pick("今年还没有安排。", "Nothing this year yet."),
        ));
        body.push_str(&format!(
            "<h2>{}</h2>{}",
            esc(ctx.pick("添加或修改一天", "Add or change a day")),
            form.html()
        ));
    } else {
        body.push_str(
            &Table {
                caption: ctx.pick("今年的节假日", "This year").into(),
                headers: vec![
                    ctx.pick("日期", "Date").into(),
                    ctx.pick("名称", "Name").into(),
                    ctx.pick("安排", "Kind").into(),
                ],
                rows,
                empty: ctx
                    .pick("今年还没有安排。", "Nothing this year yet.")
                    .into(),
            }
            .html(),
        );
    }
    Ok(body)
}

async fn calendar_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let body = calendar_body(&state, &ctx, calendar_form(&ctx)).await?;
    Ok(ctx.render(ctx.pick("节假日安排", "Holiday calendar"), &body))
}

async fn set_day(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let result = service::set_day(
        &state,
        user,
        form_value(&pairs, "day"),
        CalendarEntry {
            name: form_value(&pairs, "name").into(),
            working: form_value(&pairs, "working") == "true",
        },
    )
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/services/calendar").into_response()),
        Err(error) if matches!(error, ApiError::Invalid { .. }) => {
            let form = calendar_form(&ctx).fill(&pairs).with_error(&error);
            let body = calendar_body(&state, &ctx, form).await?;
            Ok(ctx.render_status(
                StatusCode::BAD_REQUEST,
                ctx.pick("节假日安排", "Holiday calendar"),
                &body,
            ))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn delete_day(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(day): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    service::delete_day(&state, user, &day)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/services/calendar").into_response())
}

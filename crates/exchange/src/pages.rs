//! The exchange's pages: the catalogue (anyone), a resource with its fields, filing a
//! request, importing records, the data officer's requests, agreements, traffic and keys,
//! and a resident's consents.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use kernel::api::PageQuery;
use kernel::auth::{Principal, Role};
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, action_table, askama_escape as esc, form_page,
    form_pairs, form_value, form_values, pager, post_button,
};
use kernel::{ApiError, AppState};
use serde::Deserialize;

use crate::model::*;
use crate::service;

/// The exchange's page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/exchange", get(catalogue))
        .route("/exchange/publish", get(publish_page).post(publish))
        .route(
            "/exchange/resources/{code}",
            get(resource_page).post(file_request),
        )
        .route("/exchange/requests", get(requests_page))
        .route("/exchange/requests/{id}/decision", post(decide))
        .route("/exchange/agreements", get(agreements_page))
        .route("/exchange/resources/{code}/import", post(import))
        .route("/exchange/resources/{code}/consent", post(consent))
        .route("/exchange/traffic", get(traffic_page))
        .route("/exchange/keys/rotate", post(rotate_key))
        .route("/me/consents", get(consents_page))
        .route("/me/consents/{id}/revoke", post(revoke_consent))
}

fn is_officer(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.has_role(Role::OrgAdmin) || p.has_role(Role::Reviewer))
}

/// The exchange's navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/exchange",
            zh: "数据目录",
            en: "Data catalogue",
            visible: |p| p.is_none_or(|p| p.person_id.is_none()),
        },
        NavItem {
            href: "/exchange/requests",
            zh: "共享申请",
            en: "Sharing requests",
            visible: is_officer,
        },
        NavItem {
            href: "/exchange/agreements",
            zh: "共享协议",
            en: "Agreements",
            visible: is_officer,
        },
        NavItem {
            href: "/exchange/traffic",
            zh: "调用统计",
            en: "Traffic",
            visible: is_officer,
        },
        NavItem {
            href: "/me/consents",
            zh: "我的授权同意",
            en: "My consents",
            visible: |p| p.is_some_and(|p| p.subject_person_id().is_some()),
        },
    ]
}

fn label<T: Copy>(ctx: &PageContext, value: T, f: fn(T) -> (&'static str, &'static str)) -> String {
    let (zh, en) = f(value);
    ctx.pick(zh, en).to_string()
}

#[derive(Deserialize)]
struct CatalogueQuery {
    q: Option<String>,
    cursor: Option<String>,
}

async fn catalogue(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<CatalogueQuery>,
) -> PageResult {
    let page = PageQuery {
        cursor: q.cursor.clone(),
        limit: Some(50),
    };
    let found = service::search(&state, q.q.as_deref(), &page)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("数据资源目录", "Data resource catalogue");
    let rows = found
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::link(r.name.clone(), format!("/exchange/resources/{}", r.code)),
                Cell::from(r.provider_name.clone()),
                Cell::from(label(&ctx, r.sharing_class, SharingClass::label)),
                Cell::from(label(&ctx, r.update_frequency, UpdateFrequency::label)),
            ]
        })
        .collect();
    let mut body = format!(
        "<h1>{}</h1><p>{}</p><form method=\"get\" action=\"/exchange\" class=\"field\"><label for=\"search-q\">{}</label><input type=\"search\" id=\"search-q\" name=\"q\" value=\"{}\"> <button type=\"submit\" class=\"button secondary\">{}</button></form>",
        esc(title),
        ctx.pick(
            "各部门发布的可共享数据资源。机器可读版本：",
            "Data resources published by departments. Machine-readable: "
        )
        .to_string()
            + "<a href=\"/api/v1/exchange/dcat\">DCAT (JSON-LD)</a>",
        ctx.pick("查找数据资源", "Search resources"),
        esc(q.q.as_deref().unwrap_or("")),
        ctx.pick("查找", "Search"),
    );
    if is_officer(ctx.user.as_ref()) {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/exchange/publish\">{}</a></p>",
            ctx.pick("发布数据资源", "Publish a resource")
        ));
    }
    body.push_str(
        &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("名称", "Name").into(),
                ctx.pick("提供部门", "Provider").into(),
                ctx.pick("共享类型", "Sharing").into(),
                ctx.pick("更新频率", "Updated").into(),
            ],
            rows,
            empty: ctx.pick("没有找到数据资源。", "No resources found.").into(),
        }
        .html(),
    );
    let base = format!(
        "/exchange?q={}",
        kernel::pages::urlencode(q.q.as_deref().unwrap_or(""))
    );
    body.push_str(&pager(&ctx, &base, found.next_cursor.as_deref()));
    Ok(ctx.render(title, &body))
}

fn request_form(ctx: &PageContext, resource: &Resource) -> Form {
    let options = resource
        .fields
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                format!(
                    "{}（{}）",
                    f.title,
                    label(ctx, f.sensitivity, Sensitivity::label)
                ),
            )
        })
        .collect();
    Form::new(
        ctx,
        &format!("/exchange/resources/{}", resource.code),
        ctx.pick("提交申请", "Submit the request"),
        vec![
            Field::of(
                "fields",
                ctx.pick("需要的字段", "Fields needed"),
                FieldKind::Checkboxes(options),
            )
            .hint(ctx.pick(
                "只选办事必需的字段",
                "Choose only the fields the work needs",
            )),
            Field::text("purpose", ctx.pick("用途", "Purpose")),
            Field::text("legal_basis", ctx.pick("法律依据", "Legal basis")).hint(ctx.pick(
                "例如：《社会救助暂行办法》第十一条",
                "For example: the statute and article that give the duty",
            )),
            Field::of(
                "statutory",
                ctx.pick(
                    "依法履职，无需个人同意",
                    "A statutory duty: no personal consent needed",
                ),
                FieldKind::Checkbox,
            ),
            Field::text(
                "expected_calls_per_day",
                ctx.pick("预计每日调用次数", "Expected calls per day"),
            )
            .value("100"),
        ],
    )
}

/// The extra forms a resource page may show: the request form (officers of other
/// organisations), the import form (the provider's officers), the consent form (residents).
#[derive(Default)]
struct ResourceForms {
    request: Option<Form>,
    import: Option<Form>,
    consent: Option<Form>,
    notice: Option<String>,
    records: Option<i64>,
}

async fn resource_forms(state: &AppState, ctx: &PageContext, resource: &Resource) -> ResourceForms {
    let user = ctx.user.as_ref();
    let shared = resource.sharing_class != SharingClass::NotShared;
    let provider_officer =
        user.is_some_and(|u| service::officer_of(u, Some(&resource.provider_org_id)).is_ok());
    let hosted = resource.serving == Serving::Hosted;
    let resident =
        user.is_some_and(|u| u.subject_person_id().is_some() && u.staff_organisations().is_empty());
    ResourceForms {
        request: (is_officer(user) && shared).then(|| request_form(ctx, resource)),
        import: (provider_officer && hosted).then(|| import_form(ctx, resource)),
        consent: if resident && shared && resource.subject_kind == SubjectKind::Person {
            let consumers = service::consumers_of(state, &resource.id)
                .await
                .unwrap_or_default();
            Some(consent_form(ctx, resource, consumers))
        } else {
            None
        },
        notice: None,
        records: if hosted && provider_officer {
            service::record_count(state, &resource.id).await.ok()
        } else {
            None
        },
    }
}

fn import_form(ctx: &PageContext, resource: &Resource) -> Form {
    let columns = std::iter::once("subject".to_string())
        .chain(resource.fields.iter().map(|f| f.name.clone()))
        .collect::<Vec<_>>()
        .join(",");
    Form::new(
        ctx,
        &format!("/exchange/resources/{}/import", resource.code),
        ctx.pick("导入记录", "Import the records"),
        vec![
            Field::of(
                "format",
                ctx.pick("格式", "Format"),
                FieldKind::Select(vec![
                    ("csv".into(), "CSV".into()),
                    ("jsonl".into(), ctx.pick("JSON 行（每行一个对象）", "JSON lines (one object per line)").into()),
                ]),
            )
            .value("csv"),
            Field::of("records", ctx.pick("记录", "Records"), FieldKind::TextArea).hint(&format!(
                "{} {}",
                ctx.pick(
                    "CSV 第一行为列名，subject 列填身份证号或统一社会信用代码。列：",
                    "CSV's first line names the columns; the subject column holds the resident ID or credit code. Columns:"
                ),
                columns
            )),
        ],
    )
}

fn consent_form(ctx: &PageContext, resource: &Resource, consumers: Vec<(String, String)>) -> Form {
    let fields = resource
        .fields
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                format!(
                    "{}（{}）",
                    f.title,
                    label(ctx, f.sensitivity, Sensitivity::label)
                ),
            )
        })
        .collect();
    let default_until = kernel::time::Timestamp::now()
        .plus_minutes(90 * 24 * 60)
        .rfc3339()
        .chars()
        .take(10)
        .collect::<String>();
    Form::new(
        ctx,
        &format!("/exchange/resources/{}/consent", resource.code),
        ctx.pick("同意", "Give consent"),
        vec![
            Field::of(
                "consumer_org_id",
                ctx.pick("同意哪个单位使用", "Which organisation may use it"),
                FieldKind::Select(consumers),
            )
            .hint(ctx.pick(
                "只列出已与提供部门签订共享协议的单位",
                "Only organisations with a sharing agreement for this data are listed",
            )),
            Field::of(
                "fields",
                ctx.pick("可以使用的信息", "What it may see"),
                FieldKind::Checkboxes(fields),
            ),
            Field::text("purpose", ctx.pick("用途", "Purpose")).hint(ctx.pick(
                "例如：办理不动产登记时核验婚姻状况",
                "For example: to check marital status for a property registration",
            )),
            Field::of(
                "fetch_type",
                ctx.pick("使用次数", "How often"),
                FieldKind::Select(vec![
                    ("once".into(), ctx.pick("仅一次", "Once only").into()),
                    (
                        "periodic".into(),
                        ctx.pick("有效期内多次", "Repeatedly until it ends").into(),
                    ),
                ]),
            )
            .value("once"),
            Field::text(
                "max_fetches_per_day",
                ctx.pick(
                    "每天最多次数（多次时）",
                    "At most this many times a day (repeated)",
                ),
            )
            .value("5"),
            Field::of(
                "valid_until",
                ctx.pick("有效期至", "Valid until"),
                FieldKind::Date,
            )
            .value(&default_until),
        ],
    )
}

async fn resource_body(ctx: &PageContext, resource: &Resource, forms: &ResourceForms) -> String {
    let form = forms.request.as_ref();
    let mut body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(&resource.name),
        esc(&resource.description)
    );
    let mut rows = vec![
        (
            ctx.pick("提供部门", "Provider").to_string(),
            resource.provider_name.clone(),
        ),
        (
            ctx.pick("共享类型", "Sharing").to_string(),
            label(ctx, resource.sharing_class, SharingClass::label),
        ),
        (
            ctx.pick("更新频率", "Updated").to_string(),
            label(ctx, resource.update_frequency, UpdateFrequency::label),
        ),
        (
            ctx.pick("提供方式", "Served").to_string(),
            label(ctx, resource.serving, Serving::label),
        ),
        (
            ctx.pick("数据主体", "Records keyed by").to_string(),
            label(ctx, resource.subject_kind, SubjectKind::label),
        ),
        (
            ctx.pick("资源代码", "Code").to_string(),
            resource.code.clone(),
        ),
    ];
    if let Some(reason) = &resource.legal_reason {
        rows.push((
            ctx.pick("不予共享依据", "Why not shared").to_string(),
            reason.clone(),
        ));
    }
    if let Some(count) = forms.records {
        rows.push((
            ctx.pick("托管记录数", "Hosted records").to_string(),
            count.to_string(),
        ));
    }
    if let Some(notice) = &forms.notice {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            esc(notice)
        ));
    }
    body.push_str(&Summary { rows }.html());
    let fields = resource
        .fields
        .iter()
        .map(|f| {
            vec![
                Cell::from(f.title.clone()),
                Cell::from(f.name.clone()),
                Cell::from(label(ctx, f.field_type, FieldType::label)),
                Cell::from(label(ctx, f.sensitivity, Sensitivity::label)),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("字段", "Fields").into(),
            headers: vec![
                ctx.pick("名称", "Title").into(),
                ctx.pick("字段名", "Name").into(),
                ctx.pick("类型", "Type").into(),
                ctx.pick("敏感程度", "Sensitivity").into(),
            ],
            rows: fields,
            empty: String::new(),
        }
        .html(),
    );
    if let Some(form) = form {
        body.push_str(&format!(
            "<h2>{}</h2>",
            ctx.pick("申请共享", "Request access")
        ));
        body.push_str(&form.html());
    }
    if let Some(form) = &forms.import {
        body.push_str(&format!(
            "<h2>{}</h2><p>{}</p>",
            ctx.pick("导入托管记录", "Import hosted records"),
            ctx.pick(
                "同一主体的记录会被替换。任何一行有误，整批都不会写入，并指出出错的行。",
                "A subject's earlier record is replaced. If any line is wrong, nothing is written and the line is named."
            )
        ));
        body.push_str(&form.html());
    }
    if let Some(form) = &forms.consent {
        body.push_str(&format!(
            "<h2>{}</h2><p>{}</p>",
            ctx.pick("授权同意", "Give your consent"),
            ctx.pick(
                "您可以同意某个单位在有效期内获取您的这些信息，并可随时在“我的授权同意”中撤回。每次获取都会记入您的数据足迹。",
                "You can let an organisation receive this information about you until a date you choose, and withdraw at any time under My consents. Every use appears in your data footprint."
            )
        ));
        body.push_str(&form.html());
    }
    body
}

async fn resource_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
) -> PageResult {
    let resource = service::get_resource(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let forms = resource_forms(&state, &ctx, &resource).await;
    let body = resource_body(&ctx, &resource, &forms).await;
    Ok(ctx.render(&resource.name, &body))
}

async fn file_request(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let resource = service::get_resource(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let calls = form_value(&pairs, "expected_calls_per_day")
        .trim()
        .parse::<i64>();
    let result = match calls {
        Err(_) => Err(ApiError::invalid(
            "expected_calls_per_day",
            ctx.pick("请填写整数", "Enter a whole number"),
        )),
        Ok(calls) => {
            let new = NewRequest {
                resource: resource.id.clone(),
                consumer_org_id: None,
                fields: form_values(&pairs, "fields"),
                purpose: form_value(&pairs, "purpose").into(),
                legal_basis: form_value(&pairs, "legal_basis").into(),
                statutory: form_value(&pairs, "statutory") == "true",
                expected_calls_per_day: calls,
            };
            service::file_request(&state, user, new).await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to("/exchange/requests?direction=outgoing").into_response()),
        Err(error) if error.status().is_client_error() => {
            let mut forms = resource_forms(&state, &ctx, &resource).await;
            forms.request = Some(
                request_form(&ctx, &resource)
                    .fill(&pairs)
                    .with_error(&error),
            );
            let body = resource_body(&ctx, &resource, &forms).await;
            Ok(ctx.render_status(error.status(), &resource.name, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

#[derive(Deserialize)]
struct DirectionQuery {
    direction: Option<String>,
}

async fn requests_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<DirectionQuery>,
) -> PageResult {
    let user = ctx.user()?;
    let incoming = q.direction.as_deref() != Some("outgoing");
    let requests = service::list_requests(&state, user, None, incoming)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("共享申请", "Sharing requests");
    let mut body = format!(
        "<h1>{}</h1><p><a href=\"/exchange/requests\"{}>{}</a> · <a href=\"/exchange/requests?direction=outgoing\"{}>{}</a></p>",
        esc(title),
        if incoming {
            " aria-current=\"page\""
        } else {
            ""
        },
        ctx.pick("收到的申请", "Requests to us"),
        if incoming {
            ""
        } else {
            " aria-current=\"page\""
        },
        ctx.pick("我们提出的申请", "Our requests"),
    );
    if requests.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            ctx.pick("没有申请。", "No requests.")
        ));
    }
    for r in &requests {
        body.push_str(&format!(
            "<h2>{} · {}</h2>",
            esc(&r.resource_name),
            esc(&r.consumer_name)
        ));
        body.push_str(
            &Summary {
                rows: vec![
                    (
                        ctx.pick("状态", "Status").into(),
                        label(&ctx, r.status, RequestStatus::label),
                    ),
                    (ctx.pick("字段", "Fields").into(), r.fields.join(", ")),
                    (ctx.pick("用途", "Purpose").into(), r.purpose.clone()),
                    (
                        ctx.pick("法律依据", "Legal basis").into(),
                        r.legal_basis.clone(),
                    ),
                    (
                        ctx.pick("预计每日调用", "Calls per day").into(),
                        r.expected_calls_per_day.to_string(),
                    ),
                    (
                        ctx.pick("说明", "Note").into(),
                        r.decision_reason.clone().unwrap_or_else(|| "—".into()),
                    ),
                ],
            }
            .html(),
        );
        if incoming && r.status == RequestStatus::Pending {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/exchange/requests/{id}/decision\" class=\"field\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"approve\" value=\"true\"><button type=\"submit\" class=\"button\">{approve}</button></form>\
                 <form method=\"post\" action=\"/exchange/requests/{id}/decision\" class=\"field\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"approve\" value=\"false\"><label for=\"reason-{id}\">{reason}</label><input type=\"text\" id=\"reason-{id}\" name=\"reason\"> <button type=\"submit\" class=\"button warning\">{reject}</button></form>",
                id = esc(&r.id),
                csrf = esc(&ctx.csrf),
                approve = ctx.pick("批准", "Approve"),
                reason = ctx.pick("驳回理由", "Reason for rejecting"),
                reject = ctx.pick("驳回", "Reject"),
            ));
        }
    }
    Ok(ctx.render(title, &body))
}

async fn decide(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let decision = Decision {
        approve: form_value(&pairs, "approve") == "true",
        reason: Some(form_value(&pairs, "reason").to_string()),
        fields: None,
        expires_at: None,
        rate_limit_per_minute: None,
    };
    match service::decide(&state, user, &id, decision).await {
        Ok(_) => Ok(Redirect::to("/exchange/requests").into_response()),
        Err(error) => Err(ctx.error(error)),
    }
}

async fn agreements_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let agreements = service::list_agreements(&state, user, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("共享协议", "Sharing agreements");
    let now = kernel::time::Timestamp::now();
    let rows = agreements
        .iter()
        .map(|a| {
            let status = if a.revoked_at.is_some() {
                ctx.pick("已撤销", "Revoked")
            } else if a.expires_at <= now {
                ctx.pick("已过期", "Expired")
            } else {
                ctx.pick("有效", "In force")
            };
            vec![
                Cell::from(a.resource_name.clone()),
                Cell::from(a.consumer_name.clone()),
                Cell::from(a.fields.join(", ")),
                Cell::from(a.purpose.clone()),
                Cell::from(format!("{}/min", a.rate_limit_per_minute)),
                Cell::from(a.expires_at.short()),
                Cell::from(status),
            ]
        })
        .collect();
    let body = format!("<h1>{}</h1>", esc(title))
        + &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("资源", "Resource").into(),
                ctx.pick("使用部门", "Consumer").into(),
                ctx.pick("字段", "Fields").into(),
                ctx.pick("用途", "Purpose").into(),
                ctx.pick("限流", "Rate limit").into(),
                ctx.pick("有效期至", "Until").into(),
                ctx.pick("状态", "Status").into(),
            ],
            rows,
            empty: ctx.pick("还没有协议。", "No agreements yet.").into(),
        }
        .html();
    Ok(ctx.render(title, &body))
}

fn options<T: Copy>(
    ctx: &PageContext,
    all: &[T],
    wire: fn(T) -> &'static str,
    names: fn(T) -> (&'static str, &'static str),
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (wire(*v).to_string(), label(ctx, *v, names)))
        .collect()
}

fn publish_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/exchange/publish",
        ctx.pick("发布", "Publish"),
        vec![
            Field::text("code", ctx.pick("资源代码", "Code")).hint(ctx.pick("小写字母、数字和 -，例如 household-registration", "Lowercase letters, digits and -, e.g. household-registration")),
            Field::text("name", ctx.pick("名称", "Name")),
            Field::of("description", ctx.pick("说明", "Description"), FieldKind::TextArea),
            Field::of("fields", ctx.pick("字段", "Fields"), FieldKind::TextArea).hint(ctx.pick(
                "每行一个：字段名 | 名称 | 类型(string/integer/number/boolean/date) | 敏感程度(public/internal/personal/sensitive_personal)",
                "One per line: name | title | type (string/integer/number/boolean/date) | sensitivity (public/internal/personal/sensitive_personal)",
            )),
            Field::of("sharing_class", ctx.pick("共享类型", "Sharing class"), FieldKind::Select(options(ctx, SharingClass::ALL, SharingClass::as_str, SharingClass::label))),
            Field::text("legal_reason", ctx.pick("不予共享的法律依据（不予共享时必填）", "Legal reason (required when not shared)")),
            Field::of("update_frequency", ctx.pick("更新频率", "Update frequency"), FieldKind::Select(options(ctx, UpdateFrequency::ALL, UpdateFrequency::as_str, UpdateFrequency::label))),
            Field::of("serving", ctx.pick("提供方式", "Served"), FieldKind::Select(options(ctx, Serving::ALL, Serving::as_str, Serving::label))),
            Field::of("subject_kind", ctx.pick("数据主体", "Records keyed by"), FieldKind::Select(options(ctx, SubjectKind::ALL, SubjectKind::as_str, SubjectKind::label))),
            Field::text("endpoint_url", ctx.pick("接口地址（接口代理时必填）", "Endpoint URL (required when proxied)")),
            Field::text("keywords", ctx.pick("关键词（用逗号分隔）", "Keywords (comma-separated)")),
        ],
    )
}

async fn publish_page(ctx: PageContext) -> PageResult {
    ctx.user()?;
    if !is_officer(ctx.user.as_ref()) {
        return Err(ctx.error(ApiError::Forbidden(
            ctx.pick(
                "只有部门的数据管理员可以发布数据资源。",
                "Only a department's data officer publishes resources.",
            )
            .into(),
        )));
    }
    let title = ctx.pick("发布数据资源", "Publish a resource");
    Ok(form_page(&ctx, StatusCode::OK, title, &publish_form(&ctx)))
}

/// Parses `name | title | type | sensitivity` lines into field specs.
fn parse_field_lines(text: &str) -> Result<Vec<FieldSpec>, ApiError> {
    let mut fields = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let bad = |why: &str| ApiError::invalid("fields", format!("line {}: {why}", i + 1));
        if parts.len() != 4 {
            return Err(bad("write name | title | type | sensitivity"));
        }
        fields.push(FieldSpec {
            name: parts[0].to_string(),
            title: parts[1].to_string(),
            field_type: FieldType::parse(parts[2])
                .ok_or_else(|| bad("the type is string, integer, number, boolean or date"))?,
            sensitivity: Sensitivity::parse(parts[3]).ok_or_else(|| {
                bad("the sensitivity is public, internal, personal or sensitive_personal")
            })?,
        });
    }
    Ok(fields)
}

async fn publish(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let parsed = (|| -> Result<NewResource, ApiError> {
        let pick = |name: &str| form_value(&pairs, name).to_string();
        let optional = |name: &str| Some(pick(name)).filter(|v| !v.trim().is_empty());
        Ok(NewResource {
            code: pick("code"),
            name: pick("name"),
            description: pick("description"),
            provider_org_id: None,
            fields: parse_field_lines(form_value(&pairs, "fields"))?,
            sharing_class: SharingClass::parse(form_value(&pairs, "sharing_class"))
                .ok_or_else(|| ApiError::invalid("sharing_class", "choose a sharing class"))?,
            legal_reason: optional("legal_reason"),
            update_frequency: UpdateFrequency::parse(form_value(&pairs, "update_frequency"))
                .ok_or_else(|| ApiError::invalid("update_frequency", "choose a frequency"))?,
            serving: Serving::parse(form_value(&pairs, "serving"))
                .ok_or_else(|| ApiError::invalid("serving", "choose how it is served"))?,
            subject_kind: SubjectKind::parse(form_value(&pairs, "subject_kind")).ok_or_else(
                || ApiError::invalid("subject_kind", "choose what records are keyed by"),
            )?,
            endpoint_url: optional("endpoint_url"),
            keywords: form_value(&pairs, "keywords")
                .split([',', '，'])
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect(),
        })
    })();
    let result = match parsed {
        Ok(new) => service::publish(&state, user, new).await,
        Err(e) => Err(e),
    };
    let title = ctx.pick("发布数据资源", "Publish a resource");
    match result {
        Ok(resource) => {
            Ok(Redirect::to(&format!("/exchange/resources/{}", resource.code)).into_response())
        }
        Err(error) if error.status().is_client_error() => Ok(form_page(
            &ctx,
            error.status(),
            title,
            &publish_form(&ctx).fill(&pairs).with_error(&error),
        )),
        Err(error) => Err(ctx.error(error)),
    }
}

async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let resource = service::get_resource(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let format = if form_value(&pairs, "format") == "jsonl" {
        service::ImportFormat::JsonLines
    } else {
        service::ImportFormat::Csv
    };
    let result = service::import_records(
        &state,
        user,
        &resource.id,
        format,
        form_value(&pairs, "records"),
    )
    .await;
    let mut forms = resource_forms(&state, &ctx, &resource).await;
    let status = match result {
        Ok(report) => {
            forms.notice = Some(format!(
                "{} {} {}, {} {}; {} {}.",
                ctx.pick("已导入", "Imported"),
                report.records,
                ctx.pick("条记录", "records"),
                report.replaced,
                ctx.pick("条替换了原有记录", "replaced earlier ones"),
                ctx.pick("现共托管", "the resource now hosts"),
                report.total
            ));
            forms.records = Some(report.total);
            StatusCode::OK
        }
        Err(error) if error.status().is_client_error() => {
            // The records field is re-filled so the officer can fix the named line.
            forms.import = Some(import_form(&ctx, &resource).fill(&pairs).with_error(&error));
            error.status()
        }
        Err(error) => return Err(ctx.error(error)),
    };
    let body = resource_body(&ctx, &resource, &forms).await;
    Ok(ctx.render_status(status, &resource.name, &body))
}

/// The end of a calendar day in China Standard Time, from a `YYYY-MM-DD` form value.
fn end_of_day(date: &str) -> Option<kernel::time::Timestamp> {
    kernel::time::Timestamp::parse_rfc3339(&format!("{}T23:59:59+08:00", date.trim()))
}

async fn consent(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let resource = service::get_resource(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let fields = form_values(&pairs, "fields");
    let result = match (
        end_of_day(form_value(&pairs, "valid_until")),
        form_value(&pairs, "max_fetches_per_day")
            .trim()
            .parse::<i64>(),
    ) {
        (None, _) => Err(ApiError::invalid(
            "valid_until",
            ctx.pick(
                "请填写日期，例如 2027-02-20",
                "Enter a date, for example 2027-02-20",
            ),
        )),
        (_, Err(_)) => Err(ApiError::invalid(
            "max_fetches_per_day",
            ctx.pick("请填写整数", "Enter a whole number"),
        )),
        (Some(until), Ok(per_day)) => {
            let purpose = form_value(&pairs, "purpose").trim().to_string();
            service::grant_consent(
                &state,
                user,
                NewConsent {
                    resource: resource.id.clone(),
                    consumer_org_id: form_value(&pairs, "consumer_org_id").into(),
                    fields: (!fields.is_empty()).then_some(fields),
                    purpose: (!purpose.is_empty()).then_some(purpose),
                    fetch_type: Some(if form_value(&pairs, "fetch_type") == "periodic" {
                        trust::model::FetchType::Periodic
                    } else {
                        trust::model::FetchType::Once
                    }),
                    max_fetches_per_day: Some(per_day),
                    valid_from: None,
                    valid_until: Some(until),
                },
            )
            .await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to("/me/consents").into_response()),
        Err(error) if error.status().is_client_error() => {
            let mut forms = resource_forms(&state, &ctx, &resource).await;
            forms.consent = forms.consent.map(|f| f.fill(&pairs).with_error(&error));
            let body = resource_body(&ctx, &resource, &forms).await;
            Ok(ctx.render_status(error.status(), &resource.name, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

fn consent_status(ctx: &PageContext, status: trust::model::ConsentStatus) -> &str {
    use trust::model::ConsentStatus as S;
    match status {
        S::Active => ctx.pick("有效", "In force"),
        S::NotYetValid => ctx.pick("未生效", "Not yet valid"),
        S::Expired => ctx.pick("已过期", "Expired"),
        S::Revoked => ctx.pick("已撤回", "Withdrawn"),
        S::Used => ctx.pick("已使用", "Used"),
    }
}

async fn consents_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let consents = trust::service::my_consents(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("我的授权同意", "My consents");
    let rows = consents
        .iter()
        .map(|c| {
            let action = if c.status == trust::model::ConsentStatus::Active
                || c.status == trust::model::ConsentStatus::NotYetValid
            {
                post_button(
                    &ctx,
                    &format!("/me/consents/{}/revoke", c.id),
                    ctx.pick("撤回", "Withdraw"),
                    true,
                )
            } else {
                String::new()
            };
            let how_often = match c.fetch_type {
                trust::model::FetchType::Once => ctx.pick("仅一次", "Once").to_string(),
                trust::model::FetchType::Periodic => format!(
                    "{} {}",
                    ctx.pick("每天最多", "Up to, a day:"),
                    c.max_fetches_per_day
                ),
            };
            vec![
                Cell::from(c.consumer_name.clone()),
                Cell::from(format!("{}（{}）", c.resource_name, c.provider_name)),
                Cell::from(c.fields.join(", ")),
                Cell::from(c.purpose.clone()),
                Cell::from(how_often),
                Cell::from(c.valid_until.short()),
                Cell::from(format!(
                    "{} · {} {}",
                    consent_status(&ctx, c.status),
                    ctx.pick("已使用次数", "used"),
                    c.fetches
                )),
                Cell::from(action),
            ]
        })
        .collect();
    let mut body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(title),
        esc(ctx.pick(
            "您同意过哪些单位获取您的哪些信息。撤回后立即生效；每次获取都记入数据足迹。",
            "Which organisations you allowed to receive which information about you. Withdrawing takes effect at once; every use is in your data footprint."
        ))
    );
    body.push_str(&action_table(
        title,
        &[
            ctx.pick("使用单位", "Organisation"),
            ctx.pick("信息", "Information"),
            ctx.pick("字段", "Fields"),
            ctx.pick("用途", "Purpose"),
            ctx.pick("次数", "How often"),
            ctx.pick("有效期至", "Until"),
            ctx.pick("状态", "Status"),
            ctx.pick("操作", "Action"),
        ],
        rows,
        ctx.pick("您还没有给过任何同意。", "You have not given any consent."),
    ));
    body.push_str(&format!(
        "<h2>{}</h2><p>{}</p><ul>",
        esc(ctx.pick("给出新的同意", "Give a new consent")),
        esc(ctx.pick("选择要授权的信息：", "Choose the information:"))
    ));
    let page = service::search(
        &state,
        None,
        &PageQuery {
            cursor: None,
            limit: Some(100),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    for r in page.items.iter().filter(|r| {
        r.subject_kind == SubjectKind::Person && r.sharing_class == SharingClass::Conditional
    }) {
        body.push_str(&format!(
            "<li><a href=\"/exchange/resources/{}\">{}</a>（{}）</li>",
            esc(&r.code),
            esc(&r.name),
            esc(&r.provider_name)
        ));
    }
    body.push_str(&format!(
        "</ul><p><a href=\"/me/footprint\">{}</a></p>",
        esc(ctx.pick("查看谁使用过我的数据", "See who used my data"))
    ));
    Ok(ctx.render(title, &body))
}

async fn revoke_consent(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    trust::service::revoke_consent(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/me/consents").into_response())
}

fn usage_table(
    ctx: &PageContext,
    caption: &str,
    lines: &[UsageLine],
    counterpart_is_consumer: bool,
) -> String {
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                Cell::link(
                    l.resource_name.clone(),
                    format!("/exchange/resources/{}", l.resource),
                ),
                Cell::from(if counterpart_is_consumer {
                    l.consumer.clone()
                } else {
                    l.provider.clone()
                }),
                Cell::from(l.calls.to_string()),
                Cell::from(l.denied.to_string()),
                Cell::from(l.last_day.clone()),
            ]
        })
        .collect();
    Table {
        caption: caption.into(),
        headers: vec![
            ctx.pick("资源", "Resource").into(),
            if counterpart_is_consumer {
                ctx.pick("使用部门", "Consumer").into()
            } else {
                ctx.pick("提供部门", "Provider").into()
            },
            ctx.pick("成功调用", "Served").into(),
            ctx.pick("被拒绝", "Refused").into(),
            ctx.pick("最近一天", "Last day").into(),
        ],
        rows,
        empty: ctx
            .pick("近 30 天没有调用。", "No calls in the last 30 days.")
            .into(),
    }
    .html()
}

async fn traffic_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let traffic = service::traffic(&state, user, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let keys = crate::gateway::published_keys(&state)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("调用统计（近 30 天）", "Gateway traffic (last 30 days)");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&usage_table(
        &ctx,
        ctx.pick(
            "调用本单位资源的部门",
            "Calls to our resources, per consumer",
        ),
        &traffic.as_provider,
        true,
    ));
    body.push_str(&usage_table(
        &ctx,
        ctx.pick("本单位调用其他部门资源", "Our calls to others' resources"),
        &traffic.as_consumer,
        false,
    ));
    let rows = keys
        .keys
        .iter()
        .filter(|k| k.organisation_id == traffic.organisation_id)
        .map(|k| {
            vec![
                Cell::from(k.kid.clone()),
                Cell::from(k.created_at.short()),
                Cell::from(match k.retired_at {
                    Some(at) => format!("{} {}", ctx.pick("已停用于", "Retired"), at.short()),
                    None => ctx.pick("当前密钥", "Current").to_string(),
                }),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx
                .pick("本单位的签名密钥（Ed25519）", "Our signing keys (Ed25519)")
                .into(),
            headers: vec![
                ctx.pick("密钥标识", "Key id").into(),
                ctx.pick("创建时间", "Created").into(),
                ctx.pick("状态", "Status").into(),
            ],
            rows,
            empty: ctx
                .pick("第一次提供数据时生成。", "Made when we first serve a call.")
                .into(),
        }
        .html(),
    );
    body.push_str(&format!(
        "<p>{} <a href=\"/api/v1/exchange/keys\">/api/v1/exchange/keys</a></p>",
        esc(ctx.pick("公钥公开发布于", "Public keys are published at"))
    ));
    body.push_str(&post_button(
        &ctx,
        "/exchange/keys/rotate",
        ctx.pick("更换签名密钥", "Rotate our signing key"),
        false,
    ));
    Ok(ctx.render(title, &body))
}

async fn rotate_key(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    crate::gateway::rotate_key(&state, user, None)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/exchange/traffic").into_response())
}

//! Messaging's pages: the resident's inbox (我的消息) and one notice with its
//! acknowledgement button; the staff's form to send a notice and the list of those sent.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use kernel::api::PageQuery;
use kernel::auth::Principal;
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, form_page, form_pairs,
    form_value, post_button,
};
use kernel::{ApiError, AppState};

use crate::model::*;
use crate::service;

/// Messaging's page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/inbox", get(inbox_page))
        .route("/me/inbox/{id}", get(open_page))
        .route("/me/inbox/{id}/ack", post(acknowledge))
        .route("/messages", get(sent_page))
        .route("/messages/new", get(new_page).post(send))
}

fn is_sender(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.organisation_id().is_some() && !p.has_role(kernel::auth::Role::System))
}

/// Messaging's navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/me/inbox",
            zh: "我的消息",
            en: "My messages",
            visible: |p| p.is_some_and(|p| p.subject_person_id().is_some()),
        },
        NavItem {
            href: "/messages",
            zh: "发送通知",
            en: "Send notices",
            visible: is_sender,
        },
    ]
}

async fn inbox_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let page = service::inbox(&state, user, &PageQuery::default())
        .await
        .map_err(|e| ctx.error(e))?;
    let counts = service::unread(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("我的消息", "My messages");
    let rows = page
        .items
        .iter()
        .map(|m| {
            let state_words = match (m.read_at, m.ack_required, m.acked_at) {
                (None, _, _) => ctx.pick("未读", "Unread"),
                (Some(_), true, None) => ctx.pick("待回复收到", "Please acknowledge"),
                (Some(_), true, Some(_)) => ctx.pick("已回复收到", "Acknowledged"),
                (Some(_), false, _) => ctx.pick("已读", "Read"),
            };
            vec![
                Cell::link(m.subject.clone(), format!("/me/inbox/{}", m.id)),
                Cell::from(m.sender_name.clone()),
                Cell::from(m.created_at.short()),
                Cell::from(state_words),
            ]
        })
        .collect();
    let summary = match ctx.lang {
        kernel::pages::Lang::ZhCn => format!(
            "{} 条未读，{} 条待回复收到。",
            counts.unread, counts.awaiting_ack
        ),
        kernel::pages::Lang::En => format!(
            "{} unread, {} waiting for your acknowledgement.",
            counts.unread, counts.awaiting_ack
        ),
    };
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(title),
        esc(&summary)
    ) + &Table {
        caption: title.into(),
        headers: vec![
            ctx.pick("标题", "Subject").into(),
            ctx.pick("发送单位", "From").into(),
            ctx.pick("时间", "Sent").into(),
            ctx.pick("状态", "Status").into(),
        ],
        rows,
        empty: ctx.pick("还没有消息。", "No messages yet.").into(),
    }
    .html();
    Ok(ctx.render(title, &body))
}

fn notice_html(ctx: &PageContext, m: &InboxItem) -> String {
    let mut body = format!("<h1>{}</h1>", esc(&m.subject));
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("发送单位", "From").into(), m.sender_name.clone()),
                (ctx.pick("时间", "Sent").into(), m.created_at.short()),
            ],
        }
        .html(),
    );
    for paragraph in m.body.split('\n').filter(|p| !p.trim().is_empty()) {
        body.push_str(&format!("<p>{}</p>", esc(paragraph.trim())));
    }
    body
}

async fn open_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let m = service::open(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = notice_html(&ctx, &m);
    match (m.ack_required, m.acked_at) {
        (true, None) => body.push_str(&post_button(
            &ctx,
            &format!("/me/inbox/{}/ack", m.id),
            ctx.pick("收到", "Acknowledge"),
            false,
        )),
        (true, Some(at)) => body.push_str(&format!(
            "<p class=\"notice\">{} {}</p>",
            esc(ctx.pick("您已回复收到：", "You acknowledged it:")),
            esc(&at.short())
        )),
        _ => {}
    }
    body.push_str(&format!(
        "<p><a href=\"/me/inbox\">{}</a></p>",
        esc(ctx.pick("返回我的消息", "Back to my messages"))
    ));
    Ok(ctx.render(&m.subject, &body))
}

async fn acknowledge(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    service::acknowledge(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/me/inbox/{id}")).into_response())
}

async fn sent_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let page = service::sent(&state, user, &PageQuery::default())
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("发送通知", "Send notices");
    let rows = page
        .items
        .iter()
        .map(|m| {
            vec![
                Cell::from(m.subject.clone()),
                Cell::from(m.created_at.short()),
                Cell::from(m.recipients.to_string()),
                Cell::from(m.read.to_string()),
                Cell::from(if m.ack_required {
                    m.acknowledged.to_string()
                } else {
                    "—".to_string()
                }),
            ]
        })
        .collect();
    let body = format!(
        "<h1>{}</h1><p><a class=\"button\" href=\"/messages/new\">{}</a></p>",
        esc(title),
        esc(ctx.pick("写一条通知", "Write a notice"))
    ) + &Table {
        caption: ctx.pick("已发送的通知", "Notices sent").into(),
        headers: vec![
            ctx.pick("标题", "Subject").into(),
            ctx.pick("时间", "Sent").into(),
            ctx.pick("送达人数", "Recipients").into(),
            ctx.pick("已读", "Read").into(),
            ctx.pick("已回复收到", "Acknowledged").into(),
        ],
        rows,
        empty: ctx.pick("还没有发送过通知。", "Nothing sent yet.").into(),
    }
    .html();
    Ok(ctx.render(title, &body))
}

fn send_form(ctx: &PageContext, tags: &[identity::model::Tag]) -> Form {
    let tag_choices = tags
        .iter()
        .map(|t| (t.code.clone(), format!("{}（{}人）", t.name, t.members)))
        .collect::<Vec<_>>();
    let mut form = Form::new(
        ctx,
        "/messages/new",
        ctx.pick("发送", "Send"),
        vec![
            Field::text("subject", ctx.pick("标题", "Subject")),
            Field::of("body", ctx.pick("内容", "Text"), FieldKind::TextArea),
            Field::text("region", ctx.pick("发送范围：区划代码", "To: region code")).hint(
                ctx.pick(
                    "例如 990100 为全市，990102001001 为一个社区",
                    "For example 990100 for the whole city, 990102001001 for one community",
                ),
            ),
            Field::text(
                "min_age",
                ctx.pick("最低年龄（可不填）", "Lowest age (optional)"),
            ),
            Field::text(
                "max_age",
                ctx.pick("最高年龄（可不填）", "Highest age (optional)"),
            ),
            Field::of(
                "ack_required",
                ctx.pick("请收件人回复“收到”", "Ask recipients to acknowledge"),
                FieldKind::Checkbox,
            ),
        ],
    );
    if !tag_choices.is_empty() {
        let field = Field::of(
            "tags",
            ctx.pick("只发给带有这些标签的居民", "Only residents with these tags"),
            FieldKind::Checkboxes(tag_choices),
        )
        .hint(ctx.pick(
            "可不选；选多个时，须同时带有全部标签",
            "Optional; with several, a resident must carry them all",
        ));
        form.fields.insert(5, field);
    }
    form
}

async fn tags(state: &AppState, user: &Principal) -> Result<Vec<identity::model::Tag>, ApiError> {
    identity::service::list_tags(state, user).await
}

async fn new_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let tags = tags(&state, user).await.map_err(|e| ctx.error(e))?;
    let title = ctx.pick("写一条通知", "Write a notice");
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        title,
        &send_form(&ctx, &tags),
    ))
}

fn age(pairs: &[(String, String)], field: &str) -> Result<Option<i64>, ApiError> {
    let raw = form_value(pairs, field).trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ApiError::invalid(format!("audience.{field}"), "enter a whole number"))
}

async fn send(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let title = ctx.pick("写一条通知", "Write a notice");
    let result = async {
        let region = form_value(&pairs, "region").trim();
        let new = NewMessage {
            subject: form_value(&pairs, "subject").into(),
            body: form_value(&pairs, "body").into(),
            audience: Audience {
                region: (!region.is_empty()).then(|| region.to_string()),
                min_age: age(&pairs, "min_age")?,
                max_age: age(&pairs, "max_age")?,
                tags: kernel::widgets::form_values(&pairs, "tags"),
                persons: Vec::new(),
            },
            ack_required: form_value(&pairs, "ack_required") == "true",
            organisation_id: None,
        };
        service::send(&state, user, new).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/messages").into_response()),
        Err(error) if error.status().is_client_error() => {
            // Field names in the form are the audience's without the prefix.
            let error = match error {
                ApiError::Invalid { field, detail } => ApiError::Invalid {
                    field: field.map(|f| f.trim_start_matches("audience.").to_string()),
                    detail,
                },
                other => other,
            };
            let tags = tags(&state, user).await.map_err(|e| ctx.error(e))?;
            let form = send_form(&ctx, &tags).fill(&pairs).with_error(&error);
            Ok(form_page(&ctx, error.status(), title, &form))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

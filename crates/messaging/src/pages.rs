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
        .route("/messages/{id}", get(message_page))
        .route(
            "/messages/webhooks",
            get(webhooks_page).post(create_webhook),
        )
        .route("/messages/webhooks/{id}/remove", post(remove_webhook))
        .route("/me/notifications", get(settings_page).post(save_settings))
        .route("/admin/outbox", get(outbox_page))
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
        NavItem {
            href: "/admin/outbox",
            zh: "短信邮件发送记录",
            en: "SMS and e-mail outbox",
            visible: |p| p.is_some_and(Principal::is_platform_admin),
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
        "<h1>{}</h1><p class=\"lead\">{}</p><p><a href=\"/me/notifications\">{}</a></p>",
        esc(title),
        esc(&summary),
        esc(ctx.pick("通知方式：短信、邮件", "How notices reach me: SMS, e-mail"))
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
                Cell::link(m.subject.clone(), format!("/messages/{}", m.id)),
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
        "<h1>{}</h1><p><a class=\"button\" href=\"/messages/new\">{}</a></p><p><a href=\"/messages/webhooks\">{}</a></p>",
        esc(title),
        esc(ctx.pick("写一条通知", "Write a notice")),
        esc(ctx.pick(
            "本单位接收通知的系统（Webhook）",
            "Our systems that receive notices (webhooks)"
        ))
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

fn send_form(
    ctx: &PageContext,
    tags: &[identity::model::Tag],
    channels: &[(String, String)],
) -> Form {
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
    if !channels.is_empty() {
        form.fields.push(
            Field::of(
                "channels",
                ctx.pick("同时发送", "Also send by"),
                FieldKind::Checkboxes(channels.to_vec()),
            )
            .hint(ctx.pick(
                "站内消息总会送达；短信发往登记的手机号，邮件发往居民留下的邮箱",
                "The inbox always gets it; SMS goes to registered phones, e-mail to addresses residents gave",
            )),
        );
    }
    form
}

/// The channels this platform can send by, for the form.
fn channel_choices(state: &AppState, ctx: &PageContext) -> Vec<(String, String)> {
    let Ok(channels) = crate::delivery::channels(state) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if channels.sms.is_some() {
        out.push(("sms".to_string(), ctx.pick("短信", "SMS").to_string()));
    }
    if channels.email.is_some() {
        out.push((
            "email".to_string(),
            ctx.pick("电子邮件", "E-mail").to_string(),
        ));
    }
    out
}

async fn tags(state: &AppState, user: &Principal) -> Result<Vec<identity::model::Tag>, ApiError> {
    identity::service::list_tags(state, user).await
}

async fn new_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let tags = tags(&state, user).await.map_err(|e| ctx.error(e))?;
    let title = ctx.pick("写一条通知", "Write a notice");
    let channels = channel_choices(&state, &ctx);
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        title,
        &send_form(&ctx, &tags, &channels),
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
                regions: Vec::new(),
            },
            ack_required: form_value(&pairs, "ack_required") == "true",
            channels: kernel::widgets::form_values(&pairs, "channels"),
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
            let channels = channel_choices(&state, &ctx);
            let form = send_form(&ctx, &tags, &channels)
                .fill(&pairs)
                .with_error(&error);
            Ok(form_page(&ctx, error.status(), title, &form))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

fn channel_name(ctx: &PageContext, channel: &str) -> String {
    match channel {
        "sms" => ctx.pick("短信", "SMS"),
        "email" => ctx.pick("电子邮件", "E-mail"),
        "webhook" => ctx.pick("单位系统（Webhook）", "Webhook"),
        other => other,
    }
    .to_string()
}

async fn message_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let m = service::message(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let report = service::deliveries(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = format!("<h1>{}</h1>", esc(&m.subject));
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("发送时间", "Sent").into(), m.created_at.short()),
                (
                    ctx.pick("送达人数", "Recipients").into(),
                    m.recipients.to_string(),
                ),
                (ctx.pick("已读", "Read").into(), m.read.to_string()),
                (
                    ctx.pick("已回复收到", "Acknowledged").into(),
                    if m.ack_required {
                        m.acknowledged.to_string()
                    } else {
                        "—".into()
                    },
                ),
            ],
        }
        .html(),
    );
    for paragraph in m.body.split('\n').filter(|p| !p.trim().is_empty()) {
        body.push_str(&format!("<p>{}</p>", esc(paragraph.trim())));
    }
    body.push_str(
        &Table {
            caption: ctx.pick("各渠道发送情况", "Deliveries by channel").into(),
            headers: vec![
                ctx.pick("渠道", "Channel").into(),
                ctx.pick("待发送", "Pending").into(),
                ctx.pick("已发送", "Sent").into(),
                ctx.pick("失败", "Failed").into(),
            ],
            rows: report
                .channels
                .iter()
                .map(|c| {
                    vec![
                        Cell::from(channel_name(&ctx, &c.channel)),
                        Cell::from(c.pending.to_string()),
                        Cell::from(c.sent.to_string()),
                        Cell::from(c.failed.to_string()),
                    ]
                })
                .collect(),
            empty: ctx
                .pick("只发到了站内消息。", "Sent to inboxes only.")
                .into(),
        }
        .html(),
    );
    if !report.undelivered.is_empty() {
        body.push_str(
            &Table {
                caption: ctx
                    .pick(
                        "未送出的（重试中或失败）",
                        "Not delivered (retrying or failed)",
                    )
                    .into(),
                headers: vec![
                    ctx.pick("渠道", "Channel").into(),
                    ctx.pick("收件方", "Recipient").into(),
                    ctx.pick("状态", "Status").into(),
                    ctx.pick("尝试次数", "Attempts").into(),
                    ctx.pick("原因", "Reason").into(),
                ],
                rows: report
                    .undelivered
                    .iter()
                    .map(|d| {
                        vec![
                            Cell::from(channel_name(&ctx, &d.channel)),
                            Cell::from(d.recipient.clone()),
                            Cell::from(match d.status.as_str() {
                                "failed" => ctx.pick("失败", "Failed"),
                                _ => ctx.pick("等待重试", "Will retry"),
                            }),
                            Cell::from(d.attempts.to_string()),
                            Cell::from(d.last_error.clone().unwrap_or_default()),
                        ]
                    })
                    .collect(),
                empty: String::new(),
            }
            .html(),
        );
    }
    body.push_str(&format!(
        "<p><a href=\"/messages\">{}</a></p>",
        esc(ctx.pick("返回已发送的通知", "Back to notices sent"))
    ));
    Ok(ctx.render(&m.subject, &body))
}

fn webhook_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/messages/webhooks",
        ctx.pick("登记", "Register"),
        vec![
            Field::text("url", ctx.pick("接收地址", "URL")).hint(ctx.pick(
                "例如 https://yiyuan.example.cn/civitas/notices",
                "For example https://hospital.example.cn/civitas/notices",
            )),
            Field::text(
                "region",
                ctx.pick(
                    "只接收该区划的通知（可不填）",
                    "Only notices for this region (optional)",
                ),
            ),
        ],
    )
}

async fn webhooks_view(
    state: &AppState,
    ctx: &PageContext,
    form: Form,
    created: Option<WebhookCreated>,
    status: StatusCode,
) -> PageResult {
    let user = ctx.user()?;
    let hooks = service::webhooks(state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let admin = user
        .organisation_id()
        .is_some_and(|org| user.require_org_admin(org).is_ok());
    let title = ctx.pick(
        "接收通知的系统（Webhook）",
        "Systems that receive notices (webhooks)",
    );
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "本单位的系统可以接收平台上发出的每一条公共通知（可限定区划）。每次推送都带有签名：X-Civitas-Signature: v1=HMAC-SHA256(密钥, 时间戳.正文)。",
            "Your systems can receive every public notice sent on the platform (optionally for one region). Each post is signed: X-Civitas-Signature: v1=HMAC-SHA256(secret, timestamp.body)."
        ))
    ));
    if let Some(created) = created {
        body.push_str(&format!(
            "<div class=\"notice\" role=\"status\"><p>{}</p><p><code>{}</code></p></div>",
            esc(ctx.pick(
                "已登记。签名密钥只显示这一次，请妥善保存：",
                "Registered. The signing secret is shown only this once; keep it safe:"
            )),
            esc(&created.secret)
        ));
    }
    let rows = hooks
        .iter()
        .map(|h| {
            vec![
                Cell::from(h.url.clone()),
                Cell::from(
                    h.region
                        .clone()
                        .unwrap_or_else(|| ctx.pick("全部", "All").into()),
                ),
                Cell::from(h.created_at.short()),
                Cell::from(if admin {
                    post_button(
                        ctx,
                        &format!("/messages/webhooks/{}/remove", h.id),
                        ctx.pick("删除", "Remove"),
                        true,
                    )
                } else {
                    String::new()
                }),
            ]
        })
        .collect();
    body.push_str(&kernel::widgets::action_table(
        ctx.pick("已登记的系统", "Registered systems"),
        &[
            ctx.pick("地址", "URL"),
            ctx.pick("区划", "Region"),
            ctx.pick("登记时间", "Registered"),
            ctx.pick("操作", "Action"),
        ],
        rows,
        ctx.pick("还没有登记。", "None registered."),
    ));
    if admin {
        body.push_str(&format!(
            "<h2>{}</h2>",
            esc(ctx.pick("登记一个系统", "Register a system"))
        ));
        body.push_str(&form.html());
    } else {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "由本单位管理员登记和删除。",
                "Your organisation's administrator registers and removes them."
            ))
        ));
    }
    Ok(ctx.render_status(status, title, &body))
}

async fn webhooks_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let form = webhook_form(&ctx);
    webhooks_view(&state, &ctx, form, None, StatusCode::OK).await
}

async fn create_webhook(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let region = form_value(&pairs, "region").trim();
    let new = NewWebhook {
        url: form_value(&pairs, "url").into(),
        region: (!region.is_empty()).then(|| region.to_string()),
        organisation_id: None,
    };
    match service::create_webhook(&state, user, new).await {
        Ok(created) => {
            let mut response = webhooks_view(
                &state,
                &ctx,
                webhook_form(&ctx),
                Some(created),
                StatusCode::CREATED,
            )
            .await?;
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        Err(error) if error.status().is_client_error() => {
            let form = webhook_form(&ctx).fill(&pairs).with_error(&error);
            webhooks_view(&state, &ctx, form, None, error.status()).await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn remove_webhook(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    service::remove_webhook(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/messages/webhooks").into_response())
}

fn settings_form(ctx: &PageContext, current: &NotificationSettings) -> Form {
    let sms_label = match &current.phone_masked {
        Some(phone) => format!("{} {phone}", ctx.pick("短信发到", "SMS to")),
        None => ctx
            .pick(
                "短信（您没有登记手机号）",
                "SMS (you have no registered phone)",
            )
            .to_string(),
    };
    let mut sms = Field::of("sms", &sms_label, FieldKind::Checkbox);
    if current.sms {
        sms = sms.value("true");
    }
    let mut email = Field::of(
        "email",
        ctx.pick("也发到我的邮箱", "Also by e-mail"),
        FieldKind::Checkbox,
    );
    if current.email {
        email = email.value("true");
    }
    let address_hint = match &current.email_masked {
        Some(masked) => format!(
            "{} {masked}{}",
            ctx.pick("现在是", "Now"),
            ctx.pick("；不改就留空", "; leave empty to keep it")
        ),
        None => ctx
            .pick("例如 name@example.cn", "For example name@example.cn")
            .to_string(),
    };
    let mut fields = vec![
        sms,
        email,
        Field::text("email_address", ctx.pick("邮箱地址", "E-mail address"))
            .hint(&address_hint)
            .autocomplete("email"),
    ];
    if current.email_masked.is_some() {
        fields.push(Field::of(
            "remove_email",
            ctx.pick("删除我留下的邮箱地址", "Remove the e-mail address I gave"),
            FieldKind::Checkbox,
        ));
    }
    Form::new(ctx, "/me/notifications", ctx.pick("保存", "Save"), fields)
}

async fn settings_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let current = service::my_settings(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("通知方式", "How notices reach me");
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        title,
        &settings_form(&ctx, &current),
    ))
}

async fn save_settings(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let address = form_value(&pairs, "email_address").trim();
    let remove = form_value(&pairs, "remove_email") == "true";
    let new = NewNotificationSettings {
        sms: form_value(&pairs, "sms") == "true",
        email: form_value(&pairs, "email") == "true" && !remove,
        email_address: if remove {
            Some(String::new())
        } else {
            (!address.is_empty()).then(|| address.to_string())
        },
    };
    match service::put_settings(&state, user, new).await {
        Ok(_) => Ok(Redirect::to("/me/inbox").into_response()),
        Err(error) if error.status().is_client_error() => {
            let current = service::my_settings(&state, user)
                .await
                .map_err(|e| ctx.error(e))?;
            let form = settings_form(&ctx, &current)
                .fill(&pairs)
                .with_error(&error);
            let title = ctx.pick("通知方式", "How notices reach me");
            Ok(form_page(&ctx, error.status(), title, &form))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn outbox_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let entries = service::outbox(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("短信邮件发送记录", "SMS and e-mail outbox");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "演示环境不向真实手机和邮箱发送，而是把要发的短信和邮件记录在这里（最近 200 条）。",
            "The demo does not send to real phones and mailboxes: the SMS and e-mail it would send are recorded here (newest 200)."
        ))
    ));
    body.push_str(
        &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("时间", "When").into(),
                ctx.pick("渠道", "Channel").into(),
                ctx.pick("发往", "To").into(),
                ctx.pick("内容", "Text").into(),
            ],
            rows: entries
                .iter()
                .map(|e| {
                    vec![
                        Cell::from(e.created_at.short()),
                        Cell::from(channel_name(&ctx, &e.channel)),
                        Cell::from(e.address_masked.clone()),
                        Cell::from(e.text.clone()),
                    ]
                })
                .collect(),
            empty: ctx.pick("还没有发送记录。", "Nothing sent yet.").into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

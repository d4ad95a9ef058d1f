//! The care-order pages: the catalogue with the elder's subsidised hours left, ordering
//! (one service, one form), her orders and each order's page with what she or the provider
//! can do next, the provider's queue, offering a service, and the month's subsidy report.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use identity::model::OrgKind;
use kernel::auth::Principal;
use kernel::pages::{PageContext, PageResult};
use kernel::time::Timestamp;
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, form_page, form_pairs,
    form_value,
};
use kernel::{ApiError, AppState};
use serde::Deserialize;

use super::model::*;
use super::service;
use crate::service as care;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/care/services", get(catalogue_page))
        .route("/care/services/new", get(offer_page).post(offer_action))
        .route(
            "/care/services/{id}/order",
            get(order_form_page).post(order_action),
        )
        .route("/care/orders", get(my_orders_page))
        .route("/care/orders/{id}", get(order_page))
        .route("/care/orders/{id}/{step}", post(step_action))
        .route("/care/provider", get(provider_page))
        .route("/care/subsidies", get(report_page))
}

fn zh(ctx: &PageContext) -> bool {
    ctx.lang.tag().starts_with("zh")
}

fn price_words(ctx: &PageContext, s: &CareService) -> String {
    format!(
        "{} {} / {}",
        yuan(s.price_fen),
        ctx.pick("元", "CNY"),
        s.unit.in_words(zh(ctx))
    )
}

/// The person whose own orders these are: herself, or the person she acts for.
fn own_person(user: &Principal) -> Option<&str> {
    match &user.acting_for {
        Some(a) => Some(a.person_id.as_str()),
        None => user.person_id.as_deref(),
    }
}

fn client_error(e: &ApiError) -> bool {
    e.status().is_client_error()
        && e.status() != StatusCode::FORBIDDEN
        && e.status() != StatusCode::NOT_FOUND
}

fn balance_words(ctx: &PageContext, b: &SubsidyBalance) -> String {
    if b.policy_code.is_none() {
        return ctx
            .pick(
                "目前没有居家养老服务补贴。",
                "There is no home-care subsidy now.",
            )
            .to_string();
    }
    if b.entitled_minutes == 0 {
        return format!(
            "{}{}",
            ctx.pick(
                "本月您没有补贴服务时长。",
                "You have no subsidised hours this month. "
            ),
            b.reason
        );
    }
    format!(
        "{} {} {}（{} {} {}）",
        ctx.pick(
            "本月您还可享受补贴服务",
            "Subsidised hours left this month:"
        ),
        hours(b.remaining_minutes),
        ctx.pick("小时", "h"),
        ctx.pick("共", "of"),
        hours(b.entitled_minutes),
        ctx.pick("小时", "h"),
    )
}

async fn catalogue_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let title = ctx.pick("上门养老服务", "Care services at home");
    let mut body = format!("<h1>{}</h1>", esc(title));
    let mine = match own_person(user) {
        Some(p) => care::elder_row(&state, p).await.ok(),
        None => None,
    };
    let region = match &mine {
        Some(elder) => {
            identity::store::persons_by_id(&state.db, std::slice::from_ref(&elder.person_id))
                .await
                .map_err(|e| ctx.error(e.into()))?
                .pop()
                .map(|p| p.region_code)
        }
        None => None,
    };
    if let Some(elder) = &mine {
        match service::balance(&state, user, &elder.person_id, None).await {
            Ok(b) => body.push_str(&format!(
                "<div class=\"notice\"><p>{}</p></div>",
                esc(&balance_words(&ctx, &b))
            )),
            Err(e) => tracing::warn!(error = %e, "the subsidy balance cannot be shown"),
        }
        body.push_str(&format!(
            "<p><a href=\"/care/orders\">{}</a></p>",
            esc(ctx.pick("我的服务订单", "My orders"))
        ));
    }
    if user.acting_for.is_none() && !user.staff_organisations().is_empty() {
        body.push_str(&format!(
            "<p><a href=\"/care/services/new\">{}</a> · <a href=\"/care/provider\">{}</a></p>",
            esc(ctx.pick("登记服务项目", "Offer a service")),
            esc(ctx.pick("服务机构订单", "Provider's orders"))
        ));
    }
    let services = service::catalogue(&state, user, None, None, region.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    if services.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "这里还没有可预约的服务。",
                "No service can be ordered here yet."
            ))
        ));
    }
    let z = zh(&ctx);
    for kind in SERVICE_KINDS {
        let of_kind: Vec<&CareService> = services.iter().filter(|s| s.kind == *kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        body.push_str(&format!(
            "<h2>{}</h2><ul class=\"cards\">",
            esc(kind.in_words(z))
        ));
        for s in of_kind {
            let rating = match s.rating {
                Some(r) => format!("{} {r:.1} ★（{}）", ctx.pick("评分", "Rating"), s.ratings),
                None => ctx.pick("暂无评价", "Not rated yet").to_string(),
            };
            let action = if mine.is_some() {
                format!(
                    "<a class=\"button\" href=\"/care/services/{}/order\">{}</a>",
                    esc(&s.id),
                    esc(ctx.pick("预约", "Order"))
                )
            } else {
                String::new()
            };
            if ctx.elder {
                body.push_str(&format!(
                    "<li><p><strong>{}</strong></p><p>{}</p>{}</li>",
                    esc(&s.name),
                    esc(&price_words(&ctx, s)),
                    action
                ));
            } else {
                body.push_str(&format!(
                    "<li><p><strong>{}</strong></p><p>{}</p><p>{}</p><p class=\"hint\">{}</p><p>{}</p>{}</li>",
                    esc(&s.name),
                    esc(&s.provider_name),
                    esc(&price_words(&ctx, s)),
                    esc(&s.description),
                    esc(&rating),
                    action
                ));
            }
        }
        body.push_str("</ul>");
    }
    Ok(ctx.render(title, &body))
}

/// Times of day an elder can pick for a visit (no typing).
fn time_slots() -> Vec<(String, String)> {
    (7..=19)
        .flat_map(|h| [format!("{h:02}:00"), format!("{h:02}:30")])
        .map(|t| (t.clone(), t))
        .collect()
}

fn order_form(ctx: &PageContext, s: &CareService) -> Form {
    let quantity = Field::of(
        "quantity",
        &format!(
            "{}（{}）",
            ctx.pick("数量", "How many"),
            s.unit.in_words(zh(ctx))
        ),
        FieldKind::Select((1..=10).map(|n| (n.to_string(), n.to_string())).collect()),
    )
    .value("1");
    Form::new(
        ctx,
        &format!("/care/services/{}/order", s.id),
        ctx.pick("确认预约", "Place the order"),
        vec![
            Field::of(
                "wanted_at",
                ctx.pick("哪一天", "Which day"),
                FieldKind::Date,
            )
            .hint(ctx.pick("例如 2026-12-08", "For example 2026-12-08")),
            Field::of(
                "time",
                ctx.pick("几点", "What time"),
                FieldKind::Select(time_slots()),
            )
            .value("09:00"),
            quantity,
            Field::of(
                "note",
                ctx.pick(
                    "给服务人员的话（可不填）",
                    "A note for the provider (optional)",
                ),
                FieldKind::TextArea,
            )
            .hint(ctx.pick(
                "例如门禁密码、需要带的东西",
                "For example the door code, what to bring",
            )),
        ],
    )
}

async fn order_form_response(
    state: &AppState,
    ctx: &PageContext,
    status: StatusCode,
    id: &str,
    form: Option<Form>,
) -> PageResult {
    let user = ctx.user()?;
    let s = service::care_service(state, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!("{}：{}", ctx.pick("预约", "Order"), s.name);
    let mut body = format!("<h1>{}</h1>", esc(&title));
    body.push_str(
        &Summary {
            rows: vec![
                (
                    ctx.pick("服务机构", "Provider").into(),
                    s.provider_name.clone(),
                ),
                (ctx.pick("价格", "Price").into(), price_words(ctx, &s)),
                (
                    ctx.pick("内容", "What it includes").into(),
                    s.description.clone(),
                ),
            ],
        }
        .html(),
    );
    if let Some(p) = own_person(user)
        && let Ok(b) = service::balance(state, user, p, None).await
    {
        body.push_str(&format!("<p>{}</p>", esc(&balance_words(ctx, &b))));
    }
    body.push_str(&form.unwrap_or_else(|| order_form(ctx, &s)).html());
    Ok(ctx.render_status(status, &title, &body))
}

async fn order_form_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    order_form_response(&state, &ctx, StatusCode::OK, &id, None).await
}

/// `+08:00` for an offset of 480 minutes.
fn offset_text(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

async fn order_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let Some(elder) = own_person(user) else {
        return Err(ctx.error(ApiError::Forbidden(
            "orders on these pages are placed by the elder or her proxy".into(),
        )));
    };
    let rules = care::rules(&state).await.map_err(|e| ctx.error(e))?;
    let day = form_value(&pairs, "wanted_at").trim();
    let time = form_value(&pairs, "time").trim();
    let outcome = if day.is_empty() {
        Err(ApiError::invalid("wanted_at", "choose the day"))
    } else {
        service::place(
            &state,
            user,
            NewOrder {
                elder_id: elder.to_string(),
                service_id: id.clone(),
                quantity: form_value(&pairs, "quantity").trim().parse().unwrap_or(0),
                wanted_at: format!("{day}T{time}:00{}", offset_text(rules.local_offset_minutes)),
                note: Some(form_value(&pairs, "note").to_string()),
            },
        )
        .await
    };
    match outcome {
        Ok(order) => Ok(Redirect::to(&format!("/care/orders/{}", order.id)).into_response()),
        Err(e) if client_error(&e) => {
            let s = service::care_service(&state, &id)
                .await
                .map_err(|e| ctx.error(e))?;
            let form = order_form(&ctx, &s).fill(&pairs).with_error(&e);
            order_form_response(&state, &ctx, e.status(), &id, Some(form)).await
        }
        Err(e) => Err(ctx.error(e)),
    }
}

fn orders_table(
    ctx: &PageContext,
    rules: &crate::model::CareRules,
    orders: &[Order],
    caption: &str,
    with_elder: bool,
) -> String {
    let z = zh(ctx);
    let mut headers = Vec::new();
    if with_elder {
        headers.push(ctx.pick("老人", "Elder").to_string());
    }
    headers.extend([
        ctx.pick("服务", "Service").to_string(),
        ctx.pick("时间", "When").to_string(),
        ctx.pick("状态", "State").to_string(),
        ctx.pick("自付（元）", "She pays (CNY)").to_string(),
    ]);
    Table {
        caption: caption.to_string(),
        headers,
        rows: orders
            .iter()
            .map(|o| {
                let mut row = Vec::new();
                if with_elder {
                    row.push(Cell::from(o.elder_name.clone()));
                }
                row.extend([
                    Cell::link(o.service_name.clone(), format!("/care/orders/{}", o.id)),
                    Cell::from(service::local_short(
                        rules,
                        o.scheduled_at.unwrap_or(o.wanted_at),
                    )),
                    Cell::from(o.state.in_words(z).to_string()),
                    Cell::from(yuan(o.payable_fen)),
                ]);
                row
            })
            .collect(),
        empty: ctx.pick("还没有订单。", "No orders yet.").to_string(),
    }
    .html()
}

async fn my_orders_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let title = ctx.pick("我的服务订单", "My care orders");
    let Some(person) = own_person(user) else {
        return Err(ctx.error(ApiError::NotFound("no such elder in community care".into())));
    };
    let rules = care::rules(&state).await.map_err(|e| ctx.error(e))?;
    let orders = service::orders_of_elder(&state, user, person)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut body = format!(
        "<h1>{}</h1><p><a class=\"button big\" href=\"/care/services\">{}</a></p>",
        esc(title),
        esc(ctx.pick("预约上门服务", "Order a service"))
    );
    body.push_str(&orders_table(&ctx, &rules, &orders, title, false));
    Ok(ctx.render(title, &body))
}

fn step_form(
    ctx: &PageContext,
    id: &str,
    step: &str,
    label: &str,
    fields: &str,
    big: bool,
) -> String {
    format!(
        "<form method=\"post\" action=\"/care/orders/{}/{step}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{fields}\
         <button type=\"submit\" class=\"button{}\">{}</button></form>",
        esc(id),
        esc(&ctx.csrf),
        if big { " big" } else { " secondary" },
        esc(label)
    )
}

fn reason_field(ctx: &PageContext, id: &str, step: &str) -> String {
    format!(
        "<div class=\"field\"><label for=\"reason-{step}-{id}\">{}</label>\
         <input class=\"input\" type=\"text\" id=\"reason-{step}-{id}\" name=\"reason\" maxlength=\"500\"></div>",
        esc(ctx.pick("原因", "Reason")),
        id = esc(id)
    )
}

async fn order_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    order_response(&state, &ctx, StatusCode::OK, &id, None).await
}

async fn order_response(
    state: &AppState,
    ctx: &PageContext,
    status: StatusCode,
    id: &str,
    problem: Option<&ApiError>,
) -> PageResult {
    let user = ctx.user()?;
    let rules = care::rules(state).await.map_err(|e| ctx.error(e))?;
    let o = service::order(state, user, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let z = zh(ctx);
    let title = format!("{}：{}", o.service_name, o.state.in_words(z));
    let mut body = format!("<h1>{}</h1>", esc(&title));
    if let Some(e) = problem {
        body.push_str(&kernel::widgets::error_summary(
            ctx,
            &[("#actions".to_string(), e.public_detail())],
        ));
    }
    let provider =
        user.acting_for.is_none() && user.staff_organisations().contains(&o.provider_id.as_str());
    let hers = own_person(user) == Some(o.elder_id.as_str());
    // What can be done next, first.
    body.push_str("<div id=\"actions\">");
    if provider {
        match o.state {
            OrderState::Ordered => {
                let when = format!(
                    "<div class=\"field\"><label for=\"scheduled-{id}\">{}</label>\
                     <input class=\"input\" type=\"text\" id=\"scheduled-{id}\" name=\"scheduled_at\" value=\"{}\"></div>",
                    esc(ctx.pick(
                        "上门时间（RFC 3339，不改则为老人期望的时间）",
                        "When you will come (RFC 3339; her wish unless changed)"
                    )),
                    esc(&o.wanted_at.rfc3339()),
                    id = esc(&o.id)
                );
                body.push_str(&step_form(
                    ctx,
                    &o.id,
                    "accept",
                    ctx.pick("接单", "Accept"),
                    &when,
                    true,
                ));
                body.push_str(&step_form(
                    ctx,
                    &o.id,
                    "decline",
                    ctx.pick("不接单", "Decline"),
                    &reason_field(ctx, &o.id, "decline"),
                    false,
                ));
            }
            OrderState::Accepted => {
                body.push_str(&step_form(
                    ctx,
                    &o.id,
                    "complete",
                    ctx.pick("服务已完成", "Completed"),
                    "",
                    true,
                ));
                body.push_str(&step_form(
                    ctx,
                    &o.id,
                    "cancel",
                    ctx.pick("取消服务", "Call it off"),
                    &reason_field(ctx, &o.id, "cancel"),
                    false,
                ));
            }
            _ => {}
        }
    } else if o.state.is_open()
        && (hers
            || user.is_platform_admin()
            || (user.acting_for.is_none()
                && user
                    .staff_organisations()
                    .contains(&o.community_id.as_str())))
    {
        body.push_str(&step_form(
            ctx,
            &o.id,
            "cancel",
            ctx.pick("取消预约", "Cancel the order"),
            "",
            false,
        ));
    }
    if hers && o.state == OrderState::Completed && o.rating.is_none() {
        let stars: String = (1..=5)
            .rev()
            .map(|n| {
                format!(
                    "<div><input type=\"radio\" id=\"stars-{n}\" name=\"stars\" value=\"{n}\"{}>\
                     <label class=\"inline-label\" for=\"stars-{n}\">{n} ★</label></div>",
                    if n == 5 { " checked" } else { "" }
                )
            })
            .collect();
        let fields = format!(
            "<fieldset><legend>{}</legend>{stars}</fieldset><div class=\"field\"><label for=\"comment\">{}</label>\
             <input class=\"input\" type=\"text\" id=\"comment\" name=\"comment\" maxlength=\"500\"></div>",
            esc(ctx.pick("您对这次服务满意吗？", "How was the service?")),
            esc(ctx.pick("想说的话（可不填）", "Anything to say (optional)"))
        );
        body.push_str(&step_form(
            ctx,
            &o.id,
            "rating",
            ctx.pick("提交评价", "Rate it"),
            &fields,
            true,
        ));
    }
    body.push_str("</div>");
    let mut rows = vec![
        (ctx.pick("老人", "Elder").to_string(), o.elder_name.clone()),
        (
            ctx.pick("服务机构", "Provider").to_string(),
            o.provider_name.clone(),
        ),
        (
            ctx.pick("数量", "Quantity").to_string(),
            format!("{} {}", o.quantity, o.unit.in_words(z)),
        ),
        (
            ctx.pick("期望时间", "Wanted").to_string(),
            service::local_short(&rules, o.wanted_at),
        ),
    ];
    if let Some(at) = o.scheduled_at {
        rows.push((
            ctx.pick("上门时间", "Scheduled").to_string(),
            service::local_short(&rules, at),
        ));
    }
    rows.extend([
        (
            ctx.pick("价格（元）", "Price (CNY)").to_string(),
            yuan(o.price_fen),
        ),
        (
            ctx.pick("补贴", "Subsidy").to_string(),
            if o.minutes == 0 {
                ctx.pick(
                    "这项服务不计时长，不用补贴时长",
                    "Not counted in hours: no subsidised hours used",
                )
                .to_string()
            } else {
                format!(
                    "{} {}（{} {}）",
                    yuan(o.subsidy.fen),
                    ctx.pick("元", "CNY"),
                    hours(o.subsidy.minutes),
                    ctx.pick("小时", "h")
                )
            },
        ),
        (
            ctx.pick("自付（元）", "She pays (CNY)").to_string(),
            yuan(o.payable_fen),
        ),
    ]);
    if let Some(note) = &o.note {
        rows.push((ctx.pick("留言", "Note").to_string(), note.clone()));
    }
    if let Some(c) = &o.contact {
        rows.push((ctx.pick("联系人", "Contact").to_string(), c.name.clone()));
        if let Some(phone) = &c.phone {
            rows.push((ctx.pick("电话", "Phone").to_string(), phone.clone()));
        }
        if let Some(address) = &c.address {
            rows.push((ctx.pick("地址", "Address").to_string(), address.clone()));
        }
    }
    if let Some(r) = o.rating {
        rows.push((
            ctx.pick("评价", "Rating").to_string(),
            format!("{r} ★ {}", o.rating_comment.clone().unwrap_or_default()),
        ));
    }
    body.push_str(&Summary { rows }.html());
    if !o.subsidy.reason.is_empty() {
        body.push_str(&format!(
            "<details><summary>{}</summary><p>{}</p></details>",
            esc(ctx.pick("为什么能享受这些补贴", "Why this subsidy")),
            esc(&o.subsidy.reason)
        ));
    }
    body.push_str(
        &Table {
            caption: ctx.pick("经过", "Timeline").to_string(),
            headers: vec![
                ctx.pick("时间", "When").to_string(),
                ctx.pick("事项", "What").to_string(),
                ctx.pick("经办", "By").to_string(),
                ctx.pick("说明", "Detail").to_string(),
            ],
            rows: o
                .timeline
                .iter()
                .map(|s| {
                    vec![
                        Cell::from(service::local_short(&rules, s.at)),
                        Cell::from(step_words(ctx, &s.kind).to_string()),
                        Cell::from(s.by_name.clone()),
                        Cell::from(s.detail.clone()),
                    ]
                })
                .collect(),
            empty: String::new(),
        }
        .html(),
    );
    Ok(ctx.render_status(status, &title, &body))
}

/// A step of an order's timeline in words.
fn step_words<'a>(ctx: &PageContext, kind: &'a str) -> &'a str {
    match kind {
        "ordered" => ctx.pick("预约", "Ordered"),
        "accepted" => ctx.pick("接单", "Accepted"),
        "rescheduled" => ctx.pick("改时间", "Rescheduled"),
        "declined" => ctx.pick("未接单", "Declined"),
        "cancelled" => ctx.pick("取消", "Cancelled"),
        "completed" => ctx.pick("完成", "Completed"),
        "rated" => ctx.pick("评价", "Rated"),
        other => other,
    }
}

async fn step_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, step)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let text = |name: &str| {
        let v = form_value(&pairs, name).trim();
        (!v.is_empty()).then(|| v.to_string())
    };
    let outcome = match step.as_str() {
        "accept" => {
            service::accept(
                &state,
                user,
                &id,
                Acceptance {
                    scheduled_at: text("scheduled_at"),
                },
            )
            .await
        }
        "decline" => {
            service::decline(
                &state,
                user,
                &id,
                Reason {
                    reason: text("reason"),
                },
            )
            .await
        }
        "complete" => service::complete(&state, user, &id).await,
        "cancel" => {
            service::cancel(
                &state,
                user,
                &id,
                Reason {
                    reason: text("reason"),
                },
            )
            .await
        }
        "rating" => {
            service::rate(
                &state,
                user,
                &id,
                NewRating {
                    stars: form_value(&pairs, "stars").trim().parse().unwrap_or(0),
                    comment: text("comment"),
                },
            )
            .await
        }
        _ => Err(ApiError::NotFound("no such step".into())),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/care/orders/{id}")).into_response()),
        Err(e) if client_error(&e) => order_response(&state, &ctx, e.status(), &id, Some(&e)).await,
        Err(e) => Err(ctx.error(e)),
    }
}

async fn provider_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let title = ctx.pick("服务机构订单", "Provider's orders");
    let mut body = format!(
        "<h1>{}</h1><p><a href=\"/care/services/new\">{}</a></p>",
        esc(title),
        esc(ctx.pick("登记服务项目", "Offer a service"))
    );
    let rules = care::rules(&state).await.map_err(|e| ctx.error(e))?;
    let orgs: Vec<String> = if user.acting_for.is_none() {
        user.staff_organisations()
            .into_iter()
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let names = identity::service::organisation_names(&state, &orgs)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut shown = 0;
    for org in &orgs {
        let Ok(o) = identity::service::get_organisation(&state, org).await else {
            continue;
        };
        if !matches!(o.kind, OrgKind::CareProvider | OrgKind::Hospital) {
            continue;
        }
        shown += 1;
        let open = service::provider_orders(&state, user, org, None)
            .await
            .map_err(|e| ctx.error(e))?;
        let caption = format!(
            "{}：{}",
            names.get(org).cloned().unwrap_or_default(),
            ctx.pick("待办订单", "open orders")
        );
        body.push_str(&orders_table(&ctx, &rules, &open, &caption, true));
    }
    if shown == 0 {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "您不是养老服务机构或医院的工作人员。",
                "You are not staff of a care provider or a hospital."
            ))
        ));
    }
    Ok(ctx.render(title, &body))
}

async fn provider_choices(state: &AppState, user: &Principal) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if user.acting_for.is_some() {
        return out;
    }
    for org in user.staff_organisations() {
        if let Ok(o) = identity::service::get_organisation(state, org).await
            && matches!(o.kind, OrgKind::CareProvider | OrgKind::Hospital)
        {
            out.push((o.id, o.name));
        }
    }
    out
}

fn offer_form(ctx: &PageContext, providers: Vec<(String, String)>) -> Form {
    let z = zh(ctx);
    Form::new(
        ctx,
        "/care/services/new",
        ctx.pick("登记", "Offer it"),
        vec![
            Field::of(
                "organisation_id",
                ctx.pick("服务机构", "Provider"),
                FieldKind::Select(providers),
            ),
            Field::of(
                "kind",
                ctx.pick("服务类别", "Kind"),
                FieldKind::Select(
                    SERVICE_KINDS
                        .iter()
                        .map(|k| (k.as_str().to_string(), k.in_words(z).to_string()))
                        .collect(),
                ),
            ),
            Field::text("name", ctx.pick("名称", "Name")),
            Field::of(
                "description",
                ctx.pick("服务内容", "What it includes"),
                FieldKind::TextArea,
            ),
            Field::of(
                "unit",
                ctx.pick("计价单位", "Priced per"),
                FieldKind::Select(
                    SERVICE_UNITS
                        .iter()
                        .map(|u| (u.as_str().to_string(), u.in_words(z).to_string()))
                        .collect(),
                ),
            ),
            Field::text("minutes", ctx.pick("每次时长（分钟）", "Minutes per unit")).hint(
                ctx.pick(
                    "按小时计价的不用填；按次计价的必填；送餐可不填",
                    "Not for hours; required for visits; optional for meals",
                ),
            ),
            Field::text("price", ctx.pick("单价（元）", "Price per unit (CNY)"))
                .hint(ctx.pick("例如 45.00", "For example 45.00")),
        ],
    )
}

async fn offer_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let providers = provider_choices(&state, user).await;
    if providers.is_empty() && !user.is_platform_admin() {
        return Err(ctx.error(ApiError::Forbidden(
            "services are offered by the staff of a care provider or a hospital".into(),
        )));
    }
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        ctx.pick("登记服务项目", "Offer a service"),
        &offer_form(&ctx, providers),
    ))
}

/// Yuan as typed (`45`, `45.5`, `45.00`) in fen; `None` when it is not an amount.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let t = text.trim();
    let (whole, part) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || part.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let part: i64 = format!("{part:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(part)
}

async fn offer_action(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let providers = provider_choices(&state, user).await;
    let minutes = form_value(&pairs, "minutes").trim();
    let outcome = match (
        ServiceKind::parse(form_value(&pairs, "kind")),
        ServiceUnit::parse(form_value(&pairs, "unit")),
        parse_yuan(form_value(&pairs, "price")),
    ) {
        (None, _, _) => Err(ApiError::invalid("kind", "choose a kind")),
        (_, None, _) => Err(ApiError::invalid("unit", "choose what a unit is")),
        (_, _, None) => Err(ApiError::invalid(
            "price",
            "the price is an amount in yuan, e.g. 45.00",
        )),
        (Some(kind), Some(unit), Some(price_fen)) => {
            match (minutes.is_empty(), minutes.parse::<i64>()) {
                (false, Err(_)) => Err(ApiError::invalid("minutes", "minutes are a whole number")),
                (empty, parsed) => service::offer(
                    &state,
                    user,
                    NewCareService {
                        organisation_id: form_value(&pairs, "organisation_id").to_string(),
                        kind,
                        name: form_value(&pairs, "name").to_string(),
                        description: Some(form_value(&pairs, "description").to_string()),
                        unit,
                        minutes: if empty { None } else { parsed.ok() },
                        price_fen,
                        regions: None,
                    },
                )
                .await
                .map_err(|e| match e.field() {
                    Some("price_fen") => ApiError::invalid("price", e.public_detail()),
                    _ => e,
                }),
            }
        }
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/care/services").into_response()),
        Err(e) if client_error(&e) => Ok(form_page(
            &ctx,
            e.status(),
            ctx.pick("登记服务项目", "Offer a service"),
            &offer_form(&ctx, providers).fill(&pairs).with_error(&e),
        )),
        Err(e) => Err(ctx.error(e)),
    }
}

#[derive(Debug, Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

fn report_table(
    ctx: &PageContext,
    caption: &str,
    rows: &[SubsidyRow],
    total: Option<&SubsidyRow>,
) -> String {
    let line = |r: &SubsidyRow| {
        vec![
            Cell::from(r.name.clone()),
            Cell::from(r.orders.to_string()),
            Cell::from(r.elders.to_string()),
            Cell::from(hours(r.minutes)),
            Cell::from(yuan(r.price_fen)),
            Cell::from(yuan(r.subsidy_fen)),
            Cell::from(yuan(r.payable_fen)),
            Cell::from(yuan(r.open_subsidy_fen)),
            Cell::from(
                r.rating
                    .map(|x| format!("{x:.1}"))
                    .unwrap_or_else(|| "—".into()),
            ),
        ]
    };
    let mut lines: Vec<Vec<Cell>> = rows.iter().map(line).collect();
    if let Some(t) = total {
        lines.push(line(t));
    }
    Table {
        caption: caption.to_string(),
        headers: [
            ctx.pick("单位", "Organisation"),
            ctx.pick("完成订单", "Orders done"),
            ctx.pick("服务老人", "Elders"),
            ctx.pick("服务小时", "Hours"),
            ctx.pick("金额（元）", "Price (CNY)"),
            ctx.pick("补贴（元）", "Subsidy (CNY)"),
            ctx.pick("自付（元）", "Paid by elders (CNY)"),
            ctx.pick(
                "待完成订单占用补贴（元）",
                "Subsidy held by open orders (CNY)",
            ),
            ctx.pick("平均评分", "Rating"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: lines,
        empty: ctx
            .pick("这个月没有订单。", "No orders this month.")
            .to_string(),
    }
    .html()
}

async fn report_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    let user = ctx.user()?;
    let rules = care::rules(&state).await.map_err(|e| ctx.error(e))?;
    let month = q
        .month
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| service::local_month(&rules, Timestamp::now()));
    let report = service::report(&state, user, &month)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!(
        "{} {}",
        ctx.pick("居家养老服务补贴结算", "Home-care subsidies"),
        report.month
    );
    let mut body = format!(
        "<h1>{}</h1><form method=\"get\" action=\"/care/subsidies\" class=\"inline\"><div class=\"field\">\
         <label for=\"month\">{}</label><input class=\"input\" type=\"month\" id=\"month\" name=\"month\" value=\"{}\"></div>\
         <button type=\"submit\" class=\"button secondary\">{}</button></form>",
        esc(&title),
        esc(ctx.pick("月份", "Month")),
        esc(&report.month),
        esc(ctx.pick("查看", "Show"))
    );
    body.push_str(&report_table(
        &ctx,
        ctx.pick("按服务机构", "By provider"),
        &report.providers,
        Some(&report.total),
    ));
    body.push_str(&report_table(
        &ctx,
        ctx.pick("按社区", "By community"),
        &report.communities,
        None,
    ));
    Ok(ctx.render(&title, &body))
}

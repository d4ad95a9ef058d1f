//! The pages of targeted alerts: a resident's answer on the alert ("I am safe" / "I need
//! help"), sharing her location, the danger-zone list of an alert for community workers
//! and duty officers, and one person of it with the steps of her evacuation.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use kernel::AppState;
use kernel::pages::{PageContext, PageResult};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, form_pairs, form_value,
    post_button,
};

use crate::model::*;
use crate::service::{self, targeting};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/safety/alerts/{id}/answer", post(answer_action))
        .route("/safety/alerts/{id}/danger-zone", get(danger_zone_page))
        .route(
            "/safety/alerts/{id}/people/{person_id}",
            get(evacuee_page).post(record_step_action),
        )
        .route("/me/location", get(location_page).post(share_action))
        .route("/me/location/withdraw", post(withdraw_action))
}

/// A status in words.
pub fn status_name(ctx: &PageContext, status: EvacuationStatus) -> &'static str {
    match status {
        EvacuationStatus::Notified => ctx.pick("已通知，未回复", "Notified, no answer"),
        EvacuationStatus::Acknowledged => ctx.pick("已确认收到", "Acknowledged"),
        EvacuationStatus::NeedsHelp => ctx.pick("需要帮助", "Needs help"),
        EvacuationStatus::Transferred => ctx.pick("已转移", "Transferred"),
        EvacuationStatus::Safe => ctx.pick("平安", "Safe"),
    }
}

fn reason_name(ctx: &PageContext, reason: &str) -> String {
    if reason == "asked for help" {
        ctx.pick("求助", "Asked for help").to_string()
    } else {
        reason.to_string()
    }
}

/// The answer form at the top of an alert's page, for a resident it reached (or her
/// proxy): the first thing she sees.
pub async fn answer_section(state: &AppState, ctx: &PageContext, record: &AlertRecord) -> String {
    match ctx.user.as_ref() {
        Some(user) => match targeting::my_answer(state, user, &record.id).await {
            Ok(Some(status)) => answer_box(ctx, &record.id, status),
            _ => String::new(),
        },
        None => String::new(),
    }
}

/// Whom an alert reached, on its page for the responders, with the way to its
/// danger-zone list.
pub async fn responders_section(
    state: &AppState,
    ctx: &PageContext,
    record: &AlertRecord,
) -> String {
    let mut html = String::new();
    let (Some(user), Some(t)) = (ctx.user.as_ref(), &record.targeting) else {
        return html;
    };
    if !may_respond(state, user).await {
        return html;
    }
    let regions: Vec<String> = t.regions.iter().map(|r| r.name.clone()).collect();
    let rows = vec![
        (ctx.pick("发送", "Sent").to_string(), t.sent_at.rfc3339()),
        (
            ctx.pick("覆盖区域", "Regions").to_string(),
            if regions.is_empty() {
                ctx.pick(
                    "（解除通知发给原预警的全部接收人）",
                    "(a cancel goes to everyone the alert reached)",
                )
                .to_string()
            } else {
                regions.join("、")
            },
        ),
        (
            ctx.pick("按户籍地区送达", "Reached by registered region")
                .to_string(),
            t.by_region.to_string(),
        ),
        (
            ctx.pick("按共享位置送达", "Reached by shared location")
                .to_string(),
            t.by_location.to_string(),
        ),
        (
            ctx.pick("共送达", "Reached in all").to_string(),
            t.reached.to_string(),
        ),
    ];
    html.push_str(&format!(
        "<h2>{}</h2>{}",
        esc(ctx.pick("定向推送", "Targeted push")),
        Summary { rows }.html()
    ));
    if t.kind == "alert" {
        html.push_str(&format!(
            "<p><a class=\"button\" href=\"/safety/alerts/{}/danger-zone\">{}</a></p>",
            esc(&record.id),
            esc(ctx.pick("危险区域人员名单", "Danger-zone list"))
        ));
    }
    html
}

async fn may_respond(state: &AppState, user: &kernel::auth::Principal) -> bool {
    if service::require_duty(state, user).await.is_ok() {
        return true;
    }
    for org in user.staff_organisations() {
        if let Ok(o) = identity::service::get_organisation(state, org).await
            && o.kind == identity::model::OrgKind::CommunityCommittee
        {
            return true;
        }
    }
    false
}

fn answer_box(ctx: &PageContext, id: &str, status: EvacuationStatus) -> String {
    let mut html = format!(
        "<section class=\"notice\" aria-labelledby=\"answer-heading\"><h2 id=\"answer-heading\">{}</h2><p>{}</p>",
        esc(ctx.pick("此预警发给了您", "This alert was sent to you")),
        esc(&format!(
            "{}{}",
            ctx.pick("您的状态：", "Your status: "),
            status_name(ctx, status)
        )),
    );
    html.push_str(&format!(
        "<form method=\"post\" action=\"/safety/alerts/{}/answer\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <div class=\"field\"><label for=\"answer-note\">{}</label><textarea id=\"answer-note\" name=\"note\" rows=\"2\" maxlength=\"500\"></textarea></div>\
         <p><button type=\"submit\" name=\"answer\" value=\"safe\" class=\"button\">{}</button> \
         <button type=\"submit\" name=\"answer\" value=\"need_help\" class=\"button warning\">{}</button></p></form></section>",
        esc(id),
        esc(&ctx.csrf),
        esc(ctx.pick("补充说明（可不填：需要什么帮助、在哪里）", "A note (optional: what help, where you are)")),
        esc(ctx.pick("我平安", "I am safe")),
        esc(ctx.pick("我需要帮助", "I need help")),
    ));
    html
}

async fn answer_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let answer = match form_value(&pairs, "answer") {
        "safe" => Answer::Safe,
        "need_help" => Answer::NeedHelp,
        _ => {
            return Err(ctx.error(kernel::ApiError::invalid(
                "answer",
                "choose 我平安 or 我需要帮助",
            )));
        }
    };
    let note = form_value(&pairs, "note");
    targeting::answer(
        &state,
        user,
        &id,
        AlertAnswer {
            answer,
            note: (!note.trim().is_empty()).then(|| note.to_string()),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/safety/alerts/{id}")).into_response())
}

async fn danger_zone_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let zone = targeting::danger_zone(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("危险区域人员名单", "Danger-zone list");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "本预警送达的人中：求助的人，以及风险评估方法所列脆弱群体标签（如独居老人、持证残疾人）的人。姓名已遮蔽；打开某人可查看联系方式并记录转移情况，每次查看都记入审计。",
            "Of the people this alert reached: those who asked for help, and those carrying a vulnerable tag of the risk method (such as elderly living alone, registered disability). Names are masked; open a person to see how to reach her and record her evacuation — every opening is audited.",
        ))
    ));
    let c = &zone.counts;
    let rows = vec![
        (
            ctx.pick("送达", "Reached").to_string(),
            c.reached.to_string(),
        ),
        (
            status_name(&ctx, EvacuationStatus::Notified).to_string(),
            c.notified.to_string(),
        ),
        (
            status_name(&ctx, EvacuationStatus::Acknowledged).to_string(),
            c.acknowledged.to_string(),
        ),
        (
            status_name(&ctx, EvacuationStatus::NeedsHelp).to_string(),
            c.needs_help.to_string(),
        ),
        (
            status_name(&ctx, EvacuationStatus::Transferred).to_string(),
            c.transferred.to_string(),
        ),
        (
            status_name(&ctx, EvacuationStatus::Safe).to_string(),
            c.safe.to_string(),
        ),
    ];
    body.push_str(&Summary { rows }.html());
    let people: Vec<Vec<Cell>> = zone
        .people
        .iter()
        .map(|p| {
            vec![
                Cell::link(
                    p.name.clone(),
                    format!("/safety/alerts/{}/people/{}", zone.alert_id, p.person_id),
                ),
                Cell::from(p.region_name.clone()),
                Cell::from(
                    p.reasons
                        .iter()
                        .map(|r| reason_name(&ctx, r))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                Cell::from(format!(
                    "{}{}",
                    status_name(&ctx, p.status),
                    if p.status_by_herself {
                        ctx.pick("（本人回复）", " (her own answer)")
                    } else {
                        ""
                    }
                )),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("人员", "People").into(),
            headers: vec![
                ctx.pick("姓名", "Name").into(),
                ctx.pick("地区", "Region").into(),
                ctx.pick("原因", "Why listed").into(),
                ctx.pick("状态", "Status").into(),
            ],
            rows: people,
            empty: ctx
                .pick(
                    "暂无求助或脆弱群体人员。",
                    "No one asked for help, and no vulnerable person is listed.",
                )
                .into(),
        }
        .html(),
    );
    if zone.truncated {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "名单较长，仅显示前 1000 人（求助者在前）。",
                "The list is long: the first 1,000 are shown (those asking for help first)."
            ))
        ));
    }
    body.push_str(&format!(
        "<p><a href=\"/safety/alerts/{}\">{}</a></p>",
        esc(&zone.alert_id),
        esc(ctx.pick("返回预警", "Back to the alert"))
    ));
    Ok(ctx.render(title, &body))
}

async fn step_form(state: &AppState, ctx: &PageContext, id: &str, person_id: &str) -> Form {
    let shelters = service::shelters(state).await.unwrap_or_default();
    let mut shelter_choices = vec![(String::new(), ctx.pick("（不选）", "(none)").to_string())];
    shelter_choices.extend(shelters.into_iter().map(|s| (s.code.clone(), s.name)));
    Form::new(
        ctx,
        &format!("/safety/alerts/{id}/people/{person_id}"),
        ctx.pick("记录", "Record"),
        vec![
            Field::of(
                "status",
                ctx.pick("现在的情况", "Where she stands now"),
                FieldKind::Select(
                    [
                        EvacuationStatus::NeedsHelp,
                        EvacuationStatus::Transferred,
                        EvacuationStatus::Safe,
                    ]
                    .into_iter()
                    .map(|s| (s.as_str().to_string(), status_name(ctx, s).to_string()))
                    .collect(),
                ),
            ),
            Field::of(
                "shelter",
                ctx.pick("转移到的避难场所", "Shelter she was taken to"),
                FieldKind::Select(shelter_choices),
            )
            .hint(ctx.pick("仅“已转移”时填写。", "Only with transferred.")),
            Field::of("note", ctx.pick("说明", "Note"), FieldKind::TextArea).hint(ctx.pick(
                "最多 500 字，加密保存。",
                "Up to 500 characters, kept sealed.",
            )),
        ],
    )
}

fn evacuee_html(ctx: &PageContext, e: &Evacuee) -> String {
    let mut rows = vec![
        (ctx.pick("姓名", "Name").to_string(), e.name.clone()),
        (
            ctx.pick("电话", "Phone").to_string(),
            e.phone.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            ctx.pick("地址", "Address").to_string(),
            e.address.clone().unwrap_or_else(|| "—".into()),
        ),
        (
            ctx.pick("原因", "Why listed").to_string(),
            e.reasons
                .iter()
                .map(|r| reason_name(ctx, r))
                .collect::<Vec<_>>()
                .join("、"),
        ),
        (
            ctx.pick("状态", "Status").to_string(),
            status_name(ctx, e.status).to_string(),
        ),
    ];
    if let Some(shelter) = &e.shelter {
        rows.push((ctx.pick("避难场所", "Shelter").to_string(), shelter.clone()));
    }
    if let Some(note) = &e.note {
        rows.push((ctx.pick("说明", "Note").to_string(), note.clone()));
    }
    let mut html = Summary { rows }.html();
    if let Some(phone) = &e.phone {
        html.push_str(&format!(
            "<p><a class=\"button\" href=\"tel:{}\">{}</a></p>",
            esc(phone),
            esc(ctx.pick("打电话", "Call her"))
        ));
    }
    html
}

async fn evacuee_response(
    state: &AppState,
    ctx: &PageContext,
    id: &str,
    person_id: &str,
    status: StatusCode,
    form: Form,
) -> PageResult {
    let user = ctx.user()?;
    let evacuee = targeting::evacuee(state, user, id, person_id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("转移记录", "Evacuation record");
    let body = format!(
        "<h1>{}</h1>{}<h2>{}</h2>{}<p><a href=\"/safety/alerts/{}/danger-zone\">{}</a></p>",
        esc(title),
        evacuee_html(ctx, &evacuee),
        esc(ctx.pick("记录一步", "Record a step")),
        form.html(),
        esc(id),
        esc(ctx.pick("返回名单", "Back to the list"))
    );
    let mut response = ctx.render(title, &body).into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn evacuee_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, person_id)): Path<(String, String)>,
) -> PageResult {
    let form = step_form(&state, &ctx, &id, &person_id).await;
    evacuee_response(&state, &ctx, &id, &person_id, StatusCode::OK, form).await
}

async fn record_step_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, person_id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let form = step_form(&state, &ctx, &id, &person_id).await.fill(&pairs);
    let Some(status) = EvacuationStatus::parse(form_value(&pairs, "status")) else {
        let error = kernel::ApiError::invalid("status", "choose where she stands now");
        return evacuee_response(
            &state,
            &ctx,
            &id,
            &person_id,
            error.status(),
            form.with_error(&error),
        )
        .await;
    };
    let text = |name: &str| {
        let v = form_value(&pairs, name).trim();
        (!v.is_empty()).then(|| v.to_string())
    };
    let step = EvacuationStep {
        status,
        shelter: text("shelter"),
        note: text("note"),
    };
    match targeting::record_step(&state, user, &id, &person_id, step).await {
        Ok(_) => Ok(Redirect::to(&format!("/safety/alerts/{id}/danger-zone")).into_response()),
        Err(error)
            if error.status().is_client_error()
                && error.status() != StatusCode::NOT_FOUND
                && error.status() != StatusCode::FORBIDDEN =>
        {
            evacuee_response(
                &state,
                &ctx,
                &id,
                &person_id,
                error.status(),
                form.with_error(&error),
            )
            .await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

fn location_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/me/location",
        ctx.pick("共享这个位置", "Share this location"),
        vec![
            Field::text("latitude", ctx.pick("纬度", "Latitude"))
                .hint(ctx.pick("例如 30.2741", "e.g. 30.2741")),
            Field::text("longitude", ctx.pick("经度", "Longitude"))
                .hint(ctx.pick("例如 120.1551", "e.g. 120.1551")),
        ],
    )
}

async fn location_response(
    state: &AppState,
    ctx: &PageContext,
    status: StatusCode,
    form: Form,
) -> PageResult {
    let user = ctx.user()?;
    let shared = targeting::my_location(state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("位置共享", "Location sharing");
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        esc(title),
        esc(ctx.pick(
            "自愿共享您现在的位置后，发往这个地方的预警也会发给您（即使您的户籍不在这里）。位置加密保存，只用于预警，一天后不再使用；随时可以撤回。",
            "If you choose to share where you are now, alerts for that place reach you too (even if you are registered elsewhere). The location is kept sealed, used only for alerts and no longer after a day; you can withdraw it at any time.",
        ))
    );
    match &shared {
        Some(s) => {
            body.push_str(
                &Summary {
                    rows: vec![
                        (
                            ctx.pick("共享的位置", "Shared location").to_string(),
                            format!("{:.4}, {:.4}", s.latitude, s.longitude),
                        ),
                        (
                            ctx.pick("共享时间", "Shared at").to_string(),
                            s.shared_at.rfc3339(),
                        ),
                        (
                            ctx.pick("使用至", "Used until").to_string(),
                            s.used_until.rfc3339(),
                        ),
                    ],
                }
                .html(),
            );
            body.push_str(&post_button(
                ctx,
                "/me/location/withdraw",
                ctx.pick("撤回位置", "Withdraw it"),
                true,
            ));
        }
        None => body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick("您没有共享位置。", "You have not shared a location."))
        )),
    }
    body.push_str(&format!(
        "<h2>{}</h2>{}",
        esc(ctx.pick("共享位置", "Share a location")),
        form.html()
    ));
    let mut response = ctx.render(title, &body).into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn location_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    location_response(&state, &ctx, StatusCode::OK, location_form(&ctx)).await
}

async fn share_action(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let form = location_form(&ctx).fill(&pairs);
    let number = |name: &str| -> Result<f64, kernel::ApiError> {
        form_value(&pairs, name)
            .trim()
            .parse::<f64>()
            .map_err(|_| kernel::ApiError::invalid(name, format!("{name} is a number of degrees")))
    };
    let outcome = match (number("latitude"), number("longitude")) {
        (Ok(latitude), Ok(longitude)) => targeting::share_location(
            &state,
            user,
            LocationShare {
                latitude,
                longitude,
            },
        )
        .await
        .map(|_| ()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/me/location").into_response()),
        Err(error)
            if error.status().is_client_error() && error.status() != StatusCode::FORBIDDEN =>
        {
            location_response(&state, &ctx, error.status(), form.with_error(&error)).await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn withdraw_action(
    State(state): State<AppState>,
    ctx: PageContext,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    match targeting::withdraw_location(&state, user).await {
        Ok(()) | Err(kernel::ApiError::NotFound(_)) => {
            Ok(Redirect::to("/me/location").into_response())
        }
        Err(error) => Err(ctx.error(error)),
    }
}

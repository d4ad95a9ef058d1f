//! The elder-care pages: the elder's own page (one big "I need help" button and "call my
//! family"), an elder's page for her circle and her community (circle, devices, alerts), and
//! an alert's page with its timeline and the answers a member gives.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use kernel::AppState;
use kernel::auth::Principal;
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, askama_escape as esc, form_pairs, form_value,
};

use crate::model::*;
use crate::service::{self, Access};
use crate::{alerts, community};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/care", get(home_page))
        .route("/care/help", post(help_action))
        .route("/care/elders/{id}", get(elder_page))
        .route("/care/elders/{id}/circle", post(add_member_action))
        .route("/care/elders/{id}/visits", post(visit_action))
        .route("/care/community", get(community_page))
        .route("/care/alerts/{id}", get(alert_page))
        .route("/care/alerts/{id}/answer", post(answer_action))
        .merge(crate::orders::pages::router())
}

/// The navigation entry: everyone signed in (an elder, a relative, a community worker).
pub fn nav() -> Vec<NavItem> {
    vec![NavItem {
        href: "/care",
        zh: "居家养老",
        en: "Care at home",
        visible: |user| user.is_some(),
    }]
}

fn kind_words(ctx: &PageContext, kind: AlertKind) -> &'static str {
    kind.in_words(ctx.lang.tag().starts_with("zh"))
}

fn state_words(ctx: &PageContext, state: AlertState) -> &'static str {
    match state {
        AlertState::Open => ctx.pick("等待回应", "Waiting for an answer"),
        AlertState::Acknowledged => ctx.pick("有人正在赶去", "Someone is on the way"),
        AlertState::Resolved => ctx.pick("已处理", "Resolved"),
        AlertState::FalseAlarm => ctx.pick("误报", "False alarm"),
    }
}

fn role_words(ctx: &PageContext, role: MemberRole) -> &'static str {
    match role {
        MemberRole::Relative => ctx.pick("家人", "Relative"),
        MemberRole::CommunityWorker => ctx.pick("社区工作者", "Community worker"),
        MemberRole::CareProvider => ctx.pick("护理人员", "Carer"),
        MemberRole::Doctor => ctx.pick("家庭医生", "Doctor"),
    }
}

fn answer_words(ctx: &PageContext, answer: Answer) -> &'static str {
    match answer {
        Answer::OnMyWay => ctx.pick("我在路上", "On my way"),
        Answer::Resolved => ctx.pick("已处理", "Resolved"),
        Answer::FalseAlarm => ctx.pick("误报", "False alarm"),
    }
}

/// The person whose own care page this is: herself, or the person she acts for.
fn own_person(user: &Principal) -> Option<&str> {
    match &user.acting_for {
        Some(a) => Some(a.person_id.as_str()),
        None => user.person_id.as_deref(),
    }
}

fn alerts_table(ctx: &PageContext, alerts: &[Alert], caption: &str) -> String {
    Table {
        caption: caption.to_string(),
        headers: vec![
            ctx.pick("老人", "Elder").to_string(),
            ctx.pick("提醒", "Alert").to_string(),
            ctx.pick("状态", "State").to_string(),
            ctx.pick("级别", "Level").to_string(),
            ctx.pick("时间", "Raised").to_string(),
        ],
        rows: alerts
            .iter()
            .map(|a| {
                vec![
                    Cell::from(a.elder_name.clone()),
                    Cell::link(kind_words(ctx, a.kind), format!("/care/alerts/{}", a.id)),
                    Cell::from(state_words(ctx, a.state).to_string()),
                    Cell::from(a.level.to_string()),
                    Cell::from(a.raised_at.short()),
                ]
            })
            .collect(),
        empty: ctx
            .pick("没有未处理的提醒。", "No open alerts.")
            .to_string(),
    }
    .html()
}

async fn home_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let title = ctx.pick("居家养老", "Care at home");
    let mut body = format!("<h1>{}</h1>", esc(title));
    // The elder's own page: one big action first.
    if let Some(person) = own_person(user)
        && let Ok(elder) = service::elder_row(&state, person).await
    {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/care/help\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" class=\"button warning big\">{}</button></form><p class=\"hint\">{}</p>",
            esc(&ctx.csrf),
            esc(ctx.pick("我需要帮助", "I need help")),
            esc(ctx.pick(
                "按下后，您的家人会马上收到通知；没人回应时，社区和护理人员也会收到。",
                "Your family is told at once; if no one answers, your community and carers are told too.",
            ))
        ));
        let members = crate::store::members(&state.db, &elder.person_id)
            .await
            .map_err(|e| ctx.error(e.into()))?;
        if let Some(first) = members
            .iter()
            .find(|m| m.role == MemberRole::Relative.as_str())
        {
            let event = kernel::audit::AuditEvent::by(
                user,
                "eldercare.family.phone",
                format!("member:{}", first.id),
            )
            .subject(&first.person_id)
            .because(
                "show the elder her family's phone",
                kernel::audit::Basis::Consent(format!("care-circle:{}", first.id)),
            );
            if let Ok(Some(contact)) = identity::service::contact_of(&state, &first.person_id).await
                && let Some(phone) = contact.phone
                && state.audit.record(event).await.is_ok()
            {
                body.push_str(&format!(
                    "<p><a class=\"button big secondary\" href=\"tel:{}\">{} {}</a></p>",
                    esc(&phone),
                    esc(ctx.pick("给家人打电话：", "Call my family:")),
                    esc(&contact.name)
                ));
            }
        }
        body.push_str(&format!(
            "<p><a class=\"button big secondary\" href=\"/care/services\">{}</a></p>\
             <p><a href=\"/care/orders\">{}</a></p>",
            esc(ctx.pick(
                "预约上门服务（助餐、保洁、助浴、陪诊、护理）",
                "Order care at home (meals, cleaning, bathing, the doctor, nursing)"
            )),
            esc(ctx.pick("我的服务订单", "My care orders"))
        ));
        body.push_str(&format!(
            "<p><a href=\"/care/elders/{}\">{}</a></p>",
            esc(&elder.person_id),
            esc(ctx.pick(
                "我的照护圈、设备和提醒",
                "My care circle, devices and alerts"
            ))
        ));
        if ctx.elder {
            return Ok(ctx.render(title, &body));
        }
    }
    if user.acting_for.is_none() && !user.staff_organisations().is_empty() {
        body.push_str(&format!(
            "<p><a href=\"/care/community\">{}</a></p>",
            esc(ctx.pick(
                "社区老人一览（走访、提醒、离线设备）",
                "The community's elders (visits, alerts, devices offline)"
            ))
        ));
        body.push_str(&format!(
            "<p><a href=\"/care/services\">{}</a> · <a href=\"/care/provider\">{}</a> · <a href=\"/care/subsidies\">{}</a></p>",
            esc(ctx.pick("上门养老服务目录", "Care services")),
            esc(ctx.pick("服务机构订单", "Provider's orders")),
            esc(ctx.pick("服务补贴结算", "Care subsidies"))
        ));
    }
    let elders = service::my_elders(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let others: Vec<&Elder> = elders
        .iter()
        .filter(|e| Some(e.person_id.as_str()) != own_person(user))
        .collect();
    let open = alerts::open_alerts(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    body.push_str(&alerts_table(
        &ctx,
        &open,
        ctx.pick("未处理的提醒", "Open alerts"),
    ));
    body.push_str(
        &Table {
            caption: ctx.pick("我照护的老人", "Elders I look after").to_string(),
            headers: vec![
                ctx.pick("姓名", "Name").to_string(),
                ctx.pick("年龄", "Age").to_string(),
                ctx.pick("独居", "Lives alone").to_string(),
                ctx.pick("未处理提醒", "Open alerts").to_string(),
                ctx.pick("离线设备", "Devices offline").to_string(),
            ],
            rows: others
                .iter()
                .map(|e| {
                    vec![
                        Cell::link(e.name.clone(), format!("/care/elders/{}", e.person_id)),
                        Cell::from(e.age.to_string()),
                        Cell::from(
                            if e.lives_alone {
                                ctx.pick("是", "Yes")
                            } else {
                                ctx.pick("否", "No")
                            }
                            .to_string(),
                        ),
                        Cell::from(e.open_alerts.to_string()),
                        Cell::from(e.devices_offline.to_string()),
                    ]
                })
                .collect(),
            empty: ctx
                .pick(
                    "您还不在任何老人的照护圈里。",
                    "You are in no elder's care circle yet.",
                )
                .to_string(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

async fn help_action(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let Some(person) = own_person(user) else {
        return Err(ctx.error(kernel::ApiError::Forbidden(
            "help is asked for by the elder herself or her proxy".into(),
        )));
    };
    let alert = alerts::ask_for_help(&state, user, person, HelpRequest::default())
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/care/alerts/{}", alert.id)).into_response())
}

fn member_form(ctx: &PageContext, elder_id: &str) -> Form {
    let role = Field::of(
        "role",
        ctx.pick("身份", "Role"),
        FieldKind::Select(
            MEMBER_ROLES
                .iter()
                .map(|r| (r.as_str().to_string(), role_words(ctx, *r).to_string()))
                .collect(),
        ),
    );
    Form::new(
        ctx,
        &format!("/care/elders/{elder_id}/circle"),
        ctx.pick("加入照护圈", "Add to the circle"),
        vec![
            Field::text("name", ctx.pick("姓名", "Full name")).autocomplete("off"),
            Field::text("resident_id", ctx.pick("身份证号", "Resident ID number"))
                .autocomplete("off"),
            role,
            Field::text(
                "relationship",
                ctx.pick("关系（如：女儿）", "Relationship (e.g. daughter)"),
            ),
            Field::text(
                "organisation_id",
                ctx.pick(
                    "所属机构编号（工作人员填写）",
                    "Organisation id (staff only)",
                ),
            )
            .hint(ctx.pick("家人不用填", "Leave empty for a relative")),
        ],
    )
}

async fn elder_response(
    state: &AppState,
    ctx: &PageContext,
    status: StatusCode,
    elder_id: &str,
    form: Option<Form>,
) -> PageResult {
    let user = ctx.user()?;
    let (elder, access) = service::elder(state, user, elder_id)
        .await
        .map_err(|e| ctx.error(e))?;
    let circle = service::circle(state, user, elder_id)
        .await
        .map_err(|e| ctx.error(e))?;
    let devices = service::devices(state, user, elder_id)
        .await
        .map_err(|e| ctx.error(e))?;
    let recent = alerts::alerts_of(state, user, elder_id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!("{}{}", elder.name, ctx.pick("的照护", ": care"));
    let mut body = format!("<h1>{}</h1>", esc(&title));
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("年龄", "Age").to_string(), elder.age.to_string()),
                (
                    ctx.pick("独居", "Lives alone").to_string(),
                    if elder.lives_alone {
                        ctx.pick("是", "Yes")
                    } else {
                        ctx.pick("否", "No")
                    }
                    .to_string(),
                ),
                (
                    ctx.pick("未处理提醒", "Open alerts").to_string(),
                    elder.open_alerts.to_string(),
                ),
            ],
        }
        .html(),
    );
    body.push_str(&alerts_table(ctx, &recent, ctx.pick("提醒", "Alerts")));
    body.push_str(
        &Table {
            caption: ctx.pick("照护圈", "Care circle").to_string(),
            headers: vec![
                ctx.pick("级别", "Level").to_string(),
                ctx.pick("姓名", "Name").to_string(),
                ctx.pick("身份", "Role").to_string(),
                ctx.pick("关系", "Relationship").to_string(),
                ctx.pick("免打扰", "Quiet hours").to_string(),
                ctx.pick("代办授权", "Proxy").to_string(),
            ],
            rows: circle
                .iter()
                .map(|m| {
                    vec![
                        Cell::from(format!("{} · {}", m.level, m.contact_order)),
                        Cell::from(m.name.clone()),
                        Cell::from(role_words(ctx, m.role).to_string()),
                        Cell::from(m.relationship.clone()),
                        Cell::from(m.quiet_hours.clone().unwrap_or_else(|| "—".into())),
                        Cell::from(
                            if m.proxy_authorisation_id.is_some() {
                                ctx.pick("有", "Yes")
                            } else {
                                "—"
                            }
                            .to_string(),
                        ),
                    ]
                })
                .collect(),
            empty: ctx
                .pick("照护圈里还没有人。", "No one is in the circle yet.")
                .to_string(),
        }
        .html(),
    );
    body.push_str(
        &Table {
            caption: ctx.pick("设备", "Devices").to_string(),
            headers: vec![
                ctx.pick("编号", "Id").to_string(),
                ctx.pick("类型", "Kind").to_string(),
                ctx.pick("在线", "Online").to_string(),
                ctx.pick("最近上报", "Last heard").to_string(),
            ],
            rows: devices
                .iter()
                .map(|d| {
                    vec![
                        Cell::in_lang(d.id.clone(), "en"),
                        Cell::in_lang(d.kind.as_str().to_string(), "en"),
                        Cell::from(
                            if d.online {
                                ctx.pick("在线", "Online")
                            } else {
                                ctx.pick("离线", "Offline")
                            }
                            .to_string(),
                        ),
                        Cell::from(
                            d.last_seen_at
                                .map(|t| t.short())
                                .unwrap_or_else(|| "—".into()),
                        ),
                    ]
                })
                .collect(),
            empty: ctx.pick("没有绑定设备。", "No devices bound.").to_string(),
        }
        .html(),
    );
    let visits = community::visits(state, user, elder_id)
        .await
        .map_err(|e| ctx.error(e))?;
    body.push_str(
        &Table {
            caption: ctx.pick("走访记录", "Visits").to_string(),
            headers: vec![
                ctx.pick("时间", "When").to_string(),
                ctx.pick("走访人", "Visitor").to_string(),
                ctx.pick("情况", "Note").to_string(),
            ],
            rows: visits
                .iter()
                .map(|v| {
                    vec![
                        Cell::from(v.visited_at.short()),
                        Cell::from(v.visitor_name.clone()),
                        Cell::from(v.note.clone().unwrap_or_else(|| "—".into())),
                    ]
                })
                .collect(),
            empty: ctx
                .pick("还没有走访记录。", "No visits recorded yet.")
                .to_string(),
        }
        .html(),
    );
    let records_visits = match &access {
        Access::Staff | Access::Admin => true,
        Access::Member(m) => m.role == MemberRole::CommunityWorker.as_str(),
        _ => false,
    };
    if records_visits {
        body.push_str(&format!(
            "<h2>{}</h2>",
            esc(ctx.pick("记录一次走访", "Record a visit"))
        ));
        body.push_str(
            &Form::new(
                ctx,
                &format!("/care/elders/{elder_id}/visits"),
                ctx.pick("保存走访记录", "Save the visit"),
                vec![Field::of(
                    "note",
                    ctx.pick("走访情况", "What you saw and did"),
                    FieldKind::TextArea,
                )],
            )
            .html(),
        );
    }
    if access.manages() {
        body.push_str(&format!(
            "<h2>{}</h2>",
            esc(ctx.pick("加入照护圈", "Add someone to the circle"))
        ));
        body.push_str(&form.unwrap_or_else(|| member_form(ctx, elder_id)).html());
    }
    Ok(ctx.render_status(status, &title, &body))
}

async fn elder_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    elder_response(&state, &ctx, StatusCode::OK, &id, None).await
}

async fn add_member_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let form = member_form(&ctx, &id).fill(&pairs);
    let role = MemberRole::parse(form_value(&pairs, "role"));
    let outcome = match role {
        Some(role) => {
            let org = form_value(&pairs, "organisation_id").trim();
            service::add_member(
                &state,
                user,
                &id,
                NewMember {
                    name: form_value(&pairs, "name").to_string(),
                    resident_id: form_value(&pairs, "resident_id").to_string(),
                    role,
                    relationship: form_value(&pairs, "relationship").to_string(),
                    organisation_id: (!org.is_empty()).then(|| org.to_string()),
                    level: None,
                    contact_order: None,
                    quiet_from: None,
                    quiet_until: None,
                },
            )
            .await
            .map(|_| ())
        }
        None => Err(kernel::ApiError::invalid("role", "choose a role")),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/care/elders/{id}")).into_response()),
        Err(error)
            if error.status().is_client_error()
                && error.status() != StatusCode::FORBIDDEN
                && error.status() != StatusCode::NOT_FOUND =>
        {
            elder_response(
                &state,
                &ctx,
                error.status(),
                &id,
                Some(form.with_error(&error)),
            )
            .await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn alert_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let (alert, access) = alerts::alert(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = format!("{}：{}", kind_words(&ctx, alert.kind), alert.elder_name);
    let mut body = format!("<h1>{}</h1>", esc(&title));
    body.push_str(&format!(
        "<p class=\"lead\">{}</p>",
        esc(state_words(&ctx, alert.state))
    ));
    // The answers first: the one thing a member came to do.
    if !alert.state.closed() {
        let answers: &[Answer] = match access {
            Access::Elder => &[Answer::Resolved, Answer::FalseAlarm],
            _ if alert.state == AlertState::Acknowledged => &[Answer::Resolved, Answer::FalseAlarm],
            _ => ANSWERS,
        };
        for a in answers {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/care/alerts/{}/answer\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <input type=\"hidden\" name=\"answer\" value=\"{}\"><button type=\"submit\" class=\"button{}\">{}</button></form>",
                esc(&alert.id),
                esc(&ctx.csrf),
                a.as_str(),
                if *a == Answer::OnMyWay { " big" } else { " secondary" },
                esc(answer_words(&ctx, *a))
            ));
        }
    }
    let mut rows = vec![
        (
            ctx.pick("老人", "Elder").to_string(),
            alert.elder_name.clone(),
        ),
        (
            ctx.pick("级别", "Level").to_string(),
            alert.level.to_string(),
        ),
        (
            ctx.pick("发出时间", "Raised").to_string(),
            alert.raised_at.short(),
        ),
    ];
    if alert.folded > 0 {
        rows.push((
            ctx.pick("又触发", "Raised again").to_string(),
            alert.folded.to_string(),
        ));
    }
    if let Some(next) = alert.next_step_at {
        rows.push((
            ctx.pick("下一级通知时间", "Next level told at").to_string(),
            next.short(),
        ));
    }
    body.push_str(&Summary { rows }.html());
    let zh = ctx.lang.tag().starts_with("zh");
    body.push_str(
        &Table {
            caption: ctx.pick("经过", "Timeline").to_string(),
            headers: vec![
                ctx.pick("时间", "When").to_string(),
                ctx.pick("事项", "What").to_string(),
                ctx.pick("说明", "Detail").to_string(),
            ],
            rows: alert
                .timeline
                .iter()
                .map(|s| {
                    let what = match (s.kind.as_str(), s.answer) {
                        (_, Some(a)) => format!(
                            "{} · {}",
                            s.by_name.clone().unwrap_or_default(),
                            answer_words(&ctx, a)
                        ),
                        ("raised", _) => ctx.pick("发出", "Raised").to_string(),
                        ("folded", _) => ctx.pick("再次触发", "Raised again").to_string(),
                        ("told", _) => format!(
                            "{} {}",
                            ctx.pick("通知第", "Told level"),
                            s.level.unwrap_or(1)
                        ),
                        ("escalated", _) => format!(
                            "{} {}",
                            ctx.pick("升级到第", "Escalated to level"),
                            s.level.unwrap_or(1)
                        ),
                        ("closed", _) => ctx.pick("关闭", "Closed").to_string(),
                        (other, _) => other.to_string(),
                    };
                    let mut detail = s.detail.clone();
                    for e in &s.evidence {
                        detail.push_str(&format!(
                            "; {} {} ({}, {})",
                            e.metric.in_words(zh),
                            e.value,
                            e.why,
                            e.observed_at.short()
                        ));
                    }
                    vec![
                        Cell::from(s.at.short()),
                        Cell::from(what),
                        Cell::in_lang(detail, "en"),
                    ]
                })
                .collect(),
            empty: String::new(),
        }
        .html(),
    );
    body.push_str(&format!(
        "<p><a href=\"/care/elders/{}\">{}</a></p>",
        esc(&alert.elder_id),
        esc(ctx.pick("回到老人的照护页", "Back to the elder's care page"))
    ));
    Ok(ctx.render(&title, &body))
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
    let Some(answer) = Answer::parse(form_value(&pairs, "answer")) else {
        return Err(ctx.error(kernel::ApiError::invalid("answer", "choose an answer")));
    };
    alerts::answer(&state, user, &id, NewAnswer { answer, note: None })
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/care/alerts/{id}")).into_response())
}

async fn visit_action(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let note = form_value(&pairs, "note");
    community::record_visit(
        &state,
        user,
        &id,
        NewVisit {
            note: (!note.trim().is_empty()).then(|| note.to_string()),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!("/care/elders/{id}")).into_response())
}

/// Which organisation's elders.
#[derive(serde::Deserialize)]
struct CommunityQuery {
    organisation_id: Option<String>,
}

async fn community_page(
    State(state): State<AppState>,
    ctx: PageContext,
    axum::extract::Query(q): axum::extract::Query<CommunityQuery>,
) -> PageResult {
    let user = ctx.user()?;
    let organisation = q
        .organisation_id
        .or_else(|| user.staff_organisations().first().map(|o| o.to_string()))
        .ok_or_else(|| {
            ctx.error(kernel::ApiError::Forbidden(
                "the community's elders are for its staff".into(),
            ))
        })?;
    let elders = community::community(&state, user, &organisation)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("社区老人一览", "The community's elders");
    let due = elders.iter().filter(|e| e.visit_due).count();
    let alerting = elders.iter().filter(|e| e.elder.open_alerts > 0).count();
    let mut body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(title),
        esc(&format!(
            "{} {} · {} {} · {} {}",
            elders.len(),
            ctx.pick("位老人", "elders"),
            alerting,
            ctx.pick("位有未处理提醒", "with open alerts"),
            due,
            ctx.pick("位该走访了", "due a visit")
        ))
    );
    let yes_no = |b: bool| {
        if b {
            ctx.pick("是", "Yes")
        } else {
            ctx.pick("否", "No")
        }
        .to_string()
    };
    body.push_str(
        &Table {
            caption: ctx.pick("老人", "Elders").to_string(),
            headers: vec![
                ctx.pick("姓名", "Name").to_string(),
                ctx.pick("年龄", "Age").to_string(),
                ctx.pick("独居", "Lives alone").to_string(),
                ctx.pick("未处理提醒", "Open alerts").to_string(),
                ctx.pick("离线设备", "Devices offline").to_string(),
                ctx.pick("上次走访", "Last visit").to_string(),
                ctx.pick("下次走访", "Next visit").to_string(),
            ],
            rows: elders
                .iter()
                .map(|e| {
                    vec![
                        Cell::link(
                            e.elder.name.clone(),
                            format!("/care/elders/{}", e.elder.person_id),
                        ),
                        Cell::from(e.elder.age.to_string()),
                        Cell::from(yes_no(e.elder.lives_alone)),
                        Cell::from(e.elder.open_alerts.to_string()),
                        Cell::from(e.elder.devices_offline.to_string()),
                        Cell::from(
                            e.last_visit_at
                                .map(|t| t.short())
                                .unwrap_or_else(|| "—".into()),
                        ),
                        Cell::from(if e.visit_due {
                            format!(
                                "{}（{}）",
                                ctx.pick("该走访了", "Due"),
                                e.visit_due_at.short()
                            )
                        } else {
                            e.visit_due_at.short()
                        }),
                    ]
                })
                .collect(),
            empty: ctx
                .pick(
                    "这个机构还没有照护的老人。",
                    "This organisation looks after no elders yet.",
                )
                .to_string(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

//! The credentials' pages: the holder's wallet (list, one certificate with its QR code,
//! JSON download), the issuer's console (issue from a form built from the type's schema;
//! suspend, reinstate, revoke), and a verification page anyone may use.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kernel::auth::{Principal, Role};
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, action_table, askama_escape as esc, form_pairs,
    form_value, post_button,
};
use kernel::{ApiError, AppState};
use serde_json::{Map, Value};

use crate::model::*;
use crate::service;

/// The credentials' page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/wallet", get(wallet))
        .route("/me/wallet/{id}", get(wallet_item))
        .route("/me/wallet/{id}/download", get(download))
        .route("/credentials/issue", get(issue_page).post(issue))
        .route("/credentials/issued", get(issued_page))
        .route("/credentials/issued/{id}/{action}", post(change_status))
        .route("/credentials/verify", get(verify_page).post(verify))
        .route("/me/wallet/{id}/share", post(share))
        .route("/credentials/shared", get(shared_page))
        .route("/credentials/shared/{id}", get(shared_item))
        .merge(crate::passes::pages::router())
}

fn is_issuer_staff(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| {
        p.has_role(Role::Clerk) || p.has_role(Role::Reviewer) || p.has_role(Role::OrgAdmin)
    })
}

/// The credentials' navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/me/wallet",
            zh: "我的电子证照",
            en: "My certificates",
            visible: |p| p.is_some_and(|p| p.subject_person_id().is_some()),
        },
        NavItem {
            href: "/credentials/issued",
            zh: "证照签发",
            en: "Issue certificates",
            visible: is_issuer_staff,
        },
        NavItem {
            href: "/credentials/shared",
            zh: "他人分享的证照",
            en: "Shared with us",
            visible: is_issuer_staff,
        },
        NavItem {
            href: "/credentials/verify",
            zh: "证照核验",
            en: "Verify a certificate",
            visible: |_| true,
        },
    ]
    .into_iter()
    .chain(crate::passes::pages::nav())
    .collect()
}

fn status_label(ctx: &PageContext, status: CredentialStatus) -> String {
    match status {
        CredentialStatus::Active => ctx.pick("有效", "Valid"),
        CredentialStatus::Suspended => ctx.pick("已暂停", "Suspended"),
        CredentialStatus::Revoked => ctx.pick("已撤销", "Revoked"),
    }
    .to_string()
}

fn claim_rows(document: &Value) -> Vec<(String, String)> {
    document["credentialSubject"]
        .as_object()
        .map(|claims| {
            claims
                .iter()
                .filter(|(k, _)| k.as_str() != "id")
                .map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn wallet(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let mine = service::my_credentials(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("我的电子证照", "My certificates");
    let rows = mine
        .iter()
        .map(|c| {
            vec![
                Cell::link(c.type_name.clone(), format!("/me/wallet/{}", c.id)),
                Cell::from(c.issuer_name.clone()),
                Cell::from(
                    c.valid_until
                        .map(|t| t.short())
                        .unwrap_or_else(|| ctx.pick("长期", "No end date").to_string()),
                ),
                Cell::from(status_label(&ctx, c.status)),
            ]
        })
        .collect();
    let body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(title),
        esc(ctx.pick(
            "政府部门签发给您的电子证照。出示二维码或下载文件，任何人都可以核验真伪。",
            "Certificates departments issued to you. Show the QR code or download the file: anyone can check they are genuine."
        ))
    ) + &Table {
        caption: title.into(),
        headers: vec![
            ctx.pick("证照", "Certificate").into(),
            ctx.pick("签发机关", "Issued by").into(),
            ctx.pick("有效期至", "Valid until").into(),
            ctx.pick("状态", "Status").into(),
        ],
        rows,
        empty: ctx.pick("您还没有电子证照。", "You have no certificates yet.").into(),
    }
    .html();
    Ok(ctx.render(title, &body))
}

/// Text as a QR code (SVG) named `label` for screen readers, for showing on a phone.
pub(crate) fn qr_svg(text: &str, label: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(280, 280)
        .quiet_zone(true)
        .build();
    // The drawing itself carries the image role and its name (a figure may not).
    svg.split_once("<svg")
        .map(|(_, rest)| format!("<svg role=\"img\" aria-label=\"{}\"{rest}", esc(label)))
}

async fn wallet_item(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let c = service::credential_for(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut rows = vec![
        (
            ctx.pick("签发机关", "Issued by").to_string(),
            c.issuer_name.clone(),
        ),
        (
            ctx.pick("状态", "Status").to_string(),
            status_label(&ctx, c.status),
        ),
        (
            ctx.pick("签发日期", "Issued").to_string(),
            c.created_at.short(),
        ),
        (
            ctx.pick("有效期至", "Valid until").to_string(),
            c.valid_until
                .map(|t| t.short())
                .unwrap_or_else(|| ctx.pick("长期", "No end date").to_string()),
        ),
    ];
    rows.extend(claim_rows(&c.document));
    let mut body = format!("<h1>{}</h1>", esc(&c.type_name));
    body.push_str(&Summary { rows }.html());
    if let Some(svg) = qr_svg(
        &c.document.to_string(),
        ctx.pick("证照二维码", "QR code of the certificate"),
    ) {
        body.push_str(&format!(
            "<figure class=\"qr\">{svg}<figcaption>{}</figcaption></figure>",
            esc(ctx.pick(
                "请核验人员扫描此二维码；二维码包含带签名的完整证照。",
                "Ask the checker to scan this code: it holds the whole signed certificate."
            ))
        ));
    }
    if user.subject_person_id() == Some(c.person_id.as_str()) {
        let orgs = share_options(&state).await.map_err(|e| ctx.error(e))?;
        body.push_str(&format!(
            "<h2>{}</h2><p>{}</p>",
            esc(ctx.pick("分享给办事单位", "Share with an organisation")),
            esc(ctx.pick(
                "对方凭您的同意查看此证照，每次查看都记入您的数据足迹；您可随时在“我的授权同意”中撤回。",
                "They read it under your consent; every reading appears in your data footprint; withdraw it any time under My consents."
            ))
        ));
        body.push_str(&share_form(&ctx, &c.id, orgs).html());
    }
    body.push_str(&format!(
        "<p><a class=\"button secondary\" href=\"/me/wallet/{}/download\">{}</a> <a href=\"/me/wallet\">{}</a></p>",
        esc(&c.id),
        esc(ctx.pick("下载证照文件（JSON）", "Download the certificate (JSON)")),
        esc(ctx.pick("返回我的电子证照", "Back to my certificates"))
    ));
    Ok(ctx.render(&c.type_name, &body))
}

async fn download(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let c = service::credential_for(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let body = serde_json::to_vec_pretty(&c.document).unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vc+json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-{}.json\"",
        c.type_code, c.id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// ---- issuer console ----

/// The issue form for one type: the holder's resident ID, then one field per claim of
/// the type's schema.
fn issue_form(
    ctx: &PageContext,
    types: &[CredentialType],
    chosen: Option<&CredentialType>,
) -> Form {
    let mut fields = vec![
        Field::of(
            "type",
            ctx.pick("证照类型", "Certificate type"),
            FieldKind::Select(
                types
                    .iter()
                    .map(|t| (t.code.clone(), t.name.clone()))
                    .collect(),
            ),
        )
        .value(chosen.map(|t| t.code.as_str()).unwrap_or("")),
        Field::text(
            "resident_id",
            ctx.pick("持证人身份证号", "Holder's resident ID"),
        )
        .autocomplete("off"),
    ];
    if let Some(t) = chosen
        && let Some(props) = t.claims_schema["properties"].as_object()
    {
        for (name, spec) in props {
            let hint = match spec["type"].as_str() {
                Some("integer") => ctx.pick("整数", "A whole number"),
                Some("number") => ctx.pick("数字", "A number"),
                _ if spec.get("pattern").is_some() => {
                    ctx.pick("日期：YYYY-MM-DD", "Date: YYYY-MM-DD")
                }
                _ => "",
            };
            let mut field = Field::text(&format!("claim.{name}"), name);
            if !hint.is_empty() {
                field = field.hint(hint);
            }
            fields.push(field);
        }
    }
    Form::new(
        ctx,
        "/credentials/issue",
        if chosen.is_some() {
            ctx.pick("签发", "Issue")
        } else {
            ctx.pick("下一步", "Next")
        },
        fields,
    )
}

async fn types_for(state: &AppState, user: &Principal) -> Result<Vec<CredentialType>, ApiError> {
    let all = service::list_types(state).await?;
    let kind = match user.organisation_id() {
        Some(org) => Some(identity::service::get_organisation(state, org).await?.kind),
        None => None,
    };
    Ok(all
        .into_iter()
        .filter(|t| user.is_platform_admin() || kind.is_some_and(|k| k.as_str() == t.issuer_kind))
        .collect())
}

async fn issue_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let types = types_for(&state, user).await.map_err(|e| ctx.error(e))?;
    let title = ctx.pick("签发电子证照", "Issue a certificate");
    let body = format!("<h1>{}</h1>", esc(title)) + &issue_form(&ctx, &types, None).html();
    Ok(ctx.render(title, &body))
}

/// Typed claims from the form's `claim.*` fields, as the schema's property types say.
fn claims_from_form(t: &CredentialType, pairs: &[(String, String)]) -> Result<Value, ApiError> {
    let mut claims = Map::new();
    if let Some(props) = t.claims_schema["properties"].as_object() {
        for (name, spec) in props {
            let raw = form_value(pairs, &format!("claim.{name}")).trim();
            if raw.is_empty() {
                continue;
            }
            let value = match spec["type"].as_str() {
                Some("integer") => raw.parse::<i64>().map(Value::from).map_err(|_| {
                    ApiError::invalid(format!("claim.{name}"), "enter a whole number")
                })?,
                Some("number") => raw
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Value::from)
                    .ok_or_else(|| ApiError::invalid(format!("claim.{name}"), "enter a number"))?,
                _ => Value::String(raw.to_string()),
            };
            claims.insert(name.clone(), value);
        }
    }
    Ok(Value::Object(claims))
}

async fn issue(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let types = types_for(&state, user).await.map_err(|e| ctx.error(e))?;
    let title = ctx.pick("签发电子证照", "Issue a certificate");
    let chosen = types.iter().find(|t| t.code == form_value(&pairs, "type"));
    let Some(chosen) = chosen else {
        let form = issue_form(&ctx, &types, None)
            .fill(&pairs)
            .with_error(&ApiError::invalid(
                "type",
                ctx.pick("请选择证照类型", "Choose a type"),
            ));
        let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
        return Ok(ctx.render_status(StatusCode::BAD_REQUEST, title, &body));
    };
    // First step (type chosen, no claims yet): show the type's fields.
    if !pairs.iter().any(|(k, _)| k.starts_with("claim.")) {
        let form = issue_form(&ctx, &types, Some(chosen)).fill(&pairs);
        let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
        return Ok(ctx.render(title, &body));
    }
    let result = async {
        let rid = identity::model::ResidentId::parse(form_value(&pairs, "resident_id").trim())
            .map_err(|e| ApiError::invalid("resident_id", e))?;
        let person = identity::service::person_by_resident_id(&state, &rid)
            .await?
            .ok_or_else(|| ApiError::invalid("resident_id", "no registered person has this ID"))?;
        let claims = claims_from_form(chosen, &pairs)?;
        service::issue(
            &state,
            user,
            IssueRequest {
                type_code: chosen.code.clone(),
                person_id: person.id,
                claims,
                issuer_org_id: None,
            },
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/credentials/issued").into_response()),
        Err(error) if error.status().is_client_error() => {
            let form = issue_form(&ctx, &types, Some(chosen))
                .fill(&pairs)
                .with_error(&error);
            let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
            Ok(ctx.render_status(error.status(), title, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

/// A suspend/revoke form with its reason field, or a reinstate button.
fn status_form(ctx: &PageContext, id: &str, action: &str, label: &str) -> String {
    if action == "reinstate" {
        return post_button(
            ctx,
            &format!("/credentials/issued/{id}/reinstate"),
            label,
            false,
        );
    }
    format!(
        "<form method=\"post\" action=\"/credentials/issued/{id}/{action}\" class=\"field\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><label for=\"reason-{action}-{id}\">{reason}</label><input type=\"text\" id=\"reason-{action}-{id}\" name=\"reason\"> <button type=\"submit\" class=\"button warning\">{label}</button></form>",
        id = esc(id),
        action = action,
        csrf = esc(&ctx.csrf),
        reason = esc(ctx.pick("原因", "Reason")),
        label = esc(label),
    )
}

async fn issued_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let list = service::issued(&state, user, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("本机关签发的电子证照", "Certificates we issued");
    let rows = list
        .iter()
        .map(|c| {
            let holder = c.document["credentialSubject"]["name"]
                .as_str()
                .or_else(|| c.document["credentialSubject"]["owner"].as_str())
                .map(kernel::crypto::mask_name)
                .unwrap_or_default();
            let actions = match c.status {
                CredentialStatus::Active => {
                    status_form(&ctx, &c.id, "suspend", ctx.pick("暂停", "Suspend"))
                        + &status_form(&ctx, &c.id, "revoke", ctx.pick("撤销", "Revoke"))
                }
                CredentialStatus::Suspended => {
                    status_form(&ctx, &c.id, "reinstate", ctx.pick("恢复", "Reinstate"))
                        + &status_form(&ctx, &c.id, "revoke", ctx.pick("撤销", "Revoke"))
                }
                CredentialStatus::Revoked => String::new(),
            };
            vec![
                Cell::from(c.type_name.clone()),
                Cell::from(holder),
                Cell::from(c.created_at.short()),
                Cell::from(status_label(&ctx, c.status)),
                Cell::from(actions),
            ]
        })
        .collect();
    let mut body = format!(
        "<h1>{}</h1><p><a class=\"button\" href=\"/credentials/issue\">{}</a></p>",
        esc(title),
        esc(ctx.pick("签发电子证照", "Issue a certificate"))
    );
    body.push_str(&action_table(
        title,
        &[
            ctx.pick("证照", "Certificate"),
            ctx.pick("持证人", "Holder"),
            ctx.pick("签发日期", "Issued"),
            ctx.pick("状态", "Status"),
            ctx.pick("操作", "Action"),
        ],
        rows,
        ctx.pick("还没有签发过证照。", "Nothing issued yet."),
    ));
    Ok(ctx.render(title, &body))
}

async fn change_status(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let reason = form_value(&pairs, "reason").trim().to_string();
    service::change_status(
        &state,
        user,
        &id,
        StatusChange {
            action,
            reason: (!reason.is_empty()).then_some(reason),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/credentials/issued").into_response())
}

// ---- verification ----

fn verify_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/credentials/verify",
        ctx.pick("核验", "Verify"),
        vec![
            Field::of(
                "credential",
                ctx.pick("证照内容（JSON）", "The certificate (JSON)"),
                FieldKind::TextArea,
            )
            .hint(ctx.pick(
                "粘贴下载的证照文件内容，或扫描二维码得到的文字。",
                "Paste the downloaded file, or the text a scanned QR code gives.",
            )),
        ],
    )
}

async fn verify_page(ctx: PageContext) -> PageResult {
    let title = ctx.pick("核验电子证照", "Verify a certificate");
    let body = format!("<h1>{}</h1>", esc(title)) + &verify_form(&ctx).html();
    Ok(ctx.render(title, &body))
}

/// The table of a verification's checks: each check, its outcome and what was found.
pub(crate) fn checks_table(ctx: &PageContext, checks: &[Check]) -> String {
    let rows = checks
        .iter()
        .map(|c| {
            vec![
                Cell::from(check_label(ctx, &c.check)),
                Cell::from(outcome_label(ctx, c.outcome)),
                // What was found is said in English by the service.
                match ctx.lang {
                    kernel::pages::Lang::ZhCn => Cell::in_lang(c.detail.clone(), "en"),
                    kernel::pages::Lang::En => Cell::from(c.detail.clone()),
                },
            ]
        })
        .collect();
    Table {
        caption: ctx.pick("各项检查", "Each check").into(),
        headers: vec![
            ctx.pick("检查", "Check").into(),
            ctx.pick("结果", "Outcome").into(),
            ctx.pick("说明", "Detail").into(),
        ],
        rows,
        empty: String::new(),
    }
    .html()
}

/// A check's name in the reader's language.
fn check_label(ctx: &PageContext, check: &str) -> String {
    match check {
        "format" => ctx.pick("格式", "Format"),
        "signature" => ctx.pick("签名", "Signature"),
        "issuer" => ctx.pick("签发机关", "Issuer"),
        "validity" => ctx.pick("有效期", "Validity"),
        "status" => ctx.pick("状态", "Status"),
        "schema" => ctx.pick("证照内容格式", "Claims schema"),
        "colour" => ctx.pick("颜色", "Colour"),
        "replay" => ctx.pick("重复使用", "Replay"),
        other => other,
    }
    .to_string()
}

fn outcome_label(ctx: &PageContext, outcome: CheckOutcome) -> String {
    match outcome {
        CheckOutcome::Passed => ctx.pick("通过", "Passed"),
        CheckOutcome::Failed => ctx.pick("未通过", "Failed"),
        CheckOutcome::Warning => ctx.pick("提示", "Warning"),
        CheckOutcome::Skipped => ctx.pick("未检查", "Not checked"),
    }
    .to_string()
}

async fn verify(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let title = ctx.pick("核验电子证照", "Verify a certificate");
    let text = form_value(&pairs, "credential");
    let document: Value = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(_) => {
            let form = verify_form(&ctx)
                .fill(&pairs)
                .with_error(&ApiError::invalid(
                    "credential",
                    ctx.pick("这不是有效的 JSON 文本", "This is not valid JSON"),
                ));
            let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
            return Ok(ctx.render_status(StatusCode::BAD_REQUEST, title, &body));
        }
    };
    let report = service::verify(&state, &document, false)
        .await
        .map_err(|e| ctx.error(e))?;
    if let Some(user) = &ctx.user {
        service::record_verification(&state, user, &document, &report)
            .await
            .map_err(|e| ctx.error(e))?;
    }
    let verdict = if report.verified {
        ctx.pick(
            "核验通过：证照真实有效。",
            "Verified: the certificate is genuine and valid.",
        )
    } else {
        ctx.pick(
            "核验未通过：请勿采信此证照。",
            "Not verified: do not rely on this certificate.",
        )
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"notice\" role=\"status\">{}</p>",
        esc(title),
        esc(verdict)
    );
    if report.verified {
        body.push_str(
            &Summary {
                rows: claim_rows(&document),
            }
            .html(),
        );
    }
    body.push_str(&checks_table(&ctx, &report.checks));
    body.push_str(&verify_form(&ctx).html());
    let response: Response = ctx.render(title, &body);
    Ok(response)
}

// ---- sharing ----

async fn share_options(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let page = identity::service::list_organisations(
        state,
        None,
        &kernel::api::PageQuery {
            cursor: None,
            limit: Some(100),
        },
    )
    .await?;
    Ok(page.items.into_iter().map(|o| (o.id, o.name)).collect())
}

fn share_form(ctx: &PageContext, id: &str, orgs: Vec<(String, String)>) -> Form {
    Form::new(
        ctx,
        &format!("/me/wallet/{id}/share"),
        ctx.pick("分享", "Share"),
        vec![
            Field::of(
                "organisation_id",
                ctx.pick("分享给", "Share with"),
                FieldKind::Select(orgs),
            ),
            Field::text("purpose", ctx.pick("用途", "Purpose")).hint(ctx.pick(
                "例如：办理公交老年优待卡",
                "For example: to apply for a senior bus pass",
            )),
        ],
    )
}

async fn share(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let result = service::share(
        &state,
        user,
        &id,
        NewShare {
            organisation_id: form_value(&pairs, "organisation_id").into(),
            purpose: form_value(&pairs, "purpose").into(),
            valid_until: None,
        },
    )
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/me/consents").into_response()),
        Err(error) if error.status().is_client_error() => {
            let orgs = share_options(&state).await.map_err(|e| ctx.error(e))?;
            let title = ctx.pick("分享给办事单位", "Share with an organisation");
            let form = share_form(&ctx, &id, orgs).fill(&pairs).with_error(&error);
            let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
            Ok(ctx.render_status(error.status(), title, &body))
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn shared_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let shares = service::shared_with(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("他人分享给本单位的证照", "Certificates shared with us");
    let rows = shares
        .iter()
        .map(|c| {
            vec![
                Cell::link(
                    c.resource_name.clone(),
                    format!("/credentials/shared/{}", c.id),
                ),
                Cell::from(c.purpose.clone()),
                Cell::from(c.valid_until.short()),
                Cell::from(match c.status {
                    trust::model::ConsentStatus::Active => ctx.pick("有效", "In force"),
                    trust::model::ConsentStatus::NotYetValid => ctx.pick("未生效", "Not yet valid"),
                    trust::model::ConsentStatus::Expired => ctx.pick("已过期", "Expired"),
                    trust::model::ConsentStatus::Revoked => ctx.pick("已撤回", "Withdrawn"),
                    trust::model::ConsentStatus::Used => ctx.pick("已使用", "Used"),
                }),
            ]
        })
        .collect();
    let body = format!("<h1>{}</h1>", esc(title))
        + &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("证照", "Certificate").into(),
                ctx.pick("用途", "Purpose").into(),
                ctx.pick("有效期至", "Until").into(),
                ctx.pick("状态", "Status").into(),
            ],
            rows,
            empty: ctx
                .pick(
                    "还没有人分享证照给本单位。",
                    "Nothing has been shared with us.",
                )
                .into(),
        }
        .html();
    Ok(ctx.render(title, &body))
}

async fn shared_item(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let shared = service::read_shared(&state, user, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = shared.document["name"]
        .as_str()
        .unwrap_or("证照")
        .to_string();
    let verdict = if shared.verification.verified {
        ctx.pick(
            "核验通过：证照真实有效。",
            "Verified: the certificate is genuine and valid.",
        )
    } else {
        ctx.pick(
            "核验未通过：请勿采信此证照。",
            "Not verified: do not rely on this certificate.",
        )
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"notice\" role=\"status\">{}</p><p>{} {}</p>",
        esc(&title),
        esc(verdict),
        esc(ctx.pick("用途：", "Purpose:")),
        esc(&shared.purpose)
    );
    body.push_str(
        &Summary {
            rows: claim_rows(&shared.document),
        }
        .html(),
    );
    let mut response = ctx.render(&title, &body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

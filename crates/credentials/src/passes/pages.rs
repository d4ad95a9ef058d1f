//! The passes' pages: the holder's passes (我的通行码) with the one she shows as a QR code
//! in words and colour, and the checker's scanner (扫码核验).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kernel::ApiError;
use kernel::AppState;
use kernel::auth::Principal;
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{
    Field, FieldKind, Form, Summary, askama_escape as esc, form_pairs, form_value, post_button,
};

use super::model::*;
use super::service;
use crate::pages::{checks_table, qr_svg};

/// The passes' page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/passes", get(passes_page))
        .route("/me/passes/{code}", post(show_pass))
        .route("/passes/scan", get(scan_page).post(scan))
}

fn is_scanner(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.organisation_id().is_some())
}

/// The passes' navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/me/passes",
            zh: "我的通行码",
            en: "My passes",
            visible: |p| p.is_some_and(|p| p.subject_person_id().is_some()),
        },
        NavItem {
            href: "/passes/scan",
            zh: "扫码核验",
            en: "Scan a pass",
            visible: is_scanner,
        },
    ]
}

/// The colour in words (never by colour alone).
fn colour_words(ctx: &PageContext, colour: Colour) -> &'static str {
    match colour {
        Colour::Green => ctx.pick("绿码：可以通行", "Green: go ahead"),
        Colour::Yellow => ctx.pick(
            "黄码：可以通行，请留意提示",
            "Yellow: go ahead, see the note",
        ),
        Colour::Red => ctx.pick("红码：暂不能使用", "Red: cannot be used now"),
    }
}

/// Why a pass has its colour, in the reader's language.
fn reason_words(ctx: &PageContext, code: &str, fallback: &str) -> String {
    match code {
        "eligible" => ctx.pick("符合条件。", "You qualify.").into(),
        "expires_soon" => ctx
            .pick(
                "证照即将到期，请及时续办。",
                "Your certificate ends soon: renew it.",
            )
            .into(),
        "suspended" => ctx
            .pick(
                "证照已暂停，请联系发证机关。",
                "Your certificate is suspended: contact its issuer.",
            )
            .into(),
        "revoked" => ctx
            .pick(
                "证照已撤销，请联系发证机关。",
                "Your certificate was revoked: contact its issuer.",
            )
            .into(),
        "expired" => ctx
            .pick(
                "证照已过期，请续办。",
                "Your certificate has expired: renew it.",
            )
            .into(),
        "no_certificate" => ctx
            .pick(
                "您还没有办理所需的电子证照。",
                "You do not hold the certificate this pass needs.",
            )
            .into(),
        "under_age" => ctx
            .pick(
                "您的年龄暂不符合条件。",
                "This pass is for older residents.",
            )
            .into(),
        _ => fallback.into(),
    }
}

fn colour_class(colour: Colour) -> &'static str {
    match colour {
        Colour::Green => "pass pass-green",
        Colour::Yellow => "pass pass-yellow",
        Colour::Red => "pass pass-red",
    }
}

async fn passes_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let offers = service::offers(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("我的通行码", "My passes");
    let mut body = format!(
        "<h1>{}</h1><p class=\"lead\">{}</p>",
        esc(title),
        esc(ctx.pick(
            "出示通行码，请工作人员扫码。每个码几分钟内有效，只能扫一次；用过后再点一次“出示”即可。",
            "Show a pass for the checker to scan. Each lasts a few minutes and is good for one scan; press Show again for a new one."
        ))
    );
    if offers.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick("暂无可用的通行码。", "There are no passes yet."))
        ));
    }
    for offer in &offers {
        let t = &offer.pass_type;
        let reason = reason_words(&ctx, &offer.reason_code, &offer.reason);
        body.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><p>{}</p>",
            esc(&t.name),
            esc(&t.description)
        ));
        match offer.colour {
            Some(colour) => {
                body.push_str(&format!(
                    "<p><strong>{}</strong> {}</p>",
                    esc(colour_words(&ctx, colour)),
                    esc(&reason)
                ));
                body.push_str(&post_button(
                    &ctx,
                    &format!("/me/passes/{}", t.code),
                    &format!("{}：{}", ctx.pick("出示", "Show"), t.name),
                    false,
                ));
            }
            None => body.push_str(&format!("<p>{}</p>", esc(&reason))),
        }
        body.push_str("</section>");
    }
    Ok(ctx.render(title, &body))
}

/// `HH:MM:SS` of a timestamp.
fn clock(t: kernel::time::Timestamp) -> String {
    let dt = t.to_datetime();
    format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
}

async fn show_pass(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let pass = service::mint(&state, user, PassRequest { type_code: code })
        .await
        .map_err(|e| ctx.error(e))?;
    let title = pass.type_name.clone();
    let minutes = (pass.expires_at.0 - pass.issued_at.0) / 60_000_000;
    let mut body = format!("<h1>{}</h1>", esc(&title));
    body.push_str(&format!(
        "<div class=\"{}\"><p class=\"pass-colour\">{}</p><p>{}</p>",
        colour_class(pass.colour),
        esc(colour_words(&ctx, pass.colour)),
        esc(&reason_words(&ctx, &pass.reason_code, &pass.reason))
    ));
    if let Some(svg) = qr_svg(&pass.token, ctx.pick("通行码二维码", "QR code of the pass")) {
        body.push_str(&format!(
            "<figure class=\"qr\">{svg}<figcaption>{}</figcaption></figure>",
            esc(ctx.pick(
                "请工作人员扫描此二维码。",
                "Ask the checker to scan this code."
            ))
        ));
    }
    body.push_str(
        &Summary {
            rows: vec![
                (ctx.pick("持码人", "Holder").into(), pass.holder.clone()),
                (
                    ctx.pick("有效至", "Valid until").into(),
                    format!(
                        "{} {}",
                        clock(pass.expires_at),
                        match ctx.lang {
                            kernel::pages::Lang::ZhCn => {
                                format!("（{minutes} 分钟内有效，只能扫一次）")
                            }
                            kernel::pages::Lang::En => format!("(for {minutes} minutes, one scan)"),
                        }
                    ),
                ),
            ],
        }
        .html(),
    );
    body.push_str(&format!(
        "<details><summary>{}</summary><p class=\"token\">{}</p></details>",
        esc(ctx.pick(
            "扫不出时：通行码文字",
            "If the code will not scan: the pass as text"
        )),
        esc(&pass.token)
    ));
    body.push_str("</div>");
    body.push_str(&post_button(
        &ctx,
        &format!("/me/passes/{}", pass.type_code),
        ctx.pick("刷新通行码", "New pass"),
        false,
    ));
    body.push_str(&format!(
        "<p><a href=\"/me/passes\">{}</a></p>",
        esc(ctx.pick("返回我的通行码", "Back to my passes"))
    ));
    let mut response: Response = ctx.render(&title, &body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn scan_form(ctx: &PageContext) -> Form {
    Form::new(
        ctx,
        "/passes/scan",
        ctx.pick("核验", "Check"),
        vec![
            Field::of(
                "token",
                ctx.pick("通行码内容", "The pass"),
                FieldKind::TextArea,
            )
            .hint(ctx.pick(
                "扫码枪扫描后自动填入，或粘贴二维码中的文字。",
                "A scanner types it in; or paste the text the QR code holds.",
            )),
            Field::text(
                "checkpoint",
                ctx.pick("核验地点（可不填）", "Checkpoint (optional)"),
            )
            .hint(ctx.pick("例如：12 路公交", "For example: bus route 12")),
        ],
    )
}

async fn scan_page(ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    if user.organisation_id().is_none() {
        return Err(ctx.error(ApiError::Forbidden(
            "only an organisation's staff scan passes".into(),
        )));
    }
    let title = ctx.pick("扫码核验", "Scan a pass");
    let body = format!("<h1>{}</h1>", esc(title)) + &scan_form(&ctx).html();
    Ok(ctx.render(title, &body))
}

async fn scan(State(state): State<AppState>, ctx: PageContext, body: Bytes) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let title = ctx.pick("扫码核验", "Scan a pass");
    let token = form_value(&pairs, "token").trim().to_string();
    if token.is_empty() {
        let form = scan_form(&ctx).fill(&pairs).with_error(&ApiError::invalid(
            "token",
            ctx.pick("请扫描或粘贴通行码", "Scan or paste a pass"),
        ));
        let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
        return Ok(ctx.render_status(StatusCode::BAD_REQUEST, title, &body));
    }
    let checkpoint = Some(form_value(&pairs, "checkpoint").to_string());
    let result = match service::scan(&state, user, ScanRequest { token, checkpoint }).await {
        Ok(result) => result,
        Err(error) if error.status().is_client_error() => {
            let form = scan_form(&ctx).fill(&pairs).with_error(&error);
            let body = format!("<h1>{}</h1>", esc(title)) + &form.html();
            return Ok(ctx.render_status(error.status(), title, &body));
        }
        Err(error) => return Err(ctx.error(error)),
    };
    let (class, verdict) = if result.accepted {
        (
            colour_class(result.colour.unwrap_or(Colour::Green)),
            ctx.pick("通过：请放行", "Accepted: let them through"),
        )
    } else {
        (
            "pass pass-red",
            ctx.pick("不通过：请勿放行", "Refused: do not let them through"),
        )
    };
    let mut body = format!(
        "<h1>{}</h1><div class=\"{class}\" role=\"status\"><p class=\"pass-colour\">{}</p>",
        esc(title),
        esc(verdict)
    );
    let mut rows = Vec::new();
    if let Some(colour) = result.colour {
        rows.push((
            ctx.pick("颜色", "Colour").into(),
            colour_words(&ctx, colour).into(),
        ));
    }
    if let Some(name) = &result.type_name {
        rows.push((ctx.pick("通行码", "Pass").into(), name.clone()));
    }
    if let Some(holder) = &result.holder {
        rows.push((ctx.pick("持码人", "Holder").into(), holder.clone()));
    }
    if let Some(issuer) = &result.issuer {
        rows.push((ctx.pick("签发机关", "Issued by").into(), issuer.clone()));
    }
    if !rows.is_empty() {
        body.push_str(&Summary { rows }.html());
    }
    body.push_str("</div>");
    body.push_str(&checks_table(&ctx, &result.checks));
    body.push_str(&format!(
        "<h2>{}</h2>",
        esc(ctx.pick("核验下一个", "Check the next one"))
    ));
    body.push_str(&scan_form(&ctx).html());
    Ok(ctx.render(title, &body).into_response())
}

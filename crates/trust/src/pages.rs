//! Trust's pages: my data footprint, and the audit log for administrators.

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use kernel::api::PageQuery;
use kernel::auth::Principal;
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{Cell, Table, askama_escape as esc, pager};
use kernel::{ApiError, AppState};

use crate::service;

/// Trust's page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/footprint", get(footprint_page))
        .route("/admin/audit", get(audit_page))
}

/// Trust's navigation entries.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/me/footprint",
            zh: "我的数据足迹",
            en: "My data footprint",
            visible: |p| p.is_some_and(|p| p.person_id.is_some()),
        },
        NavItem {
            href: "/admin/audit",
            zh: "审计日志",
            en: "Audit log",
            visible: |p| p.is_some_and(Principal::is_platform_admin),
        },
    ]
}

fn action_label(ctx: &PageContext, action: &str) -> String {
    let (zh, en) = match action {
        "person.read" => ("查看了您的个人信息", "Read your personal record"),
        "person.create" => ("登记了您的信息", "Registered your record"),
        "proxy.grant" => ("授权代办", "Granted a proxy authorisation"),
        "proxy.revoke" => ("撤销代办授权", "Revoked a proxy authorisation"),
        "exchange.read" => (
            "通过数据共享获取了您的信息",
            "Received your data through data sharing",
        ),
        "consent.grant" => ("代您给出了同意", "Gave a consent for you"),
        "consent.revoke" => ("代您撤回了同意", "Withdrew a consent for you"),
        "footprint.read" => ("查看了您的数据足迹", "Read your data footprint"),
        other => return other.to_string(),
    };
    ctx.pick(zh, en).to_string()
}

fn basis_label(ctx: &PageContext, kind: &str) -> String {
    match kind {
        "consent" => ctx.pick("您的同意", "Your consent"),
        "agreement" => ctx.pick("数据共享协议", "Data-sharing agreement"),
        "statutory" => ctx.pick("法定职责", "Statutory duty"),
        "proxy" => ctx.pick("您的代办授权", "Your proxy authorisation"),
        "own_data" => ctx.pick("本人操作", "Your own action"),
        "presented" => ctx.pick("本人出示", "You presented it"),
        _ => ctx.pick("无", "None"),
    }
    .to_string()
}

async fn footprint_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(page): Query<PageQuery>,
) -> PageResult {
    let user = ctx.user()?;
    let entries = service::footprint(&state, user, &page)
        .await
        .map_err(|e| ctx.error(e))?;
    let rows = entries
        .items
        .iter()
        .map(|e| {
            let who = match (&e.actor, &e.organisation) {
                (Some(a), Some(o)) => format!("{a}（{o}）"),
                (Some(a), None) => a.clone(),
                (None, Some(o)) => o.clone(),
                (None, None) => ctx.pick("系统", "The system").to_string(),
            };
            vec![
                Cell::from(e.at.short()),
                Cell::from(who),
                Cell::from({
                    let mut what = action_label(&ctx, &e.action);
                    // Gateway records end with a description for people: the resource's
                    // name and the fields' titles.
                    if let Some((_, described)) =
                        e.resource.split_once(kernel::audit::DESCRIPTION_SEPARATOR)
                    {
                        what.push_str(&format!("：{described}"));
                    }
                    if e.outcome == "denied" {
                        what.push_str(ctx.pick("（已拒绝）", " (refused)"));
                    }
                    what
                }),
                Cell::from(if e.purpose.is_empty() {
                    "—".to_string()
                } else {
                    e.purpose.clone()
                }),
                Cell::from(basis_label(&ctx, &e.basis_kind)),
            ]
        })
        .collect();
    let title = ctx.pick("我的数据足迹", "My data footprint");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p class=\"lead\">{}</p>",
        ctx.pick(
            "这里列出除您本人以外，谁在什么时候、为了什么、依据什么使用了您的数据。",
            "Everyone other than you who used your data: who, when, why, and on what basis."
        )
    ));
    body.push_str(
        &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("时间", "When").into(),
                ctx.pick("谁", "Who").into(),
                ctx.pick("做了什么", "What").into(),
                ctx.pick("用途", "Purpose").into(),
                ctx.pick("依据", "Basis").into(),
            ],
            rows,
            empty: ctx
                .pick(
                    "还没有人使用过您的数据。",
                    "Nobody else has used your data yet.",
                )
                .into(),
        }
        .html(),
    );
    body.push_str(&pager(
        &ctx,
        "/me/footprint",
        entries.next_cursor.as_deref(),
    ));
    Ok(ctx.render(title, &body))
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(page): Query<PageQuery>,
) -> PageResult {
    let user = ctx.user()?;
    if !user.is_platform_admin() {
        return Err(ctx.error(ApiError::Forbidden(
            ctx.pick(
                "只有平台管理员可以查看审计日志。",
                "Only platform administrators see the audit log.",
            )
            .into(),
        )));
    }
    let records = service::recent(&state, user, None, &page)
        .await
        .map_err(|e| ctx.error(e))?;
    let rows = records
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::from(r.at.short()),
                Cell::from(format!("{} #{}", r.partition, r.seq)),
                Cell::from(r.action.clone()),
                Cell::from(r.resource.clone()),
                Cell::from(r.purpose.clone()),
                Cell::from(format!(
                    "{} {}",
                    r.basis_kind,
                    r.basis_ref.clone().unwrap_or_default()
                )),
                Cell::from(r.outcome.clone()),
            ]
        })
        .collect();
    let title = ctx.pick("审计日志", "Audit log");
    let mut body = format!("<h1>{}</h1>", esc(title));
    body.push_str(&format!(
        "<p>{}</p>",
        ctx.pick(
            "每条记录都带有自身和上一条记录的 SHA-256 哈希，按分区成链。运行 civitas audit verify 可检查是否被篡改。",
            "Each record carries the SHA-256 of itself and of the record before it, one chain per partition. Run civitas audit verify to check for tampering."
        )
    ));
    body.push_str(
        &Table {
            caption: title.into(),
            headers: vec![
                ctx.pick("时间", "When").into(),
                ctx.pick("链与序号", "Chain and seq").into(),
                ctx.pick("操作", "Action").into(),
                ctx.pick("对象", "Resource").into(),
                ctx.pick("用途", "Purpose").into(),
                ctx.pick("依据", "Basis").into(),
                ctx.pick("结果", "Outcome").into(),
            ],
            rows,
            empty: ctx.pick("没有记录。", "No records.").into(),
        }
        .html(),
    );
    body.push_str(&pager(&ctx, "/admin/audit", records.next_cursor.as_deref()));
    Ok(ctx.render(title, &body))
}

//! The rules' pages: the packages and policies (政策规则), one policy's proposals and
//! reviews for its department, with runs and bulk confirmation; and the resident's
//! entitlements (我的待遇), each with why, and a way to decline.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use kernel::AppState;
use kernel::auth::Principal;
use kernel::pages::{NavItem, PageContext, PageResult};
use kernel::widgets::{
    Cell, Field, FieldKind, Form, Summary, Table, action_table, askama_escape as esc, form_pairs,
    form_value, form_values, post_button,
};

use crate::model::*;
use crate::service;

/// The rules' page routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(rules_page))
        .route("/rules/packages/{name}", get(package_page))
        .route(
            "/rules/packages/{name}/edit",
            get(edit_page).post(save_edit),
        )
        .route(
            "/rules/packages/{name}/versions/{digest}/publish",
            post(publish),
        )
        .route("/rules/policies/{code}", get(policy_page))
        .route("/rules/policies/{code}/run", post(run))
        .route("/rules/policies/{code}/confirm", post(confirm))
        .route("/rules/policies/{code}/review", post(review))
        .route("/me/entitlements", get(entitlements_page))
        .route("/me/entitlements/{code}/decline", post(decline))
}

fn is_staff(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.is_platform_admin() || p.organisation_id().is_some())
}

fn is_resident(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.subject_person_id().is_some())
}

/// The rules' navigation.
pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            href: "/me/entitlements",
            zh: "我的待遇",
            en: "My entitlements",
            visible: is_resident,
        },
        NavItem {
            href: "/rules",
            zh: "政策规则",
            en: "Policies and rules",
            visible: is_staff,
        },
    ]
}

fn h1(text: &str) -> String {
    format!("<h1>{}</h1>", esc(text))
}

fn status_name(ctx: &PageContext, status: &str) -> String {
    match status {
        "proposed" => ctx.pick("待确认", "proposed"),
        "confirmed" => ctx.pick("已纳入", "enrolled"),
        "declined" => ctx.pick("本人放弃", "declined"),
        "rejected" => ctx.pick("不予纳入", "rejected"),
        "review" => ctx.pick("待复核", "to review"),
        "ended" => ctx.pick("已终止", "ended"),
        other => other,
    }
    .to_string()
}

async fn rules_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    ctx.user()?;
    let book = service::rulebook(&state).map_err(|e| ctx.error(e))?;
    let policies = service::policies(&state).await.map_err(|e| ctx.error(e))?;
    let title = ctx.pick("政策规则", "Policies and rules");
    let mut body = h1(title);
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "每项政策都以规则发布：谁符合条件、每月多少，由规则按户籍等登记信息计算，每个结论都附带理由和法规条款。符合条件的居民由主管部门确认后自动纳入（免申即享）。",
            "Each policy is published as rules: who qualifies and for how much is computed from the registers, and every decision carries its reasons and the articles of law. Residents who qualify are enrolled once their department confirms (no application needed)."
        ))
    ));
    let rows = policies
        .iter()
        .map(|p| {
            let counts = p
                .counts
                .iter()
                .map(|(s, n)| format!("{} {n}", status_name(&ctx, s)))
                .collect::<Vec<_>>()
                .join("，");
            vec![
                Cell::link(
                    p.name.clone(),
                    format!("/rules/policies/{}", kernel::pages::urlencode(&p.code)),
                ),
                Cell::from(p.basis.clone()),
                Cell::from(if counts.is_empty() {
                    ctx.pick("尚未运行", "not run yet").to_string()
                } else {
                    counts
                }),
                Cell::from(
                    p.last_run_at
                        .map(|t| t.short())
                        .unwrap_or_else(|| "—".to_string()),
                ),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("政策", "Policies").into(),
            headers: vec![
                ctx.pick("名称", "Name").into(),
                ctx.pick("依据", "Legal basis").into(),
                ctx.pick("结论", "Decisions").into(),
                ctx.pick("上次运行", "Last run").into(),
            ],
            rows,
            empty: ctx
                .pick("还没有发布政策。", "No policy is published yet.")
                .into(),
        }
        .html(),
    );
    let rows = book
        .packages()
        .iter()
        .map(|p| {
            let s = service::summary(p);
            vec![
                Cell::link(
                    s.name.clone(),
                    format!("/rules/packages/{}", kernel::pages::urlencode(&s.name)),
                ),
                Cell::from(s.variable_count.to_string()),
                Cell::from(
                    s.reforms
                        .iter()
                        .map(|r| r.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::from(if s.stale.is_empty() {
                    ctx.pick("无", "none").to_string()
                } else {
                    s.stale
                        .iter()
                        .map(|x| format!("{} ({})", x.path, x.last))
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
                Cell::from(p.digest.chars().take(12).collect::<String>()),
            ]
        })
        .collect();
    body.push_str(
        &Table {
            caption: ctx.pick("规则包", "Rules packages").into(),
            headers: vec![
                ctx.pick("名称", "Name").into(),
                ctx.pick("变量数", "Variables").into(),
                ctx.pick("改革方案", "Reforms").into(),
                ctx.pick("一年以上未更新的参数", "Parameters not updated for a year")
                    .into(),
                ctx.pick("版本", "Version").into(),
            ],
            rows,
            empty: ctx
                .pick("本节点没有规则包。", "This node serves no rules package.")
                .into(),
        }
        .html(),
    );
    Ok(ctx.render(title, &body))
}

#[derive(serde::Deserialize)]
struct StatusFilter {
    status: Option<String>,
}

async fn policy_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    Query(filter): Query<StatusFilter>,
) -> PageResult {
    let user = ctx.user()?;
    let policy = service::policy(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let status = filter.status.unwrap_or_else(|| "proposed".into());
    // Outside the policy's department, the policy itself, without its decisions.
    let department = user
        .staff_organisation(Some(&policy.organisation_id), "code")
        .is_ok();
    let page = if department {
        service::decisions(
            &state,
            user,
            &code,
            &DecisionQuery {
                status: Some(status.clone()),
                limit: Some(200),
                after: None,
            },
        )
        .await
        .map_err(|e| ctx.error(e))?
    } else {
        kernel::api::Page {
            items: Vec::new(),
            next_cursor: None,
        }
    };
    let base = format!("/rules/policies/{}", kernel::pages::urlencode(&code));
    let mut body = h1(&policy.name);
    body.push_str(
        &Summary {
            rows: vec![
                (
                    ctx.pick("内容", "What it gives").into(),
                    policy.summary.clone(),
                ),
                (ctx.pick("依据", "Legal basis").into(), policy.basis.clone()),
                (
                    ctx.pick("规则", "Rules").into(),
                    format!("{} · {}", policy.package, policy.variable),
                ),
                (
                    ctx.pick("上次运行", "Last run").into(),
                    policy
                        .last_run_at
                        .map(|t| t.short())
                        .unwrap_or_else(|| "—".into()),
                ),
            ],
        }
        .html(),
    );
    if !department {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick(
                "核定结论只对主管部门的工作人员显示。",
                "Decisions are shown to the department's staff only."
            ))
        ));
        return Ok(ctx.render(&policy.name, &body));
    }
    body.push_str(&post_button(
        &ctx,
        &format!("{base}/run"),
        ctx.pick("按本月登记信息重新核定", "Run for this month"),
        false,
    ));
    body.push_str("<p>");
    for s in ["proposed", "review", "confirmed", "declined", "ended"] {
        let label = status_name(&ctx, s);
        if s == status {
            body.push_str(&format!("<strong>{}</strong> ", esc(&label)));
        } else {
            body.push_str(&format!(
                "<a href=\"{}?status={s}\">{}</a> ",
                esc(&base),
                esc(&label)
            ));
        }
    }
    body.push_str("</p>");
    let choose = ctx.pick("选择", "Select");
    let rows: Vec<Vec<Cell>> = page
        .items
        .iter()
        .map(|d| {
            vec![
                Cell::from(d.person_name.clone()),
                Cell::from(amount_words(
                    d.amount,
                    &policy.unit,
                    matches!(ctx.lang, kernel::pages::Lang::ZhCn),
                )),
                Cell::from(d.period.clone()),
                Cell::from(d.reason.clone()),
                Cell::from(format!(
                    "<input type=\"checkbox\" name=\"ids\" value=\"{}\" aria-label=\"{} {}\">",
                    esc(&d.id),
                    esc(choose),
                    esc(&d.person_name)
                )),
            ]
        })
        .collect();
    let caption = format!("{}：{}", policy.name, status_name(&ctx, &status));
    let table = action_table(
        &caption,
        &[
            ctx.pick("居民", "Resident"),
            ctx.pick("每月金额", "Monthly amount"),
            ctx.pick("核定月份", "Month"),
            ctx.pick("理由", "Why"),
            choose,
        ],
        rows,
        ctx.pick("没有这一类结论。", "No decisions of this kind."),
    );
    let actions = match status.as_str() {
        "proposed" => vec![(
            "confirm",
            "",
            ctx.pick("确认纳入并通知本人", "Enrol and tell them"),
        )],
        "review" => vec![
            ("review", "true", ctx.pick("继续发放", "Keep paying")),
            ("review", "false", ctx.pick("终止发放", "End")),
        ],
        _ => Vec::new(),
    };
    if actions.is_empty() || page.items.is_empty() {
        body.push_str(&table);
    } else {
        body.push_str(&format!(
            "<form method=\"post\" action=\"{}/{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{table}",
            esc(&base),
            actions[0].0,
            esc(&ctx.csrf)
        ));
        for (_, keep, label) in &actions {
            if keep.is_empty() {
                body.push_str(&format!(
                    "<button type=\"submit\" class=\"button\">{}</button> ",
                    esc(label)
                ));
            } else {
                body.push_str(&format!(
                    "<button type=\"submit\" class=\"button\" name=\"keep\" value=\"{keep}\">{}</button> ",
                    esc(label)
                ));
            }
        }
        body.push_str("</form>");
    }
    Ok(ctx.render(&policy.name, &body))
}

async fn run(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    service::run_policy(&state, user, &code, None, &|_| {})
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!(
        "/rules/policies/{}",
        kernel::pages::urlencode(&code)
    ))
    .into_response())
}

async fn confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    service::confirm(&state, user, &code, &form_values(&pairs, "ids"))
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!(
        "/rules/policies/{}?status=confirmed",
        kernel::pages::urlencode(&code)
    ))
    .into_response())
}

async fn review(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    let keep = form_value(&pairs, "keep") == "true";
    service::review(&state, user, &code, &form_values(&pairs, "ids"), keep)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to(&format!(
        "/rules/policies/{}?status=review",
        kernel::pages::urlencode(&code)
    ))
    .into_response())
}

async fn entitlements_page(State(state): State<AppState>, ctx: PageContext) -> PageResult {
    let user = ctx.user()?;
    let entitlements = service::my_entitlements(&state, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let title = ctx.pick("我的待遇", "My entitlements");
    let mut body = h1(title);
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "这里列出本市每项政策对您的结论和理由。符合条件的，主管部门确认后会自动为您办理，不用申请。",
            "Every policy of the city and what it means for you, with the reasons. Where you qualify, the department enrols you once it confirms: no application needed."
        ))
    ));
    if entitlements.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            esc(ctx.pick("还没有发布政策。", "No policy is published yet."))
        ));
    }
    for e in &entitlements {
        let standing = match e.standing.as_str() {
            "qualifies" => format!(
                "{} {}",
                ctx.pick("您符合条件：每月", "You qualify: each month"),
                amount_words(
                    e.amount,
                    &e.unit,
                    matches!(ctx.lang, kernel::pages::Lang::ZhCn)
                )
            ),
            "soon" => format!(
                "{} {}{} {}",
                ctx.pick("您将从", "You will qualify from"),
                e.from.clone().unwrap_or_default(),
                ctx.pick(" 起符合条件：每月", ": each month"),
                amount_words(
                    e.amount,
                    &e.unit,
                    matches!(ctx.lang, kernel::pages::Lang::ZhCn)
                )
            ),
            "nearly" => match &e.over_limit {
                Some(over) => match ctx.lang {
                    kernel::pages::Lang::ZhCn => format!(
                        "您只差一项条件：{} {:.2} 元，比标准 {:.2} 元高 {:.2} 元",
                        e.missing.clone().unwrap_or_default(),
                        over.value,
                        over.limit,
                        over.value - over.limit
                    ),
                    kernel::pages::Lang::En => format!(
                        "You miss one requirement only: {} is {:.2} CNY, {:.2} CNY over the limit of {:.2} CNY",
                        e.missing.clone().unwrap_or_default(),
                        over.value,
                        over.value - over.limit,
                        over.limit
                    ),
                },
                None => format!(
                    "{}{}",
                    ctx.pick("您只差一项条件：", "You miss one requirement only: "),
                    e.missing.clone().unwrap_or_default()
                ),
            },
            _ => ctx
                .pick("您目前不符合条件", "You do not qualify now")
                .to_string(),
        };
        body.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><p class=\"lead\">{}</p><p>{}</p>",
            esc(&e.name),
            esc(&standing),
            esc(&e.summary)
        ));
        let mut rows = vec![(ctx.pick("理由", "Why").to_string(), e.reason.clone())];
        if let Some(d) = &e.decision {
            rows.push((
                ctx.pick("办理情况", "Decision").into(),
                status_name(&ctx, d),
            ));
        }
        body.push_str(&Summary { rows }.html());
        if matches!(
            e.decision.as_deref(),
            Some("proposed" | "confirmed" | "review")
        ) {
            body.push_str(&post_button(
                &ctx,
                &format!(
                    "/me/entitlements/{}/decline",
                    kernel::pages::urlencode(&e.policy_code)
                ),
                ctx.pick("我不需要，放弃", "I do not want it: decline"),
                true,
            ));
        }
        body.push_str("</section>");
    }
    Ok(ctx.render(title, &body))
}

async fn decline(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(code): Path<String>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    service::decline(&state, user, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/me/entitlements").into_response())
}

fn package_href(name: &str) -> String {
    format!("/rules/packages/{}", kernel::pages::urlencode(name))
}

fn short(digest: &str) -> String {
    digest.chars().take(12).collect()
}

/// A package's versions: which is served, where each came from, its tests; a platform
/// administrator publishes one or edits a file into a new version.
async fn package_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(name): Path<String>,
) -> PageResult {
    let user = ctx.user()?;
    let versions = service::package_versions(&state, &name)
        .await
        .map_err(|e| ctx.error(e))?;
    let admin = user.is_platform_admin();
    let mut body = h1(&name);
    body.push_str(&format!(
        "<p>{}</p>",
        esc(ctx.pick(
            "每个版本都完整保存（按文件内容的 SHA-256 标识）。每个结论记下作出时的版本，复核时用当时的规则重算。新版本须能加载且自带测试全部通过才会保存；发布后才生效，并重新运行依此规则包的政策。",
            "Every version is kept whole (named by the SHA-256 of its files). Each decision names the version it was made with, and a replay computes it again with those rules. A new version is kept only if it loads and its own tests pass; it takes effect once published, and the policies on this package are run again."
        ))
    ));
    if admin {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}/edit\">{}</a></p>",
            esc(&package_href(&name)),
            esc(ctx.pick(
                "修改一个文件，保存为新版本",
                "Edit a file into a new version"
            ))
        ));
    }
    let rows = versions
        .iter()
        .map(|v| {
            let action = if v.served {
                esc(ctx.pick("正在使用", "served"))
            } else if admin {
                post_button(
                    &ctx,
                    &format!("{}/versions/{}/publish", package_href(&name), v.digest),
                    ctx.pick("发布", "Publish"),
                    false,
                )
            } else {
                String::new()
            };
            vec![
                Cell::in_lang(short(&v.digest), "en"),
                Cell::from(match v.source.as_str() {
                    "folder" => ctx.pick("配置目录", "configured folder").to_string(),
                    _ => ctx.pick("上传", "upload").to_string(),
                }),
                Cell::from(if v.note.is_empty() {
                    "—".to_string()
                } else {
                    v.note.clone()
                }),
                Cell::from(v.tests_passed.to_string()),
                Cell::from(format!("{} · {}", v.uploaded_at.short(), v.uploaded_by)),
                Cell::from(
                    v.published_at
                        .map(|t| t.short())
                        .unwrap_or_else(|| "—".into()),
                ),
                Cell::from(action),
            ]
        })
        .collect();
    body.push_str(&action_table(
        ctx.pick("版本", "Versions"),
        &[
            ctx.pick("版本", "Version"),
            ctx.pick("来源", "Source"),
            ctx.pick("说明", "Note"),
            ctx.pick("通过的测试", "Tests passed"),
            ctx.pick("保存", "Kept"),
            ctx.pick("上次发布", "Last published"),
            ctx.pick("操作", "Action"),
        ],
        rows,
        ctx.pick("还没有保存的版本。", "No version is kept yet."),
    ));
    Ok(ctx.render(&name, &body))
}

/// `?file=` of the edit page.
#[derive(serde::Deserialize)]
struct FileChoice {
    file: Option<String>,
}

/// The served version's files, and the files of the version being edited.
async fn served_files(state: &AppState, name: &str) -> Result<VersionFiles, kernel::ApiError> {
    let digest = service::rulebook(state)?.package(name, &[])?.digest.clone();
    service::package_version(state, name, &digest).await
}

fn edit_form(ctx: &PageContext, name: &str, base: &str, file: &str, text: &str) -> Form {
    Form::new(
        ctx,
        &format!("{}/edit?base={base}", package_href(name)),
        ctx.pick("检查并保存为新版本", "Check and keep as a new version"),
        vec![
            Field::text("file", ctx.pick("文件", "File"))
                .hint(ctx.pick(
                    "在规则包中的路径；写一个新路径即新增文件。",
                    "Its path in the package; a new path adds a file.",
                ))
                .value(file),
            Field::of("text", ctx.pick("内容", "Text"), FieldKind::TextArea).value(text),
            Field::text("note", ctx.pick("修改说明", "What changed")).hint(ctx.pick(
                "例如：2027 年标准，市政府令 2026-14 号",
                "e.g. 2027 amounts, decree 2026-14",
            )),
        ],
    )
}

/// Edit one file of the served version (platform administrator): the result is checked
/// and kept as a new version, published separately.
async fn edit_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(name): Path<String>,
    Query(choice): Query<FileChoice>,
) -> PageResult {
    let user = ctx.user()?;
    user.require_platform_admin().map_err(|e| ctx.error(e))?;
    let served = served_files(&state, &name)
        .await
        .map_err(|e| ctx.error(e))?;
    let file = choice.file.unwrap_or_else(|| {
        served
            .files
            .keys()
            .find(|p| p.starts_with("parameters/"))
            .cloned()
            .unwrap_or_else(|| "package.yaml".into())
    });
    let text = served.files.get(&file).cloned().unwrap_or_default();
    let title = ctx.pick("修改规则", "Edit the rules");
    let mut body = h1(&format!("{title} · {name}"));
    let links: String = served
        .files
        .keys()
        .map(|p| {
            format!(
                "<li><a href=\"{}/edit?file={}\"{}>{}</a></li>",
                esc(&package_href(&name)),
                kernel::pages::urlencode(p),
                if *p == file {
                    " aria-current=\"page\""
                } else {
                    ""
                },
                esc(p)
            )
        })
        .collect();
    body.push_str(&format!(
        "<details><summary>{}</summary><ul lang=\"en\">{links}</ul></details>",
        esc(ctx.pick("选择要修改的文件", "Choose the file to edit"))
    ));
    body.push_str(&edit_form(&ctx, &name, &served.version.digest, &file, &text).html());
    Ok(ctx.render(title, &body))
}

/// `?base=` of a saved edit: the version it was edited from.
#[derive(serde::Deserialize)]
struct EditBase {
    base: Option<String>,
}

async fn save_edit(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(name): Path<String>,
    Query(base): Query<EditBase>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    let pairs = form_pairs(&body);
    ctx.check_csrf(form_value(&pairs, "csrf"))?;
    user.require_platform_admin().map_err(|e| ctx.error(e))?;
    let base = match base.base {
        Some(digest) => service::package_version(&state, &name, &digest).await,
        None => served_files(&state, &name).await,
    }
    .map_err(|e| ctx.error(e))?;
    let file = form_value(&pairs, "file").trim().to_string();
    let text = form_value(&pairs, "text").replace("\r\n", "\n");
    let mut files = base.files.clone();
    files.insert(file.clone(), text.clone());
    let outcome = service::upload_version(
        &state,
        user,
        &name,
        NewVersion {
            note: form_value(&pairs, "note").to_string(),
            files,
        },
    )
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&package_href(&name)).into_response()),
        Err(error) => {
            let form = edit_form(&ctx, &name, &base.version.digest, &file, &text)
                .fill(&pairs)
                .with_error(&error);
            let title = ctx.pick("修改规则", "Edit the rules");
            Ok(kernel::widgets::form_page(
                &ctx,
                error.status(),
                &format!("{title} · {name}"),
                &form,
            ))
        }
    }
}

async fn publish(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((name, digest)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let user = ctx.user()?;
    ctx.check_csrf(form_value(&form_pairs(&body), "csrf"))?;
    let publication = service::publish_version(&state, user, &name, &digest)
        .await
        .map_err(|e| ctx.error(e))?;
    service::rerun_in_background(&state, publication.reruns);
    Ok(Redirect::to(&package_href(&name)).into_response())
}

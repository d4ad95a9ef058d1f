//! Server-rendered pages: sign-in with the CSRF double-submit cookie, redirects for the
//! signed-out, language and elder-mode preferences.

use reqwest::{Response, StatusCode};

use crate::helpers::{TestApp, set_cookies};

/// GETs a page with a `Cookie` header.
async fn page(app: &TestApp, path: &str, cookies: &str) -> Response {
    let mut req = app.client.get(app.url(path));
    if !cookies.is_empty() {
        req = req.header("cookie", cookies);
    }
    req.send().await.unwrap()
}

/// POSTs a form with a `Cookie` header.
async fn form(app: &TestApp, path: &str, cookies: &str, fields: &[(&str, &str)]) -> Response {
    let mut req = app.client.post(app.url(path)).form(fields);
    if !cookies.is_empty() {
        req = req.header("cookie", cookies);
    }
    req.send().await.unwrap()
}

fn cookie(r: &Response, name: &str) -> Option<String> {
    set_cookies(r)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The CSRF token handed out with the login page.
async fn csrf(app: &TestApp) -> String {
    let r = page(app, "/login", "").await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = cookie(&r, "civitas_csrf").expect("a CSRF cookie");
    let html = r.text().await.unwrap();
    // The form carries the same token.
    assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
    token
}

#[tokio::test]
async fn login_page_is_html() {
    let app = TestApp::spawn().await;
    let r = page(&app, "/login", "").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert!(r.headers().contains_key("content-security-policy"));
    let html = r.text().await.unwrap();
    assert!(html.contains("<main"), "{html}");
    assert!(html.contains("<h1"), "{html}");
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    assert!(
        html.contains("name=\"username\"") && html.contains("name=\"password\""),
        "{html}"
    );
    // Other public pages render too.
    assert_eq!(page(&app, "/", "").await.status(), StatusCode::OK);
    assert_eq!(
        page(&app, "/static/civitas.css", "").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        page(&app, "/no-such-page", "").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn login_form_sets_a_session() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let token = csrf(&app).await;
    let jar = format!("civitas_csrf={token}");
    let r = form(
        &app,
        "/login?next=%2Fme",
        &jar,
        &[
            ("username", "admin"),
            ("password", "correct horse battery"),
            ("csrf", &token),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/me");
    let session = cookie(&r, "civitas_session").expect("a session cookie");
    assert!(!session.is_empty());
    let raw = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(
        raw.iter()
            .any(|c| c.starts_with("civitas_session=") && c.contains("HttpOnly")),
        "{raw:?}"
    );

    // The session cookie signs the pages in; the JSON API takes bearer tokens only, so a
    // cross-site page cannot ride on the browser's session.
    let signed_in = format!("{jar}; civitas_session={session}");
    let r = page(&app, "/me", &signed_in).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("admin"));
    assert_eq!(
        page(&app, "/api/v1/me", &signed_in).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Signing out with the form ends the session.
    let r = form(&app, "/logout", &signed_in, &[("csrf", &token)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = page(&app, "/me", &signed_in).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(&app, "/api/v1/me", &signed_in).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The admin's credentials and a CSRF field.
fn with_csrf(csrf: &str) -> Vec<(&str, &str)> {
    vec![
        ("username", "admin"),
        ("password", "correct horse battery"),
        ("csrf", csrf),
    ]
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_403() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let token = csrf(&app).await;
    let creds = [("username", "admin"), ("password", "correct horse battery")];
    // A wrong token, no token, and a token without the cookie.
    let r = form(
        &app,
        "/login",
        &format!("civitas_csrf={token}"),
        &with_csrf("0000"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&r, "civitas_session").is_none());
    let r = form(&app, "/login", &format!("civitas_csrf={token}"), &creds).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = form(&app, "/login", "", &with_csrf(&token)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&r, "civitas_session").is_none());
    assert!(r.text().await.unwrap().contains("<main"));
    // A wrong password with the right token is a form error, not a session.
    let r = form(
        &app,
        "/login",
        &format!("civitas_csrf={token}"),
        &[
            ("username", "admin"),
            ("password", "nope"),
            ("csrf", &token),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(cookie(&r, "civitas_session").is_none());
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_login() {
    let app = TestApp::spawn().await;
    for (path, next) in [
        ("/me", "%2Fme"),
        ("/me/footprint", "%2Fme%2Ffootprint"),
        ("/admin/persons?name=x", "%2Fadmin%2Fpersons%3Fname%3Dx"),
    ] {
        let r = page(&app, path, "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            r.headers()["location"],
            format!("/login?next={next}").as_str(),
            "{path}"
        );
    }
    // A stale session cookie is the same as none.
    let r = page(&app, "/me", "civitas_session=0123456789abcdef").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fme");
}

#[tokio::test]
async fn language_and_elder_mode_preferences() {
    let app = TestApp::spawn().await;
    let r = page(&app, "/prefs?lang=en&back=/", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let lang = cookie(&r, "civitas_lang").expect("a language cookie");
    assert_eq!(lang, "en");
    let r = page(&app, "/login", &format!("civitas_lang={lang}")).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Sign in"), "{html}");
    assert!(!html.contains("class=\"elder\""));

    let r = page(&app, "/prefs?elder=on&back=/login", "").await;
    assert_eq!(r.headers()["location"], "/login");
    let elder = cookie(&r, "civitas_elder").expect("an elder-mode cookie");
    assert_eq!(elder, "1");
    let html = page(&app, "/login", &format!("civitas_elder={elder}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<body class=\"elder\">"), "{html}");
    assert!(html.contains("<html lang=\"zh-CN\">"));
    let html = page(
        &app,
        "/",
        &format!("civitas_lang=en; civitas_elder={elder}"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("class=\"elder\""),
        "{html}"
    );
    let r = page(&app, "/prefs?elder=off&back=/", "").await;
    assert_eq!(cookie(&r, "civitas_elder").as_deref(), Some("0"));

    // `back` only goes to this site.
    for back in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let r = page(
            &app,
            &format!("/prefs?lang=en&back={}", kernel::pages::urlencode(back)),
            "",
        )
        .await;
        assert_eq!(r.headers()["location"], "/", "{back}");
    }
}

#[tokio::test]
async fn login_next_only_goes_to_this_site() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let token = csrf(&app).await;
    let jar = format!("civitas_csrf={token}");
    let r = form(
        &app,
        "/login?next=https%3A%2F%2Fevil.example%2F",
        &jar,
        &[
            ("username", "admin"),
            ("password", "correct horse battery"),
            ("csrf", &token),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
}

/// Signs in through the form; returns the cookie header for later requests.
async fn sign_in(app: &TestApp, username: &str) -> String {
    let token = csrf(app).await;
    let jar = format!("civitas_csrf={token}");
    let r = form(
        app,
        "/login",
        &jar,
        &[
            ("username", username),
            ("password", "correct horse battery"),
            ("csrf", &token),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = cookie(&r, "civitas_session").expect("a session cookie");
    format!("{jar}; civitas_session={session}")
}

#[tokio::test]
async fn an_org_admin_disables_and_enables_her_staff_from_the_staff_page() {
    use kernel::auth::Role;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org_a = app.organisation(&admin, 1, "示例市民政局").await;
    let org_b = app.organisation(&admin, 2, "示例市教育局").await;
    app.account("boss-a", Role::OrgAdmin, Some(&org_a), None)
        .await;
    app.account("clerk-a", Role::Clerk, Some(&org_a), None)
        .await;
    app.account("clerk-b", Role::Clerk, Some(&org_b), None)
        .await;
    let jar = sign_in(&app, "boss-a").await;
    let token = jar
        .split("; ")
        .find_map(|c| c.strip_prefix("civitas_csrf="))
        .unwrap()
        .to_string();
    let html = page(&app, "/org/staff", &jar).await.text().await.unwrap();
    assert!(
        html.contains("clerk-a") && !html.contains("clerk-b"),
        "{html}"
    );
    let id_of = |name: &str| {
        let accounts = app.state.clone();
        let name = name.to_string();
        async move {
            identity::service::account_by_username(&accounts, &name)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let clerk_a = id_of("clerk-a").await;
    let clerk_b = id_of("clerk-b").await;
    let r = form(
        &app,
        &format!("/accounts/{clerk_a}/disable?back=/org/staff"),
        &jar,
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/org/staff");
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"username": "clerk-a", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = form(
        &app,
        &format!("/accounts/{clerk_a}/enable?back=/org/staff"),
        &jar,
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Not another organisation's staff, and not without the form's token.
    let r = form(
        &app,
        &format!("/accounts/{clerk_b}/disable"),
        &jar,
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = form(
        &app,
        &format!("/accounts/{clerk_a}/disable"),
        &jar,
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"username": "clerk-b", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_data_officer_publishes_a_resource_from_the_form() {
    use kernel::auth::Role;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "示例市民政局").await;
    app.account("officer", Role::OrgAdmin, Some(&org), None)
        .await;
    let jar = sign_in(&app, "officer").await;
    let token = jar
        .split("; ")
        .find_map(|c| c.strip_prefix("civitas_csrf="))
        .unwrap()
        .to_string();
    let html = page(&app, "/exchange/publish", &jar)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<textarea"), "{html}");
    let good = [
        ("csrf", token.as_str()),
        ("code", "elderly-allowance"),
        ("name", "高龄津贴发放信息"),
        ("description", "高龄津贴的发放状态与金额。"),
        (
            "fields",
            "status | 发放状态 | string | personal\namount | 月发放金额 | number | personal",
        ),
        ("sharing_class", "conditional"),
        ("legal_reason", ""),
        ("update_frequency", "monthly"),
        ("serving", "hosted"),
        ("subject_kind", "person"),
        ("endpoint_url", ""),
        ("keywords", "高龄，津贴, 养老"),
    ];
    // A malformed field line is named, and nothing is published.
    let mut bad = good.to_vec();
    bad[4] = ("fields", "status | 发放状态 | text | personal");
    let r = form(&app, "/exchange/publish", &jar, &bad).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("line 1"), "{html}");
    assert!(
        html.contains("高龄津贴发放信息"),
        "the form keeps what was typed"
    );
    let r = form(&app, "/exchange/publish", &jar, &good).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/exchange/resources/elderly-allowance"
    );
    let resource: serde_json::Value = app
        .get("/api/v1/exchange/resources/elderly-allowance", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resource["provider_org_id"], org.as_str());
    assert_eq!(resource["fields"][1]["type"], "number");
    assert_eq!(
        resource["keywords"],
        serde_json::json!(["高龄", "津贴", "养老"])
    );
}

/// 政策规则 and 我的待遇: the department sees the proposals with reasons, confirms in bulk
/// from the page; the resident sees what she is entitled to and why, and declines.
#[tokio::test]
async fn proposals_are_confirmed_and_entitlements_declined_on_the_pages() {
    use kernel::auth::Role;
    use serde_json::{Value, json};
    let app = TestApp::spawn_configured(false, |c| {
        c.rules_packages = vec![
            civitas::demo::rules_root()
                .join("demo-city")
                .display()
                .to_string(),
        ];
    })
    .await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    app.account("clerk", Role::Clerk, Some(&org), None).await;
    app.account("reviewer", Role::Reviewer, Some(&org), None)
        .await;
    let rid = civitas::demo::resident_id(
        "990102",
        time::OffsetDateTime::now_utc().year() - 86,
        3,
        1,
        21,
    )
    .unwrap()
    .to_string();
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &json!({"resident_id": rid, "name": "王秀兰", "region": "990102001001"}),
        )
        .await;
    let old = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.account("old", Role::Citizen, None, Some(&old)).await;
    let r = app
        .post(
            "/api/v1/rules/policies",
            Some(&admin),
            &json!({"code": "gl", "name": "高龄津贴", "summary": "每月发放", "package": "demo-city",
                    "variable": "old_age_allowance", "organisation_id": org, "basis": "第三条"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let clerk = sign_in(&app, "clerk").await;
    let html = page(&app, "/rules", &clerk).await.text().await.unwrap();
    assert!(
        html.contains("高龄津贴") && html.contains("demo-city") && html.contains("尚未运行"),
        "{html}"
    );
    // The clerk runs it from the page.
    let token = clerk
        .split("civitas_csrf=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = form(&app, "/rules/policies/gl/run", &clerk, &[("csrf", &token)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page(&app, "/rules/policies/gl", &clerk)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("王*兰") && !html.contains("王秀兰"),
        "masked: {html}"
    );
    assert!(
        html.contains("第五条第一项") && html.contains("name=\"ids\""),
        "{html}"
    );
    let id = html
        .split("name=\"ids\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // Without the CSRF token: refused; the reviewer confirms.
    let r = form(&app, "/rules/policies/gl/confirm", &clerk, &[("ids", &id)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let reviewer = sign_in(&app, "reviewer").await;
    let rtoken = reviewer
        .split("civitas_csrf=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = form(
        &app,
        "/rules/policies/gl/confirm",
        &reviewer,
        &[("csrf", &rtoken), ("ids", &id)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page(&app, "/rules/policies/gl?status=confirmed", &reviewer)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("王*兰"), "{html}");

    // 我的待遇: what and why, and a way to decline.
    let old = sign_in(&app, "old").await;
    let otoken = old
        .split("civitas_csrf=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = page(&app, "/me/entitlements", &old)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("您符合条件") && html.contains("150.00") && html.contains("已纳入"),
        "{html}"
    );
    assert!(html.contains("/me/entitlements/gl/decline"), "{html}");
    let r = form(
        &app,
        "/me/entitlements/gl/decline",
        &old,
        &[("csrf", &otoken)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page(&app, "/me/entitlements", &old)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("本人放弃") && !html.contains("/me/entitlements/gl/decline"),
        "{html}"
    );
}

//! Messaging end to end: a notice to a region and an age band reaches exactly the
//! matching residents' inboxes; read receipts and acknowledgements reach the sender; a
//! proxy's reading is not a receipt; bad audiences are named; pages.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

struct World {
    app: TestApp,
    admin: String,
    clerk: String,
    /// Born 1950 in 幸福社区.
    elder: (String, String),
    /// Born 2000 in 幸福社区.
    young: (String, String),
    /// Born 1950 in another community.
    elsewhere: (String, String),
}

async fn resident(
    app: &TestApp,
    admin: &str,
    year: i32,
    seq: u16,
    region: &str,
    username: &str,
) -> (String, String) {
    let rid = civitas::demo::resident_id("990102", year, 3, 1, seq)
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/persons",
            Some(admin),
            &json!({
                "resident_id": rid, "name": "测试居民", "region": region
            }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = app.account(username, Role::Citizen, None, Some(&id)).await;
    (id, token)
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let r = app
        .post(
            "/api/v1/regions",
            Some(&admin),
            &json!({"code": "990102001002", "name": "和平社区", "urban": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let elder = resident(&app, &admin, 1950, 11, "990102001001", "elder").await;
    let young = resident(&app, &admin, 2000, 12, "990102001001", "young").await;
    let elsewhere = resident(&app, &admin, 1950, 13, "990102001002", "elsewhere").await;
    World {
        app,
        admin,
        clerk,
        elder,
        young,
        elsewhere,
    }
}

async fn send(w: &World, body: Value) -> Value {
    let r = w.app.post("/api/v1/messages", Some(&w.clerk), &body).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    app.all_pages("/api/v1/me/inbox", token).await
}

#[tokio::test]
async fn a_notice_reaches_exactly_its_audience_and_receipts_reach_the_sender() {
    let w = world().await;
    let app = &w.app;
    // 60 and over in 幸福社区: only the elder.
    let m = send(
        &w,
        json!({"subject": "高温预警", "body": "今天午后气温达 38 度。\n请减少外出。",
               "audience": {"region": "990102001001", "min_age": 60}, "ack_required": true}),
    )
    .await;
    assert_eq!(m["recipients"], 1, "{m}");
    let id = m["id"].as_str().unwrap();
    assert_eq!(inbox(app, &w.elder.1).await.len(), 1);
    assert!(inbox(app, &w.young.1).await.is_empty());
    assert!(inbox(app, &w.elsewhere.1).await.is_empty());
    // The whole district: all three.
    let all = send(
        &w,
        json!({"subject": "停水通知", "body": "周六停水。", "audience": {"region": "990102"}}),
    )
    .await;
    assert_eq!(all["recipients"], 3);
    // Under 30 in the city: the young one.
    let young = send(
        &w,
        json!({"subject": "招聘会", "body": "周日招聘会。", "audience": {"region": "990100", "max_age": 30}}),
    )
    .await;
    assert_eq!(young["recipients"], 1);
    // Named residents, inside a region.
    let named = send(
        &w,
        json!({"subject": "回访", "body": "我们将上门回访。",
               "audience": {"region": "990102001001", "persons": [w.elder.0, w.elsewhere.0]}}),
    )
    .await;
    assert_eq!(named["recipients"], 1);
    // A name given twice is one recipient.
    let twice = send(
        &w,
        json!({"subject": "回访确认", "body": "明天上午。",
               "audience": {"persons": [w.young.0, w.young.0]}}),
    )
    .await;
    assert_eq!(twice["recipients"], 1);
    // Several regions, one nested in another: each resident once.
    let both = send(
        &w,
        json!({"subject": "防汛", "body": "注意防汛。",
               "audience": {"region": "990102001001", "regions": ["990102001002", "990102001"]}}),
    )
    .await;
    assert_eq!(both["recipients"], 3);
    assert_eq!(
        both["audience"]["regions"],
        json!(["990102001002", "990102001"])
    );
    assert_eq!(inbox(app, &w.elsewhere.1).await.len(), 2);

    let unread: Value = app
        .get("/api/v1/me/inbox/unread", Some(&w.elder.1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["unread"], 4);
    assert_eq!(unread["awaiting_ack"], 1);
    // Opening marks it read; the sender sees the receipt; acknowledging it too.
    let r = app
        .post(
            &format!("/api/v1/me/inbox/{id}/read"),
            Some(&w.elder.1),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let opened: Value = r.json().await.unwrap();
    assert!(opened["read_at"].is_string());
    let seen: Value = app
        .get(&format!("/api/v1/messages/{id}"), Some(&w.clerk))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["read"], 1);
    assert_eq!(seen["acknowledged"], 0);
    let r = app
        .post(
            &format!("/api/v1/me/inbox/{id}/ack"),
            Some(&w.elder.1),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let seen: Value = app
        .get(&format!("/api/v1/messages/{id}"), Some(&w.clerk))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["acknowledged"], 1);
    let unread: Value = app
        .get("/api/v1/me/inbox/unread", Some(&w.elder.1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread["unread"], 3);
    assert_eq!(unread["awaiting_ack"], 0);
    // A notice that asks for nothing cannot be acknowledged; another's notice is not hers.
    let other = all["id"].as_str().unwrap();
    problem(
        app.post(
            &format!("/api/v1/me/inbox/{other}/ack"),
            Some(&w.elder.1),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(
        app.post(
            &format!("/api/v1/me/inbox/{id}/read"),
            Some(&w.young.1),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // The sender's list, newest first, with counts; the sending is audited once.
    let sent = app.all_pages("/api/v1/messages", &w.clerk).await;
    assert_eq!(sent.len(), 6);
    assert_eq!(sent[0]["subject"], "防汛");
    let n: i64 = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_records WHERE action = 'message.send'"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    let pending: i64 = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_pending"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(n + pending, 6);
}

#[tokio::test]
async fn bad_audiences_and_senders_are_refused_clearly() {
    let w = world().await;
    let app = &w.app;
    let base = |audience: Value| json!({"subject": "通知", "body": "内容", "audience": audience});
    for (body, field) in [
        (base(json!({})), "audience"),
        (base(json!({"region": "12345"})), "audience.region"),
        (
            base(json!({"region": "990100", "min_age": 200})),
            "audience.min_age",
        ),
        (
            base(json!({"region": "990100", "min_age": 70, "max_age": 60})),
            "audience.max_age",
        ),
        (base(json!({"persons": ["nope"]})), "audience.persons[0]"),
        (
            base(json!({"regions": ["990100", "99"]})),
            "audience.regions[1]",
        ),
        (
            base(json!({"regions": vec!["990100"; 101]})),
            "audience.regions",
        ),
        (
            base(json!({"persons": vec!["01a20000-0000-7000-8000-000000000000"; 1001]})),
            "audience.persons",
        ),
        (
            json!({"subject": "", "body": "x", "audience": {"region": "990100"}}),
            "subject",
        ),
        (
            json!({"subject": "x", "body": "a\u{0007}b", "audience": {"region": "990100"}}),
            "body",
        ),
    ] {
        let p = problem(
            app.post("/api/v1/messages", Some(&w.clerk), &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], field, "{p}");
    }
    let ok = base(json!({"region": "990100"}));
    problem(
        app.post("/api/v1/messages", Some(&w.elder.1), &ok).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post("/api/v1/messages", None, &ok).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Nothing was half-written.
    let n: i64 = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbox_entries"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(n, 0);
    let _ = &w.admin;
}

#[tokio::test]
async fn residents_read_and_acknowledge_on_pages_and_staff_send_from_a_form() {
    let w = world().await;
    let app = &w.app;
    let html = app
        .page(Method::GET, "/messages/new", &w.clerk, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"region\""), "{html}");
    let r = app
        .page(
            Method::POST,
            "/messages/new",
            &w.clerk,
            &[
                ("subject", "防汛通知"),
                ("body", "请注意水位。"),
                ("region", "99"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("href=\"#field-region\""));
    let r = app
        .page(
            Method::POST,
            "/messages/new",
            &w.clerk,
            &[
                ("subject", "防汛通知"),
                ("body", "请注意水位。"),
                ("region", "990102001001"),
                ("min_age", "60"),
                ("ack_required", "true"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .page(Method::GET, "/messages", &w.clerk, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("防汛通知"), "{html}");

    let html = app
        .page(Method::GET, "/me/inbox", &w.elder.1, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("防汛通知") && html.contains("未读"), "{html}");
    let id = html
        .split("/me/inbox/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let html = app
        .page(Method::GET, &format!("/me/inbox/{id}"), &w.elder.1, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("请注意水位") && html.contains("/ack"),
        "{html}"
    );
    let r = app
        .page(
            Method::POST,
            &format!("/me/inbox/{id}/ack"),
            &w.elder.1,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .page(Method::GET, "/me/inbox", &w.elder.1, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已回复收到"), "{html}");
}

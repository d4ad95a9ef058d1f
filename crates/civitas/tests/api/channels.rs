//! Channels end to end: SMS through an HTTP gateway (a real HTTP server here, which fails
//! once and then accepts), e-mail to a real SMTP listener, signed webhooks; the delivery
//! log with retries and failures; residents' choices; the demo's outbox; tags as
//! audiences, each change in the resident's footprint; the pages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use hmac::{Hmac, Mac};
use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use crate::helpers::{TestApp, problem};

/// What the stand-in SMS gateway and webhook receiver were sent.
#[derive(Default)]
struct Received {
    sms: Mutex<Vec<(Option<String>, Value)>>,
    hooks: Mutex<Vec<(HeaderMap, String)>>,
    sms_calls: AtomicUsize,
    /// Answer 503 to every SMS (the gateway is down).
    sms_down: AtomicBool,
}

async fn sms(
    State(r): State<Arc<Received>>,
    headers: HeaderMap,
    body: String,
) -> (AxumStatus, String) {
    let call = r.sms_calls.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string());
    r.sms
        .lock()
        .await
        .push((auth, serde_json::from_str(&body).unwrap()));
    // The first call fails as a busy gateway would; so do all while it is "down".
    if call == 0 || r.sms_down.load(Ordering::SeqCst) {
        return (AxumStatus::SERVICE_UNAVAILABLE, "busy".into());
    }
    (
        AxumStatus::OK,
        json!({"id": format!("gw-{call}")}).to_string(),
    )
}

async fn hook(State(r): State<Arc<Received>>, headers: HeaderMap, body: String) -> AxumStatus {
    r.hooks.lock().await.push((headers, body));
    AxumStatus::NO_CONTENT
}

/// Starts the SMS gateway and webhook receiver; returns its base URL.
async fn receiver(received: Arc<Received>) -> String {
    let app = axum::Router::new()
        .route("/sms", post(sms))
        .route("/hook", post(hook))
        .route(
            "/hook-broken",
            post(|| async { (AxumStatus::BAD_REQUEST, "unknown sender") }),
        )
        .with_state(received);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

/// A minimal SMTP listener (RFC 5321's commands, no extensions) that keeps each
/// transaction's envelope and data; returns its port.
async fn smtp_listener(mails: Arc<Mutex<Vec<String>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let mails = mails.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut transaction = String::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.to_ascii_uppercase();
                    let answer: &[u8] = if command.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        loop {
                            let mut data = String::new();
                            lines.read_line(&mut data).await.unwrap();
                            if data == ".\r\n" {
                                break;
                            }
                            transaction.push_str(&data);
                        }
                        mails.lock().await.push(std::mem::take(&mut transaction));
                        b"250 2.0.0 queued as sink-1\r\n"
                    } else if command.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        if command.starts_with("MAIL") || command.starts_with("RCPT") {
                            transaction.push_str(&line);
                        }
                        b"250 OK\r\n"
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    port
}

/// Runs delivery rounds (beside the app's own worker), making retries due at once,
/// until `done` holds for the notice's delivery report.
async fn deliver_until(
    app: &TestApp,
    token: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..100 {
        app.exec("UPDATE deliveries SET next_attempt_at = 0 WHERE status = 'pending'")
            .await;
        messaging::delivery::deliver_due(&app.state).await.unwrap();
        let r = app
            .get(&format!("/api/v1/messages/{id}/deliveries"), Some(token))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let report: Value = r.json().await.unwrap();
        if done(&report) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("deliveries of {id} did not settle");
}

fn count(report: &Value, channel: &str, status: &str) -> i64 {
    report["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == channel)
        .map(|c| c[status].as_i64().unwrap())
        .unwrap_or(0)
}

async fn put_settings(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.send(
        Method::PUT,
        "/api/v1/me/notification-settings",
        Some(token),
        &[],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

/// A resident without a phone.
async fn phoneless(app: &TestApp, admin: &str, seq: u16) -> String {
    let rid = crate::helpers::rid(seq);
    let r = app
        .post(
            "/api/v1/persons",
            Some(admin),
            &json!({"resident_id": rid, "name": "无手机", "region": "990102001001"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn sms_email_and_webhooks_are_delivered_retried_and_logged() {
    let received = Arc::new(Received::default());
    let base = receiver(received.clone()).await;
    let mails = Arc::new(Mutex::new(Vec::new()));
    let smtp = smtp_listener(mails.clone()).await;
    let sms_url = format!("{base}/sms");
    let app = TestApp::spawn_configured(false, |c| {
        c.sms_gateway_url = Some(sms_url);
        c.sms_gateway_token = Some("gateway-token".into());
        c.smtp_url = Some(format!("smtp://127.0.0.1:{smtp}"));
        c.email_from = "东湖区 <notices@civitas.test>".into();
        c.delivery_attempts = 3;
        c.webhook_allow_internal = true;
    })
    .await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let orgadmin = app
        .account("orgadmin", Role::OrgAdmin, Some(&org), None)
        .await;
    let (a, _) = app.person(&admin, 1, "甲").await;
    let (b, _) = app.person(&admin, 2, "乙").await;
    let c = phoneless(&app, &admin, 3).await;
    let a_token = app.account("jia", Role::Citizen, None, Some(&a)).await;
    let b_token = app.account("yiyi", Role::Citizen, None, Some(&b)).await;

    // Her choices: 乙 takes e-mail instead of SMS; bad addresses are named.
    let r = put_settings(
        &app,
        &b_token,
        json!({"sms": false, "email": true, "email_address": "bei@example.cn"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(settings["sms"], false);
    assert_eq!(settings["email_masked"], "b***@example.cn");
    assert_eq!(settings["phone_masked"], "139****5678");
    let r = put_settings(
        &app,
        &a_token,
        json!({"sms": true, "email": true, "email_address": "not an address"}),
    )
    .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "email_address"
    );
    let r = put_settings(&app, &a_token, json!({"sms": true, "email": true})).await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "email_address"
    );
    let r = put_settings(&app, &a_token, json!({"sms": "yes"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let stored: (Option<Vec<u8>>,) = kernel::on_pool!(app.state.db.read(), |conn| sqlx::query_as(
        "SELECT email_enc FROM notification_settings WHERE person_id = $1"
    )
    .bind(&b)
    .fetch_one(conn)
    .await)
    .unwrap();
    let sealed = stored.0.unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains("bei@example.cn"),
        "the address is sealed"
    );

    // Webhooks (the organisation's administrator): one for the district, one that
    // refuses; bad URLs are named; a clerk may not register one.
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&clerk),
            &json!({"url": format!("{base}/hook")}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&orgadmin),
            &json!({"url": format!("{base}/hook"), "region": "990102"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let secret = hex::decode(created["secret"].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 32);
    let r = app
        .post(
            "/api/v1/webhooks",
            Some(&orgadmin),
            &json!({"url": format!("{base}/hook-broken")}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    for bad in [
        "ftp://example.cn/x",
        "not a url",
        "http://user:pw@example.cn/",
    ] {
        let r = app
            .post("/api/v1/webhooks", Some(&orgadmin), &json!({"url": bad}))
            .await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            "url",
            "{bad}"
        );
    }
    let r = app.get("/api/v1/webhooks", Some(&clerk)).await;
    let hooks: Value = r.json().await.unwrap();
    assert_eq!(hooks.as_array().unwrap().len(), 2);
    assert!(
        hooks.to_string().find("secret").is_none(),
        "secrets are shown once"
    );
    let r = app.get("/api/v1/webhooks", Some(&a_token)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A notice by SMS and e-mail to the community.
    let r = app
        .post(
            "/api/v1/messages",
            Some(&clerk),
            &json!({
                "subject": "停水通知", "body": "明天 9 点至 12 点停水。",
                "audience": {"region": "990102001001"}, "channels": ["fax"]
            }),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "channels[0]"
    );
    let r = app
        .post(
            "/api/v1/messages",
            Some(&clerk),
            &json!({
                "subject": "停水通知", "body": "明天 9 点至 12 点停水。",
                "audience": {"region": "990102001001"}, "channels": ["sms", "email"]
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let notice: Value = r.json().await.unwrap();
    let id = notice["id"].as_str().unwrap().to_string();
    assert_eq!(notice["recipients"], 3);
    let report = deliver_until(&app, &clerk, &id, |r| {
        count(r, "sms", "sent") == 1
            && count(r, "email", "sent") == 1
            && count(r, "webhook", "sent") == 1
            && count(r, "webhook", "failed") == 1
    })
    .await;
    // 乙 turned SMS off and the third resident has no phone: one SMS, one e-mail.
    assert_eq!(
        count(&report, "sms", "pending") + count(&report, "sms", "failed"),
        0
    );
    let failed = &report["undelivered"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["channel"], "webhook");
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(failed[0]["attempts"], 1, "a 400 is not retried");
    assert!(failed[0]["last_error"].as_str().unwrap().contains("400"));

    // The gateway was asked twice (503, then accepted), for 甲's phone, with the token.
    let sms = received.sms.lock().await;
    assert_eq!(sms.len(), 2);
    for (auth, body) in sms.iter() {
        assert_eq!(auth.as_deref(), Some("Bearer gateway-token"));
        assert_eq!(body["to"], "13912345678");
        assert_eq!(body["reference"], format!("{id}:{a}"));
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("【东湖区民政局】停水通知：明天 9 点至 12 点停水。"),
            "{text}"
        );
        assert!(text.ends_with(&format!("/me/inbox/{id}")), "{text}");
    }
    drop(sms);
    let provider: (Option<String>, i64) = kernel::on_pool!(app.state.db.read(), |conn| {
        sqlx::query_as(
        "SELECT provider_ref, attempts FROM deliveries WHERE message_id = $1 AND channel = 'sms'"
    )
    .bind(&id)
    .fetch_one(conn)
    .await
    })
    .unwrap();
    assert_eq!(provider, (Some("gw-1".into()), 2));

    // The e-mail went to 乙's address, from the configured sender.
    let mails = mails.lock().await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("RCPT TO:<bei@example.cn>"),
        "{}",
        mails[0]
    );
    assert!(
        mails[0].contains("MAIL FROM:<notices@civitas.test>"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("Subject: "), "{}", mails[0]);
    drop(mails);

    // The webhook's post is the notice, signed with its secret over timestamp and body.
    let hooks = received.hooks.lock().await;
    assert_eq!(hooks.len(), 1);
    let (headers, body) = &hooks[0];
    let timestamp = headers["x-civitas-timestamp"].to_str().unwrap();
    let signature = headers["x-civitas-signature"].to_str().unwrap();
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    assert_eq!(
        signature,
        format!("v1={}", hex::encode(mac.finalize().into_bytes()))
    );
    let posted: Value = serde_json::from_str(body).unwrap();
    assert_eq!(posted["id"], id.as_str());
    assert_eq!(posted["subject"], "停水通知");
    drop(hooks);

    // A gateway that stays down: tried three times, then failed, with its reason.
    received.sms_down.store(true, Ordering::SeqCst);
    let r = app
        .post("/api/v1/messages", Some(&clerk), &json!({
            "subject": "复水", "body": "已恢复供水。", "audience": {"persons": [a, c]}, "channels": ["sms"]
        }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let second = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = deliver_until(&app, &clerk, &second, |r| count(r, "sms", "failed") == 1).await;
    let failed = &report["undelivered"].as_array().unwrap();
    let sms_failure = failed.iter().find(|d| d["channel"] == "sms").unwrap();
    assert_eq!(sms_failure["attempts"], 3);
    assert!(sms_failure["last_error"].as_str().unwrap().contains("503"));
    // A notice to named residents is theirs alone: no organisation's webhook gets it.
    for status in ["pending", "sent", "failed"] {
        assert_eq!(count(&report, "webhook", status), 0, "{report}");
    }
    // Nor may named residents be combined with tags or ages (the count would tell).
    let r = app
        .post(
            "/api/v1/messages",
            Some(&clerk),
            &json!({
                "subject": "x", "body": "y", "audience": {"persons": [a], "min_age": 60}
            }),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "audience.persons"
    );

    // Another organisation's staff see nothing of this log.
    let other = app.organisation(&admin, 2, "东湖区卫健委").await;
    let stranger = app
        .account("stranger", Role::Clerk, Some(&other), None)
        .await;
    let r = app
        .get(
            &format!("/api/v1/messages/{id}/deliveries"),
            Some(&stranger),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let hook_id = created["id"].as_str().unwrap();
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/webhooks/{hook_id}"),
            Some(&stranger),
            &[],
            None,
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a clerk removes no webhook"
    );
    let stranger_admin = app
        .account("strangeradmin", Role::OrgAdmin, Some(&other), None)
        .await;
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/webhooks/{hook_id}"),
            Some(&stranger_admin),
            &[],
            None,
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "nor another organisation's"
    );
    let r = app
        .send(
            Method::DELETE,
            &format!("/api/v1/webhooks/{hook_id}"),
            Some(&orgadmin),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_demo_outbox_tags_and_the_pages() {
    let app = TestApp::spawn_configured(false, |c| c.channel_outbox = true).await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    let health = app.organisation(&admin, 2, "东湖区卫健委").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let outsider = app
        .account("outsider", Role::Clerk, Some(&health), None)
        .await;
    let (a, a_rid) = app.person(&admin, 1, "甲").await;
    let (b, _) = app.person(&admin, 2, "乙").await;
    let a_token = app.account("jia", Role::Citizen, None, Some(&a)).await;

    // Tags: defined by the administrator, kept by one organisation's staff.
    let r = app
        .post("/api/v1/tags", Some(&admin), &json!({
            "code": "lives-alone", "name": "独居老人", "description": "社区摸排确认独居的老年人",
            "organisation_id": org
        }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/tags",
            Some(&admin),
            &json!({"code": "lives-alone", "name": "x", "organisation_id": org}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = app
        .post(
            "/api/v1/tags",
            Some(&admin),
            &json!({"code": "Lives Alone", "name": "x", "organisation_id": org}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "code");
    let r = app
        .post(
            "/api/v1/tags",
            Some(&clerk),
            &json!({"code": "x-y", "name": "x", "organisation_id": org}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let change = json!({"add": [a], "purpose": "2026 年独居老人摸排"});
    let r = app
        .post("/api/v1/tags/lives-alone/persons", Some(&outsider), &change)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &json!({"add": [a], "purpose": ""}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "purpose"
    );
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &json!({"add": [uuid::Uuid::now_v7().to_string()], "purpose": "x"}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "add[0]");
    let r = app
        .post("/api/v1/tags/lives-alone/persons", Some(&clerk), &change)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(
        (changed["added"].as_u64(), changed["members"].as_i64()),
        (Some(1), Some(1))
    );
    // Again: nothing changes.
    let r = app
        .post("/api/v1/tags/lives-alone/persons", Some(&clerk), &change)
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["added"], 0);
    let r = app.get("/api/v1/tags/nope/persons", Some(&clerk)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let members: Value = app
        .get("/api/v1/tags/lives-alone/persons", Some(&clerk))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["items"][0]["id"], a.as_str());
    assert!(
        members.to_string().find(&a_rid).is_none(),
        "members are masked"
    );
    assert_ne!(members["items"][0]["name"], "甲", "names too");
    // She sees her tag and who set it; the change is in her footprint.
    let mine: Value = app
        .get("/api/v1/me/tags", Some(&a_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["code"], "lives-alone");
    assert_eq!(mine[0]["organisation_name"], "东湖区民政局");
    let footprint: Value = app
        .get("/api/v1/me/footprint", Some(&a_token))
        .await
        .json()
        .await
        .unwrap();
    let entry = footprint["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "person.tag")
        .unwrap_or_else(|| panic!("no tag entry in {footprint}"));
    assert_eq!(entry["purpose"], "2026 年独居老人摸排");
    // Membership is stored under a keyed hash, never the code.
    let stored: (String,) = kernel::on_pool!(app.state.db.read(), |conn| sqlx::query_as(
        "SELECT tag_hash FROM person_tags WHERE person_id = $1"
    )
    .bind(&a)
    .fetch_one(conn)
    .await)
    .unwrap();
    assert_ne!(stored.0, "lives-alone");

    // A notice to the tag reaches exactly 甲, and its SMS lands in the outbox.
    let r = app
        .post(
            "/api/v1/messages",
            Some(&clerk),
            &json!({
                "subject": "寒潮提醒", "body": "今晚降温，请注意保暖。",
                "audience": {"tags": ["nope"]}, "channels": ["sms"]
            }),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "audience.tags[0]"
    );
    let r = app
        .post(
            "/api/v1/messages",
            Some(&clerk),
            &json!({
                "subject": "寒潮提醒", "body": "今晚降温，请注意保暖。",
                "audience": {"tags": ["lives-alone"], "region": "990102"}, "channels": ["sms"]
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let notice: Value = r.json().await.unwrap();
    assert_eq!(notice["recipients"], 1);
    let id = notice["id"].as_str().unwrap().to_string();
    deliver_until(&app, &clerk, &id, |r| count(r, "sms", "sent") == 1).await;
    let outbox: Value = app
        .get("/api/v1/outbox", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let sms = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message_id"] == id.as_str())
        .unwrap();
    assert_eq!(sms["channel"], "sms");
    assert_eq!(sms["address_masked"], "139****5678");
    assert!(
        sms["text"]
            .as_str()
            .unwrap()
            .starts_with("【东湖区民政局】寒潮提醒")
    );
    let r = app.get("/api/v1/outbox", Some(&clerk)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let b_inbox: Value = app
        .get(
            "/api/v1/me/inbox",
            Some(&app.account("yiyi", Role::Citizen, None, Some(&b)).await),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        b_inbox["items"].as_array().unwrap().is_empty(),
        "乙 carries no tag"
    );

    // Pages: the resident's settings, the sender's log and webhooks, the outbox, tags.
    let r = app
        .page(Method::GET, "/me/notifications", &a_token, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("139****5678"));
    let r = app
        .page(
            Method::POST,
            "/me/notifications",
            &a_token,
            &[("sms", "true"), ("email", "true"), ("email_address", "bad")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .page(
            Method::POST,
            "/me/notifications",
            &a_token,
            &[("email", "true"), ("email_address", "jia@example.cn")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine: Value = app
        .get("/api/v1/me/notification-settings", Some(&a_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (mine["sms"].as_bool(), mine["email"].as_bool()),
        (Some(false), Some(true))
    );
    let r = app
        .page(Method::GET, &format!("/messages/{id}"), &clerk, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("各渠道发送情况") && html.contains("短信"),
        "{html}"
    );
    let orgadmin = app
        .account("orgadmin", Role::OrgAdmin, Some(&org), None)
        .await;
    let r = app
        .page(
            Method::POST,
            "/messages/webhooks",
            &orgadmin,
            &[("url", "https://hospital.example.cn/civitas/notices")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Into the platform's own network, or plain http: refused.
    for url in [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/x",
        "https://localhost/x",
        "http://hospital.example.cn/x",
    ] {
        let r = app
            .page(
                Method::POST,
                "/messages/webhooks",
                &orgadmin,
                &[("url", url)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
    }
    let r = app
        .page(
            Method::POST,
            "/messages/webhooks",
            &clerk,
            &[("url", "https://hospital.example.cn/x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .page(
            Method::POST,
            "/messages/webhooks",
            &orgadmin,
            &[("url", "gopher://x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.page(Method::GET, "/admin/outbox", &admin, &[]).await;
    assert!(r.text().await.unwrap().contains("139****5678"));
    let r = app.page(Method::GET, "/admin/outbox", &clerk, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.page(Method::GET, "/tags", &clerk, &[]).await;
    assert!(r.text().await.unwrap().contains("独居老人"));
    let (_, b_rid) = (b.clone(), crate::helpers::rid(2));
    let r = app
        .page(
            Method::POST,
            "/tags/lives-alone",
            &clerk,
            &[
                ("resident_id", &b_rid),
                ("change", "add"),
                ("purpose", "补录"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .page(
            Method::POST,
            "/tags/lives-alone",
            &clerk,
            &[
                ("resident_id", "123"),
                ("change", "add"),
                ("purpose", "补录"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .page(Method::GET, "/tags/lives-alone", &outsider, &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.page(Method::GET, "/me", &a_token, &[]).await;
    assert!(r.text().await.unwrap().contains("独居老人"));
    let r = app.page(Method::GET, "/messages/new", &clerk, &[]).await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("lives-alone") && html.contains("value=\"sms\""),
        "{html}"
    );
}

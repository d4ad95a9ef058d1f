//! The exchange gateway end to end: hosted records imported by the provider, consents
//! given and withdrawn by the resident, calls by the consumer's system account that return
//! only agreed fields, signed with the provider's published key, audited and shown in the
//! resident's footprint; every refusal named and audited; batches; a proxied resource
//! served by a separate provider process.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, rid};

/// Provider P (hosts household registration), consumer C with a system account, the
/// resident 张三 with an account, and an agreement C ← P for three of four fields,
/// consent-based (not statutory).
struct World {
    app: TestApp,
    admin: String,
    p_admin: String,
    c: String,
    c_admin: String,
    c_system: String,
    x_system: String,
    citizen: String,
    person: String,
    agreement: String,
}

const SUBJECT_SEQ: u16 = 301;
const OTHER_SEQ: u16 = 302;

fn hosted_resource(code: &str) -> Value {
    json!({
        "code": code,
        "name": "户籍登记信息",
        "description": "常住人口户籍登记。",
        "fields": [
            {"name": "name", "title": "姓名", "type": "string", "sensitivity": "personal"},
            {"name": "household_number", "title": "户号", "type": "string", "sensitivity": "personal"},
            {"name": "members", "title": "户内人数", "type": "integer", "sensitivity": "personal"},
            {"name": "ethnicity", "title": "民族", "type": "string", "sensitivity": "sensitive_personal"},
        ],
        "sharing_class": "conditional",
        "update_frequency": "daily",
        "serving": "hosted",
        "subject_kind": "person",
    })
}

async fn world_with(statutory: bool, rate: i64) -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let p = app.organisation(&admin, 1, "示例市公安局").await;
    let c = app.organisation(&admin, 2, "示例市民政局").await;
    let x = app.organisation(&admin, 3, "示例市教育局").await;
    let p_admin = app.account("admin-p", Role::OrgAdmin, Some(&p), None).await;
    let c_admin = app.account("admin-c", Role::OrgAdmin, Some(&c), None).await;
    let c_system = app.account("system-c", Role::System, Some(&c), None).await;
    let x_system = app.account("system-x", Role::System, Some(&x), None).await;
    let (person, _) = app.person(&admin, SUBJECT_SEQ, "张三").await;
    app.person(&admin, OTHER_SEQ, "李四").await;
    let citizen = app
        .account("zhangsan", Role::Citizen, None, Some(&person))
        .await;

    let r = app
        .post(
            "/api/v1/exchange/resources",
            Some(&p_admin),
            &hosted_resource("household"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let csv = format!(
        "subject,name,household_number,members,ethnicity\n{},张三,990100-0001,3,回族\n{},李四,990100-0002,1,汉族\n",
        rid(SUBJECT_SEQ),
        rid(OTHER_SEQ)
    );
    let r = import(&app, &p_admin, "household", "text/csv", &csv).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["records"], 2);
    assert_eq!(report["linked_to_persons"], 2);

    let r = app
        .post(
            "/api/v1/exchange/requests",
            Some(&c_admin),
            &json!({"resource": "household", "fields": ["name", "household_number", "members", "ethnicity"],
                    "purpose": "低保家庭成员核对", "legal_basis": "《社会救助暂行办法》第十一条",
                    "statutory": statutory, "expected_calls_per_day": 100}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let request: Value = r.json().await.unwrap();
    let r = app
        .post(
            &format!(
                "/api/v1/exchange/requests/{}/decision",
                request["id"].as_str().unwrap()
            ),
            Some(&p_admin),
            &json!({"approve": true, "fields": ["name", "household_number", "members"],
                    "rate_limit_per_minute": rate}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let decided: Value = r.json().await.unwrap();
    World {
        app,
        admin,
        p_admin,
        c,
        c_admin,
        c_system,
        x_system,
        citizen,
        person,
        agreement: decided["agreement_id"].as_str().unwrap().to_string(),
    }
}

async fn import(
    app: &TestApp,
    token: &str,
    resource: &str,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    app.send(
        Method::POST,
        &format!("/api/v1/exchange/resources/{resource}/records"),
        Some(token),
        &[],
        Some((content_type, body.as_bytes().to_vec())),
    )
    .await
}

fn record_path(resource: &str, seq: u16) -> String {
    format!("/api/v1/exchange/{resource}/records/{}", rid(seq))
}

async fn consent(w: &World, body: Value) -> Value {
    let r = w
        .app
        .post("/api/v1/me/consents", Some(&w.citizen), &body)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

async fn denied_count(app: &TestApp) -> i64 {
    app.state.audit.flush().await.unwrap();
    kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_records WHERE action = 'exchange.read' AND outcome = 'denied'"
    )
    .fetch_one(c)
    .await)
    .unwrap()
}

async fn key_set(app: &TestApp) -> exchange::model::KeySet {
    app.get("/api/v1/exchange/keys", None)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_consented_call_returns_only_agreed_fields_signed_audited_and_in_the_footprint() {
    let w = world_with(false, 600).await;
    let c = consent(
        &w,
        json!({"resource": "household", "consumer_org_id": w.c, "fetch_type": "periodic",
               "max_fetches_per_day": 10}),
    )
    .await;
    assert_eq!(c["status"], "active");
    assert_eq!(c["fields"], json!(["name", "household_number", "members"]));

    let r = w
        .app
        .get(&record_path("household", SUBJECT_SEQ), Some(&w.c_system))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        !text.contains("ethnicity") && !text.contains("回族"),
        "{text}"
    );
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        body["fields"],
        json!({"name": "张三", "household_number": "990100-0001", "members": 3})
    );
    assert_eq!(body["basis"], "consent");
    assert_eq!(body["consent_id"], c["id"]);
    assert_eq!(body["agreement_id"], w.agreement.as_str());

    // The signature verifies with the published key, and not once the body is altered.
    let keys = key_set(&w.app).await;
    exchange::gateway::verify_response(&keys, 200, &headers, &bytes).unwrap();
    let forged = text.replace("张三", "王五");
    assert!(exchange::gateway::verify_response(&keys, 200, &headers, forged.as_bytes()).is_err());
    assert!(exchange::gateway::verify_response(&keys, 403, &headers, &bytes).is_err());

    // Only the fields asked for, when fewer are asked.
    let r = w
        .app
        .get(
            &format!("{}?fields=members", record_path("household", SUBJECT_SEQ)),
            Some(&w.c_system),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["fields"], json!({"members": 3}));

    // Her footprint shows both calls: consumer, resource, fields, purpose, basis.
    let r = w.app.get("/api/v1/me/footprint", Some(&w.citizen)).await;
    let footprint: Value = r.json().await.unwrap();
    let calls: Vec<&Value> = footprint["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "exchange.read")
        .collect();
    assert_eq!(calls.len(), 2, "{footprint}");
    assert_eq!(calls[0]["organisation"], "示例市民政局");
    assert_eq!(calls[0]["basis_kind"], "consent");
    assert_eq!(calls[0]["basis_ref"], c["id"]);
    assert_eq!(calls[0]["purpose"], "低保家庭成员核对");
    assert!(
        calls[1]["resource"]
            .as_str()
            .unwrap()
            .contains("fields:name,household_number,members")
    );

    // Her consent counts the fetches.
    let r = w.app.get("/api/v1/me/consents", Some(&w.citizen)).await;
    let list: Value = r.json().await.unwrap();
    assert_eq!(list[0]["fetches"], 2);

    // The provider sees the traffic per consumer; the consumer its own usage.
    let r = w
        .app
        .get("/api/v1/exchange/traffic", Some(&w.p_admin))
        .await;
    let traffic: Value = r.json().await.unwrap();
    assert_eq!(traffic["as_provider"][0]["consumer"], "示例市民政局");
    assert_eq!(traffic["as_provider"][0]["calls"], 2);
    let r = w
        .app
        .get("/api/v1/exchange/traffic", Some(&w.c_admin))
        .await;
    let traffic: Value = r.json().await.unwrap();
    assert_eq!(traffic["as_consumer"][0]["provider"], "示例市公安局");
    assert_eq!(traffic["as_consumer"][0]["calls"], 2);
}

#[tokio::test]
async fn refusals_are_named_audited_and_leak_nothing() {
    let w = world_with(false, 600).await;
    let path = record_path("household", SUBJECT_SEQ);
    let mut expected_denials = 0;
    let mut check = |body: &Value, code: &str| {
        expected_denials += 1;
        assert_eq!(
            body["type"],
            format!("urn:civitas:problem:{code}"),
            "{body}"
        );
        let text = body.to_string();
        assert!(
            !text.contains("张三") && !text.contains("990100-0001"),
            "{text}"
        );
    };

    // No consent yet.
    let b = problem(
        w.app.get(&path, Some(&w.c_system)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "no_consent");
    // A field outside the agreement.
    let b = problem(
        w.app
            .get(&format!("{path}?fields=name,ethnicity"), Some(&w.c_system))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "field_not_agreed");
    // An organisation with no agreement.
    let b = problem(
        w.app.get(&path, Some(&w.x_system)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "no_agreement");
    // Staff accounts are not system accounts.
    let b = problem(
        w.app.get(&path, Some(&w.c_admin)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "not_a_system_account");
    // Unknown resource, malformed subject.
    let b = problem(
        w.app
            .get(
                &record_path("no-such-thing", SUBJECT_SEQ),
                Some(&w.c_system),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    check(&b, "not_found");
    let b = problem(
        w.app
            .get(
                "/api/v1/exchange/household/records/12345",
                Some(&w.c_system),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    check(&b, "invalid_input");
    assert_eq!(b["field"], "subject");

    // Forged and replayed (logged-out) tokens.
    let b = problem(
        w.app.get(&path, Some("forged-token")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    check(&b, "unauthenticated");
    let stale = w.app.login("system-c", "correct horse battery").await;
    let r = w
        .app
        .post("/api/v1/auth/logout", Some(&stale), &json!({}))
        .await;
    assert!(r.status().is_success());
    let b = problem(
        w.app.get(&path, Some(&stale)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    check(&b, "unauthenticated");

    // A consent withdrawn mid-way stops the next call.
    let c = consent(
        &w,
        json!({"resource": "household", "consumer_org_id": w.c, "fetch_type": "periodic"}),
    )
    .await;
    assert_eq!(
        w.app.get(&path, Some(&w.c_system)).await.status(),
        StatusCode::OK
    );
    let r = w
        .app
        .post(
            &format!("/api/v1/me/consents/{}/revoke", c["id"].as_str().unwrap()),
            Some(&w.citizen),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let b = problem(
        w.app.get(&path, Some(&w.c_system)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "consent_revoked");

    // A once-only consent serves one call.
    consent(
        &w,
        json!({"resource": "household", "consumer_org_id": w.c, "fetch_type": "once"}),
    )
    .await;
    assert_eq!(
        w.app.get(&path, Some(&w.c_system)).await.status(),
        StatusCode::OK
    );
    let b = problem(
        w.app.get(&path, Some(&w.c_system)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "consent_used");

    // An expired agreement, then a revoked one. (Edited in the store directly, so the
    // gateway's briefly remembered copy is dropped as its two seconds would.)
    w.app
        .exec(&format!(
            "UPDATE exchange_agreements SET expires_at = 1 WHERE id = '{}'",
            w.agreement
        ))
        .await;
    exchange::gateway::Gateway::of(&w.app.state)
        .unwrap()
        .forget_terms();
    let b = problem(
        w.app.get(&path, Some(&w.c_system)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "agreement_expired");
    w.app
        .exec(&format!(
            "UPDATE exchange_agreements SET expires_at = 99999999999999999 WHERE id = '{}'",
            w.agreement
        ))
        .await;
    exchange::gateway::Gateway::of(&w.app.state)
        .unwrap()
        .forget_terms();
    let r = w
        .app
        .post(
            &format!("/api/v1/exchange/agreements/{}/revoke", w.agreement),
            Some(&w.p_admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let b = problem(
        w.app.get(&path, Some(&w.c_system)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    check(&b, "agreement_revoked");

    // Every refusal is in the audit log.
    assert_eq!(denied_count(&w.app).await, expected_denials);
    // The ones about her (consent refusals) are in her footprint.
    let footprint: Value = w
        .app
        .get("/api/v1/me/footprint", Some(&w.citizen))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        footprint["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "denied"
                && e["purpose"].as_str().unwrap().contains("consent_revoked")),
        "{footprint}"
    );
}

#[tokio::test]
async fn statutory_agreements_need_no_consent_and_rate_limits_hold() {
    let w = world_with(true, 2).await;
    let path = record_path("household", SUBJECT_SEQ);
    for _ in 0..2 {
        let r = w.app.get(&path, Some(&w.c_system)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["basis"], "statutory");
    }
    let r = w.app.get(&path, Some(&w.c_system)).await;
    assert!(r.headers().get("retry-after").is_some());
    let b = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(b["detail"].as_str().unwrap().contains("2 calls a minute"));
    // A batch larger than a minute's allowance can never pass: it is refused as such.
    let r = w
        .app
        .post(
            "/api/v1/exchange/household/records:batch",
            Some(&w.c_system),
            &json!({"subjects": [rid(SUBJECT_SEQ), rid(OTHER_SEQ), rid(SUBJECT_SEQ)]}),
        )
        .await;
    let b = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(b["field"], "subjects");
    // The footprint names the statute.
    let footprint: Value = w
        .app
        .get("/api/v1/me/footprint", Some(&w.citizen))
        .await
        .json()
        .await
        .unwrap();
    let entry = &footprint["items"][0];
    assert_eq!(entry["basis_kind"], "statutory", "{footprint}");
    assert_eq!(entry["basis_ref"], "《社会救助暂行办法》第十一条");
}

#[tokio::test]
async fn batches_serve_each_subject_alone_and_are_capped() {
    let w = world_with(true, 600).await;
    let unknown = rid(399);
    let r = w
        .app
        .post(
            "/api/v1/exchange/household/records:batch",
            Some(&w.c_system),
            &json!({"subjects": [rid(SUBJECT_SEQ), unknown, "not-an-id", rid(OTHER_SEQ)]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    exchange::gateway::verify_response(&key_set(&w.app).await, 200, &headers, &bytes).unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[0]["record"]["fields"]["name"], "张三");
    assert_eq!(results[1]["status"], 404);
    assert_eq!(results[2]["status"], 400);
    assert_eq!(results[3]["record"]["fields"]["name"], "李四");
    assert!(!String::from_utf8_lossy(&bytes).contains("回族"));
    // Each subject has its own audit record: two served, two refused.
    w.app.state.audit.flush().await.unwrap();
    let served: i64 = kernel::on_pool!(w.app.state.db.read(), |c| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_records WHERE action = 'exchange.read' AND outcome = 'success'"
    )
    .fetch_one(c)
    .await
    })
    .unwrap();
    assert_eq!(served, 2);
    assert_eq!(denied_count(&w.app).await, 2);

    // Oversized and empty batches.
    let many: Vec<String> = (0..1001).map(|_| rid(SUBJECT_SEQ)).collect();
    let r = w
        .app
        .post(
            "/api/v1/exchange/household/records:batch",
            Some(&w.c_system),
            &json!({"subjects": many}),
        )
        .await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    let r = w
        .app
        .post(
            "/api/v1/exchange/household/records:batch",
            Some(&w.c_system),
            &json!({"subjects": []}),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn imports_are_checked_line_by_line_and_all_or_nothing() {
    let w = world_with(true, 600).await;
    let app = &w.app;
    let bad = |line: &str| format!("subject,name,members\n{},王五,2\n{line}\n", rid(303));
    // A value of the wrong type names its line and field; nothing is written.
    let r = import(
        app,
        &w.p_admin,
        "household",
        "text/csv",
        &bad(&format!("{},赵六,three", rid(304))),
    )
    .await;
    let b = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(b["field"], "line 3.members");
    let r = app
        .get(&record_path("household", 303), Some(&w.c_system))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A bad subject, a repeated subject, an unknown column.
    let r = import(app, &w.p_admin, "household", "text/csv", &bad("123,赵六,1")).await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "line 3.subject"
    );
    let r = import(
        app,
        &w.p_admin,
        "household",
        "text/csv",
        &bad(&format!("{},赵六,1", rid(303))),
    )
    .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "line 3.subject"
    );
    let r = import(
        app,
        &w.p_admin,
        "household",
        "text/csv",
        "subject,salary\n1,2\n",
    )
    .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "line 1");
    // JSON lines work; a bad line is named.
    let lines = format!(
        "{{\"subject\":\"{}\",\"name\":\"王五\",\"members\":2}}\n{{\"subject\":\"{}\",\"members\":\"x\"}}",
        rid(303),
        rid(304)
    );
    let r = import(app, &w.p_admin, "household", "application/x-ndjson", &lines).await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "line 2.members"
    );
    let good = format!(
        "{{\"subject\":\"{}\",\"name\":\"王五\",\"members\":2}}",
        rid(303)
    );
    let r = import(app, &w.p_admin, "household", "application/x-ndjson", &good).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["total"], 3);
    assert_eq!(report["linked_to_persons"], 0);
    // Wrong media type; someone else's resource; an empty body.
    let r = import(app, &w.p_admin, "household", "text/plain", "x").await;
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let r = import(app, &w.c_admin, "household", "text/csv", &good).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = import(app, &w.p_admin, "household", "text/csv", "").await;
    problem(r, StatusCode::BAD_REQUEST).await;
    // Records are sealed at rest: the stored bytes do not hold the name.
    let raw: Vec<Vec<u8>> = kernel::on_pool!(app.state.db.read(), |c| sqlx::query_scalar(
        "SELECT data FROM exchange_records"
    )
    .fetch_all(c)
    .await)
    .unwrap();
    assert_eq!(raw.len(), 3);
    assert!(
        raw.iter()
            .all(|d| !String::from_utf8_lossy(d).contains("张三"))
    );
    let _ = &w.admin;
}

#[tokio::test]
async fn key_rotation_keeps_old_signatures_verifiable() {
    let w = world_with(true, 600).await;
    let path = record_path("household", SUBJECT_SEQ);
    let r = w.app.get(&path, Some(&w.c_system)).await;
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let old =
        exchange::gateway::verify_response(&key_set(&w.app).await, 200, &headers, &bytes).unwrap();
    let r = w
        .app
        .post("/api/v1/exchange/keys/rotate", Some(&w.p_admin), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let new: Value = r.json().await.unwrap();
    assert_ne!(new["kid"], old.as_str());
    let keys = key_set(&w.app).await;
    assert!(
        keys.keys
            .iter()
            .any(|k| k.kid == old && k.retired_at.is_some())
    );
    exchange::gateway::verify_response(&keys, 200, &headers, &bytes).unwrap();
    let r = w.app.get(&path, Some(&w.c_system)).await;
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    assert_eq!(
        exchange::gateway::verify_response(&keys, 200, &headers, &bytes).unwrap(),
        new["kid"].as_str().unwrap()
    );
    // Another organisation's officer cannot rotate it.
    let r = w
        .app
        .post(
            &format!(
                "/api/v1/exchange/keys/rotate?organisation_id={}",
                keys.keys[0].organisation_id
            ),
            Some(&w.c_admin),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn consents_are_checked_when_given() {
    let w = world_with(false, 600).await;
    let app = &w.app;
    for (body, field) in [
        (
            json!({"resource": "nope", "consumer_org_id": w.c}),
            "resource",
        ),
        (
            json!({"resource": "household", "consumer_org_id": "x"}),
            "consumer_org_id",
        ),
        (
            json!({"resource": "household", "consumer_org_id": w.c, "fields": ["salary"]}),
            "fields[0]",
        ),
        (
            json!({"resource": "household", "consumer_org_id": w.c, "valid_until": "2020-01-01T00:00:00Z"}),
            "valid_until",
        ),
        (
            json!({"resource": "household", "consumer_org_id": w.c, "fetch_type": "periodic", "max_fetches_per_day": 0}),
            "max_fetches_per_day",
        ),
    ] {
        let r = app
            .post("/api/v1/me/consents", Some(&w.citizen), &body)
            .await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            field,
            "{body}"
        );
    }
    // Staff without a person cannot consent; nobody withdraws another's consent.
    let r = app
        .post(
            "/api/v1/me/consents",
            Some(&w.c_admin),
            &json!({"resource": "household", "consumer_org_id": w.c}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let c = consent(&w, json!({"resource": "household", "consumer_org_id": w.c})).await;
    let r = app
        .post(
            &format!("/api/v1/me/consents/{}/revoke", c["id"].as_str().unwrap()),
            Some(&w.c_admin),
            &json!({}),
        )
        .await;
    assert!(r.status().is_client_error());
    let r = app
        .post(
            &format!("/api/v1/me/consents/{}/revoke", c["id"].as_str().unwrap()),
            Some(&w.citizen),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            &format!("/api/v1/me/consents/{}/revoke", c["id"].as_str().unwrap()),
            Some(&w.citizen),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let _ = &w.person;
}

/// Starts `civitas demo-provider` as its own process and returns its base URL.
async fn start_provider() -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["demo-provider", "--bind", "127.0.0.1:0"])
        .env("CIVITAS_LOG", "warn")
        .env_remove("CIVITAS_TEST_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the provider");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = lines.next_line().await.unwrap().expect("provider address");
    let url = line.rsplit(' ').next().unwrap().to_string();
    (child, url)
}

#[tokio::test]
async fn a_proxied_resource_is_fetched_from_the_provider_and_signed() {
    let w = world_with(true, 600).await;
    let (_provider, base) = start_provider().await;
    let endpoint = format!("{base}{}", civitas::demo_provider::PATH);
    let r = w
        .app
        .post(
            "/api/v1/exchange/resources",
            Some(&w.p_admin),
            &json!({
                "code": "allowance", "name": "最低生活保障状态", "description": "低保认定状态。",
                "fields": [
                    {"name": "status", "title": "保障状态", "type": "string", "sensitivity": "sensitive_personal"},
                    {"name": "monthly_amount", "title": "月保障金额", "type": "number", "sensitivity": "sensitive_personal"},
                    {"name": "approved_on", "title": "认定日期", "type": "date", "sensitivity": "personal"},
                ],
                "sharing_class": "conditional", "update_frequency": "monthly",
                "serving": "proxied", "subject_kind": "person", "endpoint_url": endpoint,
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = w
        .app
        .post(
            "/api/v1/exchange/requests",
            Some(&w.c_admin),
            &json!({"resource": "allowance", "fields": ["status"], "purpose": "医疗救助身份核验",
                    "legal_basis": "《社会救助暂行办法》第二十八条", "statutory": true,
                    "expected_calls_per_day": 10}),
        )
        .await;
    let request: Value = r.json().await.unwrap();
    let r = w
        .app
        .post(
            &format!(
                "/api/v1/exchange/requests/{}/decision",
                request["id"].as_str().unwrap()
            ),
            Some(&w.p_admin),
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Find subjects the provider has and has not a record for, by asking it directly.
    let client = reqwest::Client::new();
    let (mut found, mut missing) = (None, None);
    for seq in 400..600u16 {
        let status = client
            .get(format!("{endpoint}/{}", rid(seq)))
            .send()
            .await
            .unwrap()
            .status();
        match status {
            StatusCode::OK if found.is_none() => found = Some(seq),
            StatusCode::NOT_FOUND if missing.is_none() => missing = Some(seq),
            _ => {}
        }
        if found.is_some() && missing.is_some() {
            break;
        }
    }
    let r = w
        .app
        .get(&record_path("allowance", found.unwrap()), Some(&w.c_system))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    exchange::gateway::verify_response(&key_set(&w.app).await, 200, &headers, &bytes).unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    let fields = body["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["status"]);
    assert!(!String::from_utf8_lossy(&bytes).contains("monthly_amount"));
    let r = w
        .app
        .get(
            &record_path("allowance", missing.unwrap()),
            Some(&w.c_system),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;

    // A provider that is down is a 502, audited.
    drop(_provider);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let r = w
        .app
        .get(&record_path("allowance", found.unwrap()), Some(&w.c_system))
        .await;
    problem(r, StatusCode::BAD_GATEWAY).await;
}

#[tokio::test]
async fn residents_manage_consents_on_pages() {
    let w = world_with(false, 600).await;
    consent(&w, json!({"resource": "household", "consumer_org_id": w.c})).await;
    // A session token works as the pages' session cookie.
    let page = |path: &str| {
        w.app
            .client
            .get(w.app.url(path))
            .header("cookie", format!("civitas_session={}", w.citizen))
            .send()
    };
    let r = page("/me/consents").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("户籍登记信息") && html.contains("示例市民政局"),
        "{html}"
    );
    assert!(html.contains("/revoke\""), "{html}");
    let html = page("/exchange/resources/household")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("action=\"/exchange/resources/household/consent\""),
        "{html}"
    );
}

//! One-stop services end to end on the demo city: a resident applies once (form pre-filled,
//! materials from her wallet and through the exchange, each use in her footprint), a clerk
//! takes the case through its steps to a certificate in her wallet, she rates it; the
//! workflow refuses skipped steps, wrong departments and concurrent actions; 补正 stops the
//! clock; bad forms and uploads are named; a life event runs in four departments; pages.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const PASSWORD: &str = "civitas-demo";

async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn start(app: &TestApp, token: &str, body: Value) -> Value {
    json_of(
        app.post("/api/v1/applications", Some(token), &body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn put_json(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.send(
        Method::PUT,
        path,
        Some(token),
        &[],
        Some(("application/json", serde_json::to_vec(body).unwrap())),
    )
    .await
}

async fn act(
    app: &TestApp,
    token: &str,
    case: &Value,
    action: &str,
    note: Option<&str>,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/cases/{}/actions", case["id"].as_str().unwrap()),
        Some(token),
        &json!({"action": action, "step": case["step_index"], "version": case["version"], "note": note}),
    )
    .await
}

async fn case(app: &TestApp, token: &str, id: &str) -> Value {
    json_of(
        app.get(&format!("/api/v1/cases/{id}"), Some(token)).await,
        StatusCode::OK,
    )
    .await["case"]
        .clone()
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

#[tokio::test]
async fn a_resident_applies_once_and_a_clerk_finishes_it_into_her_wallet() {
    let app = TestApp::spawn_demo().await;
    let elder = app.login("demo-elder", PASSWORD).await;
    let clerk = app.login("demo-clerk", PASSWORD).await;
    let driver = app.login("demo-driver", PASSWORD).await;

    // The catalogue is public and searchable in plain words.
    let found = json_of(
        app.get("/api/v1/services/items?q=优待证", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["code"], "senior-card");
    let by_situation = json_of(
        app.get("/api/v1/services/items?situation=养老", None).await,
        StatusCode::OK,
    )
    .await;
    assert!(by_situation.as_array().unwrap().len() >= 3);

    // She starts it: the form is pre-filled from her record, her ID card comes from her wallet.
    let a = start(&app, &elder, json!({"item": "senior-card", "fetch": true})).await;
    assert_eq!(a["state"], "draft");
    assert_eq!(a["form"]["name"], "李秀英");
    assert_eq!(a["form"]["birth_date"], "1944-03-08");
    assert_eq!(a["prefilled"]["name"], "本人信息");
    let m = &a["materials"][0];
    assert_eq!(m["source"], "certificate", "{a}");
    assert_eq!(m["values"]["name"], "李秀英");
    let id = a["id"].as_str().unwrap().to_string();

    // Submitted: one case at the civil affairs bureau, due in 3 working days, and a notice.
    let a = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&elder),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["state"], "submitted");
    let c = a["cases"][0].clone();
    assert_eq!(c["state"], "in_progress");
    assert_eq!(c["step"], "accept");
    assert_eq!(c["committed_days"], 3);
    let again = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&elder),
            &json!({}),
        )
        .await;
    problem(again, StatusCode::CONFLICT).await;

    // The clerk sees it in her queue with the applicant's name masked.
    let queue = json_of(app.get("/api/v1/cases", Some(&clerk)).await, StatusCode::OK).await;
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == c["id"])
        .expect("in the queue")
        .clone();
    assert_eq!(entry["applicant"], "李*英");
    // Another organisation's staff cannot see or act on it.
    problem(
        app.get(
            &format!("/api/v1/cases/{}", c["id"].as_str().unwrap()),
            Some(&driver),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        act(&app, &driver, &c, "complete", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A step cannot be skipped: acting on step 1 while the case is at step 0 is refused.
    let mut skipped = c.clone();
    skipped["step_index"] = json!(1);
    let p = problem(
        act(&app, &clerk, &skipped, "complete", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("not the current step"),
        "{p}"
    );
    // An unknown action and a stale version are named.
    problem(
        act(&app, &clerk, &c, "approve-all", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Accept, then finish: the certificate lands in her wallet.
    let c = json_of(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["step"], "finish");
    problem(
        act(
            &app,
            &clerk,
            &json!({"id": c["id"], "step_index": 1, "version": 0}),
            "complete",
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let c = json_of(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["state"], "finished");
    assert_eq!(c["working_days"], 0);
    let credential = c["result_credential_id"].as_str().unwrap().to_string();
    let wallet = json_of(
        app.get("/api/v1/me/credentials", Some(&elder)).await,
        StatusCode::OK,
    )
    .await;
    let issued = wallet
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == credential.as_str())
        .expect("the result is in her wallet");
    assert_eq!(issued["type_code"], "senior-citizen-card");
    assert_eq!(
        issued["document"]["credentialSubject"]["card_number"],
        a["number"]
    );
    problem(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::CONFLICT,
    )
    .await;

    // Her inbox told her at each change; the timeline shows every step.
    let inbox = json_of(
        app.get("/api/v1/me/inbox", Some(&elder)).await,
        StatusCode::OK,
    )
    .await;
    let subjects: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("申请已提交")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("已受理")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("已办结")),
        "{subjects:?}"
    );
    let a = json_of(
        app.get(&format!("/api/v1/applications/{id}"), Some(&elder))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["state"], "closed");
    let kinds: Vec<&str> = a["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "created",
        "material",
        "submitted",
        "case",
        "step",
        "finished",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    // She rates it once (好差评); it counts in the statistics.
    let before = json_of(
        app.get("/api/v1/services/statistics", None).await,
        StatusCode::OK,
    )
    .await;
    let ratings_before = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "senior-card")
        .unwrap()["ratings"]
        .as_i64()
        .unwrap();
    problem(
        app.post(
            &format!("/api/v1/applications/{id}/rating"),
            Some(&elder),
            &json!({"score": 6}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    json_of(
        app.post(
            &format!("/api/v1/applications/{id}/rating"),
            Some(&elder),
            &json!({"score": 5, "comment": "很方便"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    problem(
        app.post(
            &format!("/api/v1/applications/{id}/rating"),
            Some(&elder),
            &json!({"score": 1}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let after = json_of(
        app.get("/api/v1/services/statistics", None).await,
        StatusCode::OK,
    )
    .await;
    let item = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "senior-card")
        .unwrap()
        .clone();
    assert_eq!(item["ratings"].as_i64().unwrap(), ratings_before + 1);
    assert!(item["on_time_rate"].as_f64().is_some());
}

#[tokio::test]
async fn materials_the_government_holds_are_fetched_through_the_exchange_and_shown_in_her_footprint()
 {
    let app = TestApp::spawn_demo().await;
    let citizen = app.login("demo-citizen", PASSWORD).await;
    // Unemployment registration: her household register is fetched by the HR bureau
    // under its agreement; her degree comes from her wallet.
    let a = start(
        &app,
        &citizen,
        json!({"item": "unemployment-registration", "fetch": true}),
    )
    .await;
    let household = a["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "household-register")
        .unwrap();
    assert_eq!(household["source"], "exchange", "{a}");
    assert!(
        household["values"]["household_number"].is_string(),
        "{household}"
    );
    let call = household["reference"].as_str().unwrap().to_string();
    let degree = a["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "degree")
        .unwrap();
    assert_eq!(degree["source"], "certificate");
    let footprint = app.all_pages("/api/v1/me/footprint", &citizen).await;
    assert!(
        footprint
            .iter()
            .any(|e| e["id"] == call.as_str() && e["action"] == "exchange.read"),
        "the fetch is in her footprint"
    );
    // Without fetching, nothing is fetched: only her own particulars are filled in.
    let b = start(
        &app,
        &citizen,
        json!({"item": "unemployment-registration", "fetch": false}),
    )
    .await;
    assert!(
        b["materials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["source"] == "missing"),
        "{b}"
    );
    assert_eq!(b["form"]["name"], "王小梅");
    // A resource that needs her consent: with her standing consent withdrawn, applying is
    // her request, so a one-time consent for exactly those fields is recorded and used.
    let consents = json_of(
        app.get("/api/v1/me/consents", Some(&citizen)).await,
        StatusCode::OK,
    )
    .await;
    for c in consents
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["resource_name"] == "婚姻登记信息")
    {
        let path = format!("/api/v1/me/consents/{}/revoke", c["id"].as_str().unwrap());
        json_of(
            app.post(&path, Some(&citizen), &json!({})).await,
            StatusCode::OK,
        )
        .await;
    }
    let t = start(
        &app,
        &citizen,
        json!({"item": "real-estate-transfer", "fetch": true}),
    )
    .await;
    let marital = t["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "marital-status")
        .unwrap();
    assert_eq!(marital["source"], "exchange", "{t}");
    assert!(marital["values"]["spouse_name"].is_string(), "{marital}");
    let consents = json_of(
        app.get("/api/v1/me/consents", Some(&citizen)).await,
        StatusCode::OK,
    )
    .await;
    let once = consents
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fetch_type"] == "once" && c["resource_name"] == "婚姻登记信息")
        .expect("a one-time consent was recorded");
    assert_eq!(once["fetches"], 1);
    assert_eq!(once["fields"], json!(["marital_status", "spouse_name"]));
}

#[tokio::test]
async fn bad_forms_uploads_and_ineligible_applicants_are_named() {
    let app = TestApp::spawn_demo().await;
    let citizen = app.login("demo-citizen", PASSWORD).await;
    // Not eligible: the elderly allowance is for 80+.
    let p = problem(
        app.post(
            "/api/v1/applications",
            Some(&citizen),
            &json!({"item": "elderly-allowance"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["type"], "urn:civitas:problem:not_eligible");
    problem(
        app.post(
            "/api/v1/applications",
            Some(&citizen),
            &json!({"item": "no-such-thing"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.post("/api/v1/applications", Some(&citizen), &json!({}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.post(
            "/api/v1/applications",
            None,
            &json!({"item": "senior-card"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let a = start(
        &app,
        &citizen,
        json!({"item": "graduate-subsidy", "fetch": false}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    // Wrong values are named field by field, an unknown field too; nothing is saved.
    let p = problem(
        put_json(
            &app,
            &format!("/api/v1/applications/{id}/form"),
            &citizen,
            &json!({"values": {"phone": "12", "resident_id": "abc", "salary": 1}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["phone", "resident_id", "salary"] {
        assert!(fields.contains(&f), "{f} not named in {p}");
    }
    let a = json_of(
        app.get(&format!("/api/v1/applications/{id}"), Some(&citizen))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        a["form"]["phone"], "13700001991",
        "the bad update left the form alone"
    );
    // Submitting with required fields and materials missing names each one.
    let p = problem(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&citizen),
            &json!({}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "employer",
        "bank_account",
        "materials.degree",
        "materials.labour-contract",
    ] {
        assert!(fields.contains(&f), "{f} not named in {p}");
    }
    // Uploads: the content decides, not the name or the claimed type.
    let upload = |key: &str, ct: &str, bytes: Vec<u8>| {
        let path = format!("/api/v1/applications/{id}/materials/{key}?name=contract.pdf");
        let token = citizen.clone();
        let ct = ct.to_string();
        let app = &app;
        async move {
            app.send(Method::PUT, &path, Some(&token), &[], Some((&ct, bytes)))
                .await
        }
    };
    problem(
        upload(
            "labour-contract",
            "application/pdf",
            b"MZ\x90\x00 not a pdf".to_vec(),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    problem(
        upload("labour-contract", "image/png", PDF.to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    problem(
        upload("labour-contract", "application/pdf", Vec::new()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    problem(
        upload("labour-contract", "application/pdf", big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    problem(
        upload("no-such-material", "application/pdf", PDF.to_vec()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Refused uploads left no file behind.
    let blobs = app.config.data_dir.join("blobs").join("uploads");
    assert!(!blobs.join(&id).exists() || std::fs::read_dir(blobs.join(&id)).unwrap().count() == 0);
    // A good one is stored sealed, and she can download it.
    let m = json_of(
        upload("labour-contract", "application/pdf", PDF.to_vec()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m["source"], "upload");
    let upload_id = m["reference"].as_str().unwrap();
    let stored = std::fs::read(blobs.join(&id).join(upload_id)).unwrap();
    assert!(
        !stored.windows(5).any(|w| w == b"%PDF-"),
        "the file is sealed at rest"
    );
    let r = app
        .get(&format!("/api/v1/uploads/{upload_id}"), Some(&citizen))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    // Someone else cannot.
    let other = app.login("demo-elder", PASSWORD).await;
    problem(
        app.get(&format!("/api/v1/uploads/{upload_id}"), Some(&other))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/api/v1/applications/{id}"), Some(&other))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A file whose row never got written is swept after an hour.
    let orphan_dir = blobs.join("orphan-app");
    std::fs::create_dir_all(&orphan_dir).unwrap();
    let orphan = orphan_dir.join("file");
    std::fs::write(&orphan, b"sealed bytes").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let removed = services::service::sweep_orphan_uploads(&app.state)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!orphan.exists());
    assert!(
        blobs.join(&id).join(upload_id).exists(),
        "a file with a row is kept"
    );
}

#[tokio::test]
async fn of_concurrent_actions_on_one_case_exactly_one_succeeds() {
    let app = TestApp::spawn_demo().await;
    let elder = app.login("demo-elder", PASSWORD).await;
    let clerk = app.login("demo-clerk", PASSWORD).await;
    let a = start(&app, &elder, json!({"item": "senior-card", "fetch": true})).await;
    let id = a["id"].as_str().unwrap();
    let a = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&elder),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let c = a["cases"][0].clone();
    let attempts = (0..8).map(|i| {
        let (app, clerk, c) = (&app, clerk.clone(), c.clone());
        async move {
            let action = if i % 2 == 0 { "complete" } else { "reject" };
            act(app, &clerk, &c, action, Some("并发测试"))
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicts), (1, 7), "{statuses:?}");
    let after = case(&app, &clerk, c["id"].as_str().unwrap()).await;
    assert_eq!(after["version"], 1);
}

#[tokio::test]
async fn supplementary_materials_stop_the_clock_and_reviewers_own_their_steps() {
    let app = TestApp::spawn_demo().await;
    let elder = app.login("demo-elder", PASSWORD).await;
    let clerk = app.login("demo-clerk", PASSWORD).await;
    let reviewer = app.login("demo-reviewer", PASSWORD).await;
    let a = start(
        &app,
        &elder,
        json!({"item": "elderly-allowance", "fetch": true}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(
        a["materials"][0]["source"], "certificate",
        "her household register is in her wallet"
    );
    json_of(
        put_json(
            &app,
            &format!("/api/v1/applications/{id}/form"),
            &elder,
            &json!({"values": {"bank_account": "6217 0000 1111"}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.send(
        Method::PUT,
        &format!("/api/v1/applications/{id}/materials/bank-card?name=card.pdf"),
        Some(&elder),
        &[],
        Some(("application/pdf", PDF.to_vec())),
    )
    .await;
    let a = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&elder),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let c = a["cases"][0].clone();
    let due = c["due_on"].as_str().unwrap().to_string();
    let c = json_of(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::OK,
    )
    .await;
    // 补正 needs a note, and is asked for at review.
    problem(
        act(&app, &clerk, &c, "supplement", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let c = json_of(
        act(&app, &clerk, &c, "supplement", Some("请补充银行卡正反面")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["state"], "supplement");
    assert_eq!(c["urgency"], "paused");
    problem(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    let a = json_of(
        app.get(&format!("/api/v1/applications/{id}"), Some(&elder))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["state"], "supplement");
    // Three working days pass while paused (simulated): the due date moves by three.
    let calendar = services::service::load_calendar(&app.state).await.unwrap();
    app.exec(&format!(
        "UPDATE cases SET paused_since = '{}' WHERE id = '{}'",
        working_days_ago(&calendar, 3),
        c["id"].as_str().unwrap()
    ))
    .await;
    app.send(
        Method::PUT,
        &format!("/api/v1/applications/{id}/materials/bank-card?name=card2.pdf"),
        Some(&elder),
        &[],
        Some(("application/pdf", PDF.to_vec())),
    )
    .await;
    let a = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/resubmit"),
            Some(&elder),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let c = a["cases"][0].clone();
    assert_eq!(c["state"], "in_progress");
    assert_eq!(c["step"], "review");
    let expected = services::calendar::format_day(
        calendar.add_working_days(services::calendar::parse_day(&due).unwrap(), 3),
    );
    assert_eq!(c["due_on"], expected.as_str());
    // Review by the clerk; approval is the reviewer's, not the clerk's.
    let c = json_of(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["step"], "approve");
    problem(
        act(&app, &clerk, &c, "complete", None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Rejection needs reasons, and reaches her inbox.
    problem(
        act(&app, &reviewer, &c, "reject", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let c = json_of(
        act(&app, &reviewer, &c, "reject", Some("已在外地领取同类津贴")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["state"], "rejected");
    let inbox = json_of(
        app.get("/api/v1/me/inbox", Some(&elder)).await,
        StatusCode::OK,
    )
    .await;
    assert!(inbox.to_string().contains("已在外地领取同类津贴"));
    // The overdue case of the demo is on the reviewer's escalated list.
    let escalated = json_of(
        app.get("/api/v1/cases?view=escalated", Some(&reviewer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        escalated
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["urgency"] == "overdue" && !e["escalated_at"].is_null()),
        "{escalated}"
    );
    problem(
        app.get("/api/v1/cases?view=someday", Some(&reviewer)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

/// The day `n` working days before today in `calendar` (the demo's holidays included).
fn working_days_ago(calendar: &services::calendar::Calendar, n: i64) -> String {
    let mut day = services::calendar::today();
    let mut left = n;
    // Working days are counted after the start day up to today, so count today first.
    while left > 0 {
        if calendar.is_working(day) {
            left -= 1;
        }
        day -= time::Duration::days(1);
    }
    assert_eq!(
        calendar.working_days_between(day, services::calendar::today()),
        n
    );
    services::calendar::format_day(day)
}

#[tokio::test]
async fn a_life_event_is_one_application_handled_by_three_departments_at_once() {
    let app = TestApp::spawn_demo().await;
    let citizen = app.login("demo-citizen", PASSWORD).await;
    let health = app.login("demo-clerk-health", PASSWORD).await;
    let police = app.login("demo-clerk-police", PASSWORD).await;
    let a = start(
        &app,
        &citizen,
        json!({"life_event": "newborn", "fetch": true}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    // Shared fields are asked once.
    let props = a["schema"]["properties"].as_object().unwrap();
    assert!(props.contains_key("child_name") && props.contains_key("bank_account"));
    let keys: Vec<&str> = a["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys.iter().filter(|k| **k == "household-register").count(),
        1,
        "{keys:?}"
    );
    json_of(
        put_json(&app, &format!("/api/v1/applications/{id}/form"), &citizen, &json!({"values": {"child_name": "赵乐乐", "child_birth_date": "2026-11-20", "child_sex": "男", "bank_account": "6217 1"}})).await,
        StatusCode::OK,
    )
    .await;
    app.send(
        Method::PUT,
        &format!("/api/v1/applications/{id}/materials/birth-certificate?name=birth.pdf"),
        Some(&citizen),
        &[],
        Some(("application/pdf", PDF.to_vec())),
    )
    .await;
    let a = json_of(
        app.post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&citizen),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let cases = a["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    let orgs: std::collections::HashSet<&str> = cases
        .iter()
        .map(|c| c["lead_org_id"].as_str().unwrap())
        .collect();
    assert_eq!(orgs.len(), 3, "health, police and medical insurance");
    let birth = cases
        .iter()
        .find(|c| c["item_code"] == "birth-medical-certificate")
        .unwrap()
        .clone();
    let household = cases
        .iter()
        .find(|c| c["item_code"] == "newborn-household")
        .unwrap()
        .clone();
    // Each department acts on its own case only.
    problem(
        act(&app, &police, &birth, "complete", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    json_of(
        act(&app, &health, &birth, "complete", None).await,
        StatusCode::OK,
    )
    .await;
    json_of(
        act(&app, &police, &household, "complete", None).await,
        StatusCode::OK,
    )
    .await;
    let a = json_of(
        app.get(&format!("/api/v1/applications/{id}"), Some(&citizen))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["state"], "submitted", "two cases are still open");
}

#[tokio::test]
async fn the_catalogue_and_calendar_are_maintained_by_administrators_only() {
    let app = TestApp::spawn_demo().await;
    let admin = app.login("demo-admin", PASSWORD).await;
    let clerk = app.login("demo-clerk", PASSWORD).await;
    let item = json_of(
        app.get("/api/v1/services/items/senior-card", None).await,
        StatusCode::OK,
    )
    .await;
    let mut def = item.clone();
    for k in [
        "id",
        "department_names",
        "materials_without_upload",
        "updated_at",
    ] {
        def.as_object_mut().unwrap().remove(k);
    }
    // Bad definitions are named.
    let mut bad = def.clone();
    bad["code"] = json!("senior-card-2");
    bad["steps"] = json!([{"kind": "accept", "role": "clerk"}]);
    let p = problem(
        app.post("/api/v1/services/items", Some(&admin), &bad).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "steps");
    bad["steps"] = def["steps"].clone();
    bad["committed_days"] = json!(99);
    let p = problem(
        app.post("/api/v1/services/items", Some(&admin), &bad).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "committed_days");
    bad["committed_days"] = json!(3);
    bad["field_sources"] = json!({"nickname": "profile.name"});
    let p = problem(
        app.post("/api/v1/services/items", Some(&admin), &bad).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "field_sources.nickname");
    bad["field_sources"] = json!({});
    bad["materials"] = json!([{"key": "x-doc", "name": "X", "resource": {"code": "household-registration", "fields": ["salary"]}}]);
    problem(
        app.post("/api/v1/services/items", Some(&admin), &bad).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // A clerk may not define items; the admin may; the code is unique.
    bad["materials"] = json!([]);
    problem(
        app.post("/api/v1/services/items", Some(&clerk), &bad).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    json_of(
        app.post("/api/v1/services/items", Some(&admin), &bad).await,
        StatusCode::CREATED,
    )
    .await;
    problem(
        app.post("/api/v1/services/items", Some(&admin), &bad).await,
        StatusCode::CONFLICT,
    )
    .await;
    bad["name"] = json!("老年人优待证办理（试行）");
    let updated = json_of(
        put_json(&app, "/api/v1/services/items/senior-card-2", &admin, &bad).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["name"], "老年人优待证办理（试行）");

    // The calendar: a holiday makes a weekday rest; only the platform admin sets it.
    problem(
        put_json(
            &app,
            "/api/v1/services/calendar/2027-02-10",
            &clerk,
            &json!({"name": "春节"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        put_json(
            &app,
            "/api/v1/services/calendar/2027-13-10",
            &admin,
            &json!({"name": "春节"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    json_of(
        put_json(
            &app,
            "/api/v1/services/calendar/2027-02-10",
            &admin,
            &json!({"name": "春节"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let days = json_of(
        app.get("/api/v1/services/calendar?year=2027", None).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        days.as_array()
            .unwrap()
            .iter()
            .any(|d| d["day"] == "2027-02-10" && d["working"] == false)
    );
    let calendar = services::service::load_calendar(&app.state).await.unwrap();
    assert!(!calendar.is_working(services::calendar::parse_day("2027-02-10").unwrap()));
    let r = app
        .send(
            Method::DELETE,
            "/api/v1/services/calendar/2027-02-10",
            Some(&admin),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(
        app.send(
            Method::DELETE,
            "/api/v1/services/calendar/2027-02-10",
            Some(&admin),
            &[],
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// A multipart body with the CSRF field and one file.
fn multipart(file_name: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "civitas-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntest-csrf-token\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn pages_walk_a_resident_from_search_to_submission_and_a_clerk_to_the_result() {
    let app = TestApp::spawn_demo().await;
    let elder = app.login("demo-elder", PASSWORD).await;
    let clerk = app.login("demo-clerk", PASSWORD).await;
    let r = app.page(Method::GET, "/services?q=高龄", &elder, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("高龄津贴申领") && !html.contains("老年人优待证办理"),
        "search narrows the list"
    );
    let html = app
        .page(
            Method::GET,
            "/services/items/elderly-allowance",
            &elder,
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("从您的证照夹自动获取") && html.contains("同意调取"));
    let r = app
        .page(
            Method::POST,
            "/services/items/elderly-allowance/start",
            &elder,
            &[("fetch", "true")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let overview = location(&r);
    let id = overview.rsplit('/').next().unwrap().to_string();
    let html = app
        .page(Method::GET, &overview, &elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已从证照夹获取") && html.contains("待填写"),
        "{html}"
    );
    // Submitting too early lists what is missing, linked to where to fix it.
    let r = app
        .page(
            Method::POST,
            &format!("/me/applications/{id}/submit"),
            &elder,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("/me/applications/{id}/form#field-bank_account"))
            && html.contains(&format!("/me/applications/{id}/materials/bank-card")),
        "{html}"
    );
    // The form page is pre-filled; a bad value is shown at its field.
    let html = app
        .page(
            Method::GET,
            &format!("/me/applications/{id}/form"),
            &elder,
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"李秀英\"") && html.contains("已自动填写"));
    let r = app
        .page(
            Method::POST,
            &format!("/me/applications/{id}/form"),
            &elder,
            &[
                ("name", "李秀英"),
                ("resident_id", "bad"),
                ("bank_account", "6217"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("error-message"));
    let rid = civitas::demo::resident_id("990102", 1944, 3, 8, 124)
        .unwrap()
        .to_string();
    let r = app
        .page(
            Method::POST,
            &format!("/me/applications/{id}/form"),
            &elder,
            &[
                ("name", "李秀英"),
                ("resident_id", &rid),
                ("phone", "13900001944"),
                ("address", "幸福社区"),
                ("bank_account", "6217 0000 9999"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Upload through the page: a wrong type is named, a PDF is taken.
    let cookie = format!("civitas_session={elder}; civitas_csrf=test-csrf-token");
    let (ct, body) = multipart("card.png", "image/png", b"not an image at all");
    let r = app
        .send(
            Method::POST,
            &format!("/me/applications/{id}/materials/bank-card"),
            None,
            &[("cookie", &cookie)],
            Some((&ct, body)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.text().await.unwrap().contains("error-summary"));
    let (ct, body) = multipart("card.pdf", "application/pdf", PDF);
    let r = app
        .send(
            Method::POST,
            &format!("/me/applications/{id}/materials/bank-card"),
            None,
            &[("cookie", &cookie)],
            Some((&ct, body)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .page(
            Method::POST,
            &format!("/me/applications/{id}/submit"),
            &elder,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .page(Method::GET, &overview, &elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("待受理"), "{html}");

    // The clerk: queue → case → accept → review; the reviewer approves; the clerk finishes.
    let html = app
        .page(Method::GET, "/cases", &clerk, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("李*英"));
    let a = json_of(
        app.get(&format!("/api/v1/applications/{id}"), Some(&elder))
            .await,
        StatusCode::OK,
    )
    .await;
    let case_id = a["cases"][0]["id"].as_str().unwrap().to_string();
    let html = app
        .page(Method::GET, &format!("/cases/{case_id}"), &clerk, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("6217 0000 9999") && html.contains("/files/"),
        "the clerk sees the form and the upload"
    );
    let reviewer = app.login("demo-reviewer", PASSWORD).await;
    for (who, version) in [(&clerk, 0), (&clerk, 1), (&reviewer, 2), (&clerk, 3)] {
        let step = version;
        let r = app
            .page(
                Method::POST,
                &format!("/cases/{case_id}/act?step={step}&version={version}"),
                who,
                &[("action", "complete"), ("note", "")],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
    }
    // A rejection without reasons is shown at the field (on a new application's case).
    let html = app
        .page(Method::GET, &overview, &elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("已办结") && html.contains("好差评"), "{html}");
    let r = app
        .page(
            Method::POST,
            &format!("/me/applications/{id}/rating"),
            &elder,
            &[("score", "5"), ("comment", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Statistics with charts, and the calendar, render.
    let html = app
        .page(Method::GET, "/services/statistics", &elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<svg") && html.contains("免交材料"));
    let admin = app.login("demo-admin", PASSWORD).await;
    let html = app
        .page(Method::GET, "/services/calendar", &admin, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("国庆节"));
    let r = app
        .page(
            Method::POST,
            "/services/calendar",
            &admin,
            &[("day", "not-a-day"), ("name", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_proxy_applies_for_the_person_who_authorised_him_and_it_shows_in_her_footprint() {
    let app = TestApp::spawn_demo().await;
    let elder = app.login("demo-elder", PASSWORD).await;
    let relative = app.login("demo-relative", PASSWORD).await;
    let me = json_of(app.get("/api/v1/me", Some(&elder)).await, StatusCode::OK).await;
    let person = me["person"]["id"].as_str().unwrap().to_string();
    let as_proxy = |method: Method, path: String, body: Value| {
        let (app, token, person) = (&app, relative.clone(), person.clone());
        async move {
            app.send(
                method,
                &path,
                Some(&token),
                &[("x-act-for", &person)],
                Some(("application/json", serde_json::to_vec(&body).unwrap())),
            )
            .await
        }
    };
    let a = json_of(
        as_proxy(
            Method::POST,
            "/api/v1/applications".into(),
            json!({"item": "pension-qualification", "fetch": true, "submit": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(a["state"], "submitted", "{a}");
    assert_eq!(a["person_id"], person.as_str());
    assert_eq!(a["form"]["name"], "李秀英");
    // It is hers: in her list, and the submission is in her footprint as her son's act.
    let mine = app.all_pages("/api/v1/me/applications", &elder).await;
    assert!(mine.iter().any(|m| m["id"] == a["id"]));
    let footprint = app.all_pages("/api/v1/me/footprint", &elder).await;
    let submit = footprint
        .iter()
        .find(|e| e["action"] == "application.submit")
        .expect("the submission is in her footprint");
    assert_eq!(submit["via_proxy"], true, "{submit}");
    // The son's own list does not hold it.
    let his = app.all_pages("/api/v1/me/applications", &relative).await;
    assert!(his.iter().all(|m| m["id"] != a["id"]));
}

/// Uploads in an S3-compatible store. CI starts a local S3 server (moto), names its bucket
/// in `S3_TEST_BUCKET` and its endpoint and keys in the `AWS_*` variables; without
/// them this test has nothing to talk to and says so.
#[tokio::test]
async fn uploads_live_sealed_in_an_s3_compatible_store_when_one_is_configured() {
    use object_store::ObjectStore;
    let Ok(bucket) = std::env::var("S3_TEST_BUCKET") else {
        eprintln!("S3_TEST_BUCKET is not set: the S3 blob store is tested in CI");
        return;
    };
    let prefix = format!("run-{}", uuid::Uuid::now_v7().simple());
    let url = format!("s3://{bucket}/{prefix}");
    let app = TestApp::spawn_configured(true, |c| c.blob_store = Some(url)).await;
    let citizen = app.login("demo-citizen", PASSWORD).await;
    let a = start(
        &app,
        &citizen,
        json!({"item": "graduate-subsidy", "fetch": false}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    let m = json_of(
        app.send(
            Method::PUT,
            &format!("/api/v1/applications/{id}/materials/labour-contract?name=contract.pdf"),
            Some(&citizen),
            &[],
            Some(("application/pdf", PDF.to_vec())),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let upload_id = m["reference"].as_str().unwrap().to_string();
    // The object is in the bucket under the configured prefix, sealed.
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(&bucket)
        .build()
        .unwrap();
    let key = object_store::path::Path::from(format!("{prefix}/uploads/{id}/{upload_id}"));
    let stored = s3.get(&key).await.unwrap().bytes().await.unwrap();
    assert!(!stored.is_empty());
    assert!(
        !stored.windows(5).any(|w| w == b"%PDF-"),
        "the file is sealed before it leaves the process"
    );
    // She reads it back through the platform.
    let r = app
        .get(&format!("/api/v1/uploads/{upload_id}"), Some(&citizen))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    // Listing (the orphan sweep's view) and deleting work on the bucket.
    let blobs = services::blobs::Blobs::of(&app.state).unwrap();
    let listed = blobs
        .older_than("uploads", kernel::time::Timestamp::now().plus_minutes(1))
        .await
        .unwrap();
    // The demo's own uploads are there too, all under this run's prefix.
    assert!(
        listed.contains(&format!("uploads/{id}/{upload_id}")),
        "{listed:?}"
    );
    assert!(listed.len() > 1 && listed.iter().all(|k| k.starts_with("uploads/")));
    assert_eq!(
        services::service::sweep_orphan_uploads(&app.state)
            .await
            .unwrap(),
        0,
        "a new file with its row is kept"
    );
    blobs
        .delete(&format!("uploads/{id}/{upload_id}"))
        .await
        .unwrap();
    assert!(matches!(
        s3.get(&key).await,
        Err(object_store::Error::NotFound { .. })
    ));
    problem(
        app.get(&format!("/api/v1/uploads/{upload_id}"), Some(&citizen))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn administrators_define_and_edit_items_on_pages_with_each_problem_named() {
    let app = TestApp::spawn_demo().await;
    let admin = app.login("demo-admin", PASSWORD).await;
    let citizen = app.login("demo-citizen", PASSWORD).await;
    let r = app.page(Method::GET, "/services", &admin, &[]).await;
    assert!(r.text().await.unwrap().contains("/services/items/new"));
    let r = app
        .page(Method::GET, "/services/items/new", &admin, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text().await.unwrap().contains("new-item"),
        "a worked example"
    );
    let r = app
        .page(Method::GET, "/services/items/new", &citizen, &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Broken JSON names line and column; a wrong reference names its place.
    let r = app
        .page(
            Method::POST,
            "/services/items/new",
            &admin,
            &[("definition", "{\n  \"code\": ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("line 2"));
    let item = json_of(
        app.get("/api/v1/services/items/senior-card", Some(&admin))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut def = item.clone();
    let object = def.as_object_mut().unwrap();
    for derived in [
        "id",
        "department_names",
        "materials_without_upload",
        "updated_at",
    ] {
        object.remove(derived);
    }
    object.insert("code".into(), json!("senior-card-copy"));
    let good = def.to_string();
    def["departments"] = json!([uuid::Uuid::now_v7().to_string()]);
    let r = app
        .page(
            Method::POST,
            "/services/items/new",
            &admin,
            &[("definition", &def.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("departments"));
    let r = app
        .page(
            Method::POST,
            "/services/items/new",
            &admin,
            &[("definition", &good)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/services/items/senior-card-copy");
    json_of(
        app.get("/api/v1/services/items/senior-card-copy", None)
            .await,
        StatusCode::OK,
    )
    .await;

    // Editing: the lead department's administrator or the platform's.
    let r = app
        .page(Method::GET, "/services/items/senior-card", &admin, &[])
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("/services/items/senior-card/edit")
    );
    let r = app
        .page(
            Method::GET,
            "/services/items/senior-card/edit",
            &citizen,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .page(Method::GET, "/services/items/senior-card/edit", &admin, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let mut edited: Value = serde_json::from_str(&good).unwrap();
    edited["code"] = json!("senior-card");
    edited["name"] = json!("老年人优待证申领");
    let r = app
        .page(
            Method::POST,
            "/services/items/senior-card/edit",
            &admin,
            &[("definition", &edited.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let now = json_of(
        app.get("/api/v1/services/items/senior-card", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["name"], "老年人优待证申领");
    edited["committed_days"] = json!(-3);
    let r = app
        .page(
            Method::POST,
            "/services/items/senior-card/edit",
            &admin,
            &[("definition", &edited.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("committed_days"));
}

//! CAP alerts end to end: a duty officer drafts, a second approves, the first issues; the
//! alert is public as CAP 1.2 XML that validates against the OASIS schema and in the Atom
//! and RSS feeds; updates and cancels replace it. Alerts from other authorities (the
//! standard's examples and real IPAWS, NWS and Google alerts) import, each exactly as
//! received and as valid CAP 1.2; bad and hostile documents are refused with every problem
//! named. `civitas cap validate` checks files offline.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::helpers::{TestApp, problem};

fn testdata() -> PathBuf {
    let base = std::env::var("CIVITAS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    base.join("testdata").join("cap")
}

fn test_alerts() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(testdata())
        .expect("../shared/testdata/cap beside the checkout")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

async fn import(app: &TestApp, token: &str, document: &[u8]) -> reqwest::Response {
    app.send(
        Method::POST,
        "/api/v1/safety/cap",
        Some(token),
        &[],
        Some(("application/cap+xml", document.to_vec())),
    )
    .await
}

fn storm() -> Value {
    json!({
        "status": "Actual",
        "info": [
            {"language": "zh-CN", "category": ["Met"], "event": "暴雨", "responseType": ["Prepare", "Avoid"],
             "urgency": "Expected", "severity": "Severe", "certainty": "Likely",
             "senderName": "示例市应急管理局", "headline": "暴雨橙色预警",
             "description": "未来6小时河西区降雨量将达50毫米以上。", "instruction": "请远离河道，低洼地带居民做好转移准备。",
             "area": [{"areaDesc": "河西区", "polygon": ["30.0,114.0 30.1,114.0 30.1,114.1 30.0,114.1 30.0,114.0"],
                       "geocode": [{"valueName": "GB/T 2260", "value": "990102001001"}]}]},
            {"language": "en-US", "category": ["Met"], "event": "Rainstorm",
             "urgency": "Expected", "severity": "Severe", "certainty": "Likely",
             "headline": "Orange rainstorm warning",
             "area": [{"areaDesc": "Hexi district", "circle": ["30.05,114.05 8"]}]}
        ]
    })
}

async fn officers(app: &TestApp) -> (String, String, String) {
    let admin = app.admin().await;
    app.regions(&admin).await;
    let emergency = app.organisation(&admin, 1, "示例市应急管理局").await;
    let first = app
        .account("duty-first", Role::Clerk, Some(&emergency), None)
        .await;
    let second = app
        .account("duty-second", Role::Reviewer, Some(&emergency), None)
        .await;
    let (_, _, resident) = app.citizen(&admin, 1, "王大妈", "wang").await;
    (first, second, resident)
}

#[tokio::test]
async fn an_alert_is_drafted_approved_by_a_second_officer_issued_updated_and_cancelled() {
    let app = TestApp::spawn().await;
    let (first, second, resident) = officers(&app).await;

    let r = app
        .post("/api/v1/safety/alerts", Some(&resident), &storm())
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post("/api/v1/safety/alerts", Some(&first), &json!({"info": []}))
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "info");
    let mut open = storm();
    open["info"][0]["area"][0]["polygon"][0] = json!("30.0,114.0 30.1,114.0 30.1,114.1");
    open["info"][1]["area"][0]["circle"][0] = json!("30.05,114.05");
    let r = app.post("/api/v1/safety/alerts", Some(&first), &open).await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "alert/info[1]/area[1]/polygon[1]",
            "alert/info[2]/area[1]/circle[1]"
        ],
        "{p}"
    );
    let r = app
        .post(
            "/api/v1/safety/alerts",
            Some(&first),
            &json!({"info": [{"event": "x"}]}),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;

    let r = app
        .post("/api/v1/safety/alerts", Some(&first), &storm())
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let draft: Value = r.json().await.unwrap();
    let id = draft["id"].as_str().unwrap().to_string();
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["alert"]["msgType"], "Alert");
    assert!(
        draft["alert"]["identifier"]
            .as_str()
            .unwrap()
            .starts_with("civitas-")
    );

    // A draft is not public; the one who drafted it cannot approve it; nothing unapproved issues.
    assert_eq!(
        app.get(&format!("/api/v1/safety/alerts/{id}"), None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let listed: Value = app
        .get("/api/v1/safety/alerts", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
    let listed: Value = app
        .get("/api/v1/safety/alerts?state=draft", Some(&second))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let r = app
        .get("/api/v1/safety/alerts?state=sent", Some(&second))
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "state");
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/approve"),
            Some(&first),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::FORBIDDEN).await["type"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next(),
        Some("second_person_required")
    );
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/issue"),
            Some(&first),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/approve"),
            Some(&resident),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/approve"),
            Some(&second),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let approved: Value = r.json().await.unwrap();
    assert_eq!(approved["state"], "approved");
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/issue"),
            Some(&first),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let issued: Value = r.json().await.unwrap();
    assert_eq!(issued["state"], "issued");
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/issue"),
            Some(&first),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // Out: public, as valid CAP 1.2, and in both feeds.
    let r = app
        .get(&format!("/api/v1/safety/alerts/{id}/cap.xml"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/cap+xml")
    );
    let xml = r.bytes().await.unwrap();
    let validation = safety::cap::validate(&xml);
    assert!(validation.is_valid(), "{:#?}", validation.problems);
    let alert = validation.read.unwrap().alert;
    assert_eq!(
        alert.identifier,
        issued["alert"]["identifier"].as_str().unwrap()
    );
    assert_eq!(alert.sent, issued["alert"]["sent"].as_str().unwrap());
    assert_eq!(alert.info.len(), 2);
    assert_eq!(alert.info[0].headline.as_deref(), Some("暴雨橙色预警"));
    let r = app
        .get(&format!("/api/v1/safety/alerts/{id}/original.xml"), None)
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let atom = app
        .get("/api/v1/safety/cap/feed.atom", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        atom.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
        "{atom}"
    );
    assert!(
        atom.contains(&format!("/api/v1/safety/alerts/{id}/cap.xml")),
        "{atom}"
    );
    assert!(atom.contains("暴雨橙色预警"));
    let rss = app
        .get("/api/v1/safety/cap/feed.rss", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        rss.contains("<rss version=\"2.0\">") && rss.contains("<pubDate>"),
        "{rss}"
    );

    // An update replaces it once issued; a cancel then withdraws the update. A cancel
    // drafted against the original meanwhile finds it replaced when it comes to be issued.
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/cancel"),
            Some(&first),
            &json!({"note": "误报"}),
        )
        .await;
    let late_cancel: Value = r.json().await.unwrap();
    let late_cancel = late_cancel["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/safety/alerts/{late_cancel}/approve"),
        Some(&second),
        &json!({}),
    )
    .await;
    let mut worse = storm();
    worse["info"][0]["severity"] = json!("Extreme");
    worse["info"][0]["headline"] = json!("暴雨红色预警");
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/update"),
            Some(&first),
            &worse,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let update: Value = r.json().await.unwrap();
    let update_id = update["id"].as_str().unwrap().to_string();
    assert_eq!(update["alert"]["msgType"], "Update");
    assert_eq!(update["refers_to"], id.as_str());
    let reference = format!("{},{},{}", alert.sender, alert.identifier, alert.sent);
    assert_eq!(update["alert"]["references"], reference.as_str());
    app.post(
        &format!("/api/v1/safety/alerts/{update_id}/approve"),
        Some(&second),
        &json!({}),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{update_id}/issue"),
            Some(&second),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let original: Value = app
        .get(&format!("/api/v1/safety/alerts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(original["state"], "superseded");
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{late_cancel}/issue"),
            Some(&first),
            &json!({}),
        )
        .await;
    assert!(
        problem(r, StatusCode::CONFLICT).await["detail"]
            .as_str()
            .unwrap()
            .contains("superseded")
    );
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{id}/update"),
            Some(&first),
            &worse,
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{update_id}/cancel"),
            Some(&first),
            &json!({"note": " "}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "note");
    let r = app
        .post(
            &format!("/api/v1/safety/alerts/{update_id}/cancel"),
            Some(&first),
            &json!({"note": "雨势减弱，预警解除"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cancel: Value = r.json().await.unwrap();
    let cancel_id = cancel["id"].as_str().unwrap().to_string();
    assert_eq!(cancel["alert"]["msgType"], "Cancel");
    assert!(cancel["alert"].get("info").is_none());
    app.post(
        &format!("/api/v1/safety/alerts/{cancel_id}/approve"),
        Some(&second),
        &json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/safety/alerts/{cancel_id}/issue"),
        Some(&first),
        &json!({}),
    )
    .await;
    let update: Value = app
        .get(&format!("/api/v1/safety/alerts/{update_id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(update["state"], "cancelled");
    let xml = app
        .get(&format!("/api/v1/safety/alerts/{cancel_id}/cap.xml"), None)
        .await
        .bytes()
        .await
        .unwrap();
    let validation = safety::cap::validate(&xml);
    assert!(validation.is_valid(), "{:#?}", validation.problems);

    let listed: Value = app
        .get("/api/v1/safety/alerts", None)
        .await
        .json()
        .await
        .unwrap();
    let states: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["issued", "cancelled", "superseded"]);

    // Each step is in the audit log.
    let (code, out, err) = app.cli(&["audit", "verify"]).await;
    assert_eq!(code, 0, "{out}{err}");
    for action in [
        "safety.alert.draft",
        "safety.alert.approve",
        "safety.alert.issue",
    ] {
        let count = app.audit_count(action).await;
        assert!(count >= 3, "{action}: {count}");
    }
}

#[tokio::test]
async fn alerts_of_other_authorities_import_as_received_and_bad_ones_are_refused() {
    let app = TestApp::spawn().await;
    let (first, _, resident) = officers(&app).await;
    let files = test_alerts();
    assert!(files.len() >= 11);
    for (name, bytes) in &files {
        let r = import(&app, &first, bytes).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{name}: {}",
            r.text().await.unwrap()
        );
        let record: Value = r.json().await.unwrap();
        assert_eq!(record["origin"], "imported");
        let id = record["id"].as_str().unwrap();
        let expected_version = if name.starts_with("nws-") {
            "1.1"
        } else {
            "1.2"
        };
        assert_eq!(record["received_version"], expected_version, "{name}");
        assert_eq!(
            record["signed"],
            name.starts_with("ipaws-") || name.starts_with("google-"),
            "{name}"
        );
        let original = app
            .get(
                &format!("/api/v1/safety/alerts/{id}/original.xml"),
                Some(&first),
            )
            .await;
        assert_eq!(
            original.bytes().await.unwrap().as_ref(),
            bytes.as_slice(),
            "{name}"
        );
        let exported = app
            .get(&format!("/api/v1/safety/alerts/{id}/cap.xml"), Some(&first))
            .await
            .bytes()
            .await
            .unwrap();
        let problems = safety::cap::schema_problems(&exported);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
        let r = import(&app, &first, bytes).await;
        problem(r, StatusCode::CONFLICT).await;
    }
    let listed: Value = app
        .get("/api/v1/safety/alerts?state=received", Some(&first))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), files.len());

    // A received cancel withdraws the received alert it names.
    let alert = |kind: &str, id: &str, extra: &str| {
        format!(
            "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>{id}</identifier><sender>cma@weather.example</sender><sent>2026-07-21T14:00:00+08:00</sent><status>Actual</status><msgType>{kind}</msgType><scope>Public</scope>{extra}</alert>"
        )
    };
    let first_alert = alert(
        "Alert",
        "CMA-1",
        "<info><category>Met</category><event>台风</event><urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty></info>",
    );
    let r = import(&app, &first, first_alert.as_bytes()).await;
    let received: Value = r.json().await.unwrap();
    let cancel = alert(
        "Cancel",
        "CMA-2",
        "<references>cma@weather.example,CMA-1,2026-07-21T14:00:00+08:00</references>",
    );
    let r = import(&app, &first, cancel.as_bytes()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cancel: Value = r.json().await.unwrap();
    assert_eq!(cancel["refers_to"], received["id"]);
    let received: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{}", received["id"].as_str().unwrap()),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(received["state"], "cancelled");

    // Only the sender's own alerts in force, of the same status, are replaced; a test
    // message is not public; this platform's own sender cannot be imported.
    let typhoon = alert(
        "Alert",
        "CMA-4",
        "<info><category>Met</category><event>台风</event><urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty></info>",
    );
    let typhoon: Value = import(&app, &first, typhoon.as_bytes())
        .await
        .json()
        .await
        .unwrap();
    let other = alert(
        "Cancel",
        "CMA-5",
        "<references>cma@weather.example,CMA-4,2026-07-21T14:00:00+08:00</references>",
    )
    .replace(
        "<sender>cma@weather.example</sender>",
        "<sender>prank@example.org</sender>",
    );
    assert_eq!(
        import(&app, &first, other.as_bytes()).await.status(),
        StatusCode::CREATED
    );
    let test = alert(
        "Cancel",
        "CMA-6",
        "<references>cma@weather.example,CMA-4,2026-07-21T14:00:00+08:00</references>",
    )
    .replace("<status>Actual</status>", "<status>Test</status>");
    let test: Value = import(&app, &first, test.as_bytes())
        .await
        .json()
        .await
        .unwrap();
    let typhoon: Value = app
        .get(
            &format!("/api/v1/safety/alerts/{}", typhoon["id"].as_str().unwrap()),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(typhoon["state"], "received");
    let r = app
        .get(
            &format!("/api/v1/safety/alerts/{}", test["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let ours = alert("Alert", "X-1", "").replace("cma@weather.example", "civitas@127.0.0.1");
    let p = problem(
        import(&app, &first, ours.as_bytes()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "alert/sender", "{p}");

    // Refused, each with every problem named; residents cannot import.
    let r = import(&app, &resident, first_alert.as_bytes()).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let bad = alert(
        "Update",
        "CMA 3",
        "<info><category>Weather</category><event>x</event><urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty></info>",
    );
    let p = problem(
        import(&app, &first, bad.as_bytes()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let text = p.to_string();
    assert!(
        text.contains("Weather")
            && text.contains("alert/identifier")
            && text.contains("alert/references"),
        "{p}"
    );
    let hostile =
        format!("<!DOCTYPE alert [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{first_alert}");
    let p = problem(
        import(&app, &first, hostile.as_bytes()).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p.to_string().contains("DOCTYPE"), "{p}");
    let p = problem(
        import(&app, &first, b"not xml").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p.to_string().contains("well-formed"), "{p}");
    let huge = vec![b' '; 5 * 1024 * 1024];
    problem(
        import(&app, &first, &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
}

#[tokio::test]
async fn cap_validate_checks_files_offline_and_names_every_problem() {
    let app = TestApp::spawn().await;
    let dir = testdata();
    let files: Vec<String> = test_alerts()
        .iter()
        .map(|(name, _)| dir.join(name).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["cap", "validate"];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = app.cli(&args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches(": valid CAP 1.2").count(), files.len(), "{out}");
    assert!(out.contains("CAP 1.1, checked as upgraded to 1.2"), "{out}");

    let bad = "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>a b</identifier><sender>x</sender><sent>2026-01-01T00:00:00Z</sent><status>Actual</status><msgType>Cancel</msgType><scope>Private</scope></alert>";
    let (code, out, _) = app.cli_with_input(&["cap", "validate", "-"], bad).await;
    assert_eq!(code, 1, "{out}");
    for element in [
        "alert/identifier",
        "alert/sent",
        "alert/addresses",
        "alert/references",
        "line 1: schema",
    ] {
        assert!(out.contains(element), "{element}: {out}");
    }
    let (code, out, _) = app
        .cli(&["cap", "validate", "/nonexistent/alert.xml"])
        .await;
    assert_eq!(code, 1);
    assert!(out.contains("cannot be read"), "{out}");
}

#[tokio::test]
async fn officers_draft_approve_issue_and_import_on_the_pages() {
    let app = TestApp::spawn().await;
    let (first, second, resident) = officers(&app).await;

    let r = app
        .page(Method::GET, "/safety/alerts/new", &first, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("name=\"polygon\"") && html.contains("name=\"event_en\""),
        "{html}"
    );
    let r = app
        .page(Method::GET, "/safety/alerts/new", &resident, &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let mut form = vec![
        ("event", "暴雨"),
        ("category", "Met"),
        ("severity", "Severe"),
        ("urgency", "Expected"),
        ("certainty", "Likely"),
        ("headline", "河西区暴雨橙色预警"),
        ("instruction", "请远离河道。"),
        ("area_desc", "河西区"),
        ("regions", "990102001001"),
        ("polygon", "30.0,114.0 30.1,114.0 30.1,114.1"),
        ("circle", ""),
        ("expires_hours", "12"),
        ("event_en", "Rainstorm"),
        ("headline_en", "Orange rainstorm warning for Hexi"),
    ];
    // A polygon of three points comes back at its field, with what was typed kept.
    let r = app
        .page(Method::POST, "/safety/alerts/new", &first, &form)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("at least four points") && html.contains("河西区暴雨橙色预警"),
        "{html}"
    );
    form[9] = ("polygon", "30.0,114.0 30.1,114.0 30.1,114.1 30.0,114.0");
    let r = app
        .page(Method::POST, "/safety/alerts/new", &first, &form)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let page = r.headers()["location"].to_str().unwrap().to_string();
    let id = page.rsplit('/').next().unwrap().to_string();

    let html = app
        .page(Method::GET, &page, &first, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("A second duty officer must approve")
            || html.contains("须由另一名值班员审核"),
        "{html}"
    );
    assert!(!html.contains(&format!("/safety/alerts/{id}/approve")));
    let html = app
        .page(Method::GET, &page, &second, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/safety/alerts/{id}/approve")),
        "{html}"
    );
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/approve"),
            &second,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/issue"),
            &first,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Out: on the public list and page, in both languages, as valid CAP.
    let html = app.get("/safety/alerts", None).await.text().await.unwrap();
    assert!(
        html.contains("河西区暴雨橙色预警") && html.contains("feed.atom"),
        "{html}"
    );
    let html = app.get(&page, None).await.text().await.unwrap();
    assert!(
        html.contains("lang=\"en-US\"") && html.contains("Orange rainstorm warning for Hexi"),
        "{html}"
    );
    let record: Value = app
        .get(&format!("/api/v1/safety/alerts/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["state"], "issued");
    assert_eq!(record["alert"]["info"].as_array().unwrap().len(), 2);
    assert_eq!(
        record["alert"]["info"][0]["area"][0]["geocode"][0]["value"],
        "990102001001"
    );
    let xml = app
        .get(&format!("/api/v1/safety/alerts/{id}/cap.xml"), None)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(safety::cap::validate(&xml).is_valid());

    // Update and cancel forms are offered on the issued alert.
    let html = app
        .page(Method::GET, &page, &first, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/safety/alerts/{id}/cancel")),
        "{html}"
    );
    let html = app
        .page(
            Method::GET,
            &format!("/safety/alerts/{id}/update"),
            &first,
            &[],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("河西区暴雨橙色预警"), "prefilled: {html}");
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/cancel"),
            &first,
            &[("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .page(
            Method::POST,
            &format!("/safety/alerts/{id}/cancel"),
            &first,
            &[("note", "雨停了")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Import: a bad document lists every problem with its element; a good one is kept.
    let bad = "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>a b</identifier><sender>x</sender><sent>2026-01-01T00:00:00+08:00</sent><status>Actual</status><msgType>Cancel</msgType><scope>Public</scope></alert>";
    let r = app
        .page(
            Method::POST,
            "/safety/alerts/import",
            &first,
            &[("xml", bad)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("alert/identifier") && html.contains("alert/references"),
        "{html}"
    );
    let (_, google) = test_alerts()
        .into_iter()
        .find(|(n, _)| n.starts_with("google-"))
        .unwrap();
    let text = String::from_utf8(google).unwrap();
    let r = app
        .page(
            Method::POST,
            "/safety/alerts/import",
            &first,
            &[("xml", &text)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = r.headers()["location"].to_str().unwrap().to_string();
    let html = app
        .page(Method::GET, &page, &first, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("original.xml") && html.contains("XML-DSig"),
        "{html}"
    );
}

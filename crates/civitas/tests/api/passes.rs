//! Dynamic passes end to end: pass types from a certificate and from an age rule, the
//! holder's passes with their colours, the scanner accepting a pass once and refusing
//! replays, forgeries, expired, red and withdrawn ones, the footprint, pages, bad input.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, outcome, problem};

struct World {
    app: TestApp,
    admin: String,
    civil: String,
    clerk: String,
    scanner: String,
    citizen: String,
    credential: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let civil = app.organisation(&admin, 1, "示例市民政局").await;
    let bus = app.organisation(&admin, 2, "示例市交通运输局").await;
    let clerk = app
        .account("clerk-ca", Role::Clerk, Some(&civil), None)
        .await;
    let scanner = app.account("driver", Role::Clerk, Some(&bus), None).await;
    let (person, _) = app.person(&admin, 501, "李秀英").await;
    let citizen = app
        .account("lixiuying", Role::Citizen, None, Some(&person))
        .await;
    let r = app
        .post(
            "/api/v1/credentials/types",
            Some(&admin),
            &json!({
                "code": "senior-citizen-card", "name": "老年人优待证",
                "description": "老年人优待", "issuer_kind": "government_department",
                "claims_schema": {"type": "object", "properties": {"name": {"type": "string"}}}
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&clerk),
            &json!({"type": "senior-citizen-card", "person_id": person, "claims": {"name": "李秀英"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let credential = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/passes/types",
            Some(&admin),
            &json!({
                "code": "senior-transit", "name": "老年人公交乘车码",
                "description": "免费乘坐公交", "issuer_org_id": civil,
                "credential_type": "senior-citizen-card"
            }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    World {
        app,
        admin,
        civil,
        clerk,
        scanner,
        citizen,
        credential,
    }
}

async fn mint(app: &TestApp, token: &str, code: &str) -> Value {
    let r = app
        .post("/api/v1/me/passes", Some(token), &json!({"type": code}))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

async fn scan(app: &TestApp, scanner: &str, pass: &str) -> Value {
    let r = app
        .post(
            "/api/v1/passes/scan",
            Some(scanner),
            &json!({"token": pass, "checkpoint": "12 路公交"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_pass_is_scanned_once_and_refused_when_replayed_forged_or_withdrawn() {
    let w = world().await;
    let app = &w.app;
    let offers: Value = app
        .get("/api/v1/me/passes", Some(&w.citizen))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(offers[0]["eligible"], true, "{offers}");
    assert_eq!(offers[0]["colour"], "green");

    let pass = mint(app, &w.citizen, "senior-transit").await;
    assert_eq!(pass["colour"], "green");
    assert_eq!(pass["holder"], "李*英");
    let token = pass["token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    assert!(token.len() < 1000, "a pass is short: {}", token.len());

    // The first scan is accepted with every check; the second is a replay.
    let first = scan(app, &w.scanner, token).await;
    assert_eq!(first["accepted"], true, "{first}");
    for check in [
        "format",
        "signature",
        "issuer",
        "validity",
        "colour",
        "status",
        "replay",
    ] {
        assert_eq!(outcome(&first, check), "passed", "{check}: {first}");
    }
    assert_eq!(first["type_name"], "老年人公交乘车码");
    assert_eq!(first["holder"], "李*英");
    let again = scan(app, &w.scanner, token).await;
    assert_eq!(again["accepted"], false);
    assert_eq!(outcome(&again, "replay"), "failed");

    // A changed colour or holder breaks the signature; garbage is named, not a 500.
    let fresh = mint(app, &w.citizen, "senior-transit").await;
    let parts: Vec<&str> = fresh["token"].as_str().unwrap().split('.').collect();
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    claims["nam"] = json!("王*梅");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(claims.to_string()),
        parts[2]
    );
    let result = scan(app, &w.scanner, &forged).await;
    assert_eq!(result["accepted"], false);
    assert_eq!(outcome(&result, "signature"), "failed");
    for garbage in ["", "not a pass", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let result = scan(app, &w.scanner, garbage).await;
        assert_eq!(result["accepted"], false, "{garbage}");
        assert_eq!(outcome(&result, "format"), "failed", "{garbage}");
    }
    let body = problem(
        app.post(
            "/api/v1/passes/scan",
            Some(&w.scanner),
            &json!({"token": "x".repeat(5000)}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["field"], "token");

    // Only an organisation's staff scan; anonymous callers are not let in.
    problem(
        app.post(
            "/api/v1/passes/scan",
            Some(&w.citizen),
            &json!({"token": token}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post("/api/v1/passes/scan", None, &json!({"token": token}))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Suspending the certificate: a pass made before is refused on its status; a new
    // pass is red, and red is refused.
    let before = mint(app, &w.citizen, "senior-transit").await;
    let r = app
        .post(
            &format!("/api/v1/credentials/{}/status", w.credential),
            Some(&w.clerk),
            &json!({"action": "suspend", "reason": "核查户籍"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let result = scan(app, &w.scanner, before["token"].as_str().unwrap()).await;
    assert_eq!(result["accepted"], false);
    assert_eq!(outcome(&result, "status"), "failed");
    let red = mint(app, &w.citizen, "senior-transit").await;
    assert_eq!(red["colour"], "red");
    assert_eq!(red["reason_code"], "suspended");
    let result = scan(app, &w.scanner, red["token"].as_str().unwrap()).await;
    assert_eq!(result["accepted"], false);
    assert_eq!(outcome(&result, "colour"), "failed");

    // The holder's footprint shows the accepted scan, on the basis that she presented it.
    let footprint = app.all_pages("/api/v1/me/footprint", &w.citizen).await;
    let scans: Vec<&Value> = footprint
        .iter()
        .filter(|e| e["action"] == "pass.scan")
        .collect();
    assert!(!scans.is_empty(), "{footprint:?}");
    assert!(
        scans.iter().any(|e| e["basis_kind"] == "presented"
            && e["outcome"] == "success"
            && e["purpose"].as_str().unwrap().contains("12 路公交")),
        "{scans:?}"
    );
}

#[tokio::test]
async fn an_expired_pass_is_refused() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            "/api/v1/passes/types",
            Some(&w.admin),
            &json!({
                "code": "short-lived", "name": "短时码", "description": "测试",
                "issuer_org_id": w.civil, "credential_type": "senior-citizen-card",
                "ttl_seconds": 30
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Passes of this type end a minute before they are made (set in the store before any
    // pass of it was made, so nothing remembers the old life).
    app.exec("UPDATE pass_types SET ttl_seconds = -60 WHERE code = 'short-lived'")
        .await;
    let pass = mint(app, &w.citizen, "short-lived").await;
    let result = scan(app, &w.scanner, pass["token"].as_str().unwrap()).await;
    assert_eq!(result["accepted"], false);
    assert_eq!(outcome(&result, "validity"), "failed", "{result}");
}

#[tokio::test]
async fn a_rule_pass_follows_the_age_and_pass_types_reject_bad_input() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            "/api/v1/passes/types",
            Some(&w.admin),
            &json!({
                "code": "elder-canteen", "name": "长者食堂就餐码", "description": "助餐",
                "issuer_org_id": w.civil, "min_age": 60, "ttl_seconds": 300
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Born 1950: eligible, and the scan says the status comes from the rule.
    let pass = mint(app, &w.citizen, "elder-canteen").await;
    assert_eq!(pass["colour"], "green");
    let result = scan(app, &w.scanner, pass["token"].as_str().unwrap()).await;
    assert_eq!(result["accepted"], true, "{result}");
    assert_eq!(outcome(&result, "status"), "skipped");

    // Born 2000: not eligible, said plainly; no pass is made.
    let young_rid = civitas::demo::resident_id("990102", 2000, 5, 5, 77)
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/persons",
            Some(&w.admin),
            &json!({
                "resident_id": young_rid, "name": "赵小军", "region": "990102001001"
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let young = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let young = app
        .account("zhaoxiaojun", Role::Citizen, None, Some(&young))
        .await;
    let offers: Value = app
        .get("/api/v1/me/passes", Some(&young))
        .await
        .json()
        .await
        .unwrap();
    let canteen = offers
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["pass_type"]["code"] == "elder-canteen")
        .unwrap();
    assert_eq!(canteen["eligible"], false);
    assert_eq!(canteen["reason_code"], "under_age");
    let transit = offers
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["pass_type"]["code"] == "senior-transit")
        .unwrap();
    assert_eq!(transit["reason_code"], "no_certificate");
    let body = problem(
        app.post(
            "/api/v1/me/passes",
            Some(&young),
            &json!({"type": "elder-canteen"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        body["type"].as_str().unwrap().ends_with("not_eligible"),
        "{body}"
    );
    let body = problem(
        app.post("/api/v1/me/passes", Some(&young), &json!({"type": "nope"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["field"], "type");

    // Pass types: one source exactly, a sane life, a known certificate, an admin.
    let base = json!({"code": "x-pass", "name": "X", "description": "X", "issuer_org_id": w.civil});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for (body, field) in [
        (with(json!({})), "credential_type"),
        (
            with(json!({"min_age": 60, "credential_type": "senior-citizen-card"})),
            "credential_type",
        ),
        (with(json!({"credential_type": "nope"})), "credential_type"),
        (with(json!({"min_age": 200})), "min_age"),
        (
            with(json!({"min_age": 60, "ttl_seconds": 5})),
            "ttl_seconds",
        ),
        (with(json!({"min_age": 60, "code": "X!"})), "code"),
        (
            with(json!({"min_age": 60, "issuer_org_id": "nope"})),
            "issuer_org_id",
        ),
    ] {
        let p = problem(
            app.post("/api/v1/passes/types", Some(&w.admin), &body)
                .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(p["field"], field, "{body}: {p}");
    }
    problem(
        app.post(
            "/api/v1/passes/types",
            Some(&w.clerk),
            &with(json!({"min_age": 60})),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post(
            "/api/v1/passes/types",
            Some(&w.admin),
            &with(json!({"min_age": 60, "code": "elder-canteen"})),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    let catalogue: Value = app
        .get("/api/v1/passes/types", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(catalogue.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn holders_show_passes_and_checkers_scan_them_on_pages() {
    let w = world().await;
    let app = &w.app;
    let html = app
        .page(Method::GET, "/me/passes", &w.citizen, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("老年人公交乘车码") && html.contains("action=\"/me/passes/senior-transit\""),
        "{html}"
    );
    let r = app
        .page(Method::POST, "/me/passes/senior-transit", &w.citizen, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("绿码") && html.contains("<svg role=\"img\""),
        "{html}"
    );
    // A pass without a CSRF token is not made.
    let r = app
        .client
        .post(app.url("/me/passes/senior-transit"))
        .header("cookie", format!("civitas_session={}", w.citizen))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());

    // The checker scans what the QR code holds.
    let pass = mint(app, &w.citizen, "senior-transit").await;
    let html = app
        .page(Method::GET, "/passes/scan", &w.scanner, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"token\""), "{html}");
    let token = pass["token"].as_str().unwrap();
    let r = app
        .page(
            Method::POST,
            "/passes/scan",
            &w.scanner,
            &[("token", token), ("checkpoint", "12 路")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("通过：请放行") && html.contains("李*英"),
        "{html}"
    );
    let html = app
        .page(
            Method::POST,
            "/passes/scan",
            &w.scanner,
            &[("token", token)],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("不通过：请勿放行"), "{html}");
    let r = app
        .page(Method::POST, "/passes/scan", &w.scanner, &[("token", "")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A resident has no scanner.
    let r = app.page(Method::GET, "/passes/scan", &w.citizen, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concurrent_scans_of_one_pass_accept_exactly_one() {
    let w = world().await;
    let app = &w.app;
    let pass = mint(app, &w.citizen, "senior-transit").await;
    let token = pass["token"].as_str().unwrap().to_string();
    // Sixteen readers at once (they land in one batch of the scan writer, or several).
    let scanner = w.scanner.as_str();
    let scans = (0..16).map(|_| {
        let token = token.clone();
        async move { scan(app, scanner, &token).await }
    });
    let results = futures::future::join_all(scans).await;
    let accepted = results.iter().filter(|r| r["accepted"] == true).count();
    assert_eq!(accepted, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r["accepted"] == false)
            .all(|r| outcome(r, "replay") == "failed")
    );
}

#[tokio::test]
async fn a_certificate_ending_soon_gives_a_yellow_pass_that_still_scans() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            "/api/v1/credentials/types",
            Some(&w.admin),
            &json!({
                "code": "temporary-card", "name": "临时优待证", "description": "十天有效",
                "issuer_kind": "government_department", "validity_days": 10,
                "claims_schema": {"type": "object"}
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let person = app
        .get("/api/v1/me", Some(&w.citizen))
        .await
        .json::<Value>()
        .await
        .unwrap()["person"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&w.clerk),
            &json!({"type": "temporary-card", "person_id": person, "claims": {}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/passes/types",
            Some(&w.admin),
            &json!({
                "code": "temporary-pass", "name": "临时通行码", "description": "测试",
                "issuer_org_id": w.civil, "credential_type": "temporary-card"
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let pass = mint(app, &w.citizen, "temporary-pass").await;
    assert_eq!(pass["colour"], "yellow");
    assert_eq!(pass["reason_code"], "expires_soon");
    let result = scan(app, &w.scanner, pass["token"].as_str().unwrap()).await;
    assert_eq!(result["accepted"], true, "{result}");
    assert_eq!(outcome(&result, "colour"), "warning");
}

#[tokio::test]
async fn passes_signed_outside_their_type_s_terms_are_refused() {
    let w = world().await;
    let app = &w.app;
    let state = &app.state;
    let person = app
        .get("/api/v1/me", Some(&w.citizen))
        .await
        .json::<Value>()
        .await
        .unwrap()["person"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = credentials::passes::service::pass_type_for_signing(state, "senior-transit")
        .await
        .unwrap();
    let sign = |t: credentials::passes::store::PassTypeRow, source: Option<String>| {
        let person = person.clone();
        async move {
            credentials::passes::service::sign_passes(
                state,
                &t,
                &person,
                "李秀英",
                credentials::passes::model::Colour::Green,
                source.as_deref(),
                1,
            )
            .await
            .unwrap()
            .pop()
            .unwrap()
            .1
        }
    };
    // With the issuer's own key, but a day's life where the type gives three minutes.
    let mut long = (*t).clone();
    long.ttl_seconds = 86_400;
    let token = sign(long, Some(w.credential.clone())).await;
    let result = scan(app, &w.scanner, &token).await;
    assert_eq!(result["accepted"], false);
    assert_eq!(outcome(&result, "validity"), "failed", "{result}");
    // Naming no certificate, for a kind that is derived from one.
    let token = sign((*t).clone(), None).await;
    let result = scan(app, &w.scanner, &token).await;
    assert_eq!(result["accepted"], false);
    assert_eq!(outcome(&result, "status"), "failed", "{result}");
    // A forged pass shows the checker nothing it claims.
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], "A".repeat(86));
    let result = scan(app, &w.scanner, &forged).await;
    assert_eq!(outcome(&result, "signature"), "failed");
    assert!(
        result["holder"].is_null() && result["colour"].is_null(),
        "{result}"
    );
    // A verification method with an enormous key is refused at once, not decoded.
    let huge = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"], "issuer": "did:key:z6Mk",
        "credentialSubject": {"id": "x"},
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                  "proofPurpose": "assertionMethod", "proofValue": format!("z{}", "2".repeat(87)),
                  "verificationMethod": format!("did:key:z{}", "2".repeat(200_000))}
    });
    let r = app.post("/api/v1/credentials/verify", None, &huge).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["verified"], false);
}

//! E-certificates end to end: a type with a JSON Schema, issuance by the issuer's clerk,
//! the holder's list, the issuer's DID document, verification reporting every check
//! (tampering, suspension, revocation, unknown issuers, the W3C vectors), key rotation, the
//! offline CLI, and bad input.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, detail, outcome, problem};

struct World {
    app: TestApp,
    admin: String,
    org: String,
    org_admin: String,
    clerk: String,
    other_clerk: String,
    citizen: String,
    person: String,
}

fn senior_card_type() -> Value {
    json!({
        "code": "senior-citizen-card",
        "name": "老年人优待证",
        "description": "65 周岁以上老年人凭证享受公共交通、景区等优待。",
        "issuer_kind": "government_department",
        "validity_days": 3650,
        "claims_schema": {
            "type": "object",
            "required": ["name", "birth_date", "card_number"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "birth_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                "card_number": {"type": "string"}
            },
            "additionalProperties": false
        }
    })
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "示例市民政局").await;
    let other = app.organisation(&admin, 2, "示例市公安局").await;
    let org_admin = app
        .account("admin-ca", Role::OrgAdmin, Some(&org), None)
        .await;
    let clerk = app.account("clerk-ca", Role::Clerk, Some(&org), None).await;
    let other_clerk = app
        .account("clerk-po", Role::Clerk, Some(&other), None)
        .await;
    let (person, _) = app.person(&admin, 501, "李秀英").await;
    let citizen = app
        .account("lixiuying", Role::Citizen, None, Some(&person))
        .await;
    let r = app
        .post(
            "/api/v1/credentials/types",
            Some(&admin),
            &senior_card_type(),
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
        org,
        org_admin,
        clerk,
        other_clerk,
        citizen,
        person,
    }
}

fn claims() -> Value {
    json!({"name": "李秀英", "birth_date": "1944-03-08", "card_number": "LYZ-990100-0001"})
}

async fn issue(w: &World) -> Value {
    let r = w
        .app
        .post(
            "/api/v1/credentials",
            Some(&w.clerk),
            &json!({"type": "senior-citizen-card", "person_id": w.person, "claims": claims()}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

async fn verify(app: &TestApp, document: &Value, query: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/credentials/verify{query}"),
            None,
            document,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn an_issued_certificate_is_held_and_verifies_with_every_check() {
    let w = world().await;
    let issued = issue(&w).await;
    let doc = &issued["document"];
    assert_eq!(doc["@context"][0], "https://www.w3.org/ns/credentials/v2");
    assert_eq!(doc["credentialSubject"]["card_number"], "LYZ-990100-0001");
    assert_eq!(doc["proof"]["cryptosuite"], "eddsa-jcs-2022");
    let issuer = doc["issuer"]["id"].as_str().unwrap();
    assert!(
        issuer.starts_with("did:web:127.0.0.1%3A") && issuer.ends_with(&w.org),
        "{issuer}"
    );
    assert!(doc["validUntil"].is_string());

    // The holder sees it in her wallet.
    let mine: Value = w
        .app
        .get("/api/v1/me/credentials", Some(&w.citizen))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(&mine[0]["document"], doc);

    // The issuer's DID document names the signing key.
    let did: Value = w
        .app
        .get(&format!("/issuers/{}/did.json", w.org), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(did["id"], issuer);
    assert_eq!(
        did["assertionMethod"][0],
        doc["proof"]["verificationMethod"]
    );

    // Anyone verifies it: every check passes.
    let report = verify(&w.app, doc, "").await;
    assert_eq!(report["verified"], true, "{report}");
    for check in [
        "format",
        "signature",
        "issuer",
        "validity",
        "status",
        "schema",
    ] {
        assert_eq!(outcome(&report, check), "passed", "{check}: {report}");
    }

    // Tampered claims break the signature.
    let mut tampered = doc.clone();
    tampered["credentialSubject"]["birth_date"] = json!("1934-03-08");
    let report = verify(&w.app, &tampered, "").await;
    assert_eq!(report["verified"], false);
    assert_eq!(outcome(&report, "signature"), "failed");
    assert!(detail(&report, "signature").contains("bad signature"));

    // A proof of another type is named.
    let mut wrong = doc.clone();
    wrong["proof"]["type"] = json!("Ed25519Signature2020");
    let report = verify(&w.app, &wrong, "").await;
    assert!(detail(&report, "signature").contains("Ed25519Signature2020"));

    // A verification by an organisation's staff is in the holder's footprint.
    let r = w
        .app
        .post("/api/v1/credentials/verify", Some(&w.other_clerk), doc)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
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
            .any(|e| e["action"] == "credential.verify" && e["organisation"] == "示例市公安局"),
        "{footprint}"
    );
}

async fn status(w: &World, id: &str, action: &str, reason: Option<&str>) -> reqwest::Response {
    let mut body = json!({"action": action});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    w.app
        .post(
            &format!("/api/v1/credentials/{id}/status"),
            Some(&w.clerk),
            &body,
        )
        .await
}

#[tokio::test]
async fn suspension_revocation_and_key_rotation_show_in_verification() {
    let w = world().await;
    let issued = issue(&w).await;
    let id = issued["id"].as_str().unwrap();
    let doc = &issued["document"];
    // A reason is required to suspend.
    problem(
        status(&w, id, "suspend", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // The certificate names its place in the issuer's two status lists.
    let entries = doc["credentialStatus"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["statusPurpose"], "suspension");
    let index: usize = entries[1]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let list_path = entries[1]["statusListCredential"]
        .as_str()
        .unwrap()
        .replace(&w.app.address, "");
    let bit_of = |list: &Value| {
        let bits =
            credentials::status::decode(list["credentialSubject"]["encodedList"].as_str().unwrap())
                .unwrap();
        credentials::status::bit(&bits, index).unwrap()
    };
    let list: Value = w.app.get(&list_path, None).await.json().await.unwrap();
    assert!(!bit_of(&list));
    assert_eq!(
        status(&w, id, "suspend", Some("核查户籍信息"))
            .await
            .status(),
        StatusCode::OK
    );
    // The published suspension list now has the bit set, and is itself a signed credential.
    let r = w.app.get(&list_path, None).await;
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let list: Value = r.json().await.unwrap();
    assert!(bit_of(&list));
    assert_eq!(list["type"][1], "BitstringStatusListCredential");
    let list_report = verify(&w.app, &list, "").await;
    assert_eq!(
        outcome(&list_report, "signature"),
        "passed",
        "{list_report}"
    );
    assert_eq!(outcome(&list_report, "issuer"), "passed", "{list_report}");
    let report = verify(&w.app, doc, "").await;
    assert_eq!(report["verified"], false);
    assert_eq!(outcome(&report, "status"), "failed");
    assert!(detail(&report, "status").starts_with("suspended"));
    assert_eq!(
        status(&w, id, "reinstate", None).await.status(),
        StatusCode::OK
    );
    assert_eq!(verify(&w.app, doc, "").await["verified"], true);

    // Rotation: the old certificate still verifies; new ones use the new key.
    let r = w
        .app
        .post(
            "/api/v1/credentials/keys/rotate",
            Some(&w.org_admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let did: Value = r.json().await.unwrap();
    assert_eq!(did["verificationMethod"].as_array().unwrap().len(), 2);
    assert_eq!(verify(&w.app, doc, "").await["verified"], true);
    let second = issue(&w).await;
    assert_ne!(
        second["document"]["proof"]["verificationMethod"],
        doc["proof"]["verificationMethod"]
    );
    assert_eq!(
        verify(&w.app, &second["document"], "").await["verified"],
        true
    );
    // A clerk cannot rotate; another organisation's clerk cannot change the status.
    let r = w
        .app
        .post(
            "/api/v1/credentials/keys/rotate",
            Some(&w.clerk),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = w
        .app
        .post(
            &format!("/api/v1/credentials/{id}/status"),
            Some(&w.other_clerk),
            &json!({"action": "revoke", "reason": "x"}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;

    assert_eq!(
        status(&w, id, "revoke", Some("持证人已注销户籍"))
            .await
            .status(),
        StatusCode::OK
    );
    let report = verify(&w.app, doc, "").await;
    assert!(detail(&report, "status").starts_with("revoked"));
    problem(
        status(&w, id, "reinstate", None).await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn credentials_from_elsewhere_need_trust_and_the_w3c_vector_verifies() {
    let w = world().await;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/vc-di-eddsa/signedJCS.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("W3C vector missing at {}: {e}", path.display()));
    let vector: Value = serde_json::from_str(&text).unwrap();
    let report = verify(&w.app, &vector, "").await;
    assert_eq!(outcome(&report, "signature"), "passed", "{report}");
    // Its issuer is not the key's DID: the W3C example signs with a did:key for an https
    // issuer, so the issuer check fails even when trusting any issuer.
    assert_eq!(outcome(&report, "issuer"), "failed");
    assert_eq!(report["verified"], false);

    // A did:key-issued credential of our own making: unknown issuer unless trusted.
    let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
    let method = credentials::integrity::did_key_method(&key.verifying_key());
    let did = method.split('#').next().unwrap().to_string();
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "validFrom": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:123", "degree": "学士"}
    });
    let signed = credentials::integrity::sign(
        &unsigned,
        &key,
        &credentials::integrity::ProofOptions {
            created: "2026-01-01T00:00:00Z".into(),
            verification_method: method,
            proof_purpose: "assertionMethod".into(),
        },
    )
    .unwrap();
    let report = verify(&w.app, &signed, "").await;
    assert_eq!(outcome(&report, "issuer"), "failed");
    assert!(detail(&report, "issuer").contains("unknown issuer"));
    let report = verify(&w.app, &signed, "?trust_any_issuer=true").await;
    assert_eq!(outcome(&report, "issuer"), "warning");
    assert_eq!(outcome(&report, "status"), "skipped");
    assert_eq!(report["verified"], true, "{report}");

    // Expired and not-yet-valid.
    let mut expired = unsigned.clone();
    expired["validUntil"] = json!("2021-01-01T00:00:00Z");
    let expired = credentials::integrity::sign(
        &expired,
        &key,
        &credentials::integrity::ProofOptions {
            created: "2020-01-01T00:00:00Z".into(),
            verification_method: credentials::integrity::did_key_method(&key.verifying_key()),
            proof_purpose: "assertionMethod".into(),
        },
    )
    .unwrap();
    let report = verify(&w.app, &expired, "?trust_any_issuer=true").await;
    assert!(
        detail(&report, "validity").starts_with("expired"),
        "{report}"
    );
    assert_eq!(report["verified"], false);

    // The CLI verifies offline: exit 0 only when nothing failed.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, signed.to_string()).unwrap();
    let (code, out, _) = w
        .app
        .cli(&[
            "credential",
            "verify",
            good.to_str().unwrap(),
            "--trust-any-issuer",
        ])
        .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning") && out.contains("verified"), "{out}");
    let (code, out, _) = w
        .app
        .cli(&["credential", "verify", good.to_str().unwrap()])
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unknown issuer"), "{out}");
    let issued = issue(&w).await;
    let ours = dir.path().join("ours.json");
    std::fs::write(&ours, issued["document"].to_string()).unwrap();
    let (code, out, _) = w
        .app
        .cli(&["credential", "verify", ours.to_str().unwrap()])
        .await;
    assert_eq!(code, 0, "{out}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let (code, out, _) = w
        .app
        .cli(&["credential", "verify", bad.to_str().unwrap()])
        .await;
    assert_eq!(code, 1, "{out}");
    let _ = &w.admin;
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let w = world().await;
    let app = &w.app;
    // Types: only platform admins; the schema must be an object schema and valid.
    let r = app
        .post(
            "/api/v1/credentials/types",
            Some(&w.clerk),
            &senior_card_type(),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/credentials/types",
            Some(&w.admin),
            &senior_card_type(),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let mut t = senior_card_type();
    t["code"] = json!("degree");
    t["claims_schema"] = json!({"type": "string"});
    let b = problem(
        app.post("/api/v1/credentials/types", Some(&w.admin), &t)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(b["field"], "claims_schema");
    t["claims_schema"] = json!({"type": "object", "properties": {"a": {"type": "nonsense"}}});
    let b = problem(
        app.post("/api/v1/credentials/types", Some(&w.admin), &t)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(b["field"], "claims_schema");

    // Issuance: claims against the schema; the right organisation kind; staff only.
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&w.clerk),
            &json!({"type": "senior-citizen-card", "person_id": w.person,
                    "claims": {"name": "李秀英", "birth_date": "8 March 1944", "card_number": "x"}}),
        )
        .await;
    let b = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(b["field"], "claims");
    assert!(b["detail"].as_str().unwrap().contains("/birth_date"), "{b}");
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&w.clerk),
            &json!({"type": "senior-citizen-card", "person_id": w.person,
                    "claims": {"name": "李秀英", "birth_date": "1944-03-08", "card_number": "x", "extra": 1}}),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&w.citizen),
            &json!({"type": "senior-citizen-card", "person_id": w.person, "claims": claims()}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&w.clerk),
            &json!({"type": "senior-citizen-card", "person_id": "nope", "claims": claims()}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "person_id"
    );
    let mut school = senior_card_type();
    school["code"] = json!("degree-certificate");
    school["issuer_kind"] = json!("school");
    let r = app
        .post("/api/v1/credentials/types", Some(&w.admin), &school)
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/credentials",
            Some(&w.clerk),
            &json!({"type": "degree-certificate", "person_id": w.person, "claims": claims()}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // Verification: malformed JSON is 400, a non-credential a failed format check, a
    // huge document 413; never 500.
    let r = app
        .send(
            Method::POST,
            "/api/v1/credentials/verify",
            None,
            &[],
            Some(("application/json", b"{\"@context\": [".to_vec())),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;
    let report = verify(app, &json!([1, 2, 3]), "").await;
    assert_eq!(outcome(&report, "format"), "failed");
    let report = verify(app, &json!({"@context": ["x"], "proof": 1}), "").await;
    assert_eq!(outcome(&report, "format"), "failed");
    let huge = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "blob": "x".repeat(2 * 1024 * 1024)});
    let r = app.post("/api/v1/credentials/verify", None, &huge).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let mut no_proof = issue(&w).await["document"].clone();
    no_proof.as_object_mut().unwrap().remove("proof");
    let report = verify(app, &no_proof, "").await;
    assert_eq!(outcome(&report, "signature"), "failed");
    assert_eq!(report["verified"], false);
}

#[tokio::test]
async fn clerks_issue_from_a_form_and_holders_see_the_wallet_with_a_qr_code() {
    let w = world().await;
    let app = &w.app;
    let html = app
        .page(Method::GET, "/credentials/issue", &w.clerk, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"senior-citizen-card\""), "{html}");
    // Step one: the type; the form then asks for its claims.
    let r = app
        .page(
            Method::POST,
            "/credentials/issue",
            &w.clerk,
            &[("type", "senior-citizen-card")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"claim.card_number\""), "{html}");
    // A bad date is named; nothing is issued.
    let rid = crate::helpers::rid(501);
    let mut fields = vec![
        ("type", "senior-citizen-card"),
        ("resident_id", rid.as_str()),
        ("claim.name", "李秀英"),
        ("claim.birth_date", "March 1944"),
        ("claim.card_number", "LYZ-1"),
    ];
    let r = app
        .page(Method::POST, "/credentials/issue", &w.clerk, &fields)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("/birth_date"));
    fields[3] = ("claim.birth_date", "1944-03-08");
    let r = app
        .page(Method::POST, "/credentials/issue", &w.clerk, &fields)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .page(Method::GET, "/credentials/issued", &w.clerk, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("老年人优待证") && html.contains("李*英"),
        "{html}"
    );

    // The holder's wallet lists it; its page shows the claims and a QR code; the download
    // is the signed credential.
    let html = app
        .page(Method::GET, "/me/wallet", &w.citizen, &[])
        .await
        .text()
        .await
        .unwrap();
    let id = html
        .split("/me/wallet/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let html = app
        .page(Method::GET, &format!("/me/wallet/{id}"), &w.citizen, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("<svg") && html.contains("LYZ-1"), "{html}");
    let r = app
        .page(
            Method::GET,
            &format!("/me/wallet/{id}/download"),
            &w.citizen,
            &[],
        )
        .await;
    assert_eq!(r.headers()["content-type"], "application/vc+json");
    let document: Value = r.json().await.unwrap();
    // Someone else cannot open it.
    let r = app
        .page(
            Method::GET,
            &format!("/me/wallet/{id}"),
            &w.other_clerk,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The verification page, for anyone.
    let text = document.to_string();
    let html = app
        .page(
            Method::POST,
            "/credentials/verify",
            "none",
            &[("credential", text.as_str())],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("核验通过"), "{html}");
    let tampered = text.replace("LYZ-1", "LYZ-2");
    let html = app
        .page(
            Method::POST,
            "/credentials/verify",
            "none",
            &[("credential", tampered.as_str())],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("核验未通过") && html.contains("bad signature"),
        "{html}"
    );

    // Suspension from the console.
    let r = app
        .page(
            Method::POST,
            &format!("/credentials/issued/{id}/suspend"),
            &w.clerk,
            &[("reason", "核查")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(verify(app, &document, "").await["verified"], false);
}

#[tokio::test]
async fn a_holder_shares_a_certificate_and_the_reading_is_in_her_footprint() {
    let w = world().await;
    let issued = issue(&w).await;
    let id = issued["id"].as_str().unwrap();
    let police = w.app.state.db.clone();
    let reader_org: String = kernel::on_pool!(police.read(), |c| sqlx::query_scalar(
        "SELECT id FROM organisations WHERE name = '示例市公安局'"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    // Bad shares.
    for (body, field) in [
        (
            json!({"organisation_id": "x", "purpose": "p"}),
            "organisation_id",
        ),
        (
            json!({"organisation_id": reader_org, "purpose": ""}),
            "purpose",
        ),
        (
            json!({"organisation_id": reader_org, "purpose": "p", "valid_until": "2020-01-01T00:00:00Z"}),
            "valid_until",
        ),
    ] {
        let r = w
            .app
            .post(
                &format!("/api/v1/me/credentials/{id}/shares"),
                Some(&w.citizen),
                &body,
            )
            .await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], field);
    }
    // Only the holder shares it.
    let r = w
        .app
        .post(
            &format!("/api/v1/me/credentials/{id}/shares"),
            Some(&w.other_clerk),
            &json!({"organisation_id": reader_org, "purpose": "办理公交优待卡"}),
        )
        .await;
    assert!(r.status().is_client_error());
    let r = w
        .app
        .post(
            &format!("/api/v1/me/credentials/{id}/shares"),
            Some(&w.citizen),
            &json!({"organisation_id": reader_org, "purpose": "办理公交优待卡"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let share: Value = r.json().await.unwrap();
    let share_id = share["id"].as_str().unwrap();

    // The police clerk sees it, reads it verified; another organisation cannot.
    let list: Value = w
        .app
        .get("/api/v1/credentials/shared", Some(&w.other_clerk))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], share_id);
    let r = w
        .app
        .get(
            &format!("/api/v1/credentials/shared/{share_id}"),
            Some(&w.other_clerk),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let shared: Value = r.json().await.unwrap();
    assert_eq!(shared["verification"]["verified"], true);
    assert_eq!(
        shared["document"]["credentialSubject"]["card_number"],
        "LYZ-990100-0001"
    );
    let r = w
        .app
        .get(
            &format!("/api/v1/credentials/shared/{share_id}"),
            Some(&w.clerk),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;

    // Her footprint shows the reading, on her consent.
    let footprint: Value = w
        .app
        .get("/api/v1/me/footprint", Some(&w.citizen))
        .await
        .json()
        .await
        .unwrap();
    let read = footprint["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "credential.read")
        .unwrap_or_else(|| panic!("{footprint}"));
    assert_eq!(read["basis_kind"], "consent");
    assert_eq!(read["basis_ref"], share_id);
    assert_eq!(read["purpose"], "办理公交优待卡");

    // Withdrawn, it can no longer be read; the refusal is audited too.
    let r = w
        .app
        .post(
            &format!("/api/v1/me/consents/{share_id}/revoke"),
            Some(&w.citizen),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = w
        .app
        .get(
            &format!("/api/v1/credentials/shared/{share_id}"),
            Some(&w.other_clerk),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::FORBIDDEN).await["type"],
        "urn:civitas:problem:consent_revoked"
    );
}

#[tokio::test]
async fn a_trusted_platform_verifies_our_certificates_over_did_web_with_their_status() {
    let w = world().await;
    let kept = issue(&w).await;
    let revoked = issue(&w).await;
    let id = revoked["id"].as_str().unwrap();
    assert_eq!(
        status(&w, id, "revoke", Some("证件遗失")).await.status(),
        StatusCode::OK
    );
    // Another platform that trusts this one resolves the issuer's did:web document and its
    // status lists from here.
    let issuer_platform = w.app.address.clone();
    let other =
        TestApp::spawn_configured(false, |c| c.trusted_platforms = vec![issuer_platform]).await;
    let report = verify(&other, &kept["document"], "").await;
    assert_eq!(report["verified"], true, "{report}");
    for check in ["signature", "issuer", "validity", "status"] {
        assert_eq!(outcome(&report, check), "passed", "{check}: {report}");
    }
    assert!(
        detail(&report, "issuer").contains("示例市民政局"),
        "{report}"
    );
    assert_eq!(outcome(&report, "schema"), "skipped");
    let report = verify(&other, &revoked["document"], "").await;
    assert_eq!(report["verified"], false);
    assert_eq!(outcome(&report, "status"), "failed");
    assert!(detail(&report, "status").contains("revoked"), "{report}");
    let mut tampered = kept["document"].clone();
    tampered["credentialSubject"]["name"] = json!("王小梅");
    let report = verify(&other, &tampered, "").await;
    assert_eq!(outcome(&report, "signature"), "failed");

    // A platform that does not trust this one fetches nothing a document names: the key
    // is unknown, even when any issuer is to be trusted.
    let stranger = TestApp::spawn().await;
    let report = verify(&stranger, &kept["document"], "?trust_any_issuer=true").await;
    assert_eq!(report["verified"], false);
    assert_eq!(outcome(&report, "signature"), "failed");

    // A trusted platform that is down is named, not a 500.
    let gone = TestApp::spawn_configured(false, |c| {
        c.trusted_platforms = vec!["http://127.0.0.1:9".into()]
    })
    .await;
    let mut elsewhere = kept["document"].clone();
    let method = elsewhere["proof"]["verificationMethod"]
        .as_str()
        .unwrap()
        .to_string();
    let host = method.split(':').nth(2).unwrap().to_string();
    elsewhere["proof"]["verificationMethod"] = json!(method.replace(&host, "127.0.0.1%3A9"));
    let report = verify(&gone, &elsewhere, "").await;
    assert_eq!(outcome(&report, "signature"), "failed");
    assert!(
        detail(&report, "signature").contains("could not be resolved"),
        "{report}"
    );
}

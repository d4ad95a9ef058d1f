//! The data footprint: every read of a person's data by someone else is shown to her, with
//! purpose, basis and actor; proxies (代办) act within the scopes they were granted.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, in_days, problem};

/// The `person.read` entries of a footprint page.
async fn reads(app: &TestApp, token: &str, act_for: Option<&str>) -> Vec<Value> {
    let r = match act_for {
        Some(p) => app.get_for("/api/v1/me/footprint", token, p).await,
        None => app.get("/api/v1/me/footprint", Some(token)).await,
    };
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "person.read")
        .cloned()
        .collect()
}

/// P (the elder) and Q (her son), each with a citizen account, and an admin.
struct Family {
    app: TestApp,
    admin: String,
    p: String,
    p_token: String,
    q: String,
    q_rid: String,
    q_token: String,
}

async fn family() -> Family {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let (p, _, p_token) = app.citizen(&admin, 10, "李秀英", "elder").await;
    let (q, q_rid, q_token) = app.citizen(&admin, 11, "李建国", "son").await;
    Family {
        app,
        admin,
        p,
        p_token,
        q,
        q_rid,
        q_token,
    }
}

impl Family {
    /// P authorises Q with `scopes`; returns the authorisation.
    async fn grant(&self, scopes: &[&str]) -> Value {
        let r = self
            .app
            .post("/api/v1/me/proxies", Some(&self.p_token), &json!({
                "proxy_resident_id": self.q_rid, "proxy_name": "李建国", "relationship": "子女", "scopes": scopes, "expires_at": in_days(30)
            }))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }
}

#[tokio::test]
async fn admin_reads_appear_in_the_footprint_own_reads_do_not() {
    let f = family().await;
    let app = &f.app;
    assert!(reads(app, &f.p_token, None).await.is_empty());

    let r = app
        .get(
            &format!(
                "/api/v1/persons/{}?purpose=verify%20pension%20eligibility",
                f.p
            ),
            Some(&f.admin),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let entries = reads(app, &f.p_token, None).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["purpose"], "verify pension eligibility");
    assert_eq!(e["basis_kind"], "statutory");
    assert!(e["basis_ref"].as_str().is_some_and(|b| !b.is_empty()));
    assert_eq!(e["actor"], "admin");
    assert_eq!(e["via_proxy"], false);
    assert_eq!(e["outcome"], "success");
    assert!(e["resource"].as_str().unwrap().contains(&f.p));

    // Her own reads of herself are not someone else's use of her data.
    for _ in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/persons/{}", f.p), Some(&f.p_token))
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(reads(app, &f.p_token, None).await.len(), 1);
    // Q's footprint is untouched by reads of P.
    assert!(reads(app, &f.q_token, None).await.is_empty());
    // A refused read is shown to her as a refused attempt.
    let r = app
        .get(&format!("/api/v1/persons/{}", f.p), Some(&f.q_token))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let after = reads(app, &f.p_token, None).await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[0]["outcome"], "denied");
    assert_eq!(after[1]["outcome"], "success");

    // A second read with another purpose: newest first.
    app.get(
        &format!("/api/v1/persons/{}?purpose=second", f.p),
        Some(&f.admin),
    )
    .await;
    let entries = reads(app, &f.p_token, None).await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["purpose"], "second");
    assert_eq!(entries[1]["outcome"], "denied");
    assert_eq!(entries[2]["purpose"], "verify pension eligibility");
    // The registration by the admin is in her footprint too.
    let page: Value = app
        .get("/api/v1/me/footprint", Some(&f.p_token))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "person.create")
    );
    // An account without a person has no footprint.
    problem(
        app.get("/api/v1/me/footprint", Some(&f.admin)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn proxy_reads_are_shown_and_stop_when_revoked() {
    let f = family().await;
    let app = &f.app;
    let grant = f.grant(&["profile", "footprint"]).await;
    let grant_id = grant["id"].as_str().unwrap();
    assert_eq!(grant["principal_person_id"], f.p.as_str());
    assert_eq!(grant["proxy_person_id"], f.q.as_str());
    assert_eq!(grant["scopes"], json!(["footprint", "profile"]));
    // Both sides see it.
    let mine: Value = app
        .get("/api/v1/me/proxies", Some(&f.p_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["given"][0]["id"], grant_id);
    let theirs: Value = app
        .get("/api/v1/me/proxies", Some(&f.q_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["received"][0]["id"], grant_id);

    // Q acts for P.
    let me: Value = app
        .get_for("/api/v1/me", &f.q_token, &f.p)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["acting_for"]["person"]["id"], f.p.as_str());
    assert_eq!(me["acting_for"]["authorisation_id"], grant_id);
    assert_eq!(me["person"]["id"], f.q.as_str());
    let plain: Value = app
        .get("/api/v1/me", Some(&f.q_token))
        .await
        .json()
        .await
        .unwrap();
    assert!(plain["acting_for"].is_null());

    let r = app
        .get_for(&format!("/api/v1/persons/{}", f.p), &f.q_token, &f.p)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["id"], f.p.as_str());
    assert_eq!(record["name"], "李秀英");

    let entries = reads(app, &f.p_token, None).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["basis_kind"], "proxy");
    assert_eq!(entries[0]["basis_ref"], grant_id);
    assert_eq!(entries[0]["via_proxy"], true);
    assert_eq!(entries[0]["actor"], "李建国");
    // With the footprint scope Q sees the same footprint, acting for P.
    let seen_by_q = reads(app, &f.q_token, Some(&f.p)).await;
    assert_eq!(seen_by_q.len(), 1);
    assert_eq!(seen_by_q[0]["id"], entries[0]["id"]);
    // Acting for P does not let Q read anyone else, even herself through P's authorisation.
    problem(
        app.get_for(&format!("/api/v1/persons/{}", f.q), &f.q_token, &f.p)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A proxy cannot manage P's authorisations.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/me/proxies/{grant_id}/revoke")))
        .bearer_auth(&f.q_token)
        .header("x-act-for", &f.p)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::FORBIDDEN).await;
    // The purpose a proxy states is checked like anyone's.
    let long = "x".repeat(201);
    let r = app
        .get_for(
            &format!("/api/v1/persons/{}?purpose={long}", f.p),
            &f.q_token,
            &f.p,
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "purpose"
    );
    let r = app
        .get_for(
            &format!("/api/v1/persons/{}?purpose=%00", f.p),
            &f.q_token,
            &f.p,
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "purpose"
    );
    assert_eq!(reads(app, &f.p_token, None).await.len(), 1);

    // P revokes.
    let r = app
        .post(
            &format!("/api/v1/me/proxies/{grant_id}/revoke"),
            Some(&f.p_token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let revoked: Value = r.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());
    problem(
        app.get_for(&format!("/api/v1/persons/{}", f.p), &f.q_token, &f.p)
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get_for("/api/v1/me", &f.q_token, &f.p).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Revoking twice conflicts; Q's own account still works.
    let r = app
        .post(
            &format!("/api/v1/me/proxies/{grant_id}/revoke"),
            Some(&f.p_token),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&f.q_token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(reads(app, &f.p_token, None).await.len(), 1);
}

#[tokio::test]
async fn proxies_act_only_within_their_scopes() {
    let f = family().await;
    let app = &f.app;
    f.grant(&["profile"]).await;
    // Profile: yes, even without `services`.
    assert_eq!(
        app.get_for(&format!("/api/v1/persons/{}", f.p), &f.q_token, &f.p)
            .await
            .status(),
        StatusCode::OK
    );
    // Footprint: not granted.
    let p = problem(
        app.get_for("/api/v1/me/footprint", &f.q_token, &f.p).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("footprint"), "{p}");
    // P herself still sees it, with Q's read.
    let entries = reads(app, &f.p_token, None).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["basis_kind"], "proxy");

    // Nobody else can act for P: not the admin, not P for Q (no authorisation that way).
    problem(
        app.get_for("/api/v1/me", &f.admin, &f.p).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get_for("/api/v1/me", &f.p_token, &f.q).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn scope_all_covers_everything_and_expired_or_bad_grants_are_refused() {
    let f = family().await;
    let app = &f.app;
    let new = |scopes: Value, expires_at: String| json!({"proxy_resident_id": f.q_rid, "proxy_name": "李建国", "relationship": "子女", "scopes": scopes, "expires_at": expires_at});
    for (body, field) in [
        (new(json!([]), in_days(30)), "scopes"),
        (
            new(json!(["profile", "drive_car"]), in_days(30)),
            "scopes[1]",
        ),
        (new(json!(["profile"]), in_days(-1)), "expires_at"),
        (new(json!(["profile"]), in_days(6 * 366)), "expires_at"),
        (new(json!(["profile"]), "next tuesday".into()), "expires_at"),
    ] {
        let r = app
            .post("/api/v1/me/proxies", Some(&f.p_token), &body)
            .await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            field,
            "{body}"
        );
    }
    // Not oneself, and not someone unregistered.
    let mut me = new(json!(["profile"]), in_days(30));
    let p_rid: Value = app
        .get(&format!("/api/v1/persons/{}", f.p), Some(&f.p_token))
        .await
        .json()
        .await
        .unwrap();
    me["proxy_resident_id"] = p_rid["resident_id"].clone();
    me["proxy_name"] = json!("李秀英");
    assert_eq!(
        problem(
            app.post("/api/v1/me/proxies", Some(&f.p_token), &me).await,
            StatusCode::BAD_REQUEST
        )
        .await["field"],
        "proxy_resident_id"
    );
    let mut stranger = new(json!(["profile"]), in_days(30));
    stranger["proxy_resident_id"] = json!(crate::helpers::rid(99));
    // The right ID with the wrong name tells nothing either.
    let mut wrong_name = new(json!(["profile"]), in_days(30));
    wrong_name["proxy_name"] = json!("张三");
    let body = problem(
        app.post("/api/v1/me/proxies", Some(&f.p_token), &wrong_name)
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["field"], "proxy_resident_id");
    assert!(!body.to_string().contains("李建国"));
    assert_eq!(
        problem(
            app.post("/api/v1/me/proxies", Some(&f.p_token), &stranger)
                .await,
            StatusCode::BAD_REQUEST
        )
        .await["field"],
        "proxy_resident_id"
    );
    // An admin without a person has no authorisations to give.
    problem(
        app.post(
            "/api/v1/me/proxies",
            Some(&f.admin),
            &new(json!(["profile"]), in_days(30)),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(app.get_for("/api/v1/me", &f.q_token, &f.p).await.status() == StatusCode::FORBIDDEN);

    f.grant(&["all"]).await;
    assert_eq!(
        app.get_for(&format!("/api/v1/persons/{}", f.p), &f.q_token, &f.p)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(reads(app, &f.q_token, Some(&f.p)).await.len(), 1);
}

//! Who may do what: citizens, organisation administrators, platform administrators and
//! anonymous callers.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

#[tokio::test]
async fn citizen_sees_only_herself() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let (me, my_rid, citizen) = app.citizen(&admin, 1, "王小梅", "xiaomei").await;
    let (other, _) = app.person(&admin, 2, "李四").await;

    // Her own record, in full.
    let r = app
        .get(&format!("/api/v1/persons/{me}"), Some(&citizen))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["resident_id"], my_rid);

    // Someone else's: forbidden, with or without a purpose, and whether or not she exists.
    let p = problem(
        app.get(&format!("/api/v1/persons/{other}"), Some(&citizen))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["type"], "urn:civitas:problem:forbidden");
    problem(
        app.get(
            &format!("/api/v1/persons/{other}?purpose=curious"),
            Some(&citizen),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let nobody = uuid::Uuid::now_v7();
    problem(
        app.get(&format!("/api/v1/persons/{nobody}"), Some(&citizen))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Administration is not hers.
    problem(
        app.get("/api/v1/persons", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get("/api/v1/accounts", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get("/api/v1/audit/records", Some(&citizen)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post("/api/v1/audit/verify", Some(&citizen), &json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = app
        .post(
            "/api/v1/regions",
            Some(&citizen),
            &json!({"code": "990103", "name": "西山区", "urban": true}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/persons",
            Some(&citizen),
            &json!({"resident_id": crate::helpers::rid(3), "name": "x", "region": "990102001001"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&citizen),
            &json!({"username": "sneaky", "password": "0123456789ab", "role": "platform_admin"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // The region was not created.
    problem(
        app.get("/api/v1/regions/990103", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn org_admin_manages_only_her_own_staff() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org_a = app.organisation(&admin, 1, "示例市民政局").await;
    let org_b = app.organisation(&admin, 2, "示例市教育局").await;
    let org_admin = app
        .account("orgadmin-a", Role::OrgAdmin, Some(&org_a), None)
        .await;
    let staff_b = app
        .account("clerk-b", Role::Clerk, Some(&org_b), None)
        .await;
    let new = |username: &str, role: &str, org: Option<&str>| json!({"username": username, "password": "a long enough password", "role": role, "organisation_id": org});

    // A clerk in her own organisation.
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("clerk-a", "clerk", Some(&org_a)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let clerk: Value = r.json().await.unwrap();
    assert_eq!(clerk["roles"][0]["role"], "clerk");
    assert_eq!(clerk["roles"][0]["organisation_id"], org_a.as_str());
    let clerk_token = app.login("clerk-a", "a long enough password").await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("reviewer-a", "reviewer", Some(&org_a)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Not in another organisation, and not outside the staff roles.
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("clerk-b2", "clerk", Some(&org_b)),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("boss", "platform_admin", None),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("boss2", "platform_admin", Some(&org_a)),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("someone", "citizen", None),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&org_admin),
            &new("nowhere", "clerk", None),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // Linking a staff account to a person would let it act as that person: not hers to do.
    let (victim, _) = app.person(&admin, 901, "被冒用者").await;
    let mut linked = new("linked-a", "clerk", Some(&org_a));
    linked["person_id"] = json!(victim);
    let r = app
        .post("/api/v1/accounts", Some(&org_admin), &linked)
        .await;
    let body = problem(r, StatusCode::FORBIDDEN).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("links an account to a person")
    );
    // None of those exist.
    assert!(app.login_status("linked-a").await == StatusCode::UNAUTHORIZED);
    assert!(app.login_status("clerk-b2").await == StatusCode::UNAUTHORIZED);
    assert!(app.login_status("boss").await == StatusCode::UNAUTHORIZED);

    // Her own staff list, not B's, and not everyone's.
    let r = app
        .get(
            &format!("/api/v1/organisations/{org_a}/staff"),
            Some(&org_admin),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let staff: Value = r.json().await.unwrap();
    let names: Vec<&str> = staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"clerk-a") && names.contains(&"orgadmin-a"),
        "{names:?}"
    );
    assert!(!names.contains(&"clerk-b"), "{names:?}");
    problem(
        app.get(
            &format!("/api/v1/organisations/{org_b}/staff"),
            Some(&org_admin),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get("/api/v1/accounts", Some(&org_admin)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Her organisation's audit records, not another's.
    assert_eq!(
        app.get(
            &format!("/api/v1/audit/records?organisation_id={org_a}"),
            Some(&org_admin)
        )
        .await
        .status(),
        StatusCode::OK
    );
    problem(
        app.get(
            &format!("/api/v1/audit/records?organisation_id={org_b}"),
            Some(&org_admin),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get("/api/v1/audit/records", Some(&org_admin)).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // She may disable her own clerk, not B's.
    let me_b: Value = app
        .get("/api/v1/me", Some(&staff_b))
        .await
        .json()
        .await
        .unwrap();
    let b_id = me_b["account"]["id"].as_str().unwrap();
    problem(
        app.post(
            &format!("/api/v1/accounts/{b_id}/disable"),
            Some(&org_admin),
            &json!({}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", Some(&staff_b)).await.status(),
        StatusCode::OK
    );
    let clerk_id = clerk["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/accounts/{clerk_id}/disable"),
            Some(&org_admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", Some(&clerk_token)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A clerk is not an administrator.
    let reviewer = app.login("reviewer-a", "a long enough password").await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&reviewer),
            &new("clerk-a2", "clerk", Some(&org_a)),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    problem(
        app.get(
            &format!("/api/v1/organisations/{org_a}/staff"),
            Some(&reviewer),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn anonymous_requests_are_401() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7().to_string();
    let cases = [
        (Method::GET, "/api/v1/me".to_string()),
        (Method::POST, "/api/v1/auth/logout".to_string()),
        (Method::GET, "/api/v1/persons".to_string()),
        (Method::POST, "/api/v1/persons".to_string()),
        (Method::GET, format!("/api/v1/persons/{id}")),
        (Method::GET, "/api/v1/regions".to_string()),
        (Method::POST, "/api/v1/regions".to_string()),
        (Method::GET, "/api/v1/regions/990100".to_string()),
        (Method::GET, "/api/v1/organisations".to_string()),
        (Method::GET, format!("/api/v1/organisations/{id}")),
        (Method::GET, format!("/api/v1/organisations/{id}/staff")),
        (Method::GET, "/api/v1/accounts".to_string()),
        (Method::POST, "/api/v1/accounts".to_string()),
        (Method::POST, format!("/api/v1/accounts/{id}/disable")),
        (Method::POST, format!("/api/v1/accounts/{id}/enable")),
        (Method::GET, "/api/v1/me/proxies".to_string()),
        (Method::POST, "/api/v1/me/proxies".to_string()),
        (Method::POST, format!("/api/v1/me/proxies/{id}/revoke")),
        (Method::GET, "/api/v1/me/footprint".to_string()),
        (Method::GET, "/api/v1/audit/records".to_string()),
        (Method::POST, "/api/v1/audit/verify".to_string()),
    ];
    for (method, path) in cases {
        let body = (method == Method::POST).then(|| ("application/json", b"{}".to_vec()));
        let r = app.send(method.clone(), &path, None, &[], body).await;
        let p = problem(r, StatusCode::UNAUTHORIZED).await;
        assert_eq!(
            p["type"], "urn:civitas:problem:unauthenticated",
            "{method} {path}"
        );
    }
    // A token that is not one, or a malformed header.
    for header in [
        "Bearer 0123456789abcdef",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "bearer",
    ] {
        let r = app
            .send(
                Method::GET,
                "/api/v1/me",
                None,
                &[("authorization", header)],
                None,
            )
            .await;
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    let long = format!("Bearer {}", "a".repeat(300));
    let r = app
        .send(
            Method::GET,
            "/api/v1/me",
            None,
            &[("authorization", &long)],
            None,
        )
        .await;
    problem(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn admin_reads_a_person_only_with_a_purpose() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let (id, rid) = app.person(&admin, 1, "李四").await;

    for path in [
        format!("/api/v1/persons/{id}"),
        format!("/api/v1/persons/{id}?purpose="),
        format!("/api/v1/persons/{id}?purpose=%20%20"),
    ] {
        let p = problem(app.get(&path, Some(&admin)).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "purpose", "{path}");
        assert!(p["detail"].as_str().unwrap().contains("purpose"), "{p}");
    }
    let p = problem(
        app.get(
            &format!("/api/v1/persons/{id}?purpose={}", "x".repeat(201)),
            Some(&admin),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "purpose");

    let r = app
        .get(
            &format!("/api/v1/persons/{id}?purpose=check%20an%20application"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let person: Value = r.json().await.unwrap();
    assert_eq!(person["id"], id.as_str());
    assert_eq!(person["resident_id"], rid.as_str());
    assert_eq!(person["phone"], "13912345678");
    assert_eq!(person["address"], "幸福社区 1 号");
    assert_eq!(person["name"], "李四");
    assert_eq!(person["region_name"], "幸福社区");
    assert_eq!(person["birth_date"], "1950-01-01");
}

impl TestApp {
    /// The status of a login attempt with the tests' standard password.
    async fn login_status(&self, username: &str) -> StatusCode {
        self.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": "a long enough password"}),
        )
        .await
        .status()
    }
}

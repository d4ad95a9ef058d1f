//! Bad input is refused with a 4xx `application/problem+json` naming the field, never a
//! 500, and a refused write leaves nothing behind.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, rid};

/// An admin's token on an app with the test regions.
async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    (app, admin)
}

fn person_body(resident_id: &str, name: &str) -> Value {
    json!({"resident_id": resident_id, "name": name, "region": "990102001001"})
}

/// POSTs raw bytes as JSON.
async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    body: impl Into<Vec<u8>>,
) -> reqwest::Response {
    app.send(
        Method::POST,
        path,
        Some(token),
        &[],
        Some(("application/json", body.into())),
    )
    .await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (app, admin) = setup().await;
    for body in [
        "{\"resident_id\": ",
        "not json",
        "",
        "{} trailing",
        "[1, 2]",
    ] {
        let r = post_raw(&app, "/api/v1/persons", &admin, body).await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            p["type"], "urn:civitas:problem:invalid_input",
            "{body:?}: {p}"
        );
        assert_eq!(p["status"], 400);
    }
    // A field of the wrong type is named.
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &json!({"resident_id": rid(1), "name": 5, "region": "990102001001"}),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "name");
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let (app, admin) = setup().await;
    let mut body = person_body(&rid(1), "张三");
    body["nickname"] = json!("三儿");
    let p = problem(
        app.post("/api/v1/persons", Some(&admin), &body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("nickname"), "{p}");

    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "admin", "password": "correct horse battery", "otp": "1"}),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;

    let r = app
        .post(
            "/api/v1/regions",
            Some(&admin),
            &json!({"code": "990103", "name": "西山区", "urban": true, "level": "county"}),
        )
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;

    // Unknown query parameters too.
    let r = app.get("/api/v1/persons?sort=name", Some(&admin)).await;
    problem(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let (app, admin) = setup().await;
    let body = serde_json::to_vec(&person_body(&rid(1), "张三")).unwrap();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let r = app
            .send(
                Method::POST,
                "/api/v1/persons",
                Some(&admin),
                &[],
                Some((content_type, body.clone())),
            )
            .await;
        let p = problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        assert_eq!(p["type"], "urn:civitas:problem:unsupported_media_type");
    }
    // No content type at all.
    let r = app
        .client
        .post(app.url("/api/v1/persons"))
        .bearer_auth(&admin)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // A charset parameter is fine.
    let r = app
        .send(
            Method::POST,
            "/api/v1/persons",
            Some(&admin),
            &[],
            Some(("application/json; charset=utf-8", body)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn wrong_resident_id_check_digit_names_the_expected_digit() {
    let (app, admin) = setup().await;
    let good = rid(7);
    let expected = good.chars().last().unwrap();
    let wrong_digit = if expected == '0' { '1' } else { '0' };
    let bad = format!("{}{wrong_digit}", &good[..17]);
    let r = app
        .post("/api/v1/persons", Some(&admin), &person_body(&bad, "张三"))
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "resident_id");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("expected {expected}")), "{detail}");

    // Other malformed numbers: wrong length, letters, impossible date.
    for bad in [
        "99010219500101001",
        "99010219500101001XX",
        "9901021950010100AX",
        "990102195013010011",
    ] {
        let r = app
            .post("/api/v1/persons", Some(&admin), &person_body(bad, "张三"))
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "resident_id", "{bad}");
    }
    // A birth date in the future.
    let body = format!("9901022199010100{}", 1);
    let check = identity::model::ResidentId::check_char(&body).unwrap();
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &person_body(&format!("{body}{check}"), "张三"),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "resident_id");
}

#[tokio::test]
async fn wrong_credit_code_check_character() {
    let (app, admin) = setup().await;
    let body = "11990100MB0000001";
    let check = identity::model::CreditCode::check_char(body).unwrap();
    let wrong = if check == '0' { '1' } else { '0' };
    let org = |code: String| json!({"credit_code": code, "name": "示例市民政局", "kind": "government_department", "level": "city", "region": "990100"});
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&admin),
            &org(format!("{body}{wrong}")),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "credit_code");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("expected {check}")),
        "{p}"
    );
    // Letters never used in credit codes.
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&admin),
            &org("11990100MB000000I1".into()),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "credit_code"
    );
    // The right one is accepted.
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&admin),
            &org(format!("{body}{check}")),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Registering it twice conflicts.
    let r = app
        .post(
            "/api/v1/organisations",
            Some(&admin),
            &org(format!("{body}{check}")),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn bad_region_codes() {
    let (app, admin) = setup().await;
    for code in ["99010", "9901020010", "abcdef", "000100", "99010200100a"] {
        let r = app
            .post(
                "/api/v1/regions",
                Some(&admin),
                &json!({"code": code, "name": "x", "urban": true}),
            )
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], "code", "{code}");
    }
    // A region whose parent does not exist.
    let r = app
        .post(
            "/api/v1/regions",
            Some(&admin),
            &json!({"code": "990199001", "name": "x", "urban": true}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "code");
    // A person in a malformed or unknown region.
    let mut body = person_body(&rid(1), "张三");
    body["region"] = json!("99010200100");
    assert_eq!(
        problem(
            app.post("/api/v1/persons", Some(&admin), &body).await,
            StatusCode::BAD_REQUEST
        )
        .await["field"],
        "region"
    );
    body["region"] = json!("990102001999");
    assert_eq!(
        problem(
            app.post("/api/v1/persons", Some(&admin), &body).await,
            StatusCode::BAD_REQUEST
        )
        .await["field"],
        "region"
    );
    // Malformed codes in paths and filters.
    problem(
        app.get("/api/v1/regions/12345", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/api/v1/regions?parent=12", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/api/v1/persons?region=x", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // A well-formed code that does not exist.
    problem(
        app.get("/api/v1/regions/990199", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn over_long_and_control_character_text() {
    let (app, admin) = setup().await;
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &person_body(&rid(1), &"张".repeat(65)),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["field"], "name");
    assert!(p["detail"].as_str().unwrap().contains("64"), "{p}");
    // Exactly 64 characters is fine.
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &person_body(&rid(1), &"张".repeat(64)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Blank and control characters.
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &person_body(&rid(3), "   "),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "name");
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &person_body(&rid(3), "张\u{0}三"),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "name");
    let mut body = person_body(&rid(3), "张三");
    body["address"] = json!("路".repeat(201));
    assert_eq!(
        problem(
            app.post("/api/v1/persons", Some(&admin), &body).await,
            StatusCode::BAD_REQUEST
        )
        .await["field"],
        "address"
    );
    let r = app
        .post(
            "/api/v1/regions",
            Some(&admin),
            &json!({"code": "990103", "name": "区".repeat(65), "urban": true}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "name");
}

#[tokio::test]
async fn body_over_one_mebibyte_is_413() {
    let (app, admin) = setup().await;
    let limit = kernel::api::MAX_BODY_BYTES;
    let make = |size: usize| {
        let head = format!(
            "{{\"resident_id\": \"{}\", \"region\": \"990102001001\", \"name\": \"",
            rid(1)
        );
        let tail = "\"}";
        let fill = size - head.len() - tail.len();
        format!("{head}{}{tail}", "a".repeat(fill)).into_bytes()
    };
    let r = post_raw(&app, "/api/v1/persons", &admin, make(limit + 1)).await;
    let p = problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(p["type"], "urn:civitas:problem:payload_too_large");
    // At the limit the body is read and judged on its content.
    let r = post_raw(&app, "/api/v1/persons", &admin, make(limit)).await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "name");
    // Unauthenticated endpoints have the same limit.
    let login = format!(
        "{{\"username\": \"admin\", \"password\": \"{}\"}}",
        "p".repeat(limit)
    );
    let r = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &[],
            Some(("application/json", login.into_bytes())),
        )
        .await;
    problem(r, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn bad_cursors_limits_and_ids() {
    let (app, admin) = setup().await;
    for query in [
        "cursor=%27%3B--",
        "cursor=a%20b",
        &format!("cursor={}", "a".repeat(65)),
        "limit=-1",
        "limit=x",
        "limit=99999999999",
    ] {
        let r = app
            .get(&format!("/api/v1/persons?{query}"), Some(&admin))
            .await;
        problem(r, StatusCode::BAD_REQUEST).await;
        let r = app
            .get(&format!("/api/v1/regions?{query}"), Some(&admin))
            .await;
        problem(r, StatusCode::BAD_REQUEST).await;
        let r = app
            .get(&format!("/api/v1/me/footprint?{query}"), Some(&admin))
            .await;
        assert!(r.status().is_client_error(), "{query}: {}", r.status());
    }
    let r = app
        .get("/api/v1/persons?cursor=%27%3B--", Some(&admin))
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "cursor");
    // A cursor of the right shape that matches nothing is just an empty page.
    let r = app.get("/api/v1/persons?cursor=zzzz", Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Ids that are not ids.
    for path in [
        "/api/v1/persons/not-an-id?purpose=check",
        "/api/v1/organisations/1",
        "/api/v1/organisations/%00/staff",
    ] {
        problem(app.get(path, Some(&admin)).await, StatusCode::BAD_REQUEST).await;
    }
    let r = app
        .post("/api/v1/accounts/x/disable", Some(&admin), &json!({}))
        .await;
    problem(r, StatusCode::BAD_REQUEST).await;
    let r = app.get_for("/api/v1/me", &admin, "not-a-person").await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "x-act-for"
    );
    // Well-formed ids that do not exist.
    let nobody = uuid::Uuid::now_v7().to_string();
    let r = app
        .get(
            &format!("/api/v1/persons/{nobody}?purpose=check"),
            Some(&admin),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    problem(
        app.get(&format!("/api/v1/organisations/{nobody}"), Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // An unknown API path is a problem too.
    problem(
        app.get("/api/v1/nothing-here", Some(&admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn control_characters_reaching_the_store_are_refused() {
    // A NUL byte cannot be stored in PostgreSQL text; every free-text value that reaches a
    // query must be refused as bad input instead of failing in the store.
    let (app, admin) = setup().await;
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ad\u{0}min", "password": "whatever-it-is"}),
        )
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = app
        .get("/api/v1/audit/records?organisation_id=%00", Some(&admin))
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "organisation_id"
    );
    let r = app.get("/api/v1/persons?name=%00", Some(&admin)).await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "name");
    let r = app.get("/api/v1/regions?parent=%00", Some(&admin)).await;
    problem(r, StatusCode::BAD_REQUEST).await;
    // The server still works.
    assert_eq!(
        app.get("/api/v1/me", Some(&admin)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn rejected_writes_leave_nothing_behind() {
    let (app, admin) = setup().await;
    let (_, taken) = app.person(&admin, 1, "李四").await;
    let before = app.person_count(&admin).await;
    assert_eq!(before, 1);

    let household = uuid::Uuid::now_v7().to_string();
    let mut unknown_household = person_body(&rid(2), "王五");
    unknown_household["household_id"] = json!(household);
    let mut bad_phone = person_body(&rid(2), "王五");
    bad_phone["phone"] = json!("12345");
    let attempts = [
        (person_body(&taken, "李四"), StatusCode::CONFLICT),
        (unknown_household, StatusCode::BAD_REQUEST),
        (bad_phone, StatusCode::BAD_REQUEST),
        (
            person_body(&rid(2), &"王".repeat(65)),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"resident_id": rid(2), "name": "王五"}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, status) in attempts {
        let r = app.post("/api/v1/persons", Some(&admin), &body).await;
        problem(r, status).await;
        assert_eq!(app.person_count(&admin).await, before, "after {body}");
    }
    // Also when the same resident ID is written in lower case (`x`) or with spaces.
    let spaced = format!(" {taken} ");
    let r = app
        .post(
            "/api/v1/persons",
            Some(&admin),
            &person_body(&spaced, "李四"),
        )
        .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert_eq!(p["type"], "urn:civitas:problem:conflict");
    assert_eq!(app.person_count(&admin).await, before);
    // A citizen's refused write changes nothing either.
    let citizen = app
        .account(
            "citizen1",
            kernel::auth::Role::Citizen,
            None,
            Some(&app.person(&admin, 5, "赵六").await.0),
        )
        .await;
    let r = app
        .post(
            "/api/v1/persons",
            Some(&citizen),
            &person_body(&rid(9), "钱七"),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    assert_eq!(app.person_count(&admin).await, before + 1);
}

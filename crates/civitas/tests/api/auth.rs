//! Sign-in, throttling, sign-out and disabled accounts.

use kernel::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const PASSWORD: &str = "correct horse battery";

async fn attempt(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    )
    .await
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_401() {
    let app = TestApp::spawn().await;
    app.admin().await;
    let p = problem(
        attempt(&app, "admin", "wrong password!").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(p["type"], "urn:civitas:problem:unauthenticated");
    let unknown = problem(
        attempt(&app, "nobody", "wrong password!").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // The same answer whether or not the user exists.
    assert_eq!(p["detail"], unknown["detail"]);
    // Empty fields are bad input.
    assert_eq!(
        problem(attempt(&app, "", "x").await, StatusCode::BAD_REQUEST).await["field"],
        "username"
    );
    assert_eq!(
        problem(attempt(&app, "admin", "").await, StatusCode::BAD_REQUEST).await["field"],
        "password"
    );
    // The username is not case sensitive; the token works.
    let r = attempt(&app, "ADMIN", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let login: Value = r.json().await.unwrap();
    assert!(login["expires_at"].is_string());
    let token = login["token"].as_str().unwrap();
    let me: Value = app
        .get("/api/v1/me", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["username"], "admin");
    assert_eq!(me["account"]["roles"][0]["role"], "platform_admin");
}

#[tokio::test]
async fn five_failures_lock_the_username() {
    let app = TestApp::spawn().await;
    app.admin().await;
    app.account("other", Role::PlatformAdmin, None, None).await;
    for i in 1..=5 {
        let r = attempt(&app, "admin", &format!("wrong password {i}")).await;
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    // The sixth attempt is refused even with the right password.
    let r = attempt(&app, "admin", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["type"], "urn:civitas:problem:too_many_requests");
    // Still locked; the lock is per username, and case does not get around it.
    problem(
        attempt(&app, "Admin", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(
        attempt(&app, "other", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = TestApp::spawn().await;
    app.admin().await;
    for _ in 0..4 {
        problem(
            attempt(&app, "admin", "wrong password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    assert_eq!(
        attempt(&app, "admin", PASSWORD).await.status(),
        StatusCode::OK
    );
    for _ in 0..4 {
        problem(
            attempt(&app, "admin", "wrong password").await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    assert_eq!(
        attempt(&app, "admin", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_ends_the_session_only() {
    let app = TestApp::spawn().await;
    let first = app.admin().await;
    let second = app.login("admin", PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&first)).await.status(),
        StatusCode::OK
    );
    let r = app
        .post("/api/v1/auth/logout", Some(&first), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    problem(
        app.get("/api/v1/me", Some(&first)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        app.post("/api/v1/auth/logout", Some(&first), &json!({}))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // The other session goes on.
    assert_eq!(
        app.get("/api/v1/me", Some(&second)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn disabled_accounts_cannot_sign_in_and_lose_their_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = app.account("worker", Role::PlatformAdmin, None, None).await;
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let id = me["account"]["id"].as_str().unwrap().to_string();

    let r = app
        .post(
            &format!("/api/v1/accounts/{id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], true);
    problem(
        app.get("/api/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem(
        attempt(&app, "worker", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // An admin cannot disable herself.
    let me: Value = app
        .get("/api/v1/me", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let admin_id = me["account"]["id"].as_str().unwrap();
    problem(
        app.post(
            &format!("/api/v1/accounts/{admin_id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    // Enabled again, the account signs in, but the old token stays dead.
    let r = app
        .post(
            &format!("/api/v1/accounts/{id}/enable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], false);
    problem(
        app.get("/api/v1/me", Some(&token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let fresh = app.login("worker", PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&fresh)).await.status(),
        StatusCode::OK
    );
    // A nonexistent account.
    let nobody = uuid::Uuid::now_v7();
    problem(
        app.post(
            &format!("/api/v1/accounts/{nobody}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

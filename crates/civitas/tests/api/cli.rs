//! The command line acts on the same store as the server.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, rid};

#[tokio::test]
async fn migrate_is_idempotent() {
    let app = TestApp::spawn().await;
    let (code, out, err) = app.cli(&["migrate"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applied 0 migration(s)"), "{out}");
}

#[tokio::test]
async fn account_create_makes_staff_and_citizens_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 3, "示例市民政局").await;
    let code: Value = app
        .get(&format!("/api/v1/organisations/{org}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let credit_code = code["credit_code"].as_str().unwrap().to_string();
    let (person, resident_id) = app.person(&admin, 31, "孙七").await;

    let (status, out, err) = app
        .cli_with_input(
            &[
                "account",
                "create",
                "--username",
                "clerk-cli",
                "--role",
                "clerk",
                "--org",
                &credit_code,
                "--password-stdin",
            ],
            "a long clerk password\n",
        )
        .await;
    assert_eq!(status, 0, "{out}{err}");
    let token = app.login("clerk-cli", "a long clerk password").await;
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["roles"][0]["role"], "clerk");
    assert_eq!(me["account"]["roles"][0]["organisation_id"], org.as_str());

    let (status, out, err) = app
        .cli_with_input(
            &[
                "account",
                "create",
                "--username",
                "sun-qi",
                "--role",
                "citizen",
                "--person",
                &resident_id,
                "--password-stdin",
            ],
            "a long citizen password",
        )
        .await;
    assert_eq!(status, 0, "{out}{err}");
    let token = app.login("sun-qi", "a long citizen password").await;
    let me: Value = app
        .get("/api/v1/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["person"]["id"], person.as_str());
}

#[tokio::test]
async fn account_create_names_what_is_wrong() {
    let app = TestApp::spawn().await;
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["--username", "x1x", "--role", "mayor"],
            "long enough password",
            "unknown role",
        ),
        (
            &[
                "--username",
                "x2x",
                "--role",
                "citizen",
                "--person",
                "110105194912310021",
            ],
            "long enough password",
            "--person",
        ),
        (
            &[
                "--username",
                "x3x",
                "--role",
                "citizen",
                "--person",
                &rid(77),
            ],
            "long enough password",
            "no registered person",
        ),
        (
            &["--username", "x4x", "--role", "platform_admin"],
            "short",
            "at least 10 characters",
        ),
        (
            &[
                "--username",
                "x5x",
                "--role",
                "clerk",
                "--org",
                "91350100M000100Y43",
            ],
            "long enough password",
            "no organisation",
        ),
    ];
    for (args, password, expected) in cases {
        let mut all = vec!["account", "create"];
        all.extend_from_slice(args);
        all.push("--password-stdin");
        let (status, out, err) = app.cli_with_input(&all, password).await;
        assert_eq!(status, 2, "{args:?}: {out}{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // Without --password-stdin nothing is created.
    let (status, _, err) = app
        .cli(&[
            "account",
            "create",
            "--username",
            "x6x",
            "--role",
            "platform_admin",
        ])
        .await;
    assert_eq!(status, 2);
    assert!(err.contains("--password-stdin"), "{err}");
    assert_eq!(
        app.post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"username": "x4x", "password": "short"})
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
}

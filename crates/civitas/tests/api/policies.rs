//! Proactive benefits (免申即享) end to end: a policy published with the demo city's
//! rules runs over the register; the newly entitled become proposals the department
//! confirms in bulk; each is told why and may decline; a resident who is no longer
//! entitled is flagged for review, not cut off; a resident sees what she is entitled to,
//! soon will be, or is not, and why; bad input is named.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

async fn resident(
    app: &TestApp,
    admin: &str,
    year: i32,
    seq: u16,
    username: &str,
) -> (String, String) {
    let rid = civitas::demo::resident_id("990102", year, 3, 1, seq)
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/persons",
            Some(admin),
            &json!({"resident_id": rid, "name": "测试居民", "region": "990102001001"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = app.account(username, Role::Citizen, None, Some(&id)).await;
    (id, token)
}

#[tokio::test]
async fn the_entitled_are_found_confirmed_told_and_flagged_when_they_no_longer_are() {
    let app = TestApp::spawn_configured(false, |c| {
        c.rules_packages = vec![
            civitas::demo::rules_root()
                .join("demo-city")
                .display()
                .to_string(),
        ];
    })
    .await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let reviewer = app
        .account("reviewer", Role::Reviewer, Some(&org), None)
        .await;
    let other_org = app.organisation(&admin, 2, "东湖区教育局").await;
    let outsider = app
        .account("outsider", Role::Reviewer, Some(&other_org), None)
        .await;
    // Ages this month: 85 (the 80–89 band), 76 (living alone, over 70) and 36.
    let year = time::OffsetDateTime::now_utc().year();
    let (old, old_token) = resident(&app, &admin, year - 86, 11, "old").await;
    let (alone, alone_token) = resident(&app, &admin, year - 77, 12, "alone").await;
    let (young, young_token) = resident(&app, &admin, year - 37, 13, "young").await;
    let _ = young;

    // Publishing: bad input is named; the department's admin or the platform admin only.
    for (field, body) in [
        (
            "code",
            json!({"code": "X Y", "name": "n", "summary": "s", "package": "demo-city", "variable": "old_age_allowance", "organisation_id": org, "basis": "b"}),
        ),
        (
            "package",
            json!({"code": "gl", "name": "n", "summary": "s", "package": "atlantis", "variable": "old_age_allowance", "organisation_id": org, "basis": "b"}),
        ),
        (
            "variable",
            json!({"code": "gl", "name": "n", "summary": "s", "package": "demo-city", "variable": "dibao_top_up", "organisation_id": org, "basis": "b"}),
        ),
        (
            "variable",
            json!({"code": "gl", "name": "n", "summary": "s", "package": "demo-city", "variable": "no_such", "organisation_id": org, "basis": "b"}),
        ),
    ] {
        let r = app
            .post("/api/v1/rules/policies", Some(&admin), &body)
            .await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["field"], field, "{p}");
    }
    let policy = |code: &str, variable: &str| {
        json!({"code": code, "name": code, "summary": "每月发放", "package": "demo-city",
               "variable": variable, "organisation_id": org,
               "basis": "《示例市高龄津贴发放办法》第三条"})
    };
    let r = app
        .post(
            "/api/v1/rules/policies",
            Some(&clerk),
            &policy("gl", "old_age_allowance"),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    for (code, variable) in [
        ("gl", "old_age_allowance"),
        ("alone", "living_alone_care_subsidy"),
    ] {
        let r = app
            .post(
                "/api/v1/rules/policies",
                Some(&admin),
                &policy(code, variable),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let r = app
        .post(
            "/api/v1/rules/policies",
            Some(&admin),
            &policy("gl", "old_age_allowance"),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // The city marks one elder as living alone.
    let r = app.post("/api/v1/tags", Some(&admin), &json!({"code": "lives-alone", "name": "独居老人", "description": "d", "organisation_id": org})).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &json!({"add": [alone], "purpose": "社区摸排"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // Runs: by the department's staff only; a bad month is named.
    let r = app
        .post("/api/v1/rules/policies/gl/run", Some(&outsider), &json!({}))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/rules/policies/gl/run",
            Some(&clerk),
            &json!({"period": "2026"}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "period");
    // Decisions are made for what is due now: another month is refused.
    let r = app
        .post(
            "/api/v1/rules/policies/gl/run",
            Some(&clerk),
            &json!({"period": "2020-01"}),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(
        p["detail"].as_str().unwrap().contains("current month"),
        "{p}"
    );
    let r = app
        .post("/api/v1/rules/policies/gl/run", Some(&clerk), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (
            report["evaluated"].as_u64(),
            report["eligible"].as_u64(),
            report["proposed"].as_u64()
        ),
        (Some(3), Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(report["digest"].as_str().unwrap().len(), 64);
    // Running again proposes nobody twice.
    let again: Value = app
        .post("/api/v1/rules/policies/gl/run", Some(&clerk), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["proposed"], 0, "{again}");
    let alone_run: Value = app
        .post("/api/v1/rules/policies/alone/run", Some(&clerk), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            alone_run["eligible"].as_u64(),
            alone_run["proposed"].as_u64()
        ),
        (Some(1), Some(1)),
        "{alone_run}"
    );

    // The proposals, names masked, with the reason; the read is audited.
    let page: Value = app
        .get(
            "/api/v1/rules/policies/gl/decisions?status=proposed",
            Some(&clerk),
        )
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["person_id"], old.as_str());
    assert_eq!(items[0]["amount"], 150.0);
    assert!(
        items[0]["person_name"].as_str().unwrap().contains('*'),
        "{page}"
    );
    assert!(
        items[0]["reason"]
            .as_str()
            .unwrap()
            .contains("第五条第一项"),
        "{page}"
    );
    let r = app
        .get(
            "/api/v1/rules/policies/gl/decisions?status=maybe",
            Some(&clerk),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "status");
    let id = items[0]["id"].as_str().unwrap().to_string();

    // Replaying the decision from the situation it kept gives the same amount with the
    // same rules; the kept situation is OpenFisca's format, for /calculate.
    let r = app
        .post(
            &format!("/api/v1/rules/decisions/{id}/replay"),
            Some(&clerk),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let replay: Value = r.json().await.unwrap();
    assert_eq!(
        (
            replay["same_rules"].as_bool(),
            replay["same_result"].as_bool()
        ),
        (Some(true), Some(true)),
        "{replay}"
    );
    assert_eq!(replay["amount_replayed"], 150.0);
    let kept = &replay["situation"];
    let r = app
        .post("/api/v1/rules/calculate?package=demo-city", None, kept)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            &format!("/api/v1/rules/decisions/{id}/replay"),
            Some(&outsider),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/rules/decisions/nope/replay",
            Some(&clerk),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;

    // Confirming: a reviewer of the department; the resident is told why and that she
    // may decline.
    let r = app
        .post(
            "/api/v1/rules/policies/gl/confirm",
            Some(&clerk),
            &json!({"ids": [id]}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            "/api/v1/rules/policies/gl/confirm",
            Some(&reviewer),
            &json!({"ids": []}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "ids");
    let r = app
        .post(
            "/api/v1/rules/policies/gl/confirm",
            Some(&reviewer),
            &json!({"ids": ["not-one"]}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "ids");
    let r = app
        .post(
            "/api/v1/rules/policies/gl/confirm",
            Some(&reviewer),
            &json!({"ids": [id]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app
        .post(
            "/api/v1/rules/policies/gl/confirm",
            Some(&reviewer),
            &json!({"ids": [id]}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let inbox: Value = app
        .get("/api/v1/me/inbox", Some(&old_token))
        .await
        .json()
        .await
        .unwrap();
    let notice = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"].as_str().unwrap_or("").contains("免申即享"))
        .unwrap_or_else(|| panic!("no notice in {inbox}"))
        .clone();
    let body = notice["body"].as_str().unwrap();
    assert!(
        body.contains("150.00") && body.contains("放弃") && body.contains("第五条第一项"),
        "{body}"
    );

    // What each is entitled to.
    let mine: Value = app
        .get("/api/v1/me/entitlements", Some(&old_token))
        .await
        .json()
        .await
        .unwrap();
    let gl = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["policy_code"] == "gl")
        .unwrap();
    assert_eq!(
        (gl["standing"].as_str(), gl["decision"].as_str()),
        (Some("qualifies"), Some("confirmed")),
        "{gl}"
    );
    assert_eq!(gl["explanation"]["version"], 1);
    let theirs: Value = app
        .get("/api/v1/me/entitlements", Some(&young_token))
        .await
        .json()
        .await
        .unwrap();
    let gl = theirs
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["policy_code"] == "gl")
        .unwrap();
    assert_eq!(gl["standing"], "not");
    assert!(
        gl["reason"].as_str().unwrap().contains("does not hold"),
        "{gl}"
    );
    // Too young and not living alone: two requirements missing, not "nearly".
    let alone_policy = |all: &Value| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|e| e["policy_code"] == "alone")
            .unwrap()
            .clone()
    };
    assert_eq!(alone_policy(&theirs)["standing"], "not");
    // Old enough but not registered as living alone: nearly, naming what is missing.
    let hers = alone_policy(&mine);
    assert_eq!(hers["standing"], "nearly", "{hers}");
    assert_eq!(hers["missing"], "独居（社区标注）", "{hers}");
    let r = app
        .page(Method::GET, "/me/entitlements", &old_token, &[])
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("您只差一项条件：独居（社区标注）")
    );

    // She declines the care subsidy's proposal; a second decline is a conflict.
    let r = app
        .post(
            "/api/v1/me/entitlements/alone/decline",
            Some(&alone_token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .post(
            "/api/v1/me/entitlements/alone/decline",
            Some(&alone_token),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .post(
            "/api/v1/me/entitlements/gl/decline",
            Some(&young_token),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    // Declined stays declined on the next run.
    let rerun: Value = app
        .post("/api/v1/rules/policies/alone/run", Some(&clerk), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rerun["proposed"], 0, "{rerun}");

    // Lost eligibility: confirmed elsewhere, the tag removed, the next run flags her.
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &json!({"add": [old], "purpose": "社区摸排"}),
        )
        .await;
    assert!(r.status().is_success());
    let run: Value = app
        .post("/api/v1/rules/policies/alone/run", Some(&clerk), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["proposed"], 1, "{run}");
    let page: Value = app
        .get(
            "/api/v1/rules/policies/alone/decisions?status=proposed",
            Some(&clerk),
        )
        .await
        .json()
        .await
        .unwrap();
    let hers = page["items"][0]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/api/v1/rules/policies/alone/confirm",
            Some(&reviewer),
            &json!({"ids": [hers]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &json!({"remove": [old], "purpose": "搬去与子女同住"}),
        )
        .await;
    assert!(r.status().is_success());
    let run: Value = app
        .post("/api/v1/rules/policies/alone/run", Some(&clerk), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["flagged"], 1, "{run}");
    let page: Value = app
        .get(
            "/api/v1/rules/policies/alone/decisions?status=review",
            Some(&clerk),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], hers.as_str());
    assert!(
        page["items"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("lives_alone"),
        "{page}"
    );
    // What it was decided on is kept (the amount, the reason); why she no longer
    // qualifies is beside it.
    assert_eq!(page["items"][0]["amount"], 50.0, "{page}");
    let why_not = page["items"][0]["review_reason"].as_str().unwrap();
    assert!(why_not.contains("= 0"), "{page}");
    let r = app
        .post(
            "/api/v1/rules/policies/alone/review",
            Some(&reviewer),
            &json!({"ids": [hers]}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "keep");
    let r = app
        .post(
            "/api/v1/rules/policies/alone/review",
            Some(&reviewer),
            &json!({"ids": [hers], "keep": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let policy: Value = app
        .get("/api/v1/rules/policies/alone", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(policy["counts"].to_string().contains("ended"), "{policy}");

    // The sweep runs a policy again only when its last run is a day old or its rules
    // changed: both ran just now.
    assert!(rules::service::sweep(&app.state).await.unwrap().is_empty());
    app.exec("UPDATE rules_policies SET last_digest = 'older rules' WHERE code = 'gl'")
        .await;
    let swept = rules::service::sweep(&app.state).await.unwrap();
    assert_eq!(swept.len(), 1);
    assert_eq!(swept[0].policy, "gl");

    // Each confirmation is in the resident's own footprint, with the policy's basis.
    let footprint: Value = app
        .get("/api/v1/me/footprint", Some(&old_token))
        .await
        .json()
        .await
        .unwrap();
    let confirmations: Vec<&Value> = footprint["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "rules.decision.confirm")
        .collect();
    assert_eq!(confirmations.len(), 2, "{footprint}");
    assert!(
        confirmations[0]
            .to_string()
            .contains("《示例市高龄津贴发放办法》第三条"),
        "{footprint}"
    );
}

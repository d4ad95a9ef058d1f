//! Rules package versions end to end: the configured folder is kept as the first
//! version; a new version is uploaded (bad ones refused, nothing served changes),
//! published (the policies run again), served after a restart, and a decision made with
//! the old version replays with the rules it was made with.

use kernel::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const BAND_80: &str = "parameters/old_age/from_80.yaml";

async fn resident(app: &TestApp, admin: &str, age: i32, seq: u16) -> String {
    resident_with_rid(app, admin, age, seq).await.0
}

/// A resident registered `age` (or a year more) years ago: (person id, resident ID).
async fn resident_with_rid(app: &TestApp, admin: &str, age: i32, seq: u16) -> (String, String) {
    let year = time::OffsetDateTime::now_utc().year() - age - 1;
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
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, rid)
}

async fn versions(app: &TestApp) -> Vec<Value> {
    let r = app
        .get("/api/v1/rules/packages/demo-city/versions", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Vec<Value>>().await.unwrap()
}

async fn listed(app: &TestApp, clerk: &str, status: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/v1/rules/policies/gl/decisions?status={status}"),
            Some(clerk),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn proposals(app: &TestApp, clerk: &str) -> Vec<Value> {
    listed(app, clerk, "proposed").await
}

/// The first decision of `status` that `wanted` picks, waiting for a background run.
async fn until(app: &TestApp, clerk: &str, status: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        if let Some(d) = listed(app, clerk, status)
            .await
            .into_iter()
            .find(|d| wanted(d))
        {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no {status} decision came: {:?}",
        listed(app, clerk, status).await
    );
}

#[tokio::test]
async fn a_new_version_is_checked_kept_published_and_old_decisions_replay_with_old_rules() {
    let folder = civitas::demo::rules_root().join("demo-city");
    let entry = folder.display().to_string();
    let app = TestApp::spawn_configured(false, |c| c.rules_packages = vec![entry.clone()]).await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let reviewer = app
        .account("reviewer", Role::Reviewer, Some(&org), None)
        .await;
    let enrolled = resident(&app, &admin, 85, 21).await;
    let proposed = resident(&app, &admin, 84, 22).await;

    // The configured folder is the first version, served, its own tests passed.
    let kept = versions(&app).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["source"], "folder");
    assert_eq!(kept[0]["served"], true);
    assert!(kept[0]["tests_passed"].as_i64().unwrap() >= 7, "{kept:?}");
    let first = kept[0]["digest"].as_str().unwrap().to_string();
    let r = app.get("/api/v1/rules/packages", None).await;
    let served: Vec<Value> = r.json().await.unwrap();
    assert_eq!(served[0]["digest"], first.as_str());
    let r = app
        .get(
            &format!("/api/v1/rules/packages/demo-city/versions/{first}"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let files: std::collections::BTreeMap<String, String> =
        serde_json::from_value(r.json::<Value>().await.unwrap()["files"].clone()).unwrap();
    assert_eq!(
        files[BAND_80],
        std::fs::read_to_string(folder.join(BAND_80)).unwrap()
    );

    // A decision made with the first version, confirmed; another left proposed.
    let r = app
        .post(
            "/api/v1/rules/policies",
            Some(&admin),
            &json!({"code": "gl", "name": "高龄津贴", "summary": "每月发放", "package": "demo-city",
                    "variable": "old_age_allowance", "organisation_id": org,
                    "basis": "《示例市高龄津贴发放办法》第三条"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post("/api/v1/rules/policies/gl/run", Some(&clerk), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let before = proposals(&app, &clerk).await;
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(
        before
            .iter()
            .all(|d| d["amount"] == 150.0 && d["digest"] == first.as_str())
    );
    let decided = before
        .iter()
        .find(|d| d["person_id"] == enrolled.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            "/api/v1/rules/policies/gl/confirm",
            Some(&reviewer),
            &json!({"ids": [decided]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // From the first of this month the 80–89 band gets 200.
    let today = time::OffsetDateTime::now_utc().date();
    let month_start = format!("{}-{:02}-01", today.year(), u8::from(today.month()));
    let raised = format!(
        "{}  {month_start}:\n    value: 200\n    metadata:\n      reference:\n        title: 示例市民政局关于再次提高高龄津贴标准的通知\n",
        files[BAND_80]
    );
    let upload = |files: &std::collections::BTreeMap<String, String>| json!({"note": "再次提高 80–89 周岁标准", "files": files});
    let mut good = files.clone();
    good.insert(BAND_80.into(), raised.clone());

    // Bad versions are refused with what is wrong; nothing is kept or served.
    let url = "/api/v1/rules/packages/demo-city/versions";
    let r = app.post(url, Some(&clerk), &upload(&good)).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app.post(url, None, &upload(&good)).await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    let mut escaping = good.clone();
    escaping.insert("../outside.yaml".into(), "x: 1".into());
    let p = problem(
        app.post(url, Some(&admin), &upload(&escaping)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "files/../outside.yaml", "{p}");
    let mut headless = good.clone();
    headless.remove("package.yaml");
    let p = problem(
        app.post(url, Some(&admin), &upload(&headless)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "files/package.yaml", "{p}");
    let p = problem(
        app.post(
            "/api/v1/rules/packages/other-city/versions",
            Some(&admin),
            &upload(&good),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("not other-city"),
        "{p}"
    );
    let mut broken = good.clone();
    broken.insert(BAND_80.into(), raised.replace("value: 200", "value: [200"));
    let p = problem(
        app.post(url, Some(&admin), &upload(&broken)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains(BAND_80),
        "the file is named: {p}"
    );
    // Changing a past amount breaks the package's own tests.
    let mut untrue = good.clone();
    untrue.insert(BAND_80.into(), raised.replace("value: 150", "value: 160"));
    let p = problem(
        app.post(url, Some(&admin), &upload(&untrue)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["field"], "files/tests", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("tests/old_age.yaml"),
        "{p}"
    );
    assert_eq!(versions(&app).await.len(), 1);

    // The good one is kept, not served until published; twice is a conflict.
    let r = app.post(url, Some(&admin), &upload(&good)).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let second: Value = r.json().await.unwrap();
    assert_eq!(second["served"], false);
    assert_eq!(second["source"], "upload");
    let digest = second["digest"].as_str().unwrap().to_string();
    assert_ne!(digest, first);
    let r = app.post(url, Some(&admin), &upload(&good)).await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app.get("/api/v1/rules/packages", None).await;
    assert_eq!(
        r.json::<Vec<Value>>().await.unwrap()[0]["digest"],
        first.as_str()
    );

    // Publishing: the platform admin only, a kept version only, once.
    let publish = format!("{url}/{digest}/publish");
    let r = app.post(&publish, Some(&reviewer), &json!({})).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            &format!("{url}/{}/publish", "0".repeat(64)),
            Some(&admin),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app.post(&publish, Some(&admin), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let published: Value = r.json().await.unwrap();
    assert_eq!(published["replaced"], first.as_str());
    assert_eq!(published["reruns"], json!(["gl"]));
    let r = app.post(&publish, Some(&admin), &json!({})).await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app.get("/api/v1/rules/packages", None).await;
    assert_eq!(
        r.json::<Vec<Value>>().await.unwrap()[0]["digest"],
        digest.as_str()
    );

    // The policy is run again in the background: the open proposal is refreshed, and the
    // enrolment follows the raise.
    let refreshed = until(&app, &clerk, "proposed", |d| d["digest"] == digest.as_str()).await;
    assert_eq!(refreshed["person_id"], proposed.as_str());
    assert_eq!(refreshed["amount"], 200.0);
    let raised_one = until(&app, &clerk, "confirmed", |d| {
        d["digest"] == digest.as_str()
    })
    .await;
    assert_eq!(raised_one["id"], decided.as_str());
    assert_eq!(raised_one["amount"], 200.0);

    // A node started again from the same folder keeps serving the published version.
    let book = rules::service::Rulebook::load(std::slice::from_ref(&entry)).unwrap();
    book.sync(
        &app.state.db,
        &rules::service::versions_folder(&app.state.config),
    )
    .await
    .unwrap();
    assert_eq!(book.package("demo-city", &[]).unwrap().digest, digest);
    assert_eq!(versions(&app).await.len(), 2);

    // Going back is publishing the first version again: less is not applied but flagged
    // for review, with why.
    let r = app
        .post(&format!("{url}/{first}/publish"), Some(&admin), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let kept = versions(&app).await;
    assert!(
        kept.iter()
            .any(|v| v["digest"] == first.as_str() && v["served"] == true)
    );
    let flagged = until(&app, &clerk, "review", |d| d["id"] == decided.as_str()).await;
    assert_eq!(flagged["amount"], 200.0);
    assert!(
        flagged["review_reason"]
            .as_str()
            .unwrap()
            .contains("按现行规则每月应为 150.00 元（现为 200.00 元）"),
        "{flagged}"
    );
    // Running again leaves it for the reviewer: entitled to less is not "entitled again".
    let r = app
        .post("/api/v1/rules/policies/gl/run", Some(&clerk), &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        listed(&app, &clerk, "review")
            .await
            .iter()
            .any(|d| d["id"] == decided.as_str())
    );

    // The enrolment decided with the second version replays with it — same result — while
    // the rules now give 150.
    let r = app
        .post(
            &format!("/api/v1/rules/decisions/{decided}/replay"),
            Some(&reviewer),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let replay: Value = r.json().await.unwrap();
    assert_eq!(replay["digest_decided"], digest.as_str());
    assert_eq!(replay["digest_now"], first.as_str());
    assert_eq!(replay["rules_kept"], true);
    assert_eq!(replay["same_rules"], false);
    assert_eq!(replay["amount_replayed"], 200.0);
    assert_eq!(replay["same_result"], true);
    assert_eq!(replay["amount_now"], 150.0);

    // The pages: the versions with a publish button, and the editor's checks.
    let r = app
        .page(Method::GET, "/rules/packages/demo-city", &admin, &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&digest[..12]) && html.contains(&first[..12]),
        "{html}"
    );
    assert!(html.contains(&format!("/versions/{digest}/publish")));
    let r = app
        .page(Method::GET, "/rules/packages/demo-city", &clerk, &[])
        .await;
    assert!(!r.text().await.unwrap().contains("/publish"));
    let r = app
        .page(
            Method::GET,
            &format!("/rules/packages/demo-city/edit?file={BAND_80}"),
            &clerk,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .page(
            Method::GET,
            &format!("/rules/packages/demo-city/edit?file={BAND_80}"),
            &admin,
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("第五条第一项"));
    let edit = format!("/rules/packages/demo-city/edit?base={first}");
    let bad = raised.replace("value: 150", "value: 160");
    let r = app
        .page(
            Method::POST,
            &edit,
            &admin,
            &[("file", BAND_80), ("text", &bad), ("note", "试一试")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("tests/old_age.yaml"), "{html}");
    let better = raised.replace("value: 200", "value: 210");
    let r = app
        .page(
            Method::POST,
            &edit,
            &admin,
            &[("file", BAND_80), ("text", &better), ("note", "改为 210")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let kept = versions(&app).await;
    assert_eq!(kept.len(), 3);
    assert!(
        kept.iter()
            .any(|v| v["note"] == "改为 210" && v["served"] == false)
    );

    // `civitas rules upload --publish` keeps a folder, publishes it and runs the policy.
    let copy = tempfile::tempdir().unwrap();
    for (path, text) in &files {
        let target = copy.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, text).unwrap();
    }
    std::fs::write(
        copy.path().join(BAND_80),
        raised.replace("value: 200", "value: 220"),
    )
    .unwrap();
    let dir = copy.path().display().to_string();
    let (code, out, err) = app
        .cli(&[
            "rules",
            "upload",
            "--rules",
            &dir,
            "--note",
            "从命令行",
            "--publish",
        ])
        .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("is served at") && out.contains("gl: "),
        "{out}"
    );
    let kept = versions(&app).await;
    assert!(
        kept.iter()
            .any(|v| v["note"] == "从命令行" && v["published_at"].is_string()),
        "{kept:?}"
    );
    let now = proposals(&app, &clerk).await;
    assert_eq!(now[0]["amount"], 220.0, "{now:?}");
    // A folder that fails its own tests is not kept.
    std::fs::write(
        copy.path().join(BAND_80),
        raised.replace("value: 150", "value: 160"),
    )
    .unwrap();
    let (code, _, err) = app
        .cli(&["rules", "upload", "--rules", &dir, "--publish"])
        .await;
    assert_eq!(code, 1);
    assert!(err.contains("tests/old_age.yaml"), "{err}");
    assert_eq!(versions(&app).await.len(), kept.len());
}

/// The demo city's rules served, register changes followed every second.
async fn following_app() -> TestApp {
    let entry = civitas::demo::rules_root()
        .join("demo-city")
        .display()
        .to_string();
    TestApp::spawn_configured(false, |c| {
        c.rules_packages = vec![entry];
        c.rules_follow_seconds = 1;
    })
    .await
}

async fn decisions_until(
    app: &TestApp,
    token: &str,
    code: &str,
    status: &str,
    want: usize,
) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..100 {
        let r = app
            .get(
                &format!("/api/v1/rules/policies/{code}/decisions?status={status}"),
                Some(token),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        items = r.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .clone();
        if items.len() == want {
            return items;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{code}: expected {want} {status}, found {items:?}");
}

#[tokio::test]
async fn register_changes_are_followed_by_the_policies_within_seconds() {
    let app = following_app().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let org = app.organisation(&admin, 1, "东湖区民政局").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&org), None).await;
    let reviewer = app
        .account("reviewer", Role::Reviewer, Some(&org), None)
        .await;
    for (code, variable) in [
        ("gl", "old_age_allowance"),
        ("alone", "living_alone_care_subsidy"),
    ] {
        let r = app
            .post(
                "/api/v1/rules/policies",
                Some(&admin),
                &json!({"code": code, "name": code, "summary": "每月发放", "package": "demo-city",
                        "variable": variable, "organisation_id": org, "basis": "《示例市高龄津贴发放办法》第三条"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = app.post("/api/v1/tags", Some(&admin), &json!({"code": "lives-alone", "name": "独居老人", "description": "d", "organisation_id": org})).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Registering an 85-year-old makes her a proposal without anybody running the policy.
    let old = resident(&app, &admin, 85, 31).await;
    let found = decisions_until(&app, &clerk, "gl", "proposed", 1).await;
    assert_eq!(found[0]["person_id"], old.as_str());
    // A 76-year-old qualifies for the living-alone subsidy once tagged as living alone.
    let alone = resident(&app, &admin, 76, 32).await;
    decisions_until(&app, &clerk, "alone", "proposed", 0).await;
    let tag = |change: &str| json!({change: [alone.clone()], "purpose": "社区摸排"});
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &tag("add"),
        )
        .await;
    assert!(r.status().is_success());
    let found = decisions_until(&app, &clerk, "alone", "proposed", 1).await;
    assert_eq!(found[0]["person_id"], alone.as_str());
    let r = app
        .post(
            "/api/v1/rules/policies/alone/confirm",
            Some(&reviewer),
            &json!({"ids": [found[0]["id"]]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // No longer living alone: her enrolment is flagged for review, not ended.
    let r = app
        .post(
            "/api/v1/tags/lives-alone/persons",
            Some(&clerk),
            &tag("remove"),
        )
        .await;
    assert!(r.status().is_success());
    let flagged = decisions_until(&app, &clerk, "alone", "review", 1).await;
    assert_eq!(flagged[0]["person_id"], alone.as_str());
    assert!(flagged[0]["review_reason"].is_string(), "{flagged:?}");
    decisions_until(&app, &clerk, "alone", "confirmed", 0).await;

    // Every change is handled and forgotten (the background follower may still be
    // finishing its pass); following again changes nothing.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = identity::store::register_changes(&app.state.db, 10)
            .await
            .unwrap();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "{left:?}");
    let again = rules::service::follow_register(&app.state).await.unwrap();
    assert_eq!(
        (again.proposed, again.flagged, again.withdrawn),
        (0, 0, 0),
        "{again:?}"
    );
    decisions_until(&app, &clerk, "gl", "proposed", 1).await;
}

async fn import_grades(app: &TestApp, token: &str, grades: &[(&str, i64)]) {
    let grades: Vec<(&str, Value)> = grades.iter().map(|(r, g)| (*r, json!(g))).collect();
    import_field(
        app,
        token,
        "disability-registration",
        "disability_grade",
        &grades,
    )
    .await;
}

/// Hosts one field's values for residents (by resident id) in an exchange resource.
async fn import_field(
    app: &TestApp,
    token: &str,
    resource: &str,
    field: &str,
    values: &[(&str, Value)],
) {
    let lines: String = values
        .iter()
        .map(|(rid, value)| format!("{}\n", json!({"subject": rid, field: value})))
        .collect();
    let r = app
        .send(
            Method::POST,
            &format!("/api/v1/exchange/resources/{resource}/records"),
            Some(token),
            &[],
            Some(("application/x-ndjson", lines.into_bytes())),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_policy_reads_the_disability_grade_from_the_exchange_under_an_agreement() {
    let app = following_app().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let civil = app.organisation(&admin, 1, "东湖区民政局").await;
    let federation = app.organisation(&admin, 2, "示例市残疾人联合会").await;
    let clerk = app.account("clerk", Role::Clerk, Some(&civil), None).await;
    let civil_admin = app
        .account("civil-admin", Role::OrgAdmin, Some(&civil), None)
        .await;
    let fed_admin = app
        .account("fed-admin", Role::OrgAdmin, Some(&federation), None)
        .await;
    let (severe, severe_rid) = resident_with_rid(&app, &admin, 40, 41).await;
    let (_, mild_rid) = resident_with_rid(&app, &admin, 41, 42).await;
    let _unregistered = resident(&app, &admin, 42, 43).await;

    // The federation hosts its registration in the exchange.
    let r = app
        .post(
            "/api/v1/exchange/resources",
            Some(&fed_admin),
            &json!({
                "code": "disability-registration", "name": "残疾人登记信息",
                "description": "残疾类别与等级（残疾人证）。",
                "fields": [{"name": "disability_grade", "title": "残疾等级", "type": "integer", "sensitivity": "sensitive_personal"}],
                "sharing_class": "conditional", "update_frequency": "monthly",
                "serving": "hosted", "subject_kind": "person", "keywords": ["残疾"],
            }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    import_grades(&app, &fed_admin, &[(&severe_rid, 2), (&mild_rid, 3)]).await;
    let r = app
        .post(
            "/api/v1/rules/policies",
            Some(&admin),
            &json!({"code": "care", "name": "重度残疾人护理补贴", "summary": "每月发放", "package": "demo-city",
                    "variable": "disability_care_subsidy", "organisation_id": civil,
                    "basis": "《示例市困难残疾人生活补贴和重度残疾人护理补贴实施办法》第六条"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Without an agreement the department cannot read the grades: the run says so.
    let run = "/api/v1/rules/policies/care/run";
    let p = problem(
        app.post(run, Some(&clerk), &json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("disability-registration"),
        "{p}"
    );

    // A statutory agreement for the grade.
    let r = app
        .post(
            "/api/v1/exchange/requests",
            Some(&civil_admin),
            &json!({"resource": "disability-registration", "fields": ["disability_grade"],
                    "purpose": "重度残疾人护理补贴主动核定", "legal_basis": "《示例市困难残疾人生活补贴和重度残疾人护理补贴实施办法》第六条",
                    "statutory": true, "expected_calls_per_day": 10}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let request: Value = r.json().await.unwrap();
    let r = app
        .post(
            &format!(
                "/api/v1/exchange/requests/{}/decision",
                request["id"].as_str().unwrap()
            ),
            Some(&fed_admin),
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // Grade 2 qualifies; grade 3 and no record do not.
    let r = app.post(run, Some(&clerk), &json!({})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["proposed"], 1, "{report}");
    let found = decisions_until(&app, &clerk, "care", "proposed", 1).await;
    assert_eq!(found[0]["person_id"], severe.as_str());
    assert_eq!(found[0]["amount"], 120.0);
    // The decision keeps the grade as read.
    let r = app
        .post(
            &format!(
                "/api/v1/rules/decisions/{}/replay",
                found[0]["id"].as_str().unwrap()
            ),
            Some(&clerk),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let replay: Value = r.json().await.unwrap();
    assert_eq!(replay["same_result"], true);
    let grades = &replay["situation"]["persons"][severe.as_str()]["disability_grade"];
    assert!(grades.to_string().contains('2'), "{replay}");

    // The federation re-grades the other resident: the policy follows within seconds.
    import_grades(&app, &fed_admin, &[(&mild_rid, 1)]).await;
    decisions_until(&app, &clerk, "care", "proposed", 2).await;

    // The living subsidy also asks whether her household is under the minimum living
    // standard (1,010 a month per head), its income from social insurance: 1,050 is 40
    // over — she nearly qualifies, and is told by how much.
    let insurer = app
        .organisation(&admin, 3, "示例市社会保险事业管理中心")
        .await;
    let insurer_admin = app
        .account("insurer-admin", Role::OrgAdmin, Some(&insurer), None)
        .await;
    let r = app
        .post(
            "/api/v1/exchange/resources",
            Some(&insurer_admin),
            &json!({
                "code": "social-insurance-contributions", "name": "社会保险缴费信息",
                "description": "参保状态与月收入。",
                "fields": [{"name": "monthly_income", "title": "月收入", "type": "number", "sensitivity": "sensitive_personal"}],
                "sharing_class": "conditional", "update_frequency": "monthly",
                "serving": "hosted", "subject_kind": "person", "keywords": ["社保"],
            }),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    import_field(
        &app,
        &insurer_admin,
        "social-insurance-contributions",
        "monthly_income",
        &[(&severe_rid, json!(1050.0))],
    )
    .await;
    let r = app
        .post(
            "/api/v1/exchange/requests",
            Some(&civil_admin),
            &json!({"resource": "social-insurance-contributions", "fields": ["monthly_income"],
                    "purpose": "低保收入核对", "legal_basis": "《社会救助暂行办法》第十一条",
                    "statutory": true, "expected_calls_per_day": 10}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let request: Value = r.json().await.unwrap();
    let r = app
        .post(
            &format!(
                "/api/v1/exchange/requests/{}/decision",
                request["id"].as_str().unwrap()
            ),
            Some(&insurer_admin),
            &json!({"approve": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app
        .post(
            "/api/v1/rules/policies",
            Some(&admin),
            &json!({"code": "living", "name": "困难残疾人生活补贴", "summary": "每月发放", "package": "demo-city",
                    "variable": "disability_living_subsidy", "organisation_id": civil,
                    "basis": "《示例市困难残疾人生活补贴和重度残疾人护理补贴实施办法》第五条"}),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let her = app
        .account("severe", Role::Citizen, None, Some(&severe))
        .await;
    let mine: Value = app
        .get("/api/v1/me/entitlements", Some(&her))
        .await
        .json()
        .await
        .unwrap();
    let living = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["policy_code"] == "living")
        .cloned()
        .unwrap_or_else(|| panic!("no living subsidy in {mine:#}"));
    assert_eq!(
        (
            &living["standing"],
            &living["missing"],
            &living["over_limit"]
        ),
        (
            &json!("nearly"),
            &json!("家庭月人均收入"),
            &json!({"value": 1050.0, "limit": 1010.0})
        ),
        "{living:#}"
    );
    let page = app
        .page(Method::GET, "/me/entitlements", &her, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("家庭月人均收入 1050.00 元，比标准 1010.00 元高 40.00 元"),
        "{page}"
    );
}

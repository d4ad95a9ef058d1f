//! The data-exchange catalogue: publishing resources, searching them and their DCAT
//! export, sharing requests and the provider's decisions, agreements, audit and pages.

use kernel::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

/// An app with a platform admin, a provider P, a consumer C and an unrelated org X, each
/// with an org admin.
struct World {
    app: TestApp,
    admin: String,
    p: String,
    p_admin: String,
    c: String,
    c_admin: String,
    x_admin: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let p = app.organisation(&admin, 1, "示例市公安局").await;
    let c = app.organisation(&admin, 2, "示例市民政局").await;
    let x = app.organisation(&admin, 3, "示例市教育局").await;
    let p_admin = app.account("admin-p", Role::OrgAdmin, Some(&p), None).await;
    let c_admin = app.account("admin-c", Role::OrgAdmin, Some(&c), None).await;
    let x_admin = app.account("admin-x", Role::OrgAdmin, Some(&x), None).await;
    World {
        app,
        admin,
        p,
        p_admin,
        c,
        c_admin,
        x_admin,
    }
}

/// A valid conditional resource with four fields.
fn resource(code: &str, class: &str) -> Value {
    json!({
        "code": code,
        "name": "户籍登记信息",
        "description": "常住人口户籍登记：户号、户主、与户主关系。",
        "fields": [
            {"name": "name", "title": "姓名", "type": "string", "sensitivity": "personal"},
            {"name": "household_number", "title": "户号", "type": "string", "sensitivity": "personal"},
            {"name": "relation_to_head", "title": "与户主关系", "type": "string", "sensitivity": "personal"},
            {"name": "ethnicity", "title": "民族", "type": "string", "sensitivity": "sensitive_personal"},
        ],
        "sharing_class": class,
        "update_frequency": "daily",
        "serving": "hosted",
        "subject_kind": "person",
        "keywords": ["户口", "hukou"],
    })
}

const RESOURCES: &str = "/api/v1/exchange/resources";
const REQUESTS: &str = "/api/v1/exchange/requests";

async fn publish(w: &World, body: &Value) -> Value {
    let r = w.app.post(RESOURCES, Some(&w.p_admin), body).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

fn request_body(resource: &str, fields: &[&str]) -> Value {
    json!({
        "resource": resource, "fields": fields, "purpose": "最低生活保障家庭成员核对",
        "legal_basis": "《社会救助暂行办法》第十一条", "statutory": true,
        "expected_calls_per_day": 500,
    })
}

/// C's admin files a request and gets it back.
async fn file(w: &World, resource: &str, fields: &[&str]) -> Value {
    let r = w
        .app
        .post(REQUESTS, Some(&w.c_admin), &request_body(resource, fields))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

async fn ok_json(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn field_of(w: &World, body: &Value) -> Value {
    let r = w.app.post(RESOURCES, Some(&w.p_admin), body).await;
    problem(r, StatusCode::BAD_REQUEST).await["field"].clone()
}

#[tokio::test]
async fn publish_search_dcat_and_validation() {
    let w = world().await;
    let app = &w.app;
    let res = publish(&w, &resource("household-registration", "conditional")).await;
    assert_eq!(res["provider_org_id"], w.p.as_str());
    assert_eq!(res["provider_name"], "示例市公安局");
    assert_eq!(res["sharing_class"], "conditional");
    assert_eq!(res["fields"].as_array().unwrap().len(), 4);
    assert_eq!(res["fields"][3]["type"], "string");
    assert_eq!(res["fields"][3]["sensitivity"], "sensitive_personal");

    // Anonymous search by name, keyword (either case) and provider; not by nonsense.
    for q in ["户籍", "户口", "HUKOU", "公安局"] {
        let url = format!("{RESOURCES}?q={}", kernel::pages::urlencode(q));
        let page = ok_json(app.get(&url, None).await).await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "search {q}: {page}");
        assert_eq!(items[0]["code"], "household-registration");
    }
    let url = format!("{RESOURCES}?q={}", kernel::pages::urlencode("天气预报"));
    let page = ok_json(app.get(&url, None).await).await;
    assert!(page["items"].as_array().unwrap().is_empty(), "{page}");
    // A literal `%` matches nothing rather than everything.
    let page = ok_json(app.get(&format!("{RESOURCES}?q=%25"), None).await).await;
    assert!(page["items"].as_array().unwrap().is_empty(), "{page}");

    // By code and by id, anonymously.
    let by_code = ok_json(
        app.get(&format!("{RESOURCES}/household-registration"), None)
            .await,
    )
    .await;
    assert_eq!(by_code["id"], res["id"]);
    let by_id = ok_json(
        app.get(
            &format!("{RESOURCES}/{}", res["id"].as_str().unwrap()),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(by_id["code"], "household-registration");
    problem(
        app.get(&format!("{RESOURCES}/no-such-thing"), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // DCAT.
    let r = app.get("/api/v1/exchange/dcat", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/ld+json"
    );
    let cat: Value = r.json().await.unwrap();
    assert_eq!(cat["@type"], "dcat:Catalog");
    let datasets = cat["dcat:dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), 1);
    let d = &datasets[0];
    assert_eq!(d["@type"], "dcat:Dataset");
    assert_eq!(d["dct:identifier"], "household-registration");
    assert!(
        d["dct:accessRights"]["@id"]
            .as_str()
            .unwrap()
            .ends_with("/access-right/RESTRICTED"),
        "{d}"
    );

    // Duplicate code.
    let r = app
        .post(
            RESOURCES,
            Some(&w.p_admin),
            &resource("household-registration", "conditional"),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // Bad input names the field.
    for bad in ["ab", "Upper-Case", "has space", "-leading", "户籍"] {
        assert_eq!(
            field_of(&w, &resource(bad, "conditional")).await,
            "code",
            "{bad}"
        );
    }
    let mut body = resource("zero-fields", "conditional");
    body["fields"] = json!([]);
    assert_eq!(field_of(&w, &body).await, "fields");
    let mut body = resource("dup-fields", "conditional");
    body["fields"][1]["name"] = json!("name");
    assert_eq!(field_of(&w, &body).await, "fields[1].name");
    for bad in ["Name", "1st", "with-dash", "", "名字"] {
        let mut body = resource("bad-field", "conditional");
        body["fields"][2]["name"] = json!(bad);
        assert_eq!(field_of(&w, &body).await, "fields[2].name", "{bad:?}");
    }
    let body = resource("secret", "not_shared");
    assert_eq!(field_of(&w, &body).await, "legal_reason");
    let mut body = resource("secret", "not_shared");
    body["legal_reason"] = json!("   ");
    assert_eq!(field_of(&w, &body).await, "legal_reason");
    let mut body = resource("proxied", "conditional");
    body["serving"] = json!("proxied");
    assert_eq!(field_of(&w, &body).await, "endpoint_url");
    body["endpoint_url"] = json!("ftp://example.org/x");
    assert_eq!(field_of(&w, &body).await, "endpoint_url");
    let mut body = resource("unknown-key", "conditional");
    body["owner"] = json!("me");
    let p = problem(
        app.post(RESOURCES, Some(&w.p_admin), &body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("owner"), "{p}");
    let mut body = resource("unknown-field-key", "conditional");
    body["fields"][0]["secret"] = json!(true);
    problem(
        app.post(RESOURCES, Some(&w.p_admin), &body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Who may publish: not a clerk of P, not another org's admin for P, not anonymous.
    let clerk = app.account("clerk-p", Role::Clerk, Some(&w.p), None).await;
    let r = app
        .post(
            RESOURCES,
            Some(&clerk),
            &resource("by-clerk", "conditional"),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let mut body = resource("by-other-org", "conditional");
    body["provider_org_id"] = json!(w.p);
    let r = app.post(RESOURCES, Some(&w.c_admin), &body).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(RESOURCES, None, &resource("by-nobody", "conditional"))
        .await;
    problem(r, StatusCode::UNAUTHORIZED).await;
    // A platform admin may, naming the provider.
    let mut body = resource("by-platform", "unconditional");
    body["provider_org_id"] = json!(w.p);
    let r = app.post(RESOURCES, Some(&w.admin), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Only the two good ones exist.
    let page = ok_json(app.get(RESOURCES, None).await).await;
    let codes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["by-platform", "household-registration"]);
}

#[tokio::test]
async fn request_decision_agreement_and_revocation() {
    let w = world().await;
    let app = &w.app;
    publish(&w, &resource("household-registration", "conditional")).await;

    // A field the resource does not have.
    let r = app
        .post(
            REQUESTS,
            Some(&w.c_admin),
            &request_body("household-registration", &["name", "blood_type"]),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "fields[1]"
    );
    let r = app
        .post(
            REQUESTS,
            Some(&w.c_admin),
            &request_body("household-registration", &[]),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "fields");
    let r = app
        .post(
            REQUESTS,
            Some(&w.c_admin),
            &request_body("no-such-resource", &["name"]),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "resource"
    );

    // A platform admin filing for an organisation that does not exist.
    let mut body = request_body("household-registration", &["name"]);
    body["consumer_org_id"] = json!(uuid::Uuid::now_v7().to_string());
    let r = app.post(REQUESTS, Some(&w.admin), &body).await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "consumer_org_id"
    );

    let req = file(
        &w,
        "household-registration",
        &["name", "household_number", "ethnicity"],
    )
    .await;
    assert_eq!(req["status"], "pending");
    assert!(req["agreement_id"].is_null());
    assert_eq!(req["consumer_org_id"], w.c.as_str());
    let id = req["id"].as_str().unwrap().to_string();

    // P sees it as incoming, C as outgoing; neither sees it the other way.
    let ids = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let incoming = ok_json(
        app.get(&format!("{REQUESTS}?direction=incoming"), Some(&w.p_admin))
            .await,
    )
    .await;
    assert_eq!(ids(incoming), [id.as_str()]);
    let outgoing = ok_json(
        app.get(&format!("{REQUESTS}?direction=outgoing"), Some(&w.c_admin))
            .await,
    )
    .await;
    assert_eq!(ids(outgoing), [id.as_str()]);
    let none = ok_json(
        app.get(&format!("{REQUESTS}?direction=outgoing"), Some(&w.p_admin))
            .await,
    )
    .await;
    assert!(ids(none).is_empty());
    let none = ok_json(app.get(REQUESTS, Some(&w.c_admin)).await).await;
    assert!(ids(none).is_empty());
    let r = app
        .get(&format!("{REQUESTS}?direction=sideways"), Some(&w.c_admin))
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "direction"
    );

    // The consumer cannot decide its own request.
    let decision = format!("{REQUESTS}/{id}/decision");
    let r = app
        .post(&decision, Some(&w.c_admin), &json!({"approve": true}))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // Narrowing to a field not asked for.
    let r = app
        .post(
            &decision,
            Some(&w.p_admin),
            &json!({"approve": true, "fields": ["name", "relation_to_head"]}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "fields[1]"
    );
    // A bad rate limit or expiry.
    let r = app
        .post(
            &decision,
            Some(&w.p_admin),
            &json!({"approve": true, "rate_limit_per_minute": 0}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "rate_limit_per_minute"
    );
    let r = app
        .post(
            &decision,
            Some(&w.p_admin),
            &json!({"approve": true, "expires_at": crate::helpers::in_days(-1)}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "expires_at"
    );
    // Still pending after all that.
    let still = ok_json(app.get(&format!("{REQUESTS}/{id}"), Some(&w.c_admin)).await).await;
    assert_eq!(still["status"], "pending");

    // P approves, narrowing to two fields, 60 calls a minute.
    let approved = ok_json(
        app.post(
            &decision,
            Some(&w.p_admin),
            &json!({"approve": true, "fields": ["name", "household_number"], "rate_limit_per_minute": 60}),
        )
        .await,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    assert!(approved["decided_at"].is_string());
    let agreement_id = approved["agreement_id"].as_str().unwrap().to_string();
    let agreement_url = format!("/api/v1/exchange/agreements/{agreement_id}");
    for token in [&w.p_admin, &w.c_admin, &w.admin] {
        let a = ok_json(app.get(&agreement_url, Some(token)).await).await;
        assert_eq!(a["fields"], json!(["name", "household_number"]));
        assert_eq!(a["rate_limit_per_minute"], 60);
        assert_eq!(a["statutory"], true);
        assert_eq!(a["request_id"], id.as_str());
        assert_eq!(a["provider_org_id"], w.p.as_str());
        assert_eq!(a["consumer_org_id"], w.c.as_str());
        assert!(a["revoked_at"].is_null());
    }
    for token in [&w.p_admin, &w.c_admin] {
        let list = ok_json(app.get("/api/v1/exchange/agreements", Some(token)).await).await;
        assert_eq!(ids(list), [agreement_id.as_str()]);
    }

    // Deciding again.
    let r = app
        .post(&decision, Some(&w.p_admin), &json!({"approve": true}))
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .post(
            &decision,
            Some(&w.p_admin),
            &json!({"approve": false, "reason": "改主意了"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // Only the provider revokes.
    let revoke = format!("{agreement_url}/revoke");
    let r = app.post(&revoke, Some(&w.c_admin), &json!({})).await;
    problem(r, StatusCode::FORBIDDEN).await;
    let revoked = ok_json(app.post(&revoke, Some(&w.p_admin), &json!({})).await).await;
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    let r = app.post(&revoke, Some(&w.p_admin), &json!({})).await;
    problem(r, StatusCode::CONFLICT).await;
    let a = ok_json(app.get(&agreement_url, Some(&w.c_admin)).await).await;
    assert!(a["revoked_at"].is_string());

    // Rejection needs a reason.
    let req = file(&w, "household-registration", &["name"]).await;
    let decision = format!("{REQUESTS}/{}/decision", req["id"].as_str().unwrap());
    for body in [
        json!({"approve": false}),
        json!({"approve": false, "reason": "  "}),
    ] {
        let r = app.post(&decision, Some(&w.p_admin), &body).await;
        assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "reason");
    }
    let rejected = ok_json(
        app.post(
            &decision,
            Some(&w.p_admin),
            &json!({"approve": false, "reason": "请说明每个字段的用途"}),
        )
        .await,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision_reason"], "请说明每个字段的用途");
    assert!(rejected["agreement_id"].is_null());
    let again = ok_json(
        app.get(
            &format!("{REQUESTS}/{}", req["id"].as_str().unwrap()),
            Some(&w.c_admin),
        )
        .await,
    )
    .await;
    assert_eq!(again["status"], "rejected");
    assert_eq!(again["decision_reason"], "请说明每个字段的用途");
    let r = app
        .post(&decision, Some(&w.p_admin), &json!({"approve": true}))
        .await;
    problem(r, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn unconditional_is_automatic_and_not_shared_is_refused() {
    let w = world().await;
    let app = &w.app;
    publish(&w, &resource("business-registration", "unconditional")).await;
    let mut secret = resource("criminal-records", "not_shared");
    secret["legal_reason"] = json!("《刑事诉讼法》第二百八十六条：犯罪记录封存");
    publish(&w, &secret).await;

    let req = file(&w, "business-registration", &["name", "relation_to_head"]).await;
    assert_eq!(req["status"], "approved");
    let agreement_id = req["agreement_id"].as_str().unwrap();
    let a = ok_json(
        app.get(
            &format!("/api/v1/exchange/agreements/{agreement_id}"),
            Some(&w.c_admin),
        )
        .await,
    )
    .await;
    assert_eq!(a["fields"], json!(["name", "relation_to_head"]));
    assert_eq!(a["rate_limit_per_minute"], 600);
    assert!(a["revoked_at"].is_null());
    let r = app
        .post(
            &format!("{REQUESTS}/{}/decision", req["id"].as_str().unwrap()),
            Some(&w.p_admin),
            &json!({"approve": true}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    let r = app
        .post(
            REQUESTS,
            Some(&w.c_admin),
            &request_body("criminal-records", &["name"]),
        )
        .await;
    let p = problem(r, StatusCode::CONFLICT).await;
    assert!(
        p["detail"].as_str().unwrap().contains("犯罪记录封存"),
        "{p}"
    );
    // Nothing was filed for it.
    let outgoing = ok_json(
        app.get(&format!("{REQUESTS}?direction=outgoing"), Some(&w.c_admin))
            .await,
    )
    .await;
    assert_eq!(outgoing.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unrelated_organisations_see_nothing() {
    let w = world().await;
    let app = &w.app;
    publish(&w, &resource("household-registration", "conditional")).await;
    let req = file(&w, "household-registration", &["name"]).await;
    let id = req["id"].as_str().unwrap();
    let approved = ok_json(
        app.post(
            &format!("{REQUESTS}/{id}/decision"),
            Some(&w.p_admin),
            &json!({"approve": true}),
        )
        .await,
    )
    .await;
    let agreement = approved["agreement_id"].as_str().unwrap();

    problem(
        app.get(&format!("{REQUESTS}/{id}"), Some(&w.x_admin)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(
            &format!("/api/v1/exchange/agreements/{agreement}"),
            Some(&w.x_admin),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Revoking or deciding someone else's is not possible either.
    let r = app
        .post(
            &format!("/api/v1/exchange/agreements/{agreement}/revoke"),
            Some(&w.x_admin),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    let r = app
        .post(
            &format!("{REQUESTS}/{id}/decision"),
            Some(&w.x_admin),
            &json!({"approve": false, "reason": "x"}),
        )
        .await;
    assert!(matches!(
        r.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    // Nor listing another organisation's requests or agreements.
    for path in [
        format!("{REQUESTS}?organisation_id={}", w.p),
        format!("/api/v1/exchange/agreements?organisation_id={}", w.c),
    ] {
        problem(
            app.get(&path, Some(&w.x_admin)).await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    // Its own lists are empty.
    for path in [
        format!("{REQUESTS}?direction=incoming"),
        format!("{REQUESTS}?direction=outgoing"),
        "/api/v1/exchange/agreements".to_string(),
    ] {
        let list = ok_json(app.get(&path, Some(&w.x_admin)).await).await;
        assert!(list.as_array().unwrap().is_empty(), "{path}: {list}");
    }
    // Anonymous callers are not let in.
    problem(app.get(REQUESTS, None).await, StatusCode::UNAUTHORIZED).await;
    problem(
        app.get(&format!("{REQUESTS}/{id}"), None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn exchange_actions_are_audited() {
    let w = world().await;
    let app = &w.app;
    publish(&w, &resource("household-registration", "conditional")).await;
    let req = file(&w, "household-registration", &["name"]).await;
    let id = req["id"].as_str().unwrap();
    ok_json(
        app.post(
            &format!("{REQUESTS}/{id}/decision"),
            Some(&w.p_admin),
            &json!({"approve": true}),
        )
        .await,
    )
    .await;

    let records = app
        .all_pages("/api/v1/audit/records?limit=200", &w.admin)
        .await;
    for action in ["resource.publish", "request.file", "request.approve"] {
        assert!(
            records.iter().any(|r| r["action"] == action),
            "no {action} in the audit log"
        );
    }
    let (code, stdout, stderr) = app.cli(&["audit", "verify"]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[tokio::test]
async fn catalogue_pages() {
    let w = world().await;
    let app = &w.app;
    publish(&w, &resource("household-registration", "conditional")).await;

    let r = app.get("/exchange", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<main"));
    assert!(html.contains("<h1"));
    assert!(html.contains("户籍登记信息"));
    assert!(html.contains("/exchange/resources/household-registration"));

    let r = app.get("/exchange?q=nothing-like-this", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.text().await.unwrap().contains("户籍登记信息"));

    let r = app
        .get("/exchange/resources/household-registration", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("<main") && html.contains("<h1"));
    for text in ["household_number", "与户主关系", "ethnicity", "民族"] {
        assert!(html.contains(text), "{text} missing");
    }
    let r = app.get("/exchange/resources/no-such-thing", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn demo_has_a_populated_exchange() {
    let app = TestApp::spawn_demo().await;
    let admin = app.login("demo-admin", civitas::demo::DEMO_PASSWORD).await;
    let resources = app
        .all_pages("/api/v1/exchange/resources?limit=100", &admin)
        .await;
    assert!(resources.len() >= 8, "{} resources", resources.len());
    let shared = resources
        .iter()
        .filter(|r| r["sharing_class"] != "not_shared")
        .count();
    assert!(shared >= 8, "{shared} shared resources");
    let providers: std::collections::HashSet<&str> = resources
        .iter()
        .map(|r| r["provider_org_id"].as_str().unwrap())
        .collect();
    assert!(providers.len() >= 5, "{} providers", providers.len());

    // The civil affairs bureau's officer sees both directions.
    let officer = app
        .login("demo-orgadmin", civitas::demo::DEMO_PASSWORD)
        .await;
    let mut statuses = std::collections::HashSet::new();
    for direction in ["incoming", "outgoing"] {
        let list = ok_json(
            app.get(&format!("{REQUESTS}?direction={direction}"), Some(&officer))
                .await,
        )
        .await;
        let list = list.as_array().unwrap();
        assert!(!list.is_empty(), "no {direction} requests");
        statuses.extend(
            list.iter()
                .map(|r| r["status"].as_str().unwrap().to_string()),
        );
    }
    // And the platform admin sees every provider's incoming requests.
    for provider in &providers {
        let list = ok_json(
            app.get(
                &format!("{REQUESTS}?direction=incoming&organisation_id={provider}"),
                Some(&admin),
            )
            .await,
        )
        .await;
        statuses.extend(
            list.as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].as_str().unwrap().to_string()),
        );
    }
    for status in ["approved", "pending", "rejected"] {
        assert!(
            statuses.contains(status),
            "no {status} request: {statuses:?}"
        );
    }
}

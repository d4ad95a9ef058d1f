//! Care orders end to end on the demo city: the care centre's catalogue; the demo elder
//! (82) orders, and each order takes what is left of the eight subsidised hours the rules
//! give her this month (居家养老服务补贴, a published policy), no more, even two at once; a
//! cancelled order gives its hours back; the care centre sees her name masked in its queue
//! and her phone and address on the order (in her footprint), accepts with a time, completes;
//! she is told at each step, rates it once; the month's subsidies are reported by provider
//! and by community, each reader seeing what is theirs; bad input is named.

use kernel::time::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const PASSWORD: &str = "civitas-demo";

struct Demo {
    app: TestApp,
    elder: String,
    elder_id: String,
    carer: String,
    admin: String,
    services: Vec<Value>,
}

async fn demo() -> Demo {
    let app = TestApp::spawn_demo().await;
    let elder = app.login("demo-elder", PASSWORD).await;
    let carer = app.login("demo-carer", PASSWORD).await;
    let admin = app.login("demo-admin", PASSWORD).await;
    let mine: Value = app
        .get("/api/v1/care/elders", Some(&elder))
        .await
        .json()
        .await
        .unwrap();
    let me = &mine.as_array().unwrap()[0];
    assert_eq!(me["name"], "李秀英");
    let elder_id = me["person_id"].as_str().unwrap().to_string();
    let region = me["region_code"].as_str().unwrap();
    let services: Value = app
        .get(
            &format!("/api/v1/care/services?region={region}"),
            Some(&elder),
        )
        .await
        .json()
        .await
        .unwrap();
    Demo {
        app,
        elder,
        elder_id,
        carer,
        admin,
        services: services.as_array().unwrap().clone(),
    }
}

impl Demo {
    fn service(&self, kind: &str) -> String {
        self.services
            .iter()
            .find(|s| s["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {:?}", self.services))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn order(&self, token: &str, kind: &str, quantity: i64) -> reqwest::Response {
        let wanted = Timestamp::now().plus_minutes(120).rfc3339();
        self.app
            .post(
                "/api/v1/care/orders",
                Some(token),
                &json!({"elder_id": self.elder_id, "service_id": self.service(kind),
                        "quantity": quantity, "wanted_at": wanted, "note": "门铃坏了，请打电话"}),
            )
            .await
    }

    async fn balance(&self, month: &str) -> Value {
        let r = self
            .app
            .get(
                &format!(
                    "/api/v1/care/elders/{}/subsidy?month={month}",
                    self.elder_id
                ),
                Some(&self.elder),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

async fn json_ok(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn orders_take_her_subsidised_hours_and_run_from_order_to_rating() {
    let d = demo().await;
    let app = &d.app;
    // The catalogue: five services where she lives, the demo's cleaning rated.
    assert_eq!(d.services.len(), 5, "{:?}", d.services);
    let cleaning = d.services.iter().find(|s| s["kind"] == "cleaning").unwrap();
    assert_eq!(cleaning["price_fen"], 8000);
    assert_eq!(cleaning["minutes"], 120);
    assert_eq!(cleaning["rating"], 5.0);

    // Her demo cleaning took two of her eight hours this month.
    let bathing = json_ok(d.order(&d.elder, "bathing", 2).await, StatusCode::CREATED).await;
    let month = bathing["subsidy"]["month"].as_str().unwrap().to_string();
    assert_eq!(bathing["subsidy"]["policy_code"], "home-care-hours");
    assert!(
        bathing["subsidy"]["reason"]
            .as_str()
            .unwrap()
            .contains("第六条第一项"),
        "{bathing}"
    );
    // Two visits of an hour, 60 yuan each: all covered.
    assert_eq!(bathing["price_fen"], 12000);
    assert_eq!(bathing["subsidy"]["minutes"], 120);
    assert_eq!(bathing["subsidy"]["fen"], 12000);
    assert_eq!(bathing["payable_fen"], 0);
    assert_eq!(bathing["state"], "ordered");
    assert_eq!(bathing["note"], "门铃坏了，请打电话");
    let b = d.balance(&month).await;
    assert_eq!(b["entitled_minutes"], 480, "{b}");
    assert_eq!(b["remaining_minutes"], 240, "{b}");

    // Five hours with the doctor: four are left, so four fifths of 200 yuan are covered.
    let doctor = json_ok(
        d.order(&d.elder, "medical_accompaniment", 5).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(doctor["price_fen"], 20000);
    assert_eq!(doctor["subsidy"]["minutes"], 240);
    assert_eq!(doctor["subsidy"]["fen"], 16000);
    assert_eq!(doctor["payable_fen"], 4000);
    // Nothing left: a cleaning is paid in full.
    let more = json_ok(d.order(&d.elder, "cleaning", 1).await, StatusCode::CREATED).await;
    assert_eq!(more["subsidy"]["minutes"], 0);
    assert_eq!(more["payable_fen"], 8000);
    assert_eq!(d.balance(&month).await["remaining_minutes"], 0);
    // Cancelling gives the hours back.
    let id = doctor["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/care/orders/{id}/cancel"),
            Some(&d.elder),
            &json!({"reason": "女儿陪我去"}),
        )
        .await;
    assert_eq!(json_ok(r, StatusCode::OK).await["state"], "cancelled");
    assert_eq!(d.balance(&month).await["remaining_minutes"], 240);
    let r = app
        .post(
            &format!("/api/v1/care/orders/{id}/cancel"),
            Some(&d.elder),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    // Two orders at once never share the same hours: 240 minutes left, two asking 240 each.
    let (a, b) = tokio::join!(
        d.order(&d.elder, "medical_accompaniment", 4),
        d.order(&d.elder, "medical_accompaniment", 4)
    );
    let a = json_ok(a, StatusCode::CREATED).await;
    let b = json_ok(b, StatusCode::CREATED).await;
    let granted =
        a["subsidy"]["minutes"].as_i64().unwrap() + b["subsidy"]["minutes"].as_i64().unwrap();
    assert_eq!(granted, 240, "{a} {b}");

    // The care centre's queue: her name masked, no note.
    let provider = bathing["provider_id"].as_str().unwrap();
    let queue: Value = json_ok(
        app.get(
            &format!("/api/v1/care/provider/orders?organisation_id={provider}"),
            Some(&d.carer),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == bathing["id"])
        .expect("her order in the queue");
    assert_ne!(listed["elder_name"], "李秀英");
    assert!(listed["note"].is_null());
    // Opening it shows her phone and address, and the read is in her footprint.
    let bid = bathing["id"].as_str().unwrap();
    let opened = json_ok(
        app.get(&format!("/api/v1/care/orders/{bid}"), Some(&d.carer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(opened["contact"]["name"], "李秀英");
    // Why the rules gave her the hours (her age) is not the provider's to read.
    assert_eq!(opened["subsidy"]["reason"], "");
    assert_eq!(opened["note"], "门铃坏了，请打电话");
    assert!(opened["contact"]["address"].is_string(), "{opened}");
    let footprint: Value = app
        .get("/api/v1/me/footprint?limit=100", Some(&d.elder))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        footprint["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "eldercare.order.read"),
        "{footprint}"
    );
    // Someone else finds nothing.
    let citizen = app.login("demo-citizen", PASSWORD).await;
    let r = app
        .get(&format!("/api/v1/care/orders/{bid}"), Some(&citizen))
        .await;
    problem(r, StatusCode::NOT_FOUND).await;
    // Steps are the provider's: she cannot accept; it cannot be completed before accepting.
    let r = app
        .post(
            &format!("/api/v1/care/orders/{bid}/accept"),
            Some(&d.elder),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            &format!("/api/v1/care/orders/{bid}/complete"),
            Some(&d.carer),
            &json!({}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let at = Timestamp::now().plus_minutes(180).rfc3339();
    let accepted = json_ok(
        app.post(
            &format!("/api/v1/care/orders/{bid}/accept"),
            Some(&d.carer),
            &json!({"scheduled_at": at}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["state"], "accepted");
    assert!(accepted["scheduled_at"].is_string());
    let done = json_ok(
        app.post(
            &format!("/api/v1/care/orders/{bid}/complete"),
            Some(&d.carer),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["state"], "completed");
    let kinds: Vec<&str> = done["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ordered", "accepted", "completed"]);
    // She was told at each step.
    let inbox: Vec<Value> = app.all_pages("/api/v1/me/inbox", &d.elder).await;
    let bodies: Vec<String> = inbox
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("上门助浴"))
        .map(|m| m["body"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(bodies.iter().any(|b| b.contains("已接单")), "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.contains("服务已完成")),
        "{bodies:?}"
    );
    // She rates it, once; the provider cannot.
    let r = app
        .post(
            &format!("/api/v1/care/orders/{bid}/rating"),
            Some(&d.carer),
            &json!({"stars": 5}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .post(
            &format!("/api/v1/care/orders/{bid}/rating"),
            Some(&d.elder),
            &json!({"stars": 6}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "stars");
    let rated = json_ok(
        app.post(
            &format!("/api/v1/care/orders/{bid}/rating"),
            Some(&d.elder),
            &json!({"stars": 4, "comment": "水温合适"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rated["rating"], 4);
    // Done, the order no longer tells the provider how to reach her.
    let after = json_ok(
        app.get(&format!("/api/v1/care/orders/{bid}"), Some(&d.carer))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(after["contact"].is_null(), "{after}");
    assert!(after["note"].is_null(), "{after}");
    let r = app
        .post(
            &format!("/api/v1/care/orders/{bid}/rating"),
            Some(&d.elder),
            &json!({"stars": 5}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;

    // The month's report: the care centre's completed orders (the demo's cleaning and this
    // bathing), their subsidy, and the subsidy open orders hold.
    let report = json_ok(
        app.get(
            &format!("/api/v1/care/subsidies?month={month}"),
            Some(&d.admin),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let centre = report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["organisation_id"] == provider)
        .unwrap();
    assert_eq!(centre["orders"], 2, "{report}");
    assert_eq!(centre["subsidy_fen"], 8000 + 12000);
    assert_eq!(centre["payable_fen"], 0);
    assert!(centre["open_subsidy_fen"].as_i64().unwrap() > 0);
    assert_eq!(centre["rating"], 4.5);
    assert!(
        report["communities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["orders"].as_i64().unwrap() >= 2)
    );
    assert!(report["total"]["orders"].as_i64().unwrap() >= 2);
    // The centre sees its own row only; a resident none.
    let own = json_ok(
        app.get(
            &format!("/api/v1/care/subsidies?month={month}"),
            Some(&d.carer),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["providers"].as_array().unwrap().len(), 1);
    assert!(own["communities"].as_array().unwrap().is_empty());
    assert_eq!(own["total"]["orders"], own["providers"][0]["orders"]);
    assert_eq!(
        own["total"]["subsidy_fen"],
        own["providers"][0]["subsidy_fen"]
    );
    // The care rules take only a policy counted in hours.
    let mut care_rules: Value = json_ok(
        app.get("/api/v1/care/rules", Some(&d.admin)).await,
        StatusCode::OK,
    )
    .await;
    care_rules["subsidy_policy"] = json!("old-age-allowance");
    let r = app
        .send(
            Method::PUT,
            "/api/v1/care/rules",
            Some(&d.admin),
            &[],
            Some(("application/json", care_rules.to_string().into_bytes())),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "subsidy_policy"
    );
    let r = app
        .get(
            &format!("/api/v1/care/subsidies?month={month}"),
            Some(&citizen),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    let r = app
        .get("/api/v1/care/subsidies?month=2026-13", Some(&d.admin))
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "month");
}

#[tokio::test]
async fn an_elder_under_eighty_has_no_subsidy_and_bad_input_is_named() {
    let d = demo().await;
    let app = &d.app;
    // An elder of 70–79 without a severe disability: no hours, and the rules say why.
    let queue: Value = json_ok(
        app.get(
            &format!(
                "/api/v1/care/provider/orders?organisation_id={}&state=ordered,accepted,completed",
                d.services.iter().find(|s| s["kind"] == "cleaning").unwrap()["organisation_id"]
                    .as_str()
                    .unwrap()
            ),
            Some(&d.carer),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    // The demo's neighbours' orders, placed by the community, carry the rules' verdict.
    let neighbour = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["elder_id"] != d.elder_id.as_str())
        .expect("a neighbour's order in the demo");
    let nid = neighbour["id"].as_str().unwrap();
    let full = json_ok(
        app.get(&format!("/api/v1/care/orders/{nid}"), Some(&d.admin))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        !full["subsidy"]["reason"].as_str().unwrap().is_empty(),
        "{full}"
    );
    let elder_id = full["elder_id"].as_str().unwrap();
    let b = json_ok(
        app.get(
            &format!("/api/v1/care/elders/{elder_id}/subsidy"),
            Some(&d.admin),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let community: Value = json_ok(
        app.get(
            &format!(
                "/api/v1/care/community?organisation_id={}",
                full["community_id"].as_str().unwrap()
            ),
            Some(&d.admin),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let age = community
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["person_id"] == elder_id)
        .unwrap()["age"]
        .as_i64()
        .unwrap();
    if age < 80 {
        assert_eq!(b["entitled_minutes"], 0, "{b}");
        assert_eq!(full["subsidy"]["fen"], 0);
    } else {
        assert!(b["entitled_minutes"].as_i64().unwrap() >= 480, "{b}");
    }

    // Bad orders, each named.
    let wanted = Timestamp::now().plus_minutes(60).rfc3339();
    let cleaning = d.service("cleaning");
    for (body, field) in [
        (
            json!({"elder_id": d.elder_id, "service_id": cleaning, "quantity": 0, "wanted_at": wanted}),
            "quantity",
        ),
        (
            json!({"elder_id": d.elder_id, "service_id": cleaning, "quantity": 32, "wanted_at": wanted}),
            "quantity",
        ),
        (
            json!({"elder_id": d.elder_id, "service_id": cleaning, "wanted_at": "tomorrow"}),
            "wanted_at",
        ),
        (
            json!({"elder_id": d.elder_id, "service_id": cleaning, "wanted_at": "2020-01-01T09:00:00+08:00"}),
            "wanted_at",
        ),
        (
            json!({"elder_id": d.elder_id, "service_id": cleaning, "wanted_at": Timestamp::now().plus_minutes(90 * 24 * 60).rfc3339()}),
            "wanted_at",
        ),
        (
            json!({"elder_id": d.elder_id, "service_id": "nope", "wanted_at": wanted}),
            "service_id",
        ),
        (
            json!({"elder_id": d.elder_id, "service_id": cleaning, "wanted_at": wanted, "note": "长".repeat(501)}),
            "note",
        ),
    ] {
        let r = app.post("/api/v1/care/orders", Some(&d.elder), &body).await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            field,
            "{body}"
        );
    }
    let r = app
        .post(
            "/api/v1/care/orders",
            Some(&d.elder),
            &json!({"elder_id": d.elder_id, "wanted_at": wanted}),
        )
        .await;
    let p = problem(r, StatusCode::BAD_REQUEST).await;
    assert!(p["detail"].as_str().unwrap().contains("service_id"), "{p}");

    // Her son orders for her as her proxy; in his own name he may only look.
    let son = app.login("demo-relative", PASSWORD).await;
    let r = app
        .send(
            Method::POST,
            "/api/v1/care/orders",
            Some(&son),
            &[("x-act-for", &d.elder_id)],
            Some((
                "application/json",
                json!({"elder_id": d.elder_id, "service_id": cleaning, "wanted_at": wanted})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    // Offering: the provider's staff only, each problem named.
    let provider = d.services.iter().find(|s| s["kind"] == "cleaning").unwrap()["organisation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let offer = |extra: Value| {
        let mut body = json!({"organisation_id": provider, "kind": "cleaning", "name": "深度保洁",
                              "unit": "visit", "minutes": 180, "price_fen": 12000});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, field) in [
        (json!({"price_fen": -1}), "price_fen"),
        (json!({"minutes": null}), "minutes"),
        (json!({"unit": "hour", "minutes": 30}), "minutes"),
        (json!({"name": "洁"}), "name"),
        (json!({"regions": ["123"]}), "regions[0]"),
        (json!({"organisation_id": "not-an-id"}), "organisation_id"),
    ] {
        let body = offer(extra);
        let r = app
            .post("/api/v1/care/services", Some(&d.carer), &body)
            .await;
        assert_eq!(
            problem(r, StatusCode::BAD_REQUEST).await["field"],
            field,
            "{body}"
        );
    }
    let r = app
        .post("/api/v1/care/services", Some(&d.elder), &offer(json!({})))
        .await;
    problem(r, StatusCode::FORBIDDEN).await;
    // A service offered only in the rural county is not hers to order.
    let far = json_ok(
        app.post(
            "/api/v1/care/services",
            Some(&d.carer),
            &offer(json!({"regions": ["990121"]})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let r = app
        .post("/api/v1/care/services", Some(&d.carer), &offer(json!({})))
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .post(
            "/api/v1/care/orders",
            Some(&d.elder),
            &json!({"elder_id": d.elder_id, "service_id": far["id"], "wanted_at": wanted}),
        )
        .await;
    assert_eq!(
        problem(r, StatusCode::BAD_REQUEST).await["field"],
        "service_id"
    );
    // Turning down needs a reason; the provider turns down what it has not accepted rather
    // than calling it off.
    let placed = json_ok(
        d.order(&d.elder, "meal_delivery", 1).await,
        StatusCode::CREATED,
    )
    .await;
    let pid = placed["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/care/orders/{pid}/cancel"),
            Some(&d.carer),
            &json!({"reason": "没有人手"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT).await;
    let r = app
        .post(
            &format!("/api/v1/care/orders/{pid}/decline"),
            Some(&d.carer),
            &json!({}),
        )
        .await;
    assert_eq!(problem(r, StatusCode::BAD_REQUEST).await["field"], "reason");
    let declined = json_ok(
        app.post(
            &format!("/api/v1/care/orders/{pid}/decline"),
            Some(&d.carer),
            &json!({"reason": "明天厨房检修"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(declined["state"], "declined");
    // An order no provider accepted a day after its time is called off, her hours given back.
    let waiting = json_ok(d.order(&d.elder, "bathing", 1).await, StatusCode::CREATED).await;
    let wid = waiting["id"].as_str().unwrap();
    let month = waiting["subsidy"]["month"].as_str().unwrap().to_string();
    let before = d.balance(&month).await["remaining_minutes"]
        .as_i64()
        .unwrap();
    let two_days_ago = Timestamp::now().plus_minutes(-2 * 24 * 60).0;
    app.exec(&format!(
        "UPDATE eldercare_orders SET wanted_at = {two_days_ago} WHERE id = '{wid}'"
    ))
    .await;
    let expired = eldercare::orders::service::expire_stale(&app.state)
        .await
        .unwrap();
    assert!(expired >= 1);
    let gone = json_ok(
        app.get(&format!("/api/v1/care/orders/{wid}"), Some(&d.elder))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(gone["state"], "cancelled");
    assert_eq!(
        d.balance(&month).await["remaining_minutes"]
            .as_i64()
            .unwrap(),
        before + waiting["subsidy"]["minutes"].as_i64().unwrap()
    );

    // The pages: the catalogue with her hours left, an order placed from its form.
    let html = app
        .page(Method::GET, "/care/services", &d.elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("居家保洁（2 小时）"), "{html}");
    assert!(html.contains("本月您还可享受补贴服务"), "{html}");
    let day = Timestamp::now()
        .plus_minutes(2 * 24 * 60)
        .rfc3339()
        .get(0..10)
        .unwrap()
        .to_string();
    let r = app
        .page(
            Method::POST,
            &format!("/care/services/{cleaning}/order"),
            &d.elder,
            &[
                ("wanted_at", day.as_str()),
                ("time", "09:30"),
                ("quantity", "1"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let html = app
        .page(Method::GET, &location, &d.elder, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("待接单"), "{html}");
    // A form with no day comes back with the problem at its field.
    let r = app
        .page(
            Method::POST,
            &format!("/care/services/{cleaning}/order"),
            &d.elder,
            &[("wanted_at", ""), ("time", "09:30"), ("quantity", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("choose the day"));
    for path in ["/care/orders", "/care/subsidies"] {
        let r = app.page(Method::GET, path, &d.admin, &[]).await;
        assert!(
            r.status().is_success() || r.status() == StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = app.page(Method::GET, "/care/provider", &d.carer, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("待办订单"));
}

//! The OpenAPI document describes every route, and metrics are exported.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

/// Every JSON route the routers define, with its methods.
const ROUTES: [(&str, &[&str]); 176] = [
    ("/api/v1/auth/login", &["post"]),
    ("/api/v1/auth/logout", &["post"]),
    ("/api/v1/me", &["get"]),
    ("/api/v1/regions", &["get", "post"]),
    ("/api/v1/regions/{code}", &["get"]),
    ("/api/v1/organisations", &["get", "post"]),
    ("/api/v1/organisations/{id}", &["get"]),
    ("/api/v1/organisations/{id}/staff", &["get"]),
    ("/api/v1/persons", &["get", "post"]),
    ("/api/v1/persons/{id}", &["get"]),
    ("/api/v1/accounts", &["get", "post"]),
    ("/api/v1/accounts/{id}/disable", &["post"]),
    ("/api/v1/accounts/{id}/enable", &["post"]),
    ("/api/v1/me/proxies", &["get", "post"]),
    ("/api/v1/me/proxies/{id}/revoke", &["post"]),
    ("/api/v1/me/footprint", &["get"]),
    ("/api/v1/audit/records", &["get"]),
    ("/api/v1/audit/verify", &["post"]),
    ("/api/v1/exchange/resources", &["get", "post"]),
    ("/api/v1/exchange/resources/{resource}", &["get"]),
    ("/api/v1/exchange/dcat", &["get"]),
    ("/api/v1/exchange/requests", &["get", "post"]),
    ("/api/v1/exchange/requests/{id}", &["get"]),
    ("/api/v1/exchange/requests/{id}/decision", &["post"]),
    ("/api/v1/exchange/agreements", &["get"]),
    ("/api/v1/exchange/agreements/{id}", &["get"]),
    ("/api/v1/exchange/agreements/{id}/revoke", &["post"]),
    ("/api/v1/exchange/resources/{resource}/records", &["post"]),
    ("/api/v1/exchange/{resource}/records/{subject}", &["get"]),
    ("/api/v1/exchange/{resource}/records:batch", &["post"]),
    ("/api/v1/exchange/keys", &["get"]),
    ("/api/v1/exchange/keys/rotate", &["post"]),
    ("/api/v1/exchange/traffic", &["get"]),
    ("/api/v1/me/consents", &["get", "post"]),
    ("/api/v1/me/consents/{id}/revoke", &["post"]),
    ("/api/v1/credentials/types", &["get", "post"]),
    ("/api/v1/credentials/types/{code}", &["get"]),
    ("/api/v1/credentials/types/{code}/schema", &["get"]),
    ("/api/v1/credentials", &["get", "post"]),
    ("/api/v1/credentials/{id}", &["get"]),
    ("/api/v1/credentials/{id}/status", &["post"]),
    ("/api/v1/me/credentials", &["get"]),
    ("/api/v1/credentials/verify", &["post"]),
    ("/api/v1/credentials/keys/rotate", &["post"]),
    ("/api/v1/credentials/status/{id}/{purpose}", &["get"]),
    ("/api/v1/me/credentials/{id}/shares", &["post"]),
    ("/api/v1/credentials/shared", &["get"]),
    ("/api/v1/credentials/shared/{id}", &["get"]),
    ("/api/v1/passes/types", &["get", "post"]),
    ("/api/v1/me/passes", &["get", "post"]),
    ("/api/v1/passes/scan", &["post"]),
    ("/api/v1/messages", &["get", "post"]),
    ("/api/v1/messages/{id}", &["get"]),
    ("/api/v1/messages/{id}/deliveries", &["get"]),
    ("/api/v1/me/notification-settings", &["get", "put"]),
    ("/api/v1/webhooks", &["get", "post"]),
    ("/api/v1/webhooks/{id}", &["delete"]),
    ("/api/v1/outbox", &["get"]),
    ("/api/v1/rules/packages", &["get"]),
    ("/api/v1/rules/packages/{name}", &["get"]),
    ("/api/v1/rules/packages/{name}/versions", &["get", "post"]),
    ("/api/v1/rules/packages/{name}/versions/{digest}", &["get"]),
    (
        "/api/v1/rules/packages/{name}/versions/{digest}/publish",
        &["post"],
    ),
    ("/api/v1/rules/calculate", &["post"]),
    ("/api/v1/rules/trace", &["post"]),
    ("/api/v1/rules/policies", &["get", "post"]),
    ("/api/v1/rules/policies/{code}", &["get"]),
    ("/api/v1/rules/policies/{code}/run", &["post"]),
    ("/api/v1/rules/policies/{code}/decisions", &["get"]),
    ("/api/v1/rules/policies/{code}/confirm", &["post"]),
    ("/api/v1/rules/policies/{code}/review", &["post"]),
    ("/api/v1/rules/decisions/{id}/replay", &["post"]),
    ("/api/v1/me/entitlements", &["get"]),
    ("/api/v1/me/entitlements/{code}/decline", &["post"]),
    ("/api/v1/tags", &["get", "post"]),
    ("/api/v1/tags/{code}/persons", &["get", "post"]),
    ("/api/v1/me/tags", &["get"]),
    ("/api/v1/me/inbox", &["get"]),
    ("/api/v1/me/inbox/unread", &["get"]),
    ("/api/v1/me/inbox/{id}/read", &["post"]),
    ("/api/v1/me/inbox/{id}/ack", &["post"]),
    ("/api/v1/services/items", &["get", "post"]),
    ("/api/v1/services/items/{code}", &["get", "put"]),
    ("/api/v1/services/life-events", &["get", "post"]),
    ("/api/v1/services/life-events/{code}", &["get"]),
    ("/api/v1/services/calendar", &["get"]),
    ("/api/v1/services/calendar/{day}", &["put", "delete"]),
    ("/api/v1/services/statistics", &["get"]),
    ("/api/v1/applications", &["post"]),
    ("/api/v1/me/applications", &["get"]),
    ("/api/v1/applications/{id}", &["get"]),
    ("/api/v1/applications/{id}/form", &["put"]),
    ("/api/v1/applications/{id}/materials/{key}", &["put"]),
    ("/api/v1/applications/{id}/submit", &["post"]),
    ("/api/v1/applications/{id}/resubmit", &["post"]),
    ("/api/v1/applications/{id}/rating", &["post"]),
    ("/api/v1/uploads/{id}", &["get"]),
    ("/api/v1/cases", &["get"]),
    ("/api/v1/cases/{id}", &["get"]),
    ("/api/v1/cases/{id}/actions", &["post"]),
    ("/api/v1/safety/stations", &["get", "post"]),
    ("/api/v1/safety/stations/{code}", &["get"]),
    ("/api/v1/safety/stations/{code}/observations", &["get"]),
    ("/api/v1/safety/observations", &["post"]),
    ("/api/v1/safety/rejections", &["get"]),
    ("/api/v1/safety/areas", &["get", "put"]),
    ("/api/v1/safety/map.svg", &["get"]),
    ("/api/v1/safety/risk/method", &["get", "put"]),
    ("/api/v1/safety/risk/hazards", &["get", "put"]),
    ("/api/v1/safety/shelters", &["get", "post"]),
    ("/api/v1/safety/risk/assessment", &["get", "post"]),
    ("/api/v1/safety/risk/map.geojson", &["get"]),
    ("/api/v1/safety/risk/map.svg", &["get"]),
    ("/api/v1/safety/warnings/rules", &["get", "put"]),
    ("/api/v1/safety/forecasts", &["get", "post"]),
    ("/api/v1/safety/warnings", &["get"]),
    ("/api/v1/safety/warnings/changes", &["get"]),
    ("/api/v1/safety/warnings/recompute", &["post"]),
    ("/api/v1/safety/warnings/map.geojson", &["get"]),
    ("/api/v1/safety/warnings/map.svg", &["get"]),
    ("/api/v1/safety/cap", &["post"]),
    ("/api/v1/safety/cap/feed.atom", &["get"]),
    ("/api/v1/safety/cap/feed.rss", &["get"]),
    ("/api/v1/safety/alerts", &["get", "post"]),
    ("/api/v1/safety/alerts/{id}", &["get"]),
    ("/api/v1/safety/alerts/{id}/cap.xml", &["get"]),
    ("/api/v1/safety/alerts/{id}/original.xml", &["get"]),
    ("/api/v1/safety/alerts/{id}/approve", &["post"]),
    ("/api/v1/safety/alerts/{id}/answer", &["post"]),
    ("/api/v1/safety/alerts/{id}/danger-zone", &["get"]),
    (
        "/api/v1/safety/alerts/{id}/people/{person_id}",
        &["get", "post"],
    ),
    ("/api/v1/me/location", &["get", "put", "delete"]),
    ("/api/v1/safety/depots", &["get", "post"]),
    ("/api/v1/safety/depots/{code}/stock", &["put"]),
    ("/api/v1/safety/routes", &["get", "put"]),
    ("/api/v1/safety/supplies/method", &["get", "put"]),
    ("/api/v1/care/elders", &["get", "post"]),
    ("/api/v1/care/elders/{elder_id}", &["get"]),
    ("/api/v1/care/elders/{elder_id}/circle", &["get", "post"]),
    (
        "/api/v1/care/elders/{elder_id}/circle/{member_id}",
        &["put", "delete"],
    ),
    ("/api/v1/care/elders/{elder_id}/baselines", &["get", "put"]),
    ("/api/v1/care/elders/{elder_id}/devices", &["get"]),
    ("/api/v1/care/elders/{elder_id}/readings", &["get"]),
    ("/api/v1/care/elders/{elder_id}/alerts", &["get"]),
    ("/api/v1/care/elders/{elder_id}/help", &["post"]),
    ("/api/v1/care/alerts", &["get"]),
    ("/api/v1/care/alerts/{id}", &["get"]),
    ("/api/v1/care/alerts/{id}/answers", &["post"]),
    ("/api/v1/care/devices", &["post"]),
    ("/api/v1/care/devices/{id}", &["get"]),
    ("/api/v1/care/devices/{id}/binding", &["put", "delete"]),
    ("/api/v1/care/readings", &["post"]),
    ("/api/v1/care/rules", &["get", "put"]),
    ("/api/v1/care/rejections", &["get"]),
    ("/api/v1/care/community", &["get"]),
    ("/api/v1/care/elders/{elder_id}/visits", &["get", "post"]),
    ("/api/v1/care/services", &["get", "post"]),
    ("/api/v1/care/services/{service_id}", &["get", "put"]),
    ("/api/v1/care/orders", &["post"]),
    ("/api/v1/care/orders/{order_id}", &["get"]),
    ("/api/v1/care/orders/{order_id}/accept", &["post"]),
    ("/api/v1/care/orders/{order_id}/schedule", &["post"]),
    ("/api/v1/care/orders/{order_id}/decline", &["post"]),
    ("/api/v1/care/orders/{order_id}/complete", &["post"]),
    ("/api/v1/care/orders/{order_id}/cancel", &["post"]),
    ("/api/v1/care/orders/{order_id}/rating", &["post"]),
    ("/api/v1/care/elders/{elder_id}/orders", &["get"]),
    ("/api/v1/care/elders/{elder_id}/subsidy", &["get"]),
    ("/api/v1/care/provider/orders", &["get"]),
    ("/api/v1/care/subsidies", &["get"]),
    ("/api/v1/safety/supplies/plans", &["get", "post"]),
    ("/api/v1/safety/supplies/plans/{id}", &["get"]),
    ("/api/v1/safety/supplies/plans/{id}/dispatch", &["post"]),
    ("/api/v1/safety/alerts/{id}/issue", &["post"]),
    ("/api/v1/safety/alerts/{id}/update", &["post"]),
    ("/api/v1/safety/alerts/{id}/cancel", &["post"]),
];

/// Operations anyone may call, without a bearer token.
const PUBLIC: [(&str, &str); 49] = [
    ("/api/v1/safety/supplies/method", "get"),
    ("/api/v1/care/rules", "get"),
    ("/api/v1/auth/login", "post"),
    ("/api/v1/exchange/resources", "get"),
    ("/api/v1/exchange/resources/{resource}", "get"),
    ("/api/v1/exchange/dcat", "get"),
    ("/api/v1/exchange/keys", "get"),
    ("/api/v1/credentials/types", "get"),
    ("/api/v1/credentials/types/{code}", "get"),
    ("/api/v1/credentials/types/{code}/schema", "get"),
    ("/api/v1/credentials/verify", "post"),
    ("/api/v1/credentials/status/{id}/{purpose}", "get"),
    ("/api/v1/passes/types", "get"),
    ("/api/v1/services/items", "get"),
    ("/api/v1/services/items/{code}", "get"),
    ("/api/v1/services/life-events", "get"),
    ("/api/v1/services/life-events/{code}", "get"),
    ("/api/v1/services/calendar", "get"),
    ("/api/v1/services/statistics", "get"),
    ("/api/v1/rules/packages", "get"),
    ("/api/v1/rules/packages/{name}", "get"),
    ("/api/v1/rules/packages/{name}/versions", "get"),
    ("/api/v1/rules/packages/{name}/versions/{digest}", "get"),
    ("/api/v1/rules/calculate", "post"),
    ("/api/v1/rules/trace", "post"),
    ("/api/v1/rules/policies", "get"),
    ("/api/v1/rules/policies/{code}", "get"),
    ("/api/v1/safety/stations", "get"),
    ("/api/v1/safety/stations/{code}", "get"),
    ("/api/v1/safety/stations/{code}/observations", "get"),
    ("/api/v1/safety/areas", "get"),
    ("/api/v1/safety/map.svg", "get"),
    ("/api/v1/safety/risk/method", "get"),
    ("/api/v1/safety/risk/hazards", "get"),
    ("/api/v1/safety/shelters", "get"),
    ("/api/v1/safety/risk/map.geojson", "get"),
    ("/api/v1/safety/risk/map.svg", "get"),
    ("/api/v1/safety/warnings/rules", "get"),
    ("/api/v1/safety/forecasts", "get"),
    ("/api/v1/safety/warnings", "get"),
    ("/api/v1/safety/warnings/changes", "get"),
    ("/api/v1/safety/warnings/map.geojson", "get"),
    ("/api/v1/safety/warnings/map.svg", "get"),
    ("/api/v1/safety/cap/feed.atom", "get"),
    ("/api/v1/safety/cap/feed.rss", "get"),
    ("/api/v1/safety/alerts", "get"),
    ("/api/v1/safety/alerts/{id}", "get"),
    ("/api/v1/safety/alerts/{id}/cap.xml", "get"),
    ("/api/v1/safety/alerts/{id}/original.xml", "get"),
];

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Civitas API");

    let paths = doc["paths"].as_object().unwrap();
    let documented: BTreeSet<&str> = paths
        .keys()
        .map(String::as_str)
        .filter(|p| p.starts_with("/api/v1"))
        .collect();
    let expected: BTreeSet<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    assert_eq!(documented, expected);
    for (path, methods) in ROUTES {
        let item = paths[path].as_object().unwrap();
        for method in methods {
            let op = &item[*method];
            assert!(op.is_object(), "{method} {path} is not documented");
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            if !PUBLIC.contains(&(path, *method)) {
                assert_eq!(
                    op["security"][0]["bearer"],
                    serde_json::json!([]),
                    "{method} {path} has no bearer security"
                );
            }
        }
    }
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    // Every documented operation is served (none falls through to 404 or 405).
    let id = uuid::Uuid::now_v7().to_string();
    for (path, methods) in ROUTES {
        let concrete = path
            .replace("{id}", &id)
            .replace("{code}", "990100")
            .replace("{resource}", "no-such-resource")
            .replace("{purpose}", "revocation");
        for method in methods {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method == Method::POST).then(|| ("application/json", b"{}".to_vec()));
            let r = app.send(method.clone(), &concrete, None, &[], body).await;
            if PUBLIC.contains(&(path, method.as_str().to_lowercase().as_str()))
                && method == Method::GET
            {
                // Public reads answer anyone: a list, or the handler's own 404 problem (not
                // the router's "nothing at").
                let status = r.status();
                let text = r.text().await.unwrap();
                assert!(
                    status == StatusCode::OK
                        || (status == StatusCode::NOT_FOUND
                            && text.contains("urn:civitas:problem:not_found")
                            && !text.contains("nothing at")),
                    "{method} {concrete}: {status} {text}"
                );
                continue;
            }
            if path == "/api/v1/credentials/verify" {
                // Anyone may verify; `{}` is answered with a report that it is no credential.
                assert_eq!(r.status(), StatusCode::OK);
                let report: Value = r.json().await.unwrap();
                assert_eq!(report["verified"], false);
                continue;
            }
            assert!(
                r.status() != StatusCode::NOT_FOUND && r.status() != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {concrete}: {}",
                r.status()
            );
            assert!(
                r.status().is_client_error(),
                "{method} {concrete}: {}",
                r.status()
            );
        }
    }
}

#[tokio::test]
async fn metrics_count_requests() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(text.contains("http_request_duration_seconds"), "{text}");
}

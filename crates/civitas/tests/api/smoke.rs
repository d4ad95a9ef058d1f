use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_login() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
    let admin = app.admin().await;
    let me = app.get("/api/v1/me", Some(&admin)).await;
    assert_eq!(me.status(), StatusCode::OK);
}

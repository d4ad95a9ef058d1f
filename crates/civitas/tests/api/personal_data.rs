//! Personal data is sealed at rest: the resident ID, phone and address never reach the
//! store in plain text, and lists show them masked.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, rid};

const PHONE: &str = "13987654321";
const ADDRESS: &str = "示例市东湖区湖滨街道幸福社区 8 栋 3 单元 502";
const NAME: &str = "欧阳明月";

/// Registers the person with known personal data and reads her once; returns her resident ID.
async fn register(app: &TestApp, admin: &str) -> String {
    let resident_id = rid(42);
    let r = app
        .post("/api/v1/persons", Some(admin), &json!({
            "resident_id": resident_id, "name": NAME, "phone": PHONE, "region": "990102001001", "address": ADDRESS
        }))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Reading it back decrypts it (so what is stored is the sealed value, not garbage).
    let full: Value = app
        .get(&format!("/api/v1/persons/{id}?purpose=check"), Some(admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(full["resident_id"], resident_id.as_str());
    assert_eq!(full["phone"], PHONE);
    assert_eq!(full["address"], ADDRESS);
    resident_id
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn personal_data_is_not_stored_in_plain_text() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let resident_id = register(&app, &admin).await;
    let secrets = [resident_id.as_str(), PHONE, ADDRESS];

    if app.is_postgres() {
        // Every row of every table of the schema, as text.
        let tables: Vec<String> = app.pg_query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()").await;
        assert!(tables.iter().any(|t| t == "persons"), "{tables:?}");
        let mut persons_seen = false;
        for table in tables {
            let rows = app
                .pg_query(&format!("SELECT t::text FROM {table} t"))
                .await;
            if table == "persons" {
                assert_eq!(rows.len(), 1);
                // The scan sees the data: the name is stored as is.
                assert!(rows[0].contains(NAME), "{rows:?}");
                persons_seen = true;
            }
            for row in rows {
                for secret in secrets {
                    assert!(
                        !row.contains(secret),
                        "{secret} in plain text in {table}: {row}"
                    );
                }
            }
        }
        assert!(persons_seen);
    } else {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&app.config.data_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push(path);
            }
        }
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().any(|n| n == "civitas.db"), "{names:?}");
        assert!(names.iter().any(|n| n == "civitas.db-wal"), "{names:?}");
        let mut name_seen = false;
        for path in &files {
            let bytes = std::fs::read(path).unwrap();
            name_seen |= contains(&bytes, NAME.as_bytes());
            for secret in secrets {
                assert!(
                    !contains(&bytes, secret.as_bytes()),
                    "{secret} in plain text in {}",
                    path.display()
                );
            }
        }
        // The scan sees the data: the name is stored as is.
        assert!(name_seen, "the scan found not even the name in {names:?}");
    }
}

#[tokio::test]
async fn lists_show_masked_values_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.regions(&admin).await;
    let resident_id = register(&app, &admin).await;
    for seq in 1..=3 {
        app.person(&admin, seq, &format!("居民{seq}")).await;
    }
    let r = app.get("/api/v1/persons", Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains(&resident_id), "{text}");
    assert!(!text.contains(PHONE), "{text}");
    assert!(!text.contains("13912345678"), "{text}");
    assert!(!text.contains(ADDRESS), "{text}");
    let page: Value = serde_json::from_str(&text).unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for item in items {
        let masked = item["resident_id_masked"].as_str().unwrap();
        assert!(masked.starts_with("9901**********"), "{masked}");
        assert_eq!(masked.chars().count(), 18);
        assert_eq!(masked.matches('*').count(), 10);
        assert!(item.get("resident_id").is_none(), "{item}");
        // The full birth date plus the visible digits would rebuild the ID: year only.
        assert!(item.get("birth_date").is_none(), "{item}");
        assert!(item["birth_year"].is_i64(), "{item}");
        assert!(
            item.get("phone").is_none() && item.get("address").is_none(),
            "{item}"
        );
        assert_eq!(
            item["phone_masked"].as_str().unwrap().matches('*').count(),
            4
        );
    }
    let mine = items.iter().find(|i| i["name"] == NAME).unwrap();
    assert_eq!(
        mine["resident_id_masked"],
        format!("9901**********{}", &resident_id[14..])
    );
    assert_eq!(mine["phone_masked"], "139****4321");

    // The creation response and /me are masked too.
    let r = app
        .post("/api/v1/persons", Some(&admin), &json!({"resident_id": rid(77), "name": "新人", "phone": PHONE, "region": "990102001001"}))
        .await;
    let created = r.text().await.unwrap();
    assert!(
        !created.contains(&rid(77)) && !created.contains(PHONE),
        "{created}"
    );
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = app
        .account("newcomer", kernel::auth::Role::Citizen, None, Some(&id))
        .await;
    let me = app
        .get("/api/v1/me", Some(&token))
        .await
        .text()
        .await
        .unwrap();
    assert!(!me.contains(&rid(77)) && !me.contains(PHONE), "{me}");
    assert!(me.contains("9901**********"), "{me}");
}

impl TestApp {
    /// Runs a query on PostgreSQL returning one text column.
    async fn pg_query(&self, sql: &str) -> Vec<String> {
        match self.state.db.read() {
            kernel::db::Pool::Postgres(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                    .fetch_all(pool)
                    .await
                    .unwrap()
            }
            kernel::db::Pool::Sqlite(_) => panic!("PostgreSQL only"),
        }
    }
}

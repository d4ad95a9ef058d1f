//! Starts the real application for a test: a fresh SQLite folder, or a fresh PostgreSQL
//! schema when `CIVITAS_TEST_DATABASE_URL` names a server; then speaks HTTP to it.

use std::sync::Arc;

use civitas::app::Application;
use civitas::bench::with_search_path;
use kernel::AppState;
use kernel::auth::Role;
use kernel::config::Config;
use kernel::crypto::Vault;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub state: AppState,
    pub config: Config,
    /// Kept alive for the test's duration.
    pub _dir: Arc<tempfile::TempDir>,
    pub pg_schema: Option<String>,
}

/// The PostgreSQL server to test against, if any.
pub fn pg_url() -> Option<String> {
    std::env::var("CIVITAS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

impl TestApp {
    /// Starts an empty application (no demo data).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(false).await
    }

    /// Starts the application seeded with the demo city.
    pub async fn spawn_demo() -> TestApp {
        Self::spawn_with(true).await
    }

    async fn spawn_with(demo: bool) -> TestApp {
        Self::spawn_configured(demo, |_| {}).await
    }

    /// Starts the application with settings changed by `configure`.
    pub async fn spawn_configured(demo: bool, configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            bind: "127.0.0.1:0".parse().unwrap(),
            encryption_key: Some(Vault::generate_key_hex()),
            max_connections: 4,
            // Tests that count a run's proposals must not race the follower; the test of
            // following turns it on.
            rules_follow_seconds: 0,
            ..Config::default()
        };
        configure(&mut config);
        let mut pg_schema = None;
        if let Some(url) = pg_url() {
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let admin = sqlx::PgPool::connect(&url)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await
                .expect("create schema");
            admin.close().await;
            config.database_url = Some(with_search_path(&url, &schema));
            pg_schema = Some(schema);
        }
        let app = Application::build(config.clone(), demo)
            .await
            .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            address,
            client,
            state,
            config,
            _dir: Arc::new(dir),
            pg_schema,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Creates an account directly through the service (as the CLI does) and logs in.
    pub async fn account(
        &self,
        username: &str,
        role: Role,
        org: Option<&str>,
        person: Option<&str>,
    ) -> String {
        let new = identity::model::NewAccount {
            username: identity::model::Username::parse(username).unwrap(),
            password: "correct horse battery".into(),
            role,
            organisation_id: org.map(str::to_string),
            person_id: person.map(str::to_string),
            display_name: None,
        };
        identity::service::create_account(&self.state, None, new)
            .await
            .unwrap();
        self.login(username, "correct horse battery").await
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "login of {username} failed");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// A platform admin's token.
    pub async fn admin(&self) -> String {
        self.account("admin", Role::PlatformAdmin, None, None).await
    }

    /// Creates province 990000, city 990100, district 990102, township 990102001 and
    /// community 990102001001.
    pub async fn regions(&self, admin: &str) {
        for (code, name) in [
            ("990000", "示例省"),
            ("990100", "示例市"),
            ("990102", "东湖区"),
            ("990102001", "湖滨街道"),
            ("990102001001", "幸福社区"),
        ] {
            let r = self
                .post(
                    "/api/v1/regions",
                    Some(admin),
                    &json!({"code": code, "name": name, "urban": true}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::CREATED, "region {code}");
        }
    }

    /// Registers an organisation of `kind` and returns its id.
    pub async fn organisation(&self, admin: &str, index: usize, name: &str) -> String {
        let body = format!("11990100MB{index:07}");
        let check = identity::model::CreditCode::check_char(&body).unwrap();
        let r = self
            .post("/api/v1/organisations", Some(admin), &json!({
                "credit_code": format!("{body}{check}"), "name": name, "kind": "government_department",
                "level": "city", "region": "990100"
            }))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Registers a person and returns (id, resident id).
    pub async fn person(&self, admin: &str, seq: u16, name: &str) -> (String, String) {
        let rid = rid(seq);
        let r = self
            .post("/api/v1/persons", Some(admin), &json!({
                "resident_id": rid, "name": name, "phone": "13912345678", "region": "990102001001",
                "address": "幸福社区 1 号"
            }))
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
        (id, rid)
    }

    /// Runs a statement directly on the store (to simulate tampering).
    pub async fn exec(&self, sql: &str) {
        kernel::on_pool!(self.state.db.write(), |c| sqlx::raw_sql(
            sqlx::AssertSqlSafe(sql.to_string())
        )
        .execute(c)
        .await
        .map(|_| ()))
        .unwrap();
    }
}

impl TestApp {
    /// Whether this app runs on PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.pg_schema.is_some()
    }

    /// Sends any request: `body` is (content type, bytes).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        req.send().await.unwrap()
    }

    /// A page request with a session token as the pages' cookie; a POST carries `form`
    /// with a matching CSRF token.
    pub async fn page(
        &self,
        method: Method,
        path: &str,
        token: &str,
        form: &[(&str, &str)],
    ) -> Response {
        let is_post = method == Method::POST;
        let mut req = self.client.request(method, self.url(path)).header(
            "cookie",
            format!("civitas_session={token}; civitas_csrf=test-csrf-token"),
        );
        if is_post || !form.is_empty() {
            let mut fields = form.to_vec();
            fields.push(("csrf", "test-csrf-token"));
            req = req.form(&fields);
        }
        req.send().await.unwrap()
    }

    /// GET as a proxy acting for `person` (`x-act-for`).
    pub async fn get_for(&self, path: &str, token: &str, person: &str) -> Response {
        self.send(
            Method::GET,
            path,
            Some(token),
            &[("x-act-for", person)],
            None,
        )
        .await
    }

    /// Every item of a paged list, following `next_cursor`.
    pub async fn all_pages(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_string(),
            };
            let r = self.get(&url, Some(token)).await;
            assert_eq!(r.status(), StatusCode::OK, "GET {url}");
            let page: Value = r.json().await.unwrap();
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }

    /// How many persons `GET /api/v1/persons` lists (admin token).
    pub async fn person_count(&self, admin: &str) -> usize {
        self.all_pages("/api/v1/persons?limit=200", admin)
            .await
            .len()
    }

    /// Registers a person and gives her a citizen account: (person id, resident id, token).
    pub async fn citizen(
        &self,
        admin: &str,
        seq: u16,
        name: &str,
        username: &str,
    ) -> (String, String, String) {
        let (id, rid) = self.person(admin, seq, name).await;
        let token = self.account(username, Role::Citizen, None, Some(&id)).await;
        (id, rid, token)
    }

    /// Runs a statement directly on the store and returns the store's error, if any.
    pub async fn try_exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        kernel::on_pool!(self.state.db.write(), |c| sqlx::raw_sql(
            sqlx::AssertSqlSafe(sql.to_string())
        )
        .execute(c)
        .await
        .map(|_| ()))
    }

    /// How many audit records carry an action (once those written in transactions are chained).
    pub async fn audit_count(&self, action: &str) -> i64 {
        self.state.audit.flush().await.unwrap();
        kernel::on_pool!(self.state.db.read(), |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_records WHERE action = $1"
        )
        .bind(action)
        .fetch_one(c)
        .await)
        .unwrap()
    }

    /// Audit partitions with (record count, highest seq), most records first.
    pub async fn audit_partitions(&self) -> Vec<(String, i64, i64)> {
        kernel::on_pool!(self.state.db.read(), |c| sqlx::query_as(
            "SELECT partition, COUNT(*), MAX(seq) FROM audit_records GROUP BY partition ORDER BY 2 DESC, 1"
        )
        .fetch_all(c)
        .await)
        .unwrap()
    }

    /// Runs the real `civitas` binary against this app's store: (exit code, stdout, stderr).
    pub async fn cli(&self, args: &[&str]) -> (i32, String, String) {
        self.cli_with_input(args, "").await
    }

    /// Runs the CLI on this app's store with `input` on standard input.
    pub async fn cli_with_input(&self, args: &[&str], input: &str) -> (i32, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_civitas"));
        match &self.config.database_url {
            Some(url) => command.arg("--database-url").arg(url),
            None => command.arg("--data").arg(&self.config.data_dir),
        };
        let mut output = command
            .args(args)
            // Not a configuration key: the child must not inherit the harness's variable.
            .env_remove("CIVITAS_TEST_DATABASE_URL")
            // The log filter variable an operator sets; it must not break configuration.
            .env("CIVITAS_LOG", "warn")
            // No stray civitas.toml from the working directory.
            .current_dir(self._dir.path())
            .env(
                "CIVITAS_ENCRYPTION_KEY",
                self.config.encryption_key.clone().unwrap_or_default(),
            )
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the civitas binary");
        let mut stdin = output.stdin.take().expect("stdin");
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
        drop(stdin);
        let output = output
            .wait_with_output()
            .await
            .expect("wait for the civitas binary");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A resident ID for the test district 990102 (born 1950-01-01, sequence `seq`).
pub fn rid(seq: u16) -> String {
    civitas::demo::resident_id("990102", 1950, 1, 1, seq)
        .unwrap()
        .to_string()
}

/// An RFC 3339 instant `days` from now.
pub fn in_days(days: i64) -> String {
    kernel::time::Timestamp::now()
        .plus_minutes(days * 24 * 60)
        .rfc3339()
}

/// The values of every `Set-Cookie` header, as `name=value` pairs.
pub fn set_cookies(r: &Response) -> Vec<(String, String)> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The outcome of `check` in a report of checks (a verification or a scan).
pub fn outcome(report: &Value, check: &str) -> String {
    check_field(report, check, "outcome")
}

/// What was found by `check` in a report of checks.
pub fn detail(report: &Value, check: &str) -> String {
    check_field(report, check, "detail")
}

fn check_field(report: &Value, check: &str, field: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .map(|c| c[field].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {check} check in {report}"))
}

/// Asserts a problem+json response with `status`, returning its body.
pub async fn problem(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    let ct = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ct, "application/problem+json");
    r.json().await.unwrap()
}

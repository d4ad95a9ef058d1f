//! `civitas bench audit`: audited appends per second through the group-commit audit log
//! beside raw single-row inserts of the same rows into a bare table of the same store,
//! with the same number of concurrent writers, measured in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use kernel::audit::{AuditEvent, Basis};
use kernel::config::Config;
use kernel::db::Db;
use kernel::ids::new_id;
use kernel::on_pool;
use kernel::time::Timestamp;
use serde::Serialize;

/// Figures of one audit benchmark run.
#[derive(Debug, Serialize)]
pub struct AuditFigures {
    /// Always `audit`.
    pub bench: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Concurrent writers.
    pub writers: usize,
    /// Records written in each phase.
    pub records: usize,
    /// Raw inserts per second (reference).
    pub raw_inserts_per_s: f64,
    /// Raw insert latency, median, milliseconds.
    pub raw_p50_ms: f64,
    /// Raw insert latency, 99th percentile, milliseconds.
    pub raw_p99_ms: f64,
    /// Audited appends per second.
    pub appends_per_s: f64,
    /// Audited append latency, median, milliseconds.
    pub p50_ms: f64,
    /// Audited append latency, 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// appends_per_s / raw_inserts_per_s.
    pub ratio: f64,
}

const RAW_TABLE: &str = "CREATE TABLE bench_audit_raw (
    partition TEXT NOT NULL, seq BIGINT NOT NULL, id TEXT NOT NULL, at BIGINT NOT NULL,
    actor_account_id TEXT, actor_person_id TEXT, actor_organisation_id TEXT,
    on_behalf_of_person_id TEXT, subject_person_id TEXT, action TEXT NOT NULL,
    resource TEXT NOT NULL, purpose TEXT NOT NULL, basis_kind TEXT NOT NULL, basis_ref TEXT,
    outcome TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)";

fn event(writer: usize, i: usize) -> AuditEvent {
    let mut e = AuditEvent::system(
        "person.read",
        format!("person:{} fields: name, resident_id, address", new_id()),
    )
    .subject(new_id())
    .because(
        "benchmark read",
        Basis::Agreement(format!("agreement-{}", writer % 4)),
    );
    e.actor_account_id = Some(format!("bench-account-{writer}"));
    e.actor_organisation_id = Some(format!("bench-org-{}", (writer + i) % 4));
    e
}

/// The `p` quantile of sorted latencies, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn raw_insert(db: &Db, e: &AuditEvent, seq: i64) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO bench_audit_raw (partition, seq, id, at, actor_account_id, actor_person_id,
             actor_organisation_id, on_behalf_of_person_id, subject_person_id, action, resource,
             purpose, basis_kind, basis_ref, outcome, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    )
    .bind("raw")
    .bind(seq)
    .bind(new_id())
    .bind(Timestamp::now())
    .bind(&e.actor_account_id)
    .bind(&e.actor_person_id)
    .bind(&e.actor_organisation_id)
    .bind(&e.on_behalf_of_person_id)
    .bind(&e.subject_person_id)
    .bind(&e.action)
    .bind(&e.resource)
    .bind(&e.purpose)
    .bind(e.basis.kind())
    .bind(e.basis.reference())
    .bind(e.outcome.as_str())
    .bind(trust::model::GENESIS_HASH)
    .bind(trust::model::GENESIS_HASH)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Runs `writers` tasks that each call `op` `per_writer` times; returns (elapsed, latencies).
async fn drive<F, Fut>(
    writers: usize,
    per_writer: usize,
    bar: &ProgressBar,
    op: F,
) -> anyhow::Result<(Duration, Vec<Duration>)>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let op = op.clone();
        let bar = bar.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_writer);
            for i in 0..per_writer {
                let t = Instant::now();
                op(w, i).await?;
                lat.push(t.elapsed());
                bar.inc(1);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::with_capacity(writers * per_writer);
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    Ok((elapsed, all))
}

/// Runs the audit benchmark on the store `config` names, in a scratch area (a temporary
/// folder for SQLite, a scratch schema for PostgreSQL) so real audit chains are untouched.
pub async fn audit(
    config: &Config,
    writers: usize,
    records: usize,
) -> anyhow::Result<AuditFigures> {
    let scratch = tempfile_dir()?;
    let (config, pg_schema) = scratch_config(config, &scratch).await?;
    let db = crate::app::open_db(&config).await?;
    on_pool!(db.write(), |c| sqlx::query(RAW_TABLE)
        .execute(c)
        .await
        .map(|_| ()))?;
    let per_writer = records.div_ceil(writers).max(1);
    let total = per_writer * writers;
    let style = ProgressStyle::with_template("{msg:>16} {bar:40} {pos}/{len}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());

    let bar = ProgressBar::new(total as u64)
        .with_style(style.clone())
        .with_message("raw inserts");
    let raw_db = db.clone();
    let seq = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let (raw_elapsed, raw_lat) = drive(writers, per_writer, &bar, move |w, i| {
        let db = raw_db.clone();
        let seq = seq.clone();
        async move {
            let n = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            raw_insert(&db, &event(w, i), n).await?;
            Ok(())
        }
    })
    .await?;
    bar.finish_and_clear();

    let log = trust::service::AuditLog::start(db.clone());
    let bar = ProgressBar::new(total as u64)
        .with_style(style)
        .with_message("audited appends");
    let (audit_elapsed, audit_lat) = drive(writers, per_writer, &bar, move |w, i| {
        let log = log.clone();
        async move {
            use kernel::audit::AuditSink;
            log.record(event(w, i))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        }
    })
    .await?;
    bar.finish_and_clear();

    let report = trust::service::verify(&db, |_| {}).await?;
    if let Some(b) = report.first_break {
        anyhow::bail!("the benchmark's own audit chain does not verify: {b:?}");
    }
    db.close().await;
    if let Some(schema) = pg_schema {
        drop_schema(config_url(config.database_url.as_deref()), &schema).await?;
    }
    let raw_rate = total as f64 / raw_elapsed.as_secs_f64();
    let rate = total as f64 / audit_elapsed.as_secs_f64();
    Ok(AuditFigures {
        bench: "audit",
        store: db.kind().name(),
        writers,
        records: total,
        raw_inserts_per_s: raw_rate.round(),
        raw_p50_ms: round3(percentile(&raw_lat, 0.50)),
        raw_p99_ms: round3(percentile(&raw_lat, 0.99)),
        appends_per_s: rate.round(),
        p50_ms: round3(percentile(&audit_lat, 0.50)),
        p99_ms: round3(percentile(&audit_lat, 0.99)),
        ratio: round3(rate / raw_rate),
    })
}

/// Rounds to three decimals.
/// Province 990000, city 990100, district 990102, township 990102001 and community
/// 990102001001: where a benchmark's synthetic residents and stations are.
pub(crate) async fn regions(
    state: &kernel::AppState,
    admin: &kernel::auth::Principal,
) -> anyhow::Result<()> {
    for (code, name) in [
        ("990000", "示例省"),
        ("990100", "示例市"),
        ("990102", "东湖区"),
        ("990102001", "湖滨街道"),
        ("990102001001", "幸福社区"),
    ] {
        identity::service::create_region(
            state,
            admin,
            identity::model::NewRegion {
                code: identity::model::RegionCode::parse(code).map_err(anyhow::Error::msg)?,
                name: name.into(),
                urban: true,
            },
        )
        .await?;
    }
    Ok(())
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A scratch folder for a benchmark run.
pub(crate) fn tempfile_dir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("civitas-bench-")
        .tempdir()?)
}

fn config_url(url: Option<&str>) -> &str {
    url.unwrap_or_default()
}

/// A configuration pointing at a scratch store: a temporary SQLite folder, or a fresh
/// schema on the PostgreSQL server the configuration names.
pub(crate) async fn scratch_config(
    config: &Config,
    dir: &tempfile::TempDir,
) -> anyhow::Result<(Config, Option<String>)> {
    let mut scratch = config.clone();
    match &config.database_url {
        Some(url) if url.starts_with("postgres") => {
            let schema = format!("bench_{}", new_id().replace('-', ""));
            let admin = sqlx::PgPool::connect(url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await?;
            admin.close().await;
            scratch.database_url = Some(with_search_path(url, &schema));
            Ok((scratch, Some(schema)))
        }
        _ => {
            scratch.database_url = None;
            scratch.data_dir = dir.path().to_path_buf();
            Ok((scratch, None))
        }
    }
}

/// The demo city on a scratch store, for an HTTP benchmark: its state, its address and
/// what must be dropped afterwards.
pub(crate) struct ScratchDemo {
    /// The application's state.
    pub state: kernel::AppState,
    /// Its base URL.
    pub base: String,
    /// The scratch folder (files for the load generator go here).
    pub dir: tempfile::TempDir,
    url: Option<String>,
    pg_schema: Option<String>,
}

impl ScratchDemo {
    /// Seeds the demo city in a scratch area of the store `config` names, bound to a free
    /// port; the application is returned to be run.
    pub async fn start(config: &Config) -> anyhow::Result<(crate::app::Application, ScratchDemo)> {
        Self::open(config, true).await
    }

    /// As `start`, seeding the demo city only with `demo` (a bare node serves only what
    /// `config` names, e.g. its rules packages).
    pub async fn open(
        config: &Config,
        demo: bool,
    ) -> anyhow::Result<(crate::app::Application, ScratchDemo)> {
        let dir = tempfile_dir()?;
        let (mut config, pg_schema) = scratch_config(config, &dir).await?;
        config.bind = "127.0.0.1:0".parse()?;
        config.encryption_key = Some(kernel::crypto::Vault::generate_key_hex());
        if demo {
            eprintln!("seeding the demo city in a scratch store…");
        }
        let app = crate::app::Application::build(config.clone(), demo).await?;
        let demo = ScratchDemo {
            state: app.state().clone(),
            base: format!("http://127.0.0.1:{}", app.port()),
            dir,
            url: config.database_url,
            pg_schema,
        };
        Ok((app, demo))
    }

    /// After the run: the audit chains must verify; the scratch area is dropped. Returns
    /// the store's name.
    pub async fn finish(self) -> anyhow::Result<&'static str> {
        let report = trust::service::verify(&self.state.db, |_| {}).await?;
        if let Some(b) = report.first_break {
            anyhow::bail!("the benchmark's audit chain does not verify: {b:?}");
        }
        let store = self.state.db.kind().name();
        self.state.db.close().await;
        if let Some(schema) = self.pg_schema {
            drop_schema(self.url.as_deref().unwrap_or_default(), &schema).await?;
        }
        Ok(store)
    }
}

/// A bare node on a scratch store listening over MQTT on the broker `mqtt_url` names
/// (127.0.0.1:1883 when unset) under a topic prefix of its own, with the bench's regions
/// and organisation: the application (to be run), the scratch store, the broker's URL, the
/// prefix and the organisation's id.
pub(crate) async fn mqtt_scratch(
    config: &Config,
) -> anyhow::Result<(crate::app::Application, ScratchDemo, String, String, String)> {
    let url = config
        .mqtt_url
        .clone()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let prefix = format!("civitas-bench-{}", kernel::ids::new_id());
    let mut config = config.clone();
    config.mqtt_url = Some(url.clone());
    config.mqtt_topic_prefix = prefix.clone();
    let (app, demo) = ScratchDemo::open(&config, false).await?;
    let admin = crate::demo::system_admin();
    regions(&demo.state, &admin).await?;
    let org = crate::demo::bench_organisation(&demo.state, &admin).await?;
    Ok((app, demo, url, prefix, org))
}

/// Adds `options=-c search_path=SCHEMA` to a PostgreSQL URL.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Drops a scratch schema on the PostgreSQL server of `url`.
pub(crate) async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    let base = url
        .split("options=")
        .next()
        .unwrap_or(url)
        .trim_end_matches(['?', '&']);
    let admin = sqlx::PgPool::connect(base).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await?;
    admin.close().await;
    Ok(())
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_audit(f: &AuditFigures) {
    println!(
        "civitas bench audit — store: {}, {} concurrent writers, {} records per phase",
        f.store, f.writers, f.records
    );
    println!(
        "{:<34} {:>12} {:>10} {:>10}",
        "", "per second", "p50 ms", "p99 ms"
    );
    println!(
        "{:<34} {:>12.0} {:>10.3} {:>10.3}",
        "raw inserts (bare table, reference)", f.raw_inserts_per_s, f.raw_p50_ms, f.raw_p99_ms
    );
    println!(
        "{:<34} {:>12.0} {:>10.3} {:>10.3}",
        "audited appends (hash chain)", f.appends_per_s, f.p50_ms, f.p99_ms
    );
    println!("ratio (audited / raw): {:.3}  (goal ≥ 0.5)", f.ratio);
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

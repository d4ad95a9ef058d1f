//! `civitas bench messaging`: the time to fan one notice out to N residents (default one
//! million synthetic persons) through the real send path — checks, the notice, one set-based
//! `INSERT … SELECT` into the inboxes, the audit record, one transaction — beside the raw
//! bulk insert of the same rows into a bare table with the same keys, in the same run, in a
//! scratch store (a temporary SQLite folder, or a scratch schema on PostgreSQL).

use std::time::Instant;

use kernel::auth::{Principal, Role};
use kernel::{on_pool, on_tx};
use serde::Serialize;

/// Figures of one messaging benchmark run.
#[derive(Debug, Serialize)]
pub struct MessagingFigures {
    /// Always `messaging`.
    pub bench: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Residents the notice reached.
    pub recipients: i64,
    /// Seconds to fan the notice out (the whole send).
    pub fanout_s: f64,
    /// Seconds to bulk-insert the same rows into a bare table (reference).
    pub bulk_insert_s: f64,
    /// fanout_s / bulk_insert_s.
    pub ratio: f64,
    /// The same, scaled to one million recipients.
    pub fanout_1m_s: f64,
    /// The reference, scaled to one million rows.
    pub bulk_insert_1m_s: f64,
}

const RAW_TABLE: &str = "CREATE TABLE bench_inbox_raw (
    person_id TEXT NOT NULL, message_id TEXT NOT NULL, created_at BIGINT NOT NULL,
    read_at BIGINT, acked_at BIGINT, PRIMARY KEY (person_id, message_id))";
const RAW_INDEX: &str = "CREATE INDEX bench_inbox_raw_message ON bench_inbox_raw(message_id)";

/// Synthetic residents: ids, hashes and sealed columns are placeholders (the scratch store
/// is dropped afterwards); all live in community `region`, so a notice to the city reaches
/// all; ids start with `prefix`.
pub(crate) async fn synthetic_persons(
    db: &kernel::db::Db,
    n: i64,
    region: &str,
    prefix: &str,
) -> anyhow::Result<()> {
    let columns = "id, resident_id_hash, resident_id_enc, resident_id_masked, name, birth_date, \
                   sex, region_code, created_at";
    match db.kind() {
        kernel::db::DbKind::Sqlite => {
            let sql = format!(
                "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
                 INSERT INTO persons ({columns})
                 SELECT $2 || printf('%09d', n), $2 || printf('h%09d', n), x'00', '9901**', '居民',
                        CASE WHEN n % 4 = 0 THEN '1950-01-01' ELSE '1990-01-01' END,
                        'female', $3, 0 FROM seq"
            );
            on_pool!(db.write(), |c| sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(n)
                .bind(prefix)
                .bind(region)
                .execute(c)
                .await
                .map(|_| ()))?;
        }
        kernel::db::DbKind::Postgres => {
            let sql = format!(
                "INSERT INTO persons ({columns})
                 SELECT $2 || lpad(n::text, 9, '0'), $2 || 'h' || n, '\\x00'::bytea, '9901**', '居民',
                        CASE WHEN n % 4 = 0 THEN '1950-01-01' ELSE '1990-01-01' END,
                        'female', $3, 0 FROM generate_series(1, $1::bigint) AS n"
            );
            on_pool!(db.write(), |c| sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(n)
                .bind(prefix)
                .bind(region)
                .execute(c)
                .await
                .map(|_| ()))?;
        }
    }
    Ok(())
}

/// Runs the messaging benchmark with `recipients` synthetic residents.
pub async fn messaging(
    config: &kernel::config::Config,
    recipients: i64,
) -> anyhow::Result<MessagingFigures> {
    let dir = crate::bench::tempfile_dir()?;
    let (mut config, pg_schema) = crate::bench::scratch_config(config, &dir).await?;
    config.encryption_key = Some(kernel::crypto::Vault::generate_key_hex());
    let state = crate::app::open_state(config.clone(), false).await?;
    let admin = crate::demo::system_admin();
    crate::bench::regions(&state, &admin).await?;
    let org = crate::demo::bench_organisation(&state, &admin).await?;
    eprintln!("registering {recipients} synthetic residents…");
    synthetic_persons(&state.db, recipients, "990102001001", "bench-").await?;
    on_pool!(state.db.write(), |c| sqlx::query(RAW_TABLE)
        .execute(c)
        .await
        .map(|_| ()))?;
    on_pool!(state.db.write(), |c| sqlx::query(RAW_INDEX)
        .execute(c)
        .await
        .map(|_| ()))?;

    eprintln!("bulk-inserting {recipients} rows into a bare table (reference)…");
    let started = Instant::now();
    let mut tx = state.db.begin().await?;
    // The same rows: every resident, one message id of the same length, a timestamp.
    let raw_id = kernel::ids::new_id();
    on_tx!(&mut tx, |c| sqlx::query(
        "INSERT INTO bench_inbox_raw (person_id, message_id, created_at)
         SELECT id, $1, $2 FROM persons"
    )
    .bind(&raw_id)
    .bind(kernel::time::Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))?;
    tx.commit().await?;
    let bulk = started.elapsed().as_secs_f64();

    eprintln!("fanning one notice out to the city…");
    let clerk = Principal {
        account_id: "bench-clerk".into(),
        username: "bench-clerk".into(),
        display_name: "bench".into(),
        person_id: None,
        roles: vec![kernel::auth::RoleBinding {
            role: Role::Clerk,
            organisation_id: Some(org),
        }],
        session_id: String::new(),
        acting_for: None,
    };
    let started = Instant::now();
    let sent = messaging::service::send(
        &state,
        &clerk,
        messaging::model::NewMessage {
            subject: "防汛紧急通知".into(),
            body: "今晚有强降雨，请做好防范。".into(),
            audience: messaging::model::Audience {
                region: Some("990100".into()),
                ..Default::default()
            },
            ack_required: true,
            channels: Vec::new(),
            organisation_id: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let fanout = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        sent.recipients == recipients,
        "the notice reached {} of {recipients} residents",
        sent.recipients
    );
    state
        .audit
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = state.db.kind().name();
    state.db.close().await;
    if let Some(schema) = pg_schema {
        crate::bench::drop_schema(config.database_url.as_deref().unwrap_or_default(), &schema)
            .await?;
    }
    let scale = 1_000_000.0 / recipients.max(1) as f64;
    Ok(MessagingFigures {
        bench: "messaging",
        store,
        recipients: sent.recipients,
        fanout_s: crate::bench::round3(fanout),
        bulk_insert_s: crate::bench::round3(bulk),
        ratio: crate::bench::round3(fanout / bulk.max(1e-9)),
        fanout_1m_s: crate::bench::round3(fanout * scale),
        bulk_insert_1m_s: crate::bench::round3(bulk * scale),
    })
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_messaging(f: &MessagingFigures) {
    println!(
        "civitas bench messaging — store: {}, one notice to {} residents",
        f.store, f.recipients
    );
    println!("{:<52} {:>10} {:>14}", "", "seconds", "per 1M, s");
    println!(
        "{:<52} {:>10.3} {:>14.3}",
        "bulk insert of the same rows, bare table (reference)", f.bulk_insert_s, f.bulk_insert_1m_s
    );
    println!(
        "{:<52} {:>10.3} {:>14.3}",
        "fan-out (checks, notice, inboxes, audit; one tx)", f.fanout_s, f.fanout_1m_s
    );
    println!(
        "ratio (fan-out / bulk insert): {:.3}  (goal: 1M in < 10 s)",
        f.ratio
    );
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

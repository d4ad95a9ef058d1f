//! The migrations runner. Each crate owns its tables and ships its migrations in
//! `migrations/{sqlite,postgres}/`; the runner applies every crate's list in order and
//! records them per component. Written by hand because sqlx's migrator keeps one version
//! sequence per database, while here each crate (a room) numbers its own.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::db::{Db, DbKind, Tx};
use crate::on_tx;
use crate::time::Timestamp;

/// One migration of one component, with the script for each store.
pub struct Migration {
    /// The owning crate, e.g. `identity`.
    pub component: &'static str,
    /// Increasing number within the component.
    pub version: i64,
    /// Short description.
    pub name: &'static str,
    /// Script for SQLite.
    pub sqlite: &'static str,
    /// Script for PostgreSQL.
    pub postgres: &'static str,
}

impl Migration {
    fn script(&self, kind: DbKind) -> &'static str {
        match kind {
            DbKind::Sqlite => self.sqlite,
            DbKind::Postgres => self.postgres,
        }
    }
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (component, version)
)";

/// Applies every migration not yet applied, all in one transaction; refuses to run
/// when an applied migration's script has changed since. Returns how many were applied.
pub async fn run(db: &Db, components: &[&[Migration]]) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    if let Tx::Postgres(t) = &mut tx {
        // One migrator at a time when several nodes start together.
        sqlx::query("SELECT pg_advisory_xact_lock(7243001)")
            .execute(&mut **t)
            .await
            .map(|_| ())?;
    }
    on_tx!(&mut tx, |c| sqlx::raw_sql(LEDGER)
        .execute(c)
        .await
        .map(|_| ()))?;
    let mut applied = 0;
    for migrations in components {
        for m in migrations.iter() {
            let script = m.script(db.kind());
            let checksum = hex::encode(Sha256::digest(script.as_bytes()));
            let existing: Option<String> = on_tx!(&mut tx, |c| sqlx::query_scalar(
                "SELECT checksum FROM schema_migrations WHERE component = $1 AND version = $2"
            )
            .bind(m.component)
            .bind(m.version)
            .fetch_optional(c)
            .await)?;
            match existing {
                Some(sum) if sum == checksum => continue,
                Some(_) => bail!(
                    "migration {} {} ({}) was changed after it was applied",
                    m.component,
                    m.version,
                    m.name
                ),
                None => {}
            }
            on_tx!(&mut tx, |c| sqlx::raw_sql(script)
                .execute(c)
                .await
                .map(|_| ()))
            .with_context(|| {
                format!(
                    "migration {} {} ({}) failed",
                    m.component, m.version, m.name
                )
            })?;
            on_tx!(&mut tx, |c| sqlx::query(
                "INSERT INTO schema_migrations (component, version, name, checksum, applied_at)
                 VALUES ($1, $2, $3, $4, $5)"
            )
            .bind(m.component)
            .bind(m.version)
            .bind(m.name)
            .bind(&checksum)
            .bind(Timestamp::now())
            .execute(c)
            .await
            .map(|_| ()))?;
            applied += 1;
        }
    }
    tx.commit().await?;
    Ok(applied)
}

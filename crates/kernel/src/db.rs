//! The database handle: embedded SQLite (WAL) or PostgreSQL behind one type.
//!
//! Queries are written once with `$1…$N` placeholders and run on either store through the
//! [`on_pool!`](crate::on_pool) and [`on_tx!`](crate::on_tx) macros, which expand the same
//! query code once per concrete driver (sqlx's `AnyPool` lacks the types we need).
//! On SQLite all writes go through one connection, so writers queue instead of failing
//! with `SQLITE_BUSY`; reads use a pool of their own.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::config::Config;

/// Which store is behind a [`Db`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL (or a wire-compatible distributed SQL database).
    Postgres,
}

impl DbKind {
    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            DbKind::Sqlite => "sqlite",
            DbKind::Postgres => "postgres",
        }
    }
}

enum Inner {
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// A cloneable handle to the store.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

/// A borrowed pool of either driver; match on it with [`on_pool!`](crate::on_pool).
pub enum Pool<'a> {
    /// SQLite pool.
    Sqlite(&'a SqlitePool),
    /// PostgreSQL pool.
    Postgres(&'a PgPool),
}

/// An open transaction of either driver; run queries in it with [`on_tx!`](crate::on_tx).
pub enum Tx {
    /// SQLite transaction (on the writer connection).
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// PostgreSQL transaction.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    /// Which store this transaction is on.
    pub fn kind(&self) -> DbKind {
        match self {
            Tx::Sqlite(_) => DbKind::Sqlite,
            Tx::Postgres(_) => DbKind::Postgres,
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete pool (`&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($c) => $body,
            $crate::db::Pool::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's concrete connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Opens the store the configuration names: PostgreSQL when `database_url` is set,
    /// else `data_dir/civitas.db`.
    pub async fn connect(config: &Config) -> anyhow::Result<Db> {
        match &config.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let options = PgConnectOptions::from_str(url)
                    .context("database_url is not a valid PostgreSQL URL")?;
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .with_context(|| {
                        format!(
                            "cannot connect to PostgreSQL at {}",
                            crate::config::redact_url(url)
                        )
                    })?;
                Ok(Db {
                    inner: Arc::new(Inner::Postgres(pool)),
                })
            }
            Some(url) if url.starts_with("sqlite:") => {
                let options = SqliteConnectOptions::from_str(url)
                    .context("database_url is not a valid SQLite URL")?;
                Self::open_sqlite(options, config.max_connections).await
            }
            Some(other) => anyhow::bail!(
                "database_url must start with postgres:// or sqlite: (got {})",
                crate::config::redact_url(other)
            ),
            None => {
                std::fs::create_dir_all(&config.data_dir).with_context(|| {
                    format!("cannot create data folder {}", config.data_dir.display())
                })?;
                let options =
                    SqliteConnectOptions::new().filename(config.data_dir.join("civitas.db"));
                Self::open_sqlite(options, config.max_connections).await
            }
        }
    }

    async fn open_sqlite(options: SqliteConnectOptions, readers: u32) -> anyhow::Result<Db> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .context("cannot open the SQLite database")?;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.clamp(2, 8))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .context("cannot open the SQLite database for reading")?;
        Ok(Db {
            inner: Arc::new(Inner::Sqlite { reader, writer }),
        })
    }

    /// Which store this is.
    pub fn kind(&self) -> DbKind {
        match &*self.inner {
            Inner::Sqlite { .. } => DbKind::Sqlite,
            Inner::Postgres(_) => DbKind::Postgres,
        }
    }

    /// The pool for queries that only read.
    pub fn read(&self) -> Pool<'_> {
        match &*self.inner {
            Inner::Sqlite { reader, .. } => Pool::Sqlite(reader),
            Inner::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// The pool for statements that write (one serialised connection on SQLite).
    pub fn write(&self) -> Pool<'_> {
        match &*self.inner {
            Inner::Sqlite { writer, .. } => Pool::Sqlite(writer),
            Inner::Postgres(pool) => Pool::Postgres(pool),
        }
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &*self.inner {
            Inner::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Inner::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Fetches at most one row of `T` for a read query with a single text parameter `$1`
    /// (the shape of most look-ups by id or key).
    pub async fn fetch_by<T>(&self, sql: &str, key: &str) -> Result<Option<T>, sqlx::Error>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        on_pool!(self.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(c)
            .await)
    }

    /// Checks that the store answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self.read(), |c| sqlx::query("SELECT 1")
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Closes every connection (waits for queries in flight).
    pub async fn close(&self) {
        match &*self.inner {
            Inner::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Inner::Postgres(pool) => pool.close().await,
        }
    }
}

/// Appends `(?, ?, …)` to a query being built, one bound parameter per item (for
/// `… IN (…)`); callers keep lists to a few hundred items.
pub fn push_list<'a, DB>(
    builder: &mut sqlx::QueryBuilder<DB>,
    items: impl IntoIterator<Item = &'a String>,
) where
    DB: sqlx::Database,
    for<'t> &'a String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    builder.push("(");
    let mut list = builder.separated(", ");
    for item in items {
        list.push_bind(item);
    }
    builder.push(")");
}

/// Adds to counters kept by (key, reason) in `table` — columns `{key}`, `reason`, `count`,
/// `last_at` — as refused readings are counted: (key as sent, reason, how many), one
/// upsert per 500.
pub async fn add_to_counts(
    tx: &mut Tx,
    table: &'static str,
    key: &'static str,
    counts: &[(String, &'static str, i64)],
    at: crate::time::Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in counts.chunks(500) {
        crate::on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "INSERT INTO {table} ({key}, reason, count, last_at) "
            ));
            b.push_values(chunk, |mut v, (k, reason, n)| {
                v.push_bind(k)
                    .push_bind(*reason)
                    .push_bind(*n)
                    .push_bind(at);
            });
            b.push(format!(
                " ON CONFLICT ({key}, reason) DO UPDATE SET
                  count = {table}.count + excluded.count, last_at = excluded.last_at"
            ));
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Whether a database error is a unique-constraint violation (on either store).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

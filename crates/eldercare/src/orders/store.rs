//! Care services, orders, their timelines and the subsidised minutes used, in the store.

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

// ---- the catalogue ----

/// A care service as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ServiceRow {
    pub id: String,
    pub organisation_id: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub unit: String,
    pub minutes: i64,
    pub price_fen: i64,
    /// JSON list of region codes.
    pub regions: String,
    pub active: i64,
    pub created_by: String,
    pub created_at: Timestamp,
}

const SERVICE_COLUMNS: &str = "id, organisation_id, kind, name, description, unit, minutes, \
     price_fen, regions, active, created_by, created_at";

/// Adds a service; false when the provider already offers one of that name.
pub async fn insert_service(tx: &mut Tx, s: &ServiceRow) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_services (id, organisation_id, kind, name, description, unit,
             minutes, price_fen, regions, active, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (organisation_id, name) DO NOTHING"
    )
    .bind(&s.id)
    .bind(&s.organisation_id)
    .bind(&s.kind)
    .bind(&s.name)
    .bind(&s.description)
    .bind(&s.unit)
    .bind(s.minutes)
    .bind(s.price_fen)
    .bind(&s.regions)
    .bind(s.active)
    .bind(&s.created_by)
    .bind(s.created_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

pub async fn service(db: &Db, id: &str) -> Result<Option<ServiceRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {SERVICE_COLUMNS} FROM eldercare_services WHERE id = $1"),
        id,
    )
    .await
}

/// The catalogue: of one kind and one provider when given, offered ones only unless
/// `all`, by kind and price.
pub async fn services(
    db: &Db,
    kind: Option<&str>,
    provider: Option<&str>,
    all: bool,
) -> Result<Vec<ServiceRow>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {SERVICE_COLUMNS} FROM eldercare_services WHERE 1 = 1"
        ));
        if let Some(kind) = kind {
            b.push(" AND kind = ").push_bind(kind);
        }
        if let Some(provider) = provider {
            b.push(" AND organisation_id = ").push_bind(provider);
        }
        if !all {
            b.push(" AND active = 1");
        }
        b.push(" ORDER BY kind, price_fen, name LIMIT 1000");
        b.build_query_as().fetch_all(c).await
    })
}

/// Changes a service's description, length, price and whether it is offered.
pub async fn update_service(tx: &mut Tx, s: &ServiceRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_services SET description = $2, minutes = $3, price_fen = $4,
             active = $5 WHERE id = $1"
    )
    .bind(&s.id)
    .bind(&s.description)
    .bind(s.minutes)
    .bind(s.price_fen)
    .bind(s.active)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Each of these services' average rating and how many orders rated it.
pub async fn ratings(db: &Db, services: &[String]) -> Result<Vec<(String, f64, i64)>, sqlx::Error> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT service_id, CAST(AVG(rating) AS DOUBLE PRECISION), COUNT(rating)
             FROM eldercare_orders WHERE rating IS NOT NULL AND service_id IN ",
        );
        push_list(&mut b, services);
        b.push(" GROUP BY service_id");
        b.build_query_as().fetch_all(c).await
    })
}

// ---- orders ----

/// An order as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub elder_id: String,
    pub community_id: String,
    pub service_id: String,
    pub provider_id: String,
    pub quantity: i64,
    pub minutes: i64,
    pub wanted_at: Timestamp,
    pub scheduled_at: Option<Timestamp>,
    pub state: String,
    pub month: String,
    pub unit_price_fen: i64,
    pub price_fen: i64,
    pub subsidy_policy: Option<String>,
    pub subsidy_minutes: i64,
    pub subsidy_fen: i64,
    pub payable_fen: i64,
    pub subsidy_reason_enc: Option<Vec<u8>>,
    pub note_enc: Option<Vec<u8>>,
    pub ordered_by: String,
    pub ordered_by_name: String,
    pub ordered_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub rating: Option<i64>,
    pub rating_comment_enc: Option<Vec<u8>>,
    pub updated_at: Timestamp,
}

const ORDER_COLUMNS: &str = "id, elder_id, community_id, service_id, provider_id, quantity, \
     minutes, wanted_at, scheduled_at, state, month, unit_price_fen, price_fen, subsidy_policy, \
     subsidy_minutes, subsidy_fen, payable_fen, subsidy_reason_enc, note_enc, ordered_by, \
     ordered_by_name, ordered_at, completed_at, rating, rating_comment_enc, updated_at";

pub async fn insert_order(tx: &mut Tx, o: &OrderRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO eldercare_orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7,
             $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
             $24, $25, $26)"
    )))
    .bind(&o.id)
    .bind(&o.elder_id)
    .bind(&o.community_id)
    .bind(&o.service_id)
    .bind(&o.provider_id)
    .bind(o.quantity)
    .bind(o.minutes)
    .bind(o.wanted_at)
    .bind(o.scheduled_at)
    .bind(&o.state)
    .bind(&o.month)
    .bind(o.unit_price_fen)
    .bind(o.price_fen)
    .bind(&o.subsidy_policy)
    .bind(o.subsidy_minutes)
    .bind(o.subsidy_fen)
    .bind(o.payable_fen)
    .bind(&o.subsidy_reason_enc)
    .bind(&o.note_enc)
    .bind(&o.ordered_by)
    .bind(&o.ordered_by_name)
    .bind(o.ordered_at)
    .bind(o.completed_at)
    .bind(o.rating)
    .bind(&o.rating_comment_enc)
    .bind(o.updated_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn order(db: &Db, id: &str) -> Result<Option<OrderRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ORDER_COLUMNS} FROM eldercare_orders WHERE id = $1"),
        id,
    )
    .await
}

/// An elder's orders, the latest first.
pub async fn orders_of_elder(
    db: &Db,
    elder_id: &str,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM eldercare_orders WHERE elder_id = $1
         ORDER BY ordered_at DESC LIMIT $2"
    )))
    .bind(elder_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// A provider's orders in these states, the soonest wanted first.
pub async fn orders_of_provider(
    db: &Db,
    provider_id: &str,
    states: &[String],
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {ORDER_COLUMNS} FROM eldercare_orders WHERE provider_id = "
        ));
        b.push_bind(provider_id);
        b.push(" AND state IN ");
        push_list(&mut b, states);
        b.push(" ORDER BY wanted_at, ordered_at LIMIT ")
            .push_bind(limit);
        b.build_query_as().fetch_all(c).await
    })
}

/// Orders still waiting for a provider whose wished time is before `before`, the oldest
/// first.
pub async fn stale_orders(
    db: &Db,
    before: Timestamp,
    limit: i64,
) -> Result<Vec<OrderRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM eldercare_orders WHERE state = 'ordered' AND wanted_at < $1
         ORDER BY wanted_at LIMIT $2"
    )))
    .bind(before)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Moves an order from `from` to `to`, setting the time it is scheduled for (when given)
/// and when it was completed (when given); false when it is no longer in `from` (someone
/// else acted first).
pub async fn move_order(
    tx: &mut Tx,
    id: &str,
    from: &[String],
    to: &str,
    scheduled_at: Option<Timestamp>,
    completed_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| {
        let mut b = sqlx::QueryBuilder::new("UPDATE eldercare_orders SET state = ");
        b.push_bind(to);
        b.push(", updated_at = ").push_bind(now);
        if let Some(at) = scheduled_at {
            b.push(", scheduled_at = ").push_bind(at);
        }
        if let Some(at) = completed_at {
            b.push(", completed_at = ").push_bind(at);
        }
        b.push(" WHERE id = ").push_bind(id);
        b.push(" AND state IN ");
        push_list(&mut b, from);
        b.build().execute(c).await.map(|r| r.rows_affected() == 1)
    })
}

/// Records a rating; false when the order is not completed or is rated already.
pub async fn rate(
    tx: &mut Tx,
    id: &str,
    stars: i64,
    comment_enc: Option<&[u8]>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_orders SET rating = $2, rating_comment_enc = $3, updated_at = $4
         WHERE id = $1 AND state = 'completed' AND rating IS NULL"
    )
    .bind(id)
    .bind(stars)
    .bind(comment_enc)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// A step in an order's timeline as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderEventRow {
    pub id: String,
    pub order_id: String,
    pub at: Timestamp,
    pub kind: String,
    pub by_name: String,
    /// What happened, in words (prices, times, reasons), sealed: part of her care history.
    pub detail_enc: Vec<u8>,
}

pub async fn insert_event(tx: &mut Tx, e: &OrderEventRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_order_events (id, order_id, at, kind, by_name, detail_enc)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&e.id)
    .bind(&e.order_id)
    .bind(e.at)
    .bind(&e.kind)
    .bind(&e.by_name)
    .bind(&e.detail_enc)
    .execute(c)
    .await
    .map(|_| ()))
}

/// An order's timeline, oldest first.
pub async fn events(db: &Db, order_id: &str) -> Result<Vec<OrderEventRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, order_id, at, kind, by_name, detail_enc FROM eldercare_order_events
         WHERE order_id = $1 ORDER BY at, id"
    )
    .bind(order_id)
    .fetch_all(c)
    .await)
}

// ---- subsidised minutes ----

/// Minutes of subsidy an elder's orders of a month hold (0 when none yet).
pub async fn used_minutes(db: &Db, elder_id: &str, month: &str) -> Result<i64, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT used_minutes FROM eldercare_subsidy_use WHERE elder_id = $1 AND month = $2"
    )
    .bind(elder_id)
    .bind(month)
    .fetch_optional(c)
    .await)
    .map(|v: Option<i64>| v.unwrap_or(0))
}

/// Minutes of subsidy an elder's orders of a month hold, read inside a transaction (the row
/// made if missing, so that a change to it can be conditional).
pub async fn used_minutes_in(tx: &mut Tx, elder_id: &str, month: &str) -> Result<i64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_subsidy_use (elder_id, month, used_minutes) VALUES ($1, $2, 0)
         ON CONFLICT (elder_id, month) DO NOTHING"
    )
    .bind(elder_id)
    .bind(month)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT used_minutes FROM eldercare_subsidy_use WHERE elder_id = $1 AND month = $2"
    )
    .bind(elder_id)
    .bind(month)
    .fetch_one(c)
    .await)
}

/// Sets the minutes used from `expected` to `new`; false when another order changed them
/// in between (read again and retry).
pub async fn swap_used_minutes(
    tx: &mut Tx,
    elder_id: &str,
    month: &str,
    expected: i64,
    new: i64,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_subsidy_use SET used_minutes = $4
         WHERE elder_id = $1 AND month = $2 AND used_minutes = $3"
    )
    .bind(elder_id)
    .bind(month)
    .bind(expected)
    .bind(new)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Gives back minutes an order held (it was cancelled or turned down).
pub async fn give_back_minutes(
    tx: &mut Tx,
    elder_id: &str,
    month: &str,
    minutes: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_subsidy_use SET used_minutes = used_minutes - $3
         WHERE elder_id = $1 AND month = $2"
    )
    .bind(elder_id)
    .bind(month)
    .bind(minutes)
    .execute(c)
    .await
    .map(|_| ()))
}

// ---- the report ----

/// One group of a month's orders, summed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SumRow {
    pub organisation_id: String,
    pub orders: i64,
    pub elders: i64,
    pub minutes: i64,
    pub price_fen: i64,
    pub subsidy_fen: i64,
    pub payable_fen: i64,
    pub open_subsidy_fen: i64,
    pub rating: Option<f64>,
}

/// Which column a report groups by.
#[derive(Clone, Copy, Debug)]
pub enum GroupBy {
    /// The provider.
    Provider,
    /// The elder's community organisation.
    Community,
    /// Nothing: one row for the month.
    Everything,
}

/// A month's orders summed by provider or by community: completed ones counted, open ones'
/// subsidy held beside them.
pub async fn month_sums(db: &Db, month: &str, by: GroupBy) -> Result<Vec<SumRow>, sqlx::Error> {
    month_sums_of(db, month, by, None).await
}

/// The same, of the orders of these providers or communities only when given.
pub async fn month_sums_of(
    db: &Db,
    month: &str,
    by: GroupBy,
    only: Option<&[String]>,
) -> Result<Vec<SumRow>, sqlx::Error> {
    let (column, group) = match by {
        GroupBy::Provider => ("provider_id", " GROUP BY provider_id ORDER BY provider_id"),
        GroupBy::Community => (
            "community_id",
            " GROUP BY community_id ORDER BY community_id",
        ),
        GroupBy::Everything => ("''", ""),
    };
    let done = "state = 'completed'";
    let sql = format!(
        "SELECT {column} AS organisation_id,
             CAST(COALESCE(SUM(CASE WHEN {done} THEN 1 ELSE 0 END), 0) AS BIGINT) AS orders,
             COUNT(DISTINCT CASE WHEN {done} THEN elder_id END) AS elders,
             CAST(COALESCE(SUM(CASE WHEN {done} THEN minutes ELSE 0 END), 0) AS BIGINT) AS minutes,
             CAST(COALESCE(SUM(CASE WHEN {done} THEN price_fen ELSE 0 END), 0) AS BIGINT) AS price_fen,
             CAST(COALESCE(SUM(CASE WHEN {done} THEN subsidy_fen ELSE 0 END), 0) AS BIGINT) AS subsidy_fen,
             CAST(COALESCE(SUM(CASE WHEN {done} THEN payable_fen ELSE 0 END), 0) AS BIGINT) AS payable_fen,
             CAST(COALESCE(SUM(CASE WHEN state IN ('ordered', 'accepted') THEN subsidy_fen ELSE 0 END), 0) AS BIGINT) AS open_subsidy_fen,
             CAST(AVG(CASE WHEN {done} THEN rating END) AS DOUBLE PRECISION) AS rating
         FROM eldercare_orders WHERE month = "
    );
    if only.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(sql.clone());
        b.push_bind(month);
        if let Some(orgs) = only {
            b.push(" AND (provider_id IN ");
            push_list(&mut b, orgs);
            b.push(" OR community_id IN ");
            push_list(&mut b, orgs);
            b.push(")");
        }
        b.push(group);
        b.build_query_as().fetch_all(c).await
    })
}

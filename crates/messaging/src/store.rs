//! SQL for notices and inboxes.

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A notice row with its sender's name and its read and acknowledgement counts.
#[derive(sqlx::FromRow, Clone)]
pub struct MessageRow {
    pub id: String,
    pub sender_org_id: String,
    pub sender_name: String,
    pub sender_account_id: String,
    pub subject: String,
    pub body: String,
    pub audience: String,
    pub ack_required: i64,
    pub recipients: i64,
    pub created_at: Timestamp,
}

pub async fn insert_message(tx: &mut Tx, m: &MessageRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO messages (id, sender_org_id, sender_account_id, subject, body, audience,
             ack_required, recipients, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&m.id)
    .bind(&m.sender_org_id)
    .bind(&m.sender_account_id)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.audience)
    .bind(m.ack_required)
    .bind(m.recipients)
    .bind(m.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Sets how many residents a notice reached.
pub async fn set_recipients(tx: &mut Tx, id: &str, recipients: i64) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE messages SET recipients = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(recipients)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Which residents a fan-out reaches; an empty string is "any".
pub struct Filter<'a> {
    /// `region_code` starts with one of these (none: any region).
    pub region_prefixes: &'a [String],
    /// Born on or before (`YYYY-MM-DD`): old enough.
    pub born_on_or_before: &'a str,
    /// Born after (`YYYY-MM-DD`): young enough.
    pub born_after: &'a str,
    /// Carrying every tag with these keyed hashes.
    pub tag_hashes: &'a [String],
}

/// Puts a notice into the inbox of every resident matching `filter` (and, when given,
/// among `persons`, which must hold no duplicates), in one statement per 500 named persons
/// or one for the whole register: set-based, never a row at a time. A new message id and
/// distinct persons cannot collide, so there is no `ON CONFLICT` (PostgreSQL's speculative
/// insertion would cost a third of the time). Returns how many inboxes it reached.
pub async fn fan_out(
    tx: &mut Tx,
    message_id: &str,
    at: Timestamp,
    filter: &Filter<'_>,
    persons: Option<&[String]>,
) -> Result<u64, sqlx::Error> {
    let chunks: Vec<Option<&[String]>> = match persons {
        Some(list) => list.chunks(500).map(Some).collect(),
        None => vec![None],
    };
    let mut reached = 0;
    for chunk in chunks {
        reached += on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO inbox_entries (person_id, message_id, created_at) SELECT id, ",
            );
            b.push_bind(message_id)
                .push(", ")
                .push_bind(at)
                .push(" FROM persons WHERE 1 = 1");
            if !filter.region_prefixes.is_empty() {
                b.push(" AND ");
                push_region_match(&mut b, filter.region_prefixes);
            }
            if !filter.born_on_or_before.is_empty() {
                b.push(" AND birth_date <= ")
                    .push_bind(filter.born_on_or_before);
            }
            if !filter.born_after.is_empty() {
                b.push(" AND birth_date > ").push_bind(filter.born_after);
            }
            for hash in filter.tag_hashes {
                b.push(" AND id IN (SELECT person_id FROM person_tags WHERE tag_hash = ")
                    .push_bind(hash)
                    .push(")");
            }
            if let Some(chunk) = chunk {
                b.push(" AND id IN ");
                push_list(&mut b, chunk);
            }
            b.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(reached)
}

/// `(region_code LIKE 'p1%' OR region_code LIKE 'p2%' …)`: lives in one of the regions.
fn push_region_match<DB: sqlx::Database>(b: &mut sqlx::QueryBuilder<DB>, prefixes: &[String])
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    b.push("(");
    for (i, prefix) in prefixes.iter().enumerate() {
        if i > 0 {
            b.push(" OR ");
        }
        b.push("region_code LIKE ").push_bind(format!("{prefix}%"));
    }
    b.push(")");
}

/// Writes inbox entries of a notice for named residents who do not live in any of the
/// regions (those were reached by the region's fan-out): an alert's people found by
/// their shared location. `persons` is de-duplicated.
pub async fn fan_out_besides(
    tx: &mut Tx,
    message_id: &str,
    at: Timestamp,
    region_prefixes: &[String],
    persons: &[String],
) -> Result<u64, sqlx::Error> {
    let mut reached = 0;
    for chunk in persons.chunks(500) {
        reached += on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO inbox_entries (person_id, message_id, created_at) SELECT id, ",
            );
            b.push_bind(message_id)
                .push(", ")
                .push_bind(at)
                .push(" FROM persons WHERE id IN ");
            push_list(&mut b, chunk);
            if !region_prefixes.is_empty() {
                b.push(" AND NOT ");
                push_region_match(&mut b, region_prefixes);
            }
            b.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(reached)
}

/// Writes inbox entries of a notice for everyone the earlier notices reached, each once
/// (a cancel goes to the people the alert went to).
pub async fn fan_out_reached_by(
    tx: &mut Tx,
    message_id: &str,
    at: Timestamp,
    earlier: &[String],
) -> Result<u64, sqlx::Error> {
    if earlier.is_empty() {
        return Ok(0);
    }
    on_tx!(tx, |c| {
        let mut b = sqlx::QueryBuilder::new(
            "INSERT INTO inbox_entries (person_id, message_id, created_at) SELECT DISTINCT person_id, ",
        );
        b.push_bind(message_id)
            .push(", ")
            .push_bind(at)
            .push(" FROM inbox_entries WHERE message_id IN ");
        push_list(&mut b, earlier);
        b.build().execute(c).await.map(|r| r.rows_affected())
    })
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.sender_org_id, o.name AS sender_name, \
     m.sender_account_id, m.subject, m.body, m.audience, m.ack_required, m.recipients, \
     m.created_at FROM messages m JOIN organisations o ON o.id = m.sender_org_id";

/// One notice.
pub async fn get_message(db: &Db, id: &str) -> Result<Option<MessageRow>, sqlx::Error> {
    db.fetch_by(&format!("{MESSAGE_SELECT} WHERE m.id = $1"), id)
        .await
}

/// An organisation's notices, newest first, after the cursor.
pub async fn messages_of(
    db: &Db,
    organisation_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = format!(
        "{MESSAGE_SELECT} WHERE m.sender_org_id = $1 AND ($2 = '' OR m.id < $2)
         ORDER BY m.id DESC LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .bind(before.unwrap_or_default())
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Reads and acknowledgements of several notices, in one query: (message id, read, acked).
pub async fn receipts_of(db: &Db, ids: &[String]) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT message_id, COUNT(read_at), COUNT(acked_at) FROM inbox_entries \
             WHERE message_id IN ",
        );
        push_list(&mut b, ids);
        b.push(" GROUP BY message_id");
        b.build_query_as().fetch_all(c).await
    })
}

/// How many recipients have read and acknowledged a notice.
pub async fn receipts(db: &Db, message_id: &str) -> Result<(i64, i64), sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT COUNT(read_at), COUNT(acked_at) FROM inbox_entries WHERE message_id = $1"
    )
    .bind(message_id)
    .fetch_one(c)
    .await)
}

/// An inbox entry with its notice.
#[derive(sqlx::FromRow, Clone)]
pub struct InboxRow {
    pub id: String,
    pub sender_name: String,
    pub subject: String,
    pub body: String,
    pub ack_required: i64,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
    pub acked_at: Option<Timestamp>,
}

const INBOX_SELECT: &str = "SELECT m.id, o.name AS sender_name, m.subject, m.body, \
     m.ack_required, e.created_at, e.read_at, e.acked_at FROM inbox_entries e \
     JOIN messages m ON m.id = e.message_id JOIN organisations o ON o.id = m.sender_org_id";

/// A resident's inbox, newest first, after the cursor (a message id).
pub async fn inbox(
    db: &Db,
    person_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<InboxRow>, sqlx::Error> {
    let sql = format!(
        "{INBOX_SELECT} WHERE e.person_id = $1 AND ($2 = '' OR e.message_id < $2)
         ORDER BY e.message_id DESC LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .bind(before.unwrap_or_default())
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// One entry of a resident's inbox.
pub async fn inbox_entry(
    db: &Db,
    person_id: &str,
    message_id: &str,
) -> Result<Option<InboxRow>, sqlx::Error> {
    let sql = format!("{INBOX_SELECT} WHERE e.person_id = $1 AND e.message_id = $2");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .bind(message_id)
    .fetch_optional(c)
    .await)
}

/// Unread notices and notices awaiting acknowledgement in a resident's inbox.
pub async fn unread(db: &Db, person_id: &str) -> Result<(i64, i64), sqlx::Error> {
    on_pool!(db.read(), |c| {
        sqlx::query_as(
        "SELECT COUNT(*) - COUNT(e.read_at),
                COALESCE(SUM(CASE WHEN m.ack_required = 1 AND e.acked_at IS NULL THEN 1 ELSE 0 END), 0)
         FROM inbox_entries e JOIN messages m ON m.id = e.message_id WHERE e.person_id = $1"
    )
    .bind(person_id)
    .fetch_one(c)
    .await
    })
}

/// Marks an entry read (the first time) and, with `ack`, acknowledged; false when the
/// resident has no such entry.
pub async fn mark(
    db: &Db,
    person_id: &str,
    message_id: &str,
    ack: bool,
) -> Result<bool, sqlx::Error> {
    let now = Timestamp::now();
    let n = on_pool!(db.write(), |c| sqlx::query(
        "UPDATE inbox_entries SET read_at = COALESCE(read_at, $3),
             acked_at = CASE WHEN $4 = 1 THEN COALESCE(acked_at, $3) ELSE acked_at END
         WHERE person_id = $1 AND message_id = $2"
    )
    .bind(person_id)
    .bind(message_id)
    .bind(now)
    .bind(i64::from(ack))
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

// ---- notification settings ----

/// A resident's channel choices (absent: SMS on, e-mail off).
#[derive(sqlx::FromRow, Clone)]
pub struct SettingsRow {
    pub sms: i64,
    pub email: i64,
    pub email_enc: Option<Vec<u8>>,
    pub email_masked: Option<String>,
}

pub async fn settings(db: &Db, person_id: &str) -> Result<Option<SettingsRow>, sqlx::Error> {
    db.fetch_by(
        "SELECT sms, email, email_enc, email_masked FROM notification_settings WHERE person_id = $1",
        person_id,
    )
    .await
}

pub async fn put_settings(db: &Db, person_id: &str, s: &SettingsRow) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| {
        sqlx::query(
        "INSERT INTO notification_settings (person_id, sms, email, email_enc, email_masked, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (person_id) DO UPDATE SET sms = excluded.sms, email = excluded.email,
             email_enc = excluded.email_enc, email_masked = excluded.email_masked,
             updated_at = excluded.updated_at"
    )
    .bind(person_id)
    .bind(s.sms)
    .bind(s.email)
    .bind(s.email_enc.as_deref())
    .bind(s.email_masked.as_deref())
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ())
    })
}

/// Sealed e-mail addresses of the persons among `ids` who turned e-mail on.
pub async fn emails_of(db: &Db, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT person_id, email_enc FROM notification_settings
             WHERE email = 1 AND email_enc IS NOT NULL AND person_id IN ",
        );
        push_list(&mut b, ids);
        b.build_query_as().fetch_all(c).await
    })
}

// ---- webhooks ----

/// A registered webhook.
#[derive(sqlx::FromRow, Clone)]
pub struct WebhookRow {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub region_prefix: String,
    pub secret_enc: Vec<u8>,
    pub created_at: Timestamp,
}

const WEBHOOK_SELECT: &str = "SELECT id, organisation_id, url, region_prefix, secret_enc, \
     created_at FROM webhooks";

pub async fn insert_webhook(db: &Db, w: &WebhookRow) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO webhooks (id, organisation_id, url, region_prefix, secret_enc, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&w.id)
    .bind(&w.organisation_id)
    .bind(&w.url)
    .bind(&w.region_prefix)
    .bind(&w.secret_enc)
    .bind(w.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn webhooks_of(db: &Db, organisation_id: &str) -> Result<Vec<WebhookRow>, sqlx::Error> {
    let sql = format!(
        "{WEBHOOK_SELECT} WHERE organisation_id = $1 AND removed_at IS NULL ORDER BY created_at"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .fetch_all(c)
    .await)
}

pub async fn get_webhooks(db: &Db, ids: &[String]) -> Result<Vec<WebhookRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "{WEBHOOK_SELECT} WHERE removed_at IS NULL AND id IN "
        ));
        push_list(&mut b, ids);
        b.build_query_as().fetch_all(c).await
    })
}

/// Marks a webhook removed; false if the organisation has no such live webhook.
pub async fn remove_webhook(db: &Db, organisation_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let n = on_pool!(db.write(), |c| sqlx::query(
        "UPDATE webhooks SET removed_at = $3
         WHERE id = $1 AND organisation_id = $2 AND removed_at IS NULL"
    )
    .bind(id)
    .bind(organisation_id)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

// ---- deliveries ----

/// Queues a delivery by `channel` for every inbox entry of a notice whose resident can be
/// reached that way (SMS: a registered phone and SMS not turned off; e-mail: an address
/// and e-mail turned on): one `INSERT … SELECT`. Returns how many were queued.
pub async fn enqueue_residents(
    tx: &mut Tx,
    message_id: &str,
    channel: &str,
    at: Timestamp,
) -> Result<u64, sqlx::Error> {
    let reachable = if channel == "sms" {
        "JOIN persons p ON p.id = e.person_id
         LEFT JOIN notification_settings s ON s.person_id = e.person_id
         WHERE p.phone_enc IS NOT NULL AND COALESCE(s.sms, 1) = 1"
    } else {
        "JOIN notification_settings s ON s.person_id = e.person_id
         WHERE s.email = 1 AND s.email_enc IS NOT NULL"
    };
    let sql = format!(
        "INSERT INTO deliveries (message_id, channel, recipient, status, attempts,
             next_attempt_at, created_at)
         SELECT e.message_id, $2, e.person_id, 'pending', 0, $3, $3 FROM inbox_entries e
         {reachable} AND e.message_id = $1"
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(message_id)
        .bind(channel)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// Queues a webhook delivery of a broadcast notice to every live webhook whose region
/// overlaps one of the notice's (no regions: only webhooks for everything get it), each
/// webhook once.
pub async fn enqueue_webhooks(
    tx: &mut Tx,
    message_id: &str,
    region_prefixes: &[String],
    at: Timestamp,
) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| {
        let mut b = sqlx::QueryBuilder::new(
            "INSERT INTO deliveries (message_id, channel, recipient, status, attempts,
                 next_attempt_at, created_at) SELECT ",
        );
        b.push_bind(message_id)
            .push(", 'webhook', id, 'pending', 0, ")
            .push_bind(at)
            .push(", ")
            .push_bind(at)
            .push(" FROM webhooks WHERE removed_at IS NULL AND (region_prefix = ''");
        for prefix in region_prefixes {
            b.push(" OR ")
                .push_bind(prefix.clone())
                .push(" LIKE region_prefix || '%' OR region_prefix LIKE ")
                .push_bind(format!("{prefix}%"));
        }
        b.push(")");
        b.build().execute(c).await.map(|r| r.rows_affected())
    })
}

/// A delivery claimed for sending.
#[derive(sqlx::FromRow, Clone)]
pub struct DueRow {
    pub message_id: String,
    pub channel: String,
    pub recipient: String,
    pub attempts: i64,
}

/// Claims up to `limit` due deliveries for `lease_ms` (counting the attempt). On
/// PostgreSQL rows another node is claiming are skipped, not waited for.
pub async fn claim_due(
    db: &Db,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> Result<Vec<DueRow>, sqlx::Error> {
    let skip_locked = match db.kind() {
        kernel::db::DbKind::Postgres => " FOR UPDATE SKIP LOCKED",
        kernel::db::DbKind::Sqlite => "",
    };
    let sql = format!(
        "UPDATE deliveries SET claimed_until = $2, attempts = attempts + 1
         WHERE (message_id, channel, recipient) IN (
             SELECT message_id, channel, recipient FROM deliveries
             WHERE status = 'pending' AND next_attempt_at <= $1
               AND (claimed_until IS NULL OR claimed_until < $1)
             ORDER BY next_attempt_at LIMIT $3{skip_locked})
         RETURNING message_id, channel, recipient, attempts"
    );
    on_pool!(db.write(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// The outcome of one attempt.
pub struct Outcome<'a> {
    pub message_id: &'a str,
    pub channel: &'a str,
    pub recipient: &'a str,
    /// `sent`, `pending` (to retry at `next_attempt_at`) or `failed`.
    pub status: &'static str,
    pub next_attempt_at: Timestamp,
    pub error: Option<&'a str>,
    pub provider_ref: Option<&'a str>,
}

/// Records a batch of outcomes in one transaction — only for the deliveries still held
/// under this round's lease (`lease`), so a round that overran it cannot overwrite the
/// next claimant's result.
pub async fn record_outcomes(
    db: &Db,
    outcomes: &[Outcome<'_>],
    lease: Timestamp,
) -> Result<(), sqlx::Error> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    for o in outcomes {
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE deliveries SET status = $4, next_attempt_at = $5, claimed_until = NULL,
                 last_error = $6, provider_ref = COALESCE($7, provider_ref),
                 sent_at = CASE WHEN $4 = 'sent' THEN $8 ELSE sent_at END
             WHERE message_id = $1 AND channel = $2 AND recipient = $3 AND claimed_until = $9"
        )
        .bind(o.message_id)
        .bind(o.channel)
        .bind(o.recipient)
        .bind(o.status)
        .bind(o.next_attempt_at)
        .bind(o.error)
        .bind(o.provider_ref)
        .bind(now)
        .bind(lease)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    tx.commit().await
}

/// Gives back a round's claims after it failed as a whole; deliveries out of attempts are
/// marked failed.
pub async fn release(
    db: &Db,
    lease: Timestamp,
    max_attempts: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "UPDATE deliveries SET claimed_until = NULL, last_error = $3,
             status = CASE WHEN attempts >= $2 THEN 'failed' ELSE status END
         WHERE claimed_until = $1 AND status = 'pending'"
    )
    .bind(lease)
    .bind(max_attempts)
    .bind(error)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Of `ids`, the residents who turned SMS off.
pub async fn sms_off(db: &Db, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String,)> = on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT person_id FROM notification_settings WHERE sms = 0 AND person_id IN ",
        );
        push_list(&mut b, ids);
        b.build_query_as().fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// (channel, status, count) for a notice.
pub async fn delivery_counts(
    db: &Db,
    message_id: &str,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT channel, status, COUNT(*) FROM deliveries WHERE message_id = $1
         GROUP BY channel, status ORDER BY channel, status"
    )
    .bind(message_id)
    .fetch_all(c)
    .await)
}

/// A row of the delivery log.
#[derive(sqlx::FromRow, Clone)]
pub struct DeliveryRow {
    pub channel: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub provider_ref: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub next_attempt_at: Timestamp,
}

/// The deliveries of a notice not (yet) sent — retrying or failed — first 100.
pub async fn undelivered(db: &Db, message_id: &str) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT channel, recipient, status, attempts, last_error, provider_ref, sent_at,
             next_attempt_at FROM deliveries
         WHERE message_id = $1 AND status <> 'sent' AND attempts > 0
         ORDER BY channel, recipient LIMIT 100"
    )
    .bind(message_id)
    .fetch_all(c)
    .await)
}

// ---- outbox ----

pub async fn insert_outbox(
    db: &Db,
    message_id: &str,
    channel: &str,
    recipient: &str,
    address_masked: &str,
    subject: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO message_outbox (message_id, channel, recipient, address_masked, subject,
             body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (message_id, channel, recipient) DO NOTHING"
    )
    .bind(message_id)
    .bind(channel)
    .bind(recipient)
    .bind(address_masked)
    .bind(subject)
    .bind(body)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))
}

/// An outbox entry.
#[derive(sqlx::FromRow, Clone)]
pub struct OutboxRow {
    pub message_id: String,
    pub channel: String,
    pub address_masked: String,
    pub subject: String,
    pub body: String,
    pub created_at: Timestamp,
}

/// The newest outbox entries.
pub async fn outbox(db: &Db, limit: i64) -> Result<Vec<OutboxRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT message_id, channel, address_masked, subject, body, created_at
         FROM message_outbox ORDER BY created_at DESC, message_id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)
}

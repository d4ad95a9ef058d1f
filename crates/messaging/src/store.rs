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
    /// `region_code` starts with this.
    pub region_prefix: &'a str,
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
            if !filter.region_prefix.is_empty() {
                b.push(" AND region_code LIKE ")
                    .push_bind(format!("{}%", filter.region_prefix));
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

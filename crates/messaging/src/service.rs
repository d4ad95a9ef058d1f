//! The rules of messaging: who may send to whom, the audience turned into a set-based
//! fan-out, the inbox with read receipts and acknowledgements. No HTTP here.

use identity::model::RegionCode;
use kernel::api::{Page, PageQuery, text};
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::Principal;
use kernel::db::Tx;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::channels::ChannelKind;
use crate::model::*;
use crate::store::{self, Filter, InboxRow, MessageRow, SettingsRow, WebhookRow};

/// Vault context of residents' e-mail addresses.
pub const CTX_EMAIL: &str = "person.email";
/// Vault context of webhook signing secrets.
pub const CTX_WEBHOOK_SECRET: &str = "webhook.secret";
/// Most webhooks one organisation may register.
pub const MAX_WEBHOOKS: usize = 10;

/// Most residents an audience may name one by one.
pub const MAX_NAMED: usize = 1_000;

/// Most regions an audience may name.
pub const MAX_REGIONS: usize = 100;

/// Most tags an audience may combine.
pub const MAX_TAGS: usize = 5;

/// The prefix of `region_code` that covers a region: a province's two digits, a city's
/// four, a county's six, a township's nine, a community's twelve.
pub fn region_prefix(code: &RegionCode) -> String {
    let code = code.as_str();
    if code.len() == 6 {
        if code.ends_with("0000") {
            return code[..2].to_string();
        }
        if code.ends_with("00") {
            return code[..4].to_string();
        }
    }
    code.to_string()
}

/// The prefixes covering some regions, without those another one already covers.
pub fn region_prefixes(regions: &[RegionCode]) -> Vec<String> {
    let mut prefixes: Vec<String> = regions.iter().map(region_prefix).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    let all = prefixes.clone();
    prefixes.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q.as_str())));
    prefixes
}

/// The organisation `actor` sends for: `requested` or her own, if she is its staff.
fn sender_of(actor: &Principal, requested: Option<&str>) -> ApiResult<String> {
    actor.staff_organisation(requested, "organisation_id")
}

fn message_view(row: MessageRow, read: i64, acknowledged: i64) -> Message {
    Message {
        audience: serde_json::from_str(&row.audience).unwrap_or_default(),
        id: row.id,
        sender_org_id: row.sender_org_id,
        sender_name: row.sender_name,
        subject: row.subject,
        body: row.body,
        ack_required: row.ack_required == 1,
        recipients: row.recipients,
        read,
        acknowledged,
        created_at: row.created_at,
    }
}

/// Sends a notice: the audience is checked, the notice and every recipient's inbox entry
/// are written in one transaction (set-based), and the sending is audited.
pub async fn send(state: &AppState, actor: &Principal, new: NewMessage) -> ApiResult<Message> {
    let org = sender_of(actor, new.organisation_id.as_deref())?;
    let subject = text("subject", &new.subject, 100, true)?;
    let body = text_block("body", &new.body, 5_000)?;
    let audience = new.audience;
    let region = audience
        .region
        .as_deref()
        .map(|r| RegionCode::parse(r.trim()).map_err(|e| ApiError::invalid("audience.region", e)))
        .transpose()?;
    if audience.regions.len() > MAX_REGIONS {
        return Err(ApiError::invalid(
            "audience.regions",
            format!("name at most {MAX_REGIONS} regions"),
        ));
    }
    let mut regions = Vec::with_capacity(audience.regions.len() + 1);
    regions.extend(region);
    for (i, r) in audience.regions.iter().enumerate() {
        regions.push(
            RegionCode::parse(r.trim())
                .map_err(|e| ApiError::invalid(format!("audience.regions[{i}]"), e))?,
        );
    }
    if regions.is_empty() && audience.persons.is_empty() && audience.tags.is_empty() {
        return Err(ApiError::invalid(
            "audience",
            "name a region, tags or residents: a notice is never sent to everyone by default",
        ));
    }
    if audience.tags.len() > MAX_TAGS {
        return Err(ApiError::invalid(
            "audience.tags",
            format!("name at most {MAX_TAGS} tags"),
        ));
    }
    let mut tag_hashes = Vec::with_capacity(audience.tags.len());
    for (i, code) in audience.tags.iter().enumerate() {
        let field = format!("audience.tags[{i}]");
        identity::service::check_tag_code(&field, code)?;
        identity::service::get_tag(state, code)
            .await
            .map_err(|_| ApiError::invalid(&field, format!("no tag {code}")))?;
        tag_hashes.push(identity::service::tag_hash(state, code));
    }
    for (field, age) in [
        ("audience.min_age", audience.min_age),
        ("audience.max_age", audience.max_age),
    ] {
        if let Some(age) = age
            && !(0..=150).contains(&age)
        {
            return Err(ApiError::invalid(field, "an age from 0 to 150"));
        }
    }
    if let (Some(min), Some(max)) = (audience.min_age, audience.max_age)
        && min > max
    {
        return Err(ApiError::invalid(
            "audience.max_age",
            "the highest age is below the lowest",
        ));
    }
    if !audience.persons.is_empty()
        && (!audience.tags.is_empty() || audience.min_age.is_some() || audience.max_age.is_some())
    {
        // Otherwise the number reached would tell whether a named resident carries a tag
        // or is of an age.
        return Err(ApiError::invalid(
            "audience.persons",
            "named residents cannot be combined with tags or ages",
        ));
    }
    if audience.persons.len() > MAX_NAMED {
        return Err(ApiError::invalid(
            "audience.persons",
            format!("name at most {MAX_NAMED} residents; use a region and ages for more"),
        ));
    }
    if let Some(bad) = audience.persons.iter().position(|p| !is_uuid(p)) {
        return Err(ApiError::invalid(
            format!("audience.persons[{bad}]"),
            "not a valid person id",
        ));
    }
    let channels = requested_channels(state, &new.channels)?;
    let today = time::OffsetDateTime::now_utc().date();
    let born_on_or_before = audience
        .min_age
        .map(|a| identity::service::birth_date_years_before(today, a))
        .unwrap_or_default();
    let born_after = audience
        .max_age
        .map(|a| identity::service::birth_date_years_before(today, a + 1))
        .unwrap_or_default();
    let prefixes = region_prefixes(&regions);
    let org_name = identity::service::get_organisation(state, &org).await?.name;
    let now = Timestamp::now();
    let mut row = MessageRow {
        id: new_id(),
        sender_org_id: org.clone(),
        sender_name: org_name,
        sender_account_id: actor.account_id.clone(),
        subject,
        body,
        audience: serde_json::to_string(&audience).map_err(|e| ApiError::Unexpected(e.into()))?,
        ack_required: i64::from(new.ack_required),
        recipients: 0,
        created_at: now,
    };
    let mut tx = state.db.begin().await?;
    store::insert_message(&mut tx, &row).await?;
    let mut named = audience.persons.clone();
    named.sort_unstable();
    named.dedup();
    let persons = (!named.is_empty()).then_some(named.as_slice());
    let reached = store::fan_out(
        &mut tx,
        &row.id,
        now,
        &Filter {
            region_prefixes: &prefixes,
            born_on_or_before: &born_on_or_before,
            born_after: &born_after,
            tag_hashes: &tag_hashes,
        },
        persons,
    )
    .await?;
    row.recipients = i64::try_from(reached).unwrap_or(i64::MAX);
    store::set_recipients(&mut tx, &row.id, row.recipients).await?;
    let mut queued = Vec::new();
    for channel in &channels {
        let n = store::enqueue_residents(&mut tx, &row.id, channel.as_str(), now).await?;
        queued.push(format!("{}:{n}", channel.as_str()));
    }
    // Only a public notice to a region (and ages) goes to organisations' systems: a notice
    // to named residents or to a tag's members is theirs alone.
    if audience.persons.is_empty() && audience.tags.is_empty() {
        let hooks = store::enqueue_webhooks(&mut tx, &row.id, &prefixes, now).await?;
        queued.push(format!("webhook:{hooks}"));
    }
    // One record for the whole audience: the register was read for region, age and tags
    // only, and each channel's addresses are opened by the platform to deliver this notice.
    let event = AuditEvent::by(
        actor,
        "message.send",
        format!(
            "message:{} recipients:{} deliveries:{} audience:{}",
            row.id,
            row.recipients,
            queued.join(","),
            row.audience
        ),
    )
    .because(
        format!("notice: {}", row.subject),
        Basis::Statutory(row.sender_name.clone()),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    crate::delivery::wake(state);
    Ok(message_view(row, 0, 0))
}

/// The channels a sender asked for, each configured on this platform.
fn requested_channels(state: &AppState, names: &[String]) -> ApiResult<Vec<ChannelKind>> {
    let channels = crate::delivery::channels(state)?;
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let field = format!("channels[{i}]");
        let kind = match ChannelKind::parse(name) {
            Some(k @ (ChannelKind::Sms | ChannelKind::Email)) => k,
            _ => {
                return Err(ApiError::invalid(
                    field,
                    "a channel is sms or email (webhooks receive every broadcast notice)",
                ));
            }
        };
        if channels.get(kind).is_none() {
            return Err(ApiError::invalid(
                field,
                format!("this platform has no {} channel configured", kind.as_str()),
            ));
        }
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// Puts a notice from `organisation_id` into one resident's inbox inside the caller's
/// transaction (a step of her application, say), so it commits or vanishes with the change
/// it reports, and queues it by SMS and e-mail as she chose, on the channels configured
/// (the worker picks them up within seconds of the commit). Returns the message id.
pub async fn notify_in(
    state: &AppState,
    tx: &mut Tx,
    organisation_id: &str,
    sender_account_id: &str,
    person_id: &str,
    subject: &str,
    body: &str,
) -> ApiResult<String> {
    let persons = [person_id.to_string()];
    let notice = Notice {
        organisation_id,
        sender_account_id,
        subject,
        body,
        ack_required: false,
    };
    Ok(
        notify_many_in(state, tx, &notice, Recipients::Persons(&persons))
            .await?
            .id,
    )
}

/// Whom a notice written inside the caller's transaction goes to.
pub enum Recipients<'a> {
    /// These residents (person ids).
    Persons(&'a [String]),
    /// Every resident registered in this region or under it.
    Region(&'a RegionCode),
    /// Every resident registered in any of these regions, and these residents besides
    /// (each once); the organisations' webhooks for those regions get it too. An alert's
    /// area: the regions it meets, the people whose shared location is in it.
    Area {
        /// The regions.
        regions: &'a [RegionCode],
        /// Residents besides, wherever registered.
        persons: &'a [String],
    },
    /// Everyone these earlier notices reached, each once (a cancel goes to the people the
    /// alert reached).
    ReachedBy(&'a [String]),
}

/// A notice written inside the caller's transaction.
pub struct Notice<'a> {
    /// The organisation it comes from.
    pub organisation_id: &'a str,
    /// The account (or `system`) that sends it.
    pub sender_account_id: &'a str,
    /// Subject (cut at 100 characters).
    pub subject: &'a str,
    /// Text (cut at 5,000 characters).
    pub body: &'a str,
    /// Ask each recipient to acknowledge it.
    pub ack_required: bool,
}

/// What a notice written inside the caller's transaction reached.
#[derive(Clone, Debug)]
pub struct Notified {
    /// The notice's id.
    pub id: String,
    /// Residents whose inbox it is in.
    pub reached: i64,
    /// Of them, residents named besides the regions (`Recipients::Area`).
    pub besides: i64,
    /// Organisations' webhooks it was queued for.
    pub webhooks: i64,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Puts a notice into the inboxes of `to` inside the caller's transaction (set-based),
/// queued by SMS and e-mail as each chose on the channels configured.
pub async fn notify_many_in(
    state: &AppState,
    tx: &mut Tx,
    notice: &Notice<'_>,
    to: Recipients<'_>,
) -> ApiResult<Notified> {
    let now = Timestamp::now();
    let mut named: Vec<String> = match &to {
        Recipients::Persons(list) | Recipients::Area { persons: list, .. } => list.to_vec(),
        _ => Vec::new(),
    };
    named.sort_unstable();
    named.dedup();
    let (audience, prefixes) = match &to {
        Recipients::Persons(_) => (
            Audience {
                persons: named.clone(),
                ..Audience::default()
            },
            Vec::new(),
        ),
        Recipients::Region(code) => (
            Audience {
                region: Some(code.as_str().to_string()),
                ..Audience::default()
            },
            vec![region_prefix(code)],
        ),
        Recipients::Area { regions, .. } => (
            Audience {
                regions: regions.iter().map(|r| r.as_str().to_string()).collect(),
                ..Audience::default()
            },
            region_prefixes(regions),
        ),
        Recipients::ReachedBy(_) => (Audience::default(), Vec::new()),
    };
    let mut row = MessageRow {
        id: new_id(),
        sender_org_id: notice.organisation_id.to_string(),
        sender_name: String::new(),
        sender_account_id: notice.sender_account_id.to_string(),
        subject: notice.subject.chars().take(100).collect(),
        body: notice.body.chars().take(5_000).collect(),
        audience: serde_json::to_string(&audience).map_err(|e| ApiError::Unexpected(e.into()))?,
        ack_required: i64::from(notice.ack_required),
        recipients: 0,
        created_at: now,
    };
    store::insert_message(tx, &row).await?;
    let filter = |prefixes| Filter {
        region_prefixes: prefixes,
        born_on_or_before: "",
        born_after: "",
        tag_hashes: &[],
    };
    let mut besides = 0;
    let mut webhooks = 0;
    let reached = match &to {
        Recipients::Persons(_) => {
            store::fan_out(tx, &row.id, now, &filter(&[]), Some(&named)).await?
        }
        Recipients::Region(_) => store::fan_out(tx, &row.id, now, &filter(&prefixes), None).await?,
        Recipients::Area { .. } => {
            let in_regions = if prefixes.is_empty() {
                0
            } else {
                store::fan_out(tx, &row.id, now, &filter(&prefixes), None).await?
            };
            besides = count(store::fan_out_besides(tx, &row.id, now, &prefixes, &named).await?);
            webhooks = count(store::enqueue_webhooks(tx, &row.id, &prefixes, now).await?);
            in_regions + u64::try_from(besides).unwrap_or(0)
        }
        Recipients::ReachedBy(earlier) => {
            store::fan_out_reached_by(tx, &row.id, now, earlier).await?
        }
    };
    row.recipients = count(reached);
    store::set_recipients(tx, &row.id, row.recipients).await?;
    let channels = crate::delivery::channels(state)?;
    for kind in [ChannelKind::Sms, ChannelKind::Email] {
        if channels.get(kind).is_some() {
            store::enqueue_residents(tx, &row.id, kind.as_str(), now).await?;
        }
    }
    Ok(Notified {
        id: row.id,
        reached: row.recipients,
        besides,
        webhooks,
    })
}

/// Free text that may hold line breaks (and no other control characters).
fn text_block(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(field, format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::invalid(
            field,
            format!("{field} holds control characters"),
        ));
    }
    Ok(value.to_string())
}

/// One notice with its receipts (its sender's staff).
pub async fn message(state: &AppState, actor: &Principal, id: &str) -> ApiResult<Message> {
    let not_found = || ApiError::NotFound("no such notice".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_message(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    sender_of(actor, Some(&row.sender_org_id)).map_err(|_| not_found())?;
    let (read, acked) = store::receipts(&state.db, id).await?;
    Ok(message_view(row, read, acked))
}

/// The notices an organisation sent, newest first (its staff).
pub async fn sent(
    state: &AppState,
    actor: &Principal,
    page: &PageQuery,
) -> ApiResult<Page<Message>> {
    let org = sender_of(actor, None)?;
    let limit = page.limit();
    let rows = store::messages_of(&state.db, &org, page.cursor()?, limit + 1).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let receipts: std::collections::HashMap<String, (i64, i64)> =
        store::receipts_of(&state.db, &ids)
            .await?
            .into_iter()
            .map(|(id, read, acked)| (id, (read, acked)))
            .collect();
    let items = rows
        .into_iter()
        .map(|row| {
            let (read, acked) = receipts.get(&row.id).copied().unwrap_or((0, 0));
            message_view(row, read, acked)
        })
        .collect();
    Ok(Page::from_rows(items, limit, |m| m.id.clone()))
}

fn inbox_view(row: InboxRow) -> InboxItem {
    InboxItem {
        id: row.id,
        sender_name: row.sender_name,
        subject: row.subject,
        body: row.body,
        ack_required: row.ack_required == 1,
        created_at: row.created_at,
        read_at: row.read_at,
        acked_at: row.acked_at,
    }
}

/// Whose inbox `principal` reads: her own, or (as a proxy with `profile`) the person's.
fn reader(principal: &Principal) -> ApiResult<String> {
    principal.require_scope("profile")?;
    principal
        .subject_person_id()
        .map(str::to_string)
        .ok_or_else(|| ApiError::Forbidden("only a resident has an inbox".into()))
}

/// The resident's inbox, newest first.
pub async fn inbox(
    state: &AppState,
    principal: &Principal,
    page: &PageQuery,
) -> ApiResult<Page<InboxItem>> {
    let person = reader(principal)?;
    let limit = page.limit();
    let rows = store::inbox(&state.db, &person, page.cursor()?, limit + 1).await?;
    Ok(Page::from_rows(
        rows.into_iter().map(inbox_view).collect(),
        limit,
        |i| i.id.clone(),
    ))
}

/// Unread notices and those awaiting acknowledgement.
pub async fn unread(state: &AppState, principal: &Principal) -> ApiResult<Unread> {
    let person = reader(principal)?;
    let (unread, awaiting_ack) = store::unread(&state.db, &person).await?;
    Ok(Unread {
        unread,
        awaiting_ack,
    })
}

/// Opens a notice: it is marked read (a read receipt for its sender) and returned.
/// A proxy's reading is not the resident's: it leaves the receipt alone.
pub async fn open(state: &AppState, principal: &Principal, id: &str) -> ApiResult<InboxItem> {
    let person = reader(principal)?;
    let not_found = || ApiError::NotFound("no such notice in this inbox".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    if principal.acting_for.is_none() {
        store::mark(&state.db, &person, id, false).await?;
    }
    store::inbox_entry(&state.db, &person, id)
        .await?
        .map(inbox_view)
        .ok_or_else(not_found)
}

/// Acknowledges a notice (收到); a proxy with `services` may do it for the person.
pub async fn acknowledge(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<InboxItem> {
    principal.require_scope("services")?;
    let person = reader(principal)?;
    let not_found = || ApiError::NotFound("no such notice in this inbox".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let entry = store::inbox_entry(&state.db, &person, id)
        .await?
        .ok_or_else(not_found)?;
    if entry.ack_required != 1 {
        return Err(ApiError::Conflict(
            "this notice does not ask for an acknowledgement".into(),
        ));
    }
    store::mark(&state.db, &person, id, true).await?;
    store::inbox_entry(&state.db, &person, id)
        .await?
        .map(inbox_view)
        .ok_or_else(not_found)
}

/// An e-mail address for lists and logs: the first character of the local part, then
/// `***`, then the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// The delivery log of a notice (its sender's staff).
pub async fn deliveries(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> ApiResult<DeliveryReport> {
    message(state, actor, id).await?;
    let mut channels: std::collections::BTreeMap<String, ChannelCount> = Default::default();
    for (channel, status, n) in store::delivery_counts(&state.db, id).await? {
        let entry = channels
            .entry(channel.clone())
            .or_insert_with(|| ChannelCount {
                channel,
                pending: 0,
                sent: 0,
                failed: 0,
            });
        match status.as_str() {
            "sent" => entry.sent += n,
            "failed" => entry.failed += n,
            _ => entry.pending += n,
        }
    }
    let undelivered = store::undelivered(&state.db, id)
        .await?
        .into_iter()
        .map(|d| Undelivered {
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            channel: d.channel,
            recipient: d.recipient,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
        })
        .collect();
    Ok(DeliveryReport {
        channels: channels.into_values().collect(),
        undelivered,
    })
}

/// The resident's channel choices (a proxy with `profile`: the person's).
pub async fn my_settings(
    state: &AppState,
    principal: &Principal,
) -> ApiResult<NotificationSettings> {
    let person = reader(principal)?;
    let phone_masked = identity::service::person_summary_by_id(state, &person)
        .await?
        .and_then(|p| p.phone_masked);
    let row = store::settings(&state.db, &person).await?;
    Ok(NotificationSettings {
        sms: row.as_ref().is_none_or(|r| r.sms == 1),
        phone_masked,
        email: row.as_ref().is_some_and(|r| r.email == 1),
        email_masked: row.and_then(|r| r.email_masked),
    })
}

/// Changes the resident's channel choices (she, or a proxy with `profile`); the address
/// is sealed, and the change is in her footprint when a proxy makes it.
pub async fn put_settings(
    state: &AppState,
    principal: &Principal,
    new: NewNotificationSettings,
) -> ApiResult<NotificationSettings> {
    let person = reader(principal)?;
    let current = store::settings(&state.db, &person).await?;
    let (email_enc, email_masked) = match new.email_address.as_deref().map(str::trim) {
        Some("") => (None, None),
        Some(address) => {
            if address.len() > 254 {
                return Err(ApiError::invalid(
                    "email_address",
                    "an e-mail address has at most 254 characters",
                ));
            }
            address.parse::<lettre::Address>().map_err(|_| {
                ApiError::invalid(
                    "email_address",
                    "not an e-mail address, e.g. name@example.cn",
                )
            })?;
            let sealed = state
                .vault
                .seal(address, CTX_EMAIL)
                .map_err(ApiError::Unexpected)?;
            (Some(sealed), Some(mask_email(address)))
        }
        None => current
            .as_ref()
            .map(|c| (c.email_enc.clone(), c.email_masked.clone()))
            .unwrap_or_default(),
    };
    if new.email && email_enc.is_none() {
        return Err(ApiError::invalid(
            "email_address",
            "give an e-mail address to receive notices by e-mail",
        ));
    }
    let row = SettingsRow {
        sms: i64::from(new.sms),
        email: i64::from(new.email),
        email_enc,
        email_masked,
    };
    store::put_settings(&state.db, &person, &row).await?;
    if let Some(acting) = &principal.acting_for {
        state
            .audit
            .record(
                AuditEvent::by(
                    principal,
                    "notification_settings.change",
                    format!("person:{person}"),
                )
                .subject(person.as_str())
                .because(
                    "change how notices reach the person",
                    Basis::Proxy(acting.authorisation_id.clone()),
                ),
            )
            .await?;
    }
    my_settings(state, principal).await
}

fn webhook_view(row: WebhookRow) -> Webhook {
    Webhook {
        id: row.id,
        organisation_id: row.organisation_id,
        url: row.url,
        region: (!row.region_prefix.is_empty()).then_some(row.region_prefix),
        created_at: row.created_at,
    }
}

/// An organisation's webhooks (its staff).
pub async fn webhooks(state: &AppState, actor: &Principal) -> ApiResult<Vec<Webhook>> {
    let org = sender_of(actor, None)?;
    Ok(store::webhooks_of(&state.db, &org)
        .await?
        .into_iter()
        .map(webhook_view)
        .collect())
}

/// Registers a webhook for an organisation (its administrator); the signing secret is returned
/// once and kept sealed.
pub async fn create_webhook(
    state: &AppState,
    actor: &Principal,
    new: NewWebhook,
) -> ApiResult<WebhookCreated> {
    let org = sender_of(actor, new.organisation_id.as_deref())?;
    actor.require_org_admin(&org)?;
    let raw = new.url.trim();
    let url = url::Url::parse(raw)
        .map_err(|_| ApiError::invalid("url", "not a URL, e.g. https://alerts.example.cn/hook"))?;
    let internal_allowed = state.config.webhook_allow_internal;
    let scheme_ok = url.scheme() == "https" || (internal_allowed && url.scheme() == "http");
    if !scheme_ok || url.host_str().is_none() {
        return Err(ApiError::invalid(
            "url",
            "a webhook URL is https:// with a host",
        ));
    }
    if !internal_allowed && is_internal(&url) {
        return Err(ApiError::invalid(
            "url",
            "a webhook may not point into the platform's own network (localhost, private or link-local addresses)",
        ));
    }
    if raw.len() > 500 || url.username() != "" || url.password().is_some() {
        return Err(ApiError::invalid(
            "url",
            "at most 500 characters and no user name or password in it",
        ));
    }
    let region_prefix = match new
        .region
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(r) => {
            region_prefix(&RegionCode::parse(r).map_err(|e| ApiError::invalid("region", e))?)
        }
        None => String::new(),
    };
    if store::webhooks_of(&state.db, &org).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::Conflict(format!(
            "an organisation has at most {MAX_WEBHOOKS} webhooks; remove one first"
        )));
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let row = WebhookRow {
        id: new_id(),
        organisation_id: org,
        url: url.to_string(),
        region_prefix,
        secret_enc: state
            .vault
            .seal_bytes(&secret, CTX_WEBHOOK_SECRET)
            .map_err(ApiError::Unexpected)?,
        created_at: Timestamp::now(),
    };
    store::insert_webhook(&state.db, &row).await?;
    state
        .audit
        .record(
            AuditEvent::by(
                actor,
                "webhook.create",
                format!("webhook:{} url:{}", row.id, row.url),
            )
            .because(
                "receive the platform's public notices",
                Basis::Statutory(org_basis(&row.organisation_id)),
            ),
        )
        .await?;
    Ok(WebhookCreated {
        webhook: webhook_view(row),
        secret: hex::encode(secret),
    })
}

/// The basis recorded for an organisation's own configuration.
fn org_basis(organisation_id: &str) -> String {
    format!("organisation {organisation_id}'s configuration of its own systems")
}

/// Whether a URL names the platform's own network: localhost, or a loopback, private,
/// link-local, shared or unspecified address. Names that resolve there are not caught
/// here; the operator's egress rules are the second line.
fn is_internal(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local")
        }
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xC0) == 64)
        }
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private())
        }
        None => true,
    }
}

/// Removes one of the organisation's webhooks (its administrator).
pub async fn remove_webhook(state: &AppState, actor: &Principal, id: &str) -> ApiResult<()> {
    let org = sender_of(actor, None)?;
    actor.require_org_admin(&org)?;
    if is_uuid(id) && store::remove_webhook(&state.db, &org, id).await? {
        state
            .audit
            .record(
                AuditEvent::by(actor, "webhook.remove", format!("webhook:{id}")).because(
                    "stop receiving public notices",
                    Basis::Statutory(org_basis(&org)),
                ),
            )
            .await?;
        Ok(())
    } else {
        Err(ApiError::NotFound(
            "no such webhook of your organisation".into(),
        ))
    }
}

/// The newest 200 entries of the outbox (platform administrator).
pub async fn outbox(state: &AppState, actor: &Principal) -> ApiResult<Vec<OutboxEntry>> {
    actor.require_platform_admin()?;
    Ok(store::outbox(&state.db, 200)
        .await?
        .into_iter()
        .map(|r| OutboxEntry {
            message_id: r.message_id,
            channel: r.channel,
            address_masked: r.address_masked,
            subject: r.subject,
            text: r.body,
            created_at: r.created_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_prefixes_cover_what_is_under_them() {
        let p = |c: &str| region_prefix(&RegionCode::parse(c).unwrap());
        assert_eq!(p("990000"), "99");
        assert_eq!(p("990100"), "9901");
        assert_eq!(p("990102"), "990102");
        assert_eq!(p("990102001"), "990102001");
        assert_eq!(p("990102001001"), "990102001001");
    }

    #[test]
    fn age_bands_are_birth_date_bounds() {
        let day = time::Date::from_calendar_date(2026, time::Month::February, 28).unwrap();
        assert_eq!(
            identity::service::birth_date_years_before(day, 60),
            "1966-02-28"
        );
        let leap = time::Date::from_calendar_date(2024, time::Month::February, 29).unwrap();
        assert_eq!(
            identity::service::birth_date_years_before(leap, 1),
            "2023-02-28"
        );
    }
}

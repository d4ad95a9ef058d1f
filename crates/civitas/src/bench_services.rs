//! `civitas bench services`: application submissions per second over HTTP from a separate
//! load process — each one the whole once-only path: the resident's record and wallet read,
//! a household record fetched through the exchange gateway under an agreement (signed and
//! audited into her footprint), the form pre-filled, the draft, materials and timeline
//! written, then submitted (checked, a case with its working-day clock, a notice in her
//! inbox, audited) — beside the same server's /healthz; the demo's figures (materials
//! satisfied without upload, processing days against the statutory limits); and the
//! messaging fan-out of one notice to a million residents beside a bare bulk insert.

use anyhow::Context as _;
use kernel::on_pool;
use serde::Serialize;
use serde_json::json;

/// Figures of one services benchmark run.
#[derive(Debug, Serialize)]
pub struct ServicesFigures {
    /// Always `services`.
    pub bench: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Concurrent connections of the load process.
    pub connections: usize,
    /// Applications submitted during the measured seconds.
    pub submissions: u64,
    /// Submissions per second (pre-filled through the gateway, audited).
    pub submissions_per_s: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// /healthz per second on the same server (the ceiling).
    pub ceiling_per_s: f64,
    /// submissions_per_s / ceiling_per_s.
    pub ratio: f64,
    /// Share of the materials of the demo's submitted applications attached without an
    /// upload (certificates and exchange records).
    pub materials_auto_share: f64,
    /// Share of the catalogue's required materials the government can supply.
    pub catalogue_auto_share: f64,
    /// Average working days of the demo's finished cases.
    pub demo_days: f64,
    /// Average statutory limit of those cases, working days.
    pub demo_statutory_days: f64,
    /// Seconds to fan one notice out to 1M residents (scaled when fewer were asked for).
    pub fanout_1m_s: Option<f64>,
    /// Seconds to bulk-insert the same rows into a bare table (reference).
    pub bulk_insert_1m_s: Option<f64>,
    /// Residents the fan-out reached.
    pub fanout_recipients: Option<i64>,
}

const BENCH_ITEM: &str = "bench-residence-certificate";

/// Runs the services benchmark; `recipients = 0` skips the fan-out.
pub async fn services(
    config: &kernel::config::Config,
    connections: usize,
    seconds: f64,
    recipients: i64,
) -> anyhow::Result<ServicesFigures> {
    let (app, demo) = crate::bench::ScratchDemo::start(config).await?;
    let state = demo.state.clone();
    let base = demo.base.clone();
    let admin = crate::demo::system_admin();
    // The demo's own figures, before the benchmark adds its applications.
    let stats = services::service::statistics(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let catalogue = services::service::catalogue(&state, &Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (required, supplied) = catalogue
        .iter()
        .flat_map(|i| i.definition.materials.iter())
        .filter(|m| m.required)
        .fold((0, 0), |(r, s), m| {
            (
                r + 1,
                s + usize::from(m.certificate.is_some() || m.resource.is_some()),
            )
        });
    // A residence certificate (居住证明) at the emergency management bureau, which gets
    // its own agreement for household records with room for the load.
    let (org,): (String,) = on_pool!(state.db.read(), |c| sqlx::query_as(
        "SELECT id FROM organisations WHERE name = '示例市应急管理局'"
    )
    .fetch_one(c)
    .await)
    .context("the demo has no emergency management bureau")?;
    let request = exchange::service::file_request(
        &state,
        &admin,
        exchange::model::NewRequest {
            resource: "household-registration".into(),
            consumer_org_id: Some(org.clone()),
            fields: vec!["household_number".into(), "relation_to_head".into()],
            purpose: "居住证明办理".into(),
            legal_basis: "《居住证暂行条例》第九条".into(),
            statutory: true,
            expected_calls_per_day: 1_000_000,
        },
    )
    .await?;
    crate::bench_exchange::approve_for_load(&state, &admin, &request.id).await?;
    let definition: services::model::ServiceDefinition = serde_json::from_value(json!({
        "code": BENCH_ITEM, "name": "居住证明开具", "summary": "开具本人户籍与居住情况证明。",
        "departments": [org], "legal_basis": "《居住证暂行条例》第九条",
        "statutory_days": 5, "committed_days": 1,
        "materials": [
            {"key": "household", "name": "户籍信息", "resource": {"code": "household-registration", "fields": ["household_number", "relation_to_head"]}},
            {"key": "resident-card", "name": "居民身份证", "certificate": "resident-card", "upload": true}],
        "form": {"type": "object", "properties": {
            "name": {"type": "string", "title": "姓名"},
            "resident_id": {"type": "string", "title": "公民身份号码"},
            "address": {"type": "string", "title": "居住地址"},
            "household_number": {"type": "string", "title": "户号"}},
            "required": ["name", "resident_id", "household_number"]},
        "field_sources": {"name": "profile.name", "resident_id": "profile.resident_id", "address": "profile.address",
            "household_number": "resource.household-registration.household_number"},
        "steps": [{"kind": "accept", "role": "clerk"}, {"kind": "finish", "role": "clerk"}]
    }))?;
    services::service::define_item(&state, &admin, definition)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (login, _) = identity::service::login(
        &state,
        identity::model::LoginRequest {
            username: "demo-elder".into(),
            password: crate::demo::DEMO_PASSWORD.into(),
        },
    )
    .await?;
    let file = demo.dir.path().join("submissions.lines");
    std::fs::write(
        &file,
        format!(
            "POST /api/v1/applications {}\n",
            json!({"item": BENCH_ITEM, "fetch": true, "submit": true})
        ),
    )?;
    tokio::spawn(app.run_until_stopped());
    // One submission first: it must go through whole, with both materials attached.
    let probe: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(&login.token)
        .json(&json!({"item": BENCH_ITEM, "fetch": true, "submit": true}))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        probe["state"] == "submitted"
            && probe["materials"]
                .as_array()
                .is_some_and(|m| m.iter().all(|m| m["source"] != "missing")),
        "the benchmark's application was not submitted whole: {probe}"
    );
    let before = count(&state, "application.submit").await?;
    let fetches_before = count(&state, "exchange.read").await?;
    let ceiling =
        crate::bench_exchange::healthz_ceiling(&base, demo.dir.path(), connections, seconds)
            .await?;
    eprintln!("measuring submissions for {seconds} s with {connections} connections…");
    let result = crate::bench_exchange::run_load(
        &base,
        &file,
        Some(&login.token),
        connections,
        seconds,
        &crate::bench_exchange::LoadOptions {
            once: false,
            expect: Some("\"state\":\"submitted\"".into()),
        },
    )
    .await?;
    anyhow::ensure!(
        result.errors == 0,
        "{} submissions failed during the run",
        result.errors
    );
    let submitted = count(&state, "application.submit").await? - before;
    let fetched = count(&state, "exchange.read").await? - fetches_before;
    anyhow::ensure!(
        submitted as u64 >= result.ok && fetched as u64 >= result.ok,
        "{} submissions answered but {submitted} audited and {fetched} gateway fetches",
        result.ok
    );
    let store = demo.finish().await?;
    let (fanout_1m_s, bulk_insert_1m_s, fanout_recipients) = if recipients > 0 {
        let m = crate::bench_messaging::messaging(config, recipients).await?;
        (
            Some(m.fanout_1m_s),
            Some(m.bulk_insert_1m_s),
            Some(m.recipients),
        )
    } else {
        (None, None, None)
    };
    let per_s = (result.ok as f64 / result.elapsed_s).round();
    let ceiling_per_s = (ceiling.ok as f64 / ceiling.elapsed_s).round();
    let round = crate::bench::round3;
    Ok(ServicesFigures {
        bench: "services",
        store,
        connections,
        submissions: result.ok,
        submissions_per_s: per_s,
        p50_ms: result.p50_ms,
        p99_ms: result.p99_ms,
        ceiling_per_s,
        ratio: round(per_s / ceiling_per_s.max(1.0)),
        materials_auto_share: round(stats.total.materials_without_upload.unwrap_or(0.0)),
        catalogue_auto_share: round(supplied as f64 / required.max(1) as f64),
        demo_days: round(stats.total.average_days.unwrap_or(0.0)),
        demo_statutory_days: round(stats.total.statutory_days.unwrap_or(0.0)),
        fanout_1m_s,
        bulk_insert_1m_s,
        fanout_recipients,
    })
}

async fn count(state: &kernel::AppState, action: &str) -> anyhow::Result<i64> {
    state
        .audit
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(on_pool!(state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_records WHERE action = $1 AND outcome = 'success'"
    )
    .bind(action)
    .fetch_one(c)
    .await)?)
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_services(f: &ServicesFigures) {
    println!(
        "civitas bench services — store: {}, {} connections",
        f.store, f.connections
    );
    println!("{:<58} {:>12}", "", "value");
    println!(
        "{:<58} {:>12.0}",
        "/healthz per second (ceiling)", f.ceiling_per_s
    );
    println!(
        "{:<58} {:>12.0}",
        "submissions per second (pre-fill via gateway, audited)", f.submissions_per_s
    );
    println!("{:<58} {:>12.3}", "  p50 ms", f.p50_ms);
    println!("{:<58} {:>12.3}", "  p99 ms", f.p99_ms);
    println!("{:<58} {:>12.3}", "ratio (submissions / healthz)", f.ratio);
    println!(
        "{:<58} {:>11.1}%",
        "demo: materials attached without upload (paper: −74%)",
        f.materials_auto_share * 100.0
    );
    println!(
        "{:<58} {:>11.1}%",
        "catalogue: required materials the government supplies",
        f.catalogue_auto_share * 100.0
    );
    println!(
        "{:<58} {:>5.1} / {:<5.1}",
        "demo: working days taken / statutory (paper: −72%)", f.demo_days, f.demo_statutory_days
    );
    if let (Some(fan), Some(bulk)) = (f.fanout_1m_s, f.bulk_insert_1m_s) {
        println!(
            "{:<58} {:>12.3}",
            "fan-out of one notice, per 1M residents, s (goal < 10)", fan
        );
        println!(
            "{:<58} {:>12.3}",
            "bare bulk insert of the same rows, per 1M, s (reference)", bulk
        );
    }
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

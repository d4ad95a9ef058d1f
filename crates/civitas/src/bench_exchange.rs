//! `civitas bench exchange`: signed, audited gateway calls per second over HTTP, driven by
//! a separate load-generating process (`civitas bench load`, 64 keep-alive connections by
//! default), beside the same server's rate for the unaudited, unsigned `/healthz` — the
//! framework ceiling — measured in the same run.
//!
//! The server runs in this process on a scratch store (a temporary folder for SQLite, a
//! scratch schema on the named PostgreSQL server) seeded with the demo city; calls go to
//! the demo's household registration, one of its 1,203 residents at a time, as the civil
//! affairs bureau's system account under a statutory agreement.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use kernel::AppState;
use kernel::on_pool;
use serde::{Deserialize, Serialize};

use crate::bench::{percentile, round3};

/// Figures of one exchange benchmark run.
#[derive(Debug, Serialize)]
pub struct ExchangeFigures {
    /// Always `exchange`.
    pub bench: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Concurrent connections of the load generator.
    pub connections: usize,
    /// Seconds measured per phase.
    pub seconds: f64,
    /// Gateway calls served (200, signed, audited).
    pub calls: u64,
    /// Gateway calls per second.
    pub calls_per_s: f64,
    /// Gateway latency, median, milliseconds.
    pub p50_ms: f64,
    /// Gateway latency, 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// `/healthz` requests per second (the ceiling).
    pub ceiling_per_s: f64,
    /// `/healthz` latency, median, milliseconds.
    pub ceiling_p50_ms: f64,
    /// `/healthz` latency, 99th percentile, milliseconds.
    pub ceiling_p99_ms: f64,
    /// calls_per_s / ceiling_per_s.
    pub ratio: f64,
}

/// What one load phase measured (printed by `civitas bench load` as JSON).
#[derive(Debug, Serialize, Deserialize)]
pub struct LoadResult {
    /// Requests answered 200.
    pub ok: u64,
    /// Requests answered otherwise, or failed.
    pub errors: u64,
    /// Seconds measured.
    pub elapsed_s: f64,
    /// Median latency of all requests, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// One request of a load phase: a line `/path` is a GET, `POST /path {json}` a POST.
#[derive(Debug, Clone)]
enum Call {
    Get(String),
    Post(String, String),
}

impl Call {
    fn parse(line: &str) -> Call {
        match line
            .strip_prefix("POST ")
            .and_then(|rest| rest.split_once(' '))
        {
            Some((path, body)) => Call::Post(path.to_string(), body.to_string()),
            None => Call::Get(line.to_string()),
        }
    }
}

/// How a load phase sends and counts its requests.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Send each line once (then stop), instead of round robin: for requests that may
    /// succeed only once, such as scanning a pass.
    pub once: bool,
    /// A request counts as served only if its answer contains this text.
    pub expect: Option<String>,
}

/// The load generator: `connections` tasks, each with one keep-alive connection, sending
/// the requests of `lines` to `base` for `warmup` then `seconds`, counting only the
/// measured part. Runs as its own process so its CPU use is not the server's.
pub async fn load(
    base: &str,
    lines: Vec<String>,
    token: Option<String>,
    connections: usize,
    warmup: f64,
    seconds: f64,
    options: LoadOptions,
) -> anyhow::Result<LoadResult> {
    anyhow::ensure!(!lines.is_empty(), "no requests to send");
    let calls: std::sync::Arc<Vec<Call>> =
        std::sync::Arc::new(lines.iter().map(|l| Call::parse(l)).collect());
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let options = std::sync::Arc::new(options);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(warmup);
    let stop = measure_from + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for c in 0..connections {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let calls = calls.clone();
        let next = next.clone();
        let options = options.clone();
        let base = base.to_string();
        let auth = token.as_ref().map(|t| format!("Bearer {t}"));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut last_done = measure_from;
            let mut i = c * 7919;
            loop {
                let now = Instant::now();
                if now >= stop {
                    break;
                }
                let call = if options.once {
                    match calls.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                        Some(call) => call,
                        None => break,
                    }
                } else {
                    i += 1;
                    &calls[(i - 1) % calls.len()]
                };
                let mut request = match call {
                    Call::Get(path) => client.get(format!("{base}{path}")),
                    Call::Post(path, body) => client
                        .post(format!("{base}{path}"))
                        .header("content-type", "application/json")
                        .body(body.clone()),
                };
                if let Some(auth) = &auth {
                    request = request.header("authorization", auth);
                }
                let good = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(body) => {
                                status.is_success()
                                    && options.expect.as_ref().is_none_or(|text| {
                                        body.windows(text.len()).any(|w| w == text.as_bytes())
                                    })
                            }
                            Err(_) => false,
                        }
                    }
                    Err(_) => false,
                };
                if now >= measure_from {
                    latencies.push(now.elapsed());
                    last_done = Instant::now();
                    if good {
                        ok += 1;
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, ok, errors, last_done)
        }));
    }
    let mut all = Vec::new();
    let (mut ok, mut errors) = (0, 0);
    let mut last_done = measure_from;
    for task in tasks {
        let (l, o, e, done) = task.await?;
        all.extend(l);
        ok += o;
        errors += e;
        last_done = last_done.max(done);
    }
    all.sort_unstable();
    // A phase whose requests ran out ended early: its rate is over the time it ran.
    let elapsed_s = if options.once {
        (last_done - measure_from)
            .as_secs_f64()
            .clamp(0.001, seconds)
    } else {
        seconds
    };
    Ok(LoadResult {
        ok,
        errors,
        elapsed_s,
        p50_ms: round3(percentile(&all, 0.50)),
        p99_ms: round3(percentile(&all, 0.99)),
    })
}

/// Runs one load phase in a child process and reads its result.
/// The framework's ceiling: `/healthz` (unaudited, unsigned) driven from the load process
/// on the same server and connections as the measured calls.
pub(crate) async fn healthz_ceiling(
    base: &str,
    scratch: &std::path::Path,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<LoadResult> {
    let file = scratch.join("healthz.paths");
    std::fs::write(&file, "/healthz\n")?;
    eprintln!("measuring /healthz for {seconds} s with {connections} connections…");
    run_load(
        base,
        &file,
        None,
        connections,
        seconds,
        &LoadOptions::default(),
    )
    .await
}

/// Approves a bench's sharing request as statutory with room for any load (1,000,000
/// calls a minute).
pub(crate) async fn approve_for_load(
    state: &kernel::AppState,
    admin: &kernel::auth::Principal,
    request_id: &str,
) -> anyhow::Result<()> {
    exchange::service::decide(
        state,
        admin,
        request_id,
        exchange::model::Decision {
            approve: true,
            reason: None,
            fields: None,
            expires_at: None,
            rate_limit_per_minute: Some(1_000_000),
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn run_load(
    base: &str,
    paths_file: &std::path::Path,
    token: Option<&str>,
    connections: usize,
    seconds: f64,
    options: &LoadOptions,
) -> anyhow::Result<LoadResult> {
    let exe = std::env::current_exe().context("cannot find the civitas binary")?;
    let mut command = tokio::process::Command::new(exe);
    command
        .args(["bench", "load", "--base", base, "--paths"])
        .arg(paths_file)
        .args(["--connections", &connections.to_string()])
        .args(["--seconds", &seconds.to_string()])
        .env_remove("CIVITAS_BENCH_TOKEN")
        .stderr(std::process::Stdio::inherit());
    if options.once {
        command.arg("--once");
    }
    if let Some(expect) = &options.expect {
        command.args(["--expect", expect]);
    }
    if let Some(token) = token {
        // Passed in the environment, not the command line that `ps` shows.
        command.env("CIVITAS_BENCH_TOKEN", token);
    }
    let output = command.output().await?;
    anyhow::ensure!(output.status.success(), "the load generator failed");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("unreadable load result: {line}"))
}

async fn count_gateway_records(state: &AppState) -> anyhow::Result<i64> {
    state
        .audit
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(on_pool!(state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_records WHERE action = 'exchange.read' AND outcome = 'success'"
    )
    .fetch_one(c)
    .await)?)
}

/// The demo residents' resident IDs, opened from the scratch store.
async fn demo_subjects(state: &AppState) -> anyhow::Result<Vec<String>> {
    let sealed: Vec<Vec<u8>> = on_pool!(state.db.read(), |c| sqlx::query_scalar(
        "SELECT resident_id_enc FROM persons ORDER BY id LIMIT 5000"
    )
    .fetch_all(c)
    .await)?;
    sealed
        .iter()
        .map(|s| state.vault.open(s, identity::service::CTX_RESIDENT_ID))
        .collect()
}

/// Runs the exchange benchmark on the store `config` names (in a scratch area).
pub async fn exchange(
    config: &kernel::config::Config,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<ExchangeFigures> {
    let (app, demo) = crate::bench::ScratchDemo::start(config).await?;
    let state = demo.state.clone();
    let base = demo.base.clone();
    let scratch = &demo.dir;

    // A statutory agreement with a rate limit far above what one machine serves.
    let admin = crate::demo::system_admin();
    let orgs: Vec<(String, String)> = on_pool!(state.db.read(), |c| sqlx::query_as(
        "SELECT id, name FROM organisations WHERE name IN ('示例市民政局')"
    )
    .fetch_all(c)
    .await)?;
    let civil = orgs
        .first()
        .map(|(id, _)| id.clone())
        .context("the demo has no civil affairs bureau")?;
    let request = exchange::service::file_request(
        &state,
        &admin,
        exchange::model::NewRequest {
            resource: "household-registration".into(),
            consumer_org_id: Some(civil),
            fields: vec![
                "name".into(),
                "household_number".into(),
                "relation_to_head".into(),
            ],
            purpose: "基准测试：最低生活保障家庭成员核对".into(),
            legal_basis: "《社会救助暂行办法》第十一条".into(),
            statutory: true,
            expected_calls_per_day: 100_000_000,
        },
    )
    .await?;
    approve_for_load(&state, &admin, &request.id).await?;
    let (login, _) = identity::service::login(
        &state,
        identity::model::LoginRequest {
            username: "demo-system-civil".into(),
            password: crate::demo::DEMO_PASSWORD.into(),
        },
    )
    .await?;
    let subjects = demo_subjects(&state).await?;

    let gateway_file = scratch.path().join("gateway.paths");
    let mut f = std::fs::File::create(&gateway_file)?;
    for s in &subjects {
        writeln!(f, "/api/v1/exchange/household-registration/records/{s}")?;
    }
    drop(f);

    tokio::spawn(app.run_until_stopped());
    // One call first: it must be served, signed with a published key, and audited.
    let client = reqwest::Client::new();
    let probe = client
        .get(format!(
            "{base}/api/v1/exchange/household-registration/records/{}",
            subjects.first().context("no demo residents")?
        ))
        .bearer_auth(&login.token)
        .send()
        .await?;
    anyhow::ensure!(
        probe.status().is_success(),
        "the gateway refused the benchmark's call: {}",
        probe.status()
    );
    let headers = probe.headers().clone();
    let body = probe.bytes().await?;
    let keys = exchange::gateway::published_keys(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    exchange::gateway::verify_response(&keys, 200, &headers, &body)
        .map_err(|e| anyhow::anyhow!("the gateway's signature does not verify: {e}"))?;

    let ceiling = healthz_ceiling(&base, scratch.path(), connections, seconds).await?;
    let before = count_gateway_records(&state).await?;
    eprintln!("measuring the gateway for {seconds} s with {connections} connections…");
    let gateway = run_load(
        &base,
        &gateway_file,
        Some(&login.token),
        connections,
        seconds,
        &LoadOptions::default(),
    )
    .await?;
    let after = count_gateway_records(&state).await?;
    anyhow::ensure!(
        gateway.errors == 0,
        "{} gateway calls failed during the run",
        gateway.errors
    );
    // Every served call (warm-up included) has its audit record.
    anyhow::ensure!(
        (after - before) as u64 >= gateway.ok,
        "audit records ({}) fewer than served calls ({})",
        after - before,
        gateway.ok
    );
    let store = demo.finish().await?;
    let calls_per_s = gateway.ok as f64 / gateway.elapsed_s;
    let ceiling_per_s = ceiling.ok as f64 / ceiling.elapsed_s;
    Ok(ExchangeFigures {
        bench: "exchange",
        store,
        connections,
        seconds,
        calls: gateway.ok,
        calls_per_s: calls_per_s.round(),
        p50_ms: gateway.p50_ms,
        p99_ms: gateway.p99_ms,
        ceiling_per_s: ceiling_per_s.round(),
        ceiling_p50_ms: ceiling.p50_ms,
        ceiling_p99_ms: ceiling.p99_ms,
        ratio: round3(calls_per_s / ceiling_per_s.max(1.0)),
    })
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_exchange(f: &ExchangeFigures) {
    println!(
        "civitas bench exchange — store: {}, {} connections from a separate process, {} s per phase",
        f.store, f.connections, f.seconds
    );
    println!(
        "{:<44} {:>12} {:>10} {:>10}",
        "", "per second", "p50 ms", "p99 ms"
    );
    println!(
        "{:<44} {:>12.0} {:>10.3} {:>10.3}",
        "/healthz (unaudited, unsigned: ceiling)",
        f.ceiling_per_s,
        f.ceiling_p50_ms,
        f.ceiling_p99_ms
    );
    println!(
        "{:<44} {:>12.0} {:>10.3} {:>10.3}",
        "gateway calls (checked, signed, audited)", f.calls_per_s, f.p50_ms, f.p99_ms
    );
    println!(
        "ratio (gateway / ceiling): {:.3}  (goal: ≥ 5,000 calls/s with p99 < 25 ms)",
        f.ratio
    );
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

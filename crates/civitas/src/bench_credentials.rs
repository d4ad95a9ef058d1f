//! `civitas bench credentials`: full verifications of a signed certificate per second —
//! parse the JSON text, canonicalise (RFC 8785), hash, verify Ed25519, look the index up
//! in a cached status bitstring — on one core and on both, beside the bare Ed25519
//! verification rate of the same library in the same run (the physical limit); and the
//! same for issuance (build, canonicalise, hash, sign, serialise) against bare signing.
//! Each figure and its reference run in alternating tenths of a second.
//! Then pass scans over HTTP from a separate load process beside `/healthz` on the same
//! server ([`pass_scans`]).

use std::time::{Duration, Instant};

use credentials::integrity::{self, ProofOptions};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
use serde::Serialize;
use serde_json::{Value, json};

/// Figures of one credentials benchmark run.
#[derive(Debug, Serialize)]
pub struct CredentialFigures {
    /// Always `credentials`.
    pub bench: &'static str,
    /// Seconds measured per figure.
    pub seconds: f64,
    /// Size of the signed certificate, bytes.
    pub credential_bytes: usize,
    /// Full verifications per second on one core.
    pub verify_per_s: f64,
    /// Bare Ed25519 verifications per second on one core.
    pub bare_verify_per_s: f64,
    /// verify_per_s / bare_verify_per_s.
    pub verify_ratio: f64,
    /// Full verifications per second on every core.
    pub verify_all_cores_per_s: f64,
    /// Bare Ed25519 verifications per second on every core.
    pub bare_verify_all_cores_per_s: f64,
    /// verify_all_cores_per_s / bare_verify_all_cores_per_s.
    pub verify_all_cores_ratio: f64,
    /// Cores used for the all-core figures.
    pub cores: usize,
    /// Issuances per second on one core.
    pub issue_per_s: f64,
    /// Bare Ed25519 signatures per second on one core.
    pub bare_sign_per_s: f64,
    /// issue_per_s / bare_sign_per_s.
    pub issue_ratio: f64,
    /// Store of the HTTP phase: `sqlite` or `postgres`.
    pub store: Option<&'static str>,
    /// Concurrent connections of the HTTP phase's load generator.
    pub connections: Option<usize>,
    /// Pass scans (verify, check, use up, audit) per second over HTTP.
    pub pass_verify_http_per_s: Option<f64>,
    /// Pass scan latency, median, milliseconds.
    pub pass_p50_ms: Option<f64>,
    /// Pass scan latency, 99th percentile, milliseconds.
    pub pass_p99_ms: Option<f64>,
    /// `/healthz` requests per second on the same server and connections (the ceiling).
    pub http_ceiling_per_s: Option<f64>,
    /// pass_verify_http_per_s / http_ceiling_per_s.
    pub pass_ratio: Option<f64>,
}

impl CredentialFigures {
    /// Adds the HTTP phase's figures.
    pub fn add_pass_scans(&mut self, scans: &PassScanFigures) {
        self.store = Some(scans.store);
        self.connections = Some(scans.connections);
        self.pass_verify_http_per_s = Some(scans.per_s);
        self.pass_p50_ms = Some(scans.p50_ms);
        self.pass_p99_ms = Some(scans.p99_ms);
        self.http_ceiling_per_s = Some(scans.ceiling_per_s);
        self.pass_ratio = Some(crate::bench::round3(
            scans.per_s / scans.ceiling_per_s.max(1.0),
        ));
    }
}

/// Figures of the pass-scan phase.
#[derive(Debug, Serialize)]
pub struct PassScanFigures {
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Concurrent connections.
    pub connections: usize,
    /// Accepted scans measured.
    pub scans: u64,
    /// Accepted scans per second.
    pub per_s: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// `/healthz` per second (unaudited, unsigned: the framework's ceiling).
    pub ceiling_per_s: f64,
}

/// Runs `op` on `threads` threads for `seconds`; returns (operations, seconds taken).
fn run(threads: usize, seconds: f64, op: &(impl Fn() -> bool + Sync)) -> (u64, f64) {
    let stop = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < stop {
                        for _ in 0..64 {
                            if op() {
                                n += 1;
                            }
                        }
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    (counts.iter().sum(), started.elapsed().as_secs_f64())
}

/// A reference and a measured operation's rates per second and their ratio.
struct Paired {
    reference: f64,
    measured: f64,
    ratio: f64,
}

/// Rates of a reference and a measured operation on `threads` threads for `seconds`
/// each, taken in alternating tenths of a second: a shared machine that slows down for a
/// while slows both alike, so their ratio holds.
fn paired_rates(
    threads: usize,
    seconds: f64,
    reference: impl Fn() -> bool + Sync,
    measured: impl Fn() -> bool + Sync,
) -> anyhow::Result<Paired> {
    let slices = ((seconds / 0.1).round() as usize).max(1);
    let slice = seconds / slices as f64;
    let (mut ref_n, mut ref_s, mut n, mut s) = (0u64, 0f64, 0u64, 0f64);
    for _ in 0..slices {
        let (count, took) = run(threads, slice, &reference);
        ref_n += count;
        ref_s += took;
        let (count, took) = run(threads, slice, &measured);
        n += count;
        s += took;
    }
    anyhow::ensure!(
        ref_n > 0 && n > 0,
        "the benchmark's operation never succeeded"
    );
    let (reference, measured) = (ref_n as f64 / ref_s, n as f64 / s);
    Ok(Paired {
        reference,
        measured,
        ratio: measured / reference,
    })
}

/// The claims of a realistic certificate (a senior citizen card).
fn claims(n: u64) -> Value {
    json!({
        "id": format!("urn:civitas:person:01a20000-0000-7000-8000-{n:012}"),
        "name": "李秀英",
        "birth_date": "1944-03-08",
        "card_number": format!("LYZ-990100-{n:06}"),
    })
}

fn unsigned(n: u64, issuer: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": format!("urn:uuid:01a20000-0000-7000-8000-{n:012}"),
        "type": ["VerifiableCredential", "CivitasCertificate"],
        "name": "老年人优待证",
        "issuer": {"id": issuer, "name": "示例市民政局"},
        "validFrom": "2026-11-22T00:00:00Z",
        "validUntil": "2036-11-20T00:00:00Z",
        "credentialSubject": claims(n),
        "credentialSchema": {"id": "https://civitas.example/api/v1/credentials/types/senior-citizen-card/schema", "type": "JsonSchema"},
        "credentialStatus": {
            "id": "https://civitas.example/status/1#4242",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "4242",
            "statusListCredential": "https://civitas.example/status/1"
        }
    })
}

/// Runs the benchmark.
pub fn credentials(seconds: f64) -> anyhow::Result<CredentialFigures> {
    let key = SigningKey::from_bytes(&[42u8; 32]);
    let public = key.verifying_key();
    let method = integrity::did_key_method(&public);
    let issuer = method.split('#').next().unwrap_or_default().to_string();
    let options = ProofOptions {
        created: "2026-11-22T00:00:00Z".into(),
        verification_method: method.clone(),
        proof_purpose: "assertionMethod".into(),
    };
    let signed = integrity::sign(&unsigned(1, &issuer), &key, &options)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = signed.to_string();
    // A cached status list: 131,072 entries (16 KiB), nothing revoked.
    let status_list = vec![0u8; 16 * 1024];

    let full_verify = || {
        let Ok(document) = serde_json::from_str::<Value>(&text) else {
            return false;
        };
        let verified = integrity::verify(&document, |m| (m == method).then_some(public)).is_ok();
        let index: usize = document["credentialStatus"]["statusListIndex"]
            .as_str()
            .and_then(|i| i.parse().ok())
            .unwrap_or(usize::MAX);
        let revoked = status_list
            .get(index / 8)
            .map(|byte| byte & (0x80 >> (index % 8)) != 0)
            .unwrap_or(true);
        verified && !revoked
    };
    let message = [7u8; 64];
    let bare_signature = key.sign(&message);
    let bare_verify = || {
        public
            .verify(std::hint::black_box(&message), &bare_signature)
            .is_ok()
    };
    let counter = std::sync::atomic::AtomicU64::new(0);
    let issue = || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        integrity::sign_owned(unsigned(n, &issuer), &key, &options)
            .map(|signed| !signed.to_string().is_empty())
            .unwrap_or(false)
    };
    let bare_sign = || {
        std::hint::black_box(key.sign(std::hint::black_box(&message)));
        true
    };

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    eprintln!("measuring, {seconds} s per figure…");
    let verify = paired_rates(1, seconds, bare_verify, full_verify)?;
    let verify_all = paired_rates(cores, seconds, bare_verify, full_verify)?;
    let issuing = paired_rates(1, seconds, bare_sign, issue)?;
    Ok(CredentialFigures {
        bench: "credentials",
        seconds,
        credential_bytes: text.len(),
        verify_per_s: verify.measured.round(),
        bare_verify_per_s: verify.reference.round(),
        verify_ratio: crate::bench::round3(verify.ratio),
        verify_all_cores_per_s: verify_all.measured.round(),
        bare_verify_all_cores_per_s: verify_all.reference.round(),
        verify_all_cores_ratio: crate::bench::round3(verify_all.ratio),
        cores,
        issue_per_s: issuing.measured.round(),
        bare_sign_per_s: issuing.reference.round(),
        issue_ratio: crate::bench::round3(issuing.ratio),
        store: None,
        connections: None,
        pass_verify_http_per_s: None,
        pass_p50_ms: None,
        pass_p99_ms: None,
        http_ceiling_per_s: None,
        pass_ratio: None,
    })
}

/// Prints the figures as a table, then one line of JSON.
pub fn print_credentials(f: &CredentialFigures) {
    println!(
        "civitas bench credentials — a {}-byte signed certificate, {} s per figure, in tenths alternating with its reference",
        f.credential_bytes, f.seconds
    );
    println!(
        "{:<52} {:>12} {:>12}",
        "",
        "1 core/s",
        &format!("{} cores/s", f.cores)
    );
    println!(
        "{:<52} {:>12.0} {:>12.0}",
        "bare Ed25519 verification (the limit)", f.bare_verify_per_s, f.bare_verify_all_cores_per_s
    );
    println!(
        "{:<52} {:>12.0} {:>12.0}",
        "full verification (parse, JCS, hash, Ed25519, status)",
        f.verify_per_s,
        f.verify_all_cores_per_s
    );
    println!("{:<52} {:>12.0}", "bare Ed25519 signing", f.bare_sign_per_s);
    println!(
        "{:<52} {:>12.0}",
        "issuance (build, JCS, hash, sign, serialise)", f.issue_per_s
    );
    if let (Some(per_s), Some(p50), Some(p99), Some(ceiling)) = (
        f.pass_verify_http_per_s,
        f.pass_p50_ms,
        f.pass_p99_ms,
        f.http_ceiling_per_s,
    ) {
        println!(
            "over HTTP ({}, {} connections from a separate process):",
            f.store.unwrap_or_default(),
            f.connections.unwrap_or_default()
        );
        println!(
            "{:<52} {:>12.0}",
            "/healthz (unaudited, unsigned: the ceiling)", ceiling
        );
        println!(
            "{:<52} {:>12.0}   p50 {p50:.3} ms, p99 {p99:.3} ms, ratio {:.3}",
            "pass scans (verify, status, once, audit)",
            per_s,
            f.pass_ratio.unwrap_or_default()
        );
    }
    println!(
        "verify ratio {:.3} (goal ≥ 0.70; {:.3} on {} cores), issue ratio {:.3} (goal ≥ 0.60)",
        f.verify_ratio, f.verify_all_cores_ratio, f.cores, f.issue_ratio
    );
    println!("{}", serde_json::to_string(f).unwrap_or_default());
}

/// Pass scans over HTTP: the demo city in a scratch store, the server in this process, a
/// separate load process sending each of a batch of freshly signed senior transit passes
/// once as the demo bus driver. Every scan must be accepted (a refused or replayed one
/// fails the run), and every accepted scan must have its audit record and its row.
pub async fn pass_scans(
    config: &kernel::config::Config,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<PassScanFigures> {
    use anyhow::Context as _;
    use kernel::on_pool;
    let (app, demo) = crate::bench::ScratchDemo::start(config).await?;
    let state = demo.state.clone();
    let base = demo.base.clone();
    let (login, _) = identity::service::login(
        &state,
        identity::model::LoginRequest {
            username: "demo-driver".into(),
            password: crate::demo::DEMO_PASSWORD.into(),
        },
    )
    .await?;
    let (card, holder): (String, String) = on_pool!(state.db.read(), |c| {
        sqlx::query_as(
        "SELECT c.id, c.person_id FROM credentials c JOIN credential_types t ON t.id = c.type_id
         WHERE t.code = 'senior-citizen-card' AND c.status = 'active' LIMIT 1"
    )
    .fetch_one(c)
    .await
    })
    .context("the demo has no senior citizen card")?;
    let name = identity::service::name_and_age(&state, &holder)
        .await?
        .map(|(name, _)| name)
        .unwrap_or_default();
    let pass_type =
        credentials::passes::service::pass_type_for_signing(&state, "senior-transit").await?;
    // Enough passes for a rate well above what two cores serve; if they run out, the
    // phase ends early and its rate is over the time it ran.
    let count = (((1.0 + seconds) * 15_000.0) as usize).max(2_000);
    eprintln!("signing {count} passes…");
    let passes = credentials::passes::service::sign_passes(
        &state,
        &pass_type,
        &holder,
        &name,
        credentials::passes::model::Colour::Green,
        Some(&card),
        count,
    )
    .await?;
    let file = demo.dir.path().join("scans.lines");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file)?);
    for (_, token) in &passes {
        use std::io::Write as _;
        writeln!(
            f,
            "POST /api/v1/passes/scan {}",
            json!({"token": token, "checkpoint": "基准测试"})
        )?;
    }
    drop(f);
    drop(passes);
    let before_audit = count_scan_records(&state).await?;
    tokio::spawn(app.run_until_stopped());
    let ceiling =
        crate::bench_exchange::healthz_ceiling(&base, demo.dir.path(), connections, seconds)
            .await?;
    eprintln!("measuring pass scans for {seconds} s with {connections} connections…");
    let result = crate::bench_exchange::run_load(
        &base,
        &file,
        Some(&login.token),
        connections,
        seconds,
        &crate::bench_exchange::LoadOptions {
            once: true,
            expect: Some("\"accepted\":true".into()),
        },
    )
    .await?;
    anyhow::ensure!(
        result.errors == 0,
        "{} pass scans were refused or failed during the run",
        result.errors
    );
    let audited = count_scan_records(&state).await? - before_audit;
    let rows = credentials::passes::store::count_scans(&state.db, &pass_type.id).await?;
    // Every accepted scan (warm-up included) has its audit record and its row; the demo's
    // own bus ride is one row more.
    anyhow::ensure!(
        audited as u64 >= result.ok && rows as u64 > result.ok,
        "accepted scans {} but {audited} audit records and {rows} rows",
        result.ok
    );
    let store = demo.finish().await?;
    Ok(PassScanFigures {
        store,
        connections,
        scans: result.ok,
        per_s: (result.ok as f64 / result.elapsed_s).round(),
        p50_ms: result.p50_ms,
        p99_ms: result.p99_ms,
        ceiling_per_s: (ceiling.ok as f64 / ceiling.elapsed_s).round(),
    })
}

async fn count_scan_records(state: &kernel::AppState) -> anyhow::Result<i64> {
    state
        .audit
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(kernel::on_pool!(state.db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_records WHERE action = 'pass.scan' AND outcome = 'success'"
    )
    .fetch_one(c)
    .await)?)
}

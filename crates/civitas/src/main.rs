//! The `civitas` command: serve, migrate, manage accounts, verify the audit chain, bench.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use civitas::app::{Application, open_state};
use civitas::demo::{DEMO_ACCOUNTS, DEMO_PASSWORD};
use clap::{Parser, Subcommand};
use identity::model::{NewAccount, ResidentId, Username};
use kernel::auth::Role;
use kernel::config::Config;

/// Civitas: digital social services on one backbone of identity, audit and trust.
#[derive(Parser)]
#[command(name = "civitas", version, about)]
struct Cli {
    /// Configuration file (TOML); default `civitas.toml` if it exists.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data folder (embedded database, generated key).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// PostgreSQL URL (`postgres://…`); default is the embedded SQLite store.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Serve {
        /// Seed the demo city on first start (and generate a key if none is configured).
        #[arg(long)]
        demo: bool,
        /// Address to listen on.
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Work with e-certificates.
    Credential {
        #[command(subcommand)]
        command: CredentialCommand,
    },
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run the demo's stand-in provider system (serves the proxied resource
    /// minimum-living-allowance at /demo-provider/minimum-living-allowance/{subject}).
    DemoProvider {
        /// Address to listen on (port 0 picks a free one and prints it).
        #[arg(long, default_value = "127.0.0.1:8091")]
        bind: SocketAddr,
    },
    /// Drive a running demo server (no database needed): `demo replay-storm`.
    Demo {
        #[command(subcommand)]
        command: civitas::storm::Command,
    },
    /// Compute and test rules packages (no server or database needed).
    Rules {
        #[command(subcommand)]
        command: civitas::rules_cli::Command,
    },
    /// Check CAP alerts offline (no server or database needed).
    Cap {
        #[command(subcommand)]
        command: civitas::cap_cli::Command,
    },
    /// Measure a capability against its reference.
    Bench {
        #[command(subcommand)]
        area: BenchArea,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account; the password is read from standard input.
    Create {
        /// Login name.
        #[arg(long)]
        username: String,
        /// platform_admin, org_admin, reviewer, clerk, system or citizen.
        #[arg(long)]
        role: String,
        /// Unified social credit code of the organisation (staff roles).
        #[arg(long)]
        org: Option<String>,
        /// Resident ID number of the person (citizens).
        #[arg(long)]
        person: Option<String>,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Verify a credential (a JSON file) offline, against this installation's issuers;
    /// prints every check and exits 0 only when none failed.
    Verify {
        /// The credential.
        file: PathBuf,
        /// Make an issuer outside this platform's registry a warning, not a failure.
        #[arg(long)]
        trust_any_issuer: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every hash chain; exits non-zero naming the first broken record.
    Verify,
}

#[derive(Subcommand)]
enum BenchArea {
    /// Audited appends per second vs raw inserts, with concurrent writers.
    Audit {
        /// Concurrent writers.
        #[arg(long, default_value_t = 16)]
        writers: usize,
        /// Records per phase.
        #[arg(long, default_value_t = 40_000)]
        records: usize,
    },
    /// Signed, audited gateway calls per second over HTTP from a separate process, beside
    /// the same server's /healthz (the ceiling).
    Exchange {
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds measured per phase (after one second of warm-up).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Certificate verifications and issuances per second beside bare Ed25519, and pass
    /// scans per second over HTTP from a separate load process.
    Credentials {
        /// Seconds measured per CPU figure.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Seconds of pass scans measured over HTTP (after one second of warm-up); 0 skips
        /// them.
        #[arg(long, default_value_t = 10.0)]
        http_seconds: f64,
        /// Concurrent keep-alive connections for the pass scans.
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// The time to fan one notice out to many residents beside a bare bulk insert.
    Messaging {
        /// Synthetic residents the notice reaches.
        #[arg(long, default_value_t = 1_000_000)]
        recipients: i64,
    },
    /// Application submissions per second over HTTP (pre-filled through the gateway,
    /// audited) beside /healthz, the demo's materials and days, and the fan-out of one
    /// notice to a million residents beside a bare bulk insert.
    Services {
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Seconds measured per phase (after one second of warm-up).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Synthetic residents for the fan-out; 0 skips it.
        #[arg(long, default_value_t = 1_000_000)]
        recipients: i64,
    },
    /// The country template's basic_income, housing_allowance and parenting_allowance for
    /// a synthetic population: population mode on both cores, case mode in process and
    /// over HTTP, with explanations; beside OpenFisca with `--openfisca`.
    Rules {
        /// Persons in the population.
        #[arg(long, default_value_t = 1_000_000)]
        persons: usize,
        /// Households computed one at a time in case mode.
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        /// Concurrent keep-alive connections of the HTTP phase.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds of the HTTP phase.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// A Python with openfisca-core 46.0.1 and openfisca-country-template 8.2.0:
        /// runs bench/openfisca_rules.py on the same data and reports the ratios.
        #[arg(long)]
        openfisca: Option<PathBuf>,
    },
    /// Readings ingested per second over HTTP batches and over MQTT from a separate
    /// publisher process, beside Mosquitto's own pass-through rate in the same run.
    Safety {
        /// Seconds of HTTP batches.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Messages (one reading each) in each MQTT phase.
        #[arg(long, default_value_t = 200_000)]
        messages: u64,
        /// Residents the timed alert is targeted at.
        #[arg(long, default_value_t = 1_000_000)]
        residents: i64,
    },
    /// Care devices reporting over MQTT from a separate publisher, sustained: reading to
    /// first notice, escalation timers against their schedule, the node's CPU and memory.
    Eldercare {
        /// Devices (one elder each).
        #[arg(long, default_value_t = 10_000)]
        devices: usize,
        /// Seconds between a device's readings.
        #[arg(long, default_value_t = 10)]
        every: u64,
        /// Seconds the publisher runs.
        #[arg(long, default_value_t = 300.0)]
        seconds: f64,
        /// Seconds between low blood oxygen readings (one alert each).
        #[arg(long, default_value_t = 1.0)]
        alert_every: f64,
    },
    /// The care-device publisher `bench eldercare` runs as its own process.
    #[command(hide = true)]
    CarePublish {
        /// The broker.
        #[arg(long)]
        url: String,
        /// The topic prefix (readings go to `{topic}/CB-00000…`).
        #[arg(long)]
        topic: String,
        /// Devices.
        #[arg(long)]
        devices: usize,
        /// Seconds between a device's readings.
        #[arg(long)]
        every: u64,
        /// Seconds to run.
        #[arg(long)]
        seconds: f64,
        /// Seconds between alerting readings.
        #[arg(long)]
        alert_every: f64,
    },
    /// The MQTT publisher `bench safety` runs as its own process.
    #[command(hide = true)]
    MqttPublish {
        /// The broker.
        #[arg(long)]
        url: String,
        /// The topic prefix (messages go to `{topic}/RG-0000…`).
        #[arg(long)]
        topic: String,
        /// Stations the messages are spread over.
        #[arg(long)]
        stations: usize,
        /// Messages to publish.
        #[arg(long)]
        messages: u64,
        /// The first reading's time, microseconds since the epoch.
        #[arg(long)]
        start: i64,
    },
    /// The load generator `bench exchange` runs as its own process.
    #[command(hide = true)]
    Load {
        /// Server base URL.
        #[arg(long)]
        base: String,
        /// File of paths to request, one per line (round robin).
        #[arg(long)]
        paths: PathBuf,
        /// Bearer token (from the environment).
        #[arg(long, env = "CIVITAS_BENCH_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds measured.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Send each line once, then stop.
        #[arg(long)]
        once: bool,
        /// Count an answer as served only if it contains this text.
        #[arg(long)]
        expect: Option<String>,
    },
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(data) = &cli.data {
        config.data_dir = data.clone();
    }
    if let Some(url) = &cli.database_url {
        config.database_url = Some(url.clone());
    }
    Ok(config)
}

/// mimalloc: the server allocates many small, short-lived buffers per request, across
/// threads; it spends markedly less time there than the system allocator (see the
/// exchange benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CIVITAS_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Stand-ins for other systems: they read none of Civitas's configuration.
    match cli.command {
        Command::Rules { command } if !command.needs_store() => {
            return civitas::rules_cli::run(command);
        }
        Command::Cap { command } => return civitas::cap_cli::run(command),
        Command::Demo { command } => return civitas::storm::run(command).await,
        Command::DemoProvider { bind } => {
            civitas::demo_provider::run(bind).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Bench {
            area:
                BenchArea::Load {
                    base,
                    paths,
                    token,
                    connections,
                    seconds,
                    once,
                    expect,
                },
        } => {
            let paths: Vec<String> = std::fs::read_to_string(&paths)?
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let result = civitas::bench_exchange::load(
                &base,
                paths,
                token,
                connections.clamp(1, 1024),
                1.0,
                seconds.clamp(0.5, 600.0),
                civitas::bench_exchange::LoadOptions { once, expect },
            )
            .await?;
            println!("{}", serde_json::to_string(&result)?);
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let mut config = load_config(&cli)?;
    match cli.command {
        Command::Serve { demo, bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            if demo && config.sms_gateway_url.is_none() && config.smtp_url.is_none() {
                // The demo's SMS and e-mail go to the outbox (page 发送记录), not to
                // real phones.
                config.channel_outbox = true;
            }
            tracing::info!(config = ?config.redacted(), "starting");
            let app = Application::build(config.clone(), demo).await?;
            let url = format!("http://{}:{}", config.bind.ip(), app.port());
            println!("Civitas is listening on {url}");
            if demo {
                println!("Demo accounts (password: {DEMO_PASSWORD}):");
                for (name, what) in DEMO_ACCOUNTS {
                    println!("  {name:<15} {what}");
                }
            }
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let db = kernel::db::Db::connect(&config).await?;
            let applied = kernel::migrate::run(&db, &civitas::app::migrations()).await?;
            println!(
                "applied {applied} migration(s) to the {} store",
                db.kind().name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Account {
            command:
                AccountCommand::Create {
                    username,
                    role,
                    org,
                    person,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                anyhow::bail!("pass --password-stdin and write the password to standard input");
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role '{role}': use platform_admin, org_admin, reviewer, clerk or citizen"))?;
            let state = open_state(config, false).await?;
            let organisation_id = match org {
                Some(code) => Some(
                    identity::service::organisation_by_code(&state, &code)
                        .await
                        .map_err(|e| anyhow::anyhow!("--org: {e}"))?
                        .id,
                ),
                None => None,
            };
            let person_id = match person {
                Some(rid) => {
                    let rid =
                        ResidentId::parse(&rid).map_err(|e| anyhow::anyhow!("--person: {e}"))?;
                    Some(
                        identity::service::person_by_resident_id(&state, &rid)
                            .await?
                            .ok_or_else(|| {
                                anyhow::anyhow!(
                                    "--person: no registered person has this resident ID number"
                                )
                            })?
                            .id,
                    )
                }
                None => None,
            };
            let new = NewAccount {
                username: Username::parse(&username)
                    .map_err(|e| anyhow::anyhow!("--username: {e}"))?,
                password,
                role,
                organisation_id,
                person_id,
                display_name: None,
            };
            let account = identity::service::create_account(&state, None, new)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created account {} ({})", account.username, account.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Credential {
            command:
                CredentialCommand::Verify {
                    file,
                    trust_any_issuer,
                },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let document: serde_json::Value = match serde_json::from_str(&text) {
                Ok(d) => d,
                Err(e) => {
                    println!("FAILED  format     not JSON: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            let state = civitas::app::open_state(config, false).await?;
            let report = credentials::service::verify(&state, &document, trust_any_issuer)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for c in &report.checks {
                let outcome = match c.outcome {
                    credentials::model::CheckOutcome::Passed => "passed ",
                    credentials::model::CheckOutcome::Failed => "FAILED ",
                    credentials::model::CheckOutcome::Warning => "warning",
                    credentials::model::CheckOutcome::Skipped => "skipped",
                };
                println!("{outcome}  {:<10} {}", c.check, c.detail);
            }
            if report.verified {
                println!("verified");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("NOT verified");
                Ok(ExitCode::from(1))
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = civitas::app::open_db(&config).await?;
            let bar = indicatif::ProgressBar::new_spinner();
            let report = trust::service::verify(&db, |n| {
                if n % 1000 == 0 {
                    bar.set_message(format!("{n} records checked"));
                    bar.tick();
                }
            })
            .await?;
            bar.finish_and_clear();
            match report.first_break {
                None => {
                    println!(
                        "audit chain intact: {} record(s) in {} partition(s)",
                        report.records, report.partitions
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!(
                        "audit chain BROKEN in partition {} at record {}{}: {}",
                        b.partition,
                        b.seq,
                        b.id.map(|i| format!(" (id {i})")).unwrap_or_default(),
                        b.reason
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Bench {
            area: BenchArea::Audit { writers, records },
        } => {
            let figures = civitas::bench::audit(&config, writers.max(1), records.max(1)).await?;
            civitas::bench::print_audit(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::Exchange {
                    connections,
                    seconds,
                },
        } => {
            let figures = civitas::bench_exchange::exchange(
                &config,
                connections.clamp(1, 1024),
                seconds.clamp(0.5, 600.0),
            )
            .await?;
            civitas::bench_exchange::print_exchange(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::Credentials {
                    seconds,
                    http_seconds,
                    connections,
                },
        } => {
            let mut figures = civitas::bench_credentials::credentials(seconds.clamp(0.2, 600.0))?;
            if http_seconds > 0.0 {
                let scans = civitas::bench_credentials::pass_scans(
                    &config,
                    connections.clamp(1, 1024),
                    http_seconds.clamp(0.5, 600.0),
                )
                .await?;
                figures.add_pass_scans(&scans);
            }
            civitas::bench_credentials::print_credentials(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area: BenchArea::Messaging { recipients },
        } => {
            let figures =
                civitas::bench_messaging::messaging(&config, recipients.clamp(1, 20_000_000))
                    .await?;
            civitas::bench_messaging::print_messaging(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::Services {
                    connections,
                    seconds,
                    recipients,
                },
        } => {
            let figures = civitas::bench_services::services(
                &config,
                connections.clamp(1, 1024),
                seconds.clamp(0.5, 600.0),
                recipients.clamp(0, 20_000_000),
            )
            .await?;
            civitas::bench_services::print_services(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::Rules {
                    persons,
                    cases,
                    connections,
                    seconds,
                    openfisca,
                },
        } => {
            let figures = civitas::bench_rules::rules_bench(
                &config,
                persons.clamp(10, 20_000_000),
                cases.clamp(1, 1_000_000),
                connections.clamp(1, 1024),
                seconds.clamp(0.5, 600.0),
                openfisca,
            )
            .await?;
            civitas::bench_rules::print_rules(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::Safety {
                    seconds,
                    messages,
                    residents,
                },
        } => {
            let figures = civitas::bench_safety::safety(
                &config,
                seconds.clamp(1.0, 600.0),
                messages.clamp(1_000, 10_000_000),
                residents.clamp(1_000, 10_000_000),
            )
            .await?;
            civitas::bench_safety::print_safety(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::Eldercare {
                    devices,
                    every,
                    seconds,
                    alert_every,
                },
        } => {
            let figures = civitas::bench_eldercare::eldercare(
                &config,
                devices.clamp(1, 200_000),
                every.clamp(1, 3_600),
                seconds.clamp(1.0, 3_600.0),
                alert_every.clamp(0.01, 3_600.0),
            )
            .await?;
            civitas::bench_eldercare::print_eldercare(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::CarePublish {
                    url,
                    topic,
                    devices,
                    every,
                    seconds,
                    alert_every,
                },
        } => {
            civitas::bench_eldercare::publish(&url, &topic, devices, every, seconds, alert_every)
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area:
                BenchArea::MqttPublish {
                    url,
                    topic,
                    stations,
                    messages,
                    start,
                },
        } => {
            civitas::bench_safety::publish(&url, &topic, stations, messages, start).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            area: BenchArea::Load { .. },
        }
        | Command::Cap { .. }
        | Command::Demo { .. }
        | Command::DemoProvider { .. } => Ok(ExitCode::SUCCESS),
        Command::Rules { command } => civitas::rules_cli::run_with_store(command, config).await,
    }
}

//! `civitas rules …`: computing situations and running OpenFisca YAML tests against a
//! package folder, without a server or a database (for scripts, and for comparing with
//! OpenFisca).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// What `civitas rules` does.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Fill in an OpenFisca situation (JSON) and print it exactly as
    /// `POST /api/v1/rules/calculate` answers it; problems go to standard error, exit 1.
    Calculate {
        /// The rules package folder.
        #[arg(long)]
        rules: PathBuf,
        /// Read the parameters from this folder instead of the package's `parameters/`.
        #[arg(long)]
        parameters: Option<PathBuf>,
        /// Reforms to apply, comma-separated (names or OpenFisca Python paths).
        #[arg(long)]
        reforms: Option<String>,
        /// Print `/trace`'s answer instead.
        #[arg(long)]
        trace: bool,
        /// The situation (`-` for standard input).
        file: PathBuf,
    },
    /// Evaluate over a whole population, with a progress bar: a published policy over the
    /// node's population register for a month (`--policy`: new proposals, reviews and
    /// withdrawn proposals, audited under the policy's basis), or a package over a CSV of
    /// persons for analysts (`--rules DIR --csv FILE --variables a,b`: `id`, optionally
    /// `household` and `role`, a column per input; a row per person is written out).
    Run {
        /// The policy's code (runs on the node's store).
        #[arg(long, conflicts_with_all = ["rules", "csv"])]
        policy: Option<String>,
        /// The month (`YYYY-MM`; a policy's default is this month), or for a table any
        /// period its variables are defined for.
        #[arg(long)]
        period: Option<String>,
        /// The rules package folder (for a table).
        #[arg(long, requires = "csv")]
        rules: Option<PathBuf>,
        /// Read the parameters from this folder instead of the package's `parameters/`.
        #[arg(long)]
        parameters: Option<PathBuf>,
        /// The persons, as CSV.
        #[arg(long, requires = "rules")]
        csv: Option<PathBuf>,
        /// The variables to compute, comma-separated.
        #[arg(long)]
        variables: Option<String>,
        /// Where to write the CSV answered (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Keep a package folder as a new version in the node's store, checked to load and to
    /// pass its own tests (`tests/`), and with `--publish` serve it from now on and run
    /// the policies on it again (as `POST …/packages/{name}/versions` and `…/publish` do).
    Upload {
        /// The rules package folder.
        #[arg(long)]
        rules: PathBuf,
        /// Read the parameters from this folder instead of the package's `parameters/`.
        #[arg(long)]
        parameters: Option<PathBuf>,
        /// What changed, for the record.
        #[arg(long, default_value = "")]
        note: String,
        /// Publish it too.
        #[arg(long)]
        publish: bool,
    },
    /// Run OpenFisca YAML tests (files or folders) against a package; exits 0 only when
    /// none failed.
    Test {
        /// The rules package folder.
        #[arg(long)]
        rules: PathBuf,
        /// Read the parameters from this folder instead of the package's `parameters/`.
        #[arg(long)]
        parameters: Option<PathBuf>,
        /// Test files or folders of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn test_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                test_files(&entry, out)?;
            } else if matches!(
                entry.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                out.push(entry);
            }
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    } else {
        anyhow::bail!("{} is neither a file nor a folder", path.display());
    }
    Ok(())
}

impl Command {
    /// Whether the command needs the node's store and configuration.
    pub fn needs_store(&self) -> bool {
        matches!(
            self,
            Command::Run {
                policy: Some(_),
                ..
            } | Command::Upload { .. }
        )
    }
}

/// `civitas rules upload`: keeps (and publishes) a folder as a version of its package.
async fn upload(
    state: &kernel::AppState,
    dir: &Path,
    parameters: Option<&Path>,
    note: String,
    publish: bool,
) -> anyhow::Result<ExitCode> {
    let package = rules::service::load_folder(dir, parameters)?;
    let files =
        rules::package::package_files(dir, parameters).map_err(|e| anyhow::anyhow!("{e}"))?;
    let by = crate::demo::system_admin();
    let kept = rules::service::upload_version(
        state,
        &by,
        &package.name,
        rules::model::NewVersion { note, files },
    )
    .await;
    let digest = match kept {
        Ok(v) => {
            println!(
                "kept {} version {} ({} tests passed)",
                v.package, v.digest, v.tests_passed
            );
            v.digest
        }
        // Already kept (say, as the configured folder): it may still be published.
        Err(kernel::ApiError::Conflict(message)) if publish => {
            println!("{message}");
            package.digest.clone()
        }
        Err(e) => {
            eprintln!("{}", e.public_detail());
            return Ok(ExitCode::FAILURE);
        }
    };
    if publish {
        let publication =
            match rules::service::publish_version(state, &by, &package.name, &digest).await {
                Ok(p) => p,
                Err(kernel::ApiError::Conflict(message)) => {
                    println!("{message}");
                    return Ok(ExitCode::SUCCESS);
                }
                Err(e) => {
                    eprintln!("{}", e.public_detail());
                    return Ok(ExitCode::FAILURE);
                }
            };
        println!(
            "{} is served at {} (was {})",
            publication.package, publication.digest, publication.replaced
        );
        for code in publication.reruns {
            let report = rules::service::run_policy(state, &by, &code, None, &|_| {})
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{code}: {} evaluated, {} new proposals, {} flagged for review",
                report.evaluated, report.proposed, report.flagged
            );
        }
    }
    state.audit.flush().await.ok();
    Ok(ExitCode::SUCCESS)
}

/// Runs `civitas rules run` on the node's store (as the platform's system administrator).
pub async fn run_with_store(
    command: Command,
    config: kernel::config::Config,
) -> anyhow::Result<ExitCode> {
    // The packages are the node's own: those configured, and those its store keeps
    // published (never the demo's, which would then be published on a real node).
    if let Command::Upload {
        rules,
        parameters,
        note,
        publish,
    } = command
    {
        let state = crate::app::open_state(config, false).await?;
        return upload(&state, &rules, parameters.as_deref(), note, publish).await;
    }
    let Command::Run {
        policy: Some(policy),
        period,
        ..
    } = command
    else {
        return run(command);
    };
    let state = crate::app::open_state(config, false).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("running {policy}…"));
    let report = rules::service::run_policy(
        &state,
        &crate::demo::system_admin(),
        &policy,
        period.as_deref(),
        &|done| {
            bar.set_message(format!("{done} persons evaluated"));
            bar.tick();
        },
    )
    .await;
    bar.finish_and_clear();
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{}: {} persons evaluated for {}, {} entitled; {} new proposals, {} flagged for review, {} proposals withdrawn ({:.3} s, rules {})",
        report.policy,
        report.evaluated,
        report.period,
        report.eligible,
        report.proposed,
        report.flagged,
        report.withdrawn,
        report.seconds,
        &report.digest[..12.min(report.digest.len())]
    );
    state.audit.flush().await.ok();
    Ok(ExitCode::SUCCESS)
}

/// Runs a `civitas rules` command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Upload { .. } => {
            anyhow::bail!(
                "civitas rules upload needs the node's store: run it with its configuration"
            )
        }
        Command::Run {
            policy: Some(_), ..
        } => {
            anyhow::bail!(
                "civitas rules run --policy needs the node's store: run it with its configuration"
            )
        }
        Command::Run {
            policy: None,
            period,
            rules,
            parameters,
            csv,
            variables,
            output,
        } => {
            let (Some(rules), Some(csv)) = (rules, csv) else {
                anyhow::bail!(
                    "name a policy (--policy CODE) or a package and a table (--rules DIR --csv FILE)"
                );
            };
            let package = rules::service::load_folder(&rules, parameters.as_deref())?;
            let period = match period {
                Some(p) => rules::period::Period::parse(&p)
                    .map_err(|e| anyhow::anyhow!("--period: {e}"))?,
                None => rules::service::this_month(),
            };
            let variables = rules::service::reform_list(variables.as_deref());
            let text = std::fs::read_to_string(&csv)
                .with_context(|| format!("cannot read {}", csv.display()))?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} chunks {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            let started = std::time::Instant::now();
            let result = rules::table_run::run(
                &package,
                &text,
                &variables,
                period,
                threads,
                &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                },
            );
            bar.finish_and_clear();
            let table = match result {
                Ok(t) => t,
                Err(problems) => {
                    for p in problems {
                        eprintln!("{}: {p}", csv.display());
                    }
                    return Ok(ExitCode::FAILURE);
                }
            };
            let sink: Box<dyn std::io::Write> = match &output {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout()),
            };
            let mut writer = csv::Writer::from_writer(sink);
            writer.write_record(&table.header)?;
            for row in &table.rows {
                writer.write_record(row)?;
            }
            writer.flush()?;
            eprintln!(
                "{} persons computed for {period} on {threads} threads in {:.3} s",
                table.rows.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Calculate {
            rules,
            parameters,
            reforms,
            trace,
            file,
        } => {
            let package = rules::service::load_folder(&rules, parameters.as_deref())?;
            let names = rules::service::reform_list(reforms.as_deref());
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let package = if names.is_empty() {
                package
            } else {
                package.reformed(&names).map_err(|errors| {
                    anyhow::anyhow!(
                        "{}",
                        errors
                            .iter()
                            .map(|e| e.message.clone())
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })?
            };
            let mut text = String::new();
            if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
            }
            let situation: serde_json::Value = match serde_json::from_str(&text) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}: not JSON: {e}", file.display());
                    return Ok(ExitCode::FAILURE);
                }
            };
            match rules::situation::calculate(&package, &situation, trace) {
                Ok(answer) => {
                    let shown = if trace {
                        answer.trace.unwrap_or_default()
                    } else {
                        answer.situation
                    };
                    println!("{}", serde_json::to_string_pretty(&shown)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for p in problems {
                        eprintln!("{}: {}", p.path, p.message);
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Test {
            rules,
            parameters,
            paths,
        } => {
            let package = rules::service::load_folder(&rules, parameters.as_deref())?;
            let mut files = Vec::new();
            for path in &paths {
                test_files(path, &mut files)?;
            }
            let (mut passed, mut failed, mut skipped) = (0, 0, 0);
            for file in &files {
                for outcome in rules::yaml_tests::run_file(&package, file) {
                    let place = format!("{} — {}", file.display(), outcome.name);
                    match (outcome.failure, outcome.skipped) {
                        (Some(failure), _) => {
                            failed += 1;
                            println!("FAILED   {place}\n         {failure}");
                        }
                        (None, Some(why)) => {
                            skipped += 1;
                            println!("skipped  {place}: {why}");
                        }
                        (None, None) => {
                            passed += 1;
                            println!("ok       {place}");
                        }
                    }
                }
            }
            println!(
                "{passed} passed, {failed} failed, {skipped} skipped in {} files",
                files.len()
            );
            Ok(if failed == 0 && passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

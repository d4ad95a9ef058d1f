//! Civitas rules as code: periods; parameters with dated values
//! and legal citations (OpenFisca's parameter YAML); the formula language a policy
//! officer writes conditions and amounts in; packages of variables with formulas by date,
//! exclusive cases and reforms; simulations computed column by column for persons and
//! their households; per-person explanations with the law behind every step; OpenFisca's
//! YAML tests and situation JSON (`/calculate`, `/trace`); and benefit policies run over
//! the population register, whose newly entitled residents become proposals a
//! department confirms (免申即享), re-evaluated as the register changes; every package
//! version is kept, so a decision replays with the rules it was made with.

pub mod api;
pub mod eval;
pub mod explain;
pub mod formula;
pub mod model;
pub mod package;
pub mod pages;
pub mod parameters;
pub mod period;
pub mod population;
pub mod reform;
pub mod service;
pub mod simulation;
pub mod situation;
pub mod store;
pub mod table_run;
pub mod yaml_tests;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "rules",
        version: 1,
        name: "policies and proactive decisions",
        sqlite: include_str!("../migrations/sqlite/0001_rules.sql"),
        postgres: include_str!("../migrations/postgres/0001_rules.sql"),
    },
    kernel::migrate::Migration {
        component: "rules",
        version: 2,
        name: "package versions and publications",
        sqlite: include_str!("../migrations/sqlite/0002_versions.sql"),
        postgres: include_str!("../migrations/postgres/0002_versions.sql"),
    },
];

/// Starts the background work: every half minute the latest published version of each
/// package is served; every `rules_follow_seconds` the persons whose register data changed are
/// evaluated again under every published policy; and every published policy is run again, for the current
/// month, when its last run is a day old or the rules changed since (checked hourly, and
/// a minute after start).
pub fn start_sweeps(state: kernel::AppState) {
    // A version published on another node is served here within half a minute.
    let refreshing = state.clone();
    tokio::spawn(async move {
        let folder = service::versions_folder(&refreshing.config);
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            let refreshed = match service::rulebook(&refreshing) {
                Ok(book) => book.refresh(&refreshing.db, &folder).await,
                Err(e) => Err(anyhow::anyhow!("{e}")),
            };
            if let Err(error) = refreshed {
                tracing::warn!(%error, "reading the published rules failed");
            }
        }
    });
    // Register changes are followed within seconds (unless turned off).
    let following = state.clone();
    let every = state.config.rules_follow_seconds;
    tokio::spawn(async move {
        if every == 0 {
            return;
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
        loop {
            tick.tick().await;
            match service::follow_register(&following).await {
                Ok(r) if r.changes > 0 => {
                    tracing::info!(
                        changes = r.changes,
                        persons = r.persons,
                        proposed = r.proposed,
                        flagged = r.flagged,
                        withdrawn = r.withdrawn,
                        "register changes followed"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "following the register's changes failed"),
            }
        }
    });
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match service::sweep(&state).await {
                Ok(reports) => {
                    for r in reports {
                        tracing::info!(policy = %r.policy, period = %r.period, proposed = r.proposed, flagged = r.flagged, "policy run");
                    }
                }
                Err(error) => tracing::warn!(%error, "running the benefit policies failed"),
            }
        }
    });
}

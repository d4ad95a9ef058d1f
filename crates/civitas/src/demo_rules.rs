//! The demo city's benefit policies (免申即享): the old-age allowance, the care subsidy
//! for elders living alone, the care subsidy for the severely disabled (its grade read
//! from the disability registration in the data exchange) and the living subsidy for
//! disabled residents of low-income households (their income from social insurance) and the
//! home-care subsidy (hours of care services a month, applied to care orders), published by the civil
//! affairs bureau with the rules of `rules/demo-city`, run over the demo's residents; the
//! demo elder's old-age allowance is confirmed (she finds the notice in her inbox), the rest wait for the reviewer.

use kernel::AppState;
use kernel::auth::Principal;
use rules::model::{DecisionQuery, NewPolicy};

/// Publishes and runs the demo's policies. Skipped (with a warning) when the node does
/// not serve the demo city's package.
pub async fn seed(
    state: &AppState,
    admin: &Principal,
    civil_affairs: &str,
    elder_person_id: &str,
) -> anyhow::Result<()> {
    let served = rules::service::rulebook(state)
        .map(|book| book.packages().iter().any(|p| p.name == "demo-city"))
        .unwrap_or(false);
    if !served {
        tracing::warn!("the demo city's rules package is not served: no benefit policies seeded");
        return Ok(());
    }
    for (code, name, summary, variable, basis) in [
        (
            "old-age-allowance",
            "高龄津贴",
            "80 周岁以上本市户籍老人按月发放高龄津贴：80–89 周岁每月 150 元，90–99 周岁 400 元，100 周岁以上 1000 元。",
            "old_age_allowance",
            "《示例市高龄津贴发放办法》第三条：民政部门依据户籍信息主动核定发放",
        ),
        (
            "living-alone-care",
            "独居老人关爱补贴",
            "社区标注的 70 周岁以上独居老人，每月 50 元关爱补贴，用于紧急呼叫设备和上门探访。",
            "living_alone_care_subsidy",
            "《示例市独居老人关爱服务办法》第五条：依据社区摸排名单主动纳入",
        ),
        (
            "severe-disability-care",
            "重度残疾人护理补贴",
            "持一、二级残疾人证的本市居民，每月 120 元护理补贴，依据残疾人登记信息主动核定。",
            "disability_care_subsidy",
            "《示例市困难残疾人生活补贴和重度残疾人护理补贴实施办法》第六条：依据残疾人登记信息主动核定",
        ),
        (
            "disability-living",
            "困难残疾人生活补贴",
            "家庭月人均收入低于本市最低生活保障标准的持证残疾人，每月发放生活补贴，依据残疾人登记和社会保险收入信息主动核定。",
            "disability_living_subsidy",
            "《示例市困难残疾人生活补贴和重度残疾人护理补贴实施办法》第五条：依据残疾人登记和低保收入核对信息主动核定",
        ),
        (
            "home-care-hours",
            "居家养老服务补贴",
            "80 周岁以上，或 60 周岁以上持一、二级残疾人证的本市老人，每月享受 8 小时（重度残疾 12 小时）政府补贴的上门养老服务，预约时自动抵扣。",
            "home_care_hours",
            "《示例市居家养老服务补贴办法》第五条：依据户籍和残疾人登记信息主动核定",
        ),
    ] {
        rules::service::define_policy(
            state,
            admin,
            NewPolicy {
                code: code.into(),
                name: name.into(),
                summary: summary.into(),
                package: "demo-city".into(),
                variable: variable.into(),
                organisation_id: civil_affairs.to_string(),
                basis: basis.into(),
            },
        )
        .await?;
        rules::service::run_policy(state, admin, code, None, &|_| {}).await?;
    }
    // The demo elder's old-age allowance is confirmed: she is told, with the reason.
    let proposed = rules::service::decisions(
        state,
        admin,
        "old-age-allowance",
        &DecisionQuery {
            status: Some("proposed".into()),
            limit: Some(500),
            after: None,
        },
    )
    .await?;
    let hers: Vec<String> = proposed
        .items
        .iter()
        .filter(|d| d.person_id == elder_person_id)
        .map(|d| d.id.clone())
        .collect();
    if !hers.is_empty() {
        rules::service::confirm(state, admin, "old-age-allowance", &hers).await?;
    }
    Ok(())
}

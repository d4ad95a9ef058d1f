//! The demo city (示例市, region codes under 990100): districts, communities, organisations
//! of every kind, 1,200 synthetic residents with valid resident ID numbers and households,
//! the demo accounts, a proxy authorisation and a few audited reads for the footprint.
//! Seeded once, only by `serve --demo`.

use std::collections::HashSet;

use identity::model::{
    AdminLevel, CreditCode, NewAccount, NewOrganisation, NewPerson, NewRegion, OrgKind, Phone,
    RegionCode, ResidentId, Username,
};
use identity::service;
use indicatif::{ProgressBar, ProgressStyle};
use kernel::AppState;
use kernel::audit::{AuditEvent, Basis};
use kernel::auth::{Principal, Role, RoleBinding};
use kernel::time::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "civitas-demo";
/// How many synthetic residents the demo has (besides the named demo people).
pub const DEMO_PERSONS: usize = 1200;

const SETTING: &str = "demo_seeded";

/// The demo accounts: (username, what it is).
pub const DEMO_ACCOUNTS: [(&str, &str); 6] = [
    ("demo-admin", "platform administrator"),
    (
        "demo-orgadmin",
        "administrator of the Civil Affairs Bureau (manages its staff)",
    ),
    ("demo-clerk", "clerk at the Civil Affairs Bureau"),
    ("demo-citizen", "resident 王小梅 (35)"),
    (
        "demo-elder",
        "resident 李秀英 (82), in elder mode's target group",
    ),
    (
        "demo-relative",
        "resident 李建国 (55), authorised proxy (代办) for demo-elder",
    ),
];

/// Seeds the demo city unless it was seeded before. Returns whether it seeded.
pub async fn seed_if_needed(state: &AppState, show_progress: bool) -> anyhow::Result<bool> {
    if service::setting(state, SETTING).await?.is_some() {
        return Ok(false);
    }
    seed(state, show_progress).await?;
    service::put_setting(state, SETTING, &Timestamp::now().rfc3339()).await?;
    Ok(true)
}

fn credit_code(index: usize, kind: OrgKind) -> anyhow::Result<CreditCode> {
    // Registration department and organisation type: 11 = government organ, 12 = public
    // institution, 91 = enterprise, 52 = social organisation, 54 = community committee.
    let prefix = match kind {
        OrgKind::GovernmentDepartment => "11",
        OrgKind::Hospital | OrgKind::School => "12",
        OrgKind::Employer => "91",
        OrgKind::CareProvider => "52",
        OrgKind::CommunityCommittee => "54",
        OrgKind::Other => "93",
    };
    let body = format!("{prefix}990100MB{index:07}");
    let check =
        CreditCode::check_char(&body).ok_or_else(|| anyhow::anyhow!("bad credit code body"))?;
    CreditCode::parse(&format!("{body}{check}")).map_err(anyhow::Error::msg)
}

/// A valid resident ID for a district, birth date and sequence.
pub fn resident_id(
    district: &str,
    year: i32,
    month: u8,
    day: u8,
    seq: u16,
) -> anyhow::Result<ResidentId> {
    let body = format!("{district}{year:04}{month:02}{day:02}{seq:03}");
    let check =
        ResidentId::check_char(&body).ok_or_else(|| anyhow::anyhow!("bad resident id body"))?;
    ResidentId::parse(&format!("{body}{check}")).map_err(anyhow::Error::msg)
}

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢",
];
const GIVEN: [&str; 32] = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强",
    "海燕", "建国", "淑珍",
];

fn system_admin() -> Principal {
    Principal {
        account_id: "system".into(),
        username: "system".into(),
        display_name: "system".into(),
        person_id: None,
        roles: vec![RoleBinding {
            role: Role::PlatformAdmin,
            organisation_id: None,
        }],
        session_id: String::new(),
        acting_for: None,
    }
}

async fn seed(state: &AppState, show_progress: bool) -> anyhow::Result<()> {
    let admin = system_admin();
    let mut rng = StdRng::seed_from_u64(990100);

    // Regions: province, city, four districts (one a rural county), two townships each,
    // two communities per township.
    let region = |code: &str, name: &str, urban: bool| -> anyhow::Result<NewRegion> {
        Ok(NewRegion {
            code: RegionCode::parse(code).map_err(anyhow::Error::msg)?,
            name: name.into(),
            urban,
        })
    };
    service::create_region(state, &admin, region("990000", "示例省", true)?).await?;
    service::create_region(state, &admin, region("990100", "示例市", true)?).await?;
    let districts = [
        ("990102", "东湖区", true, ["湖滨街道", "东园街道"]),
        ("990103", "西山区", true, ["西山街道", "枫林街道"]),
        ("990104", "南桥区", true, ["南桥街道", "滨江街道"]),
        ("990121", "青川县", false, ["青川镇", "石门乡"]),
    ];
    let community_names = [
        "幸福", "和平", "光明", "长青", "建设", "团结", "新风", "红旗",
    ];
    let mut communities: Vec<(String, &str)> = Vec::new();
    for (d, (code, name, urban, townships)) in districts.iter().enumerate() {
        service::create_region(state, &admin, region(code, name, *urban)?).await?;
        for (t, township) in townships.iter().enumerate() {
            let tcode = format!("{code}{:03}", t + 1);
            service::create_region(state, &admin, region(&tcode, township, *urban)?).await?;
            for c in 0..2 {
                let ccode = format!("{tcode}{:03}", c + 1);
                let cname = format!(
                    "{}{}",
                    community_names[(d * 4 + t * 2 + c) % community_names.len()],
                    if *urban { "社区" } else { "村" }
                );
                service::create_region(state, &admin, region(&ccode, &cname, *urban)?).await?;
                communities.push((ccode, code));
            }
        }
    }

    // Organisations of every kind.
    let mut orgs: Vec<(String, OrgKind, AdminLevel, String)> = vec![
        (
            "示例市公安局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市民政局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市人力资源和社会保障局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市卫生健康委员会".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市教育局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市市场监督管理局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市医疗保障局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市不动产登记中心".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市应急管理局".into(),
            OrgKind::GovernmentDepartment,
            AdminLevel::City,
            "990100".into(),
        ),
        (
            "示例市人民医院".into(),
            OrgKind::Hospital,
            AdminLevel::City,
            "990102".into(),
        ),
        (
            "东湖社区卫生服务中心".into(),
            OrgKind::Hospital,
            AdminLevel::Township,
            "990102001".into(),
        ),
        (
            "青川县人民医院".into(),
            OrgKind::Hospital,
            AdminLevel::County,
            "990121".into(),
        ),
        (
            "示例市第一中学".into(),
            OrgKind::School,
            AdminLevel::City,
            "990103".into(),
        ),
        (
            "东湖区实验小学".into(),
            OrgKind::School,
            AdminLevel::County,
            "990102".into(),
        ),
        (
            "夕阳红居家养老服务中心".into(),
            OrgKind::CareProvider,
            AdminLevel::Township,
            "990102001".into(),
        ),
        (
            "青川县敬老院".into(),
            OrgKind::CareProvider,
            AdminLevel::County,
            "990121".into(),
        ),
        (
            "示例市智造科技有限公司".into(),
            OrgKind::Employer,
            AdminLevel::City,
            "990104".into(),
        ),
        (
            "南桥物流有限公司".into(),
            OrgKind::Employer,
            AdminLevel::County,
            "990104".into(),
        ),
        (
            "示例市慈善总会".into(),
            OrgKind::Other,
            AdminLevel::City,
            "990100".into(),
        ),
    ];
    for (code, _) in &communities {
        let name = format!("{}居民委员会", code);
        orgs.push((
            name,
            OrgKind::CommunityCommittee,
            AdminLevel::Community,
            code.clone(),
        ));
    }
    let mut org_ids = Vec::new();
    for (i, (name, kind, level, region)) in orgs.iter().enumerate() {
        let org = service::create_organisation(
            state,
            &admin,
            NewOrganisation {
                credit_code: credit_code(i + 1, *kind)?,
                name: name.clone(),
                kind: *kind,
                level: *level,
                region: RegionCode::parse(region).map_err(anyhow::Error::msg)?,
                parent_id: None,
            },
        )
        .await?;
        org_ids.push(org.id);
    }
    let civil_affairs = org_ids[1].clone();
    let health_commission = org_ids[3].clone();

    // The named demo people: the elder and her son share a household.
    let elder = service::insert_person(
        state,
        NewPerson {
            resident_id: resident_id("990102", 1944, 3, 8, 124)?,
            name: "李秀英".into(),
            phone: Some(Phone::parse("13900001944").map_err(anyhow::Error::msg)?),
            region: RegionCode::parse("990102001001").map_err(anyhow::Error::msg)?,
            address: Some("示例市东湖区湖滨街道幸福社区 3 栋 2 单元 101".into()),
            household_id: None,
        },
        None,
    )
    .await?;
    let relative = service::insert_person(
        state,
        NewPerson {
            resident_id: resident_id("990102", 1971, 6, 15, 131)?,
            name: "李建国".into(),
            phone: Some(Phone::parse("13800001971").map_err(anyhow::Error::msg)?),
            region: RegionCode::parse("990102001001").map_err(anyhow::Error::msg)?,
            address: Some("示例市东湖区湖滨街道幸福社区 3 栋 2 单元 101".into()),
            household_id: elder.household_id.clone(),
        },
        None,
    )
    .await?;
    let citizen = service::insert_person(
        state,
        NewPerson {
            resident_id: resident_id("990103", 1991, 9, 21, 242)?,
            name: "王小梅".into(),
            phone: Some(Phone::parse("13700001991").map_err(anyhow::Error::msg)?),
            region: RegionCode::parse("990103001002").map_err(anyhow::Error::msg)?,
            address: Some("示例市西山区西山街道光明社区 12 号".into()),
            household_id: None,
        },
        None,
    )
    .await?;

    // Synthetic residents: ages spread so that about a quarter are 60 or older.
    let bar = if show_progress {
        ProgressBar::new(DEMO_PERSONS as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("seeding residents {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let this_year = time::OffsetDateTime::now_utc().year();
    let mut used: HashSet<String> = HashSet::new();
    let mut household: Option<(String, String, usize)> = None;
    let mut created = 0;
    while created < DEMO_PERSONS {
        let age: i32 = if rng.gen_bool(0.26) {
            rng.gen_range(60..=98)
        } else {
            rng.gen_range(0..60)
        };
        let (community, district) = communities[rng.gen_range(0..communities.len())].clone();
        // Keep households together: 1 to 4 people in one community.
        let (community, household_id) = match household.take() {
            Some((c, h, left)) if left > 0 => {
                household = Some((c.clone(), h.clone(), left - 1));
                (c, Some(h))
            }
            _ => (community, None),
        };
        let district = if household_id.is_some() {
            community[..6].to_string()
        } else {
            district.to_string()
        };
        let year = this_year - age - 1;
        let seq: u16 = rng.gen_range(1..999);
        let rid = resident_id(
            &district,
            year,
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
            seq,
        )?;
        if !used.insert(rid.as_str().to_string()) {
            continue;
        }
        let name = format!(
            "{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())]
        );
        let phone = format!(
            "1{}{:09}",
            rng.gen_range(3..=9),
            rng.gen_range(0..1_000_000_000u32)
        );
        let person = service::insert_person(
            state,
            NewPerson {
                resident_id: rid,
                name,
                phone: Phone::parse(&phone).ok(),
                region: RegionCode::parse(&community).map_err(anyhow::Error::msg)?,
                address: None,
                household_id: household_id.clone(),
            },
            None,
        )
        .await?;
        if household.is_none()
            && household_id.is_none()
            && let Some(h) = person.household_id
        {
            household = Some((community.clone(), h, rng.gen_range(0..4)));
        }
        created += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Accounts.
    let account = |username: &str,
                   role: Role,
                   org: Option<&str>,
                   person: Option<&str>,
                   name: Option<&str>|
     -> anyhow::Result<NewAccount> {
        Ok(NewAccount {
            username: Username::parse(username).map_err(anyhow::Error::msg)?,
            password: DEMO_PASSWORD.into(),
            role,
            organisation_id: org.map(str::to_string),
            person_id: person.map(str::to_string),
            display_name: name.map(str::to_string),
        })
    };
    service::create_account(
        state,
        None,
        account(
            "demo-admin",
            Role::PlatformAdmin,
            None,
            None,
            Some("平台管理员"),
        )?,
    )
    .await?;
    service::create_account(
        state,
        None,
        account(
            "demo-orgadmin",
            Role::OrgAdmin,
            Some(&civil_affairs),
            None,
            Some("民政局管理员 赵敏"),
        )?,
    )
    .await?;
    let clerk = service::create_account(
        state,
        None,
        account(
            "demo-clerk",
            Role::Clerk,
            Some(&civil_affairs),
            None,
            Some("民政局经办人 陈静"),
        )?,
    )
    .await?;
    service::create_account(
        state,
        None,
        account("demo-citizen", Role::Citizen, None, Some(&citizen.id), None)?,
    )
    .await?;
    let elder_account = service::create_account(
        state,
        None,
        account("demo-elder", Role::Citizen, None, Some(&elder.id), None)?,
    )
    .await?;
    service::create_account(
        state,
        None,
        account(
            "demo-relative",
            Role::Citizen,
            None,
            Some(&relative.id),
            None,
        )?,
    )
    .await?;

    // The elder authorises her son to act for her.
    let elder_principal = Principal {
        account_id: elder_account.id.clone(),
        username: elder_account.username.clone(),
        display_name: elder_account.display_name.clone(),
        person_id: Some(elder.id.clone()),
        roles: elder_account.roles.clone(),
        session_id: String::new(),
        acting_for: None,
    };
    service::grant_proxy(
        state,
        &elder_principal,
        identity::model::NewProxy {
            proxy_resident_id: resident_id("990102", 1971, 6, 15, 131)?,
            proxy_name: "李建国".into(),
            relationship: "子女".into(),
            scopes: vec!["all".into()],
            expires_at: Timestamp::now().plus_minutes(365 * 24 * 60),
        },
    )
    .await?;

    // A few uses of the demo people's data by departments, so footprints are not empty.
    let reads = [
        (
            &elder.id,
            &civil_affairs,
            Some(&clerk.id),
            "核实高龄津贴发放资格",
            Basis::Statutory("《中华人民共和国老年人权益保障法》第三十三条".into()),
        ),
        (
            &elder.id,
            &health_commission,
            None,
            "家庭医生签约随访",
            Basis::Statutory("《基本医疗卫生与健康促进法》第三十一条".into()),
        ),
        (
            &citizen.id,
            &civil_affairs,
            Some(&clerk.id),
            "核对婚姻登记信息",
            Basis::Statutory("《婚姻登记条例》第七条".into()),
        ),
    ];
    for (subject, org, actor, purpose, basis) in reads {
        let mut event = AuditEvent::system(
            "person.read",
            format!("person:{subject} fields: name, resident_id, address"),
        )
        .subject(subject.as_str())
        .because(purpose, basis);
        event.actor_organisation_id = Some(org.clone());
        event.actor_account_id = actor.cloned();
        state.audit.record(event).await?;
    }
    Ok(())
}

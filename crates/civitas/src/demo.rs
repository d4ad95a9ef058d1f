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
use kernel::auth::{Principal, Role};
use kernel::time::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "civitas-demo";
/// How many synthetic residents the demo has (besides the named demo people).
pub const DEMO_PERSONS: usize = 1200;

const SETTING: &str = "demo_seeded";

/// The demo accounts: (username, what it is).
pub const DEMO_ACCOUNTS: [(&str, &str); 14] = [
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
    (
        "demo-driver",
        "bus driver at the public transport group: scans passes",
    ),
    (
        "demo-reviewer",
        "reviewer at the Civil Affairs Bureau: approves, sees overdue cases",
    ),
    ("demo-clerk-health", "clerk at the Health Commission"),
    (
        "demo-clerk-police",
        "household registration officer at the Public Security Bureau",
    ),
    (
        "demo-clerk-medical",
        "clerk at the Medical Insurance Bureau",
    ),
    (
        "demo-reviewer-medical",
        "reviewer at the Medical Insurance Bureau",
    ),
    (
        "demo-clerk-hrss",
        "clerk at the Human Resources and Social Security Bureau",
    ),
    (
        "demo-carer",
        "clerk at the 夕阳红 home-care service centre: takes care orders",
    ),
];

/// The principal of a freshly created account (for seeding acts done in its name).
pub(crate) fn principal_of(account: &identity::model::Account, person: Option<&str>) -> Principal {
    Principal {
        account_id: account.id.clone(),
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        person_id: person.map(str::to_string),
        roles: account.roles.clone(),
        session_id: String::new(),
        acting_for: None,
    }
}

/// A government department for a benchmark's scratch store (its regions must exist).
pub async fn bench_organisation(state: &AppState, admin: &Principal) -> anyhow::Result<String> {
    let org = service::create_organisation(
        state,
        admin,
        NewOrganisation {
            credit_code: credit_code(1, OrgKind::GovernmentDepartment)?,
            name: "示例市应急管理局".into(),
            kind: OrgKind::GovernmentDepartment,
            level: AdminLevel::City,
            region: RegionCode::parse("990100").map_err(anyhow::Error::msg)?,
            parent_id: None,
        },
    )
    .await?;
    Ok(org.id)
}

/// Where openfisca-country-template is installed: the folder named in
/// `OPENFISCA_COUNTRY_TEMPLATE`, else where `python3` finds `openfisca_country_template`.
pub fn openfisca_template() -> Option<std::path::PathBuf> {
    std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import os, openfisca_country_template as t; print(os.path.dirname(t.__file__))",
                ])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

/// The folder the repository's rules packages are in (`rules/`).
pub fn rules_root() -> std::path::PathBuf {
    ["rules", concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules")]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.join("demo-city/package.yaml").is_file())
        .unwrap_or_else(|| std::path::PathBuf::from("rules"))
}

/// The rules packages the demo serves: the demo city's own policies and OpenFisca's
/// country template as ported (its parameters come from the installed Python package:
/// the folder named in `OPENFISCA_COUNTRY_TEMPLATE`, else where `python3` finds
/// `openfisca_country_template`; without it only the demo city is served).
pub fn rules_packages() -> Vec<String> {
    let root = rules_root();
    let mut packages = vec![root.join("demo-city").display().to_string()];
    let template = openfisca_template();
    match template
        .map(|t| t.join("parameters"))
        .filter(|p| p.is_dir())
    {
        Some(parameters) => packages.push(format!(
            "{}={}",
            root.join("openfisca-country-template").display(),
            parameters.display()
        )),
        None => tracing::warn!(
            "openfisca-country-template is not installed (pip install openfisca-country-template==8.2.0): the demo serves only the demo city's rules"
        ),
    }
    packages
}

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

/// The platform itself acting as administrator (seeding, benchmarks).
pub fn system_admin() -> Principal {
    Principal::system()
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
    // Appended after the committees so that the positions above stay as they are.
    orgs.push((
        "示例市公共交通集团".into(),
        OrgKind::Employer,
        AdminLevel::City,
        "990100".into(),
    ));
    let mut org_ids = Vec::new();
    let mut businesses: Vec<DemoBusiness> = Vec::new();
    for (i, (name, kind, level, region)) in orgs.iter().enumerate() {
        businesses.push(DemoBusiness {
            credit_code: credit_code(i + 1, *kind)?.as_str().to_string(),
            name: name.clone(),
            kind: *kind,
        });
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
    let this_year = time::OffsetDateTime::now_utc().year();
    let mut people: Vec<DemoPerson> = vec![
        DemoPerson::named(
            resident_id("990102", 1944, 3, 8, 124)?,
            "李秀英",
            this_year - 1944,
            elder.household_id.clone(),
            true,
        ),
        DemoPerson::named(
            resident_id("990102", 1971, 6, 15, 131)?,
            "李建国",
            this_year - 1971,
            elder.household_id.clone(),
            false,
        ),
        DemoPerson::named(
            resident_id("990103", 1991, 9, 21, 242)?,
            "王小梅",
            this_year - 1991,
            citizen.household_id.clone(),
            true,
        ),
    ];
    let bar = if show_progress {
        ProgressBar::new(DEMO_PERSONS as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("seeding residents {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
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
        let rid_text = rid.as_str().to_string();
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
            && let Some(h) = person.household_id.clone()
        {
            household = Some((community.clone(), h, rng.gen_range(0..4)));
        }
        people.push(DemoPerson {
            resident_id: rid_text,
            name: person.name.clone(),
            age: this_year - year,
            household_id: person.household_id.clone(),
            head_of_household: household_id.is_none(),
        });
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
    let citizen_account = service::create_account(
        state,
        None,
        account("demo-citizen", Role::Citizen, None, Some(&citizen.id), None)?,
    )
    .await?;
    // Information systems of three departments, for the exchange gateway.
    let mut systems = Vec::new();
    for (username, org, name) in [
        ("demo-system-civil", &civil_affairs, "民政局业务系统"),
        (
            "demo-system-health",
            &health_commission,
            "卫健委医疗救助系统",
        ),
        ("demo-system-estate", &org_ids[7], "不动产登记系统"),
    ] {
        let created = service::create_account(
            state,
            None,
            account(username, Role::System, Some(org), None, Some(name))?,
        )
        .await?;
        systems.push(principal_of(&created, None));
    }
    let elder_account = service::create_account(
        state,
        None,
        account("demo-elder", Role::Citizen, None, Some(&elder.id), None)?,
    )
    .await?;
    let relative_account = service::create_account(
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
    let elder_principal = principal_of(&elder_account, Some(&elder.id));
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

    seed_exchange(state, &admin, &org_ids).await?;
    let citizen_principal = principal_of(&citizen_account, Some(&citizen.id));
    let certificates = seed_credentials(
        state,
        &admin,
        &org_ids,
        [&elder.id, &relative.id, &citizen.id],
    )
    .await?;
    // 王小梅 shares her real estate certificate with the civil affairs bureau (housing check
    // for an allowance); its clerk finds it under 他人分享的证照.
    if let Some(estate) = certificates
        .iter()
        .find(|c| c.type_code == "real-estate-certificate")
    {
        credentials::service::share(
            state,
            &citizen_principal,
            &estate.id,
            credentials::model::NewShare {
                organisation_id: civil_affairs.clone(),
                purpose: "最低生活保障申请：核对住房情况".into(),
                valid_until: None,
            },
        )
        .await?;
    }
    let bus_company = org_ids.last().cloned().unwrap_or_default();
    let driver = service::create_account(
        state,
        None,
        account(
            "demo-driver",
            Role::Clerk,
            Some(&bus_company),
            None,
            Some("公交 12 路驾驶员 刘强"),
        )?,
    )
    .await?;
    let driver = principal_of(&driver, None);
    seed_passes(state, &admin, &org_ids, &elder_principal, &driver).await?;
    seed_messages(state, &admin, &civil_affairs, &elder.id).await?;
    seed_records_and_calls(
        state,
        &admin,
        &org_ids,
        &people,
        &businesses,
        &citizen_principal,
        &systems,
    )
    .await?;
    let ages: Vec<(String, i32)> = people
        .iter()
        .skip(3)
        .map(|p| (p.resident_id.clone(), p.age))
        .collect();
    let clerk_principal = principal_of(&clerk, None);
    crate::demo_services::seed(
        state,
        &admin,
        &org_ids,
        &ages,
        &elder_principal,
        &citizen_principal,
        &clerk_principal,
    )
    .await?;
    crate::demo_rules::seed(state, &admin, &civil_affairs, &elder.id).await?;
    // The emergency management bureau's monitoring stations (the ninth organisation).
    crate::demo_safety::seed(state, &admin, &clerk_principal, &org_ids[8]).await?;
    // The demo elder's community committee looks after her at home.
    let committee = orgs
        .iter()
        .position(|(_, kind, _, region)| {
            *kind == OrgKind::CommunityCommittee && *region == elder.region_code
        })
        .and_then(|i| org_ids.get(i))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the demo elder's community has no committee"))?;
    crate::demo_eldercare::seed(
        state,
        &admin,
        &elder.id,
        ("李建国", resident_id("990102", 1971, 6, 15, 131)?.as_str()),
        &principal_of(&relative_account, Some(&relative.id)),
        &committee,
    )
    .await?;
    let committee_of: std::collections::HashMap<String, String> = orgs
        .iter()
        .zip(&org_ids)
        .filter(|((_, kind, _, _), _)| *kind == OrgKind::CommunityCommittee)
        .map(|((_, _, _, region), id)| (region.clone(), id.clone()))
        .collect();
    let residents: Vec<crate::demo_eldercare::Resident> = people
        .iter()
        .skip(3)
        .map(|p| {
            (
                p.resident_id.clone(),
                p.name.clone(),
                p.age,
                p.household_id.clone(),
            )
        })
        .collect();
    crate::demo_eldercare::seed_community(state, &admin, &residents, &committee_of, 55).await?;
    // The care centre takes orders for care at home; the community health centre nurses.
    let org_named = |name: &str| {
        orgs.iter()
            .position(|(n, _, _, _)| n == name)
            .and_then(|i| org_ids.get(i))
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the demo has no organisation {name}"))
    };
    let care_centre = org_named("夕阳红居家养老服务中心")?;
    let health_centre = org_named("东湖社区卫生服务中心")?;
    let carer = service::create_account(
        state,
        None,
        account(
            "demo-carer",
            Role::Clerk,
            Some(&care_centre),
            None,
            Some("夕阳红居家养老服务中心 调度员 张丽"),
        )?,
    )
    .await?;
    crate::demo_eldercare::seed_orders(
        state,
        &admin,
        &elder_principal,
        &principal_of(&carer, None),
        &care_centre,
        &health_centre,
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

/// Catalogue resources of six departments, and requests between them in every state.
async fn seed_exchange(state: &AppState, admin: &Principal, orgs: &[String]) -> anyhow::Result<()> {
    use exchange::model::{
        Decision, FieldSpec, FieldType as T, NewRequest, NewResource, Sensitivity as S, Serving,
        SharingClass as C, SubjectKind, UpdateFrequency as F,
    };
    let field = |name: &str, title: &str, field_type: T, sensitivity: S| FieldSpec {
        name: name.into(),
        title: title.into(),
        field_type,
        sensitivity,
    };
    // (provider index, code, name, description, class, frequency, subject, fields, keywords)
    let police = &orgs[0];
    let civil = &orgs[1];
    let hrss = &orgs[2];
    let education = &orgs[4];
    let market = &orgs[5];
    let real_estate = &orgs[7];
    let resources = vec![
        (
            police,
            "household-registration",
            "户籍登记信息",
            "常住人口户籍登记：户号、户主、与户主关系、户籍地址。",
            C::Conditional,
            F::Daily,
            SubjectKind::Person,
            vec![
                field("name", "姓名", T::String, S::Personal),
                field("household_number", "户号", T::String, S::Personal),
                field("relation_to_head", "与户主关系", T::String, S::Personal),
                field("registered_address", "户籍地址", T::String, S::Personal),
                field("ethnicity", "民族", T::String, S::SensitivePersonal),
            ],
            vec!["户籍", "户口", "人口"],
        ),
        (
            hrss,
            "social-insurance-contributions",
            "社会保险缴费信息",
            "养老、医疗、失业保险的参保状态与缴费月数。",
            C::Conditional,
            F::Monthly,
            SubjectKind::Person,
            vec![
                field("pension_status", "养老保险参保状态", T::String, S::Personal),
                field(
                    "pension_months",
                    "养老保险累计缴费月数",
                    T::Integer,
                    S::Personal,
                ),
                field("medical_status", "医疗保险参保状态", T::String, S::Personal),
                field("employer_name", "参保单位", T::String, S::Personal),
                field(
                    "monthly_income",
                    "月收入（缴费工资或养老金，元）",
                    T::Number,
                    S::SensitivePersonal,
                ),
            ],
            vec!["社保", "养老保险", "医保"],
        ),
        (
            real_estate,
            "real-estate-registration",
            "不动产登记信息",
            "房屋所有权登记：不动产单元号、坐落、面积、权属状态。",
            C::Conditional,
            F::Daily,
            SubjectKind::Person,
            vec![
                field("unit_number", "不动产单元号", T::String, S::Personal),
                field("location", "坐落", T::String, S::Personal),
                field("area_m2", "建筑面积（平方米）", T::Number, S::Personal),
                field("mortgaged", "是否抵押", T::Boolean, S::Personal),
            ],
            vec!["房产", "不动产", "住房"],
        ),
        (
            education,
            "education-degrees",
            "学历学位信息",
            "高等教育学历与学位：学校、专业、层次、毕业日期。",
            C::Conditional,
            F::Yearly,
            SubjectKind::Person,
            vec![
                field("school", "毕业院校", T::String, S::Personal),
                field("major", "专业", T::String, S::Personal),
                field("level", "学历层次", T::String, S::Personal),
                field("graduated_on", "毕业日期", T::Date, S::Personal),
            ],
            vec!["学历", "学位", "毕业"],
        ),
        (
            civil,
            "marriage-registration",
            "婚姻登记信息",
            "结婚、离婚登记记录。",
            C::Conditional,
            F::Daily,
            SubjectKind::Person,
            vec![
                field("marital_status", "婚姻状况", T::String, S::Personal),
                field("registered_on", "登记日期", T::Date, S::Personal),
                field("spouse_name", "配偶姓名", T::String, S::Personal),
            ],
            vec!["婚姻", "结婚", "离婚"],
        ),
        (
            civil,
            "disability-registration",
            "残疾人登记信息",
            "残疾类别与等级（残疾人证）。",
            C::Conditional,
            F::Monthly,
            SubjectKind::Person,
            vec![
                field(
                    "disability_category",
                    "残疾类别",
                    T::String,
                    S::SensitivePersonal,
                ),
                field(
                    "disability_grade",
                    "残疾等级",
                    T::Integer,
                    S::SensitivePersonal,
                ),
                field(
                    "certificate_valid_until",
                    "证件有效期",
                    T::Date,
                    S::Personal,
                ),
            ],
            vec!["残疾", "残疾人证"],
        ),
        (
            civil,
            "minimum-living-allowance",
            "最低生活保障状态",
            "城乡低保对象认定状态与保障金额。",
            C::Conditional,
            F::Monthly,
            SubjectKind::Person,
            vec![
                field("status", "保障状态", T::String, S::SensitivePersonal),
                field(
                    "monthly_amount",
                    "月保障金额（元）",
                    T::Number,
                    S::SensitivePersonal,
                ),
                field("approved_on", "认定日期", T::Date, S::Personal),
            ],
            vec!["低保", "社会救助"],
        ),
        (
            market,
            "business-registration",
            "企业登记信息",
            "市场主体登记：名称、类型、法定代表人、注册资本、经营状态。",
            C::Unconditional,
            F::Daily,
            SubjectKind::Organisation,
            vec![
                field("name", "名称", T::String, S::Public),
                field("entity_type", "类型", T::String, S::Public),
                field("legal_representative", "法定代表人", T::String, S::Public),
                field(
                    "registered_capital",
                    "注册资本（万元）",
                    T::Number,
                    S::Public,
                ),
                field("status", "经营状态", T::String, S::Public),
            ],
            vec!["企业", "营业执照", "市场主体"],
        ),
        (
            police,
            "criminal-records",
            "违法犯罪记录",
            "公安机关掌握的违法犯罪记录。",
            C::NotShared,
            F::Daily,
            SubjectKind::Person,
            vec![field("records", "记录", T::String, S::SensitivePersonal)],
            vec!["犯罪记录"],
        ),
    ];
    for (provider, code, name, description, class, frequency, subject, fields, keywords) in
        resources
    {
        let (serving, endpoint_url) = if code == "minimum-living-allowance" {
            (
                Serving::Proxied,
                Some(format!(
                    "{}{}",
                    state.config.public_base_url(),
                    crate::demo_provider::PATH
                )),
            )
        } else {
            (Serving::Hosted, None)
        };
        let legal_reason = (class == C::NotShared)
            .then(|| "《中华人民共和国刑事诉讼法》第二百八十六条：犯罪记录封存，除司法机关办案需要外不得提供".to_string());
        exchange::service::publish(
            state,
            admin,
            NewResource {
                code: code.into(),
                name: name.into(),
                description: description.into(),
                provider_org_id: Some(provider.clone()),
                fields,
                sharing_class: class,
                legal_reason,
                update_frequency: frequency,
                serving,
                subject_kind: subject,
                endpoint_url,
                keywords: keywords.into_iter().map(str::to_string).collect(),
            },
        )
        .await?;
    }
    let request = |resource: &str,
                   consumer: &String,
                   fields: &[&str],
                   purpose: &str,
                   basis: &str,
                   statutory: bool| NewRequest {
        resource: resource.into(),
        consumer_org_id: Some(consumer.clone()),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        purpose: purpose.into(),
        legal_basis: basis.into(),
        statutory,
        expected_calls_per_day: 500,
    };
    let approve = |fields: Option<Vec<&str>>| Decision {
        approve: true,
        reason: None,
        fields: fields.map(|f| f.into_iter().map(str::to_string).collect()),
        expires_at: None,
        rate_limit_per_minute: Some(600),
    };
    // Civil affairs checks household registration for social assistance: approved, narrowed.
    let r = exchange::service::file_request(
        state,
        admin,
        request(
            "household-registration",
            civil,
            &["name", "household_number", "relation_to_head", "ethnicity"],
            "最低生活保障家庭成员核对",
            "《社会救助暂行办法》第十一条",
            true,
        ),
    )
    .await?;
    exchange::service::decide(
        state,
        admin,
        &r.id,
        approve(Some(vec!["name", "household_number", "relation_to_head"])),
    )
    .await?;
    // Civil affairs reads social insurance contributions: approved.
    let r = exchange::service::file_request(
        state,
        admin,
        request(
            "social-insurance-contributions",
            civil,
            &["pension_status", "medical_status", "monthly_income"],
            "低保收入核对",
            "《社会救助暂行办法》第十一条",
            true,
        ),
    )
    .await?;
    exchange::service::decide(state, admin, &r.id, approve(None)).await?;
    // HR and social security asks for degrees for talent subsidies: pending.
    exchange::service::file_request(
        state,
        admin,
        request(
            "education-degrees",
            hrss,
            &["school", "level", "graduated_on"],
            "人才补贴申请材料免提交",
            "申请人授权同意",
            false,
        ),
    )
    .await?;
    // Real estate registration asks for marriage records: approved with consent required.
    let r = exchange::service::file_request(
        state,
        admin,
        request(
            "marriage-registration",
            real_estate,
            &["marital_status", "spouse_name"],
            "不动产登记婚姻状况核验",
            "申请人授权同意",
            false,
        ),
    )
    .await?;
    exchange::service::decide(state, admin, &r.id, approve(None)).await?;
    // The education bureau asks for minimum-living-allowance status: rejected, too broad.
    let r = exchange::service::file_request(
        state,
        admin,
        request(
            "minimum-living-allowance",
            education,
            &["status", "monthly_amount", "approved_on"],
            "学生资助对象认定",
            "《学生资助资金管理办法》",
            true,
        ),
    )
    .await?;
    exchange::service::decide(
        state,
        admin,
        &r.id,
        Decision {
            approve: false,
            reason: Some("只需保障状态，请缩小字段后重新申请".into()),
            fields: None,
            expires_at: None,
            rate_limit_per_minute: None,
        },
    )
    .await?;
    // The health commission checks allowance status for medical assistance: approved.
    let r = exchange::service::file_request(
        state,
        admin,
        request(
            "minimum-living-allowance",
            &orgs[3],
            &["status"],
            "医疗救助对象身份核验",
            "《社会救助暂行办法》第二十八条",
            true,
        ),
    )
    .await?;
    exchange::service::decide(state, admin, &r.id, approve(None)).await?;
    // The police read business registration (unconditional: approved automatically).
    exchange::service::file_request(
        state,
        admin,
        request(
            "business-registration",
            police,
            &["name", "legal_representative", "status"],
            "治安管理单位信息核对",
            "《企业信息公示暂行条例》",
            true,
        ),
    )
    .await?;
    Ok(())
}

/// One demo resident, as the hosted records need her.
struct DemoPerson {
    resident_id: String,
    name: String,
    age: i32,
    household_id: Option<String>,
    head_of_household: bool,
}

impl DemoPerson {
    fn named(
        resident_id: ResidentId,
        name: &str,
        age: i32,
        household_id: Option<String>,
        head_of_household: bool,
    ) -> DemoPerson {
        DemoPerson {
            resident_id: resident_id.as_str().to_string(),
            name: name.into(),
            age,
            household_id,
            head_of_household,
        }
    }
}

/// One demo organisation, as business registration holds it.
struct DemoBusiness {
    credit_code: String,
    name: String,
    kind: OrgKind,
}

fn json_lines(records: impl IntoIterator<Item = serde_json::Value>) -> String {
    records
        .into_iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn demo_date(rng: &mut StdRng, from_year: i32, to_year: i32) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.gen_range(from_year..=to_year.max(from_year)),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28)
    )
}

/// Loads the hosted resources' records for the demo people and organisations, gives one
/// consent, and makes a few gateway calls (one refused) so footprints and traffic pages
/// show them.
async fn seed_records_and_calls(
    state: &AppState,
    admin: &Principal,
    orgs: &[String],
    people: &[DemoPerson],
    businesses: &[DemoBusiness],
    citizen: &Principal,
    systems: &[Principal],
) -> anyhow::Result<()> {
    use exchange::service::{ImportFormat, import_records};
    use serde_json::json;
    let mut rng = StdRng::seed_from_u64(11643);
    let this_year = time::OffsetDateTime::now_utc().year();
    let schools = [
        "示例大学",
        "示例师范学院",
        "示例职业技术学院",
        "东湖理工学院",
    ];
    let majors = [
        "计算机科学与技术",
        "护理学",
        "会计学",
        "机械工程",
        "汉语言文学",
    ];
    let employers = [
        "示例市第一人民医院",
        "示例市实验小学",
        "示例农业发展有限公司",
        "示例市公共交通集团",
    ];
    let ethnicities = ["汉族", "汉族", "汉族", "汉族", "回族", "满族", "土家族"];
    const LEVELS: [&str; 3] = ["本科", "专科", "硕士研究生"];
    const CATEGORIES: [&str; 4] = ["肢体", "视力", "听力", "智力"];
    const ROADS: [&str; 4] = ["湖滨", "西山", "光明", "幸福"];
    let mut household = Vec::new();
    let mut insurance = Vec::new();
    let mut estate = Vec::new();
    let mut degrees = Vec::new();
    let mut marriage = Vec::new();
    let mut disability = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let named = i < 3;
        household.push(json!({
            "subject": p.resident_id,
            "name": p.name,
            "household_number": p.household_id.as_deref().map(|h| format!("990100-{}", &h[h.len().saturating_sub(8)..])),
            "relation_to_head": if p.head_of_household { "户主" } else { "家庭成员" },
            "registered_address": "示例市",
            "ethnicity": ethnicities[rng.gen_range(0..ethnicities.len())],
        }));
        if p.age >= 18 {
            let months = ((p.age - 18).min(42) * 12 - rng.gen_range(0..24)).max(0);
            insurance.push(json!({
                "subject": p.resident_id,
                "pension_status": if p.age >= 60 { "领取待遇" } else { "正常参保" },
                "pension_months": months,
                "medical_status": "正常参保",
                "employer_name": if p.age >= 60 { "（退休）".to_string() } else { employers[rng.gen_range(0..employers.len())].to_string() },
                "monthly_income": f64::from(if p.age >= 60 { rng.gen_range(900..5000u32) } else { rng.gen_range(1500..12000u32) }),
            }));
            if named || rng.gen_bool(0.4) {
                estate.push(json!({
                    "subject": p.resident_id,
                    "unit_number": format!("990100{:06}GB{:05}F{:08}", rng.gen_range(1..999_999), rng.gen_range(1..99_999), rng.gen_range(1..99_999_999)),
                    "location": format!("示例市{}路{}号", ROADS[rng.gen_range(0..ROADS.len())], rng.gen_range(1..300)),
                    "area_m2": rng.gen_range(45..160) as f64 + 0.5,
                    "mortgaged": rng.gen_bool(0.3),
                }));
            }
        }
        if (22..=60).contains(&p.age) && (named || rng.gen_bool(0.3)) {
            degrees.push(json!({
                "subject": p.resident_id,
                "school": schools[rng.gen_range(0..schools.len())],
                "major": majors[rng.gen_range(0..majors.len())],
                "level": LEVELS[rng.gen_range(0..LEVELS.len())],
                "graduated_on": demo_date(&mut rng, this_year - p.age + 22, this_year - p.age + 25),
            }));
        }
        if p.age >= 22 && (named || rng.gen_bool(0.7)) {
            marriage.push(json!({
                "subject": p.resident_id,
                "marital_status": if p.age >= 80 && rng.gen_bool(0.5) { "丧偶" } else { "已婚" },
                "registered_on": demo_date(&mut rng, this_year - p.age + 22, this_year - p.age + 30),
                "spouse_name": format!("{}{}", SURNAMES[rng.gen_range(0..SURNAMES.len())], GIVEN[rng.gen_range(0..GIVEN.len())]),
            }));
        }
        if rng.gen_bool(0.06) {
            disability.push(json!({
                "subject": p.resident_id,
                "disability_category": CATEGORIES[rng.gen_range(0..CATEGORIES.len())],
                "disability_grade": rng.gen_range(1..=4),
                "certificate_valid_until": demo_date(&mut rng, this_year + 1, this_year + 8),
            }));
        }
    }
    let business: Vec<serde_json::Value> = businesses
        .iter()
        .map(|b| {
            json!({
                "subject": b.credit_code,
                "name": b.name,
                "entity_type": match b.kind {
                    OrgKind::Employer => "有限责任公司",
                    OrgKind::CareProvider => "民办非企业单位",
                    OrgKind::GovernmentDepartment => "机关法人",
                    OrgKind::CommunityCommittee => "基层群众性自治组织",
                    _ => "事业单位",
                },
                "legal_representative": format!("{}{}", SURNAMES[rng.gen_range(0..SURNAMES.len())], GIVEN[rng.gen_range(0..GIVEN.len())]),
                "registered_capital": if b.kind == OrgKind::Employer { rng.gen_range(50..5000) as f64 } else { 0.0 },
                "status": "存续",
            })
        })
        .collect();
    for (code, records) in [
        ("household-registration", household),
        ("social-insurance-contributions", insurance),
        ("real-estate-registration", estate),
        ("education-degrees", degrees),
        ("marriage-registration", marriage),
        ("disability-registration", disability),
        ("business-registration", business),
    ] {
        import_records(
            state,
            admin,
            code,
            ImportFormat::JsonLines,
            &json_lines(records),
        )
        .await?;
    }

    // 王小梅 lets the real estate registration centre check her marriage record.
    exchange::service::grant_consent(
        state,
        citizen,
        exchange::model::NewConsent {
            resource: "marriage-registration".into(),
            consumer_org_id: orgs[7].clone(),
            fields: None,
            purpose: Some("办理不动产转移登记时核验婚姻状况".into()),
            fetch_type: Some(trust::model::FetchType::Periodic),
            max_fetches_per_day: Some(5),
            valid_from: None,
            valid_until: None,
        },
    )
    .await?;

    // Calls through the gateway, as the departments' systems make them.
    let [civil, _health, estate] = systems else {
        anyhow::bail!("the demo needs three system accounts");
    };
    let elder = &people[0].resident_id;
    let citizen_rid = &people[2].resident_id;
    exchange::gateway::fetch_one(state, civil, "household-registration", elder, None).await?;
    exchange::gateway::fetch_one(state, civil, "social-insurance-contributions", elder, None)
        .await?;
    exchange::gateway::fetch_one(state, estate, "marriage-registration", citizen_rid, None).await?;
    // Without her consent the centre is refused, and she sees the attempt.
    let refused =
        exchange::gateway::fetch_one(state, estate, "marriage-registration", elder, None).await;
    if refused.is_ok() {
        anyhow::bail!("the demo's unconsented call was served");
    }
    Ok(())
}

/// The civil affairs bureau's tags (独居老人 with the demo elder on it, 残疾人) and three
/// notices: a heat warning to residents aged 60 or over, asking them to acknowledge (also
/// by SMS when a channel is configured: the demo's outbox), a notice to the whole city,
/// and a cold-wave warning to the elders living alone.
async fn seed_messages(
    state: &AppState,
    admin: &Principal,
    civil: &str,
    elder: &str,
) -> anyhow::Result<()> {
    use messaging::model::{Audience, NewMessage};
    for (code, name, description) in [
        (
            "lives-alone",
            "独居老人",
            "社区摸排确认独居的 60 周岁以上老人：防汛、寒潮、高温时优先通知和上门",
        ),
        (
            "disability",
            "持证残疾人",
            "持有残疾人证的居民：无障碍出行、补贴政策通知",
        ),
    ] {
        identity::service::create_tag(
            state,
            admin,
            identity::model::NewTag {
                code: code.into(),
                name: name.into(),
                description: description.into(),
                organisation_id: civil.to_string(),
            },
        )
        .await?;
    }
    identity::service::change_tag(
        state,
        admin,
        "lives-alone",
        identity::model::TagChange {
            add: vec![elder.to_string()],
            remove: Vec::new(),
            purpose: "2026 年社区独居老人摸排".into(),
        },
    )
    .await?;
    let sms: Vec<String> = match messaging::delivery::channels(state) {
        Ok(c) if c.sms.is_some() => vec!["sms".into()],
        _ => Vec::new(),
    };
    messaging::service::send(
        state,
        admin,
        NewMessage {
            subject: "寒潮预警".into(),
            body: "今晚起气温下降 10℃ 以上。独居的老人请关好门窗、注意取暖用电安全；社区工作人员明天上门看望。".into(),
            audience: Audience {
                tags: vec!["lives-alone".into()],
                ..Default::default()
            },
            ack_required: true,
            channels: sms.clone(),
            organisation_id: Some(civil.to_string()),
        },
    )
    .await?;
    for (subject, body, min_age, ack) in [
        (
            "高温天气提醒",
            "明天最高气温 38℃。请少外出，多喝水；身体不适请拨打社区电话或 120。\n收到请点“收到”，社区工作人员会给未回复的老人打电话。",
            Some(60),
            true,
        ),
        (
            "老年人优待证线上办理",
            "60 周岁以上居民可在“我的电子证照”中查看老年人优待证，并在“我的通行码”中出示公交乘车码。",
            None,
            false,
        ),
    ] {
        messaging::service::send(
            state,
            admin,
            NewMessage {
                subject: subject.into(),
                body: body.into(),
                audience: Audience {
                    region: Some("990100".into()),
                    min_age,
                    ..Default::default()
                },
                ack_required: ack,
                channels: if ack { sms.clone() } else { Vec::new() },
                organisation_id: Some(civil.to_string()),
            },
        )
        .await?;
    }
    Ok(())
}

/// Three pass types — a senior transit pass from the senior citizen card, a venue pass from
/// the resident card, a canteen pass from the rule "aged 60 or over" — and one bus ride
/// of the elder's, so her footprint shows the scan.
async fn seed_passes(
    state: &AppState,
    admin: &Principal,
    orgs: &[String],
    elder: &Principal,
    driver: &Principal,
) -> anyhow::Result<()> {
    use credentials::passes::model::{NewPassType, PassRequest, ScanRequest};
    let (police, civil) = (&orgs[0], &orgs[1]);
    let types = [
        (
            "senior-transit",
            "老年人公交乘车码",
            "凭老年人优待证免费乘坐市内公交，上车扫码。",
            civil,
            Some("senior-citizen-card"),
            None,
        ),
        (
            "venue-entry",
            "公共场馆入馆码",
            "凭居民身份证电子证照进入图书馆、博物馆等公共场馆。",
            police,
            Some("resident-card"),
            None,
        ),
        (
            "elder-canteen",
            "长者食堂就餐码",
            "60 周岁以上老人在社区长者食堂享受助餐补贴。",
            civil,
            None,
            Some(60),
        ),
    ];
    for (code, name, description, issuer, credential_type, min_age) in types {
        credentials::passes::service::create_pass_type(
            state,
            admin,
            NewPassType {
                code: code.into(),
                name: name.into(),
                description: description.into(),
                issuer_org_id: issuer.clone(),
                credential_type: credential_type.map(str::to_string),
                min_age,
                ttl_seconds: None,
            },
        )
        .await?;
    }
    let pass = credentials::passes::service::mint(
        state,
        elder,
        PassRequest {
            type_code: "senior-transit".into(),
        },
    )
    .await?;
    let scanned = credentials::passes::service::scan(
        state,
        driver,
        ScanRequest {
            token: pass.token,
            checkpoint: Some("12 路公交".into()),
        },
    )
    .await?;
    anyhow::ensure!(scanned.accepted, "the demo's bus ride was refused");
    Ok(())
}

/// The e-certificate catalogue (eight types) and certificates for the named demo people.
async fn seed_credentials(
    state: &AppState,
    admin: &Principal,
    orgs: &[String],
    [elder, relative, citizen]: [&String; 3],
) -> anyhow::Result<Vec<credentials::model::IssuedCredential>> {
    use credentials::model::{IssueRequest, NewCredentialType};
    use serde_json::json;
    let string = json!({"type": "string", "minLength": 1, "maxLength": 200});
    let date = json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"});
    let schema = |fields: &[(&str, &serde_json::Value)]| {
        let properties: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(name, spec)| (name.to_string(), (*spec).clone()))
            .collect();
        let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        json!({"type": "object", "properties": properties, "required": required,
               "additionalProperties": false})
    };
    let types = [
        (
            "resident-card",
            "居民身份证电子证照",
            "居民身份证的电子证照，与实体证件同等效力。",
            "government_department",
            Some(7300),
            schema(&[
                ("name", &string),
                ("sex", &string),
                ("birth_date", &date),
                ("address", &string),
            ]),
        ),
        (
            "household-register",
            "户口簿",
            "常住人口登记卡：户号、户主、与户主关系。",
            "government_department",
            None,
            schema(&[
                ("name", &string),
                ("household_number", &string),
                ("relation_to_head", &string),
            ]),
        ),
        (
            "marriage-certificate",
            "结婚证",
            "婚姻登记机关颁发的结婚证。",
            "government_department",
            None,
            schema(&[
                ("name", &string),
                ("spouse_name", &string),
                ("registered_on", &date),
                ("certificate_number", &string),
            ]),
        ),
        (
            "degree-certificate",
            "学历证书",
            "学校颁发的毕业（学历）证书。",
            "school",
            None,
            schema(&[
                ("name", &string),
                ("school", &string),
                ("level", &string),
                ("graduated_on", &date),
            ]),
        ),
        (
            "real-estate-certificate",
            "不动产权证书",
            "不动产登记机构颁发的不动产权证书。",
            "government_department",
            None,
            schema(&[
                ("owner", &string),
                ("unit_number", &string),
                ("location", &string),
                ("area_m2", &json!({"type": "number", "minimum": 0})),
            ]),
        ),
        (
            "business-licence",
            "营业执照",
            "市场监督管理部门颁发的营业执照（持证人为法定代表人）。",
            "government_department",
            None,
            schema(&[
                ("entity_name", &string),
                ("credit_code", &string),
                ("legal_representative", &string),
                ("entity_type", &string),
            ]),
        ),
        (
            "disability-certificate",
            "残疾人证",
            "残疾类别与等级。",
            "government_department",
            Some(3650),
            schema(&[
                ("name", &string),
                ("category", &string),
                (
                    "grade",
                    &json!({"type": "integer", "minimum": 1, "maximum": 4}),
                ),
            ]),
        ),
        (
            "senior-citizen-card",
            "老年人优待证",
            "60 周岁以上老年人凭证享受公共交通、景区等优待。",
            "government_department",
            Some(3650),
            schema(&[
                ("name", &string),
                ("birth_date", &date),
                ("card_number", &string),
            ]),
        ),
    ];
    for (code, name, description, kind, validity_days, claims_schema) in types {
        credentials::service::create_type(
            state,
            admin,
            NewCredentialType {
                code: code.into(),
                name: name.into(),
                description: description.into(),
                issuer_kind: kind.into(),
                claims_schema,
                validity_days,
            },
        )
        .await?;
    }
    let (police, civil, market, real_estate, school) =
        (&orgs[0], &orgs[1], &orgs[5], &orgs[7], &orgs[12]);
    let issues = [
        (
            police,
            elder,
            "resident-card",
            json!({"name": "李秀英", "sex": "女", "birth_date": "1944-03-08", "address": "示例市东湖区湖滨街道幸福社区 3 栋 2 单元 101"}),
        ),
        (
            police,
            elder,
            "household-register",
            json!({"name": "李秀英", "household_number": "990100-0001", "relation_to_head": "户主"}),
        ),
        (
            civil,
            elder,
            "senior-citizen-card",
            json!({"name": "李秀英", "birth_date": "1944-03-08", "card_number": "LYZ-990100-000001"}),
        ),
        (
            police,
            relative,
            "resident-card",
            json!({"name": "李建国", "sex": "男", "birth_date": "1971-06-15", "address": "示例市东湖区湖滨街道幸福社区 3 栋 2 单元 101"}),
        ),
        (
            market,
            relative,
            "business-licence",
            json!({"entity_name": "示例市建国商贸有限公司", "credit_code": "91990100MA0000001X", "legal_representative": "李建国", "entity_type": "有限责任公司"}),
        ),
        (
            police,
            citizen,
            "resident-card",
            json!({"name": "王小梅", "sex": "女", "birth_date": "1991-09-21", "address": "示例市西山区西山街道光明社区 12 号"}),
        ),
        (
            civil,
            citizen,
            "marriage-certificate",
            json!({"name": "王小梅", "spouse_name": "赵磊", "registered_on": "2018-05-20", "certificate_number": "J990100-2018-000520"}),
        ),
        (
            school,
            citizen,
            "degree-certificate",
            json!({"name": "王小梅", "school": "示例市第一中学", "level": "高中", "graduated_on": "2009-06-30"}),
        ),
        (
            real_estate,
            citizen,
            "real-estate-certificate",
            json!({"owner": "王小梅", "unit_number": "990103001002GB00012F00010203", "location": "示例市西山区光明路 12 号 3 单元 502", "area_m2": 89.5}),
        ),
    ];
    let mut issued = Vec::new();
    for (issuer, person, type_code, claims) in issues {
        issued.push(
            credentials::service::issue(
                state,
                admin,
                IssueRequest {
                    type_code: type_code.into(),
                    person_id: person.clone(),
                    claims,
                    issuer_org_id: Some(issuer.clone()),
                },
            )
            .await?,
        );
    }
    Ok(issued)
}

//! The demo's community elder care: the demo elder enrolled with her community committee,
//! her son (her proxy) in her circle, a wristband and an SOS button bound to her, and one
//! alert from this morning that her son dealt with; and fifty-five more elders of the demo
//! city with a relative in their circles and their devices (the device simulator comes
//! with the rest of issue 8).

use eldercare::model::{
    Answer, DeviceKind, MemberRole, NewAnswer, NewDevice, NewElder, NewMember, ReadingIn,
};
use kernel::AppState;
use kernel::auth::Principal;
use kernel::time::Timestamp;

/// Seeds it: `committee` is the demo elder's community committee.
pub async fn seed(
    state: &AppState,
    admin: &Principal,
    elder_id: &str,
    son: (&str, &str),
    son_principal: &Principal,
    committee: &str,
) -> anyhow::Result<()> {
    eldercare::service::enrol(
        state,
        admin,
        NewElder {
            person_id: elder_id.to_string(),
            organisation_id: committee.to_string(),
            lives_alone: true,
        },
    )
    .await?;
    eldercare::service::add_member(
        state,
        admin,
        elder_id,
        NewMember {
            name: son.0.to_string(),
            resident_id: son.1.to_string(),
            role: MemberRole::Relative,
            relationship: "儿子".into(),
            organisation_id: None,
            level: None,
            contact_order: None,
            quiet_from: Some("23:00".into()),
            quiet_until: Some("07:00".into()),
        },
    )
    .await?;
    for (id, kind) in [
        ("WB-DEMO-0001", DeviceKind::Wristband),
        ("SOS-DEMO-0001", DeviceKind::SosButton),
    ] {
        eldercare::service::register_device(
            state,
            admin,
            NewDevice {
                id: id.into(),
                kind,
                organisation_id: committee.to_string(),
                // Until the simulator runs, an hour between heartbeats keeps the demo's
                // devices from going offline while it is looked at.
                heartbeat_seconds: 3_600,
            },
        )
        .await?;
        eldercare::service::bind_device(state, admin, id, Some(elder_id)).await?;
    }
    let at = |minutes_ago: i64| Timestamp(Timestamp::now().0 - minutes_ago * 60_000_000).rfc3339();
    let reading = |metric: &str, value: f64, minutes_ago: i64| ReadingIn {
        device: "WB-DEMO-0001".into(),
        observed_at: at(minutes_ago),
        metric: metric.into(),
        value,
        unit: None,
    };
    let report = eldercare::ingest::ingest(
        state,
        admin,
        &[
            reading("heart_rate", 74.0, 9),
            reading("spo2", 97.0, 9),
            reading("activity", 35.0, 8),
            reading("heart_rate", 131.0, 5),
            reading("heart_rate", 78.0, 1),
            reading("battery", 82.0, 1),
        ],
    )
    .await?;
    anyhow::ensure!(
        report.alerts_raised == 1,
        "the demo reading raised no alert"
    );
    let alerts = eldercare::alerts::open_alerts(state, son_principal).await?;
    if let Some(alert) = alerts.first() {
        eldercare::alerts::answer(
            state,
            son_principal,
            &alert.id,
            NewAnswer {
                answer: Answer::Resolved,
                note: Some("打过电话，母亲刚爬完楼梯，已经平稳。".into()),
            },
        )
        .await?;
    }
    Ok(())
}

/// One demo resident as the care seeding needs her: (resident ID, name, age, household).
pub type Resident = (String, String, i32, Option<String>);

/// The demo's elders in community care: the first `count` residents aged 70 or over, each
/// enrolled with her community's committee (living alone when no one shares her household),
/// a relative in her circle (someone of her household, else a younger neighbour of her
/// community), a wristband, and for every third a water sensor, for every fifth an SOS
/// button. Returns how many were enrolled.
pub async fn seed_community(
    state: &AppState,
    admin: &Principal,
    residents: &[Resident],
    committee_of: &std::collections::HashMap<String, String>,
    count: usize,
) -> anyhow::Result<usize> {
    // A younger resident of each community, to stand by an elder with no household.
    let mut neighbour: std::collections::HashMap<String, &Resident> = Default::default();
    for r in residents.iter().filter(|r| (25..60).contains(&r.2)) {
        let Ok(parsed) = identity::model::ResidentId::parse(&r.0) else {
            continue;
        };
        if let Some(p) = identity::service::person_by_resident_id(state, &parsed).await? {
            neighbour.entry(p.region_code).or_insert(r);
        }
    }
    let mut enrolled = 0;
    for (rid, _, _, household) in residents.iter().filter(|r| r.2 >= 70) {
        if enrolled == count {
            break;
        }
        let Ok(parsed) = identity::model::ResidentId::parse(rid) else {
            continue;
        };
        let Some(person) = identity::service::person_by_resident_id(state, &parsed).await? else {
            continue;
        };
        let Some(committee) = committee_of.get(&person.region_code) else {
            continue;
        };
        let family: Vec<&Resident> = residents
            .iter()
            .filter(|r| r.0 != *rid && household.is_some() && r.3 == *household)
            .collect();
        eldercare::service::enrol(
            state,
            admin,
            NewElder {
                person_id: person.id.clone(),
                organisation_id: committee.clone(),
                lives_alone: family.is_empty(),
            },
        )
        .await?;
        // Her household first; else a younger resident of her community.
        let relative = family
            .first()
            .map(|r| (*r, "家人"))
            .or_else(|| neighbour.get(&person.region_code).map(|r| (*r, "邻居")));
        if let Some(((r_rid, r_name, _, _), relationship)) = relative {
            eldercare::service::add_member(
                state,
                admin,
                &person.id,
                NewMember {
                    name: r_name.clone(),
                    resident_id: r_rid.clone(),
                    role: MemberRole::Relative,
                    relationship: relationship.into(),
                    organisation_id: None,
                    level: None,
                    contact_order: None,
                    quiet_from: None,
                    quiet_until: None,
                },
            )
            .await?;
        }
        let n = enrolled + 1;
        let mut devices = vec![(format!("WB-{n:04}"), DeviceKind::Wristband)];
        if n % 3 == 0 {
            devices.push((format!("WS-{n:04}"), DeviceKind::WaterSensor));
        }
        if n % 5 == 0 {
            devices.push((format!("SOS-{n:04}"), DeviceKind::SosButton));
        }
        for (id, kind) in devices {
            eldercare::service::register_device(
                state,
                admin,
                NewDevice {
                    id: id.clone(),
                    kind,
                    organisation_id: committee.clone(),
                    heartbeat_seconds: 3_600,
                },
            )
            .await?;
            eldercare::service::bind_device(state, admin, &id, Some(&person.id)).await?;
        }
        enrolled += 1;
    }
    Ok(enrolled)
}

/// The demo's care services and orders: the home-care subsidy policy (居家养老服务补贴, the
/// rules' `home_care_hours`) set for care orders; the care centre's meals, cleaning, bathing
/// help and going to the doctor across 东湖区 and the community health centre's nursing at
/// home; the demo elder's cleaning done and rated (its two hours paid by her subsidy) and
/// tomorrow's lunch ordered; a few more of the district's elders' orders in the centre's
/// queue. `carer` is the care centre's clerk.
pub async fn seed_orders(
    state: &AppState,
    admin: &Principal,
    elder: &Principal,
    carer: &Principal,
    care_centre: &str,
    health_centre: &str,
) -> anyhow::Result<()> {
    use eldercare::orders::model::{
        Acceptance, NewCareService, NewOrder, NewRating, ServiceKind, ServiceUnit,
    };
    use eldercare::orders::service as orders;
    if rules::service::policy(state, "home-care-hours")
        .await
        .is_ok()
    {
        let mut care_rules = eldercare::service::rules(state).await?;
        care_rules.subsidy_policy = Some("home-care-hours".into());
        eldercare::service::set_rules(state, admin, care_rules).await?;
    }
    let offer = |organisation: &str, kind, name: &str, about: &str, unit, minutes, price_fen| {
        NewCareService {
            organisation_id: organisation.to_string(),
            kind,
            name: name.into(),
            description: Some(about.into()),
            unit,
            minutes,
            price_fen,
            regions: Some(vec!["990102".into()]),
        }
    };
    let mut ids = Vec::new();
    for new in [
        offer(
            care_centre,
            ServiceKind::MealDelivery,
            "营养午餐送上门",
            "两荤一素一汤，少盐少油，11:30 前送到家。",
            ServiceUnit::Meal,
            None,
            1_500,
        ),
        offer(
            care_centre,
            ServiceKind::Cleaning,
            "居家保洁（2 小时）",
            "擦窗、拖地、整理厨房和卫生间。",
            ServiceUnit::Visit,
            Some(120),
            8_000,
        ),
        offer(
            care_centre,
            ServiceKind::Bathing,
            "上门助浴",
            "两名护理员上门，自带防滑垫和浴凳。",
            ServiceUnit::Visit,
            Some(60),
            6_000,
        ),
        offer(
            care_centre,
            ServiceKind::MedicalAccompaniment,
            "陪同就医",
            "陪同挂号、候诊、取药，按小时计。",
            ServiceUnit::Hour,
            None,
            4_000,
        ),
        offer(
            health_centre,
            ServiceKind::HomeNursing,
            "上门护理",
            "护士上门换药、测血糖、指导用药。",
            ServiceUnit::Visit,
            Some(45),
            7_000,
        ),
    ] {
        ids.push(orders::offer(state, admin, new).await?.id);
    }
    // Tomorrow at a local time of day (minutes after midnight).
    let care_rules = eldercare::service::rules(state).await?;
    let tomorrow = |minute: i64| {
        eldercare::service::local_today_at(
            &care_rules,
            Timestamp::now().plus_minutes(24 * 60),
            minute,
        )
    };
    let order = |elder_id: &str, service: &str, at: Timestamp, note: Option<&str>| NewOrder {
        elder_id: elder_id.to_string(),
        service_id: service.to_string(),
        quantity: 1,
        wanted_at: at.rfc3339(),
        note: note.map(str::to_string),
    };
    let her = elder.person_id.clone().unwrap_or_default();
    // Her cleaning, done this morning and rated.
    let cleaning = orders::place(
        state,
        elder,
        order(
            &her,
            &ids[1],
            Timestamp::now().plus_minutes(5),
            Some("钥匙在门口鞋柜里，请先敲门。"),
        ),
    )
    .await?;
    orders::accept(state, carer, &cleaning.id, Acceptance::default()).await?;
    orders::complete(state, carer, &cleaning.id).await?;
    orders::rate(
        state,
        elder,
        &cleaning.id,
        NewRating {
            stars: 5,
            comment: Some("小张很细心，厨房擦得很干净。".into()),
        },
    )
    .await?;
    // Tomorrow's lunch, waiting for the centre.
    orders::place(
        state,
        elder,
        order(&her, &ids[0], tomorrow(11 * 60 + 30), None),
    )
    .await?;
    // A few of her neighbours' orders, placed by the community, in the centre's queue.
    let all = eldercare::store::all_elders(&state.db).await?;
    let neighbours = eldercare::service::elder_views(state, all).await?;
    let mut placed = 0;
    for other in neighbours
        .iter()
        .filter(|e| e.person_id != her && e.region_code.starts_with("990102"))
    {
        let service = &ids[placed % 4];
        let o = orders::place(
            state,
            admin,
            order(
                &other.person_id,
                service,
                tomorrow(9 * 60 + placed as i64 * 90),
                None,
            ),
        )
        .await?;
        if placed % 2 == 0 {
            orders::accept(state, carer, &o.id, Acceptance::default()).await?;
        }
        placed += 1;
        if placed == 4 {
            break;
        }
    }
    Ok(())
}

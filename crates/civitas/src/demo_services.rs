//! The demo's one-stop services: a holiday calendar, 18 service items of eight
//! departments, two life events, the data-sharing agreements their materials need, staff
//! to process them, and applications in every state — a draft, cases waiting at each step,
//! one paused for 补正, one rejected, one overdue and escalated, finished ones with result
//! certificates and ratings, and a newborn life event moving through four departments.

use anyhow::Context;
use identity::model::{NewAccount, ResidentId, Username};
use identity::service;
use kernel::AppState;
use kernel::auth::{Principal, Role};
use serde_json::{Value, json};
use services::model::{
    CaseAction, FormUpdate, NewApplication, NewLifeEvent, NewRating, ServiceDefinition,
};

use crate::demo::{DEMO_PASSWORD, principal_of};

/// A minimal PDF, standing in for a scanned document the applicant uploads.
pub const DEMO_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn account(
    state: &AppState,
    username: &str,
    role: Role,
    org: Option<&str>,
    person: Option<&str>,
    name: Option<&str>,
) -> anyhow::Result<Principal> {
    let created = service::create_account(
        state,
        None,
        NewAccount {
            username: Username::parse(username).map_err(anyhow::Error::msg)?,
            password: DEMO_PASSWORD.into(),
            role,
            organisation_id: org.map(str::to_string),
            person_id: person.map(str::to_string),
            display_name: name.map(str::to_string),
        },
    )
    .await?;
    Ok(principal_of(&created, person))
}

/// The demo's service items, with `{civil}`-style department placeholders.
fn definitions(orgs: &[String]) -> anyhow::Result<Vec<ServiceDefinition>> {
    let (police, civil, hrss, health, education, market, medical, estate) = (
        &orgs[0], &orgs[1], &orgs[2], &orgs[3], &orgs[4], &orgs[5], &orgs[6], &orgs[7],
    );
    let s =
        |title: &str| json!({"type": "string", "title": title, "minLength": 1, "maxLength": 200});
    let date = |title: &str| json!({"type": "string", "title": title, "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"});
    let rid = json!({"type": "string", "title": "公民身份号码", "pattern": "^[0-9]{17}[0-9X]$"});
    let phone = json!({"type": "string", "title": "联系电话", "pattern": "^1[0-9]{10}$"});
    let person_fields = |extra: Value| {
        let mut props = json!({"name": s("姓名"), "resident_id": rid.clone(), "phone": phone.clone(), "address": s("居住地址")});
        if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        props
    };
    let person_sources = json!({"name": "profile.name", "resident_id": "profile.resident_id", "phone": "profile.phone", "address": "profile.address"});
    let with_sources = |extra: Value| {
        let mut sources = person_sources.clone();
        if let (Some(p), Some(e)) = (sources.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        sources
    };
    let steps4 = |org: &str| {
        json!([
        {"kind": "accept", "role": "clerk", "organisation_id": org},
        {"kind": "review", "role": "clerk", "organisation_id": org},
        {"kind": "approve", "role": "reviewer", "organisation_id": org},
        {"kind": "finish", "role": "clerk", "organisation_id": org}])
    };
    let steps2 = |org: &str| {
        json!([
        {"kind": "accept", "role": "clerk", "organisation_id": org},
        {"kind": "finish", "role": "clerk", "organisation_id": org}])
    };
    let household = json!({"key": "household-register", "name": "户口簿", "certificate": "household-register",
        "resource": {"code": "household-registration", "fields": ["household_number", "relation_to_head"]}, "upload": true});
    let id_card = json!({"key": "resident-card", "name": "居民身份证", "certificate": "resident-card", "upload": true});
    let marriage = json!({"key": "marriage-certificate", "name": "结婚证", "certificate": "marriage-certificate", "upload": true});
    let insurance = json!({"key": "social-insurance", "name": "社会保险参保证明", "resource": {"code": "social-insurance-contributions", "fields": ["pension_status", "medical_status"]}, "upload": true});
    let estate_cert = json!({"key": "real-estate", "name": "不动产权证书（住所证明）", "certificate": "real-estate-certificate",
        "resource": {"code": "real-estate-registration", "fields": ["unit_number", "location"]}, "upload": true});
    let birth_proof = json!({"key": "birth-certificate", "name": "出生医学证明", "upload": true});
    let child = json!({"child_name": s("新生儿姓名"), "child_birth_date": date("新生儿出生日期"),
        "child_sex": {"type": "string", "title": "新生儿性别", "enum": ["男", "女"]}});
    let items = vec![
        json!({"code": "elderly-allowance", "name": "高龄津贴申领", "summary": "80 周岁以上老年人按月领取高龄津贴，发放到本人社保卡或银行账户。",
            "keywords": ["高龄补贴", "老年人津贴", "养老"], "situations": ["养老"], "departments": [civil],
            "legal_basis": "《中华人民共和国老年人权益保障法》第三十三条；《示例市高龄津贴发放办法》第五条",
            "eligibility": {"min_age": 80}, "statutory_days": 20, "committed_days": 10,
            "materials": [household, {"key": "bank-card", "name": "本人银行卡或社保卡", "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({"bank_account": s("收款账号")})), "required": ["name", "resident_id", "address", "bank_account"]},
            "field_sources": person_sources, "steps": steps4(civil)}),
        json!({"code": "senior-card", "name": "老年人优待证办理", "summary": "60 周岁以上老年人办理优待证，凭证免费乘坐公交、游览公园景区。",
            "keywords": ["优待证", "老年证", "免费乘车"], "situations": ["养老"], "departments": [civil],
            "legal_basis": "《中华人民共和国老年人权益保障法》第五十七条", "eligibility": {"min_age": 60},
            "statutory_days": 10, "committed_days": 3, "materials": [id_card],
            "form": {"type": "object", "properties": {"name": s("姓名"), "birth_date": date("出生日期"), "address": s("居住地址")}, "required": ["name", "birth_date"]},
            "field_sources": {"name": "profile.name", "birth_date": "profile.birth_date", "address": "profile.address"},
            "steps": steps2(civil),
            "result": {"certificate_type": "senior-citizen-card", "claims": {"name": "form.name", "birth_date": "form.birth_date", "card_number": "case.number"}}}),
        json!({"code": "minimum-living", "name": "最低生活保障申请", "summary": "家庭人均收入低于当地低保标准的，可申请城乡最低生活保障。",
            "keywords": ["低保", "社会救助", "困难家庭"], "situations": ["社会救助"], "departments": [civil],
            "legal_basis": "《社会救助暂行办法》第十一条", "statutory_days": 30, "committed_days": 20,
            "materials": [household, insurance, {"key": "income-proof", "name": "家庭收入说明", "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({"household_size": {"type": "integer", "title": "家庭人口", "minimum": 1, "maximum": 20},
                "monthly_income": {"type": "number", "title": "家庭月收入（元）", "minimum": 0}})), "required": ["name", "resident_id", "household_size", "monthly_income"]},
            "field_sources": person_sources, "steps": steps4(civil)}),
        json!({"code": "disability-subsidy", "name": "残疾人两项补贴申请", "summary": "困难残疾人生活补贴和重度残疾人护理补贴。",
            "keywords": ["残疾人补贴", "护理补贴"], "situations": ["助残"], "departments": [civil],
            "legal_basis": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》", "statutory_days": 20, "committed_days": 15,
            "materials": [{"key": "disability-certificate", "name": "残疾人证", "certificate": "disability-certificate", "upload": true}, household],
            "form": {"type": "object", "properties": person_fields(json!({})), "required": ["name", "resident_id"]},
            "field_sources": person_sources, "steps": steps4(civil)}),
        json!({"code": "marriage-appointment", "name": "结婚登记预约", "summary": "预约到婚姻登记处办理结婚登记的日期。",
            "keywords": ["结婚", "婚姻登记"], "situations": ["婚育"], "departments": [civil],
            "legal_basis": "《婚姻登记条例》第四条", "statutory_days": 1, "committed_days": 1, "materials": [household, id_card],
            "form": {"type": "object", "properties": person_fields(json!({"spouse_name": s("对方姓名"), "preferred_date": date("预约日期")})), "required": ["name", "resident_id", "spouse_name", "preferred_date"]},
            "field_sources": person_sources, "steps": steps2(civil)}),
        json!({"code": "birth-medical-certificate", "name": "出生医学证明办理", "summary": "新生儿出生后办理《出生医学证明》，是申报户口的依据。",
            "keywords": ["出生证", "出生证明", "新生儿"], "situations": ["生育"], "departments": [health],
            "legal_basis": "《中华人民共和国母婴保健法》第二十三条", "statutory_days": 5, "committed_days": 3,
            "materials": [id_card, marriage],
            "form": {"type": "object", "properties": person_fields(child.clone()), "required": ["name", "resident_id", "child_name", "child_birth_date", "child_sex"]},
            "field_sources": person_sources, "steps": steps2(health)}),
        json!({"code": "newborn-household", "name": "新生儿户口登记", "summary": "为新生儿申报常住户口。",
            "keywords": ["落户", "上户口", "新生儿"], "situations": ["生育", "户籍"], "departments": [police],
            "legal_basis": "《中华人民共和国户口登记条例》第七条", "statutory_days": 10, "committed_days": 5,
            "materials": [household, birth_proof],
            "form": {"type": "object", "properties": person_fields(child.clone()), "required": ["name", "resident_id", "child_name", "child_birth_date", "child_sex"]},
            "field_sources": person_sources, "steps": steps2(police)}),
        json!({"code": "newborn-medical-insurance", "name": "新生儿参保登记", "summary": "为新生儿办理城乡居民基本医疗保险参保登记。",
            "keywords": ["医保", "参保", "新生儿"], "situations": ["生育", "医保"], "departments": [medical],
            "legal_basis": "《中华人民共和国社会保险法》第二十五条", "statutory_days": 5, "committed_days": 2,
            "materials": [household],
            "form": {"type": "object", "properties": person_fields(child.clone()), "required": ["name", "resident_id", "child_name", "child_birth_date"]},
            "field_sources": person_sources, "steps": steps2(medical)}),
        json!({"code": "childbirth-allowance", "name": "生育津贴申领", "summary": "参加生育保险的职工按规定领取生育津贴。",
            "keywords": ["生育津贴", "产假工资", "生育保险"], "situations": ["生育"], "departments": [medical],
            "legal_basis": "《中华人民共和国社会保险法》第五十六条", "statutory_days": 20, "committed_days": 10,
            "materials": [insurance, marriage],
            "form": {"type": "object", "properties": person_fields(json!({"child_birth_date": date("新生儿出生日期"), "bank_account": s("收款账号")})), "required": ["name", "resident_id", "child_birth_date", "bank_account"]},
            "field_sources": person_sources, "steps": steps4(medical)}),
        json!({"code": "household-move", "name": "户口迁移（市内）", "summary": "在本市范围内购房或投靠亲属的，迁移常住户口。",
            "keywords": ["迁户口", "户口迁移", "落户"], "situations": ["户籍", "住房"], "departments": [police],
            "legal_basis": "《中华人民共和国户口登记条例》第十三条", "statutory_days": 20, "committed_days": 10,
            "materials": [household, estate_cert],
            "form": {"type": "object", "properties": person_fields(json!({"new_address": s("迁入地址")})), "required": ["name", "resident_id", "new_address"]},
            "field_sources": person_sources, "steps": steps2(police)}),
        json!({"code": "resident-card-renewal", "name": "居民身份证换领", "summary": "居民身份证有效期满或信息变更时换领新证。",
            "keywords": ["身份证", "换证"], "situations": ["户籍"], "departments": [police],
            "legal_basis": "《中华人民共和国居民身份证法》第十一条", "statutory_days": 60, "committed_days": 15,
            "materials": [{"key": "photo", "name": "证件照片回执", "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({})), "required": ["name", "resident_id"]},
            "field_sources": person_sources, "steps": steps2(police)}),
        json!({"code": "unemployment-registration", "name": "失业登记", "summary": "失业人员办理失业登记，享受就业服务和失业保险待遇。",
            "keywords": ["失业", "失业金", "就业"], "situations": ["就业"], "departments": [hrss],
            "legal_basis": "《就业服务与就业管理规定》第六十一条", "statutory_days": 5, "committed_days": 3,
            "materials": [household, {"key": "degree", "name": "学历证书", "certificate": "degree-certificate", "upload": true, "required": false}],
            "form": {"type": "object", "properties": person_fields(json!({"last_employer": s("原工作单位")})), "required": ["name", "resident_id"]},
            "field_sources": person_sources, "steps": steps2(hrss)}),
        json!({"code": "graduate-subsidy", "name": "高校毕业生就业补贴", "summary": "35 周岁以下高校毕业生在本市就业的，可申领一次性就业补贴。",
            "keywords": ["人才补贴", "毕业生", "就业补贴"], "situations": ["就业"], "departments": [hrss],
            "legal_basis": "《示例市高校毕业生就业创业补贴办法》第四条", "eligibility": {"max_age": 35},
            "statutory_days": 30, "committed_days": 15,
            "materials": [{"key": "degree", "name": "学历证书", "certificate": "degree-certificate", "resource": {"code": "education-degrees", "fields": ["school", "level"]}, "upload": true},
                {"key": "labour-contract", "name": "劳动合同", "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({"employer": s("就业单位"), "bank_account": s("收款账号")})), "required": ["name", "resident_id", "employer", "bank_account"]},
            "field_sources": person_sources, "steps": steps4(hrss)}),
        json!({"code": "pension-qualification", "name": "养老保险待遇资格认证", "summary": "领取养老金的人员每年进行一次待遇资格认证。",
            "keywords": ["养老金", "资格认证", "生存认证"], "situations": ["养老"], "departments": [hrss],
            "legal_basis": "《人力资源社会保障部关于全面取消社会保险待遇资格集中认证的通知》", "eligibility": {"min_age": 50},
            "statutory_days": 10, "committed_days": 5, "materials": [id_card],
            "form": {"type": "object", "properties": person_fields(json!({})), "required": ["name", "resident_id"]},
            "field_sources": person_sources, "steps": steps2(hrss)}),
        json!({"code": "sole-proprietor", "name": "个体工商户登记", "summary": "个人从事工商业经营的，办理个体工商户登记。",
            "keywords": ["个体户", "营业执照", "开店"], "situations": ["开办企业"], "departments": [market],
            "legal_basis": "《促进个体工商户发展条例》第八条", "statutory_days": 15, "committed_days": 3,
            "materials": [id_card, {"key": "premises", "name": "经营场所证明", "certificate": "real-estate-certificate", "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({"trade_name": s("字号名称"), "business_scope": s("经营范围")})), "required": ["name", "resident_id", "trade_name", "business_scope"]},
            "field_sources": person_sources, "steps": steps2(market)}),
        json!({"code": "real-estate-transfer", "name": "不动产转移登记", "summary": "买卖、赠与、继承房屋后办理所有权转移登记。",
            "keywords": ["过户", "房产证", "不动产"], "situations": ["住房"], "departments": [estate],
            "legal_basis": "《不动产登记暂行条例》第十四条", "statutory_days": 30, "committed_days": 5,
            "materials": [estate_cert, {"key": "marital-status", "name": "婚姻状况证明", "resource": {"code": "marriage-registration", "fields": ["marital_status", "spouse_name"]}, "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({"unit_number": s("不动产单元号")})), "required": ["name", "resident_id", "unit_number"]},
            "field_sources": with_sources(json!({})), "steps": steps2(estate)}),
        json!({"code": "school-enrolment", "name": "小学新生入学登记", "summary": "适龄儿童在户籍所在学区登记入学。",
            "keywords": ["入学", "小学", "学位"], "situations": ["教育"], "departments": [education],
            "legal_basis": "《中华人民共和国义务教育法》第十二条", "statutory_days": 20, "committed_days": 10,
            "materials": [household, estate_cert],
            "form": {"type": "object", "properties": person_fields(json!({"child_name": s("儿童姓名"), "child_birth_date": date("儿童出生日期")})), "required": ["name", "resident_id", "child_name", "child_birth_date"]},
            "field_sources": person_sources, "steps": steps2(education)}),
        json!({"code": "medical-assistance", "name": "医疗救助申请", "summary": "低保对象等困难群众的自付医疗费用按比例救助。",
            "keywords": ["医疗救助", "看病报销", "社会救助"], "situations": ["社会救助", "医疗"], "departments": [health],
            "legal_basis": "《社会救助暂行办法》第二十八条", "statutory_days": 20, "committed_days": 10,
            "materials": [{"key": "assistance-status", "name": "低保对象身份", "resource": {"code": "minimum-living-allowance", "fields": ["status"]}, "upload": true},
                {"key": "medical-bills", "name": "医疗费用票据", "upload": true}],
            "form": {"type": "object", "properties": person_fields(json!({"amount": {"type": "number", "title": "自付费用（元）", "minimum": 0}})), "required": ["name", "resident_id", "amount"]},
            "field_sources": person_sources, "steps": steps2(health)}),
    ];
    items
        .into_iter()
        .map(|v| serde_json::from_value(v).context("a demo service item does not read"))
        .collect()
}

/// Seeds the demo's services. `people` are (resident ID, age) of synthetic residents.
#[allow(clippy::too_many_arguments)]
pub async fn seed(
    state: &AppState,
    admin: &Principal,
    orgs: &[String],
    people: &[(String, i32)],
    elder: &Principal,
    citizen: &Principal,
    clerk: &Principal,
) -> anyhow::Result<()> {
    use services::service as sv;
    // The holiday calendar (demo dates for this year and the next).
    let year = services::calendar::today().year();
    for (month_day, name, working) in [
        ("01-01", "元旦", false),
        ("05-01", "劳动节", false),
        ("05-04", "劳动节", false),
        ("05-05", "劳动节", false),
        ("10-01", "国庆节", false),
        ("10-02", "国庆节", false),
        ("10-05", "国庆节", false),
        ("10-06", "国庆节", false),
        ("10-07", "国庆节", false),
    ] {
        for y in [year, year + 1] {
            sv::set_day(
                state,
                admin,
                &format!("{y}-{month_day}"),
                services::model::CalendarEntry {
                    name: name.into(),
                    working,
                },
            )
            .await?;
        }
    }
    // Agreements the items' materials need beyond the exchange demo's own.
    let (police, civil, hrss, health, education, medical) =
        (&orgs[0], &orgs[1], &orgs[2], &orgs[3], &orgs[4], &orgs[6]);
    for (resource, consumer, fields, purpose, basis) in [
        (
            "household-registration",
            medical,
            vec!["household_number", "relation_to_head"],
            "新生儿参保、生育津贴材料免提交",
            "《中华人民共和国社会保险法》第二十五条",
        ),
        (
            "household-registration",
            police,
            vec!["household_number", "relation_to_head"],
            "户口登记材料核对",
            "《中华人民共和国户口登记条例》第七条",
        ),
        (
            "household-registration",
            hrss,
            vec!["household_number", "relation_to_head"],
            "失业登记材料免提交",
            "《就业服务与就业管理规定》第六十一条",
        ),
        (
            "household-registration",
            education,
            vec!["household_number", "relation_to_head"],
            "入学登记学区核对",
            "《中华人民共和国义务教育法》第十二条",
        ),
        (
            "social-insurance-contributions",
            medical,
            vec!["pension_status", "medical_status"],
            "生育津贴参保核对",
            "《中华人民共和国社会保险法》第五十六条",
        ),
        (
            "real-estate-registration",
            police,
            vec!["unit_number", "location"],
            "户口迁移住所核对",
            "《中华人民共和国户口登记条例》第十三条",
        ),
        (
            "real-estate-registration",
            education,
            vec!["unit_number", "location"],
            "入学登记住所核对",
            "《中华人民共和国义务教育法》第十二条",
        ),
    ] {
        let request = exchange::service::file_request(
            state,
            admin,
            exchange::model::NewRequest {
                resource: resource.into(),
                consumer_org_id: Some(consumer.clone()),
                fields: fields.iter().map(|f| f.to_string()).collect(),
                purpose: purpose.into(),
                legal_basis: basis.into(),
                statutory: true,
                expected_calls_per_day: 500,
            },
        )
        .await?;
        exchange::service::decide(
            state,
            admin,
            &request.id,
            exchange::model::Decision {
                approve: true,
                reason: None,
                fields: None,
                expires_at: None,
                rate_limit_per_minute: Some(600),
            },
        )
        .await?;
    }
    for def in definitions(orgs)? {
        sv::define_item(state, admin, def).await?;
    }
    for (code, name, summary, items) in [
        (
            "newborn",
            "新生儿出生一件事",
            "孩子出生后，一次申请办好出生医学证明、户口登记、医保参保和生育津贴。",
            vec![
                "birth-medical-certificate",
                "newborn-household",
                "newborn-medical-insurance",
                "childbirth-allowance",
            ],
        ),
        (
            "elderly-benefits",
            "老年人优待一件事",
            "年满 60 周岁后，一次申请办好老年人优待证、高龄津贴和养老金资格认证。",
            vec!["senior-card", "elderly-allowance", "pension-qualification"],
        ),
    ] {
        sv::define_life_event(
            state,
            admin,
            NewLifeEvent {
                code: code.into(),
                name: name.into(),
                summary: summary.into(),
                items: items.into_iter().map(str::to_string).collect(),
            },
        )
        .await?;
    }
    // Staff of the departments the demo's cases pass through.
    let reviewer = account(
        state,
        "demo-reviewer",
        Role::Reviewer,
        Some(civil),
        None,
        Some("民政局审核人 周洁"),
    )
    .await?;
    let health_clerk = account(
        state,
        "demo-clerk-health",
        Role::Clerk,
        Some(health),
        None,
        Some("卫健委经办人 孙悦"),
    )
    .await?;
    let police_clerk = account(
        state,
        "demo-clerk-police",
        Role::Clerk,
        Some(police),
        None,
        Some("公安局户政民警 吴刚"),
    )
    .await?;
    let medical_clerk = account(
        state,
        "demo-clerk-medical",
        Role::Clerk,
        Some(medical),
        None,
        Some("医保局经办人 郑芳"),
    )
    .await?;
    account(
        state,
        "demo-reviewer-medical",
        Role::Reviewer,
        Some(medical),
        None,
        Some("医保局审核人 冯军"),
    )
    .await?;
    let hrss_clerk = account(
        state,
        "demo-clerk-hrss",
        Role::Clerk,
        Some(hrss),
        None,
        Some("人社局经办人 钱明"),
    )
    .await?;

    // Synthetic residents with accounts, to apply in the demo.
    let mut residents = Vec::new();
    let pick = |min: i32, max: i32, skip: usize| {
        people
            .iter()
            .filter(|(_, age)| (min..=max).contains(age))
            .nth(skip)
            .map(|(rid, _)| rid.clone())
    };
    for (i, (min, max, skip)) in [
        (60, 79, 0),
        (80, 98, 1),
        (30, 59, 0),
        (40, 59, 2),
        (80, 98, 3),
        (20, 34, 4),
        (60, 79, 5),
    ]
    .into_iter()
    .enumerate()
    {
        let rid = pick(min, max, skip).context("the demo has too few residents of an age")?;
        let person = service::person_by_resident_id(
            state,
            &ResidentId::parse(&rid).map_err(anyhow::Error::msg)?,
        )
        .await?
        .context("a demo resident is missing")?;
        let p = account(
            state,
            &format!("demo-resident-{}", i + 1),
            Role::Citizen,
            None,
            Some(&person.id),
            None,
        )
        .await?;
        residents.push(p);
    }
    let form = |values: Value| FormUpdate {
        values: values.as_object().cloned().unwrap_or_default(),
    };
    let apply = |who: &Principal, item: &str| {
        let who = who.clone();
        let item = item.to_string();
        async move {
            sv::start(
                state,
                &who,
                NewApplication {
                    item: Some(item),
                    life_event: None,
                    fetch: true,
                    submit: false,
                },
            )
            .await
        }
    };
    // Moves a case through `actions` by `by`, returning it.
    async fn run(
        state: &AppState,
        case_id: &str,
        moves: &[(&Principal, &str, Option<&str>)],
    ) -> anyhow::Result<services::model::Case> {
        let mut case = None;
        for (by, action, note) in moves {
            let (current, _) = services::service::case(state, by, case_id).await?;
            case = Some(
                services::service::act(
                    state,
                    by,
                    case_id,
                    CaseAction {
                        action: action.to_string(),
                        step: current.step_index,
                        version: current.version,
                        note: note.map(str::to_string),
                    },
                )
                .await?,
            );
        }
        case.context("no moves")
    }
    let days_ago = |n: i64| {
        services::calendar::format_day(services::calendar::today() - time::Duration::days(n))
    };

    // 1. 王小梅: a draft — the graduate subsidy, her degree taken from her wallet, the
    // labour contract still to upload.
    let draft = apply(citizen, "graduate-subsidy").await?;
    sv::update_form(
        state,
        citizen,
        &draft.id,
        form(json!({"employer": "示例市智造科技有限公司"})),
    )
    .await?;

    // 2. 李秀英: the elderly allowance, submitted with her bank card, accepted, at review.
    let a = apply(elder, "elderly-allowance").await?;
    sv::update_form(
        state,
        elder,
        &a.id,
        form(json!({"bank_account": "6217 0000 0000 1944"})),
    )
    .await?;
    sv::upload(
        state,
        elder,
        &a.id,
        "bank-card",
        "社保卡.pdf",
        Some("application/pdf"),
        DEMO_PDF,
    )
    .await?;
    let a = sv::submit(state, elder, &a.id).await?;
    run(state, &a.cases[0].id, &[(clerk, "complete", None)]).await?;

    // 3. A resident of 60–79: the senior card, finished with its certificate, rated 5.
    let r = &residents[0];
    let a = apply(r, "senior-card").await?;
    sv::upload(
        state,
        r,
        &a.id,
        "resident-card",
        "身份证.pdf",
        None,
        DEMO_PDF,
    )
    .await?;
    let a = sv::submit(state, r, &a.id).await?;
    services::store::backdate_case(&state.db, &a.cases[0].id, &days_ago(3), &a.cases[0].due_on)
        .await?;
    run(
        state,
        &a.cases[0].id,
        &[(clerk, "complete", None), (clerk, "complete", None)],
    )
    .await?;
    sv::rate(
        state,
        r,
        &a.id,
        NewRating {
            case_id: None,
            score: 5,
            comment: Some("网上办，不用跑腿，三天就拿到了。".into()),
        },
    )
    .await?;

    // 4. A resident of 80+: the elderly allowance, overdue and escalated to the reviewer.
    let r = &residents[1];
    let a = apply(r, "elderly-allowance").await?;
    sv::update_form(
        state,
        r,
        &a.id,
        form(json!({"bank_account": "6217 0000 0000 0080", "address": "示例市东湖区湖滨街道幸福社区 8 栋"})),
    )
    .await?;
    sv::upload(state, r, &a.id, "bank-card", "银行卡.pdf", None, DEMO_PDF).await?;
    let a = sv::submit(state, r, &a.id).await?;
    services::store::backdate_case(&state.db, &a.cases[0].id, &days_ago(21), &days_ago(6)).await?;
    run(state, &a.cases[0].id, &[(clerk, "complete", None)]).await?;
    sv::escalate_overdue(state).await?;

    // 5. A resident of 30–59: minimum living allowance, paused for 补正.
    let r = &residents[2];
    let a = apply(r, "minimum-living").await?;
    sv::update_form(
        state,
        r,
        &a.id,
        form(json!({"household_size": 3, "monthly_income": 1800})),
    )
    .await?;
    sv::upload(
        state,
        r,
        &a.id,
        "income-proof",
        "收入说明.pdf",
        None,
        DEMO_PDF,
    )
    .await?;
    let a = sv::submit(state, r, &a.id).await?;
    run(
        state,
        &a.cases[0].id,
        &[
            (clerk, "complete", None),
            (
                clerk,
                "supplement",
                Some("请补充家庭成员近三个月的工资流水"),
            ),
        ],
    )
    .await?;

    // 6. A resident of 40–59: disability subsidy, rejected with reasons, rated 3.
    let r = &residents[3];
    let a = apply(r, "disability-subsidy").await?;
    sv::upload(
        state,
        r,
        &a.id,
        "disability-certificate",
        "残疾人证.pdf",
        None,
        DEMO_PDF,
    )
    .await?;
    let a = sv::submit(state, r, &a.id).await?;
    services::store::backdate_case(&state.db, &a.cases[0].id, &days_ago(8), &a.cases[0].due_on)
        .await?;
    run(state, &a.cases[0].id, &[(clerk, "complete", None), (clerk, "reject", Some("残疾等级为四级，不属于重度残疾人护理补贴范围；困难残疾人生活补贴需为低保家庭成员"))]).await?;
    sv::rate(
        state,
        r,
        &a.id,
        NewRating {
            case_id: None,
            score: 3,
            comment: Some("理由说得清楚，但希望早点告知条件。".into()),
        },
    )
    .await?;

    // 7. Another 80+: the elderly allowance through all four steps, finished in time.
    let r = &residents[4];
    let a = apply(r, "elderly-allowance").await?;
    sv::update_form(
        state,
        r,
        &a.id,
        form(json!({"bank_account": "6217 0000 0000 0081", "address": "示例市东湖区湖滨街道幸福社区 8 栋"})),
    )
    .await?;
    sv::upload(state, r, &a.id, "bank-card", "社保卡.pdf", None, DEMO_PDF).await?;
    let a = sv::submit(state, r, &a.id).await?;
    services::store::backdate_case(&state.db, &a.cases[0].id, &days_ago(7), &a.cases[0].due_on)
        .await?;
    run(
        state,
        &a.cases[0].id,
        &[
            (clerk, "complete", None),
            (clerk, "complete", None),
            (&reviewer, "complete", None),
            (clerk, "complete", None),
        ],
    )
    .await?;
    sv::rate(
        state,
        r,
        &a.id,
        NewRating {
            case_id: None,
            score: 4,
            comment: None,
        },
    )
    .await?;

    // 8. 王小梅's newborn: one application, four departments in parallel.
    let a = sv::start(
        state,
        citizen,
        NewApplication {
            item: None,
            life_event: Some("newborn".into()),
            fetch: true,
            submit: false,
        },
    )
    .await?;
    sv::update_form(state, citizen, &a.id, form(json!({"child_name": "赵安安", "child_birth_date": days_ago(10), "child_sex": "女", "bank_account": "6217 0000 0000 1991"}))).await?;
    sv::upload(
        state,
        citizen,
        &a.id,
        "birth-certificate",
        "出生医学证明.pdf",
        None,
        DEMO_PDF,
    )
    .await?;
    let a = sv::submit(state, citizen, &a.id).await?;
    for c in &a.cases {
        match c.item_code.as_str() {
            "birth-medical-certificate" => {
                run(
                    state,
                    &c.id,
                    &[
                        (&health_clerk, "complete", None),
                        (&health_clerk, "complete", None),
                    ],
                )
                .await?;
            }
            "newborn-household" => {
                run(state, &c.id, &[(&police_clerk, "complete", None)]).await?;
            }
            "childbirth-allowance" => {
                run(
                    state,
                    &c.id,
                    &[
                        (&medical_clerk, "complete", None),
                        (&medical_clerk, "complete", None),
                    ],
                )
                .await?;
            }
            _ => {}
        }
    }

    // 9. A young resident: unemployment registration, finished the same day.
    let r = &residents[5];
    let a = apply(r, "unemployment-registration").await?;
    sv::update_form(
        state,
        r,
        &a.id,
        form(json!({"last_employer": "南桥物流有限公司"})),
    )
    .await?;
    let a = sv::submit(state, r, &a.id).await?;
    run(
        state,
        &a.cases[0].id,
        &[
            (&hrss_clerk, "complete", None),
            (&hrss_clerk, "complete", None),
        ],
    )
    .await?;
    sv::rate(
        state,
        r,
        &a.id,
        NewRating {
            case_id: None,
            score: 5,
            comment: None,
        },
    )
    .await?;

    // 10. Another 60–79: the senior card, submitted and waiting for acceptance.
    let r = &residents[6];
    let a = apply(r, "senior-card").await?;
    sv::upload(
        state,
        r,
        &a.id,
        "resident-card",
        "身份证.pdf",
        None,
        DEMO_PDF,
    )
    .await?;
    sv::submit(state, r, &a.id).await?;
    Ok(())
}

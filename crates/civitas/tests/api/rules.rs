//! Rules over HTTP: the packages served, OpenFisca's `/calculate` and `/trace` on the demo
//! city's policies and on the ported country template (with a reform), bad situations
//! named by their place, and `civitas rules calculate` printing exactly what the API
//! answers.

use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn spawn() -> TestApp {
    TestApp::spawn_configured(false, |c| {
        c.rules_packages = civitas::demo::rules_packages();
    })
    .await
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn household() -> Value {
    json!({
        "persons": {
            "grandma": {"birth": {"ETERNITY": "1943-05-01"}, "disability_grade": {"2025-03": 2},
                        "old_age_allowance": {"2025-03": null},
                        "disability_care_subsidy": {"2025-03": null}},
            "mother": {"birth": {"ETERNITY": "1990-01-01"}, "income": {"2025-03": 1200}},
            "baby": {"birth": {"ETERNITY": "2025-03-01"}}
        },
        "households": {
            "home": {"adults": ["grandma", "mother"], "children": ["baby"],
                     "dibao_top_up": {"2025-03": null}, "childbirth_allowance": {"2025-03": null}}
        }
    })
}

#[tokio::test]
async fn the_demo_citys_policies_are_computed_and_explained_over_http() {
    let app = spawn().await;
    let packages: Value = app
        .client
        .get(app.url("/api/v1/rules/packages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = packages
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"demo-city"), "{packages}");
    let detail: Value = app
        .client
        .get(app.url("/api/v1/rules/packages/demo-city"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let allowance = detail["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "old_age_allowance")
        .unwrap();
    assert_eq!(
        allowance["citation"]["document"],
        "《示例市高龄津贴发放办法》"
    );
    assert_eq!(allowance["formulas_since"], json!(["2019-01-01"]));
    assert!(
        allowance["source"]
            .as_str()
            .unwrap()
            .contains("benefits.yaml:")
    );

    let (status, filled) = post(
        &app,
        "/api/v1/rules/calculate?package=demo-city",
        &household(),
    )
    .await;
    assert_eq!(status, 200, "{filled}");
    assert_eq!(
        filled["persons"]["grandma"]["old_age_allowance"]["2025-03"],
        json!(150.0)
    );
    assert_eq!(
        filled["persons"]["grandma"]["disability_care_subsidy"]["2025-03"],
        json!(120.0)
    );
    // 1,200 for three: 400 a head, 560 under the standard of 960 each, and 80 for the
    // member over 70.
    assert_eq!(
        filled["households"]["home"]["dibao_top_up"]["2025-03"],
        json!(1760.0)
    );
    assert_eq!(
        filled["households"]["home"]["childbirth_allowance"]["2025-03"],
        json!(2000.0)
    );
    assert_eq!(
        filled["persons"]["mother"],
        household()["persons"]["mother"]
    );

    let (status, traced) = post(&app, "/api/v1/rules/trace?package=demo-city", &household()).await;
    assert_eq!(status, 200, "{traced}");
    assert_eq!(
        traced["trace"]["old_age_allowance<2025-03>"]["parameters"]["old_age.from_80<2025-03-01>"],
        json!(150.0)
    );
    let why = &traced["explanations"]["persons/grandma/old_age_allowance/2025-03"];
    assert_eq!(why["source"], "case");
    assert_eq!(why["case_citation"]["article"], "第五条第一项");
    let read = why["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "parameter")
        .unwrap();
    assert_eq!(read["since"], "2024-07-01");
    assert!(
        read["citation"]["document"]
            .as_str()
            .unwrap()
            .contains("示民发〔2024〕12号"),
        "{read}"
    );
}

#[tokio::test]
async fn bad_situations_and_unknown_packages_are_named() {
    let app = spawn().await;
    let (status, body) = post(
        &app,
        "/api/v1/rules/calculate?package=demo-city",
        &json!({"persons": {"a": {"incme": {"2025-01": 1}, "age": {"2025-13": null}}}, "pets": {}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"persons/a/incme"), "{body}");
    assert!(fields.contains(&"persons/a/age/2025-13"), "{body}");
    assert!(fields.contains(&"pets"), "{body}");

    let (status, body) = post(&app, "/api/v1/rules/calculate?package=atlantis", &json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("demo-city"),
        "{body}"
    );
    let (status, body) = post(
        &app,
        "/api/v1/rules/calculate?package=demo-city&reforms=free_money",
        &household(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "reforms");
    // Not JSON; no package named.
    let response = app
        .client
        .post(app.url("/api/v1/rules/calculate?package=demo-city"))
        .header("content-type", "application/json")
        .body("{\"persons\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let (status, _) = post(&app, "/api/v1/rules/calculate", &household()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_country_template_and_its_reforms_answer_as_the_cli_prints() {
    let Some(template) =
        std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE").map(std::path::PathBuf::from)
    else {
        eprintln!("OPENFISCA_COUNTRY_TEMPLATE is not set: CI installs the package and sets it");
        return;
    };
    let app = spawn().await;
    let couple = template.join("situation_examples/couple.json");
    let situation: Value =
        serde_json::from_str(&std::fs::read_to_string(&couple).unwrap()).unwrap();
    let (status, filled) = post(
        &app,
        "/api/v1/rules/calculate?package=openfisca-country-template",
        &situation,
    )
    .await;
    assert_eq!(status, 200, "{filled}");
    assert_eq!(
        filled["households"]["_"]["total_benefits"]["2017-01"],
        json!(1200.0)
    );
    let (status, reformed) = post(
        &app,
        "/api/v1/rules/calculate?package=openfisca-country-template&reforms=openfisca_country_template.reforms.removal_basic_income.removal_basic_income",
        &situation,
    )
    .await;
    assert_eq!(status, 200, "{reformed}");
    assert_eq!(
        reformed["households"]["_"]["total_benefits"]["2017-01"],
        json!(0.0)
    );

    let port = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules/openfisca-country-template");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["rules", "calculate", "--rules"])
        .arg(&port)
        .arg("--parameters")
        .arg(template.join("parameters"))
        .arg(&couple)
        .env("CIVITAS_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, filled, "the CLI prints what the API answers");

    // A mistake: named on standard error, exit 1.
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        bad.path(),
        r#"{"persons": {"a": {"salary": {"2017-01": "much"}}}}"#,
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["rules", "calculate", "--rules"])
        .arg(&port)
        .arg("--parameters")
        .arg(template.join("parameters"))
        .arg(bad.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("persons/a/salary/2017-01: salary holds a number"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn civitas_rules_run_computes_a_table_of_persons_for_analysts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "id,household,role,birth,income,lives_alone\n\
         a,h1,adult,1943-05-01,0,true\n\
         b,h1,adult,1990-01-01,1200,\n\
         c,h1,child,2026-06-01,,\n\
         d,,,1950-01-01,3000,false\n",
    )
    .unwrap();
    let output = dir.path().join("out.csv");
    let rules = civitas::demo::rules_root().join("demo-city");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["rules", "run", "--rules"])
        .arg(&rules)
        .arg("--csv")
        .arg(&input)
        .args([
            "--variables",
            "old_age_allowance,dibao_top_up,living_alone_care_subsidy,childbirth_allowance",
            "--period",
            "2026-06",
            "--output",
        ])
        .arg(&output)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        written,
        "id,old_age_allowance,dibao_top_up,living_alone_care_subsidy,childbirth_allowance\n\
         a,150.0,1910.0,50.0,3600.0\n\
         b,0.0,1910.0,0.0,3600.0\n\
         c,0.0,1910.0,0.0,3600.0\n\
         d,0.0,0.0,0.0,0.0\n"
    );
    // A bad table: every problem with its line and column, exit 1, nothing written.
    std::fs::write(&input, "id,birth,salry\nx,1940-13-01,1\n").unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["rules", "run", "--rules"])
        .arg(&rules)
        .arg("--csv")
        .arg(&input)
        .args(["--variables", "old_age_allowance"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("line 1, column 3: there is no variable salry"),
        "{said}"
    );
    assert!(
        said.contains("line 2, column 2: birth: '1940-13-01' is not a date"),
        "{said}"
    );
}

//! OpenFisca's situation JSON against the ported country template: the template's own
//! example situations are filled in, `/trace`'s shape is OpenFisca's, and every mistake
//! in a situation is named by its place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use rules::package::Package;
use rules::situation::calculate;
use serde_json::json;

fn template() -> Option<(Package, PathBuf)> {
    let Some(dir) = std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE").map(PathBuf::from) else {
        eprintln!("OPENFISCA_COUNTRY_TEMPLATE is not set: CI installs the package and sets it");
        return None;
    };
    let port =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/openfisca-country-template");
    let package = rules::package::load_package_with(&port, Some(&dir.join("parameters")))
        .unwrap_or_else(|errors| panic!("{errors:#?}"));
    Some((package, dir))
}

#[test]
fn the_templates_example_situations_are_filled_in() {
    let Some((package, dir)) = template() else {
        return;
    };
    let couple: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("situation_examples/couple.json")).unwrap(),
    )
    .unwrap();
    let answer = calculate(&package, &couple, false).unwrap();
    let household = &answer.situation["households"]["_"];
    // Salaries 4,000 and 2,500: taxes 15% of each plus the contributions' scale.
    let taxes = household["total_taxes"]["2017-01"].as_f64().unwrap();
    let benefits = household["total_benefits"]["2017-01"].as_f64().unwrap();
    let disposable = household["disposable_income"]["2017-01"].as_f64().unwrap();
    assert!((disposable - (6500.0 + benefits - taxes)).abs() < 1e-6);
    assert_eq!(benefits, 1200.0, "two adults' basic income");
    // As openfisca-core 46.0.1 computes them (in float32): 6578.3335 and 1121.6666.
    assert!((disposable - 6578.3335).abs() < 1e-3, "{disposable}");
    assert!((taxes - 1121.6666).abs() < 1e-3, "{taxes}");
    // What was given stays as it was.
    assert_eq!(answer.situation["persons"], couple["persons"]);
    assert!(answer.trace.is_none());

    for example in ["single.json", "housing.json"] {
        let situation: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("situation_examples").join(example)).unwrap(),
        )
        .unwrap();
        let answer =
            calculate(&package, &situation, false).unwrap_or_else(|e| panic!("{example}: {e:#?}"));
        assert!(
            !answer.situation.to_string().contains("null"),
            "{example}: {}",
            answer.situation
        );
    }
}

#[test]
fn a_trace_has_openfiscas_shape_and_each_value_its_explanation() {
    let Some((package, _)) = template() else {
        return;
    };
    let situation = json!({
        "persons": {
            "Ari": {"salary": {"2017": 24000}, "income_tax": {"2017-01": null},
                    "social_security_contribution": {"2017-01": null}},
            "Bo": {"salary": {"2017": 24000}, "income_tax": {"2017-01": null}}
        },
        "households": {"h": {"adults": ["Ari", "Bo"], "housing_tax": {"2017": null},
                             "parenting_allowance": {"2017-01": null}}}
    });
    let answer = calculate(&package, &situation, true).unwrap();
    // A yearly salary spread over its months.
    assert_eq!(
        answer.situation["persons"]["Bo"]["income_tax"]["2017-01"],
        json!(300.0)
    );
    let trace = answer.trace.unwrap();
    assert_eq!(
        trace["entitiesDescription"],
        json!({"persons": ["Ari", "Bo"], "households": ["h"]})
    );
    assert_eq!(
        trace["requestedCalculations"],
        json!([
            "income_tax<2017-01>",
            "social_security_contribution<2017-01>",
            "housing_tax<2017>",
            "parenting_allowance<2017-01>"
        ])
    );
    let tax = &trace["trace"]["income_tax<2017-01>"];
    assert_eq!(tax["value"], json!([300.0, 300.0]));
    assert!(
        tax["dependencies"]
            .as_array()
            .unwrap()
            .contains(&json!("salary<2017-01>")),
        "{tax}"
    );
    assert_eq!(
        tax["parameters"]["taxes.income_tax_rate<2017-01-01>"],
        json!(0.15)
    );
    assert_eq!(
        trace["trace"]["salary<2017-01>"]["value"],
        json!([2000.0, 2000.0])
    );
    let why = &trace["explanations"]["persons/Ari/income_tax/2017-01"];
    assert_eq!(why["version"], json!(1));
    assert_eq!(why["value"], json!(300.0));
    assert!(
        why["steps"].to_string().contains("income_tax_rate"),
        "{why}"
    );
}

#[test]
fn every_mistake_in_a_situation_is_named_by_its_place() {
    let Some((package, _)) = template() else {
        return;
    };
    let situation = json!({
        "persons": {
            "Ari": {
                "salry": {"2017-01": 2000},
                "salary": {"2017-13": 1},
                "birth": {"ETERNITY": "1980-02-30"},
                "housing_tax": {"2017": null},
                "age": 40
            },
            "Bo": {"salary": {"2017-01": "lots"}},
            "Cy": []
        },
        "households": {
            "h": {"adults": ["Ari", "Dan"], "housing_occupancy_status": {"2017-01": "squatter"}},
            "k": {"children": ["Ari"]}
        },
        "companies": {}
    });
    let problems = calculate(&package, &situation, false).unwrap_err();
    let said = |path: &str, says: &str| {
        assert!(
            problems
                .iter()
                .any(|p| p.path == path && p.message.contains(says)),
            "no {path}: {says} in {problems:#?}"
        );
    };
    said(
        "companies",
        "is not an entity of openfisca-country-template (persons, households)",
    );
    said("persons/Ari/salry", "there is no variable salry");
    said("persons/Ari/salary/2017-13", "2017-13");
    said("persons/Ari/birth/ETERNITY", "'1980-02-30' is not a date");
    said(
        "persons/Ari/housing_tax",
        "housing_tax belongs to the households, not the persons",
    );
    said(
        "persons/Ari/age",
        "values are given by period, e.g. {\"2017-01\": …}",
    );
    said(
        "persons/Bo/salary/2017-01",
        "salary holds a number, not a text",
    );
    said("persons/Cy", "a member is an object");
    said("households/h/adults/1", "Dan is not one of the persons");
    said("households/k/children/0", "Ari is in h already");
    said(
        "households/h/housing_occupancy_status/2017-01",
        "'squatter' is not one of",
    );

    // Computing for a period the variable is not defined for is named where it is asked.
    let problems = calculate(
        &package,
        &json!({"persons": {"Ari": {"income_tax": {"2017": null}}}}),
        false,
    )
    .unwrap_err();
    assert_eq!(problems[0].path, "persons/Ari/income_tax/2017");
    assert!(problems[0].message.contains("month"), "{problems:?}");
    // Not a situation at all; too many members.
    assert!(calculate(&package, &json!([1, 2]), false).is_err());
    let many: serde_json::Map<String, serde_json::Value> = (0..=rules::situation::MAX_MEMBERS)
        .map(|i| (format!("p{i}"), json!({})))
        .collect();
    let problems = calculate(&package, &json!({ "persons": many }), false).unwrap_err();
    assert!(problems[0].message.contains("at most"), "{problems:?}");
}

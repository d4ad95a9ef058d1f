//! The parameters of OpenFisca's country template (openfisca-country-template 8.2.0, from
//! PyPI; CI installs it and names its folder in `OPENFISCA_COUNTRY_TEMPLATE`) load whole,
//! and read as OpenFisca reads them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use rules::eval::Column;
use rules::parameters::{ReadError, ScaleKind, load_openfisca};
use rules::period::Period;
use rules::simulation::Simulation;
use time::macros::date;

#[test]
fn the_country_templates_parameters_load_and_read_as_in_openfisca() {
    let Some(package) = std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE").map(PathBuf::from) else {
        eprintln!("OPENFISCA_COUNTRY_TEMPLATE is not set: CI installs the package and sets it");
        return;
    };
    let p = load_openfisca(&package.join("parameters")).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let value = |path: &str, day| p.value(path, day).map(|r| r.value);
    assert_eq!(
        value("benefits.basic_income", date!(2017 - 01 - 01)),
        Ok(600.0)
    );
    // Ends with `null`; before its first value there is none either.
    assert!(matches!(
        p.value("benefits.housing_allowance", date!(2017 - 01 - 01)),
        Err(ReadError::Ended { .. })
    ));
    assert!(matches!(
        p.value("benefits.housing_allowance", date!(2009 - 06 - 01)),
        Err(ReadError::BeforeValidity { .. })
    ));
    // `expected` is a placeholder: the 2015 rate stays in force.
    assert_eq!(
        value("taxes.income_tax_rate", date!(2017 - 01 - 01)),
        Ok(0.15)
    );
    // Written out of order in the file.
    assert_eq!(
        value("general.age_of_retirement", date!(2016 - 01 - 01)),
        Ok(60.33)
    );
    assert_eq!(
        value("general.age_of_retirement", date!(2017 - 01 - 01)),
        Ok(62.0)
    );
    // A file holding two parameters.
    assert_eq!(
        value("taxes.housing_tax.minimal_amount", date!(2017 - 01 - 01)),
        Ok(200.0)
    );
    // The three kinds of scale.
    let ssc = p
        .scale("taxes.social_security_contribution", date!(2013 - 06 - 01))
        .unwrap();
    assert_eq!(ssc.kind, ScaleKind::MarginalRate);
    assert!(
        (ssc.calc(15000.0) - 660.0).abs() < 1e-9,
        "12000 × 3% + 3000 × 10%"
    );
    assert_eq!(
        p.scale("taxes.social_security_contribution", date!(2012 - 01 - 01))
            .unwrap()
            .calc(15000.0),
        0.0
    );
    let meal = p
        .scale("benefits.meal_price", date!(2017 - 01 - 01))
        .unwrap();
    assert_eq!(meal.kind, ScaleKind::SingleAmount);
    assert_eq!(
        (meal.calc(249.0), meal.calc(250.0), meal.calc(3000.0)),
        (0.0, 1.0, 8.0)
    );
    let pool = p
        .scale(
            "benefits.swimming_pool_access_cost_increase",
            date!(2017 - 01 - 01),
        )
        .unwrap();
    assert_eq!(pool.kind, ScaleKind::MarginalAmount);
    assert_eq!(
        (pool.calc(249.0), pool.calc(250.0), pool.calc(1000.0)),
        (0.0, 1.0, 4.0)
    );
    // Citations come along.
    let r = p
        .value("benefits.basic_income", date!(2017 - 01 - 01))
        .unwrap();
    assert!(
        r.citation
            .and_then(|c| c.url.clone())
            .is_some_and(|u| u.starts_with("https://"))
    );
}

fn number(c: rules::eval::Column) -> Vec<f64> {
    match c {
        rules::eval::Column::Number(v) => v,
        other => panic!("not numbers: {other:?}"),
    }
}

/// The port in `rules/openfisca-country-template/`, with the installed package's
/// parameters, computes the template's own cases (its YAML tests run unchanged later).
#[test]
fn the_ported_country_template_computes_as_openfisca_does() {
    let Some(package_dir) = std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE").map(PathBuf::from)
    else {
        eprintln!("OPENFISCA_COUNTRY_TEMPLATE is not set: CI installs the package and sets it");
        return;
    };
    let port =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/openfisca-country-template");
    let package = rules::package::load_package_with(&port, Some(&package_dir.join("parameters")))
        .unwrap_or_else(|errors| {
            panic!(
                "{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
    assert_eq!(package.variables.len(), 21);
    // A couple each earning 1,250 in January 2025.
    let mut sim = Simulation::new(&package, 2);
    sim.add_group(
        "household",
        1,
        vec![0, 0],
        vec!["adult".into(), "adult".into()],
    )
    .unwrap();
    let m = Period::parse("2025-01").unwrap();
    sim.set_input("salary", m, Column::Number(vec![1250.0, 1250.0]))
        .unwrap();
    let disposable = number(sim.calculate("disposable_income", m).unwrap());
    assert!((disposable[0] - 3258.33).abs() < 0.01, "{disposable:?}");
    // Its explanation reads the yearly housing tax spread over the month, explained for
    // its year.
    let why = serde_json::to_value(
        rules::explain::explain_all(&mut sim, "disposable_income", m).unwrap(),
    )
    .unwrap();
    let spread = why[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == "per_month(housing_tax)")
        .cloned()
        .unwrap_or_else(|| panic!("no housing tax step in {why:#}"));
    assert_eq!(spread["because"]["period"], "2025", "{spread:#}");
    // A tenant in 40 m² pays 400 of housing tax in 2017; an owner of 10 m², the minimum.
    let mut sim = Simulation::new(&package, 2);
    sim.add_group(
        "household",
        2,
        vec![0, 1],
        vec!["adult".into(), "adult".into()],
    )
    .unwrap();
    let jan = Period::parse("2017-01").unwrap();
    sim.set_input("accommodation_size", jan, Column::Number(vec![40.0, 10.0]))
        .unwrap();
    sim.set_input(
        "housing_occupancy_status",
        jan,
        Column::Text(vec!["tenant".into(), "owner".into()]),
    )
    .unwrap();
    assert_eq!(
        number(
            sim.calculate("housing_tax", Period::parse("2017").unwrap())
                .unwrap()
        ),
        vec![400.0, 200.0]
    );
    // Basic income: before December 2016 only without a salary; from then on for every adult.
    let mut sim = Simulation::new(&package, 2);
    for (month, salary) in [("2016-11", [0.0, 1500.0]), ("2016-12", [0.0, 1500.0])] {
        let p = Period::parse(month).unwrap();
        sim.set_input("salary", p, Column::Number(salary.to_vec()))
            .unwrap();
    }
    sim.set_input(
        "birth",
        Period::eternity(),
        Column::Date(vec![time::macros::date!(1980 - 01 - 01); 2]),
    )
    .unwrap();
    assert_eq!(
        number(
            sim.calculate("basic_income", Period::parse("2016-11").unwrap())
                .unwrap()
        ),
        vec![600.0, 0.0]
    );
    assert_eq!(
        number(
            sim.calculate("basic_income", Period::parse("2016-12").unwrap())
                .unwrap()
        ),
        vec![600.0, 600.0]
    );
}

/// The template's own YAML tests, unchanged, against the port: all 38 pass, those naming
/// a reform by its Python path against the ported reform, and the one with inline
/// `parameters:` against that tree.
#[test]
fn the_templates_own_yaml_tests_pass_against_the_port() {
    let Some(package_dir) = std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE").map(PathBuf::from)
    else {
        eprintln!("OPENFISCA_COUNTRY_TEMPLATE is not set: CI installs the package and sets it");
        return;
    };
    let port =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/openfisca-country-template");
    let package = rules::package::load_package_with(&port, Some(&package_dir.join("parameters")))
        .unwrap_or_else(|errors| panic!("{errors:#?}"));
    let mut files = Vec::new();
    let mut dirs = vec![package_dir.join("tests")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let outcomes: Vec<_> = files
        .iter()
        .flat_map(|f| rules::yaml_tests::run_file(&package, f))
        .collect();
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| {
            o.failure
                .as_ref()
                .map(|f| format!("{} — {}: {f}", o.file.display(), o.name))
        })
        .collect();
    let skipped = outcomes.iter().filter(|o| o.skipped.is_some()).count();
    let passed = outcomes.len() - failed.len() - skipped;
    eprintln!(
        "{passed} passed, {} failed, {skipped} skipped",
        failed.len()
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert_eq!(outcomes.len(), 38, "the template has 38 tests");
    assert_eq!((passed, skipped), (38, 0));
}

/// The two reforms no template test exercises: basic income neutralised (even when given
/// as input), and a flat contribution in place of the scale.
#[test]
fn the_ported_reforms_change_what_they_say() {
    let Some(package_dir) = std::env::var_os("OPENFISCA_COUNTRY_TEMPLATE").map(PathBuf::from)
    else {
        eprintln!("OPENFISCA_COUNTRY_TEMPLATE is not set: CI installs the package and sets it");
        return;
    };
    let port =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/openfisca-country-template");
    let package = rules::package::load_package_with(&port, Some(&package_dir.join("parameters")))
        .unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert_eq!(package.reforms.len(), 5);
    let jan = Period::parse("2017-01").unwrap();
    let removed = package
        .reformed(&["openfisca_country_template.reforms.removal_basic_income.removal_basic_income"])
        .unwrap();
    let mut sim = Simulation::new(&removed, 1);
    sim.set_input("basic_income", jan, Column::Number(vec![600.0]))
        .unwrap();
    assert_eq!(
        number(sim.calculate("basic_income", jan).unwrap()),
        vec![0.0]
    );
    let mut sim = Simulation::new(&package, 1);
    sim.set_input(
        "birth",
        Period::eternity(),
        Column::Date(vec![time::macros::date!(1980 - 01 - 01)]),
    )
    .unwrap();
    assert_eq!(
        number(sim.calculate("basic_income", jan).unwrap()),
        vec![600.0]
    );
    let flat = package
        .reformed(&["flat_social_security_contribution"])
        .unwrap();
    let mut sim = Simulation::new(&flat, 1);
    sim.set_input("salary", jan, Column::Number(vec![2000.0]))
        .unwrap();
    assert_eq!(
        number(sim.calculate("social_security_contribution", jan).unwrap()),
        vec![60.0]
    );
    // An unknown reform is named with those there are.
    let err = package.reformed(&["no_such_reform"]).unwrap_err();
    assert!(err[0].message.contains("add_new_tax"), "{err:?}");
}

//! Parameters loaded from OpenFisca-style YAML folders: dated values, ends, placeholders,
//! scales of each kind, citations, reads outside validity, stale parameters, and every
//! problem named with its file and line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rules::parameters::{ReadError, ScaleKind, load_openfisca};
use time::macros::date;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn city() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "allowances/index.yaml",
        "description: Allowances of the demo city\n",
    );
    write(
        dir.path(),
        "allowances/old_age.yaml",
        "description: Monthly old-age allowance, 80 and over
metadata:
  unit: currency-CNY
  reference: https://law.example.cn/old-age-allowance
values:
  2019-01-01:
    value: 100
    metadata:
      reference: 《示例市高龄津贴办法》第五条
  2024-07-01: 150
  2030-01-01: expected
",
    );
    write(
        dir.path(),
        "allowances/heating.yaml",
        "values:\n  2010-01-01: 0.25\n  2020-12-01: null\n",
    );
    write(
        dir.path(),
        "general/age_of_majority.yaml",
        "2001-01-01: 18\n1990-01-01: 20\n",
    );
    write(
        dir.path(),
        "taxes/contribution.yaml",
        "description: Contribution on wages
brackets:
  - threshold:
      2015-01-01: 0
    rate:
      2015-01-01: 0.05
      2020-01-01: 0.04
  - threshold:
      2015-01-01: 10000
      2020-01-01: 12000
    rate:
      2015-01-01: 0.1
  - threshold:
      2022-01-01: 50000
    rate:
      2022-01-01: 0.2
",
    );
    write(
        dir.path(),
        "benefits/meal_voucher.yaml",
        "metadata:
  type: single_amount
brackets:
  - threshold: {2020-01-01: 0}
    amount: {2020-01-01: 30}
  - threshold: {2020-01-01: 2000}
    amount: {2020-01-01: 10}
",
    );
    write(
        dir.path(),
        "benefits/pool_fee.yaml",
        "brackets:
  - threshold: {2020-01-01: 0}
    amount: {2020-01-01: 1}
  - threshold: {2020-01-01: 1000}
    amount: {2020-01-01: 2}
",
    );
    write(
        dir.path(),
        "taxes/housing.yaml",
        "description: Housing tax
rate:
  values:
    2010-01-01: 8
minimum:
  values:
    2010-01-01: 150
",
    );
    dir
}

#[test]
fn dated_values_are_read_with_their_citation_and_validity() {
    let dir = city();
    let p = load_openfisca(dir.path()).unwrap();
    let r = p
        .value("allowances.old_age", date!(2020 - 06 - 01))
        .unwrap();
    assert_eq!((r.value, r.since), (100.0, date!(2019 - 01 - 01)));
    assert_eq!(
        r.citation.unwrap().document.as_deref(),
        Some("《示例市高龄津贴办法》第五条"),
        "a value's own citation comes first"
    );
    let r = p
        .value("allowances.old_age", date!(2031 - 01 - 01))
        .unwrap();
    assert_eq!(r.value, 150.0, "an `expected` placeholder is not a value");
    assert_eq!(
        r.citation.unwrap().url.as_deref(),
        Some("https://law.example.cn/old-age-allowance"),
        "else the parameter's"
    );
    // Out of order in the file, in order in force.
    let age = |d| p.value("general.age_of_majority", d).unwrap().value;
    assert_eq!(
        (age(date!(1995 - 01 - 01)), age(date!(2005 - 01 - 01))),
        (20.0, 18.0)
    );
    // Outside validity: named errors, never a zero.
    assert_eq!(
        p.value("allowances.old_age", date!(2018 - 12 - 31)),
        Err(ReadError::BeforeValidity {
            path: "allowances.old_age".into(),
            day: date!(2018 - 12 - 31),
            first: date!(2019 - 01 - 01)
        })
    );
    let ended = p
        .value("allowances.heating", date!(2021 - 01 - 01))
        .unwrap_err();
    assert_eq!(
        ended.to_string(),
        "allowances.heating has no value on 2021-01-01: it ended on 2020-12-01"
    );
    assert!(matches!(
        p.value("allowances.nope", date!(2021 - 01 - 01)),
        Err(ReadError::Unknown(_))
    ));
    assert!(matches!(
        p.value("taxes.contribution", date!(2021 - 01 - 01)),
        Err(ReadError::WrongKind { found: "scale", .. })
    ));
    // A file holding sub-parameters is a group.
    assert_eq!(
        p.value("taxes.housing.minimum", date!(2021 - 01 - 01))
            .unwrap()
            .value,
        150.0
    );
}

#[test]
fn scales_compute_by_their_kind_on_each_day() {
    let dir = city();
    let p = load_openfisca(dir.path()).unwrap();
    let at = |d| p.scale("taxes.contribution", d).unwrap();
    let s = at(date!(2016 - 01 - 01));
    assert_eq!(s.kind, ScaleKind::MarginalRate);
    assert_eq!(
        s.brackets,
        vec![(0.0, 0.05), (10000.0, 0.1)],
        "the third bracket is not yet in force"
    );
    assert!((s.calc(15000.0) - (500.0 + 500.0)).abs() < 1e-9);
    let s = at(date!(2023 - 01 - 01));
    assert!((s.calc(60000.0) - (12000.0 * 0.04 + 38000.0 * 0.1 + 10000.0 * 0.2)).abs() < 1e-6);
    assert_eq!(
        at(date!(2010 - 01 - 01)).calc(1e6),
        0.0,
        "before its brackets a scale is empty"
    );
    let meal = p
        .scale("benefits.meal_voucher", date!(2021 - 01 - 01))
        .unwrap();
    assert_eq!(meal.kind, ScaleKind::SingleAmount);
    assert_eq!(
        (meal.calc(1999.0), meal.calc(2000.0), meal.calc(-1.0)),
        (30.0, 10.0, 0.0)
    );
    let pool = p.scale("benefits.pool_fee", date!(2021 - 01 - 01)).unwrap();
    assert_eq!(
        pool.kind,
        ScaleKind::MarginalAmount,
        "amounts without a type add up"
    );
    assert_eq!(
        (
            pool.calc(0.0),
            pool.calc(1.0),
            pool.calc(1000.0),
            pool.calc(1000.5)
        ),
        (0.0, 1.0, 1.0, 3.0)
    );
}

#[test]
fn parameters_not_confirmed_for_long_are_stale() {
    let dir = city();
    write(
        dir.path(),
        "general/retirement_age.yaml",
        "metadata:\n  last_value_still_valid_on: 2025-06-01\nvalues:\n  2000-01-01: 60\n",
    );
    let p = load_openfisca(dir.path()).unwrap();
    let mut stale: Vec<String> = p
        .stale(date!(2023 - 01 - 01))
        .into_iter()
        .map(|s| s.path)
        .collect();
    stale.sort();
    // Not stale: old_age (changed 2024), heating (ended), retirement_age (confirmed 2025).
    assert_eq!(
        stale,
        [
            "benefits.meal_voucher",
            "benefits.pool_fee",
            "general.age_of_majority",
            "taxes.contribution",
            "taxes.housing.minimum",
            "taxes.housing.rate",
        ]
    );
}

#[test]
fn every_problem_is_named_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.yaml",
        "values:\n  2020-01-01: 1\n  2021-13-01: 2\n  2022-01-01: lots\n",
    );
    write(
        dir.path(),
        "b.yaml",
        "brackets:\n  - threshold: {2020-01-01: 0}\n",
    );
    write(dir.path(), "c.yaml", "values: [1, 2\n");
    let errors = load_openfisca(dir.path()).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let find = |file: &str, says: &str| {
        text.iter()
            .find(|e| e.contains(file) && e.contains(says))
            .unwrap_or_else(|| panic!("no '{says}' for {file} in {text:#?}"))
            .clone()
    };
    assert!(find("a.yaml", "'2021-13-01' is not a date").contains("a.yaml:3"));
    assert!(find("a.yaml", "'lots' is not a number").contains("a.yaml:4"));
    assert!(find("b.yaml", "either a rate or an amount").contains("b.yaml:2"));
    find("c.yaml", "not valid YAML");
}

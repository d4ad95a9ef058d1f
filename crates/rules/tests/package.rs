//! A rules package end to end: loaded and checked whole, then computed for a population —
//! cases of which two may not hold at once (nor none without `otherwise`), formulas by
//! date, inputs over formulas, circles and wrong periods named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use rules::eval::{Column, EvalError};
use rules::package::load_package;
use rules::period::Period;
use rules::simulation::Simulation;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Five persons in two households, {0, 1, 2} and {3, 4}, in the roles given.
fn two_households<'p>(package: &'p rules::package::Package, roles: [&str; 5]) -> Simulation<'p> {
    let mut sim = Simulation::new(package, 5);
    sim.add_group(
        "household",
        2,
        vec![0, 0, 0, 1, 1],
        roles.map(String::from).to_vec(),
    )
    .unwrap();
    sim
}

fn demo_city() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "package.yaml",
        "name: demo-city
entities:
  person: {plural: persons}
  household:
    plural: households
    roles: {adult: adults, child: children}
",
    );
    write(
        dir.path(),
        "parameters/old_age/amount.yaml",
        "values:\n  2019-01-01: 100\n  2024-07-01: 150\n",
    );
    write(
        dir.path(),
        "parameters/old_age/centenarian.yaml",
        "values:\n  2019-01-01: 500\n",
    );
    write(
        dir.path(),
        "variables/people.yaml",
        "age:
  label: 年龄
  entity: person
  period: month
lives_alone:
  entity: person
  period: month
  type: bool
old_age_allowance:
  label: 高龄津贴
  entity: person
  period: month
  unit: CNY
  citation: {document: 《示例市高龄津贴办法》, url: https://law.example.cn/gl}
  formulas:
    2019-01-01:
      cases:
        - when: age >= 80 and age < 100
          then: p.old_age.amount
          citation: {article: 第五条第一款}
        - when: age >= 100
          then: p.old_age.centenarian
          citation: {article: 第五条第二款}
      otherwise: 0
    2035-01-01: null
visit_priority:
  entity: person
  period: month
  formula: if lives_alone and age >= 80 then 1 else 0
ambiguous:
  entity: person
  period: month
  formula:
    cases:
      - when: age >= 60
        then: 1
      - when: lives_alone
        then: 2
uncovered:
  entity: person
  period: month
  formula:
    cases:
      - when: age >= 100
        then: 1
yearly_total:
  entity: person
  period: year
  formula: old_age_allowance@first_month * 12
circle_a:
  entity: person
  period: month
  formula: circle_b + 1
circle_b:
  entity: person
  period: month
  formula: circle_a + 1
",
    );
    dir
}

fn month(text: &str) -> Period {
    Period::parse(text).unwrap()
}

#[test]
fn a_package_computes_for_a_population_with_its_cases_and_dates() {
    let dir = demo_city();
    let package = load_package(dir.path()).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(package.name, "demo-city");
    assert_eq!(
        package.entities["household"].roles[0],
        ("adult".into(), "adults".into())
    );
    let mut sim = Simulation::new(&package, 4);
    for m in ["2020-03", "2025-03", "2036-01"] {
        sim.set_input(
            "age",
            month(m),
            Column::Number(vec![79.0, 80.0, 99.0, 101.0]),
        )
        .unwrap();
        sim.set_input(
            "lives_alone",
            month(m),
            Column::Bool(vec![true, true, false, true]),
        )
        .unwrap();
    }
    assert_eq!(
        sim.calculate("old_age_allowance", month("2020-03")),
        Ok(Column::Number(vec![0.0, 100.0, 100.0, 500.0]))
    );
    assert_eq!(
        sim.calculate("old_age_allowance", month("2025-03")),
        Ok(Column::Number(vec![0.0, 150.0, 150.0, 500.0])),
        "the parameter's 2024 value"
    );
    assert_eq!(
        sim.calculate("old_age_allowance", month("2036-01")),
        Ok(Column::Number(vec![0.0; 4])),
        "the formula ended in 2035"
    );
    assert_eq!(
        sim.calculate("visit_priority", month("2020-03")),
        Ok(Column::Number(vec![0.0, 1.0, 0.0, 1.0]))
    );
    let mut sim_year = Simulation::new(&package, 4);
    sim_year
        .set_input(
            "age",
            month("2025-01"),
            Column::Number(vec![79.0, 80.0, 99.0, 101.0]),
        )
        .unwrap();
    assert_eq!(
        sim_year.calculate("yearly_total", Period::parse("2025").unwrap()),
        Ok(Column::Number(vec![0.0, 1800.0, 1800.0, 6000.0]))
    );
    // An input wins over the formula.
    sim.set_input(
        "old_age_allowance",
        month("2020-04"),
        Column::Number(vec![7.0; 4]),
    )
    .unwrap();
    assert_eq!(
        sim.calculate("old_age_allowance", month("2020-04")),
        Ok(Column::Number(vec![7.0; 4]))
    );
}

#[test]
fn ambiguity_gaps_circles_and_wrong_periods_are_errors() {
    let dir = demo_city();
    let package = load_package(dir.path()).unwrap();
    let mut sim = Simulation::new(&package, 4);
    sim.set_input(
        "age",
        month("2020-03"),
        Column::Number(vec![59.0, 61.0, 70.0, 101.0]),
    )
    .unwrap();
    sim.set_input(
        "lives_alone",
        month("2020-03"),
        Column::Bool(vec![true, false, true, false]),
    )
    .unwrap();
    match sim.calculate("ambiguous", month("2020-03")) {
        Err(EvalError::Conflict {
            count,
            of,
            first,
            second,
            ..
        }) => {
            assert_eq!((count, of), (1, 4), "only the 70-year-old living alone");
            assert!(first.contains("people.yaml") && second.contains("people.yaml"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.calculate("uncovered", month("2020-03"))
            .unwrap_err()
            .to_string(),
        "uncovered for 2020-03: no case holds for 3 of 4, and there is no otherwise"
    );
    let circle = sim
        .calculate("circle_a", month("2020-03"))
        .unwrap_err()
        .to_string();
    assert!(
        circle.contains("circle_a@2020-03 → circle_b@2020-03 → circle_a@2020-03"),
        "{circle}"
    );
    assert_eq!(
        sim.calculate("old_age_allowance", Period::parse("2020").unwrap())
            .unwrap_err()
            .to_string(),
        "old_age_allowance is defined by month, not for 2020"
    );
    assert!(matches!(
        sim.set_input("age", month("2020-05"), Column::Number(vec![1.0])),
        Err(EvalError::Call(_))
    ));
}

#[test]
fn every_problem_in_a_package_is_named_with_its_place() {
    let dir = demo_city();
    write(
        dir.path(),
        "variables/broken.yaml",
        "pension:
  entity: citizen
  period: month
  formula: age >= p.old_age.retirement
bonus:
  entity: person
  period: fortnight
  formula: sqrt(age) + wealth
gap:
  entity: person
  period: month
  formulas:
    2020-02-30: 1
typo:
  entity: person
  period: month
  formual: 1
unreadable:
  entity: person
  period: month
  formula: age >=
",
    );
    let errors = load_package(dir.path()).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let find = |says: &str| {
        text.iter()
            .find(|e| e.contains(says))
            .unwrap_or_else(|| panic!("no '{says}' in {text:#?}"))
            .clone()
    };
    assert!(
        find("`entity: citizen` is not one of the package's entities").contains("broken.yaml:2")
    );
    assert!(find("column 8: there is no parameter old_age.retirement").contains("broken.yaml:4"));
    assert!(find("`period:` is day, week, month, year or eternity").contains("broken.yaml:7"));
    find("column 1: there is no function sqrt");
    find("column 13: there is no variable wealth");
    find("'2020-02-30' is not a date");
    assert!(find("unknown key `formual`").contains("broken.yaml:17"));
    assert!(find("unreadable: column 7: expected").contains("broken.yaml:21"));
}

#[test]
fn households_add_up_their_members_and_persons_read_their_household() {
    let dir = demo_city();
    write(
        dir.path(),
        "variables/households.yaml",
        "salary:
  entity: person
  period: month
rent:
  entity: household
  period: month
household_income:
  entity: household
  period: month
  formula: sum(members.salary)
adults_earning:
  entity: household
  period: month
  formula: sum(adults.salary > 0)
single_parent_with_young_child:
  entity: household
  period: month
  type: bool
  formula: count(adults) == 1 and any(children.age < 6)
rent_burden:
  entity: person
  period: month
  formula: if household.household_income > 0 then household.rent / household.household_income else 0
wrong_way:
  entity: household
  period: month
  formula: salary * 2
",
    );
    let package = load_package(dir.path()).unwrap_or_else(|e| panic!("{e:#?}"));
    // Two households: {0: adult 3000, adult 0, child 4}, {1: adult 0 with child 7}.
    let mut sim = two_households(&package, ["adult", "adult", "child", "adult", "child"]);
    let m = month("2024-05");
    sim.set_input(
        "salary",
        m,
        Column::Number(vec![3000.0, 0.0, 0.0, 0.0, 0.0]),
    )
    .unwrap();
    sim.set_input("age", m, Column::Number(vec![35.0, 34.0, 4.0, 30.0, 7.0]))
        .unwrap();
    sim.set_input("rent", m, Column::Number(vec![900.0, 400.0]))
        .unwrap();
    assert_eq!(
        sim.calculate("household_income", m),
        Ok(Column::Number(vec![3000.0, 0.0]))
    );
    assert_eq!(
        sim.calculate("adults_earning", m),
        Ok(Column::Number(vec![1.0, 0.0]))
    );
    assert_eq!(
        sim.calculate("single_parent_with_young_child", m),
        Ok(Column::Bool(vec![false, false])),
        "two adults in the first; the second's child is 7"
    );
    assert_eq!(
        sim.calculate("rent_burden", m),
        Ok(Column::Number(vec![0.3, 0.3, 0.3, 0.0, 0.0]))
    );
    let wrong = sim.calculate("wrong_way", m).unwrap_err().to_string();
    assert!(
        wrong.contains("add it up with sum(members.salary)"),
        "{wrong}"
    );
    // Groups must fit the persons.
    let mut bad = Simulation::new(&package, 2);
    assert!(
        bad.add_group(
            "household",
            1,
            vec![0, 1],
            vec!["adult".into(), "adult".into()]
        )
        .is_err()
    );
    assert!(
        bad.add_group(
            "household",
            1,
            vec![0, 0],
            vec!["adult".into(), "parent".into()]
        )
        .is_err()
    );
    assert!(
        bad.add_group(
            "person",
            1,
            vec![0, 0],
            vec!["adult".into(), "adult".into()]
        )
        .is_err()
    );
    assert!(
        matches!(
            bad.set_input("rent", m, Column::Number(vec![1.0, 2.0])),
            Err(EvalError::Call(_))
        ),
        "no households yet: 0 of them"
    );
}

#[test]
fn each_decision_explains_itself_with_its_law() {
    let dir = demo_city();
    let package = load_package(dir.path()).unwrap();
    let mut sim = Simulation::new(&package, 3);
    let m = month("2025-03");
    sim.set_input("age", m, Column::Number(vec![79.0, 85.0, 101.0]))
        .unwrap();
    sim.set_input("lives_alone", m, Column::Bool(vec![true, true, false]))
        .unwrap();
    // Eligible: the first case holds; the parameter's value, date and citation are there.
    let e = rules::explain::explain(&mut sim, "old_age_allowance", m, 1).unwrap();
    assert_eq!(
        (e.version, e.source, e.value.clone()),
        (1, "case", serde_json::json!(150.0))
    );
    assert_eq!(
        e.formula_since.map(rules::period::format_day).as_deref(),
        Some("2019-01-01")
    );
    assert_eq!(
        e.case_citation.as_ref().and_then(|c| c.article.as_deref()),
        Some("第五条第一款")
    );
    assert_eq!(
        e.citation.as_ref().and_then(|c| c.document.as_deref()),
        Some("《示例市高龄津贴办法》")
    );
    assert_eq!(e.cases.len(), 2);
    assert!(e.cases[0].held && !e.cases[1].held);
    let age_check = &e.cases[0].steps;
    assert!(
        age_check
            .iter()
            .any(|s| s.kind == "condition" && &*s.text == "age >= 80" && s.value == true)
    );
    assert!(
        age_check
            .iter()
            .any(|s| s.kind == "variable" && &*s.text == "age" && s.value == 85.0)
    );
    let amount = &e.steps[0];
    assert_eq!(
        (amount.kind, &*amount.text),
        ("parameter", "p.old_age.amount")
    );
    assert_eq!(
        amount.since.map(rules::period::format_day).as_deref(),
        Some("2024-07-01")
    );
    // Not eligible: why not, in words.
    let e = rules::explain::explain(&mut sim, "old_age_allowance", m, 0).unwrap();
    assert_eq!(e.source, "otherwise");
    let words = rules::explain::sentence(&e);
    assert!(
        words.starts_with(
            "高龄津贴 = 0.0 (2025-03) because age >= 80 and age < 100 does not hold (第五条第一款)"
        ),
        "{words}"
    );
    assert!(words.ends_with("— 《示例市高龄津贴办法》"), "{words}");
    // A formula using another variable explains it in turn; inputs say they are inputs.
    let e = rules::explain::explain(&mut sim, "visit_priority", m, 1).unwrap();
    assert_eq!(e.value, 1.0);
    assert!(
        e.steps
            .iter()
            .any(|s| &*s.text == "lives_alone" && s.value == true)
    );
    let input = rules::explain::explain(&mut sim, "age", m, 2).unwrap();
    assert_eq!(
        (input.source, input.value.clone()),
        ("input", serde_json::json!(101.0))
    );
    // Stable JSON.
    let json =
        serde_json::to_value(rules::explain::explain(&mut sim, "old_age_allowance", m, 2).unwrap())
            .unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["cases"][1]["held"], true);
    assert_eq!(json["steps"][0]["citation"], serde_json::Value::Null);
}

#[test]
fn months_add_up_to_years_and_years_spread_over_months() {
    let dir = demo_city();
    write(
        dir.path(),
        "variables/periods.yaml",
        "wage:
  entity: person
  period: month
yearly_wage:
  entity: person
  period: year
  formula: total(wage@this_year)
property_tax:
  entity: person
  period: year
monthly_property_tax:
  entity: person
  period: month
  formula: per_month(property_tax)
bad_spread:
  entity: person
  period: year
  formula: per_month(property_tax)
",
    );
    let package = load_package(dir.path()).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut sim = Simulation::new(&package, 2);
    let year = Period::parse("2024").unwrap();
    // January is known; the rest of the year's 36,000 is spread over the other 11 months.
    sim.set_input("wage", month("2024-01"), Column::Number(vec![3000.0, 0.0]))
        .unwrap();
    sim.set_input_spread("wage", year, Column::Number(vec![36000.0, 1200.0]))
        .unwrap();
    match sim.calculate("wage", month("2024-06")).unwrap() {
        Column::Number(v) => {
            assert!((v[0] - 3000.0).abs() < 1e-9);
            assert!((v[1] - 1200.0 / 11.0).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
    match sim.calculate("yearly_wage", year).unwrap() {
        Column::Number(v) => {
            assert!(
                (v[0] - 36000.0).abs() < 1e-6 && (v[1] - 1200.0).abs() < 1e-6,
                "{v:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Every month given and not adding up: refused.
    assert!(
        sim.set_input_spread("wage", year, Column::Number(vec![1.0, 1.0]))
            .is_err()
    );
    sim.set_input("property_tax", year, Column::Number(vec![1200.0, 0.0]))
        .unwrap();
    assert_eq!(
        sim.calculate("monthly_property_tax", month("2024-03")),
        Ok(Column::Number(vec![100.0, 0.0]))
    );
    let bad = sim.calculate("bad_spread", year).unwrap_err().to_string();
    assert!(
        bad.contains("spreads a yearly variable over one month"),
        "{bad}"
    );
}

#[test]
fn ages_come_from_birth_dates_on_the_periods_first_day() {
    let dir = demo_city();
    write(
        dir.path(),
        "variables/birth.yaml",
        "birth:
  entity: person
  period: eternity
  type: date
computed_age:
  entity: person
  period: month
  formula: years_since(birth)
months_old:
  entity: person
  period: month
  formula: months_since(birth)
born_before_1950:
  entity: person
  period: month
  type: bool
  formula: birth < p.old_age.cutoff
",
    );
    write(
        dir.path(),
        "parameters/old_age/cutoff.yaml",
        "values:\n  2019-01-01: 0\n",
    );
    let package = load_package(dir.path()).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut sim = Simulation::new(&package, 3);
    let days = ["1980-02-15", "1944-03-01", "2024-01-31"].map(|d| {
        time::Date::parse(
            d,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap()
    });
    sim.set_input("birth", Period::eternity(), Column::Date(days.to_vec()))
        .unwrap();
    // As OpenFisca: a month's first day decides; born 15 February, 34 in February, 35 in March.
    assert_eq!(
        sim.calculate("computed_age", month("2015-02")),
        Ok(Column::Number(vec![34.0, 70.0, -9.0]))
    );
    assert_eq!(
        sim.calculate("computed_age", month("2015-03")),
        Ok(Column::Number(vec![35.0, 71.0, -9.0]))
    );
    assert_eq!(
        sim.calculate("months_old", month("2024-03")),
        Ok(Column::Number(vec![528.0, 960.0, 1.0]))
    );
    // A date compared with a number is named as such.
    let wrong = sim
        .calculate("born_before_1950", month("2024-03"))
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("expected a number, found a date"), "{wrong}");
    let e = rules::explain::explain(&mut sim, "computed_age", month("2015-03"), 0).unwrap();
    assert_eq!(e.steps[0].value, "1980-02-15");
}

#[test]
fn enumerations_name_their_values() {
    let dir = demo_city();
    write(
        dir.path(),
        "variables/housing.yaml",
        "occupancy:
  entity: household
  period: month
  type: text
  values: [owner, tenant, free_lodger, homeless]
  default: tenant
pays_rent:
  entity: household
  period: month
  type: bool
  formula: occupancy == 'tenant'
",
    );
    let package = load_package(dir.path()).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut sim = Simulation::new(&package, 2);
    sim.add_group(
        "household",
        2,
        vec![0, 1],
        vec!["adult".into(), "adult".into()],
    )
    .unwrap();
    let m = month("2024-05");
    assert_eq!(
        sim.calculate("pays_rent", m),
        Ok(Column::Bool(vec![true, true])),
        "the default"
    );
    let bad = sim
        .set_input(
            "occupancy",
            month("2024-06"),
            Column::Text(vec!["castle".into(), "owner".into()]),
        )
        .unwrap_err()
        .to_string();
    assert!(bad.contains("'castle' is not one of its values"), "{bad}");
    sim.set_input(
        "occupancy",
        month("2024-06"),
        Column::Text(vec!["owner".into(), "tenant".into()]),
    )
    .unwrap();
    assert_eq!(
        sim.calculate("pays_rent", month("2024-06")),
        Ok(Column::Bool(vec![false, true]))
    );
    // A formula comparing with a value the enumeration does not have, and a wrong default.
    write(
        dir.path(),
        "variables/typo.yaml",
        "renter:
  entity: household
  period: month
  type: bool
  formula: occupancy == 'tennant'
status:
  entity: household
  period: month
  type: text
  values: [a, b]
  default: c
",
    );
    let errors: Vec<String> = load_package(dir.path())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("column 14: 'tennant' is not a value of occupancy")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("the default 'c' is not one of its values (a, b)")),
        "{errors:#?}"
    );
}

#[test]
fn reforms_change_a_package_and_their_mistakes_are_named_with_their_place() {
    let dir = demo_city();
    write(
        dir.path(),
        "reforms/generous.yaml",
        "label: 高龄津贴提标
citation: {document: 示例市人大常委会决定, article: 第二条}
parameters:
  old_age.amount: {values: {2019-01-01: 300}}
update:
  visit_priority: {formula: if lives_alone then 2 else 0}
add:
  companion_visits: {entity: person, period: month, formula: visit_priority * 4}
neutralize: [yearly_total]
",
    );
    let package = load_package(dir.path()).unwrap();
    let reformed = package.reformed(&["generous"]).unwrap();
    assert!(!package.variables.contains_key("companion_visits"));
    let jan = month("2025-01");
    let run = |p: &rules::package::Package, name: &str, period: Period| {
        let mut sim = Simulation::new(p, 2);
        sim.set_input("age", jan, Column::Number(vec![85.0, 70.0]))
            .unwrap();
        sim.set_input("lives_alone", jan, Column::Bool(vec![false, true]))
            .unwrap();
        match sim.calculate(name, period).unwrap() {
            Column::Number(v) => v,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(run(&package, "old_age_allowance", jan), vec![150.0, 0.0]);
    assert_eq!(run(&reformed, "old_age_allowance", jan), vec![300.0, 0.0]);
    assert_eq!(run(&package, "visit_priority", jan), vec![0.0, 0.0]);
    assert_eq!(run(&reformed, "companion_visits", jan), vec![0.0, 8.0]);
    let year = month("2025");
    assert_eq!(run(&package, "yearly_total", year), vec![1800.0, 0.0]);
    assert_eq!(run(&reformed, "yearly_total", year), vec![0.0, 0.0]);

    // A broken reform stops the package from loading, each mistake at its place.
    write(
        dir.path(),
        "reforms/broken.yaml",
        "reform: broken
update:
  pension: {formula: 1}
  visit_priority: {entity: household, formula: 1}
add:
  age: {entity: person, period: month}
  bonus: {entity: person, period: month, formula: wealth * 2}
neutralize: [nothing_here]
parameters:
  old_age.amount.deeper: {values: {2019-01-01: 1}}
",
    );
    let errors = load_package(dir.path()).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let find = |says: &str| {
        text.iter()
            .find(|e| e.contains(says))
            .unwrap_or_else(|| panic!("no '{says}' in {text:#?}"))
            .clone()
    };
    assert!(find("there is no variable pension to update").contains("broken.yaml:3"));
    assert!(
        find("an update changes label, unit, citation and formulas, not `entity`")
            .contains("broken.yaml:4")
    );
    assert!(find("age exists already").contains("broken.yaml:6"));
    assert!(find("there is no variable nothing_here to neutralize").contains("broken.yaml:8"));
    find("old_age.amount is a value, not a group");
    find("bonus: column 1: there is no variable wealth");
}

/// The demo city's policies in `rules/demo-city/`, with their own OpenFisca-format tests.
#[test]
fn the_demo_citys_policies_pass_their_own_tests() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/demo-city");
    let package = load_package(&root).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut outcomes = Vec::new();
    for file in ["households.yaml", "old_age.yaml"] {
        outcomes.extend(rules::yaml_tests::run_file(
            &package,
            &root.join("tests").join(file),
        ));
    }
    let failed: Vec<_> = outcomes.iter().filter_map(|o| o.failure.clone()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(outcomes.len(), 8);
    // The minimum living standard was last set on 2026-01-01; the old-age amounts in 2024.
    let stale = |cutoff| -> Vec<String> {
        package
            .parameters
            .stale(cutoff)
            .into_iter()
            .map(|s| s.path)
            .collect()
    };
    let in_2025 = stale(time::macros::date!(2025 - 12 - 01));
    assert!(
        !in_2025.contains(&"dibao.standard".to_string()),
        "{in_2025:?}"
    );
    assert!(
        in_2025.contains(&"old_age.from_80".to_string()),
        "{in_2025:?}"
    );
    // An ended parameter is never stale.
    assert!(
        !stale(time::macros::date!(2040 - 01 - 01)).contains(&"employment.subsidy".to_string())
    );
}

/// Explaining everybody at once: a division in a branch a member does not take is not her
/// error, and each variable used is explained at its first mention.
#[test]
fn explanations_for_everybody_follow_each_members_branch() {
    let dir = demo_city();
    write(
        dir.path(),
        "variables/share.yaml",
        "share:
  entity: person
  period: month
  formula: if age > 0 then 100 / age else 0
",
    );
    let package = load_package(dir.path()).unwrap();
    let jan = month("2025-01");
    let mut sim = Simulation::new(&package, 2);
    sim.set_input("age", jan, Column::Number(vec![50.0, 0.0]))
        .unwrap();
    let all = rules::explain::explain_all(&mut sim, "share", jan).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].value, serde_json::json!(2.0));
    assert_eq!(all[1].value, serde_json::json!(0.0));
    // Each sees the condition, then only her own branch.
    let texts = |e: &rules::explain::Explanation| -> Vec<String> {
        e.steps.iter().map(|s| s.text.to_string()).collect()
    };
    assert_eq!(texts(&all[0]), ["age", "age > 0", "age"]);
    assert_eq!(texts(&all[1]), ["age", "age > 0"]);
    // The old-age allowance names `age` in every case: explained once, where first used.
    sim.set_input("lives_alone", jan, Column::Bool(vec![false, false]))
        .unwrap();
    let e = rules::explain::explain(&mut sim, "visit_priority", jan, 0).unwrap();
    let with_reasons = e.steps.iter().filter(|s| s.because.is_some()).count();
    assert!(with_reasons <= 1, "{e:#?}");
}

/// A population from a table: chunks of whole households over several threads, every row
/// answered in the input's order, each household's value on its members' rows.
#[test]
fn a_table_of_persons_is_computed_in_chunks_on_several_threads() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/demo-city");
    let package = load_package(&root).unwrap();
    let mut csv = String::from("id,household,role,birth,income\n");
    for i in 0..25_000 {
        // Households of two: an elder of 85 with no income, and a working adult.
        let (birth, income) = if i % 2 == 0 {
            ("1940-01-01", 0)
        } else {
            ("1990-01-01", 4000)
        };
        csv.push_str(&format!("p{i},h{},adult,{birth},{income}\n", i / 2));
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let table = rules::table_run::run(
        &package,
        &csv,
        &["old_age_allowance".into(), "household_income".into()],
        month("2026-06"),
        2,
        &|_, _| {
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(
        table.header,
        ["id", "old_age_allowance", "household_income"]
    );
    assert_eq!(table.rows.len(), 25_000);
    assert!(done.into_inner() >= 3, "more than one chunk");
    for (i, row) in table.rows.iter().enumerate() {
        assert_eq!(row[0], format!("p{i}"));
        assert_eq!(row[1], if i % 2 == 0 { "150.0" } else { "0.0" });
        assert_eq!(row[2], "4000.0");
    }
    // Mistakes are named by line and column; unknown roles and variables too.
    let problems = rules::table_run::run(
        &package,
        "id,role,birth\nx,elder,1940-01-01\n",
        &["old_age_allowance".into()],
        month("2026-06"),
        2,
        &|_, _| {},
    )
    .err()
    .unwrap();
    assert!(
        problems[0].contains("line 2: 'elder' is not a role of household"),
        "{problems:?}"
    );
    let problems = rules::table_run::run(
        &package,
        "name\nx\n",
        &["nothing".into()],
        month("2026-06"),
        2,
        &|_, _| {},
    )
    .err()
    .unwrap();
    assert!(
        problems[0].contains("there is no variable nothing"),
        "{problems:?}"
    );
}

/// What a formula's evaluation kept of its sums and counts over members gives the same
/// explanation as evaluating them again, member by member, and the members' step holds
/// each household's own count.
#[test]
fn kept_member_sums_explain_as_computing_them_again() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/demo-city");
    let package = load_package(&root).unwrap();
    let m = month("2025-03");
    let build = |keep: bool| {
        let mut sim = two_households(&package, ["adult", "adult", "child", "adult", "adult"]);
        if keep {
            sim.keep_for_explanations();
        }
        sim.set_input("age", m, Column::Number(vec![72.0, 75.0, 9.0, 40.0, 71.0]))
            .unwrap();
        sim.set_input(
            "income",
            m,
            Column::Number(vec![0.0, 300.0, 0.0, 0.0, 100.0]),
        )
        .unwrap();
        sim
    };
    let explained = |keep: bool| {
        let mut sim = build(keep);
        sim.calculate("dibao_top_up", m).unwrap();
        serde_json::to_value(rules::explain::explain_all(&mut sim, "dibao_top_up", m).unwrap())
            .unwrap()
    };
    let kept = explained(true);
    assert_eq!(kept, explained(false));
    // Household 0 has two members of 70 or more, household 1 one.
    let counts: Vec<serde_json::Value> = kept
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["kind"] == "members")
                .map(|s| s["value"].clone())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(counts, [serde_json::json!(2.0), serde_json::json!(1.0)]);
    // `income_per_head` is explained inside `in_dibao_household`'s own explanation and
    // again at its first mention in this formula: each formula explains what it uses.
    let step = kept[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == "income_per_head")
        .cloned()
        .unwrap_or_default();
    assert!(step.get("because").is_some(), "{step:#}");
}

/// "Nearly qualifies" names one fact about her (an input) or an amount a little over its
/// limit — looked for inside a computed yes-or-no — and nothing when two requirements
/// are missing, when the amount is far over, or when the threshold is an age.
#[test]
fn nearly_names_one_missing_fact_or_an_amount_a_little_over_its_limit() {
    use rules::explain::{Shortfall, explain_all, nearly};
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/demo-city");
    let package = load_package(&root).unwrap();
    let m = month("2025-03");
    let mut sim = two_households(&package, ["adult", "adult", "child", "adult", "adult"]);
    sim.keep_for_explanations();
    sim.set_input("age", m, Column::Number(vec![75.0, 40.0, 9.0, 40.0, 75.0]))
        .unwrap();
    sim.set_input("lives_alone", m, Column::Bool(vec![false; 5]))
        .unwrap();
    sim.set_input(
        "disability_grade",
        m,
        Column::Number(vec![1.0, 0.0, 0.0, 1.0, 0.0]),
    )
    .unwrap();
    // Income per head: 1,000 in the first household (the standard is 960: 40 over),
    // 1,200 in the second (240 over, a quarter).
    sim.set_input(
        "income",
        m,
        Column::Number(vec![1500.0, 1500.0, 0.0, 2400.0, 0.0]),
    )
    .unwrap();
    let mut shortfalls = |variable: &str| -> Vec<Option<Shortfall>> {
        sim.calculate(variable, m).unwrap();
        explain_all(&mut sim, variable, m)
            .unwrap()
            .iter()
            .map(|e| nearly(e, &package))
            .collect()
    };
    assert_eq!(
        shortfalls("disability_living_subsidy"),
        [
            Some(Shortfall::Margin {
                name: "家庭月人均收入".into(),
                value: 1000.0,
                limit: 960.0
            }),
            None,
            None,
            None,
            None
        ],
        "the first is 40 over; the second has no disability grade (and is over too); \
         the fourth is a quarter over"
    );
    let alone = Some(Shortfall::Fact("独居（社区标注）".into()));
    assert_eq!(
        shortfalls("living_alone_care_subsidy"),
        [alone.clone(), None, None, None, alone],
        "the 75-year-olds miss being registered as living alone; the others are too young too"
    );
    assert_eq!(
        shortfalls("old_age_allowance"),
        [None, None, None, None, None],
        "an age is soon, not nearly"
    );
    // A person's formula reading her household's variable explains it for her household.
    let fourth =
        serde_json::to_value(&explain_all(&mut sim, "disability_living_subsidy", m).unwrap()[3])
            .unwrap();
    let step = fourth["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == "household.in_dibao_household")
        .cloned()
        .unwrap_or_else(|| panic!("no household step in {fourth:#}"));
    assert_eq!(
        (
            &step["value"],
            &step["because"]["member"],
            &step["because"]["variable"]
        ),
        (
            &serde_json::json!(false),
            &serde_json::json!(1),
            &serde_json::json!("in_dibao_household")
        ),
        "{step:#}"
    );
}

/// "Nearly" is never said under a `not` (a step's value there is not whether she meets
/// it), nor when a case held or of a case that pays nothing (an exclusion), nor of a
/// parameter taken for her amount; a limit may stand on either side.
#[test]
fn nearly_is_not_said_under_not_nor_when_a_case_held() {
    use rules::explain::{Shortfall, explain_all, nearly};
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "package.yaml",
        "name: t\nentities:\n  person: {plural: persons}\n",
    );
    write(
        dir.path(),
        "parameters/limit.yaml",
        "values:\n  2020-01-01: 1000\n",
    );
    write(
        dir.path(),
        "parameters/income.yaml",
        "values:\n  2020-01-01: 1100\n",
    );
    write(
        dir.path(),
        "variables/v.yaml",
        "owns_car: {entity: person, period: month, type: bool}
lives_alone: {entity: person, period: month, type: bool}
in_prison: {entity: person, period: month, type: bool}
income: {entity: person, period: month, unit: currency-CNY}
carless_alone:
  entity: person
  period: month
  formula: if not owns_car and lives_alone then 1 else 0
alone:
  entity: person
  period: month
  formulas:
    2020-01-01:
      cases:
        - when: in_prison
          then: 0
        - when: lives_alone
          then: 1
      otherwise: 0
limit_over_income:
  entity: person
  period: month
  formula: if p.limit > income then 1 else 0
above_the_line:
  entity: person
  period: month
  formula: if income > p.income then 1 else 0
",
    );
    let package = load_package(dir.path()).unwrap_or_else(|e| panic!("{e:#?}"));
    let m = month("2024-05");
    let mut sim = Simulation::new(&package, 2);
    sim.set_input("owns_car", m, Column::Bool(vec![true, false]))
        .unwrap();
    sim.set_input("lives_alone", m, Column::Bool(vec![false, false]))
        .unwrap();
    sim.set_input("in_prison", m, Column::Bool(vec![true, false]))
        .unwrap();
    sim.set_input("income", m, Column::Number(vec![1050.0, 1050.0]))
        .unwrap();
    let mut shortfalls = |variable: &str| -> Vec<Option<Shortfall>> {
        sim.calculate(variable, m).unwrap();
        explain_all(&mut sim, variable, m)
            .unwrap()
            .iter()
            .map(|e| nearly(e, &package))
            .collect()
    };
    assert_eq!(shortfalls("carless_alone"), [None, None], "under a not");
    assert_eq!(
        shortfalls("alone"),
        [None, Some(Shortfall::Fact("lives_alone".into()))],
        "the first is excluded by a case that held"
    );
    let over = Some(Shortfall::Margin {
        name: "income".into(),
        value: 1050.0,
        limit: 1000.0,
    });
    assert_eq!(
        shortfalls("limit_over_income"),
        [over.clone(), over],
        "a limit on the left: her income is on the right"
    );
    assert_eq!(
        shortfalls("above_the_line"),
        [None, None],
        "p.income is a parameter, not her amount"
    );
}

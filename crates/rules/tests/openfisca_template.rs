//! The parameters of OpenFisca's country template (openfisca-country-template 8.2.0, from
//! PyPI; CI installs it and names its folder in `CIVITAS_OPENFISCA_TEMPLATE`) load whole,
//! and read as OpenFisca reads them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use rules::parameters::{ReadError, ScaleKind, load_openfisca};
use time::macros::date;

#[test]
fn the_country_templates_parameters_load_and_read_as_in_openfisca() {
    let Some(package) = std::env::var_os("CIVITAS_OPENFISCA_TEMPLATE").map(PathBuf::from) else {
        eprintln!("CIVITAS_OPENFISCA_TEMPLATE is not set: CI installs the package and sets it");
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
            .and_then(|c| c.url)
            .is_some_and(|u| u.starts_with("https://"))
    );
}

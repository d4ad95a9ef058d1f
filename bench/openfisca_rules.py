"""OpenFisca's side of `civitas bench rules --openfisca PYTHON`.

Run by Civitas with a Python whose environment holds openfisca-core 46.0.1 and
openfisca-country-template 8.2.0, on the population Civitas wrote to DATA_DIR as raw
little-endian arrays (the same persons and households Civitas computes):

    persons_household.u32  persons_adult.u8  persons_birth_days.i32  persons_salary.f64
    households_rent.f64

It prints one line of JSON: population mode (build and calculate basic_income,
housing_allowance and parenting_allowance for everybody, on one core, as OpenFisca
runs) and case mode (one household at a time through SimulationBuilder, as its
/calculate does), with the totals so that Civitas can check both computed the same.

    python bench/openfisca_rules.py DATA_DIR PERIOD CASES
"""

import json
import sys
import time

import numpy as np
from openfisca_core.simulation_builder import SimulationBuilder
from openfisca_country_template import CountryTaxBenefitSystem

VARIABLES = ["basic_income", "housing_allowance", "parenting_allowance"]


def main():
    data_dir, period, cases = sys.argv[1], sys.argv[2], int(sys.argv[3])
    household = np.fromfile(f"{data_dir}/persons_household.u32", dtype="<u4")
    adult = np.fromfile(f"{data_dir}/persons_adult.u8", dtype="u1").astype(bool)
    birth = np.fromfile(f"{data_dir}/persons_birth_days.i32", dtype="<i4").astype(
        "datetime64[D]"
    )
    salary = np.fromfile(f"{data_dir}/persons_salary.f64", dtype="<f8")
    rent = np.fromfile(f"{data_dir}/households_rent.f64", dtype="<f8")
    tbs = CountryTaxBenefitSystem()

    # Population mode.
    start = time.perf_counter()
    builder = SimulationBuilder()
    builder.create_entities(tbs)
    builder.declare_person_entity("person", np.arange(len(household)))
    households = builder.declare_entity("household", np.arange(len(rent)))
    roles = np.where(adult, "adult", "child")
    builder.join_with_persons(households, household, roles)
    simulation = builder.build(tbs)
    simulation.set_input("birth", "ETERNITY", birth)
    simulation.set_input("salary", period, salary)
    simulation.set_input("rent", period, rent)
    built = time.perf_counter()
    totals = {}
    for variable in VARIABLES:
        totals[variable] = float(np.sum(simulation.calculate(variable, period), dtype="f8"))
    calculated = time.perf_counter()

    # Case mode: one household at a time, situations prepared beforehand.
    members = [[] for _ in range(min(cases, len(rent)))]
    for person, h in enumerate(household):
        if h < len(members):
            members[h].append(person)
    situations = []
    for h, persons in enumerate(members):
        situations.append(
            {
                "persons": {
                    f"p{p}": {
                        "birth": {"ETERNITY": str(birth[p])},
                        "salary": {period: float(salary[p])},
                    }
                    for p in persons
                },
                "households": {
                    "h": {
                        "adults": [f"p{p}" for p in persons if adult[p]],
                        "children": [f"p{p}" for p in persons if not adult[p]],
                        "rent": {period: float(rent[h])},
                    }
                },
            }
        )
    case_totals = {v: 0.0 for v in VARIABLES}
    case_start = time.perf_counter()
    for situation in situations:
        sim = SimulationBuilder().build_from_entities(tbs, situation)
        for variable in VARIABLES:
            case_totals[variable] += float(np.sum(sim.calculate(variable, period), dtype="f8"))
    case_end = time.perf_counter()

    print(
        json.dumps(
            {
                "persons": int(len(household)),
                "households": int(len(rent)),
                "build_s": built - start,
                "calculate_s": calculated - built,
                "totals": totals,
                "cases": len(situations),
                "case_us": (case_end - case_start) / max(len(situations), 1) * 1e6,
                "case_totals": case_totals,
            }
        )
    )


if __name__ == "__main__":
    main()

//! The transportation problem: the plan meets as much need as stock and routes allow, at
//! the least cost among such plans, checked against an exhaustive search of small
//! problems; shortfalls and unreachable regions are reported as unmet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use safety::supply::{Transport, allocate};

/// Every whole plan of two depots and three regions (all six routes): the most delivered,
/// then the least cost.
fn best_by_search(stock: [i64; 2], need: [i64; 3], cost: [[f64; 3]; 2]) -> (i64, f64) {
    let mut best = (-1_i64, f64::INFINITY);
    let ranges = |r: usize| 0..=need[r];
    for a0 in ranges(0) {
        for a1 in ranges(1) {
            for a2 in ranges(2) {
                if a0 + a1 + a2 > stock[0] {
                    continue;
                }
                for b0 in 0..=need[0] - a0 {
                    for b1 in 0..=need[1] - a1 {
                        for b2 in 0..=need[2] - a2 {
                            if b0 + b1 + b2 > stock[1] {
                                continue;
                            }
                            let delivered = a0 + a1 + a2 + b0 + b1 + b2;
                            let c = cost[0][0] * a0 as f64
                                + cost[0][1] * a1 as f64
                                + cost[0][2] * a2 as f64
                                + cost[1][0] * b0 as f64
                                + cost[1][1] * b1 as f64
                                + cost[1][2] * b2 as f64;
                            if delivered > best.0 || (delivered == best.0 && c < best.1 - 1e-9) {
                                best = (delivered, c);
                            }
                        }
                    }
                }
            }
        }
    }
    best
}

fn full(stock: [i64; 2], need: [i64; 3], cost: [[f64; 3]; 2]) -> Transport {
    let mut routes = Vec::new();
    for (d, row) in cost.iter().enumerate() {
        for (r, c) in row.iter().enumerate() {
            routes.push((d, r, *c));
        }
    }
    Transport {
        stock: stock.to_vec(),
        need: need.to_vec(),
        routes,
    }
}

#[test]
fn the_plan_is_the_cheapest_of_those_that_deliver_the_most() {
    let cases = [
        ([10, 8], [6, 7, 5], [[4.0, 6.0, 9.0], [5.0, 3.0, 2.0]]),
        ([5, 5], [6, 7, 5], [[1.0, 20.0, 9.0], [30.0, 3.0, 2.0]]),
        ([12, 0], [3, 4, 5], [[7.0, 1.0, 1.5], [0.0, 0.0, 0.0]]),
        ([9, 9], [2, 2, 2], [[0.0, 8.0, 3.0], [6.0, 0.5, 4.0]]),
        ([3, 11], [8, 1, 6], [[2.0, 2.0, 2.0], [9.0, 1.0, 7.0]]),
    ];
    for (stock, need, cost) in cases {
        let plan = allocate(&full(stock, need, cost)).unwrap();
        let delivered: i64 = plan.moves.iter().map(|(_, q)| q).sum();
        let (most, cheapest) = best_by_search(stock, need, cost);
        assert_eq!(delivered, most, "{stock:?} {need:?}");
        assert!(
            (plan.cost - cheapest).abs() < 1e-6,
            "{stock:?} {need:?}: {} vs {cheapest}",
            plan.cost
        );
        let unmet: i64 = plan.unmet.iter().sum();
        assert_eq!(unmet, need.iter().sum::<i64>() - most);
    }
}

#[test]
fn what_no_route_reaches_goes_unmet_and_bad_problems_are_refused() {
    // Region 1 has no route; depot 0 alone reaches region 0.
    let t = Transport {
        stock: vec![4, 100],
        need: vec![10, 7],
        routes: vec![(0, 0, 1.0)],
    };
    let plan = allocate(&t).unwrap();
    assert_eq!(plan.moves, vec![(0, 4)]);
    assert_eq!(plan.unmet, vec![6, 7]);
    assert_eq!(plan.cost, 4.0);
    // Nothing to move at all.
    let none = allocate(&Transport {
        stock: vec![0],
        need: vec![3],
        routes: vec![(0, 0, 1.0)],
    })
    .unwrap();
    assert!(none.moves.is_empty());
    assert_eq!(none.unmet, vec![3]);
    for bad in [
        Transport {
            stock: vec![-1],
            need: vec![1],
            routes: vec![],
        },
        Transport {
            stock: vec![1],
            need: vec![1],
            routes: vec![(1, 0, 1.0)],
        },
        Transport {
            stock: vec![1],
            need: vec![1],
            routes: vec![(0, 0, f64::NAN)],
        },
        Transport {
            stock: vec![1],
            need: vec![1],
            routes: vec![(0, 0, -2.0)],
        },
    ] {
        assert!(allocate(&bad).is_err());
    }
}

#[test]
fn a_city_sized_problem_solves() {
    // 20 depots, 200 regions, every depot reaching every region at its distance.
    let depots = 20;
    let regions = 200;
    let mut routes = Vec::new();
    for d in 0..depots {
        for r in 0..regions {
            routes.push((d, r, ((d * 37 + r * 11) % 97) as f64 + 1.0));
        }
    }
    let t = Transport {
        stock: (0..depots).map(|d| 500 + (d as i64 * 13) % 200).collect(),
        need: (0..regions).map(|r| 20 + (r as i64 * 7) % 60).collect(),
        routes,
    };
    let plan = allocate(&t).unwrap();
    let stock: i64 = t.stock.iter().sum();
    let need: i64 = t.need.iter().sum();
    let delivered: i64 = plan.moves.iter().map(|(_, q)| q).sum();
    assert_eq!(delivered, stock.min(need));
}

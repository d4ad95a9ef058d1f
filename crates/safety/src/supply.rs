//! Supply allocation as the transportation problem: depots hold a supply, regions need
//! it, a route from a depot to a region costs so much per unit moved. The plan meets as
//! much of the need as the stock and the routes allow, and of those plans the cheapest;
//! what cannot be met is said, never hidden.
//!
//! The linear programme is solved by microlp through good_lp (pure Rust): no solver is
//! written here. For each supply, with `x[a]` the quantity moved along route `a` and `u[r]`
//! what region `r` goes without:
//!
//! minimise Σ cost[a]·x[a] + P·Σ u[r]
//! subject to Σ x[a] over the routes out of depot d ≤ stock[d]   (each depot)
//!            Σ x[a] over the routes into region r + u[r] = need[r]   (each region)
//!            x ≥ 0, u ≥ 0
//!
//! with the penalty P above the cost of any chain of routes an extra unit could travel,
//! so delivering one more unit always beats saving on the way. The constraint matrix is
//! totally unimodular: with whole stocks and needs the optimum the simplex method returns
//! is whole, and rounding only removes floating-point dust.

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, microlp, variable};

/// One supply's problem: indices into the caller's depots and regions.
#[derive(Clone, Debug, Default)]
pub struct Transport {
    /// What each depot holds.
    pub stock: Vec<i64>,
    /// What each region needs.
    pub need: Vec<i64>,
    /// Routes: (depot, region, cost of one unit).
    pub routes: Vec<(usize, usize, f64)>,
}

/// The plan for one supply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shipments {
    /// Quantities moved: (route index, quantity), only those above zero.
    pub moves: Vec<(usize, i64)>,
    /// What each region goes without.
    pub unmet: Vec<i64>,
    /// Σ cost × quantity of the moves.
    pub cost: f64,
}

/// Solves one supply's transportation problem. A route naming a depot or region out of
/// range, a negative quantity or a cost that is not a finite number ≥ 0 is refused.
pub fn allocate(t: &Transport) -> Result<Shipments, String> {
    if t.stock.iter().chain(&t.need).any(|q| *q < 0) {
        return Err("stocks and needs are not negative".into());
    }
    for (d, r, cost) in &t.routes {
        if *d >= t.stock.len() || *r >= t.need.len() {
            return Err(format!(
                "a route names depot {d} or region {r}, which are not there"
            ));
        }
        if !cost.is_finite() || *cost < 0.0 {
            return Err(format!("a route costs {cost}"));
        }
    }
    // Only routes that can carry something, into regions that need it.
    let live: Vec<usize> = (0..t.routes.len())
        .filter(|&a| {
            let (d, r, _) = t.routes[a];
            t.stock[d] > 0 && t.need[r] > 0
        })
        .collect();
    if live.is_empty() {
        return Ok(Shipments {
            moves: Vec::new(),
            unmet: t.need.clone(),
            cost: 0.0,
        });
    }
    let most = live.iter().map(|&a| t.routes[a].2).fold(0.0_f64, f64::max);
    let penalty = (most + 1.0) * (t.stock.len() + t.need.len() + 1) as f64;
    let mut vars = ProblemVariables::new();
    let x: Vec<good_lp::Variable> = live.iter().map(|_| vars.add(variable().min(0))).collect();
    let u: Vec<good_lp::Variable> = t.need.iter().map(|_| vars.add(variable().min(0))).collect();
    let mut objective = Expression::from(0.0);
    for (i, &a) in live.iter().enumerate() {
        objective += t.routes[a].2 * x[i];
    }
    for &ur in &u {
        objective += penalty * ur;
    }
    let mut model = vars.minimise(objective).using(microlp);
    for (d, &stock) in t.stock.iter().enumerate() {
        let mut out = Expression::from(0.0);
        let mut any = false;
        for (i, &a) in live.iter().enumerate() {
            if t.routes[a].0 == d {
                out += x[i];
                any = true;
            }
        }
        if any {
            model = model.with(out.leq(stock as f64));
        }
    }
    for (r, &need) in t.need.iter().enumerate() {
        let mut into = Expression::from(u[r]);
        for (i, &a) in live.iter().enumerate() {
            if t.routes[a].1 == r {
                into += x[i];
            }
        }
        model = model.with(into.eq(need as f64));
    }
    let solution = model
        .solve()
        .map_err(|e| format!("the allocation could not be solved: {e}"))?;
    let mut moves = Vec::new();
    let mut delivered = vec![0_i64; t.need.len()];
    let mut shipped = vec![0_i64; t.stock.len()];
    let mut cost = 0.0;
    for (i, &a) in live.iter().enumerate() {
        // Whole at the optimum (see the module's note): rounding removes the dust.
        let q = solution.value(x[i]).round() as i64;
        if q > 0 {
            let (d, r, c) = t.routes[a];
            moves.push((a, q));
            delivered[r] += q;
            shipped[d] += q;
            cost += c * q as f64;
        }
    }
    if shipped.iter().zip(&t.stock).any(|(s, stock)| s > stock)
        || delivered.iter().zip(&t.need).any(|(d, need)| d > need)
    {
        return Err("the solver's plan does not keep to the stock and the need".into());
    }
    Ok(Shipments {
        moves,
        unmet: t.need.iter().zip(&delivered).map(|(n, d)| n - d).collect(),
        cost,
    })
}

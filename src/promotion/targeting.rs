//! Budgeted targeting: whom to contact, given each customer's predicted uplift, what a
//! response is worth and what a contact costs.
//!
//! A customer's expected incremental profit from a contact is
//!
//! ```text
//! profit = uplift × value × margin − cost
//! ```
//!
//! with `uplift` the predicted change in response probability, `value` the revenue of a
//! response, `margin` the share of it that is profit, and `cost` the cost of the contact
//! (each a scalar or one number per customer). Customers are ranked by profit, highest
//! first (equal profits: the lower index first), and taken down the ranking while
//! the limits allow:
//!
//! - a **budget** on the total contact cost: a customer whose cost no longer fits in what
//!   is left is passed over and the walk goes on to cheaper ones further down (greedy
//!   first fit, so the budget is never exceeded);
//! - a **contact count**: the walk stops after that many contacts;
//! - a customer whose expected profit is not positive is never contacted (contacting at
//!   zero expected profit only spends budget), unless
//!   [`TargetingOptions::allow_unprofitable`] is set — then the limits alone decide.
//!
//! On test data with treatment and outcome, [`Targeting::realised`] estimates what the
//! chosen set actually gained: the response rate of its treated members minus that of its
//! control members, times its size (and likewise for profit), with the counts behind it.
//!
//! ```
//! use acrm::promotion::{Amounts, TargetingInput, TargetingOptions};
//! let uplift = [0.10, 0.02, 0.30, 0.05];
//! let input = TargetingInput::new(&uplift, Amounts::Scalar(100.0), Amounts::Scalar(0.5),
//!     Amounts::Scalar(2.0));
//! // Profits 3, −1, 13, 0.5: the second is never contacted.
//! let plan = TargetingOptions::new().budget(4.0).compute(&input)?;
//! assert_eq!(plan.chosen, vec![2, 0]);
//! assert!((plan.expected_incremental_profit - 16.0).abs() < 1e-12);
//! # Ok::<(), acrm::Error>(())
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::evaluation::{check_labels, BinaryLabel};
use crate::error::{Error, Result};

/// One number for every customer, or one per customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amounts<'a> {
    /// The same number for every customer.
    Scalar(f64),
    /// One number per customer, index-aligned with the uplift.
    Each(&'a [f64]),
}

impl Amounts<'_> {
    fn at(&self, i: usize) -> f64 {
        match self {
            Amounts::Scalar(v) => *v,
            Amounts::Each(v) => v[i],
        }
    }

    /// Checks the length and that every number is finite (and ≥ 0 if `non_negative`).
    fn check(&self, input: &'static str, n: usize, non_negative: bool) -> Result<()> {
        let bad = |v: f64| !v.is_finite() || (non_negative && v < 0.0);
        let expected = if non_negative {
            "a finite number ≥ 0"
        } else {
            "a finite number"
        };
        match self {
            Amounts::Scalar(v) if bad(*v) => Err(Error::option(input, v, expected)),
            Amounts::Scalar(_) => Ok(()),
            Amounts::Each(values) => {
                Error::check_len(input, values.len(), n, "uplift")?;
                match values.par_iter().position_first(|&v| bad(v)) {
                    Some(i) => Err(Error::bad_value(input, i, input, values[i], expected)),
                    None => Ok(()),
                }
            }
        }
    }
}

/// What targeting ranks: predicted uplift with the value, margin and contact cost of each
/// customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetingInput<'a> {
    /// Predicted uplift: the change in response probability a contact makes.
    pub uplift: &'a [f64],
    /// Revenue of a response.
    pub value: Amounts<'a>,
    /// Share of the revenue that is profit.
    pub margin: Amounts<'a>,
    /// Cost of a contact.
    pub cost: Amounts<'a>,
}

impl<'a> TargetingInput<'a> {
    /// The input from its four parts.
    pub fn new(
        uplift: &'a [f64],
        value: Amounts<'a>,
        margin: Amounts<'a>,
        cost: Amounts<'a>,
    ) -> Self {
        TargetingInput {
            uplift,
            value,
            margin,
            cost,
        }
    }

    fn check(&self) -> Result<()> {
        let n = self.uplift.len();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        if let Some(i) = self.uplift.par_iter().position_first(|u| !u.is_finite()) {
            return Err(Error::bad_value(
                "uplift",
                i,
                "uplift",
                self.uplift[i],
                "a finite number",
            ));
        }
        self.value.check("value", n, true)?;
        self.margin.check("margin", n, false)?;
        self.cost.check("cost", n, true)
    }

    fn profit(&self, i: usize) -> f64 {
        self.uplift[i] * self.value.at(i) * self.margin.at(i) - self.cost.at(i)
    }
}

/// Limits of a targeting run. Defaults: no budget, no contact limit, unprofitable
/// customers left out — every customer with positive expected profit is contacted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetingOptions {
    budget: Option<f64>,
    max_contacts: Option<usize>,
    allow_unprofitable: bool,
}

/// Why the walk down the ranking stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetingStop {
    /// The contact count was reached.
    MaxContacts,
    /// The next customers have no positive expected profit.
    Unprofitable,
    /// Every customer was considered (some may have been passed over for the budget).
    Exhausted,
}

/// The chosen customers and what they are expected to bring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targeting {
    /// Chosen customers (indices into the input), in ranking order.
    pub chosen: Vec<usize>,
    /// Expected incremental profit of each chosen customer, aligned with `chosen`.
    pub profit: Vec<f64>,
    /// Customers with positive expected profit passed over because their cost did not
    /// fit in what was left of the budget.
    pub passed_over_for_budget: usize,
    /// Total contact cost of the chosen customers.
    pub total_cost: f64,
    /// Σ uplift over the chosen customers: the responses the contacts are expected to add.
    pub expected_incremental_responses: f64,
    /// Σ profit over the chosen customers.
    pub expected_incremental_profit: f64,
    /// Why the walk stopped.
    pub stop: TargetingStop,
}

/// What the chosen set gained on test data: treated against control within the set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealisedOutcome {
    /// Chosen customers in the test data.
    pub size: usize,
    /// Chosen customers that were treated.
    pub n_treatment: usize,
    /// Chosen customers that were in the control group.
    pub n_control: usize,
    /// Responders among the treated.
    pub responders_treatment: usize,
    /// Responders among the control.
    pub responders_control: usize,
    /// Response rate of the treated.
    pub response_rate_treatment: f64,
    /// Response rate of the control.
    pub response_rate_control: f64,
    /// (rate treated − rate control) × size.
    pub incremental_responses: f64,
    /// (mean profit of a treated response − mean of a control one) × size, minus the
    /// contact cost of the set: a response's profit is value × margin (the realised value
    /// when one is given).
    pub incremental_profit: f64,
}

impl TargetingOptions {
    /// The defaults: no limits, only customers with positive expected profit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps the total contact cost of the chosen customers.
    pub fn budget(mut self, budget: f64) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Caps the number of contacts.
    pub fn max_contacts(mut self, count: usize) -> Self {
        self.max_contacts = Some(count);
        self
    }

    /// Whether customers with zero or negative expected profit may be contacted while the
    /// limits allow (default `false`). With it and no limit, everyone is contacted.
    pub fn allow_unprofitable(mut self, allow: bool) -> Self {
        self.allow_unprofitable = allow;
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a budget that is negative or not finite.
    pub fn validated(self) -> Result<Self> {
        if let Some(b) = self.budget {
            if !(b.is_finite() && b >= 0.0) {
                return Err(Error::option("budget", b, "a finite budget ≥ 0"));
            }
        }
        Ok(self)
    }

    /// Ranks the customers and chooses whom to contact.
    ///
    /// # Errors
    ///
    /// As [`validated`](Self::validated); [`Error::EmptyInput`] without customers,
    /// [`Error::LengthMismatch`] for a per-customer array of another length,
    /// [`Error::BadValue`] (or [`Error::InvalidOption`] for a scalar) for an uplift or
    /// margin that is not finite, or a value or cost that is negative or not finite;
    /// [`Error::BadValue`] (field `expected profit`) when a customer's
    /// uplift × value × margin − cost overflows.
    pub fn compute(&self, input: &TargetingInput<'_>) -> Result<Targeting> {
        let options = self.clone().validated()?;
        input.check()?;
        let n = input.uplift.len();
        let profit: Vec<f64> = (0..n).into_par_iter().map(|i| input.profit(i)).collect();
        // Finite inputs can still overflow (or give inf · 0 = NaN), which would rank first.
        if let Some(i) = profit.par_iter().position_first(|p| !p.is_finite()) {
            return Err(Error::bad_value(
                "uplift × value × margin − cost",
                i,
                "expected profit",
                profit[i],
                "a finite number (the product overflows)",
            ));
        }
        let mut order: Vec<usize> = (0..n).collect();
        // +0.0 makes −0.0 and +0.0 one profit; ties go to the lower index, so the order is
        // one total order whatever the sort's scheduling.
        order.par_sort_unstable_by(|&a, &b| {
            (profit[b] + 0.0)
                .total_cmp(&(profit[a] + 0.0))
                .then(a.cmp(&b))
        });
        let mut chosen = Vec::new();
        let mut passed_over = 0;
        let mut spent = 0.0;
        let mut stop = TargetingStop::Exhausted;
        for &i in &order {
            if options.max_contacts.is_some_and(|m| chosen.len() >= m) {
                stop = TargetingStop::MaxContacts;
                break;
            }
            if profit[i] <= 0.0 && !options.allow_unprofitable {
                stop = TargetingStop::Unprofitable;
                break;
            }
            let cost = input.cost.at(i);
            if let Some(b) = options.budget {
                if spent + cost > b {
                    passed_over += usize::from(profit[i] > 0.0);
                    continue;
                }
            }
            spent += cost;
            chosen.push(i);
        }
        // Sums in ranking order, one at a time: fixed order, whatever the pool.
        let total_cost = chosen.iter().map(|&i| input.cost.at(i)).sum();
        let expected_incremental_responses = chosen.iter().map(|&i| input.uplift[i]).sum();
        let chosen_profit: Vec<f64> = chosen.iter().map(|&i| profit[i]).collect();
        let expected_incremental_profit = chosen_profit.iter().sum();
        Ok(Targeting {
            chosen,
            profit: chosen_profit,
            passed_over_for_budget: passed_over,
            total_cost,
            expected_incremental_responses,
            expected_incremental_profit,
            stop,
        })
    }
}

impl Targeting {
    /// What the chosen set gained on test data: `outcome` (0/1 response) and `treatment`
    /// (1 treated, 0 control) index-aligned with the input, the chosen customers'
    /// `cost`, and each response's profit `value × margin` — `value` being the realised
    /// revenue of each customer when known, or the value used for targeting.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] when `outcome` and `treatment` differ in length or a
    /// chosen index is beyond them, [`Error::BadValue`] for an outcome or treatment
    /// other than 0/1, or an amount as [`TargetingOptions::compute`] rejects it;
    /// [`Error::Degenerate`] when the chosen set holds no treated or no control customer.
    pub fn realised<Y: BinaryLabel, T: BinaryLabel>(
        &self,
        outcome: &[Y],
        treatment: &[T],
        value: Amounts<'_>,
        margin: Amounts<'_>,
        cost: Amounts<'_>,
    ) -> Result<RealisedOutcome> {
        let n = outcome.len();
        Error::check_len("treatment", treatment.len(), n, "outcome")?;
        if let Some(&max) = self.chosen.iter().max() {
            if max >= n {
                return Err(Error::LengthMismatch {
                    input: "outcome",
                    found: n,
                    expected: max + 1,
                    against: "the chosen customers' indices",
                });
            }
        }
        let outcome = check_labels("outcome", outcome)?;
        let treatment = check_labels("treatment", treatment)?;
        value.check("value", n, true)?;
        margin.check("margin", n, false)?;
        cost.check("cost", n, true)?;
        let (mut nt, mut nc, mut rt, mut rc) = (0usize, 0usize, 0usize, 0usize);
        let (mut gain_t, mut gain_c, mut spent) = (0.0, 0.0, 0.0);
        for &i in &self.chosen {
            let responded = outcome[i];
            let gain = if responded {
                value.at(i) * margin.at(i)
            } else {
                0.0
            };
            if treatment[i] {
                nt += 1;
                rt += usize::from(responded);
                gain_t += gain;
            } else {
                nc += 1;
                rc += usize::from(responded);
                gain_c += gain;
            }
            spent += cost.at(i);
        }
        if nt == 0 || nc == 0 {
            let group = if nt == 0 { "treated" } else { "control" };
            return Err(Error::Degenerate {
                input: "treatment".into(),
                reason: format!(
                    "the {} chosen customers hold no {group} customer, so their realised uplift is undefined",
                    self.chosen.len()
                ),
            });
        }
        let size = self.chosen.len();
        let (rate_t, rate_c) = (rt as f64 / nt as f64, rc as f64 / nc as f64);
        Ok(RealisedOutcome {
            size,
            n_treatment: nt,
            n_control: nc,
            responders_treatment: rt,
            responders_control: rc,
            response_rate_treatment: rate_t,
            response_rate_control: rate_c,
            incremental_responses: (rate_t - rate_c) * size as f64,
            incremental_profit: (gain_t / nt as f64 - gain_c / nc as f64) * size as f64 - spent,
        })
    }
}

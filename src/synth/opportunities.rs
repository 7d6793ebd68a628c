//! Seeded synthetic sales opportunities with stage histories and known win rates, for
//! tests, benchmarks and demonstrations of the weighted pipeline and its calibration.
//!
//! The distribution:
//! - four stages, [`SYNTH_STAGES`] (`prospect`, `qualify`, `proposal`, `negotiation`),
//!   with entered probabilities 0.1, 0.25, 0.5 and 0.75 (missing for 10% of the deals);
//! - a deal in stage s advances to the next stage (or, from the last, is won) with
//!   probability [`SYNTH_ADVANCE`]\[s\] = 0.6, 0.6, 0.7, 0.75, else it is lost there; the
//!   true win rate of a deal that entered stage s is thus Π_{t ≥ s} advance\[t\]
//!   ([`OpportunitySynth::win_rates`]);
//! - created uniformly in the 360 days from 180 days before the fiscal-year start; each
//!   stage lasts 5 to 34 days (uniform); half of the deals are closed (their whole path
//!   simulated, closed 5 to 34 days after entering their last stage), the other half
//!   open in a uniformly drawn stage, expected to close uniformly 0 to 364 days after
//!   the fiscal-year start;
//! - amount log-normal with median 10,000 (σ = 1), rounded to whole units; owners `o0`…
//!   and products `p0`… uniform.
//!
//! Deals are generated in fixed blocks of 65,536, each with its own random stream from
//! (seed, block), so the output is the same for any number of threads.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{DealStatus, Opportunities, OpportunityRecord, StageRecord};
use crate::error::{Error, Result};
use crate::time::{date_of, day_number};

/// The stages of synthetic deals, in order.
pub const SYNTH_STAGES: [&str; 4] = ["prospect", "qualify", "proposal", "negotiation"];
/// The probability entered for a deal in each stage.
pub const SYNTH_ENTERED: [f64; 4] = [0.1, 0.25, 0.5, 0.75];
/// The probability that a deal in each stage advances (from the last: is won).
pub const SYNTH_ADVANCE: [f64; 4] = [0.6, 0.6, 0.7, 0.75];

const BLOCK: usize = 1 << 16;

/// Settings of synthetic opportunities (defaults: 10,000 deals, fiscal year from
/// 2024-10-01, 50 owners, 20 products, seed 2026).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpportunitySynth {
    opportunities: usize,
    fiscal_year_start: NaiveDate,
    owners: usize,
    products: usize,
    seed: u64,
}

impl Default for OpportunitySynth {
    fn default() -> Self {
        OpportunitySynth {
            opportunities: 10_000,
            // A valid date: chrono returns it.
            fiscal_year_start: NaiveDate::from_ymd_opt(2024, 10, 1).unwrap_or_default(),
            owners: 50,
            products: 20,
            seed: 2026,
        }
    }
}

/// The generated records: opportunities and their stage histories.
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityRecords {
    /// One record per deal.
    pub opportunities: Vec<OpportunityRecord>,
    /// The stage entries of every deal, deal by deal.
    pub history: Vec<StageRecord>,
}

impl OpportunitySynth {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of opportunities (≥ 1).
    pub fn opportunities(mut self, n: usize) -> Self {
        self.opportunities = n;
        self
    }

    /// The fiscal-year start the close dates are drawn around.
    pub fn fiscal_year_start(mut self, date: NaiveDate) -> Self {
        self.fiscal_year_start = date;
        self
    }

    /// Number of owners (≥ 1).
    pub fn owners(mut self, n: usize) -> Self {
        self.owners = n;
        self
    }

    /// Number of products (≥ 1).
    pub fn products(mut self, n: usize) -> Self {
        self.products = n;
        self
    }

    /// The random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The true win rate of a deal that entered each stage of [`SYNTH_STAGES`].
    pub fn win_rates() -> [f64; 4] {
        let mut r = [0.0; 4];
        let mut p = 1.0;
        for s in (0..4).rev() {
            p *= SYNTH_ADVANCE[s];
            r[s] = p;
        }
        r
    }

    fn check(&self) -> Result<()> {
        for (name, v) in [
            ("opportunities", self.opportunities),
            ("owners", self.owners),
            ("products", self.products),
        ] {
            if v == 0 {
                return Err(Error::option(name, v, "at least 1"));
            }
        }
        Ok(())
    }

    /// The records, as a CSV reader would give them.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for no opportunities, owners or products.
    pub fn records(&self) -> Result<OpportunityRecords> {
        self.check()?;
        let start = day_number(self.fiscal_year_start);
        // exp(N(ln 10000, 1)): valid parameters.
        let amount = LogNormal::new(10_000f64.ln(), 1.0)
            .map_err(|_| Error::option("amount", "LogNormal(ln 10000, 1)", "valid parameters"))?;
        let blocks: Vec<OpportunityRecords> = (0..self.opportunities.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                    self.seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let n = BLOCK.min(self.opportunities - b * BLOCK);
                let mut out = OpportunityRecords {
                    opportunities: Vec::with_capacity(n),
                    history: Vec::with_capacity(3 * n),
                };
                for i in 0..n {
                    let id = format!("d{}", b * BLOCK + i);
                    let created = start - 180 + rng.gen_range(0..360);
                    let closed = rng.gen::<f64>() < 0.5;
                    // The last stage entered, and whether the deal was won.
                    let (last, won) = if closed {
                        let mut s = 0;
                        loop {
                            if rng.gen::<f64>() >= SYNTH_ADVANCE[s] {
                                break (s, false);
                            }
                            if s == 3 {
                                break (3, true);
                            }
                            s += 1;
                        }
                    } else {
                        (rng.gen_range(0..4), false)
                    };
                    let mut day = created;
                    for (s, stage) in SYNTH_STAGES.iter().enumerate().take(last + 1) {
                        if s > 0 {
                            day += rng.gen_range(5..35);
                        }
                        out.history.push(StageRecord {
                            opportunity: id.clone(),
                            stage: (*stage).to_string(),
                            entered: date_of(day),
                            expected_close: None,
                        });
                    }
                    let (status, expected_close, closed_on) = if closed {
                        let c = day + rng.gen_range(5..35);
                        let status = if won {
                            DealStatus::Won
                        } else {
                            DealStatus::Lost
                        };
                        (status, c, Some(date_of(c)))
                    } else {
                        (DealStatus::Open, start + rng.gen_range(0..365), None)
                    };
                    let probability = (rng.gen::<f64>() >= 0.1).then_some(SYNTH_ENTERED[last]);
                    out.opportunities.push(OpportunityRecord {
                        id,
                        customer: None,
                        owner: Some(format!("o{}", rng.gen_range(0..self.owners))),
                        stage: SYNTH_STAGES[last].to_string(),
                        amount: amount.sample(&mut rng).round(),
                        probability,
                        product: Some(format!("p{}", rng.gen_range(0..self.products))),
                        created: Some(date_of(created)),
                        expected_close: date_of(expected_close),
                        status,
                        closed: closed_on,
                        loss_reason: (status == DealStatus::Lost).then(|| "price".to_string()),
                        attributes: Default::default(),
                    });
                }
                out
            })
            .collect();
        let mut all = OpportunityRecords {
            opportunities: Vec::with_capacity(self.opportunities),
            history: Vec::new(),
        };
        for b in blocks {
            all.opportunities.extend(b.opportunities);
            all.history.extend(b.history);
        }
        Ok(all)
    }

    /// The validated opportunities with their histories.
    ///
    /// # Errors
    /// As [`records`](Self::records).
    pub fn generate(&self) -> Result<Opportunities> {
        let r = self.records()?;
        Opportunities::new(r.opportunities, r.history)
    }
}

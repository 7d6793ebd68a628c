//! Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
//! Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::Area;
use crate::error::{Error, Result};
use crate::numerics::{
    check_positive, digamma, ln_gamma, minimize, sum_ordered, trigamma, warm_sample, FitOptions,
    FitReport, Objective,
};
use crate::numerics::{Fitted, MaximumLikelihood};
use crate::summary::Rfm;

/// Spend per transaction varies around each customer's mean ζ as Gamma(p, ν), with
/// ν ~ Gamma(q, γ) across customers. A customer's observed mean spend z̄ over x
/// transactions gives (FHL 2005, eq. 2, in means):
///
/// ```text
/// L = Γ(px+q) / (Γ(px) Γ(q)) · γ^q z̄^(px−1) x^(px) / (γ + x z̄)^(px+q)
/// ```
///
/// The model assumes spend is independent of purchase frequency; check it with
/// [`spend_frequency_correlation`] before using it for lifetime value.
///
/// ```
/// use acrm::profitability::GammaGamma;
/// // Published CDNOW estimates (Fader, Hardie & Lee 2005): a customer with two repeat
/// // purchases averaging $22.35 is expected to spend about $24.66 per transaction.
/// let m = GammaGamma::new(6.25, 3.74, 15.44)?;
/// assert!((m.conditional_expected_spend(2, 22.35) - 24.66).abs() < 0.01);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    p: f64,
    q: f64,
    gamma: f64,
}

impl GammaGamma {
    /// Parameter names, in the order of [`params`](Self::params).
    pub const NAMES: [&'static str; 3] = ["p", "q", "gamma"];

    /// A model from its parameters.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless every parameter is finite and positive.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self> {
        check_positive(&Self::NAMES, &[p, q, gamma])?;
        Ok(GammaGamma { p, q, gamma })
    }

    /// (p, q, γ).
    pub fn params(&self) -> [f64; 3] {
        [self.p, self.q, self.gamma]
    }

    /// Log-likelihood of a customer with x > 0 transactions of mean value z̄ > 0.
    pub fn log_likelihood(&self, x: u32, mean_spend: f64) -> f64 {
        let (p, q, g) = (self.p, self.q, self.gamma);
        let xf = f64::from(x);
        let px = p * xf;
        ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
            + q * g.ln()
            + (px - 1.0) * mean_spend.ln()
            + px * xf.ln()
            - (px + q) * (g + xf * mean_spend).ln()
    }

    /// Total log-likelihood of the repeat buyers (x > 0) among `records`.
    ///
    /// # Errors
    /// As the fit ([`FitOptions::fit`]) for the records.
    pub fn total_log_likelihood(&self, records: &[Rfm]) -> Result<f64> {
        let lik = Likelihood::new(records)?;
        let mut g = [0.0; 3];
        Ok(-lik.value_and_gradient(&self.params(), &mut g))
    }

    /// Mean spend per transaction across customers, γp/(q − 1) (infinite when q ≤ 1).
    pub fn expected_spend(&self) -> f64 {
        if self.q <= 1.0 {
            return f64::INFINITY;
        }
        self.gamma * self.p / (self.q - 1.0)
    }

    /// Expected spend per transaction of a customer with x transactions averaging z̄: a
    /// weighted mean of the population mean and z̄, the weight on z̄ growing with x
    /// (FHL 2005, eq. 5). With x = 0, the population mean.
    pub fn conditional_expected_spend(&self, x: u32, mean_spend: f64) -> f64 {
        let (p, q, g) = (self.p, self.q, self.gamma);
        let px = p * f64::from(x);
        (g + f64::from(x) * mean_spend) * p / (px + q - 1.0)
    }

    /// Maximum-likelihood fit on the repeat buyers (x > 0) among `records`; customers
    /// without repeat purchases carry no information on spend and are not used.
    ///
    /// Starts from p = q = 1.5 and γ = the mean of z̄ (so that the starting population
    /// mean is of the data's scale) unless [`FitOptions::initial`] says otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, [`Error::BadValue`] for a repeat buyer
    /// whose mean spend is not finite and positive (naming the record),
    /// [`Error::EmptyInput`] without repeat buyers, and [`Error::Numerical`] when the
    /// optimiser fails.
    fn fit_rows(records: &[Rfm], opts: &FitOptions) -> Result<(GammaGamma, FitReport)> {
        let settings = opts.check(3)?;
        let lik = Likelihood::new(records)?.penalised(opts.penalty);
        let n = lik.rows.len() as f64;
        let mean = lik.rows.iter().map(|r| r.z).sum::<f64>() / n;
        let cold = vec![1.5, 1.5, mean];
        let start = match (&opts.initial, warm_sample(&lik.rows)) {
            (Some(p), _) => p.clone(),
            (None, Some(rows)) => {
                let small = Likelihood {
                    rows,
                    xs: lik.xs.clone(),
                    lambda: 0.0,
                }
                .penalised(opts.penalty);
                let m = small.rows.len() as f64;
                minimize(&small, &Self::NAMES, &cold, m, &settings, |th| {
                    small.penalty(th)
                })
                .map(|m| m.theta)
                .unwrap_or(cold)
            }
            (None, None) => cold,
        };
        let m = minimize(&lik, &Self::NAMES, &start, n, &settings, |th| {
            lik.penalty(th)
        })
        .map_err(|e| match e {
            // The start came from the data, not from the caller: say so.
            Error::InvalidOption {
                option: "initial", ..
            } if opts.initial.is_none() => Error::Degenerate {
                input: "mean_spend".into(),
                reason: format!(
                    "the spends (mean {mean:e}) put the likelihood out of floating-point \
                     range; are the amounts in the right unit?"
                ),
            },
            e => e,
        })?;
        let t = &m.theta;
        Ok((GammaGamma::new(t[0], t[1], t[2])?, m.report))
    }
}

impl MaximumLikelihood for GammaGamma {
    type Row = Rfm;
    const AREA: Area = Area::Profitability;
    fn estimate(rows: &[Rfm], opts: &FitOptions) -> Result<Fitted<GammaGamma>> {
        let (model, report) = Self::fit_rows(rows, opts)?;
        Ok(Fitted { model, report })
    }
}

/// Pearson correlation of repeat purchases x and mean spend z̄ over the repeat buyers:
/// the Gamma-Gamma model assumes it is near 0. `None` with fewer than two repeat buyers
/// or when either is constant.
pub fn spend_frequency_correlation(records: &[Rfm]) -> Option<f64> {
    let rows: Vec<(f64, f64)> = records
        .iter()
        .filter(|r| r.x > 0)
        .map(|r| (f64::from(r.x), r.mean_spend))
        .collect();
    let n = rows.len() as f64;
    if rows.len() < 2 {
        return None;
    }
    let (mx, my) = rows
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &rows {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    let r = sxy / (sxx * syy).sqrt();
    r.is_finite().then_some(r)
}

/// A repeat buyer's x, z̄ and ln z̄, and the position of x among the distinct ones.
#[derive(Clone, Copy)]
struct Row {
    x: f64,
    z: f64,
    ln_z: f64,
    at: u32,
}

/// −ℓ over repeat buyers, with the x-only gamma functions cached per distinct x.
struct Likelihood {
    rows: Vec<Row>,
    xs: Vec<u32>,
    lambda: f64,
}

impl Likelihood {
    fn new(records: &[Rfm]) -> Result<Self> {
        // One parallel pass over the records (a memory-bound scan): each chunk finds its
        // first invalid record and its repeat buyers, with x itself parked in `at`.
        const CHUNK: usize = 1 << 16;
        let parts: Vec<(Option<usize>, Vec<Row>)> = records
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let bad = chunk
                    .iter()
                    .position(|r| r.x > 0 && !(r.mean_spend > 0.0 && r.mean_spend.is_finite()))
                    .map(|i| c * CHUNK + i);
                let rows = if bad.is_some() {
                    Vec::new()
                } else {
                    chunk
                        .iter()
                        .filter(|r| r.x > 0)
                        .map(|r| Row {
                            x: f64::from(r.x),
                            z: r.mean_spend,
                            ln_z: r.mean_spend.ln(),
                            at: r.x,
                        })
                        .collect()
                };
                (bad, rows)
            })
            .collect();
        if let Some(i) = parts.iter().find_map(|p| p.0) {
            let r = &records[i];
            return Err(Error::bad_value(
                "records",
                i,
                "mean_spend",
                r.mean_spend,
                format!(
                    "a finite positive mean spend for a repeat buyer (x = {})",
                    r.x
                ),
            ));
        }
        let mut rows: Vec<Row> = parts.into_iter().flat_map(|p| p.1).collect();
        if rows.is_empty() {
            return Err(Error::EmptyInput);
        }
        // Distinct x, and each row's position among them: by a table of seen values when x
        // is small (the usual case), else by sorting and searching.
        let max_x = rows.iter().map(|r| r.at).max().unwrap_or(0);
        let xs: Vec<u32> = if max_x < 1 << 20 {
            let mut slot = vec![u32::MAX; max_x as usize + 1];
            for r in &rows {
                slot[r.at as usize] = 0;
            }
            let xs: Vec<u32> = (1..=max_x).filter(|&x| slot[x as usize] == 0).collect();
            for (i, &x) in xs.iter().enumerate() {
                slot[x as usize] = i as u32;
            }
            rows.par_iter_mut().for_each(|r| r.at = slot[r.at as usize]);
            xs
        } else {
            let mut xs: Vec<u32> = rows.iter().map(|r| r.at).collect();
            xs.par_sort_unstable();
            xs.dedup();
            rows.par_iter_mut()
                .for_each(|r| r.at = xs.partition_point(|&v| v < r.at) as u32);
            xs
        };
        Ok(Likelihood {
            rows,
            xs,
            lambda: 0.0,
        })
    }

    /// λ per customer, as for the purchase models.
    fn penalised(mut self, lambda: f64) -> Self {
        self.lambda = lambda * self.rows.len() as f64;
        self
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.lambda * theta.iter().map(|t| t * t).sum::<f64>()
    }
}

impl Likelihood {
    /// −ℓ, its gradient and (when `hess` is given) its Hessian over (p, q, γ).
    fn evaluate(&self, theta: &[f64], grad: &mut [f64], hess: Option<&mut [f64]>) -> f64 {
        let (p, q, g) = (theta[0], theta[1], theta[2]);
        let (lg_q, dg_q, tg_q, ln_g) = (ln_gamma(q), digamma(q), trigamma(q), g.ln());
        let want_h = hess.is_some();
        let (inv_g, q_g, q_gg) = (1.0 / g, q / g, q / (g * g));
        // Per distinct x: ln Γ(px+q) − ln Γ(px) − ln Γ(q), ψ(px+q) − ψ(px), ψ(px+q), ln x,
        // and for the Hessian ψ₁(px+q) − ψ₁(px), ψ₁(px+q).
        let per_x: Vec<[f64; 6]> = self
            .xs
            .iter()
            .map(|&x| {
                let xf = f64::from(x);
                let px = p * xf;
                let d = digamma(px + q);
                let (t_sum, t_px) = if want_h {
                    (trigamma(px + q), trigamma(px))
                } else {
                    (0.0, 0.0)
                };
                [
                    ln_gamma(px + q) - ln_gamma(px) - lg_q,
                    d - digamma(px),
                    d,
                    xf.ln(),
                    t_sum - t_px,
                    t_sum,
                ]
            })
            .collect();
        // Gradient (3) then the Hessian's upper triangle pp, pq, pγ, qq, qγ, γγ (6).
        let (ll, s) = sum_ordered::<_, 9>(&self.rows, |_, r, s| {
            let [c, dpx, dq, ln_x, t_diff, t_sum] = per_x[r.at as usize];
            let px = p * r.x;
            let tot = g + r.x * r.z;
            let (ln_tot, u) = (tot.ln(), 1.0 / tot);
            s[0] += r.x * (dpx + r.ln_z + ln_x - ln_tot);
            s[1] += dq - dg_q + ln_g - ln_tot;
            s[2] += q_g - (px + q) * u;
            if want_h {
                s[3] += r.x * r.x * t_diff;
                s[4] += r.x * t_sum;
                s[5] -= r.x * u;
                s[6] += t_sum - tg_q;
                s[7] += inv_g - u;
                s[8] += (px + q) * u * u - q_gg;
            }
            c + q * ln_g + (px - 1.0) * r.ln_z + px * ln_x - (px + q) * ln_tot
        });
        for i in 0..3 {
            grad[i] = -s[i] + 2.0 * self.lambda * theta[i];
        }
        if let Some(h) = hess {
            let upper = [
                (0, 0, 3),
                (0, 1, 4),
                (0, 2, 5),
                (1, 1, 6),
                (1, 2, 7),
                (2, 2, 8),
            ];
            for (i, j, k) in upper {
                h[i * 3 + j] = -s[k];
                h[j * 3 + i] = -s[k];
            }
            for i in 0..3 {
                h[i * 3 + i] += 2.0 * self.lambda;
            }
        }
        -ll + self.penalty(theta)
    }
}

impl Objective for Likelihood {
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        self.evaluate(theta, grad, None)
    }

    fn value_gradient_hessian(
        &self,
        theta: &[f64],
        grad: &mut [f64],
        hess: &mut [f64],
    ) -> Option<f64> {
        Some(self.evaluate(theta, grad, Some(hess)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn hessian_matches_finite_differences_of_the_gradient() {
        let records: Vec<Rfm> = [(1, 10.0), (3, 25.5), (7, 4.2), (1, 80.0), (12, 30.0)]
            .iter()
            .map(|&(x, z)| Rfm {
                x,
                t_x: 1.0,
                t: 2.0,
                mean_spend: z,
            })
            .collect();
        let lik = Likelihood::new(&records).unwrap().penalised(0.01);
        for theta in [[6.25, 3.74, 15.44], [0.5, 12.0, 2.0]] {
            let (mut g, mut h) = ([0.0; 3], [0.0; 9]);
            lik.value_gradient_hessian(&theta, &mut g, &mut h).unwrap();
            for j in 0..3 {
                let step = 1e-6 * theta[j];
                let (mut up, mut dn) = (theta, theta);
                up[j] += step;
                dn[j] -= step;
                let (mut gu, mut gd) = ([0.0; 3], [0.0; 3]);
                lik.value_and_gradient(&up, &mut gu);
                lik.value_and_gradient(&dn, &mut gd);
                for i in 0..3 {
                    let fd = (gu[i] - gd[i]) / (2.0 * step);
                    assert_relative_eq!(h[i * 3 + j], fd, max_relative = 1e-5, epsilon = 1e-7);
                }
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let records: Vec<Rfm> = [(1, 10.0), (3, 25.5), (7, 4.2), (1, 80.0), (12, 30.0)]
            .iter()
            .map(|&(x, z)| Rfm {
                x,
                t_x: 1.0,
                t: 2.0,
                mean_spend: z,
            })
            .collect();
        let lik = Likelihood::new(&records).unwrap();
        for theta in [[6.25, 3.74, 15.44], [0.5, 12.0, 2.0]] {
            let mut g = [0.0; 3];
            lik.value_and_gradient(&theta, &mut g);
            for j in 0..3 {
                let h = 1e-6 * theta[j];
                let (mut up, mut dn) = (theta, theta);
                up[j] += h;
                dn[j] -= h;
                let mut tmp = [0.0; 3];
                let fd = (lik.value_and_gradient(&up, &mut tmp)
                    - lik.value_and_gradient(&dn, &mut tmp))
                    / (2.0 * h);
                assert_relative_eq!(g[j], fd, max_relative = 1e-6, epsilon = 1e-7);
            }
        }
    }
}

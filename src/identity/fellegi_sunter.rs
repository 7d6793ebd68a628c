//! The Fellegi–Sunter model: m and u probabilities per field and comparison level, the
//! prior match probability λ, match weights and match probabilities, estimated by EM
//! without labels (splink's way, u fixed from random pairs, or recordlinkage's ECM way,
//! u estimated too) or counted from labelled pairs.
//!
//! Levels are graded per field: 0 is the strongest agreement (usually "exact"), the last
//! level `levels - 1` is "else" (disagreement), and [`MISSING_LEVEL`] (255) means one of
//! the two values is missing. A missing level carries no evidence: Bayes factor 1 (weight
//! 0) in scoring, skipped by every estimate.
//!
//! EM runs over the distinct comparison patterns with their counts (the pairs are grouped
//! once, deterministically, in pattern order), so an iteration costs microseconds however
//! many pairs there are.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::numerics::{sigmoid, Fitted};

/// The level of a field whose value is missing on either side of the pair.
pub const MISSING_LEVEL: u8 = u8::MAX;

/// The smallest probability an estimated m (or an ECM u) may take: a level observed in
/// the data but given (numerically) no weight by the E-step would otherwise get m = 0 and
/// an infinite negative weight. 1e-12 only binds in such underflows.
pub const PROBABILITY_FLOOR: f64 = 1e-12;

/// λ is kept in `[LAMBDA_FLOOR, 1 - LAMBDA_FLOOR]` so the prior weight stays finite.
pub const LAMBDA_FLOOR: f64 = 1e-12;

/// The count a level never seen among random pairs is given by [`estimate_u`] (half a
/// pair, a continuity correction), so that no u is 0 and no weight infinite.
pub const U_ZERO_COUNT: f64 = 0.5;

/// Comparison vectors: per pair, one level per field, stored row-major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparisonVectors {
    fields: usize,
    levels: Vec<u8>,
    data: Vec<u8>,
}

impl ComparisonVectors {
    /// Empty vectors for fields with `levels[f]` levels each (2 ..= 254: at least a match
    /// and an "else" level; 255 is reserved for missing).
    pub fn new(levels: Vec<u8>) -> Result<Self> {
        if levels.is_empty() {
            return Err(Error::option("levels", "[]", "at least one field"));
        }
        for (f, &l) in levels.iter().enumerate() {
            if !(2..=254).contains(&l) {
                return Err(Error::bad_value(
                    "levels",
                    f,
                    format!("field {f}"),
                    l,
                    "2 to 254 levels",
                ));
            }
        }
        Ok(ComparisonVectors {
            fields: levels.len(),
            levels,
            data: Vec::new(),
        })
    }

    /// Vectors from rows (each one level per field), validated as by [`Self::push`].
    pub fn from_rows<R: AsRef<[u8]>>(
        levels: Vec<u8>,
        rows: impl IntoIterator<Item = R>,
    ) -> Result<Self> {
        let mut v = Self::new(levels)?;
        for r in rows {
            v.push(r.as_ref())?;
        }
        Ok(v)
    }

    /// Vectors from their row-major levels (`data.len()` a multiple of the field count),
    /// validated as by [`Self::push`]: what a caller that builds the levels in bulk (in
    /// parallel) hands over without a copy per row.
    pub fn from_data(levels: Vec<u8>, data: Vec<u8>) -> Result<Self> {
        let mut v = Self::new(levels)?;
        let f = v.fields;
        if data.len() % f != 0 {
            return Err(Error::option(
                "comparison data",
                data.len(),
                format!("a multiple of the {f} fields"),
            ));
        }
        for (at, row) in data.chunks_exact(f).enumerate() {
            for (k, (&g, &l)) in row.iter().zip(&v.levels).enumerate() {
                if g >= l && g != MISSING_LEVEL {
                    return Err(Error::bad_value(
                        "comparison vectors",
                        at,
                        format!("field {k}"),
                        g,
                        format!("a level below {l} or 255 (missing)"),
                    ));
                }
            }
        }
        v.data = data;
        Ok(v)
    }

    /// Appends one pair's levels. A level must be below the field's level count or
    /// [`MISSING_LEVEL`]; otherwise a [`Error::BadValue`] names the row, field and value.
    pub fn push(&mut self, row: &[u8]) -> Result<()> {
        let at = self.len();
        Error::check_len("row", row.len(), self.fields, "fields")?;
        for (f, (&g, &l)) in row.iter().zip(&self.levels).enumerate() {
            if g >= l && g != MISSING_LEVEL {
                return Err(Error::bad_value(
                    "comparison vectors",
                    at,
                    format!("field {f}"),
                    g,
                    format!("a level below {l} or 255 (missing)"),
                ));
            }
        }
        self.data.extend_from_slice(row);
        Ok(())
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.data.len() / self.fields
    }

    /// True without pairs.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of fields.
    pub fn fields(&self) -> usize {
        self.fields
    }

    /// Level counts per field.
    pub fn levels(&self) -> &[u8] {
        &self.levels
    }

    /// The levels of pair `i` (panics when `i >= len()`, as slice indexing does).
    pub fn row(&self, i: usize) -> &[u8] {
        &self.data[i * self.fields..(i + 1) * self.fields]
    }

    /// The distinct patterns with their counts, in increasing pattern order (missing
    /// sorts last in each field), so the result does not depend on the pairs' order.
    pub fn patterns(&self) -> Patterns {
        let f = self.fields;
        // Mixed-radix code with radix levels+1 (missing → levels): dense counting when
        // the code space is small (the usual case: 8 fields of 4 levels = 390,625 codes).
        let mut space: u128 = 1;
        for &l in &self.levels {
            space = space.saturating_mul(l as u128 + 1);
        }
        let code = |row: &[u8]| -> u64 {
            let mut c = 0u64;
            for (&g, &l) in row.iter().zip(&self.levels) {
                let d = if g == MISSING_LEVEL { l } else { g };
                c = c * (l as u64 + 1) + d as u64;
            }
            c
        };
        let mut rows = Vec::new();
        let mut counts = Vec::new();
        if space <= 1 << 22 {
            let chunk = 1 << 16;
            let dense = self
                .data
                .par_chunks(chunk * f)
                .map(|part| {
                    let mut d = vec![0u64; space as usize];
                    for r in part.chunks_exact(f) {
                        d[code(r) as usize] += 1;
                    }
                    d
                })
                .reduce(
                    || vec![0u64; space as usize],
                    |mut a, b| {
                        for (x, y) in a.iter_mut().zip(b) {
                            *x += y;
                        }
                        a
                    },
                );
            let mut digits = vec![0u8; f];
            for (c, &n) in dense.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let mut c = c as u64;
                for k in (0..f).rev() {
                    let radix = self.levels[k] as u64 + 1;
                    let d = (c % radix) as u8;
                    c /= radix;
                    digits[k] = if d == self.levels[k] {
                        MISSING_LEVEL
                    } else {
                        d
                    };
                }
                rows.extend_from_slice(&digits);
                counts.push(n);
            }
        } else {
            let mut map: HashMap<&[u8], u64> = HashMap::new();
            for r in self.data.chunks_exact(f) {
                *map.entry(r).or_insert(0) += 1;
            }
            let mut keys: Vec<(&[u8], u64)> = map.into_iter().collect();
            keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (k, n) in keys {
                rows.extend_from_slice(k);
                counts.push(n);
            }
        }
        Patterns {
            fields: f,
            rows,
            counts,
        }
    }
}

/// Distinct comparison patterns and how many pairs show each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patterns {
    fields: usize,
    rows: Vec<u8>,
    /// Pairs per pattern.
    pub counts: Vec<u64>,
}

impl Patterns {
    /// Number of distinct patterns.
    pub fn len(&self) -> usize {
        self.counts.len()
    }
    /// True without patterns.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
    /// Pattern `i`.
    pub fn row(&self, i: usize) -> &[u8] {
        &self.rows[i * self.fields..(i + 1) * self.fields]
    }
}

/// A probability per field per level (m or u).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probabilities {
    /// `values[f][l]`: the probability of level `l` of field `f`.
    pub values: Vec<Vec<f64>>,
}

impl Probabilities {
    /// Probabilities from published values: each in (0, 1], each field summing to 1
    /// within 1e-6, at least two levels per field.
    pub fn new(values: Vec<Vec<f64>>) -> Result<Self> {
        if values.is_empty() {
            return Err(Error::option("probabilities", "[]", "at least one field"));
        }
        for (f, v) in values.iter().enumerate() {
            if v.len() < 2 || v.len() > 254 {
                return Err(Error::bad_value(
                    "probabilities",
                    f,
                    "levels",
                    v.len(),
                    "2 to 254 levels",
                ));
            }
            for (l, &p) in v.iter().enumerate() {
                if !(p > 0.0 && p <= 1.0) {
                    return Err(Error::bad_value(
                        "probabilities",
                        f,
                        format!("level {l}"),
                        p,
                        "a probability in (0, 1]",
                    ));
                }
            }
            let s: f64 = v.iter().sum();
            if (s - 1.0).abs() > 1e-6 {
                return Err(Error::bad_value(
                    "probabilities",
                    f,
                    "sum",
                    s,
                    "levels summing to 1",
                ));
            }
        }
        Ok(Probabilities { values })
    }

    /// splink's default starting m per field: 0.95 at the strongest level (0), the
    /// remaining 0.05 shared equally by the other levels.
    pub fn default_m(levels: &[u8]) -> Self {
        Probabilities {
            values: levels
                .iter()
                .map(|&l| {
                    let rest = 0.05 / (l as f64 - 1.0);
                    (0..l).map(|i| if i == 0 { 0.95 } else { rest }).collect()
                })
                .collect(),
        }
    }

    /// Probability of level `level` of field `field`.
    pub fn get(&self, field: usize, level: u8) -> f64 {
        self.values[field][level as usize]
    }

    fn levels(&self) -> Vec<u8> {
        self.values.iter().map(|v| v.len() as u8).collect()
    }
}

/// u from random pairs: per field, the share of each level among the random pairs whose
/// field is not missing. A level never seen gets [`U_ZERO_COUNT`] pairs (then the field is
/// renormalised), so no u is 0. A field missing in every random pair is
/// [`Error::Degenerate`].
pub fn estimate_u(random_pairs: &ComparisonVectors) -> Result<Probabilities> {
    if random_pairs.is_empty() {
        return Err(Error::EmptyInput);
    }
    let counts = level_counts(random_pairs);
    if let Some(f) = counts.iter().position(|c| c.iter().all(|&x| x == 0.0)) {
        return Err(Error::Degenerate {
            input: format!("field {f}"),
            reason: "missing in every random pair: u cannot be estimated".into(),
        });
    }
    Ok(Probabilities {
        values: counts.into_iter().map(shares).collect(),
    })
}

/// As [`estimate_u`], but a field missing in every random pair takes its level shares
/// from `fallback` (in resolution, the candidate pairs: a field filled in by few records
/// can miss a million random pairs and still be compared among candidates), and one
/// missing there too gets equal shares (it is then never compared, so its u is never
/// used).
pub fn estimate_u_or(
    random_pairs: &ComparisonVectors,
    fallback: &ComparisonVectors,
) -> Result<UEstimate> {
    if random_pairs.is_empty() {
        return Err(Error::EmptyInput);
    }
    if fallback.levels() != random_pairs.levels() {
        return Err(Error::option(
            "fallback",
            format!("{:?} levels", fallback.levels()),
            format!("the random pairs' levels {:?}", random_pairs.levels()),
        ));
    }
    let mut counts = level_counts(random_pairs);
    let empty: Vec<usize> = (0..counts.len())
        .filter(|&f| counts[f].iter().all(|&x| x == 0.0))
        .collect();
    if !empty.is_empty() {
        let other = level_counts(fallback);
        for &f in &empty {
            counts[f] = other[f].clone();
        }
    }
    Ok(UEstimate {
        u: Probabilities {
            values: counts.into_iter().map(shares).collect(),
        },
        fallback_fields: empty,
    })
}

/// u with the fields that took it from the fallback pairs ([`estimate_u_or`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UEstimate {
    /// u per field per level.
    pub u: Probabilities,
    /// The fields missing in every random pair, counted on the fallback pairs.
    pub fallback_fields: Vec<usize>,
}

/// Pairs per field per level, missing levels left out.
fn level_counts(vectors: &ComparisonVectors) -> Vec<Vec<f64>> {
    let pats = vectors.patterns();
    let mut counts: Vec<Vec<f64>> = vectors
        .levels
        .iter()
        .map(|&l| vec![0.0; l as usize])
        .collect();
    for p in 0..pats.len() {
        for (f, &g) in pats.row(p).iter().enumerate() {
            if g != MISSING_LEVEL {
                counts[f][g as usize] += pats.counts[p] as f64;
            }
        }
    }
    counts
}

/// Level counts to shares: an unseen level counts [`U_ZERO_COUNT`]; a field never seen
/// gets equal shares.
fn shares(mut c: Vec<f64>) -> Vec<f64> {
    if c.iter().all(|&x| x == 0.0) {
        let k = c.len() as f64;
        return vec![1.0 / k; c.len()];
    }
    for x in c.iter_mut() {
        if *x == 0.0 {
            *x = U_ZERO_COUNT;
        }
    }
    let s: f64 = c.iter().sum();
    c.into_iter().map(|x| x / s).collect()
}

/// Options of the EM fit (and of the supervised fit's smoothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FellegiSunterOptions {
    max_iterations: usize,
    tolerance: f64,
    lambda: f64,
    estimate_lambda: bool,
    initial_m: Option<Probabilities>,
    initial_u: Option<Probabilities>,
    fixed_fields: Vec<usize>,
    smoothing: f64,
}

impl Default for FellegiSunterOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl FellegiSunterOptions {
    /// splink's defaults: at most 25 iterations, stop when no m, u or λ moves by 1e-4 or
    /// more, start from λ = 1e-4 and m = [`Probabilities::default_m`]; λ estimated; no
    /// fixed fields; supervised smoothing 0.5 (a Jeffreys-style half count per level).
    pub fn new() -> Self {
        FellegiSunterOptions {
            max_iterations: 25,
            tolerance: 1e-4,
            lambda: 1e-4,
            estimate_lambda: true,
            initial_m: None,
            initial_u: None,
            fixed_fields: Vec::new(),
            smoothing: 0.5,
        }
    }
    /// Maximum EM iterations (≥ 1).
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }
    /// Stop when the largest absolute change of any m, u or λ is below this (> 0).
    pub fn tolerance(mut self, t: f64) -> Self {
        self.tolerance = t;
        self
    }
    /// Starting λ (in (0, 1)).
    pub fn lambda(mut self, l: f64) -> Self {
        self.lambda = l;
        self
    }
    /// Whether λ is estimated (else held at its starting value).
    pub fn estimate_lambda(mut self, yes: bool) -> Self {
        self.estimate_lambda = yes;
        self
    }
    /// Starting m.
    pub fn initial_m(mut self, m: Probabilities) -> Self {
        self.initial_m = Some(m);
        self
    }
    /// Starting u for the ECM mode (default: the level shares over all pairs, see
    /// [`Self::fit`]).
    pub fn initial_u(mut self, u: Probabilities) -> Self {
        self.initial_u = Some(u);
        self
    }
    /// Fields whose m (and u in ECM mode) stay at their starting values.
    pub fn fixed_fields(mut self, fields: Vec<usize>) -> Self {
        self.fixed_fields = fields;
        self
    }
    /// Additive smoothing per level in [`Self::fit_supervised`] (≥ 0).
    pub fn smoothing(mut self, a: f64) -> Self {
        self.smoothing = a;
        self
    }

    /// The starting m, when one was set.
    pub(crate) fn starting_m(&self) -> Option<&Probabilities> {
        self.initial_m.as_ref()
    }

    /// The fixed fields.
    pub(crate) fn fixed(&self) -> &[usize] {
        &self.fixed_fields
    }

    fn validate(&self, levels: &[u8]) -> Result<()> {
        if self.max_iterations == 0 {
            return Err(Error::option("max_iterations", 0, "at least 1"));
        }
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return Err(Error::option(
                "tolerance",
                self.tolerance,
                "a finite number > 0",
            ));
        }
        if !(self.lambda > 0.0 && self.lambda < 1.0) {
            return Err(Error::option(
                "lambda",
                self.lambda,
                "a probability in (0, 1)",
            ));
        }
        if !(self.smoothing >= 0.0 && self.smoothing.is_finite()) {
            return Err(Error::option(
                "smoothing",
                self.smoothing,
                "a finite number ≥ 0",
            ));
        }
        for p in [&self.initial_m, &self.initial_u].into_iter().flatten() {
            if p.levels() != levels {
                return Err(Error::option(
                    "initial m/u",
                    format!("{:?} levels", p.levels()),
                    format!("the vectors' levels {levels:?}"),
                ));
            }
        }
        for &f in &self.fixed_fields {
            if f >= levels.len() {
                return Err(Error::option(
                    "fixed_fields",
                    f,
                    format!("a field below {}", levels.len()),
                ));
            }
        }
        Ok(())
    }

    /// EM fit. With `u` given, λ and m are estimated with u held fixed (splink); without
    /// it, λ, m and u are all estimated (recordlinkage's ECM), u starting from
    /// `initial_u` or from the level shares of all pairs.
    ///
    /// Each iteration: E-step over the patterns (posterior match probability per pattern,
    /// from the current λ, m, u), M-step: λ = mean posterior over all pairs, m (u) per
    /// field = the posterior-weighted (1 − posterior-weighted) level shares among pairs
    /// where the field is not missing. The iteration count, like splink's, counts M-steps;
    /// the loop stops after the M-step whose largest change is below the tolerance.
    ///
    /// Degenerate data: a field missing in every pair keeps its starting m (and u) and is
    /// reported as not estimated; a level never observed keeps its starting m (splink
    /// leaves it untrained too); a field whose pairs are all missing everywhere, or no
    /// pairs at all, is a typed error.
    pub fn fit(
        &self,
        vectors: &ComparisonVectors,
        u: Option<&Probabilities>,
    ) -> Result<Fitted<FellegiSunter, EmReport>> {
        let levels = vectors.levels().to_vec();
        self.validate(&levels)?;
        if vectors.is_empty() {
            return Err(Error::EmptyInput);
        }
        if let Some(u) = u {
            if u.levels() != levels {
                return Err(Error::option(
                    "u",
                    format!("{:?} levels", u.levels()),
                    format!("the vectors' levels {levels:?}"),
                ));
            }
        }
        let pats = vectors.patterns();
        let nf = levels.len();
        // Pairs observed per field and level.
        let mut observed: Vec<Vec<u64>> = levels.iter().map(|&l| vec![0; l as usize]).collect();
        for p in 0..pats.len() {
            for (f, &g) in pats.row(p).iter().enumerate() {
                if g != MISSING_LEVEL {
                    observed[f][g as usize] += pats.counts[p];
                }
            }
        }
        let estimated: Vec<bool> = (0..nf)
            .map(|f| observed[f].iter().any(|&n| n > 0) && !self.fixed_fields.contains(&f))
            .collect();
        if observed.iter().all(|o| o.iter().all(|&n| n == 0)) {
            return Err(Error::Degenerate {
                input: "comparison vectors".into(),
                reason: "every field is missing in every pair: nothing to estimate".into(),
            });
        }
        let ecm = u.is_none();
        let mut m = self
            .initial_m
            .clone()
            .unwrap_or_else(|| Probabilities::default_m(&levels));
        let mut uu = match u {
            Some(u) => u.clone(),
            None => self.initial_u.clone().unwrap_or_else(|| {
                // Level shares over all pairs (mostly non-matches), floored.
                Probabilities {
                    values: observed
                        .iter()
                        .map(|o| {
                            let s: u64 = o.iter().sum();
                            let k = o.len() as f64;
                            o.iter()
                                .map(|&n| {
                                    if s == 0 {
                                        1.0 / k
                                    } else {
                                        (n as f64 + U_ZERO_COUNT) / (s as f64 + U_ZERO_COUNT * k)
                                    }
                                })
                                .collect()
                        })
                        .collect(),
                }
            }),
        };
        let mut lambda = self.lambda;
        let total: f64 = pats.counts.iter().map(|&c| c as f64).sum();
        let mut history = Vec::new();
        let mut converged = false;
        let mut iterations = 0;
        let mut m_counts: Vec<Vec<f64>> = levels.iter().map(|&l| vec![0.0; l as usize]).collect();
        let mut u_counts = m_counts.clone();
        for it in 1..=self.max_iterations {
            iterations = it;
            let (post, _ll) = e_step(&pats, lambda, &m, &uu);
            for c in m_counts.iter_mut().chain(u_counts.iter_mut()) {
                c.iter_mut().for_each(|x| *x = 0.0);
            }
            let mut sum_post = 0.0;
            for (p, &pp) in post.iter().enumerate().take(pats.len()) {
                let c = pats.counts[p] as f64;
                let w = pp * c;
                let wu = (1.0 - pp) * c;
                sum_post += w;
                for (f, &g) in pats.row(p).iter().enumerate() {
                    if g != MISSING_LEVEL {
                        m_counts[f][g as usize] += w;
                        u_counts[f][g as usize] += wu;
                    }
                }
            }
            let mut change: f64 = 0.0;
            if self.estimate_lambda {
                let nl = (sum_post / total).clamp(LAMBDA_FLOOR, 1.0 - LAMBDA_FLOOR);
                change = change.max((nl - lambda).abs());
                lambda = nl;
            }
            for f in 0..nf {
                if !estimated[f] {
                    continue;
                }
                update(&mut m.values[f], &m_counts[f], &observed[f], &mut change);
                if ecm {
                    update(&mut uu.values[f], &u_counts[f], &observed[f], &mut change);
                }
            }
            history.push(IterationTrace {
                lambda,
                m: m.values.clone(),
                u: uu.values.clone(),
                max_change: change,
            });
            if change < self.tolerance {
                converged = true;
                break;
            }
        }
        let (_, log_likelihood) = e_step(&pats, lambda, &m, &uu);
        if !log_likelihood.is_finite() {
            return Err(Error::Numerical {
                procedure: "Fellegi–Sunter EM",
                reason: format!("log-likelihood {log_likelihood}"),
            });
        }
        let fields = (0..nf)
            .map(|f| FieldEstimate {
                estimated: estimated[f],
                levels: (0..levels[f] as usize)
                    .map(|l| LevelEstimate {
                        level: l as u8,
                        m: m.values[f][l],
                        u: uu.values[f][l],
                        pairs: observed[f][l],
                        m_count: m_counts[f][l],
                        u_count: u_counts[f][l],
                    })
                    .collect(),
            })
            .collect();
        let model = FellegiSunter::new(lambda, m, uu)?;
        Ok(Fitted {
            model,
            report: EmReport {
                mode: if ecm { EmMode::Ecm } else { EmMode::FixedU },
                iterations,
                converged,
                log_likelihood,
                lambda,
                pairs: vectors.len(),
                patterns: pats.len(),
                fields,
                history,
            },
        })
    }

    /// Supervised fit from labelled pairs: λ = share of matches; m (u) per field = level
    /// shares among matching (non-matching) pairs where the field is not missing, each
    /// level's count plus the smoothing `a`: `(n_l + a) / (n + a·L)`. With `a = 0` a level
    /// never seen among the matches would give m = 0, so `a = 0` is refused when that
    /// happens ([`Error::Degenerate`]). Both labels must occur.
    pub fn fit_supervised(
        &self,
        vectors: &ComparisonVectors,
        labels: &[bool],
    ) -> Result<Fitted<FellegiSunter, SupervisedReport>> {
        let levels = vectors.levels().to_vec();
        self.validate(&levels)?;
        Error::check_len("labels", labels.len(), vectors.len(), "comparison vectors")?;
        let matches = labels.iter().filter(|&&b| b).count();
        if matches == 0 || matches == labels.len() {
            return Err(Error::Degenerate {
                input: "labels".into(),
                reason: format!(
                    "{matches} matches among {} pairs: both classes are needed",
                    labels.len()
                ),
            });
        }
        let mut mc: Vec<Vec<f64>> = levels.iter().map(|&l| vec![0.0; l as usize]).collect();
        let mut uc = mc.clone();
        for (i, &lab) in labels.iter().enumerate() {
            let c = if lab { &mut mc } else { &mut uc };
            for (f, &g) in vectors.row(i).iter().enumerate() {
                if g != MISSING_LEVEL {
                    c[f][g as usize] += 1.0;
                }
            }
        }
        let a = self.smoothing;
        let norm = |counts: &Vec<Vec<f64>>, what: &str| -> Result<Vec<Vec<f64>>> {
            counts
                .iter()
                .enumerate()
                .map(|(f, c)| {
                    let s: f64 = c.iter().sum::<f64>() + a * c.len() as f64;
                    if c.iter().any(|&x| x + a == 0.0) || s == 0.0 {
                        return Err(Error::Degenerate {
                            input: format!("field {f}"),
                            reason: format!(
                                "a level never seen among the {what} pairs and smoothing 0"
                            ),
                        });
                    }
                    Ok(c.iter().map(|&x| (x + a) / s).collect())
                })
                .collect()
        };
        let m = Probabilities {
            values: norm(&mc, "matching")?,
        };
        let u = Probabilities {
            values: norm(&uc, "non-matching")?,
        };
        let lambda = matches as f64 / labels.len() as f64;
        let model = FellegiSunter::new(lambda, m, u)?;
        Ok(Fitted {
            model,
            report: SupervisedReport {
                pairs: labels.len(),
                matches,
                smoothing: a,
                m_counts: mc,
                u_counts: uc,
            },
        })
    }
}

fn update(p: &mut [f64], counts: &[f64], observed: &[u64], change: &mut f64) {
    let s: f64 = counts.iter().sum();
    if s <= 0.0 {
        return;
    }
    for l in 0..p.len() {
        if observed[l] == 0 {
            continue; // never observed: keeps its starting value (untrainable)
        }
        let v = (counts[l] / s).max(PROBABILITY_FLOOR);
        *change = change.max((v - p[l]).abs());
        p[l] = v;
    }
}

/// Posterior match probability per pattern and the log-likelihood (natural log).
fn e_step(pats: &Patterns, lambda: f64, m: &Probabilities, u: &Probabilities) -> (Vec<f64>, f64) {
    let mut post = Vec::with_capacity(pats.len());
    let mut ll = 0.0;
    for p in 0..pats.len() {
        let mut lm = lambda.ln();
        let mut lu = (1.0 - lambda).ln();
        for (f, &g) in pats.row(p).iter().enumerate() {
            if g != MISSING_LEVEL {
                lm += m.get(f, g).ln();
                lu += u.get(f, g).ln();
            }
        }
        let z = lm - lu;
        let pr = sigmoid(z);
        let hi = lm.max(lu);
        ll += pats.counts[p] as f64 * (hi + ((lm - hi).exp() + (lu - hi).exp()).ln());
        post.push(pr);
    }
    (post, ll)
}

/// Which parameters EM estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmMode {
    /// λ and m, u fixed (splink).
    FixedU,
    /// λ, m and u (recordlinkage's ECM).
    Ecm,
}

/// λ, m and u after one EM iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationTrace {
    /// λ after the iteration.
    pub lambda: f64,
    /// m per field per level.
    pub m: Vec<Vec<f64>>,
    /// u per field per level.
    pub u: Vec<Vec<f64>>,
    /// Largest absolute change of λ, m, u in this iteration.
    pub max_change: f64,
}

/// One level's estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelEstimate {
    /// The level.
    pub level: u8,
    /// m.
    pub m: f64,
    /// u.
    pub u: f64,
    /// Pairs observed at this level.
    pub pairs: u64,
    /// Expected matching pairs at this level (last E-step).
    pub m_count: f64,
    /// Expected non-matching pairs at this level (last E-step).
    pub u_count: f64,
}

/// One field's estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEstimate {
    /// False when the field was fixed or missing in every pair.
    pub estimated: bool,
    /// Per level.
    pub levels: Vec<LevelEstimate>,
}

/// How an EM fit went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmReport {
    /// Fixed u or ECM.
    pub mode: EmMode,
    /// M-steps run.
    pub iterations: usize,
    /// Whether the largest change fell below the tolerance.
    pub converged: bool,
    /// Log-likelihood (natural log) of the pairs at the final parameters.
    pub log_likelihood: f64,
    /// Final λ.
    pub lambda: f64,
    /// Pairs.
    pub pairs: usize,
    /// Distinct patterns.
    pub patterns: usize,
    /// Per field.
    pub fields: Vec<FieldEstimate>,
    /// Parameters after each iteration.
    pub history: Vec<IterationTrace>,
}

/// How a supervised fit went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupervisedReport {
    /// Labelled pairs.
    pub pairs: usize,
    /// Matches among them.
    pub matches: usize,
    /// Smoothing per level.
    pub smoothing: f64,
    /// Matching pairs per field per level.
    pub m_counts: Vec<Vec<f64>>,
    /// Non-matching pairs per field per level.
    pub u_counts: Vec<Vec<f64>>,
}

/// A fitted (or published) Fellegi–Sunter model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FellegiSunter {
    lambda: f64,
    m: Probabilities,
    u: Probabilities,
    weights: Vec<Vec<f64>>,
    tf_levels: Vec<Option<u8>>,
    tf_floor: f64,
}

/// One field's part of a pair's match weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldWeight {
    /// The level, None when missing.
    pub level: Option<u8>,
    /// m at the level (1 when missing).
    pub m: f64,
    /// u at the level (1 when missing).
    pub u: f64,
    /// log2(m / u), 0 when missing.
    pub weight: f64,
}

/// A pair's match weight, explained: `prior + Σ fields.weight = total`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// log2(λ / (1 − λ)).
    pub prior: f64,
    /// Per field.
    pub fields: Vec<FieldWeight>,
    /// The match weight.
    pub total: f64,
    /// The match probability.
    pub probability: f64,
}

impl FellegiSunter {
    /// A model from λ, m and u (published values or a fit). m and u must have the same
    /// levels; m may hold values that do not sum to one (a fit's untrained levels), but
    /// each must be in (0, 1].
    pub fn new(lambda: f64, m: Probabilities, u: Probabilities) -> Result<Self> {
        if !(lambda > 0.0 && lambda < 1.0) {
            return Err(Error::option("lambda", lambda, "a probability in (0, 1)"));
        }
        if m.levels() != u.levels() {
            return Err(Error::option(
                "m",
                format!("{:?} levels", m.levels()),
                format!("u's levels {:?}", u.levels()),
            ));
        }
        for (name, p) in [("m", &m), ("u", &u)] {
            for (f, v) in p.values.iter().enumerate() {
                for (l, &x) in v.iter().enumerate() {
                    if !(x > 0.0 && x <= 1.0) {
                        return Err(Error::bad_value(
                            name,
                            f,
                            format!("level {l}"),
                            x,
                            "a probability in (0, 1]",
                        ));
                    }
                }
            }
        }
        let weights = m
            .values
            .iter()
            .zip(&u.values)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x / y).log2()).collect())
            .collect();
        let n = m.values.len();
        Ok(FellegiSunter {
            lambda,
            m,
            u,
            weights,
            tf_levels: vec![Some(0); n],
            tf_floor: 0.0,
        })
    }

    /// λ.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }
    /// m per field per level.
    pub fn m(&self) -> &Probabilities {
        &self.m
    }
    /// u per field per level.
    pub fn u(&self) -> &Probabilities {
        &self.u
    }
    /// Level counts per field.
    pub fn levels(&self) -> Vec<u8> {
        self.m.levels()
    }

    /// The level per field where term-frequency adjustment applies (default: level 0,
    /// the exact level, for every field; None = no adjustment for that field).
    pub fn with_tf_levels(mut self, levels: Vec<Option<u8>>) -> Result<Self> {
        Error::check_len("tf levels", levels.len(), self.weights.len(), "fields")?;
        self.tf_levels = levels;
        Ok(self)
    }

    /// The smallest term frequency used (splink's `tf_minimum_u_value`, default 0):
    /// frequencies below it are raised to it, which caps the adjustment of rare values.
    pub fn with_tf_floor(mut self, floor: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&floor) {
            return Err(Error::option("tf_floor", floor, "a number in [0, 1)"));
        }
        self.tf_floor = floor;
        Ok(self)
    }

    /// The prior weight log2(λ / (1 − λ)).
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    fn field_weight(&self, f: usize, g: u8) -> f64 {
        self.weights
            .get(f)
            .and_then(|w| w.get(g as usize))
            .copied()
            .unwrap_or(0.0)
    }

    /// Match weight: log2(λ/(1−λ)) + Σ log2(m/u) over the non-missing fields. Missing
    /// levels (and, defensively, any level outside the model) contribute 0; fields past
    /// the model's count are ignored. Fields are summed in order, so the bits do not
    /// depend on the caller.
    pub fn match_weight(&self, row: &[u8]) -> f64 {
        let mut w = self.prior_weight();
        for (f, &g) in row.iter().enumerate() {
            w += self.field_weight(f, g);
        }
        w
    }

    /// Match probability 2^w / (1 + 2^w), computed without overflow.
    pub fn probability(&self, row: &[u8]) -> f64 {
        weight_to_probability(self.match_weight(row))
    }

    /// Match weight with splink's term-frequency adjustment: where field f is at its tf
    /// level and `tf[f]` is given, the field's weight is log2(m / tf) instead of
    /// log2(m / u), i.e. the adjustment log2(u / tf) is added: positive for a value rarer
    /// than the level's average (tf < u), negative for a common one. tf is clamped to
    /// `[tf_floor, 1]`, and a tf of 0 (with floor 0) or a non-finite tf is ignored.
    pub fn match_weight_tf(&self, row: &[u8], tf: &[Option<f64>]) -> f64 {
        let mut w = self.prior_weight();
        for (f, &g) in row.iter().enumerate() {
            w += self.field_weight(f, g);
            if g != MISSING_LEVEL && self.tf_levels.get(f).copied().flatten() == Some(g) {
                if let Some(Some(t)) = tf.get(f) {
                    let t = t.clamp(self.tf_floor, 1.0);
                    if t > 0.0 && t.is_finite() {
                        w += (self.u.get(f, g) / t).log2();
                    }
                }
            }
        }
        w
    }

    /// Per-field levels, m, u and weights of a pair.
    pub fn explain(&self, row: &[u8]) -> Explanation {
        let prior = self.prior_weight();
        let mut total = prior;
        let fields = row
            .iter()
            .enumerate()
            .map(|(f, &g)| {
                let inside = self.m.values.get(f).is_some_and(|v| (g as usize) < v.len());
                if inside {
                    let w = self.weights[f][g as usize];
                    total += w;
                    FieldWeight {
                        level: Some(g),
                        m: self.m.get(f, g),
                        u: self.u.get(f, g),
                        weight: w,
                    }
                } else {
                    FieldWeight {
                        level: None,
                        m: 1.0,
                        u: 1.0,
                        weight: 0.0,
                    }
                }
            })
            .collect();
        Explanation {
            prior,
            fields,
            total,
            probability: weight_to_probability(total),
        }
    }

    /// [`Self::explain`] with the term-frequency adjustment of
    /// [`Self::match_weight_tf`]: where a field is at its tf level with a term frequency
    /// given, its `u` is that frequency (clamped as there) and its weight log2(m / tf);
    /// `total` equals [`Self::match_weight_tf`].
    pub fn explain_tf(&self, row: &[u8], tf: &[Option<f64>]) -> Explanation {
        let mut e = self.explain(row);
        let mut total = e.prior;
        for (f, (fw, &g)) in e.fields.iter_mut().zip(row).enumerate() {
            if fw.level.is_some() && self.tf_levels.get(f).copied().flatten() == Some(g) {
                if let Some(Some(t)) = tf.get(f) {
                    let t = t.clamp(self.tf_floor, 1.0);
                    if t > 0.0 && t.is_finite() {
                        fw.weight += (self.u.get(f, g) / t).log2();
                        fw.u = t;
                    }
                }
            }
            total += fw.weight;
        }
        e.total = total;
        e.probability = weight_to_probability(total);
        e
    }

    fn check(&self, vectors: &ComparisonVectors) -> Result<()> {
        let lv = self.levels();
        if vectors.levels() != lv.as_slice() {
            return Err(Error::option(
                "comparison vectors",
                format!("{:?} levels", vectors.levels()),
                format!("the model's levels {lv:?}"),
            ));
        }
        Ok(())
    }

    /// Match weights of every pair, in parallel (each pair summed alone in field order:
    /// the same bits for any thread count).
    pub fn score_weights(&self, vectors: &ComparisonVectors) -> Result<Vec<f64>> {
        self.check(vectors)?;
        let f = vectors.fields();
        let mut out = vec![0.0; vectors.len()];
        out.par_chunks_mut(4096)
            .zip(vectors.data.par_chunks(4096 * f))
            .for_each(|(o, d)| {
                for (x, r) in o.iter_mut().zip(d.chunks_exact(f)) {
                    *x = self.match_weight(r);
                }
            });
        Ok(out)
    }

    /// Match probabilities of every pair, in parallel (same bits for any thread count).
    pub fn score(&self, vectors: &ComparisonVectors) -> Result<Vec<f64>> {
        let mut w = self.score_weights(vectors)?;
        w.par_iter_mut()
            .for_each(|x| *x = weight_to_probability(*x));
        Ok(w)
    }
}

/// 2^w / (1 + 2^w) without overflow for large |w|.
pub fn weight_to_probability(w: f64) -> f64 {
    if w >= 0.0 {
        1.0 / (1.0 + (-w).exp2())
    } else {
        let e = w.exp2();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_rejects_level_out_of_range() {
        let mut v = ComparisonVectors::new(vec![3, 2]).unwrap();
        v.push(&[2, 255]).unwrap();
        match v.push(&[0, 2]) {
            Err(Error::BadValue {
                row, field, value, ..
            }) => {
                assert_eq!((row, field.as_str(), value.as_str()), (1, "field 1", "2"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn patterns_are_grouped_in_order() {
        let v =
            ComparisonVectors::from_rows(vec![2, 3], [[1u8, 0], [0, 255], [1, 0], [0, 2]]).unwrap();
        let p = v.patterns();
        assert_eq!(p.counts, vec![1, 1, 2]);
        assert_eq!(p.row(0), &[0, 2]);
        assert_eq!(p.row(1), &[0, 255]);
        assert_eq!(p.row(2), &[1, 0]);
    }
}

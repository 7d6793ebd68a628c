//! The whole resolution: normalise → block → compare → estimate (u from random pairs, m
//! and λ by EM) → score → cluster → golden records → the id map, for one table
//! (deduplication) or two (linking), and new batches matched against what was resolved.

use std::collections::{BTreeMap, HashMap};

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::blocking::{BlockingOptions, BlockingReport, BlockingRule};
use super::cluster::{golden_records, ClusterOptions, GoldenField, Survivorship};
use super::compare::{Comparison, MISSING};
use super::fellegi_sunter::{
    estimate_u_or, weight_to_probability, ComparisonVectors, EmReport, Explanation, FellegiSunter,
    FellegiSunterOptions, Probabilities, SupervisedReport, LAMBDA_FLOOR, MISSING_LEVEL,
};
use super::normalize::NormalizedColumn;
use crate::data::{CustomerRecords, FieldKind, IdMap};
use crate::error::{Error, Result};
use crate::numerics::Fitted;

/// The most random pairs for u (1e8 pairs of seven fields hold 700 MB of levels).
const MAX_RANDOM_PAIRS: usize = 100_000_000;

/// Pairs compared per parallel task: large enough to amortise the task, small enough
/// to balance two to sixteen threads.
const CHUNK: usize = 1 << 14;

/// Where the u probabilities (agreement among non-matches) come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UFrom {
    /// Counted over random pairs of records (nearly all non-matches) and held fixed; m
    /// estimated by EM once per blocking rule on that rule's candidate pairs, the rule's
    /// fields left out; λ the share of matches among all pairs: splink's way (see
    /// [`EmEstimation`]).
    RandomPairs,
    /// Started from random pairs, then estimated by EM on the candidate pairs with λ and
    /// m: recordlinkage's ECM. Among candidate pairs the non-matches agree on the
    /// blocking keys far more often than random pairs do; estimating u there measures it.
    Em,
}

/// Labelled record pairs for the supervised option: m, u and λ counted instead of
/// estimated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledPair {
    /// Record index (in deduplication) or left record index (in linking).
    pub left: u32,
    /// Record index (in deduplication) or right record index (in linking).
    pub right: u32,
    /// Whether the two records are the same customer.
    pub is_match: bool,
}

/// Settings of a resolution.
///
/// Defaults: the comparison of each field's kind ([`Comparison::default_for`]),
/// automatic blocking, u from 1,000,000 random pairs, m by one EM session per blocking
/// rule and λ over all pairs ([`UFrom::RandomPairs`]), term-frequency adjustment on name, postcode, e-mail and id fields, a
/// match at probability ≥ 0.5 with no anti-chaining threshold, golden values by
/// [`Survivorship::MostFrequent`], seed 0.
///
/// ```
/// use acrm::data::{CustomerRecordRow, CustomerRecords, FieldKind, FieldSpec};
/// use acrm::identity::ResolveOptions;
/// let fields = vec![
///     FieldSpec::new("name", FieldKind::Name),
///     FieldSpec::new("dob", FieldKind::Date),
///     FieldSpec::new("email", FieldKind::Email),
/// ];
/// let people = [
///     ("Ann Lee", "1980-02-01", "ann@lee.org"), ("Bob Ray", "1975-07-30", "bob@ray.net"),
///     ("Cy Young", "1990-11-11", "cy@young.com"), ("Di Ross", "1966-03-12", "di@ross.biz"),
/// ];
/// let mut rows = Vec::new();
/// for (k, (n, d, e)) in people.iter().enumerate() {
///     for s in ["dealer", "web"] {
///         rows.push(CustomerRecordRow {
///             source: s.into(), id: format!("{s}{k}"),
///             values: vec![n.to_string(), d.to_string(), e.to_string()], updated: None,
///         });
///     }
/// }
/// let records = CustomerRecords::new(fields, rows)?;
/// let r = ResolveOptions::new().compute(&records)?;
/// assert_eq!(r.report.clusters, 4);
/// assert_eq!(r.golden_id(0), r.golden_id(1));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveOptions {
    blocking: BlockingOptions,
    em: FellegiSunterOptions,
    comparisons: BTreeMap<String, Comparison>,
    tf: Option<Vec<String>>,
    threshold: f64,
    strict: Option<f64>,
    random_pairs: usize,
    u_from: UFrom,
    survivorship: BTreeMap<String, Survivorship>,
    default_survivorship: Survivorship,
    labels: Option<Vec<LabelledPair>>,
    seed: u64,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            blocking: BlockingOptions::default(),
            em: FellegiSunterOptions::default(),
            comparisons: BTreeMap::new(),
            tf: None,
            threshold: 0.5,
            strict: None,
            random_pairs: 1_000_000,
            u_from: UFrom::RandomPairs,
            survivorship: BTreeMap::new(),
            default_survivorship: Survivorship::MostFrequent,
            labels: None,
            seed: 0,
        }
    }
}

impl ResolveOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocking rules and limits (default: rules chosen from the data).
    pub fn blocking(mut self, b: BlockingOptions) -> Self {
        self.blocking = b;
        self
    }

    /// EM settings (iterations, tolerance, starting λ; the supervised smoothing).
    pub fn em(mut self, em: FellegiSunterOptions) -> Self {
        self.em = em;
        self
    }

    /// Compares field `field` by `comparison` instead of its kind's default.
    pub fn comparison(mut self, field: &str, comparison: Comparison) -> Self {
        self.comparisons.insert(field.to_string(), comparison);
        self
    }

    /// The fields whose exact agreement is weighed by how common the shared value is
    /// (default: name, postcode, e-mail and id fields).
    pub fn term_frequency_fields(mut self, fields: Vec<String>) -> Self {
        self.tf = Some(fields);
        self
    }

    /// The match probability at or above which a pair is a match (default 0.5).
    pub fn threshold(mut self, p: f64) -> Self {
        self.threshold = p;
        self
    }

    /// Resists chaining: two groups of matched records join only if no compared pair
    /// between them has a probability below `p` (default: none, plain connected
    /// components).
    pub fn strict(mut self, p: Option<f64>) -> Self {
        self.strict = p;
        self
    }

    /// At most this many random pairs estimate u: all pairs among a random sample of
    /// records, 1,414 records for the default 1,000,000 (all pairs when fewer exist).
    pub fn random_pairs(mut self, n: usize) -> Self {
        self.random_pairs = n;
        self
    }

    /// Where u comes from (default [`UFrom::RandomPairs`]).
    pub fn u_from(mut self, u: UFrom) -> Self {
        self.u_from = u;
        self
    }

    /// How field `field`'s golden value is chosen (default [`Survivorship::MostFrequent`]).
    pub fn survivorship(mut self, field: &str, rule: Survivorship) -> Self {
        self.survivorship.insert(field.to_string(), rule);
        self
    }

    /// The rule for fields without their own (default [`Survivorship::MostFrequent`]).
    pub fn default_survivorship(mut self, rule: Survivorship) -> Self {
        self.default_survivorship = rule;
        self
    }

    /// Estimates m, u and λ from labelled pairs instead of EM.
    pub fn labels(mut self, labels: Vec<LabelledPair>) -> Self {
        self.labels = Some(labels);
        self
    }

    /// Seed of the random pairs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the settings this type owns (blocking and EM settings are checked when they
    /// run, against the records' fields).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the setting: a threshold or strict threshold
    /// outside [0, 1], no random pairs, an empty set of labels.
    pub fn validate(&self) -> Result<()> {
        let prob = |name: &'static str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::option(name, p, "a probability in [0, 1]"))
            }
        };
        prob("threshold", self.threshold)?;
        if let Some(s) = self.strict {
            prob("strict", s)?;
        }
        if self.random_pairs == 0 || self.random_pairs > MAX_RANDOM_PAIRS {
            return Err(Error::option(
                "random_pairs",
                self.random_pairs,
                "from 1 to 100,000,000 pairs",
            ));
        }
        if self.labels.as_ref().is_some_and(|l| l.is_empty()) {
            return Err(Error::option("labels", "[]", "at least one labelled pair"));
        }
        Ok(())
    }

    /// Deduplicates one table of records (from one or several sources).
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::EmptyInput`] for fewer than two records;
    /// [`Error::InvalidOption`] for a comparison, survivorship or term-frequency setting
    /// naming a field the records do not have, and for labels naming a record past the
    /// end; what blocking, estimation and survivorship report (no candidate pairs, a field
    /// that can not be estimated, [`Survivorship::MostRecent`] without update times).
    pub fn compute(&self, records: &CustomerRecords) -> Result<Resolution> {
        self.run(records.clone(), None)
    }

    /// Links two tables, each without duplicates of its own: only pairs of a `left` and a
    /// `right` record are compared. Record indices of the result run over `left` then
    /// `right` (record `i` of `right` is `left.len() + i`); [`MatchedPair`]s give the
    /// right record's own index.
    ///
    /// # Errors
    /// As [`compute`](Self::compute); [`Error::InvalidOption`] when the two tables have
    /// different fields; [`Error::Row`] when an id of one source occurs on both sides.
    pub fn compute_link(
        &self,
        left: &CustomerRecords,
        right: &CustomerRecords,
    ) -> Result<Resolution> {
        let mut all = left.clone();
        all.append(right)?;
        self.run(all, Some(left.len()))
    }

    /// splink's way of estimating m when u comes from random pairs: one EM session per
    /// blocking rule, on the candidate pairs that rule selects, with the rule's fields
    /// left out. Among those pairs every non-match agrees on the rule's fields, so
    /// counting those fields would break the model's independence and EM would call
    /// every candidate a match; the other fields' agreement among non-matches is as among
    /// random pairs, so their u holds. A field's m combines the sessions that estimated
    /// it ([`robust_mean`]); a field in every rule is estimated last on all candidates with the
    /// others fixed. λ is then the share of matches among all pairs (not candidates):
    /// the fixed point of λ = Σ posterior / all pairs over the candidates, the pairs
    /// blocking left out counting as non-matches.
    fn sessions(
        &self,
        names: &[String],
        rules: &[BlockingRule],
        masks: &[u64],
        vectors: &ComparisonVectors,
        u: &Probabilities,
        all_pairs: f64,
    ) -> Result<(FellegiSunter, EmEstimation)> {
        let levels = vectors.levels().to_vec();
        let nf = levels.len();
        if let Some(m) = self.em.starting_m() {
            let shape: Vec<usize> = m.values.iter().map(Vec::len).collect();
            if shape != levels.iter().map(|&l| l as usize).collect::<Vec<_>>() {
                return Err(Error::option(
                    "initial_m",
                    format!("{shape:?} levels"),
                    format!("the comparisons' levels {levels:?}"),
                ));
            }
        }
        if let Some(&f) = self.em.fixed().iter().find(|&&f| f >= nf) {
            return Err(Error::option(
                "fixed_fields",
                f,
                format!("a field below {nf}"),
            ));
        }
        let initial_m = self
            .em
            .starting_m()
            .cloned()
            .unwrap_or_else(|| Probabilities::default_m(&levels));
        // Each field's m from each session that estimated it.
        let mut per_field: Vec<Vec<Vec<f64>>> = vec![Vec::new(); nf];
        let mut sessions = Vec::with_capacity(rules.len());
        for (r, rule) in rules.iter().enumerate() {
            let label = rule.label(names);
            let mut blocked: Vec<usize> = rule.keys().iter().map(|k| k.field()).collect();
            blocked.sort_unstable();
            blocked.dedup();
            let free: Vec<usize> = (0..nf).filter(|f| !blocked.contains(f)).collect();
            let bit = 1u64.checked_shl(r as u32).unwrap_or(0);
            let rows: Vec<usize> = masks
                .iter()
                .enumerate()
                .filter(|(_, &m)| m & bit != 0)
                .map(|(k, _)| k)
                .collect();
            let mut session = Session {
                rule: label,
                pairs: rows.len(),
                estimated: Vec::new(),
                em: None,
            };
            if free.is_empty() || rows.len() < 2 {
                sessions.push(session);
                continue;
            }
            let mut data = Vec::with_capacity(rows.len() * free.len());
            for &k in &rows {
                let row = vectors.row(k);
                data.extend(free.iter().map(|&f| row[f]));
            }
            let sub =
                ComparisonVectors::from_data(free.iter().map(|&f| levels[f]).collect(), data)?;
            let fixed: Vec<usize> = free
                .iter()
                .enumerate()
                .filter(|(_, f)| self.em.fixed().contains(f))
                .map(|(k, _)| k)
                .collect();
            let fit = match self
                .em
                .clone()
                .initial_m(project(&initial_m, &free))
                .fixed_fields(fixed)
                .fit(&sub, Some(&project(u, &free)))
            {
                Ok(fit) => fit,
                // The rule's pairs miss every other field: nothing to learn from them.
                Err(Error::Degenerate { .. }) => {
                    sessions.push(session);
                    continue;
                }
                Err(e) => return Err(e),
            };
            for (k, &f) in free.iter().enumerate() {
                if fit.report.fields[k].estimated {
                    per_field[f].push(fit.model.m().values[k].clone());
                    session.estimated.push(names[f].clone());
                }
            }
            session.em = Some(fit.report);
            sessions.push(session);
        }
        let mut m = initial_m.clone();
        for (f, estimates) in per_field.iter().enumerate() {
            if !estimates.is_empty() {
                m.values[f] = robust_mean(estimates);
            }
        }
        let rest: Vec<usize> = (0..nf)
            .filter(|&f| per_field[f].is_empty() && !self.em.fixed().contains(&f))
            .collect();
        let last = if rest.is_empty() {
            None
        } else {
            let fixed = (0..nf).filter(|f| !rest.contains(f)).collect();
            let fit = self
                .em
                .clone()
                .initial_m(m.clone())
                .fixed_fields(fixed)
                .fit(vectors, Some(u))?;
            // A field missing in every candidate keeps its starting m (never used).
            for &f in &rest {
                m.values[f] = fit.model.m().values[f].clone();
            }
            Some(fit.report)
        };
        let (lambda, lambda_iterations) = global_lambda(vectors, &m, u, all_pairs);
        let model = FellegiSunter::new(lambda, m, u.clone())?;
        Ok((
            model,
            EmEstimation {
                random_pairs: 0,
                u_from_candidates: Vec::new(),
                sessions,
                all_candidates: last,
                all_candidates_fields: rest.iter().map(|&f| names[f].clone()).collect(),
                lambda,
                lambda_iterations,
            },
        ))
    }

    fn check_fields(&self, records: &CustomerRecords) -> Result<()> {
        let fields = records.fields();
        for name in self
            .comparisons
            .keys()
            .chain(self.survivorship.keys())
            .chain(self.tf.iter().flatten())
        {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(Error::option(
                    "field",
                    name,
                    format!(
                        "one of the records' fields: {}",
                        fields
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        for (name, c) in &self.comparisons {
            let kind = fields.iter().find(|f| &f.name == name).map(|f| f.kind);
            if kind != Some(c.kind()) {
                return Err(Error::option(
                    "comparison",
                    format!("a {} comparison for field `{name}`", c.kind()),
                    format!("the field's kind ({})", kind.map_or("?", |k| k.name())),
                ));
            }
        }
        Ok(())
    }

    fn run(&self, records: CustomerRecords, split: Option<usize>) -> Result<Resolution> {
        self.validate()?;
        if records.len() < 2 || split.is_some_and(|s| s == 0 || s == records.len()) {
            return Err(Error::EmptyInput);
        }
        if records.len() > u32::MAX as usize {
            return Err(Error::option(
                "records",
                records.len(),
                "at most 4,294,967,295 records",
            ));
        }
        self.check_fields(&records)?;
        let fields = records.fields();
        let comparisons: Vec<Comparison> = fields
            .iter()
            .map(|f| {
                self.comparisons
                    .get(&f.name)
                    .cloned()
                    .unwrap_or_else(|| Comparison::default_for(f.kind))
            })
            .collect();
        let tf: Vec<bool> = fields
            .iter()
            .map(|f| match &self.tf {
                Some(names) => names.contains(&f.name),
                None => matches!(
                    f.kind,
                    FieldKind::Name | FieldKind::Postcode | FieldKind::Email | FieldKind::Id
                ),
            })
            .collect();
        let columns = normalise(&records);
        let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
        let shared = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.kind, FieldKind::Postcode | FieldKind::Address))
            .map(|(k, _)| k)
            .collect();
        let mut blocking_options = self.blocking.clone().field_names(names);
        if !blocking_options.has_shared_fields() {
            blocking_options = blocking_options.shared_fields(shared);
        }
        let keys: Vec<&[Option<Box<str>>]> = columns.iter().map(|c| &c.values[..]).collect();
        let blocking = match split {
            None => blocking_options.compute(&keys, None)?,
            Some(s) => {
                let left: Vec<_> = keys.iter().map(|k| &k[..s]).collect();
                let right: Vec<_> = keys.iter().map(|k| &k[s..]).collect();
                let mut b = blocking_options.compute_link(&left, &right, None)?;
                for p in &mut b.pairs {
                    p.1 += s as u32;
                }
                b
            }
        };
        if blocking.pairs.is_empty() {
            return Err(Error::Degenerate {
                input: "blocking".into(),
                reason: "no candidate pairs: the blocking rules pair no two records".into(),
            });
        }
        let engine = Engine {
            columns: &columns,
            comparisons: &comparisons,
            tf: &tf,
        };
        let vectors = engine.vectors(&blocking.pairs)?;
        let tf_levels: Vec<Option<u8>> = comparisons
            .iter()
            .zip(&tf)
            .map(|(c, &on)| if on { c.tf_level() } else { None })
            .collect();
        let model = match &self.labels {
            Some(labels) => {
                let n = records.len() as u64;
                let mut lpairs = Vec::with_capacity(labels.len());
                let mut flags = Vec::with_capacity(labels.len());
                for (k, l) in labels.iter().enumerate() {
                    let (a, b) = match split {
                        Some(s) => (u64::from(l.left), u64::from(l.right) + s as u64),
                        None => (u64::from(l.left), u64::from(l.right)),
                    };
                    let left_ok = split.map_or(true, |s| a < s as u64);
                    if a >= n || b >= n || a == b || !left_ok {
                        return Err(Error::bad_value(
                            "labels",
                            k,
                            "left, right",
                            format!("({}, {})", l.left, l.right),
                            "two different records of the input (left then right when linking)",
                        ));
                    }
                    lpairs.push((a.min(b) as u32, a.max(b) as u32));
                    flags.push(l.is_match);
                }
                let labelled = engine.vectors(&lpairs)?;
                let f = self.em.fit_supervised(&labelled, &flags)?;
                Fitted {
                    model: f.model.with_tf_levels(tf_levels)?,
                    report: Estimation::Supervised(f.report),
                }
            }
            None => {
                let random = engine.vectors_by_value(&random_pairs(
                    records.len(),
                    split,
                    self.random_pairs,
                    self.seed,
                ))?;
                let estimate = estimate_u_or(&random, &vectors)?;
                let u = estimate.u;
                let u_from_candidates = estimate
                    .fallback_fields
                    .iter()
                    .map(|&f| fields[f].name.clone())
                    .collect();
                let all_pairs = match split {
                    Some(s) => s as f64 * (records.len() - s) as f64,
                    None => records.len() as f64 * (records.len() as f64 - 1.0) / 2.0,
                };
                match self.u_from {
                    UFrom::RandomPairs => {
                        let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
                        let e = self.sessions(
                            &names,
                            &blocking.rules,
                            &blocking.rule_masks,
                            &vectors,
                            &u,
                            all_pairs,
                        )?;
                        let (model, mut report) = e;
                        report.random_pairs = random.len();
                        report.u_from_candidates = u_from_candidates;
                        Fitted {
                            model: model.with_tf_levels(tf_levels)?,
                            report: Estimation::Em(report),
                        }
                    }
                    UFrom::Em => {
                        let f = self.em.clone().initial_u(u).fit(&vectors, None)?;
                        Fitted {
                            model: f.model.with_tf_levels(tf_levels)?,
                            report: Estimation::Ecm(f.report),
                        }
                    }
                }
            }
        };
        let (weights, probabilities) = engine.score(&model.model, &blocking.pairs, &vectors);
        let mut resolution = Resolution {
            report: ResolveReport::default(),
            fields: Vec::new(),
            blocking: blocking.report,
            model,
            clusters: Vec::new(),
            golden: Vec::new(),
            state: Some(State {
                records,
                split,
                columns,
                comparisons,
                tf,
                options: self.clone(),
                rules: blocking.rules,
                pairs: blocking.pairs,
                weights,
                probabilities,
            }),
        };
        resolution.finish()?;
        Ok(resolution)
    }
}

/// Every field of the records normalised by its kind.
fn normalise(records: &CustomerRecords) -> Vec<NormalizedColumn> {
    records
        .fields()
        .iter()
        .enumerate()
        .map(|(f, spec)| NormalizedColumn::new(spec.kind, records.column(f)))
        .collect()
}

/// At most `n` pairs for estimating u: every pair among a random sample of records (cross
/// pairs among a sample of each side when linking), as splink samples; all pairs when
/// there are no more than `n`. Pairs within one sample keep the comparisons among a few
/// thousand records, whose values stay in the processor's cache, where `n` independent
/// pairs would each fetch two records from anywhere in the table (three times slower at
/// 100,000 records); each pair is still a uniform draw of two records.
fn random_pairs(len: usize, split: Option<usize>, n: usize, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut pick = |from: usize, to: usize, m: usize| -> Vec<u32> {
        let mut v: Vec<u32> = rand::seq::index::sample(&mut rng, to - from, m.min(to - from))
            .into_iter()
            .map(|k| (from + k) as u32)
            .collect();
        v.sort_unstable();
        v
    };
    match split {
        None => {
            // The largest m with m(m − 1)/2 ≤ n.
            let m = ((1.0 + (1.0 + 8.0 * n as f64).sqrt()) / 2.0).floor() as usize;
            let sample = pick(0, len, m.max(2));
            let mut out = Vec::with_capacity(sample.len() * (sample.len() - 1) / 2);
            for (a, &i) in sample.iter().enumerate() {
                out.extend(sample[a + 1..].iter().map(|&j| (i, j)));
            }
            out
        }
        Some(s) => {
            let (nl, nr) = (s, len - s);
            // Samples of each side with ml · mr ≤ n, the smaller side whole if it fits.
            let root = (n as f64).sqrt().floor() as usize;
            let (ml, mr) = if nl.min(nr) <= root {
                if nl <= nr {
                    (nl, (n / nl).max(1))
                } else {
                    ((n / nr).max(1), nr)
                }
            } else {
                (root.max(1), root.max(1))
            };
            let left = pick(0, s, ml);
            let right = pick(s, len, mr);
            let mut out = Vec::with_capacity(left.len() * right.len());
            for &i in &left {
                out.extend(right.iter().map(|&j| (i, j)));
            }
            out
        }
    }
}

/// One field's m from several sessions: the mean of two, the per-level median of three
/// or more, rescaled to the sessions' mean total. A session is off when its rule's
/// fields go with another field among non-matches (family members share a postcode and
/// an address, so blocking on the postcode collects households, which EM then takes for
/// matches); the median leaves one such session out where the mean would carry it.
fn robust_mean(estimates: &[Vec<f64>]) -> Vec<f64> {
    let k = estimates.len() as f64;
    let levels = estimates[0].len();
    if estimates.len() <= 2 {
        return (0..levels)
            .map(|l| estimates.iter().map(|e| e[l]).sum::<f64>() / k)
            .collect();
    }
    let median: Vec<f64> = (0..levels)
        .map(|l| {
            let mut v: Vec<f64> = estimates.iter().map(|e| e[l]).collect();
            v.sort_unstable_by(f64::total_cmp);
            let h = v.len() / 2;
            if v.len() % 2 == 1 {
                v[h]
            } else {
                (v[h - 1] + v[h]) / 2.0
            }
        })
        .collect();
    let total = estimates.iter().map(|e| e.iter().sum::<f64>()).sum::<f64>() / k;
    let s: f64 = median.iter().sum();
    if s <= 0.0 {
        return median;
    }
    // m holds probabilities in (0, 1]; a rescaled level above 1 would not be one.
    median.iter().map(|x| (x * total / s).min(1.0)).collect()
}

/// The probabilities of `fields` only.
fn project(p: &Probabilities, fields: &[usize]) -> Probabilities {
    Probabilities {
        values: fields.iter().map(|&f| p.values[f].clone()).collect(),
    }
}

/// λ over all pairs: the fixed point of λ = Σ_c P(match | γ_c, λ) / all pairs over the
/// candidate pairs c, with m and u held (EM for λ alone, the pairs outside the candidates
/// taken as non-matches). Iterated on the distinct patterns until λ moves by less than
/// 1e-10 of itself.
fn global_lambda(
    vectors: &ComparisonVectors,
    m: &Probabilities,
    u: &Probabilities,
    all_pairs: f64,
) -> (f64, usize) {
    let pats = vectors.patterns();
    let log_bf: Vec<f64> = (0..pats.len())
        .map(|p| {
            pats.row(p)
                .iter()
                .enumerate()
                .filter(|(_, &g)| g != MISSING_LEVEL)
                .map(|(f, &g)| (m.get(f, g) / u.get(f, g)).ln())
                .sum()
        })
        .collect();
    let mut lambda = (vectors.len() as f64 / all_pairs / 2.0).clamp(LAMBDA_FLOOR, 0.5);
    let mut iterations = 0;
    for it in 1..=10_000 {
        iterations = it;
        let logit = (lambda / (1.0 - lambda)).ln();
        let expected: f64 = log_bf
            .iter()
            .zip(&pats.counts)
            .map(|(&b, &c)| c as f64 * crate::numerics::sigmoid(logit + b))
            .sum();
        let next = (expected / all_pairs).clamp(LAMBDA_FLOOR, 1.0 - LAMBDA_FLOOR);
        let done = (next - lambda).abs() <= 1e-10 * lambda;
        lambda = next;
        if done {
            break;
        }
    }
    (lambda, iterations)
}

/// The prepared columns and their comparisons: what turns a pair into levels and
/// weights.
struct Engine<'a> {
    columns: &'a [NormalizedColumn],
    comparisons: &'a [Comparison],
    tf: &'a [bool],
}

impl Engine<'_> {
    fn levels(&self, i: usize, j: usize, out: &mut Vec<u8>) {
        for (c, col) in self.comparisons.iter().zip(self.columns) {
            out.push(c.level(col, i, col, j));
        }
    }

    /// The comparison vectors of `pairs`, in their order.
    fn vectors(&self, pairs: &[(u32, u32)]) -> Result<ComparisonVectors> {
        let f = self.columns.len();
        let data: Vec<u8> = pairs
            .par_chunks(CHUNK)
            .flat_map_iter(|chunk| {
                let mut out = Vec::with_capacity(chunk.len() * f);
                for &(i, j) in chunk {
                    self.levels(i as usize, j as usize, &mut out);
                }
                out
            })
            .collect();
        ComparisonVectors::from_data(
            self.comparisons.iter().map(|c| c.levels() as u8).collect(),
            data,
        )
    }

    /// As [`vectors`](Self::vectors), computing each field's level once per pair of
    /// distinct values where that is cheaper: the random pairs for u are all pairs of a
    /// sample of records, in which a first name or a surname takes a few hundred values,
    /// so a table of their levels replaces a million comparisons. A level depends only
    /// on the two normalised values (tokens, nickname, day number are derived from them),
    /// so the table gives the same levels.
    fn vectors_by_value(&self, pairs: &[(u32, u32)]) -> Result<ComparisonVectors> {
        let nf = self.columns.len();
        let mut records: Vec<u32> = pairs.iter().flat_map(|&(i, j)| [i, j]).collect();
        records.sort_unstable();
        records.dedup();
        // Per field: each involved record's value id (None when missing), the
        // representative record of each id, and the level table when it pays.
        // Value ids by position in `records`; u32::MAX = missing.
        let mut ids: Vec<Vec<u32>> = Vec::with_capacity(nf);
        let mut tables: Vec<Option<(usize, Vec<u8>)>> = Vec::with_capacity(nf);
        for (f, col) in self.columns.iter().enumerate() {
            let mut of_value: HashMap<&str, u32> = HashMap::new();
            let mut reps: Vec<usize> = Vec::new();
            let id: Vec<u32> = records
                .iter()
                .map(|&r| match col.value(r as usize) {
                    Some(v) => {
                        let next = reps.len() as u32;
                        let k = *of_value.entry(v).or_insert(next);
                        if k == next {
                            reps.push(r as usize);
                        }
                        k
                    }
                    None => u32::MAX,
                })
                .collect();
            let d = reps.len();
            let table = (d * d < pairs.len() / 2).then(|| {
                let c = &self.comparisons[f];
                let levels: Vec<u8> = (0..d * d)
                    .into_par_iter()
                    .map(|k| c.level(col, reps[k / d], col, reps[k % d]))
                    .collect();
                (d, levels)
            });
            ids.push(id);
            tables.push(table);
        }
        let data: Vec<u8> = pairs
            .par_chunks(CHUNK)
            .flat_map_iter(|chunk| {
                let mut out = Vec::with_capacity(chunk.len() * nf);
                for &(i, j) in chunk {
                    // Both are among `records` (sorted), by construction.
                    let (pi, pj) = (
                        records.partition_point(|&r| r < i),
                        records.partition_point(|&r| r < j),
                    );
                    for f in 0..nf {
                        out.push(match &tables[f] {
                            Some((d, t)) => match (ids[f][pi], ids[f][pj]) {
                                (u32::MAX, _) | (_, u32::MAX) => MISSING,
                                (a, b) => t[a as usize * d + b as usize],
                            },
                            None => self.comparisons[f].level(
                                &self.columns[f],
                                i as usize,
                                &self.columns[f],
                                j as usize,
                            ),
                        });
                    }
                }
                out
            })
            .collect();
        ComparisonVectors::from_data(
            self.comparisons.iter().map(|c| c.levels() as u8).collect(),
            data,
        )
    }

    /// The term frequency of each adjusted field's value of record `i` (the model
    /// applies it only where the pair is at the field's exact level).
    fn term_frequencies(&self, i: usize, out: &mut [Option<f64>]) {
        for ((o, col), &on) in out.iter_mut().zip(self.columns).zip(self.tf) {
            *o = if on { col.term_frequency(i) } else { None };
        }
    }

    /// Match weights and probabilities of `pairs`, with term-frequency adjustment; each
    /// pair alone, so the bits do not depend on the thread count.
    fn score(
        &self,
        model: &FellegiSunter,
        pairs: &[(u32, u32)],
        vectors: &ComparisonVectors,
    ) -> (Vec<f64>, Vec<f64>) {
        let f = self.columns.len();
        pairs
            .par_iter()
            .enumerate()
            .map_init(
                || vec![None; f],
                |tf, (k, &(i, _))| {
                    self.term_frequencies(i as usize, tf);
                    let w = model.match_weight_tf(vectors.row(k), tf);
                    (w, weight_to_probability(w))
                },
            )
            .unzip()
    }
}

/// What a resolution needs to explain a pair and to take a new batch.
#[derive(Debug, Clone)]
struct State {
    records: CustomerRecords,
    split: Option<usize>,
    columns: Vec<NormalizedColumn>,
    comparisons: Vec<Comparison>,
    tf: Vec<bool>,
    options: ResolveOptions,
    rules: Vec<BlockingRule>,
    pairs: Vec<(u32, u32)>,
    weights: Vec<f64>,
    probabilities: Vec<f64>,
}

/// How the model's m, u and λ were estimated, with that estimation's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Estimation {
    /// u from random pairs, m by EM sessions on the blocking rules, λ over all pairs
    /// ([`UFrom::RandomPairs`]).
    Em(EmEstimation),
    /// λ, m and u by EM over the candidate pairs, u starting from random pairs
    /// ([`UFrom::Em`]); λ is then the share of matches among candidates.
    Ecm(EmReport),
    /// Counted on labelled pairs.
    Supervised(SupervisedReport),
}

impl Estimation {
    /// EM iterations, summed over sessions (0 for the supervised option).
    pub fn iterations(&self) -> usize {
        match self {
            Estimation::Em(r) => r
                .sessions
                .iter()
                .filter_map(|s| s.em.as_ref())
                .chain(&r.all_candidates)
                .map(|e| e.iterations)
                .sum(),
            Estimation::Ecm(r) => r.iterations,
            Estimation::Supervised(_) => 0,
        }
    }
}

/// The estimation with u from random pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmEstimation {
    /// Random pairs u was counted on.
    pub random_pairs: usize,
    /// Fields missing in every random pair, whose u are their level shares among the
    /// candidate pairs instead.
    pub u_from_candidates: Vec<String>,
    /// One EM session per blocking rule.
    pub sessions: Vec<Session>,
    /// The fields no session estimated (each is in every rule, or its sessions were
    /// skipped), estimated on all candidate pairs with the other fields fixed.
    pub all_candidates_fields: Vec<String>,
    /// That last EM's report.
    pub all_candidates: Option<EmReport>,
    /// λ: the share of matches among all pairs.
    pub lambda: f64,
    /// Fixed-point iterations of λ.
    pub lambda_iterations: usize,
}

/// One EM session: the candidate pairs of one blocking rule, the rule's fields left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The rule's label.
    pub rule: String,
    /// Candidate pairs the rule produced (none when it was skipped, or past the 64th).
    pub pairs: usize,
    /// The fields whose m this session estimated.
    pub estimated: Vec<String>,
    /// Its EM report (None when skipped: fewer than two pairs, or no field outside the
    /// rule).
    pub em: Option<EmReport>,
}

/// Counts of a resolution (what the `dedupe` example prints).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolveReport {
    /// Records resolved.
    pub records: usize,
    /// Candidate pairs compared.
    pub candidate_pairs: usize,
    /// 1 − candidates / all pairs (cross pairs when linking).
    pub reduction_ratio: f64,
    /// Pairs at or above the threshold.
    pub matches: usize,
    /// Clusters (customers), singletons included.
    pub clusters: usize,
    /// Records in clusters of two or more.
    pub merged_records: usize,
    /// Merges the anti-chaining threshold refused (0 without it).
    pub refused_merges: u64,
    /// EM iterations (0 for the supervised option).
    pub em_iterations: usize,
}

/// One field of the model: its comparison levels with their m and u.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldModel {
    /// The field's name.
    pub name: String,
    /// Its kind.
    pub kind: FieldKind,
    /// Whether exact agreement is weighed by term frequency.
    pub term_frequency: bool,
    /// Its levels, strongest first.
    pub levels: Vec<LevelModel>,
}

/// One comparison level: P(level | match), P(level | non-match) and the weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelModel {
    /// What the level means (`exact`, `jaro_winkler >= 0.92`, `else`).
    pub label: String,
    /// m: P(level | match).
    pub m: f64,
    /// u: P(level | non-match).
    pub u: f64,
    /// log2(m / u).
    pub weight: f64,
}

/// A pair at or above the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedPair {
    /// The first record (the left one when linking).
    pub left: u32,
    /// The second record (the right one's own index when linking).
    pub right: u32,
    /// Match weight (log2 odds, prior and term-frequency adjustment included).
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
}

/// One cluster: its golden id, members and golden values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenRecord {
    /// The id every member's transactions load under: the source id of its first record
    /// (lowest index); written `source:id` when some id occurs in two sources, so that
    /// golden ids never collide.
    pub golden_id: String,
    /// The member records, ascending.
    pub members: Vec<u32>,
    /// The golden value of each field, raw as a member holds it (`None` when every
    /// member misses it).
    pub values: Vec<Option<String>>,
}

/// Precision, recall and F1 of predicted against true items (pairs or clusters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Predicted items that are true.
    pub correct: u64,
    /// Predicted items.
    pub predicted: u64,
    /// True items.
    pub actual: u64,
    /// correct / predicted (0 when nothing is predicted).
    pub precision: f64,
    /// correct / actual (0 when nothing is true).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl Quality {
    fn new(correct: u64, predicted: u64, actual: u64) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(correct, predicted), ratio(correct, actual));
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Quality {
            correct,
            predicted,
            actual,
            precision,
            recall,
            f1,
        }
    }
}

/// A resolution measured against the truth (the true entity of each record).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Matched pairs against true pairs (records of one entity; cross pairs when linking).
    pub pairs: Quality,
    /// Every pair within a cluster against true pairs: what the clusters imply.
    pub cluster_pairs: Quality,
    /// Exact clusters: a cluster (singletons included) is correct when it holds exactly
    /// the records of one entity; predicted = clusters, actual = entities.
    pub clusters: Quality,
    /// Share of true pairs among the candidate pairs (blocking's pair completeness).
    pub pair_completeness: f64,
}

/// The outcome of a resolution: the model and its report, the blocking report, the
/// matched pairs, the clusters and their golden records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resolution {
    /// The counts.
    pub report: ResolveReport,
    /// Per field, the levels with their estimated m and u.
    pub fields: Vec<FieldModel>,
    /// What blocking produced.
    pub blocking: BlockingReport,
    /// The Fellegi–Sunter model with the report of its estimation.
    pub model: Fitted<FellegiSunter, Estimation>,
    /// Each record's cluster (an index into [`golden`](Self::golden)).
    pub clusters: Vec<u32>,
    /// One golden record per cluster, in the order of their first records.
    pub golden: Vec<GoldenRecord>,
    #[serde(skip)]
    state: Option<State>,
}

/// What a batch of new records did to a resolution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchReport {
    /// New records.
    pub records: usize,
    /// Candidate pairs of the new records (with the earlier ones and among themselves).
    pub candidate_pairs: usize,
    /// Of them, matches.
    pub matches: usize,
    /// New records that joined a cluster holding earlier records.
    pub joined_existing: usize,
    /// Clusters made of new records only.
    pub new_clusters: usize,
    /// Earlier clusters merged into another through the new records.
    pub merged_clusters: usize,
}

impl Resolution {
    fn state(&self) -> Result<&State> {
        self.state.as_ref().ok_or_else(|| {
            Error::option(
                "resolution",
                "deserialised",
                "a resolution computed in this process (records and pairs are not serialised)",
            )
        })
    }

    /// The records resolved (both tables, left then right, when linking).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a deserialised resolution.
    pub fn records(&self) -> Result<&CustomerRecords> {
        Ok(&self.state()?.records)
    }

    /// The pairs at or above the threshold, in candidate order (ascending). Empty for a
    /// deserialised resolution.
    pub fn matches(&self) -> Vec<MatchedPair> {
        let Some(s) = &self.state else {
            return Vec::new();
        };
        let t = s.options.threshold;
        let offset = s.split.map_or(0, |x| x as u32);
        s.pairs
            .iter()
            .zip(s.weights.iter().zip(&s.probabilities))
            .filter(|(_, (_, &p))| p >= t)
            .map(|(&(i, j), (&w, &p))| MatchedPair {
                left: i,
                right: j - offset,
                weight: w,
                probability: p,
            })
            .collect()
    }

    /// Every candidate pair, matched or not, with its weight and probability, as
    /// [`matches`](Self::matches) gives them (the right record's own index when linking),
    /// ascending. Empty for a deserialised resolution.
    pub fn candidates(&self) -> impl Iterator<Item = MatchedPair> + '_ {
        self.state.iter().flat_map(|s| {
            let offset = s.split.map_or(0, |x| x as u32);
            s.pairs
                .iter()
                .zip(s.weights.iter().zip(&s.probabilities))
                .map(move |(&(i, j), (&w, &p))| MatchedPair {
                    left: i,
                    right: j - offset,
                    weight: w,
                    probability: p,
                })
        })
    }

    /// The golden id of record `i` (over both tables when linking).
    ///
    /// # Panics
    /// When `i` is not a record index (`i >= clusters.len()`), as slice indexing does.
    pub fn golden_id(&self, i: usize) -> &str {
        &self.golden[self.clusters[i] as usize].golden_id
    }

    /// Why records `i` and `j` (over both tables when linking) score as they do: per
    /// field, the level, m, u and weight, term-frequency adjustment included; the total
    /// equals the pair's match weight.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a deserialised resolution or a record past the end.
    pub fn explain(&self, i: usize, j: usize) -> Result<Explanation> {
        let s = self.state()?;
        let n = s.records.len();
        if i >= n || j >= n {
            return Err(Error::option(
                "record",
                i.max(j),
                format!("a record index below {n}"),
            ));
        }
        let engine = Engine {
            columns: &s.columns,
            comparisons: &s.comparisons,
            tf: &s.tf,
        };
        let mut row = Vec::with_capacity(s.columns.len());
        engine.levels(i, j, &mut row);
        let mut tf = vec![None; s.columns.len()];
        engine.term_frequencies(i, &mut tf);
        Ok(self.model.model.explain_tf(&row, &tf))
    }

    /// The id map of `source`'s records (each of its ids to its golden id), for loading
    /// that source's transactions.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a source the records do not have; [`Error::InvalidOption`]
    /// for a deserialised resolution.
    pub fn id_map(&self, source: &str) -> Result<IdMap> {
        let s = self.state()?;
        let r = &s.records;
        let k = r
            .sources()
            .iter()
            .position(|x| x == source)
            .ok_or_else(|| Error::UnknownId {
                kind: "source".into(),
                id: source.into(),
            })?;
        let mut map = IdMap::new();
        for i in (0..r.len()).filter(|&i| r.source_of(i) == k) {
            map.insert(r.id(i), self.golden_id(i), i as u64 + 1)?;
        }
        Ok(map)
    }

    /// The id map of every record, for a transaction log whose ids are unique across
    /// sources.
    ///
    /// # Errors
    /// [`Error::Row`] of `Problem::Conflict` (its line the record's 1-based position)
    /// when one id of two sources belongs to two different customers;
    /// [`Error::InvalidOption`] for a deserialised resolution.
    pub fn id_map_all(&self) -> Result<IdMap> {
        let s = self.state()?;
        let mut map = IdMap::new();
        for i in 0..s.records.len() {
            map.insert(s.records.id(i), self.golden_id(i), i as u64 + 1)?;
        }
        Ok(map)
    }

    /// Measures the resolution against `truth`, the true entity of each record (over
    /// both tables when linking): pairs, cluster pairs, exact clusters and the blocking's
    /// pair completeness.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `truth` does not hold one value per record;
    /// [`Error::InvalidOption`] for a deserialised resolution.
    pub fn evaluate<S: AsRef<str>>(&self, truth: &[S]) -> Result<Evaluation> {
        let s = self.state()?;
        let n = s.records.len();
        Error::check_len("truth", truth.len(), n, "records")?;
        // Entities as dense numbers, so pairs compare integers.
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let entity: Vec<u32> = truth
            .iter()
            .map(|t| {
                let next = ids.len() as u32;
                *ids.entry(t.as_ref()).or_insert(next)
            })
            .collect();
        let mut left = vec![0u64; ids.len()];
        let mut right = vec![0u64; ids.len()];
        for (i, &e) in entity.iter().enumerate() {
            if s.split.is_some_and(|x| i >= x) {
                right[e as usize] += 1;
            } else {
                left[e as usize] += 1;
            }
        }
        let true_pairs: u64 = left
            .iter()
            .zip(&right)
            .map(|(&l, &r)| super::blocking::group_pairs(l, r, s.split.is_some()))
            .sum();
        let counts = |pairs: &mut dyn Iterator<Item = (u32, u32)>| {
            let (mut hit, mut all) = (0u64, 0u64);
            for (i, j) in pairs {
                all += 1;
                hit += u64::from(entity[i as usize] == entity[j as usize]);
            }
            (hit, all)
        };
        let t = s.options.threshold;
        let (hit, all) = counts(
            &mut s
                .pairs
                .iter()
                .zip(&s.probabilities)
                .filter(|(_, &p)| p >= t)
                .map(|(&p, _)| p),
        );
        let pairs = Quality::new(hit, all, true_pairs);
        let (candidates_hit, _) = counts(&mut s.pairs.iter().copied());
        let cross = |i: u32, j: u32| {
            s.split
                .map_or(true, |x| (i as usize) < x && (j as usize) >= x)
        };
        let (hit, all) = counts(&mut self.golden.iter().flat_map(|g| {
            g.members.iter().enumerate().flat_map(move |(a, &i)| {
                g.members[a + 1..]
                    .iter()
                    .filter(move |&&j| cross(i, j))
                    .map(move |&j| (i, j))
            })
        }));
        let cluster_pairs = Quality::new(hit, all, true_pairs);
        let mut size = vec![0u64; ids.len()];
        for &e in &entity {
            size[e as usize] += 1;
        }
        let exact = self
            .golden
            .iter()
            .filter(|g| {
                let e = entity[g.members[0] as usize];
                g.members.iter().all(|&i| entity[i as usize] == e)
                    && size[e as usize] == g.members.len() as u64
            })
            .count() as u64;
        Ok(Evaluation {
            pairs,
            cluster_pairs,
            clusters: Quality::new(exact, self.golden.len() as u64, ids.len() as u64),
            pair_completeness: if true_pairs == 0 {
                1.0
            } else {
                candidates_hit as f64 / true_pairs as f64
            },
        })
    }

    /// Matches a batch of new records against the resolved ones and among themselves,
    /// with the model as estimated and the blocking rules that ran (no new EM, no
    /// re-blocking of earlier pairs), and updates clusters and golden records. Term
    /// frequencies are recounted over all records for the new pairs; earlier pairs keep
    /// their scores (so [`explain`](Self::explain) of an earlier pair, which reads the
    /// current frequencies, can differ from its stored weight by the frequency change).
    /// Earlier records keep their cluster's golden id unless two earlier clusters merge
    /// (the merged cluster takes the id of its earliest record), an anti-chaining
    /// threshold splits one, or the batch brings an id another source already uses
    /// (golden ids are then written `source:id` from then on, so that they never
    /// collide).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a deserialised or linking resolution; what
    /// [`CustomerRecords::append`] reports (other fields, an id already resolved). On an
    /// error the resolution is unchanged.
    pub fn add_batch(&mut self, batch: &CustomerRecords) -> Result<BatchReport> {
        let s = self.state()?;
        if s.split.is_some() {
            return Err(Error::option(
                "resolution",
                "linking",
                "a deduplication (a linking resolution takes no batches)",
            ));
        }
        if batch.is_empty() {
            return Ok(BatchReport::default());
        }
        let old_n = s.records.len();
        let mut records = s.records.clone();
        records.append(batch)?;
        let n = records.len();
        if n > u32::MAX as usize {
            return Err(Error::option("records", n, "at most 4,294,967,295 records"));
        }
        let columns = normalise(&records);
        let keys: Vec<&[Option<Box<str>>]> = columns.iter().map(|c| &c.values[..]).collect();
        let old: Vec<_> = keys.iter().map(|k| &k[..old_n]).collect();
        let new: Vec<_> = keys.iter().map(|k| &k[old_n..]).collect();
        let names = records.fields().iter().map(|f| f.name.clone()).collect();
        // The rules that ran, less those skipped for the pair budget (they would now run
        // without it).
        let rules: Vec<BlockingRule> = s
            .rules
            .iter()
            .zip(&self.blocking.rules)
            .filter(|(_, r)| !r.skipped)
            .map(|(r, _)| r.clone())
            .collect();
        if rules.is_empty() {
            return Err(Error::Degenerate {
                input: "blocking".into(),
                reason: "every rule of the resolution was skipped: no rule to match a batch".into(),
            });
        }
        let options = s.options.blocking.clone().rules(rules).field_names(names);
        let mut new_pairs: Vec<(u32, u32)> = options
            .compute_link(&old, &new, None)?
            .pairs
            .into_iter()
            .map(|(i, j)| (i, j + old_n as u32))
            .collect();
        if n - old_n > 1 {
            new_pairs.extend(
                options
                    .compute(&new, None)?
                    .pairs
                    .into_iter()
                    .map(|(i, j)| (i + old_n as u32, j + old_n as u32)),
            );
        }
        let engine = Engine {
            columns: &columns,
            comparisons: &s.comparisons,
            tf: &s.tf,
        };
        let vectors = engine.vectors(&new_pairs)?;
        let (w, p) = engine.score(&self.model.model, &new_pairs, &vectors);
        let t = s.options.threshold;
        let matches = p.iter().filter(|&&x| x >= t).count();
        // Earlier pairs all end below old_n, new ones at or past it: merge in pair order.
        let mut pairs: Vec<((u32, u32), f64, f64)> = s
            .pairs
            .iter()
            .copied()
            .zip(
                s.weights
                    .iter()
                    .copied()
                    .zip(s.probabilities.iter().copied()),
            )
            .chain(new_pairs.iter().copied().zip(w.into_iter().zip(p)))
            .map(|(pair, (w, p))| (pair, w, p))
            .collect();
        pairs.sort_unstable_by_key(|x| x.0);
        let mut state = s.clone();
        state.records = records;
        state.columns = columns;
        state.pairs = pairs.iter().map(|x| x.0).collect();
        state.weights = pairs.iter().map(|x| x.1).collect();
        state.probabilities = pairs.iter().map(|x| x.2).collect();
        let old_clusters = std::mem::take(&mut self.clusters);
        let old_golden = std::mem::take(&mut self.golden);
        let old_report = self.report.clone();
        let old_state = self.state.replace(state);
        if let Err(e) = self.finish() {
            self.clusters = old_clusters;
            self.golden = old_golden;
            self.report = old_report;
            self.state = old_state;
            return Err(e);
        }
        let mut report = BatchReport {
            records: n - old_n,
            candidate_pairs: new_pairs.len(),
            matches,
            ..Default::default()
        };
        let mut has_old = vec![false; self.golden.len()];
        for &c in &self.clusters[..old_n] {
            has_old[c as usize] = true;
        }
        report.joined_existing = self.clusters[old_n..]
            .iter()
            .filter(|&&c| has_old[c as usize])
            .count();
        report.new_clusters = has_old.iter().filter(|&&h| !h).count();
        let survivors = has_old.iter().filter(|&&h| h).count();
        // With `strict`, a new pair can also split an earlier cluster: then there are
        // more survivors than clusters before.
        report.merged_clusters = old_golden.len().saturating_sub(survivors);
        Ok(report)
    }

    /// Clusters, golden records, the field models and the counts from the scored pairs.
    fn finish(&mut self) -> Result<()> {
        let s = self.state()?;
        let n = s.records.len();
        let t = s.options.threshold;
        let scored: Vec<(u32, u32, f64)> = s
            .pairs
            .iter()
            .zip(&s.probabilities)
            .map(|(&(i, j), &p)| (i, j, p))
            .collect();
        let mut cluster = ClusterOptions::new(t);
        if let Some(x) = s.options.strict {
            cluster = cluster.strict(x);
        }
        let clusters = cluster.compute(n, &scored)?;
        let golden = golden_of(s, &clusters)?;
        let m = self.model.model.m();
        let u = self.model.model.u();
        let fields = s
            .records
            .fields()
            .iter()
            .enumerate()
            .map(|(f, spec)| FieldModel {
                name: spec.name.clone(),
                kind: spec.kind,
                term_frequency: s.tf[f] && s.comparisons[f].tf_level().is_some(),
                levels: (0..s.comparisons[f].levels() as u8)
                    .map(|l| LevelModel {
                        label: s.comparisons[f].label(l),
                        m: m.get(f, l),
                        u: u.get(f, l),
                        weight: (m.get(f, l) / u.get(f, l)).log2(),
                    })
                    .collect(),
            })
            .collect();
        let all_pairs = match s.split {
            Some(x) => x as f64 * (n - x) as f64,
            None => n as f64 * (n as f64 - 1.0) / 2.0,
        };
        let report = ResolveReport {
            records: n,
            candidate_pairs: s.pairs.len(),
            reduction_ratio: 1.0 - s.pairs.len() as f64 / all_pairs,
            matches: s.probabilities.iter().filter(|&&p| p >= t).count(),
            clusters: golden.len(),
            merged_records: golden
                .iter()
                .filter(|g| g.members.len() > 1)
                .map(|g| g.members.len())
                .sum(),
            refused_merges: clusters.refused,
            em_iterations: self.model.report.iterations(),
        };
        self.fields = fields;
        self.report = report;
        self.clusters = clusters.of;
        self.golden = golden;
        Ok(())
    }
}

/// The golden records of the clusters: ids and survivor values.
fn golden_of(s: &State, clusters: &super::cluster::Clusters) -> Result<Vec<GoldenRecord>> {
    let r = &s.records;
    // Raw values where the normalised one is present: placeholders never survive.
    let raw: Vec<Vec<Option<Box<str>>>> = s
        .columns
        .iter()
        .enumerate()
        .map(|(f, col)| {
            col.values
                .iter()
                .zip(r.column(f))
                .map(|(v, raw)| v.as_ref().map(|_| raw.clone()))
                .collect()
        })
        .collect();
    let rules: Vec<Survivorship> = r
        .fields()
        .iter()
        .map(|f| {
            s.options
                .survivorship
                .get(&f.name)
                .cloned()
                .unwrap_or_else(|| s.options.default_survivorship.clone())
        })
        .collect();
    let fields: Vec<GoldenField<'_>> = raw
        .iter()
        .zip(&rules)
        .map(|(values, rule)| GoldenField { values, rule })
        .collect();
    // Update dates as YYYYMMDD, which sorts as time does (the time of day is not used:
    // two updates on one day tie, and the rule's tie-break decides).
    let dates: Option<Vec<Option<Box<str>>>> = r.has_updated().then(|| {
        (0..r.len())
            .map(|i| {
                r.updated(i)
                    .map(|t| t.date().format("%Y%m%d").to_string().into_boxed_str())
            })
            .collect()
    });
    let sources: Vec<Box<str>> = (0..r.len()).map(|i| r.source_name(i).into()).collect();
    let values = golden_records(clusters, &fields, dates.as_deref(), Some(&sources))?;
    // Ids are qualified by source only when some id occurs in two sources.
    let mut first_source: HashMap<&str, usize> = HashMap::with_capacity(r.len());
    let qualified = (0..r.len())
        .any(|i| *first_source.entry(r.id(i)).or_insert(r.source_of(i)) != r.source_of(i));
    Ok(clusters
        .members()
        .into_iter()
        .zip(values.values)
        .map(|(members, values)| {
            let first = members[0] as usize;
            let golden_id = if qualified {
                format!("{}:{}", r.source_name(first), r.id(first))
            } else {
                r.id(first).to_string()
            };
            GoldenRecord {
                golden_id,
                members,
                values: values.into_iter().map(|v| v.map(String::from)).collect(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_mean_is_the_mean_of_two_and_the_median_of_more() {
        let two = robust_mean(&[vec![0.8, 0.2], vec![0.6, 0.4]]);
        assert!((two[0] - 0.7).abs() < 1e-15 && (two[1] - 0.3).abs() < 1e-15);
        // Three clean sessions and one of households (most "matches" disagree): the
        // median per level of [0.9, 0.88, 0.92, 0.3] is 0.89, of [0.1, 0.12, 0.08, 0.7]
        // 0.11; both sum to 1 already, as every session does.
        let m = robust_mean(&[
            vec![0.9, 0.1],
            vec![0.88, 0.12],
            vec![0.92, 0.08],
            vec![0.3, 0.7],
        ]);
        assert!(
            (m[0] - 0.89).abs() < 1e-12 && (m[1] - 0.11).abs() < 1e-12,
            "{m:?}"
        );
    }

    #[test]
    fn global_lambda_solves_its_fixed_point() {
        // One pattern of Bayes factor L seen c times among N pairs: the fixed point
        // N·λ = c·λL / (λL + 1 − λ) is λ = (cL − N) / (N(L − 1)) (when cL > N; else 0).
        let m = Probabilities {
            values: vec![vec![0.9, 0.1]],
        };
        let u = Probabilities {
            values: vec![vec![0.001, 0.999]],
        };
        let l = 0.9 / 0.001;
        let (c, n) = (5000.0, 1.0e6);
        let v = ComparisonVectors::from_data(vec![2], vec![0; 5000]).unwrap();
        let (lambda, iterations) = global_lambda(&v, &m, &u, n);
        let exact = (c * l - n) / (n * (l - 1.0));
        assert!((lambda / exact - 1.0).abs() < 1e-8, "{lambda} vs {exact}");
        assert!(iterations < 10_000);
    }

    #[test]
    fn random_pairs_are_all_pairs_of_a_sample() {
        // Few records: every pair once.
        let all = random_pairs(10, None, 1_000, 7);
        assert_eq!(all.len(), 45);
        assert!(all.iter().all(|&(i, j)| i < j && j < 10));
        // Many: the largest sample whose pairs fit, each pair within it and distinct.
        let p = random_pairs(100_000, None, 1_000_000, 7);
        assert_eq!(p.len(), 1414 * 1413 / 2);
        let mut q = p.clone();
        q.sort_unstable();
        q.dedup();
        assert_eq!(q.len(), p.len());
        assert_eq!(p, random_pairs(100_000, None, 1_000_000, 7));
        assert_ne!(p, random_pairs(100_000, None, 1_000_000, 8));
        // Linking: cross pairs only; a small side is taken whole.
        let l = random_pairs(1_050, Some(50), 10_000, 1);
        assert!(l.iter().all(|&(i, j)| i < 50 && j >= 50));
        assert_eq!(l.len(), 50 * 200);
        let l = random_pairs(200_000, Some(100_000), 1_000_000, 1);
        assert_eq!(l.len(), 1_000 * 1_000);
    }
}

#[cfg(test)]
mod value_table_tests {
    use super::*;
    #[test]
    fn levels_from_the_value_tables_equal_the_levels_pair_by_pair() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/identity/people_5k.csv"
        );
        let records = crate::synth::people_reader().read_path(path).unwrap();
        let columns = normalise(&records);
        let comparisons: Vec<Comparison> = records
            .fields()
            .iter()
            .map(|f| Comparison::default_for(f.kind))
            .collect();
        let tf = vec![false; columns.len()];
        let engine = Engine {
            columns: &columns,
            comparisons: &comparisons,
            tf: &tf,
        };
        for split in [None, Some(1_000)] {
            let pairs = random_pairs(records.len(), split, 200_000, 3);
            let a = engine.vectors(&pairs).unwrap();
            let b = engine.vectors_by_value(&pairs).unwrap();
            assert_eq!(a, b);
        }
    }
}

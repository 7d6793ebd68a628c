//! Campaign results per arm: did the treatment beat the control, by how much, how sure
//! are we, and did it pay.
//!
//! # What is computed
//!
//! Per group of contacts (all of them, each campaign, or each campaign type × product)
//! and arm (and, with [`CampaignOptions::pool_treated`], the arm [`ANY_ARM`] of every
//! non-control contact):
//! - contacts `n`; per outcome the responders, the rate and its Wilson score interval
//!   ([`wilson`], statsmodels' `proportion_confint(method="wilson")`);
//! - with a value, the revenue (sum of the values) and the mean value per contact.
//!
//! Per non-control arm against the control, per outcome (t the arm, c the control):
//! - `lift` = p_t − p_c and `relative_lift` = lift / p_c;
//! - the two-proportion z-test with the pooled standard error (statsmodels'
//!   `proportions_ztest`) and with each arm's own (`test_proportions_2indep(method=
//!   "wald")`), [`two_proportion_z`];
//! - Pearson's χ² on the 2×2 table without and with Yates' continuity correction (scipy's
//!   `chi2_contingency(correction=False/True)`), [`chi2_independence`]; without the
//!   correction χ² = z²_pooled;
//! - the Wald and Newcombe hybrid score (method 10) intervals of p_t − p_c
//!   ([`difference_interval_wald`], [`difference_interval_newcombe`]);
//! - `incremental` responders (p_t − p_c)·n_t;
//! - Welch's t-test of the mean value ([`welch_t`], scipy's `ttest_ind(equal_var=False)`);
//! - economics, when a cost is known: `cost` is `cost_per_contact`·n_t when a cost per
//!   contact is given, otherwise the sum of the arm's row costs when the contacts have
//!   costs (otherwise no economics); `cpa_all` = cost / responders_t, `cpa_incremental` =
//!   cost / incremental; with a margin rate and a value, `incremental_margin` =
//!   margin·(mean_value_t − mean_value_c)·n_t and `roi` = (incremental_margin − cost) /
//!   cost.
//!
//! # Undefined values
//!
//! No result holds a NaN: a figure that is undefined on the data is `None` (`null` in
//! JSON). `relative_lift` when p_c = 0; the z-tests when their standard error is 0 (both
//! rates 0, or both 1); the χ² tests when no contact (or every contact) responded in
//! either arm; Welch's test without a value, with fewer than two contacts in an arm or
//! when neither arm's values vary; `cpa_all` without responders; `cpa_incremental` when
//! the incremental responders are not positive (a cost per *extra* responder means
//! nothing when the arm brought none); `incremental_margin` without a margin or a value;
//! `roi` when it is undefined or the cost is 0. A group without control contacts has no
//! comparisons.
//!
//! # Outcomes and values
//!
//! Outcomes are 0/1 columns of the contacts ([`CampaignOptions::outcome`]) or read from
//! the transaction log ([`CampaignOptions::window`]): the outcome [`WINDOW_OUTCOME`] is
//! a purchase in the window of days from the contact's day on, and the value becomes the
//! revenue of those purchases ([`CampaignContactView::response`]).
//!
//! ```
//! use acrm::data::{CampaignContactRecord, CampaignContacts, Dataset, Scope};
//! use acrm::promotion::CampaignOptions;
//!
//! let contact = |i: usize, arm: &str, bought: bool| {
//!     CampaignContactRecord::new("spring", Some(&format!("c{i}")), arm)
//!         .outcome("purchase", bought)
//! };
//! // 40 of 200 treated bought, 20 of 200 in the control.
//! let records = (0..400).map(|i| {
//!     if i < 200 { contact(i, "treatment", i < 40) } else { contact(i, "control", i < 220) }
//! });
//! let contacts = CampaignContacts::new(records)?;
//! let data = Dataset::default();
//! let view = contacts.view(&data.view(&Scope::all()));
//! let result = CampaignOptions::new().control("control").compute(&view)?;
//! let cmp = &result.groups[0].comparisons[0];
//! assert_eq!((cmp.rate_treatment, cmp.rate_control), (0.2, 0.1));
//! assert!((cmp.incremental - 20.0).abs() < 1e-9);
//! assert!(cmp.p_pooled.unwrap() < 0.01);
//! # Ok::<(), acrm::Error>(())
//! ```

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, CampaignContactView, Campaigns, Column, ScopeTag, WindowResponse};
use crate::error::{Error, Result};
use crate::numerics::{
    chi2_independence, difference_interval_newcombe, difference_interval_wald, sum_blocks,
    two_proportion_z, welch_t, wilson, SampleMoments,
};

/// The arm of every non-control contact ([`CampaignOptions::pool_treated`]).
pub const ANY_ARM: &str = "ANY";

/// The label of the group of every contact.
pub const ALL_GROUP: &str = "ALL";

/// The name of the outcome read from the transaction log.
pub const WINDOW_OUTCOME: &str = "response";

/// The label of a campaign without a type or product.
pub const NO_LABEL: &str = "(none)";

/// What the contacts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignGrouping {
    /// One group of every contact, labelled [`ALL_GROUP`].
    All,
    /// The contact's campaign.
    Campaign,
    /// The campaign's type × product (needs [`CampaignOptions::campaigns`]), labelled
    /// `type / product`.
    TypeProduct,
}

/// Where the value of a contact comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    /// The window's revenue when a window is set, else the contacts' value when they
    /// have one, else none.
    Auto,
    /// The contacts' given value.
    Given,
    /// The revenue in the response window.
    Window,
    /// No value (no revenue, mean value, Welch test or margin).
    None,
}

/// Where the cost of an arm came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// The cost per contact times the arm's contacts.
    PerContact,
    /// The sum of the arm's contacts' own costs.
    RowCosts,
    /// No cost: no economics.
    None,
}

/// Settings of the campaign analysis. Defaults: control arm `control`, every given
/// outcome, the value [`ValueSource::Auto`], no costs or margin, no pooled arm, 95%
/// intervals, one group of every contact.
#[derive(Debug, Clone)]
pub struct CampaignOptions<'a> {
    control: String,
    outcomes: Vec<String>,
    window: Option<u32>,
    value: ValueSource,
    cost_per_contact: Option<f64>,
    margin: Option<f64>,
    pool_treated: bool,
    confidence: f64,
    by: CampaignGrouping,
    campaigns: Option<&'a Campaigns>,
}

impl Default for CampaignOptions<'_> {
    fn default() -> Self {
        CampaignOptions {
            control: "control".into(),
            outcomes: Vec::new(),
            window: None,
            value: ValueSource::Auto,
            cost_per_contact: None,
            margin: None,
            pool_treated: false,
            confidence: 0.95,
            by: CampaignGrouping::All,
            campaigns: None,
        }
    }
}

/// An outcome's responders and rate in one arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRate {
    /// Contacts that responded.
    pub responders: u64,
    /// responders / contacts.
    pub rate: f64,
    /// Lower end of the Wilson interval.
    pub ci_low: f64,
    /// Upper end of the Wilson interval.
    pub ci_high: f64,
}

/// One arm of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmResult {
    /// The arm's name ([`ANY_ARM`] for the pooled non-control contacts).
    pub arm: String,
    /// Contacts.
    pub n: u64,
    /// Per outcome, its responders and rate.
    pub outcomes: BTreeMap<String, OutcomeRate>,
    /// Sum of the values (`None` without a value).
    pub revenue: Option<f64>,
    /// Mean value per contact (`None` without a value).
    pub mean_value: Option<f64>,
    /// The arm's cost (`None` without a cost source).
    pub cost: Option<f64>,
}

/// One non-control arm against the control, for one outcome. Field names are those of
/// the `campaign` example's JSON; see the module documentation for when a field is
/// `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The treated arm.
    pub arm: String,
    /// The control arm.
    pub control: String,
    /// The outcome.
    pub outcome: String,
    /// Contacts of the treated arm.
    pub n_treatment: u64,
    /// Contacts of the control.
    pub n_control: u64,
    /// Responders of the treated arm.
    pub responders_treatment: u64,
    /// Responders of the control.
    pub responders_control: u64,
    /// p_t.
    pub rate_treatment: f64,
    /// p_c.
    pub rate_control: f64,
    /// p_t − p_c.
    pub lift: f64,
    /// (p_t − p_c) / p_c.
    pub relative_lift: Option<f64>,
    /// z with the pooled standard error.
    pub z_pooled: Option<f64>,
    /// Its two-sided p-value.
    pub p_pooled: Option<f64>,
    /// z with each arm's own variance.
    pub z_unpooled: Option<f64>,
    /// Its two-sided p-value.
    pub p_unpooled: Option<f64>,
    /// Pearson's χ² of the 2×2 table, no continuity correction.
    pub chi2: Option<f64>,
    /// Its p-value (1 degree of freedom).
    pub p_chi2: Option<f64>,
    /// χ² with Yates' continuity correction.
    pub chi2_yates: Option<f64>,
    /// Its p-value.
    pub p_chi2_yates: Option<f64>,
    /// Wald interval of p_t − p_c.
    pub diff_ci_wald: [f64; 2],
    /// Newcombe's hybrid score interval of p_t − p_c.
    pub diff_ci_newcombe: [f64; 2],
    /// Incremental responders, (p_t − p_c)·n_t.
    pub incremental: f64,
    /// Welch's t of the mean values.
    pub welch_t: Option<f64>,
    /// Its Welch–Satterthwaite degrees of freedom.
    pub welch_df: Option<f64>,
    /// Its two-sided p-value.
    pub welch_p: Option<f64>,
    /// The treated arm's cost.
    pub cost: Option<f64>,
    /// cost / responders_t.
    pub cpa_all: Option<f64>,
    /// cost / incremental responders.
    pub cpa_incremental: Option<f64>,
    /// margin·(mean_value_t − mean_value_c)·n_t.
    pub incremental_margin: Option<f64>,
    /// (incremental_margin − cost) / cost.
    pub roi: Option<f64>,
}

/// The arms and comparisons of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignGroup {
    /// The label: [`ALL_GROUP`], the campaign, or `type / product`.
    pub group: String,
    /// The campaign type, when grouped by type × product.
    pub kind: Option<String>,
    /// The product, when grouped by type × product.
    pub product: Option<String>,
    /// The arms with contacts: the control first, the others by name, [`ANY_ARM`] last.
    pub arms: Vec<ArmResult>,
    /// Per non-control arm (in the order of `arms`) and outcome (in the results' order),
    /// the comparison with the control; empty without control contacts.
    pub comparisons: Vec<Comparison>,
}

/// The campaign analysis of a view of contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResults {
    /// The scope of the contacts (its `customers` counts contacts).
    pub scope: ScopeTag,
    /// The control arm's label.
    pub control: String,
    /// The outcomes, in order.
    pub outcomes: Vec<String>,
    /// The response window in days, when outcomes came from the transaction log.
    pub window_days: Option<u32>,
    /// Where the value came from ([`ValueSource::None`] without one).
    pub value: ValueSource,
    /// Where the costs came from.
    pub cost_source: CostSource,
    /// The cost per contact, when given.
    pub cost_per_contact: Option<f64>,
    /// The margin rate, when given.
    pub margin: Option<f64>,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// The grouping.
    pub by: CampaignGrouping,
    /// The groups, labels ascending ([`ALL_GROUP`] alone without grouping).
    pub groups: Vec<CampaignGroup>,
    /// Contacts (with a window) whose customer the dataset does not hold: counted as not
    /// responding, with value 0.
    pub unmatched_contacts: u64,
}

impl CampaignResults {
    /// The group labelled `label`.
    pub fn group(&self, label: &str) -> Option<&CampaignGroup> {
        self.groups.iter().find(|g| g.group == label)
    }
}

impl CampaignGroup {
    /// The arm named `arm`.
    pub fn arm(&self, arm: &str) -> Option<&ArmResult> {
        self.arms.iter().find(|a| a.arm == arm)
    }

    /// The comparison of `arm` with the control on `outcome`.
    pub fn comparison(&self, arm: &str, outcome: &str) -> Option<&Comparison> {
        self.comparisons
            .iter()
            .find(|c| c.arm == arm && c.outcome == outcome)
    }
}

/// Where a row's outcome comes from.
#[derive(Clone, Copy)]
enum Source {
    Given(usize),
    Window,
}

/// Per cell (group × arm), what the first pass sums.
struct Layout {
    outcomes: usize,
}

impl Layout {
    /// n, responders per outcome, sum of values, sum of costs.
    fn width(&self) -> usize {
        self.outcomes + 3
    }
    fn responders(&self, o: usize) -> usize {
        1 + o
    }
    fn value(&self) -> usize {
        1 + self.outcomes
    }
    fn cost(&self) -> usize {
        2 + self.outcomes
    }
}

impl<'a> CampaignOptions<'a> {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The control arm's label.
    pub fn control(mut self, label: &str) -> Self {
        self.control = label.to_string();
        self
    }

    /// Adds a given 0/1 outcome of the contacts (default: every given outcome, unless a
    /// window is set).
    pub fn outcome(mut self, name: &str) -> Self {
        if !self.outcomes.iter().any(|o| o == name) {
            self.outcomes.push(name.to_string());
        }
        self
    }

    /// Reads the outcome [`WINDOW_OUTCOME`] from the transaction log: a purchase in the
    /// `days` days from the contact's day on (see [`CampaignContactView::response`]).
    pub fn window(mut self, days: u32) -> Self {
        self.window = Some(days);
        self
    }

    /// Where the value comes from (default [`ValueSource::Auto`]).
    pub fn value(mut self, source: ValueSource) -> Self {
        self.value = source;
        self
    }

    /// The cost of one contact (finite, ≥ 0); it takes precedence over the contacts' own
    /// costs.
    pub fn cost_per_contact(mut self, cost: f64) -> Self {
        self.cost_per_contact = Some(cost);
        self
    }

    /// The margin rate on the value, in [0, 1] (needs the `margin` column visible).
    pub fn margin(mut self, rate: f64) -> Self {
        self.margin = Some(rate);
        self
    }

    /// Adds the arm [`ANY_ARM`] of every non-control contact, compared with the control
    /// like the others.
    pub fn pool_treated(mut self, yes: bool) -> Self {
        self.pool_treated = yes;
        self
    }

    /// Confidence level of the intervals, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// The grouping.
    pub fn by(mut self, by: CampaignGrouping) -> Self {
        self.by = by;
        self
    }

    /// The campaigns, for the grouping by type × product.
    pub fn campaigns(mut self, campaigns: &'a Campaigns) -> Self {
        self.campaigns = Some(campaigns);
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option: an empty control label or outcome
    /// name, a given outcome named [`WINDOW_OUTCOME`] beside a window, a window of 0
    /// days, a confidence outside (0, 1), a cost per contact not finite or negative, a
    /// margin outside [0, 1], [`ValueSource::Window`] without a window, grouping by type
    /// × product without campaigns.
    pub fn validate(&self) -> Result<()> {
        if self.control.trim().is_empty() {
            return Err(Error::option("control", "\"\"", "a non-empty arm label"));
        }
        if self.outcomes.iter().any(|o| o.trim().is_empty()) {
            return Err(Error::option("outcome", "\"\"", "a non-empty outcome name"));
        }
        if let Some(days) = self.window {
            if days == 0 {
                return Err(Error::option("window", days, "at least 1 day"));
            }
            if self.outcomes.iter().any(|o| o == WINDOW_OUTCOME) {
                return Err(Error::option(
                    "outcome",
                    WINDOW_OUTCOME,
                    "a name other than the window's outcome",
                ));
            }
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level strictly between 0 and 1",
            ));
        }
        if let Some(c) = self.cost_per_contact {
            if !(c.is_finite() && c >= 0.0) {
                return Err(Error::option("cost_per_contact", c, "a finite cost ≥ 0"));
            }
        }
        if let Some(m) = self.margin {
            if !(0.0..=1.0).contains(&m) {
                return Err(Error::option("margin", m, "a rate between 0 and 1"));
            }
        }
        if self.value == ValueSource::Window && self.window.is_none() {
            return Err(Error::option(
                "value",
                "window",
                "a value source other than the window when no window is set",
            ));
        }
        if self.by == CampaignGrouping::TypeProduct && self.campaigns.is_none() {
            return Err(Error::option(
                "by",
                "type_product",
                "campaigns (CampaignOptions::campaigns) to read types and products from",
            ));
        }
        Ok(())
    }

    /// Per campaign index, its group; the labels (with type and product) in label order.
    #[allow(clippy::type_complexity)]
    fn groups(
        &self,
        view: &CampaignContactView<'_>,
    ) -> Result<(Vec<(String, Option<String>, Option<String>)>, Vec<u32>)> {
        let names = view.campaigns();
        let per_campaign: Vec<(String, Option<String>, Option<String>)> = (0..names.len())
            .map(|c| {
                let name = names.name(c);
                match (self.by, self.campaigns) {
                    (CampaignGrouping::All, _) => Ok((ALL_GROUP.to_string(), None, None)),
                    (CampaignGrouping::Campaign, _) => Ok((name.to_string(), None, None)),
                    (CampaignGrouping::TypeProduct, Some(campaigns)) => {
                        let r = campaigns.get(name).ok_or_else(|| Error::UnknownId {
                            kind: "campaign".into(),
                            id: name.to_string(),
                        })?;
                        let kind = r.kind.clone().unwrap_or_else(|| NO_LABEL.into());
                        let product = r.product.clone().unwrap_or_else(|| NO_LABEL.into());
                        Ok((format!("{kind} / {product}"), Some(kind), Some(product)))
                    }
                    // Checked by `validate`.
                    (CampaignGrouping::TypeProduct, None) => Ok((NO_LABEL.to_string(), None, None)),
                }
            })
            .collect::<Result<_>>()?;
        // Only campaigns with a contact in the view make groups.
        let mut used = vec![false; per_campaign.len()];
        for k in 0..view.len() {
            used[view.campaign(k) as usize] = true;
        }
        let mut labels: Vec<(String, Option<String>, Option<String>)> = per_campaign
            .iter()
            .zip(&used)
            .filter(|(_, u)| **u)
            .map(|(l, _)| l.clone())
            .collect();
        labels.sort_unstable();
        labels.dedup();
        let index = per_campaign
            .iter()
            .map(|l| labels.binary_search(l).map_or(u32::MAX, |i| i as u32))
            .collect();
        Ok((labels, index))
    }

    /// The analysis of the contacts in `view`.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the scope may not
    /// run promotion analyses; [`Error::HiddenColumn`] (`margin`) for a margin under a
    /// scope that hides margins; [`Error::EmptyInput`] for a view without contacts;
    /// [`Error::InvalidOption`] (`control`) when no arm has the control's label, or (with
    /// a pooled arm) an arm is named [`ANY_ARM`]; [`Error::MissingColumn`] for an
    /// outcome the contacts do not give, a given value they do not have, no outcome at
    /// all, or a window over contacts without dates; [`Error::BadValue`] for a contact
    /// without a customer under a window; [`Error::UnknownId`] for a campaign the
    /// campaigns do not hold (grouping by type × product); [`Error::Degenerate`]
    /// (`value`) when an arm's values sum past the largest finite number.
    pub fn compute(&self, view: &CampaignContactView<'_>) -> Result<CampaignResults> {
        self.validate()?;
        view.require(Area::Promotion)?;
        if self.margin.is_some() {
            view.need(Column::Margin)?;
        }
        if view.is_empty() {
            return Err(Error::EmptyInput);
        }
        let arms = view.arms();
        let control = arms.get(self.control.trim()).ok_or_else(|| {
            let names: Vec<&str> = arms.iter().collect();
            Error::option(
                "control",
                format!("{:?}", self.control),
                format!("one of the arms: {}", names.join(", ")),
            )
        })? as usize;
        if self.pool_treated && arms.get(ANY_ARM).is_some() {
            return Err(Error::option(
                "control",
                ANY_ARM,
                "no arm named like the pooled arm when pooling treated arms",
            ));
        }
        // The outcomes and where each comes from.
        let mut outcomes: Vec<(String, Source)> = Vec::new();
        let named: Vec<String> = if self.outcomes.is_empty() && self.window.is_none() {
            view.outcome_names().to_vec()
        } else {
            self.outcomes.clone()
        };
        for name in named {
            let j = view
                .outcome_index(&name)
                .ok_or_else(|| Error::MissingColumn {
                    column: name.clone(),
                    available: view.available_columns(),
                })?;
            outcomes.push((name, Source::Given(j)));
        }
        if self.window.is_some() {
            outcomes.push((WINDOW_OUTCOME.to_string(), Source::Window));
        }
        if outcomes.is_empty() {
            return Err(Error::MissingColumn {
                column: "outcome".into(),
                available: view.available_columns(),
            });
        }
        let value = match (self.value, self.window) {
            (ValueSource::Auto, Some(_)) => ValueSource::Window,
            (ValueSource::Auto, None) if view.has_values() => ValueSource::Given,
            (ValueSource::Auto, None) => ValueSource::None,
            (v, _) => v,
        };
        if value == ValueSource::Given && !view.has_values() {
            return Err(Error::MissingColumn {
                column: "value".into(),
                available: view.available_columns(),
            });
        }
        let cost_source = match self.cost_per_contact {
            Some(_) => CostSource::PerContact,
            None if view.has_costs() => CostSource::RowCosts,
            None => CostSource::None,
        };

        // Responses from the transaction log, once per contact.
        let responses: Option<Vec<WindowResponse>> = match self.window {
            None => None,
            Some(days) => {
                if !view.has_dates() {
                    return Err(Error::MissingColumn {
                        column: "date".into(),
                        available: view.available_columns(),
                    });
                }
                if let Some(k) = (0..view.len()).find(|&k| view.customer(k).is_none()) {
                    return Err(Error::bad_value(
                        "campaign contacts",
                        k,
                        "customer",
                        "",
                        "a customer id (a response read from the transaction log needs one)",
                    ));
                }
                Some(
                    (0..view.len())
                        .into_par_iter()
                        .with_min_len(1 << 10)
                        .map(|k| view.response(k, days))
                        .collect::<Result<_>>()?,
                )
            }
        };
        let unmatched_contacts = responses
            .as_ref()
            .map_or(0, |r| r.iter().filter(|w| !w.matched).count() as u64);

        let (labels, group_of_campaign) = self.groups(view)?;
        let n_arms = arms.len() + usize::from(self.pool_treated);
        let cells = labels.len() * n_arms;
        let layout = Layout {
            outcomes: outcomes.len(),
        };
        let width = layout.width();
        let cell_of = |k: usize| -> (usize, usize) {
            let g = group_of_campaign[view.campaign(k) as usize] as usize;
            (g * n_arms, view.arm(k) as usize)
        };
        let value_of = |k: usize| -> f64 {
            match value {
                ValueSource::Given => view.value(k).unwrap_or(0.0),
                ValueSource::Window => responses.as_ref().map_or(0.0, |r| r[k].value),
                _ => 0.0,
            }
        };
        let pooled = |arm: usize| self.pool_treated && arm != control;
        // First pass: counts, responders, value and cost sums per cell, in fixed chunks
        // added in chunk order (bits independent of the pool).
        let sums = sum_blocks(view.len(), cells * width, |rows, acc| {
            for k in rows {
                let (base, arm) = cell_of(k);
                let v = value_of(k);
                let c = view.cost(k).unwrap_or(0.0);
                let mut add = |cell: usize| {
                    let at = &mut acc[cell * width..(cell + 1) * width];
                    at[0] += 1.0;
                    for (o, (_, source)) in outcomes.iter().enumerate() {
                        let hit = match *source {
                            Source::Given(j) => view.outcome(k, j),
                            Source::Window => responses.as_ref().is_some_and(|r| r[k].responded),
                        };
                        if hit {
                            at[layout.responders(o)] += 1.0;
                        }
                    }
                    at[layout.value()] += v;
                    at[layout.cost()] += c;
                };
                add(base + arm);
                if pooled(arm) {
                    add(base + n_arms - 1);
                }
            }
        });
        let cell = |i: usize| &sums[i * width..(i + 1) * width];
        let means: Vec<f64> = (0..cells)
            .map(|i| {
                let c = cell(i);
                if c[0] > 0.0 {
                    c[layout.value()] / c[0]
                } else {
                    0.0
                }
            })
            .collect();
        // Second pass: squared deviations from the cell means (an accurate variance).
        let squares = if value == ValueSource::None {
            vec![0.0; cells]
        } else {
            sum_blocks(view.len(), cells, |rows, acc| {
                for k in rows {
                    let (base, arm) = cell_of(k);
                    let v = value_of(k);
                    let d = v - means[base + arm];
                    acc[base + arm] += d * d;
                    if pooled(arm) {
                        let d = v - means[base + n_arms - 1];
                        acc[base + n_arms - 1] += d * d;
                    }
                }
            })
        };

        let arm_name = |a: usize| -> &str {
            if a == arms.len() {
                ANY_ARM
            } else {
                arms.name(a)
            }
        };
        // Arm order: the control, the others by name, the pooled arm last.
        let mut order: Vec<usize> = (0..arms.len()).filter(|&a| a != control).collect();
        order.sort_by(|&a, &b| arms.name(a).cmp(arms.name(b)));
        order.insert(0, control);
        if self.pool_treated {
            order.push(arms.len());
        }
        let has_value = value != ValueSource::None;
        let mut groups = Vec::with_capacity(labels.len());
        for (g, (label, kind, product)) in labels.into_iter().enumerate() {
            let stats = |a: usize| -> Result<Option<ArmStats>> {
                let i = g * n_arms + a;
                let c = cell(i);
                if c[0] <= 0.0 {
                    return Ok(None);
                }
                let n = c[0] as u64;
                let responders: Vec<u64> = (0..outcomes.len())
                    .map(|o| c[layout.responders(o)] as u64)
                    .collect();
                let cost = match cost_source {
                    CostSource::PerContact => self.cost_per_contact.map(|p| p * n as f64),
                    CostSource::RowCosts => Some(c[layout.cost()]),
                    CostSource::None => None,
                };
                Ok(Some(ArmStats {
                    n,
                    responders,
                    revenue: c[layout.value()],
                    moments: SampleMoments {
                        n,
                        mean: means[i],
                        variance: if n > 1 {
                            squares[i] / (n - 1) as f64
                        } else {
                            0.0
                        },
                    },
                    cost,
                }))
            };
            let mut arm_results = Vec::new();
            let mut present: Vec<(usize, ArmStats)> = Vec::new();
            for &a in &order {
                let Some(s) = stats(a)? else { continue };
                if has_value && !s.revenue.is_finite() {
                    return Err(Error::Degenerate {
                        input: "value".into(),
                        reason: format!(
                            "the values of arm {} sum past the largest finite number",
                            arm_name(a)
                        ),
                    });
                }
                let mut rates = BTreeMap::new();
                for (o, (name, _)) in outcomes.iter().enumerate() {
                    let w = wilson(s.responders[o], s.n, self.confidence)?;
                    rates.insert(
                        name.clone(),
                        OutcomeRate {
                            responders: s.responders[o],
                            rate: w.rate,
                            ci_low: w.ci_low,
                            ci_high: w.ci_high,
                        },
                    );
                }
                arm_results.push(ArmResult {
                    arm: arm_name(a).to_string(),
                    n: s.n,
                    outcomes: rates,
                    revenue: has_value.then_some(s.revenue),
                    mean_value: has_value.then_some(s.moments.mean),
                    cost: s.cost,
                });
                present.push((a, s));
            }
            let mut comparisons = Vec::new();
            if let Some((_, c)) = present.iter().find(|(a, _)| *a == control) {
                for (a, t) in present.iter().filter(|(a, _)| *a != control) {
                    for (o, (name, _)) in outcomes.iter().enumerate() {
                        comparisons.push(self.compare(arm_name(*a), name, t, c, o, has_value)?);
                    }
                }
            }
            groups.push(CampaignGroup {
                group: label,
                kind,
                product,
                arms: arm_results,
                comparisons,
            });
        }
        Ok(CampaignResults {
            scope: view.scope().clone(),
            control: self.control.trim().to_string(),
            outcomes: outcomes.into_iter().map(|(n, _)| n).collect(),
            window_days: self.window,
            value,
            cost_source,
            cost_per_contact: self.cost_per_contact,
            margin: self.margin,
            confidence: self.confidence,
            by: self.by,
            groups,
            unmatched_contacts,
        })
    }

    /// One arm against the control on outcome `o`.
    fn compare(
        &self,
        arm: &str,
        outcome: &str,
        t: &ArmStats,
        c: &ArmStats,
        o: usize,
        has_value: bool,
    ) -> Result<Comparison> {
        let (xt, nt, xc, nc) = (t.responders[o], t.n, c.responders[o], c.n);
        let (pt, pc) = (xt as f64 / nt as f64, xc as f64 / nc as f64);
        let lift = pt - pc;
        // A test undefined on the data (no variance) is `None`; the inputs are valid
        // counts, so that is the only error these return.
        let z_pooled = two_proportion_z(xt, nt, xc, nc, true).ok();
        let z_unpooled = two_proportion_z(xt, nt, xc, nc, false).ok();
        let table = [vec![xt, nt - xt], vec![xc, nc - xc]];
        let chi = chi2_independence(&table, false).ok();
        let yates = chi2_independence(&table, true).ok();
        let wald = difference_interval_wald(xt, nt, xc, nc, self.confidence)?;
        let newcombe = difference_interval_newcombe(xt, nt, xc, nc, self.confidence)?;
        let incremental = lift * nt as f64;
        let welch = if has_value {
            welch_t(&t.moments, &c.moments).ok()
        } else {
            None
        };
        let cost = t.cost;
        let cpa_all = cost.filter(|_| xt > 0).map(|k| k / xt as f64);
        let cpa_incremental = cost.filter(|_| incremental > 0.0).map(|k| k / incremental);
        let incremental_margin = match (self.margin, has_value) {
            (Some(m), true) => Some(m * (t.moments.mean - c.moments.mean) * nt as f64),
            _ => None,
        };
        let roi = match (incremental_margin, cost) {
            (Some(gain), Some(k)) if k > 0.0 => Some((gain - k) / k),
            _ => None,
        };
        Ok(Comparison {
            arm: arm.to_string(),
            control: self.control.trim().to_string(),
            outcome: outcome.to_string(),
            n_treatment: nt,
            n_control: nc,
            responders_treatment: xt,
            responders_control: xc,
            rate_treatment: pt,
            rate_control: pc,
            lift,
            relative_lift: (pc > 0.0).then(|| lift / pc),
            z_pooled: z_pooled.map(|z| z.z),
            p_pooled: z_pooled.map(|z| z.p),
            z_unpooled: z_unpooled.map(|z| z.z),
            p_unpooled: z_unpooled.map(|z| z.p),
            chi2: chi.map(|c| c.chi2),
            p_chi2: chi.map(|c| c.p),
            chi2_yates: yates.map(|c| c.chi2),
            p_chi2_yates: yates.map(|c| c.p),
            diff_ci_wald: wald.bounds(),
            diff_ci_newcombe: newcombe.bounds(),
            incremental,
            welch_t: welch.map(|w| w.t),
            welch_df: welch.map(|w| w.df),
            welch_p: welch.map(|w| w.p),
            cost,
            cpa_all,
            cpa_incremental,
            incremental_margin,
            roi,
        })
    }
}

/// What the comparisons need of one arm of one group.
struct ArmStats {
    n: u64,
    responders: Vec<u64>,
    revenue: f64,
    moments: SampleMoments,
    cost: Option<f64>,
}

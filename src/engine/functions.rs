//! The DataFusion functions: the summary aggregate, the state → RFM function and the
//! scoring functions.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int32Array, ListArray,
    StructArray, UInt32Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, FieldRef, Fields, Float64Type, Int32Type,
};
use datafusion::common::{exec_err, Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, EmitTo, GroupsAccumulator,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use super::DayState;
use crate::data::{is_purchase, MAX_AMOUNT};
use crate::numerics::FixedSum;
use crate::persistency::BgNbd;
use crate::profitability::{ClvOptions, GammaGamma};
use crate::summary::{PurchaseModel, Records, Rfm};
use crate::time::TimeUnit;

/// Registers `acrm_summary` and `acrm_rfm` (in unit `U`) in a session.
pub fn register<U: TimeUnit>(ctx: &SessionContext) {
    ctx.register_udaf(summary_udaf());
    ctx.register_udf(rfm_udf(U::DAYS));
}

/// Registers the scoring functions of a fitted BG/NBD model: `acrm_p_alive`,
/// `acrm_expected_purchases` over `horizon` (in the model's unit) and, with a spend
/// model and CLV options, `acrm_clv`.
pub fn register_scores(
    ctx: &SessionContext,
    model: &BgNbd,
    horizon: f64,
    clv: Option<(&GammaGamma, &ClvOptions)>,
) {
    let params = model.params();
    ctx.register_udf(score_udf(Score {
        bgnbd: params,
        kind: ScoreKind::PAlive,
    }));
    ctx.register_udf(score_udf(Score {
        bgnbd: params,
        kind: ScoreKind::ExpectedPurchases { horizon },
    }));
    if let Some((gg, opts)) = clv {
        ctx.register_udf(score_udf(Score {
            bgnbd: params,
            kind: ScoreKind::Clv {
                gamma_gamma: gg.params(),
                options: opts.clone(),
            },
        }));
    }
}

// ---------------------------------------------------------------------------------------
// acrm_summary

/// The `acrm_summary(date, amount)` aggregate.
pub fn summary_udaf() -> AggregateUDF {
    AggregateUDF::from(SummaryUdaf::new())
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SummaryUdaf {
    signature: Signature,
}

impl SummaryUdaf {
    fn new() -> Self {
        SummaryUdaf {
            signature: Signature::exact(
                vec![DataType::Date32, DataType::Float64],
                Volatility::Immutable,
            ),
        }
    }
}

fn days_field() -> FieldRef {
    Arc::new(Field::new("days", list_of(DataType::Int32), true))
}

fn spend_field() -> FieldRef {
    Arc::new(Field::new("spend", list_of(spend_type()), true))
}

fn spend_type() -> DataType {
    DataType::Decimal128(38, 0)
}

fn list_of(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(t, false)))
}

fn state_type() -> DataType {
    DataType::Struct(Fields::from(vec![days_field(), spend_field()]))
}

impl AggregateUDFImpl for SummaryUdaf {
    fn name(&self) -> &str {
        "acrm_summary"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(state_type())
    }

    fn accumulator(&self, _: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(SummaryAccumulator::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "days"),
                list_of(DataType::Int32),
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "spend"),
                list_of(spend_type()),
                true,
            )),
        ])
    }

    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _: AccumulatorArgs,
    ) -> DfResult<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(SummaryGroups::default()))
    }
}

/// Adds input row `i` of (date, amount) to `state`: returns are not purchases; a null,
/// non-finite or too large amount is an error, as in the readers.
#[inline]
fn add_row(
    state: &mut DayState,
    dates: &[i32],
    amounts: &Float64Array,
    i: usize,
    date_valid: bool,
) -> DfResult<()> {
    if !date_valid || amounts.is_null(i) {
        return exec_err!("acrm_summary: a null date or amount (row {i} of a batch); expected a value in every row");
    }
    let a = amounts.value(i);
    if !a.is_finite() || a.abs() > MAX_AMOUNT {
        return exec_err!("acrm_summary: amount {a}: expected a finite amount within ±10^15");
    }
    if is_purchase(a) {
        state.add(dates[i], FixedSum::of(a).raw());
    }
    Ok(())
}

/// Builds the two state lists of `states`.
fn state_arrays<'a>(states: impl ExactSizeIterator<Item = &'a DayState>) -> (ListArray, ListArray) {
    let mut offsets = Vec::with_capacity(states.len() + 1);
    offsets.push(0i32);
    let mut days = Vec::new();
    let mut spend = Vec::new();
    for s in states {
        days.extend_from_slice(&s.days);
        spend.extend_from_slice(&s.spend);
        offsets.push(days.len() as i32);
    }
    let offsets = OffsetBuffer::new(offsets.into());
    let days = ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int32, false)),
        offsets.clone(),
        Arc::new(Int32Array::from(days)),
        None,
    );
    let spend = ListArray::new(
        Arc::new(Field::new_list_field(spend_type(), false)),
        offsets,
        Arc::new(
            Decimal128Array::from(spend)
                .with_precision_and_scale(38, 0)
                .expect("38, 0 is a valid decimal type"),
        ),
        None,
    );
    (days, spend)
}

fn struct_of(days: ListArray, spend: ListArray) -> StructArray {
    StructArray::new(
        Fields::from(vec![days_field(), spend_field()]),
        vec![Arc::new(days) as ArrayRef, Arc::new(spend)],
        None,
    )
}

/// Merges row `i` of state lists into `state`.
fn merge_row(state: &mut DayState, days: &ListArray, spend: &ListArray, i: usize) {
    if days.is_null(i) || spend.is_null(i) {
        return;
    }
    let (d0, d1) = (
        days.value_offsets()[i] as usize,
        days.value_offsets()[i + 1] as usize,
    );
    let (s0, _) = (
        spend.value_offsets()[i] as usize,
        spend.value_offsets()[i + 1] as usize,
    );
    let dv = days.values().as_primitive::<Int32Type>().values();
    let sv = spend
        .values()
        .as_primitive::<datafusion::arrow::datatypes::Decimal128Type>()
        .values();
    for k in 0..d1 - d0 {
        state.add(dv[d0 + k], sv[s0 + k]);
    }
}

#[derive(Debug, Default)]
struct SummaryAccumulator {
    state: DayState,
}

impl Accumulator for SummaryAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let dates = values[0].as_primitive::<Date32Type>();
        let amounts = values[1].as_primitive::<Float64Type>();
        let d = dates.values();
        for i in 0..dates.len() {
            add_row(&mut self.state, d, amounts, i, dates.is_valid(i))?;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let (days, spend) = state_arrays(std::iter::once(&self.state));
        Ok(ScalarValue::Struct(Arc::new(struct_of(days, spend))))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.state.heap_bytes()
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let (days, spend) = state_arrays(std::iter::once(&self.state));
        Ok(vec![
            ScalarValue::List(Arc::new(days)),
            ScalarValue::List(Arc::new(spend)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let days = states[0].as_list::<i32>();
        let spend = states[1].as_list::<i32>();
        for i in 0..days.len() {
            merge_row(&mut self.state, days, spend, i);
        }
        Ok(())
    }
}

/// One state per group (customer): what DataFusion's hash aggregation drives.
#[derive(Debug, Default)]
struct SummaryGroups {
    states: Vec<DayState>,
    heap: usize,
}

impl SummaryGroups {
    fn take(&mut self, emit_to: EmitTo) -> Vec<DayState> {
        let taken = emit_to.take_needed(&mut self.states);
        self.heap = self.states.iter().map(DayState::heap_bytes).sum();
        taken
    }
}

impl GroupsAccumulator for SummaryGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.states.resize_with(total_num_groups, DayState::default);
        let dates = values[0].as_primitive::<Date32Type>();
        let amounts = values[1].as_primitive::<Float64Type>();
        let d = dates.values();
        for (i, &g) in group_indices.iter().enumerate() {
            if opt_filter.is_some_and(|f| !f.value(i) || f.is_null(i)) {
                continue;
            }
            let s = &mut self.states[g];
            let before = s.heap_bytes();
            add_row(s, d, amounts, i, dates.is_valid(i))?;
            self.heap = self.heap + s.heap_bytes() - before;
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> DfResult<ArrayRef> {
        let states = self.take(emit_to);
        let (days, spend) = state_arrays(states.iter());
        Ok(Arc::new(struct_of(days, spend)))
    }

    fn state(&mut self, emit_to: EmitTo) -> DfResult<Vec<ArrayRef>> {
        let states = self.take(emit_to);
        let (days, spend) = state_arrays(states.iter());
        Ok(vec![Arc::new(days), Arc::new(spend)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> DfResult<()> {
        self.states.resize_with(total_num_groups, DayState::default);
        let days = values[0].as_list::<i32>();
        let spend = values[1].as_list::<i32>();
        for (i, &g) in group_indices.iter().enumerate() {
            let s = &mut self.states[g];
            let before = s.heap_bytes();
            merge_row(s, days, spend, i);
            self.heap = self.heap + s.heap_bytes() - before;
        }
        Ok(())
    }

    /// Each row as a state of its own (a return, or a row the filter drops, as an empty
    /// state).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> DfResult<Vec<ArrayRef>> {
        let dates = values[0].as_primitive::<Date32Type>();
        let amounts = values[1].as_primitive::<Float64Type>();
        let d = dates.values();
        let mut states = Vec::with_capacity(dates.len());
        for i in 0..dates.len() {
            let mut s = DayState::default();
            if !opt_filter.is_some_and(|f| !f.value(i) || f.is_null(i)) {
                add_row(&mut s, d, amounts, i, dates.is_valid(i))?;
            }
            states.push(s);
        }
        let (days, spend) = state_arrays(states.iter());
        Ok(vec![Arc::new(days), Arc::new(spend)])
    }

    fn size(&self) -> usize {
        self.states.capacity() * std::mem::size_of::<DayState>() + self.heap
    }
}

// ---------------------------------------------------------------------------------------
// acrm_rfm

/// The `acrm_rfm(state, as_of)` function in a unit of `days_per_unit` days.
pub fn rfm_udf(days_per_unit: f64) -> ScalarUDF {
    ScalarUDF::from(RfmUdf {
        signature: Signature::any(2, Volatility::Immutable),
        days_per_unit,
    })
}

#[derive(Debug)]
pub(crate) struct RfmUdf {
    signature: Signature,
    pub(crate) days_per_unit: f64,
}

impl PartialEq for RfmUdf {
    fn eq(&self, o: &Self) -> bool {
        self.days_per_unit.to_bits() == o.days_per_unit.to_bits()
    }
}
impl Eq for RfmUdf {}
impl Hash for RfmUdf {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.days_per_unit.to_bits().hash(h);
    }
}

fn rfm_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::UInt32, false),
        Field::new("t_x", DataType::Float64, false),
        Field::new("T", DataType::Float64, false),
        Field::new("mean_spend", DataType::Float64, false),
        Field::new("t_x_days", DataType::Int32, false),
        Field::new("T_days", DataType::Int32, false),
    ])
}

impl ScalarUDFImpl for RfmUdf {
    fn name(&self) -> &str {
        "acrm_rfm"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> DfResult<DataType> {
        if args.first() != Some(&state_type()) {
            return exec_err!("acrm_rfm: the first argument must be an acrm_summary state");
        }
        Ok(DataType::Struct(rfm_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let state = args.args[0].to_array(n)?;
        let as_of = args.args[1].to_array(n)?;
        let as_of = datafusion::arrow::compute::cast(&as_of, &DataType::Date32)?;
        let as_of = as_of.as_primitive::<Date32Type>();
        let state = state.as_struct();
        let days = state.column(0).as_list::<i32>();
        let spend = state.column(1).as_list::<i32>();
        let mut cols = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut valid = Vec::with_capacity(n);
        let mut s = DayState::default();
        for i in 0..n {
            s.days.clear();
            s.spend.clear();
            let rfm = if state.is_valid(i) && as_of.is_valid(i) {
                merge_row(&mut s, days, spend, i);
                s.rfm(as_of.value(i))
            } else {
                None
            };
            let (x, tx, t, m) = rfm.unwrap_or((0, 0, 0, 0.0));
            valid.push(rfm.is_some());
            cols.0.push(x);
            cols.1.push(f64::from(tx) / self.days_per_unit);
            cols.2.push(f64::from(t) / self.days_per_unit);
            cols.3.push(m);
            cols.4.push(tx);
            cols.5.push(t);
        }
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(UInt32Array::from(cols.0)),
            Arc::new(Float64Array::from(cols.1)),
            Arc::new(Float64Array::from(cols.2)),
            Arc::new(Float64Array::from(cols.3)),
            Arc::new(Int32Array::from(cols.4)),
            Arc::new(Int32Array::from(cols.5)),
        ];
        let out = StructArray::new(rfm_fields(), arrays, Some(NullBuffer::from(valid)));
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

// ---------------------------------------------------------------------------------------
// Scores

/// What a scoring function computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ScoreKind {
    /// P(alive) at T: `acrm_p_alive(x, t_x, T)`.
    PAlive,
    /// Expected purchases in (T, T + horizon]: `acrm_expected_purchases(x, t_x, T)`.
    ExpectedPurchases {
        /// The horizon, in the model's unit.
        horizon: f64,
    },
    /// Lifetime value: `acrm_clv(x, t_x, T, mean_spend)`.
    Clv {
        /// Gamma-Gamma (p, q, γ).
        gamma_gamma: [f64; 3],
        /// Horizon, discounting and margin.
        options: ClvOptions,
    },
}

/// A scoring function's parameters: a fitted BG/NBD model (r, α, a, b) and what to
/// compute. Serialised (JSON) when a plan carries the function to a cluster's executors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// BG/NBD (r, α, a, b).
    pub bgnbd: [f64; 4],
    /// What to compute.
    pub kind: ScoreKind,
}

impl Score {
    /// The SQL name of the function.
    pub fn name(&self) -> &'static str {
        match self.kind {
            ScoreKind::PAlive => "acrm_p_alive",
            ScoreKind::ExpectedPurchases { .. } => "acrm_expected_purchases",
            ScoreKind::Clv { .. } => "acrm_clv",
        }
    }
}

/// A scoring function as a DataFusion scalar function.
pub fn score_udf(score: Score) -> ScalarUDF {
    let arity = if matches!(score.kind, ScoreKind::Clv { .. }) {
        4
    } else {
        3
    };
    let key = serde_json::to_string(&score).unwrap_or_default();
    ScalarUDF::from(ScoreUdf {
        signature: Signature::any(arity, Volatility::Immutable),
        score,
        key,
    })
}

#[derive(Debug)]
pub(crate) struct ScoreUdf {
    signature: Signature,
    pub(crate) score: Score,
    /// The parameters as JSON: equality and hashing of the function.
    key: String,
}

impl PartialEq for ScoreUdf {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for ScoreUdf {}
impl Hash for ScoreUdf {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.key.hash(h);
    }
}

impl ScalarUDFImpl for ScoreUdf {
    fn name(&self) -> &str {
        self.score.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let mut cols = Vec::with_capacity(args.args.len());
        for a in &args.args {
            let a = a.to_array(n)?;
            cols.push(datafusion::arrow::compute::cast(&a, &DataType::Float64)?);
        }
        let f: Vec<&Float64Array> = cols
            .iter()
            .map(|c| c.as_primitive::<Float64Type>())
            .collect();
        let [r, alpha, a, b] = self.score.bgnbd;
        let model = match BgNbd::new(r, alpha, a, b) {
            Ok(m) => m,
            Err(e) => return exec_err!("{}: {e}", self.name()),
        };
        let valid = |i: usize| f.iter().all(|c| c.is_valid(i));
        let mut records = Vec::with_capacity(n);
        let mut nulls = Vec::with_capacity(n);
        for i in 0..n {
            let spend = f.get(3).map_or(0.0, |c| c.value(i));
            let rec = if valid(i) {
                let x = f[0].value(i);
                if !(x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX)) {
                    return exec_err!(
                        "{}: x = {x}: expected a whole number of repeat purchases",
                        self.name()
                    );
                }
                Rfm::new(x as u32, f[1].value(i), f[2].value(i), spend.max(0.0)).map_err(|e| {
                    datafusion::common::DataFusionError::Execution(format!("{}: {e}", self.name()))
                })?
            } else {
                // A placeholder scored and then masked as null.
                Rfm::new(0, 0.0, 1.0, 0.0)
                    .map_err(|e| datafusion::common::DataFusionError::Execution(e.to_string()))?
            };
            nulls.push(valid(i));
            records.push(rec);
        }
        let values: Vec<f64> = match &self.score.kind {
            ScoreKind::PAlive => model.p_alive_all(&records),
            ScoreKind::ExpectedPurchases { horizon } => records
                .iter()
                .map(|r| model.conditional_expected_purchases(*horizon, r.x, r.t_x, r.t))
                .collect(),
            ScoreKind::Clv {
                gamma_gamma,
                options,
            } => {
                let [p, q, g] = *gamma_gamma;
                let gg = GammaGamma::new(p, q, g).map_err(|e| {
                    datafusion::common::DataFusionError::Execution(format!("acrm_clv: {e}"))
                })?;
                options
                    .compute(&model, &gg, &Records::new(records))
                    .map_err(|e| {
                        datafusion::common::DataFusionError::Execution(format!("acrm_clv: {e}"))
                    })?
                    .values
            }
        };
        let out = Float64Array::new(values.into(), Some(NullBuffer::from(nulls)));
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

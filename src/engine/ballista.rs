//! The same functions on a Ballista cluster (feature `ballista`): a scheduler and an
//! executor started in this process, with the codec that carries acrm's functions and
//! their parameters to the executors.
//!
//! Ballista finds a function on an executor by name in the executor's registry, which
//! is filled once, from the session state the cluster starts with: the summary aggregate
//! and the RFM function are registered there before the start. The scoring functions
//! hold parameters fitted after the start (a model), so the codec writes them into the
//! plan (as JSON) and builds them again on the executor; an executor never runs a stale
//! model of the same name. Ballista's own codecs still handle everything else.

use std::any::Any;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{not_impl_err, Result as DfResult, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::{FunctionRegistry, SessionStateBuilder, TaskContext};
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use super::functions::{rfm_udf, score_udf, summary_udaf, RfmUdf, Score, ScoreUdf};
use super::register;
use crate::error::{Error, Result};
use crate::time::TimeUnit;

fn ballista_error(e: impl std::fmt::Display) -> Error {
    Error::Engine {
        engine: "ballista",
        message: e.to_string(),
    }
}

/// A session on a Ballista cluster started in this process: one scheduler and one
/// executor with `partitions` task slots, on free localhost ports, planning with
/// `partitions` target partitions; `acrm_summary` and `acrm_rfm` (in unit `U`) are
/// registered on the cluster and the client. The cluster lives as long as the tokio
/// runtime this is called on (a multi-threaded one).
///
/// # Errors
/// [`Error::Engine`] (`ballista`) when the cluster does not start.
pub async fn standalone<U: TimeUnit>(partitions: usize) -> Result<SessionContext> {
    let config = SessionConfig::new_with_ballista()
        .with_target_partitions(partitions)
        .with_ballista_standalone_parallelism(partitions)
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()));
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    state
        .register_udaf(Arc::new(summary_udaf()))
        .map_err(ballista_error)?;
    state
        .register_udf(Arc::new(rfm_udf(U::DAYS)))
        .map_err(ballista_error)?;
    let ctx = SessionContext::standalone_with_state(state)
        .await
        .map_err(ballista_error)?;
    // Starting the cluster replaces the client's function lists with Ballista's.
    register::<U>(&ctx);
    Ok(ctx)
}

/// acrm's functions with parameters, written into a plan and read back.
fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>) {
    let inner: &dyn Any = udf.inner().as_ref();
    if let Some(s) = inner.downcast_ref::<ScoreUdf>() {
        if let Ok(json) = serde_json::to_vec(&s.score) {
            buf.extend_from_slice(&json);
        }
    } else if let Some(r) = inner.downcast_ref::<RfmUdf>() {
        buf.extend_from_slice(&r.days_per_unit.to_le_bytes());
    }
}

fn decode_udf(name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
    match name {
        "acrm_p_alive" | "acrm_expected_purchases" | "acrm_clv" => {
            match serde_json::from_slice::<Score>(buf) {
                Ok(score) if score.name() == name => Ok(Arc::new(score_udf(score))),
                _ => not_impl_err!("no acrm parameters for {name} in the plan"),
            }
        }
        "acrm_rfm" => match <[u8; 8]>::try_from(buf) {
            Ok(b) => Ok(Arc::new(rfm_udf(f64::from_le_bytes(b)))),
            Err(_) => not_impl_err!("no unit for acrm_rfm in the plan"),
        },
        _ => not_impl_err!("no codec for scalar function {name}"),
    }
}

/// Ballista's logical codec, with acrm's functions.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> DfResult<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> DfResult<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        encode_udf(node, buf);
        Ok(())
    }
}

/// Ballista's physical codec (its shuffle operators), with acrm's functions.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        encode_udf(node, buf);
        Ok(())
    }
}

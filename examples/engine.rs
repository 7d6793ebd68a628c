//! Summary → patterns → BG/NBD fit → P(alive) over a folder of Parquet files, in
//! DataFusion (or on an in-process Ballista cluster): the command-line contract of the
//! engine work.
//!
//! ```text
//! cargo run --release --features datafusion --example engine -- DIR --calibration-end YYYY-MM-DD \
//!     --unit weeks --model bgnbd --json [--partitions N] [--ballista]
//! ```
//! DIR holds Parquet files (in subfolders too) with columns `customer_id` (string),
//! `date` (date32 or ISO text) and `amount` (double or decimal); a customer's rows may be
//! spread over several files. The summary aggregate runs in the engine, which groups
//! its states into (x, t_x, T) patterns; the fit runs here, and P(alive) is scored back
//! in the engine with the fitted parameters. `--ballista` (feature `ballista`) runs the
//! same queries on a scheduler and executor started in this process.
//!
//! JSON: `rows` (all rows of the files), `customers` (with a purchase on or before the
//! calibration end), `patterns`, `params` {r, alpha, a, b}, `log_likelihood`,
//! `partitions`, `engine` (`datafusion` or `ballista`), `elapsed_ms`, and
//! `mean_p_alive` (over the customers, scored in the engine), `converged`,
//! `iterations`. No field is ever null.

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::engine::{fit_in_engine, register, register_scores, EngineFit};
use acrm::persistency::BgNbd;
use acrm::{Days, FitOptions, Months, TimeUnit, Weeks};
use chrono::NaiveDate;
use clap::Parser;
use common::{outln, Stop};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Float64Type;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use serde_json::{json, Value};

/// Summary, patterns and a BG/NBD fit over Parquet files, in a query engine.
#[derive(Parser, Debug)]
#[command(name = "engine")]
struct Args {
    /// Folder of Parquet files (or one file)
    dir: String,
    /// Last day of the calibration period (inclusive)
    #[arg(long = "calibration-end", value_name = "YYYY-MM-DD", value_parser = common::date)]
    calibration_end: NaiveDate,
    /// Time unit of t_x and T
    #[arg(long, value_name = "days|weeks|months", default_value = "weeks")]
    unit: String,
    /// The purchase model
    #[arg(long, value_name = "bgnbd", default_value = "bgnbd")]
    model: String,
    /// Print one JSON object (otherwise a few lines of text)
    #[arg(long)]
    json: bool,
    /// Target partitions of the engine (default: the machine's cores)
    #[arg(long, value_name = "N")]
    partitions: Option<usize>,
    /// Run on an in-process Ballista cluster (feature `ballista`)
    #[arg(long)]
    ballista: bool,
    /// Print the figures of a fit that stopped before converging
    #[arg(long = "allow-nonconverged")]
    allow_nonconverged: bool,
}

fn main() -> ExitCode {
    common::exit(run())
}

fn run() -> Result<(), Stop> {
    let args = Args::parse();
    if args.model != "bgnbd" {
        return Err(Stop::usage(format!(
            "unknown model {:?} (bgnbd)",
            args.model
        )));
    }
    let partitions = match args.partitions {
        Some(0) => return Err(Stop::usage("--partitions must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    if args.ballista && !cfg!(feature = "ballista") {
        return Err(Stop::usage(
            "--ballista needs the ballista feature: cargo run --release --features ballista --example engine -- ...",
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let v = runtime.block_on(async {
        match args.unit.as_str() {
            "days" => fit::<Days>(&args, partitions).await,
            "weeks" => fit::<Weeks>(&args, partitions).await,
            "months" => fit::<Months>(&args, partitions).await,
            u => Err(Stop::usage(format!(
                "unknown unit {u:?} (days, weeks or months)"
            ))),
        }
    })?;
    if args.json {
        outln!("{v}");
    } else {
        outln!(
            "{} rows, {} customers, {} patterns on {} ({} partitions)",
            v["rows"],
            v["customers"],
            v["patterns"],
            v["engine"],
            v["partitions"]
        );
        outln!("BG/NBD {}", v["params"]);
        outln!(
            "log-likelihood {}, mean P(alive) {}",
            v["log_likelihood"],
            v["mean_p_alive"]
        );
        outln!("{} ms", v["elapsed_ms"]);
    }
    Ok(())
}

/// A session with the files as table `tx` and acrm's functions in unit `U`.
async fn session<U: TimeUnit>(args: &Args, partitions: usize) -> Result<SessionContext, Stop> {
    let failed = |e: &dyn std::fmt::Display| Stop::Failed(format!("{}: {e}", args.dir));
    let ctx = if args.ballista {
        #[cfg(feature = "ballista")]
        {
            acrm::engine::ballista::standalone::<U>(partitions)
                .await
                .map_err(|e| failed(&e))?
        }
        #[cfg(not(feature = "ballista"))]
        {
            unreachable!("checked in run")
        }
    } else {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new().with_target_partitions(partitions),
        );
        register::<U>(&ctx);
        ctx
    };
    let path = std::path::Path::new(&args.dir);
    if !path.exists() {
        return Err(failed(&"no such file or folder"));
    }
    ctx.register_parquet("tx", &args.dir, ParquetReadOptions::default())
        .await
        .map_err(|e| failed(&e))?;
    Ok(ctx)
}

async fn fit<U: TimeUnit>(args: &Args, partitions: usize) -> Result<Value, Stop> {
    let t = Instant::now();
    let ctx = session::<U>(args, partitions).await?;
    let failed = |e: &dyn std::fmt::Display| Stop::Failed(format!("{}: {e}", args.dir));
    let run: EngineFit<BgNbd, U> =
        fit_in_engine(&ctx, "tx", args.calibration_end, &FitOptions::new())
            .await
            .map_err(|e| failed(&e))?;
    let report = &run.fitted.report;
    common::converged(
        &args.dir,
        "BG/NBD",
        report.termination.converged(),
        report.termination,
        report.iterations,
        args.allow_nonconverged,
    )?;
    // P(alive) scored where the data is, with the fitted parameters.
    let model = &run.fitted.model;
    // On Ballista the plan carries the parameters to the executors (the codec).
    register_scores(&ctx, model, 0.0, None);
    let end = args.calibration_end.format("%Y-%m-%d");
    let sql = format!(
        "SELECT CAST(avg(acrm_p_alive(r['x'], r['t_x'], r['T'])) AS DOUBLE) FROM \
         (SELECT acrm_rfm(acrm_summary(CAST(\"date\" AS DATE), CAST(\"amount\" AS DOUBLE)), DATE '{end}') AS r \
          FROM tx WHERE CAST(\"date\" AS DATE) <= DATE '{end}' GROUP BY \"customer_id\") WHERE r IS NOT NULL"
    );
    let batches = ctx
        .sql(&sql)
        .await
        .map_err(|e| failed(&e))?
        .collect()
        .await
        .map_err(|e| failed(&e))?;
    let mean_p_alive = batches
        .first()
        .map_or(0.0, |b| b.column(0).as_primitive::<Float64Type>().value(0));
    let [r, alpha, a, b] = model.params();
    Ok(json!({
        "dir": args.dir,
        "unit": U::NAME,
        "calibration_end": args.calibration_end.to_string(),
        "rows": run.rows,
        "customers": run.customers,
        "patterns": run.patterns.patterns.len(),
        "params": {"r": r, "alpha": alpha, "a": a, "b": b},
        "log_likelihood": report.log_likelihood,
        "converged": report.termination.converged(),
        "iterations": report.iterations,
        "mean_p_alive": mean_p_alive,
        "partitions": run.partitions,
        "engine": if args.ballista { "ballista" } else { "datafusion" },
        "elapsed_ms": t.elapsed().as_secs_f64() * 1e3,
    }))
}

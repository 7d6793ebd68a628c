//! The Bass acquisition forecast (prospecting::bass) against scipy and statsmodels.
//!
//! Reference numbers: tests/data/prospecting/bass/reference.json, written by
//! make_reference.py there (scipy 1.17.1 `curve_fit`, statsmodels 0.15.0 OLS, numpy
//! 2.4.6; numeric delta-method bands). See the README.md beside them.

use acrm::data::{CustomerRecord, TransactionRecord};
use acrm::io::{read_series_csv, read_series_csv_path};
use acrm::prospecting::{
    AcquisitionOptions, Bass, BassMethod, BassOptions, BassTermination, GroupBy, PeakKind, Series,
};
use acrm::{Dataset, Error, Period, Problem, Scope};
use approx::assert_relative_eq;
use chrono::NaiveDate;
use serde_json::Value;

use crate::pool;

const DIR: &str = "tests/data/prospecting/bass";
/// Planted recovery on an exact series (issue 19's bar).
const RECOVERY: f64 = 1e-6;
/// NLS against scipy's curve_fit (issue 19's bar), relative.
const CURVE_FIT: f64 = 1e-5;
/// The 1969 regression against statsmodels, relative.
const OLS: f64 = 1e-8;

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn noisy() -> Series {
    read_series_csv_path(format!("{DIR}/series.csv"), "t", "new_customers").unwrap()
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn planted_curve_is_recovered_from_its_exact_series() {
    // clean.csv: m(F(t) − F(t−1)) of p = 0.03, q = 0.38, m = 1000, computed by numpy.
    let series = read_series_csv_path(format!("{DIR}/clean.csv"), "t", "new_customers").unwrap();
    let fit = BassOptions::new().fit(&series).unwrap();
    assert!(fit.report.termination.converged(), "{:?}", fit.report);
    assert_relative_eq!(fit.model.p(), 0.03, max_relative = RECOVERY);
    assert_relative_eq!(fit.model.q(), 0.38, max_relative = RECOVERY);
    assert_relative_eq!(fit.model.m(), 1000.0, max_relative = RECOVERY);
    assert!(fit.report.sse < 1e-12, "{}", fit.report.sse);
    // Also from the grid start (periods with a gap rule out the regression).
    let keep: Vec<usize> = (0..series.len()).filter(|&i| i != 3).collect();
    let gapped = Series::with_periods(
        keep.iter().map(|&i| series.periods()[i]).collect(),
        keep.iter().map(|&i| series.values()[i]).collect(),
    )
    .unwrap();
    let fit = BassOptions::new().fit(&gapped).unwrap();
    assert_relative_eq!(fit.model.p(), 0.03, max_relative = RECOVERY);
    assert_relative_eq!(fit.model.q(), 0.38, max_relative = RECOVERY);
    assert_relative_eq!(fit.model.m(), 1000.0, max_relative = RECOVERY);
}

#[test]
fn nls_matches_scipy_curve_fit() {
    let r = reference();
    let nls = &r["nls"];
    let fit = BassOptions::new()
        .horizon(10)
        .confidence(0.95)
        .fit(&noisy())
        .unwrap();
    let (m, rep) = (&fit.model, &fit.report);
    assert!(rep.termination.converged(), "{:?}", rep.termination);
    assert_eq!(rep.method, BassMethod::Nls);
    assert_eq!(rep.n, 30);
    // scipy.optimize.curve_fit (MINPACK LM), its pcov with absolute_sigma=False.
    assert_relative_eq!(m.p(), f(nls, "p"), max_relative = CURVE_FIT);
    assert_relative_eq!(m.q(), f(nls, "q"), max_relative = CURVE_FIT);
    assert_relative_eq!(m.m(), f(nls, "m"), max_relative = CURVE_FIT);
    assert_relative_eq!(
        rep.std_errors.p,
        f(&nls["se"], "p"),
        max_relative = CURVE_FIT
    );
    assert_relative_eq!(
        rep.std_errors.q,
        f(&nls["se"], "q"),
        max_relative = CURVE_FIT
    );
    assert_relative_eq!(
        rep.std_errors.m,
        f(&nls["se"], "m"),
        max_relative = CURVE_FIT
    );
    let cov: Vec<f64> = serde_json::from_value(nls["covariance"].clone()).unwrap();
    for (a, b) in rep.covariance.iter().zip(&cov) {
        assert_relative_eq!(*a, *b, max_relative = CURVE_FIT);
    }
    assert_relative_eq!(rep.sse, f(nls, "sse"), max_relative = 1e-10);
    assert_relative_eq!(rep.rmse, f(nls, "rmse"), max_relative = 1e-10);
    assert_relative_eq!(rep.peak.time, f(nls, "peak_time"), max_relative = CURVE_FIT);
    assert_relative_eq!(rep.peak.rate, f(nls, "peak_rate"), max_relative = CURVE_FIT);
    assert_eq!(rep.peak.kind, PeakKind::Interior);
    assert!(rep.regression.is_none());
    check_forecast(&rep.forecast, &nls["forecast"]);
}

/// Forecast rows against the reference's numeric delta-method bands (central
/// differences, scipy's Student t quantile).
fn check_forecast(rows: &[acrm::prospecting::ForecastRow], want: &Value) {
    let want = want.as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    for (row, w) in rows.iter().zip(want) {
        assert_relative_eq!(row.t, f(w, "t"));
        assert_relative_eq!(row.sales, f(w, "sales"), max_relative = CURVE_FIT);
        assert_relative_eq!(row.cumulative, f(w, "cumulative"), max_relative = CURVE_FIT);
        assert_relative_eq!(row.se, f(w, "se"), max_relative = CURVE_FIT);
        for (got, key) in [
            (row.low, "low"),
            (row.high, "high"),
            (row.cumulative_low, "cumulative_low"),
            (row.cumulative_high, "cumulative_high"),
        ] {
            // Absolute on the scale of the sales (a low end may be near 0).
            assert!(
                (got - f(w, key)).abs() <= CURVE_FIT * f(w, "sales").max(1.0),
                "t = {}: {key} {got} vs {}",
                row.t,
                f(w, key)
            );
        }
        assert!(row.low < row.sales && row.sales < row.high);
    }
}

#[test]
fn ols_matches_statsmodels() {
    let r = reference();
    let ols = &r["ols"];
    let fit = BassOptions::new()
        .method(BassMethod::Ols)
        .fit(&noisy())
        .unwrap();
    let rep = &fit.report;
    assert_eq!(rep.termination, BassTermination::ClosedForm);
    let reg = rep.regression.unwrap();
    // statsmodels OLS of S_t on 1, N_{t−1}, N_{t−1}²: params, bse, ssr, rsquared.
    for (got, key) in [
        (reg.a, "a"),
        (reg.b, "b"),
        (reg.c, "c"),
        (reg.se_a, "se_a"),
        (reg.se_b, "se_b"),
        (reg.se_c, "se_c"),
        (reg.rss, "rss"),
        (reg.r2, "r2"),
        (fit.model.p(), "p"),
        (fit.model.q(), "q"),
        (fit.model.m(), "m"),
    ] {
        assert_relative_eq!(got, f(ols, key), max_relative = OLS);
    }
    // p, q, m standard errors: analytic delta method vs numeric (central differences).
    assert_relative_eq!(rep.std_errors.p, f(&ols["se"], "p"), max_relative = OLS);
    assert_relative_eq!(rep.std_errors.q, f(&ols["se"], "q"), max_relative = OLS);
    assert_relative_eq!(rep.std_errors.m, f(&ols["se"], "m"), max_relative = OLS);
    assert_relative_eq!(rep.sse, f(ols, "sse"), max_relative = OLS);
    assert_relative_eq!(rep.rmse, f(ols, "rmse"), max_relative = OLS);
    assert_relative_eq!(rep.peak.time, f(ols, "peak_time"), max_relative = OLS);
    assert_relative_eq!(rep.peak.rate, f(ols, "peak_rate"), max_relative = OLS);
    check_forecast(&rep.forecast, &ols["forecast"]);
    // The least-squares fit has the smaller SSE, as it must.
    let nls = BassOptions::new().fit(&noisy()).unwrap();
    assert!(nls.report.sse < rep.sse);
}

#[test]
fn bad_series_are_typed_errors() {
    assert_eq!(Series::new(vec![]), Err(Error::EmptyInput));
    let e = Series::new(vec![3.0, -1.0, 4.0]).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { row: 1, field, .. } if field == "new customers"),
        "{e}"
    );
    let e = Series::new(vec![3.0, 1.0, f64::NAN]).unwrap_err();
    assert!(matches!(&e, Error::BadValue { row: 2, .. }), "{e}");
    let e = Series::with_periods(vec![1.0, 3.0, 2.0], vec![1.0, 2.0, 3.0]).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { row: 2, field, .. } if field == "period"),
        "{e}"
    );
    let e = Series::with_periods(vec![1.0, 2.0], vec![1.0, 2.0, 3.0]).unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { found: 2, .. }), "{e}");
    // Too short: three parameters and one residual degree of freedom need 4 periods.
    let short = Series::new(vec![10.0, 20.0, 25.0]).unwrap();
    let e = BassOptions::new().fit(&short).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                found: 3,
                expected: 4,
                ..
            }
        ),
        "{e}"
    );
    let zeros = Series::new(vec![0.0; 6]).unwrap();
    assert!(matches!(
        BassOptions::new().fit(&zeros),
        Err(Error::Degenerate { .. })
    ));
    // Growing without bound (Sₜ convex in Nₜ₋₁): the regression's c ≥ 0 has no finite
    // market.
    let growing = Series::new(vec![1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 2000.0, 20000.0]).unwrap();
    let e = BassOptions::new()
        .method(BassMethod::Ols)
        .fit(&growing)
        .unwrap_err();
    assert!(matches!(e, Error::Degenerate { .. }), "{e}");
    let e = BassOptions::new()
        .confidence(1.0)
        .fit(&noisy())
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "confidence",
                ..
            }
        ),
        "{e}"
    );
    assert!(Bass::new(0.0, 0.1, 10.0).is_err());
    assert!(Bass::new(0.01, -0.1, 10.0).is_err());
    assert!(Bass::new(0.01, 0.1, f64::INFINITY).is_err());
}

#[test]
fn series_reader_names_line_and_field() {
    let e = read_series_csv("t,n\n1,3\n2,-4\n".as_bytes(), "t", "n").unwrap_err();
    match e {
        Error::Row(r) => {
            assert_eq!(
                (r.line, r.field.as_str(), r.problem),
                (3, "n", Problem::Negative)
            );
        }
        other => panic!("{other}"),
    }
    let e = read_series_csv("t,n\n1,3\n1,4\n".as_bytes(), "t", "n").unwrap_err();
    assert!(
        matches!(&e, Error::Row(r) if r.line == 3 && r.problem == Problem::PeriodOrder),
        "{e}"
    );
    let e = read_series_csv("t,n\n1,3\n2,x\n".as_bytes(), "t", "n").unwrap_err();
    assert!(
        matches!(&e, Error::Row(r) if r.line == 3 && r.problem == Problem::BadNumber),
        "{e}"
    );
    let e = read_series_csv("t,n\n1,3\n".as_bytes(), "t", "m").unwrap_err();
    assert!(matches!(e, Error::MissingColumn { .. }), "{e}");
    assert_eq!(
        read_series_csv("t,n\n".as_bytes(), "t", "n"),
        Err(Error::EmptyInput)
    );
}

/// 40 seeded series from different curves, by a small LCG (no RNG crate needed).
fn many_series(count: usize) -> Vec<Series> {
    let mut state = 12345u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            let p = 0.002 + 0.03 * uniform();
            let q = 0.1 + 0.5 * uniform();
            let m = 500.0 + 5000.0 * uniform();
            let bass = Bass::new(p, q, m).unwrap();
            let values = (1..=25)
                .map(|t| {
                    let s = bass.sales(t as f64);
                    (s + (uniform() - 0.5) * 2.0 * s.sqrt()).max(0.0).round()
                })
                .collect();
            Series::new(values).unwrap()
        })
        .collect()
}

#[test]
fn fit_groups_is_index_aligned_and_thread_count_free() {
    let series = many_series(40);
    let opts = BassOptions::new().horizon(5);
    let one = pool(1).install(|| opts.fit_groups(&series));
    let two = pool(2).install(|| opts.fit_groups(&series));
    assert_eq!(one, two);
    for (s, r) in series.iter().zip(&one) {
        let fit = r.as_ref().unwrap();
        assert_eq!(fit, &opts.fit(s).unwrap());
        assert!(fit.report.termination.converged());
    }
}

#[test]
fn acquisition_series_by_channel_and_category() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let customer = |id: &str, channel: &str, category: &str| CustomerRecord {
        customer_id: id.into(),
        channel: Some(channel.into()),
        attributes: [("category".to_string(), category.to_string())].into(),
        ..CustomerRecord::default()
    };
    // Eight customers acquired (first purchase) over four quarters of 2023 and one in
    // 2024 Q1, after the as-of date's last complete quarter.
    let firsts = [
        ("a", "web", "retail", day(2023, 1, 10)),
        ("b", "web", "retail", day(2023, 2, 1)),
        ("c", "store", "retail", day(2023, 4, 3)),
        ("d", "web", "business", day(2023, 5, 5)),
        ("e", "web", "business", day(2023, 8, 30)),
        ("f", "store", "business", day(2023, 9, 1)),
        ("g", "store", "retail", day(2023, 12, 31)),
        ("h", "web", "retail", day(2023, 11, 2)),
        ("i", "web", "retail", day(2024, 1, 20)),
    ];
    let mut b = Dataset::builder().customers(
        firsts
            .iter()
            .map(|(id, ch, cat, _)| customer(id, ch, cat))
            .collect::<Vec<_>>(),
    );
    for (id, _, _, d) in firsts {
        // A return before the first purchase does not acquire; a later purchase does not
        // move the acquisition.
        b.push(TransactionRecord::new(
            id,
            d - chrono::Duration::days(1),
            -5.0,
        ))
        .unwrap();
        b.push(TransactionRecord::new(id, d, 10.0)).unwrap();
        b.push(TransactionRecord::new(
            id,
            d + chrono::Duration::days(40),
            10.0,
        ))
        .unwrap();
    }
    let data = b.build().unwrap().dataset;
    let view = data.view(&Scope::all());
    let opts = AcquisitionOptions::new(day(2024, 2, 15)).period(Period::Quarter);
    let by_channel = opts.clone().by(GroupBy::Channel).series(&view).unwrap();
    assert_eq!(by_channel.launch, day(2023, 1, 1));
    assert_eq!(by_channel.periods, 4);
    let labels: Vec<&str> = by_channel.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["store", "web"]);
    // Counted by hand from the table above.
    assert_eq!(by_channel.groups[0].series.values(), [0.0, 1.0, 1.0, 1.0]);
    assert_eq!(by_channel.groups[1].series.values(), [2.0, 1.0, 1.0, 1.0]);
    assert_eq!(by_channel.groups[1].after_last_period, 1);
    assert_eq!(by_channel.not_acquired, 0);
    // g, h and i buy for the first time after 2023-10-15: counted, not in any series.
    let earlier = AcquisitionOptions::new(day(2023, 10, 15))
        .period(Period::Quarter)
        .series(&view)
        .unwrap();
    assert_eq!(earlier.not_acquired, 3);
    assert_eq!(earlier.groups[0].series.values(), [2.0, 2.0, 2.0]);
    let by_category = opts
        .clone()
        .by(GroupBy::Attribute("category".into()))
        .series(&view)
        .unwrap();
    assert_eq!(by_category.groups[0].label, "business");
    assert_eq!(by_category.groups[0].series.values(), [0.0, 1.0, 2.0, 0.0]);
    assert_eq!(by_category.groups[1].series.values(), [2.0, 1.0, 0.0, 2.0]);
    // Yearly periods: 2023 complete, 2024 not.
    let yearly = opts.clone().period(Period::Year).series(&view).unwrap();
    assert_eq!(yearly.periods, 1);
    assert_eq!(yearly.groups[0].series.values(), [8.0]);
    // Fitting: one year is too short for any group; the error is kept per group.
    let fc = opts
        .period(Period::Year)
        .by(GroupBy::Channel)
        .fit(&view, &BassOptions::new())
        .unwrap();
    assert_eq!(fc.groups.len(), 2);
    assert!(fc
        .groups
        .iter()
        .all(|g| g.fit.is_none() && g.error.is_some()));
    assert!(fc.groups[0].group.series.scope().is_some());
    // A hidden channel column is an error naming it.
    let hidden = Scope::all().hide(acrm::data::ColumnSet::parse_list("channel").unwrap());
    let e = AcquisitionOptions::new(day(2024, 2, 15))
        .by(GroupBy::Channel)
        .series(&data.view(&hidden))
        .unwrap_err();
    assert!(matches!(e, Error::HiddenColumn { .. }), "{e}");
}

#[test]
fn acquisition_forecast_fits_monthly_series() {
    // 36 months of first purchases following a planted curve (one customer per unit of
    // the rounded expected sales), fitted per channel.
    let bass = Bass::new(0.01, 0.3, 400.0).unwrap();
    let mut b = Dataset::builder();
    let mut id = 0;
    for month in 0..36u32 {
        let n = bass.sales(f64::from(month + 1)).round() as usize;
        for k in 0..n {
            let date = NaiveDate::from_ymd_opt(2020 + (month / 12) as i32, month % 12 + 1, 1)
                .unwrap()
                + chrono::Duration::days((k % 28) as i64);
            b.push(TransactionRecord::new(format!("c{id}"), date, 1.0))
                .unwrap();
            id += 1;
        }
    }
    let data = b.build().unwrap().dataset;
    let fc = AcquisitionOptions::new(NaiveDate::from_ymd_opt(2022, 12, 31).unwrap())
        .fit(&data.view(&Scope::all()), &BassOptions::new().horizon(6))
        .unwrap();
    assert_eq!(fc.periods, 36);
    let fit = fc.groups[0].fit.as_ref().unwrap();
    // Rounding to whole customers moves the estimates a little.
    assert_relative_eq!(fit.model.p(), 0.01, max_relative = 0.05);
    assert_relative_eq!(fit.model.q(), 0.3, max_relative = 0.05);
    assert_relative_eq!(fit.model.m(), 400.0, max_relative = 0.05);
    assert_eq!(fit.report.forecast.len(), 6);
    assert!(fit.report.scope.is_some());
}

#[test]
fn the_examples_json_path() {
    // examples/forecast.rs: read `t` and the named column, fit, serialise the forecast.
    let series = read_series_csv_path(format!("{DIR}/series.csv"), "t", "new_customers").unwrap();
    let fit = BassOptions::new()
        .method(BassMethod::Ols)
        .horizon(2)
        .fit(&series)
        .unwrap();
    let rows = serde_json::to_value(&fit.report.forecast).unwrap();
    for key in ["t", "sales", "cumulative", "low", "high"] {
        assert!(rows[0][key].is_number(), "{key} in {rows}");
    }
    assert_eq!(rows[1]["t"].as_f64(), Some(32.0));
    let back: acrm::prospecting::BassReport =
        serde_json::from_value(serde_json::to_value(&fit.report).unwrap()).unwrap();
    assert_eq!(back, fit.report);
    let e = read_series_csv_path(format!("{DIR}/series.csv"), "t", "customers").unwrap_err();
    assert!(matches!(e, Error::MissingColumn { .. }), "{e}");
}

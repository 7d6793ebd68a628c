//! Holdout scorecard and tracking series against an independent computation.
//!
//! Source: tests/data/persistency/scorecard_cdnow.json, made by
//! tests/data/persistency/make_scorecard_reference.py from CDNOW_sample.txt with mpmath
//! (40 digits) and cross-checked against lifetimes 0.11.3 (agreement to 1e-13), at the
//! BG/NBD maximum-likelihood estimates; calibration to 1997-09-30, holdout to 1998-06-30.

use acrm::io::CsvOptions;
use acrm::persistency::{BgNbd, Scorecard, Tracking};
use acrm::{Scope, SplitOptions, Weeks};
use approx::assert_relative_eq;
use chrono::NaiveDate;

use crate::persistency::{f, reference, DATA};

#[test]
fn cdnow_scorecard_and_tracking_match_the_reference() {
    let r = reference("scorecard_cdnow.json");
    let p = &r["params"];
    let bg = BgNbd::new(f(&p["r"]), f(&p["alpha"]), f(&p["a"]), f(&p["b"])).unwrap();
    let data = CsvOptions::cdnow_sample()
        .read_path(format!("{DATA}/cdnow/CDNOW_sample.txt"))
        .unwrap()
        .dataset;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let all = data.view(&Scope::all());
    let split = SplitOptions::new(date(1997, 9, 30), date(1998, 6, 30))
        .compute::<Weeks>(&all)
        .unwrap();
    let records = split.calibration.records();
    let horizon = split.holdout.length().value();
    let card =
        Scorecard::compute_records(&bg, &records, &split.holdout.purchases, horizon).unwrap();

    let want = &r["scorecard"];
    assert_eq!(card.customers, 2357);
    assert_eq!(card.actual_total, want["actual_total"].as_u64().unwrap());
    assert_relative_eq!(card.horizon, f(&want["horizon"]), max_relative = 1e-15);
    for (got, key) in [
        (card.mae, "mae"),
        (card.rmse, "rmse"),
        (card.bias, "bias"),
        (card.correlation.unwrap(), "correlation"),
        (card.predicted_total, "predicted_total"),
    ] {
        assert_relative_eq!(got, f(&want[key]), max_relative = 1e-12);
    }
    let rows = want["by_frequency"].as_array().unwrap();
    assert_eq!(card.by_frequency.len(), rows.len());
    for (got, w) in card.by_frequency.iter().zip(rows) {
        assert_eq!(got.frequency, w["frequency"].as_str().unwrap());
        assert_eq!(got.customers as u64, w["customers"].as_u64().unwrap());
        assert_relative_eq!(
            got.mean_predicted,
            f(&w["mean_predicted"]),
            max_relative = 1e-12
        );
        assert_relative_eq!(got.mean_actual, f(&w["mean_actual"]), max_relative = 1e-14);
    }

    let track = Tracking::compute(&bg, &all, &split).unwrap();
    let points = r["tracking"]["points"].as_array().unwrap();
    assert_eq!(track.t.len(), points.len());
    for (k, w) in points.iter().enumerate() {
        assert_eq!(track.dates[k].to_string(), w["date"].as_str().unwrap());
        assert_relative_eq!(track.t[k], f(&w["t"]), max_relative = 1e-15);
        assert_relative_eq!(track.actual[k], f(&w["actual"]), max_relative = 1e-15);
        assert_relative_eq!(track.predicted[k], f(&w["predicted"]), max_relative = 1e-12);
    }
    // Every calibration repeat purchase and holdout purchase is on the curve's last point.
    assert_relative_eq!(
        *track.actual.last().unwrap(),
        (split.calibration.repeat_purchases() + split.holdout.total_purchases()) as f64
    );
    assert_eq!(track.calibration_end, date(1997, 9, 30));

    // A split of another dataset, mismatched lengths and horizons are typed errors.
    let other = CsvOptions::cdnow_master()
        .read_path(format!("{DATA}/cdnow/CDNOW_master.txt"))
        .unwrap()
        .dataset;
    assert!(Tracking::compute(&bg, &other.view(&Scope::all()), &split).is_err());
    assert!(
        Scorecard::compute_records(&bg, &records, &split.holdout.purchases[1..], horizon).is_err()
    );
    assert!(Scorecard::compute_records(&bg, &records, &split.holdout.purchases, 0.0).is_err());
}

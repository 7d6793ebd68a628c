//! Campaign results per arm against statsmodels 0.15.0 and scipy 1.17.1: Wilson
//! intervals (`proportion_confint(method="wilson")`), pooled z (`proportions_ztest`),
//! unpooled z (`test_proportions_2indep(method="wald")`), χ² with and without Yates
//! (`chi2_contingency`), Wald and Newcombe intervals of the difference
//! (`confint_proportions_2indep(method="wald"/"newcomb")`), Welch's t (`ttest_ind(
//! equal_var=False)`) and sample sizes (`NormalIndPower` with `proportion_effectsize`).
//! The reference numbers are in tests/data/promotion/campaign/reference.json, made by
//! reference.py there from campaign.csv and campaigns.csv (seeded, made by generate.py;
//! provenance in README.md). Tolerance 1e-10 relative throughout.

use acrm::data::{
    AreaSet, CampaignContactRecord, CampaignContacts, Column, ColumnSet, Dataset, OwnershipRecord,
    Scope, TransactionRecord,
};
use acrm::io::{read_campaigns_path, CampaignContactCsv};
use acrm::promotion::{
    CampaignGroup, CampaignGrouping, CampaignOptions, CampaignResults, CostSource,
    SampleSizeOptions, ValueSource, ANY_ARM, WINDOW_OUTCOME,
};
use acrm::{Error, Problem};
use chrono::NaiveDate;
use serde_json::Value;

use crate::pool;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/promotion/campaign/"
);
/// Every reference number, relative.
const TOL: f64 = 1e-10;

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}reference.json")).unwrap()).unwrap()
}

fn contacts() -> CampaignContacts {
    CampaignContactCsv::new()
        .outcome("click")
        .outcome("purchase")
        .value("revenue")
        .read_path(format!("{DIR}campaign.csv"))
        .unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(what: &str, got: f64, want: f64) {
    let ok = if want == 0.0 {
        got.abs() <= 1e-15
    } else {
        (got - want).abs() <= TOL * want.abs()
    };
    assert!(ok, "{what}: {got} vs {want}");
}

fn close_opt(what: &str, got: Option<f64>, want: &Value) {
    match (got, want.as_f64()) {
        (Some(g), Some(w)) => close(what, g, w),
        (None, None) => {}
        (g, _) => panic!("{what}: {g:?} vs {want}"),
    }
}

fn check_group(got: &CampaignGroup, want: &Value) {
    let g = want["group"].as_str().unwrap();
    assert_eq!(got.group, g);
    let arms = want["arms"].as_array().unwrap();
    assert_eq!(got.arms.len(), arms.len(), "{g}: arms");
    for (a, w) in got.arms.iter().zip(arms) {
        let what = format!("{g} {}", a.arm);
        assert_eq!(a.arm, w["arm"].as_str().unwrap());
        assert_eq!(a.n, w["n"].as_u64().unwrap(), "{what}");
        for (name, o) in w["outcomes"].as_object().unwrap() {
            let r = &a.outcomes[name];
            let what = format!("{what} {name}");
            assert_eq!(r.responders, o["responders"].as_u64().unwrap(), "{what}");
            close(&what, r.rate, f(&o["rate"]));
            close(&what, r.ci_low, f(&o["ci_low"]));
            close(&what, r.ci_high, f(&o["ci_high"]));
        }
        close(&what, a.revenue.unwrap(), f(&w["revenue"]));
        close(&what, a.mean_value.unwrap(), f(&w["mean_value"]));
    }
    let comps = want["comparisons"].as_array().unwrap();
    assert_eq!(got.comparisons.len(), comps.len(), "{g}: comparisons");
    for (c, w) in got.comparisons.iter().zip(comps) {
        let what = format!("{g} {} {}", c.arm, c.outcome);
        assert_eq!(c.arm, w["arm"].as_str().unwrap());
        assert_eq!(c.outcome, w["outcome"].as_str().unwrap());
        assert_eq!(c.control, "control");
        for (key, got) in [
            ("rate_treatment", c.rate_treatment),
            ("rate_control", c.rate_control),
            ("lift", c.lift),
            ("incremental", c.incremental),
        ] {
            close(&format!("{what} {key}"), got, f(&w[key]));
        }
        for (key, got) in [
            ("relative_lift", c.relative_lift),
            ("z_pooled", c.z_pooled),
            ("p_pooled", c.p_pooled),
            ("z_unpooled", c.z_unpooled),
            ("p_unpooled", c.p_unpooled),
            ("chi2", c.chi2),
            ("p_chi2", c.p_chi2),
            ("chi2_yates", c.chi2_yates),
            ("p_chi2_yates", c.p_chi2_yates),
            ("welch_t", c.welch_t),
            ("welch_p", c.welch_p),
            ("cost", c.cost),
            ("cpa_all", c.cpa_all),
            ("cpa_incremental", c.cpa_incremental),
            ("incremental_margin", c.incremental_margin),
            ("roi", c.roi),
        ] {
            close_opt(&format!("{what} {key}"), got, &w[key]);
        }
        for (key, got) in [
            ("diff_ci_wald", c.diff_ci_wald),
            ("diff_ci_newcombe", c.diff_ci_newcombe),
        ] {
            close(&format!("{what} {key} low"), got[0], f(&w[key][0]));
            close(&format!("{what} {key} high"), got[1], f(&w[key][1]));
        }
    }
}

fn options(r: &Value) -> CampaignOptions<'static> {
    CampaignOptions::new()
        .control("control")
        .outcome("click")
        .outcome("purchase")
        .pool_treated(true)
        .cost_per_contact(f(&r["cost_per_contact"]))
        .margin(f(&r["margin"]))
}

/// Every arm and comparison of the whole file against statsmodels / scipy.
#[test]
fn all_contacts_match_statsmodels_and_scipy() {
    let r = reference();
    let contacts = contacts();
    let data = Dataset::default();
    let view = contacts.view(&data.view(&Scope::all()));
    let result = options(&r).compute(&view).unwrap();
    assert_eq!(result.groups.len(), 1);
    assert_eq!(result.value, ValueSource::Given);
    assert_eq!(result.cost_source, CostSource::PerContact);
    assert_eq!(result.scope.customers, 3600);
    check_group(&result.groups[0], &r["groups"][0]);
    // Without a cost the economics are null, the rest unchanged.
    let bare = CampaignOptions::new()
        .pool_treated(true)
        .compute(&view)
        .unwrap();
    let c = bare.groups[0].comparison(ANY_ARM, "purchase").unwrap();
    assert!(c.cost.is_none() && c.cpa_all.is_none() && c.roi.is_none());
    assert_eq!(
        c.z_pooled,
        result.groups[0]
            .comparison(ANY_ARM, "purchase")
            .unwrap()
            .z_pooled
    );
}

/// Grouped by campaign type × product: each group against statsmodels / scipy.
#[test]
fn type_product_groups_match_statsmodels_and_scipy() {
    let r = reference();
    let contacts = contacts();
    let campaigns = read_campaigns_path(format!("{DIR}campaigns.csv")).unwrap();
    let data = Dataset::default();
    let view = contacts.view(&data.view(&Scope::all()));
    let result = options(&r)
        .by(CampaignGrouping::TypeProduct)
        .campaigns(&campaigns)
        .compute(&view)
        .unwrap();
    let want = r["groups"].as_array().unwrap();
    assert_eq!(result.groups.len(), want.len() - 1);
    for (g, w) in result.groups.iter().zip(&want[1..]) {
        check_group(g, w);
    }
    let g = result.group("email / heat_pumps").unwrap();
    assert_eq!(
        (g.kind.as_deref(), g.product.as_deref()),
        (Some("email"), Some("heat_pumps"))
    );
    // Without campaigns the grouping is refused.
    assert!(matches!(
        CampaignOptions::new()
            .by(CampaignGrouping::TypeProduct)
            .validate(),
        Err(Error::InvalidOption { option: "by", .. })
    ));
}

/// Sample sizes: statsmodels NormalIndPower with Cohen's h (solved to full precision by
/// scipy brentq on statsmodels' power function), and the unpooled closed form with scipy
/// normal quantiles.
#[test]
fn sample_sizes_match_statsmodels_normal_ind_power() {
    let r = reference();
    for w in r["sample_sizes"].as_array().unwrap() {
        let plan = SampleSizeOptions::new(f(&w["baseline"]), f(&w["lift"]))
            .power(f(&w["power"]))
            .alpha(f(&w["alpha"]))
            .ratio(f(&w["ratio"]))
            .compute()
            .unwrap();
        let what = format!("{w}");
        close(&what, plan.cohen_h, f(&w["cohen_h"]));
        close(&what, plan.arcsine.n_treatment, f(&w["n_cohen_h"]));
        close(&what, plan.unpooled.n_treatment, f(&w["n_unpooled"]));
        // statsmodels' own solve_power stops at its solver's tolerance.
        let solved = f(&w["n_cohen_h_solve_power"]);
        assert!((plan.arcsine.n_treatment - solved).abs() <= 1e-8 * solved);
        assert_eq!(
            plan.arcsine.n_treatment_planned,
            f(&w["n_cohen_h"]).ceil() as u64
        );
        close(
            &what,
            plan.arcsine.n_control,
            f(&w["n_cohen_h"]) * f(&w["ratio"]),
        );
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

/// A hand-built log: the response window counts purchases from the contact's day for
/// `days` days, sums their revenue, ignores returns and purchases before the contact.
fn window_data() -> (Dataset, CampaignContacts) {
    let t = |c: &str, d: NaiveDate, a: f64| TransactionRecord::new(c, d, a);
    let mut b = Dataset::builder();
    b.extend([
        // a: buys on the contact day and 6 days later (both in a 7-day window), and on
        // day 7 after (outside).
        t("a", day(3, 1), 10.0),
        t("a", day(3, 7), 5.0),
        t("a", day(3, 8), 100.0),
        // b: bought before the contact only, returns inside the window.
        t("b", day(2, 20), 40.0),
        t("b", day(3, 3), -40.0),
        // c: buys 3 days after the contact.
        t("c", day(3, 4), 25.0),
        // d: never in the window.
        t("d", day(5, 1), 8.0),
        // e: buys inside.
        t("e", day(3, 2), 12.5),
    ])
    .unwrap();
    let mut data = b.build().unwrap().dataset;
    data.assign_owners([
        OwnershipRecord::new("a", "ann"),
        OwnershipRecord::new("b", "ann"),
        OwnershipRecord::new("c", "bob"),
        OwnershipRecord::new("d", "bob"),
        OwnershipRecord::new("e", "ann"),
    ])
    .unwrap();
    let contact = |c: &str, arm: &str| {
        CampaignContactRecord::new("spring", Some(c), arm)
            .date(day(3, 1))
            .cost(2.0)
    };
    let contacts = CampaignContacts::new([
        contact("a", "treatment"),
        contact("b", "treatment"),
        contact("c", "treatment"),
        contact("d", "control"),
        contact("e", "control"),
        // Not in the dataset: no purchase, value 0.
        contact("zed", "control"),
    ])
    .unwrap();
    (data, contacts)
}

#[test]
fn response_window_reads_purchases_after_the_contact() {
    let (data, contacts) = window_data();
    let view = contacts.view(&data.view(&Scope::all()));
    assert_eq!(view.len(), 6);
    let got: Vec<(bool, f64, bool)> = (0..view.len())
        .map(|k| {
            let r = view.response(k, 7).unwrap();
            (r.responded, r.value, r.matched)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (true, 15.0, true),
            (false, 0.0, true),
            (true, 25.0, true),
            (false, 0.0, true),
            (true, 12.5, true),
            (false, 0.0, false),
        ]
    );
    // One day: only the contact day itself.
    assert!(view.response(0, 1).unwrap().responded);
    assert!(!view.response(2, 1).unwrap().responded);
    let result = CampaignOptions::new()
        .control("control")
        .window(7)
        .compute(&view)
        .unwrap();
    assert_eq!(result.outcomes, vec![WINDOW_OUTCOME.to_string()]);
    assert_eq!(result.value, ValueSource::Window);
    assert_eq!(result.cost_source, CostSource::RowCosts);
    assert_eq!(result.unmatched_contacts, 1);
    let g = &result.groups[0];
    let t = g.arm("treatment").unwrap();
    assert_eq!((t.n, t.outcomes[WINDOW_OUTCOME].responders), (3, 2));
    close("revenue", t.revenue.unwrap(), 40.0);
    close("cost", t.cost.unwrap(), 6.0);
    let c = g.arm("control").unwrap();
    assert_eq!((c.n, c.outcomes[WINDOW_OUTCOME].responders), (3, 1));
    let cmp = g.comparison("treatment", WINDOW_OUTCOME).unwrap();
    close("incremental", cmp.incremental, 1.0);
    close("cpa_all", cmp.cpa_all.unwrap(), 3.0);
    close("cpa_incremental", cmp.cpa_incremental.unwrap(), 6.0);
    // No dates: a window is refused, naming the column.
    let undated =
        CampaignContacts::new([CampaignContactRecord::new("s", Some("a"), "control")]).unwrap();
    let v = undated.view(&data.view(&Scope::all()));
    assert!(matches!(
        CampaignOptions::new().window(7).compute(&v),
        Err(Error::MissingColumn { column, .. }) if column == "date"
    ));
}

/// A salesperson's view: only their customers' contacts, and the result says so.
#[test]
fn scope_reaches_only_the_owners_customers() {
    let (data, contacts) = window_data();
    let scope = Scope::of_owners("owner", "ann", ["ann"]);
    let customers = data.view(&scope);
    let view = contacts.view(&customers);
    let ids: Vec<&str> = (0..view.len()).filter_map(|k| view.customer(k)).collect();
    assert_eq!(ids, vec!["a", "b", "e"]);
    let result = CampaignOptions::new().window(7).compute(&view).unwrap();
    assert_eq!(result.scope.kind, "owner");
    assert_eq!(result.scope.id.as_deref(), Some("ann"));
    assert_eq!(result.scope.customers, 3);
    assert_eq!(result.unmatched_contacts, 0);
    let g = &result.groups[0];
    assert_eq!(g.arm("treatment").unwrap().n, 2);
    assert_eq!(g.arm("control").unwrap().n, 1);
    // A scope that forbids promotion, or hides margins when a margin is asked for.
    let forbidden = Scope::all().forbid(AreaSet::parse_list("promotion").unwrap());
    let v = contacts.view(&data.view(&forbidden));
    assert!(matches!(
        CampaignOptions::new().window(7).compute(&v),
        Err(Error::ForbiddenArea { .. })
    ));
    let hidden = Scope::all().hide([Column::Margin].into_iter().collect::<ColumnSet>());
    let v = contacts.view(&data.view(&hidden));
    assert!(matches!(
        CampaignOptions::new().window(7).margin(0.3).compute(&v),
        Err(Error::HiddenColumn {
            column: Column::Margin,
            ..
        })
    ));
}

fn row_error(e: Error) -> (u64, String, String, Problem) {
    match e {
        Error::Row(r) => (r.line, r.field, r.value, r.problem),
        e => panic!("not a row error: {e}"),
    }
}

#[test]
fn bad_files_and_options_are_typed_errors() {
    let head = "customer,arm,bought,value\n";
    let read = |arm: &str, body: &str| {
        CampaignContactCsv::new()
            .arm(arm)
            .outcome("bought")
            .value("value")
            .read(format!("{head}{body}").as_bytes())
    };
    // An arm column the header lacks.
    match read("group", "a,control,0,0\n").unwrap_err() {
        Error::MissingColumn { column, available } => {
            assert_eq!(column, "group");
            assert_eq!(available, vec!["customer", "arm", "bought", "value"]);
        }
        e => panic!("{e}"),
    }
    // An empty arm, a non-0/1 outcome, a value that is not a number.
    assert_eq!(
        row_error(read("arm", "a,control,0,0\nb,,1,3\n").unwrap_err()),
        (3, "arm".into(), "".into(), Problem::EmptyValue)
    );
    assert_eq!(
        row_error(read("arm", "a,control,0,0\nb,offer,0.5,3\n").unwrap_err()),
        (3, "bought".into(), "0.5".into(), Problem::NotFlag)
    );
    assert_eq!(
        row_error(read("arm", "a,control,0,0\nb,offer,1,3x\n").unwrap_err()),
        (3, "value".into(), "3x".into(), Problem::BadNumber)
    );
    // A control label that no arm has.
    let contacts = read("arm", "a,control,0,0\nb,offer,1,3\n").unwrap();
    let data = Dataset::default();
    let view = contacts.view(&data.view(&Scope::all()));
    match CampaignOptions::new().control("holdout").compute(&view) {
        Err(Error::InvalidOption {
            option,
            value,
            allowed,
        }) => {
            assert_eq!((option, value.as_str()), ("control", "\"holdout\""));
            assert!(allowed.contains("control") && allowed.contains("offer"));
        }
        other => panic!("{other:?}"),
    }
    // An outcome the contacts do not give.
    assert!(matches!(
        CampaignOptions::new().outcome("click").compute(&view),
        Err(Error::MissingColumn { column, .. }) if column == "click"
    ));
    // Records: a negative cost names the record and field.
    let bad = CampaignContacts::new([
        CampaignContactRecord::new("s", Some("a"), "control").cost(1.0),
        CampaignContactRecord::new("s", Some("b"), "offer").cost(-1.0),
    ]);
    assert_eq!(
        row_error(bad.unwrap_err()),
        (2, "cost".into(), "-1".into(), Problem::Negative)
    );
    for bad in [
        CampaignOptions::new().confidence(1.0),
        CampaignOptions::new().margin(1.5),
        CampaignOptions::new().cost_per_contact(f64::NAN),
        CampaignOptions::new().window(0),
    ] {
        assert!(matches!(bad.validate(), Err(Error::InvalidOption { .. })));
    }
}

/// Undefined figures are `None`, never NaN: a control without responders (relative
/// lift), arms without any response (tests), no incremental responders (CPA).
#[test]
fn undefined_figures_are_none() {
    let mut records = Vec::new();
    for i in 0..20 {
        let arm = if i < 10 { "control" } else { "offer" };
        records.push(
            CampaignContactRecord::new("s", Some(&format!("c{i}")), arm)
                .outcome("buy", false)
                .outcome("open", i % 2 == 0)
                .value(if i % 2 == 0 { 1.0 } else { 0.0 }),
        );
    }
    let contacts = CampaignContacts::new(records).unwrap();
    let data = Dataset::default();
    let view = contacts.view(&data.view(&Scope::all()));
    let r = CampaignOptions::new()
        .cost_per_contact(1.0)
        .margin(0.5)
        .compute(&view)
        .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("NaN") && !json.contains("null,null,null,null,null,null,null"));
    let buy = r.groups[0].comparison("offer", "buy").unwrap();
    assert!(buy.relative_lift.is_none() && buy.z_pooled.is_none() && buy.chi2.is_none());
    assert!(buy.cpa_all.is_none() && buy.cpa_incremental.is_none());
    assert!(buy.diff_ci_wald.iter().all(|x| x.abs() < 1e-300));
    assert!(buy.diff_ci_newcombe[0] < 0.0 && buy.diff_ci_newcombe[1] > 0.0);
    // Same mean value in both arms: no incremental margin, ROI −1.
    close("roi", buy.roi.unwrap(), -1.0);
    let open = r.groups[0].comparison("offer", "open").unwrap();
    close("open lift", open.lift, 0.0);
    assert!(open.z_pooled.is_some() && open.cpa_incremental.is_none());
}

fn big() -> CampaignContacts {
    // 30,000 contacts in three arms over two campaigns, deterministic pseudo-random
    // outcomes (several of the 4,096-row chunks the sums run over).
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let records: Vec<CampaignContactRecord> = (0..30_000)
        .map(|i| {
            let arm = ["control", "a", "b"][i % 3];
            let u = next();
            CampaignContactRecord::new(["x", "y"][i % 2], Some(&format!("c{i}")), arm)
                .outcome("click", u < 0.1 + 0.02 * (i % 3) as f64)
                .outcome("buy", u < 0.03 + 0.01 * (i % 3) as f64)
                .value(if u < 0.03 { 50.0 * next() } else { 0.0 })
        })
        .collect();
    CampaignContacts::new(records).unwrap()
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let contacts = big();
    let data = Dataset::default();
    let view = contacts.view(&data.view(&Scope::all()));
    let opts = CampaignOptions::new()
        .pool_treated(true)
        .cost_per_contact(0.2)
        .margin(0.4)
        .by(CampaignGrouping::Campaign);
    let one: CampaignResults = pool(1).install(|| opts.compute(&view).unwrap());
    let two: CampaignResults = pool(2).install(|| opts.compute(&view).unwrap());
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    assert_eq!(one.groups.len(), 2);
    assert_eq!(one.groups[0].arms.len(), 4);
}

/// Values whose sum overflows make the arm's revenue and mean undefined: a typed error
/// naming the arm, not an infinite mean.
#[test]
fn overflowing_values_are_a_typed_error() {
    let records = (0..4).map(|i| {
        let arm = if i < 2 { "control" } else { "offer" };
        CampaignContactRecord::new("s", Some(&format!("c{i}")), arm)
            .outcome("buy", i % 2 == 0)
            .value(if i >= 2 { 1.5e308 } else { 1.0 })
    });
    let contacts = CampaignContacts::new(records).unwrap();
    let data = Dataset::default();
    let e = CampaignOptions::new()
        .compute(&contacts.view(&data.view(&Scope::all())))
        .unwrap_err();
    assert!(
        matches!(&e, Error::Degenerate { input, reason } if input == "value" && reason.contains("offer")),
        "{e}"
    );
}

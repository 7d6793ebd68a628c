//! Access scopes, over random organisations, ownership histories and scopes (proptest):
//!
//! - no customer outside a scope appears in any output of any analysis (summary, RFM,
//!   tiers, profit, habits and risk, clusters, churn, survival, cohorts, baskets,
//!   cross-sell, affinity, elasticity);
//! - the owners' scopes, which partition the customers, add up to the `all` scope exactly
//!   (revenue, profit, counts);
//! - a handover moves the customer's whole history to the new owner;
//! - a hidden column cannot be reached through any public call: each attempt is
//!   `Error::HiddenColumn` naming the column and the scope;
//! - results are the same bits for one and two threads, scoped or not.
//!
//! The oracle of membership is written from the definition (a customer belongs to the
//! owner of their latest assignment on or before the scope's date) over the generated
//! records, independently of the library's ownership index. Amounts, costs and every cost
//! to serve are multiples of 1/8 below 2^20, so every sum is exact in f64 whatever the
//! order: the sums of the parts must equal the whole to the last bit.

use std::collections::{BTreeMap, BTreeSet};

use acrm::data::{
    Area, AreaSet, Column, ColumnSet, Dataset, OwnershipRecord, ProductRecord, Reach, RoleRecord,
    Scope, ScopeSpec, TransactionRecord, UnitRecord, UserRecord, View,
};
use acrm::data::{Organisation, Rows};
use acrm::io::write_transactions_csv;
use acrm::persistency::{ChurnFeatureOptions, CohortOptions, KaplanMeierOptions, LifetimeOptions};
use acrm::product::{
    AffinityOptions, BasketKey, BasketOptions, CoPurchaseOptions, CrossSellOptions, ElasticityBy,
    ElasticityOptions, FpGrowthOptions, RuleOptions,
};
use acrm::profiling::{
    ClusterOptions, FeatureOptions, HabitOptions, RfmOptions, RiskOptions, TierOptions,
};
use acrm::profitability::{CostOfGoods, ProfitOptions};
use acrm::{Days, Error, SplitOptions, SummaryOptions};
use chrono::NaiveDate;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(day)
}

/// A random organisation (branches → teams → owners), customers with histories, and
/// ownership records with some handovers.
struct Case {
    org: Organisation,
    owners: Vec<String>,
    teams: Vec<(String, Vec<String>)>,
    branches: Vec<(String, Vec<String>)>,
    data: Dataset,
    /// Per customer: (owner from the start, optional (handover day, new owner)).
    ownership: BTreeMap<String, (String, Option<(i64, String)>)>,
    /// Per customer, its number of transactions.
    rows: BTreeMap<String, usize>,
}

fn eighths(rng: &mut Xoshiro256PlusPlus, lo: i32, hi: i32) -> f64 {
    f64::from(rng.gen_range(lo * 8..hi * 8)) / 8.0
}

fn case(seed: u64) -> Case {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut units, mut users) = (Vec::new(), Vec::new());
    let (mut owners, mut teams, mut branches) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..rng.gen_range(1..=3) {
        let branch = format!("b{b}");
        units.push(UnitRecord {
            id: branch.clone(),
            level: "branch".into(),
            parent: None,
        });
        let mut branch_owners = Vec::new();
        for t in 0..rng.gen_range(1..=3) {
            let team = format!("t{b}{t}");
            units.push(UnitRecord {
                id: team.clone(),
                level: "team".into(),
                parent: Some(branch.clone()),
            });
            let mut team_owners = Vec::new();
            for o in 0..rng.gen_range(1..=3) {
                let owner = format!("s{b}{t}{o}");
                users.push(UserRecord {
                    id: owner.clone(),
                    unit: Some(team.clone()),
                    role: Some("sales".into()),
                });
                team_owners.push(owner.clone());
                owners.push(owner);
            }
            branch_owners.extend(team_owners.clone());
            teams.push((team, team_owners));
        }
        branches.push((branch, branch_owners));
    }
    let roles = [RoleRecord {
        name: "sales".into(),
        reach: Reach::Own,
        hidden_columns: ColumnSet::new(),
        forbidden_areas: AreaSet::new(),
    }];
    let org = Organisation::new(units, users, roles).unwrap();

    let products = (0..5).map(|p| ProductRecord {
        product_id: format!("p{p}"),
        category: Some(format!("c{}", p % 2)),
        unit_cost: Some(1.0),
    });
    let mut b = Dataset::builder().products(products).unwrap();
    let n = rng.gen_range(8..40);
    let mut ownership = BTreeMap::new();
    let mut rows = BTreeMap::new();
    let mut order = 0;
    for c in 0..n {
        let id = format!("c{c:02}");
        let k = rng.gen_range(1..8);
        for _ in 0..k {
            let day = rng.gen_range(0..400);
            // Mostly purchases, some free items (0) and returns (< 0).
            let amount = match rng.gen_range(0..10) {
                0 => 0.0,
                1 => -eighths(&mut rng, 1, 30),
                _ => eighths(&mut rng, 1, 200),
            };
            order += 1;
            b.push(TransactionRecord {
                cost: Some(eighths(&mut rng, 0, 50)),
                quantity: Some(f64::from(rng.gen_range(1..4))),
                product_id: Some(format!("p{}", rng.gen_range(0..5))),
                channel: Some(format!("ch{}", rng.gen_range(0..2))),
                region: Some(format!("r{}", rng.gen_range(0..2))),
                order_id: Some(format!("o{order}")),
                ..TransactionRecord::new(id.as_str(), date(day), amount)
            })
            .unwrap();
        }
        rows.insert(id.clone(), k);
        let first = owners[rng.gen_range(0..owners.len())].clone();
        let handover = rng.gen_bool(0.3).then(|| {
            (
                rng.gen_range(50..350),
                owners[rng.gen_range(0..owners.len())].clone(),
            )
        });
        ownership.insert(id, (first, handover));
    }
    let mut data = b.build().unwrap().dataset;
    let records = ownership.iter().flat_map(|(c, (first, handover))| {
        let mut r = vec![OwnershipRecord::new(c.as_str(), first.as_str())];
        if let Some((day, to)) = handover {
            r.push(OwnershipRecord::new(c.as_str(), to.as_str()).since(date(*day)));
        }
        r
    });
    let mut records: Vec<OwnershipRecord> = records.collect();
    org.sort_ownership(&mut records);
    let report = data.assign_owners(records).unwrap();
    assert_eq!((report.owned, report.unowned), (n, 0));
    Case {
        org,
        owners,
        teams,
        branches,
        data,
        ownership,
        rows,
    }
}

impl Case {
    /// The owner of `customer` as of day `at` (None: the latest), from the definition.
    fn owner_of(&self, customer: &str, at: Option<i64>) -> &str {
        let (first, handover) = &self.ownership[customer];
        match (handover, at) {
            (Some((day, to)), Some(at)) if *day <= at => to,
            (Some((_, to)), None) => to,
            _ => first,
        }
    }

    /// The customers of a set of owners as of `at`, by the definition.
    fn customers_of(&self, owners: &[String], at: Option<i64>) -> BTreeSet<String> {
        self.ownership
            .keys()
            .filter(|c| owners.iter().any(|o| o == self.owner_of(c, at)))
            .cloned()
            .collect()
    }

    fn scope(&self, spec: &str, at: Option<i64>) -> Scope {
        let s = self.org.scope(&spec.parse::<ScopeSpec>().unwrap()).unwrap();
        match at {
            Some(d) => s.as_of(date(d)),
            None => s,
        }
    }
}

fn ids(rows: &Rows) -> BTreeSet<String> {
    rows.ids().map(str::to_string).collect()
}

fn view_ids(view: &View<'_>) -> BTreeSet<String> {
    (0..view.len()).map(|k| view.id(k).to_string()).collect()
}

/// Profit with every allocation on, all of them multiples of 1/8 per customer.
fn profit_options() -> ProfitOptions {
    ProfitOptions::new()
        .cost_of_goods(CostOfGoods::Column)
        .per_order(2.0)
        .per_unit(0.25)
        .fixed_per_period(0.5, 32)
        .returns_handling(1.0, 0.25)
}

/// Every output of every analysis of `view` holds only customers of `inside`.
fn only_inside(view: &View<'_>, inside: &BTreeSet<String>) {
    let within = |set: BTreeSet<String>, what: &str| {
        assert!(
            set.is_subset(inside),
            "{what}: {:?} outside",
            set.difference(inside)
        );
    };
    assert_eq!(&view_ids(view), inside);
    let end = date(420);
    let Ok(summary) = SummaryOptions::new(end).compute::<Days>(view) else {
        // Customers with returns only (or none): nothing to summarise.
        return;
    };
    within(ids(summary.rows()), "summary");
    let rfm = RfmOptions::new().compute(&summary).unwrap();
    assert_eq!(rfm.rows, *summary.rows());
    let profits = profit_options().compute(view, None).unwrap();
    assert_eq!(ids(&profits.rows), *inside);
    let net = profits
        .rows
        .select(&profits.net_profit, summary.rows())
        .unwrap();
    let tiers = TierOptions::new().compute(&net).unwrap();
    assert_eq!(tiers.tier.len(), summary.len());
    within(
        ids(&HabitOptions::new().compute(view).unwrap().rows),
        "habits",
    );
    within(ids(&RiskOptions::new().compute(view).unwrap().rows), "risk");
    let features = FeatureOptions::new().compute(view, &summary).unwrap();
    within(ids(&features.rows), "features");
    if let Ok(c) = ClusterOptions::new().k(2).fit(&features) {
        within(ids(&c.model.rows), "clusters");
    }
    let split = SplitOptions::new(date(200), end).compute::<Days>(view);
    if let Ok(split) = split {
        let churn = ChurnFeatureOptions::new()
            .compute(view, &split.calibration)
            .unwrap();
        within(ids(&churn.rows), "churn features");
    }
    let lifetimes = LifetimeOptions::new(end)
        .churn_gap_days(90)
        .compute(view)
        .unwrap();
    within(ids(&lifetimes.rows), "lifetimes");
    let km = KaplanMeierOptions::new()
        .compute(&lifetimes.survival)
        .unwrap();
    assert_eq!(km.scope, *view.scope());
    let cohorts = CohortOptions::new(end).compute(view).unwrap();
    let acquired: u64 = cohorts.cohorts.iter().map(|c| c.customers).sum();
    assert_eq!(acquired as usize, lifetimes.rows.len());
    let baskets = BasketOptions::new().compute(view).unwrap();
    let bc = baskets.customers().unwrap();
    within(
        bc.of_basket
            .iter()
            .map(|&r| bc.rows.id(r as usize).to_string())
            .collect(),
        "baskets",
    );
    let items = baskets.customer_items().unwrap();
    within(ids(items.rows()), "customer items");
    let sets = FpGrowthOptions::new()
        .min_count(1)
        .max_len(2)
        .compute(&baskets)
        .unwrap();
    let rules = RuleOptions::new().compute(&sets).unwrap();
    let near = CoPurchaseOptions::new()
        .min_common(1)
        .compute(&items)
        .unwrap();
    let cross = CrossSellOptions::new()
        .fit(Some(&rules), Some(&near))
        .unwrap();
    within(
        ids(&cross.model.recommend_all(&items).unwrap().rows),
        "cross-sell",
    );
    let segments: Vec<Option<String>> = (0..view.len())
        .map(|k| view.owner(k).map(str::to_string))
        .collect();
    let affinity = AffinityOptions::new().compute(view, &segments).unwrap();
    assert_eq!(affinity.customers as usize, view.len());
    let elasticities = ElasticityOptions::new()
        .min_observations(3)
        .min_price_variation(0.0)
        .compute(view);
    if let Ok(e) = elasticities {
        for c in e.raise.iter().chain(&e.cut) {
            within(c.buyers.iter().cloned().collect(), "price candidates");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scopes_hold_their_customers_only_and_partition_the_base(
        seed in any::<u64>(),
        at in proptest::option::of(0i64..420),
    ) {
        let case = case(seed);
        let all = case.data.view(&Scope::all());
        // Owners, teams, branches: each view holds exactly its customers.
        for owner in &case.owners {
            let view = case.data.view(&case.scope(&format!("owner:{owner}"), at));
            only_inside(&view, &case.customers_of(std::slice::from_ref(owner), at));
        }
        for (level, units) in [("team", &case.teams), ("branch", &case.branches)] {
            for (unit, owners) in units {
                let view = case.data.view(&case.scope(&format!("{level}:{unit}"), at));
                prop_assert_eq!(view_ids(&view), case.customers_of(owners, at));
                prop_assert_eq!(view.scope().label(), format!("{level}:{unit}"));
                // Records in the organisation's order lay every unit's customers out as
                // one run of the log (by their latest owners).
                if at.is_none() && !view.is_empty() {
                    let first = view.customer(0).get();
                    prop_assert!((0..view.len()).all(|k| view.customer(k).get() == first + k));
                }
            }
        }
        // The owners partition the customers: their figures add up to the whole's, exactly.
        let end = date(420);
        let whole = profit_options().compute(&all, None).unwrap().totals;
        let whole_summary = SummaryOptions::new(end).compute::<Days>(&all);
        let (mut customers, mut transactions, mut revenue, mut net, mut serve) =
            (0usize, 0usize, 0.0, 0.0, 0.0);
        let (mut summarised, mut summary_revenue) = (0usize, 0.0);
        for owner in &case.owners {
            let view = case.data.view(&case.scope(&format!("owner:{owner}"), at));
            customers += view.len();
            transactions += view.transactions();
            let t = profit_options().compute(&view, None).unwrap().totals;
            revenue += t.revenue;
            net += t.net_profit;
            serve += t.cost_to_serve;
            if let Ok(s) = SummaryOptions::new(end).compute::<Days>(&view) {
                summarised += s.len();
                summary_revenue += s.total_revenue();
            }
        }
        prop_assert_eq!(customers, all.len());
        prop_assert_eq!(transactions, all.transactions());
        prop_assert_eq!(revenue.to_bits(), whole.revenue.to_bits());
        prop_assert_eq!(net.to_bits(), whole.net_profit.to_bits());
        prop_assert_eq!(serve.to_bits(), whole.cost_to_serve.to_bits());
        if let Ok(w) = whole_summary {
            prop_assert_eq!(summarised, w.len());
            prop_assert_eq!(summary_revenue.to_bits(), w.total_revenue().to_bits());
        }
    }

    #[test]
    fn a_handover_moves_the_whole_history(seed in any::<u64>()) {
        let case = case(seed);
        let all = case.data.view(&Scope::all());
        for (customer, (first, handover)) in &case.ownership {
            let Some((day, to)) = handover else { continue };
            if to == first {
                continue;
            }
            let k = all.row(customer).unwrap();
            let history = all.history(k);
            for (at, owner, other) in [(day - 1, first, to), (*day, to, first)] {
                let mine = case.data.view(&case.scope(&format!("owner:{owner}"), Some(at)));
                let theirs = case.data.view(&case.scope(&format!("owner:{other}"), Some(at)));
                prop_assert!(theirs.row(customer).is_none());
                let r = mine.row(customer).expect("the owner of the day sees the customer");
                // Every row, before and after the handover day alike.
                let h = mine.history(r);
                prop_assert_eq!(h.days, history.days);
                prop_assert_eq!(h.amounts, history.amounts);
                prop_assert_eq!(h.len(), case.rows[customer]);
            }
        }
    }

    #[test]
    fn hidden_columns_cannot_be_reached(seed in any::<u64>(), mask in 1u16..128) {
        let case = case(seed);
        let hidden: ColumnSet = Column::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        let owner = &case.owners[0];
        let scope = case.scope(&format!("owner:{owner}"), None).hide(hidden);
        let view = case.data.view(&scope);
        let label = format!("owner:{owner}");
        let is_hidden = |r: Error, column: Column| match r {
            Error::HiddenColumn { column: c, scope } => c == column && scope == label,
            _ => false,
        };
        // Refused for one of the hidden columns (an analysis that needs several names the
        // first it meets).
        let refused = |r: Error| match r {
            Error::HiddenColumn { column, scope } => hidden.contains(column) && scope == label,
            _ => false,
        };
        let check = |column: Column, attempt: Result<(), Error>| {
            if hidden.contains(column) {
                let e = attempt.expect_err("a hidden column must be refused");
                assert!(is_hidden(e.clone(), column), "{column}: {e}");
            }
        };
        check(Column::Cost, view.costs().map(|_| ()));
        check(Column::Quantity, view.quantities().map(|_| ()));
        check(Column::Product, view.products().map(|_| ()));
        check(Column::Channel, view.channels().map(|_| ()));
        check(Column::Region, view.regions().map(|_| ()));
        check(Column::Order, view.orders().map(|_| ()));
        check(Column::Product, view.catalogue().map(|_| ()));
        check(Column::Channel, view.channel_names().map(|_| ()));
        check(Column::Region, view.region_names().map(|_| ()));
        if let Ok(cat) = view.catalogue() {
            check(Column::Cost, cat.unit_cost(acrm::data::ProductIdx(0)).map(|_| ()));
        }
        for c in [Column::Cost, Column::Quantity, Column::Product, Column::Channel, Column::Region, Column::Order] {
            check(c, view.need(c));
        }
        // Every customer's history lacks the hidden columns.
        for k in 0..view.len() {
            let h = view.history(k);
            for (column, present) in [
                (Column::Cost, h.costs.is_some()),
                (Column::Quantity, h.quantities.is_some()),
                (Column::Product, h.products.is_some()),
                (Column::Channel, h.channels.is_some()),
                (Column::Region, h.regions.is_some()),
                (Column::Order, h.orders.is_some()),
            ] {
                prop_assert_eq!(present, !hidden.contains(column));
            }
            if hidden.contains(Column::Region) {
                prop_assert!(view.customer_region(k).is_none());
            }
        }
        // The analyses that need a hidden column refuse; margins need Margin, cost
        // data needs Cost.
        // Profit with the cost column and allocations by unit and by order needs
        // margins, costs, quantities and orders.
        let profit = profit_options().compute(&view, None).map(|_| ());
        let needs = [Column::Margin, Column::Cost, Column::Quantity, Column::Order];
        if needs.iter().any(|&c| hidden.contains(c)) {
            prop_assert!(refused(profit.clone().unwrap_err()));
        }
        if hidden.contains(Column::Margin) {
            let e = ProfitOptions::new().cost_of_goods(CostOfGoods::MarginRate(0.5)).compute(&view, None);
            prop_assert!(is_hidden(e.unwrap_err(), Column::Margin));
        } else if hidden.contains(Column::Cost) {
            let e = ProfitOptions::new().compute(&view, None);
            prop_assert!(is_hidden(e.unwrap_err(), Column::Cost));
        }
        if let Ok(s) = SummaryOptions::new(date(420)).compute::<Days>(&view) {
            let margins = s.margins().map(|_| ());
            if hidden.contains(Column::Margin) {
                prop_assert!(is_hidden(margins.unwrap_err(), Column::Margin));
            } else if hidden.contains(Column::Cost) {
                prop_assert!(is_hidden(margins.unwrap_err(), Column::Cost));
            }
            if hidden.contains(Column::Cost) || hidden.contains(Column::Margin) {
                prop_assert!((0..s.len()).all(|i| s.get(i).margin.is_none()));
            }
        }
        check(Column::Product, BasketOptions::new().compute(&view).map(|_| ()));
        if !hidden.contains(Column::Product) {
            check(Column::Order, BasketOptions::new().key(BasketKey::Order).compute(&view).map(|_| ()));
            // The default key falls back to customer-days only without order ids in the data.
            check(Column::Order, BasketOptions::new().compute(&view).map(|_| ()));
        }
        // Basket size and value count units and orders.
        let habits = HabitOptions::new().compute(&view).map(|_| ());
        if [Column::Quantity, Column::Order].iter().any(|&c| hidden.contains(c)) {
            prop_assert!(refused(habits.unwrap_err()));
        }
        check(Column::Product, AffinityOptions::new().compute(&view, &vec![Some("a"); view.len()]).map(|_| ()));
        let elasticity = |by| ElasticityOptions::new().by(by).compute(&view).map(|_| ());
        if [Column::Quantity, Column::Product, Column::Region].iter().any(|&c| hidden.contains(c)) {
            prop_assert!(refused(elasticity(ElasticityBy::ProductRegion).unwrap_err()));
        }
        if [Column::Quantity, Column::Product].iter().any(|&c| hidden.contains(c)) {
            prop_assert!(refused(elasticity(ElasticityBy::Product).unwrap_err()));
        }
        if !hidden.contains(Column::Margin) {
            let rate = || ProfitOptions::new().cost_of_goods(CostOfGoods::MarginRate(0.5));
            if hidden.contains(Column::Quantity) {
                let e = rate().per_unit(1.0).compute(&view, None);
                prop_assert!(is_hidden(e.unwrap_err(), Column::Quantity));
            }
            if hidden.contains(Column::Order) {
                let e = rate().per_order(1.0).compute(&view, None);
                prop_assert!(is_hidden(e.unwrap_err(), Column::Order));
            }
        }
        // Writing the view out does not write the hidden columns either.
        let mut csv = Vec::new();
        write_transactions_csv(&view, &mut csv).unwrap();
        let header = String::from_utf8(csv).unwrap();
        let header = header.lines().next().unwrap_or_default().to_string();
        for (column, name) in [
            (Column::Cost, "cost"),
            (Column::Quantity, "quantity"),
            (Column::Product, "product_id"),
            (Column::Channel, "channel"),
            (Column::Region, "region"),
            (Column::Order, "order_id"),
        ] {
            prop_assert_eq!(header.split(',').any(|h| h == name), !hidden.contains(column));
        }
    }

    #[test]
    fn scoped_results_are_the_same_bits_on_one_and_two_threads(seed in any::<u64>()) {
        let case = case(seed);
        let spec = format!("team:{}", case.teams[0].0);
        let run = || {
            let mut out = Vec::new();
            for scope in [Scope::all(), case.scope(&spec, Some(200))] {
                let view = case.data.view(&scope);
                let profits = profit_options().compute(&view, None).unwrap();
                let summary = SummaryOptions::new(date(420)).compute::<Days>(&view).ok();
                let baskets = BasketOptions::new().compute(&view).ok();
                out.push(serde_json::to_string(&(profits, summary, baskets)).unwrap());
            }
            out
        };
        let one = crate::pool(1).install(run);
        let two = crate::pool(2).install(run);
        prop_assert_eq!(one, two);
    }
}

#[test]
fn roles_set_reach_hidden_columns_and_forbidden_areas() {
    let units = [
        UnitRecord {
            id: "north".into(),
            level: "branch".into(),
            parent: None,
        },
        UnitRecord {
            id: "t1".into(),
            level: "team".into(),
            parent: Some("north".into()),
        },
        UnitRecord {
            id: "t2".into(),
            level: "team".into(),
            parent: Some("north".into()),
        },
    ];
    let user = |id: &str, unit: &str, role: &str| UserRecord {
        id: id.into(),
        unit: Some(unit.into()),
        role: Some(role.into()),
    };
    let users = [
        user("ann", "t1", "sales"),
        user("bob", "t1", "lead"),
        user("kim", "t2", "sales"),
        user("eve", "north", "manager"),
    ];
    let role = |name: &str, reach: Reach, hidden: &str, forbidden: &str| RoleRecord {
        name: name.into(),
        reach,
        hidden_columns: ColumnSet::parse_list(hidden).unwrap(),
        forbidden_areas: AreaSet::parse_list(forbidden).unwrap(),
    };
    let roles = [
        role("sales", Reach::Own, "cost,margin", "profitability"),
        role("lead", Reach::Level("team".into()), "cost", ""),
        role("manager", Reach::Level("branch".into()), "", ""),
    ];
    let org = Organisation::new(units, users, roles).unwrap();
    let mut b = Dataset::builder();
    for (c, amount) in [("x1", 10.0), ("x2", 20.0), ("x3", 40.0), ("x4", 80.0)] {
        b.push(TransactionRecord {
            cost: Some(1.0),
            ..TransactionRecord::new(c, date(3), amount)
        })
        .unwrap();
    }
    let mut data = b.build().unwrap().dataset;
    data.assign_owners([
        OwnershipRecord::new("x1", "ann"),
        OwnershipRecord::new("x2", "bob"),
        OwnershipRecord::new("x3", "kim"),
        OwnershipRecord::new("x4", "nobody"),
    ])
    .unwrap();
    let view_of = |user: &str| data.view(&org.scope_of_user(user).unwrap());
    assert_eq!(view_ids(&view_of("ann")), ["x1".to_string()].into());
    assert_eq!(view_ids(&view_of("bob")).len(), 2);
    // The branch manager sees the branch; an owner outside the organisation's users
    // ("nobody") is seen only by a scope over all customers.
    assert_eq!(view_ids(&view_of("eve")).len(), 3);
    assert_eq!(data.view(&Scope::all()).len(), 4);
    // The salesperson may not run profitability, whatever the columns.
    let ann = view_of("ann");
    assert!(matches!(
        ProfitOptions::new().compute(&ann, None),
        Err(Error::ForbiddenArea { area: Area::Profitability, ref scope }) if scope == "owner:ann"
    ));
    let summary = SummaryOptions::new(date(10)).compute::<Days>(&ann).unwrap();
    assert_eq!(summary.scope().user.as_deref(), Some("ann"));
    // The team lead may, but not from the cost column.
    let bob = view_of("bob");
    assert!(matches!(
        ProfitOptions::new().compute(&bob, None),
        Err(Error::HiddenColumn {
            column: Column::Cost,
            ..
        })
    ));
    let p = ProfitOptions::new()
        .cost_of_goods(CostOfGoods::MarginRate(0.5))
        .compute(&bob, None)
        .unwrap();
    // Bob's team holds x1 (10) and x2 (20): half of 30 is margin, exactly.
    assert_eq!(p.totals.gross_margin.to_bits(), 15f64.to_bits());
    assert_eq!(p.rows.scope().label(), "team:t1");
    // A forbidden area holds for every analysis of it, on the data or on a result.
    let no_persistency = Scope::all().forbid(AreaSet::parse_list("persistency").unwrap());
    let v = data.view(&no_persistency);
    assert!(matches!(
        LifetimeOptions::new(date(10)).compute(&v),
        Err(Error::ForbiddenArea {
            area: Area::Persistency,
            ..
        })
    ));
    let s = SummaryOptions::new(date(10)).compute::<Days>(&v).unwrap();
    assert!(matches!(
        acrm::FitOptions::new().fit::<acrm::persistency::BgNbd>(&s.compact()),
        Err(Error::ForbiddenArea { .. })
    ));
    // Unknown ids are errors naming them.
    assert!(matches!(
        org.scope(&"team:t9".parse().unwrap()),
        Err(Error::UnknownId { ref kind, ref id }) if kind == "team" && id == "t9"
    ));
    // A level the organisation does not have is named as the level, with those it has.
    match org.scope(&"tema:t1".parse().unwrap()) {
        Err(Error::UnknownId { kind, id }) => {
            assert_eq!(id, "tema");
            assert!(
                kind.starts_with("unit level") && kind.contains("team"),
                "{kind}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        org.scope_of_user("zed"),
        Err(Error::UnknownId { ref kind, .. }) if kind == "user"
    ));
}

#[test]
fn a_failed_assignment_leaves_the_dataset_as_it_was() {
    let mut b = Dataset::builder();
    for (c, day, amount) in [("x1", 3, 10.0), ("x2", 5, 20.0), ("x1", 9, 40.0)] {
        b.push(TransactionRecord::new(c, date(day), amount))
            .unwrap();
    }
    let mut data = b.build().unwrap().dataset;
    data.assign_owners([OwnershipRecord::new("x1", "ann")])
        .unwrap();
    let before = data.clone();
    let summarise = |data: &Dataset| {
        let all = data.view(&Scope::all());
        let histories: Vec<Vec<f64>> = (0..all.len())
            .map(|k| all.history(k).amounts.to_vec())
            .collect();
        let summary = SummaryOptions::new(date(20)).compute::<Days>(&all).unwrap();
        (histories, serde_json::to_string(&summary).unwrap())
    };
    let expected = summarise(&before);
    // New customers first, then a bad record: the new ones must not stay behind.
    let failed = data.assign_owners([
        OwnershipRecord::new("new1", "bob"),
        OwnershipRecord::new("x2", "bob"),
        OwnershipRecord::new("new2", " "),
    ]);
    assert!(matches!(failed, Err(Error::Row(ref e)) if e.line == 3 && e.field == "owner"));
    assert_eq!(data, before);
    assert_eq!(summarise(&data), expected);
    // And a conflict found after every record was read.
    let failed = data.assign_owners([
        OwnershipRecord::new("new1", "bob"),
        OwnershipRecord::new("x2", "bob"),
        OwnershipRecord::new("x2", "kim"),
    ]);
    assert!(matches!(failed, Err(Error::Row(ref e)) if e.field == "owner"));
    assert_eq!(data, before);
    assert_eq!(summarise(&data), expected);
    // The dataset still takes a good assignment.
    let report = data
        .assign_owners([
            OwnershipRecord::new("new1", "bob"),
            OwnershipRecord::new("x2", "bob"),
        ])
        .unwrap();
    assert_eq!((report.added, report.owned, report.unowned), (1, 2, 1));
    assert_eq!(data.view(&Scope::all()).len(), 3);
}

/// Whether two JSON values are the same up to a relative 1e-12 in numbers: serde_json
/// reads floats back within an ulp or two, not always to the bit (its `float_roundtrip`
/// feature is off).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// `value` serialised names no customer of `outside`.
fn names_within(value: &impl serde::Serialize, outside: &BTreeSet<String>, what: &str) -> String {
    let json = serde_json::to_string(value).unwrap();
    for id in outside {
        assert!(
            !json.contains(&format!("\"{id}\"")),
            "{what} names `{id}`, outside the scope"
        );
    }
    json
}

/// `value` serialised names no customer of `outside`, and reads back as itself.
fn written_within<T>(value: &T, outside: &BTreeSet<String>, what: &str) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let json = names_within(value, outside, what);
    let back: T = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{what}: {e}"));
    let (a, b) = (serde_json::to_value(value), serde_json::to_value(&back));
    assert!(
        same_json(&a.unwrap(), &b.unwrap()),
        "{what} reads back otherwise"
    );
    back
}

#[test]
fn scoped_results_serialise_the_ids_of_their_own_customers_only() {
    let mut checked = 0;
    for seed in 0..16 {
        let case = case(seed);
        let owner = &case.owners[0];
        let inside = case.customers_of(std::slice::from_ref(owner), None);
        let outside: BTreeSet<String> = case.rows.keys().cloned().collect();
        let outside: BTreeSet<String> = outside.difference(&inside).cloned().collect();
        let view = case.data.view(&case.scope(&format!("owner:{owner}"), None));
        let end = date(420);
        let Ok(summary) = SummaryOptions::new(end).compute::<Days>(&view) else {
            continue;
        };
        checked += 1;
        // Sums of eighths and day counts: the summary reads back exactly.
        let back = written_within(&summary, &outside, "summary");
        assert_eq!(back, summary);
        assert_eq!(
            &written_within(summary.rows(), &outside, "rows"),
            summary.rows()
        );
        written_within(&summary.features(), &outside, "customer features");
        written_within(
            &RfmOptions::new().compute(&summary).unwrap(),
            &outside,
            "rfm",
        );
        let profits = profit_options().compute(&view, None).unwrap();
        written_within(&profits, &outside, "profits");
        written_within(
            &HabitOptions::new().compute(&view).unwrap(),
            &outside,
            "habits",
        );
        // The return share of a customer without revenue is NaN, which JSON writes as
        // null and cannot read back: the flags' rows are read back alone.
        let risk = RiskOptions::new().compute(&view).unwrap();
        names_within(&risk, &outside, "risk");
        assert_eq!(written_within(&risk.rows, &outside, "risk rows"), risk.rows);
        let features = FeatureOptions::new().compute(&view, &summary).unwrap();
        written_within(&features, &outside, "features");
        if let Ok(c) = ClusterOptions::new().k(2).fit(&features) {
            written_within(&c.model, &outside, "clusters");
        }
        if let Ok(split) = SplitOptions::new(date(200), end).compute::<Days>(&view) {
            written_within(&split, &outside, "split");
            let churn = ChurnFeatureOptions::new()
                .compute(&view, &split.calibration)
                .unwrap();
            written_within(&churn, &outside, "churn features");
        }
        let lifetimes = LifetimeOptions::new(end).compute(&view).unwrap();
        written_within(&lifetimes, &outside, "lifetimes");
        let baskets = BasketOptions::new().compute(&view).unwrap();
        written_within(&baskets, &outside, "baskets");
        let items = baskets.customer_items().unwrap();
        written_within(&items, &outside, "customer items");
        let near = CoPurchaseOptions::new()
            .min_common(1)
            .compute(&items)
            .unwrap();
        let sets = FpGrowthOptions::new()
            .min_count(1)
            .max_len(2)
            .compute(&baskets)
            .unwrap();
        let rules = RuleOptions::new().compute(&sets).unwrap();
        let cross = CrossSellOptions::new()
            .fit(Some(&rules), Some(&near))
            .unwrap();
        written_within(
            &cross.model.recommend_all(&items).unwrap(),
            &outside,
            "cross-sell",
        );
        // Read back, a summary is one of its own customers, and updates as the original.
        let mut b = Dataset::builder();
        let row = |id: &str, day| TransactionRecord {
            cost: Some(1.0),
            ..TransactionRecord::new(id, date(day), 8.0)
        };
        b.extend([row(summary.id(0), 430), row(outside.first().unwrap(), 431)])
            .unwrap();
        let new = b.build().unwrap().dataset;
        let (mut a, mut b) = (summary.clone(), back);
        a.update(&new.view(&Scope::all()), date(440)).unwrap();
        b.update(&new.view(&Scope::all()), date(440)).unwrap();
        assert_eq!(a.coverage(), b.coverage());
        assert_eq!(ids(a.rows()), ids(b.rows()));
        for i in 0..a.len() {
            assert_eq!(a.state(i), b.state(b.row(a.id(i)).unwrap()));
        }
    }
    assert!(checked >= 4, "only {checked} cases had a summary");
}

/// Patterns made from a summary's records keep its scope: a scope that forbids
/// persistency cannot fit a purchase model from them, as it cannot from the summary.
#[test]
fn patterns_of_a_scoped_summarys_records_keep_its_forbidden_areas() {
    use acrm::persistency::BgNbd;
    use acrm::summary::Compact;
    let case = case(7);
    let owner = &case.owners[0];
    let scope = case
        .scope(&format!("owner:{owner}"), None)
        .forbid(AreaSet::parse_list("persistency").unwrap());
    let view = case.data.view(&scope);
    let summary = SummaryOptions::new(date(420))
        .compute::<acrm::Weeks>(&view)
        .unwrap();
    let records = summary.records();
    let patterns = Compact::<acrm::Weeks>::from_records(&records);
    assert_eq!(patterns.scope, *summary.scope());
    let label = format!("owner:{owner}");
    assert!(matches!(
        acrm::FitOptions::new().fit::<BgNbd>(&patterns),
        Err(Error::ForbiddenArea { area: Area::Persistency, ref scope }) if *scope == label
    ));
    // The same records as a bare slice come from outside any scope.
    let bare = Compact::<acrm::Weeks>::from_records(&records[..]);
    assert_eq!(bare.patterns, patterns.patterns);
    assert!(bare.scope.is_all());
    // Under a scope that allows persistency, the fit reports the scope.
    let view = case.data.view(&case.scope(&format!("owner:{owner}"), None));
    let summary = SummaryOptions::new(date(420))
        .compute::<acrm::Weeks>(&view)
        .unwrap();
    let patterns = Compact::<acrm::Weeks>::from_records(&summary.records());
    if let Ok(fitted) = acrm::FitOptions::new().fit::<BgNbd>(&patterns) {
        assert_eq!(fitted.report.scope.as_ref(), Some(summary.scope()));
    }
}

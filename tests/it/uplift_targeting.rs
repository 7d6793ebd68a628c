//! Budgeted targeting: a case computed by hand, the invariants (budget and contact count
//! respected, no unprofitable contact, ranking order, first fit under the budget), the
//! realised outcome on test data, and thread invariance.

use acrm::promotion::{Amounts, TargetingInput, TargetingOptions, TargetingStop};
use acrm::Error;

use crate::pool;

/// By hand: profits = uplift × value × 0.5 − cost
/// = [0.1·200·.5−4, 0.3·50·.5−1, 0.05·100·.5−3, 0.2·100·.5−2, 0.02·100·.5−0.5, 0.25·40·.5−1]
/// = [6, 6.5, −0.5, 8, 0.5, 4]; ranking 3 (8), 1 (6.5), 0 (6), 5 (4), 4 (0.5), 2 (−0.5).
/// Budget 8: take 3 (cost 2), 1 (1), 0 (4) → spent 7; 5 costs 1 → 8; 4 costs 0.5 → over,
/// passed over; 2 is unprofitable → stop.
#[test]
fn hand_computed_plan() {
    let uplift = [0.1, 0.3, 0.05, 0.2, 0.02, 0.25];
    let value = [200.0, 50.0, 100.0, 100.0, 100.0, 40.0];
    let cost = [4.0, 1.0, 3.0, 2.0, 0.5, 1.0];
    let input = TargetingInput::new(
        &uplift,
        Amounts::Each(&value),
        Amounts::Scalar(0.5),
        Amounts::Each(&cost),
    );
    let plan = TargetingOptions::new().budget(8.0).compute(&input).unwrap();
    assert_eq!(plan.chosen, vec![3, 1, 0, 5]);
    assert_eq!(plan.passed_over_for_budget, 1);
    assert_eq!(plan.stop, TargetingStop::Unprofitable);
    assert!((plan.total_cost - 8.0).abs() < 1e-12);
    assert!((plan.expected_incremental_profit - 24.5).abs() < 1e-12);
    assert!((plan.expected_incremental_responses - 0.85).abs() < 1e-12);

    // Without a budget: every profitable customer, nobody unprofitable.
    let plan = TargetingOptions::new().compute(&input).unwrap();
    assert_eq!(plan.chosen, vec![3, 1, 0, 5, 4]);
    // A contact count cuts the ranking.
    let plan = TargetingOptions::new()
        .max_contacts(2)
        .compute(&input)
        .unwrap();
    assert_eq!(
        (plan.chosen.clone(), plan.stop),
        (vec![3, 1], TargetingStop::MaxContacts)
    );
    // Allowing unprofitable contacts reaches customer 2 too.
    let plan = TargetingOptions::new()
        .allow_unprofitable(true)
        .compute(&input)
        .unwrap();
    assert_eq!(
        (plan.chosen.clone(), plan.stop),
        (vec![3, 1, 0, 5, 4, 2], TargetingStop::Exhausted)
    );

    // Realised on test data: chosen 3, 1, 0, 5 with treatment 1, 0, 1, 0 and outcome
    // 1, 0, 0, 1 → rates ½ and ½, no incremental response; profit: treated responder 3
    // brings 100 · .5 = 50, control responder 5 brings 40 · .5 = 20: (50/2 − 20/2) · 4 − 8 = 52.
    let plan = TargetingOptions::new().budget(8.0).compute(&input).unwrap();
    let outcome = [0u8, 0, 1, 1, 0, 1];
    let treatment = [1u8, 0, 1, 1, 1, 0];
    let r = plan
        .realised(
            &outcome,
            &treatment,
            Amounts::Each(&value),
            Amounts::Scalar(0.5),
            Amounts::Each(&cost),
        )
        .unwrap();
    assert_eq!(
        (
            r.size,
            r.n_treatment,
            r.n_control,
            r.responders_treatment,
            r.responders_control
        ),
        (4, 2, 2, 1, 1)
    );
    assert!(r.incremental_responses.abs() < 1e-12);
    assert!((r.incremental_profit - 52.0).abs() < 1e-12);
}

fn instance(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut state = 42u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut uplift = Vec::new();
    let mut value = Vec::new();
    let mut cost = Vec::new();
    for i in 0..n {
        // Some exact ties in profit (every 7th customer repeats the one before).
        if i % 7 == 6 {
            uplift.push(uplift[i - 1]);
            value.push(value[i - 1]);
            cost.push(cost[i - 1]);
            continue;
        }
        uplift.push((next() - 0.3) * 0.2);
        value.push(50.0 + 200.0 * next());
        cost.push(0.5 + 4.0 * next());
    }
    (uplift, value, cost)
}

/// Invariants on 20,000 customers: the budget holds, no chosen customer has a profit ≤ 0,
/// the chosen come in non-increasing profit with ties by index, and each profitable
/// customer ranked above a chosen one but left out did not fit in the budget left at its
/// turn.
#[test]
fn plan_invariants() {
    let (uplift, value, cost) = instance(20_000);
    let input = TargetingInput::new(
        &uplift,
        Amounts::Each(&value),
        Amounts::Scalar(0.3),
        Amounts::Each(&cost),
    );
    let profit = |i: usize| uplift[i] * value[i] * 0.3 - cost[i];
    for budget in [0.0, 10.0, 1_000.0, 1e9] {
        let plan = TargetingOptions::new()
            .budget(budget)
            .compute(&input)
            .unwrap();
        let spent: f64 = plan.chosen.iter().map(|&i| cost[i]).sum();
        assert!(spent <= budget, "budget {budget}: spent {spent}");
        for w in plan.chosen.windows(2) {
            let (a, b) = (profit(w[0]), profit(w[1]));
            assert!(
                a > b || (a.total_cmp(&b).is_eq() && w[0] < w[1]),
                "order {w:?}"
            );
        }
        assert!(plan.chosen.iter().all(|&i| profit(i) > 0.0));
        assert_eq!(plan.profit.len(), plan.chosen.len());
        // Replay the ranking: every profitable customer is either chosen or did not fit.
        let mut ranked: Vec<usize> = (0..uplift.len()).filter(|&i| profit(i) > 0.0).collect();
        ranked.sort_by(|&a, &b| profit(b).total_cmp(&profit(a)).then(a.cmp(&b)));
        let mut left = budget;
        let mut chosen = plan.chosen.iter().peekable();
        let mut passed = 0;
        for i in ranked {
            if chosen.peek() == Some(&&i) {
                chosen.next();
                left -= cost[i];
            } else {
                // Allow for the rounding of the running total.
                assert!(cost[i] > left - 1e-9, "customer {i} fit but was left out");
                passed += 1;
            }
        }
        assert_eq!(chosen.next(), None);
        assert_eq!(passed, plan.passed_over_for_budget);
    }
    let plan = TargetingOptions::new()
        .max_contacts(100)
        .compute(&input)
        .unwrap();
    assert_eq!(plan.chosen.len(), 100);
}

/// Same plan bits on 1 and 2 threads.
#[test]
fn plan_does_not_depend_on_the_thread_count() {
    let (uplift, value, cost) = instance(200_000);
    let run = |threads| {
        pool(threads).install(|| {
            let input = TargetingInput::new(
                &uplift,
                Amounts::Each(&value),
                Amounts::Scalar(0.3),
                Amounts::Each(&cost),
            );
            let plan = TargetingOptions::new()
                .budget(5_000.0)
                .compute(&input)
                .unwrap();
            (
                plan.chosen,
                plan.expected_incremental_profit.to_bits(),
                plan.total_cost.to_bits(),
            )
        })
    };
    assert_eq!(run(1), run(2));
}

/// Typed errors for bad amounts, a bad budget and a chosen set without control.
#[test]
fn bad_input_gives_typed_errors() {
    let uplift = [0.1, f64::NAN];
    let input = TargetingInput::new(
        &uplift,
        Amounts::Scalar(1.0),
        Amounts::Scalar(1.0),
        Amounts::Scalar(0.0),
    );
    let e = TargetingOptions::new().compute(&input).unwrap_err();
    assert!(matches!(&e, Error::BadValue { row: 1, .. }), "{e}");
    let uplift = [0.1, 0.2];
    let cost = [1.0, -1.0];
    let input = TargetingInput::new(
        &uplift,
        Amounts::Scalar(1.0),
        Amounts::Scalar(1.0),
        Amounts::Each(&cost),
    );
    let e = TargetingOptions::new().compute(&input).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { input, row: 1, .. } if input == "cost"),
        "{e}"
    );
    let input = TargetingInput::new(
        &uplift,
        Amounts::Scalar(1.0),
        Amounts::Scalar(1.0),
        Amounts::Each(&[1.0]),
    );
    let e = TargetingOptions::new().compute(&input).unwrap_err();
    assert!(
        matches!(e, Error::LengthMismatch { input: "cost", .. }),
        "{e}"
    );
    let input = TargetingInput::new(
        &uplift,
        Amounts::Scalar(-1.0),
        Amounts::Scalar(1.0),
        Amounts::Scalar(0.0),
    );
    let e = TargetingOptions::new().compute(&input).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "value",
                ..
            }
        ),
        "{e}"
    );
    let e = TargetingOptions::new()
        .budget(-1.0)
        .compute(&input)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "budget",
                ..
            }
        ),
        "{e}"
    );
    let e = TargetingOptions::new()
        .compute(&TargetingInput::new(
            &[],
            Amounts::Scalar(1.0),
            Amounts::Scalar(1.0),
            Amounts::Scalar(0.0),
        ))
        .unwrap_err();
    assert_eq!(e, Error::EmptyInput);

    let input = TargetingInput::new(
        &uplift,
        Amounts::Scalar(10.0),
        Amounts::Scalar(1.0),
        Amounts::Scalar(0.5),
    );
    let plan = TargetingOptions::new().compute(&input).unwrap();
    let e = plan
        .realised(
            &[1u8, 0],
            &[1u8, 1],
            Amounts::Scalar(10.0),
            Amounts::Scalar(1.0),
            Amounts::Scalar(0.5),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Degenerate { .. }), "{e}");
    let e = plan
        .realised(
            &[1u8, 3],
            &[1u8, 0],
            Amounts::Scalar(10.0),
            Amounts::Scalar(1.0),
            Amounts::Scalar(0.5),
        )
        .unwrap_err();
    assert!(matches!(&e, Error::BadValue { row: 1, .. }), "{e}");
}

/// Finite inputs whose expected profit overflows (1e300 · 1e300) are a typed error, not a
/// customer ranked first with an infinite or NaN profit.
#[test]
fn overflowing_profit_is_a_typed_error() {
    let uplift = [0.1, 1e300];
    let value = [1.0, 1e300];
    let input = TargetingInput::new(
        &uplift,
        Amounts::Each(&value),
        Amounts::Scalar(1.0),
        Amounts::Scalar(0.0),
    );
    let e = TargetingOptions::new().compute(&input).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { row: 1, field, .. } if field == "expected profit"),
        "{e}"
    );
}

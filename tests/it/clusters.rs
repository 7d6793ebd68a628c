//! Behavioural clusters: recovery of planted clusters (adjusted Rand index), k chosen by
//! silhouette, features from a synthetic log, option errors, and determinism.

use acrm::data::{Area, AreaSet, Column, ColumnSet, Rows};
use acrm::ndarray::Array2;
use acrm::numerics::{adjusted_rand_index, silhouette, Fitted};
use acrm::profiling::{
    ClusterMethod, ClusterOptions, Distinguishing, FeatureOptions, Features, SilhouetteScore,
};
use acrm::synth::SynthOptions;
use acrm::{Days, Error, Scope, SummaryOptions, Weeks};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Rows for `n` customers built from plain numbers (ids "0", "1", ...).
fn rows(n: usize) -> Rows {
    Rows::from_ids((0..n).map(|i| i.to_string()))
}

/// `n` points around `k` centres in 6 dimensions (coordinates uniform on ±`spread`, unit
/// noise, unequal weights), with their planted labels.
fn planted(n: usize, k: usize, seed: u64, spread: f64) -> (Features, Vec<u32>) {
    let d = 6;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let centres: Vec<Vec<f64>> = (0..k)
        .map(|_| (0..d).map(|_| rng.gen_range(-spread..spread)).collect())
        .collect();
    let mut raw = Array2::zeros((n, d));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        // Weights 1 : 2 : ... : k.
        let mut u = rng.gen_range(0..k * (k + 1) / 2);
        let mut c = 0;
        while u > c {
            u -= c + 1;
            c += 1;
        }
        labels.push(c as u32);
        for j in 0..d {
            let e: f64 = rng.sample(StandardNormal);
            raw[[i, j]] = centres[c][j] + e;
        }
    }
    let names = (0..d).map(|j| format!("f{j}")).collect();
    let revenue = (0..n).map(|i| (i % 7) as f64).collect();
    (
        Features::new(rows(n), names, raw, vec![false; d], revenue).unwrap(),
        labels,
    )
}

#[test]
fn kmeans_and_the_mixture_recover_planted_clusters() {
    let (f, truth) = planted(20_000, 4, 11, 3.0);
    for method in [ClusterMethod::KMeans, ClusterMethod::GaussianMixture] {
        let c = ClusterOptions::new()
            .method(method)
            .k(4)
            .fit(&f)
            .unwrap()
            .model;
        let ari = adjusted_rand_index(&c.labels, &truth).unwrap();
        eprintln!("{method:?}: adjusted Rand index {ari:.4} on 20,000 planted points");
        assert!(ari > 0.95, "{method:?}: ARI {ari}");
        // Numbered by size; sizes and shares add up.
        let sizes = c.sizes();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(sizes.iter().sum::<usize>(), 20_000);
        let share: f64 = c.profiles.iter().map(|p| p.revenue_share).sum();
        assert!((share - 1.0).abs() < 1e-12);
        assert_eq!(c.profiles[0].distinguishing.len(), 3);
    }
    // The mixture, like k-means, gives the same labels on one thread and on two.
    let (small, _) = planted(5_000, 3, 2, 3.0);
    let gmm = |threads| {
        crate::pool(threads).install(|| {
            ClusterOptions::new()
                .method(ClusterMethod::GaussianMixture)
                .k(3)
                .fit(&small)
                .unwrap()
        })
    };
    assert_eq!(gmm(1), gmm(2));
}

#[test]
fn silhouette_chooses_the_planted_k() {
    let (f, truth) = planted(30_000, 5, 5, 6.0);
    let Fitted { model: c, report } = ClusterOptions::new().k_range(2, 8).fit(&f).unwrap();
    assert_eq!(c.k, 5, "silhouettes {:?}", report.silhouette);
    assert_eq!(report.silhouette.len(), 7);
    assert!(adjusted_rand_index(&c.labels, &truth).unwrap() > 0.95);
}

#[test]
fn adjusted_rand_index_matches_scikit_learn() {
    // sklearn.metrics.adjusted_rand_score 1.9.1, from
    // tests/data/profiling/make_cluster_reference.py.
    let cases: [(&[u32], &[u32], f64); 4] = [
        (&[0, 0, 0, 0, 0, 0, 0, 0], &[0, 0, 1, 1, 2, 2, 3, 3], 0.0),
        (
            &[0, 0, 1, 1, 1, 2, 2, 3, 3, 3],
            &[2, 2, 3, 3, 3, 0, 0, 1, 1, 1],
            1.0,
        ),
        (
            &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0, 1],
            &[0, 0, 0, 1, 0, 1, 1, 1, 2, 1, 1, 2, 2, 2, 3, 3, 2, 2, 3, 0],
            0.380_053_908_355_795_17,
        ),
        (
            &[0, 0, 0, 1, 1, 1, 2, 2, 2],
            &[0, 1, 2, 0, 1, 2, 0, 1, 2],
            -0.333_333_333_333_333_3,
        ),
    ];
    for (a, b, expected) in cases {
        let ari = adjusted_rand_index(a, b).unwrap();
        assert!(
            (ari - expected).abs() < 1e-12,
            "{a:?} {b:?}: {ari} vs {expected}"
        );
    }
    assert!(adjusted_rand_index(&[0, 1], &[0]).is_err());
    assert_eq!(adjusted_rand_index(&[], &[]), Err(Error::EmptyInput));
}

#[test]
fn silhouette_matches_scikit_learn() {
    // sklearn.metrics.silhouette_score (euclidean) 1.9.1 on these 12 points: 0.6170066720417898.
    let pts = [
        [0.0, 0.0],
        [1.0, 0.5],
        [0.5, 1.5],
        [-0.5, 1.0],
        [2.5, 2.0],
        [4.0, 3.0],
        [5.0, 2.5],
        [4.5, 4.0],
        [3.5, 3.5],
        [0.0, 5.0],
        [1.0, 5.5],
        [-0.5, 6.0],
    ];
    let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
    let z = Array2::from_shape_fn((12, 2), |(i, j)| pts[i][j]);
    let s = silhouette(z.view(), &labels).unwrap();
    assert!((s - 0.617_006_672_041_789_8).abs() < 1e-12, "{s}");
    assert!(silhouette(z.view(), &labels[..5]).is_err());
}

#[test]
fn features_from_a_synthetic_log() {
    let synth = SynthOptions::<Weeks>::new()
        .customers(3_000)
        .seed(9)
        .generate()
        .unwrap();
    let data = synth.dataset;
    let end = synth.truth.options.end_date();
    let all = data.view(&Scope::all());
    let summary = SummaryOptions::new(end).compute::<Days>(&all).unwrap();
    let f = FeatureOptions::new()
        .mix(3)
        .compute(&all, &summary)
        .unwrap();
    assert_eq!(f.len(), summary.len());
    assert_eq!(
        &f.names[..5],
        [
            "recency_days",
            "frequency",
            "monetary",
            "tenure_days",
            "gap_cv"
        ]
    );
    // Three categories and three channels (the generator has 10 and 4).
    assert_eq!(f.names.len(), 11);
    assert!(f.names[5].starts_with("category:") && f.names[8].starts_with("channel:"));
    for i in 0..f.len() {
        let s = summary.get(i);
        // Whole numbers of days and purchases: exact.
        assert_eq!(f.raw[[i, 1]].to_bits(), f64::from(s.x + 1).to_bits());
        assert_eq!(f.raw[[i, 3]].to_bits(), s.t.days().to_bits());
        assert_eq!(
            (f.raw[[i, 3]] - f.raw[[i, 0]]).to_bits(),
            s.t_x.days().to_bits()
        );
        let cat: f64 = (5..8).map(|j| f.raw[[i, j]]).sum();
        let chan: f64 = (8..11).map(|j| f.raw[[i, j]]).sum();
        assert!((0.0..=1.0 + 1e-12).contains(&cat) && (0.0..=1.0 + 1e-12).contains(&chan));
    }
    let run = |threads| {
        crate::pool(threads).install(|| {
            ClusterOptions::new()
                .k_range(2, 5)
                .sample(1_000)
                .fit(&f)
                .unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2), "clusters depend on the thread count");
    assert!(one.model.k >= 2 && one.model.k <= 5);
}

#[test]
fn every_cluster_option_error_is_named() {
    let (f, _) = planted(200, 3, 1, 3.0);
    let option_of = |o: ClusterOptions| match o.fit(&f) {
        Err(Error::InvalidOption { option, value, .. }) => (option, value),
        other => panic!("expected an option error, got {other:?}"),
    };
    let cases = [
        (ClusterOptions::new().k(1), "k", "1"),
        (ClusterOptions::new().k(201), "k", "201"),
        (ClusterOptions::new().k_range(1, 4), "k_range", "1..=4"),
        (ClusterOptions::new().k_range(5, 4), "k_range", "5..=4"),
        (
            ClusterOptions::new().k_range(2, 20).sample(15),
            "k_range",
            "2..=20",
        ),
        (ClusterOptions::new().n_init(0), "n_init", "0"),
        (
            ClusterOptions::new().iterations(0, 1e-4),
            "iterations",
            "max_iter = 0",
        ),
        (
            ClusterOptions::new().iterations(10, 0.0),
            "iterations",
            "tolerance = 0",
        ),
        (ClusterOptions::new().sample(5), "sample", "5"),
    ];
    for (opts, option, value) in cases {
        assert_eq!(option_of(opts), (option, value.to_string()));
    }
    let c = ClusterOptions::new().k(3).fit(&f).unwrap().model;
    assert_eq!(
        c.value_shares(&[1.0; 3]).unwrap_err(),
        Error::LengthMismatch {
            input: "values",
            found: 3,
            expected: 200,
            against: "customers",
        }
    );
    assert!((c.value_shares(&vec![1.0; 200]).unwrap().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Constant features, bad shapes and bad values.
    let flat = Features::new(
        rows(50),
        vec!["a".into()],
        Array2::ones((50, 1)),
        vec![false],
        vec![0.0; 50],
    )
    .unwrap();
    match ClusterOptions::new().k(2).fit(&flat) {
        Err(Error::Degenerate { input, .. }) => assert_eq!(input, "features"),
        other => panic!("{other:?}"),
    }
    assert!(Features::new(
        rows(5),
        vec!["a".into()],
        Array2::ones((5, 2)),
        vec![false],
        vec![0.0; 5]
    )
    .is_err());
    assert!(Features::new(
        rows(5),
        vec!["a".into()],
        Array2::ones((5, 1)),
        vec![false],
        vec![0.0; 4]
    )
    .is_err());
    let mut bad = Array2::ones((5, 1));
    bad[[3, 0]] = f64::NAN;
    match Features::new(rows(5), vec!["a".into()], bad, vec![false], vec![0.0; 5]) {
        Err(Error::BadValue {
            input, row, field, ..
        }) => {
            assert_eq!((input.as_str(), row), ("features", 3));
            assert_eq!(field, "a");
        }
        other => panic!("{other:?}"),
    }
    // Three distinct customers cannot fill five clusters.
    let dup = Array2::from_shape_fn((60, 2), |(i, j)| ((i % 3) * (j + 1)) as f64);
    let dup = Features::new(
        rows(60),
        vec!["a".into(), "b".into()],
        dup,
        vec![false; 2],
        vec![0.0; 60],
    )
    .unwrap();
    match ClusterOptions::new().k(5).fit(&dup) {
        Err(Error::InvalidOption {
            option,
            value,
            allowed,
        }) => assert_eq!((option, value.as_str()), ("k", "5"), "{allowed}"),
        other => panic!("{other:?}"),
    }
    // Public fields bypass `new`; `fit` checks them again.
    let mut broken = f.clone();
    broken.log_scaled.pop();
    assert_eq!(
        ClusterOptions::new().k(2).fit(&broken).unwrap_err(),
        Error::LengthMismatch {
            input: "log_scaled",
            found: f.names.len() - 1,
            expected: f.names.len(),
            against: "columns of raw",
        }
    );
    let empty = Features::new(
        rows(0),
        vec!["a".into()],
        Array2::zeros((0, 1)),
        vec![false],
        vec![],
    )
    .unwrap();
    assert_eq!(
        ClusterOptions::new().k(2).fit(&empty).unwrap_err(),
        Error::EmptyInput
    );
}

/// Features carry the summary's scope, so a wider view must not lend them a column that
/// scope hides (nor run profiling the scope forbids); and their bits must not depend on
/// the thread count, with more customers than one summing chunk.
#[test]
fn features_show_only_what_the_summary_scope_shows() {
    let synth = SynthOptions::<Weeks>::new()
        .customers(5_000)
        .seed(4)
        .generate()
        .unwrap();
    let data = synth.dataset;
    let end = synth.truth.options.end_date();
    let wide = data.view(&Scope::all());
    let narrow = data.view(&Scope::all().hide(ColumnSet::parse_list("channel").unwrap()));
    let summary = SummaryOptions::new(end).compute::<Days>(&narrow).unwrap();
    let options = FeatureOptions::new().mix(3);
    let f = options.compute(&wide, &summary).unwrap();
    assert!(f.rows.scope().hidden_columns.contains(Column::Channel));
    assert!(
        !f.names.iter().any(|n| n.starts_with("channel:")),
        "{:?}",
        f.names
    );
    assert_eq!(f.names.len(), 8);
    assert!(f.names[5].starts_with("category:"));
    assert_eq!(f, options.compute(&narrow, &summary).unwrap());

    let no_profiling = Scope::all().forbid(AreaSet::parse_list("profiling").unwrap());
    let hidden = SummaryOptions::new(end)
        .compute::<Days>(&data.view(&no_profiling))
        .unwrap();
    assert!(matches!(
        options.compute(&wide, &hidden),
        Err(Error::ForbiddenArea {
            area: Area::Profiling,
            ..
        })
    ));

    let all = SummaryOptions::new(end).compute::<Days>(&wide).unwrap();
    let on = |threads| crate::pool(threads).install(|| options.compute(&wide, &all).unwrap());
    let (one, two) = (on(1), on(2));
    assert_eq!(one.names.len(), 11);
    let bits = |f: &Features| f.raw.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&one),
        bits(&two),
        "features depend on the thread count"
    );
}

/// The JSON contract of clustering results (and of the profile example, which prints
/// them as they serialise): `silhouette` is `[[k, score], ...]` and each profile's
/// `distinguishing` is `[[feature, z], ...]`, pairs rather than objects.
#[test]
fn silhouettes_and_distinguishing_features_serialise_as_pairs() {
    let (f, _) = planted(600, 3, 3, 6.0);
    let fitted = ClusterOptions::new().k_range(2, 4).fit(&f).unwrap();
    let silhouette = serde_json::to_value(&fitted.report.silhouette).unwrap();
    let pairs = silhouette.as_array().unwrap();
    assert_eq!(pairs.len(), 3);
    for (pair, s) in pairs.iter().zip(&fitted.report.silhouette) {
        assert_eq!(pair.as_array().unwrap().len(), 2, "{pair}");
        assert_eq!(pair[0].as_u64(), Some(s.k as u64));
        assert_eq!(pair[1].as_f64().map(f64::to_bits), Some(s.score.to_bits()));
    }
    let profile = &fitted.model.profiles[0];
    let distinguishing = serde_json::to_value(&profile.distinguishing).unwrap();
    for (pair, d) in distinguishing
        .as_array()
        .unwrap()
        .iter()
        .zip(&profile.distinguishing)
    {
        assert_eq!(pair.as_array().unwrap().len(), 2, "{pair}");
        assert_eq!(pair[0].as_str(), Some(d.feature.as_str()));
        assert_eq!(pair[1].as_f64().map(f64::to_bits), Some(d.z.to_bits()));
    }
    assert_eq!(distinguishing.as_array().unwrap().len(), 3);
    // And back.
    let back: Vec<SilhouetteScore> = serde_json::from_value(silhouette).unwrap();
    assert_eq!(back, fitted.report.silhouette);
    let back: Vec<Distinguishing> = serde_json::from_value(distinguishing).unwrap();
    assert_eq!(back, profile.distinguishing);
}

//! The examples under damaged input: a seeded mutation corpus of the bundled files (flipped
//! bytes, cut lines, swapped or missing columns, huge, negative and non-finite numbers,
//! impossible dates, non-UTF-8 text, byte-order marks, UTF-16, CR-only line ends, 1 MB
//! fields, many identical rows, empty files) run through `summarize`, `profile`, `churn`,
//! `basket`, `fit` (all six models), `clv` and `survival`.
//!
//! Every run must end with status 0 and JSON on stdout, or status 1 and one human error
//! line on stderr that names the file; never a panic, a timeout, a Rust `Debug` rendering,
//! or a `null` the example's header comment does not list with its reason (and, where
//! the example gives the reason in the JSON, without that reason beside it). Runs on 1
//! and 2 threads print the same JSON (timings aside).
//!
//! Besides the corpus: a closed stdout (`| head -1`, or closed before any output) ends
//! `profile` (text and JSON), `quickstart`, `basket` and `summarize` with status 0 and no
//! panic or "Broken pipe" message; arguments an example rejects itself (an unknown
//! `--unit` or `--format`, a malformed `--scope`, a missing `--as-of` or
//! `--predict-horizon`) exit with status 2 and an `error: ` line, as clap's own do.
//! The binaries are those `cargo build --release --examples` (or `cargo test`) built.
//!
//! The corpus is generated here from the seed files, so only the seeds live in the
//! repository. `ACRM_MUTATIONS=N` sets the mutations per case (default 24 in `cargo test`;
//! README's reliability figures come from `ACRM_MUTATIONS=110`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

/// One example run on one seed file; `{FILE}` in `args` is replaced by the mutated copy.
struct Case {
    name: &'static str,
    example: &'static str,
    args: &'static [&'static str],
    seed: &'static str,
    /// Lines of the seed kept (smaller seeds, faster runs).
    lines: usize,
    /// Field separator of the seed (for column mutations).
    sep: u8,
    /// JSON paths (`a.b[].c`) where the example's header comment documents a `null`,
    /// each with the key that must then give the reason beside it (a dotted path without
    /// `[]`; empty when the header comment alone explains it).
    nulls: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        name: "summarize-cdnow",
        example: "summarize",
        args: &[
            "--format",
            "cdnow",
            "--calibration-end",
            "1997-09-30",
            "--unit",
            "weeks",
            "{FILE}",
            "--json",
        ],
        seed: "cdnow/CDNOW_sample.txt",
        lines: 1200,
        sep: b' ',
        nulls: &[],
    },
    Case {
        name: "summarize-csv",
        example: "summarize",
        args: &[
            "--format",
            "csv",
            "--calibration-end",
            "2023-11-15",
            "--holdout-end",
            "2023-12-31",
            "--unit",
            "days",
            "{FILE}",
            "--json",
        ],
        seed: "reliability/transactions.csv",
        lines: 1500,
        sep: b',',
        nulls: &[],
    },
    Case {
        name: "profile",
        example: "profile",
        args: &[
            "--format",
            "cdnow",
            "{FILE}",
            "--as-of",
            "1998-06-30",
            "--json",
        ],
        seed: "cdnow/CDNOW_master.txt",
        lines: 1500,
        sep: b' ',
        nulls: &[
            ("clusters.k", "clusters.error"),
            ("habits.median_gap_days", "habits.median_gap_days_note"),
            (
                "habits.median_basket_value",
                "habits.median_basket_value_note",
            ),
            ("tiers.high.profit_share", "tiers.high.profit_share_note"),
            (
                "tiers.medium.profit_share",
                "tiers.medium.profit_share_note",
            ),
            ("tiers.low.profit_share", "tiers.low.profit_share_note"),
            (
                "tiers.negative.profit_share",
                "tiers.negative.profit_share_note",
            ),
            ("whale.peak_profit_pct", "whale.peak_profit_pct_note"),
        ],
    },
    Case {
        name: "churn",
        example: "churn",
        args: &[
            "--format",
            "cdnow",
            "{FILE}",
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--json",
        ],
        seed: "cdnow/CDNOW_master.txt",
        lines: 1500,
        sep: b' ',
        nulls: &[],
    },
    Case {
        name: "basket-lines",
        example: "basket",
        args: &[
            "{FILE}",
            "--min-support",
            "0.05",
            "--min-confidence",
            "0.2",
            "--json",
        ],
        seed: "product/small_baskets.txt",
        lines: 400,
        sep: b' ',
        nulls: &[],
    },
    Case {
        name: "basket-log",
        example: "basket",
        args: &[
            "{FILE}",
            "--format",
            "log",
            "--min-support",
            "0.01",
            "--min-confidence",
            "0.2",
            "--json",
        ],
        seed: "reliability/transactions.csv",
        lines: 1500,
        sep: b',',
        nulls: &[],
    },
    Case {
        name: "fit-bgnbd",
        example: "fit",
        args: &["--model", "bgnbd", "{FILE}", "--json"],
        seed: "cdnow/cdnow_customers_summary_with_transactions.csv",
        lines: 2400,
        sep: b',',
        nulls: &[
            ("std_errors.r", "std_errors_note"),
            ("std_errors.alpha", "std_errors_note"),
            ("std_errors.a", "std_errors_note"),
            ("std_errors.b", "std_errors_note"),
        ],
    },
    Case {
        name: "fit-mbgnbd",
        example: "fit",
        args: &["--model", "mbgnbd", "{FILE}", "--json"],
        seed: "cdnow/cdnow_customers_summary_with_transactions.csv",
        lines: 800,
        sep: b',',
        nulls: &[
            ("std_errors.r", "std_errors_note"),
            ("std_errors.alpha", "std_errors_note"),
            ("std_errors.a", "std_errors_note"),
            ("std_errors.b", "std_errors_note"),
        ],
    },
    Case {
        name: "fit-pnbd",
        example: "fit",
        args: &["--model", "pnbd", "{FILE}", "--json"],
        seed: "cdnow/cdnow_customers_summary_with_transactions.csv",
        lines: 800,
        sep: b',',
        nulls: &[
            ("std_errors.r", "std_errors_note"),
            ("std_errors.alpha", "std_errors_note"),
            ("std_errors.s", "std_errors_note"),
            ("std_errors.beta", "std_errors_note"),
        ],
    },
    Case {
        name: "fit-gg",
        example: "fit",
        args: &["--model", "gg", "{FILE}", "--json"],
        seed: "cdnow/cdnow_customers_summary_with_transactions.csv",
        lines: 2400,
        sep: b',',
        nulls: &[
            ("std_errors.p", "std_errors_note"),
            ("std_errors.q", "std_errors_note"),
            ("std_errors.gamma", "std_errors_note"),
            ("expected_spend", "expected_spend_infinite"),
            (
                "spend_frequency_correlation",
                "spend_frequency_correlation_note",
            ),
        ],
    },
    Case {
        name: "fit-bgbb",
        example: "fit",
        args: &["--model", "bgbb", "{FILE}", "--json"],
        seed: "persistency/donations.csv",
        lines: 100,
        sep: b',',
        nulls: &[
            ("std_errors.alpha", "std_errors_note"),
            ("std_errors.beta", "std_errors_note"),
            ("std_errors.gamma", "std_errors_note"),
            ("std_errors.delta", "std_errors_note"),
        ],
    },
    Case {
        name: "fit-sbg",
        example: "fit",
        args: &["--model", "sbg", "{FILE}", "--json"],
        seed: "persistency/sbg_cohorts.csv",
        lines: 100,
        sep: b',',
        nulls: &[
            ("std_errors.alpha", "std_errors_note"),
            ("std_errors.beta", "std_errors_note"),
            ("expected_lifetime", "expected_lifetime_infinite"),
        ],
    },
    Case {
        name: "clv",
        example: "clv",
        args: &[
            "{FILE}",
            "--horizon-months",
            "12",
            "--monthly-discount",
            "0.01",
            "--json",
        ],
        seed: "cdnow/cdnow_customers_summary_with_transactions.csv",
        lines: 2400,
        sep: b',',
        nulls: &[(
            "spend_frequency_correlation",
            "spend_frequency_correlation_note",
        )],
    },
    Case {
        name: "survival",
        example: "survival",
        args: &[
            "{FILE}",
            "--duration",
            "week",
            "--event",
            "arrest",
            "--group",
            "fin",
            "--at",
            "10,20,40",
            "--json",
        ],
        seed: "survival/rossi.csv",
        lines: 500,
        sep: b',',
        nulls: &[
            ("median", ""),
            ("median_interval[]", ""),
            ("groups[].median", ""),
            ("groups[].median_interval[]", ""),
            ("logrank", "logrank_note"),
        ],
    },
];

/// The mutations, by name; `mutate` applies the one with this index.
const KINDS: &[&str] = &[
    "flip-bytes",
    "truncate-file",
    "cut-line",
    "drop-line",
    "swap-columns",
    "drop-column",
    "huge-number",
    "non-finite",
    "negative",
    "impossible-date",
    "non-utf8",
    "utf8-bom",
    "utf16",
    "cr-only",
    "megabyte-field",
    "identical-rows",
    "empty",
    "header-only",
    "random-bytes",
    "semicolons",
    "extra-field",
    "repeat-header",
];

fn data(path: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn first_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let mut end = 0;
    for (k, pos) in memchr_lines(bytes).enumerate() {
        end = pos + 1;
        if k + 1 == n {
            break;
        }
    }
    if end == 0 {
        bytes.to_vec()
    } else {
        bytes[..end].to_vec()
    }
}

fn memchr_lines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .map(|(i, _)| i)
}

fn split_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.to_vec())
        .collect()
}

fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

fn fields(line: &[u8], sep: u8) -> Vec<Vec<u8>> {
    if sep == b' ' {
        line.split(|&c| c == b' ' || c == b'\t')
            .filter(|f| !f.is_empty())
            .map(|f| f.to_vec())
            .collect()
    } else {
        line.split(|&c| c == sep).map(|f| f.to_vec()).collect()
    }
}

fn unfields(f: &[Vec<u8>], sep: u8) -> Vec<u8> {
    f.join(&sep)
}

/// Replaces one field (not on the first line) with `value`.
fn replace_field(seed: &[u8], sep: u8, rng: &mut impl Rng, value: &[u8]) -> Vec<u8> {
    let mut lines = split_lines(seed);
    if lines.len() < 2 {
        return seed.to_vec();
    }
    let i = rng.gen_range(1..lines.len());
    let mut f = fields(&lines[i], sep);
    if f.is_empty() {
        return seed.to_vec();
    }
    let j = rng.gen_range(0..f.len());
    f[j] = value.to_vec();
    lines[i] = unfields(&f, sep);
    join_lines(&lines)
}

/// Replaces one field that looks like a date (8 digits or `YYYY-MM-DD`).
fn replace_date(seed: &[u8], sep: u8, rng: &mut impl Rng, value: &[u8]) -> Vec<u8> {
    let mut lines = split_lines(seed);
    for _ in 0..50 {
        if lines.len() < 2 {
            break;
        }
        let i = rng.gen_range(1..lines.len());
        let mut f = fields(&lines[i], sep);
        if let Some(j) = f.iter().position(|x| {
            (x.len() == 8 && x.iter().all(u8::is_ascii_digit))
                || (x.len() == 10 && x[4] == b'-' && x[7] == b'-')
        }) {
            f[j] = value.to_vec();
            lines[i] = unfields(&f, sep);
            return join_lines(&lines);
        }
    }
    replace_field(seed, sep, rng, value)
}

/// `replace` with one of `values`, picked first.
fn replace_picked<R: Rng>(
    seed: &[u8],
    sep: u8,
    rng: &mut R,
    values: &[&[u8]],
    replace: fn(&[u8], u8, &mut R, &[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let value = values[rng.gen_range(0..values.len())];
    replace(seed, sep, rng, value)
}

fn mutate(seed: &[u8], sep: u8, kind: usize, rng: &mut impl Rng) -> Vec<u8> {
    let n = seed.len().max(1);
    match KINDS[kind] {
        "flip-bytes" => {
            let mut b = seed.to_vec();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..n);
                if i < b.len() {
                    b[i] = rng.gen();
                }
            }
            b
        }
        "truncate-file" => seed[..rng.gen_range(0..n)].to_vec(),
        "cut-line" => {
            let mut lines = split_lines(seed);
            let i = rng
                .gen_range(0..lines.len().max(1))
                .min(lines.len().saturating_sub(1));
            if let Some(l) = lines.get_mut(i) {
                let k = rng.gen_range(0..l.len().max(1));
                l.truncate(k);
            }
            join_lines(&lines)
        }
        "drop-line" => {
            let mut lines = split_lines(seed);
            if !lines.is_empty() {
                let i = rng.gen_range(0..lines.len());
                lines.remove(i);
            }
            join_lines(&lines)
        }
        "swap-columns" | "drop-column" => {
            let lines = split_lines(seed);
            let width = lines.first().map_or(0, |l| fields(l, sep).len());
            if width < 2 {
                return seed.to_vec();
            }
            let a = rng.gen_range(0..width);
            let b = (a + rng.gen_range(1..width)) % width;
            let out: Vec<Vec<u8>> = lines
                .iter()
                .map(|l| {
                    let mut f = fields(l, sep);
                    if f.len() == width {
                        if KINDS[kind] == "swap-columns" {
                            f.swap(a, b);
                        } else {
                            f.remove(a);
                        }
                    }
                    unfields(&f, sep)
                })
                .collect();
            join_lines(&out)
        }
        "huge-number" => {
            let v: &[&[u8]] = &[
                b"1e308",
                b"99999999999999999999999999",
                b"1.7976931348623157e308",
                b"4294967296",
                b"18446744073709551616",
            ];
            replace_picked(seed, sep, rng, v, replace_field)
        }
        "non-finite" => {
            let v: &[&[u8]] = &[b"NaN", b"inf", b"-inf", b"nan", b"Infinity"];
            replace_picked(seed, sep, rng, v, replace_field)
        }
        "negative" => {
            let v: &[&[u8]] = &[b"-1", b"-13.62", b"-0.5", b"-1e9"];
            replace_picked(seed, sep, rng, v, replace_field)
        }
        "impossible-date" => {
            let v: &[&[u8]] = &[
                b"19970230",
                b"2024-02-30",
                b"00000000",
                b"99991399",
                b"1700-01-01",
                b"9999-12-31",
                b"2024-13-01",
            ];
            replace_picked(seed, sep, rng, v, replace_date)
        }
        "non-utf8" => {
            let v: &[&[u8]] = &[b"\xff\xfe", b"caf\xe9", b"\xc3\x28", b"a\x80b"];
            replace_picked(seed, sep, rng, v, replace_field)
        }
        "utf8-bom" => [b"\xef\xbb\xbf".as_slice(), seed].concat(),
        "utf16" => {
            let text = String::from_utf8_lossy(seed);
            let big = rng.gen_bool(0.5);
            let mut out = if big {
                vec![0xfe, 0xff]
            } else {
                vec![0xff, 0xfe]
            };
            for u in text.encode_utf16() {
                out.extend_from_slice(&if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            out
        }
        "cr-only" => seed
            .iter()
            .map(|&c| if c == b'\n' { b'\r' } else { c })
            .collect(),
        "megabyte-field" => replace_field(seed, sep, rng, &vec![b'7'; 1 << 20]),
        "identical-rows" => {
            let lines = split_lines(seed);
            let Some(row) = lines.get(1.min(lines.len().saturating_sub(1))) else {
                return seed.to_vec();
            };
            let mut out = join_lines(&lines[..1]);
            for _ in 0..200_000 {
                out.extend_from_slice(row);
                out.push(b'\n');
            }
            out
        }
        "empty" => Vec::new(),
        "header-only" => first_lines(seed, 1),
        "random-bytes" => (0..rng.gen_range(0..400)).map(|_| rng.gen()).collect(),
        "semicolons" => seed
            .iter()
            .map(|&c| if c == sep { b';' } else { c })
            .collect(),
        "extra-field" => {
            let mut lines = split_lines(seed);
            if lines.len() > 1 {
                let i = rng.gen_range(1..lines.len());
                lines[i].push(sep);
                lines[i].extend_from_slice(b"42");
            }
            join_lines(&lines)
        }
        "repeat-header" => {
            let mut lines = split_lines(seed);
            if lines.len() > 2 {
                let i = rng.gen_range(2..lines.len());
                let h = lines[0].clone();
                lines.insert(i, h);
            }
            join_lines(&lines)
        }
        k => unreachable!("mutation {k}"),
    }
}

/// The newest build of an example next to this test's own binary: `cargo build
/// --examples` writes `fit`, `cargo test` only `fit-0123abcd…` (so a plain binary left
/// by an earlier build may be stale).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let plain = dir.join("examples").join(name);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("examples"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let f = p.file_name().and_then(|f| f.to_str()).unwrap_or("");
            f.strip_prefix(name)
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|h| h.len() == 16 && h.bytes().all(|c| c.is_ascii_hexdigit()))
                && p.extension().is_none()
        })
        .chain(plain.exists().then_some(plain))
        .collect();
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found
        .pop()
        .unwrap_or_else(|| panic!("example `{name}` is not built in {}", dir.display()))
}

struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

fn run(bin: &Path, args: &[String], threads: usize, timeout: Duration) -> Outcome {
    let mut child = Command::new(bin)
        .args(args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn example");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        status: status.code(),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned(),
        timed_out,
    }
}

/// Whether a message shows a Rust `Debug` rendering (`Name { field: .. }`, `Some(..)`).
fn looks_like_debug(s: &str) -> bool {
    let b = s.as_bytes();
    for (i, w) in s.match_indices(" { ") {
        let _ = w;
        let word: String = s[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if word.chars().last().is_some_and(|c| c.is_ascii_uppercase()) {
            return true;
        }
    }
    s.contains("Some(")
        || s.contains("None,")
        || s.contains("Kind(")
        || b.windows(6).any(|w| w == b"Error(")
}

/// Paths of the `null`s in `v` (array indices as `[]`).
fn nulls(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(path.to_string()),
        Value::Array(a) => a.iter().for_each(|x| nulls(x, &format!("{path}[]"), out)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            nulls(x, &p, out)
        }),
        _ => {}
    }
}

/// The value at a dotted path (`a.b`; null when absent).
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// The JSON without timings (keys ending in `_ms`), for comparing thread counts.
fn without_timings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.ends_with("_ms"));
            m.values_mut().for_each(without_timings);
        }
        Value::Array(a) => a.iter_mut().for_each(without_timings),
        _ => {}
    }
}

#[derive(Default, Debug)]
struct Tally {
    runs: usize,
    ok: usize,
    errors: usize,
    panics: Vec<String>,
    timeouts: Vec<String>,
    debug_messages: Vec<String>,
    unexplained_nulls: Vec<String>,
    bad_status: Vec<String>,
    unnamed_file: Vec<String>,
    thread_differences: Vec<String>,
}

#[test]
fn mutated_inputs_get_a_result_or_a_human_error() {
    let per_case: usize = std::env::var("ACRM_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let dir = std::env::temp_dir().join(format!("acrm-mutations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let timeout = Duration::from_secs(60);
    let mut tally = Tally::default();
    // `ACRM_MUTATIONS_LOG=F` lists every error message (for reading them all).
    let log = std::env::var("ACRM_MUTATIONS_LOG")
        .ok()
        .map(|p| std::fs::File::create(p).expect("log file"));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
    for case in CASES {
        let bin = example(case.example);
        let seed = first_lines(&data(case.seed), case.lines);
        for m in 0..=per_case {
            // Mutation 0 is the seed itself, which must succeed.
            let (label, bytes) = if m == 0 {
                ("seed".to_string(), seed.clone())
            } else {
                let kind = (m - 1) % KINDS.len();
                (
                    format!("{}#{m}", KINDS[kind]),
                    mutate(&seed, case.sep, kind, &mut rng),
                )
            };
            let file = dir.join(format!("{}-{m}.txt", case.name));
            std::fs::write(&file, &bytes).expect("write mutation");
            let file_s = file.to_string_lossy().into_owned();
            let args: Vec<String> = case
                .args
                .iter()
                .map(|a| {
                    if *a == "{FILE}" {
                        file_s.clone()
                    } else {
                        a.to_string()
                    }
                })
                .collect();
            let id = format!("{} {label}", case.name);
            // Thread counts are compared on a third of the runs (and the seeds).
            let threads: &[usize] = if m % 3 == 0 { &[1, 2] } else { &[2] };
            let mut outputs = Vec::new();
            for &t in threads {
                let o = run(&bin, &args, t, timeout);
                tally.runs += 1;
                let first_err = o
                    .stderr
                    .lines()
                    .find(|l| !l.starts_with("skipped"))
                    .unwrap_or("")
                    .to_string();
                if o.timed_out {
                    tally.timeouts.push(id.clone());
                    continue;
                }
                if o.stderr.contains("panicked") || o.status == Some(101) || o.status.is_none() {
                    tally.panics.push(format!("{id}: {}", o.stderr.trim()));
                    continue;
                }
                if looks_like_debug(&o.stderr) {
                    tally
                        .debug_messages
                        .push(format!("{id}: {}", o.stderr.trim()));
                }
                match o.status {
                    Some(0) => {
                        tally.ok += 1;
                        match serde_json::from_str::<Value>(&o.stdout) {
                            Ok(mut v) => {
                                let mut found = Vec::new();
                                nulls(&v, "", &mut found);
                                for p in found {
                                    match case.nulls.iter().find(|(n, _)| *n == p) {
                                        None => tally.unexplained_nulls.push(format!("{id}: {p}")),
                                        Some((_, why))
                                            if !why.is_empty() && at(&v, why).is_null() =>
                                        {
                                            tally
                                                .unexplained_nulls
                                                .push(format!("{id}: {p} without its reason {why}"))
                                        }
                                        Some(_) => {}
                                    }
                                }
                                without_timings(&mut v);
                                outputs.push(v);
                            }
                            Err(e) => tally
                                .bad_status
                                .push(format!("{id}: status 0 without JSON ({e})")),
                        }
                    }
                    Some(1) => {
                        tally.errors += 1;
                        if let Some(log) = &log {
                            use std::io::Write;
                            let _ = writeln!(&*log, "{id}\t{}", first_err.replace(&file_s, "FILE"));
                        }
                        if m == 0 {
                            tally
                                .bad_status
                                .push(format!("{id}: the seed failed: {first_err}"));
                        }
                        if !first_err.contains(&file_s) {
                            tally.unnamed_file.push(format!("{id}: {first_err}"));
                        }
                    }
                    s => tally
                        .bad_status
                        .push(format!("{id}: status {s:?}: {first_err}")),
                }
            }
            if outputs.len() == 2 && outputs[0] != outputs[1] {
                tally.thread_differences.push(id.clone());
            }
            let _ = std::fs::remove_file(&file);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "reliability corpus: {} cases, {} mutations each, {} runs: {} results, {} errors; \
         panics {}, timeouts {}, Debug messages {}, unexplained nulls {}, other statuses {}, \
         errors without the file {}, thread differences {}",
        CASES.len(),
        per_case,
        tally.runs,
        tally.ok,
        tally.errors,
        tally.panics.len(),
        tally.timeouts.len(),
        tally.debug_messages.len(),
        tally.unexplained_nulls.len(),
        tally.bad_status.len(),
        tally.unnamed_file.len(),
        tally.thread_differences.len()
    );
    let show = |what: &str, v: &[String]| {
        for s in v.iter().take(
            std::env::var("ACRM_MUTATIONS_SHOW")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(12),
        ) {
            eprintln!("{what}: {}", s.chars().take(400).collect::<String>());
        }
    };
    show("panic", &tally.panics);
    show("timeout", &tally.timeouts);
    show("debug", &tally.debug_messages);
    show("null", &tally.unexplained_nulls);
    show("status", &tally.bad_status);
    show("no file", &tally.unnamed_file);
    show("threads", &tally.thread_differences);
    assert!(
        tally.ok > 0 && tally.errors > 0,
        "the corpus exercised both outcomes"
    );
    assert!(
        tally.panics.is_empty()
            && tally.timeouts.is_empty()
            && tally.debug_messages.is_empty()
            && tally.unexplained_nulls.is_empty()
            && tally.bad_status.is_empty()
            && tally.unnamed_file.is_empty()
            && tally.thread_differences.is_empty(),
        "see the list above"
    );
}

/// Runs an example with stdout a pipe that this side closes after reading `lines` lines
/// (0: before the example writes anything), as `| head -n` does; then its status and
/// stderr.
fn run_closing_stdout(bin: &Path, args: &[String], lines: usize) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn example");
    let out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut reader = BufReader::new(out);
    for _ in 0..lines {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            break;
        }
    }
    drop(reader);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    (status.code(), stderr)
}

fn data_path(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_closed_stdout_ends_the_examples_quietly() {
    let master = data_path("cdnow/CDNOW_master.txt");
    let profile = ["--format", "cdnow", &master, "--as-of", "1998-06-30"];
    let runs: Vec<(&str, Vec<String>)> = vec![
        ("profile", strings(&profile)),
        ("profile", strings(&[&profile[..], &["--json"]].concat())),
        ("quickstart", Vec::new()),
        (
            "basket",
            strings(&[
                &data_path("product/small_baskets.txt"),
                "--min-support",
                "0.05",
            ]),
        ),
        (
            "summarize",
            strings(&[
                "--format",
                "cdnow",
                "--calibration-end",
                "1997-09-30",
                &data_path("cdnow/CDNOW_sample.txt"),
            ]),
        ),
    ];
    let mut failures = Vec::new();
    for (name, args) in &runs {
        // Closed after the first line (`| head -1`), and before any output at all.
        for lines in [1, 0] {
            let (status, stderr) = run_closing_stdout(&example(name), args, lines);
            if status != Some(0)
                || stderr.contains("panicked")
                || stderr.to_lowercase().contains("broken pipe")
            {
                failures.push(format!(
                    "{name} {args:?}, pipe closed after {lines} lines: status {status:?}, \
                     stderr {stderr:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn arguments_an_example_rejects_exit_2_with_an_error_line() {
    let sample = data_path("cdnow/CDNOW_sample.txt");
    let master = data_path("cdnow/CDNOW_master.txt");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "summarize",
            strings(&[
                "--format",
                "cdnow",
                "--calibration-end",
                "1997-09-30",
                "--unit",
                "years",
                &sample,
            ]),
        ),
        (
            "summarize",
            strings(&[
                "--format",
                "xls",
                "--calibration-end",
                "1997-09-30",
                &sample,
            ]),
        ),
        (
            "profile",
            strings(&["--format", "xls", &master, "--as-of", "1998-06-30"]),
        ),
        (
            "churn",
            strings(&[
                "--format",
                "xls",
                &master,
                "--calibration-end",
                "1997-09-30",
                "--holdout-end",
                "1998-06-30",
            ]),
        ),
        (
            "survival",
            strings(&["--format", "xls", &master, "--as-of", "1998-06-30"]),
        ),
        ("survival", strings(&["--format", "cdnow", &master])),
        (
            "summarize",
            strings(&[
                "--format",
                "cdnow",
                "--calibration-end",
                "1997-09-30",
                &sample,
                "--scope",
                "team",
            ]),
        ),
        (
            "fit",
            strings(&[
                "--model",
                "bgnbd",
                &data_path("cdnow/cdnow_customers_summary_with_transactions.csv"),
                "--out",
                "unused.csv",
            ]),
        ),
        // clap's own usage errors, for comparison.
        ("fit", strings(&["--model", "nbd", &sample])),
        ("profile", strings(&["--format", "cdnow", &master])),
    ];
    let mut failures = Vec::new();
    for (name, args) in &cases {
        let o = run(&example(name), args, 1, Duration::from_secs(120));
        if o.status != Some(2) || !o.stderr.starts_with("error: ") || !o.stdout.is_empty() {
            failures.push(format!(
                "{name} {args:?}: status {:?}, stderr {:?}",
                o.status, o.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The examples' outputs are inputs: `summarize --out` goes into `fit` (a purchase model
/// and Gamma-Gamma) and `clv` unchanged, and gives the fit of the bundled summary of the
/// same data (CDNOW sample, calibration to 1997-09-30, weeks).
#[test]
fn summarize_output_is_read_by_fit_and_clv() {
    let dir = std::env::temp_dir().join(format!("acrm-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let summary = dir.join("summary.csv").to_string_lossy().into_owned();
    let o = run(
        &example("summarize"),
        &strings(&[
            "--format",
            "cdnow",
            "--calibration-end",
            "1997-09-30",
            "--unit",
            "weeks",
            &data_path("cdnow/CDNOW_sample.txt"),
            "--json",
            "--out",
            &summary,
        ]),
        2,
        Duration::from_secs(120),
    );
    assert_eq!(o.status, Some(0), "{}", o.stderr);
    let head = std::fs::read_to_string(&summary).expect("summary written");
    assert!(
        head.starts_with("id,x,t_x,T,mean_spend\n"),
        "{}",
        &head[..40]
    );
    let json = |name: &str, args: &[&str]| -> Value {
        let o = run(&example(name), &strings(args), 2, Duration::from_secs(120));
        assert_eq!(o.status, Some(0), "{name}: {}", o.stderr);
        serde_json::from_str(&o.stdout).expect("JSON")
    };
    let bundled = data_path("cdnow/cdnow_customers_summary_with_transactions.csv");
    for model in ["bgnbd", "gg"] {
        let ours = json("fit", &["--model", model, &summary, "--json"]);
        let theirs = json("fit", &["--model", model, &bundled, "--json"]);
        assert_eq!(ours["customers"], theirs["customers"], "{model}");
        for (k, v) in theirs["params"].as_object().expect("params") {
            let (a, b) = (ours["params"][k].as_f64().unwrap(), v.as_f64().unwrap());
            // The bundled file rounds t_x, T and spend to 2 decimals.
            assert!((a - b).abs() <= 1e-3 * b.abs(), "{model} {k}: {a} vs {b}");
        }
    }
    let clv = json(
        "clv",
        &[
            &summary,
            "--horizon-months",
            "12",
            "--monthly-discount",
            "0.01",
            "--json",
        ],
    );
    assert!(clv["total_clv"].as_f64().is_some_and(|v| v > 0.0), "{clv}");
    let _ = std::fs::remove_dir_all(&dir);
}

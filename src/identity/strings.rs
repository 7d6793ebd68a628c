//! String metrics for comparing normalised values: Jaro, Jaro–Winkler, Levenshtein,
//! Damerau–Levenshtein, rapidfuzz's token-set ratio and token Jaccard.
//!
//! Every metric works on Unicode scalar values (as jellyfish and rapidfuzz do) and is
//! checked against jellyfish 1.x / rapidfuzz 3.x on the pairs in
//! `tests/data/identity/compare/` (tolerance 1e-12).
//!
//! Why hand-written beside `strsim`: on the hot path (10⁷ pairs × 8 fields) a metric
//! must not allocate. `strsim::jaro` allocates its flag vectors per call and returns
//! 1.0 for two empty strings where jellyfish returns 0.0; `strsim::levenshtein` allocates
//! its row per call. Here short strings (≤ 64 characters, which is every name, phone or
//! e-mail in practice) use stack buffers and pure-ASCII inputs skip UTF-8 decoding.
//! The unrestricted Damerau–Levenshtein distance is `strsim`'s (it is off the hot path:
//! the comparison levels only ask "within one edit or transposition", answered by
//! [`within_one_edit`] without allocating).

/// Runs `f` on the characters of `s` as a slice: bytes widened to `char` without
/// allocating when `s` has at most 64 characters, a vector otherwise.
fn with_chars<R>(s: &str, f: impl FnOnce(&[char]) -> R) -> R {
    let mut buf = ['\0'; 64];
    let mut n = 0;
    for c in s.chars() {
        if n == 64 {
            let v: Vec<char> = s.chars().collect();
            return f(&v);
        }
        buf[n] = c;
        n += 1;
    }
    f(&buf[..n])
}

/// Runs `f` on both strings as slices (bytes when both are ASCII, characters otherwise).
macro_rules! dispatch {
    ($a:expr, $b:expr, $f:ident) => {{
        let (a, b) = ($a, $b);
        if a.is_ascii() && b.is_ascii() {
            $f(a.as_bytes(), b.as_bytes())
        } else {
            with_chars(a, |x| with_chars(b, |y| $f(x, y)))
        }
    }};
}

/// Jaro similarity as jellyfish's `jaro_similarity`: 0.0 when either string is empty.
pub fn jaro(a: &str, b: &str) -> f64 {
    dispatch!(a, b, jaro_slices)
}

/// Jaro similarity of two sequences (see [`jaro`]).
pub fn jaro_slices<T: Eq>(a: &[T], b: &[T]) -> f64 {
    if a.len() <= 64 && b.len() <= 64 {
        jaro_impl(a, b, &mut [false; 64], &mut [false; 64])
    } else {
        jaro_impl(a, b, &mut vec![false; a.len()], &mut vec![false; b.len()])
    }
}

fn jaro_impl<T: Eq>(a: &[T], b: &[T], fa: &mut [bool], fb: &mut [bool]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return 0.0;
    }
    let range = (la.max(lb) / 2).saturating_sub(1);
    let mut common = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range).min(lb - 1);
        if lo > hi {
            continue;
        }
        for j in lo..=hi {
            if !fb[j] && b[j] == *ca {
                fa[i] = true;
                fb[j] = true;
                common += 1;
                break;
            }
        }
    }
    if common == 0 {
        return 0.0;
    }
    let mut k = 0;
    let mut trans = 0usize;
    for i in 0..la {
        if fa[i] {
            while !fb[k] {
                k += 1;
            }
            if a[i] != b[k] {
                trans += 1;
            }
            k += 1;
        }
    }
    let trans = trans / 2;
    let c = common as f64;
    (c / la as f64 + c / lb as f64 + (common - trans) as f64 / c) / 3.0
}

/// Jaro–Winkler similarity as jellyfish's `jaro_winkler_similarity`: prefix scale 0.1,
/// at most 4 prefix characters, the boost applied only when the Jaro similarity is
/// above 0.7.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    dispatch!(a, b, jaro_winkler_slices)
}

/// Jaro–Winkler similarity of two sequences (see [`jaro_winkler`]).
pub fn jaro_winkler_slices<T: Eq>(a: &[T], b: &[T]) -> f64 {
    let j = jaro_slices(a, b);
    if j <= 0.7 {
        return j;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    if prefix == 0 {
        j
    } else {
        j + prefix as f64 * 0.1 * (1.0 - j)
    }
}

/// Levenshtein distance (insertions, deletions, substitutions) over characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    dispatch!(a, b, levenshtein_slices)
}

/// Levenshtein distance of two sequences (see [`levenshtein`]).
pub fn levenshtein_slices<T: Eq>(a: &[T], b: &[T]) -> usize {
    if b.len() < 65 {
        let mut row = [0usize; 65];
        levenshtein_impl(a, b, &mut row[..=b.len()])
    } else {
        levenshtein_impl(a, b, &mut vec![0; b.len() + 1])
    }
}

fn levenshtein_impl<T: Eq>(a: &[T], b: &[T], row: &mut [usize]) -> usize {
    for (j, r) in row.iter_mut().enumerate() {
        *r = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            let sub = diag + usize::from(ca != cb);
            row[j + 1] = sub.min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Unrestricted Damerau–Levenshtein distance (a transposed pair may be edited again),
/// as jellyfish's `damerau_levenshtein_distance`; computed by `strsim`.
pub fn damerau_levenshtein(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(a, b)
}

/// Whether the unrestricted Damerau–Levenshtein distance is at most 1 (equal, one
/// insertion, deletion, substitution, or one swap of adjacent characters), without
/// allocating. For distance ≤ 1 the restricted and unrestricted distances agree.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    dispatch!(a, b, within_one_edit_slices)
}

fn within_one_edit_slices<T: Eq>(a: &[T], b: &[T]) -> bool {
    let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[p..], &b[p..]);
    match ra.len() as isize - rb.len() as isize {
        0 => {
            ra.is_empty()
                || ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        1 => ra[1..] == *rb,
        -1 => rb[1..] == *ra,
        _ => false,
    }
}

/// The sorted, deduplicated whitespace-separated tokens of `s` (the token sets that
/// [`token_set_ratio_tokens`] and [`jaccard_tokens`] take).
pub fn sorted_tokens(s: &str) -> Vec<&str> {
    let mut t: Vec<&str> = s.split_whitespace().collect();
    t.sort_unstable();
    t.dedup();
    t
}

/// rapidfuzz's `fuzz.token_set_ratio(a, b) / 100` (no processor): tokens split on
/// whitespace, sorted and deduplicated; 1 when the sets share a token and one set holds
/// the other; otherwise the best of the Indel similarities between `sect + rest_a` and
/// `sect + rest_b`, `sect` and `sect + rest_a`, `sect` and `sect + rest_b` (the joined
/// sorted intersection and differences). 0 when either side has no token.
pub fn token_set_ratio(a: &str, b: &str) -> f64 {
    token_set_ratio_tokens(&sorted_tokens(a), &sorted_tokens(b))
}

/// Walks two sorted token lists, calling `f(in_a, in_b)` per distinct token: marks which
/// tokens of each list are in the intersection (bit masks, at most 64 tokens each).
fn intersect_masks<S: AsRef<str>>(a: &[S], b: &[S]) -> (u64, u64) {
    let (mut i, mut j, mut ma, mut mb) = (0, 0, 0u64, 0u64);
    while i < a.len() && j < b.len() {
        match a[i].as_ref().cmp(b[j].as_ref()) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                ma |= 1 << i;
                mb |= 1 << j;
                i += 1;
                j += 1;
            }
        }
    }
    (ma, mb)
}

/// The characters of the tokens of `t` whose bit in `mask` equals `keep`, joined by one
/// space (as rapidfuzz joins its token lists).
fn joined<S: AsRef<str>>(
    t: &[S],
    mask: u64,
    keep: bool,
) -> impl Iterator<Item = char> + Clone + '_ {
    t.iter()
        .enumerate()
        .filter(move |(i, _)| ((mask >> i) & 1 == 1) == keep)
        .enumerate()
        .flat_map(|(k, (_, s))| (k > 0).then_some(' ').into_iter().chain(s.as_ref().chars()))
}

/// Length of the longest common subsequence: bit-parallel (Hyyrö 2004) when the first
/// sequence has at most 64 characters, a dynamic programme otherwise.
fn lcs(a: impl Iterator<Item = char> + Clone, b: impl Iterator<Item = char> + Clone) -> usize {
    let m = a.clone().count();
    if m == 0 {
        return 0;
    }
    if m <= 64 {
        let mut ascii = [0u64; 128];
        let mut other: [(char, u64); 64] = [('\0', 0); 64];
        let mut n_other = 0;
        for (i, c) in a.enumerate() {
            if c.is_ascii() {
                ascii[c as usize] |= 1 << i;
            } else if let Some(e) = other[..n_other].iter_mut().find(|e| e.0 == c) {
                e.1 |= 1 << i;
            } else {
                other[n_other] = (c, 1 << i);
                n_other += 1;
            }
        }
        let mut s = u64::MAX;
        for c in b {
            let pm = if c.is_ascii() {
                ascii[c as usize]
            } else {
                other[..n_other]
                    .iter()
                    .find(|e| e.0 == c)
                    .map_or(0, |e| e.1)
            };
            let u = s & pm;
            s = s.wrapping_add(u) | (s.wrapping_sub(u));
        }
        let used = if m == 64 { u64::MAX } else { (1u64 << m) - 1 };
        (!s & used).count_ones() as usize
    } else {
        let av: Vec<char> = a.collect();
        let mut row = vec![0usize; av.len() + 1];
        for cb in b {
            let mut diag = 0;
            for (i, ca) in av.iter().enumerate() {
                let up = row[i + 1];
                row[i + 1] = if *ca == cb { diag + 1 } else { up.max(row[i]) };
                diag = up;
            }
        }
        row[av.len()]
    }
}

/// [`token_set_ratio`] on token lists already sorted and deduplicated (as
/// [`sorted_tokens`] makes them); allocation-free when each list has at most 64 tokens.
pub fn token_set_ratio_tokens<S: AsRef<str>>(a: &[S], b: &[S]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() > 64 || b.len() > 64 {
        let a: Vec<&str> = a.iter().take(64).map(AsRef::as_ref).collect();
        let b: Vec<&str> = b.iter().take(64).map(AsRef::as_ref).collect();
        // More than 64 distinct tokens: compare the first 64 of each (free text only).
        return token_set_ratio_tokens(&a, &b);
    }
    let (ma, mb) = intersect_masks(a, b);
    let n_sect = ma.count_ones() as usize;
    if n_sect > 0 && (n_sect == a.len() || n_sect == b.len()) {
        return 1.0;
    }
    let sect_len = joined(a, ma, true).count();
    let ab = joined(a, ma, false);
    let ba = joined(b, mb, false);
    let (ab_len, ba_len) = (ab.clone().count(), ba.clone().count());
    let sep = usize::from(sect_len != 0);
    let sect_ab_len = sect_len + sep + ab_len;
    let sect_ba_len = sect_len + sep + ba_len;
    let dist = ab_len + ba_len - 2 * lcs(ab, ba);
    let norm = |d: usize, total: usize| 100.0 - 100.0 * d as f64 / total as f64;
    let mut best = norm(dist, sect_ab_len + sect_ba_len);
    if sect_len > 0 {
        best = best
            .max(norm(sep + ab_len, sect_len + sect_ab_len))
            .max(norm(sep + ba_len, sect_len + sect_ba_len));
    }
    best / 100.0
}

/// Jaccard similarity of the whitespace token sets: |A ∩ B| / |A ∪ B|; 0 when both
/// are empty (no evidence of agreement).
pub fn jaccard(a: &str, b: &str) -> f64 {
    jaccard_tokens(&sorted_tokens(a), &sorted_tokens(b))
}

/// [`jaccard`] on sorted, deduplicated token lists; allocation-free.
pub fn jaccard_tokens<S: AsRef<str>>(a: &[S], b: &[S]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].as_ref().cmp(b[j].as_ref()) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Textbook values (Winkler 1990 / jellyfish docs): MARTHA–MARHTA, DIXON–DICKSONX.
    #[test]
    fn textbook_values() {
        assert!((jaro("MARTHA", "MARHTA") - 0.944_444_444_444_444_4).abs() < 1e-12);
        assert!((jaro_winkler("MARTHA", "MARHTA") - 0.961_111_111_111_111).abs() < 1e-12);
        assert!((jaro_winkler("DIXON", "DICKSONX") - 0.813_333_333_333_333_3).abs() < 1e-12);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(damerau_levenshtein("ca", "abc"), 2);
        assert!(within_one_edit("0123", "0213") && !within_one_edit("0123", "2103"));
        assert!((jaccard("a b c", "b c d") - 0.5).abs() < 1e-15);
    }
}

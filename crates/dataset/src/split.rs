//! Deterministic train / validation / test splits by object, never by image.
//!
//! Several images can show one object (LMC tiles, Sh2-276, …); putting them on both sides of a
//! split leaks the answer. Objects are ordered by a seeded hash of their key, so a split is
//! stable for a seed and independent of the input order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::stellarium::DsoImage;

/// Fractions of objects held out for validation and test (the rest trains).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitFractions {
    /// Fraction of objects in the validation set.
    pub validation: f64,
    /// Fraction of objects in the test set.
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        SplitFractions { validation: 0.1, test: 0.1 }
    }
}

/// Items divided into three disjoint sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split<T> {
    /// Items to train on.
    pub train: Vec<T>,
    /// Items to tune on.
    pub validation: Vec<T>,
    /// Items to report on.
    pub test: Vec<T>,
}

/// A seeded 64-bit hash (FNV-1a then SplitMix64 finalisation) that is stable across platforms.
pub fn seeded_hash(key: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in key.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Split items by the object `key` returns: all items of one object land in the same set.
///
/// Objects are ranked by `seeded_hash(key, seed)`; the first `test` fraction of objects go to
/// test, the next `validation` fraction to validation, the rest to train. Item order inside each
/// set follows the input order.
pub fn split_by_key<T>(items: Vec<T>, key: impl Fn(&T) -> String, fractions: SplitFractions, seed: u64) -> Split<T> {
    let mut objects: BTreeMap<String, u64> = BTreeMap::new();
    for item in &items {
        let k = key(item);
        let h = seeded_hash(&k, seed);
        objects.insert(k, h);
    }
    let mut ranked: Vec<(&String, &u64)> = objects.iter().collect();
    ranked.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    let n = ranked.len();
    let n_test = (fractions.test.clamp(0.0, 1.0) * n as f64).round() as usize;
    let n_val = ((fractions.validation.clamp(0.0, 1.0) * n as f64).round() as usize).min(n - n_test.min(n));
    let mut set_of: BTreeMap<&str, u8> = BTreeMap::new();
    for (i, (k, _)) in ranked.iter().enumerate() {
        let set = if i < n_test {
            2
        } else if i < n_test + n_val {
            1
        } else {
            0
        };
        set_of.insert(k.as_str(), set);
    }
    let mut split = Split { train: Vec::new(), validation: Vec::new(), test: Vec::new() };
    for item in items {
        match set_of.get(key(&item).as_str()).copied().unwrap_or(0) {
            2 => split.test.push(item),
            1 => split.validation.push(item),
            _ => split.train.push(item),
        }
    }
    split
}

/// The standard 80/10/10 object-level split of the Stellarium manifest.
pub fn stellarium_split(images: &[DsoImage], seed: u64) -> Split<DsoImage> {
    split_by_key(images.to_vec(), |i| i.object.clone(), SplitFractions::default(), seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_never_straddle_sets_and_splits_are_seeded() {
        // 100 objects, some with several images.
        let items: Vec<(String, usize)> =
            (0..100).flat_map(|o| (0..(1 + o % 3)).map(move |i| (format!("obj{o}"), i))).collect();
        let s = split_by_key(items.clone(), |(o, _)| o.clone(), SplitFractions::default(), 7);
        let objs =
            |v: &Vec<(String, usize)>| v.iter().map(|(o, _)| o.clone()).collect::<std::collections::BTreeSet<_>>();
        let (tr, va, te) = (objs(&s.train), objs(&s.validation), objs(&s.test));
        assert!(tr.is_disjoint(&va) && tr.is_disjoint(&te) && va.is_disjoint(&te));
        assert_eq!((tr.len(), va.len(), te.len()), (80, 10, 10));
        assert_eq!(s.train.len() + s.validation.len() + s.test.len(), items.len());
        // Same seed, shuffled input: same sets.
        let mut rev = items.clone();
        rev.reverse();
        let s2 = split_by_key(rev, |(o, _)| o.clone(), SplitFractions::default(), 7);
        assert_eq!(objs(&s2.test), te);
        // Another seed: another test set.
        let s3 = split_by_key(items, |(o, _)| o.clone(), SplitFractions::default(), 8);
        assert_ne!(objs(&s3.test), te);
    }
}

//! Rank statistics for comparing one frame order with another: average ranks, Pearson and
//! Spearman correlation, top-k overlap.

use super::rank::order_best_first;

/// Average ranks (1-based, ties share their mean rank) of `v`, ascending.
pub fn average_ranks(v: &[f32]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0f64; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = mean;
        }
        i = j + 1;
    }
    r
}

/// Pearson correlation of two equally long series (0 when either is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let ma = a[..n].iter().sum::<f64>() / n as f64;
    let mb = b[..n].iter().sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (a[i] - ma, b[i] - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if saa <= 0.0 || sbb <= 0.0 { 0.0 } else { sab / (saa * sbb).sqrt() }
}

/// Spearman rank correlation between scores and truth (1 = same order).
pub fn spearman(scores: &[f32], truth: &[f32]) -> f64 {
    pearson(&average_ranks(scores), &average_ranks(truth))
}

/// Fraction of the truth's best `k` frames that are also among the scores' best `k`.
pub fn top_k_overlap(scores: &[f32], truth: &[f32], k: usize) -> f64 {
    let k = k.min(scores.len()).min(truth.len());
    if k == 0 {
        return 0.0;
    }
    let a = order_best_first(scores);
    let b = order_best_first(truth);
    let set: std::collections::HashSet<usize> = a[..k].iter().copied().collect();
    b[..k].iter().filter(|i| set.contains(i)).count() as f64 / k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_and_overlap_behave() {
        let t = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&[10.0, 20.0, 30.0, 40.0, 50.0], &t) - 1.0).abs() < 1e-12);
        assert!((spearman(&[5.0, 4.0, 3.0, 2.0, 1.0], &t) + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&[1.0; 5], &t), 0.0);
        assert_eq!(top_k_overlap(&[9.0, 8.0, 0.0, 0.0, 0.0], &[0.0, 9.0, 8.0, 0.0, 0.0], 2), 0.5);
    }
}

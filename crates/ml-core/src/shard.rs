//! Which share of the data each data-parallel worker reads: contiguous, near-equal slices of a
//! global batch or epoch, so the workers together cover every sample exactly once.

use std::ops::Range;

/// One worker's place among `world` workers (rank 0 is the leader that writes files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker's index, `0..world`.
    pub rank: usize,
    /// How many workers share the data.
    pub world: usize,
}

impl Shard {
    /// The single worker of a run that is not data-parallel: it reads everything.
    pub const WHOLE: Shard = Shard { rank: 0, world: 1 };

    /// A worker's shard; `None` unless `rank < world`.
    pub fn new(rank: usize, world: usize) -> Option<Shard> {
        (rank < world).then_some(Shard { rank, world })
    }

    /// This worker's slice of `0..n`: contiguous, the first `n % world` workers take one more, so
    /// the slices of all workers are disjoint and cover `0..n` (what a global batch is split by).
    pub fn range(&self, n: usize) -> Range<usize> {
        let base = n / self.world;
        let extra = n % self.world;
        let start = self.rank * base + self.rank.min(extra);
        let len = base + usize::from(self.rank < extra);
        start..start + len
    }

    /// This worker's items of a global list (a shuffled epoch, a batch's sample seeds).
    pub fn of<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        &items[self.range(items.len())]
    }

    /// The weight of this worker's gradient in the global mean: its share of the `n` samples.
    /// Each worker's loss is a mean over its own samples, so summing `grad × weight` over the
    /// workers gives the gradient of the mean over all `n`, exactly as one worker would.
    pub fn weight(&self, n: usize) -> f32 {
        if n == 0 { 0.0 } else { self.range(n).len() as f32 / n as f32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_sample_once_without_gaps() {
        for n in [0usize, 1, 2, 7, 8, 9, 64, 1001] {
            for world in 1..=6 {
                let mut seen = vec![0u32; n];
                let mut weight = 0.0f64;
                let mut next = 0;
                for rank in 0..world {
                    let r = Shard::new(rank, world).unwrap().range(n);
                    assert_eq!(r.start, next, "n {n} world {world}: a gap or an overlap before rank {rank}");
                    next = r.end;
                    let len = r.len();
                    assert!(len == n / world || len == n / world + 1, "n {n} world {world} rank {rank}: {len}");
                    for i in r {
                        seen[i] += 1;
                    }
                    weight += f64::from(Shard::new(rank, world).unwrap().weight(n));
                }
                assert_eq!(next, n);
                assert!(seen.iter().all(|&c| c == 1), "n {n} world {world}: {seen:?}");
                if n > 0 {
                    assert!((weight - 1.0).abs() < 1e-6, "weights sum to {weight}");
                }
            }
        }
        assert_eq!(Shard::new(2, 2), None);
        let items: Vec<u32> = (0..10).collect();
        assert_eq!(Shard::new(1, 3).unwrap().of(&items), &[4, 5, 6]);
        assert_eq!(Shard::WHOLE.of(&items), &items[..]);
    }
}

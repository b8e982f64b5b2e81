//! Data-parallel training in one process: two workers (threads, as two devices would be) with
//! batch b each reach the same parameters as one worker with batch 2b on the same samples, and a
//! worker that stops answering ends the other's run with a timeout error instead of a hang.
//!
//! One test function: burn-collective keeps one collective per backend type and process, so the
//! scenarios run one after the other.

use std::time::{Duration, Instant};

use burn::backend::{Autodiff, Flex};
use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use ml_core::distributed::{ParallelConfig, ParallelError, Worker};
use ml_core::shard::Shard;

type A = Autodiff<Flex>;

#[derive(Module, Debug)]
struct Net<B: Backend> {
    hidden: Linear<B>,
    out: Linear<B>,
    act: Relu,
}

impl<B: Backend> Net<B> {
    fn new(device: &B::Device) -> Self {
        Net {
            hidden: LinearConfig::new(6, 16).init(device),
            out: LinearConfig::new(16, 2).init(device),
            act: Relu::new(),
        }
    }
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.out.forward(self.act.forward(self.hidden.forward(x)))
    }
}

/// Deterministic inputs and targets for step `step`: `n` rows.
fn batch(step: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
    let x = (0..n * 6).map(|i| (((i * 37 + step * 11) % 23) as f32 / 11.0) - 1.0).collect();
    let y = (0..n * 2).map(|i| (((i * 13 + step * 7) % 17) as f32 / 8.0) - 1.0).collect();
    (x, y)
}

fn params(net: &Net<A>) -> Vec<f32> {
    struct Flat(Vec<f32>);
    impl ModuleVisitor<A> for Flat {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
            self.0.extend(p.val().into_data().to_vec::<f32>().unwrap());
        }
    }
    let mut v = Flat(Vec::new());
    net.visit(&mut v);
    v.0
}

/// Train `steps` Adam steps on rows `shard` of each global batch of `global` rows.
fn train(mut net: Net<A>, worker: &Worker<A>, global: usize, steps: usize) -> Result<Net<A>, ParallelError> {
    let device = Default::default();
    let mut opt = AdamConfig::new().init::<A, Net<A>>();
    let shard = worker.shard();
    let rows = shard.range(global);
    for step in 0..steps {
        let (x, y) = batch(step, global);
        let x = Tensor::<A, 1>::from_floats(&x[rows.start * 6..rows.end * 6], &device).reshape([rows.len(), 6]);
        let y = Tensor::<A, 1>::from_floats(&y[rows.start * 2..rows.end * 2], &device).reshape([rows.len(), 2]);
        let loss = (net.forward(x) - y).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let grads = worker.average(&net, grads, shard.weight(global), step)?;
        net = opt.step(1e-2, net, grads);
    }
    Ok(net)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn two_workers_match_one_worker_with_the_double_batch_and_a_dead_worker_times_out() {
    let device = Default::default();
    let start = Net::<A>::new(&device);
    let before = params(&start);

    // One worker, global batch 10 (uneven shares below: 10 = 5 + 5, then 9 = 5 + 4).
    for global in [10usize, 9] {
        let single = train(start.clone(), &Worker::single(), global, 6).unwrap();
        let reference = params(&single);
        assert!(max_diff(&reference, &before) > 1e-3, "the reference run did not learn");

        let config = ParallelConfig::local(2);
        let results: Vec<Vec<f32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|i| {
                    let net = start.clone();
                    let config = config.clone();
                    s.spawn(move || {
                        let worker = Worker::<A>::join(&config, i, &Default::default()).unwrap();
                        assert_eq!(worker.shard(), Shard::new(i, 2).unwrap());
                        let net = train(net, &worker, global, 6).unwrap();
                        worker.finish().unwrap();
                        params(&net)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(max_diff(&results[0], &results[1]) < 1e-6, "global {global}: the replicas diverged");
        let d = max_diff(&results[0], &reference);
        assert!(d < 1e-4, "global {global}: two workers differ from one worker with the whole batch by {d}");
        burn::collective::reset_collective::<Flex>();
    }

    // Worker 1 dies after 2 steps: worker 0's third all-reduce fails within the timeout.
    let mut config = ParallelConfig::local(2);
    config.timeout = Duration::from_secs(3);
    let outcome = std::thread::scope(|s| {
        let survivor = {
            let (net, config) = (start.clone(), config.clone());
            s.spawn(move || {
                let worker = Worker::<A>::join(&config, 0, &Default::default()).unwrap();
                let t = Instant::now();
                (train(net, &worker, 8, 5).map(|_| ()), t.elapsed())
            })
        };
        let (net, config) = (start.clone(), config.clone());
        s.spawn(move || {
            let worker = Worker::<A>::join(&config, 1, &Default::default()).unwrap();
            train(net, &worker, 8, 2).unwrap();
        })
        .join()
        .unwrap();
        survivor.join().unwrap()
    });
    let (result, elapsed) = outcome;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("all-reduce of step 2") && err.contains("within 3 s"), "{err}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    burn::collective::reset_collective::<Flex>();

    // A worker that is never started: joining times out with a clear error.
    let err = Worker::<A>::join(&config, 0, &device).unwrap_err().to_string();
    assert!(err.contains("register of worker 0") && err.contains("not started"), "{err}");
    burn::collective::reset_collective::<Flex>();
}

//! Data-parallel training with burn-collective: every worker (a device of this process, or a
//! process on another machine) holds a replica of the model and its optimiser, computes gradients
//! on its own share of the global batch, and the gradients are averaged by one all-reduce per
//! step before each replica takes the same optimiser step. Replicas therefore stay identical, so
//! a checkpoint written by any number of workers resumes on any other number.
//!
//! Why burn-collective and not burn's `ddp` training strategy: our GAN loop has two optimisers,
//! an EMA and its own schedule (not burn's `Learner`), `ddp` needs a CubeCL backend with NCCL,
//! and burn-collective's all-reduce runs on every backend (Flex included, so it is tested here)
//! and across machines through its orchestrator.
//!
//! Every collective call is bounded by a timeout: a worker that dies or hangs ends the run on
//! every other worker with an error naming the step, instead of a silent hang.

use std::marker::PhantomData;
use std::sync::mpsc;
use std::time::Duration;

use burn::collective::{self, AllReduceStrategy, CollectiveConfig, CollectiveError, PeerId, ReduceOperation};
use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::TensorPrimitive;
use burn::tensor::backend::AutodiffBackend;

use crate::shard::Shard;

/// Why a data-parallel run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ParallelError {
    /// The options do not describe a valid collective (named option and reason).
    #[error("data-parallel setup: {0}")]
    Config(String),
    /// burn-collective refused or failed an operation.
    #[error("data-parallel {what}: {error:?}")]
    Collective {
        /// The operation (`register`, `all-reduce of step 12`, …).
        what: String,
        /// burn-collective's error.
        error: CollectiveError,
    },
    /// The other workers did not answer in time: one died, hangs or was never started.
    #[error(
        "data-parallel {what}: no answer from the other workers within {secs} s (a worker died, hangs or was not started)"
    )]
    Timeout {
        /// The operation that timed out.
        what: String,
        /// The timeout.
        secs: u64,
    },
}

/// The machine-level part of a multi-node run: where the orchestrator is and who this node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// `host:port` of burn-collective's global orchestrator (node 0 starts it on that port).
    pub orchestrator: String,
    /// This node's index, `0..nodes`.
    pub node_rank: u32,
    /// How many nodes (processes, usually one per machine) take part.
    pub nodes: u32,
    /// `host:port` at which the other nodes reach this node's tensor data service.
    pub node_address: String,
}

impl NodeConfig {
    /// The port of `host:port`, or a one-line error naming the option.
    pub(crate) fn port(addr: &str, option: &str) -> Result<u16, ParallelError> {
        addr.rsplit_once(':')
            .and_then(|(host, port)| (!host.is_empty()).then_some(port))
            .and_then(|p| p.parse::<u16>().ok())
            .filter(|p| *p != 0)
            .ok_or_else(|| ParallelError::Config(format!("{option} '{addr}' is not host:port")))
    }
}

/// How a run is spread: devices of this process, optionally several nodes, and the timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelConfig {
    /// Workers (devices) in this process.
    pub local_devices: usize,
    /// The multi-node part; `None` for one process.
    pub node: Option<NodeConfig>,
    /// The longest wait for the other workers in one collective call.
    pub timeout: Duration,
}

impl ParallelConfig {
    /// The default wait: long enough for the leader's validation and checkpoint between steps.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

    /// One process with `local_devices` workers.
    pub fn local(local_devices: usize) -> Self {
        ParallelConfig { local_devices, node: None, timeout: Self::DEFAULT_TIMEOUT }
    }

    /// Workers in the whole run.
    pub fn world(&self) -> usize {
        self.local_devices * self.node.as_ref().map_or(1, |n| n.nodes as usize)
    }

    /// Whether more than one worker takes part (otherwise nothing is exchanged).
    pub fn is_parallel(&self) -> bool {
        self.world() > 1
    }

    /// Check the options: at least one device, node rank below the node count, addresses parse.
    pub fn validate(&self) -> Result<(), ParallelError> {
        if self.local_devices == 0 {
            return Err(ParallelError::Config("--devices names no device".into()));
        }
        if self.timeout.is_zero() {
            return Err(ParallelError::Config("--collective-timeout must be above 0 s".into()));
        }
        if let Some(node) = &self.node {
            if node.nodes == 0 || node.node_rank >= node.nodes {
                return Err(ParallelError::Config(format!(
                    "--node-rank {} is not below --nodes {}",
                    node.node_rank, node.nodes
                )));
            }
            NodeConfig::port(&node.orchestrator, "--collective-server")?;
            NodeConfig::port(&node.node_address, "--node-address")?;
        }
        Ok(())
    }

    fn collective_config(&self) -> Result<CollectiveConfig, ParallelError> {
        let mut config = CollectiveConfig::default()
            .with_num_devices(self.local_devices)
            .with_local_all_reduce_strategy(AllReduceStrategy::Tree(2));
        if let Some(node) = &self.node {
            let data_port = NodeConfig::port(&node.node_address, "--node-address")?;
            let ws = |a: &str| format!("ws://{a}").parse().map_err(|e: String| ParallelError::Config(e));
            config = config
                .with_num_nodes(node.nodes)
                .with_global_address(ws(&node.orchestrator)?)
                .with_node_address(ws(&node.node_address)?)
                .with_data_service_port(data_port)
                .with_global_all_reduce_strategy(AllReduceStrategy::Ring);
        }
        Ok(config)
    }
}

/// burn seeds one random generator per backend for the whole process, so worker threads that
/// seed and initialise their replicas at the same time interleave their draws and start apart
/// from a single worker's run. Hold this lock while seeding and initialising a model.
pub fn seeded_init() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Start burn-collective's global orchestrator on `port` in a background thread (node 0 does
/// this). It first checks that the port can be bound, so a busy port is a clear error.
pub fn start_orchestrator(port: u16) -> Result<(), ParallelError> {
    std::net::TcpListener::bind(("0.0.0.0", port))
        .map_err(|e| ParallelError::Config(format!("--collective-server port {port}: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| ParallelError::Config(format!("orchestrator runtime: {e}")))?;
    std::thread::Builder::new()
        .name("collective-orchestrator".into())
        .spawn(move || runtime.block_on(burn_collective::start_global_orchestrator(port)))
        .map_err(|e| ParallelError::Config(format!("orchestrator thread: {e}")))?;
    Ok(())
}

/// Run a blocking collective call on a helper thread and wait at most `timeout` for it.
fn within<T: Send + 'static>(
    timeout: Duration,
    what: impl Into<String>,
    call: impl FnOnce() -> Result<T, CollectiveError> + Send + 'static,
) -> Result<T, ParallelError> {
    let what = what.into();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("collective-call".into())
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| ParallelError::Config(format!("{what}: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(ParallelError::Collective { what, error }),
        Err(_) => Err(ParallelError::Timeout { what, secs: timeout.as_secs() }),
    }
}

/// One data-parallel worker: its place in the run and the gradient exchange.
#[derive(Debug)]
pub struct Worker<B: AutodiffBackend> {
    peer: PeerId,
    shard: Shard,
    timeout: Duration,
    registered: bool,
    _backend: PhantomData<B>,
}

impl<B: AutodiffBackend> Worker<B> {
    /// The worker of a run that is not data-parallel: its exchange is the identity.
    pub fn single() -> Self {
        Worker {
            peer: PeerId(0),
            shard: Shard::WHOLE,
            timeout: ParallelConfig::DEFAULT_TIMEOUT,
            registered: false,
            _backend: PhantomData,
        }
    }

    /// Join the run as this process's `local_index`-th device on `device`. Blocks until every
    /// worker of the run has joined (at most the timeout). Node 0 must have started the
    /// orchestrator ([`start_orchestrator`]) in a multi-node run.
    pub fn join(config: &ParallelConfig, local_index: usize, device: &B::Device) -> Result<Self, ParallelError> {
        config.validate()?;
        if local_index >= config.local_devices {
            return Err(ParallelError::Config(format!(
                "device {local_index} of {} local devices",
                config.local_devices
            )));
        }
        let node_rank = config.node.as_ref().map_or(0, |n| n.node_rank as usize);
        let rank = node_rank * config.local_devices + local_index;
        let shard = Shard::new(rank, config.world()).expect("rank below world by construction");
        let mut worker = Worker {
            peer: PeerId(rank as u32),
            shard,
            timeout: config.timeout,
            registered: false,
            _backend: PhantomData,
        };
        if !config.is_parallel() {
            return Ok(worker);
        }
        let collective = config.collective_config()?;
        let inner = inner_device::<B>(device);
        let peer = worker.peer;
        within(config.timeout, format!("register of worker {rank}"), move || {
            collective::register::<B::InnerBackend>(peer, inner, collective)
        })?;
        worker.registered = true;
        tracing::info!(rank, world = config.world(), "joined the data-parallel run");
        Ok(worker)
    }

    /// This worker's share of the data.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// Whether this worker writes the run's files (checkpoints, models, validation): rank 0.
    pub fn is_leader(&self) -> bool {
        self.shard.rank == 0
    }

    /// Average `grads` of `module` over all workers: each worker's gradient is weighted by
    /// `weight` (its share of the global batch, [`Shard::weight`]) and the weighted gradients
    /// are summed with one all-reduce of all parameters flattened together. `step` names the call
    /// in errors. The identity when the run is not data-parallel.
    pub fn average<M: AutodiffModule<B>>(
        &self,
        module: &M,
        mut grads: GradientsParams,
        weight: f32,
        step: usize,
    ) -> Result<GradientsParams, ParallelError> {
        if !self.registered {
            return Ok(grads);
        }
        let mut gather = Gather::<B> { grads: &mut grads, flat: Vec::new(), slots: Vec::new() };
        module.visit(&mut gather);
        let Gather { flat, slots, .. } = gather;
        if flat.is_empty() {
            return Ok(grads);
        }
        let flat = Tensor::cat(flat, 0).mul_scalar(weight);
        let peer = self.peer;
        let primitive = flat.into_primitive().tensor();
        let summed = within(self.timeout, format!("all-reduce of step {step}"), move || {
            collective::all_reduce::<B::InnerBackend>(peer, primitive, ReduceOperation::Sum)
        })?;
        let summed = Tensor::<B::InnerBackend, 1>::from_primitive(TensorPrimitive::Float(summed));
        module.visit(&mut Scatter::<B> { grads: &mut grads, flat: summed, slots, next: 0, offset: 0 });
        Ok(grads)
    }

    /// Make every replica of `module` equal to the leader's (rank 0's), as PyTorch's DDP does at
    /// construction: one all-reduce of all parameters, the leader's weighted 1 and the others 0.
    /// Needed whenever replicas could start apart (threads drawing from one seeded generator).
    pub fn synchronise<M: AutodiffModule<B>>(&self, module: M) -> Result<M, ParallelError> {
        if !self.registered {
            return Ok(module);
        }
        let mut values = Values::<B> { flat: Vec::new() };
        module.visit(&mut values);
        if values.flat.is_empty() {
            return Ok(module);
        }
        let own = if self.is_leader() { 1.0 } else { 0.0 };
        let flat = Tensor::cat(values.flat, 0).mul_scalar(own);
        let peer = self.peer;
        let primitive = flat.into_primitive().tensor();
        let leader = within(self.timeout, "parameter broadcast", move || {
            collective::all_reduce::<B::InnerBackend>(peer, primitive, ReduceOperation::Sum)
        })?;
        let flat = Tensor::<B::InnerBackend, 1>::from_primitive(TensorPrimitive::Float(leader));
        Ok(module.map(&mut Assign::<B> { flat, offset: 0 }))
    }

    /// Leave the run (unregister); the last call of a worker, after its files are written.
    /// Best effort: burn-collective 0.21's multi-node close sometimes never answers although
    /// every operation finished, so a close that fails or takes over 10 s is logged, not an
    /// error (the run's work is done and saved by then).
    pub fn finish(mut self) -> Result<(), ParallelError> {
        if self.registered {
            self.registered = false;
            let peer = self.peer;
            let wait = self.timeout.min(Duration::from_secs(10));
            if let Err(e) = within(wait, "finish", move || collective::finish_collective::<B::InnerBackend>(peer)) {
                tracing::warn!("{e}");
            }
        }
        Ok(())
    }
}

/// The inner backend's device matching an autodiff device.
fn inner_device<B: AutodiffBackend>(device: &B::Device) -> burn::tensor::Device<B::InnerBackend> {
    Tensor::<B, 1>::zeros([1], device).inner().device()
}

/// Takes every parameter's gradient out of the gradients, flattened, in the module's visit order
/// (the same on every worker: same architecture).
struct Gather<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    flat: Vec<Tensor<B::InnerBackend, 1>>,
    slots: Vec<(ParamId, usize)>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Gather<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let len = grad.shape().num_elements();
            self.slots.push((param.id, len));
            self.flat.push(grad.reshape([len]));
        }
    }
}

/// Puts the summed gradients back, slice by slice, in the same order.
struct Scatter<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    flat: Tensor<B::InnerBackend, 1>,
    slots: Vec<(ParamId, usize)>,
    next: usize,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scatter<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let Some(&(id, len)) = self.slots.get(self.next) else { return };
        if id != param.id {
            return;
        }
        let dims: [usize; D] = param.val().shape().dims();
        let grad = self.flat.clone().slice(self.offset..self.offset + len).reshape(dims);
        self.grads.register::<B::InnerBackend, D>(id, grad);
        self.next += 1;
        self.offset += len;
    }
}

/// Every parameter's value, flattened, in the module's visit order.
struct Values<B: AutodiffBackend> {
    flat: Vec<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Values<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val().inner();
        let len = value.shape().num_elements();
        self.flat.push(value.reshape([len]));
    }
}

/// Replaces every parameter's value by its slice of `flat`, in the same order, keeping its id
/// and whether it is trained.
struct Assign<B: AutodiffBackend> {
    flat: Tensor<B::InnerBackend, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Assign<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let dims: [usize; D] = param.val().shape().dims();
        let len: usize = dims.iter().product();
        let value = self.flat.clone().slice(self.offset..self.offset + len).reshape(dims);
        self.offset += len;
        param.map(|old| {
            let new = Tensor::<B, D>::from_inner(value);
            if old.is_require_grad() { new.require_grad() } else { new }
        })
    }
}

/// The device of backend `B` with index `index` (`cuda:1` → the second GPU; CPU backends have
/// one device, whatever the index).
pub fn device_at<B: Backend>(index: usize) -> Result<B::Device, ParallelError> {
    use burn::tensor::backend::{Device, DeviceId};
    let index_id =
        u16::try_from(index).map_err(|_| ParallelError::Config(format!("device index {index} is too large")))?;
    let type_id = B::Device::default().to_id().type_id;
    Ok(B::Device::from_id(DeviceId { type_id, index_id }))
}

/// Run `body` once per local device, each as one data-parallel worker of the run (on its own
/// thread when there are several), and return the first worker's result or the first error.
/// In a multi-node run, node 0 first starts the orchestrator. A single worker runs on the
/// calling thread with no exchange at all.
pub fn launch<B, T, E>(
    config: &ParallelConfig,
    devices: &[B::Device],
    body: impl Fn(Worker<B>, &B::Device) -> Result<T, E> + Sync,
) -> Result<T, E>
where
    B: AutodiffBackend,
    T: Send,
    E: From<ParallelError> + Send,
{
    config.validate()?;
    if devices.len() != config.local_devices {
        return Err(ParallelError::Config(format!(
            "{} devices given for {} local workers",
            devices.len(),
            config.local_devices
        ))
        .into());
    }
    if !config.is_parallel() {
        return body(Worker::single(), &devices[0]);
    }
    if let Some(node) = config.node.as_ref().filter(|n| n.node_rank == 0) {
        start_orchestrator(NodeConfig::port(&node.orchestrator, "--collective-server")?)?;
    }
    let results: Vec<Result<T, E>> = std::thread::scope(|s| {
        let handles: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(i, device)| {
                let body = &body;
                s.spawn(move || body(Worker::join(config, i, device)?, device))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ParallelError::Config("a worker thread panicked".into()).into())))
            .collect()
    });
    let mut first = None;
    for result in results {
        match result {
            Err(e) => return Err(e),
            Ok(v) if first.is_none() => first = Some(v),
            Ok(_) => {}
        }
    }
    first.ok_or_else(|| ParallelError::Config("no local device".into()).into())
}

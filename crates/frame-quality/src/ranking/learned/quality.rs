//! `QualityNet`: a small CNN trained on simulated truth (Strehl) rather than on a teacher metric,
//! bundled with the crate (`rank-frames --metric learned`).
//!
//! Per frame ([`prepare_frame`]): bin 2×2 (with the checkerboard noise estimate of
//! [`crate::ranking::bandpass`]), find the disc, take K (4 or 8, stored with the weights) crops of
//! [`CROP`]×[`CROP`] binned pixels at fixed positions around the disc centre ([`crop_corners`]), subtract each crop's mean and divide
//! by the disc level; a second, constant channel carries the noise σ of a binned pixel over the
//! disc level, so the net knows how much of the fine texture is noise. The net (3×3 convs with
//! ReLU and 2×2 average pooling, global average pooling, log, a linear head) scores each crop;
//! a frame's score is the mean over its crops.
//!
//! Per video ([`QualityModel::score_source`]): frames without a disc score below every frame with
//! one, and — as in the default metric — frames whose disc touches the border rank below every
//! whole frame unless most frames touch it (the target fills the frame).
//!
//! Training ([`train_quality_net`]): pairwise logistic (RankNet) loss on score differences of two
//! frames of the same simulated video whose true quality differs by more than 10 %, Adam, random
//! flips/transposes of all crops of a frame. See `examples/train_quality_cnn.rs`.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::activation::{relu, softplus};
use burn::tensor::backend::AutodiffBackend;
use ml_core::descent::descend;
use ml_core::distributed::Worker;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{FrameError, Result};
use crate::io::{DecodeScratch, FrameSource};
use crate::pixels::ImageView;
use crate::pixels::bin2_with_noise;
use crate::ranking::disc::detect_disc;

/// Side of one crop, in 2×2-binned pixels.
pub const CROP: usize = 32;
/// Crops per frame of a new model (4 or 8; a model's own count is stored with its weights; 8 gave
/// no better validation ρ than 4 at twice the cost).
pub const DEFAULT_CROPS: usize = 4;
/// Input channels: the crop and the constant noise plane.
pub const CHANNELS: usize = 2;
/// Scale applied to the level-normalised crops and the noise σ (keeps inputs near unit range).
pub const INPUT_GAIN: f32 = 5.0;
/// Frames per batch when scoring a video.
pub const SCORE_CHUNK: usize = 128;

/// Magic of the weights layout before ml-core's container (still read; the bundled weights use
/// it): then one byte (crops per frame) and burn's record.
pub const MAGIC: &[u8; 8] = b"PSQCNN01";
/// The container kind of quality-net weights.
pub const QUALITY_KIND: &str = "quality-net";
/// The container format version written (and the newest read).
pub const QUALITY_FORMAT_VERSION: u32 = 1;

/// The bundled weights (trained by `examples/train_quality_cnn.rs`).
pub static BUNDLED_WEIGHTS: &[u8] = include_bytes!("../../../weights/quality-cnn.bin");

/// Architecture of [`QualityNet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityNetConfig {
    /// Output channels of the three 3×3 convolutions (2×2 average pooling after the first two).
    pub channels: [usize; 3],
}

impl Default for QualityNetConfig {
    fn default() -> Self {
        QualityNetConfig { channels: [8, 16, 16] }
    }
}

/// Three 3×3 convs (ReLU, 2×2 average pooling between them), global average pooling, log, linear.
#[derive(Module, Debug)]
pub struct QualityNet<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    conv3: Conv2d<B>,
    pool: AvgPool2d,
    head: Linear<B>,
}

impl QualityNetConfig {
    /// The bundled model's architecture.
    pub fn new() -> QualityNetConfig {
        QualityNetConfig::default()
    }

    /// Other conv widths.
    pub fn with_channels(self, channels: [usize; 3]) -> QualityNetConfig {
        QualityNetConfig { channels }
    }

    /// A freshly initialised network on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> QualityNet<B> {
        let [c1, c2, c3] = self.channels;
        let conv =
            |i, o| Conv2dConfig::new([i, o], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device);
        QualityNet {
            conv1: conv(CHANNELS, c1),
            conv2: conv(c1, c2),
            conv3: conv(c2, c3),
            pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            head: LinearConfig::new(c3, 1).init(device),
        }
    }
}

impl<B: Backend> QualityNet<B> {
    /// Crops `[N·K, 2, S, S]` → per-crop scores `[N·K]`.
    pub fn forward_crops(&self, x: Tensor<B, 4>) -> Tensor<B, 1> {
        let x = relu(self.conv1.forward(x));
        let x = relu(self.conv2.forward(self.pool.forward(x)));
        let x = relu(self.conv3.forward(self.pool.forward(x)));
        let [n, c, h, w] = x.dims();
        let g = x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c]);
        self.head.forward((g + 1e-3).log()).reshape([n])
    }

    /// Frames as `[N·K, 2, S, S]` (`crops` = K crops each, consecutive) → frame scores `[N]` (mean over crops).
    pub fn forward(&self, x: Tensor<B, 4>, crops: usize) -> Tensor<B, 1> {
        let n = x.dims()[0] / crops.max(1);
        self.forward_crops(x).reshape([n, crops.max(1)]).mean_dim(1).reshape([n])
    }
}

/// One frame, ready for the net.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameInput {
    /// Whether a disc (or bright field) was found; nothing else is set otherwise.
    pub found: bool,
    /// Whether the disc touches the frame border.
    pub touches_border: bool,
    /// K crops of `CROP × CROP`, mean-subtracted, divided by the disc level, × [`INPUT_GAIN`].
    pub crops: Vec<f32>,
    /// σ of a binned pixel's noise over the disc level, × [`INPUT_GAIN`] (the noise plane's value).
    pub noise: f32,
}

/// Reusable buffers of [`prepare_frame`].
#[derive(Debug, Default)]
pub struct PrepScratch {
    binned: Vec<f32>,
    noise: Vec<f32>,
}

/// Top-left corners of `k` crops in a `bw × bh` binned frame for a disc at (cx, cy) of radius r:
/// 4 diagonal at ±0.4 r (k = 4), or 4 diagonal at ±0.35 r and 4 on the axes at 0.7 r (k = 8);
/// crops are clamped inside the frame.
pub fn crop_corners(cx: f32, cy: f32, r: f32, bw: usize, bh: usize, k: usize) -> Vec<(isize, isize)> {
    let half = (CROP / 2) as f32;
    let place = |c: f32, size: usize| -> isize {
        let x0 = (c - half).round() as isize;
        if size >= CROP { x0.clamp(0, (size - CROP) as isize) } else { 0 }
    };
    let diag = if k >= 8 { 0.35 } else { 0.4 };
    let mut offsets: Vec<(f32, f32)> = [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)]
        .iter()
        .map(|&(x, y): &(f32, f32)| (x * diag, y * diag))
        .collect();
    if k >= 8 {
        offsets.extend([(-0.7, 0.0), (0.7, 0.0), (0.0, -0.7), (0.0, 0.7)]);
    }
    offsets.into_iter().take(k).map(|(sx, sy)| (place(cx + sx * r, bw), place(cy + sy * r, bh))).collect()
}

/// Crops and noise level of one full-resolution frame (values in [0, 1]); see the module docs.
pub fn prepare_frame(img: ImageView<'_>, k: usize, s: &mut PrepScratch) -> FrameInput {
    let none = FrameInput::default();
    let (bw, bh) = bin2_with_noise(img, &mut s.binned, &mut s.noise);
    if bw < 8 || bh < 8 {
        return none;
    }
    let view = ImageView::new(&s.binned, bw, bh);
    let Some(disc) = detect_disc(view) else { return none };
    let level = disc.mean - disc.background;
    if !(level.is_finite() && level > 1e-6) {
        return none;
    }
    let mut crops = vec![0f32; k * CROP * CROP];
    let (mut nsum, mut ncount) = (0f64, 0usize);
    for (k, &(x0, y0)) in crop_corners(disc.cx, disc.cy, disc.radius, bw, bh, k).iter().enumerate() {
        let out = &mut crops[k * CROP * CROP..(k + 1) * CROP * CROP];
        let mut sum = 0f64;
        for y in 0..CROP {
            let sy = (y0 + y as isize).clamp(0, bh as isize - 1) as usize;
            let row = &s.binned[sy * bw..(sy + 1) * bw];
            let nrow = &s.noise[sy * bw..(sy + 1) * bw];
            for x in 0..CROP {
                let sx = (x0 + x as isize).clamp(0, bw as isize - 1) as usize;
                let v = row[sx];
                out[y * CROP + x] = v;
                sum += v as f64;
                nsum += nrow[sx] as f64;
            }
        }
        ncount += CROP * CROP;
        let mean = (sum / (CROP * CROP) as f64) as f32;
        let g = INPUT_GAIN / level;
        for v in out.iter_mut() {
            *v = (*v - mean) * g;
        }
    }
    // The checkerboard estimates the full-resolution pixel variance σ²; a binned pixel has σ²/4.
    let sigma_binned = ((nsum / ncount.max(1) as f64) as f32 / 4.0).sqrt();
    let noise = INPUT_GAIN * sigma_binned / level;
    if !noise.is_finite() || crops.iter().any(|v| !v.is_finite()) {
        return none;
    }
    FrameInput { found: true, touches_border: disc.touches_border, crops, noise }
}

/// Prepare frames of a source in parallel.
pub fn prepare_source(source: &dyn FrameSource, frames: &[usize], k: usize) -> Result<Vec<FrameInput>> {
    let (w, h) = source.dims();
    frames
        .par_iter()
        .map_init(
            || (Vec::new(), DecodeScratch::default(), PrepScratch::default()),
            |(buf, dec, s), &i| {
                source.read_luma_into(i, buf, dec)?;
                Ok(prepare_frame(ImageView::new(buf, w, h), k, s))
            },
        )
        .collect()
}

/// Frames (with a disc, `k` crops each) to the net's input `[N·K, 2, S, S]`; `transforms[i]` is
/// frame i's dihedral transform.
pub fn frames_to_tensor<B: Backend>(
    frames: &[&FrameInput],
    k: usize,
    transforms: Option<&[usize]>,
    device: &B::Device,
) -> Tensor<B, 4> {
    let plane = CROP * CROP;
    let mut flat = vec![0f32; frames.len() * k * CHANNELS * plane];
    let mut turned = Vec::with_capacity(plane);
    for (i, f) in frames.iter().enumerate() {
        for c in 0..k {
            let base = (i * k + c) * CHANNELS * plane;
            let src = &f.crops[c * plane..(c + 1) * plane];
            match transforms {
                Some(t) if t[i] != 0 => {
                    astro_image::dihedral::dihedral_into(src, CROP, CROP, t[i], &mut turned);
                    flat[base..base + plane].copy_from_slice(&turned);
                }
                _ => flat[base..base + plane].copy_from_slice(src),
            }
            flat[base + plane..base + 2 * plane].fill(f.noise);
        }
    }
    Tensor::from_data(TensorData::new(flat, [frames.len() * k, CHANNELS, CROP, CROP]), device)
}

/// Raw net scores of prepared frames with `k` crops each (frames without a disc get `f32::NAN`).
pub fn score_inputs<B: Backend>(net: &QualityNet<B>, inputs: &[FrameInput], k: usize, device: &B::Device) -> Vec<f32> {
    let mut out = vec![f32::NAN; inputs.len()];
    let idx: Vec<usize> =
        (0..inputs.len()).filter(|&i| inputs[i].found && inputs[i].crops.len() == k * CROP * CROP).collect();
    for chunk in idx.chunks(SCORE_CHUNK) {
        let refs: Vec<&FrameInput> = chunk.iter().map(|&i| &inputs[i]).collect();
        let s = net.forward(frames_to_tensor::<B>(&refs, k, None, device), k);
        let v = s.into_data().convert::<f32>().to_vec::<f32>().unwrap_or_else(|_| vec![f32::NAN; chunk.len()]);
        for (&i, v) in chunk.iter().zip(v) {
            out[i] = v;
        }
    }
    out
}

/// Per-video finish: frames without a disc below all, border-touching discs below every whole
/// disc unless most frames touch the border (as the default metric does).
pub fn finish_scores(inputs: &[FrameInput], raw: &[f32]) -> Vec<f32> {
    let found: Vec<usize> = (0..inputs.len()).filter(|&i| inputs[i].found && raw[i].is_finite()).collect();
    if found.is_empty() {
        return vec![0.0; inputs.len()];
    }
    let touching = found.iter().filter(|&&i| inputs[i].touches_border).count();
    let penalise = touching * 2 < found.len();
    let (lo, hi) = found.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &i| (l.min(raw[i]), h.max(raw[i])));
    let min_whole = found
        .iter()
        .filter(|&&i| !(penalise && inputs[i].touches_border))
        .map(|&i| raw[i])
        .fold(f32::INFINITY, f32::min);
    let min_whole = if min_whole.is_finite() { min_whole } else { lo };
    // Cut discs land in [min_whole − 1 − (hi − lo), min_whole − 1]; no disc below that.
    let cut_shift = hi - min_whole + 1.0;
    let floor = lo - cut_shift - 1.0;
    (0..inputs.len())
        .map(|i| {
            if !(inputs[i].found && raw[i].is_finite()) {
                floor
            } else if penalise && inputs[i].touches_border {
                raw[i] - cut_shift
            } else {
                raw[i]
            }
        })
        .collect()
}

/// A loaded `QualityNet` on a device.
#[derive(Debug, Clone)]
pub struct QualityModel<B: Backend> {
    /// The network.
    pub net: QualityNet<B>,
    /// Where it runs.
    pub device: B::Device,
    /// Crops per frame the net was trained with.
    pub crops: usize,
}

struct Shapes(Vec<Vec<usize>>);

impl<B: Backend> ModuleVisitor<B> for Shapes {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push(param.val().dims().to_vec());
    }
}

fn shapes<B: Backend>(net: &QualityNet<B>) -> Vec<Vec<usize>> {
    let mut v = Shapes(Vec::new());
    net.visit(&mut v);
    v.0
}

/// The configuration stored in a container: crops per frame and the conv widths.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredConfig {
    crops: usize,
    channels: [usize; 3],
}

/// Serialise weights in ml-core's container ([`QUALITY_KIND`], [`QUALITY_FORMAT_VERSION`]): config
/// `{"crops": K, "channels": [c1, c2, c3]}`, record burn's named MessagePack (full precision).
pub fn net_to_bytes<B: Backend>(net: &QualityNet<B>, crops: usize) -> Result<Vec<u8>> {
    if !matches!(crops, 4 | 8) {
        return Err(FrameError::Invalid(format!("quality net: {crops} crops per frame (4 or 8)")));
    }
    let rec = NamedMpkBytesRecorder::<FullPrecisionSettings>::new()
        .record(net.clone().into_record(), ())
        .map_err(|e| FrameError::Training(format!("cannot serialise the quality net: {e}")))?;
    let channels = [net.conv1.weight.dims()[0], net.conv2.weight.dims()[0], net.conv3.weight.dims()[0]];
    let config =
        serde_json::to_vec(&StoredConfig { crops, channels }).map_err(|e| FrameError::Training(e.to_string()))?;
    ml_core::model_file::encode_model(QUALITY_KIND, QUALITY_FORMAT_VERSION, &config, &rec).map_err(FrameError::Training)
}

/// Crops per frame and the record of quality-net weights, from the container or the older
/// `PSQCNN01` layout (the crop count checked: 4 or 8).
fn split_weights(bytes: &[u8]) -> std::result::Result<(usize, &[u8]), String> {
    let (crops, body) = if ml_core::model_file::is_container(bytes) {
        let parts = ml_core::model_file::decode_model(bytes, QUALITY_KIND, QUALITY_FORMAT_VERSION)?;
        (parts.config_as::<StoredConfig>()?.crops, parts.record)
    } else {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
            format!("not quality-net weights (expected the PSMODEL1 or {:?} magic)", String::from_utf8_lossy(MAGIC))
        })?;
        let (&crops, body) = rest.split_first().ok_or("quality-net weights end after the magic")?;
        (crops as usize, body)
    };
    if !matches!(crops, 4 | 8) {
        return Err(format!("quality-net weights: {crops} crops per frame (expected 4 or 8)"));
    }
    Ok((crops, body))
}

/// Crops per frame of quality-net weights, read from their header only (`None`: not quality-net
/// weights).
pub fn weights_crops(bytes: &[u8]) -> Option<usize> {
    split_weights(bytes).ok().map(|(crops, _)| crops)
}

/// Rebuild the net and its crop count from [`net_to_bytes`] output (or the older `PSQCNN01`
/// layout); any other content (wrong magic, garbage, other shapes) is an error.
pub fn net_from_bytes<B: Backend>(
    bytes: &[u8],
    device: &B::Device,
) -> std::result::Result<(QualityNet<B>, usize), String> {
    let (crops, body) = split_weights(bytes)?;
    let fresh = QualityNetConfig::new().init::<B>(device);
    let want = shapes(&fresh);
    let record = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        NamedMpkBytesRecorder::<FullPrecisionSettings>::new().load(body.to_vec(), device)
    }))
    .map_err(|_| "cannot read quality-net weights (decoder panicked)".to_string())?
    .map_err(|e| format!("cannot read quality-net weights: {e}"))?;
    let net = fresh.load_record(record);
    let got = shapes(&net);
    if got != want {
        return Err(format!("quality-net weights have shapes {got:?}, expected {want:?}"));
    }
    ml_core::model_file::check_finite::<B, _>(&net).map_err(|e| format!("unusable quality-net weights: {e}"))?;
    Ok((net, crops))
}

impl<B: Backend> QualityModel<B> {
    /// The model bundled with the crate.
    pub fn bundled(device: &B::Device) -> Result<QualityModel<B>> {
        Self::from_bytes(BUNDLED_WEIGHTS, device)
            .map_err(|e| FrameError::Model { path: "(bundled quality-cnn)".into(), reason: e.to_string() })
    }

    /// A model from weights bytes ([`net_to_bytes`]).
    pub fn from_bytes(bytes: &[u8], device: &B::Device) -> Result<QualityModel<B>> {
        let (net, crops) = net_from_bytes::<B>(bytes, device)
            .map_err(|reason| FrameError::Model { path: "(quality-cnn weights)".into(), reason })?;
        Ok(QualityModel { net, device: device.clone(), crops })
    }

    /// A model from a weights file.
    pub fn load(path: &std::path::Path) -> Result<QualityModel<B>>
    where
        B::Device: Default,
    {
        // A missing or unreadable file is an I/O error, not a bad model.
        std::fs::metadata(path).map_err(crate::error::io_err(path))?;
        let bytes = ml_core::model_file::read_model_file(path, ml_core::model_file::MAX_MODEL_FILE_BYTES)
            .map_err(|reason| FrameError::Model { path: path.into(), reason })?;
        let device = B::Device::default();
        let (net, crops) =
            net_from_bytes::<B>(&bytes, &device).map_err(|reason| FrameError::Model { path: path.into(), reason })?;
        Ok(QualityModel { net, device, crops })
    }

    /// Score every frame of a source (higher = better), streaming in chunks; the next chunk is
    /// decoded and prepared on another thread while the net scores the current one.
    pub fn score_source(&self, source: &dyn FrameSource, progress: &dyn Fn(usize)) -> Result<Vec<f32>> {
        let mut inputs: Vec<FrameInput> = Vec::with_capacity(source.len());
        let mut raw = Vec::with_capacity(source.len());
        let idx: Vec<usize> = (0..source.len()).collect();
        let chunks: Vec<&[usize]> = idx.chunks(SCORE_CHUNK).collect();
        let mut pending: Option<Vec<FrameInput>> = None;
        for k in 0..=chunks.len() {
            let next = chunks.get(k).copied();
            let (scored, prepared) = std::thread::scope(|sc| {
                let job = next.map(|c| sc.spawn(move || prepare_source(source, c, self.crops)));
                let scored = pending.take().map(|p| (score_inputs(&self.net, &p, self.crops, &self.device), p));
                let prepared = job.map(|j| {
                    j.join().unwrap_or_else(|_| Err(FrameError::Invalid("frame preparation panicked".into())))
                });
                (scored, prepared)
            });
            if let Some((s, mut p)) = scored {
                raw.extend(s);
                // Keep only the flags for the per-video finish, not the crops.
                for f in &mut p {
                    f.crops = Vec::new();
                }
                inputs.extend(p);
                progress(raw.len());
            }
            pending = prepared.transpose()?;
        }
        Ok(finish_scores(&inputs, &raw))
    }
}

/// One simulated training video, prepared.
#[derive(Debug, Clone)]
pub struct TrainVideo {
    /// Name (cell folder).
    pub name: String,
    /// Prepared frames.
    pub inputs: Vec<FrameInput>,
    /// True quality per frame (Strehl, 0 for cut discs).
    pub quality: Vec<f32>,
    /// Whether the frame's disc is cut by the border (in the truth).
    pub cut: Vec<bool>,
}

impl TrainVideo {
    /// Usable frames for pairs: a disc found, not cut, quality > 0.
    fn usable(&self) -> Vec<usize> {
        (0..self.inputs.len()).filter(|&i| self.inputs[i].found && !self.cut[i] && self.quality[i] > 0.0).collect()
    }
}

/// Settings of [`train_quality_net`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityTrainConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Frame pairs per step.
    pub pairs: usize,
    /// Adam learning rate (cosine-decayed to 10 % over the run).
    pub learning_rate: f64,
    /// Pairs need true qualities differing by more than this fraction of the better one.
    pub min_gap: f32,
    /// Evaluate the validation videos every this many steps (and keep the best).
    pub eval_every: usize,
    /// Seed.
    pub seed: u64,
    /// Crops per frame (4 or 8); the videos must have been prepared with it.
    pub crops: usize,
}

impl Default for QualityTrainConfig {
    fn default() -> Self {
        QualityTrainConfig {
            steps: 2000,
            pairs: 32,
            learning_rate: 2e-3,
            min_gap: 0.1,
            eval_every: 200,
            seed: 0,
            crops: DEFAULT_CROPS,
        }
    }
}

/// Mean Spearman ρ of the net's finished scores against the truth over `videos` (`k` crops per frame).
pub fn mean_spearman<B: Backend>(net: &QualityNet<B>, videos: &[TrainVideo], k: usize, device: &B::Device) -> f64 {
    if videos.is_empty() {
        return 0.0;
    }
    let sum: f64 = videos
        .iter()
        .map(|v| {
            crate::ranking::spearman(&finish_scores(&v.inputs, &score_inputs(net, &v.inputs, k, device)), &v.quality)
        })
        .sum();
    sum / videos.len() as f64
}

/// What [`train_quality_net`] reports per evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainLog {
    /// Step.
    pub step: usize,
    /// Mean pairwise loss since the previous log.
    pub loss: f64,
    /// Mean ρ on the validation videos.
    pub val_spearman: f64,
}

/// Train a fresh net with the pairwise logistic loss; returns the weights with the best validation
/// ρ (the last ones when `val` is empty) and the log.
pub fn train_quality_net<B: AutodiffBackend>(
    train: &[TrainVideo],
    val: &[TrainVideo],
    cfg: &QualityTrainConfig,
    device: &B::Device,
    on_log: &dyn Fn(&TrainLog),
) -> Result<(QualityNet<B::InnerBackend>, Vec<TrainLog>)> {
    let usable: Vec<(usize, Vec<usize>)> =
        train.iter().enumerate().map(|(i, v)| (i, v.usable())).filter(|(_, u)| u.len() >= 2).collect();
    if usable.is_empty() || cfg.pairs == 0 || cfg.steps == 0 {
        return Err(FrameError::Training("quality net: no video with two usable frames, or zero pairs/steps".into()));
    }
    B::seed(device, cfg.seed);
    let mut net: QualityNet<B> = QualityNetConfig::new().init(device);
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut logs = Vec::new();
    let mut best: Option<(f64, QualityNet<B::InnerBackend>)> = None;
    let (mut sum, mut count) = (0f64, 0usize);
    for step in 1..=cfg.steps {
        let mut frames: Vec<&FrameInput> = Vec::with_capacity(2 * cfg.pairs);
        let mut better = Vec::with_capacity(cfg.pairs);
        let mut worse = Vec::with_capacity(cfg.pairs);
        while better.len() < cfg.pairs {
            let (vi, u) = usable.choose(&mut rng).expect("non-empty");
            let v = &train[*vi];
            let (a, b) = (u[rng.random_range(0..u.len())], u[rng.random_range(0..u.len())]);
            let (qa, qb) = (v.quality[a], v.quality[b]);
            if (qa - qb).abs() <= cfg.min_gap * qa.max(qb) {
                continue;
            }
            let (g, w) = if qa > qb { (a, b) } else { (b, a) };
            better.push(frames.len() as i64);
            frames.push(&v.inputs[g]);
            worse.push(frames.len() as i64);
            frames.push(&v.inputs[w]);
        }
        let t: Vec<usize> = frames.iter().map(|_| rng.random_range(0..8)).collect();
        let scores = net.forward(frames_to_tensor::<B>(&frames, cfg.crops, Some(&t), device), cfg.crops);
        let n = better.len();
        let gi = Tensor::<B, 1, Int>::from_data(TensorData::new(better, [n]), device);
        let wi = Tensor::<B, 1, Int>::from_data(TensorData::new(worse, [n]), device);
        let diff = scores.clone().select(0, gi) - scores.select(0, wi);
        let loss = softplus(diff.neg(), 1.0).mean();
        let value: f64 = loss.clone().into_scalar().elem();
        if !value.is_finite() {
            return Err(FrameError::Training(format!("quality net: loss became {value} at step {step}")));
        }
        sum += value;
        count += 1;
        let progress = (step - 1) as f64 / cfg.steps as f64;
        let lr = cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()));
        net = descend(net, loss, &mut optim, lr, &Worker::single(), 1.0, step)?;
        if step % cfg.eval_every.max(1) == 0 || step == cfg.steps {
            let valid = net.valid();
            let rho = mean_spearman(&valid, val, cfg.crops, device);
            let log = TrainLog { step, loss: sum / count.max(1) as f64, val_spearman: rho };
            on_log(&log);
            logs.push(log);
            (sum, count) = (0.0, 0);
            if val.is_empty() || best.as_ref().is_none_or(|(b, _)| rho > *b) {
                best = Some((rho, valid));
            }
        }
    }
    Ok((best.map(|(_, n)| n).unwrap_or_else(|| net.valid()), logs))
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = burn::backend::Flex;

    #[test]
    fn crops_stay_inside_and_are_normalised() {
        let (w, h) = (200, 160);
        let img: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - 100.0, (i / w) as f32 - 80.0);
                if (x * x + y * y).sqrt() < 60.0 { 0.5 + 0.1 * (x / 3.0).sin() } else { 0.02 }
            })
            .collect();
        let f = prepare_frame(ImageView::new(&img, w, h), 8, &mut PrepScratch::default());
        assert!(f.found && !f.touches_border);
        assert_eq!(f.crops.len(), 8 * CROP * CROP);
        let m: f32 = f.crops[..CROP * CROP].iter().sum::<f32>() / (CROP * CROP) as f32;
        assert!(m.abs() < 1e-4, "{m}");
        let dark = vec![0.0f32; w * h];
        assert!(!prepare_frame(ImageView::new(&dark, w, h), 4, &mut PrepScratch::default()).found);
    }

    #[test]
    fn weights_round_trip_and_garbage_is_an_error() {
        let dev = Default::default();
        let net = QualityNetConfig::new().init::<B>(&dev);
        let bytes = net_to_bytes(&net, 8).unwrap();
        let (back, k) = net_from_bytes::<B>(&bytes, &dev).unwrap();
        assert_eq!((shapes(&back), k), (shapes(&net), 8));
        assert!(net_to_bytes(&net, 5).is_err());
        assert!(net_from_bytes::<B>(b"garbage", &dev).is_err());
        let mut trunc = bytes.clone();
        trunc.truncate(bytes.len() / 2);
        assert!(net_from_bytes::<B>(&trunc, &dev).is_err());
        let other = QualityNetConfig::new().with_channels([4, 8, 8]).init::<B>(&dev);
        assert!(net_from_bytes::<B>(&net_to_bytes(&other, 4).unwrap(), &dev).is_err());
    }

    #[test]
    fn cut_and_empty_frames_rank_last() {
        let f = |found, touches_border| FrameInput { found, touches_border, ..Default::default() };
        let inputs = [f(true, false), f(true, true), f(false, false), f(true, false)];
        let s = finish_scores(&inputs, &[1.0, 5.0, f32::NAN, 2.0]);
        assert!(s[3] > s[0] && s[0] > s[1] && s[1] > s[2], "{s:?}");
    }
}

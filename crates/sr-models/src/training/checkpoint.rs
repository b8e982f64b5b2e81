//! Exactly resumable checkpoints: models, optimizer moments, EMA, step counter and the data RNG
//! in one sectioned file, and the message naming what differs when a checkpoint does not fit.

use std::path::Path;

use burn::module::Module;
use burn::optim::Optimizer;
use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{TrainConfig, Trainer};
use crate::error::{Result, SrError};
use crate::model::{GeneratorConfig, param_shapes};
use crate::store;

#[derive(Serialize, Deserialize)]
struct Meta {
    step: usize,
    config: TrainConfig,
    rng_seed: [u8; 32],
    rng_stream: u64,
    rng_word_pos: String,
}

impl<B: AutodiffBackend> Trainer<B> {
    /// Save everything needed to continue exactly (models, optimizer moments, EMA, step, RNG), atomically.
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let meta = Meta {
            step: self.step,
            config: self.config.clone(),
            rng_seed: self.rng.get_seed(),
            rng_stream: self.rng.get_stream(),
            rng_word_pos: self.rng.get_word_pos().to_string(),
        };
        let mut sections = vec![
            ("meta", serde_json::to_vec(&meta).map_err(|e| SrError::Config(e.to_string()))?),
            ("generator", store::record_to_bytes::<B, _>(self.generator.clone().into_record())?),
            ("opt_g", store::record_to_bytes::<B, _>(self.opt_g.to_record())?),
            ("ema", store::record_to_bytes::<B::InnerBackend, _>(self.ema.clone().into_record())?),
        ];
        if let (Some(d), Some(o)) = (&self.discriminator, &self.opt_d) {
            sections.push(("discriminator", store::record_to_bytes::<B, _>(d.clone().into_record())?));
            sections.push(("opt_d", store::record_to_bytes::<B, _>(o.to_record())?));
        }
        store::write_sections(path, &sections)
    }

    /// Continue a run from a checkpoint. `extend` may raise the step counts (e.g. add a GAN phase).
    pub fn resume(path: &Path, device: &B::Device, extend: Option<TrainConfig>) -> Result<Self> {
        let bad = |reason: String| SrError::BadModelFile { path: path.to_path_buf(), what: "checkpoint", reason };
        let mut sections = store::read_sections(path)?;
        let mut take = |name: &str| -> Result<Option<Vec<u8>>> {
            Ok(sections.iter_mut().find(|(n, _)| n == name).map(|(_, b)| std::mem::take(b)))
        };
        let meta: Meta = serde_json::from_slice(&take("meta")?.ok_or_else(|| bad("no meta section".into()))?)
            .map_err(|e| bad(format!("unreadable meta: {e}")))?;
        let mut config = meta.config.clone();
        if let Some(new) = extend {
            if new.generator != config.generator {
                return Err(bad(generator_mismatch(&config.generator, &new.generator)));
            }
            config = new;
        }
        let mut t = Trainer::<B>::new(config, device)?;
        let need = |b: Option<Vec<u8>>, what: &str| b.ok_or_else(|| bad(format!("no {what} section")));
        let g = store::record_from_bytes::<B, _>(need(take("generator")?, "generator")?, path, device)?;
        let want = param_shapes::<B, _>(&t.generator);
        t.generator = t.generator.load_record(g);
        if param_shapes::<B, _>(&t.generator) != want {
            return Err(bad("generator weights do not match the configuration".into()));
        }
        let o = store::record_from_bytes::<B, _>(need(take("opt_g")?, "opt_g")?, path, device)?;
        t.opt_g = t.opt_g.load_record(o);
        let e = store::record_from_bytes::<B::InnerBackend, _>(need(take("ema")?, "ema")?, path, device)?;
        t.ema = t.ema.load_record(e);
        if let (Some(d), Some(od)) = (take("discriminator")?, take("opt_d")?)
            && let (Some(disc), Some(opt)) = (t.discriminator.take(), t.opt_d.take())
        {
            t.discriminator = Some(disc.load_record(store::record_from_bytes::<B, _>(d, path, device)?));
            t.opt_d = Some(opt.load_record(store::record_from_bytes::<B, _>(od, path, device)?));
        }
        let mut rng = ChaCha8Rng::from_seed(meta.rng_seed);
        rng.set_stream(meta.rng_stream);
        rng.set_word_pos(meta.rng_word_pos.parse::<u128>().map_err(|e| bad(format!("bad RNG position: {e}")))?);
        t.rng = rng;
        t.step = meta.step;
        Ok(t)
    }
}

/// Why a checkpoint's generator is not the one asked for, naming each setting that differs
/// (e.g. `holds light ×4 with features 48, but light ×4 with features 56 was asked for`).
pub fn generator_mismatch(held: &GeneratorConfig, asked: &GeneratorConfig) -> String {
    let (a, b) = (serde_json::to_value(held).ok(), serde_json::to_value(asked).ok());
    let diffs: Vec<(String, String, String)> = match (a, b) {
        (Some(serde_json::Value::Object(a)), Some(serde_json::Value::Object(b))) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.to_string(), b.get(k).map(|x| x.to_string()).unwrap_or_default()))
            .collect(),
        _ => Vec::new(),
    };
    if diffs.is_empty() {
        return format!("holds {} but {} was asked for", held.describe(), asked.describe());
    }
    let held_s: Vec<String> = diffs.iter().map(|(k, h, _)| format!("{k} {h}")).collect();
    let asked_s: Vec<String> = diffs.iter().map(|(k, _, a)| format!("{k} {a}")).collect();
    format!(
        "holds {} with {}, but {} with {} was asked for",
        held.describe(),
        held_s.join(", "),
        asked.describe(),
        asked_s.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{A, params, real_images, tiny_config};
    use super::*;
    use crate::data::PairSource;
    use crate::discriminator::DiscriminatorConfig;
    use burn::backend::Flex;
    use dataset::degrade::DegradationConfig;
    use ml_core::ema::flat_params;

    #[test]
    fn a_resume_mismatch_names_the_setting_that_differs() {
        let held = GeneratorConfig::Light(crate::model::LightSrConfig::new().with_features(48));
        let asked = GeneratorConfig::light(4);
        let m = generator_mismatch(&held, &asked);
        assert_eq!(m, "holds light ×4 with features 48, but light ×4 with features 56 was asked for");
    }

    #[test]
    fn resume_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = tiny_config(2);
        cfg.pretrain_steps = 2;
        cfg.gan_steps = 2;
        cfg.discriminator =
            Some(DiscriminatorConfig::Unet(crate::discriminator::UNetDiscriminatorConfig::new().with_features(4)));
        let source = PairSource::Degrade { images: real_images(2), degradation: DegradationConfig::dss() };
        let device = Default::default();
        let mut straight = Trainer::<A>::new(cfg.clone(), &device).unwrap();
        while !straight.finished() {
            straight.train_step(&source).unwrap();
        }
        let mut first = Trainer::<A>::new(cfg.clone(), &device).unwrap();
        for _ in 0..3 {
            first.train_step(&source).unwrap();
        }
        let ckpt = dir.path().join("c.ckpt");
        first.save_checkpoint(&ckpt).unwrap();
        drop(first);
        let mut resumed = Trainer::<A>::resume(&ckpt, &device, None).unwrap();
        assert_eq!(resumed.step, 3);
        while !resumed.finished() {
            resumed.train_step(&source).unwrap();
        }
        let (a, b) = (params(&straight.generator), params(&resumed.generator));
        let max = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(max < 1e-6, "resumed run differs by {max}");
        let ea: Vec<f32> = flat_params::<Flex, _>(&straight.ema)
            .into_iter()
            .flat_map(|t| t.into_data().to_vec::<f32>().unwrap())
            .collect();
        let eb: Vec<f32> = flat_params::<Flex, _>(&resumed.ema)
            .into_iter()
            .flat_map(|t| t.into_data().to_vec::<f32>().unwrap())
            .collect();
        assert!(ea.iter().zip(&eb).all(|(x, y)| (x - y).abs() < 1e-6));

        // A corrupt checkpoint is a one-line error naming the file.
        let bytes = std::fs::read(&ckpt).unwrap();
        std::fs::write(&ckpt, &bytes[..bytes.len() / 3]).unwrap();
        let err = Trainer::<A>::resume(&ckpt, &device, None).err().expect("corrupt checkpoint").to_string();
        assert!(err.contains("c.ckpt") && !err.contains('\n'), "{err}");
        // A checkpoint of another generator is refused.
        first_checkpoint_other_arch(&dir, &device);
    }

    fn first_checkpoint_other_arch(dir: &tempfile::TempDir, device: &burn::tensor::Device<A>) {
        let cfg = tiny_config(2);
        let t = Trainer::<A>::new(cfg.clone(), device).unwrap();
        let path = dir.path().join("o.ckpt");
        t.save_checkpoint(&path).unwrap();
        let other = tiny_config(4);
        let err = Trainer::<A>::resume(&path, device, Some(other)).err().expect("wrong model").to_string();
        assert!(err.contains("o.ckpt") && err.contains("×4"), "{err}");
    }
}

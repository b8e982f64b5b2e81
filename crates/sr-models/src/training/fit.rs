//! The whole run: [`fit`] steps a trainer to the end, validating, writing samples, checkpoints
//! and model files as it goes, and reports [`TrainEvent`]s.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::{StepStats, Trainer, evaluate, sample_grid};
use crate::data::{PairSource, SrSample};
use crate::error::{Result, SrError};
use crate::store;
use astro_image::quality::Quality;

/// What [`fit`] reports as it goes.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// A step finished.
    Step {
        /// Its losses.
        stats: StepStats,
        /// Steps per second over the run so far (this session).
        it_per_s: f64,
    },
    /// Validation figures of the EMA generator.
    Validation {
        /// Step.
        step: usize,
        /// PSNR/SSIM on Y.
        quality: Quality,
    },
    /// A checkpoint and model file were written.
    Saved {
        /// The checkpoint.
        checkpoint: PathBuf,
        /// The exported EMA model.
        model: PathBuf,
    },
}

/// Run a trainer to the end, writing `out/checkpoint.ckpt`, `out/model.srmodel` (EMA),
/// `out/best.srmodel` (best validation PSNR), `out/samples/step-N.png` and `out/validation.jsonl`.
/// In a data-parallel run only the leader writes them; every replica steps to the end.
pub fn fit<B: AutodiffBackend>(
    trainer: &mut Trainer<B>,
    source: &PairSource,
    validation: &[SrSample],
    out: &Path,
    observer: &mut dyn FnMut(&TrainEvent),
) -> Result<()> {
    let scale = trainer.config.generator.scale();
    source.validate(trainer.config.hr_patch, scale)?;
    // In a data-parallel run only the leader (rank 0) writes; the replicas are identical.
    let leader = trainer.is_leader();
    if leader {
        std::fs::create_dir_all(out.join("samples")).map_err(|e| SrError::io(out, e))?;
    }
    let start = Instant::now();
    let first = trainer.step;
    let mut best = f64::NEG_INFINITY;
    let ckpt = out.join("checkpoint.ckpt");
    let model_path = out.join("model.srmodel");
    let device = trainer.device.clone();
    while !trainer.finished() {
        let stats = trainer.train_step(source)?;
        // A non-finite loss means the update just applied is NaN too: stop before it reaches
        // the checkpoint and model files, so the run can resume from the last good state.
        let bad = [("the generator loss", Some(stats.loss)), ("the discriminator loss", stats.d_loss)]
            .into_iter()
            .find_map(|(what, v)| v.filter(|v| !v.is_finite()).map(|v| (what, v)));
        if let Some((what, value)) = bad {
            let kept = if ckpt.exists() {
                format!("{} and {} hold the last saved step", ckpt.display(), model_path.display())
            } else {
                "no checkpoint was written yet".to_string()
            };
            return Err(SrError::Diverged { step: stats.step, what, value, kept });
        }
        let it_per_s = (trainer.step - first) as f64 / start.elapsed().as_secs_f64().max(1e-9);
        observer(&TrainEvent::Step { stats, it_per_s });
        let step = trainer.step;
        let last = trainer.finished();
        if !leader {
            continue;
        }
        if !validation.is_empty() && (step.is_multiple_of(trainer.config.val_every) || last) {
            let quality = evaluate(&trainer.ema, &trainer.config.generator, validation, &device_inner::<B>(&device))?;
            observer(&TrainEvent::Validation { step, quality });
            let line = serde_json::json!({"step": step, "psnr": quality.psnr, "ssim": quality.ssim,
                "phase": if step > trainer.config.pretrain_steps { "gan" } else { "pretrain" }});
            append_line(&out.join("validation.jsonl"), &line.to_string())?;
            let grid = sample_grid(
                &trainer.ema,
                &trainer.config.generator,
                &validation[..validation.len().min(4)],
                &device_inner::<B>(&device),
            )?;
            astro_image::image_io::save_image(&grid, &out.join("samples").join(format!("step-{step:06}.png")), 8)?;
            if quality.psnr > best {
                best = quality.psnr;
                store::save_model(&out.join("best.srmodel"), &trainer.config.generator, &trainer.ema)?;
            }
        }
        if step.is_multiple_of(trainer.config.checkpoint_every) || last {
            trainer.save_checkpoint(&ckpt)?;
            store::save_model(&model_path, &trainer.config.generator, &trainer.ema)?;
            observer(&TrainEvent::Saved { checkpoint: ckpt.clone(), model: model_path.clone() });
        }
    }
    trainer.leave_parallel()
}

/// The inner backend's device matching an autodiff device.
fn device_inner<B: AutodiffBackend>(device: &B::Device) -> burn::tensor::Device<B::InnerBackend> {
    let t = Tensor::<B, 1>::zeros([1], device);
    t.inner().device()
}

fn append_line(path: &Path, line: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| SrError::io(path, e))?;
    writeln!(f, "{line}").map_err(|e| SrError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{A, real_images, tiny_config};
    use super::*;

    #[test]
    fn a_run_whose_loss_turns_non_finite_stops_with_an_error_before_writing_it() {
        let images = real_images(2);
        let mut cfg = tiny_config(2);
        cfg.lr = 1e35; // Adam moves every weight by about the rate: the outputs overflow at once
        cfg.warmup = 0;
        cfg.checkpoint_every = 1;
        let source = PairSource::Degrade { images, degradation: cfg.degradation.clone() };
        let mut t = Trainer::<A>::new(cfg, &Default::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = fit(&mut t, &source, &[], dir.path(), &mut |_| {}).unwrap_err();
        let SrError::Diverged { step, what, value, .. } = &err else { panic!("expected a divergence, got: {err}") };
        assert!(!value.is_finite() && *what == "the generator loss", "{err}");
        assert!(*step >= 2 && *step < 6, "{err}");
        // The steps before the bad one were saved; the bad one was not.
        let ckpt = dir.path().join("checkpoint.ckpt");
        let resumed = Trainer::<A>::resume(&ckpt, &Default::default(), None).unwrap();
        assert_eq!(resumed.step, step - 1, "{err}");
        assert!(err.to_string().contains("checkpoint.ckpt"), "the message names what was kept: {err}");
    }
}

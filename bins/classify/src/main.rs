//! `classify IMG [--json] [--cam OUT.png]`: what does this deep-sky image show?

use std::path::PathBuf;

use anyhow::Context;
use astro_image::{ColorMode, ImageLimits};
use burn::tensor::backend::Backend;
use clap::Parser;
use dso_classify::overlay_png;
use dso_classify::{Classifier, Task};
use ml_core::backend::DeviceKind;

/// Classify a deep-sky image (galaxy / nebula / star cluster) with the bundled or a trained model.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Image file (PNG, JPEG, TIFF or GIF; the format is sniffed from the content).
    image: PathBuf,
    /// Task: three-class or galaxy-nebula.
    #[arg(long, default_value = "three-class")]
    task: Task,
    /// Directory with `<task>.mpk` + `<task>.json` from train-dso (default: the bundled model).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Write the class activation map overlay here (a .png name: it is written as PNG).
    #[arg(long)]
    cam: Option<PathBuf>,
    /// Side of the CAM overlay in pixels (16–4096).
    #[arg(long, default_value_t = 384, value_parser = |s: &str| cli_args::usize_in(s, 16, MAX_CAM_SIZE))]
    cam_size: usize,
    /// Skip test-time augmentation (8 flips/rotations averaged).
    #[arg(long)]
    no_tta: bool,
    /// Largest accepted image, in megapixels.
    #[arg(long, default_value_t = 100.0, value_parser = cli_args::positive_f64)]
    max_megapixels: f64,
    /// Compute backend: flex, ndarray or cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

/// The largest CAM overlay side: 4096² RGB is 48 MB, far above any screen's need.
const MAX_CAM_SIZE: usize = 4096;

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> anyhow::Result<()> {
    cli_args::init_logs("warn");
    let args = Args::parse();
    if let Some(cam) = &args.cam {
        let mut inputs = vec![args.image.as_path()];
        inputs.extend(args.weights.as_deref());
        cli_args::check_outputs(&inputs, &[("--cam", cam)])?;
        cli_args::require_extension("--cam", cam, &["png"], "PNG")?;
    }
    ml_core::with_backend!(args.device, B, _device => run::<B>(&args), unavailable k => anyhow::bail!("backend {k} is not compiled into this build"))
}

fn run<B: Backend>(args: &Args) -> anyhow::Result<()> {
    let device = B::Device::default();
    let limits = ImageLimits { max_pixels: (args.max_megapixels * 1e6) as u64 };
    let image = astro_image::image_io::load_image(&args.image, ColorMode::Rgb, limits)?;
    let mut classifier = match &args.weights {
        Some(dir) => Classifier::<B>::load(dir, args.task.slug(), &device)?,
        None => Classifier::<B>::bundled(args.task, &device)?,
    };
    classifier.tta = !args.no_tta;
    let start = std::time::Instant::now();
    let (prediction, cam) = if args.cam.is_some() {
        let (p, c) = classifier.predict_with_cam(&image);
        (p, Some(c))
    } else {
        (classifier.predict(&image), None)
    };
    let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    if let (Some(path), Some(cam)) = (&args.cam, &cam) {
        let png = overlay_png(&image, cam, args.cam_size)?;
        astro_image::image_io::write_atomic(path, &png).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let probabilities: serde_json::Map<String, serde_json::Value> =
            prediction.probabilities.iter().map(|(c, p)| (c.clone(), serde_json::json!(p))).collect();
        let out = serde_json::json!({
            "image": args.image.display().to_string(),
            "class": prediction.class,
            "probabilities": probabilities,
            "model": classifier.card.name,
            "elapsed_ms": elapsed_ms,
            "cam": args.cam.as_ref().map(|p| p.display().to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}: {}", args.image.display(), prediction.class);
        for (class, p) in &prediction.probabilities {
            println!("  {class:<13} {p:.3}");
        }
        if let Some(path) = &args.cam {
            println!("class activation map: {}", path.display());
        }
    }
    Ok(())
}

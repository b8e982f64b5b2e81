//! `sr-eval`: the field's standard super-resolution evaluation on folders of HR images.
//!
//! `sr-eval DIR… [--stellarium-test] --scale 4 --model general --model my.srmodel` downscales
//! every image with MATLAB bicubic (or `--degradation`), upscales it with plain bicubic and with
//! each model, and prints PSNR/SSIM on Y (s-pixel border crop) per image, the mean and the gain.
//! The runs over the images are `sr_models::benchmark`; this parses flags, loads the models,
//! shows progress and prints the tables.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;
use dataset::backend::DeviceKind;
use indicatif::ProgressBar;
use sr_models::benchmark::{self, Gallery};
use sr_models::evaluation::{self, Candidate};
use sr_models::inference::Tiling;
use sr_models::star_protection::Finish;
use sr_models::survey_eval;
use sr_models::weights::ModelChoice;

/// Standard SR evaluation: bicubic vs models, PSNR/SSIM on Y with border crop.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Folders of HR images (searched recursively).
    dirs: Vec<PathBuf>,
    /// Also evaluate on the Stellarium deep-sky set's held-out test split.
    #[arg(long)]
    stellarium_test: bool,
    /// Seed of the Stellarium object-level split.
    #[arg(long, default_value_t = 0)]
    split_seed: u64,
    /// Scale factor.
    #[arg(long, default_value_t = 4)]
    scale: usize,
    /// Models: general, survey, real or a .srmodel file; repeat for several.
    #[arg(long, default_values_t = vec![ModelChoice::default()])]
    model: Vec<ModelChoice>,
    /// How the LR input is made: bicubic (the benchmark), general, dss, sdss, real-esrgan or a JSON file.
    #[arg(long, default_value = "bicubic")]
    degradation: String,
    /// Evaluate each image's centre square of at most this side (0: whole images).
    #[arg(long, default_value_t = 0)]
    max_side: usize,
    /// Also write the Markdown table here.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Write gallery rows (input | bicubic | each model | original, a detailed crop) of the first
    /// --gallery-count images into this folder.
    #[arg(long)]
    gallery: Option<PathBuf>,
    /// Images in the gallery.
    #[arg(long, default_value_t = 6)]
    gallery_count: usize,
    /// With --stellarium-test: only its outreach (non-survey) images, e.g. for prettify.
    #[arg(long)]
    outreach_only: bool,
    /// Real survey images instead (no ground truth): the Stellarium set's DSS/SDSS/2MASS images
    /// (or the images in the folders given), scored by change, star FWHM ratio, stars kept and
    /// invented, chroma ratio — for bicubic and each model, at the input's resolution.
    #[arg(long)]
    real_survey: bool,
    /// Models' blend with bicubic (0–1), as `prettify --strength`.
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::unit_f32)]
    strength: f32,
    /// Protect saturated stars, as `prettify` does by default.
    #[arg(long)]
    protect_saturated: bool,
    /// Keep the input's colour (the model's luminance only), as `prettify` does by default.
    #[arg(long)]
    keep_colour: bool,
    /// Replace sources the model invented with bicubic, as `prettify` does by default.
    #[arg(long)]
    guard_invented: bool,
    /// Colour saturation gain of the finish (prettify's default: 1.8).
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::non_negative_f32)]
    saturation: f32,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

fn main() -> std::process::ExitCode {
    cli_args::init_logs("error");
    let args = Args::parse();
    cli_args::run(|| evaluate(&args))
}

fn evaluate(args: &Args) -> Result<()> {
    let (dirs, test) = (&args.dirs, args.stellarium_test.then_some(args.outreach_only));
    let files = benchmark::image_list(dirs, args.real_survey, test, args.split_seed)?;
    if args.real_survey {
        return dataset::with_backend!(args.device, B, device => real_survey::<B>(args, &files, &device),
            unavailable k => bail!("backend {k} is not compiled into this build"));
    }
    if files.is_empty() {
        bail!("nothing to evaluate: give folders of HR images and/or --stellarium-test");
    }
    let degradation = dataset::degrade::DegradationConfig::from_arg(&args.degradation)?;
    dataset::with_backend!(args.device, B, device => run::<B>(args, &files, &degradation, &device),
        unavailable k => bail!("backend {k} is not compiled into this build"))
}

/// A progress bar over `n` images showing the current file's name.
fn image_bar(n: usize) -> ProgressBar {
    cli_args::progress_bar(n as u64, "{elapsed_precise} [{bar:30}] {pos}/{len} images, ETA {eta} {msg}")
}

/// What the bar shows as an image starts (`Some`) or ends (`None`).
fn on_image(bar: &ProgressBar) -> impl FnMut(Option<&std::path::Path>) + '_ {
    |f| match f {
        Some(f) => bar.set_message(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
        None => bar.inc(1),
    }
}

fn run<B: burn::prelude::Backend>(
    args: &Args,
    files: &[PathBuf],
    degradation: &dataset::degrade::DegradationConfig,
    device: &B::Device,
) -> Result<()> {
    let mut loaded = Vec::new();
    for m in &args.model {
        let (cfg, model, name) = m.load::<B>(args.scale, device)?;
        loaded.push((format!("{m}"), cfg, model, name));
    }
    let candidates: Vec<Candidate<'_, B>> =
        loaded.iter().map(|(n, c, m, _)| Candidate { name: n.clone(), config: c, model: m }).collect();
    let bar = image_bar(files.len());
    let max_side = (args.max_side > 0).then_some(args.max_side);
    let gallery = args.gallery.as_deref().map(|dir| Gallery { dir, count: args.gallery_count });
    let (scale, on) = (args.scale, &mut on_image(&bar));
    let rows = benchmark::standard(files, scale, degradation, max_side, &candidates, gallery, device, on)?;
    bar.finish_and_clear();
    let names: Vec<String> = loaded.iter().map(|(n, ..)| n.clone()).collect();
    let table = evaluation::markdown_table(&names, &rows);
    println!(
        "×{} evaluation, degradation {}, PSNR/SSIM on Y with a {}-pixel border crop; models: {}",
        args.scale,
        args.degradation,
        args.scale,
        loaded.iter().map(|(n, c, _, src)| format!("{n} = {} ({src})", c.describe())).collect::<Vec<_>>().join(", ")
    );
    print!("{table}");
    // The same inputs scored as real survey images are (no ground truth needed), with the HR
    // original as a method: how much a perfect restorer would change them.
    let mut change_names = vec![format!("bicubic ×{}", args.scale)];
    change_names.extend(names.iter().cloned());
    change_names.push("original (ground truth)".into());
    let summaries: Vec<_> = (0..change_names.len())
        .map(|k| survey_eval::summarise(&rows.iter().map(|r| r.change[k]).collect::<Vec<_>>()))
        .collect();
    let changes = survey_eval::survey_table(&change_names, &summaries);
    println!("\nthe same inputs scored like real survey images (at the input's resolution, raw outputs):");
    print!("{changes}");
    if let Some(p) = &args.markdown {
        dataset::image_io::write_atomic(p, format!("{table}\n{changes}").as_bytes())?;
    }
    Ok(())
}

/// The real-survey figures (no ground truth) of bicubic and every model.
fn real_survey<B: burn::prelude::Backend>(args: &Args, files: &[PathBuf], device: &B::Device) -> Result<()> {
    let mut loaded = Vec::new();
    for m in &args.model {
        let (cfg, model, _) = m.load::<B>(args.scale, device)?;
        loaded.push((format!("{m}"), cfg, model));
    }
    let models: Vec<_> = loaded.iter().map(|(_, c, m)| (c, m)).collect();
    let finish = Finish {
        strength: args.strength,
        protect_saturated: args.protect_saturated,
        keep_colour: args.keep_colour,
        guard_invented: args.guard_invented,
        saturation: args.saturation,
    };
    let tiling = Tiling { finish, ..Tiling::new(256, 32) };
    let bar = image_bar(files.len());
    let max_side = (args.max_side > 0).then_some(args.max_side);
    let gallery = args.gallery.as_deref().map(|dir| Gallery { dir, count: args.gallery_count });
    let per_method = benchmark::real_survey(files, &models, tiling, max_side, gallery, device, &mut on_image(&bar))?;
    bar.finish_and_clear();
    let mut names = vec![format!("bicubic ×{}", args.scale)];
    names.extend(loaded.iter().map(|(n, c, _)| format!("{n} ({})", c.describe())));
    let summaries: Vec<_> = per_method.iter().map(|r| survey_eval::summarise(r)).collect();
    let table = survey_eval::survey_table(&names, &summaries);
    println!(
        "real survey images, ×{}, strength {}, saturation {}, saturated-star protection {}, invention guard {}, input colour kept {}; figures at the input's resolution",
        args.scale,
        args.strength,
        args.saturation,
        if args.protect_saturated { "on" } else { "off" },
        if args.guard_invented { "on" } else { "off" },
        if args.keep_colour { "yes" } else { "no" }
    );
    print!("{table}");
    if let Some(p) = &args.markdown {
        dataset::image_io::write_atomic(p, table.as_bytes())?;
    }
    Ok(())
}

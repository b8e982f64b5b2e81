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
use ml_core::backend::DeviceKind;
use sr_models::ModelChoice;
use sr_models::benchmark::{self, Gallery};
use sr_models::evaluation::{self, Candidate};
use sr_models::survey_eval;
use sr_models::{Finish, StarOptions, Tiling};

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
    /// Also run each model inside prettify's star-aware pipeline (stars removed, drawn again round).
    #[arg(long)]
    star_aware: bool,
    /// Drawn star width over the input's, for --star-aware (prettify --star-size).
    #[arg(long, default_value_t = sr_models::DEFAULT_STAR_SIZE, value_parser = cli_args::positive_f32)]
    star_size: f32,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

/// The progress bar over the images, with the current file's name.
const BAR: &str = "{elapsed_precise} [{bar:30}] {pos}/{len} images, ETA {eta} {msg}";

fn main() -> std::process::ExitCode {
    cli_args::init_logs("error");
    let args = Args::parse();
    cli_args::run(|| evaluate(&args))
}

fn evaluate(args: &Args) -> Result<()> {
    let models = args.model.iter().filter_map(|m| if let ModelChoice::File(p) = m { Some(p.as_path()) } else { None });
    let inputs: Vec<&std::path::Path> = args.dirs.iter().map(|d| d.as_path()).chain(models).collect();
    let outputs = [("--markdown", args.markdown.as_deref()), ("--gallery", args.gallery.as_deref())];
    cli_args::check_given_outputs(&inputs, &outputs)?;
    let (dirs, test) = (&args.dirs, args.stellarium_test.then_some(args.outreach_only));
    let files = benchmark::image_list(dirs, args.real_survey, test, args.split_seed)?;
    if args.real_survey {
        return ml_core::with_backend!(args.device, B, device => real_survey::<B>(args, &files, &device),
            unavailable k => bail!("backend {k} is not compiled into this build"));
    }
    anyhow::ensure!(!files.is_empty(), "nothing to evaluate: give folders of HR images and/or --stellarium-test");
    let degradation = dataset::degrade::DegradationConfig::from_arg(&args.degradation)?;
    ml_core::with_backend!(args.device, B, device => run::<B>(args, &files, &degradation, &device),
        unavailable k => bail!("backend {k} is not compiled into this build"))
}

/// What the bar shows as an image starts (`Some`) or ends (`None`).
fn on_image(bar: &indicatif::ProgressBar) -> impl FnMut(Option<&std::path::Path>) + '_ {
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
    let stars = args.star_aware.then_some(StarOptions { star_size: args.star_size, spikes: false });
    let plain = loaded.iter().map(|(n, c, m, _)| Candidate { name: n.clone(), config: c, model: m, star_aware: None });
    let v2 = loaded.iter().filter(|_| stars.is_some());
    let v2 = v2.map(|(n, c, m, _)| Candidate { name: format!("{n} v2"), config: c, model: m, star_aware: stars });
    let candidates: Vec<Candidate<'_, B>> = plain.chain(v2).collect();
    let bar = cli_args::progress_bar(files.len() as u64, BAR);
    let max_side = (args.max_side > 0).then_some(args.max_side);
    let gallery = args.gallery.as_deref().map(|dir| Gallery { dir, count: args.gallery_count });
    let (scale, on) = (args.scale, &mut on_image(&bar));
    let rows = benchmark::standard(files, scale, degradation, max_side, &candidates, gallery, device, on)?;
    bar.finish_and_clear();
    let names: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
    let table = evaluation::markdown_table(&names, &rows);
    println!(
        "×{} evaluation, degradation {}, PSNR/SSIM on Y with a {}-pixel border crop; models: {}",
        args.scale,
        args.degradation,
        args.scale,
        loaded.iter().map(|(n, c, _, src)| format!("{n} = {} ({src})", c.describe())).collect::<Vec<_>>().join(", ")
    );
    print!("{table}");
    let changes = evaluation::change_table(args.scale, &names, &rows);
    println!("\nthe same inputs scored like real survey images (at the input's resolution, raw outputs):");
    print!("{changes}");
    if let Some(p) = &args.markdown {
        astro_image::image_io::write_atomic(p, format!("{table}\n{changes}").as_bytes())?;
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
    let finish = sr_models::prettify::finish(args.strength, false, false, args.saturation);
    let (protect_saturated, keep_colour, guard_invented) =
        (args.protect_saturated, args.keep_colour, args.guard_invented);
    let tiling =
        Tiling { finish: Finish { protect_saturated, keep_colour, guard_invented, ..finish }, ..Tiling::new(256, 32) };
    let bar = cli_args::progress_bar(files.len() as u64, BAR);
    let gallery = args.gallery.as_deref().map(|dir| Gallery { dir, count: args.gallery_count });
    let stars = args.star_aware.then_some(StarOptions { star_size: args.star_size, spikes: false });
    let (on, side) = (&mut on_image(&bar), (args.max_side > 0).then_some(args.max_side));
    let per_method = benchmark::real_survey(files, &models, tiling, stars, side, gallery, device, on)?;
    bar.finish_and_clear();
    let mut names = vec![format!("bicubic ×{}", args.scale)];
    names.extend(loaded.iter().map(|(n, c, _)| format!("{n} ({})", c.describe())));
    if stars.is_some() {
        names.extend(loaded.iter().map(|(n, ..)| format!("{n} v2 (star-aware, star size {})", args.star_size)));
    }
    let summaries: Vec<_> = per_method.iter().map(|r| survey_eval::summarise(r)).collect();
    let table = survey_eval::survey_table(&names, &summaries);
    let on = |b: bool| if b { "on" } else { "off" };
    let (sat, guard, keep) = (on(args.protect_saturated), on(args.guard_invented), on(args.keep_colour));
    println!(
        "real survey images, ×{}, strength {}, saturation {}, saturated-star protection {sat}, invention guard {guard}, input colour kept {keep}; figures at the input's resolution",
        args.scale, args.strength, args.saturation
    );
    print!("{table}");
    if let Some(p) = &args.markdown {
        astro_image::image_io::write_atomic(p, table.as_bytes())?;
    }
    Ok(())
}

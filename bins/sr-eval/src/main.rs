//! `sr-eval`: the field's standard super-resolution evaluation on folders of HR images.
//!
//! `sr-eval DIR… [--stellarium-test] --scale 4 --model general --model my.srmodel` downscales
//! every image with MATLAB bicubic (or `--degradation`), upscales it with plain bicubic and with
//! each model, and prints PSNR/SSIM on Y (s-pixel border crop) per image, the mean and the gain.
//! The runs over the images are `sr_models::benchmark`; this parses flags, loads the models,
//! shows progress and prints the tables.

mod args;

use std::path::PathBuf;

use anyhow::{Result, bail};
use args::Args;
use clap::Parser;
use sr_models::ModelChoice;
use sr_models::benchmark::{self, Gallery};
use sr_models::evaluation::{self, Candidate};
use sr_models::survey_eval;
use sr_models::{Finish, StarOptions, Tiling};

/// The progress bar over the images, with the current file's name.
const BAR: &str = "{elapsed_precise} [{bar:30}] {pos}/{len} images, ETA {eta} {msg}";

fn main() -> std::process::ExitCode {
    cli_args::init_logs("error");
    let args = Args::parse();
    cli_args::run(|| evaluate(&args))
}

fn evaluate(args: &Args) -> Result<()> {
    let models = args.model.iter().filter_map(|m| if let ModelChoice::File(p) = m { Some(p.as_path()) } else { None });
    let externals = args.external.iter().map(|e| e.dir.as_path());
    let inputs: Vec<&std::path::Path> = args.dirs.iter().map(|d| d.as_path()).chain(models).chain(externals).collect();
    let outputs = [
        ("--markdown", args.markdown.as_deref()),
        ("--gallery", args.gallery.as_deref()),
        ("--write-inputs", args.write_inputs.as_deref()),
    ];
    cli_args::check_given_outputs(&inputs, &outputs)?;
    let (dirs, test) = (&args.dirs, args.stellarium_test.then_some(args.outreach_only));
    let files = benchmark::image_list(dirs, args.real_survey, test, args.split_seed)?;
    if args.real_survey {
        return ml_core::with_backend!(args.device, B, device => real_survey::<B>(args, &files, &device),
            unavailable k => bail!("backend {k} is not compiled into this build"));
    }
    anyhow::ensure!(!files.is_empty(), "nothing to evaluate: give folders of HR images and/or --stellarium-test");
    let degradation = dataset::degrade::DegradationConfig::from_arg(&args.degradation)?;
    if let Some(dir) = &args.write_inputs {
        let (bar, side) =
            (cli_args::progress_bar(files.len() as u64, BAR), (args.max_side > 0).then_some(args.max_side));
        let n = benchmark::write_inputs(&files, args.scale, &degradation, side, dir, &mut on_image(&bar))?;
        bar.finish_and_clear();
        println!("wrote {n} ×{} inputs ({}) to {}", args.scale, args.degradation, dir.display());
        return Ok(());
    }
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
    let extra = (args.external.as_slice(), args.niqe);
    let rows = benchmark::standard(files, scale, degradation, max_side, &candidates, extra, gallery, device, on)?;
    bar.finish_and_clear();
    let mut names: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
    names.extend(args.external.iter().map(|e| e.name.clone()));
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
    let niqe = if args.niqe { evaluation::niqe_table(args.scale, &names, &rows) } else { String::new() };
    if args.niqe {
        print!("\nNIQE (lower = more natural; whole images, Y):\n{niqe}");
    }
    if let Some(p) = &args.markdown {
        astro_image::image_io::write_atomic(p, format!("{table}\n{changes}\n{niqe}").as_bytes())?;
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

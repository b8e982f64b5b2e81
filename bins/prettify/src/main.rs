//! `prettify`: turn a sky-survey image (DSS/SDSS-like) into a Hubble/Webb-outreach-like image.
//! With no input it enhances a bundled real DSS image, offline. By default the star-aware
//! pipeline runs (`sr_models::prettify::run_star_job`: stars measured, removed, the starless image
//! enhanced, every star drawn again round); `--classic` runs the model on the whole image. This
//! parses flags, resolves `--object`, fetches a cutout through `hips_client`, shows progress and
//! prints the result.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ml_core::backend::DeviceKind;
use sr_models::ModelChoice;
use sr_models::Tiling;
use sr_models::prettify::{self, DreamOptions, Input, StarJob, TempDir};
use sr_models::run_job_on;
use sr_models::{DEFAULT_MAX_OUTPUT_PIXELS, InputKind, input_kind};
use sr_models::{DEFAULT_STAR_SIZE, StarOptions};

/// Enhance a survey image (default: a bundled DSS image of NGC 185) with the bundled prettify model.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Survey image (png, jpg, tif, FITS; gif and video with --classic); omit for the bundled sample.
    input: Option<PathBuf>,
    /// Output file (default: prettified.png here for the sample or a cutout, INPUT-prettified.EXT
    /// next to an input).
    #[arg(short, long, visible_alias = "out")]
    output: Option<PathBuf>,
    /// Model: a bundled family name or a ×2 .srmodel file.
    #[arg(long, default_value = "prettify")]
    model: ModelChoice,
    /// Output size over the input's: 2 (the model's own), 1 (area-averaged back) or 4 (then `general` ×2).
    #[arg(long, default_value_t = 2, value_parser = |s: &str| cli_args::one_of(s, &[1, 2, 4]))]
    scale: usize,
    /// How much of the new picture to keep: 0 = plain bicubic, 1 = all of it.
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::unit_f32)]
    strength: f32,
    /// Classic pipeline only: let the model redraw saturated stars and add sources.
    #[arg(long)]
    no_star_protection: bool,
    /// Let the model change colours too (by default the input's colour, the model's luminance).
    #[arg(long)]
    model_colour: bool,
    /// Colour saturation gain (1 = the input's; default: outreach over survey median chroma).
    #[arg(long, default_value_t = sr_models::OUTREACH_SATURATION, value_parser = cli_args::non_negative_f32)]
    saturation: f32,
    /// The classic pipeline: the model on the whole image, stars included (today's GIF/video path).
    #[arg(long)]
    classic: bool,
    /// Drawn star width over the input's measured star width (round stars; default by measurement).
    #[arg(long, default_value_t = DEFAULT_STAR_SIZE, value_parser = |s: &str| cli_args::positive_at_most(s, 2.0).map(|v| v as f32))]
    star_size: f32,
    /// Hubble-style diffraction spikes on the brightest stars (on with --hallucinate).
    #[arg(long)]
    spikes: bool,
    /// Also write the starless input (stars removed) to this file.
    #[arg(long)]
    starless: Option<PathBuf>,
    /// Dream mode: add, as a declared seeded layer, the faint stars and galaxies a deeper telescope
    /// would show (listed in OUT.invented.csv, masked in OUT.invented.png).
    #[arg(long)]
    hallucinate: bool,
    /// Seed of the dream layer (the same seed gives the same image).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many magnitudes deeper than the input the dream reaches.
    #[arg(long, default_value_t = 2.0, value_parser = |s: &str| cli_args::positive_at_most(s, 5.0))]
    depth: f64,
    /// A deep-sky object to fetch and prettify (offline OpenNGC catalogue: "M 51", "NGC 185", "IC 434").
    #[arg(long, conflicts_with_all = ["input", "ra"])]
    object: Option<String>,
    /// Right ascension (degrees) of a survey cutout to fetch through hips2fits.
    #[arg(long, requires_all = ["dec", "fov"], conflicts_with = "input", value_parser = cli_args::right_ascension)]
    ra: Option<f64>,
    /// Declination (degrees) of the cutout.
    #[arg(long, allow_hyphen_values = true, value_parser = cli_args::declination)]
    dec: Option<f64>,
    /// Field of view (degrees, 1e-6 to 180) of the cutout (with --object: instead of 1.5× the object's size).
    #[arg(long, value_parser = |s: &str| cli_args::f64_in(s, 1e-6, 180.0))]
    fov: Option<f64>,
    /// Cutout side in pixels (side × side must fit in --max-pixels).
    #[arg(long, default_value_t = 512, value_parser = cli_args::positive_u32)]
    size: u32,
    /// HiPS survey of the cutout.
    #[arg(long, default_value = "CDS/P/DSS2/color")]
    hips: String,
    /// hips2fits service URL.
    #[arg(long, default_value = hips_client::DEFAULT_HIPS2FITS_URL)]
    hips2fits_url: String,
    /// Tile side in pixels (bounds memory).
    #[arg(long, default_value_t = 512)]
    tile: usize,
    /// Overlap between tiles in pixels.
    #[arg(long, default_value_t = 64)]
    overlap: usize,
    /// Refuse outputs (and cutouts) above this many pixels.
    #[arg(long, default_value_t = DEFAULT_MAX_OUTPUT_PIXELS, value_parser = clap::value_parser!(u64).range(1..))]
    max_pixels: u64,
    /// Compute backend: flex, ndarray, cuda.
    #[arg(long, default_value = "flex")]
    device: DeviceKind,
}

fn fetch_cutout(args: &Args, ra: f64, dec: f64, fov: f64) -> anyhow::Result<Input> {
    use hips_client::{CutoutRequest, Hips2FitsClient, ImageFormat, Policy};
    let (n, hips) = (args.size, &args.hips);
    let (ra_s, dec_s, fov_s) = (cli_args::short(ra), cli_args::short(dec), cli_args::short(fov));
    eprintln!(
        "fetching a {n}×{n} px cutout of {hips} at RA {ra_s}°, Dec {dec_s}°, FoV {fov_s}° from {}",
        args.hips2fits_url
    );
    let client = Hips2FitsClient::new(&args.hips2fits_url, Policy::default(), None)?.with_max_pixels(args.max_pixels);
    let req = CutoutRequest::from_center(hips, (ra, dec), fov, (n, n), 0.0, ImageFormat::Png);
    let bytes = client.fetch_encoded(&req).map_err(|e| anyhow::anyhow!("cannot fetch the survey cutout: {e}"))?;
    Ok(Input::Cutout { bytes, hips: hips.clone(), ra, dec, fov })
}

/// Where the image comes from: a file, `--object`, `--ra/--dec/--fov` or the sample.
fn input(args: &Args) -> anyhow::Result<Input> {
    if let Some(name) = &args.object {
        let o = sky_geometry::catalogue::resolve(name).map_err(|e| anyhow::anyhow!("--object: {e}"))?;
        eprintln!("{name}: {} at RA {:.4}°, Dec {:.4}°", o.name, o.ra_deg, o.dec_deg);
        return fetch_cutout(args, o.ra_deg, o.dec_deg, args.fov.unwrap_or_else(|| o.field_of_view_deg()));
    }
    match (&args.input, args.ra, args.dec, args.fov) {
        (Some(p), ..) => Ok(Input::File(p.clone())),
        (None, Some(ra), Some(dec), Some(fov)) => fetch_cutout(args, ra, dec, fov),
        _ => Ok(Input::Sample),
    }
}

/// The files written: `-o`, `--starless` and, with `--hallucinate`, `OUT.invented.png/.csv`.
fn check_outputs(args: &Args) -> anyhow::Result<()> {
    let (Some(input), Some(output)) = (&args.input, &args.output) else { return Ok(()) };
    let mut inputs = vec![input.as_path()];
    if let ModelChoice::File(m) = &args.model {
        inputs.push(m);
    }
    let invented = args.hallucinate.then(|| sr_models::prettify::invented_paths(output));
    let mut outputs = vec![("-o", output.as_path())];
    outputs.extend(args.starless.as_deref().map(|p| ("--starless", p)));
    if let Some((png, csv)) = &invented {
        outputs.extend([("--hallucinate", png.as_path()), ("--hallucinate", csv.as_path())]);
    }
    cli_args::check_outputs(&inputs, &outputs)
}

fn main() -> ExitCode {
    cli_args::init_logs("error,polite_http=warn");
    let args = Args::parse();
    // Errors as every tool's: one `error: …` line, exit 1.
    cli_args::run(|| prettify_main(args))
}

fn prettify_main(args: Args) -> anyhow::Result<()> {
    if (args.ra.is_some() || args.object.is_some()) && (args.size as u64).pow(2) > args.max_pixels {
        anyhow::bail!("--size {0}: a {0}x{0} cutout is above --max-pixels {1}", args.size, args.max_pixels);
    }
    check_outputs(&args)?;
    let tmp = TempDir::new().map_err(|e| anyhow::anyhow!("cannot create a temporary folder: {e}"))?;
    let staged = prettify::stage(input(&args)?, &tmp)?;
    let output = args.output.clone().unwrap_or(staged.default_output);
    let finish = prettify::finish(args.strength, args.no_star_protection, args.model_colour, args.saturation);
    let tiling = Tiling { finish, ..Tiling::new(args.tile, args.overlap) };
    let still = !staged.path.is_dir() && matches!(input_kind(&staged.path), InputKind::Still | InputKind::Fits);
    let bar = cli_args::progress_bar(1, "{elapsed_precise} [{bar:30}] {pos}/{len} tiles");
    let mut on_tile = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let start = std::time::Instant::now();
    println!("input:  {}", staged.label);
    let out = if args.classic || !still {
        let job = prettify::job(staged.path, output.clone(), args.model.clone(), args.scale, tiling, args.max_pixels);
        let r = run_job_on(args.device, &job, &mut |p| on_tile(p.done, p.total));
        r.map(|o| (format!("model:  {} (classic pipeline)\n", o.model), o.report.output))
    } else {
        let stars = StarOptions { star_size: args.star_size, spikes: args.spikes };
        let dream = args.hallucinate.then_some(DreamOptions { depth_mag: args.depth, seed: args.seed, galaxies: true });
        let job = StarJob {
            input: staged.path,
            output: output.clone(),
            model: args.model.clone(),
            scale: args.scale,
            tiling,
            max_output_pixels: args.max_pixels,
            stars,
            starless: args.starless.clone(),
            dream,
        };
        prettify::run_star_job_on(args.device, &job, &mut on_tile).map(|o| (o.to_string(), o.output))
    };
    bar.finish_and_clear();
    let (lines, (w, h)) = out?;
    print!("{lines}");
    println!("output: {} ({w}x{h}) in {:.1} s", output.display(), start.elapsed().as_secs_f64());
    Ok(())
}

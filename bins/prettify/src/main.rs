//! `prettify`: turn a sky-survey image (DSS/SDSS-like) into a Hubble/Webb-outreach-like image.
//! With no input it enhances a bundled real DSS image, offline. The job (staging the input,
//! the finish, the scale chain) is `sr_models::prettify`; this parses flags, fetches a cutout
//! through `hips_client`, shows progress and prints the result.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use dataset::backend::DeviceKind;
use sr_models::apply::DEFAULT_MAX_OUTPUT_PIXELS;
use sr_models::cli::run_job_on;
use sr_models::inference::Tiling;
use sr_models::prettify::{self, Input, TempDir};
use sr_models::weights::ModelChoice;

/// Enhance a survey image (default: a bundled DSS image of NGC 185) with the bundled prettify model.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Survey image (png, jpg, tif, gif); omit to use the bundled sample.
    input: Option<PathBuf>,
    /// Output file (default: prettified.png in the current folder for the sample or a fetched
    /// cutout, INPUT-prettified.EXT next to an input).
    #[arg(short, long, visible_alias = "out")]
    output: Option<PathBuf>,
    /// Model: a bundled family name or a ×2 .srmodel file; default: the bundled prettify model.
    #[arg(long, default_value = "prettify")]
    model: ModelChoice,
    /// Output size over the input's: 2 (default: the model's own), 1 (the ×2 result area-averaged
    /// back to the input's pixels) or 4 (then `general` ×2). 1 and 4: still images only.
    #[arg(long, default_value_t = 2, value_parser = scale_arg)]
    scale: usize,
    /// How much of the model's picture to keep: 0 = plain bicubic, 1 = all of it.
    #[arg(long, default_value_t = 1.0, value_parser = cli_args::unit_f32)]
    strength: f32,
    /// Let the model redraw saturated stars and add sources the input does not have (by default
    /// saturated cores stay as in the input, bicubic-enlarged and feathered in, so a burnt-out
    /// star never becomes a cluster, and sources the model invented are replaced the same way).
    #[arg(long)]
    no_star_protection: bool,
    /// Let the model change colours too (by default the output keeps the input's colour and
    /// takes the model's luminance: the learned colour turned yellow DSS galaxy cores pink).
    #[arg(long)]
    model_colour: bool,
    /// Colour saturation gain (1 = the input's); the default is the measured median chroma of
    /// outreach images over that of real survey images.
    #[arg(long, default_value_t = sr_models::star_protection::OUTREACH_SATURATION, value_parser = cli_args::non_negative_f32)]
    saturation: f32,
    /// Right ascension (degrees) of a survey cutout to fetch through hips2fits.
    #[arg(long, requires_all = ["dec", "fov"], conflicts_with = "input", value_parser = cli_args::right_ascension)]
    ra: Option<f64>,
    /// Declination (degrees) of the cutout.
    #[arg(long, allow_hyphen_values = true, value_parser = cli_args::declination)]
    dec: Option<f64>,
    /// Field of view (degrees) of the cutout.
    #[arg(long, value_parser = cli_args::positive_f64)]
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

/// `--scale`: 1, 2 or 4.
fn scale_arg(s: &str) -> Result<usize, String> {
    match s.trim() {
        "1" => Ok(1),
        "2" => Ok(2),
        "4" => Ok(4),
        _ => Err("must be 1, 2 or 4".into()),
    }
}

fn fetch_cutout(args: &Args, ra: f64, dec: f64, fov: f64) -> Result<Vec<u8>, String> {
    use hips_client::{CutoutRequest, Hips2FitsClient, ImageFormat, Policy};
    let client = Hips2FitsClient::new(&args.hips2fits_url, Policy::default(), None)
        .map_err(|e| e.to_string())?
        .with_max_pixels(args.max_pixels);
    let req = CutoutRequest::from_center(&args.hips, (ra, dec), fov, (args.size, args.size), 0.0, ImageFormat::Png);
    client.fetch_encoded(&req).map_err(|e| e.to_string())
}

/// Print `prettify: {message}` and fail.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("prettify: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    cli_args::init_logs("error");
    let args = Args::parse();
    if args.ra.is_some() && (args.size as u64).pow(2) > args.max_pixels {
        let (size, pixels) = (args.size, (args.size as u64).pow(2));
        return fail(format!(
            "--size {size}: a {size}x{size} cutout is {pixels} pixels, above --max-pixels {}",
            args.max_pixels
        ));
    }
    let tmp = match TempDir::new() {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot create a temporary folder: {e}")),
    };
    let input = match (&args.input, args.ra, args.dec, args.fov) {
        (Some(p), _, _, _) => Input::File(p.clone()),
        (None, Some(ra), Some(dec), Some(fov)) => {
            eprintln!(
                "fetching a {}×{} px cutout of {} at RA {ra}°, Dec {dec}°, FoV {fov}° from {}",
                args.size, args.size, args.hips, args.hips2fits_url
            );
            match fetch_cutout(&args, ra, dec, fov) {
                Ok(bytes) => Input::Cutout { bytes, hips: args.hips.clone(), ra, dec, fov },
                Err(e) => return fail(format!("cannot fetch the survey cutout: {e}")),
            }
        }
        _ => Input::Sample,
    };
    let staged = match prettify::stage(input, &tmp) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let output = args.output.clone().unwrap_or(staged.default_output);
    let finish = prettify::finish(args.strength, args.no_star_protection, args.model_colour, args.saturation);
    let tiling = Tiling { finish, ..Tiling::new(args.tile, args.overlap) };
    let job = prettify::job(staged.path, output.clone(), args.model.clone(), args.scale, tiling, args.max_pixels);
    let bar = cli_args::progress_bar(1, "{elapsed_precise} [{bar:30}] {pos}/{len} tiles");
    let start = std::time::Instant::now();
    let result = run_job_on(args.device, &job, &mut |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    });
    bar.finish_and_clear();
    drop(tmp);
    match result {
        Ok(o) => {
            let r = o.report;
            println!("input:  {} ({}x{})", staged.label, r.input.0, r.input.1);
            println!("model:  {}", o.model);
            println!(
                "output: {} ({}x{}) in {:.1} s",
                output.display(),
                r.output.0,
                r.output.1,
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

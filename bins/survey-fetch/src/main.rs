//! `survey-fetch`: one survey cutout, on a sky region or pixel-aligned with an image that carries AVM.
//!
//! ```text
//! survey-fetch --hips dss --ra 202.47 --dec 47.2 --fov 0.2 --width 800 --height 600 -o m51_dss.jpg
//! survey-fetch --hips CDS/P/SDSS9/color --like heic0506a.jpg --mode tiles -o m51_sdss.png
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use hips_client::{CutoutRequest, DEFAULT_HIPS2FITS_URL, Hips2FitsClient};
use hips_client::{DiskCache, HipsTileClient, ImageFormat, Policy, Sampling, Wcs, survey};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    /// Server-side cutout from the CDS hips2fits service.
    Hips2fits,
    /// Native HiPS tiles reprojected locally (works offline from the cache).
    Tiles,
}

/// Fetch a survey cutout aligned with a sky region or with an image's AVM WCS.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Survey: short key (dss, sdss, panstarrs, 2mass, …) or full HiPS id (CDS/P/DSS2/color).
    #[arg(long)]
    hips: String,
    /// Centre right ascension, degrees.
    #[arg(long, requires_all = ["dec", "fov", "width", "height"], conflicts_with = "like", allow_hyphen_values = true,
          value_parser = cli_args::right_ascension)]
    ra: Option<f64>,
    /// Centre declination, degrees.
    #[arg(long, allow_hyphen_values = true, value_parser = cli_args::declination)]
    dec: Option<f64>,
    /// Field of view across the width, degrees (1e-6 to 180).
    #[arg(long, value_parser = |s: &str| cli_args::f64_in(s, 1e-6, 180.0))]
    fov: Option<f64>,
    /// Output width, pixels.
    #[arg(long, value_parser = cli_args::positive_u32)]
    width: Option<u32>,
    /// Output height, pixels.
    #[arg(long, value_parser = cli_args::positive_u32)]
    height: Option<u32>,
    /// Largest output, width × height pixels (checked before anything is fetched or allocated).
    #[arg(long, default_value_t = hips_client::DEFAULT_MAX_PIXELS, value_parser = clap::value_parser!(u64).range(1..))]
    max_pixels: u64,
    /// Seconds without an answer before a request attempt fails (read timeout).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout: u64,
    /// Seconds one request may take over all its attempts and waits.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    deadline: u64,
    /// North this many degrees left of vertical (AVM Spatial.Rotation).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true, value_parser = cli_args::finite_f64)]
    rotation: f64,
    /// Match this image (JPEG/PNG/TIFF with embedded AVM): same size and pixel grid.
    #[arg(long, required_unless_present = "ra")]
    like: Option<PathBuf>,
    /// Where the pixels come from.
    #[arg(long, value_enum, default_value_t = Mode::Hips2fits)]
    mode: Mode,
    /// hips2fits endpoint (hips2fits mode) or HiPS root URL (tiles mode); defaults to CDS.
    #[arg(long)]
    base_url: Option<String>,
    /// Interpolation in tiles mode.
    #[arg(long, default_value = "bilinear")]
    sampling: Sampling,
    /// Cache directory for downloaded cutouts and tiles.
    #[arg(long, default_value = ".cache/hips")]
    cache: PathBuf,
    /// Output file (.jpg, .png or .fits).
    #[arg(short, long, visible_alias = "out")]
    output: PathBuf,
}

fn main() -> std::process::ExitCode {
    cli_args::run(body)
}

fn body() -> Result<()> {
    cli_args::init_logs("info");
    let args = Args::parse();
    let mut inputs = vec![args.cache.as_path()];
    inputs.extend(args.like.as_deref());
    cli_args::check_outputs(&inputs, &[("-o", args.output.as_path())])?;
    let format = args
        .output
        .extension()
        .and_then(|e| ImageFormat::parse(&e.to_string_lossy()))
        .with_context(|| format!("{}: output must end in .jpg, .png or .fits", args.output.display()))?;
    let survey = survey::find(&args.hips);
    let hips_id = survey.as_ref().map(|s| s.id.to_string()).unwrap_or_else(|| args.hips.clone());
    let wcs = target_wcs(&args)?;
    hips_client::check_pixels("the requested cutout", wcs.width, wcs.height, args.max_pixels)?;
    let policy = Policy {
        read_timeout: Duration::from_secs(args.read_timeout),
        deadline: Duration::from_secs(args.deadline),
        ..Policy::default()
    };
    let (ra, dec) = wcs.center();
    tracing::info!(hips = hips_id, ra, dec, width = wcs.width, height = wcs.height, "fetching");
    let spinner = cli_args::spinner("{spinner} {msg} [{elapsed}]");
    spinner.set_message(format!("{hips_id} {}x{}", wcs.width, wcs.height));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let cache = Some(DiskCache::new(&args.cache));
    let bytes = match args.mode {
        Mode::Hips2fits => {
            let url = args.base_url.clone().unwrap_or_else(|| DEFAULT_HIPS2FITS_URL.to_string());
            let client = Hips2FitsClient::new(&url, policy, cache)?.with_max_pixels(args.max_pixels);
            client.fetch_encoded(&CutoutRequest::from_wcs(&hips_id, wcs.clone(), format))?
        }
        Mode::Tiles => {
            let base = match (&args.base_url, &survey) {
                (Some(u), _) => u.clone(),
                (None, Some(s)) => s.base_url.to_string(),
                (None, None) => bail!("{}: unknown survey; give its HiPS root with --base-url", args.hips),
            };
            let client = HipsTileClient::open(&base, policy, cache, None)?.with_max_pixels(args.max_pixels);
            let mut img = client.reproject(&wcs, args.sampling)?;
            if client.format() == ImageFormat::Fits && format != ImageFormat::Fits {
                img = img.stretched_linear(0.5, 99.5);
            }
            let covered = img.coverage();
            if covered < 1.0 {
                tracing::warn!("{:.1}% of the cutout is outside the survey footprint", (1.0 - covered) * 100.0);
            }
            hips_client::encode_image(&img, format, Some(&wcs))?
        }
    };
    spinner.finish_and_clear();
    hips_client::write_atomic(&args.output, &bytes)?;
    println!("wrote {} ({} bytes)", args.output.display(), bytes.len());
    if let Some(s) = survey {
        println!("Acknowledgement: {}", s.acknowledgement);
    }
    println!("{}", survey::CDS_ACKNOWLEDGEMENT);
    Ok(())
}

/// The output grid: from --ra/--dec/--fov/--width/--height/--rotation or the AVM of --like.
fn target_wcs(args: &Args) -> Result<Wcs> {
    if let Some(path) = &args.like {
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let what = path.display().to_string();
        let (w, h) = image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()?
            .into_dimensions()
            .with_context(|| format!("{what}: not a readable image"))?;
        let tags = esa_scraper::AvmTags::from_image_bytes(&bytes, &what)?;
        let geometry = tags.geometry(&what)?;
        return geometry.wcs(w, h).with_context(|| format!("{what}: AVM has no usable WCS"));
    }
    match (args.ra, args.dec, args.fov, args.width, args.height) {
        (Some(ra), Some(dec), Some(fov), Some(w), Some(h)) => Ok(Wcs::from_center(ra, dec, fov, w, h, args.rotation)?),
        _ => bail!("give --ra --dec --fov --width --height, or --like IMAGE"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_builds_the_requested_grid() {
        Args::command().debug_assert();
        let a = Args::try_parse_from([
            "survey-fetch",
            "--hips",
            "dss",
            "--ra",
            "10",
            "--dec",
            "-5.5",
            "--fov",
            "0.5",
            "--width",
            "200",
            "--height",
            "100",
            "--rotation",
            "-30",
            "-o",
            "x.jpg",
        ])
        .unwrap();
        let w = target_wcs(&a).unwrap();
        assert_eq!((w.width, w.height), (200, 100));
        assert!((w.fov_deg().0 - 0.5).abs() < 1e-12 && (w.rotation_deg() + 30.0).abs() < 1e-9);
        assert!(Args::try_parse_from(["survey-fetch", "--hips", "dss", "-o", "x.jpg"]).is_err());
    }
}

//! stack-frames: rank, align and stack the best frames into a 16-bit PNG/TIFF.

use std::path::PathBuf;

use clap::Parser;
use frame_quality::io::{ColorId, SerHeader, SerReader, SerWriter};
use frame_quality::ranking::order_best_first;
use frame_quality::{
    Metric, Ranker, Scorer, Selection, StackConfig, StackMethod, check_unsharp, open_source, score_source, stack,
    unsharp_mask,
};
use frame_tools::frame_bar;
use ml_core::backend::DeviceKind;

/// Stack the best frames of a SER video or frame folder.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A video (.ser; .avi, uncompressed read directly, compressed through ffmpeg; .mp4/.mkv/.mov/.webm
    /// through ffmpeg) or a folder of PNG/TIFF/FITS frames (natural order, all the same size).
    input: PathBuf,
    /// Quality metric used to pick frames (see rank-frames).
    #[arg(long, default_value = "default")]
    metric: String,
    /// A model from train-ranker (overrides --metric).
    #[arg(long)]
    model: Option<PathBuf>,
    /// How many frames to stack: a percentage (10%) or a count (200).
    #[arg(long, default_value = "10%")]
    best: Selection,
    /// Output image (.png or .tif, 16-bit).
    #[arg(short, long, visible_alias = "out")]
    output: PathBuf,
    /// Also export the globally best frames (the --best selection by the global score), in input
    /// order, as a SER video (a .ser name) (raw bytes for SER input, decoded 16-bit otherwise).
    #[arg(long)]
    export_best: Option<PathBuf>,
    /// Sigma-clipped mean with this κ (finite, > 0) instead of the plain mean.
    #[arg(long, value_parser = cli_args::positive_f32)]
    sigma_clip: Option<f32>,
    /// Alignment boxes of this side (pixels, 8 to the frame's shorter side) on a half-overlapping
    /// grid where the reference has structure: multi-point alignment and per-region selection. Each
    /// box ranks every frame by its local sharpness (one extra pass over all frames) and stacks its
    /// own best --best frames; the boxes' stacks are blended with feathered weights and the global
    /// selection fills the areas without boxes.
    #[arg(long, visible_alias = "ap-size", value_parser = cli_args::positive_usize)]
    boxes: Option<usize>,
    /// With --boxes: stack the globally best frames everywhere (boxes align only; no per-region selection).
    #[arg(long)]
    global_select: bool,
    /// Post-processing: unsharp mask amount (finite, ≥ 0; 0 = off), applied after stacking.
    #[arg(long, default_value_t = 0.0, value_parser = cli_args::non_negative_f32)]
    sharpen: f32,
    /// Unsharp mask radius (Gaussian σ, pixels, in (0, 200]).
    #[arg(long, default_value_t = 1.5, value_parser = cli_args::positive_f32)]
    sharpen_sigma: f32,
    /// Backend for CNN models.
    #[arg(long)]
    device: Option<DeviceKind>,
}

fn main() -> std::process::ExitCode {
    frame_tools::main_with(body)
}

fn body(a: Args) -> anyhow::Result<()> {
    check_unsharp(a.sharpen_sigma, a.sharpen)?;
    if a.global_select && a.boxes.is_none() {
        anyhow::bail!("--global-select: only meaningful with --boxes N (it turns off per-box selection)");
    }
    let mut inputs = vec![a.input.as_path()];
    inputs.extend(a.model.as_deref());
    let mut outputs = vec![("-o", a.output.as_path())];
    outputs.extend(a.export_best.as_deref().map(|p| ("--export-best", p)));
    cli_args::check_outputs(&inputs, &outputs)?;
    cli_args::require_extension("-o", &a.output, &["png", "tif", "tiff"], "a 16-bit PNG or TIFF image")?;
    if let Some(p) = &a.export_best {
        cli_args::require_extension("--export-best", p, &["ser"], "a SER video")?;
    }
    let source = open_source(&a.input)?;
    let n = source.len();
    let (w, h) = source.dims();
    let cfg = StackConfig {
        selection: a.best,
        method: a.sigma_clip.map_or(StackMethod::Mean, |kappa| StackMethod::SigmaClip { kappa }),
        boxes: a.boxes,
        per_box_select: !a.global_select,
        ..StackConfig::default()
    };
    cfg.validate(w, h)?;
    let bar = frame_bar(n, "ranking");
    let scores = match &a.model {
        Some(path) => {
            let ranker = Ranker::load(path)?;
            let kind = frame_tools::device_or_default(a.device)?;
            ml_core::with_backend!(kind, B, device => {
                ranker.score_source::<B>(source.as_ref(), &device, &|d| bar.set_position(d as u64))?
            }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"))
        }
        None => {
            let metric: Metric = a.metric.parse()?;
            score_source(source.as_ref(), &Scorer::new(metric), &|d| bar.set_position(d as u64))?
        }
    };
    bar.finish_and_clear();
    let count = a.best.count(n);
    let sbar = frame_bar(count, "stacking");
    let result = stack(source.as_ref(), &scores, &cfg, &|d, t| {
        sbar.set_length(t as u64);
        sbar.set_position(d as u64)
    })?;
    sbar.finish_and_clear();
    let image = if a.sharpen > 0.0 { unsharp_mask(&result.image, a.sharpen_sigma, a.sharpen) } else { result.image };
    astro_image::image_io::save_image(&image, &a.output, 16)?;
    match &result.regions {
        Some(r) => println!(
            "stacked {} of {n} frames per region ({} boxes of {} px, {} distinct frames read) into {}",
            count,
            r.boxes.len(),
            r.size,
            result.frames.len(),
            a.output.display()
        ),
        None => println!("stacked {} of {n} frames into {}", result.frames.len(), a.output.display()),
    }
    if let Some(path) = &a.export_best {
        let mut chosen = order_best_first(&scores)[..count].to_vec();
        chosen.sort_unstable();
        export(&a.input, source.as_ref(), &chosen, path)?;
        println!("exported {} frames to {}", chosen.len(), path.display());
    }
    Ok(())
}

/// Copy the chosen frames: raw bytes for SER input (lossless), 16-bit samples for folders.
fn export(
    input: &std::path::Path,
    source: &dyn frame_quality::FrameSource,
    frames: &[usize],
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let is_ser = input.is_file() && input.extension().is_some_and(|e| e.eq_ignore_ascii_case("ser"));
    if is_ser {
        // Lossless: the selected frames' raw bytes and timestamps.
        let reader = SerReader::open(input)?;
        let mut w = SerWriter::create(out, reader.header().clone())?;
        let stamps = reader.timestamps();
        for &i in frames {
            w.write_raw(reader.raw_frame(i)?)?;
            if let Some(t) = &stamps {
                w.push_timestamp(t[i]);
            }
        }
        w.finish()?;
    } else {
        // AVI, other videos and image folders: the decoded frames as 16-bit SER.
        let (width, height) = source.dims();
        let color = if source.channels() == 3 { ColorId::Rgb } else { ColorId::Mono };
        let mut w = SerWriter::create(out, SerHeader::new(width, height, color, 16))?;
        for &i in frames {
            let p = source.read_planes(i)?;
            // SER stores RGB interleaved; write_planes takes planes and interleaves them.
            w.write_planes(&p)?;
        }
        w.finish()?;
    }
    Ok(())
}

//! rank-frames: score every frame of a SER video or frame folder and write `frame,score,rank` CSV.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use frame_quality::ranking::write_scores_csv;
use frame_quality::{Metric, Ranker, Scorer, open_source, score_source};
use frame_tools::frame_bar;
use ml_core::backend::DeviceKind;

/// Rank frames by quality (rank 1 = best) with a metric or a trained model.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// A video (.ser; .avi, uncompressed read directly, compressed through ffmpeg; .mp4/.mkv/.mov/.webm
    /// through ffmpeg) or a folder of PNG/TIFF/FITS frames (natural order, all the same size).
    input: PathBuf,
    /// Quality metric: bandpass (default: noise-aware band-pass, bands chosen per video), disc-laplace, pipp, pss, laplacian-variance, tenengrad, brenner,
    /// normalized-variance, fft-ratio, helmli-scherer, mfgs; learned: the bundled CNN trained on simulated truth (--device).
    #[arg(long, default_value = "default")]
    metric: String,
    /// Evaluate non-default metrics on the planet disc only, penalising half-cut discs.
    #[arg(long)]
    disc: bool,
    /// A model from train-ranker (overrides --metric).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output CSV (frame,score,rank).
    #[arg(long, required_unless_present_any = ["contact_sheet", "local"])]
    csv: Option<PathBuf>,
    /// Also write a contact sheet: a self-contained HTML page of frames sampled across the video and
    /// spread over this run's score range (the default metric unless --metric/--model), as disc crops
    /// you enlarge and mark good or bad; its "Download picks.csv" button feeds train-ranker --labels.
    #[arg(long)]
    contact_sheet: Option<PathBuf>,
    /// Also write a per-region score table (CSV: frame, then one column per alignment point): every
    /// frame's local quality in every alignment point, as `stack-frames --boxes` selects per point
    /// (on a planet disc the point's Laplacian energy; on surface footage its noise-corrected band
    /// blended with the global score, as a rank among the frames in [0, 1)).
    #[arg(long)]
    local: Option<PathBuf>,
    /// Alignment-point side for --local, pixels.
    #[arg(long, default_value_t = 64, value_parser = cli_args::positive_usize)]
    ap_size: usize,
    /// Frames on the contact sheet.
    #[arg(long, default_value_t = frame_quality::ranking::DEFAULT_SHEET_FRAMES)]
    sheet_frames: usize,
    /// Backend for CNN models and --metric learned: flex, ndarray or cuda.
    #[arg(long)]
    device: Option<DeviceKind>,
}

fn main() -> std::process::ExitCode {
    frame_tools::main_with(body)
}

fn body(a: Args) -> anyhow::Result<()> {
    let max = frame_quality::ranking::MAX_SHEET_FRAMES;
    if a.contact_sheet.is_some() && !(1..=max).contains(&a.sheet_frames) {
        anyhow::bail!("--sheet-frames {}: must be 1–{max}", a.sheet_frames);
    }
    let mut inputs = vec![a.input.as_path()];
    inputs.extend(a.model.as_deref());
    let outputs: Vec<(&str, &std::path::Path)> =
        [("--csv", a.csv.as_deref()), ("--contact-sheet", a.contact_sheet.as_deref()), ("--local", a.local.as_deref())]
            .into_iter()
            .filter_map(|(flag, p)| Some((flag, p?)))
            .collect();
    cli_args::check_outputs(&inputs, &outputs)?;
    let source = open_source(&a.input)?;
    let (w, h) = source.dims();
    if a.local.is_some() && !(8..=w.min(h)).contains(&a.ap_size) {
        anyhow::bail!(
            "--ap-size {}: expected an alignment-point side from 8 to {} pixels (the frame is {w}x{h})",
            a.ap_size,
            w.min(h)
        );
    }
    let n = source.len();
    let bar = frame_bar(n, "ranking");
    let start = Instant::now();
    let (scores, label) = match &a.model {
        Some(path) => {
            let ranker = Ranker::load(path)?;
            let kind = frame_tools::device_or_default(a.device)?;
            let s = ml_core::with_backend!(kind, B, device => {
                ranker.score_source::<B>(source.as_ref(), &device, &|d| bar.set_position(d as u64))?
            }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
            (s, format!("model {} ({:?})", path.display(), ranker.kind()))
        }
        None if a.metric.eq_ignore_ascii_case("learned") => {
            let kind = frame_tools::device_or_default(a.device)?;
            let s = ml_core::with_backend!(kind, B, device => {
                let model = frame_quality::ranking::learned::quality::QualityModel::<B>::bundled(&device)?;
                model.score_source(source.as_ref(), &|d| bar.set_position(d as u64))?
            }, unavailable k => anyhow::bail!("backend {k} is not compiled into this build"));
            (s, "the bundled quality CNN (learned)".to_string())
        }
        None => {
            let metric: Metric = a.metric.parse()?;
            let scorer = if a.disc { Scorer::new(metric).on_disc() } else { Scorer::new(metric) };
            let s = score_source(source.as_ref(), &scorer, &|d| bar.set_position(d as u64))?;
            (s, format!("metric {metric}"))
        }
    };
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    // The contact sheet first: it reads frames and can fail; the CSV is then written only when
    // the sheet is, so a failed run replaces neither (each file is written atomically).
    let mut wrote = Vec::new();
    let local = match &a.local {
        Some(_) => {
            let bar = frame_bar(n, "local scores");
            let t =
                frame_quality::stacking::local_scores(source.as_ref(), &scores, a.ap_size, Default::default(), &|d| {
                    bar.set_position(d as u64)
                })?;
            bar.finish_and_clear();
            Some(t)
        }
        None => None,
    };
    if let Some(sheet) = &a.contact_sheet {
        let shown = frame_quality::ranking::write_contact_sheet(source.as_ref(), &scores, a.sheet_frames, sheet)?;
        wrote.push(format!("{} ({} frames to mark)", sheet.display(), shown.len()));
    }
    if let (Some(path), Some(t)) = (&a.local, &local) {
        frame_quality::stacking::write_local_csv(path, t)?;
        wrote.push(format!("{} ({} alignment points of {} px)", path.display(), t.boxes.len(), t.size));
    }
    if let Some(csv) = &a.csv {
        write_scores_csv(csv, &scores)?;
        wrote.insert(0, csv.display().to_string());
    }
    let zero = scores.iter().filter(|&&s| s == 0.0).count();
    println!(
        "ranked {n} frames ({w}x{h}) of {} with {label} in {secs:.2} s = {:.0} frames/s; wrote {}",
        source.name(),
        n as f64 / secs.max(1e-9),
        wrote.join(" and ")
    );
    if zero > 0 {
        println!("{zero} frames scored 0 (no planet disc found: black or featureless frames)");
    }
    Ok(())
}

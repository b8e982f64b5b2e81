//! End-to-end checks on simulated turbulence from the real Stellarium Mars texture.

use astro_image::Planes;
use frame_quality::ranking::learned::{Ranker, RankerKind, TrainConfig, fit};
use frame_quality::ranking::{Metric, Scratch, spearman, write_scores_csv};
use frame_quality::simulation::{SimConfig, compare_stack, planet_texture, simulate_to_dir};
use frame_quality::{
    ImageView, Scorer, Selection, SerHeader, SerReader, SerWriter, StackConfig, StackMethod, score_source, stack,
};

type B = ml_core::backend::FlexBackend;
type AB = burn::backend::Autodiff<B>;

fn simulate(dir: &std::path::Path, frames: usize, d_over_r0: f32, seed: u64) -> (SerReader, Vec<f32>, Vec<f32>) {
    let tex = planet_texture("mars").expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let cfg = SimConfig { size: 128, disc_radius: 40.0, pupil_px: 32, frames, d_over_r0, seed, ..SimConfig::default() };
    let out = simulate_to_dir(&cfg, &tex, dir, &|_| {}).unwrap();
    let truth_img = astro_image::image_io::load_image(&out.truth_png, astro_image::ColorMode::Luma, Default::default())
        .unwrap()
        .data;
    let strehl = out.truth.iter().map(|t| t.strehl).collect();
    (SerReader::open(&out.ser).unwrap(), strehl, truth_img)
}

#[test]
fn default_metric_follows_strehl_and_stacking_beats_the_best_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (ser, strehl, truth_img) = simulate(dir.path(), 60, 5.0, 7);
    let scores = score_source(&ser, &Scorer::new(Metric::DiscLaplace), &|_| {}).unwrap();
    assert!(scores.iter().all(|s| s.is_finite() && *s > 0.0));
    let rho = spearman(&scores, &strehl);
    assert!(rho > 0.6, "Spearman ρ of the default metric vs Strehl = {rho}");
    let by_noise = score_source(&ser, &Scorer::new(Metric::NormalizedVariance), &|_| {}).unwrap();
    assert!(rho > spearman(&by_noise, &strehl), "default should beat normalised variance");

    // The stack of the best 20% is closer to the truth than its frames are on average (noise
    // averages out; misalignment would blur it below that). Seeing blur, not noise, limits these
    // frames, so a stack does not beat the single luckiest frame by much without sharpening.
    let cfg = StackConfig { selection: Selection::Percent(20.0), ..StackConfig::default() };
    let stacked = stack(&ser, &scores, &cfg, &|_, _| {}).unwrap();
    assert_eq!(stacked.frames.len(), 12);
    let (psnr_stack, ssim_stack) = compare_stack(&stacked.image.data, &truth_img, 128, 128, 8);
    let singles: Vec<f64> = stacked
        .frames
        .iter()
        .map(|&i| compare_stack(&ser.read_planes(i).unwrap().data, &truth_img, 128, 128, 8).0)
        .collect();
    let mean_single = singles.iter().sum::<f64>() / singles.len() as f64;
    assert!(psnr_stack > mean_single + 0.3, "stack {psnr_stack:.2} dB vs its frames {mean_single:.2} dB");
    assert!(ssim_stack > 0.5, "stack SSIM {ssim_stack}");
    let clipped = StackConfig { method: StackMethod::SigmaClip { kappa: 2.5 }, boxes: Some(32), ..cfg };
    let clipped = stack(&ser, &scores, &clipped, &|_, _| {}).unwrap();
    let (psnr_clip, _) = compare_stack(&clipped.image.data, &truth_img, 128, 128, 8);
    assert!(psnr_clip > mean_single, "sigma-clipped multi-point stack {psnr_clip:.2} dB vs {mean_single:.2} dB");

    let csv = dir.path().join("scores.csv");
    write_scores_csv(&csv, &scores).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("frame,score,rank\n0,"));
    assert_eq!(text.lines().count(), 61);
    assert_eq!(text.lines().filter(|l| l.ends_with(",1")).count(), 1);
}

#[test]
fn half_cut_discs_are_penalised_and_black_frames_score_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (ser, strehl, _) = simulate(dir.path(), 8, 3.0, 3);
    let best = (0..8).max_by(|&a, &b| strehl[a].total_cmp(&strehl[b])).unwrap();
    let frame = ser.read_planes(best).unwrap();
    // Move the planet so that it is cut by the left border (content shifted 70 px left).
    let mut cut = vec![frame.data[0]; 128 * 128];
    for y in 0..128 {
        for x in 0..128 - 70 {
            cut[y * 128 + x] = frame.data[y * 128 + x + 70];
        }
    }
    let mut s = Scratch::default();
    let whole = Metric::DiscLaplace.score(ImageView::new(&frame.data, 128, 128), &mut s);
    let half = Metric::DiscLaplace.score(ImageView::new(&cut, 128, 128), &mut s);
    assert!(half < 0.5 * whole, "cut disc {half} vs whole {whole}");
    let pss_on_disc = Scorer::new(Metric::PssLaplace).on_disc();
    assert!(
        pss_on_disc.score(ImageView::new(&cut, 128, 128), &mut s)
            < pss_on_disc.score(ImageView::new(&frame.data, 128, 128), &mut s)
    );

    // An all-black video: every metric gives finite scores (0 where there is no disc), stacking works.
    let black = dir.path().join("black.ser");
    let mut w = SerWriter::create(&black, SerHeader::new(64, 48, frame_quality::ColorId::Mono, 8)).unwrap();
    for _ in 0..5 {
        w.write_raw(&[0u8; 64 * 48]).unwrap();
    }
    w.finish().unwrap();
    let black = SerReader::open(&black).unwrap();
    for metric in Metric::ALL {
        let scores = score_source(&black, &Scorer::new(metric), &|_| {}).unwrap();
        assert!(scores.iter().all(|v| v.is_finite()), "{metric}: {scores:?}");
        let on_disc = score_source(&black, &Scorer::new(metric).on_disc(), &|_| {}).unwrap();
        assert!(on_disc.iter().all(|&v| v == 0.0), "{metric} on disc: {on_disc:?}");
    }
    let scores = vec![0.0; 5];
    let st = stack(&black, &scores, &StackConfig::default(), &|_, _| {}).unwrap();
    assert!(st.image.data.iter().all(|&v| v == 0.0));
}

#[test]
fn learned_rankers_fit_save_load_and_score() {
    let dir = tempfile::tempdir().unwrap();
    let (ser, strehl, _) = simulate(dir.path(), 48, 5.0, 11);
    let device = Default::default();
    for kind in [RankerKind::Ridge, RankerKind::Logistic, RankerKind::Reference, RankerKind::Cnn] {
        let mut cfg = TrainConfig::new(kind);
        cfg.teacher = "disc-laplace".into();
        cfg.cnn.epochs = 6;
        cfg.cnn.batch_size = 8;
        if kind == RankerKind::Cnn {
            cfg.patch = Some(frame_quality::ranking::learned::PatchConfig { size: 24, crop_radii: 2.4 });
        }
        let (ranker, report) = fit::<AB>(&ser, &cfg, &device, &|_| {}).unwrap();
        let scores = ranker.score_source::<B>(&ser, &device, &|_| {}).unwrap();
        assert_eq!(scores.len(), 48);
        assert!(scores.iter().all(|v| v.is_finite()));
        let path = dir.path().join(format!("{kind:?}.json"));
        ranker.save(&path).unwrap();
        let back = Ranker::load(&path).unwrap();
        assert_eq!(back.kind(), kind);
        let again = back.score_source::<B>(&ser, &device, &|_| {}).unwrap();
        for (a, b) in scores.iter().zip(&again) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{kind:?}: {a} vs {b}");
        }
        match kind {
            RankerKind::Cnn => {
                let h = &report.loss_history;
                assert!(h.last().unwrap() < h.first().unwrap(), "CNN loss did not drop: {h:?}");
            }
            _ => {
                assert!(report.teacher_spearman > 0.5, "{kind:?} vs teacher ρ = {}", report.teacher_spearman);
                let rho = spearman(&scores, &strehl);
                assert!(rho > 0.2, "{kind:?} vs Strehl ρ = {rho}");
            }
        }
    }
    std::fs::write(dir.path().join("bad.json"), b"{\"kind\":\"martian\"}").unwrap();
    let err = Ranker::load(&dir.path().join("bad.json")).unwrap_err().to_string();
    assert!(err.contains("bad.json") && err.contains("not a ranker model"), "{err}");
}

#[test]
fn nan_samples_in_float_tiff_frames_are_zeroed() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..2 {
        let mut data = vec![0.25f32; 3 * 16 * 16];
        data[5] = f32::NAN;
        let img = image::Rgb32FImage::from_raw(16, 16, data).unwrap();
        image::DynamicImage::ImageRgb32F(img).save(dir.path().join(format!("f{i}.tif"))).unwrap();
    }
    let folder = frame_quality::ImageFolder::open(dir.path()).unwrap();
    let scores = score_source(&folder, &Scorer::new(Metric::LocalContrast), &|_| {}).unwrap();
    assert!(scores.iter().all(|v| v.is_finite()));
    let p = frame_quality::FrameSource::read_planes(&folder, 0).unwrap();
    assert!(p.data.iter().all(|v| v.is_finite()));
    let _ = Planes::zeros(1, 1, 1);
}

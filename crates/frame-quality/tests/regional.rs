//! Per-region (alignment-box) frame selection: the blend arithmetic, mismatch errors, and the gain
//! over global selection on anisoplanatic seeing.

use astro_image::Planes;
use frame_quality::io::DecodeScratch;
use frame_quality::simulation::{AnisoConfig, SimConfig, compare_stack, planet_texture, simulate_aniso_to_dir};
use frame_quality::stacking::{BoxBlend, BoxScores, StackMethod, stack_with_box_scores};
use frame_quality::{FrameSource, Metric, Scorer, Selection, SerReader, StackConfig, score_source, stack};

/// Frames generated on demand: frame `i` is flat at `(i + 1) / 40`.
struct Flat {
    n: usize,
    w: usize,
    h: usize,
}

impl Flat {
    fn value(i: usize) -> f32 {
        (i + 1) as f32 / 40.0
    }
}

impl FrameSource for Flat {
    fn len(&self) -> usize {
        self.n
    }
    fn dims(&self) -> (usize, usize) {
        (self.w, self.h)
    }
    fn channels(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "flat frames".into()
    }
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, _: &mut DecodeScratch) -> frame_quality::Result<()> {
        out.clear();
        out.resize(self.w * self.h, Flat::value(index));
        Ok(())
    }
    fn read_planes(&self, index: usize) -> frame_quality::Result<Planes> {
        Ok(Planes::from_vec(1, self.h, self.w, vec![Flat::value(index); self.w * self.h])?)
    }
}

#[test]
fn each_box_stacks_its_own_frames_and_the_global_selection_fills_the_rest() {
    let src = Flat { n: 20, w: 64, h: 48 };
    // Globally the late frames are best; the box prefers the early ones.
    let scores: Vec<f32> = (0..20).map(|i| i as f32).collect();
    let corners = vec![(16, 8)];
    let box_scores = BoxScores::new(32, corners.clone(), 20, (0..20).map(|i| -(i as f32)).collect()).unwrap();
    let blend = BoxBlend::new(64, 48, 32, &corners);
    let cfg = StackConfig { selection: Selection::Count(2), ..StackConfig::default() };
    // A κ so wide that nothing is clipped: the weighted clipping pass must give the weighted mean.
    for method in [StackMethod::Mean, StackMethod::SigmaClip { kappa: 1e3 }] {
        let r = stack_with_box_scores(&src, &scores, &box_scores, &StackConfig { method, ..cfg }, &|_, _| {}).unwrap();
        let reg = r.regions.as_ref().expect("per-box selection used");
        assert_eq!(reg.frames, vec![vec![0, 1]]);
        assert_eq!(reg.global, vec![19, 18]);
        assert_eq!(r.frames, vec![19, 18, 1, 0], "stacked frames, best first globally");
        let (own, global) = ((Flat::value(0) + Flat::value(1)) / 2.0, (Flat::value(19) + Flat::value(18)) / 2.0);
        for y in 0..48 {
            for x in 0..64 {
                let (bw, gw) = (blend.box_weight(0, x, y), blend.global_weight(x, y));
                assert!((bw + gw - 1.0).abs() < 1e-5, "weights at ({x},{y}) sum to {}", bw + gw);
                let want = bw * own + gw * global;
                let got = r.image.data[y * 64 + x];
                assert!((got - want).abs() < 2e-5, "{method:?} ({x},{y}): {got} vs {want}");
            }
        }
        assert!((r.image.data[24 * 64 + 32] - own).abs() < 0.1 * (global - own), "centre of the box");
        assert!((r.image.data[2 * 64 + 2] - global).abs() < 1e-5, "far from the box: global selection");
    }
}

#[test]
fn a_half_overlapping_grid_of_boxes_is_a_partition_of_unity_inside() {
    let (w, h, s) = (96, 80, 32);
    let corners: Vec<(usize, usize)> =
        (0..=(h - s) / 16).flat_map(|j| (0..=(w - s) / 16).map(move |i| (16 * i, 16 * j))).collect();
    let blend = BoxBlend::new(w, h, s, &corners);
    for y in 0..h {
        for x in 0..w {
            let sum: f32 = (0..corners.len()).map(|b| blend.box_weight(b, x, y)).sum::<f32>();
            assert!((sum + blend.global_weight(x, y) - 1.0).abs() < 1e-5);
            if (16..h - 16).contains(&y) && (16..w - 16).contains(&x) {
                assert!(blend.global_weight(x, y) < 1e-5, "({x},{y}) is covered by boxes");
            }
        }
    }
    assert!(blend.global_weight(0, 0) > 0.9, "the corner is outside every box centre");
    // Boxes on top of each other are normalised rather than counted twice.
    let twice = BoxBlend::new(w, h, s, &[(32, 32), (32, 32)]);
    assert!(
        (twice.box_weight(0, 48, 48) + twice.box_weight(1, 48, 48) + twice.global_weight(48, 48) - 1.0).abs() < 1e-5
    );
}

#[test]
fn box_and_frame_mismatches_are_errors() {
    let src = Flat { n: 20, w: 64, h: 48 };
    let scores: Vec<f32> = (0..20).map(|i| i as f32).collect();
    let cfg = StackConfig { selection: Selection::Count(2), ..StackConfig::default() };
    let err = |bs: &BoxScores, cfg: &StackConfig| {
        stack_with_box_scores(&src, &scores, bs, cfg, &|_, _| {}).expect_err("refused").to_string()
    };
    // A matrix that is not frames × boxes.
    let e = BoxScores::new(32, vec![(0, 0), (16, 0)], 20, vec![0.0; 39]).expect_err("refused").to_string();
    assert!(e.contains("39 values") && e.contains("20 frames") && e.contains("2 boxes"), "{e}");
    // Box scores for another number of frames than the source has.
    let e = err(&BoxScores::new(32, vec![(0, 0)], 19, vec![0.0; 19]).unwrap(), &cfg);
    assert!(e.contains("19 frames") && e.contains("20 frames"), "{e}");
    // A box outside the frame.
    let e = err(&BoxScores::new(32, vec![(40, 0)], 20, vec![0.0; 20]).unwrap(), &cfg);
    assert!(e.contains("(40, 0)") && e.contains("64x48"), "{e}");
    // --boxes naming another size than the scores'.
    let e = err(&BoxScores::new(32, vec![(0, 0)], 20, vec![0.0; 20]).unwrap(), &StackConfig { boxes: Some(16), ..cfg });
    assert!(e.contains("--boxes 16") && e.contains("32 px"), "{e}");
    // Boxes larger than the frame, and global scores for the wrong number of frames.
    let e = stack(&src, &scores, &StackConfig { boxes: Some(64), ..cfg }, &|_, _| {}).err().unwrap().to_string();
    assert!(e.contains("--boxes 64"), "{e}");
    let e = stack(&src, &scores[..19], &StackConfig { boxes: Some(32), ..cfg }, &|_, _| {}).err().unwrap().to_string();
    assert!(e.contains("19 scores for 20 frames"), "{e}");
}

/// On seeing that differs across the disc, per-box selection beats the global selection of the
/// same number of frames with the same alignment boxes (it would tie if the boxes' scores were ignored).
#[test]
fn per_box_selection_beats_global_selection_on_anisoplanatic_seeing() {
    let tex = planet_texture("jupiter").expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let mut gains = Vec::new();
    for seed in [1u64, 2] {
        let sim = SimConfig {
            size: 128,
            disc_radius: 40.0,
            pupil_px: 32,
            frames: 120,
            d_over_r0: 6.0,
            seed,
            ..SimConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let out = simulate_aniso_to_dir(&AnisoConfig { sim, patches: 3, correlation: 0.3 }, &tex, dir.path(), &|_| {})
            .unwrap();
        let ser = SerReader::open(&out.ser).unwrap();
        let scores = score_source(&ser, &Scorer::new(Metric::DiscLaplace), &|_| {}).unwrap();
        let cfg = StackConfig { selection: Selection::Percent(10.0), boxes: Some(48), ..StackConfig::default() };
        let psnr = |per_box_select: bool| {
            let r = stack(&ser, &scores, &StackConfig { per_box_select, ..cfg }, &|_, _| {}).unwrap();
            assert_eq!(r.regions.is_some(), per_box_select);
            compare_stack(&r.image.data, &out.truth_image, 128, 128, 8).0
        };
        let (global, local) = (psnr(false), psnr(true));
        eprintln!("seed {seed}: global selection {global:.2} dB, per-box selection {local:.2} dB");
        gains.push(local - global);
    }
    assert!(gains.iter().all(|&g| g > 0.1), "per-box minus global selection, dB: {gains:?}");
    assert!(gains.iter().sum::<f64>() / gains.len() as f64 > 0.2, "mean gain {gains:?}");
}

//! The simulation grid and the default metric on it: noise correction must carry faint, cloudy
//! videos where round 1's default failed, and cut discs must rank below every whole disc.

use frame_quality::ranking::spearman;
use frame_quality::simulation::{cells, simulate_cell};
use frame_quality::{Metric, Scorer, SerReader, score_source};

fn rho(ser: &SerReader, metric: Metric, truth: &[f32]) -> f64 {
    spearman(&score_source(ser, &Scorer::new(metric), &|_| {}).unwrap(), truth)
}

#[test]
fn bandpass_carries_faint_cloudy_frames_where_round_one_default_failed() {
    let mut cell = cells(80, 21).into_iter().find(|c| c.name == "jupiter-faint-clouds").unwrap();
    cell.cfg.size = 160;
    cell.cfg.disc_radius = 64.0;
    let dir = tempfile::tempdir().unwrap();
    let out = simulate_cell(&cell, dir.path(), &|_| {}).expect("Stellarium data (datasets/stellarium/fetch.sh)");
    let ser = SerReader::open(&out.ser).unwrap();
    let truth: Vec<f32> = out.truth.iter().map(|t| t.quality()).collect();
    let (bp, dl) = (rho(&ser, Metric::Bandpass, &truth), rho(&ser, Metric::DiscLaplace, &truth));
    println!("faint cloudy Jupiter: bandpass ρ {bp:.3}, disc-laplace ρ {dl:.3}");
    assert!(bp > 0.75, "bandpass ρ {bp:.3}");
    assert!(bp > dl + 0.15, "bandpass ρ {bp:.3} vs disc-laplace {dl:.3}");
    assert_eq!("default".parse::<Metric>().unwrap(), Metric::Bandpass);
}

#[test]
fn cut_discs_rank_below_every_whole_disc() {
    let mut cell = cells(60, 22).into_iter().find(|c| c.name == "mars-clouds-cut").unwrap();
    cell.cfg.size = 128;
    cell.cfg.disc_radius = 40.0;
    cell.cfg.cut_fraction = 0.3;
    let dir = tempfile::tempdir().unwrap();
    let out = simulate_cell(&cell, dir.path(), &|_| {}).unwrap();
    let ser = SerReader::open(&out.ser).unwrap();
    let scores = score_source(&ser, &Scorer::new(Metric::Bandpass), &|_| {}).unwrap();
    let worst_whole =
        out.truth.iter().zip(&scores).filter(|(t, _)| !t.cut).map(|(_, &s)| s).fold(f32::INFINITY, f32::min);
    let best_cut =
        out.truth.iter().zip(&scores).filter(|(t, _)| t.cut).map(|(_, &s)| s).fold(f32::NEG_INFINITY, f32::max);
    assert!(out.truth.iter().any(|t| t.cut), "some frames are cut");
    assert!(best_cut < worst_whole, "best cut frame {best_cut} vs worst whole frame {worst_whole}");
}

#[test]
fn fused_ser_decoding_measures_exactly_what_the_full_frame_path_measures() {
    // 8-bit and 16-bit mono SER: the fused decode + bin + noise pass equals decoding then measuring.
    for (name, bits) in [("mars-tiny-noisy", 8u32), ("mars-small-bright-cut", 12)] {
        let mut cell = cells(6, 23).into_iter().find(|c| c.name == name).unwrap();
        cell.cfg.bit_depth = bits;
        let dir = tempfile::tempdir().unwrap();
        let out = simulate_cell(&cell, dir.path(), &|_| {}).unwrap();
        let ser = SerReader::open(&out.ser).unwrap();
        let fused = frame_quality::ranking::measure_source(&ser, &|_| {}).unwrap();
        let (w, h) = (ser.header().width, ser.header().height);
        let mut s = frame_quality::Scratch::default();
        for (i, m) in fused.iter().enumerate() {
            let p = ser.read_planes(i).unwrap();
            let full = frame_quality::ranking::bandpass::measure(frame_quality::ImageView::new(&p.data, w, h), &mut s);
            assert!(m.found && full.found, "{name} frame {i}");
            assert!((m.noise_var / full.noise_var - 1.0).abs() < 1e-3, "{name} {i}: {m:?} vs {full:?}");
            // measure_source computes only the bands the video's rule reads (always the finest).
            for l in 0..frame_quality::ranking::bandpass::LEVELS {
                if m.energy[l] != 0.0 || l == 0 {
                    assert!((m.energy[l] / full.energy[l] - 1.0).abs() < 1e-3, "{name} {i}: {m:?} vs {full:?}");
                }
            }
        }
    }
}

#[test]
fn skipping_unneeded_bands_gives_the_same_scores_as_measuring_every_band() {
    // A bright cell (finest band alone) and a faint one (two bands): the scores equal those of
    // measuring every band of every frame.
    for name in ["mars-small-bright-cut", "jupiter-faint-clouds"] {
        let cell = cells(40, 24).into_iter().find(|c| c.name == name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = simulate_cell(&cell, dir.path(), &|_| {}).unwrap();
        let ser = SerReader::open(&out.ser).unwrap();
        let fast = score_source(&ser, &Scorer::new(Metric::Bandpass), &|_| {}).unwrap();
        let (w, h) = (ser.header().width, ser.header().height);
        let mut s = frame_quality::Scratch::default();
        let full: Vec<_> = (0..ser.len())
            .map(|i| {
                let p = ser.read_planes(i).unwrap();
                frame_quality::ranking::bandpass::measure(frame_quality::ImageView::new(&p.data, w, h), &mut s)
            })
            .collect();
        let slow = frame_quality::ranking::bandpass::BandpassScorer::scores(&full);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1e-3), "{name}: {a} vs {b}");
        }
    }
}

//! Frame-ranking speed on 640×480 8-bit mono SER frames: every metric (the default `bandpass`
//! first), scored in parallel as rank-frames runs it, plus one frame single-threaded; and the
//! default on 1920×1200 16-bit surface frames (the check simulator's craters, issue 27).
//!
//! Run: `cargo bench --bench frame_rank` (throughput is reported in frames/s as elem/s, and in
//! MB/s of SER frame data for the 16-bit group).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prettier_space::frame_quality::ranking::{Metric, Scratch};
use prettier_space::frame_quality::simulation::{
    CheckConfig, CheckSimulator, SimConfig, planet_texture, render_planet,
};
use prettier_space::frame_quality::{ColorId, ImageView, Scorer, SerHeader, SerReader, SerWriter, score_source};
use rand::{Rng, SeedableRng};

const W: usize = 640;
const H: usize = 480;
const FRAMES: usize = 256;

/// A 640×480 8-bit SER of a Mars disc (radius 120 px) with per-frame noise, in a temp dir.
fn make_ser(dir: &std::path::Path) -> SerReader {
    let tex = planet_texture("mars").expect("Stellarium data (run datasets/stellarium/fetch.sh)");
    let cfg = SimConfig { size: H, disc_radius: 120.0, ..SimConfig::default() };
    let disc = render_planet(&tex, &cfg);
    let path = dir.join("bench.ser");
    let mut w = SerWriter::create(&path, SerHeader::new(W, H, ColorId::Mono, 8)).expect("writer");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut frame = vec![0u8; W * H];
    for _ in 0..FRAMES {
        for y in 0..H {
            for x in 0..W {
                let v = if (80..80 + H).contains(&x) { disc[y * H + x - 80] } else { 0.0 };
                frame[y * W + x] = (v * 200.0 + 8.0 + rng.random::<f32>() * 6.0) as u8;
            }
        }
        w.write_raw(&frame).expect("frame");
    }
    w.finish().expect("finish");
    SerReader::open(&path).expect("open")
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("frame_rank_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ser = make_ser(&dir);
    let mut g = c.benchmark_group("rank_640x480_u8");
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.sample_size(20);
    for metric in Metric::ALL {
        let scorer = Scorer::new(metric);
        g.bench_function(format!("{metric}_parallel"), |b| {
            b.iter(|| black_box(score_source(&ser, &scorer, &|_| {}).expect("scores")))
        });
    }
    g.finish();

    let mut one = Vec::new();
    let mut tmp = Vec::new();
    ser.read_luma_into(0, &mut one, &mut tmp).expect("frame");
    let mut g = c.benchmark_group("one_frame_640x480");
    g.throughput(Throughput::Elements(1));
    let mut s = Scratch::default();
    g.bench_function("bandpass_measure_single_thread", |b| {
        b.iter(|| {
            black_box(prettier_space::frame_quality::ranking::bandpass::measure(ImageView::new(&one, W, H), &mut s))
        })
    });
    g.bench_function("disc-laplace_single_thread", |b| {
        b.iter(|| black_box(Metric::DiscLaplace.score(ImageView::new(&one, W, H), &mut s)))
    });
    g.finish();
    drop(ser);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bundled quality CNN (`rank-frames --metric learned`, Flex backend) on the same 640×480 SER.
fn bench_learned(c: &mut Criterion) {
    use prettier_space::frame_quality::ranking::learned::quality::QualityModel;
    use prettier_space::ml_core::backend::FlexBackend;
    let dir = std::env::temp_dir().join(format!("frame_rank_bench_learned_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ser = make_ser(&dir);
    let model = QualityModel::<FlexBackend>::bundled(&Default::default()).expect("bundled weights");
    let mut g = c.benchmark_group("rank_640x480_u8");
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.sample_size(10);
    g.bench_function("learned_quality_cnn", |b| {
        b.iter(|| black_box(model.score_source(&ser, &|_| {}).expect("scores")))
    });
    g.finish();
    drop(ser);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Large 16-bit surface frames (issue 27's goal: ≥ 300 frames/s at 1920×1200 16-bit).
const BIG_W: usize = 1920;
const BIG_H: usize = 1200;
const BIG_FRAMES: usize = 32;
const BIG_DISTINCT: usize = 4;

/// A 1920×1200 16-bit mono SER of simulated surface footage: `BIG_DISTINCT` frames of the check
/// simulator (procedural craters, anisoplanatic seeing, 1920² cropped to 1200 rows), repeated to
/// `BIG_FRAMES` frames (the ranking reads every frame in full either way).
///
/// With `FRAME_RANK_SER16=PATH` the file is kept at PATH and reused when it exists, so the
/// simulator runs once and a profiler attached to later runs sees the ranking only.
fn make_big_ser(dir: &std::path::Path) -> SerReader {
    if let Some(keep) = std::env::var_os("FRAME_RANK_SER16").map(std::path::PathBuf::from) {
        if !keep.exists() {
            write_big_ser(&keep);
        }
        return SerReader::open(&keep).expect("open");
    }
    let path = dir.join("bench16.ser");
    write_big_ser(&path);
    SerReader::open(&path).expect("open")
}

fn write_big_ser(path: &std::path::Path) {
    let cfg = CheckConfig { size: BIG_W, bit_depth: 16, frames: BIG_DISTINCT, seed: 2, ..CheckConfig::default() };
    let mut sim = CheckSimulator::new(cfg).expect("check simulator");
    let frames: Vec<Vec<f32>> = (0..BIG_DISTINCT).map(|_| sim.frame().0[..BIG_W * BIG_H].to_vec()).collect();
    let mut w = SerWriter::create(path, SerHeader::new(BIG_W, BIG_H, ColorId::Mono, 16)).expect("writer");
    for i in 0..BIG_FRAMES {
        let p = prettier_space::astro_image::Planes::from_vec(1, BIG_H, BIG_W, frames[i % BIG_DISTINCT].clone())
            .expect("frame planes");
        w.write_planes(&p).expect("frame");
    }
    w.finish().expect("finish");
}

/// `rank_1920x1200_u16`: the default ranking (`bandpass`, as `rank-frames` runs it: decode, bin,
/// measure in parallel, fit the bands per video) on 32 frames of 1920×1200 16-bit, reported once
/// in frames/s and once in MB/s of frame data (4.608 MB per frame).
fn bench_large_u16(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("frame_rank_bench_u16_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ser = make_big_ser(&dir);
    let scorer = Scorer::new(Metric::Bandpass);
    let mut g = c.benchmark_group("rank_1920x1200_u16");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BIG_FRAMES as u64));
    g.bench_function("bandpass_parallel_frames", |b| {
        b.iter(|| black_box(score_source(&ser, &scorer, &|_| {}).expect("scores")))
    });
    g.throughput(Throughput::BytesDecimal((BIG_FRAMES * BIG_W * BIG_H * 2) as u64));
    g.bench_function("bandpass_parallel_bytes", |b| {
        b.iter(|| black_box(score_source(&ser, &scorer, &|_| {}).expect("scores")))
    });
    g.finish();
    drop(ser);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench, bench_learned, bench_large_u16);
criterion_main!(benches);

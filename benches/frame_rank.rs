//! Frame-ranking speed on 640×480 8-bit mono SER frames: every metric (the default `bandpass`
//! first), scored in parallel as rank-frames runs it, plus one frame single-threaded.
//!
//! Run: `cargo bench --bench frame_rank` (throughput is reported in frames/s as elem/s).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prettier_space::frame_quality::ranking::{Metric, Scratch};
use prettier_space::frame_quality::simulation::{SimConfig, planet_texture, render_planet};
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

criterion_group!(benches, bench, bench_learned);
criterion_main!(benches);

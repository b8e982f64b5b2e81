//! HiPS tiles served from the on-disk cache: tile loads (read + JPEG decode) per second and local
//! reprojection throughput. The cache is pre-filled for an unreachable base URL, so every tile
//! must come from disk.
//!
//! Run: `cargo bench --bench hips_tiles`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prettier_space::hips_client::{DiskCache, ImageFormat, Planes, Policy, Sampling, Wcs, encode_image};
use prettier_space::hips_client::{HipsTileClient, tile_path};

const BASE: &str = "http://127.0.0.1:9/hips";
const ORDER: u8 = 6;

/// Fill a cache with `properties` and every order-6 tile covering `wcs` (512-px JPEG tiles).
fn fill_cache(cache: &DiskCache, wcs: &Wcs) -> Vec<u64> {
    let props =
        format!("hips_order = {ORDER}\nhips_tile_width = 512\nhips_tile_format = jpeg\nhips_frame = equatorial\n");
    cache.put(&format!("{BASE}/properties"), "properties", props.as_bytes()).unwrap();
    let probe = HipsTileClient::open(BASE, Policy::fast(), Some(cache.clone()), None).unwrap();
    let tiles = probe.covering_tiles(wcs, ORDER);
    for &n in &tiles {
        let mut img = Planes::no_data(3, 512, 512);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = ((i as u64 * 2654435761 + n) % 997) as f32 / 997.0;
        }
        let url = format!("{BASE}/{}", tile_path(ORDER, n, ImageFormat::Jpg));
        cache.put(&url, "jpg", &encode_image(&img, ImageFormat::Jpg, None).unwrap()).unwrap();
    }
    tiles
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("hips_tiles_bench_{}", std::process::id()));
    let cache = DiskCache::new(&dir);
    // A 1.5° field at ~1"/px-class order 6 tiles (0.92° tiles, 6.4"/px).
    let wcs = Wcs::from_center(83.82, -5.39, 1.5, 512, 512, 20.0).unwrap();
    let tiles = fill_cache(&cache, &wcs);
    let mut g = c.benchmark_group("hips_tiles");
    g.sample_size(10);
    g.throughput(Throughput::Elements(tiles.len() as u64));
    g.bench_function(format!("load_{}_tiles_from_disk_cache", tiles.len()), |b| {
        b.iter(|| {
            let client = HipsTileClient::open(BASE, Policy::fast(), Some(cache.clone()), None).unwrap();
            assert_eq!(client.prefetch(ORDER, &tiles).unwrap(), tiles.len());
        })
    });
    g.throughput(Throughput::Elements(512 * 512));
    let client = HipsTileClient::open(BASE, Policy::fast(), Some(cache.clone()), None).unwrap();
    client.prefetch(ORDER, &tiles).unwrap();
    for sampling in [Sampling::Nearest, Sampling::Bilinear] {
        g.bench_function(format!("reproject_512x512_{sampling:?}_warm"), |b| {
            b.iter(|| client.reproject_at(&wcs, ORDER, sampling).unwrap())
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Native HiPS client against a synthetic HiPS tree served on 127.0.0.1: tiles are rendered from
//! the analytic sky at the HEALPix cell centres; the local reprojection must reproduce the sky at
//! the output pixel centres.

mod common;

use std::collections::HashMap;

use common::{Reply, TestServer, sky_k};
use hips_client::{DiskCache, ImageFormat, Planes, Policy, Wcs};
use hips_client::{HipsTileClient, Sampling, cell_size_deg};

/// Tile width 2^M, deepest order ORDER: cells of depth 9 (0.115°).
const M: u8 = 6;
const ORDER: u8 = 3;
/// Sky structure: the analytic sky with frequencies ×4 (changes of ~0.03 per cell).
const K: f64 = 4.0;

fn sky(c: usize, ra: f64, dec: f64) -> f64 {
    sky_k(c, ra, dec, K)
}

/// Nested index inside a tile, written out independently of the library: `ix` on the even bits.
fn interleave(ix: u64, iy: u64) -> u64 {
    let mut h = 0;
    for b in 0..32 {
        h |= ((ix >> b) & 1) << (2 * b) | ((iy >> b) & 1) << (2 * b + 1);
    }
    h
}

/// Render tile `npix` of `order`: row `ix`, column `iy` (JPEG/PNG orientation).
fn render_tile(order: u8, npix: u64, colour: bool) -> Planes {
    let n = 1usize << M;
    let channels = if colour { 3 } else { 1 };
    let depth = order + M;
    let mut img = Planes::no_data(channels, n, n);
    for ix in 0..n {
        for iy in 0..n {
            let hash = (npix << (2 * M)) | interleave(ix as u64, iy as u64);
            let (lon, lat) = cdshealpix::nested::center(depth, hash);
            for c in 0..channels {
                img.data[(c * n + ix) * n + iy] = sky(c, lon.to_degrees(), lat.to_degrees()) as f32;
            }
        }
    }
    img
}

/// A HiPS tree: `properties` and `NorderK/DirD/NpixN.{png,fits}`; tiles whose centre is south of
/// −70° do not exist (a partial footprint).
fn hips_server(formats: &'static str) -> TestServer {
    TestServer::start(move |path, _q: &HashMap<String, String>| -> Reply {
        if path == "/hips/properties" {
            let text = format!(
                "# synthetic HiPS\ncreator_did = ivo://test/P/synthetic\nhips_order = {ORDER}\nhips_order_min = 0\nhips_tile_width = {}\nhips_tile_format = {formats}\nhips_frame = equatorial\nobs_title = Analytic sky\n",
                1 << M
            );
            return (200, "text/plain", text.into_bytes());
        }
        let parse = || -> Option<(u8, u64, u64, String)> {
            let rest = path.strip_prefix("/hips/Norder")?;
            let (order, rest) = rest.split_once("/Dir")?;
            let (dir, rest) = rest.split_once("/Npix")?;
            let (npix, ext) = rest.split_once('.')?;
            Some((order.parse().ok()?, dir.parse().ok()?, npix.parse().ok()?, ext.to_string()))
        };
        let Some((order, dir, npix, ext)) = parse() else { return (404, "text/plain", b"no".to_vec()) };
        if order > ORDER || dir != (npix / 10000) * 10000 || npix >= 12 << (2 * order as u64) {
            return (404, "text/plain", b"no such tile".to_vec());
        }
        let (_, lat) = cdshealpix::nested::center(order, npix);
        if lat.to_degrees() < -70.0 {
            return (404, "text/plain", b"outside footprint".to_vec());
        }
        match ext.as_str() {
            "png" => (
                200,
                "image/png",
                hips_client::encode_image(&render_tile(order, npix, true), ImageFormat::Png, None).unwrap(),
            ),
            "fits" => (
                200,
                "application/fits",
                hips_client::encode_image(&render_tile(order, npix, false), ImageFormat::Fits, None).unwrap(),
            ),
            _ => (404, "text/plain", b"format".to_vec()),
        }
    })
}

fn open(server: &TestServer, cache: Option<DiskCache>, prefer: Option<ImageFormat>) -> HipsTileClient {
    HipsTileClient::open(&format!("{}/hips", server.base), Policy::fast(), cache, prefer).unwrap()
}

/// (max, mean) absolute error against the analytic sky over pixels with data; and the coverage.
fn errors(img: &Planes, wcs: &Wcs) -> (f64, f64, f64) {
    let (mut worst, mut sum, mut n) = (0f64, 0f64, 0usize);
    for y in 0..img.height {
        for x in 0..img.width {
            let (ra, dec) = wcs.pixel_to_sky(x as f64 + 0.5, y as f64 + 0.5).unwrap();
            for c in 0..img.channels {
                let v = img.get(c, y, x);
                if v.is_nan() {
                    continue;
                }
                let e = (v as f64 - sky(c, ra, dec)).abs();
                worst = worst.max(e);
                sum += e;
                n += 1;
            }
        }
    }
    (worst, sum / n.max(1) as f64, img.coverage())
}

/// Largest change of the sky over one cell's width anywhere in the field (the natural error scale
/// of nearest sampling).
fn per_cell_variation(wcs: &Wcs) -> f64 {
    let step = cell_size_deg(ORDER + M);
    let mut worst = 0f64;
    for gy in 0..=10 {
        for gx in 0..=10 {
            let x = gx as f64 * wcs.width as f64 / 10.0;
            let y = gy as f64 * wcs.height as f64 / 10.0;
            let (ra, dec) = wcs.pixel_to_sky(x, y).unwrap();
            for i in 0..16 {
                let a = i as f64 * std::f64::consts::PI / 8.0;
                // Move one cell width along a great circle in direction a.
                let (r0, d0) = (ra.to_radians(), dec.to_radians());
                let s = step.to_radians();
                let d2 = (d0.sin() * s.cos() + d0.cos() * s.sin() * a.cos()).asin();
                let r2 = r0 + (a.sin() * s.sin() * d0.cos()).atan2(s.cos() - d0.sin() * d2.sin());
                for c in 0..3 {
                    worst = worst.max((sky(c, r2.to_degrees(), d2.to_degrees()) - sky(c, ra, dec)).abs());
                }
            }
        }
    }
    worst
}

#[test]
fn properties_order_choice_and_covering_tiles() {
    let server = hips_server("png fits");
    let c = open(&server, None, None);
    assert_eq!(c.format(), ImageFormat::Png);
    assert_eq!(c.properties().get("obs_title"), Some("Analytic sky"));
    // Cells at depth 9 are 0.115°: coarser outputs use lower orders, finer ones the deepest.
    assert_eq!(c.choose_order(0.12).unwrap(), 3);
    assert_eq!(c.choose_order(0.3).unwrap(), 2);
    assert_eq!(c.choose_order(1.0).unwrap(), 0);
    assert_eq!(c.choose_order(0.001).unwrap(), 3);
    let wcs = Wcs::from_center(30.0, 20.0, 10.0, 100, 100, 0.0).unwrap();
    let tiles = c.covering_tiles(&wcs, 3);
    // Every output pixel centre falls in a listed tile.
    let layer = cdshealpix::nested::get(3);
    for y in 0..100 {
        for x in 0..100 {
            let (ra, dec) = wcs.pixel_to_sky(x as f64 + 0.5, y as f64 + 0.5).unwrap();
            assert!(tiles.binary_search(&layer.hash(ra.to_radians(), dec.to_radians())).is_ok());
        }
    }
    assert!(tiles.len() < 30, "{} tiles for a 10° field at order 3 (7.3° tiles)", tiles.len());
}

#[test]
fn reprojection_matches_the_analytic_sky_near_poles_ra_zero_and_face_boundaries() {
    let server = hips_server("png fits");
    let png = open(&server, None, Some(ImageFormat::Png));
    let fits = open(&server, None, Some(ImageFormat::Fits));
    // (label, ra, dec, rotation): generic, north pole, across RA = 0, equatorial/polar face
    // boundary (dec 41.8°) at a face corner (ra 90°), south polar cap.
    let fields = [
        ("generic", 30.0, 20.0, 0.0),
        ("north pole", 0.0, 89.9, 30.0),
        ("ra=0", 0.05, -10.0, -15.0),
        ("face corner", 90.0, 41.81, 10.0),
        ("south cap", 200.0, -55.0, 75.0),
    ];
    for (label, ra, dec, rot) in fields {
        let wcs = Wcs::from_center(ra, dec, 6.0, 80, 60, rot).unwrap();
        let scale = per_cell_variation(&wcs);
        // FITS tiles: exact floats, so the error is the interpolation's alone.
        let bil = fits.reproject_at(&wcs, ORDER, Sampling::Bilinear).unwrap();
        let near = fits.reproject_at(&wcs, ORDER, Sampling::Nearest).unwrap();
        let (eb, mb, cov) = errors(&bil, &wcs);
        let (en, mn, _) = errors(&near, &wcs);
        println!("{label:12} per-cell {scale:.4}  bilinear max {eb:.5} mean {mb:.6}  nearest max {en:.5} mean {mn:.6}");
        assert_eq!(cov, 1.0, "{label}: full coverage expected");
        // Nearest is off by at most ~one cell's variation; bilinear is well below it on average
        // and never worse than nearest's bound.
        assert!(en <= 1.0 * scale + 1e-3, "{label}: nearest max error {en} vs per-cell {scale}");
        assert!(eb <= 0.5 * scale + 1e-3, "{label}: bilinear max error {eb} vs per-cell {scale}");
        assert!(mb < 0.35 * mn, "{label}: bilinear mean {mb} not clearly better than nearest {mn}");
        // PNG tiles (colour, 8-bit, top-down rows) agree with the FITS tiles (bottom-up rows).
        let colour = png.reproject_at(&wcs, ORDER, Sampling::Bilinear).unwrap();
        assert_eq!(colour.channels, 3);
        let (ec, _, _) = errors(&colour, &wcs);
        assert!(ec <= 0.5 * scale + 1e-3 + 1.0 / 255.0, "{label}: PNG path error {ec}");
    }
}

#[test]
fn outside_the_footprint_is_no_data_and_the_cache_works_offline() {
    let server = hips_server("fits");
    let dir = tempfile::tempdir().unwrap();
    let c = open(&server, Some(DiskCache::new(dir.path())), None);
    assert_eq!(c.format(), ImageFormat::Fits);
    // A field straddling the footprint edge at −70°.
    let wcs = Wcs::from_center(120.0, -72.0, 12.0, 60, 60, 0.0).unwrap();
    let img = c.reproject(&wcs, Sampling::Bilinear).unwrap();
    let cov = img.coverage();
    assert!(cov > 0.05 && cov < 0.95, "coverage {cov}");
    // Offline: a new client on the same cache reproduces the image without the server (tiles
    // outside the footprint are remembered as missing too).
    let base = server.base.clone();
    server.stop();
    let offline =
        HipsTileClient::open(&format!("{base}/hips"), Policy::fast(), Some(DiskCache::new(dir.path())), None).unwrap();
    let again = offline.reproject(&wcs, Sampling::Bilinear).unwrap();
    let same = img.data.iter().zip(&again.data).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
    assert!(same, "offline result differs");
    // A field never fetched needs the network, which is gone: a clear network error.
    let elsewhere = Wcs::from_center(300.0, 40.0, 5.0, 40, 40, 0.0).unwrap();
    let e = offline.reproject(&elsewhere, Sampling::Nearest).unwrap_err();
    assert!(e.to_string().contains("network error"), "{e}");
}

//! hips2fits client against a stand-in service on 127.0.0.1 that interprets the received WCS with
//! the CDS `wcs` crate (independently of our `Wcs`) and renders the analytic sky on it.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Reply, TestServer, sky_k};

/// Spatial-frequency multiplier of the rendered sky: structure on a few-pixel scale at 0.1°/px.
const K: f64 = 40.0;

fn sky(c: usize, ra: f64, dec: f64) -> f64 {
    sky_k(c, ra, dec, K)
}
use hips_client::{CutoutRequest, Hips2FitsClient};
use hips_client::{DiskCache, HipsError, ImageFormat, Planes, Policy, Wcs};

fn json_error(status: u16, title: &str, description: &str) -> Reply {
    let body = serde_json::json!({"title": title, "description": description}).to_string();
    (status, "application/json", body.into_bytes())
}

/// Parse hips2fits parameters into `wcs` crate params, the way the service reads them.
fn params_of(q: &HashMap<String, String>) -> Result<wcs::params::WCSParams, String> {
    if let Some(w) = q.get("wcs") {
        return serde_json::from_str(w).map_err(|e| format!("wcs JSON: {e}"));
    }
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<f64>().ok()).ok_or(format!("missing {k}"));
    let (w, h) = (num("width")?, num("height")?);
    let scale = num("fov")? / w.max(h);
    let header = serde_json::json!({
        "NAXIS": 2, "NAXIS1": w as i64, "NAXIS2": h as i64, "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN",
        "CRVAL1": num("ra")?, "CRVAL2": num("dec")?, "CRPIX1": w / 2.0 + 0.5, "CRPIX2": h / 2.0 + 0.5,
        "CDELT1": -scale, "CDELT2": scale, "CROTA2": q.get("rotation_angle").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0),
    });
    serde_json::from_value(header).map_err(|e| e.to_string())
}

/// The stand-in service. `fail_first` requests get a 503 (to exercise retries).
fn stand_in(max_side: i64, fail_first: usize) -> TestServer {
    let failures = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |path, q| {
        if path != "/hips2fits" {
            return json_error(404, "Not found", path);
        }
        if failures.fetch_add(1, Ordering::SeqCst) < fail_first {
            return json_error(503, "Busy", "try again");
        }
        let Some(hips) = q.get("hips") else { return json_error(400, "Missing hips", "") };
        if hips != "CDS/P/DSS2/color" && hips != "CDS/P/DSS2/red" {
            return json_error(422, "Unknown HiPS", &format!("no HiPS matching {hips}"));
        }
        let params = match params_of(q) {
            Ok(p) => p,
            Err(e) => return json_error(400, "Bad WCS", &e),
        };
        let (w, h) = (params.naxis1.unwrap_or(0), params.naxis2.unwrap_or(0));
        if w > max_side || h > max_side {
            return json_error(400, "Too large", &format!("{w}x{h}"));
        }
        let wcs = match wcs::WCS::new(&params) {
            Ok(w) => w,
            Err(e) => return json_error(400, "Bad WCS", &format!("{e:?}")),
        };
        let channels = if hips.ends_with("color") { 3 } else { 1 };
        let (w, h) = (w as usize, h as usize);
        let mut img = Planes::no_data(channels, h, w);
        for j in 0..h {
            for i in 0..w {
                // Image pixel (i, j) from the top-left is FITS pixel (i + 1, h − j).
                let ll = wcs.unproj(&wcs::ImgXY::new(i as f64 + 1.0, (h - j) as f64)).unwrap();
                for c in 0..channels {
                    img.data[(c * h + j) * w + i] = sky(c, ll.lon().to_degrees(), ll.lat().to_degrees()) as f32;
                }
            }
        }
        let format = ImageFormat::parse(q.get("format").map(String::as_str).unwrap_or("jpg")).unwrap();
        let ctype = match format {
            ImageFormat::Fits => "application/fits",
            ImageFormat::Png => "image/png",
            ImageFormat::Jpg => "image/jpeg",
        };
        (200, ctype, hips_client::encode_image(&img, format, None).unwrap())
    })
}

fn client(server: &TestServer, cache: Option<DiskCache>) -> Hips2FitsClient {
    Hips2FitsClient::new(&format!("{}/hips2fits", server.base), Policy::fast(), cache).unwrap()
}

/// Largest difference between the cutout and the analytic sky at our WCS's pixel centres.
fn max_error(img: &Planes, wcs: &Wcs) -> f64 {
    let mut worst = 0f64;
    for y in 0..img.height {
        for x in 0..img.width {
            let (ra, dec) = wcs.pixel_to_sky(x as f64 + 0.5, y as f64 + 0.5).unwrap();
            for c in 0..img.channels {
                worst = worst.max((img.get(c, y, x) as f64 - sky(c, ra, dec)).abs());
            }
        }
    }
    worst
}

#[test]
fn wcs_cutout_is_aligned_pixel_for_pixel_including_rotation() {
    let server = stand_in(5000, 0);
    let c = client(&server, None);
    // 0.1°/px with sky structure on a ~12 px scale: a half-pixel shift is many PNG steps.
    let wcs = Wcs::from_avm([150.0, 25.0], [40.5, 30.25], [97.0, 61.0], [-0.1, 0.1], 33.0).unwrap();
    let img = c.fetch(&CutoutRequest::from_wcs("CDS/P/DSS2/color", wcs.clone(), ImageFormat::Png)).unwrap();
    assert_eq!((img.width, img.height, img.channels), (97, 61, 3));
    let err = max_error(&img, &wcs);
    assert!(err <= 0.5 / 255.0 + 1e-4, "max error {err}");
    // The same request on a WCS shifted by half a pixel must NOT match: the check is sensitive.
    let mut shifted = wcs.clone();
    shifted.crpix[0] += 0.5;
    assert!(max_error(&img, &shifted) > 5.0 / 255.0);
    // FITS keeps full precision.
    let fits = c.fetch(&CutoutRequest::from_wcs("CDS/P/DSS2/red", wcs.clone(), ImageFormat::Fits)).unwrap();
    assert_eq!(fits.channels, 1);
    assert!(max_error(&fits, &wcs) < 1e-5);
}

#[test]
fn centre_form_matches_its_wcs() {
    let server = stand_in(5000, 0);
    let c = client(&server, None);
    let req = CutoutRequest::from_center("CDS/P/DSS2/red", (10.0, -45.0), 1.0, (60, 90), -20.0, ImageFormat::Fits);
    let img = c.fetch(&req).unwrap();
    assert_eq!((img.width, img.height), (60, 90));
    assert!(max_error(&img, &req.wcs().unwrap()) < 1e-5);
}

#[test]
fn large_requests_are_tiled_and_stitched_seamlessly() {
    let server = stand_in(64, 0);
    let c = client(&server, None).with_max_side(64);
    let wcs = Wcs::from_center(359.9, 0.5, 3.0, 150, 100, 12.0).unwrap();
    let img = c.fetch(&CutoutRequest::from_wcs("CDS/P/DSS2/red", wcs.clone(), ImageFormat::Fits)).unwrap();
    assert_eq!(server.hits(), 6, "3 × 2 tiles of at most 64 px");
    assert!(max_error(&img, &wcs) < 1e-5, "seams or misplaced tiles");
    // A single request above the limit is refused by fetch_bytes before reaching the server.
    let e = c.fetch_bytes(&CutoutRequest::from_wcs("CDS/P/DSS2/red", wcs, ImageFormat::Fits)).unwrap_err();
    assert!(matches!(e, HipsError::InvalidRequest(_)), "{e}");
    assert_eq!(server.hits(), 6);
}

#[test]
fn service_errors_are_typed_with_title_and_description() {
    let server = stand_in(5000, 0);
    let c = client(&server, None);
    let wcs = Wcs::from_center(10.0, 10.0, 0.1, 20, 20, 0.0).unwrap();
    let e = c.fetch(&CutoutRequest::from_wcs("CDS/P/NoSuchSurvey", wcs, ImageFormat::Jpg)).unwrap_err();
    match &e {
        HipsError::Service { status, title, description, .. } => {
            assert_eq!(*status, 422);
            assert_eq!(title, "Unknown HiPS");
            assert!(description.contains("CDS/P/NoSuchSurvey"));
        }
        other => panic!("expected a service error, got {other}"),
    }
    assert!(e.to_string().contains("HTTP 422: Unknown HiPS: no HiPS matching"), "{e}");
    assert_eq!(server.hits(), 1, "4xx errors are not retried");
}

#[test]
fn transient_failures_are_retried_and_the_cache_answers_repeats() {
    let server = stand_in(5000, 2);
    let dir = tempfile::tempdir().unwrap();
    let c = client(&server, Some(DiskCache::new(dir.path())));
    let wcs = Wcs::from_center(200.0, -30.0, 0.2, 32, 24, 0.0).unwrap();
    let req = CutoutRequest::from_wcs("CDS/P/DSS2/color", wcs.clone(), ImageFormat::Png);
    let a = c.fetch(&req).unwrap();
    assert_eq!(server.hits(), 3, "two 503s then success");
    let b = c.fetch(&req).unwrap();
    assert_eq!(server.hits(), 3, "second fetch served from the cache");
    assert_eq!(a, b);
    // Offline: the server is gone, the cache still answers.
    let base = server.base.clone();
    server.stop();
    let offline =
        Hips2FitsClient::new(&format!("{base}/hips2fits"), Policy::fast(), Some(DiskCache::new(dir.path()))).unwrap();
    assert_eq!(offline.fetch(&req).unwrap(), a);
    let other = CutoutRequest::from_wcs("CDS/P/DSS2/red", wcs, ImageFormat::Png);
    let e = offline.fetch(&other).unwrap_err();
    assert!(matches!(e, HipsError::Network { .. }), "{e}");
}

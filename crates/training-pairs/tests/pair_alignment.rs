//! Pair alignment from fixtures with known injected offsets: observations rendered from a synthetic
//! star field on a "true" WCS whose reference pixel is away from the image centre, survey cutouts
//! fetched from a stand-in hips2fits on 127.0.0.1 either on the AVM WCS or centred on the
//! displayed RA/Dec (the reference value, rounded as the ESA pages show it). The residual shift is
//! measured by phase correlation, as `build-dataset` does.

use std::sync::Arc;

use hips_client::phase_correlation;
use hips_client::{CutoutRequest, Hips2FitsClient};
use hips_client::{ImageFormat, Planes, Policy, Wcs};
use test_servers::TestServer;
use training_pairs::{FilterConfig, black_mask, check_survey, judge};

/// Star positions (ra, dec, amplitude) around (150°, 20°).
fn stars() -> Vec<(f64, f64, f64)> {
    let mut s = 99u64;
    let mut rnd = || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..400).map(|_| (150.0 + (rnd() - 0.5) * 0.3, 20.0 + (rnd() - 0.5) * 0.3, 0.2 + 0.7 * rnd())).collect()
}

/// The star field at a sky position: Gaussian stars of σ = 3″ on a faint background.
fn field(stars: &[(f64, f64, f64)], ra: f64, dec: f64) -> f64 {
    let sigma = 3.0 / 3600.0;
    let cosd = dec.to_radians().cos();
    let mut v = 0.05;
    for &(sr, sd, a) in stars {
        let (dx, dy) = ((ra - sr) * cosd, dec - sd);
        let d2 = dx * dx + dy * dy;
        if d2 < 25.0 * sigma * sigma {
            v += a * (-d2 / (2.0 * sigma * sigma)).exp();
        }
    }
    v.min(1.0)
}

fn render(stars: &[(f64, f64, f64)], w: usize, h: usize, to_sky: impl Fn(f64, f64) -> (f64, f64)) -> Planes {
    let mut img = Planes::no_data(3, h, w);
    for y in 0..h {
        for x in 0..w {
            let (ra, dec) = to_sky(x as f64 + 0.5, y as f64 + 0.5);
            let v = field(stars, ra, dec) as f32;
            for c in 0..3 {
                img.data[(c * h + y) * w + x] = v * (0.8 + 0.1 * c as f32);
            }
        }
    }
    img
}

/// hips2fits stand-in rendering the star field on the received WCS (read by the CDS `wcs` crate).
fn star_server(stars: Arc<Vec<(f64, f64, f64)>>) -> TestServer {
    TestServer::start(move |_path, q| {
        let Some(params) = q.get("wcs").and_then(|w| serde_json::from_str::<wcs::params::WCSParams>(w).ok()) else {
            return (400, "application/json", br#"{"title":"Bad WCS","description":"wcs JSON expected"}"#.to_vec());
        };
        let (w, h) = (params.naxis1.unwrap_or(1) as usize, params.naxis2.unwrap_or(1) as usize);
        let wcs = wcs::WCS::new(&params).unwrap();
        let img = render(&stars, w, h, |x, y| {
            let ll = wcs.unproj(&wcs::ImgXY::new(x + 0.5, h as f64 + 0.5 - y)).unwrap();
            (ll.lon().to_degrees(), ll.lat().to_degrees())
        });
        (200, "image/png", hips_client::encode_image(&img, ImageFormat::Png, None).unwrap())
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
fn avm_wcs_pairs_are_aligned_and_displayed_radec_pairs_are_not() {
    let stars = Arc::new(stars());
    let server = star_server(stars.clone());
    let client = Hips2FitsClient::new(&format!("{}/hips2fits", server.base), Policy::fast(), None).unwrap();
    let (w, h) = (128u32, 96u32);
    let scale = 2.0 / 3600.0;
    let (mut avm_shift, mut shown_shift, mut injected) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..8 {
        let t = i as f64;
        // Reference pixel up to ±20 px from the centre (phase correlation is reliable for shifts up to
        // about a fifth of the image); rotation up to ±60°.
        let refpix =
            [w as f64 / 2.0 + 0.5 + 20.0 * (1.3 * t).sin(), h as f64 / 2.0 + 0.5 + 15.0 * (0.7 * t + 1.0).cos()];
        let refval = [150.0 + 0.02 * (t * 0.9).cos(), 20.0 + 0.02 * (t * 1.7).sin()];
        let rotation = 60.0 * (0.5 * t).sin();
        let truth = Wcs::from_avm(refval, refpix, [w as f64, h as f64], [-scale, scale], rotation).unwrap();
        let p = truth.projector();
        let obs = render(&stars, w as usize, h as usize, |x, y| p.pixel_to_sky(x, y).unwrap());
        injected.push((refpix[0] - (w as f64 / 2.0 + 0.5)).hypot(refpix[1] - (h as f64 / 2.0 + 0.5)));

        // After: the AVM WCS.
        let cut = client.fetch(&CutoutRequest::from_wcs("CDS/P/DSS2/color", truth.clone(), ImageFormat::Png)).unwrap();
        let s = phase_correlation(&obs, &cut, 256).unwrap();
        avm_shift.push(s.magnitude());
        // The pair passes every filter.
        let verdicts = judge(&obs, &black_mask(&obs), &[check_survey("dss", &obs, &cut)], &FilterConfig::default());
        assert!(verdicts.iter().all(|v| v.passed), "fixture {i}: {verdicts:?}");

        // Before: centred on the displayed RA/Dec (reference value, RA rounded to 0.01 s, Dec to 0.1″,
        // rotation to 0.1°), as if it were the centre.
        let ra_shown = (refval[0] * 240.0 * 100.0).round() / (240.0 * 100.0);
        let dec_shown = (refval[1] * 36000.0).round() / 36000.0;
        let rot_shown = (rotation * 10.0).round() / 10.0;
        let naive = Wcs::from_center(ra_shown, dec_shown, scale * w as f64, w, h, rot_shown).unwrap();
        let cut = client.fetch(&CutoutRequest::from_wcs("CDS/P/DSS2/color", naive, ImageFormat::Png)).unwrap();
        let s = phase_correlation(&obs, &cut, 256).unwrap();
        shown_shift.push(s.magnitude());
    }
    let (m_avm, m_shown, m_inj) = (median(avm_shift.clone()), median(shown_shift.clone()), median(injected.clone()));
    println!("median injected reference-pixel offset {m_inj:.2} px");
    println!("median residual shift, displayed RA/Dec as centre: {m_shown:.2} px  ({shown_shift:.1?})");
    println!("median residual shift, AVM WCS:                    {m_avm:.3} px  ({avm_shift:.2?})");
    assert!(m_avm < 0.25, "AVM pairs should align to a fraction of a pixel: {avm_shift:?}");
    assert!(m_shown > 5.0, "displayed-RA/Dec pairs carry the injected offset: {shown_shift:?}");
    // The naive shift is the injected offset itself.
    for (s, inj) in shown_shift.iter().zip(&injected) {
        assert!((s - inj).abs() < 1.5, "measured {s} vs injected {inj}");
    }
}

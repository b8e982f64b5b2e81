//! `build-dataset` end to end: a scraped archive written in the `esa-scrape` layout, a stand-in
//! hips2fits on 127.0.0.1 rendering the same star field on the received WCS, and the real binary.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;

use esa_scraper::DownloadedFile;
use esa_scraper::ImageFormat as EsaFormat;
use esa_scraper::{ImageRecord, Site, SkyGeometry};
use hips_client::{ImageFormat, Planes, Wcs};
use test_servers::TestServer;
use training_pairs::PairRecord;

fn render(w: usize, h: usize, colour: bool, to_sky: impl Fn(f64, f64) -> (f64, f64)) -> Planes {
    let mut img = Planes::no_data(3, h, w);
    for y in 0..h {
        for x in 0..w {
            let (ra, dec) = to_sky(x as f64 + 0.5, y as f64 + 0.5);
            // The stand-in's sky, grey: its blue channel is the unscaled star field.
            let v = test_servers::star_field(ra, dec)[2];
            for c in 0..3 {
                img.data[(c * h + y) * w + x] = if colour { v * (0.7 + 0.15 * c as f32) } else { v };
            }
        }
    }
    img
}

/// A stand-in hips2fits (`test-servers`) rendering the star field on the received WCS.
fn start_server() -> TestServer {
    TestServer::start(|_path, q| match q.get("wcs").map(|w| serde_json::from_str::<serde_json::Value>(w)) {
        Some(Ok(json)) => {
            let wcs = Wcs::from_fits_header_json(&json).unwrap();
            let p = wcs.projector();
            // SDSS: outside its footprint north of +60° (black), like the real survey's gaps.
            let outside = q.get("hips").is_some_and(|h| h.contains("SDSS")) && wcs.center().1 > 60.0;
            let mut img = render(wcs.width as usize, wcs.height as usize, true, |x, y| p.pixel_to_sky(x, y).unwrap());
            if outside {
                img.data.iter_mut().for_each(|v| *v = 0.0);
            }
            (200, "image/jpeg", hips_client::encode_image(&img, ImageFormat::Jpg, None).unwrap())
        }
        _ => (400, "application/json", br#"{"title":"Bad","description":"no wcs"}"#.to_vec()),
    })
}

/// Write one observation: image file + record line.
fn add_observation(root: &Path, id: &str, center: (f64, f64), rotation: f64, colour: bool, lines: &mut String) {
    let (w, h) = (240u32, 180u32);
    let scale = 1.0 / 3600.0;
    let refpix = [60.5, 150.25];
    // Reference value chosen so the image centre is `center`.
    let probe = Wcs::from_avm([center.0, center.1], refpix, [w as f64, h as f64], [-scale, scale], rotation).unwrap();
    let c = probe.center();
    let refval = [2.0 * center.0 - c.0, 2.0 * center.1 - c.1];
    let wcs = Wcs::from_avm(refval, refpix, [w as f64, h as f64], [-scale, scale], rotation).unwrap();
    let p = wcs.projector();
    let img = render(w as usize, h as usize, colour, |x, y| p.pixel_to_sky(x, y).unwrap());
    let rel = format!("images/{id}.jpg");
    let path = root.join("hubble").join(&rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, hips_client::encode_image(&img, ImageFormat::Jpg, None).unwrap()).unwrap();
    let mut rec = ImageRecord::new(Site::Hubble, id);
    rec.title = format!("Test field {id}");
    rec.credit = "ESA/Hubble & NASA, Test Team".into();
    rec.geometry = Some(SkyGeometry {
        reference_value: Some(refval),
        reference_pixel: Some(refpix),
        reference_dimension: Some([w as f64, h as f64]),
        scale: Some([-scale, scale]),
        rotation_deg: Some(rotation),
        ..SkyGeometry::default()
    });
    rec.file = Some(DownloadedFile {
        format: EsaFormat::Screen,
        path: rel,
        url: format!("https://cdn.example/{id}.jpg"),
        bytes: 0,
        sha256: String::new(),
        width: w,
        height: h,
    });
    lines.push_str(&serde_json::to_string(&rec).unwrap());
    lines.push('\n');
}

fn read_pair(out: &Path, id: &str) -> PairRecord {
    serde_json::from_slice(&std::fs::read(out.join("pairs").join(id).join("pair.json")).unwrap()).unwrap()
}

#[test]
fn builds_validated_pairs_resumes_and_rebuilds() {
    let scraped = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    add_observation(scraped.path(), "heic9901a", (150.0, 20.0), 25.0, true, &mut lines);
    add_observation(scraped.path(), "heic9902a", (210.0, -10.0), -40.0, false, &mut lines); // grey-only
    add_observation(scraped.path(), "heic9903a", (40.0, 70.0), 0.0, true, &mut lines); // outside SDSS
    std::fs::write(scraped.path().join("hubble").join("metadata.jsonl"), &lines).unwrap();
    let server = start_server();
    let base = format!("{}/hips2fits", server.base);
    let hits = server.hits.clone();
    let run = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_build-dataset"))
            .args(["--scraped", scraped.path().to_str().unwrap(), "-o", out.path().to_str().unwrap()])
            .args(["--base-url", &base, "--cache", out.path().join("cache").to_str().unwrap(), "--rate-limit-ms", "0"])
            .args(extra)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
        stdout
    };
    let summary = run(&[]);
    println!("{summary}");
    assert_eq!(hits.load(Ordering::SeqCst), 6, "two surveys × three observations");
    for id in ["heic9901a", "heic9902a", "heic9903a"] {
        for f in ["obs.png", "dss.jpg", "sdss.jpg", "pair.json"] {
            assert!(out.path().join("pairs").join(id).join(f).is_file(), "{id}/{f}");
        }
    }
    let good = read_pair(out.path(), "heic9901a");
    assert!(good.kept, "{:?}", good.verdicts);
    assert_eq!(good.credit, "ESA/Hubble & NASA, Test Team");
    let shift = good.surveys[0].check.as_ref().unwrap().shift.unwrap();
    assert!(shift.magnitude() < 0.5, "AVM pair misaligned by {shift:?}");
    assert_eq!((good.wcs.width, good.wcs.height), (240, 180));
    let grey = read_pair(out.path(), "heic9902a");
    assert!(!grey.kept && grey.reject_reasons().contains(&"grey-only".to_string()), "{:?}", grey.verdicts);
    let north = read_pair(out.path(), "heic9903a");
    assert!(!north.kept && north.reject_reasons() == ["survey-empty"], "{:?}", north.verdicts);
    let manifest = std::fs::read_to_string(out.path().join("manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 3);
    assert!(
        summary.contains("kept")
            && summary.contains("rejected: grey-only")
            && summary.contains("rejected: survey-empty")
    );

    // Resumable: nothing is fetched again.
    let again = run(&[]);
    assert!(again.contains("already done 3"), "{again}");
    assert_eq!(hits.load(Ordering::SeqCst), 6);
    // --override rebuilds (a new pair size means new cutouts).
    let over = run(&["--override", "--max-side", "120"]);
    assert!(over.contains("built 3"), "{over}");
    assert_eq!(read_pair(out.path(), "heic9901a").wcs.width, 120);
    // --missing with an added survey fetches only the new cutouts.
    run(&["--missing", "--max-side", "120", "--surveys", "dss,sdss,2mass"]);
    assert_eq!(hits.load(Ordering::SeqCst), 6 + 6 + 3, "new size: 6 cutouts at 120 px, then 3 × 2MASS");
    assert!(out.path().join("pairs/heic9901a/2mass.jpg").is_file());
}

//! Regenerate the binary and JSON fixtures of the local fixture sites (`tests/fixtures/{hubble,webb}`):
//! small JPEGs with embedded AVM (or deliberately none / garbage) and the Data2Dome feed pages whose
//! sizes and checksums must match those files. The HTML pages are written by hand.
//!
//! `cargo run -p esa-scraper --example make_fixtures`

use std::path::Path;

use esa_scraper::fixture::fixture_dir;
use esa_scraper::{SkyGeometry, SpatialQuality};
use esa_scraper::{embed_xmp_in_jpeg, write_xmp};
use image::{ImageEncoder, RgbImage};
use serde_json::{Value, json};

/// How an image's embedded metadata looks.
#[derive(Clone, Copy, PartialEq)]
enum Xmp {
    Good,
    None,
    Garbage,
    Position,
}

struct Spec {
    id: &'static str,
    title: &'static str,
    category: &'static str,
    name: &'static str,
    observation: bool,
    feed_spatial: bool,
    /// Offset (arcsec in Dec) of the feed's reference value relative to the embedded AVM.
    feed_offset_arcsec: f64,
    xmp: Xmp,
    ra: f64,
    dec: f64,
    crpix: [f64; 2],
    rotation: f64,
    images: bool,
}

const FULL: [f64; 2] = [1600.0, 1200.0];
const SCALE: f64 = 1.0e-4;

fn geometry(s: &Spec, quality: SpatialQuality) -> SkyGeometry {
    SkyGeometry {
        reference_value: Some([s.ra, s.dec]),
        reference_pixel: Some(s.crpix),
        reference_dimension: Some(FULL),
        scale: Some([-SCALE, SCALE]),
        rotation_deg: Some(s.rotation),
        coordinate_frame: Some("ICRS".into()),
        equinox: Some("J2000".into()),
        projection: Some("TAN".into()),
        quality: Some(quality),
        field_of_view_deg: None,
    }
}

fn starfield(w: u32, h: u32, seed: u32) -> RgbImage {
    let stars: Vec<(f32, f32, f32)> = (0..12u32)
        .map(|i| {
            let a = (i.wrapping_mul(2654435761).wrapping_add(seed.wrapping_mul(40503))) as f32 / u32::MAX as f32;
            let b = (i.wrapping_mul(2246822519).wrapping_add(seed.wrapping_mul(3266489917))) as f32 / u32::MAX as f32;
            (a * w as f32, b * h as f32, 1.0 + (i % 3) as f32)
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let mut v = [8.0f32, 6.0, 14.0];
        for (sx, sy, r) in &stars {
            let d2 = (x as f32 - sx).powi(2) + (y as f32 - sy).powi(2);
            let g = 240.0 * (-d2 / (2.0 * r * r)).exp();
            v[0] += g;
            v[1] += g * 0.9;
            v[2] += g * 0.8;
        }
        // A faint nebula gradient so the JPEG is not trivially flat.
        v[0] += 30.0 * (x as f32 / w as f32);
        v[2] += 30.0 * (y as f32 / h as f32);
        image::Rgb(v.map(|c| c.min(255.0) as u8))
    })
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .expect("encode jpeg");
    out
}

fn credit(site: &str, id: &str) -> String {
    match site {
        "hubble" => format!("ESA/Hubble & NASA, Fixture Team ({id})"),
        _ => format!("ESA/Webb, NASA & CSA, Fixture Team ({id})"),
    }
}

/// Write the screen and large JPEGs of one image; returns (large bytes, large md5).
fn write_images(root: &Path, site: &str, s: &Spec) -> (u64, String) {
    let mut large_info = (0, String::new());
    for (format, (w, h)) in [("screen", (80u32, 60u32)), ("large", (160, 120))] {
        let img = starfield(w, h, s.id.bytes().map(u32::from).sum());
        let plain = jpeg(&img);
        let bytes = match s.xmp {
            Xmp::None => plain,
            Xmp::Good | Xmp::Position => {
                let q = if s.xmp == Xmp::Position { SpatialQuality::Position } else { SpatialQuality::Full };
                let xmp = write_xmp(s.id, s.title, &credit(site, s.id), &geometry(s, q));
                embed_xmp_in_jpeg(&plain, &xmp).expect("embed")
            }
            Xmp::Garbage => {
                let xmp = write_xmp(s.id, s.title, &credit(site, s.id), &geometry(s, SpatialQuality::Full))
                    .replace(&format!("<rdf:li>{}</rdf:li>", -SCALE), "<rdf:li>abc</rdf:li>");
                assert!(xmp.contains(">abc<"));
                embed_xmp_in_jpeg(&plain, &xmp).expect("embed")
            }
        };
        let dir = root.join("images").join(format);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("{}.jpg", s.id)), &bytes).expect("write jpeg");
        if format == "large" {
            large_info = (bytes.len() as u64, format!("{:x}", md5::compute(&bytes)));
        }
    }
    large_info
}

fn d2d_item(site: &str, s: &Spec, large: (u64, String)) -> Value {
    let mut resources = vec![json!({
        "ResourceType": "Original", "URL": format!("{{BASE}}/media/archives/images/original/{}.tif", s.id),
        "Dimensions": [FULL[0] as u32, FULL[1] as u32]
    })];
    if s.images {
        resources.push(json!({
            "ResourceType": "Large", "URL": format!("{{BASE}}/archives/images/large/{}.jpg", s.id),
            "FileSize": large.0, "Dimensions": [160, 120], "Checksum": large.1
        }));
        resources.push(json!({
            "ResourceType": "Thumbnail", "URL": format!("{{BASE}}/archives/images/thumb300y/{}.jpg", s.id)
        }));
    }
    let mut asset = json!({ "MediaType": "Image", "Resources": resources });
    if s.observation {
        let mut obs = json!({
            "Facility": ["Hubble Space Telescope"], "Instrument": ["ACS", "WFC3"],
            "Spectral": {
                "ColorAssignment": ["Blue", "Green", "Red"], "Band": ["Optical", "Optical", "Infrared"],
                "Bandpass": ["F435W", "F555W", "F814W"], "CentralWavelength": [435.0, 555.0, 814.0]
            }
        });
        if s.feed_spatial {
            let dec = s.dec + s.feed_offset_arcsec / 3600.0;
            obs["Spatial"] = json!({
                "CoordinateFrame": "ICRS", "Equinox": "J2000", "ReferenceValue": [s.ra, dec],
                "ReferenceDimension": FULL, "ReferencePixel": s.crpix, "Scale": [-SCALE, SCALE],
                "Rotation": s.rotation, "CoordsystemProjection": "TAN"
            });
        }
        asset["ObservationData"] = obs;
    }
    json!({
        "ID": s.id, "Title": s.title, "Description": format!("Fixture image {}.", s.id),
        "Credit": credit(site, s.id), "PublicationDate": "2024-05-01T12:00:00+02:00",
        "Subject": { "Category": [s.category], "Name": [s.name] },
        "ReferenceURL": format!("{{BASE}}/images/{}/", s.id),
        "Rights": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
        "Priority": 50, "Assets": [asset]
    })
}

#[allow(clippy::too_many_arguments)]
fn spec(
    id: &'static str,
    title: &'static str,
    category: &'static str,
    observation: bool,
    feed_spatial: bool,
    xmp: Xmp,
    ra: f64,
    dec: f64,
    crpix: [f64; 2],
    rotation: f64,
) -> Spec {
    Spec {
        id,
        title,
        category,
        name: title,
        observation,
        feed_spatial,
        feed_offset_arcsec: 0.0,
        xmp,
        ra,
        dec,
        crpix,
        rotation,
        images: true,
    }
}

fn main() {
    let root = fixture_dir();
    let centre = [800.5, 600.5];
    // ESA/Hubble: Data2Dome feed (2 pages) + HTML detail/search pages (hand-written).
    let hubble_root = root.join("hubble");
    let mut second =
        spec("heic9902a", "Rotated nebula", "B.4.1.2", true, true, Xmp::Good, 83.82, -5.39, [400.5, 900.5], 30.0);
    second.feed_offset_arcsec = 10.0;
    let mut solar = spec("heic9903a", "Jupiter", "A.1.4", true, false, Xmp::None, 0.0, 0.0, centre, 0.0);
    solar.images = false;
    let mut artwork = spec("heic9904a", "Artist's impression", "C.5", false, false, Xmp::None, 0.0, 0.0, centre, 0.0);
    artwork.images = false;
    let pages: Vec<Vec<Spec>> = vec![
        vec![
            spec("heic9901a", "Spiral galaxy", "C.5.1.1", true, true, Xmp::Good, 202.4696, 47.1953, centre, 0.0),
            second,
            solar,
            artwork,
        ],
        vec![
            spec("heic9905a", "Galaxy without XMP", "C.5.1.4", true, true, Xmp::None, 10.6847, 41.2690, centre, -12.5),
            spec(
                "heic9906a",
                "Cluster with broken XMP",
                "B.3.6.4",
                true,
                true,
                Xmp::Garbage,
                201.6970,
                -47.4795,
                centre,
                5.0,
            ),
            spec(
                "heic9907a",
                "Galaxy known only from HTML",
                "C.5",
                true,
                false,
                Xmp::None,
                187.7059,
                -0.5033,
                centre,
                0.0,
            ),
            spec("heic9908a", "Blacklisted mosaic", "C.5", true, true, Xmp::Good, 148.9, 69.07, centre, 0.0),
            spec("heic9909a", "Position-only nebula", "B.4", true, true, Xmp::Position, 274.7, -13.8, centre, 0.0),
        ],
    ];
    let total: usize = pages.iter().map(Vec::len).sum::<usize>() + 1;
    std::fs::create_dir_all(hubble_root.join("d2d")).expect("mkdir");
    for (i, page) in pages.iter().enumerate() {
        let mut items: Vec<Value> = page
            .iter()
            .map(|s| {
                let large = if s.images { write_images(&hubble_root, "hubble", s) } else { (0, String::new()) };
                d2d_item("hubble", s, large)
            })
            .collect();
        if i == 1 {
            // An item the parser must reject on its own (no ID) without spoiling the page.
            items.push(json!({"Title": "Item without an ID", "Credit": "nobody"}));
        }
        let next =
            if i + 1 < pages.len() { json!(format!("{{BASE}}/images/d2d/?page={}", i + 2)) } else { Value::Null };
        let prev = if i > 0 { json!(format!("{{BASE}}/images/d2d/?page={i}")) } else { Value::Null };
        let doc = json!({ "Count": total, "Next": next, "Previous": prev, "Collections": items });
        let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
        std::fs::write(hubble_root.join("d2d").join(format!("page-{}.json", i + 1)), text).expect("write");
    }
    // ESA/Webb: no feed (the HTML fallback is exercised); images with AVM.
    let webb_root = root.join("webb");
    for s in [
        spec("weic9901a", "Infrared galaxy", "C.5.1.1", true, false, Xmp::Good, 150.1, 2.2, centre, 0.0),
        spec(
            "weic9902a",
            "Star-forming region",
            "B.4.1.2",
            true,
            false,
            Xmp::Good,
            84.67,
            -69.1,
            [300.5, 200.5],
            -20.0,
        ),
        spec("weic9903a", "Galaxy near the equator", "C.5", true, false, Xmp::Good, 40.67, -0.2083, centre, 170.0),
    ] {
        write_images(&webb_root, "webb", &s);
    }
    println!("fixtures written under {}", root.display());
}

//! Hostile AVM/XMP (issue #29): a compressed PNG iTXt that inflates without end (item 10), XMP
//! nested thousands deep (item 18), and AVM values that are finite but not a sky (item 6). Each
//! is refused quickly, with the image named, and never stored as quality "Full".

use std::io::Write;
use std::time::{Duration, Instant};

use esa_scraper::{AvmTags, SkyGeometry, SpatialQuality, write_xmp};

fn geometry() -> SkyGeometry {
    SkyGeometry {
        reference_value: Some([83.82, -5.39]),
        reference_pixel: Some([1000.5, 800.5]),
        reference_dimension: Some([2000.0, 1600.0]),
        scale: Some([-2.0e-5, 2.0e-5]),
        rotation_deg: Some(10.0),
        quality: Some(SpatialQuality::Full),
        ..SkyGeometry::default()
    }
}

/// A PNG whose only chunk is a compressed `iTXt` XMP packet holding `xmp`.
fn png_with_compressed_xmp(xmp: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(xmp).unwrap();
    let mut data = b"XML:com.adobe.xmp\0\x01\x00\0\0".to_vec();
    data.extend(z.finish().unwrap());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((data.len() as u32).to_be_bytes());
    png.extend(b"iTXt");
    png.extend(&data);
    png.extend([0u8; 4]);
    png
}

#[test]
fn a_compressed_xmp_bomb_is_not_inflated_past_the_budget() {
    let xmp = write_xmp("heic0000a", "Bomb", "ESA", &geometry());
    // A valid packet followed by 300 MB of padding: 300 KB compressed.
    let mut big = xmp.clone().into_bytes();
    big.resize(big.len() + 300_000_000, b' ');
    let png = png_with_compressed_xmp(&big);
    drop(big);
    assert!(png.len() < 1_000_000, "{} bytes", png.len());
    let t = Instant::now();
    let err = AvmTags::from_image_bytes(&png, "bomb.png").unwrap_err().to_string();
    assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
    assert!(err.contains("bomb.png") && err.contains("no XMP packet"), "{err}");
    // The same packet compressed without padding still reads.
    let ok = AvmTags::from_image_bytes(&png_with_compressed_xmp(xmp.as_bytes()), "ok.png").unwrap();
    assert_eq!(ok.id().as_deref(), Some("heic0000a"));
}

#[test]
fn deeply_nested_xmp_is_refused_without_exhausting_the_stack() {
    let xmp = write_xmp("heic0000b", "Deep", "ESA", &geometry());
    let depth = 20_000; // the reported case: about 20,000 elements, 540 KB
    let nest = format!("{}{}", "<x:a xmlns:x=\"urn:x\">".repeat(depth), "</x:a>".repeat(depth));
    let deep = xmp.replacen("</rdf:Description>", &format!("{nest}</rdf:Description>"), 1);
    // Run on a small stack, as a worker thread would: the refusal must not recurse.
    let err = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || AvmTags::parse(&deep, "deep.jpg").unwrap_err().to_string())
        .unwrap()
        .join()
        .unwrap();
    assert!(err.contains("deep.jpg") && err.contains("more than 256 deep"), "{err}");
    // Nesting at the limit is fine, and empty elements (<a/>) do not count.
    let fine = format!("{}{}{}", "<x:a xmlns:x=\"urn:x\">".repeat(200), "<x:b/>".repeat(1000), "</x:a>".repeat(200));
    let ok = xmp.replacen("</rdf:Description>", &format!("{fine}</rdf:Description>"), 1);
    assert!(AvmTags::parse(&ok, "ok.jpg").is_ok());
}

#[test]
fn finite_but_impossible_avm_values_are_refused() {
    for (name, g, wanted) in [
        ("ra", SkyGeometry { reference_value: Some([1e300, 10.0]), ..geometry() }, "ReferenceValue"),
        ("crpix+", SkyGeometry { reference_pixel: Some([1e300, 5.0]), ..geometry() }, "ReferencePixel"),
        ("crpix-", SkyGeometry { reference_pixel: Some([5.0, -1e300]), ..geometry() }, "ReferencePixel"),
        ("dims", SkyGeometry { reference_dimension: Some([1e300, 5.0]), ..geometry() }, "ReferenceDimension"),
    ] {
        let xmp = write_xmp("heic0000c", "Bad", "ESA", &g);
        let err = AvmTags::parse(&xmp, "bad.jpg").and_then(|t| t.geometry("bad.jpg")).unwrap_err().to_string();
        assert!(err.contains("bad.jpg") && err.contains(wanted), "{name}: {err}");
        // Nor can a WCS be built from them directly (survey-fetch --like, build-dataset).
        let wcs = sky_geometry_wcs(&g);
        assert!(wcs.is_err(), "{name}: a WCS was built");
    }
    assert!(
        AvmTags::parse(&write_xmp("heic0000d", "Good", "ESA", &geometry()), "good.jpg")
            .and_then(|t| t.geometry("good.jpg"))
            .is_ok()
    );
}

fn sky_geometry_wcs(g: &SkyGeometry) -> Result<esa_scraper::Wcs, String> {
    let (v, p, d, s) =
        (g.reference_value.unwrap(), g.reference_pixel.unwrap(), g.reference_dimension.unwrap(), g.scale.unwrap());
    esa_scraper::Wcs::from_avm(v, p, d, s, 0.0).map_err(|e| e.to_string())
}

//! Parsers on the fixture pages of both site variants, AVM extraction from real files, and the WCS
//! built from the parsed geometry.

use std::io::Write;

use esa_scraper::choose_geometry;
use esa_scraper::fixture::fixture_dir;
use esa_scraper::parse_d2d_page;
use esa_scraper::{AvmTags, embed_xmp_in_jpeg, extract_xmp, write_xmp};

fn angular_distance_deg(a: [f64; 2], b: [f64; 2]) -> f64 {
    sky_geometry::angular_distance_deg((a[0], a[1]), (b[0], b[1]))
}
use esa_scraper::{DownloadedFile, SpatialQuality};
use esa_scraper::{EsaError, ImageFormat, ImageRecord, MetadataSource, Site, SkyGeometry, values};
use esa_scraper::{parse_detail_page, parse_list_page};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(fixture_dir().join(path)).unwrap()
}

fn fixture_bytes(path: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(path)).unwrap()
}

#[test]
fn feed_pages_parse_items_resources_spectral_and_spatial() {
    let p1 = parse_d2d_page(Site::Hubble, &fixture("hubble/d2d/page-1.json"), "page 1").unwrap();
    assert_eq!(p1.count, Some(10));
    assert_eq!(p1.next.as_deref(), Some("{BASE}/images/d2d/?page=2"));
    let recs: Vec<ImageRecord> = p1.items.into_iter().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 4);
    let r = &recs[0];
    assert_eq!(r.id, "heic9901a");
    assert_eq!(r.title, "Spiral galaxy");
    assert_eq!(r.image_type.as_deref(), Some("Observation"));
    assert_eq!(r.categories, ["C.5.1.1"]);
    assert_eq!(r.credit, "ESA/Hubble & NASA, Fixture Team (heic9901a)");
    assert_eq!(r.licence, "CC BY 4.0");
    assert_eq!(r.pixel_size, Some([1600, 1200]));
    assert_eq!(r.facility, ["Hubble Space Telescope"]);
    assert_eq!(r.instrument, ["ACS", "WFC3"]);
    assert_eq!(r.spectral.len(), 3);
    assert_eq!(r.spectral[2].bandpass.as_deref(), Some("F814W"));
    assert_eq!(r.spectral[2].color_assignment.as_deref(), Some("Red"));
    assert_eq!(r.spectral[2].central_wavelength_nm, Some(814.0));
    let large = r.resources.iter().find(|x| x.kind == "Large").unwrap();
    let bytes = fixture_bytes("hubble/images/large/heic9901a.jpg");
    assert_eq!(large.file_size, Some(bytes.len() as u64));
    assert_eq!(large.checksum.as_deref(), Some(format!("{:x}", md5::compute(&bytes)).as_str()));
    let g = r.geometry.as_ref().unwrap();
    assert!(g.is_complete());
    assert_eq!(g.reference_value, Some([202.4696, 47.1953]));
    assert_eq!(g.reference_pixel, Some([800.5, 600.5]));
    assert_eq!(g.scale, Some([-1e-4, 1e-4]));
    assert_eq!(g.coordinate_frame.as_deref(), Some("ICRS"));
    assert_eq!(r.geometry_source, Some(MetadataSource::Feed));
    // An artwork has no ObservationData: type unknown to the feed.
    assert_eq!(recs[3].image_type, None);
    assert!(recs[3].geometry.is_none());

    let p2 = parse_d2d_page(Site::Hubble, &fixture("hubble/d2d/page-2.json"), "page 2").unwrap();
    assert_eq!(p2.next, None);
    assert_eq!(p2.items.len(), 6);
    let bad: Vec<&EsaError> = p2.items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(bad.len(), 1, "only the item without an ID fails");
    assert!(bad[0].to_string().contains("page 2 item 5"), "{}", bad[0]);
}

#[test]
fn malformed_feed_json_is_a_clear_error() {
    let text = fixture("hubble/d2d/page-1.json");
    let e = parse_d2d_page(Site::Hubble, &text[..text.len() / 3], "http://x/images/d2d/?page=1").unwrap_err();
    assert!(matches!(e, EsaError::Json { .. }));
    assert!(e.to_string().starts_with("http://x/images/d2d/?page=1: malformed JSON"), "{e}");
    let e = parse_d2d_page(Site::Hubble, r#"{"Count": 3}"#, "p").unwrap_err();
    assert!(e.to_string().contains("Collections"), "{e}");
    // One item with non-numeric coordinates, one with an impossible declination: each fails alone.
    let page = r#"{"Collections": [
        {"ID": "a1", "Assets": [{"ObservationData": {"Spatial": {"ReferenceValue": ["abc", 1.0]}}}]},
        {"ID": "a2", "Assets": [{"ObservationData": {"Spatial": {"ReferenceValue": [10.0, 95.0]}}}]},
        {"ID": "a3", "Assets": [{"ObservationData": {"Spatial": {"ReferenceValue": ["10.5", "-3.25"], "Scale": "-1e-4 1e-4"}}}]},
        {"ID": "../../etc", "Title": "hostile id"}
    ], "Next": null}"#;
    let p = parse_d2d_page(Site::Webb, page, "p").unwrap();
    let e0 = p.items[0].as_ref().unwrap_err().to_string();
    assert!(e0.contains("a1") && e0.contains("ReferenceValue") && e0.contains("abc"), "{e0}");
    let e1 = p.items[1].as_ref().unwrap_err().to_string();
    assert!(e1.contains("not a sky position"), "{e1}");
    let g = p.items[2].as_ref().unwrap().geometry.clone().unwrap();
    assert_eq!(g.reference_value, Some([10.5, -3.25]));
    assert_eq!(g.scale, Some([-1e-4, 1e-4]));
    assert!(p.items[3].is_err(), "ids are used in file names and must be plain");
}

#[test]
fn hubble_detail_page_rows() {
    let page = parse_detail_page(Site::Hubble, "heic9902a", &fixture("hubble/detail/heic9902a.html")).unwrap();
    let r = &page.record;
    assert_eq!(r.title, "Rotated nebula");
    assert_eq!(r.credit, "ESA/Hubble & NASA, Fixture Team (heic9902a)");
    assert_eq!(r.image_type.as_deref(), Some("Observation"));
    assert_eq!(r.release_date.as_deref(), Some("1 May 2024, 12:00"));
    assert_eq!(r.pixel_size, Some([1600, 1200]));
    assert_eq!(r.object.name.as_deref(), Some("NGC 1976"));
    assert_eq!(r.object.object_type.as_deref(), Some("Milky Way : Nebula : Type : Star Formation"));
    assert_eq!(r.object.distance.as_deref(), Some("1350 light years"));
    assert_eq!(r.object.constellation.as_deref(), Some("Orion"));
    assert_eq!(r.categories, ["Nebulae"]);
    let g = r.geometry.as_ref().unwrap();
    let [ra, dec] = g.reference_value.unwrap();
    assert!((ra - 83.82).abs() < 1e-5 && (dec + 5.39).abs() < 1e-5, "{ra} {dec}");
    assert_eq!(g.rotation_deg, Some(30.0), "\"left\" is a positive CROTA2");
    let fov = g.field_of_view_deg.unwrap();
    assert!((fov[0] - 0.16).abs() < 1e-9 && (fov[1] - 0.12).abs() < 1e-9);
    assert!(!g.is_complete(), "HTML gives no reference pixel");
    assert_eq!(r.spectral.len(), 3);
    assert_eq!(r.spectral[0].band.as_deref(), Some("Optical B"));
    assert_eq!(r.spectral[0].central_wavelength_nm, Some(435.0));
    assert_eq!(r.spectral[2].facility.as_deref(), Some("Hubble Space Telescope WFC3"));
    assert_eq!(r.geometry_source, Some(MetadataSource::Html));
    assert!(page.rows.iter().any(|row| row.section == "Coordinates" && row.label == "Orientation"));

    // No Orientation row means rotation 0; Dec between −1° and 0 printed without its sign is flagged.
    let p7 = parse_detail_page(Site::Hubble, "heic9907a", &fixture("hubble/detail/heic9907a.html")).unwrap();
    let g7 = p7.record.geometry.unwrap();
    assert_eq!(g7.rotation_deg, Some(0.0));
    assert!(p7.dec_sign_ambiguous);
    assert!((g7.reference_value.unwrap()[1] - 0.5033).abs() < 1e-5);
    // Right-of-vertical is negative.
    let p5 = parse_detail_page(Site::Hubble, "heic9905a", &fixture("hubble/detail/heic9905a.html")).unwrap();
    assert_eq!(p5.record.geometry.unwrap().rotation_deg, Some(-12.5));
    // An artwork page has no Coordinates section.
    let p4 = parse_detail_page(Site::Hubble, "heic9904a", &fixture("hubble/detail/heic9904a.html")).unwrap();
    assert_eq!(p4.record.image_type.as_deref(), Some("Artwork"));
    assert!(p4.record.geometry.is_none());
}

#[test]
fn webb_detail_page_rows() {
    let page = parse_detail_page(Site::Webb, "weic9902a", &fixture("webb/detail/weic9902a.html")).unwrap();
    let r = &page.record;
    assert_eq!(r.title, "Star-forming region");
    assert_eq!(r.credit, "ESA/Webb, NASA & CSA, Fixture Team (weic9902a)");
    assert_eq!(r.image_type.as_deref(), Some("Observation"));
    assert_eq!(r.pixel_size, Some([1600, 1200]));
    assert_eq!(r.object.distance.as_deref(), Some("161 000 light years"));
    let g = r.geometry.as_ref().unwrap();
    let [ra, dec] = g.reference_value.unwrap();
    assert!((ra - 84.67).abs() < 1e-5 && (dec + 69.1).abs() < 1e-5, "{ra} {dec}");
    assert_eq!(g.rotation_deg, Some(-20.0));
    let waves: Vec<f64> = r.spectral.iter().map(|b| b.central_wavelength_nm.unwrap()).collect();
    assert_eq!(waves, [900.0, 2000.0, 7700.0]);
    assert_eq!(r.facility, ["James Webb Space Telescope NIRCam", "James Webb Space Telescope MIRI"]);
    // Webb prints "-0° 12' 29.88\"": the sign applies to the whole value.
    let p3 = parse_detail_page(Site::Webb, "weic9903a", &fixture("webb/detail/weic9903a.html")).unwrap();
    let g3 = p3.record.geometry.unwrap();
    assert!((g3.reference_value.unwrap()[1] + 0.2083).abs() < 1e-5);
    assert!(!p3.dec_sign_ambiguous);
    assert_eq!(g3.rotation_deg, Some(170.0));
}

#[test]
fn broken_detail_pages_fail_with_the_page_named() {
    let html = fixture("hubble/detail/heic9901a.html");
    let e = parse_detail_page(Site::Hubble, "heic9901a", &html[..400]).unwrap_err();
    assert!(e.to_string().contains("heic9901a") && e.to_string().contains("no object-info rows"), "{e}");
    let e = parse_detail_page(Site::Hubble, "heic0000z", &html).unwrap_err();
    assert!(e.to_string().contains("not \"heic0000z\""), "{e}");
    let bad = html.replace("13 29 52.70", "13 xx 52.70");
    let e = parse_detail_page(Site::Hubble, "heic9901a", &bad).unwrap_err();
    assert!(e.to_string().contains("Position (RA)") && e.to_string().contains("xx"), "{e}");
    let no_dec = html.replace("Position (Dec)", "Something else");
    let e = parse_detail_page(Site::Hubble, "heic9901a", &no_dec).unwrap_err();
    assert!(e.to_string().contains("only one of RA and Dec"), "{e}");
    let webb = fixture("webb/detail/weic9901a.html").replace("9.60 x 7.20 arcminutes", "wide");
    assert!(parse_detail_page(Site::Webb, "weic9901a", &webb).is_err());
}

#[test]
fn list_pages_of_both_sites() {
    for (site, first, second) in
        [("hubble", ["heic9901a", "heic9902a"], "heic9905a"), ("webb", ["weic9901a", "weic9902a"], "weic9903a")]
    {
        let p1 = parse_list_page(&fixture(&format!("{site}/search/page-1.html")), "p1").unwrap();
        let ids: Vec<&str> = p1.images.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, first);
        assert_eq!(p1.last_page, 2);
        assert_eq!(p1.images[0].width, Some(1600));
        let p2 = parse_list_page(&fixture(&format!("{site}/search/page-2.html")), "p2").unwrap();
        assert_eq!(p2.images[0].id, second);
    }
    let p = parse_list_page(&fixture("webb/search/page-2.html"), "p2").unwrap();
    assert_eq!(p.images[0].title, "Galaxy near the 'equator'");
    let html = fixture("hubble/search/page-1.html");
    let cut = &html[..html.find("heic9902a").unwrap()];
    let e = parse_list_page(cut, "http://x/page/1/").unwrap_err();
    assert!(e.to_string().starts_with("http://x/page/1/:"), "{e}");
    assert!(parse_list_page("<html><body>nothing</body></html>", "x").is_err());
}

#[test]
fn avm_from_fixture_jpegs() {
    let good = fixture_bytes("hubble/images/screen/heic9902a.jpg");
    let tags = AvmTags::from_image_bytes(&good, "heic9902a").unwrap();
    let g = tags.geometry("heic9902a").unwrap();
    assert_eq!(g.reference_value, Some([83.82, -5.39]));
    assert_eq!(g.reference_pixel, Some([400.5, 900.5]));
    assert_eq!(g.reference_dimension, Some([1600.0, 1200.0]));
    assert_eq!(g.scale, Some([-1e-4, 1e-4]));
    assert_eq!(g.rotation_deg, Some(30.0));
    assert_eq!(g.quality, Some(SpatialQuality::Full));
    assert_eq!(g.projection.as_deref(), Some("TAN"));
    assert_eq!(tags.credit().as_deref(), Some("ESA/Hubble & NASA, Fixture Team (heic9902a)"));
    assert_eq!(tags.title().as_deref(), Some("Rotated nebula"));
    assert_eq!(tags.id().as_deref(), Some("heic9902a"));

    let none = fixture_bytes("hubble/images/screen/heic9905a.jpg");
    let e = AvmTags::from_image_bytes(&none, "heic9905a").unwrap_err();
    assert!(e.to_string().contains("no XMP packet"), "{e}");

    let garbage = fixture_bytes("hubble/images/screen/heic9906a.jpg");
    let tags = AvmTags::from_image_bytes(&garbage, "heic9906a").unwrap();
    let e = tags.geometry("heic9906a").unwrap_err();
    assert!(e.to_string().contains("Spatial.Scale") && e.to_string().contains("abc"), "{e}");

    let position = fixture_bytes("hubble/images/screen/heic9909a.jpg");
    let g = AvmTags::from_image_bytes(&position, "x").unwrap().geometry("x").unwrap();
    assert_eq!(g.quality, Some(SpatialQuality::Position));

    // Not XML at all inside the APP1 segment.
    let broken = embed_xmp_in_jpeg(&none, "<x:xmpmeta><rdf:RDF").unwrap();
    let e = AvmTags::from_image_bytes(&broken, "broken").unwrap_err();
    assert!(e.to_string().contains("not valid XML"), "{e}");
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
    out
}

#[test]
fn avm_from_png_itxt_and_raw_scan() {
    let g = SkyGeometry {
        reference_value: Some([10.0, -20.0]),
        reference_pixel: Some([5.5, 4.5]),
        reference_dimension: Some([10.0, 8.0]),
        scale: Some([-0.01, 0.01]),
        rotation_deg: Some(-7.5),
        ..SkyGeometry::default()
    };
    let xmp = write_xmp("test1", "PNG & friends", "Someone <here>", &g);
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(10, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let iend = png.len() - 12;
    for compressed in [false, true] {
        let mut data = b"XML:com.adobe.xmp\0".to_vec();
        data.push(u8::from(compressed));
        data.extend_from_slice(b"\0\0\0");
        if compressed {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(xmp.as_bytes()).unwrap();
            data.extend_from_slice(&z.finish().unwrap());
        } else {
            data.extend_from_slice(xmp.as_bytes());
        }
        let mut file = png[..iend].to_vec();
        file.extend_from_slice(&png_chunk(b"iTXt", &data));
        file.extend_from_slice(&png[iend..]);
        image::load_from_memory(&file).expect("still a valid PNG");
        let tags = AvmTags::from_image_bytes(&file, "png").unwrap();
        assert_eq!(tags.geometry("png").unwrap(), g, "compressed={compressed}");
        assert_eq!(tags.title().as_deref(), Some("PNG & friends"));
        assert_eq!(tags.credit().as_deref(), Some("Someone <here>"));
    }
    // Any other container: the xpacket scan finds it.
    let mut blob = b"II*\0 some tiff bytes ".to_vec();
    blob.extend_from_slice(xmp.as_bytes());
    blob.extend_from_slice(b" trailing");
    assert_eq!(extract_xmp(&blob).unwrap(), xmp);
}

fn large_record(id: &str) -> ImageRecord {
    let bytes = fixture_bytes(&format!("hubble/images/large/{id}.jpg"));
    let tags = AvmTags::from_image_bytes(&bytes, id).unwrap();
    let mut r = ImageRecord::new(Site::Hubble, id);
    r.geometry = Some(tags.geometry(id).unwrap());
    r.file = Some(DownloadedFile {
        format: ImageFormat::Large,
        path: format!("images/{id}.jpg"),
        url: String::new(),
        bytes: bytes.len() as u64,
        sha256: String::new(),
        width: 160,
        height: 120,
    });
    r
}

#[test]
fn wcs_centre_is_not_the_reference_position_and_north_follows_the_orientation() {
    let r = large_record("heic9902a");
    let w = r.wcs().unwrap();
    assert_eq!((w.width(), w.height()), (160, 120));
    // ReferencePixel (400.5, 900.5) of 1600×1200 (FITS, y up) is image point (40, 30) at 160×120.
    let (x, y) = w.sky_to_pixel(83.82, -5.39).unwrap();
    assert!((x - 40.0).abs() < 1e-6 && (y - 30.0).abs() < 1e-6, "{x} {y}");
    // The centre is ~0.05° (400 × 300 full-size pixels of 0.36") away from the displayed RA/Dec.
    let c = r.sky_center().unwrap();
    let d = angular_distance_deg([c.0, c.1], [83.82, -5.39]);
    assert!((d - 0.05).abs() < 0.001, "{d}");
    let (cx, cy) = w.sky_to_pixel(c.0, c.1).unwrap();
    assert!((cx - 80.0).abs() < 1e-6 && (cy - 60.0).abs() < 1e-6);
    // "North is 30° left of vertical" (rotation +30): a step north from the centre moves up and left.
    let rot = values::parse_orientation("North is 30.0° left of vertical").unwrap();
    assert_eq!(Some(rot), r.geometry.as_ref().unwrap().rotation_deg);
    let (nx, ny) = w.sky_to_pixel(c.0, c.1 + 0.01).unwrap();
    let angle = (-(nx - cx)).atan2(-(ny - cy)).to_degrees();
    assert!((angle - 30.0).abs() < 0.5, "north is {angle}° left of up");
    // Corners span the field of view: 0.16° × 0.12° diagonally ≈ 0.2°.
    let k = r.sky_corners().unwrap();
    let diag = angular_distance_deg([k[0].0, k[0].1], [k[2].0, k[2].1]);
    assert!((diag - 0.2).abs() < 0.002, "{diag}");
    // Round trip at every corner pixel.
    for (px, py) in [(0.5, 0.5), (159.5, 0.5), (159.5, 119.5), (0.5, 119.5)] {
        let (ra, dec) = w.pixel_to_sky(px, py).unwrap();
        let (bx, by) = w.sky_to_pixel(ra, dec).unwrap();
        assert!((bx - px).abs() < 1e-6 && (by - py).abs() < 1e-6);
    }
    // Missing pieces are reported, not guessed.
    let mut partial = r.clone();
    partial.geometry.as_mut().unwrap().scale = None;
    let e = partial.wcs().unwrap_err();
    assert!(e.to_string().contains("Spatial.Scale missing"), "{e}");
}

#[test]
fn geometry_precedence_is_avm_then_feed_then_html() {
    let full = |dec: f64| SkyGeometry {
        reference_value: Some([10.0, dec]),
        reference_pixel: Some([1.0, 1.0]),
        scale: Some([-1e-4, 1e-4]),
        ..SkyGeometry::default()
    };
    let html = SkyGeometry {
        reference_value: Some([10.0, 3.0]),
        field_of_view_deg: Some([0.1, 0.1]),
        rotation_deg: Some(0.0),
        ..SkyGeometry::default()
    };
    let (g, s) = choose_geometry("x", Some(&full(1.0)), Some(&full(2.0)), Some(&html)).unwrap();
    assert_eq!((s, g.reference_value.unwrap()[1]), (MetadataSource::Avm, 1.0));
    assert_eq!(g.field_of_view_deg, Some([0.1, 0.1]), "descriptive fields are filled in");
    let (g, s) = choose_geometry("x", None, Some(&full(2.0)), Some(&html)).unwrap();
    assert_eq!((s, g.reference_value.unwrap()[1]), (MetadataSource::Feed, 2.0));
    // An incomplete AVM position loses to a complete feed WCS.
    let avm_pos = SkyGeometry { reference_value: Some([10.0, 5.0]), ..SkyGeometry::default() };
    let (_, s) = choose_geometry("x", Some(&avm_pos), Some(&full(2.0)), None).unwrap();
    assert_eq!(s, MetadataSource::Feed);
    let (g, s) = choose_geometry("x", None, None, Some(&html)).unwrap();
    assert_eq!((s, g.reference_value.unwrap()[1]), (MetadataSource::Html, 3.0));
    assert!(choose_geometry("x", None, None, None).is_none());
}

#[test]
fn record_json_contract_is_stable() {
    let r = large_record("heic9901a");
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    for key in [
        "schema",
        "site",
        "id",
        "title",
        "image_type",
        "categories",
        "subject_names",
        "release_date",
        "pixel_size",
        "credit",
        "rights",
        "licence",
        "licence_url",
        "reference_url",
        "facility",
        "instrument",
        "spectral",
        "resources",
        "object",
        "geometry",
        "geometry_source",
        "sources",
        "file",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["site"], "hubble");
    assert_eq!(v["geometry"]["reference_pixel"], serde_json::json!([800.5, 600.5]));
    assert_eq!(v["file"]["format"], "large");
    let back: ImageRecord = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
    // Older/minimal lines still load.
    let min: ImageRecord = serde_json::from_str(r#"{"site":"webb","id":"weic0001a"}"#).unwrap();
    assert_eq!(min.licence, "CC BY 4.0");
}

//! FITS headers and pixels that lie (issue #29, items 7 and 17): declared sizes whose products
//! overflow or run past the file, and pixel values a 32-bit float cannot hold. Each is refused
//! with one line naming the file, before any allocation of the declared size.

use std::path::Path;

use astro_image::fits::{SampleFormat, decode_fits, make_card, read_fits, read_fits_shape, write_data, write_header};

/// A FITS file: a primary header with `naxis` (and `extra` cards), then `data` as BITPIX samples.
fn fits(bitpix: i32, naxis: &[u64], extra: &[[u8; 80]], data: &[f64]) -> Vec<u8> {
    let mut cards = vec![
        make_card("SIMPLE", "T", None),
        make_card("BITPIX", &bitpix.to_string(), None),
        make_card("NAXIS", &naxis.len().to_string(), None),
    ];
    for (i, n) in naxis.iter().enumerate() {
        cards.push(make_card(&format!("NAXIS{}", i + 1), &n.to_string(), None));
    }
    cards.extend_from_slice(extra);
    let mut out = Vec::new();
    write_header(&mut out, &cards).unwrap();
    let format = SampleFormat { bitpix, bscale: 1.0, bzero: 0.0, blank: None };
    write_data(&mut out, format, data.iter().copied()).unwrap();
    out
}

fn refused(bytes: &[u8], name: &str, wanted: &str) -> String {
    let e = decode_fits(bytes, Path::new(name)).unwrap_err().to_string();
    assert!(e.starts_with(name) && e.contains(wanted) && !e.contains('\n'), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let e2 = read_fits(&path).unwrap_err().to_string();
    assert!(e2.contains(name) && e2.contains(wanted), "{e2}");
    // The header-only walk refuses every bad size too (a pixel value is not its business).
    if let Err(e3) = read_fits_shape(&path) {
        assert!(e3.to_string().contains(wanted), "{e3}");
    } else {
        assert!(wanted == "out of range" || wanted == "inf", "{name}: the header walk accepted it");
    }
    e
}

#[test]
fn declared_sizes_that_overflow_or_outrun_the_file_are_refused() {
    // 2^32 × 2^32 samples: the product does not fit in 64 bits.
    let e = refused(&fits(-32, &[1 << 32, 1 << 32], &[], &[]), "overflow.fits", "more than 2^64 bytes");
    assert!(e.contains("4294967296 × 4294967296"), "{e}");
    // 2^16 × 2^48: 2^64 samples.
    refused(&fits(8, &[1 << 16, 1 << 48], &[], &[]), "wide.fits", "more than 2^64 bytes");
    // 2^16 × 2^40 float samples fit in 64 bits but not in the 2,880-byte file.
    refused(&fits(-32, &[1 << 16, 1 << 40], &[], &[]), "huge.fits", "truncated FITS file");
    // A primary HDU of 999 axes of 2^20 each, then an image extension: the walk cannot skip it.
    let axes = vec![1u64 << 20; 40];
    refused(&fits(8, &axes, &[make_card("EXTEND", "T", None)], &[]), "axes.fits", "more than 2^64 bytes");
    // NAXIS itself beyond the standard, and a negative or non-numeric axis.
    refused(&fits(8, &[], &[make_card("NAXIS", "100000000", None)], &[]), "naxis.fits", "NAXIS");
    let mut neg = fits(8, &[4, 4], &[], &[0.0; 16]);
    let at = neg.windows(8).position(|w| w == b"NAXIS2  ").unwrap();
    neg[at + 10..at + 30].copy_from_slice(format!("{:>20}", -4).as_bytes());
    refused(&neg, "negative.fits", "NAXIS2 is not a non-negative integer");
}

#[test]
fn pixels_beyond_32_bit_floats_and_infinities_are_refused_not_turned_into_nan() {
    let e = refused(&fits(-64, &[2, 2], &[], &[1.0, 1e308, -1e308, 2.0]), "big.fits", "out of range");
    assert!(e.contains("2 pixel value(s)") && e.contains("1e308") && e.contains("3.4e38"), "{e}");
    let e = refused(&fits(-32, &[3, 1], &[], &[0.5, f64::INFINITY, 1.0]), "inf.fits", "inf");
    assert!(e.contains("x 1") && e.contains("NaN or BLANK"), "{e}");
    // BSCALE can push integer samples out of range too.
    let scaled = fits(16, &[2, 1], &[make_card("BSCALE", "1.0E+305", None)], &[1.0, 30000.0]);
    refused(&scaled, "scaled.fits", "out of range");
    // The largest finite f32 values and NaN still read, and round-trip exactly.
    let ok = fits(-32, &[3, 1], &[], &[f32::MAX as f64, -(f32::MAX as f64), f64::NAN]);
    let img = decode_fits(&ok, Path::new("ok.fits")).unwrap();
    let planes = img.to_planes();
    assert_eq!(&planes.data[..2], &[f32::MAX, -f32::MAX]);
    assert!(planes.data[2].is_nan());
}

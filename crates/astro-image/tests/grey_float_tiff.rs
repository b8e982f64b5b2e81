//! Issue #29 item 26: a grey 32-bit float TIFF was refused as "color type Unknown(32)"; the error
//! now names the file, says what it holds and what to save it as.

use astro_image::image_io::{ColorMode, ImageLimits, load_image};

/// An uncompressed grey TIFF of `w × h` samples, 32 bits each, `format` 3 (float) or 1 (uint).
fn grey32_tiff(w: u32, h: u32, format: u16) -> Vec<u8> {
    let entries: [(u16, u16, u32, u32); 10] = [
        (256, 4, 1, w),         // ImageWidth
        (257, 4, 1, h),         // ImageLength
        (258, 3, 1, 32),        // BitsPerSample
        (259, 3, 1, 1),         // no compression
        (262, 3, 1, 1),         // BlackIsZero
        (273, 4, 1, 0),         // StripOffsets (patched)
        (277, 3, 1, 1),         // SamplesPerPixel
        (278, 4, 1, h),         // RowsPerStrip
        (279, 4, 1, w * h * 4), // StripByteCounts
        (339, 3, 1, format as u32),
    ];
    let strip_at = 8 + 2 + entries.len() as u32 * 12 + 4;
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&8u32.to_le_bytes());
    b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in entries {
        let value = if tag == 273 { strip_at } else { value };
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&typ.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        if typ == 3 {
            b.extend_from_slice(&(value as u16).to_le_bytes());
            b.extend_from_slice(&[0, 0]);
        } else {
            b.extend_from_slice(&value.to_le_bytes());
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    for i in 0..w * h {
        b.extend_from_slice(&(i as f32 / (w * h) as f32).to_le_bytes());
    }
    b
}

#[test]
fn a_grey_float32_tiff_is_refused_with_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    // (A grey 32-bit unsigned TIFF already says "Unhandled TIFF sample format 1 for 32 bits".)
    let path = dir.path().join("grey-float.tif");
    std::fs::write(&path, grey32_tiff(16, 8, 3)).unwrap();
    let err = load_image(&path, ColorMode::Keep, ImageLimits::default()).unwrap_err().to_string();
    assert!(err.contains("grey-float.tif"), "{err}");
    assert!(err.contains("32-bit grey") && err.contains("FITS"), "{err}");
    assert!(!err.contains("Unknown(32)") && !err.contains('\n'), "{err}");
}

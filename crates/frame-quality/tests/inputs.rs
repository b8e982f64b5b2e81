//! Inputs people have: uncompressed AVI written byte by byte (every native format, idx1 and
//! scanning, OpenDML `RIFF AVIX` continuation), AVIs and MP4/MKV written by the real ffmpeg,
//! folders of FITS frames, and damaged files (truncated, garbage, wrong chunk sizes).
//!
//! The ffmpeg tests need `ffmpeg` and `ffprobe` on PATH (`scripts/test` installs them); without
//! them they fail with a message saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use frame_quality::io::{
    AviOpen, AviPixels, AviReader, DecodeScratch, DecodedVideo, FrameSource, ImageFolder, open_source,
};

// ---------- RIFF/AVI writer (the test's own, from the OpenDML/AVI 1.0 layouts) ----------

fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 9);
    v.extend_from_slice(id);
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    if data.len() % 2 == 1 {
        v.push(0);
    }
    v
}

fn list(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut d = kind.to_vec();
    d.extend_from_slice(body);
    chunk(b"LIST", &d)
}

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// What goes into `strf` and how the file is laid out.
#[derive(Clone)]
struct Spec {
    /// biCompression (0 = BI_RGB, else a FourCC).
    compression: [u8; 4],
    bits: u16,
    width: i32,
    height: i32,
    palette: Option<Vec<[u8; 4]>>,
    /// The video chunks' id (`00db`, `00dc`).
    chunk_id: [u8; 4],
    /// Write an idx1 (offsets relative to 'movi', or absolute).
    idx1: Option<bool>,
    /// Frames that go into a `RIFF AVIX` continuation instead of the first RIFF.
    avix_from: Option<usize>,
    /// idx1 also lists the AVIX frames (offsets past the first RIFF), as some writers do.
    idx1_lists_avix: bool,
    /// An audio stream before the video stream (video becomes stream 01).
    audio_first: bool,
}

impl Spec {
    fn new(compression: &[u8; 4], bits: u16, width: i32, height: i32) -> Spec {
        Spec {
            compression: *compression,
            bits,
            width,
            height,
            palette: None,
            chunk_id: *b"00db",
            idx1: Some(false),
            avix_from: None,
            idx1_lists_avix: false,
            audio_first: false,
        }
    }
}

const BI_RGB: &[u8; 4] = &[0, 0, 0, 0];

fn avi_bytes(spec: &Spec, frames: &[Vec<u8>]) -> Vec<u8> {
    let (w, h) = (spec.width, spec.height.unsigned_abs());
    let split = spec.avix_from.unwrap_or(frames.len());
    // avih: µs/frame, max bytes/s, padding, flags (HASINDEX), total frames, initial, streams,
    // suggested buffer, width, height, reserved ×4.
    let streams = if spec.audio_first { 2 } else { 1 };
    let avih = u32s(&[40_000, 0, 0, 0x10, split as u32, 0, streams, 0, w as u32, h, 0, 0, 0, 0]);
    let mut strh = b"vids".to_vec();
    strh.extend_from_slice(&spec.compression);
    strh.extend(u32s(&[0, 0, 0, 1, 25, 0, frames.len() as u32, 0, 0xFFFF_FFFF, 0]));
    strh.extend([0u8; 8]);
    let mut strf = u32s(&[40, w as u32, spec.height as u32]);
    strf.extend(1u16.to_le_bytes());
    strf.extend(spec.bits.to_le_bytes());
    strf.extend(spec.compression);
    let clr_used = spec.palette.as_ref().map_or(0, |p| p.len() as u32);
    strf.extend(u32s(&[0, 0, 0, clr_used, 0]));
    if let Some(p) = &spec.palette {
        for e in p {
            strf.extend_from_slice(e);
        }
    }
    let mut hdrl_body = chunk(b"avih", &avih);
    if spec.audio_first {
        let mut ash = b"auds".to_vec();
        ash.extend([0u8; 52]);
        let mut a = chunk(b"strh", &ash);
        a.extend(chunk(b"strf", &[1, 0, 1, 0, 0x44, 0xAC, 0, 0, 0x88, 0x58, 1, 0, 2, 0, 16, 0]));
        hdrl_body.extend(list(b"strl", &a));
    }
    let mut strl = chunk(b"strh", &strh);
    strl.extend(chunk(b"strf", &strf));
    hdrl_body.extend(list(b"strl", &strl));
    if spec.avix_from.is_some() {
        hdrl_body.extend(list(b"odml", &chunk(b"dmlh", &u32s(&[frames.len() as u32]))));
    }
    let hdrl = list(b"hdrl", &hdrl_body);
    // movi of the first RIFF, remembering each frame chunk's offset from the 'movi' FourCC.
    let mut movi_body = Vec::new();
    let mut index = Vec::new();
    for (i, f) in frames[..split].iter().enumerate() {
        if i == 1 && spec.audio_first {
            movi_body.extend(chunk(b"00wb", &[0u8; 10]));
        }
        index.push((4 + movi_body.len() as u32, f.len() as u32));
        movi_body.extend(chunk(&spec.chunk_id, f));
    }
    let mut body = b"AVI ".to_vec();
    body.extend(hdrl);
    body.extend(chunk(b"JUNK", &[0u8; 30]));
    let movi_fourcc_at = 8 + body.len() as u32 + 8; // RIFF header + body so far + LIST header
    body.extend(list(b"movi", &movi_body));
    if spec.idx1_lists_avix {
        // AVIX frame chunks start after: this RIFF (with idx1), 'RIFF' size 'AVIX', 'LIST' size 'movi',
        // the ix00 chunk and 'LIST' size 'rec '.
        let n_idx = frames.len() as u32;
        let avix_at = 8 + body.len() as u32 + 8 + 16 * n_idx;
        let mut at = avix_at + 12 + 12 + 32 + 12;
        for f in &frames[split..] {
            index.push((at - movi_fourcc_at, f.len() as u32));
            at += 8 + f.len() as u32 + (f.len() as u32 & 1);
        }
    }
    if let Some(absolute) = spec.idx1 {
        let mut idx = Vec::new();
        for (off, size) in &index {
            idx.extend_from_slice(&spec.chunk_id);
            idx.extend(u32s(&[0x10, if absolute { off + movi_fourcc_at } else { *off }, *size]));
        }
        body.extend(chunk(b"idx1", &idx));
    }
    let mut file = chunk(b"RIFF", &body);
    if split < frames.len() {
        let mut movi = chunk(b"ix00", &[0u8; 24]); // a standard index chunk, skipped by the scan
        let mut rec = Vec::new();
        for f in &frames[split..] {
            rec.extend(chunk(&spec.chunk_id, f));
        }
        movi.extend(list(b"rec ", &rec));
        let mut avix = b"AVIX".to_vec();
        avix.extend(list(b"movi", &movi));
        file.extend(chunk(b"RIFF", &avix));
    }
    file
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn open_raw(path: &Path) -> AviReader {
    match AviReader::open_any(path).unwrap() {
        AviOpen::Raw(r) => r,
        AviOpen::NeedsDecoder { codec } => panic!("{}: wants a decoder for {codec}", path.display()),
    }
}

fn err_of(path: &Path) -> String {
    let e = open_source(path).err().unwrap_or_else(|| panic!("{} opened", path.display())).to_string();
    assert!(e.contains(&path.display().to_string()), "error does not name the file: {e}");
    assert_eq!(e.lines().count(), 1, "not one line: {e}");
    e
}

fn mono_frame(w: usize, h: usize, f: usize) -> Vec<u8> {
    (0..w * h).map(|i| ((i * 37 + f * 11) % 256) as u8).collect()
}

// ---------- native AVI formats ----------

#[test]
fn y800_grey_and_y8_mono_frames_decode_to_the_bytes_written_with_and_without_idx1() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (6, 4);
    let frames: Vec<Vec<u8>> = (0..5).map(|f| mono_frame(w, h, f)).collect();
    for (cc, idx1, id) in [(b"Y800", Some(false), b"00db"), (b"GREY", None, b"00dc"), (b"Y8  ", Some(true), b"00db")] {
        let mut spec = Spec::new(cc, 8, w as i32, h as i32);
        spec.idx1 = idx1;
        spec.chunk_id = *id;
        let p = write(dir.path(), "m.avi", &avi_bytes(&spec, &frames));
        let r = open_raw(&p);
        assert_eq!((r.len(), r.format().width, r.format().height), (5, w, h), "{cc:?}");
        assert_eq!(r.format().pixels, AviPixels::Mono8);
        let src = open_source(&p).unwrap();
        assert_eq!((src.len(), src.dims(), src.channels()), (5, (w, h), 1));
        for (f, bytes) in frames.iter().enumerate() {
            let planes = src.read_planes(f).unwrap();
            let want: Vec<f32> = bytes.iter().map(|&b| b as f32 / 255.0).collect();
            let close = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
            assert!(close(&planes.data, &want), "{cc:?} frame {f}: {:?}", planes.data);
            let mut luma = Vec::new();
            src.read_luma_into(f, &mut luma, &mut DecodeScratch::default()).unwrap();
            assert!(close(&luma, &want), "{cc:?} frame {f}: {luma:?}");
            let mut binned = Vec::new();
            let dims = src.read_luma_binned2_into(f, &mut binned, &mut DecodeScratch::default()).unwrap();
            assert_eq!(dims, (3, 2));
            let b = |x: usize, y: usize| bytes[y * w + x] as f32;
            let want00 = (b(0, 0) + b(1, 0) + b(0, 1) + b(1, 1)) / 4.0 / 255.0;
            assert!((binned[0] - want00).abs() < 1e-6);
        }
    }
}

#[test]
fn y16_little_endian_frames_keep_all_sixteen_bits() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (3, 2);
    let values: Vec<Vec<u16>> = (0..3).map(|f| (0..6).map(|i| (i * 10_000 + f * 7 + 1) as u16).collect()).collect();
    let frames: Vec<Vec<u8>> = values.iter().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let p = write(dir.path(), "y16.avi", &avi_bytes(&Spec::new(b"Y16 ", 16, w, h), &frames));
    let src = open_source(&p).unwrap();
    assert_eq!(src.len(), 3);
    for (f, v) in values.iter().enumerate() {
        let planes = src.read_planes(f).unwrap();
        assert_eq!(planes.bit_depth, 16);
        for (got, &x) in planes.data.iter().zip(v) {
            assert_eq!(*got, x as f32 / 65535.0);
        }
    }
}

/// RGB pixels of a test picture (top row first).
fn rgb_picture(w: usize, h: usize, f: usize) -> Vec<[u8; 3]> {
    (0..w * h).map(|i| [(i * 20 + f) as u8, (200 - i * 7) as u8, (i * 3 + 100) as u8]).collect()
}

/// BI_RGB rows: BGR (or BGRA) bytes, padded to 4 bytes, bottom row first when `bottom_up`.
fn bgr_rows(px: &[[u8; 3]], w: usize, h: usize, bpp: usize, bottom_up: bool) -> Vec<u8> {
    let stride = (w * bpp).div_ceil(4) * 4;
    let mut out = vec![0xEEu8; stride * h];
    for y in 0..h {
        let stored = if bottom_up { h - 1 - y } else { y };
        for x in 0..w {
            let [r, g, b] = px[y * w + x];
            let o = stored * stride + x * bpp;
            out[o..o + 3].copy_from_slice(&[b, g, r]);
            if bpp == 4 {
                out[o + 3] = 0;
            }
        }
    }
    out
}

#[test]
fn bi_rgb_24_and_32_bit_bottom_up_bgr_with_padded_rows_decode_to_the_picture_written() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (5usize, 3usize); // 15-byte rows padded to 16
    for (cc, bpp, height_sign) in [(BI_RGB, 3, 1i32), (BI_RGB, 3, -1), (b"RGB ", 3, 1), (BI_RGB, 4, 1)] {
        let pics: Vec<Vec<[u8; 3]>> = (0..3).map(|f| rgb_picture(w, h, f)).collect();
        let bottom_up = height_sign > 0;
        let frames: Vec<Vec<u8>> = pics.iter().map(|p| bgr_rows(p, w, h, bpp, bottom_up)).collect();
        let spec = Spec::new(cc, 8 * bpp as u16, w as i32, height_sign * h as i32);
        let p = write(dir.path(), "rgb.avi", &avi_bytes(&spec, &frames));
        let src = open_source(&p).unwrap();
        assert_eq!((src.len(), src.dims(), src.channels()), (3, (w, h), 3), "{cc:?} {bpp} {height_sign}");
        for (f, pic) in pics.iter().enumerate() {
            let planes = src.read_planes(f).unwrap();
            for (i, px) in pic.iter().enumerate() {
                for (c, &v) in px.iter().enumerate() {
                    assert_eq!(planes.data[c * w * h + i], v as f32 / 255.0, "{cc:?} f{f} px{i} c{c}");
                }
            }
            let mut luma = Vec::new();
            src.read_luma_into(f, &mut luma, &mut DecodeScratch::default()).unwrap();
            let [r, g, b] = pic[0];
            let want = (0.299 * r as f32 + 0.587 * g as f32 + 0.114 * b as f32) / 255.0;
            assert!((luma[0] - want).abs() < 1e-5, "top-left luma {} vs {want}", luma[0]);
        }
    }
}

#[test]
fn eight_bit_bi_rgb_with_a_grey_palette_is_mono_and_a_colour_palette_is_colour() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (6usize, 2usize); // 6-byte rows padded to 8, bottom-up
    let idx: Vec<u8> = (0..(w * h) as u8).map(|i| i * 20).collect();
    let stored: Vec<u8> = [&idx[w..], &[0, 0], &idx[..w], &[0, 0]].concat();
    let mut spec = Spec::new(BI_RGB, 8, w as i32, h as i32);
    spec.palette = Some((0..=255u8).map(|i| [i, i, i, 0]).collect());
    let p = write(dir.path(), "grey8.avi", &avi_bytes(&spec, &[stored.clone(), stored.clone()]));
    let src = open_source(&p).unwrap();
    assert_eq!(src.channels(), 1);
    let planes = src.read_planes(1).unwrap();
    let want: Vec<f32> = idx.iter().map(|&i| i as f32 / 255.0).collect();
    for (a, b) in planes.data.iter().zip(&want) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // A colour palette (entry i = R i, G 255 − i, B 7) gives RGB frames.
    spec.palette = Some((0..=255u8).map(|i| [7, 255 - i, i, 0]).collect());
    let p = write(dir.path(), "pal8.avi", &avi_bytes(&spec, &[stored]));
    let src = open_source(&p).unwrap();
    assert_eq!(src.channels(), 3);
    let planes = src.read_planes(0).unwrap();
    let n = w * h;
    for (k, &i) in idx.iter().enumerate() {
        assert_eq!(planes.data[k], i as f32 / 255.0);
        assert_eq!(planes.data[n + k], (255 - i) as f32 / 255.0);
        assert_eq!(planes.data[2 * n + k], 7.0 / 255.0);
    }
}

#[test]
fn opendml_avix_continuation_frames_follow_the_first_riff_and_other_streams_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (4, 4);
    let frames: Vec<Vec<u8>> = (0..7).map(|f| mono_frame(4, 4, f)).collect();
    let mut spec = Spec::new(b"Y800", 8, w, h);
    spec.avix_from = Some(3);
    spec.idx1 = Some(false);
    spec.audio_first = true;
    spec.chunk_id = *b"01db";
    let p = write(dir.path(), "odml.avi", &avi_bytes(&spec, &frames));
    let r = open_raw(&p);
    assert_eq!(r.len(), 7, "3 frames in RIFF AVI + 4 in RIFF AVIX");
    assert_eq!(r.format().declared_frames, 7, "dmlh total");
    for (f, bytes) in frames.iter().enumerate() {
        assert_eq!(r.raw_frame(f).unwrap(), &bytes[..], "frame {f}");
    }
    // An idx1 that also lists the AVIX frames: each frame still counted once.
    spec.idx1_lists_avix = true;
    let p = write(dir.path(), "odml3.avi", &avi_bytes(&spec, &frames));
    let r = open_raw(&p);
    assert_eq!(r.len(), 7);
    for (f, bytes) in frames.iter().enumerate() {
        assert_eq!(r.raw_frame(f).unwrap(), &bytes[..], "frame {f}");
    }
    spec.idx1_lists_avix = false;
    // Without idx1 the same frames are found by scanning.
    spec.idx1 = None;
    let p = write(dir.path(), "odml2.avi", &avi_bytes(&spec, &frames));
    let r = open_raw(&p);
    assert_eq!(r.len(), 7);
    assert_eq!(r.raw_frame(6).unwrap(), &frames[6][..]);
}

#[test]
fn dropped_zero_length_frames_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut frames: Vec<Vec<u8>> = (0..4).map(|f| mono_frame(4, 2, f)).collect();
    frames.insert(2, Vec::new());
    let p = write(dir.path(), "drop.avi", &avi_bytes(&Spec::new(b"Y800", 8, 4, 2), &frames));
    let r = open_raw(&p);
    assert_eq!((r.len(), r.dropped_frames()), (4, 1));
    assert_eq!(r.raw_frame(2).unwrap(), &frames[3][..]);
}

// ---------- damaged AVIs ----------

#[test]
fn truncated_avi_is_a_one_line_error_naming_the_file_and_the_cut_frame() {
    let dir = tempfile::tempdir().unwrap();
    let frames: Vec<Vec<u8>> = (0..4).map(|f| mono_frame(8, 8, f)).collect();
    let mut spec = Spec::new(b"Y800", 8, 8, 8);
    spec.idx1 = None; // a capture killed before the index was written
    let bytes = avi_bytes(&spec, &frames);
    let cut = bytes.len() - 64 - 8 - 20; // inside frame 2
    let p = write(dir.path(), "cut.avi", &bytes[..cut]);
    let e = err_of(&p);
    assert!(e.contains("truncated") && e.contains("frame 2") && e.contains("cut short"), "{e}");
    // Cut inside the header list.
    let p = write(dir.path(), "head.avi", &bytes[..60]);
    let e = err_of(&p);
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn a_frame_chunk_of_another_size_is_an_error_naming_the_file_and_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut frames: Vec<Vec<u8>> = (0..3).map(|f| mono_frame(8, 4, f)).collect();
    frames[1].truncate(20);
    let p = write(dir.path(), "short.avi", &avi_bytes(&Spec::new(b"Y800", 8, 8, 4), &frames));
    let e = err_of(&p);
    assert!(e.contains("frame 1") && e.contains("holds 20 bytes") && e.contains("needs 32"), "{e}");
    // A 24-bit frame must have padded rows: 5×3 BGR needs 48 bytes, not 45.
    let frames = vec![vec![0u8; 45]];
    let p = write(dir.path(), "bgr.avi", &avi_bytes(&Spec::new(BI_RGB, 24, 5, 3), &frames));
    let e = err_of(&p);
    assert!(e.contains("frame 0") && e.contains("45") && e.contains("48"), "{e}");
}

#[test]
fn garbage_and_headers_that_lie_are_refused_in_one_line_and_no_cut_or_flip_panics() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "junk.avi", b"this is not a video at all, just some text");
    assert!(err_of(&p).contains("not a RIFF AVI"));
    let p = write(dir.path(), "empty.avi", b"");
    assert!(err_of(&p).contains("not a RIFF AVI"));
    // A zero, negative or absurd frame size, and a bit count that contradicts the FourCC.
    for (cc, bits, w, h, needle) in [
        (b"Y800", 8, 0, 4, "frame size"),
        (b"Y800", 8, -4, 4, "frame size"),
        (b"Y800", 8, 100_000, 4, "frame size"),
        (b"Y800", 16, 4, 4, "biBitCount"),
    ] {
        let p = write(dir.path(), "lie.avi", &avi_bytes(&Spec::new(cc, bits, w, h), &[vec![0u8; 16]]));
        let e = err_of(&p);
        assert!(e.contains(needle), "{w}x{h}@{bits}: {e}");
    }
    // Every prefix and a byte flipped at every offset: Ok or a one-line error, never a panic.
    let frames: Vec<Vec<u8>> = (0..3).map(|f| mono_frame(4, 4, f)).collect();
    let mut spec = Spec::new(b"Y800", 8, 4, 4);
    spec.avix_from = Some(2);
    let good = avi_bytes(&spec, &frames);
    let p = dir.path().join("fuzz.avi");
    for cut in 0..good.len() {
        std::fs::write(&p, &good[..cut]).unwrap();
        if let Err(e) = AviReader::open_any(&p) {
            assert_eq!(e.to_string().lines().count(), 1);
        }
    }
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0xA5;
        std::fs::write(&p, &bad).unwrap();
        if let Ok(AviOpen::Raw(r)) = AviReader::open_any(&p) {
            for f in 0..r.len() {
                r.read_planes(f).unwrap();
            }
        }
    }
}

// ---------- through the real ffmpeg ----------

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("these tests need ffmpeg on PATH (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// ffmpeg's own decode of a video to raw frames.
fn ffmpeg_raw(input: &Path, pix_fmt: &str) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(input)
        .args(["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"])
        .output()
        .unwrap_or_else(|e| panic!("these tests need ffmpeg on PATH (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn uncompressed_avis_written_by_ffmpeg_read_natively_match_ffmpegs_own_decode() {
    let dir = tempfile::tempdir().unwrap();
    // Odd width: BI_RGB rows get padding. gray → Y800; bgr24 → BI_RGB 24 bottom-up; pal8 → palette.
    for (pix, ours, channels) in [("gray", "gray", 1), ("bgr24", "rgb24", 3), ("pal8", "rgb24", 3)] {
        let p = dir.path().join(format!("{pix}.avi"));
        let ps = p.to_str().unwrap();
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=33x20:rate=10:duration=0.5",
            "-c:v",
            "rawvideo",
            "-pix_fmt",
            pix,
            ps,
        ]);
        let r = open_raw(&p);
        assert_eq!((r.len(), r.format().width, r.format().height), (5, 33, 20), "{pix}");
        let want = ffmpeg_raw(&p, ours);
        let frame = 33 * 20 * channels;
        for f in 0..5 {
            let planes = r.read_planes(f).unwrap();
            let n = 33 * 20;
            let expected = &want[f * frame..(f + 1) * frame];
            let pal_grey = pix == "pal8" && planes.channels == 1;
            for i in 0..n {
                for c in 0..planes.channels {
                    let got = (planes.data[c * n + i] * 255.0).round() as u8;
                    let e = if channels == 1 || pal_grey { expected[i * channels] } else { expected[i * 3 + c] };
                    assert_eq!(got, e, "{pix} frame {f} pixel {i} channel {c}");
                }
            }
        }
    }
}

#[test]
fn mjpeg_avi_mp4_and_mkv_go_through_ffmpeg_with_every_frame_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // Eight grey PNG frames, frame k at level 20 + 25k, with a bright square moving right.
    for k in 0..8usize {
        let mut p = astro_image::Planes::zeros(1, 48, 64);
        for (i, v) in p.data.iter_mut().enumerate() {
            let (x, y) = (i % 64, i / 64);
            let sq = (10 + 4 * k..18 + 4 * k).contains(&x) && (16..32).contains(&y);
            *v = if sq { 0.9 } else { (20.0 + 25.0 * k as f32) / 255.0 };
        }
        astro_image::image_io::save_image(&p, &dir.path().join(format!("f{k}.png")), 8).unwrap();
    }
    let pattern = dir.path().join("f%d.png");
    let pat = pattern.to_str().unwrap();
    let mp4 = dir.path().join("v.mp4");
    ffmpeg(&[
        "-framerate",
        "10",
        "-i",
        pat,
        "-c:v",
        "libx264",
        "-crf",
        "10",
        "-pix_fmt",
        "yuv420p",
        mp4.to_str().unwrap(),
    ]);
    let mkv = dir.path().join("v16.mkv");
    ffmpeg(&["-framerate", "10", "-i", pat, "-c:v", "ffv1", "-pix_fmt", "gray16le", mkv.to_str().unwrap()]);
    let avi = dir.path().join("mjpeg.avi");
    ffmpeg(&["-framerate", "10", "-i", pat, "-c:v", "mjpeg", "-q:v", "2", avi.to_str().unwrap()]);
    assert!(matches!(AviReader::open_any(&avi).unwrap(), AviOpen::NeedsDecoder { .. }));
    for (path, mono, tol) in [(&mp4, false, 3.0), (&mkv, true, 0.01), (&avi, false, 4.0)] {
        let src = open_source(path).unwrap();
        assert_eq!((src.len(), src.dims()), (8, (64, 48)), "{}", path.display());
        assert_eq!(src.channels() == 1, mono, "{}", path.display());
        assert!(src.name().ends_with(path.file_name().unwrap().to_str().unwrap()));
        for k in 0..8 {
            let mut luma = Vec::new();
            src.read_luma_into(k, &mut luma, &mut DecodeScratch::default()).unwrap();
            let bg = luma[40 * 64 + 60] * 255.0;
            let want = 20.0 + 25.0 * k as f32;
            assert!((bg - want).abs() <= tol, "{} frame {k}: background {bg} vs {want}", path.display());
            let sq = luma[24 * 64 + 14 + 4 * k] * 255.0;
            assert!((sq - 0.9 * 255.0).abs() <= 4.0 * tol.max(1.0), "{} frame {k}: square {sq}", path.display());
        }
    }
    // The progress callback sees every frame; the temporary SER's name is gone as soon as it is
    // mapped (issue #29 item 15: a kill while ranking leaves nothing), and its frames still read.
    let mut seen = Vec::new();
    let v = DecodedVideo::open_with_progress(&mkv, &mut |done, total| seen.push((done, total))).unwrap();
    assert_eq!(seen.last(), Some(&(8, 8)));
    assert_eq!(v.ser().header().bit_depth, 16);
    let tmp = v.ser().path().to_path_buf();
    assert!(!tmp.exists() && !tmp.parent().unwrap().exists(), "temporary decode left behind");
    let mut luma = Vec::new();
    v.read_luma_into(7, &mut luma, &mut DecodeScratch::default()).unwrap();
    assert_eq!(luma.len(), v.dims().0 * v.dims().1);
}

#[test]
fn a_damaged_mp4_is_a_one_line_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("whole.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=32x24:rate=10:duration=1", mp4.to_str().unwrap()]);
    let bytes = std::fs::read(&mp4).unwrap();
    let cut = write(dir.path(), "cut.mp4", &bytes[..bytes.len() / 2]);
    err_of(&cut);
    let junk = write(dir.path(), "junk.mkv", b"not a matroska file");
    err_of(&junk);
}

// ---------- FITS folders ----------

/// A FITS file from header cards and big-endian data (padded to 2880-byte blocks).
fn fits_file(path: &Path, cards: &[(&str, &str)], data: &[u8]) {
    let mut h = Vec::new();
    for (k, v) in cards {
        let card = format!("{k:<8}= {v:>20}");
        h.extend(format!("{card:<80}").bytes());
    }
    h.extend(format!("{:<80}", "END").bytes());
    h.resize(h.len().div_ceil(2880) * 2880, b' ');
    h.extend_from_slice(data);
    h.resize(h.len().div_ceil(2880) * 2880, 0);
    std::fs::write(path, h).unwrap();
}

fn i16_frame(path: &Path, w: usize, h: usize, values: &[u16]) {
    let data: Vec<u8> = values.iter().flat_map(|&v| ((v as i32 - 32768) as i16).to_be_bytes()).collect();
    let (ws, hs) = (w.to_string(), h.to_string());
    let cards = [
        ("SIMPLE", "T"),
        ("BITPIX", "16"),
        ("NAXIS", "2"),
        ("NAXIS1", ws.as_str()),
        ("NAXIS2", hs.as_str()),
        ("BZERO", "32768"),
        ("BSCALE", "1"),
    ];
    fits_file(path, &cards, &data);
}

#[test]
fn fits_folder_of_unsigned_16_bit_frames_reads_in_natural_order_bottom_row_first_in_file() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (4usize, 3usize);
    // Frame k: value 1000·k + 100·file_row + x, file row 0 = bottom of the picture; frame 10 holds 65535.
    for k in [1usize, 2, 10] {
        let mut v: Vec<u16> = (0..w * h).map(|i| (1000 * k + 100 * (i / w) + i % w) as u16).collect();
        if k == 10 {
            v[0] = 65535;
        }
        i16_frame(&dir.path().join(format!("cap_{k}.fits")), w, h, &v);
    }
    let folder = ImageFolder::open(dir.path()).unwrap();
    let names: Vec<String> =
        folder.files().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["cap_1.fits", "cap_2.fits", "cap_10.fits"]);
    let src = open_source(dir.path()).unwrap();
    assert_eq!((src.len(), src.dims(), src.channels()), (3, (w, h), 1));
    // The first frame's max is 1203 → an 11-bit divisor (2047).
    let p = src.read_planes(0).unwrap();
    let d = 2047.0;
    assert_eq!(p.data[0], ((1000 + 200) as f64 / d) as f32, "top-left is the file's last row");
    assert_eq!(p.data[(h - 1) * w + 3], ((1000 + 3) as f64 / d) as f32, "bottom-right is the file's first row");
    let p10 = src.read_planes(2).unwrap();
    assert_eq!(p10.data[(h - 1) * w], 1.0, "65535 clamps to 1");
}

#[test]
fn float_fits_frames_keep_their_scale_nan_becomes_zero_and_cubes_are_colour() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (3usize, 2usize);
    let write_f32 = |name: &str, planes: usize, f: &dyn Fn(usize) -> f32| {
        let n = w * h * planes;
        let data: Vec<u8> = (0..n).flat_map(|i| f(i).to_be_bytes()).collect();
        let naxis = if planes == 1 { "2" } else { "3" };
        let mut cards = vec![("SIMPLE", "T"), ("BITPIX", "-32"), ("NAXIS", naxis), ("NAXIS1", "3"), ("NAXIS2", "2")];
        if planes == 3 {
            cards.push(("NAXIS3", "3"));
        }
        fits_file(&dir.path().join(name), &cards, &data);
    };
    write_f32("a1.fit", 1, &|i| if i == 4 { f32::NAN } else { i as f32 / 10.0 });
    write_f32("a2.fts", 1, &|i| i as f32 / 20.0);
    let src = open_source(dir.path()).unwrap();
    assert_eq!(src.len(), 2);
    let mut luma = Vec::new();
    src.read_luma_into(0, &mut luma, &mut DecodeScratch::default()).unwrap();
    // Data already in [0, 1]: divisor 1. File index i = file_row·3 + x; picture row 0 = file row 1.
    assert_eq!(luma, [0.3, 0.0, 0.5, 0.0, 0.1, 0.2], "NaN (file index 4) → 0");
    // A colour cube folder: planes R, G, B.
    let cube = tempfile::tempdir().unwrap();
    let dir2 = cube.path();
    let n = w * h;
    let data: Vec<u8> = (0..3 * n).flat_map(|i| ((i / n) as f32 * 1000.0 + 10.0).to_be_bytes()).collect();
    let cards = [("SIMPLE", "T"), ("BITPIX", "-32"), ("NAXIS", "3"), ("NAXIS1", "3"), ("NAXIS2", "2"), ("NAXIS3", "3")];
    fits_file(&dir2.join("rgb.fits"), &cards, &data);
    let src = open_source(dir2).unwrap();
    assert_eq!(src.channels(), 3);
    let p = src.read_planes(0).unwrap();
    // Max 2010 → divisor 2047.
    for (c, v) in [10.0f32, 1010.0, 2010.0].into_iter().enumerate() {
        assert!((p.data[c * n] - v / 2047.0).abs() < 1e-6, "channel {c}: {}", p.data[c * n]);
    }
}

#[test]
fn fits_folder_with_a_frame_of_another_size_or_a_damaged_frame_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    i16_frame(&dir.path().join("f1.fits"), 4, 3, &[100; 12]);
    i16_frame(&dir.path().join("f2.fits"), 4, 3, &[200; 12]);
    i16_frame(&dir.path().join("f3.fits"), 5, 3, &[300; 15]);
    let e = err_of(dir.path());
    assert!(e.contains("f3.fits") && e.contains("5x3") && e.contains("4x3"), "{e}");
    std::fs::remove_file(dir.path().join("f3.fits")).unwrap();
    // Header says 4×3 16-bit, but the data unit is cut short.
    let mut bytes = std::fs::read(dir.path().join("f2.fits")).unwrap();
    bytes.truncate(2880 + 10);
    std::fs::write(dir.path().join("f2.fits"), &bytes).unwrap();
    let e = ImageFolder::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("f2.fits") && e.contains("truncated"), "{e}");
    // Not FITS at all.
    std::fs::write(dir.path().join("f2.fits"), b"hello").unwrap();
    let e = ImageFolder::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("f2.fits") && e.contains("not a FITS file"), "{e}");
}

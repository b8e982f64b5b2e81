//! `rank-frames` and `stack-frames` on the inputs people have (AVI, FITS folders, MP4) and on
//! damaged ones: every refusal exits non-zero with one line naming the file, leaves an existing
//! output untouched, and prints no stack trace. The MP4 tests need ffmpeg (`scripts/test` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary under a 2 GB address-space limit, as in `hostile.rs`.
fn limited(bin: &str) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg("ulimit -v 2000000; exec \"$0\" \"$@\"").arg(bin);
    c
}

/// Run a binary; (success, stderr+stdout).
fn run_with(bin: &str, args: &[&str], path_env: Option<&Path>) -> (bool, String) {
    let mut cmd = limited(bin);
    cmd.args(args).env("RUST_BACKTRACE", "1");
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    let out = cmd.output().expect("binary runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

fn rank(args: &[&str]) -> (bool, String) {
    run_with(env!("CARGO_BIN_EXE_rank-frames"), args, None)
}

/// The one line that says `error`, checking there is no stack trace and no second error line.
fn error_line(text: &str) -> &str {
    assert!(!text.contains("stack backtrace") && !text.contains("panicked"), "panic or backtrace:\n{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(lines.len(), 1, "expected one error line:\n{text}");
    lines[0]
}

fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    if data.len() % 2 == 1 {
        v.push(0);
    }
    v
}

fn list(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    chunk(b"LIST", &[kind.as_slice(), body].concat())
}

/// A Y800 AVI (no idx1) of `frames` frames of `w×h`: a bright disc that blurs as `f` grows.
fn y800_avi(path: &Path, w: u32, h: u32, frames: usize) {
    let le = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let avih = le(&[40_000, 0, 0, 0, frames as u32, 0, 1, 0, w, h, 0, 0, 0, 0]);
    let strh = [b"vids".as_slice(), b"Y800", &le(&[0, 0, 0, 1, 25, 0, frames as u32, 0, 0, 0, 0, 0])].concat();
    let strf = [le(&[40, w, h]), vec![1, 0, 8, 0], b"Y800".to_vec(), le(&[0, 0, 0, 0, 0])].concat();
    let strl = list(b"strl", &[chunk(b"strh", &strh), chunk(b"strf", &strf)].concat());
    let hdrl = list(b"hdrl", &[chunk(b"avih", &avih), strl].concat());
    let mut movi = Vec::new();
    for f in 0..frames {
        let blur = 1.0 + f as f32 * 0.7;
        let px: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - w as f32 / 2.0, (i / w) as f32 - h as f32 / 2.0);
                let r = (x * x + y * y).sqrt();
                let edge = ((w as f32 / 4.0 - r) / blur).clamp(-1.0, 1.0);
                (30.0 + 100.0 * (edge + 1.0) + ((i as usize * 7 + f) % 5) as f32) as u8
            })
            .collect();
        movi.extend(chunk(b"00db", &px));
    }
    let body = [b"AVI ".as_slice(), &hdrl, &list(b"movi", &movi)].concat();
    std::fs::write(path, chunk(b"RIFF", &body)).unwrap();
}

/// A 16-bit FITS frame (BZERO 32768) of `w×h` holding `v` everywhere but a brighter centre.
fn fits_frame(path: &Path, w: usize, h: usize, v: u16) {
    let mut head = String::new();
    for (k, val) in [
        ("SIMPLE", "T".to_string()),
        ("BITPIX", "16".into()),
        ("NAXIS", "2".into()),
        ("NAXIS1", w.to_string()),
        ("NAXIS2", h.to_string()),
        ("BZERO", "32768".into()),
    ] {
        head.push_str(&format!("{:<80}", format!("{k:<8}= {val:>20}")));
    }
    head.push_str(&format!("{:<80}", "END"));
    let mut bytes = head.into_bytes();
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    for i in 0..w * h {
        let centre = (i % w).abs_diff(w / 2) < w / 4 && (i / w).abs_diff(h / 2) < h / 4;
        let raw = if centre { v.saturating_mul(3) } else { v };
        bytes.extend(((raw as i32 - 32768) as i16).to_be_bytes());
    }
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    std::fs::write(path, bytes).unwrap();
}

fn csv_rows(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().skip(1).filter(|l| !l.trim().is_empty()).count()
}

#[test]
fn rank_frames_ranks_an_avi_and_a_fits_folder_and_stack_frames_stacks_the_avi() {
    let dir = tempfile::tempdir().unwrap();
    let avi = dir.path().join("jupiter.avi");
    y800_avi(&avi, 64, 48, 12);
    let csv = dir.path().join("r.csv");
    let (ok, text) = rank(&[avi.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(csv_rows(&csv), 12);
    // The sharpest frame (0) ranks first.
    let first = std::fs::read_to_string(&csv).unwrap();
    let best = first.lines().skip(1).find(|l| l.trim_end().ends_with(",1")).unwrap().to_string();
    assert!(best.starts_with("0,"), "frame 0 is the sharpest: {best}\n{first}");
    let png = dir.path().join("stack.png");
    let best_ser = dir.path().join("best.ser");
    let (ok, text) = run_with(
        env!("CARGO_BIN_EXE_stack-frames"),
        &[
            avi.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--best",
            "4",
            "--export-best",
            best_ser.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "{text}");
    assert!(png.exists());
    // --export-best from an AVI writes the decoded best frames as SER (not the AVI's bytes as SER).
    let best = frame_quality::SerReader::open(&best_ser).unwrap();
    assert_eq!((best.len(), best.header().width, best.header().height), (4, 64, 48));

    let fits = dir.path().join("fits");
    std::fs::create_dir(&fits).unwrap();
    for k in 1..=5 {
        fits_frame(&fits.join(format!("frame_{k}.fits")), 32, 24, 1000 + 100 * k as u16);
    }
    let (ok, text) = rank(&[fits.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(csv_rows(&csv), 5);
}

#[test]
fn truncated_avi_and_bad_fits_are_refused_in_one_line_and_keep_the_old_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("old.csv");
    std::fs::write(&csv, "the previous ranking\n").unwrap();
    let check = |input: &Path, needles: &[&str]| {
        let (ok, text) = rank(&[input.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
        assert!(!ok, "{} accepted:\n{text}", input.display());
        let line = error_line(&text);
        for n in needles {
            assert!(line.contains(n), "{} → missing {n:?} in: {line}", input.display());
        }
        assert_eq!(std::fs::read_to_string(&csv).unwrap(), "the previous ranking\n", "old CSV touched");
    };
    // An AVI cut inside frame 5 of 8 (a capture killed before the index was written).
    let avi = dir.path().join("cut.avi");
    y800_avi(&avi, 32, 32, 8);
    let bytes = std::fs::read(&avi).unwrap();
    std::fs::write(&avi, &bytes[..bytes.len() - 3 * (1024 + 8) + 100]).unwrap();
    check(&avi, &["cut.avi", "truncated", "frame 5"]);
    // Garbage with an .avi name.
    let junk = dir.path().join("junk.avi");
    std::fs::write(&junk, [0x17u8; 300]).unwrap();
    check(&junk, &["junk.avi", "not a RIFF AVI"]);
    // A FITS folder with a text file named .fits, then with a frame of another size.
    let fits = dir.path().join("fits");
    std::fs::create_dir(&fits).unwrap();
    fits_frame(&fits.join("a1.fits"), 16, 16, 500);
    std::fs::write(fits.join("a2.fits"), "SIMPLE  = garbage that is not a header").unwrap();
    check(&fits, &["a2.fits"]);
    fits_frame(&fits.join("a2.fits"), 20, 16, 500);
    check(&fits, &["a2.fits", "20x16", "16x16"]);
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("these tests need ffmpeg on PATH (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn mp4_is_ranked_through_ffmpeg_and_missing_ffmpeg_is_one_line_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let mp4: PathBuf = dir.path().join("saturn.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=1",
        "-pix_fmt",
        "yuv420p",
        mp4.to_str().unwrap(),
    ]);
    let csv = dir.path().join("r.csv");
    let (ok, text) = rank(&[mp4.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert_eq!(csv_rows(&csv), 10);
    // No ffmpeg/ffprobe on PATH.
    let empty = tempfile::tempdir().unwrap();
    let csv2 = dir.path().join("r2.csv");
    let (ok, text) = run_with(
        env!("CARGO_BIN_EXE_rank-frames"),
        &[mp4.to_str().unwrap(), "--csv", csv2.to_str().unwrap()],
        Some(empty.path()),
    );
    assert!(!ok, "{text}");
    let line = error_line(&text);
    assert!(line.contains("saturn.mp4") && line.contains("apt-get install ffmpeg"), "{line}");
    assert_eq!(line.matches("not installed").count(), 1, "said twice: {line}");
    assert!(!csv2.exists());
}

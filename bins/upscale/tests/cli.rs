//! End-to-end tests of the `upscale` binary: videos through the real ffmpeg, folders, FITS,
//! 16-bit images and bad inputs (one-line errors naming the file, exit ≠ 0, outputs intact).
//!
//! Videos need `ffmpeg` and `ffprobe` on PATH (`.ci/run` installs them); without them these
//! tests fail with a message saying so, they are never skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use astro_image::Planes;
use astro_image::image_io::{image_dimensions, load_image, save_image};

fn upscale(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_upscale"));
    for a in args {
        c.arg(a);
    }
    c.output().expect("run upscale")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run ffmpeg (test fixtures), failing loudly when it is missing.
fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("these tests need ffmpeg on PATH (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `ffprobe` one stream's entries as `key=value` pairs (`-count_frames` for an exact count).
fn probe(path: &Path, stream: &str, entries: &str) -> Vec<(String, String)> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", stream, "-show_entries"])
        .arg(format!("stream={entries}"))
        .args(["-of", "default=nw=1"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("these tests need ffprobe on PATH (apt-get install ffmpeg): {e}"));
    assert!(out.status.success(), "ffprobe {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

fn get(v: &[(String, String)], k: &str) -> String {
    v.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// A 32×24, 12-frame, 10 fps test video with a sine audio track (or none).
fn test_video(dir: &Path, name: &str, audio: bool) -> PathBuf {
    let path = dir.join(name);
    let p = path.to_str().unwrap();
    let v = "testsrc=size=32x24:rate=10:duration=1.2";
    if audio {
        ffmpeg(&["-f", "lavfi", "-i", v, "-f", "lavfi", "-i", "sine=frequency=440:duration=1.2", "-shortest", p]);
    } else {
        ffmpeg(&["-f", "lavfi", "-i", v, p]);
    }
    path
}

/// Nothing but `keep` in `dir` (no temporary files left behind).
fn only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "unexpected files in {}", dir.display());
}

#[test]
fn video_keeps_frame_count_rate_and_audio() {
    let dir = tempfile::tempdir().unwrap();
    let input = test_video(dir.path(), "in.mp4", true);
    for (name, audio_codec) in [("out.mp4", "aac"), ("out.webm", "opus"), ("out.mkv", "aac")] {
        let out = dir.path().join(name);
        let o = upscale(&[&input, &"-o", &out]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let v = probe(&out, "v:0", "width,height,avg_frame_rate,nb_read_frames");
        assert_eq!(get(&v, "width"), "128", "{name}: {v:?}");
        assert_eq!(get(&v, "height"), "96", "{name}: {v:?}");
        assert_eq!(get(&v, "avg_frame_rate"), "10/1", "{name}: {v:?}");
        assert_eq!(get(&v, "nb_read_frames"), "12", "{name}: {v:?}");
        // The audio is copied where the container takes it, re-encoded where it refuses (AAC in WebM).
        let a = probe(&out, "a:0", "codec_name");
        assert_eq!(get(&a, "codec_name"), audio_codec, "{name}: {a:?}");
    }
    // Above 8 bits the frames travel as rgb48le and the output stays 10-bit.
    let deep = dir.path().join("deep.mkv");
    let v = "testsrc=size=32x24:rate=10:duration=0.5";
    ffmpeg(&["-f", "lavfi", "-i", v, "-c:v", "libx264", "-pix_fmt", "yuv420p10le", deep.to_str().unwrap()]);
    let out = dir.path().join("deep-x4.mkv");
    let o = upscale(&[&deep, &"-o", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = probe(&out, "v:0", "pix_fmt,nb_read_frames,width");
    assert_eq!((get(&v, "pix_fmt").as_str(), get(&v, "nb_read_frames").as_str()), ("yuv420p10le", "5"), "{v:?}");
    // A silent video stays silent (and the default output name keeps the container).
    let silent = test_video(dir.path(), "silent.mkv", false);
    let out = dir.path().join("silent-x4.mkv");
    let o = upscale(&[&silent]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(get(&probe(&out, "v:0", "nb_read_frames"), "nb_read_frames"), "12");
    assert!(probe(&out, "a", "codec_name").is_empty());
}

#[test]
fn bad_videos_fail_in_one_line_naming_the_file_and_keep_the_old_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = test_video(d, "good.mkv", true);
    let out = d.join("out.mp4");
    std::fs::write(&out, b"precious").unwrap();
    let check = |input: &Path, want: &str| {
        let o = upscale(&[&input, &"-o", &out]);
        let e = stderr(&o);
        assert!(!o.status.success(), "{}: succeeded", input.display());
        assert_eq!(e.trim().lines().count(), 1, "not one line: {e}");
        let name = input.file_name().unwrap().to_str().unwrap();
        assert!(e.contains(name) && e.contains(want), "{name}: expected '{want}' in: {e}");
        assert_eq!(std::fs::read(&out).unwrap(), b"precious", "{name}: old output destroyed");
    };
    // Audio only.
    let audio = d.join("audio.mp4");
    ffmpeg(&["-f", "lavfi", "-i", "sine=duration=1", audio.to_str().unwrap()]);
    check(&audio, "no video stream");
    // Truncated MP4 (index at the end) and truncated Matroska (ends mid-stream).
    let mp4 = test_video(d, "whole.mp4", true);
    let bytes = std::fs::read(&mp4).unwrap();
    let cut = d.join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    check(&cut, "moov atom not found");
    let long = d.join("long.mkv");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=32x24:rate=10:duration=3", "-g", "5", long.to_str().unwrap()]);
    let bytes = std::fs::read(&long).unwrap();
    let cut_mkv = d.join("cut.mkv");
    std::fs::write(&cut_mkv, &bytes[..bytes.len() * 6 / 10]).unwrap();
    check(&cut_mkv, "truncated");
    // A codec ffmpeg does not know (the AVI's FourCC overwritten).
    let avi = d.join("in.avi");
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=size=32x24:rate=10:duration=1", "-c:v", "mpeg4", avi.to_str().unwrap()]);
    let bytes = std::fs::read(&avi).unwrap();
    let fourcc = bytes.windows(4).position(|w| w == b"FMP4").expect("FMP4 tag");
    let mut patched = bytes.clone();
    for i in (fourcc..patched.len() - 3).filter(|&i| &bytes[i..i + 4] == b"FMP4") {
        patched[i..i + 4].copy_from_slice(b"QQQQ");
    }
    let bad_codec = d.join("bad-codec.avi");
    std::fs::write(&bad_codec, patched).unwrap();
    check(&bad_codec, "unsupported video codec");
    // A video to an image extension is refused before any work.
    let o = upscale(&[&good, &"-o", &d.join("frame.png")]);
    assert!(!o.status.success() && stderr(&o).contains("unsupported output extension"), "{}", stderr(&o));
    only(
        d,
        &["audio.mp4", "bad-codec.avi", "cut.mkv", "cut.mp4", "good.mkv", "in.avi", "long.mkv", "out.mp4", "whole.mp4"],
    );
}

#[test]
fn missing_ffmpeg_is_one_line_with_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = test_video(dir.path(), "in.mp4", false);
    let empty = dir.path().join("no-tools");
    std::fs::create_dir(&empty).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_upscale"))
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("out.mp4"))
        .env("PATH", &empty)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("in.mp4") && e.contains("apt-get install ffmpeg") && e.trim().lines().count() == 1, "{e}");
}

#[test]
fn folders_keep_the_tree_skip_existing_outputs_and_report_failures() {
    let dir = tempfile::tempdir().unwrap();
    let (inp, out) = (dir.path().join("photos"), dir.path().join("big"));
    std::fs::create_dir_all(inp.join("nebulae/2024")).unwrap();
    save_image(&Planes::zeros(3, 12, 16), &inp.join("a.png"), 8).unwrap();
    save_image(&Planes::zeros(3, 10, 10), &inp.join("nebulae/2024/b.jpg"), 8).unwrap();
    std::fs::write(inp.join("nebulae/broken.png"), b"definitely not a png").unwrap();
    let o = upscale(&[&inp, &"-o", &out]);
    let (e, s) = (stderr(&o), String::from_utf8_lossy(&o.stdout).into_owned());
    assert!(!o.status.success(), "a failed file must fail the run");
    assert!(e.contains("broken.png"), "{e}");
    assert!(s.contains("2 upscaled, 0 skipped") && s.contains("1 failed"), "{s}");
    assert_eq!(image_dimensions(&out.join("a.png")).unwrap(), (64, 48));
    assert_eq!(image_dimensions(&out.join("nebulae/2024/b.jpg")).unwrap(), (40, 40));
    // Existing outputs are skipped unless --overwrite.
    std::fs::remove_file(inp.join("nebulae/broken.png")).unwrap();
    let o = upscale(&[&inp, &"-o", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(s.contains("0 upscaled, 2 skipped") && s.contains("0 failed"), "{s}");
    let o = upscale(&[&inp, &"-o", &out, &"--overwrite"]);
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success() && s.contains("2 upscaled, 0 skipped") && s.contains("0 failed"), "{s}");
}

#[test]
fn sixteen_bit_png_and_tiff_stay_sixteen_bit() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = Planes::zeros(3, 20, 24);
    for (i, v) in p.data.iter_mut().enumerate() {
        *v = (i % 997) as f32 / 996.0;
    }
    for name in ["deep.png", "deep.tif"] {
        let input = dir.path().join(name);
        save_image(&p, &input, 16).unwrap();
        let out = dir.path().join(format!("up-{name}"));
        let o = upscale(&[&input, &"-o", &out]);
        assert!(o.status.success(), "{}", stderr(&o));
        let back = load_image(&out, astro_image::ColorMode::Keep, astro_image::ImageLimits::default()).unwrap();
        assert_eq!((back.width, back.height, back.bit_depth), (96, 80, 16), "{name}");
        // Real 16-bit content: not all samples are multiples of 257 (8-bit values widened).
        assert!(back.data.iter().any(|v| !((v * 65535.0).round() as u32).is_multiple_of(257)), "{name}");
    }
}

/// A FITS file from cards and big-endian data.
fn fits_file(path: &Path, cards: &[(&str, &str)], data: &[u8]) {
    let mut bytes = Vec::new();
    for (k, v) in cards {
        bytes.extend(format!("{k:<8}= {v:>20}").bytes());
        bytes.resize(bytes.len().div_ceil(80) * 80, b' ');
    }
    bytes.extend(format!("{:<80}", "END").bytes());
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    bytes.extend(data);
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn fits_float_and_sixteen_bit_images_keep_units_blanks_and_sky_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (20usize, 16usize);
    let wcs: [(&str, &str); 8] = [
        ("CTYPE1", "'RA---TAN'"),
        ("CTYPE2", "'DEC--TAN'"),
        ("CRVAL1", "10.5"),
        ("CRVAL2", "41.2"),
        ("CRPIX1", "10.5"),
        ("CRPIX2", "8.0"),
        ("CDELT1", "-0.0002"),
        ("CDELT2", "0.0002"),
    ];
    let value = |x: usize, y: usize| 1000.0 + 50.0 * ((x as f64 * 0.7).sin() + (y as f64 * 0.4).cos());
    // Float with a NaN pixel.
    let mut f32data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let v = if (x, y) == (3, 5) { f32::NAN } else { value(x, y) as f32 };
            f32data.extend(v.to_be_bytes());
        }
    }
    let mut cards = vec![("SIMPLE", "T"), ("BITPIX", "-32"), ("NAXIS", "2"), ("NAXIS1", "20"), ("NAXIS2", "16")];
    cards.extend(wcs);
    let float_in = dir.path().join("float.fits");
    fits_file(&float_in, &cards, &f32data);
    // 16-bit with BZERO/BSCALE and a BLANK pixel.
    let mut i16data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let raw: i16 = if (x, y) == (7, 2) { -32768 } else { ((value(x, y) - 1000.0) / 0.5).round() as i16 };
            i16data.extend(raw.to_be_bytes());
        }
    }
    let mut cards = vec![
        ("SIMPLE", "T"),
        ("BITPIX", "16"),
        ("NAXIS", "2"),
        ("NAXIS1", "20"),
        ("NAXIS2", "16"),
        ("BZERO", "1000.0"),
        ("BSCALE", "0.5"),
        ("BLANK", "-32768"),
    ];
    cards.extend(wcs);
    let int_in = dir.path().join("int16.fits");
    fits_file(&int_in, &cards, &i16data);
    for (input, bitpix, blank) in [(&float_in, -32, (3, 5)), (&int_in, 16, (7, 2))] {
        let out = dir.path().join("out.fits");
        let o = upscale(&[input, &"-o", &out]);
        assert!(o.status.success(), "{}", stderr(&o));
        let img = sr_models::read_fits(&out).unwrap();
        assert_eq!((img.width, img.height, img.bitpix), (80, 64, bitpix));
        let card = |k: &str| {
            img.cards
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .find(|c| c.starts_with(&format!("{k:<8}=")))
                .and_then(|c| c[10..].split('/').next().unwrap().trim().parse::<f64>().ok())
        };
        // The same sky point stays on the same world coordinates: CRPIX (10.5, 8) → (40.5, 30.5).
        assert_eq!(card("CRPIX1"), Some(40.5));
        assert_eq!(card("CRPIX2"), Some(30.5));
        assert_eq!(card("CDELT1"), Some(-0.00005));
        assert_eq!(card("CRVAL1"), Some(10.5));
        // Blank pixels come back blank on their 4×4 footprint, and only there.
        let nan: Vec<usize> = img.data.iter().enumerate().filter(|(_, v)| v.is_nan()).map(|(i, _)| i).collect();
        assert_eq!(nan.len(), 16, "{bitpix}");
        assert!(nan.iter().all(|&i| (i % 80) / 4 == blank.0 && (i / 80) / 4 == blank.1));
        // Values stay in the original units.
        let finite = img.data.iter().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!(lo >= 899.0 && hi <= 1101.0 && hi - lo > 50.0, "{bitpix}: {lo}..{hi}");
    }
}

#[test]
fn bad_inputs_fail_in_one_line_naming_the_file_and_destroy_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("good.png");
    save_image(&Planes::zeros(3, 16, 16), &good, 8).unwrap();
    let out = d.join("out.png");
    std::fs::write(&out, b"precious").unwrap();
    let fail = |args: &[&dyn AsRef<std::ffi::OsStr>], want: &[&str]| {
        let o = upscale(args);
        let e = stderr(&o);
        assert!(!o.status.success(), "{want:?}: succeeded");
        assert_eq!(e.trim().lines().count(), 1, "not one line: {e}");
        for w in want {
            assert!(e.contains(w), "expected '{w}' in: {e}");
        }
        assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    };
    let text = d.join("notes.png");
    std::fs::write(&text, b"hello, I am not a picture").unwrap();
    fail(&[&text, &"-o", &out], &["notes.png", "not a recognised image"]);
    let bytes = std::fs::read(&good).unwrap();
    let cut = d.join("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    fail(&[&cut, &"-o", &out], &["cut.png"]);
    fail(&[&d.join("missing.png"), &"-o", &out], &["missing.png", "no such file"]);
    let no_image = d.join("table.fits");
    fits_file(&no_image, &[("SIMPLE", "T"), ("BITPIX", "8"), ("NAXIS", "0")], &[]);
    fail(&[&no_image, &"-o", &d.join("x.fits")], &["table.fits", "no image HDU"]);
    fail(&[&good, &"-o", &d.join("nowhere/out.png")], &["nowhere", "does not exist"]);
    fail(&[&good, &"-o", &out, &"--scale", &"3"], &["no ×3", "×4"]);
    fail(&[&good, &"-o", &d.join("out.bmp")], &["out.bmp", "unsupported output extension"]);
    fail(&[&good, &"-o", &out, &"--model", &d.join("none.srmodel")], &["none.srmodel"]);
    only(d, &["cut.png", "good.png", "notes.png", "out.png", "table.fits"]);
}

/// Issue #29 item 23: when the encoder cannot write (a file-size limit standing in for a full
/// disk), the error names the output and the encoder, not the input as "damaged or truncated".
#[test]
fn a_full_disk_while_encoding_is_blamed_on_the_output_not_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = test_video(dir.path(), "in.mp4", false);
    let out = dir.path().join("out.mp4");
    let o = Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 4; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_upscale"))
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(!err.contains("damaged or truncated"), "{err}");
    assert!(err.contains("out.mp4") && err.contains("could not encode"), "{err}");
    assert!(!out.exists());
}

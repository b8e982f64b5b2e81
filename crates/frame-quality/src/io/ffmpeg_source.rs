//! Compressed videos (MP4, MKV, MOV, WebM, compressed AVI) decoded once through ffmpeg.
//!
//! `ffprobe` gives the size, depth and colour of the first video stream; one `ffmpeg` decodes it
//! to raw `gray`/`rgb24` (`gray16le`/`rgb48le` above 8 bits) on its stdout, and the frames are
//! written as they arrive into a temporary SER video (`ser::SerWriter`) in a temporary folder
//! (`$TMPDIR`, named `frame-quality-<pid>-…`), which is then memory-mapped by `ser::SerReader`.
//! On Unix the folder is removed as soon as the file is mapped (the mapping outlives the name), so
//! a Ctrl-C or kill while ranking leaves nothing behind; a kill while decoding leaves a folder whose
//! process is gone, and the next decode removes it. The decoded size is budgeted
//! ([`decoded_budget`]) before and while decoding. Decoding is reported through a progress callback and
//! `tracing` (every 2 s). A missing ffmpeg is a one-line error that says how to install it.
//! Disk space needed: frames × width × height × channels × bytes per sample.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use astro_image::Planes;
use astro_image::video::{Guard, VideoError, VideoInfo, drain, ffmpeg, first_line, probe, spawn};

use crate::error::{FrameError, Result};
use crate::io::decode_scratch::DecodeScratch;
use crate::io::frame_source::FrameSource;
use crate::io::ser::{ColorId, MAX_FRAME_BYTES, SerHeader, SerReader, SerWriter};

/// A video decoded by ffmpeg into a temporary, memory-mapped SER file.
#[derive(Debug)]
pub struct DecodedVideo {
    path: PathBuf,
    info: VideoInfo,
    ser: SerReader,
    // Dropped after `ser` (field order): the folder holding the decoded frames, where it could
    // not be removed at once (not Unix).
    _dir: Option<tempfile::TempDir>,
}

/// The default budget for one decoded video, in GB (`PRETTIER_SPACE_MAX_DECODED_GB` changes it).
pub const DEFAULT_MAX_DECODED_GB: u64 = 8;

/// The most bytes one video may decode to: `PRETTIER_SPACE_MAX_DECODED_GB` (whole GB) or
/// [`DEFAULT_MAX_DECODED_GB`]; a 2.8 MB MKV can decode to gigabytes of temporary space.
pub fn decoded_budget() -> u64 {
    let gb = std::env::var("PRETTIER_SPACE_MAX_DECODED_GB").ok().and_then(|v| v.parse::<u64>().ok());
    gb.unwrap_or(DEFAULT_MAX_DECODED_GB).saturating_mul(1 << 30)
}

/// The refusal when `bytes` of decoded frames exceed `budget` (`None` when they fit).
fn over_budget(bytes: u64, budget: u64) -> Option<String> {
    (bytes > budget).then(|| {
        format!(
            "decoding needs {} MB of temporary space, above the {} MB budget (set PRETTIER_SPACE_MAX_DECODED_GB to allow more)",
            bytes >> 20,
            budget >> 20
        )
    })
}

/// Remove `frame-quality-<pid>-…` folders in `tmp` whose process no longer runs (left by a kill
/// during decoding). Only on systems with `/proc`; other folders are never touched.
fn remove_stale_decodes(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("frame-quality-")).and_then(|r| r.split('-').next())
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            tracing::info!("removing {}, left by a stopped decode", e.path().display());
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A video error as a frame-quality error naming the file (`{path}: cannot decode image: {reason}`).
fn video_err(e: VideoError) -> FrameError {
    FrameError::from(astro_image::ImageError::Decode { path: PathBuf::from(e.name), reason: e.reason })
}

fn bad(path: &Path, reason: String) -> FrameError {
    video_err(astro_image::video::bad(path, reason))
}

impl DecodedVideo {
    /// Decode `path` (logging progress through `tracing`).
    pub fn open(path: &Path) -> Result<DecodedVideo> {
        DecodedVideo::open_with_progress(path, &mut |_, _| {})
    }

    /// Decode `path`, calling `progress(frames_done, frames_total)` after every frame (`total` is
    /// ffprobe's count, 0 when unknown).
    pub fn open_with_progress(path: &Path, progress: &mut dyn FnMut(usize, usize)) -> Result<DecodedVideo> {
        let info = probe(path).map_err(video_err)?;
        let (w, h) = (info.width, info.height);
        let mono = info.is_mono();
        let (pix_fmt, color, depth, bps) = match (mono, info.high_depth) {
            (true, false) => ("gray", ColorId::Mono, 8, 1),
            (true, true) => ("gray16le", ColorId::Mono, 16, 2),
            (false, false) => ("rgb24", ColorId::Rgb, 8, 1),
            (false, true) => ("rgb48le", ColorId::Rgb, 16, 2),
        };
        let frame_bytes = w * h * color.planes_in_file() * bps;
        if frame_bytes > MAX_FRAME_BYTES || w > crate::io::ser::MAX_SIDE || h > crate::io::ser::MAX_SIDE {
            return Err(bad(path, format!("frame of {w}x{h} ({frame_bytes} bytes decoded) is above the limits")));
        }
        let total = info.frames.unwrap_or(0) as usize;
        tracing::info!(
            "{}: decoding {} {w}x{h} frames ({}, {pix_fmt}) with ffmpeg into a temporary SER of about {} MB",
            path.display(),
            total,
            info.codec,
            (total * frame_bytes) >> 20
        );
        let budget = decoded_budget();
        if let Some(reason) = over_budget(total as u64 * frame_bytes as u64, budget) {
            return Err(bad(path, reason));
        }
        remove_stale_decodes(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("frame-quality-{}-", std::process::id()))
            .tempdir()
            .map_err(|e| bad(path, format!("cannot create a temporary folder for the decoded frames: {e}")))?;
        let ser_path = dir.path().join("decoded.ser");
        let mut writer = SerWriter::create(&ser_path, SerHeader::new(w, h, color, depth))?;
        let mut cmd = ffmpeg();
        cmd.args(["-noautorotate", "-i"]).arg(path);
        cmd.args(["-map", "0:v:0", "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = Guard(Some(spawn(cmd, path).map_err(video_err)?));
        let (stdout, stderr) = match child.0.as_mut() {
            Some(c) => (c.stdout.take(), c.stderr.take()),
            None => (None, None),
        };
        let (Some(mut stdout), Some(stderr)) = (stdout, stderr) else {
            return Err(bad(path, "ffmpeg started without its output pipes".into()));
        };
        let err_text = drain(stderr);
        let mut buf = vec![0u8; frame_bytes];
        let mut done = 0usize;
        let start = Instant::now();
        let mut last_log = start;
        loop {
            let mut got = 0;
            while got < frame_bytes {
                match stdout.read(&mut buf[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(bad(path, format!("reading ffmpeg's output: {e}"))),
                }
            }
            if got == 0 {
                break;
            }
            if got < frame_bytes {
                return Err(bad(
                    path,
                    format!("truncated video: frame {done} is cut short ({got} of {frame_bytes} bytes)"),
                ));
            }
            // The frame count ffprobe gave can be missing or wrong: the budget holds as frames come.
            if let Some(reason) = over_budget((done as u64 + 1) * frame_bytes as u64, budget) {
                return Err(bad(path, reason));
            }
            writer.write_raw(&buf)?;
            done += 1;
            progress(done, total.max(done));
            if last_log.elapsed() > Duration::from_secs(2) {
                last_log = Instant::now();
                tracing::info!(
                    "{}: decoded {done}/{total} frames ({:.0} frames/s)",
                    path.display(),
                    done as f64 / start.elapsed().as_secs_f64()
                );
            }
        }
        let status = child.wait().map_err(|e| bad(path, format!("ffmpeg: {e}")))?;
        let msg = err_text.join().unwrap_or_default();
        if !status.success() {
            return Err(bad(path, format!("damaged or truncated video: {}", first_line(&msg))));
        }
        // With `-v error` ffmpeg prints only real problems (e.g. "File ended prematurely").
        if !msg.trim().is_empty() {
            return Err(bad(path, format!("damaged or truncated video: {} (after {done} frames)", first_line(&msg))));
        }
        if done == 0 {
            return Err(bad(path, "the video stream has no decodable frames".into()));
        }
        writer.finish()?;
        let ser = SerReader::open(&ser_path)?;
        tracing::info!("{}: {done} frames decoded in {:.1} s", path.display(), start.elapsed().as_secs_f64());
        // The mapping outlives the name on Unix: remove the folder now, so no kill leaves it.
        let dir = if cfg!(unix) {
            if let Err(e) = dir.close() {
                tracing::warn!("cannot remove the decoded frames' temporary folder: {e}");
            }
            None
        } else {
            Some(dir)
        };
        Ok(DecodedVideo { path: path.to_path_buf(), info, ser, _dir: dir })
    }

    /// What ffprobe said about the video.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The decoded frames as a SER video (raw 8-bit or 16-bit little-endian samples).
    pub fn ser(&self) -> &SerReader {
        &self.ser
    }
}

impl FrameSource for DecodedVideo {
    fn len(&self) -> usize {
        self.ser.len()
    }
    fn dims(&self) -> (usize, usize) {
        FrameSource::dims(&self.ser)
    }
    fn channels(&self) -> usize {
        FrameSource::channels(&self.ser)
    }
    fn name(&self) -> String {
        self.path.display().to_string()
    }
    fn read_luma_into(&self, index: usize, out: &mut Vec<f32>, scratch: &mut DecodeScratch) -> Result<()> {
        FrameSource::read_luma_into(&self.ser, index, out, scratch)
    }
    fn read_planes(&self, index: usize) -> Result<Planes> {
        FrameSource::read_planes(&self.ser, index)
    }
    fn read_luma_binned2_into(
        &self,
        index: usize,
        out: &mut Vec<f32>,
        scratch: &mut DecodeScratch,
    ) -> Result<(usize, usize)> {
        FrameSource::read_luma_binned2_into(&self.ser, index, out, scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_above_it_and_names_the_way_out() {
        assert!(over_budget(1 << 30, 1 << 30).is_none());
        let r = over_budget((1 << 30) + 1, 1 << 30).unwrap();
        assert!(r.contains("1024 MB budget") && r.contains("PRETTIER_SPACE_MAX_DECODED_GB"), "{r}");
    }

    #[test]
    fn folders_of_stopped_decodes_are_removed_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let stale = tmp.path().join(format!("frame-quality-{}-abc", u32::MAX - 1));
        let live = tmp.path().join(format!("frame-quality-{}-def", std::process::id()));
        let other = tmp.path().join("frame-quality-notapid");
        for d in [&stale, &live, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("decoded.ser"), b"x").unwrap();
        }
        remove_stale_decodes(tmp.path());
        assert!(!stale.exists() && live.exists() && other.exists());
    }
}

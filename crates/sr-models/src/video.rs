//! Videos (mp4, mkv, webm, mov, avi) through the `ffmpeg` and `ffprobe` command-line tools,
//! one frame at a time.
//!
//! `ffprobe` gives the size, frame rate, frame count and audio streams; one `ffmpeg` decodes the
//! first video stream to raw `rgb24` (`rgb48le` for sources above 8 bits) on its stdout, the
//! frames go through the model, and a second `ffmpeg` encodes them from its stdin into a
//! temporary file beside the output. The original audio is then muxed in (`-c:a copy`, or
//! re-encoded when the container refuses the codec) and the result renamed over the output, so
//! an existing output survives any failure. Frames travel through bounded queues (two frames
//! each way), so memory does not grow with the video's length.

use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use burn::prelude::*;
use dataset::Planes;

use crate::apply::Report;
use crate::atomic::AtomicOutput;
use crate::error::{Result, SrError};
use crate::inference::{Tiling, upscale_tiled_rows};
use crate::model::{Generator, GeneratorConfig};

/// File extensions handled as videos.
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "m4v", "mkv", "webm", "mov", "avi"];

/// How to install the tools, for error messages.
const INSTALL_HINT: &str = "install it with `apt-get install ffmpeg` (or your system's ffmpeg package)";

/// True when the path has a video extension.
pub fn is_video_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.iter().any(|v| v.eq_ignore_ascii_case(e)))
}

/// What `ffprobe` says about a video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Frame rate as ffmpeg's rational, e.g. `30000/1001`.
    pub frame_rate: String,
    /// Frame rate in frames per second.
    pub fps: f64,
    /// Number of frames (from the container, else by counting packets).
    pub frames: Option<u64>,
    /// The first audio stream's codec, if there is audio.
    pub audio: Option<String>,
    /// Whether the video has more than 8 bits per sample.
    pub high_depth: bool,
    /// The video codec.
    pub codec: String,
}

fn bad(input: &Path, reason: impl Into<String>) -> SrError {
    SrError::BadInput { name: input.display().to_string(), reason: reason.into() }
}

/// Spawn one of the tools, turning "not found" into a one-line install hint naming `input`.
fn spawn(mut cmd: Command, input: &Path) -> Result<Child> {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    tracing::debug!(?cmd, "spawning");
    cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            bad(input, format!("videos need {tool}, which is not installed or not on PATH: {INSTALL_HINT}"))
        } else {
            bad(input, format!("cannot run {tool}: {e}"))
        }
    })
}

/// Run a tool to completion, returning stdout, or its first error line.
fn run_tool(cmd: Command, input: &Path, what: &str) -> Result<String> {
    let mut cmd = cmd;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = spawn(cmd, input)?.wait_with_output().map_err(|e| bad(input, format!("{what}: {e}")))?;
    if !out.status.success() {
        return Err(bad(input, format!("{what}: {}", first_line(&String::from_utf8_lossy(&out.stderr)))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first line of a tool's stderr, without ffmpeg's `[demuxer @ 0x…]` and path prefixes.
fn first_line(stderr: &str) -> String {
    let line = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("failed without a message");
    let line = match line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
        Some((_, rest)) => rest,
        None => line,
    };
    line.rsplit_once(": ").filter(|(head, _)| head.contains('/')).map_or(line, |(_, tail)| tail).to_string()
}

fn ffprobe() -> Command {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error", "-hide_banner"]);
    c
}

fn ffmpeg() -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error", "-hide_banner", "-nostdin", "-y"]);
    c
}

fn parse_rate(r: &str) -> Option<f64> {
    let (n, d) = r.split_once('/').unwrap_or((r, "1"));
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0.0 && d > 0.0).then_some(n / d)
}

/// Probe a video with `ffprobe`.
pub fn probe(input: &Path) -> Result<VideoInfo> {
    if !input.is_file() {
        return Err(bad(input, "no such file"));
    }
    let mut cmd = ffprobe();
    cmd.args(["-show_entries", "stream=index,codec_type,codec_name,codec_tag_string,width,height,r_frame_rate,avg_frame_rate,nb_frames,pix_fmt,bits_per_raw_sample:stream_disposition=attached_pic", "-of", "json"]);
    cmd.arg(input);
    let json = run_tool(cmd, input, "not a readable video")?;
    let v: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| bad(input, format!("unexpected ffprobe output: {e}")))?;
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"].as_i64().unwrap_or(0) == 0)
        .ok_or_else(|| bad(input, "no video stream in this file"))?;
    let audio = streams
        .iter()
        .find(|s| s["codec_type"] == "audio")
        .map(|s| s["codec_name"].as_str().unwrap_or("unknown").to_string());
    let codec = video["codec_name"].as_str().unwrap_or("").to_string();
    if codec.is_empty() || codec == "none" {
        let tag = video["codec_tag_string"].as_str().unwrap_or("?");
        return Err(bad(input, format!("unsupported video codec (tag {tag}): ffmpeg cannot decode it")));
    }
    let (width, height) =
        (video["width"].as_u64().unwrap_or(0) as usize, video["height"].as_u64().unwrap_or(0) as usize);
    if width == 0 || height == 0 {
        return Err(bad(input, format!("video stream ({codec}) has no frame size")));
    }
    let rate = |k: &str| video[k].as_str().filter(|r| parse_rate(r).is_some()).map(str::to_string);
    let frame_rate = rate("avg_frame_rate")
        .or_else(|| rate("r_frame_rate"))
        .ok_or_else(|| bad(input, "video stream has no frame rate"))?;
    let fps = parse_rate(&frame_rate).unwrap_or(25.0);
    let pix_fmt = video["pix_fmt"].as_str().unwrap_or("");
    let bits: u32 = video["bits_per_raw_sample"].as_str().and_then(|b| b.parse().ok()).unwrap_or(8);
    let high_depth = bits > 8 || ["10", "12", "14", "16", "48", "64"].iter().any(|d| pix_fmt.contains(d));
    let mut frames = video["nb_frames"].as_str().and_then(|n| n.parse::<u64>().ok()).filter(|&n| n > 0);
    if frames.is_none() {
        let mut cmd = ffprobe();
        cmd.args([
            "-select_streams",
            "v:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
            "-of",
            "csv=p=0",
        ]);
        cmd.arg(input);
        frames = run_tool(cmd, input, "cannot count frames")?.trim().parse().ok();
    }
    Ok(VideoInfo { width, height, frame_rate, fps, frames, audio, high_depth, codec })
}

/// The encoders this ffmpeg has (`ffmpeg -encoders`), read once.
fn encoders() -> &'static str {
    static ENC: OnceLock<String> = OnceLock::new();
    ENC.get_or_init(|| {
        Command::new("ffmpeg")
            .args(["-hide_banner", "-encoders"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    })
}

fn has_encoder(name: &str) -> bool {
    encoders().lines().any(|l| l.split_whitespace().nth(1) == Some(name))
}

/// Muxer, video codec arguments and audio fallback codec for an output extension.
struct Container {
    muxer: &'static str,
    video: Vec<String>,
    audio_fallback: &'static str,
}

fn container(output: &Path, width: usize, height: usize, high_depth: bool) -> Result<Container> {
    let ext = output.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let even = width.is_multiple_of(2) && height.is_multiple_of(2);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let x264 = |muxer, audio_fallback| {
        let pix = match (even, high_depth) {
            (true, false) => "yuv420p",
            (true, true) => "yuv420p10le",
            (false, false) => "yuv444p",
            (false, true) => "yuv444p10le",
        };
        let video = if has_encoder("libx264") {
            s(&["-c:v", "libx264", "-preset", "medium", "-crf", "16", "-pix_fmt", pix])
        } else {
            s(&["-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p"])
        };
        Container { muxer, video, audio_fallback }
    };
    Ok(match ext.as_str() {
        "mp4" | "m4v" => x264("mp4", "aac"),
        "mov" => x264("mov", "aac"),
        "mkv" => x264("matroska", "flac"),
        "avi" => Container {
            muxer: "avi",
            video: s(&["-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p"]),
            audio_fallback: if has_encoder("libmp3lame") { "libmp3lame" } else { "pcm_s16le" },
        },
        "webm" => {
            let pix = if high_depth { "yuv420p10le" } else { "yuv420p" };
            Container {
                muxer: "webm",
                video: s(&["-c:v", "libvpx-vp9", "-crf", "24", "-b:v", "0", "-row-mt", "1", "-pix_fmt", pix]),
                audio_fallback: if has_encoder("libopus") { "libopus" } else { "libvorbis" },
            }
        }
        _ => {
            return Err(bad(
                output,
                format!("unsupported video output extension (use one of {})", VIDEO_EXTENSIONS.join(", ")),
            ));
        }
    })
}

/// A child process killed when dropped before it was waited for.
struct Guard(Option<Child>);

impl Guard {
    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        let mut c = self.0.take().expect("waited twice");
        c.wait()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Collect the end of a child's stderr in a thread.
fn drain(stderr: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut buf);
        let keep = buf.len().saturating_sub(4096);
        buf[buf.char_indices().find(|(i, _)| *i >= keep).map_or(0, |(i, _)| i)..].to_string()
    })
}

/// Quick check that ffmpeg can decode the first frame (catches unknown codecs before any output).
fn check_decodable(input: &Path) -> Result<()> {
    let mut cmd = ffmpeg();
    cmd.args(["-noautorotate", "-i"]).arg(input).args(["-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"]);
    run_tool(cmd, input, "cannot decode the video stream").map(|_| ())
}

/// Upscale every frame of a video (see the module docs), keeping frame count, rate and audio.
/// `progress(done, total)` counts frames (`total` 0 when unknown).
#[allow(clippy::too_many_arguments)]
pub fn enhance_video<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    input: &Path,
    output: &Path,
    tiling: Tiling,
    max_output_pixels: u64,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let s = config.scale();
    let info = probe(input)?;
    let (w, h) = (info.width, info.height);
    let (ow, oh) = (w * s, h * s);
    crate::apply::check_output(input, ow, oh, 1, max_output_pixels)?;
    let cont = container(output, ow, oh, info.high_depth)?;
    if cont.muxer == "avi" && !(ow.is_multiple_of(2) && oh.is_multiple_of(2)) {
        return Err(bad(output, format!("an AVI output needs an even frame size, not {ow}x{oh} (use .mkv or .mp4)")));
    }
    check_decodable(input)?;
    tracing::info!(?info, "video");
    let (pix_fmt, bps) = if info.high_depth { ("rgb48le", 2) } else { ("rgb24", 1) };
    let frame_in = w * h * 3 * bps;

    let video_only = AtomicOutput::create(output)?;
    // Decoder: first video stream → raw frames on stdout.
    let mut dec = ffmpeg();
    dec.args(["-noautorotate", "-i"]).arg(input);
    dec.args(["-map", "0:v:0", "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]);
    dec.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut dec = Guard(Some(spawn(dec, input)?));
    let dec_err = drain(dec.0.as_mut().unwrap().stderr.take().unwrap());
    let mut dec_out = dec.0.as_mut().unwrap().stdout.take().unwrap();
    // Encoder: raw frames on stdin → the temporary video-only file.
    let mut enc = ffmpeg();
    enc.args(["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", &format!("{ow}x{oh}"), "-framerate", &info.frame_rate]);
    enc.args(["-i", "-", "-an", "-map", "0:v:0"]).args(&cont.video);
    enc.args(["-r", &info.frame_rate, "-f", cont.muxer]).arg(video_only.path());
    enc.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut enc = Guard(Some(spawn(enc, input)?));
    let enc_err = drain(enc.0.as_mut().unwrap().stderr.take().unwrap());
    let mut enc_in = enc.0.as_mut().unwrap().stdin.take().unwrap();

    // Reader thread: whole frames (a short last frame is reported).
    let (frame_tx, frame_rx): (SyncSender<std::result::Result<Vec<u8>, usize>>, Receiver<_>) = sync_channel(2);
    let reader = std::thread::spawn(move || {
        loop {
            let mut buf = vec![0u8; frame_in];
            let mut got = 0;
            while got < frame_in {
                match dec_out.read(&mut buf[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let msg = if got == frame_in { Ok(buf) } else { Err(got) };
            match msg {
                Err(0) => return, // clean end of stream
                msg => {
                    let last = msg.is_err();
                    if frame_tx.send(msg).is_err() || last {
                        return;
                    }
                }
            }
        }
    });
    // Writer thread: upscaled frames → encoder stdin.
    let (out_tx, out_rx) = sync_channel::<Vec<u8>>(2);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for frame in out_rx {
            enc_in.write_all(&frame)?;
        }
        enc_in.flush()
    });

    let total = info.frames.unwrap_or(0) as usize;
    let mut done = 0usize;
    let mut failure: Option<SrError> = None;
    for msg in frame_rx.iter() {
        let raw = match msg {
            Ok(raw) => raw,
            Err(got) => {
                failure = Some(bad(
                    input,
                    format!("truncated video: frame {} is cut short ({got} of {frame_in} bytes)", done + 1),
                ));
                break;
            }
        };
        match upscale_frame(model, config, &raw, (w, h), bps, tiling, device) {
            Ok(bytes) => {
                if out_tx.send(bytes).is_err() {
                    break; // the encoder died; its error is reported below
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        done += 1;
        progress(done, total.max(done));
    }
    drop(out_tx);
    drop(frame_rx);
    if let Some(e) = failure {
        drop(dec);
        drop(enc);
        let _ = reader.join();
        let _ = writer.join();
        return Err(e);
    }
    let _ = reader.join();
    let dec_status = dec.wait().map_err(|e| bad(input, format!("ffmpeg (decoding): {e}")))?;
    let write_result = writer.join().unwrap_or_else(|_| Err(std::io::Error::other("writer thread panicked")));
    let enc_status = enc.wait().map_err(|e| bad(output, format!("ffmpeg (encoding): {e}")))?;
    let dec_msg = dec_err.join().unwrap_or_default();
    if !dec_status.success() {
        return Err(bad(input, format!("damaged or truncated video: {}", first_line(&dec_msg))));
    }
    if done == 0 {
        return Err(bad(input, "the video stream has no decodable frames"));
    }
    // With `-v error` ffmpeg prints only real problems (e.g. "File ended prematurely").
    if !dec_msg.trim().is_empty() {
        let of = info.frames.map(|n| format!(" of {n}")).unwrap_or_default();
        return Err(bad(
            input,
            format!("damaged or truncated video: {} (after {done}{of} frames)", first_line(&dec_msg)),
        ));
    }
    if write_result.is_err() || !enc_status.success() {
        let msg = enc_err.join().unwrap_or_default();
        return Err(bad(output, format!("ffmpeg could not encode the video: {}", first_line(&msg))));
    }
    match &info.audio {
        None => video_only.commit()?,
        Some(codec) => {
            mux_audio(&video_only, input, output, &cont, codec)?;
        }
    }
    Ok(Report { input: (w, h), output: (ow, oh), frames: done })
}

/// Mux the input's audio into the upscaled video: copied, or re-encoded if the container refuses.
fn mux_audio(video_only: &AtomicOutput, input: &Path, output: &Path, cont: &Container, codec: &str) -> Result<()> {
    let mut last = String::new();
    for audio in ["copy", cont.audio_fallback] {
        let final_out = AtomicOutput::create(output)?;
        let mut cmd = ffmpeg();
        cmd.arg("-i").arg(video_only.path()).arg("-i").arg(input);
        cmd.args(["-map", "0:v:0", "-map", "1:a?", "-c:v", "copy", "-c:a", audio, "-f", cont.muxer]);
        cmd.arg(final_out.path());
        match run_tool(cmd, output, "muxing the audio") {
            Ok(_) => {
                if audio != "copy" {
                    tracing::info!("audio re-encoded from {codec} to {audio}: {} refused a copy", cont.muxer);
                }
                return final_out.commit();
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(bad(output, format!("cannot mux the {codec} audio: {last}")))
}

/// Upscale one raw frame (`rgb24` or `rgb48le`) into the same raw layout.
fn upscale_frame<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    raw: &[u8],
    (w, h): (usize, usize),
    bps: usize,
    tiling: Tiling,
    device: &B::Device,
) -> Result<Vec<u8>> {
    let n = w * h;
    let mut p = Planes::zeros(3, h, w);
    for i in 0..n {
        for c in 0..3 {
            p.data[c * n + i] = if bps == 1 {
                raw[i * 3 + c] as f32 / 255.0
            } else {
                let k = (i * 3 + c) * 2;
                u16::from_le_bytes([raw[k], raw[k + 1]]) as f32 / 65535.0
            };
        }
    }
    p.bit_depth = if bps == 1 { 8 } else { 16 };
    let s = config.scale();
    let mut out = Vec::with_capacity(n * s * s * 3 * bps);
    upscale_tiled_rows(model, config, &p, tiling, device, &mut |_, _| {}, &mut |band: &Planes| {
        let m = band.pixels();
        for i in 0..m {
            for c in 0..3 {
                let v = band.data[c * m + i];
                let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
                if bps == 1 {
                    out.push((v * 255.0).round() as u8);
                } else {
                    out.extend(((v * 65535.0).round() as u16).to_le_bytes());
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}

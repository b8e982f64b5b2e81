//! Videos (mp4, mkv, webm, mov, avi) through the `ffmpeg` and `ffprobe` command-line tools,
//! one frame at a time (probing and process plumbing live in `astro_image::video`).
//!
//! `ffprobe` gives the size, frame rate, frame count and audio streams; one `ffmpeg` decodes the
//! first video stream to raw `rgb24` (`rgb48le` for sources above 8 bits) on its stdout, the
//! frames go through the model, and a second `ffmpeg` encodes them from its stdin into a
//! temporary file beside the output. The original audio is then muxed in (`-c:a copy`, or
//! re-encoded when the container refuses the codec) and the result renamed over the output, so
//! an existing output survives any failure. Frames travel through bounded queues (two frames
//! each way), so memory does not grow with the video's length.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use astro_image::Planes;
use astro_image::video::{Guard, VideoError, check_decodable, drain, ffmpeg, first_line};
use astro_image::video::{VIDEO_EXTENSIONS, probe};
use burn::prelude::*;

use crate::enhancer::Enhancer;
use crate::error::{Result, SrError};
use crate::inference::{Tiling, upscale_tiled_rows};
use crate::model::{Generator, GeneratorConfig};
use crate::report::Report;
use astro_image::AtomicFile;

impl From<VideoError> for SrError {
    fn from(e: VideoError) -> Self {
        SrError::BadInput { name: e.name, reason: e.reason }
    }
}

fn bad(input: &Path, reason: impl Into<String>) -> SrError {
    astro_image::video::bad(input, reason).into()
}

fn spawn(cmd: Command, input: &Path) -> Result<std::process::Child> {
    Ok(astro_image::video::spawn(cmd, input)?)
}

fn run_tool(cmd: Command, input: &Path, what: &str) -> Result<String> {
    Ok(astro_image::video::run_tool(cmd, input, what)?)
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

/// Upscale every frame of a video (see the module docs), keeping frame count, rate and audio.
/// `progress(done, total)` counts frames (`total` 0 when unknown).
pub fn enhance_video<B: Backend>(
    enhancer: &Enhancer<'_, B>,
    input: &Path,
    output: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let Enhancer { model, config, tiling, max_output_pixels, device } = *enhancer;
    let s = config.scale();
    let info = probe(input)?;
    let (w, h) = (info.width, info.height);
    let (ow, oh) = (w * s, h * s);
    crate::report::check_output(input, ow, oh, 1, max_output_pixels)?;
    let cont = container(output, ow, oh, info.high_depth)?;
    if cont.muxer == "avi" && !(ow.is_multiple_of(2) && oh.is_multiple_of(2)) {
        return Err(bad(output, format!("an AVI output needs an even frame size, not {ow}x{oh} (use .mkv or .mp4)")));
    }
    check_decodable(input)?;
    tracing::info!(?info, "video");
    let (pix_fmt, bps) = if info.high_depth { ("rgb48le", 2) } else { ("rgb24", 1) };
    let frame_in = w * h * 3 * bps;

    let video_only = AtomicFile::create(output)?;
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
    let mut encoder_died = false;
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
                    encoder_died = true; // its error is reported below, before the decoder's
                    break;
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
    // An encoder that died mid-stream (a full disk) first: we then stopped reading, the decoder
    // died of a broken pipe, and blaming the input ("damaged or truncated") would mislead.
    let encoder_failed = write_result.is_err() || !enc_status.success();
    if encoder_failed && (encoder_died || write_result.is_err() || dec_status.success()) {
        let msg = enc_err.join().unwrap_or_default();
        return Err(bad(output, format!("ffmpeg could not encode the video: {}", first_line(&msg))));
    }
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
    match &info.audio {
        None => video_only.commit()?,
        Some(codec) => {
            mux_audio(&video_only, input, output, &cont, codec)?;
        }
    }
    Ok(Report { input: (w, h), output: (ow, oh), frames: done })
}

/// Mux the input's audio into the upscaled video: copied, or re-encoded if the container refuses.
fn mux_audio(video_only: &AtomicFile, input: &Path, output: &Path, cont: &Container, codec: &str) -> Result<()> {
    let mut last = String::new();
    for audio in ["copy", cont.audio_fallback] {
        let final_out = AtomicFile::create(output)?;
        let mut cmd = ffmpeg();
        cmd.arg("-i").arg(video_only.path()).arg("-i").arg(input);
        cmd.args(["-map", "0:v:0", "-map", "1:a?", "-c:v", "copy", "-c:a", audio, "-f", cont.muxer]);
        cmd.arg(final_out.path());
        match run_tool(cmd, output, "muxing the audio") {
            Ok(_) => {
                if audio != "copy" {
                    tracing::info!("audio re-encoded from {codec} to {audio}: {} refused a copy", cont.muxer);
                }
                return Ok(final_out.commit()?);
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

//! Videos (mp4, mkv, webm, mov, avi) through the `ffmpeg` and `ffprobe` command-line tools: probing
//! (size, rate, frame count, depth, audio) and the process plumbing every decoder shares.
//!
//! `ffprobe` gives the first video stream's geometry; decoders spawn `ffmpeg` with [`ffmpeg`] and
//! read raw frames from its stdout. A missing tool is a one-line error naming the input and how to
//! install it. Users: `sr_models::video` (upscaling videos) and `frame_quality` (compressed videos
//! decoded once for ranking and stacking).

use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// File extensions handled as videos.
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "m4v", "mkv", "webm", "mov", "avi"];

/// How to install the tools, for error messages.
pub const INSTALL_HINT: &str = "install it with `apt-get install ffmpeg` (or your system's ffmpeg package)";

/// A video could not be probed or decoded: `{name}: {reason}`, one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct VideoError {
    /// The input (or output) involved.
    pub name: String,
    /// What went wrong.
    pub reason: String,
}

/// Result alias for this module.
pub type Result<T> = std::result::Result<T, VideoError>;

/// A [`VideoError`] naming `input`.
pub fn bad(input: &Path, reason: impl Into<String>) -> VideoError {
    VideoError { name: input.display().to_string(), reason: reason.into() }
}

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
    /// ffmpeg's pixel format of the decoded stream (`gray`, `yuv420p`, …).
    pub pix_fmt: String,
}

impl VideoInfo {
    /// Whether the stream is grey only (`gray`, `gray16le`, `y8`, …).
    pub fn is_mono(&self) -> bool {
        self.pix_fmt.starts_with("gray") || self.pix_fmt == "y8" || self.pix_fmt == "ya8"
    }
}

/// Spawn one of the tools, turning "not found" into a one-line install hint naming `input`.
pub fn spawn(mut cmd: Command, input: &Path) -> Result<Child> {
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
pub fn run_tool(cmd: Command, input: &Path, what: &str) -> Result<String> {
    let mut cmd = cmd;
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = spawn(cmd, input)?.wait_with_output().map_err(|e| bad(input, format!("{what}: {e}")))?;
    if !out.status.success() {
        return Err(bad(input, format!("{what}: {}", first_line(&String::from_utf8_lossy(&out.stderr)))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first line of a tool's stderr, without ffmpeg's `[demuxer @ 0x…]` and path prefixes.
pub fn first_line(stderr: &str) -> String {
    let line = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("failed without a message");
    let line = match line.strip_prefix('[').and_then(|l| l.split_once("] ")) {
        Some((_, rest)) => rest,
        None => line,
    };
    line.rsplit_once(": ").filter(|(head, _)| head.contains('/')).map_or(line, |(_, tail)| tail).to_string()
}

/// `ffprobe -v error -hide_banner`.
pub fn ffprobe() -> Command {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error", "-hide_banner"]);
    c
}

/// `ffmpeg -v error -hide_banner -nostdin -y`.
pub fn ffmpeg() -> Command {
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
    let pix_fmt = video["pix_fmt"].as_str().unwrap_or("").to_string();
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
    Ok(VideoInfo { width, height, frame_rate, fps, frames, audio, high_depth, codec, pix_fmt })
}

/// A child process killed when dropped before it was waited for.
pub struct Guard(pub Option<Child>);

impl Guard {
    /// Wait for the child (once); a second call is an error, not a panic.
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match self.0.take() {
            Some(mut c) => c.wait(),
            None => Err(std::io::Error::other("process already waited for")),
        }
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

/// Collect the end (last 4 KiB) of a child's stderr in a thread.
pub fn drain(stderr: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut buf);
        let keep = buf.len().saturating_sub(4096);
        buf[buf.char_indices().find(|(i, _)| *i >= keep).map_or(0, |(i, _)| i)..].to_string()
    })
}

/// Quick check that ffmpeg can decode the first frame (catches unknown codecs before any output).
pub fn check_decodable(input: &Path) -> Result<()> {
    let mut cmd = ffmpeg();
    cmd.args(["-noautorotate", "-i"]).arg(input).args(["-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"]);
    run_tool(cmd, input, "cannot decode the video stream").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_strips_demuxer_and_path_prefixes() {
        assert_eq!(first_line("\n[mov,mp4 @ 0x55] moov atom not found\n"), "moov atom not found");
        assert_eq!(first_line("/tmp/x/a.mp4: Invalid data found"), "Invalid data found");
        assert_eq!(first_line(""), "failed without a message");
    }

    #[test]
    fn video_paths_are_recognised_by_extension() {
        assert!(is_video_path(Path::new("a/b.MP4")) && is_video_path(Path::new("c.avi")));
        assert!(!is_video_path(Path::new("c.ser")) && !is_video_path(Path::new("noext")));
        assert_eq!(parse_rate("30000/1001").map(|r| (r * 1000.0).round()), Some(29970.0));
        assert_eq!(parse_rate("0/0"), None);
    }
}

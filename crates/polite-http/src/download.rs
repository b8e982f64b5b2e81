//! Verified downloads: streamed to `<file>.part`, checked against the expected size and checksum,
//! then renamed; never a partial file under the final name.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use tracing::{debug, warn};

use crate::client::Attempt;
use crate::client::Client;
use crate::error::{HttpError, Result};

/// What a download must match, when the source tells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expected {
    /// Size in bytes.
    pub size: Option<u64>,
    /// Hex MD5 (32 digits) or SHA-256 (64 digits).
    pub checksum: Option<String>,
}

/// A finished, verified download.
#[derive(Clone, Debug, PartialEq)]
pub struct Downloaded {
    /// Bytes written.
    pub bytes: u64,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
}

/// `<file>.part` beside `file`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

impl Client {
    /// Download `url` to `dest`: streamed to `<dest>.part`, verified, then renamed. Each attempt is
    /// bounded by [`crate::Policy::download_timeout`], all attempts by twice that. The byte budget
    /// is the expected size when given, else [`crate::Policy::max_download_bytes`]: an answer
    /// announcing more fails before its body is read, and streaming stops one byte past the
    /// budget (neither is retried).
    pub fn download(&self, url: &str, dest: &Path, expected: &Expected) -> Result<Downloaded> {
        debug!("download {url} -> {}", dest.display());
        let part = part_path(dest);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| HttpError::io(dir, e))?;
        }
        let total = self.policy().download_timeout;
        let budget = expected.size.unwrap_or(self.policy().max_download_bytes);
        let result = self.with_retries(url, total.saturating_mul(2), |left| {
            let resp = match self.send(url, None) {
                Attempt::Done(r) if r.status().is_success() => r,
                Attempt::Done(r) => {
                    let status = r.status();
                    return Attempt::Fail(HttpError::failed(url, Some(status.as_u16()), format!("HTTP {status}")));
                }
                Attempt::Retry { error, retry_after, .. } => {
                    return Attempt::Retry { error, retry_after, fallback: None };
                }
                Attempt::Fail(e) => return Attempt::Fail(e),
            };
            match stream_to(resp, url, &part, expected, Limits { total: total.min(left), budget }) {
                Ok(d) => Attempt::Done(d),
                Err(e @ (HttpError::Io { .. } | HttpError::Verify { .. })) => {
                    let _ = std::fs::remove_file(&part);
                    Attempt::Fail(e)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&part);
                    Attempt::Retry { error: e, retry_after: None, fallback: None }
                }
            }
        });
        match result {
            Ok(d) => {
                std::fs::rename(&part, dest).map_err(|e| HttpError::io(dest, e))?;
                Ok(d)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                Err(e)
            }
        }
    }
}

/// The bounds of one download attempt: its time and its bytes.
struct Limits {
    total: Duration,
    budget: u64,
}

fn stream_to(
    mut resp: reqwest::blocking::Response,
    url: &str,
    part: &Path,
    expected: &Expected,
    Limits { total, budget }: Limits,
) -> Result<Downloaded> {
    let started = Instant::now();
    let announced = resp.content_length();
    let what = if expected.size.is_some() { "the expected size" } else { "the download budget" };
    if let Some(len) = announced.filter(|&n| n > budget) {
        return Err(HttpError::Verify {
            url: url.into(),
            message: format!("the server announces {len} bytes, above {what} of {budget} bytes; not downloaded"),
        });
    }
    let mut file = File::create(part).map_err(|e| HttpError::io(part, e))?;
    let mut sha = Sha256::new();
    let mut md5 = md5::Context::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(HttpError::failed(url, None, format!("connection broken after {bytes} bytes: {e}"))),
        };
        if started.elapsed() > total {
            return Err(HttpError::failed(
                url,
                None,
                format!("download took more than {} s; stopped", total.as_secs()),
            ));
        }
        if bytes + n as u64 > budget {
            return Err(HttpError::Verify {
                url: url.into(),
                message: format!("more than {what} of {budget} bytes; stopped after {} bytes", bytes + n as u64),
            });
        }
        file.write_all(&buf[..n]).map_err(|e| HttpError::io(part, e))?;
        sha.update(&buf[..n]);
        md5.consume(&buf[..n]);
        bytes += n as u64;
    }
    if let Some(len) = announced
        && len != bytes
    {
        return Err(HttpError::failed(url, None, format!("body ended after {bytes} of {len} bytes")));
    }
    file.sync_all().map_err(|e| HttpError::io(part, e))?;
    drop(file);
    let sha256 = format!("{:x}", sha.finalize());
    let md5 = format!("{:x}", md5.finalize());
    if let Some(size) = expected.size
        && size != bytes
    {
        return Err(HttpError::Verify { url: url.into(), message: format!("size {bytes} bytes, expected {size}") });
    }
    if let Some(sum) = expected.checksum.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        let ok = match sum.len() {
            32 => sum == md5,
            64 => sum == sha256,
            _ => {
                warn!("{url}: checksum {sum:?} is neither MD5 nor SHA-256; not verified");
                true
            }
        };
        if !ok {
            return Err(HttpError::Verify { url: url.into(), message: format!("checksum mismatch (expected {sum})") });
        }
    }
    Ok(Downloaded { bytes, sha256 })
}

//! Polite HTTP: one client with a descriptive User-Agent, a per-host rate limit, retries with exponential
//! backoff on timeouts/5xx/429 (honouring `Retry-After`), and downloads streamed to `<file>.part` then renamed.
//!
//! Time bounds (defaults in [`HttpConfig::default`]): connect timeout 10 s; read timeout 30 s (the
//! longest silence from a server, for pages and downloads alike, so a server that accepts and never
//! answers fails in seconds, not minutes); a total per page attempt (30 s) and per download attempt
//! (30 min); `Retry-After` capped at 60 s; and a deadline over all attempts of one page (3 min).
//! Every wait before a retry is logged with its reason and length.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest as _, Sha256};
use tracing::{debug, warn};

use crate::error::{EsaError, Result};

/// Default User-Agent: who we are and where to read about it.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "prettier-space-esa-scraper/",
    env!("CARGO_PKG_VERSION"),
    " (training-data collection for astronomical image ML; https://github.com/prettier-space/prettier-space)"
);

/// HTTP behaviour: politeness and fault tolerance.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// User-Agent header sent with every request.
    pub user_agent: String,
    /// Most requests per second to one host (default 2).
    pub requests_per_second: f64,
    /// Retries after the first attempt for transient failures (default 4).
    pub max_retries: u32,
    /// First backoff delay; doubled on each retry (default 1 s).
    pub backoff_base: Duration,
    /// Longest backoff delay (default 120 s).
    pub backoff_max: Duration,
    /// Largest `Retry-After` honoured (default 60 s); a server asking for more waits this long (logged).
    pub max_retry_after: Duration,
    /// Connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer, headers or body (default 30 s).
    pub read_timeout: Duration,
    /// Whole-request timeout for pages and feeds (default 30 s).
    pub page_timeout: Duration,
    /// Whole-request timeout for image downloads (default 30 min).
    pub download_timeout: Duration,
    /// Deadline over all attempts of one page or feed request, waits included (default 3 min).
    pub page_deadline: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            user_agent: DEFAULT_USER_AGENT.into(),
            requests_per_second: 2.0,
            max_retries: 4,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(120),
            max_retry_after: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            page_timeout: Duration::from_secs(30),
            download_timeout: Duration::from_secs(30 * 60),
            page_deadline: Duration::from_secs(180),
        }
    }
}

/// What a download must match, when the feed tells.
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

/// Shared HTTP client with per-host rate limiting; cheap to share between worker threads by reference.
pub struct Fetcher {
    client: reqwest::blocking::Client,
    config: HttpConfig,
    next_slot: Mutex<HashMap<String, Instant>>,
    requests: std::sync::atomic::AtomicU64,
}

enum Attempt<T> {
    Done(T),
    Retry { error: EsaError, retry_after: Option<Duration> },
    Fail(EsaError),
}

fn http_err(url: &str, status: Option<u16>, message: impl Into<String>) -> EsaError {
    EsaError::Http { url: url.into(), status, message: message.into() }
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_body() || e.is_decode() {
        "connection broken while reading the body".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Parse `Retry-After` (delta-seconds or HTTP-date).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

impl Fetcher {
    /// Build the client (rustls TLS).
    pub fn new(config: HttpConfig) -> Result<Self> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            // The blocking client applies this to each wait (headers, every body read): a read timeout.
            .timeout(config.read_timeout)
            .build()
            .map_err(|e| http_err("(client)", None, describe(&e)))?;
        Ok(Fetcher { client, config, next_slot: Mutex::new(HashMap::new()), requests: 0.into() })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Number of HTTP requests sent so far (attempts, including retries).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Wait for this host's next request slot (≤ `requests_per_second`).
    fn wait_for_slot(&self, url: &str) {
        if self.config.requests_per_second <= 0.0 || !self.config.requests_per_second.is_finite() {
            return;
        }
        let host = url::Url::parse(url)
            .ok()
            .map(|u| format!("{}:{}", u.host_str().unwrap_or(""), u.port_or_known_default().unwrap_or(0)))
            .unwrap_or_default();
        let interval = Duration::from_secs_f64(1.0 / self.config.requests_per_second);
        let at = {
            let mut slots = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = slots.get(&host).copied().filter(|t| *t > now).unwrap_or(now);
            slots.insert(host, slot + interval);
            slot
        };
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let d = self.config.backoff_base.saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX));
        d.min(self.config.backoff_max)
    }

    /// Run `one` with rate limiting and retries.
    fn with_retries<T>(&self, url: &str, deadline: Duration, mut one: impl FnMut() -> Attempt<T>) -> Result<T> {
        let mut attempt = 0;
        let started = Instant::now();
        loop {
            self.wait_for_slot(url);
            self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match one() {
                Attempt::Done(t) => return Ok(t),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { error, retry_after } => {
                    let delay = retry_after
                        .map(|d| d.min(self.config.max_retry_after))
                        .unwrap_or_else(|| self.backoff(attempt));
                    let out_of_time = started.elapsed() + delay >= deadline;
                    if attempt >= self.config.max_retries || out_of_time {
                        let why = if out_of_time { "deadline reached" } else { "gave up" };
                        return Err(match error {
                            EsaError::Http { url, status, message } => EsaError::Http {
                                url,
                                status,
                                message: format!(
                                    "{message} ({why} after {} attempts in {:.0} s)",
                                    attempt + 1,
                                    started.elapsed().as_secs_f64()
                                ),
                            },
                            e => e,
                        });
                    }
                    match retry_after {
                        Some(asked) if asked > delay => warn!(
                            "{error}; the server asks to wait {} s, waiting {:.1} s (the Retry-After cap) before retry {}",
                            asked.as_secs(),
                            delay.as_secs_f64(),
                            attempt + 1
                        ),
                        _ => warn!("{error}; waiting {:.1} s before retry {}", delay.as_secs_f64(), attempt + 1),
                    }
                    std::thread::sleep(delay);
                    attempt += 1;
                }
            }
        }
    }

    /// Send a GET; `timeout` (pages) bounds the whole attempt, `None` (downloads) leaves the read
    /// timeout per wait and the caller's own total.
    fn send(&self, url: &str, timeout: Option<Duration>) -> Attempt<reqwest::blocking::Response> {
        let mut req = self.client.get(url);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        match req.send() {
            Err(e) => Attempt::Retry { error: http_err(url, None, describe(&e)), retry_after: None },
            Ok(resp) => {
                let status = resp.status();
                if status.is_success() {
                    return Attempt::Done(resp);
                }
                let code = status.as_u16();
                let error = http_err(url, Some(code), format!("HTTP {status}"));
                if code == 429 || status.is_server_error() || code == 408 {
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    Attempt::Retry { error, retry_after }
                } else {
                    Attempt::Fail(error)
                }
            }
        }
    }

    /// GET a page or feed as text.
    pub fn get_text(&self, url: &str) -> Result<String> {
        debug!("GET {url}");
        self.with_retries(url, self.config.page_deadline, || {
            match self.send(url, Some(self.config.page_timeout.min(self.config.read_timeout))) {
                Attempt::Done(resp) => match resp.text() {
                    Ok(t) => Attempt::Done(t),
                    Err(e) => Attempt::Retry { error: http_err(url, None, describe(&e)), retry_after: None },
                },
                Attempt::Retry { error, retry_after } => Attempt::Retry { error, retry_after },
                Attempt::Fail(e) => Attempt::Fail(e),
            }
        })
    }

    /// Download `url` to `dest`: streamed to `<dest>.part`, verified, then renamed; never a partial `dest`.
    pub fn download(&self, url: &str, dest: &Path, expected: &Expected) -> Result<Downloaded> {
        debug!("download {url} -> {}", dest.display());
        let part = part_path(dest);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| EsaError::io(dir, e))?;
        }
        let deadline = self.config.download_timeout.saturating_mul(2);
        let result = self.with_retries(url, deadline, || {
            let resp = match self.send(url, None) {
                Attempt::Done(r) => r,
                Attempt::Retry { error, retry_after } => return Attempt::Retry { error, retry_after },
                Attempt::Fail(e) => return Attempt::Fail(e),
            };
            match stream_to(resp, url, &part, expected, self.config.download_timeout) {
                Ok(d) => Attempt::Done(d),
                Err(e @ EsaError::Io { .. }) => Attempt::Fail(e),
                Err(e) => {
                    let _ = std::fs::remove_file(&part);
                    Attempt::Retry { error: e, retry_after: None }
                }
            }
        });
        match result {
            Ok(d) => {
                std::fs::rename(&part, dest).map_err(|e| EsaError::io(dest, e))?;
                Ok(d)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                Err(e)
            }
        }
    }
}

/// `<file>.part` beside `file`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

fn stream_to(
    mut resp: reqwest::blocking::Response,
    url: &str,
    part: &Path,
    expected: &Expected,
    total: Duration,
) -> Result<Downloaded> {
    let started = Instant::now();
    let announced = resp.content_length();
    let mut file = File::create(part).map_err(|e| EsaError::io(part, e))?;
    let mut sha = Sha256::new();
    let mut md5 = md5::Context::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(http_err(url, None, format!("connection broken after {bytes} bytes: {e}"))),
        };
        if started.elapsed() > total {
            return Err(http_err(url, None, format!("download took more than {} s; stopped", total.as_secs())));
        }
        file.write_all(&buf[..n]).map_err(|e| EsaError::io(part, e))?;
        sha.update(&buf[..n]);
        md5.consume(&buf[..n]);
        bytes += n as u64;
    }
    if let Some(len) = announced
        && len != bytes
    {
        return Err(http_err(url, None, format!("body ended after {bytes} of {len} bytes")));
    }
    file.sync_all().map_err(|e| EsaError::io(part, e))?;
    drop(file);
    let sha256 = format!("{:x}", sha.finalize());
    let md5 = format!("{:x}", md5.finalize());
    if let Some(size) = expected.size
        && size != bytes
    {
        return Err(EsaError::Verify { url: url.into(), message: format!("size {bytes} bytes, feed says {size}") });
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
            return Err(EsaError::Verify { url: url.into(), message: format!("checksum mismatch (feed {sum})") });
        }
    }
    Ok(Downloaded { bytes, sha256 })
}

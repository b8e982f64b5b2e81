//! A polite blocking HTTP client: timeouts, retries with exponential backoff, `Retry-After`, and a
//! minimum interval between requests (rate limit). Reusable by any crate that fetches from public
//! archives (the ESA scraper can use it too).
//!
//! Time bounds (defaults in [`RetryPolicy::default`]): a connect timeout (10 s), a read timeout
//! (30 s without a byte: a server that accepts and never answers fails fast), a total timeout per
//! attempt (120 s), `Retry-After` capped at 60 s, and a deadline over all attempts of one request
//! (5 min). Every wait before a retry is logged with its reason and length.
//!
//! [`check_body`] is the response validator: a 2xx status, a content type that is not a web page
//! or JSON, and magic bytes of the format asked for. Nothing is cached or written before it passes.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{HipsError, Result};

/// Retry, backoff and rate-limit policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts after the first one for retryable failures (network errors, 408, 429, 5xx).
    pub max_retries: u32,
    /// Delay before the first retry; doubled after each failure.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff delay.
    pub max_backoff: Duration,
    /// Minimum time between the starts of two requests from this client (0 = no limit).
    pub min_interval: Duration,
    /// Timeout of one attempt (connect + transfer).
    pub timeout: Duration,
    /// Timeout of the connect phase.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer (headers or body) before the attempt fails.
    pub read_timeout: Duration,
    /// Largest `Retry-After` honoured; a server asking for more waits this long (logged).
    pub max_retry_after: Duration,
    /// Deadline over all attempts of one request, waits included: no retry starts after it.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            min_interval: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            deadline: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A fast policy for tests against a local server: short backoff, no rate limit.
    pub fn fast() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            min_interval: Duration::ZERO,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_millis(200),
            deadline: Duration::from_secs(60),
        }
    }
}

/// A response whose body was read completely.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// What a body must be, for [`check_body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// A FITS file.
    Fits,
    /// Plain text (a HiPS `properties` file).
    Text,
}

impl From<crate::sky_image::ImageFormat> for BodyFormat {
    fn from(f: crate::sky_image::ImageFormat) -> Self {
        match f {
            crate::sky_image::ImageFormat::Jpg => BodyFormat::Jpeg,
            crate::sky_image::ImageFormat::Png => BodyFormat::Png,
            crate::sky_image::ImageFormat::Fits => BodyFormat::Fits,
        }
    }
}

impl BodyFormat {
    fn magic_ok(self, body: &[u8]) -> bool {
        match self {
            BodyFormat::Jpeg => body.starts_with(&[0xFF, 0xD8, 0xFF]),
            BodyFormat::Png => body.starts_with(b"\x89PNG\r\n\x1a\n"),
            BodyFormat::Fits => body.starts_with(b"SIMPLE  ="),
            BodyFormat::Text => std::str::from_utf8(body).is_ok(),
        }
    }
}

/// The response validator: a 2xx status, a content type that is not a web page or JSON (for image
/// formats), a non-empty body and the magic bytes of `format`. A maintenance page served with 200,
/// or labelled `image/png`, is refused here, before it can be cached or written as the output.
pub fn check_body(url: &str, resp: &Response, format: BodyFormat) -> Result<()> {
    let refuse = |reason: String| HipsError::BadResponse { url: url.to_string(), reason };
    if !resp.is_success() {
        return Err(refuse(format!("HTTP {}", resp.status)));
    }
    if resp.body.is_empty() {
        return Err(refuse("empty body".into()));
    }
    if format != BodyFormat::Text
        && let Some(ct) = resp.content_type.as_deref()
    {
        let ct = ct.to_ascii_lowercase();
        if ct.starts_with("text/") || ct.contains("html") || ct.contains("json") || ct.contains("xml") {
            return Err(refuse(format!("content type {ct:?} is not an image ({} bytes)", resp.body.len())));
        }
    }
    if !format.magic_ok(&resp.body) {
        let head: String = resp
            .body
            .iter()
            .take(16)
            .map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' })
            .collect();
        return Err(refuse(format!("body is not {format:?} (starts with {head:?}, {} bytes)", resp.body.len())));
    }
    Ok(())
}

/// Read a body; each read has the read timeout, and the attempt fails once it has run past `total`.
fn read_body(
    mut resp: reqwest::blocking::Response,
    started: Instant,
    total: Duration,
) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let mut body = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match resp.read(&mut buf) {
            Ok(0) => return Ok(body),
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("connection broken or stalled after {} body bytes: {e}", body.len())),
        }
        if started.elapsed() > total {
            return Err(format!("timed out: the answer took more than {} s", total.as_secs()));
        }
    }
}

/// A reqwest error with its sources, on one line.
fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out: no answer".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
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

impl Response {
    /// `true` for 2xx statuses.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Blocking HTTP client with the [`RetryPolicy`] applied to every request.
pub struct HttpClient {
    client: reqwest::blocking::Client,
    policy: RetryPolicy,
    last_start: Mutex<Option<Instant>>,
}

impl HttpClient {
    /// Build a client with a descriptive `User-Agent` (name and version of this crate).
    pub fn new(policy: RetryPolicy) -> Result<HttpClient> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("prettier-space-hips-client/", env!("CARGO_PKG_VERSION")))
            // The blocking client applies this to every connect and read wait: a read timeout.
            .timeout(policy.read_timeout.min(policy.timeout))
            .connect_timeout(policy.connect_timeout)
            .build()
            .map_err(|e| HipsError::Network { url: "(client setup)".into(), reason: e.to_string() })?;
        Ok(HttpClient { client, policy, last_start: Mutex::new(None) })
    }

    /// The policy in use.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// GET `url`, retrying network errors, 408, 429 and 5xx with backoff. Other statuses (200, 404,
    /// 400…) are returned as they are, body included, for the caller to interpret.
    pub fn get(&self, url: &str) -> Result<Response> {
        let mut backoff = self.policy.initial_backoff;
        let mut attempt = 0u32;
        let started = Instant::now();
        loop {
            self.wait_turn();
            let outcome = self.attempt(url);
            let wanted = match &outcome {
                Ok((r, retry_after)) if matches!(r.status, 408 | 429 | 500..=599) => {
                    Some(retry_after.unwrap_or(backoff).min(self.policy.max_retry_after))
                }
                Ok(_) => None,
                Err(_) => Some(backoff.min(self.policy.max_backoff)),
            };
            let Some(delay) = wanted else {
                return outcome.map(|(r, _)| r).map_err(|reason| HipsError::Network { url: url.into(), reason });
            };
            let what = match &outcome {
                Ok((r, _)) => format!("HTTP {}", r.status),
                Err(e) => e.clone(),
            };
            let out_of_time = started.elapsed() + delay >= self.policy.deadline;
            if attempt >= self.policy.max_retries || out_of_time {
                let why = if out_of_time { "deadline reached" } else { "retries exhausted" };
                return match outcome {
                    Ok((r, _)) => Ok(r),
                    Err(e) => Err(HipsError::Network {
                        url: url.to_string(),
                        reason: format!(
                            "{e} ({why} after {} attempts in {:.0} s)",
                            attempt + 1,
                            started.elapsed().as_secs_f64()
                        ),
                    }),
                };
            }
            if let Ok((_, Some(asked))) = &outcome
                && *asked > delay
            {
                tracing::warn!(
                    "{url}: {what}; the server asks to wait {} s, waiting {:.1} s (the Retry-After cap) before retry {}",
                    asked.as_secs(),
                    delay.as_secs_f64(),
                    attempt + 1
                );
            } else {
                tracing::warn!("{url}: {what}; waiting {:.1} s before retry {}", delay.as_secs_f64(), attempt + 1);
            }
            std::thread::sleep(delay);
            backoff = (backoff * 2).min(self.policy.max_backoff);
            attempt += 1;
        }
    }

    /// One attempt: the response with its `Retry-After`, or a one-line description of the failure.
    fn attempt(&self, url: &str) -> std::result::Result<(Response, Option<Duration>), String> {
        let attempt_started = Instant::now();
        let resp = self.client.get(url).send().map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_body(resp, attempt_started, self.policy.timeout)?;
        Ok((Response { status, content_type, body }, retry_after))
    }

    /// GET `url` and check the answer with [`check_body`] for `format` (an image or FITS).
    pub fn get_checked(&self, url: &str, format: BodyFormat) -> Result<Response> {
        let resp = self.get(url)?;
        check_body(url, &resp, format)?;
        Ok(resp)
    }

    /// Sleep until `min_interval` has passed since the previous request started.
    fn wait_turn(&self) {
        if self.policy.min_interval.is_zero() {
            return;
        }
        let mut last = self.last_start.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(prev) = *last {
            let due = prev + self.policy.min_interval;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        *last = Some(Instant::now());
    }
}

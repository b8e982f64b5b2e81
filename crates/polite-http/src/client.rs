//! [`Client`]: one blocking reqwest client with the [`Policy`] applied to every request.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, warn};

use crate::error::{HttpError, Result};
use crate::policy::Policy;

/// A response whose body was read completely.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// `true` for 2xx statuses.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The outcome of one attempt, for [`Client::with_retries`].
pub(crate) enum Attempt<T> {
    /// Finished.
    Done(T),
    /// A transient failure; `fallback` is what to return instead of an error when no retry is
    /// left (an answer with a retryable status, for callers that interpret statuses themselves).
    Retry { error: HttpError, retry_after: Option<Duration>, fallback: Option<T> },
    /// A failure that retrying cannot fix.
    Fail(HttpError),
}

/// Parse `Retry-After`: delta-seconds (integer or decimal) or an HTTP-date (a date in the past
/// means now).
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

/// A reqwest error with its sources, on one line.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out: no answer".to_string()
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

/// `host:port` of a URL, the key of the per-host rate limit.
fn host_key(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .map(|u| format!("{}:{}", u.host_str().unwrap_or(""), u.port_or_known_default().unwrap_or(0)))
        .unwrap_or_default()
}

/// Shared blocking HTTP client with per-host rate limiting; cheap to share between worker threads
/// by reference.
pub struct Client {
    client: reqwest::blocking::Client,
    policy: Policy,
    next_slot: Mutex<HashMap<String, Instant>>,
    requests: AtomicU64,
}

impl Client {
    /// Build the client (rustls TLS) with the policy's User-Agent and time bounds.
    pub fn new(policy: Policy) -> Result<Client> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(policy.user_agent.clone())
            .connect_timeout(policy.connect_timeout)
            // The blocking client applies this to each wait (headers, every body read): a read timeout.
            .timeout(policy.read_timeout)
            .build()
            .map_err(|e| HttpError::failed("(client setup)", None, describe(&e)))?;
        Ok(Client { client, policy, next_slot: Mutex::new(HashMap::new()), requests: AtomicU64::new(0) })
    }

    /// The policy in use.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Number of HTTP requests sent so far (attempts, including retries).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Wait for this host's next request slot (≤ `requests_per_second`).
    fn wait_for_slot(&self, url: &str) {
        let rps = self.policy.requests_per_second;
        if rps <= 0.0 || !rps.is_finite() {
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / rps);
        let at = {
            let mut slots = self.next_slot.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let host = host_key(url);
            let slot = slots.get(&host).copied().filter(|t| *t > now).unwrap_or(now);
            slots.insert(host, slot + interval);
            slot
        };
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
    }

    /// Run `one` with rate limiting and retries until it is done, fails for good, runs out of
    /// retries or would pass `deadline`. `one` gets the time left before the deadline, and bounds
    /// its attempt by it, so the deadline holds for an attempt that hangs too.
    pub(crate) fn with_retries<T>(
        &self,
        url: &str,
        deadline: Duration,
        mut one: impl FnMut(Duration) -> Attempt<T>,
    ) -> Result<T> {
        let mut attempt = 0;
        let started = Instant::now();
        loop {
            self.wait_for_slot(url);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let left = deadline.saturating_sub(started.elapsed()).max(Duration::from_millis(1));
            let (error, retry_after, fallback) = match one(left) {
                Attempt::Done(t) => return Ok(t),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { error, retry_after, fallback } => (error, retry_after, fallback),
            };
            let delay =
                retry_after.map(|d| d.min(self.policy.max_retry_after)).unwrap_or_else(|| self.policy.backoff(attempt));
            let out_of_time = started.elapsed() + delay >= deadline;
            if attempt >= self.policy.max_retries || out_of_time {
                if let Some(t) = fallback {
                    return Ok(t);
                }
                let why = if out_of_time { "deadline reached" } else { "gave up" };
                let note =
                    format!("({why} after {} attempts in {:.0} s)", attempt + 1, started.elapsed().as_secs_f64());
                return Err(match error {
                    HttpError::Failed { url, status, message } => {
                        HttpError::Failed { url, status, message: format!("{message} {note}") }
                    }
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

    /// Send one GET; `timeout` bounds the whole attempt, `None` leaves the read timeout per wait.
    /// Retryable statuses become [`Attempt::Retry`] carrying the response as `fallback`.
    /// A URL that is not absolute http(s) fails at once, without a retry.
    pub(crate) fn send(&self, url: &str, timeout: Option<Duration>) -> Attempt<reqwest::blocking::Response> {
        if let Err(why) = check_url(url) {
            return Attempt::Fail(HttpError::failed(url, None, why));
        }
        let mut req = self.client.get(url);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        match req.send() {
            Err(e) => {
                Attempt::Retry { error: HttpError::failed(url, None, describe(&e)), retry_after: None, fallback: None }
            }
            Ok(resp) => {
                let status = resp.status();
                let code = status.as_u16();
                if status.is_success() || !(code == 408 || code == 429 || status.is_server_error()) {
                    return Attempt::Done(resp);
                }
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                Attempt::Retry {
                    error: HttpError::failed(url, Some(code), format!("HTTP {status}")),
                    retry_after,
                    fallback: Some(resp),
                }
            }
        }
    }

    /// One attempt that reads the whole body within [`Policy::timeout`] and `left` (the time
    /// before the deadline), and within [`Policy::max_body_bytes`].
    fn attempt_read(&self, url: &str, left: Duration) -> Attempt<Response> {
        let started = Instant::now();
        let total = self.policy.timeout.min(left);
        let timeout = self.policy.read_timeout.min(total);
        let (resp, retry) = match self.send(url, Some(timeout)) {
            Attempt::Done(r) => (r, None),
            Attempt::Fail(e) => return Attempt::Fail(e),
            Attempt::Retry { error, retry_after, fallback: Some(r) } => (r, Some((error, retry_after))),
            Attempt::Retry { error, retry_after, fallback: None } => {
                return Attempt::Retry { error, retry_after, fallback: None };
            }
        };
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
        let budget = self.policy.max_body_bytes;
        if let Some(len) = resp.content_length().filter(|&n| n > budget) {
            return Attempt::Fail(HttpError::failed(url, None, over_budget(len, budget, "announces")));
        }
        let body = match read_body(resp, started, total, budget) {
            Ok(b) => b,
            Err(BodyError::TooLarge(n)) => {
                return Attempt::Fail(HttpError::failed(url, None, over_budget(n, budget, "sent")));
            }
            Err(BodyError::Broken(message)) => {
                return Attempt::Retry {
                    error: HttpError::failed(url, None, message),
                    retry_after: None,
                    fallback: None,
                };
            }
        };
        let response = Response { status, content_type, body };
        match retry {
            None => Attempt::Done(response),
            Some((error, retry_after)) => Attempt::Retry { error, retry_after, fallback: Some(response) },
        }
    }

    /// GET `url`, retrying network errors, 408, 429 and 5xx. Every other status (200, 404, 400…)
    /// is returned as it is, body included, for the caller to interpret; so is the last answer
    /// with a retryable status once no retry is left.
    pub fn get(&self, url: &str) -> Result<Response> {
        debug!("GET {url}");
        self.with_retries(url, self.policy.deadline, |left| self.attempt_read(url, left))
    }

    /// GET a page or feed as text: like [`Client::get`], but any status other than 2xx is an
    /// error ([`HttpError::Failed`] with the status).
    pub fn get_text(&self, url: &str) -> Result<String> {
        debug!("GET {url}");
        let resp = self.with_retries(url, self.policy.deadline, |left| match self.attempt_read(url, left) {
            Attempt::Retry { error, retry_after, .. } => Attempt::Retry { error, retry_after, fallback: None },
            Attempt::Done(r) if !r.is_success() => {
                let reason = reqwest::StatusCode::from_u16(r.status).map(|s| s.to_string()).unwrap_or_default();
                let message = if reason.is_empty() { format!("HTTP {}", r.status) } else { format!("HTTP {reason}") };
                Attempt::Fail(HttpError::failed(url, Some(r.status), message))
            }
            other => other,
        })?;
        Ok(String::from_utf8_lossy(&resp.body).into_owned())
    }
}

/// `url` as an absolute http(s) URL with a host, or why not.
pub(crate) fn check_url(url: &str) -> std::result::Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        Ok(u) => Err(format!("not an http(s) URL with a host (scheme {:?})", u.scheme())),
        Err(e) => Err(format!("not a valid URL: {e}")),
    }
}

/// The message of an answer above a byte budget.
pub(crate) fn over_budget(bytes: u64, budget: u64, verb: &str) -> String {
    format!("the server {verb} {bytes} bytes, above the budget of {budget} bytes; not retried")
}

/// Why reading a body stopped.
enum BodyError {
    /// More bytes than the budget (the count read so far).
    TooLarge(u64),
    /// The connection broke, stalled or ran out of time.
    Broken(String),
}

/// Read a body; each read has the read timeout, the attempt fails once it has run past `total`,
/// and reading stops as soon as the body passes `budget` bytes.
fn read_body(
    mut resp: reqwest::blocking::Response,
    started: Instant,
    total: Duration,
    budget: u64,
) -> std::result::Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match resp.read(&mut buf) {
            Ok(0) => return Ok(body),
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::TimedOut { "timed out" } else { "connection broken" };
                return Err(BodyError::Broken(format!(
                    "{what}: the body stalled or broke after {} bytes: {e}",
                    body.len()
                )));
            }
        }
        if body.len() as u64 > budget {
            return Err(BodyError::TooLarge(body.len() as u64));
        }
        if started.elapsed() > total {
            return Err(BodyError::Broken(format!(
                "timed out: the answer took more than {:.0} s",
                total.as_secs_f64()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_decimals_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("-3"), None);
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let d = parse_retry_after(&later).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120), "{d:?}");
    }

    #[test]
    fn the_rate_limit_is_per_host() {
        let client = Client::new(Policy { requests_per_second: 4.0, ..Policy::fast() }).unwrap();
        let t = Instant::now();
        client.wait_for_slot("http://a.example/1");
        client.wait_for_slot("http://b.example/1");
        assert!(t.elapsed() < Duration::from_millis(200), "two hosts do not wait for each other");
        client.wait_for_slot("http://a.example/2");
        assert!(t.elapsed() >= Duration::from_millis(240), "one host waits 1/rps: {:?}", t.elapsed());
        assert_eq!(host_key("https://a.example/x"), "a.example:443");
    }
}

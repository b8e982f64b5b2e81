//! A polite blocking HTTP client: timeouts, retries with exponential backoff, `Retry-After`, and a
//! minimum interval between requests (rate limit). Reusable by any crate that fetches from public
//! archives (the ESA scraper can use it too).

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
    /// Upper bound of one backoff delay (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Minimum time between the starts of two requests from this client (0 = no limit).
    pub min_interval: Duration,
    /// Timeout of one request (connect + transfer).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            min_interval: Duration::from_millis(200),
            timeout: Duration::from_secs(120),
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
            .timeout(policy.timeout)
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
        loop {
            self.wait_turn();
            let outcome = self.client.get(url).send().and_then(|resp| {
                let status = resp.status().as_u16();
                let content_type =
                    resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let body = resp.bytes()?.to_vec();
                Ok((Response { status, content_type, body }, retry_after))
            });
            let retryable_after = match &outcome {
                Ok((r, retry_after)) if matches!(r.status, 408 | 429 | 500..=599) => {
                    Some(retry_after.unwrap_or(backoff))
                }
                Ok(_) => None,
                Err(_) => Some(backoff),
            };
            match (outcome, retryable_after) {
                (Ok((r, _)), None) => return Ok(r),
                (outcome, Some(delay)) if attempt < self.policy.max_retries => {
                    let what = match &outcome {
                        Ok((r, _)) => format!("HTTP {}", r.status),
                        Err(e) => e.to_string(),
                    };
                    let delay = delay.min(self.policy.max_backoff);
                    tracing::warn!(url, attempt, ?delay, "retrying after {what}");
                    std::thread::sleep(delay);
                    backoff = (backoff * 2).min(self.policy.max_backoff);
                    attempt += 1;
                }
                (Ok((r, _)), Some(_)) => return Ok(r),
                (Err(e), _) => {
                    return Err(HipsError::Network {
                        url: url.to_string(),
                        reason: format!("{e} (after {} attempts)", attempt + 1),
                    });
                }
            }
        }
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

//! [`Policy`]: politeness and fault tolerance of a [`crate::Client`].

use std::time::Duration;

/// Default User-Agent: who we are and where to read about it.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "prettier-space/",
    env!("CARGO_PKG_VERSION"),
    " (training-data collection for astronomical image ML; https://github.com/prettier-space/prettier-space)"
);

/// HTTP behaviour: politeness and fault tolerance. The defaults suit services that return large
/// answers (hips2fits cutouts); [`Policy::archive`] suits page-by-page archive scraping, and
/// [`Policy::fast`] tests against a local server.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// User-Agent header sent with every request.
    pub user_agent: String,
    /// Most requests per second to one host (0 or not finite: no limit).
    pub requests_per_second: f64,
    /// Retries after the first attempt for transient failures (network errors, 408, 429, 5xx).
    pub max_retries: u32,
    /// Delay before the first retry; doubled after each failure.
    pub initial_backoff: Duration,
    /// Longest backoff delay.
    pub max_backoff: Duration,
    /// Largest `Retry-After` honoured; a server asking for more waits this long (logged).
    pub max_retry_after: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer, headers or body.
    pub read_timeout: Duration,
    /// Whole-attempt timeout of a request whose body is read into memory.
    pub timeout: Duration,
    /// Whole-attempt timeout of a download streamed to a file.
    pub download_timeout: Duration,
    /// Deadline over all attempts of one request, waits included: no retry starts after it.
    /// (Downloads use twice [`Policy::download_timeout`].)
    pub deadline: Duration,
    /// Largest body read into memory ([`crate::Client::get`], `get_text`); a larger answer fails
    /// at once (from `Content-Length`) or as soon as the bytes read pass it, and is not retried.
    pub max_body_bytes: u64,
    /// Largest download streamed to a file when the caller expects no size (with an expected
    /// size, that size is the budget).
    pub max_download_bytes: u64,
}

/// Default [`Policy::max_body_bytes`]: 512 MiB (a 5000×5000 three-plane float FITS cutout is 300 MB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 512 << 20;

/// Default [`Policy::max_download_bytes`]: 16 GiB (the largest ESA TIFFs are a few GB).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 16 << 30;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            user_agent: DEFAULT_USER_AGENT.into(),
            requests_per_second: 5.0,
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
            download_timeout: Duration::from_secs(30 * 60),
            deadline: Duration::from_secs(300),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
        }
    }
}

impl Policy {
    /// Page-by-page archive scraping: 2 requests per second per host, backoff from 1 s to 120 s,
    /// 30 s per page, 3 min over all attempts of one page, 30 min per download, pages and feeds
    /// of at most 64 MiB.
    pub fn archive() -> Self {
        Policy {
            requests_per_second: 2.0,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(180),
            max_body_bytes: 64 << 20,
            ..Policy::default()
        }
    }

    /// A fast policy for tests against a local server: short backoff, no rate limit.
    pub fn fast() -> Self {
        Policy {
            requests_per_second: 0.0,
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            download_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(60),
            ..Policy::default()
        }
    }

    /// The same policy with at most one request every `interval` to a host (zero: no limit).
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.requests_per_second = if interval.is_zero() { 0.0 } else { 1.0 / interval.as_secs_f64() };
        self
    }

    /// The delay before retry number `attempt + 1` when the server does not say.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let d = self.initial_backoff.saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX));
        d.min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = Policy {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            ..Policy::default()
        };
        let d: Vec<u64> = (0..5).map(|a| p.backoff(a).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 5, 5]);
        assert_eq!(p.backoff(40), Duration::from_secs(5));
    }

    #[test]
    fn min_interval_is_a_rate() {
        assert_eq!(Policy::default().with_min_interval(Duration::from_millis(250)).requests_per_second, 4.0);
        assert_eq!(Policy::default().with_min_interval(Duration::ZERO).requests_per_second, 0.0);
    }
}

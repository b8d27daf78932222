//! The retry policy of fetched sources, shared by HTTP ([`super::http`]) and MESH
//! ([`super::mesh`]): which answers are worth asking again, and how long to wait first.
//!
//! Connect errors, timeouts, a body cut off, 429 and 5xx are transient; any other answer
//! (401, 403, 404, a redirect loop) is given again on a retry, so it fails at once. The
//! wait is the server's `Retry-After` when it gives one (seconds or an HTTP date, at
//! most [`RETRY_AFTER_CAP`]), else exponential [`backoff`] with jitter.

use std::time::Duration;

use reqwest::StatusCode;

/// The longest `Retry-After` honoured: a server asking for an hour would hold the run
/// (and the data directory's lock) that long per attempt.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Exponential backoff from 1 s, doubling, capped at 60 s, with up to 50% jitter: with
/// the default 6 retries a request rides out about a minute's outage (from 250 ms, 4
/// retries gave up after 4-6 s, and a blip failed the night's run).
pub fn backoff(attempt: u32) -> Duration {
    let base = 1_000u64.saturating_mul(1 << attempt.min(6)).min(60_000);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0) as u64;
    Duration::from_millis(base + (nanos % (base / 2 + 1)))
}

/// True for an answer worth asking again: 429 Too Many Requests and every 5xx.
pub fn transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait a response's `Retry-After` asks for, at most [`RETRY_AFTER_CAP`]; `None`
/// without one (or one that is neither seconds nor a date).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after_seconds)
        .map(|s| Duration::from_secs(s).min(RETRY_AFTER_CAP))
}

/// Seconds a `Retry-After` value asks for: a number of seconds, or an HTTP date (`Wed,
/// 21 Oct 2026 07:28:00 GMT`) from now.
pub fn retry_after_seconds(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(s) = value.parse::<u64>() {
        return Some(s);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.num_seconds().max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_retry_after_may_be_a_date() {
        assert_eq!(retry_after_seconds("7"), Some(7));
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(0)
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        assert!(retry_after_seconds(&later).is_some_and(|s| (28..=30).contains(&s)));
        assert_eq!(retry_after_seconds("soon"), None);
    }

    #[test]
    fn retry_after_is_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after", "86400".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(60)));
    }

    #[test]
    fn only_429_and_5xx_are_transient() {
        for s in [429, 500, 502, 503, 504] {
            assert!(transient(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 410, 417] {
            assert!(!transient(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(0) >= Duration::from_millis(1_000)
                && backoff(0) <= Duration::from_millis(1_500)
        );
        assert!(backoff(3) >= Duration::from_millis(8_000));
        assert!(backoff(20) >= Duration::from_millis(60_000));
        assert!(backoff(20) <= Duration::from_millis(90_000));
        // The default retries' waits add up to about a minute or more.
        let total: Duration = (0..6).map(backoff).sum();
        assert!(total >= Duration::from_secs(63), "{total:?}");
    }
}

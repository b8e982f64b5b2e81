//! The API's error answer, shared by the handlers (`api`) and the inference worker (`worker`);
//! it depends on neither, so both depend on it one way.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered as `{"error": message}` with a status code. The message is plain text on one
/// line (JSON is not HTML: the page shows it through `textContent`, so an escaped `&lt;` would show
/// as the entity itself — issue #29 item 27); control characters become spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message: plain text, one line, no control characters.
    pub message: String,
}

impl ApiError {
    /// An error with this status and message (made plain: see [`plain_text`]).
    pub fn new(status: StatusCode, message: impl AsRef<str>) -> Self {
        ApiError { status, message: plain_text(message.as_ref()) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

/// `text` on one line: every control character (newlines, ANSI escapes, NUL) becomes a space, runs
/// of spaces collapse, and at most 500 characters are kept.
pub fn plain_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().map(|c| if c.is_control() { ' ' } else { c }) {
        if out.chars().count() >= 500 {
            out.push('…');
            break;
        }
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out.trim().to_string()
}

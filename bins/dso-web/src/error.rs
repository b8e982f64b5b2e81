//! The API's error answer, shared by the handlers (`api`) and the inference worker (`worker`);
//! it depends on neither, so both depend on it one way.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered as `{"error": message}` with a status code; the message is HTML-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable, HTML-escaped message.
    pub message: String,
}

impl ApiError {
    /// An error with this status and (already escaped) message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}

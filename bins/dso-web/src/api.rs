//! JSON API: `POST /api/predict` (multipart upload) and `GET /api/health`.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{
    Multipart, State,
    multipart::{MultipartError, MultipartRejection},
};
use axum::http::StatusCode;
use dso_classify::Task;
use tokio::sync::{mpsc::error::TrySendError, oneshot};

pub use crate::error::ApiError;
use crate::state::AppState;
use crate::worker::{InferenceJob, PredictResponse};

/// A multipart error as an API error. A body cut off by the size limit while streaming (a chunked
/// upload with no Content-Length) surfaces as a stream error; it is a 413 like any oversized body.
pub fn multipart_error(e: MultipartError, body_limit: usize) -> ApiError {
    let mut chain = e.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(inner) = src {
        chain.push_str(": ");
        chain.push_str(&inner.to_string());
        src = inner.source();
    }
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE || chain.contains("length limit exceeded") {
        return too_large(body_limit);
    }
    ApiError::new(e.status(), e.body_text())
}

/// The 413 answer, as JSON like every other API error.
pub fn too_large(body_limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the upload is larger than the {} MB limit", body_limit.div_ceil(1024 * 1024)),
    )
}

/// The image formats accepted, recognised from their first bytes (never from the file name).
pub fn sniff_format(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("tiff")
    } else {
        None
    }
}

/// `GET /api/health`: liveness, loaded models and queue occupancy.
pub async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let models: Vec<serde_json::Value> = state
        .cards
        .iter()
        .map(|c| serde_json::json!({ "name": c.name, "task": c.task, "classes": c.classes }))
        .collect();
    Json(serde_json::json!({
        "status": "ok",
        "models": models,
        "queue_capacity": state.queue.max_capacity(),
        "queue_free": state.queue.capacity(),
    }))
}

/// `POST /api/predict`: multipart fields `image` (the file), optional `task`
/// (`three-class` | `galaxy-nebula`) and `cam` (`1` to get the activation-map overlay).
pub async fn predict(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<PredictResponse>, ApiError> {
    let received = Instant::now();
    let mut multipart = multipart.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let mut image = None;
    let mut task = state.cards.first().map(|c| c.task).unwrap_or(Task::ThreeClass);
    let mut cam = false;
    let limit = state.config.body_limit;
    while let Some(field) = multipart.next_field().await.map_err(|e| multipart_error(e, limit))? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
        match name.as_str() {
            "image" | "file" => image = Some((file_name.unwrap_or_else(|| "upload".into()), data)),
            "task" => {
                let text = String::from_utf8_lossy(&data).trim().to_string();
                task = text.parse().map_err(|e: String| ApiError::new(StatusCode::BAD_REQUEST, e))?;
            }
            "cam" => cam = matches!(String::from_utf8_lossy(&data).trim(), "1" | "true" | "on" | "yes"),
            _ => {}
        }
    }
    let (file_name, bytes) =
        image.ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "no 'image' field in the upload"))?;
    let name = crate::error::plain_text(&file_name);
    if bytes.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("{name}: the file is empty")));
    }
    if sniff_format(&bytes).is_none() {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{name}: not a PNG, JPEG, TIFF or GIF image (the content is checked, not the file name)"),
        ));
    }
    let (reply, answer) = oneshot::channel();
    let job = InferenceJob { bytes, name, task, cam, received, reply };
    state.queue.try_send(job).map_err(|e| match e {
        TrySendError::Full(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the classifier is busy (queue full); try again shortly")
        }
        TrySendError::Closed(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the classifier has stopped"),
    })?;
    match tokio::time::timeout(state.config.inference_timeout, answer).await {
        Ok(Ok(result)) => result.map(Json),
        Ok(Err(_)) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the classifier dropped the request")),
        Err(_) => Err(ApiError::new(StatusCode::GATEWAY_TIMEOUT, "the classifier took too long")),
    }
}

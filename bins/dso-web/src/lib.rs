//! The deep-sky classifier web app: an axum router with an embedded page, a documentation page
//! built from the model cards, a JSON prediction API and a bounded inference queue.
//!
//! Safety: request bodies are capped (413), uploads are sniffed by content (415), the pixel
//! budget is checked from the image header before decoding (413), request heads must arrive within
//! `head_timeout` (the connection is closed), requests time out (408/504),
//! the inference queue is bounded (503 when full), nothing uploaded touches the disk, and every
//! user-supplied string is echoed back as JSON text (the page shows it through `textContent`) or,
//! in HTML pages, HTML-escaped.
#![warn(missing_docs)]

pub mod api;
pub mod conn;
pub mod error;
pub mod pages;
pub mod state;
pub mod worker;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use conn::HeadDeadlineListener;
pub use state::{AppConfig, AppState};
pub use worker::{InferenceJob, InferenceQueue, run_worker};

/// Build the application router.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.config.body_limit;
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/", get(pages::index))
        .route("/documentation", get(pages::documentation))
        .route("/static/app.js", get(pages::app_js))
        .route("/static/style.css", get(pages::style_css))
        .route("/api/health", get(api::health))
        .route("/api/predict", post(api::predict))
        .fallback(pages::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::map_response(move |resp: axum::response::Response| async move {
            json_errors(resp, body_limit)
        }))
}

/// Answers produced by the limit and timeout layers (plain text) become `{"error": …}` JSON like
/// the API's own errors.
fn json_errors(resp: axum::response::Response, body_limit: usize) -> axum::response::Response {
    use axum::response::IntoResponse;
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    match resp.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE if !json => api::too_large(body_limit).into_response(),
        axum::http::StatusCode::REQUEST_TIMEOUT if !json => {
            api::ApiError::new(axum::http::StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response()
        }
        _ => resp,
    }
}

/// Start the inference worker on its own thread with the bundled (or given) models and return
/// the app state. `B` is the inference backend (Flex by default).
pub fn start<B: burn::tensor::backend::Backend>(
    config: AppConfig,
    classifiers: Vec<dso_classify::Classifier<B>>,
) -> anyhow::Result<Arc<AppState>>
where
    B::Device: Send,
{
    let cards = classifiers.iter().map(|c| c.card.clone()).collect();
    let (queue, jobs) = worker::channel(config.queue_capacity);
    let limits = astro_image::ImageLimits { max_pixels: config.max_pixels };
    std::thread::Builder::new().name("dso-inference".into()).spawn(move || run_worker(jobs, classifiers, limits))?;
    Ok(Arc::new(AppState { config, queue, cards }))
}

//! The server's limits and the state its handlers share.

use std::time::Duration;

use dso_classify::ModelCard;

use crate::worker::InferenceQueue;

/// Limits and behaviour of the server.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Largest request body in bytes (default 20 MB).
    pub body_limit: usize,
    /// Largest accepted image, width × height, checked from the header before decoding.
    pub max_pixels: u64,
    /// Inference jobs that may wait; more get 503.
    pub queue_capacity: usize,
    /// Longest a client may take to send a request head (the connection is closed after that).
    pub head_timeout: Duration,
    /// Longest a whole request may take (408 after that).
    pub request_timeout: Duration,
    /// Longest a prediction may wait for the worker (504 after that).
    pub inference_timeout: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            body_limit: 20 * 1024 * 1024,
            max_pixels: 50_000_000,
            queue_capacity: 8,
            head_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            inference_timeout: Duration::from_secs(30),
        }
    }
}

/// Shared state of the handlers.
pub struct AppState {
    /// Server limits.
    pub config: AppConfig,
    /// The sending side of the bounded inference queue.
    pub queue: InferenceQueue,
    /// Model cards of the loaded models (first = default task).
    pub cards: Vec<ModelCard>,
}

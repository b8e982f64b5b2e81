//! The bounded inference queue and its single worker thread (burn inference is CPU-bound; one
//! worker keeps latency predictable and memory bounded).

use std::time::Instant;

use astro_image::{ColorMode, ImageError, ImageLimits};
use axum::body::Bytes;
use axum::http::StatusCode;
use base64::Engine;
use dso_classify::{Classifier, Task};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// One prediction request waiting for the worker.
pub struct InferenceJob {
    /// The uploaded file, in memory only.
    pub bytes: Bytes,
    /// The upload's file name (for messages; plain text on one line).
    pub name: String,
    /// Which task to answer.
    pub task: Task,
    /// Also render the class activation map overlay.
    pub cam: bool,
    /// When the request arrived.
    pub received: Instant,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Result<PredictResponse, ApiError>>,
}

/// The JSON answer of `POST /api/predict`.
#[derive(Debug, Clone, Serialize)]
pub struct PredictResponse {
    /// Most probable class.
    pub class: String,
    /// Probability of every class.
    pub probabilities: serde_json::Map<String, serde_json::Value>,
    /// Model name.
    pub model: String,
    /// Task answered.
    pub task: Task,
    /// Milliseconds from upload received to answer ready.
    pub elapsed_ms: f64,
    /// Class activation map overlay as a `data:image/png;base64,…` URL, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cam: Option<String>,
    /// Width and height of the uploaded image.
    pub image_size: [usize; 2],
}

/// The sending side of the bounded queue.
pub type InferenceQueue = mpsc::Sender<InferenceJob>;

/// A bounded queue holding at most `capacity` waiting jobs.
pub fn channel(capacity: usize) -> (InferenceQueue, mpsc::Receiver<InferenceJob>) {
    mpsc::channel(capacity.max(1))
}

/// Serve jobs until every sender is dropped: decode (pixel budget first), classify, reply.
pub fn run_worker<B: burn::tensor::backend::Backend>(
    mut jobs: mpsc::Receiver<InferenceJob>,
    classifiers: Vec<Classifier<B>>,
    limits: ImageLimits,
) {
    while let Some(job) = jobs.blocking_recv() {
        let answer = handle(&job, &classifiers, limits);
        // The client may have gone away (timeout): nothing to do then.
        let _ = job.reply.send(answer);
    }
}

fn handle<B: burn::tensor::backend::Backend>(
    job: &InferenceJob,
    classifiers: &[Classifier<B>],
    limits: ImageLimits,
) -> Result<PredictResponse, ApiError> {
    let classifier = classifiers
        .iter()
        .find(|c| c.card.task == job.task)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, format!("no model loaded for task {}", job.task)))?;
    let image =
        astro_image::image_io::load_image_bytes(&job.bytes, &job.name, ColorMode::Rgb, limits).map_err(|e| {
            let status = match e {
                ImageError::TooLarge { .. } | ImageError::AnimationTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                ImageError::Decode { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_REQUEST,
            };
            ApiError::new(status, e.to_string())
        })?;
    let (prediction, cam) = if job.cam {
        let (p, c) = classifier.predict_with_cam(&image);
        let png = dso_classify::overlay_png(&image, &c, 320)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        (p, Some(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))))
    } else {
        (classifier.predict(&image), None)
    };
    Ok(PredictResponse {
        class: prediction.class,
        probabilities: prediction.probabilities.into_iter().map(|(c, p)| (c, serde_json::json!(p))).collect(),
        model: classifier.card.name.clone(),
        task: job.task,
        elapsed_ms: job.received.elapsed().as_secs_f64() * 1e3,
        cam,
        image_size: [image.width, image.height],
    })
}

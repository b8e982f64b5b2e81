//! The embedded page, stylesheet and script, and the documentation page built from the model cards.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use dso_classify::EvalReport;
use dso_classify::ModelCard;

use crate::state::AppState;
use html_escape::encode_quoted_attribute as html_escape;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE_CSS: &str = include_str!("../assets/style.css");

/// `GET /`: the upload page.
pub async fn index(State(state): State<Arc<AppState>>) -> Html<String> {
    let mb = state.config.body_limit / (1024 * 1024);
    Html(INDEX_HTML.replace("<span id=\"limit-mb\">20</span>", &format!("<span id=\"limit-mb\">{mb}</span>")))
}

/// `GET /static/app.js`.
pub async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS).into_response()
}

/// `GET /static/style.css`.
pub async fn style_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE_CSS).into_response()
}

/// Anything else: 404 with the (escaped) path.
pub async fn not_found(uri: Uri) -> Response {
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Not found</title><p>No page at <code>{}</code>. <a href=\"/\">Back to the classifier</a>.</p>",
        html_escape(uri.path())
    );
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

fn report_html(out: &mut String, title: &str, r: &EvalReport) {
    let _ = write!(
        out,
        "<h4>{}</h4><p>{} images: accuracy <strong>{:.3}</strong> (95 % Wilson interval {:.3}–{:.3}), \
         log-loss {:.3}, expected calibration error {:.3}.</p><table><tr><th>class</th><th>precision</th><th>recall</th><th>images</th></tr>",
        html_escape(title),
        r.n,
        r.accuracy,
        r.accuracy_ci95.0,
        r.accuracy_ci95.1,
        r.log_loss,
        r.ece
    );
    for c in &r.per_class {
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            html_escape(&c.class),
            c.precision,
            c.recall,
            c.support
        );
    }
    out.push_str("</table><table><tr><th>true ↓ / predicted →</th>");
    for c in &r.per_class {
        let _ = write!(out, "<th>{}</th>", html_escape(&c.class));
    }
    out.push_str("</tr>");
    for (c, row) in r.per_class.iter().zip(&r.confusion) {
        let _ = write!(out, "<tr><th>{}</th>", html_escape(&c.class));
        for n in row {
            let _ = write!(out, "<td>{n}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

fn card_html(out: &mut String, card: &ModelCard) {
    let t = &card.training;
    let _ = write!(
        out,
        "<h3>{} ({})</h3><p>Classes: {}. {} parameters, input {}×{} RGB, {} epochs (weights of epoch {} kept), \
         batch {}, AdamW lr {} with warm-up and cosine decay, label smoothing {}, class-balanced sampling: {}.</p>\
         <p>Data: {}</p><p>Trained with <code>{}</code></p>",
        html_escape(&card.name),
        html_escape(card.task.slug()),
        html_escape(&card.classes.join(", ")),
        card.parameters,
        t.image_size,
        t.image_size,
        t.epochs,
        card.best_epoch,
        t.batch_size,
        t.learning_rate,
        t.label_smoothing,
        t.balance_classes,
        html_escape(&card.data),
        html_escape(&card.command)
    );
    if let Some(r) = &card.test {
        report_html(out, "Held-out test split (objects never seen in training)", r);
    }
    if let Some(cv) = &card.cross_validation {
        let folds: Vec<String> = cv.fold_accuracy.iter().map(|a| format!("{a:.3}")).collect();
        let _ = write!(
            out,
            "<p>{}-fold cross-validation by object: mean accuracy {:.3} ± {:.3} (folds: {}).</p>",
            cv.folds,
            cv.mean_accuracy,
            cv.std_accuracy,
            folds.join(", ")
        );
        report_html(out, "Pooled out-of-fold predictions", &cv.pooled);
    }
    if let Some(r) = &card.validation {
        report_html(out, "Validation split (used to pick the epoch)", r);
    }
}

/// `GET /documentation`: how it works, the model cards' figures and the data credits.
pub async fn documentation(State(state): State<Arc<AppState>>) -> Html<String> {
    let mut body = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Documentation — Prettier Space deep-sky classifier</title><link rel="stylesheet" href="/static/style.css"></head><body>
<header><h1>How the deep-sky classifier works</h1><nav><a href="/">Classifier</a> · <a href="/documentation">Documentation</a></nav></header><main>
<h2>What it does</h2>
<p>You upload a photograph of a deep-sky object; a small convolutional network tells whether it shows a <em>galaxy</em>,
a <em>nebula</em> (emission, reflection, dark or planetary nebula, supernova remnant, HII region) or a <em>star cluster</em>
(open or globular), with the probability of each class. A second model answers only galaxy vs nebula, the question of the
reference tool (Keras CNN, 0.81 validation accuracy on 236 + 228 Hubble images).</p>
<h2>How</h2>
<ol><li>The upload is checked: size limit, format recognised from its content (PNG, JPEG, TIFF, GIF), and the pixel count read
from the header before anything is decoded. Nothing is written to disk.</li>
<li>The image is converted to RGB, centre-cropped to a square and resized to 128×128, then standardised (zero mean, unit variance).</li>
<li><code>DsoNet</code> (burn, ≈0.3 M parameters: a 5×5 stride-2 stem and four 3×3 convolution blocks with batch norm, ReLU and
max-pooling, global average pooling, linear layer) gives class probabilities; the answer averages the eight flips and
quarter-turns of the image (test-time augmentation).</li>
<li>The class activation map (CAM: the last 8×8 feature map weighted by the classifier's weights for the predicted class;
identical to Grad-CAM for this architecture) shows where the network found its evidence.</li></ol>
<p>Training: the real Stellarium deep-sky images, split by object (all images of one object fall in the same split),
augmented with rotations by any angle, flips, zoom and shift, stretch (gamma/contrast) and background-level changes,
colour jitter, greyscale and noise; classes balanced by sampling.</p>
<h2>Model cards</h2>"#,
    );
    for card in &state.cards {
        card_html(&mut body, card);
    }
    body.push_str(
        r#"<p>The test split is small, so the intervals above are wide; read them, not just the point value.</p>
<h2>API</h2><p><code>POST /api/predict</code> (multipart: <code>image</code>, optional <code>task</code> =
<code>three-class</code>|<code>galaxy-nebula</code>, <code>cam</code> = 1) → <code>{class, probabilities, model, elapsed_ms, cam}</code>;
<code>GET /api/health</code>.</p>
<h2>Data credits</h2><p>Training images: the deep-sky image set of <a href="https://stellarium.org">Stellarium</a>
(Debian package <code>stellarium-data</code>, GPL-2+), photographs by Plover Hill Observatory, Adam Block (Mount Lemmon SkyCenter /
University of Arizona), the Digitized Sky Survey (STScI/AURA), ESO, Grasslands Observatory, NASA/ESA Hubble and other contributors
credited image by image in Stellarium's <code>textures.json</code>. Object classes from Stellarium's deep-sky catalogue.</p>
</main></body></html>"#,
    );
    Html(body)
}

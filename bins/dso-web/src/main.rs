//! `dso-web`: serve the deep-sky classifier page and API (127.0.0.1:8080 by default).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dso_classify::{Classifier, Task};
use dso_web::{AppConfig, router, start};
use ml_core::backend::FlexBackend;

/// Serve the galaxy / nebula / star-cluster classifier in the browser.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on (loopback by default; use 0.0.0.0:PORT to expose it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Directory with `<task>.mpk` + `<task>.json` from train-dso (default: the bundled models).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Largest request body in megabytes.
    #[arg(long, default_value_t = 20, value_parser = cli_args::positive_usize)]
    body_limit_mb: usize,
    /// Largest accepted image in megapixels (checked before decoding).
    #[arg(long, default_value_t = 50.0, value_parser = cli_args::positive_f64)]
    max_megapixels: f64,
    /// Inference jobs that may wait before new ones get 503.
    #[arg(long, default_value_t = 8, value_parser = cli_args::positive_usize)]
    queue: usize,
    /// Seconds a request may take.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_s: u64,
    /// Skip test-time augmentation (8× faster, slightly less accurate).
    #[arg(long)]
    no_tta: bool,
}

fn main() -> std::process::ExitCode {
    cli_args::run(|| tokio::runtime::Runtime::new().context("starting the async runtime")?.block_on(body()))
}

async fn body() -> anyhow::Result<()> {
    cli_args::init_logs("info");
    let args = Args::parse();
    let device = Default::default();
    let mut classifiers = Vec::new();
    for task in [Task::ThreeClass, Task::GalaxyNebula] {
        let mut c = match &args.weights {
            Some(dir) => Classifier::<FlexBackend>::load(dir, task.slug(), &device)?,
            None => Classifier::<FlexBackend>::bundled(task, &device)?,
        };
        c.tta = !args.no_tta;
        classifiers.push(c);
    }
    let config = AppConfig {
        body_limit: args.body_limit_mb * 1024 * 1024,
        max_pixels: (args.max_megapixels * 1e6) as u64,
        queue_capacity: args.queue,
        head_timeout: Duration::from_secs(args.timeout_s.min(10)),
        request_timeout: Duration::from_secs(args.timeout_s),
        inference_timeout: Duration::from_secs(args.timeout_s),
    };
    let head_timeout = config.head_timeout;
    let state = start(config, classifiers)?;
    let listener = tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
    tracing::info!("serving on http://{}", listener.local_addr()?);
    axum::serve(dso_web::HeadDeadlineListener::new(listener, head_timeout), router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

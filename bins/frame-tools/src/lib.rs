//! Shared helpers of the frame-tools binaries: the main wrapper (logs, arguments, one-line errors),
//! the backend choice and progress bars.
#![warn(missing_docs)]

use std::process::ExitCode;

use anyhow::Context;
use indicatif::ProgressBar;
use ml_core::backend::DeviceKind;

/// Run a binary: logs on stderr, arguments parsed into `A`, then `body`; a failure is one
/// `error: …` line and exit status 1.
pub fn main_with<A: clap::Parser>(body: fn(A) -> anyhow::Result<()>) -> ExitCode {
    cli_args::run(|| {
        init_logs();
        body(A::parse())
    })
}

/// The backend named by `--device`, else the default CPU backend compiled into this build.
pub fn device_or_default(device: Option<DeviceKind>) -> anyhow::Result<DeviceKind> {
    device.or_else(DeviceKind::default_cpu).context("no backend compiled in")
}

/// Initialise `tracing` logs on stderr (RUST_LOG overrides the `info` default).
pub fn init_logs() {
    cli_args::init_logs("info");
}

/// A progress bar over `len` frames with a frames/s readout.
pub fn frame_bar(len: usize, what: &str) -> ProgressBar {
    cli_args::progress_bar(
        len as u64,
        &format!("{what} {{bar:40.cyan/blue}} {{pos}}/{{len}} frames ({{per_sec}}, eta {{eta}})"),
    )
}

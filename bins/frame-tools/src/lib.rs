//! Shared helpers of the frame-tools binaries: logging set-up and progress bars.
#![warn(missing_docs)]

use indicatif::ProgressBar;

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

//! Shared helpers of the frame-tools binaries: logging set-up and progress bars.

use indicatif::{ProgressBar, ProgressStyle};

/// Initialise `tracing` logs on stderr (RUST_LOG overrides the `info` default).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// A progress bar over `len` frames with a frames/s readout.
pub fn frame_bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template(&format!(
        "{what} {{bar:40.cyan/blue}} {{pos}}/{{len}} frames ({{per_sec}}, eta {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Run `body` with `B` bound to the backend named by a `dataset::backend::DeviceKind` and `device`
/// to its default device (like `dataset::with_backend!`, whose `Backend::Device` path does not
/// resolve in burn 0.21, where `Device` lives on the `BackendTypes` supertrait).
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, $B:ident, $device:ident => $body:expr) => {{
        #[allow(unreachable_patterns)]
        match $kind {
            #[cfg(feature = "flex")]
            ::dataset::backend::DeviceKind::Flex => {
                type $B = ::dataset::backend::FlexBackend;
                let $device = ::core::default::Default::default();
                $body
            }
            #[cfg(feature = "ndarray")]
            ::dataset::backend::DeviceKind::NdArray => {
                type $B = ::dataset::backend::NdArrayBackend;
                let $device = ::core::default::Default::default();
                $body
            }
            #[cfg(feature = "cuda")]
            ::dataset::backend::DeviceKind::Cuda => {
                type $B = ::dataset::backend::CudaBackend;
                let $device = ::core::default::Default::default();
                $body
            }
            other => ::anyhow::bail!("backend {other} is not compiled into this build"),
        }
    }};
}

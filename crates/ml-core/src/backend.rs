//! Compute backends compiled into this build and the run-time `--device` choice between them.
//!
//! Library code stays generic over `B: Backend`; binaries pick a concrete backend with
//! [`with_backend!`](crate::with_backend) from a [`DeviceKind`] parsed from the command line.

use std::fmt;
use std::str::FromStr;

/// The pure-Rust CPU backend (burn-flex, rayon + simd): the default CPU path.
#[cfg(feature = "flex")]
pub type FlexBackend = burn::backend::Flex;
/// The burn-ndarray CPU backend: the fallback CPU path.
#[cfg(feature = "ndarray")]
pub type NdArrayBackend = burn::backend::NdArray<f32>;
/// The CUDA backend: the fast path on NVIDIA GPUs.
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda<f32, i32>;

/// Which compute backend to run on, chosen at run time (`--device flex|ndarray|cuda`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn-flex on the CPU.
    Flex,
    /// burn-ndarray on the CPU.
    NdArray,
    /// burn-cuda on the first NVIDIA GPU.
    Cuda,
}

impl DeviceKind {
    /// Every backend this binary was compiled with, best first.
    pub fn compiled() -> Vec<DeviceKind> {
        let mut kinds = Vec::new();
        if cfg!(feature = "cuda") {
            kinds.push(DeviceKind::Cuda);
        }
        if cfg!(feature = "flex") {
            kinds.push(DeviceKind::Flex);
        }
        if cfg!(feature = "ndarray") {
            kinds.push(DeviceKind::NdArray);
        }
        kinds
    }

    /// The CPU backend to use when the user names none (Flex when compiled in).
    pub fn default_cpu() -> Option<DeviceKind> {
        DeviceKind::compiled().into_iter().find(|k| *k != DeviceKind::Cuda)
    }

    /// Whether this backend was compiled into the current build.
    pub fn is_compiled(self) -> bool {
        DeviceKind::compiled().contains(&self)
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceKind::Flex => "flex",
            DeviceKind::NdArray => "ndarray",
            DeviceKind::Cuda => "cuda",
        })
    }
}

impl FromStr for DeviceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let kind = match s.to_ascii_lowercase().as_str() {
            "flex" | "cpu" => DeviceKind::Flex,
            "ndarray" => DeviceKind::NdArray,
            "cuda" | "gpu" => DeviceKind::Cuda,
            other => return Err(format!("unknown device '{other}' (expected flex, ndarray or cuda)")),
        };
        if !kind.is_compiled() {
            let have: Vec<String> = DeviceKind::compiled().iter().map(|k| k.to_string()).collect();
            return Err(format!(
                "device '{kind}' is not compiled into this build (available: {}); rebuild with --features {kind}",
                have.join(", ")
            ));
        }
        Ok(kind)
    }
}

/// The default device of a backend (the first GPU for CUDA, the CPU otherwise).
pub fn default_device<B: burn::tensor::backend::Backend>() -> B::Device {
    Default::default()
}

/// Run an expression generic over a backend type chosen at run time.
///
/// `with_backend!(kind, B, device => body, unavailable k => fallback)` binds the type alias `B`
/// to the backend named by `kind` (a [`DeviceKind`]) and `device` to its default device, then
/// evaluates `body`. Backends are enabled by the *calling* crate's `flex` / `ndarray` / `cuda`
/// features (the `#[cfg(feature = …)]` arms are expanded in the caller, so each caller forwards
/// its features to `ml-core`'s); a backend compiled into `ml-core` (through feature unification)
/// but not into the caller evaluates `fallback` with `k` bound to the kind, e.g.
/// `anyhow::bail!(…)` or `Err(…)`.
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, $B:ident, $device:ident => $body:expr, unavailable $other:ident => $fallback:expr) => {{
        #[allow(unreachable_patterns)]
        match $kind {
            #[cfg(feature = "flex")]
            $crate::backend::DeviceKind::Flex => {
                type $B = $crate::backend::FlexBackend;
                let $device = $crate::backend::default_device::<$B>();
                $body
            }
            #[cfg(feature = "ndarray")]
            $crate::backend::DeviceKind::NdArray => {
                type $B = $crate::backend::NdArrayBackend;
                let $device = $crate::backend::default_device::<$B>();
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::backend::DeviceKind::Cuda => {
                type $B = $crate::backend::CudaBackend;
                let $device = $crate::backend::default_device::<$B>();
                $body
            }
            $other => $fallback,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::ElementConversion;

    #[test]
    fn parses_compiled_backends_and_refuses_unknown_ones() {
        assert_eq!("flex".parse::<DeviceKind>(), Ok(DeviceKind::Flex));
        for (name, kind) in [("NDARRAY", DeviceKind::NdArray), ("cuda", DeviceKind::Cuda)] {
            match name.parse::<DeviceKind>() {
                Ok(k) => assert!(k == kind && kind.is_compiled()),
                Err(e) => assert!(!kind.is_compiled() && e.contains("rebuild with --features"), "{e}"),
            }
        }
        let err = "tpu".parse::<DeviceKind>().unwrap_err();
        assert!(err.contains("unknown device 'tpu'"), "{err}");
        assert_eq!(DeviceKind::default_cpu(), Some(DeviceKind::Flex));
    }

    fn sum_on<B: burn::tensor::backend::Backend>(device: &B::Device) -> f32 {
        burn::tensor::Tensor::<B, 1>::from_floats([1.0, 2.0, 3.5], device).sum().into_scalar().elem::<f32>()
    }

    #[test]
    fn with_backend_runs_generic_code_on_the_chosen_backend() {
        let total = crate::with_backend!(DeviceKind::Flex, B, device => Ok(sum_on::<B>(&device)),
            unavailable k => Err(format!("{k} missing")));
        assert_eq!(total, Ok(6.5));
    }
}

//! Images as `f32` planes, with no deep-learning dependency: the one home of the pixel type
//! ([`Planes`]; NaN marks pixels with no data), image file I/O with pixel budgets checked before
//! decoding, FITS, resampling (MATLAB-style bicubic, area), video decoding through the `ffmpeg`
//! tools, atomic writes, the 2-D FFT and phase correlation, Gaussian kernels and the eight
//! square symmetries. Every crate of the workspace reads and writes images through it;
//! burn tensors are `dataset`'s business.
#![warn(missing_docs)]

pub mod atomic;
mod decode_gate;
pub mod dihedral;
pub mod error;
pub mod fft;
pub mod fits;
pub mod image_io;
pub mod kernel;
pub mod luma;
pub mod naturalness;
pub mod planes;
pub mod quality;
pub mod registration;
pub mod resize;
pub mod video;

pub use atomic::{AtomicFile, write_atomic};
pub use error::{ImageError, Result};
pub use image_io::{ColorMode, Declared, Frames, ImageLimits, Planes, gate_bytes, gate_file};

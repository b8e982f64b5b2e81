//! The 2-D FFT (defined in `astro_image::fft`, re-exported under its old path).

pub use astro_image::fft::{Fft2, signed_freq};

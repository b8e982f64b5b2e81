//! PSNR and SSIM on Y as the SR papers compute them (MATLAB-style, `scale`-pixel border crop):
//! defined in `astro_image::quality`, re-exported here for the models' evaluation.

pub use astro_image::quality::{Quality, psnr_y, quality_y, ssim_plane, ssim_y, y_channel};

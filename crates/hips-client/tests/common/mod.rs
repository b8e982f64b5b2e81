//! Shared test helpers: an analytic sky and a real HTTP server on 127.0.0.1.

#![allow(dead_code)]

/// A smooth analytic sky, well defined everywhere (written in Cartesian coordinates so it is
/// continuous across RA = 0 and at the poles). Channel `c` in 0..3; values in [0.1, 0.9].
pub fn sky(c: usize, ra_deg: f64, dec_deg: f64) -> f64 {
    sky_k(c, ra_deg, dec_deg, 1.0)
}

/// [`sky`] with every spatial frequency multiplied by `k` (structure on finer scales).
pub fn sky_k(c: usize, ra_deg: f64, dec_deg: f64, k_freq: f64) -> f64 {
    let (ra, dec) = (ra_deg.to_radians(), dec_deg.to_radians());
    let (x, y, z) = (dec.cos() * ra.cos() * k_freq, dec.cos() * ra.sin() * k_freq, dec.sin() * k_freq);
    let k = c as f64;
    0.5 + 0.2 * (8.0 * x + 3.0 + k).sin() * (6.0 * y - k).cos() + 0.2 * (7.0 * z + 5.0 * y + 2.0 * k).sin()
}

/// The shared local servers (`test-servers`).
pub use test_servers::{Reply, TestServer};

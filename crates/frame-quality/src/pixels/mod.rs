//! Frame pixels as every concern sees them: the borrowed mono view ([`ImageView`]), block binning
//! (with the checkerboard noise map), separable filters, Laplacian energies and their reusable
//! buffers ([`Scratch`]). Readers bin while decoding, metrics and stacking filter; this module
//! depends on none of them.

mod filters;
mod view;

pub use filters::{
    Scratch, bin_into, bin2_with_noise, box3_into, gaussian_kernel, lane_sum, laplacian_energy, laplacian_row_energy,
    separable_into, smoothed_laplacian_energy, weighted_laplacian_row_energy,
};
pub use view::ImageView;

//! Simulated footage with per-frame truth, and the evaluation of rankers and stacks against it:
//! Kolmogorov turbulence over rendered planets ([`SimConfig`]), spatially varying seeing
//! ([`AnisoConfig`]), lunar/solar/close-up surfaces and the crater check simulator, the named
//! condition grid ([`all_cells`]), and Spearman ρ / top-k overlap / stack PSNR tables ([`evaluate_grid`]).

mod anisoplanatic;
mod eval;
mod grid;
mod grid_eval;
mod render;
mod sim;
mod surface;
mod surface_check;

pub use anisoplanatic::{AnisoConfig, AnisoOutput, AnisoSimulator, AnisoTruth, MAX_PATCHES, simulate_aniso_to_dir};
pub use eval::{EvalRow, compare_stack, evaluate_ranker, fit_gain, markdown_table, psnr, ssim};
pub use grid::{AnyCell, GridCell, all_cells, cells, check_cells, simulate_cell, surface_cells};
pub use grid_eval::{CellLoss, GridResult, RankFn, SimulatedVideo, cell_dirs, evaluate_grid, metric_rankers};
pub use render::{Target, load_texture};
pub use sim::{
    FrameTruth, MAX_SIM_SIZE, MIN_SIM_SIZE, SimConfig, SimOutput, Simulator, planet_texture, read_truth_csv,
    render_planet, simulate_to_dir, write_simulation,
};
pub use surface::{
    Layer, Scene, SurfaceConfig, SurfaceSimulator, SurfaceTruth, point_truth, read_regions_csv,
    simulate_surface_to_dir, write_surface_video,
};
pub use surface_check::{CheckConfig, CheckSimulator, simulate_check_to_dir};

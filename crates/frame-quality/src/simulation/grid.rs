//! The simulation grid: named cells that together cover what real planetary captures look like
//! (textures, disc sizes, photon levels, bit depths, seeing ranges, clouds, cut discs, colour
//! cameras, a frame-filling lunar field), so a ranker is judged on more than one condition.
//!
//! Every cell draws D/r0 per frame from a range, so each video holds good and bad frames. The
//! cells are seeded: `cells(frames, seed)` always yields the same videos.

use std::path::Path;

use crate::error::Result;
use crate::simulation::render::{Target, load_texture};
use crate::simulation::sim::{FrameTruth, SimConfig, SimOutput, Simulator, write_simulation};
use crate::simulation::surface::{Layer, Scene, SurfaceConfig, as_frame_truth, simulate_surface_to_dir};
use crate::simulation::surface_check::{CheckConfig, simulate_check_to_dir};

/// One named condition of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridCell {
    /// Short name, used as the folder name (`mars-small-bright-cut`).
    pub name: &'static str,
    /// What the cell stands for, in a capture's words.
    pub about: &'static str,
    /// Stellarium texture of the surface.
    pub texture: &'static str,
    /// The simulation settings.
    pub cfg: SimConfig,
}

/// The grid's cells, `frames` frames each, seeds derived from `seed` and the cell index.
pub fn cells(frames: usize, seed: u64) -> Vec<GridCell> {
    let base = SimConfig { frames, ..SimConfig::default() };
    let mut v = vec![
        GridCell {
            name: "mars-r80-2000e",
            about: "frame-sim's original condition (Mars r 80 px, 2000 e⁻, 8-bit), seeing drawn per frame",
            texture: "mars",
            cfg: SimConfig { d_over_r0: 3.0, d_over_r0_max: 10.0, ..base.clone() },
        },
        GridCell {
            name: "mars-small-bright-cut",
            about: "small bright Mars (r 30 px, 20 000 e⁻, 12-bit), D/r0 2–12, 10 % of frames cut by the edge",
            texture: "mars",
            cfg: SimConfig {
                size: 128,
                disc_radius: 30.0,
                peak_electrons: 20_000.0,
                bit_depth: 12,
                d_over_r0: 2.0,
                d_over_r0_max: 12.0,
                jitter_px: 2.0,
                cut_fraction: 0.1,
                ..base.clone()
            },
        },
        GridCell {
            name: "jupiter-faint-clouds",
            about: "faint, noisy Jupiter (r 100 px, 150 e⁻, 8-bit), transparency 0.6–1 with haze",
            texture: "jupiter",
            cfg: SimConfig {
                disc_radius: 100.0,
                peak_electrons: 150.0,
                d_over_r0: 3.0,
                d_over_r0_max: 10.0,
                transparency_min: 0.6,
                haze: 0.1,
                phase_deg: 5.0,
                ..base.clone()
            },
        },
        GridCell {
            name: "jupiter-colour",
            about: "Jupiter through an RGGB colour camera (r 90 px, 6000 e⁻, 12-bit)",
            texture: "jupiter",
            cfg: SimConfig {
                disc_radius: 90.0,
                peak_electrons: 6000.0,
                bit_depth: 12,
                d_over_r0: 3.0,
                d_over_r0_max: 9.0,
                bayer: true,
                phase_deg: 5.0,
                ..base.clone()
            },
        },
        GridCell {
            name: "saturn-rings",
            about: "Saturn with rings open 22° (r 45 px, 800 e⁻, 8-bit)",
            texture: "saturn",
            cfg: SimConfig {
                disc_radius: 45.0,
                peak_electrons: 800.0,
                d_over_r0: 3.0,
                d_over_r0_max: 9.0,
                phase_deg: 5.0,
                target: Target::Ringed { tilt_deg: 22.0 },
                ..base.clone()
            },
        },
        GridCell {
            name: "venus-crescent",
            about: "Venus at phase 110° (r 70 px, 20 000 e⁻, 16-bit), D/r0 4–12, transparency 0.8–1",
            texture: "venus",
            cfg: SimConfig {
                disc_radius: 70.0,
                peak_electrons: 20_000.0,
                bit_depth: 16,
                d_over_r0: 4.0,
                d_over_r0_max: 12.0,
                phase_deg: 110.0,
                transparency_min: 0.8,
                ..base.clone()
            },
        },
        GridCell {
            name: "moon-field",
            about: "lunar surface filling the frame (5000 e⁻, 12-bit), D/r0 2–10",
            texture: "moon_4k",
            cfg: SimConfig {
                disc_radius: 100.0,
                peak_electrons: 5000.0,
                bit_depth: 12,
                d_over_r0: 2.0,
                d_over_r0_max: 10.0,
                target: Target::Field,
                ..base.clone()
            },
        },
        GridCell {
            name: "mars-tiny-noisy",
            about: "tiny, very faint Mars (r 20 px, 60 e⁻, read noise 5 e⁻, 8-bit)",
            texture: "mars",
            cfg: SimConfig {
                size: 96,
                disc_radius: 20.0,
                peak_electrons: 60.0,
                read_noise: 5.0,
                d_over_r0: 2.0,
                d_over_r0_max: 8.0,
                ..base.clone()
            },
        },
        GridCell {
            name: "jupiter-large-16bit",
            about: "large Jupiter (r 200 px, 3000 e⁻, 16-bit), D/r0 3–12, 3 px jitter",
            texture: "jupiter",
            cfg: SimConfig {
                size: 448,
                disc_radius: 200.0,
                peak_electrons: 3000.0,
                bit_depth: 16,
                d_over_r0: 3.0,
                d_over_r0_max: 12.0,
                jitter_px: 3.0,
                phase_deg: 5.0,
                ..base.clone()
            },
        },
        GridCell {
            name: "mars-clouds-cut",
            about: "bright Mars (r 60 px, 10 000 e⁻, 12-bit) through clouds 0.6–1, 15 % cut discs",
            texture: "mars",
            cfg: SimConfig {
                size: 192,
                disc_radius: 60.0,
                peak_electrons: 10_000.0,
                bit_depth: 12,
                d_over_r0: 2.0,
                d_over_r0_max: 8.0,
                transparency_min: 0.6,
                haze: 0.05,
                cut_fraction: 0.15,
                ..base.clone()
            },
        },
        GridCell {
            name: "saturn-faint-colour",
            about: "faint Saturn through a colour camera (r 40 px, 400 e⁻, 8-bit), transparency 0.7–1",
            texture: "saturn",
            cfg: SimConfig {
                size: 224,
                disc_radius: 40.0,
                peak_electrons: 400.0,
                d_over_r0: 3.0,
                d_over_r0_max: 10.0,
                transparency_min: 0.7,
                bayer: true,
                phase_deg: 5.0,
                target: Target::Ringed { tilt_deg: 15.0 },
                ..base.clone()
            },
        },
        GridCell {
            name: "moon-faint-8bit",
            about: "lunar field at 500 e⁻, read noise 4 e⁻, 8-bit, D/r0 3–12, transparency 0.7–1",
            texture: "moon_4k",
            cfg: SimConfig {
                peak_electrons: 500.0,
                read_noise: 4.0,
                d_over_r0: 3.0,
                d_over_r0_max: 12.0,
                transparency_min: 0.7,
                disc_radius: 100.0,
                target: Target::Field,
                ..base
            },
        },
    ];
    for (i, c) in v.iter_mut().enumerate() {
        c.cfg.seed = seed.wrapping_mul(1000).wrapping_add(i as u64 + 1);
    }
    v
}

/// A cell of any simulator: a disc cell, a surface cell (layered seeing, [`SurfaceConfig`](crate::simulation::SurfaceConfig)) or a
/// cell of the independent check simulator ([`CheckConfig`](crate::simulation::CheckConfig)).
#[derive(Debug, Clone, PartialEq)]
pub enum AnyCell {
    /// A disc (or frame-filling field) cell of [`cells`].
    Disc(GridCell),
    /// A surface cell of [`surface_cells`].
    Surface(&'static str, &'static str, SurfaceConfig),
    /// A cell of the check simulator ([`check_cells`]).
    Check(&'static str, &'static str, CheckConfig),
}

impl AnyCell {
    /// The cell's name (its folder).
    pub fn name(&self) -> &'static str {
        match self {
            AnyCell::Disc(c) => c.name,
            AnyCell::Surface(n, ..) | AnyCell::Check(n, ..) => n,
        }
    }

    /// What the cell stands for.
    pub fn about(&self) -> &'static str {
        match self {
            AnyCell::Disc(c) => c.about,
            AnyCell::Surface(_, a, _) | AnyCell::Check(_, a, _) => a,
        }
    }

    /// Simulate the cell into `dir`; returns the per-frame truth.
    pub fn simulate(&self, dir: &Path, progress: &dyn Fn(usize)) -> Result<Vec<FrameTruth>> {
        Ok(match self {
            AnyCell::Disc(c) => simulate_cell(c, dir, progress)?.truth,
            AnyCell::Surface(_, _, cfg) => {
                simulate_surface_to_dir(cfg, dir, progress)?.iter().map(as_frame_truth).collect()
            }
            AnyCell::Check(_, _, cfg) => {
                simulate_check_to_dir(cfg, dir, progress)?.iter().map(as_frame_truth).collect()
            }
        })
    }
}

/// The surface cells (simulator 1, layered phase screens; the surface rule is tuned on these).
pub fn surface_cells(frames: usize, seed: u64) -> Vec<AnyCell> {
    let base = SurfaceConfig { frames, ..SurfaceConfig::default() };
    let ground = vec![Layer { weight: 1.0, shift: 0.0 }];
    let mut v = vec![
        (
            "moon-surface",
            "lunar terrain filling the frame, 3 layers (anisoplanatic), 5000 e⁻, 12-bit, D/r0 4–8",
            base.clone(),
        ),
        (
            "moon-surface-faint",
            "lunar terrain, 3 layers, 600 e⁻, read noise 4 e⁻, 8-bit, D/r0 3–12",
            SurfaceConfig {
                peak_electrons: 600.0,
                read_noise: 4.0,
                bit_depth: 8,
                d_over_r0: 3.0,
                d_over_r0_max: 12.0,
                ..base.clone()
            },
        ),
        (
            "moon-surface-iso",
            "lunar terrain, one ground layer (isoplanatic), 5000 e⁻, 12-bit, D/r0 4–8",
            SurfaceConfig { layers: ground, ..base.clone() },
        ),
        (
            "sun-granulation",
            "solar granulation (procedural, 14 px cells), 3 layers, 10 000 e⁻, 12-bit, D/r0 3–12",
            SurfaceConfig {
                scene: Scene::Granulation,
                peak_electrons: 10_000.0,
                d_over_r0: 3.0,
                d_over_r0_max: 12.0,
                ..base.clone()
            },
        ),
        (
            "jupiter-closeup",
            "Jupiter larger than the frame (r 384 px in 256², limb across a corner), 3 layers, 3000 e⁻, 8-bit, D/r0 3–8",
            SurfaceConfig { scene: Scene::PlanetCloseUp, peak_electrons: 3000.0, bit_depth: 8, d_over_r0: 3.0, ..base },
        ),
    ];
    v.iter_mut().enumerate().for_each(|(i, c)| c.2.seed = seed.wrapping_mul(1000).wrapping_add(101 + i as u64));
    v.into_iter().map(|(n, a, c)| AnyCell::Surface(n, a, c)).collect()
}

/// The check simulator's cells (procedural craters, smooth D/r0 field; nothing is tuned on them).
pub fn check_cells(frames: usize, seed: u64) -> Vec<AnyCell> {
    let base = CheckConfig { frames, ..CheckConfig::default() };
    let mut v = vec![
        ("check-craters", "procedural craters, smooth D/r0 field (a 0.6), 4000 e⁻, 12-bit, D/r0 3–8", base.clone()),
        (
            "check-craters-faint",
            "procedural craters, a 0.4, 400 e⁻, read noise 4 e⁻, 8-bit, D/r0 3–12",
            CheckConfig {
                peak_electrons: 400.0,
                read_noise: 4.0,
                bit_depth: 8,
                d_over_r0: 3.0,
                d_over_r0_max: 12.0,
                ..base.clone()
            },
        ),
        (
            "check-craters-iso",
            "procedural craters, isoplanatic (a 0), 4000 e⁻, 12-bit, D/r0 3–8",
            CheckConfig { aniso: 0.0, ..base },
        ),
    ];
    v.iter_mut().enumerate().for_each(|(i, c)| c.2.seed = seed.wrapping_mul(1000).wrapping_add(201 + i as u64));
    v.into_iter().map(|(n, a, c)| AnyCell::Check(n, a, c)).collect()
}

/// Every cell of `frame-sim --grid`: the disc cells, then the surface cells; with `check`, the
/// check simulator's cells instead.
pub fn all_cells(frames: usize, seed: u64, check: bool) -> Vec<AnyCell> {
    if check {
        return check_cells(frames, seed);
    }
    let mut v: Vec<AnyCell> = cells(frames, seed).into_iter().map(AnyCell::Disc).collect();
    v.extend(surface_cells(frames, seed));
    v
}

/// Simulate one cell into `dir` (`frames.ser`, `truth.csv`, `truth.png`, `sim.json`).
pub fn simulate_cell(cell: &GridCell, dir: &Path, progress: &dyn Fn(usize)) -> Result<SimOutput> {
    let surface = load_texture(cell.texture)?;
    let rings = match cell.cfg.target {
        Target::Ringed { .. } => Some(load_texture("saturn_rings_radial")?),
        _ => None,
    };
    let mut sim = Simulator::with_scene(cell.cfg.clone(), &surface, rings.as_ref())?;
    write_simulation(&mut sim, dir, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_uniquely_and_cover_the_conditions() {
        let cells = cells(10, 1);
        let mut names: Vec<_> = cells.iter().map(|c| c.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), cells.len());
        assert!(cells.iter().any(|c| c.cfg.bayer));
        assert!(cells.iter().any(|c| c.cfg.cut_fraction > 0.0));
        assert!(cells.iter().any(|c| c.cfg.transparency_min < 1.0));
        assert!(cells.iter().any(|c| c.cfg.target == Target::Field));
        assert!(cells.iter().any(|c| matches!(c.cfg.target, Target::Ringed { .. })));
        let radii: Vec<f32> =
            cells.iter().filter(|c| c.cfg.target != Target::Field).map(|c| c.cfg.disc_radius).collect();
        assert!(radii.iter().any(|&r| r <= 20.0) && radii.iter().any(|&r| r >= 200.0));
        let photons: Vec<f32> = cells.iter().map(|c| c.cfg.peak_electrons).collect();
        assert!(photons.iter().any(|&p| p <= 60.0) && photons.iter().any(|&p| p >= 20_000.0));
        for c in &cells {
            assert!(c.cfg.size as f32 >= 2.0 * c.cfg.disc_radius || c.cfg.target != Target::Disc, "{}", c.name);
        }
    }

    #[test]
    fn the_grid_holds_surface_cells_and_the_check_simulator_its_own() {
        let all = all_cells(10, 1, false);
        let mut names: Vec<_> = all.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        let surf: Vec<_> = all.iter().filter(|c| matches!(c, AnyCell::Surface(..))).collect();
        let scenes: Vec<Scene> =
            surf.iter().filter_map(|c| if let AnyCell::Surface(_, _, s) = c { Some(s.scene) } else { None }).collect();
        for s in [Scene::Lunar, Scene::Granulation, Scene::PlanetCloseUp] {
            assert!(scenes.contains(&s), "{s:?}");
        }
        let check = all_cells(10, 1, true);
        assert!(check.iter().all(|c| matches!(c, AnyCell::Check(..)) && !names.contains(&c.name())));
        // A small check cell simulates into the common files.
        let AnyCell::Check(_, _, cfg) = &check[0] else { unreachable!() };
        let small = AnyCell::Check("t", "t", CheckConfig { size: 64, frames: 3, regions: 2, ..cfg.clone() });
        let dir = tempfile::tempdir().unwrap();
        let truth = small.simulate(dir.path(), &|_| {}).unwrap();
        assert_eq!(truth.len(), 3);
        assert!(truth.iter().all(|t| t.strehl > 0.0 && t.strehl <= 1.0 && !t.cut));
        assert!(dir.path().join("regions.csv").is_file() && dir.path().join("truth.png").is_file());
    }

    #[test]
    fn cut_frames_have_zero_quality_and_clouds_dim_frames() {
        let mut cell = cells(24, 7).into_iter().find(|c| c.name == "mars-clouds-cut").unwrap();
        cell.cfg.size = 96;
        cell.cfg.disc_radius = 30.0;
        cell.cfg.cut_fraction = 0.5;
        let dir = tempfile::tempdir().unwrap();
        let out = simulate_cell(&cell, dir.path(), &|_| {}).unwrap();
        let cut: Vec<_> = out.truth.iter().filter(|t| t.cut).collect();
        assert!(!cut.is_empty() && cut.len() < out.truth.len());
        assert!(cut.iter().all(|t| t.quality() == 0.0 && t.strehl > 0.0));
        assert!(out.truth.iter().all(|t| (0.6..=1.0).contains(&t.transparency)));
        let d: Vec<f32> = out.truth.iter().map(|t| t.d_over_r0).collect();
        assert!(d.iter().all(|&d| (2.0..=8.0).contains(&d)) && d.iter().any(|&x| x != d[0]));
        // A cut frame has its disc against the right edge: the right column is bright.
        let r = crate::io::SerReader::open(&out.ser).unwrap();
        let i = out.truth.iter().position(|t| t.cut).unwrap();
        let f = r.read_planes(i).unwrap();
        let right: f32 = (0..96).map(|y| f.data[y * 96 + 95]).sum::<f32>() / 96.0;
        let j = out.truth.iter().position(|t| !t.cut).unwrap();
        let g = r.read_planes(j).unwrap();
        let right_whole: f32 = (0..96).map(|y| g.data[y * 96 + 95]).sum::<f32>() / 96.0;
        assert!(right > right_whole + 0.05, "cut {right} whole {right_whole}");
    }

    #[test]
    fn bayer_cells_write_a_colour_video() {
        let mut cell = cells(3, 2).into_iter().find(|c| c.name == "jupiter-colour").unwrap();
        cell.cfg.size = 64;
        cell.cfg.disc_radius = 20.0;
        cell.cfg.pupil_px = 16;
        let dir = tempfile::tempdir().unwrap();
        let out = simulate_cell(&cell, dir.path(), &|_| {}).unwrap();
        let r = crate::io::SerReader::open(&out.ser).unwrap();
        assert!(matches!(r.header().color, crate::io::ColorId::Bayer(_)));
        let p = r.read_planes(0).unwrap();
        assert_eq!(p.channels, 3);
    }
}

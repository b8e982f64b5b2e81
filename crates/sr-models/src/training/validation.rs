//! Validation figures and sample grids of a generator on fixed pairs.

use astro_image::Planes;
use burn::prelude::*;

use crate::data::SrSample;
use crate::error::Result;
use crate::inference::{bicubic_upscale, upscale_planes};
use crate::model::{Generator, GeneratorConfig};
use astro_image::quality::{Quality, quality_y};

/// PSNR/SSIM (Y, `scale`-pixel border; 1 pixel for ×1) of a model over fixed pairs, averaged.
pub fn evaluate<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    pairs: &[SrSample],
    device: &B::Device,
) -> Result<Quality> {
    let border = config.scale().max(1);
    let mut sum = Quality::default();
    for p in pairs {
        let out = upscale_planes(model, config, &p.lr, device)?;
        let q = quality_y(&out, &p.hr, border)?;
        sum.psnr += q.psnr;
        sum.ssim += q.ssim;
    }
    let n = pairs.len().max(1) as f64;
    Ok(Quality { psnr: sum.psnr / n, ssim: sum.ssim / n })
}

/// The baseline: MATLAB-style bicubic upscaling (×1: the degraded input itself).
pub fn evaluate_bicubic(pairs: &[SrSample], scale: usize) -> Result<Quality> {
    let border = scale.max(1);
    let mut sum = Quality::default();
    for p in pairs {
        let up = bicubic_upscale(&p.lr, p.hr.width, p.hr.height);
        let q = quality_y(&up, &p.hr, border)?;
        sum.psnr += q.psnr;
        sum.ssim += q.ssim;
    }
    let n = pairs.len().max(1) as f64;
    Ok(Quality { psnr: sum.psnr / n, ssim: sum.ssim / n })
}

/// A grid of rows `[bicubic input | model output | target]` for eyeballing progress.
pub fn sample_grid<B: Backend>(
    model: &Generator<B>,
    config: &GeneratorConfig,
    pairs: &[SrSample],
    device: &B::Device,
) -> Result<Planes> {
    let rows: Vec<[Planes; 3]> = pairs
        .iter()
        .map(|p| {
            let up = bicubic_upscale(&p.lr, p.hr.width, p.hr.height);
            Ok([up, upscale_planes(model, config, &p.lr, device)?, p.hr.to_rgb()])
        })
        .collect::<Result<_>>()?;
    let cell_w = rows.iter().map(|r| r[2].width).max().unwrap_or(1);
    let cell_h = rows.iter().map(|r| r[2].height).max().unwrap_or(1);
    let mut grid = Planes::zeros(3, cell_h * rows.len().max(1), cell_w * 3);
    for (ri, row) in rows.iter().enumerate() {
        for (ci, cell) in row.iter().enumerate() {
            let cell = cell.to_rgb();
            for c in 0..3 {
                for y in 0..cell.height {
                    for x in 0..cell.width {
                        let v = cell.get(c, y, x).clamp(0.0, 1.0);
                        let gw = grid.width;
                        grid.plane_mut(c)[(ri * cell_h + y) * gw + ci * cell_w + x] = v;
                    }
                }
            }
        }
    }
    Ok(grid)
}

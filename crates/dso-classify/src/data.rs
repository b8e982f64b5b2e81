//! Labelled deep-sky images in memory: preprocessing to a fixed square size, loading the
//! Stellarium set for a task, k-fold splits grouped by object, and batching into tensors.

use std::collections::BTreeMap;

use astro_image::{ColorMode, ImageLimits, Planes};
use burn::tensor::{Tensor, backend::Backend};
use dataset::stellarium::DsoImage;
use image::{ImageBuffer, Rgb, imageops::FilterType};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::classes::Task;
use crate::error::{DsoError, Result};

/// Default network input side in pixels.
pub const DEFAULT_IMAGE_SIZE: usize = 128;

/// One labelled image, preprocessed to `size × size` RGB.
#[derive(Debug, Clone)]
pub struct DsoSample {
    /// Object key (several images of one object share it; folds never split it).
    pub object: String,
    /// Source file name.
    pub file: String,
    /// Class index in the task's label order.
    pub label: usize,
    /// The preprocessed image.
    pub image: Planes,
}

/// Turn any decoded image into the network's input: RGB, centre-cropped to a square, resized
/// (antialiased) to `size × size`.
pub fn prepare_image(planes: &Planes, size: usize) -> Planes {
    let rgb = planes.to_rgb();
    let side = rgb.width.min(rgb.height).max(1);
    let (x0, y0) = ((rgb.width - side) / 2, (rgb.height - side) / 2);
    let mut buf: ImageBuffer<Rgb<f32>, Vec<f32>> = ImageBuffer::new(side as u32, side as u32);
    let (w, h) = (rgb.width, rgb.height);
    for (x, y, px) in buf.enumerate_pixels_mut() {
        let (sx, sy) = (x as usize + x0, y as usize + y0);
        *px = Rgb([rgb.data[sy * w + sx], rgb.data[(h + sy) * w + sx], rgb.data[(2 * h + sy) * w + sx]]);
    }
    let filter = if side > size { FilterType::Triangle } else { FilterType::CatmullRom };
    let small = image::imageops::resize(&buf, size as u32, size as u32, filter);
    let mut out = Planes::zeros(3, size, size);
    out.bit_depth = planes.bit_depth;
    for (x, y, px) in small.enumerate_pixels() {
        for c in 0..3 {
            out.data[(c * size + y as usize) * size + x as usize] = px.0[c].clamp(0.0, 1.0);
        }
    }
    out
}

/// Objects whose Stellarium images are mosaic tiles of the *inside* of a galaxy (the Large and
/// Small Magellanic Clouds: 21 tiles of star fields and HII regions). A tile is not a picture of
/// a galaxy, so these are left out of training and evaluation (see docs/dso-classify.md).
pub const GALAXY_INTERIOR_TILES: [&str; 2] = ["LMC", "SMC"];

/// Whether an image shows a whole object the classifier can be asked about (not a galaxy-interior tile).
pub fn is_classifiable(image: &DsoImage) -> bool {
    !GALAXY_INTERIOR_TILES.contains(&image.object.as_str())
}

/// Load and preprocess every image of `images` that the task uses (in parallel; `tick` is
/// called once per image for progress reporting).
pub fn load_samples(images: &[DsoImage], task: Task, size: usize, tick: &(dyn Fn() + Sync)) -> Result<Vec<DsoSample>> {
    images
        .par_iter()
        .filter_map(|img| task.label_of(img.class).map(|label| (img, label)))
        .map(|(img, label)| {
            let planes = astro_image::image_io::load_image(&img.path, ColorMode::Rgb, ImageLimits::default())?;
            tick();
            Ok(DsoSample {
                object: img.object.clone(),
                file: img.file.clone(),
                label,
                image: prepare_image(&planes, size),
            })
        })
        .collect()
}

/// Count samples per class.
pub fn class_counts(samples: &[DsoSample], num_classes: usize) -> Vec<usize> {
    let mut counts = vec![0; num_classes];
    for s in samples {
        counts[s.label] += 1;
    }
    counts
}

/// Split sample indices into `k` folds so that all images of one object land in the same fold;
/// objects are shuffled (seeded) and dealt class by class, which keeps the folds roughly stratified.
pub fn k_fold_by_object(samples: &[DsoSample], k: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in samples.iter().enumerate() {
        groups.entry(s.object.as_str()).or_default().push(i);
    }
    if k < 2 || groups.len() < k {
        return Err(DsoError::Config(format!("{k} folds need at least {k} objects (have {})", groups.len())));
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    groups.shuffle(&mut rng);
    groups.sort_by_key(|g| samples[g[0]].label);
    let mut folds = vec![Vec::new(); k];
    for (i, g) in groups.into_iter().enumerate() {
        folds[i % k].extend(g);
    }
    Ok(folds)
}

/// Stack equally sized RGB images into a `[N, 3, H, W]` tensor.
pub fn images_to_tensor<B: Backend>(images: &[&Planes], device: &B::Device) -> Tensor<B, 4> {
    let (h, w) = (images[0].height, images[0].width);
    dataset::stack_nchw(images.iter().map(|i| i.data.as_slice()), [3, h, w], device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(object: &str, label: usize) -> DsoSample {
        DsoSample { object: object.into(), file: format!("{object}.png"), label, image: Planes::zeros(3, 4, 4) }
    }

    #[test]
    fn folds_keep_objects_together_and_cover_everything_once() {
        let mut samples = Vec::new();
        for o in 0..30 {
            for _ in 0..(1 + o % 3) {
                samples.push(sample(&format!("obj{o}"), o % 3));
            }
        }
        let folds = k_fold_by_object(&samples, 5, 3).unwrap();
        let mut seen = vec![0; samples.len()];
        for (f, fold) in folds.iter().enumerate() {
            assert!(!fold.is_empty());
            for &i in fold {
                seen[i] += 1;
                for (g, other) in folds.iter().enumerate() {
                    if g != f {
                        assert!(other.iter().all(|&j| samples[j].object != samples[i].object));
                    }
                }
            }
            // Dealt class by class: every fold gets every class.
            let labels: std::collections::BTreeSet<usize> = fold.iter().map(|&i| samples[i].label).collect();
            assert_eq!(labels.len(), 3);
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert!(k_fold_by_object(&samples[..2], 5, 3).is_err());
    }

    #[test]
    fn prepare_crops_to_a_square_and_resizes() {
        let mut p = Planes::zeros(1, 40, 80);
        for y in 0..40 {
            for x in 0..80 {
                p.data[y * 80 + x] = if (20..60).contains(&x) { 1.0 } else { 0.0 };
            }
        }
        let out = prepare_image(&p, 16);
        assert_eq!((out.channels, out.height, out.width), (3, 16, 16));
        // The centre square is the bright part only.
        assert!(out.data.iter().all(|v| *v > 0.9), "{:?}", &out.data[..16]);
    }
}

//! Tutorial: turn a real Stellarium deep-sky photograph into a DSS-like survey image.
//!
//! ```text
//! datasets/stellarium/fetch.sh                      # once: unpack the Stellarium images
//! cargo run --release --example degrade_stellarium -- [OUT_DIR] [IMAGE] [SEED]
//! ```
//!
//! `OUT_DIR` defaults to `out/degrade`, `IMAGE` to `m42.png` (any file name of the set), `SEED`
//! to 0. It writes, as PNG:
//!
//! * `<name>_hr.png` – the clean original (the model's target);
//! * `<name>_dss_x4.png` – the DSS-like ×4 low-resolution input (the model's input);
//! * `<name>_dss_x4_bicubic_up.png` – that input scaled back ×4 by MATLAB bicubic, to compare
//!   side by side with the original;
//! * `<name>_dss_x1.png` – the same-size DSS look (a "prettify" model's input).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use astro_image::image_io::save_image;
use astro_image::resize::imresize;
use astro_image::{ColorMode, ImageLimits};
use dataset::degrade::{DegradationConfig, degrade};
use dataset::stellarium::StellariumSet;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let out_dir = PathBuf::from(args.next().unwrap_or_else(|| "out/degrade".into()));
    let file = args.next().unwrap_or_else(|| "m42.png".into());
    let seed: u64 = match args.next() {
        Some(s) => s.parse().with_context(|| format!("seed '{s}' is not a whole number"))?,
        None => 0,
    };

    // 1. Find the data set and its manifest (one entry per image, with object, field and credit).
    let set = StellariumSet::locate()?;
    let manifest = set.manifest()?;
    let Some(entry) = manifest.iter().find(|e| e.file.eq_ignore_ascii_case(&file)) else {
        bail!("{file}: not in the Stellarium manifest ({} images under {})", manifest.len(), set.nebulae_dir.display());
    };
    println!(
        "{}: {} ({}, {}), field {:.2}°, credit: {}",
        entry.file,
        entry.designations.first().map(String::as_str).unwrap_or(&entry.object),
        entry.type_name,
        entry.class,
        entry.fov_deg,
        entry.credit
    );

    // 2. Load it as RGB planes in [0, 1].
    let hr = astro_image::image_io::load_image(&entry.path, ColorMode::Rgb, ImageLimits::default())?;
    let true_scale = entry.fov_deg * 3600.0 / hr.width.max(hr.height) as f64;
    println!("{}x{} pixels, {true_scale:.2}″/px as photographed", hr.width, hr.height);

    // 3. Degrade with the DSS preset. With no source pixel scale set, the preset assumes the
    //    clean image is sampled `scale` times finer than DSS's 1″/px, so seeing (1.5–3″) and
    //    plate grain have their DSS size relative to the output pixels. To use the photograph's
    //    own scale instead: `DegradationConfig::dss().with_source_pixel_scale(true_scale)`.
    let cfg = DegradationConfig::dss();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let t = Instant::now();
    let lr = degrade(&hr, &cfg, 4, &mut rng)?;
    println!("DSS ×4 degradation: {}x{} in {:.0} ms", lr.width, lr.height, t.elapsed().as_secs_f64() * 1e3);
    let same_size = degrade(&hr, &cfg, 1, &mut rng)?;

    // 4. Save the pair (atomic writes; the directory is created).
    let stem = file.trim_end_matches(".png");
    let outputs = [
        (format!("{stem}_hr.png"), hr.clone()),
        (format!("{stem}_dss_x4.png"), lr.clone()),
        (format!("{stem}_dss_x4_bicubic_up.png"), {
            let mut up = imresize(&lr, lr.width * 4, lr.height * 4);
            up.clamp01();
            up
        }),
        (format!("{stem}_dss_x1.png"), same_size),
    ];
    for (name, planes) in &outputs {
        let path = out_dir.join(name);
        save_image(planes, &path, 8)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

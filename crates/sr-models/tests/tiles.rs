//! Tiled inference has no visible seams: on a real survey image (a 160 px crop of the bundled DSS image
//! of NGC 185) with the bundled ×4 model, the tiled output — through the same band-streaming path
//! the `upscale` binary uses for big files — matches the whole-image pass within 1/255 away from
//! the image border.

use astro_image::{ColorMode, ImageLimits, Planes};
use burn::backend::Flex;
use sr_models::{Family, ModelChoice, SAMPLE_SURVEY_IMAGE};
use sr_models::{Tiling, upscale_planes, upscale_tiled, upscale_tiled_rows};

fn crop_of_the_sample(size: usize) -> Planes {
    let img =
        astro_image::image_io::load_image_bytes(SAMPLE_SURVEY_IMAGE, "sample", ColorMode::Rgb, ImageLimits::default())
            .unwrap();
    // The galaxy's core and its surroundings: structure, stars and sky.
    img.crop((img.width - size) / 2, (img.height - size) / 2, size, size).unwrap()
}

#[test]
fn tiled_and_whole_image_outputs_agree_away_from_the_border() {
    let d = Default::default();
    let (config, model, _) = ModelChoice::Bundled(Family::General).load::<Flex>(4, &d).unwrap();
    let img = crop_of_the_sample(160);
    let whole = upscale_planes(&model, &config, &img, &d).unwrap();
    // The binary's default overlap (32) on small tiles, so a 160 px crop crosses seams both ways.
    let tiling = Tiling::new(80, 32);
    let mut tiles = 0;
    let tiled = upscale_tiled(&model, &config, &img, tiling, &d, &mut |_, total| tiles = total).unwrap();
    assert!(tiles >= 9, "only {tiles} tiles: the test would not cross seams");
    assert_eq!((tiled.width, tiled.height), (640, 640));
    // Streamed bands cover the output exactly once, top to bottom, and equal the assembled result.
    let mut rows = 0;
    let mut same = true;
    upscale_tiled_rows(&model, &config, &img, tiling, &d, &mut |_, _| {}, &mut |band: &Planes| {
        for c in 0..3 {
            same &= band.plane(c) == &tiled.plane(c)[rows * 640..(rows + band.height) * 640];
        }
        rows += band.height;
        Ok(())
    })
    .unwrap();
    assert!(same && rows == 640);
    let border = 16; // output pixels (4 input pixels) along the image edge
    let mut max = 0f32;
    for c in 0..3 {
        for y in border..640 - border {
            for x in border..640 - border {
                let i = y * 640 + x;
                max = max.max((whole.plane(c)[i] - tiled.plane(c)[i]).abs());
            }
        }
    }
    eprintln!("max |tiled − whole| away from the border: {max} ({:.3}/255)", max * 255.0);
    assert!(max < 1.0 / 255.0, "tiled output differs by {max} (≥ 1/255): seams");
}

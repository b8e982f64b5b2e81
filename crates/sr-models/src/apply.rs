//! Whole-file enhancement: still images (PNG/JPEG/TIFF, 8/16-bit, streamed in bands), animated
//! GIFs (every frame, timing kept), FITS images and videos, with a pixel budget on the output,
//! the output checked before any inference, and atomic writes.

use std::io::Cursor;
use std::path::Path;

use astro_image::{ImageLimits, Planes};
use burn::prelude::*;
use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::{AnimationDecoder, Delay, Frame, RgbaImage};

pub use crate::enhancer::{DEFAULT_MAX_OUTPUT_PIXELS, Enhancer};
use crate::error::{Result, SrError};
use crate::inference::{TileSource, upscale_tiled, upscale_tiled_rows};
use crate::still::{StillFormat, load_still, write_still};
use astro_image::AtomicFile;
use astro_image::atomic::output_folder;

pub use crate::report::Report;

/// The kinds of input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// PNG, JPEG or TIFF.
    Still,
    /// A (possibly animated) GIF.
    Gif,
    /// A FITS image.
    Fits,
    /// A video read through ffmpeg.
    Video,
}

impl InputKind {
    /// Output extensions this kind of input can be written to.
    pub fn output_extensions(self) -> &'static [&'static str] {
        match self {
            InputKind::Still => &["png", "jpg", "jpeg", "tif", "tiff"],
            InputKind::Gif => &["gif"],
            InputKind::Fits => &["fits", "fit", "fts"],
            InputKind::Video => astro_image::video::VIDEO_EXTENSIONS,
        }
    }

    /// The unit progress is counted in.
    pub fn unit(self) -> &'static str {
        match self {
            InputKind::Video => "frames",
            InputKind::Gif => "frames",
            _ => "tiles",
        }
    }
}

/// Whether `path` starts with GIF's magic; a FIFO, socket or device is not opened (it could block
/// forever) and reads as "not a GIF", so the still-image reader refuses it by name.
fn is_gif(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    astro_image::image_io::open_regular(path).is_ok_and(|mut f| f.read_exact(&mut magic).is_ok()) && &magic == b"GIF8"
}

/// What kind of input `input` is: GIF and FITS by content, videos by extension, else a still image.
pub fn input_kind(input: &Path) -> InputKind {
    if is_gif(input) {
        InputKind::Gif
    } else if crate::fits::is_fits(input) {
        InputKind::Fits
    } else if astro_image::video::is_video_path(input) {
        InputKind::Video
    } else {
        InputKind::Still
    }
}

/// Check, before any inference, that `input` exists and `output` has an extension this input
/// can be written to and a folder that exists; returns the input's kind.
pub fn plan(input: &Path, output: &Path) -> Result<InputKind> {
    if !input.exists() {
        return Err(SrError::BadInput { name: input.display().to_string(), reason: "no such file".into() });
    }
    if input.is_dir() {
        return Err(SrError::BadInput {
            name: input.display().to_string(),
            reason: "is a folder (its output must be a folder too)".into(),
        });
    }
    let kind = input_kind(input);
    let ext = output.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let allowed = kind.output_extensions();
    if !allowed.contains(&ext.as_str()) {
        let what = match kind {
            InputKind::Still => "an image",
            InputKind::Gif => "a GIF",
            InputKind::Fits => "a FITS image",
            InputKind::Video => "a video",
        };
        return Err(SrError::BadInput {
            name: output.display().to_string(),
            reason: format!(
                "unsupported output extension '{ext}' for {what} input {} (use .{})",
                input.display(),
                allowed.join(", .")
            ),
        });
    }
    output_folder(output)?;
    if std::fs::canonicalize(input).ok().is_some_and(|i| std::fs::canonicalize(output).ok() == Some(i)) {
        return Err(SrError::BadInput {
            name: output.display().to_string(),
            reason: "output is the input file".into(),
        });
    }
    Ok(kind)
}

pub(crate) use crate::report::check_output;

/// Enhance `input` into `output` with the model (tiled), by the input's kind (see [`input_kind`]).
pub fn enhance_file<B: Backend>(
    enhancer: &Enhancer<'_, B>,
    input: &Path,
    output: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let kind = plan(input, output)?;
    match kind {
        InputKind::Gif => enhance_gif(enhancer, input, output, progress),
        InputKind::Fits => crate::fits::enhance_fits(enhancer, input, output, progress),
        InputKind::Video => crate::video::enhance_video(enhancer, input, output, progress),
        InputKind::Still => enhance_still(enhancer, input, output, progress),
    }
}

/// Enhance a PNG/JPEG/TIFF image, streaming the output in bands (PNG/TIFF keep 16 bits).
pub fn enhance_still<B: Backend>(
    enhancer: &Enhancer<'_, B>,
    input: &Path,
    output: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let Enhancer { model, config, tiling, max_output_pixels, device } = *enhancer;
    let s = config.scale();
    let format =
        output.extension().and_then(|e| e.to_str()).and_then(StillFormat::from_extension).ok_or_else(|| {
            SrError::BadInput { name: output.display().to_string(), reason: "not a .png, .jpg or .tif output".into() }
        })?;
    let (w, h) = astro_image::image_io::image_dimensions(input)?;
    let (w, h) = (w as usize, h as usize);
    check_output(input, w * s, h * s, 1, max_output_pixels)?;
    let img = load_still(input, ImageLimits { max_pixels: u64::MAX })?;
    let mut out = AtomicFile::create(output)?;
    let depth = img.bit_depth().clamp(8, 16);
    let channels = img.channels();
    write_still(
        format,
        out.file(),
        output,
        (w * s, h * s, channels),
        depth,
        Box::new(|sink: &mut dyn FnMut(&Planes) -> Result<()>| {
            upscale_tiled_rows(model, config, &img, tiling, device, progress, sink)
        }),
    )?;
    drop(img);
    out.commit()?;
    Ok(Report { input: (w, h), output: (w * s, h * s), frames: 1 })
}

fn rgba_to_planes(img: &RgbaImage) -> (Planes, Vec<u8>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut p = Planes::zeros(3, h, w);
    let mut alpha = Vec::with_capacity(w * h);
    for (i, px) in img.pixels().enumerate() {
        for c in 0..3 {
            p.plane_mut(c)[i] = px[c] as f32 / 255.0;
        }
        alpha.push(px[3]);
    }
    (p, alpha)
}

/// Enhance every frame of an animated GIF, keeping each frame's delay and the loop.
pub fn enhance_gif<B: Backend>(
    enhancer: &Enhancer<'_, B>,
    input: &Path,
    output: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let Enhancer { model, config, tiling, max_output_pixels, device } = *enhancer;
    let bad = |reason: String| SrError::BadInput { name: input.display().to_string(), reason };
    // Frames × pixels (from the headers, before decoding) within the budget at input scale.
    let s2 = (config.scale() * config.scale()) as u64;
    let limits = ImageLimits { max_pixels: max_output_pixels / s2 };
    let (bytes, _) = astro_image::image_io::gate_file(input, limits, astro_image::image_io::Frames::All)?;
    let decoder = GifDecoder::new(Cursor::new(&bytes)).map_err(|e| bad(format!("not a readable GIF: {e}")))?;
    let frames: Vec<Frame> =
        decoder.into_frames().collect_frames().map_err(|e| bad(format!("damaged GIF frame: {e}")))?;
    if frames.is_empty() {
        return Err(bad("GIF has no frames".into()));
    }
    let s = config.scale();
    let (w, h) = (frames[0].buffer().width() as usize, frames[0].buffer().height() as usize);
    if w == 0 || h == 0 {
        return Err(bad("zero-size GIF".into()));
    }
    check_output(input, w * s, h * s, frames.len(), max_output_pixels)?;
    let mut encoded = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut encoded, 10);
        enc.set_repeat(Repeat::Infinite).map_err(|e| bad(e.to_string()))?;
        let n = frames.len();
        for (i, frame) in frames.iter().enumerate() {
            let (planes, alpha) = rgba_to_planes(frame.buffer());
            let up = upscale_tiled(model, config, &planes, tiling, device, &mut |_, _| {})?;
            let (ow, oh) = (up.width, up.height);
            let fw = planes.width;
            let mut out = RgbaImage::new(ow as u32, oh as u32);
            for (idx, px) in out.pixels_mut().enumerate() {
                let (y, x) = (idx / ow, idx % ow);
                let a = alpha[(y / s) * fw + x / s];
                let v = |c: usize| (up.plane(c)[idx].clamp(0.0, 1.0) * 255.0).round() as u8;
                *px = image::Rgba([v(0), v(1), v(2), a]);
            }
            let delay: Delay = frame.delay();
            enc.encode_frame(Frame::from_parts(out, frame.left() * s as u32, frame.top() * s as u32, delay))
                .map_err(|e| SrError::BadInput { name: output.display().to_string(), reason: e.to_string() })?;
            progress(i + 1, n);
        }
    }
    let mut out = AtomicFile::create(output)?;
    std::io::Write::write_all(out.file(), &encoded).map_err(|e| SrError::io(output, e))?;
    out.commit()?;
    Ok(Report { input: (w, h), output: (w * s, h * s), frames: frames.len() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Generator, GeneratorConfig, LightSrConfig};
    use astro_image::image_io::save_image;
    use burn::backend::Flex;

    fn tiny(scale: usize) -> (GeneratorConfig, Generator<Flex>) {
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(scale).with_features(4).with_blocks(1));
        let g = cfg.init::<Flex>(&Default::default()).unwrap();
        (cfg, g)
    }

    #[test]
    fn gif_frames_and_delays_survive() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.gif");
        {
            let mut bytes = Vec::new();
            {
                let mut enc = GifEncoder::new(&mut bytes);
                enc.set_repeat(Repeat::Infinite).unwrap();
                for (i, ms) in [(0u8, 100u32), (1, 250), (2, 40)] {
                    let img = RgbaImage::from_fn(12, 10, |x, y| image::Rgba([x as u8 * 20, y as u8 * 25, i * 80, 255]));
                    enc.encode_frame(Frame::from_parts(img, 0, 0, Delay::from_numer_denom_ms(ms, 1))).unwrap();
                }
            }
            std::fs::write(&src, bytes).unwrap();
        }
        let (cfg, g) = tiny(2);
        let out = dir.path().join("out.gif");
        let d = Default::default();
        let r = enhance_file(&Enhancer::new(&g, &cfg, &d), &src, &out, &mut |_, _| {}).unwrap();
        assert_eq!(r, Report { input: (12, 10), output: (24, 20), frames: 3 });
        let frames =
            GifDecoder::new(Cursor::new(std::fs::read(&out).unwrap())).unwrap().into_frames().collect_frames().unwrap();
        assert_eq!(frames.len(), 3);
        let delays: Vec<u32> =
            frames.iter().map(|f| f.delay().numer_denom_ms().0 / f.delay().numer_denom_ms().1.max(1)).collect();
        assert_eq!(delays, vec![100, 250, 40]);
        assert_eq!(frames[1].buffer().dimensions(), (24, 20));
    }

    #[test]
    fn bad_inputs_fail_with_the_file_name_and_keep_existing_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, g) = tiny(2);
        let d = Default::default();
        let out = dir.path().join("out.png");
        std::fs::write(&out, b"precious").unwrap();
        let run = |input: &Path, max: u64| {
            let e = Enhancer::new(&g, &cfg, &d).with_max_output_pixels(max);
            enhance_file(&e, input, &out, &mut |_, _| {}).unwrap_err().to_string()
        };
        // Not an image.
        let txt = dir.path().join("notes.png");
        std::fs::write(&txt, b"hello, not a picture").unwrap();
        let e = run(&txt, DEFAULT_MAX_OUTPUT_PIXELS);
        assert!(e.contains("notes.png"), "{e}");
        // Truncated PNG.
        let good = dir.path().join("good.png");
        save_image(&Planes::zeros(3, 40, 40), &good, 8).unwrap();
        let bytes = std::fs::read(&good).unwrap();
        let cut = dir.path().join("cut.png");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let e = run(&cut, DEFAULT_MAX_OUTPUT_PIXELS);
        assert!(e.contains("cut.png"), "{e}");
        // Over the output budget (40×40 ×2 = 6400 px > 5000).
        let e = run(&good, 5000);
        assert!(e.contains("good.png") && e.contains("budget"), "{e}");
        // Missing file.
        let e = run(&dir.path().join("missing.png"), DEFAULT_MAX_OUTPUT_PIXELS);
        assert!(e.contains("missing.png"), "{e}");
        assert_eq!(std::fs::read(&out).unwrap(), b"precious");
        // And a good run replaces it with a real PNG.
        let r = enhance_file(&Enhancer::new(&g, &cfg, &d), &good, &out, &mut |_, _| {}).unwrap();
        assert_eq!(r.output, (80, 80));
        assert_eq!(astro_image::image_io::image_dimensions(&out).unwrap(), (80, 80));
    }
}

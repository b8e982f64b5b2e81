//! Model files and training checkpoints.
//!
//! A model file (`.srmodel`) is ml-core's container ([`ml_core::model_file::write_model`]: kind
//! `sr-generator`, format version 1, the [`GeneratorConfig`] JSON as config, the generator record —
//! burn named MessagePack, half precision, gzip — as record). Files written before the container
//! (`PSSRMDL1` + u32 length + the same JSON + the same record, the bundled weights among them) are
//! detected by their magic and read as before. Loading goes through
//! [`ml_core::model_file`]: the file's size before reading, the header's counts
//! ([`check_config`]) before any layer is allocated, the inflated weights under a byte budget,
//! then the architecture, the scale, every parameter shape and finite weights, so a file for
//! another model, a forged header or a diverged (NaN) model is a clear error.
//! Checkpoints are sectioned files written atomically (temp file + rename).

use std::io::Write;
use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, HalfPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use flate2::Compression;
use flate2::write::GzEncoder;
use ml_core::model_file::{self, MAX_MODEL_FILE_BYTES, MAX_WEIGHT_BYTES, check_count};

use crate::error::{Result, SrError};
pub use crate::model::param_shapes;
use crate::model::{Generator, GeneratorConfig};

/// Magic of the layout before the container (still read: the bundled weights use it).
const MODEL_MAGIC: &[u8; 8] = b"PSSRMDL1";
/// The container kind of a super-resolution generator.
pub const MODEL_KIND: &str = "sr-generator";
/// The container format version written (and the newest read).
pub const MODEL_FORMAT_VERSION: u32 = 1;
const CKPT_MAGIC: &[u8; 8] = b"PSSRCKP1";

/// The widest generator accepted (`--features`, and a model file's header).
pub const MAX_FEATURES: usize = 256;
/// The deepest generator accepted (`--blocks`, and a model file's header).
pub const MAX_BLOCKS: usize = 32;
/// The largest RRDB growth channel count accepted.
pub const MAX_GROWTH: usize = 128;
/// The largest configuration JSON in a model file's header.
const MAX_HEADER_BYTES: usize = 64 << 10;
/// The largest checkpoint after decompression (full-precision weights and optimiser states).
const MAX_CHECKPOINT_BYTES: u64 = 4 << 30;

/// Refuse a generator configuration whose counts are out of range, before any layer is
/// allocated: channels 1–4, scale 1, 2 or 4, features 1–[`MAX_FEATURES`], blocks
/// 1–[`MAX_BLOCKS`], RRDB growth 1–[`MAX_GROWTH`].
pub fn check_config(config: &GeneratorConfig) -> std::result::Result<(), String> {
    let (features, blocks, growth) = match config {
        GeneratorConfig::Light(c) => (c.features, c.blocks, None),
        GeneratorConfig::SrResNet(c) => (c.features, c.blocks, None),
        GeneratorConfig::Rrdb(c) => (c.features, c.blocks, Some(c.growth)),
    };
    check_count("channels", config.channels(), 1, 4)?;
    if !matches!(config.scale(), 1 | 2 | 4) {
        return Err(format!("scale {} is not 1, 2 or 4", config.scale()));
    }
    check_count("features", features, 1, MAX_FEATURES)?;
    check_count("blocks", blocks, 1, MAX_BLOCKS)?;
    growth.map_or(Ok(()), |g| check_count("growth", g, 1, MAX_GROWTH))
}

/// Encode a record as half-precision named MessagePack, gzip-compressed.
fn encode_half<B: Backend, R: Record<B>>(record: R) -> Result<Vec<u8>> {
    let bytes = NamedMpkBytesRecorder::<HalfPrecisionSettings>::new()
        .record(record, ())
        .map_err(|e| SrError::Config(format!("cannot serialise weights: {e}")))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&bytes).and_then(|_| gz.finish()).map_err(|e| SrError::io("weights", e))
}

/// Serialise a generator and its configuration into model-file bytes.
pub fn model_to_bytes<B: Backend>(config: &GeneratorConfig, model: &Generator<B>) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(config).map_err(|e| SrError::Config(e.to_string()))?;
    let record = encode_half::<B, _>(model.clone().into_record())?;
    model_file::encode_model(MODEL_KIND, MODEL_FORMAT_VERSION, &json, &record).map_err(SrError::Config)
}

/// Write a model file atomically.
pub fn save_model<B: Backend>(path: &Path, config: &GeneratorConfig, model: &Generator<B>) -> Result<()> {
    astro_image::image_io::write_atomic(path, &model_to_bytes(config, model)?)?;
    Ok(())
}

/// Read the configuration stored in model-file bytes (`name` is used in errors).
pub fn model_config_from_bytes(bytes: &[u8], name: &Path) -> Result<(GeneratorConfig, usize)> {
    let bad = |reason: String| SrError::BadModelFile { path: name.to_path_buf(), what: "model file", reason };
    let (json, offset) = if model_file::is_container(bytes) {
        let parts = model_file::decode_model(bytes, MODEL_KIND, MODEL_FORMAT_VERSION).map_err(bad)?;
        (parts.config, bytes.len() - parts.record.len())
    } else {
        if bytes.len() < 12 || &bytes[..8] != MODEL_MAGIC {
            return Err(bad("missing the PSMODEL1 (or older PSSRMDL1) header (not a prettier-space model)".into()));
        }
        let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        if n > MAX_HEADER_BYTES {
            return Err(bad(format!("a {n}-byte configuration (at most {MAX_HEADER_BYTES})")));
        }
        (bytes.get(12..12 + n).ok_or_else(|| bad("truncated configuration".into()))?, 12 + n)
    };
    if json.len() > MAX_HEADER_BYTES {
        return Err(bad(format!("a {}-byte configuration (at most {MAX_HEADER_BYTES})", json.len())));
    }
    let config: GeneratorConfig =
        serde_json::from_slice(json).map_err(|e| bad(format!("unreadable configuration: {e}")))?;
    check_config(&config).map_err(|e| bad(format!("configuration out of range: {e}")))?;
    Ok((config, offset))
}

/// Load a generator from model-file bytes; `expect_scale` refuses a model of another scale.
pub fn model_from_bytes<B: Backend>(
    bytes: &[u8],
    name: &Path,
    expect_scale: Option<usize>,
    device: &B::Device,
) -> Result<(GeneratorConfig, Generator<B>)> {
    let bad = |reason: String| SrError::BadModelFile { path: name.to_path_buf(), what: "model file", reason };
    let (config, offset) = model_config_from_bytes(bytes, name)?;
    if let Some(s) = expect_scale
        && s != config.scale()
    {
        return Err(SrError::WrongModel {
            path: name.to_path_buf(),
            found: config.describe(),
            wanted: format!("scale ×{s}"),
        });
    }
    let fresh = config.init::<B>(device).map_err(|e| bad(e.to_string()))?;
    let raw = model_file::gunzip_bounded(&bytes[offset..], MAX_WEIGHT_BYTES).map_err(bad)?;
    let record = NamedMpkBytesRecorder::<HalfPrecisionSettings>::new()
        .load::<<Generator<B> as Module<B>>::Record>(raw, device)
        .map_err(|e| bad(format!("weights do not fit {}: {e}", config.describe())))?;
    if record.layer_counts() != fresh.clone().into_record().layer_counts() {
        return Err(bad(format!("weight layers do not match {}", config.describe())));
    }
    let model = model_file::load_record_checked::<B, _>(fresh, record)
        .map_err(|e| bad(format!("weight shapes do not match {}: {e}", config.describe())))?;
    model_file::check_finite::<B, _>(&model).map_err(|e| bad(format!("unusable weights: {e}")))?;
    Ok((config, model))
}

/// Load a model file.
pub fn load_model<B: Backend>(
    path: &Path,
    expect_scale: Option<usize>,
    device: &B::Device,
) -> Result<(GeneratorConfig, Generator<B>)> {
    let bytes = read_model_bytes(path)?;
    model_from_bytes(&bytes, path, expect_scale, device)
}

/// A model file's bytes, its size checked before reading (a FIFO or a huge file is refused).
pub fn read_model_bytes(path: &Path) -> Result<Vec<u8>> {
    model_file::read_model_file(path, MAX_MODEL_FILE_BYTES).map_err(|reason| SrError::BadModelFile {
        path: path.to_path_buf(),
        what: "model file",
        reason,
    })
}

/// Serialise any record at full precision (for checkpoints: exact resume).
pub fn record_to_bytes<B: Backend, R: Record<B>>(record: R) -> Result<Vec<u8>> {
    NamedMpkBytesRecorder::<FullPrecisionSettings>::new()
        .record(record, ())
        .map_err(|e| SrError::Config(format!("cannot serialise checkpoint: {e}")))
}

/// Deserialise a full-precision record.
pub fn record_from_bytes<B: Backend, R: Record<B>>(bytes: Vec<u8>, name: &Path, device: &B::Device) -> Result<R> {
    NamedMpkBytesRecorder::<FullPrecisionSettings>::new().load::<R>(bytes, device).map_err(|e| SrError::BadModelFile {
        path: name.to_path_buf(),
        what: "checkpoint",
        reason: format!("damaged section: {e}"),
    })
}

/// Write named sections (`name` → bytes) as one checkpoint file, atomically.
pub fn write_sections(path: &Path, sections: &[(&str, Vec<u8>)]) -> Result<()> {
    let mut out = CKPT_MAGIC.to_vec();
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for (name, bytes) in sections {
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    let packed = gz.write_all(&out).and_then(|_| gz.finish()).map_err(|e| SrError::io(path, e))?;
    astro_image::image_io::write_atomic(path, &packed)?;
    Ok(())
}

/// Read a checkpoint file's sections.
pub fn read_sections(path: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let bad =
        |reason: &str| SrError::BadModelFile { path: path.to_path_buf(), what: "checkpoint", reason: reason.into() };
    let packed = std::fs::read(path).map_err(|e| SrError::io(path, e))?;
    let data = model_file::gunzip_bounded(&packed, MAX_CHECKPOINT_BYTES)
        .map_err(|e| if e.contains("damaged") { bad("not gzip data or truncated") } else { bad(&e) })?;
    if data.len() < 12 || &data[..8] != CKPT_MAGIC {
        return Err(bad("missing the PSSRCKP1 header"));
    }
    let count = u32::from_le_bytes(data[8..12].try_into().expect("4 bytes")) as usize;
    let mut pos = 12;
    let mut take = |n: usize| -> Result<&[u8]> {
        let s = data.get(pos..pos + n).ok_or_else(|| bad("truncated"))?;
        pos += n;
        Ok(s)
    };
    // The declared count sizes nothing: a forged count runs out of data and is "truncated".
    let mut out = Vec::new();
    for _ in 0..count {
        let n = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let name = String::from_utf8(take(n)?.to_vec()).map_err(|_| bad("bad section name"))?;
        let len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes")) as usize;
        out.push((name, take(len)?.to_vec()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LightSrConfig;
    use burn::backend::Flex;

    #[test]
    fn model_files_round_trip_and_refuse_the_wrong_model() {
        let d = Default::default();
        let dir = tempfile::tempdir().unwrap();
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(8).with_blocks(1));
        let g = cfg.init::<Flex>(&d).unwrap();
        let path = dir.path().join("m.srmodel");
        save_model(&path, &cfg, &g).unwrap();
        let (cfg2, g2) = load_model::<Flex>(&path, Some(2), &d).unwrap();
        assert_eq!(cfg2, cfg);
        let x = Tensor::<Flex, 4>::ones([1, 3, 5, 5], &d) * 0.3;
        let (a, b) = (g.forward(x.clone()), g2.forward(x));
        let diff: f32 = (a - b).abs().max().into_scalar();
        assert!(diff < 2e-3, "half-precision round trip differs by {diff}");

        let err = load_model::<Flex>(&path, Some(4), &d).unwrap_err().to_string();
        assert!(err.contains("m.srmodel") && err.contains("light ×2") && err.contains("×4"), "{err}");

        // Same header, other architecture's shapes: the weights do not fit.
        let other = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(16).with_blocks(1));
        let mut bytes = std::fs::read(&path).unwrap();
        let (_, off) = model_config_from_bytes(&bytes, &path).unwrap();
        let json = serde_json::to_vec(&other).unwrap();
        let mut forged = MODEL_MAGIC.to_vec();
        forged.extend_from_slice(&(json.len() as u32).to_le_bytes());
        forged.extend_from_slice(&json);
        forged.extend_from_slice(&bytes[off..]);
        let err = model_from_bytes::<Flex>(&forged, &path, None, &d).unwrap_err().to_string();
        assert!(err.contains("do not"), "{err}");

        // Truncated and foreign files.
        bytes.truncate(bytes.len() / 2);
        assert!(model_from_bytes::<Flex>(&bytes, &path, None, &d).is_err());
        let err = model_from_bytes::<Flex>(b"\x89PNG\r\n\x1a\nxxxxxxxx", &path, None, &d).unwrap_err().to_string();
        assert!(err.contains("not a valid model file"), "{err}");
    }

    /// `MODEL_MAGIC` + the configuration JSON + `weights`, as a forged model file would be.
    fn forged(config_json: &[u8], weights: &[u8]) -> Vec<u8> {
        let mut out = MODEL_MAGIC.to_vec();
        out.extend_from_slice(&(config_json.len() as u32).to_le_bytes());
        out.extend_from_slice(config_json);
        out.extend_from_slice(weights);
        out
    }

    #[test]
    fn hostile_headers_are_refused_before_any_layer_is_allocated() {
        let d = Default::default();
        let name = Path::new("evil.srmodel");
        for (json, what) in [
            (r#"{"arch":"light","scale":2,"channels":3,"features":8,"blocks":1000000}"#, "blocks 1000000"),
            (r#"{"arch":"light","scale":2,"channels":0,"features":8,"blocks":1}"#, "channels 0"),
            (r#"{"arch":"sr-res-net","scale":4,"channels":3,"features":100000,"blocks":2}"#, "features 100000"),
            (r#"{"arch":"rrdb","scale":4,"channels":3,"features":8,"growth":0,"blocks":1}"#, "growth 0"),
            (r#"{"arch":"light","scale":3,"channels":3,"features":8,"blocks":1}"#, "scale 3"),
        ] {
            let err = model_from_bytes::<Flex>(&forged(json.as_bytes(), b""), name, None, &d).unwrap_err().to_string();
            assert!(err.contains("evil.srmodel") && err.contains(what), "{json}: {err}");
        }
        let mut huge = MODEL_MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let err = model_from_bytes::<Flex>(&huge, name, None, &d).unwrap_err().to_string();
        assert!(err.contains("configuration (at most"), "{err}");
    }

    #[test]
    fn gzip_bombed_weights_are_refused_at_the_budget() {
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(8).with_blocks(1));
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..(MAX_WEIGHT_BYTES >> 20) + 1 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = forged(&serde_json::to_vec(&cfg).unwrap(), &gz.finish().unwrap());
        assert!(bomb.len() < 4 << 20, "{}", bomb.len());
        let err = model_from_bytes::<Flex>(&bomb, Path::new("bomb.srmodel"), None, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("bomb.srmodel") && err.contains("gzip bomb"), "{err}");
    }

    #[test]
    fn a_model_with_non_finite_weights_is_refused() {
        struct Poison;
        impl<B: Backend> burn::module::ModuleMapper<B> for Poison {
            fn map_float<const D: usize>(
                &mut self,
                param: burn::module::Param<Tensor<B, D>>,
            ) -> burn::module::Param<Tensor<B, D>> {
                param.map(|t| t.mul_scalar(f32::NAN))
            }
        }
        let d = Default::default();
        let dir = tempfile::tempdir().unwrap();
        let cfg = GeneratorConfig::Light(LightSrConfig::new().with_scale(2).with_features(8).with_blocks(1));
        let g = cfg.init::<Flex>(&d).unwrap().map(&mut Poison);
        let path = dir.path().join("nan.srmodel");
        save_model(&path, &cfg, &g).unwrap();
        let err = load_model::<Flex>(&path, Some(2), &d).unwrap_err().to_string();
        assert!(err.contains("nan.srmodel") && err.contains("not finite"), "{err}");
    }

    #[test]
    fn a_fifo_or_a_folder_is_not_read_as_a_model() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_model::<Flex>(dir.path(), None, &Default::default()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn checkpoint_sections_round_trip_and_detect_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.ckpt");
        write_sections(&path, &[("a", vec![1, 2, 3]), ("meta", b"{}".to_vec())]).unwrap();
        let s = read_sections(&path).unwrap();
        assert_eq!(s, vec![("a".to_string(), vec![1, 2, 3]), ("meta".to_string(), b"{}".to_vec())]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        let err = read_sections(&path).unwrap_err().to_string();
        assert!(err.contains("c.ckpt") && err.contains("checkpoint"), "{err}");
    }
}

/// Migration (#28 item 2): every committed `.srmodel` (bundled weights and the fuzz seeds, all in
/// the `PSSRMDL1` layout) loads and upscales a fixed 8×8 input as it did before the container,
/// and a model written in the container round-trips exactly.
#[cfg(test)]
mod migration {
    use super::*;
    use burn::backend::Flex;

    /// The committed model files, by path from the workspace root.
    const FILES: [&str; 10] = [
        "crates/sr-models/weights/prettify-light-x2.srmodel",
        "crates/sr-models/weights/upscale-general-x2.srmodel",
        // The 48 × 5 `general` ×4 bundled until 2026-12-07 (the 64 × 8 replaced it).
        "crates/sr-models/tests/data/legacy/upscale-general-x4-48x5-pssrmdl1.srmodel",
        "crates/sr-models/weights/upscale-real-x4.srmodel",
        // The `survey` bundled until 2026-12-07, kept as a fixture of the old layout.
        "crates/sr-models/tests/data/legacy/upscale-survey-x4-pssrmdl1.srmodel",
        "crates/fuzz-lite/corpus/srmodel/crash-light-blocks.srmodel",
        "crates/fuzz-lite/corpus/srmodel/crash-srresnet-blocks.srmodel",
        "crates/fuzz-lite/corpus/srmodel/light-x2.srmodel",
        "crates/fuzz-lite/corpus/srmodel/rrdb-x4.srmodel",
        "crates/fuzz-lite/corpus/srmodel/srresnet-x2.srmodel",
    ];

    fn path(file: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(file)
    }

    /// The upscaled pixels of a fixed 8×8 ramp.
    fn upscale(config: &GeneratorConfig, g: &Generator<Flex>) -> Vec<f32> {
        let c = config.channels();
        let v: Vec<f32> = (0..c * 64).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
        let x = Tensor::<Flex, 1>::from_floats(v.as_slice(), &Default::default()).reshape([1, c, 8, 8]);
        g.forward(x).into_data().convert::<f32>().to_vec::<f32>().unwrap()
    }

    /// (pixel count, sum, first pixel, last pixel) of [`upscale`].
    type Fingerprint = (usize, f64, f32, f32);

    /// The model (`light ×2`) and the fingerprint of its pixels, or the reason it is refused.
    type Before = std::result::Result<(&'static str, Fingerprint), &'static str>;

    fn fingerprint(out: &[f32]) -> Fingerprint {
        (out.len(), out.iter().map(|&v| v as f64).sum(), out[0], out[out.len() - 1])
    }

    /// What each of [`FILES`] gave before the container (measured with the `PSSRMDL1` reader at
    /// 2e9a4da): the model and the fingerprint of its pixels, or the error's reason.
    const BEFORE: [Before; 10] = [
        Ok(("light ×2", (768, 386.4096992071718, -0.05114104, 1.019528))),
        Ok(("light ×2", (768, 384.5531495017931, -0.20141922, 1.1542838))),
        Ok(("light ×4", (3072, 1536.761822342989, -0.23314062, 1.1849928))),
        Ok(("light ×4", (3072, 1520.016830314882, -0.16853593, 1.1299164))),
        Ok(("light ×4", (3072, 1098.8097861632705, -0.26199737, 1.0478892))),
        Err("not a valid model file: weight layers do not match light ×2"),
        Err("not a valid model file: weight layers do not match srresnet ×2"),
        Ok(("light ×2", (768, 376.77032843604684, -0.13833934, 1.129145))),
        Ok(("rrdb ×4", (3072, 1530.7514233133988, -0.17324449, 1.1491444))),
        Ok(("srresnet ×2", (768, 382.8037153473124, -0.1343788, 1.1115577))),
    ];

    #[test]
    fn committed_srmodel_files_load_and_upscale_as_before_the_container() {
        for (file, before) in FILES.iter().zip(BEFORE) {
            let bytes = std::fs::read(path(file)).unwrap();
            assert!(
                bytes.starts_with(MODEL_MAGIC) && !model_file::is_container(&bytes),
                "{file}: committed bytes kept"
            );
            match (load_model::<Flex>(&path(file), None, &Default::default()), before) {
                (Ok((cfg, g)), Ok((model, (n, sum, first, last)))) => {
                    let (n2, sum2, first2, last2) = fingerprint(&upscale(&cfg, &g));
                    assert_eq!((cfg.describe().as_str(), n2), (model, n), "{file}");
                    assert!((sum2 - sum).abs() < 1e-3, "{file}: pixel sum {sum2}, {sum} before");
                    assert!((first2 - first).abs() < 1e-5 && (last2 - last).abs() < 1e-5, "{file}: {first2} {last2}");
                }
                (Err(e), Err(reason)) => assert!(e.to_string().ends_with(reason), "{file}: {e}"),
                (got, want) => panic!("{file}: {:?} now, {want:?} before", got.map(|(c, _)| c.describe())),
            }
        }
    }

    #[test]
    fn a_model_written_in_the_container_gives_the_same_pixels_and_round_trips_exactly() {
        let d = Default::default();
        let dir = tempfile::tempdir().unwrap();
        for file in FILES.iter().zip(BEFORE).filter(|(_, b)| b.is_ok()).map(|(f, _)| *f) {
            let (cfg, old) = load_model::<Flex>(&path(file), None, &d).unwrap();
            let new_path = dir.path().join("new.srmodel");
            save_model(&new_path, &cfg, &old).unwrap();
            let written = std::fs::read(&new_path).unwrap();
            let parts = model_file::decode_model(&written, MODEL_KIND, MODEL_FORMAT_VERSION).unwrap();
            assert_eq!((parts.kind, parts.version), ("sr-generator", 1), "{file}");
            assert_eq!(parts.config_as::<GeneratorConfig>().unwrap(), cfg, "{file}");
            let (cfg2, new) = load_model::<Flex>(&new_path, Some(cfg.scale()), &d).unwrap();
            assert_eq!(cfg2, cfg, "{file}");
            // Half-precision weights read as f32 and written again as f16 are the same numbers.
            assert_eq!(upscale(&cfg, &new), upscale(&cfg, &old), "{file}: pixels differ");
            assert_eq!(model_to_bytes(&cfg2, &new).unwrap(), written, "{file}: not an exact round trip");
        }
    }

    #[test]
    fn a_container_of_another_kind_or_a_newer_version_is_refused() {
        let name = Path::new("other.srmodel");
        let d = Default::default();
        let other = model_file::encode_model("quality-net", 1, b"{}", b"").unwrap();
        let err = model_from_bytes::<Flex>(&other, name, None, &d).unwrap_err().to_string();
        assert!(
            err.contains("other.srmodel") && err.contains("a quality-net model, not a sr-generator model"),
            "{err}"
        );
        let newer = model_file::encode_model(MODEL_KIND, 2, b"{}", b"").unwrap();
        let err = model_from_bytes::<Flex>(&newer, name, None, &d).unwrap_err().to_string();
        assert!(err.contains("format version 2 is newer"), "{err}");
    }
}

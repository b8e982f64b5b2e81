//! Model files and training checkpoints.
//!
//! A model file (`.srmodel`) is `PSSRMDL1` + u32 length + the [`GeneratorConfig`] JSON + the
//! generator record (burn named MessagePack, half precision, gzip). Loading goes through
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

const MODEL_MAGIC: &[u8; 8] = b"PSSRMDL1";
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
    let mut out = MODEL_MAGIC.to_vec();
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&encode_half::<B, _>(model.clone().into_record())?);
    Ok(out)
}

/// Write a model file atomically.
pub fn save_model<B: Backend>(path: &Path, config: &GeneratorConfig, model: &Generator<B>) -> Result<()> {
    astro_image::image_io::write_atomic(path, &model_to_bytes(config, model)?)?;
    Ok(())
}

/// Read the configuration stored in model-file bytes (`name` is used in errors).
pub fn model_config_from_bytes(bytes: &[u8], name: &Path) -> Result<(GeneratorConfig, usize)> {
    let bad = |reason: String| SrError::BadModelFile { path: name.to_path_buf(), what: "model file", reason };
    if bytes.len() < 12 || &bytes[..8] != MODEL_MAGIC {
        return Err(bad("missing the PSSRMDL1 header (not a prettier-space model)".into()));
    }
    let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    if n > MAX_HEADER_BYTES {
        return Err(bad(format!("a {n}-byte configuration (at most {MAX_HEADER_BYTES})")));
    }
    let json = bytes.get(12..12 + n).ok_or_else(|| bad("truncated configuration".into()))?;
    let config: GeneratorConfig =
        serde_json::from_slice(json).map_err(|e| bad(format!("unreadable configuration: {e}")))?;
    check_config(&config).map_err(|e| bad(format!("configuration out of range: {e}")))?;
    Ok((config, 12 + n))
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

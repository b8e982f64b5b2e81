//! Model files are hostile input, validated the same way for every model kind (super-resolution
//! `.srmodel`, frame rankers, deep-sky classifiers): the file's size is checked before it is read,
//! compressed weights are inflated under a byte budget (a gzip bomb is refused, not inflated),
//! the header is checked by its owner before any layer is allocated, and every weight must be
//! finite after loading (a NaN model would turn every output black with exit 0).
//!
//! The functions return the reason as a `String`; each model crate wraps it with the file's path
//! in its own error type.
//!
//! The one container every model family writes (magic, kind, format version, config JSON,
//! record) is [`write_model`]/[`read_model`] ([`encode_model`]/[`decode_model`] on bytes).

use std::io::Read;
use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

pub use crate::container::{
    CONTAINER_MAGIC, MAX_CONFIG_BYTES, MAX_KIND_BYTES, ModelFile, ModelFileError, ModelParts, decode_model,
    encode_model, is_container, read_model, write_model,
};

/// The largest model file read (the largest bundled or trained model is a few tens of MB).
pub const MAX_MODEL_FILE_BYTES: u64 = 256 << 20;

/// The largest weight record after decompression.
pub const MAX_WEIGHT_BYTES: u64 = 512 << 20;

/// Read a model file whose size is checked first: a folder, a FIFO or a device is refused (it
/// could block forever), and so is a file above `max_bytes`.
pub fn read_model_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > max_bytes {
        return Err(format!("{} bytes, above the {} MB limit of a model file", meta.len(), max_bytes >> 20));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!("grew above the {} MB limit of a model file while read", max_bytes >> 20));
    }
    Ok(bytes)
}

/// Inflate gzip data, refusing it as soon as it exceeds `max_bytes` (never inflated in full).
pub fn gunzip_bounded(bytes: &[u8], max_bytes: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("damaged weights: {e}"))?;
    if out.len() as u64 > max_bytes {
        return Err(format!("weights inflate to more than {} MB (a gzip bomb?)", max_bytes >> 20));
    }
    Ok(out)
}

/// Refuse a module with a NaN or infinite weight, naming the first such parameter
/// (`blocks.3.conv1.weight: 12 of 9216 values are not finite`).
pub fn check_finite<B: Backend, M: Module<B>>(module: &M) -> Result<(), String> {
    struct Finite {
        path: Vec<String>,
        bad: Option<String>,
    }
    impl<B: Backend> ModuleVisitor<B> for Finite {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if self.bad.is_some() {
                return;
            }
            let values = param.val().into_data().convert::<f32>().to_vec::<f32>().unwrap_or_default();
            if let Err(reason) = check_floats(&self.path.join("."), &values) {
                self.bad = Some(reason);
            }
        }
    }
    let mut v = Finite { path: Vec::new(), bad: None };
    module.visit(&mut v);
    v.bad.map_or(Ok(()), Err)
}

/// Shapes of every float parameter in visiting order: a record loaded into a fresh module must
/// leave them unchanged (burn keeps a fresh parameter when the record's does not fit).
pub fn param_shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<usize>> {
    struct Shapes(Vec<Vec<usize>>);
    impl<B: Backend> ModuleVisitor<B> for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.val().dims().to_vec());
        }
    }
    let mut v = Shapes(Vec::new());
    module.visit(&mut v);
    v.0
}

/// Load `record` into the freshly initialised `fresh` and refuse the result when a parameter's
/// shape changed: burn keeps a fresh parameter when the record's does not fit, which would run
/// a model with random weights. The one shape check of every model file; the reason names the
/// first parameter that differs (`parameter 3 is [16, 3, 3, 3] in the file, [32, 3, 3, 3] here`).
pub fn load_record_checked<B: Backend, M: Module<B>>(fresh: M, record: M::Record) -> Result<M, String> {
    let want = param_shapes::<B, _>(&fresh);
    let model = fresh.load_record(record);
    let got = param_shapes::<B, _>(&model);
    if got.len() != want.len() {
        return Err(format!("{} parameters in the file, {} here", got.len(), want.len()));
    }
    match got.iter().zip(&want).position(|(g, w)| g != w) {
        None => Ok(model),
        Some(i) => Err(format!("parameter {i} is {:?} in the file, {:?} here", got[i], want[i])),
    }
}

/// Refuse a weight vector with a NaN or infinite value (`what` names it in the reason).
pub fn check_floats(what: &str, values: &[f32]) -> Result<(), String> {
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad == 0 { Ok(()) } else { Err(format!("{what}: {bad} of {} weights are not finite", values.len())) }
}

/// Refuse a header count outside `lo..=hi` before anything is allocated from it.
pub fn check_count(what: &str, value: usize, lo: usize, hi: usize) -> Result<(), String> {
    if (lo..=hi).contains(&value) { Ok(()) } else { Err(format!("{what} {value} is outside {lo}–{hi}")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzip_bomb_is_refused_at_the_budget_not_inflated() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            gz.write_all(&[0u8; 1 << 20]).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let err = gunzip_bounded(&bomb, 1 << 20).unwrap_err();
        assert!(err.contains("more than 1 MB"), "{err}");
        assert_eq!(gunzip_bounded(&bomb, 64 << 20).unwrap().len(), 64 << 20);
        assert!(gunzip_bounded(b"not gzip", 1 << 20).unwrap_err().contains("damaged"));
    }

    #[test]
    fn model_files_are_sized_before_reading_and_must_be_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.bin");
        std::fs::write(&p, vec![7u8; 4096]).unwrap();
        assert_eq!(read_model_file(&p, 4096).unwrap().len(), 4096);
        assert!(read_model_file(&p, 4095).unwrap_err().contains("above"));
        assert_eq!(read_model_file(dir.path(), 1 << 20).unwrap_err(), "not a regular file");
        assert!(check_floats("w", &[1.0, f32::NAN, f32::INFINITY]).unwrap_err().contains("2 of 3"));
        assert!(check_count("blocks", 1_000_000, 1, 64).unwrap_err().contains("blocks 1000000"));
    }

    #[test]
    fn a_record_of_other_shapes_is_refused_naming_the_parameter() {
        use burn::backend::Flex;
        use burn::nn::LinearConfig;
        let d = Default::default();
        let saved = LinearConfig::new(3, 2).init::<Flex>(&d);
        param_shapes::<Flex, _>(&saved); // materialise the lazy weights before cloning
        let same =
            load_record_checked::<Flex, _>(LinearConfig::new(3, 2).init::<Flex>(&d), saved.clone().into_record());
        let loaded = same.unwrap();
        assert_eq!(loaded.weight.val().into_data(), saved.weight.val().into_data());
        let other = LinearConfig::new(4, 2).init::<Flex>(&d);
        let err = load_record_checked::<Flex, _>(other, saved.into_record()).unwrap_err();
        assert_eq!(err, "parameter 0 is [3, 2] in the file, [4, 2] here");
    }

    #[test]
    fn a_module_with_a_nan_weight_is_named() {
        use burn::backend::Flex;
        use burn::nn::LinearConfig;
        let d = Default::default();
        let lin = LinearConfig::new(3, 2).init::<Flex>(&d);
        assert!(check_finite::<Flex, _>(&lin).is_ok());
        let w = lin.weight.val().mul_scalar(f32::NAN);
        let bad = burn::nn::Linear { weight: Param::from_tensor(w), bias: lin.bias.clone() };
        let err = check_finite::<Flex, _>(&bad).unwrap_err();
        assert!(err.contains("6 of 6 weights are not finite"), "{err}");
    }
}

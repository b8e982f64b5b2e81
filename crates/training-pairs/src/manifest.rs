//! Reading `manifest.jsonl` (the one reader of the format [`crate::write_manifest`] writes): one
//! [`PairRecord`] per line; every path in a record is relative to the manifest's folder,
//! `pairs/<id>/<obs_file>` and `pairs/<id>/<survey file>`.

use std::path::{Component, Path, PathBuf};

use crate::error::{PairError, Result};
use crate::filters::PairRecord;

/// A manifest read from disk: its records and the folder their files are found under.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// Every record, in file order.
    pub records: Vec<PairRecord>,
}

/// One file name of a record: a single plain path component (no folders, no `..`), so a
/// manifest cannot point outside its own pair directories.
fn plain(name: &str) -> bool {
    let mut c = Path::new(name).components();
    matches!((c.next(), c.next()), (Some(Component::Normal(_)), None))
}

impl Manifest {
    /// Read and parse `path`. Blank lines are skipped; an unreadable file, a line that is not a
    /// pair record or a record whose id or file names are not plain file names is an error
    /// naming the file (and the line).
    pub fn read(path: &Path) -> Result<Manifest> {
        let bad = |reason: String| PairError::Manifest { path: path.to_path_buf(), reason };
        let text = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let text = String::from_utf8(text).map_err(|_| bad("not a manifest (not UTF-8 text)".into()))?;
        let mut records = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: PairRecord =
                serde_json::from_str(line).map_err(|e| bad(format!("line {}: not a pair record ({e})", i + 1)))?;
            let files = std::iter::once(r.obs_file.as_str()).chain(r.surveys.iter().filter_map(|s| s.file.as_deref()));
            if let Some(f) = std::iter::once(r.id.as_str()).chain(files).find(|f| !plain(f)) {
                return Err(bad(format!("line {}: {f:?} is not a plain file name", i + 1)));
            }
            records.push(r);
        }
        Ok(Manifest { path: path.to_path_buf(), records })
    }

    /// The folder the records' files are relative to (the manifest's folder).
    pub fn root(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// The pair directory of a record: `ROOT/pairs/<id>`.
    pub fn pair_dir(&self, record: &PairRecord) -> PathBuf {
        self.root().join("pairs").join(&record.id)
    }

    /// The observation image of a record.
    pub fn obs_path(&self, record: &PairRecord) -> PathBuf {
        self.pair_dir(record).join(&record.obs_file)
    }

    /// The survey cutouts of a record that were fetched: `(survey key, file)`.
    pub fn survey_paths(&self, record: &PairRecord) -> Vec<(String, PathBuf)> {
        let dir = self.pair_dir(record);
        record.surveys.iter().filter_map(|s| Some((s.key.clone(), dir.join(s.file.as_ref()?)))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, obs: &str) -> PairRecord {
        PairRecord {
            id: id.into(),
            site: "esahubble".into(),
            title: "t".into(),
            credit: "c".into(),
            licence: "l".into(),
            reference_url: None,
            source_image: "/x.jpg".into(),
            wcs: hips_client::Wcs::from_center(10.0, 20.0, 0.1, 64, 64, 0.0).unwrap(),
            obs_file: obs.into(),
            mask_file: None,
            surveys: vec![crate::PairSurvey {
                key: "dss".into(),
                hips_id: "CDS/P/DSS2/color".into(),
                file: Some("dss.jpg".into()),
                acknowledgement: String::new(),
                check: None,
                error: None,
            }],
            verdicts: Vec::new(),
            kept: true,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("training-pairs-manifest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_what_write_manifest_writes_and_resolves_paths() {
        let d = scratch("ok");
        let dir = d.join("pairs").join("heic1");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pair.json"), serde_json::to_vec(&record("heic1", "obs.png")).unwrap()).unwrap();
        let written = crate::write_manifest(&d, &d.join("pairs")).unwrap();
        let m = Manifest::read(&d.join("manifest.jsonl")).unwrap();
        assert_eq!(m.records, written);
        assert_eq!(m.obs_path(&m.records[0]), dir.join("obs.png"));
        assert_eq!(m.survey_paths(&m.records[0]), vec![("dss".to_string(), dir.join("dss.jpg"))]);
        assert_eq!(Manifest { path: "manifest.jsonl".into(), records: vec![] }.root(), PathBuf::from("."));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Issue #29 item 2: a failed fetch or an unmeasurable alignment records a NaN value; the
    /// pair must still be read back into the manifest (it was written as `null` and then refused).
    #[test]
    fn unmeasured_values_survive_pair_json_and_the_manifest() {
        let d = scratch("nan");
        let dir = d.join("pairs").join("heic2");
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = record("heic2", "obs.png");
        r.kept = false;
        r.verdicts = vec![crate::Verdict {
            filter: "fetch-failed:dss".into(),
            passed: false,
            value: f64::NAN,
            reason: "HTTP 500".into(),
        }];
        r.surveys[0].check =
            Some(crate::SurveyCheck { key: "dss".into(), coverage: 0.0, mean: f64::NAN, saturated: 0.0, shift: None });
        let json = serde_json::to_vec_pretty(&r).unwrap();
        assert!(String::from_utf8_lossy(&json).contains("\"value\": null"));
        std::fs::write(dir.join("pair.json"), json).unwrap();
        let written = crate::write_manifest(&d, &d.join("pairs")).unwrap();
        assert_eq!(written.len(), 1, "the pair with a NaN value was dropped from the manifest");
        assert!(written[0].verdicts[0].value.is_nan());
        assert!(written[0].surveys[0].check.as_ref().unwrap().mean.is_nan());
        let m = Manifest::read(&d.join("manifest.jsonl")).unwrap();
        assert_eq!(m.records.len(), 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn garbage_missing_and_escaping_manifests_are_named_errors() {
        let d = scratch("bad");
        let p = d.join("manifest.jsonl");
        let e = Manifest::read(&p).unwrap_err().to_string();
        assert!(e.starts_with(&p.display().to_string()) && e.contains("cannot read"), "{e}");
        std::fs::write(&p, "\n{\"id\": 3}\n").unwrap();
        let e = Manifest::read(&p).unwrap_err().to_string();
        assert!(e.contains("manifest.jsonl: line 2: not a pair record"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        for (id, obs) in [("../x", "obs.png"), ("a", "../../etc/passwd"), ("a", "/abs.png")] {
            std::fs::write(&p, serde_json::to_string(&record(id, obs)).unwrap()).unwrap();
            let e = Manifest::read(&p).unwrap_err().to_string();
            assert!(e.contains("line 1") && e.contains("not a plain file name"), "{e}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}

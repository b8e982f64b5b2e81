//! Real-data tests on Debian's stellarium-data (fetched by datasets/stellarium/fetch.sh; CI runs
//! it first). A missing data set fails these tests rather than skipping them.

use std::collections::BTreeMap;

use dataset::stellarium::{CoarseClass, StellariumSet};
use dataset::stellarium_split;

fn set() -> StellariumSet {
    StellariumSet::locate().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn catalog_has_every_record_and_known_objects_have_their_types() {
    let catalog = set().catalog().unwrap();
    assert_eq!(catalog.len(), 94_663);
    let by_m = |m: u32| catalog.iter().find(|r| r.m == m).unwrap_or_else(|| panic!("M{m} missing"));
    let m31 = by_m(31);
    assert_eq!((m31.type_code, m31.morph_type.as_deref()), (0, Some("SA(s)b")));
    assert!((m31.ra_deg() - 10.685).abs() < 0.01 && (m31.dec_deg() - 41.269).abs() < 0.01);
    assert_eq!(m31.ngc, 224);
    for (m, code, class) in [
        (42, 17, CoarseClass::Nebula),
        (57, 11, CoarseClass::Nebula),
        (1, 18, CoarseClass::Nebula),
        (13, 7, CoarseClass::StarCluster),
        (45, 16, CoarseClass::Nebula),
    ] {
        let r = by_m(m);
        assert_eq!(r.type_code, code, "M{m}");
        assert_eq!(CoarseClass::from_type_code(r.type_code), class, "M{m}");
    }
}

#[test]
fn manifest_matches_images_to_objects_with_the_documented_class_balance() {
    let set = set();
    let manifest = set.manifest().unwrap();
    assert_eq!(manifest.len(), 555);
    assert!(manifest.iter().all(|i| i.path.is_file()), "every manifest image exists");
    let mut counts: BTreeMap<CoarseClass, usize> = BTreeMap::new();
    for i in &manifest {
        *counts.entry(i.class).or_default() += 1;
    }
    let (g, n, c) = (counts[&CoarseClass::Galaxy], counts[&CoarseClass::Nebula], counts[&CoarseClass::StarCluster]);
    eprintln!("coarse classes: {counts:?}");
    assert!((225..=255).contains(&g), "galaxies {g}");
    assert!((155..=185).contains(&n), "nebulae {n}");
    assert!((128..=156).contains(&c), "clusters {c}");
    let find = |file: &str| manifest.iter().find(|i| i.file == file).unwrap_or_else(|| panic!("{file}"));
    let m31 = find("m31.png");
    assert_eq!((m31.object.as_str(), m31.class, m31.matched_by.as_str()), ("M 31", CoarseClass::Galaxy, "name"));
    assert!(m31.designations.contains(&"NGC 224".to_string()));
    assert_eq!(find("m42.png").class, CoarseClass::Nebula);
    assert_eq!(find("m13.png").class, CoarseClass::StarCluster);
    assert_eq!(find("m57dumont.png").type_name, "planetary nebula");
    // LMC tiles are one object, so they can never straddle a split.
    assert!(manifest.iter().filter(|i| i.file.starts_with("lmc_")).all(|i| i.object == "LMC"));
    assert!(manifest.iter().all(|i| !i.credit.is_empty()));
}

#[test]
fn stellarium_split_is_by_object_and_reproducible() {
    let manifest = set().manifest().unwrap();
    let a = stellarium_split(&manifest, 42);
    let b = stellarium_split(&manifest, 42);
    assert_eq!(a, b);
    let objects = |v: &[dataset::stellarium::DsoImage]| {
        v.iter().map(|i| i.object.clone()).collect::<std::collections::BTreeSet<_>>()
    };
    assert!(objects(&a.train).is_disjoint(&objects(&a.test)));
    assert!(objects(&a.train).is_disjoint(&objects(&a.validation)));
    assert!(objects(&a.validation).is_disjoint(&objects(&a.test)));
    assert_eq!(a.train.len() + a.validation.len() + a.test.len(), manifest.len());
    assert!(a.test.len() >= 40 && a.validation.len() >= 40, "{} {}", a.test.len(), a.validation.len());
}

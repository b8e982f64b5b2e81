//! Awkward fields for the star model: a 20,000-star cluster stays bounded (at most
//! `MAX_STARS` stars, every footprint bounded), a starless field has no stars, a fully
//! saturated one no unbounded footprint, a mono image and NaN pixels work, and nothing panics.

use astro_image::Planes;
use star_field::MAX_STARS;
use star_field::StarField;
use star_field::{MAX_FIT_RADIUS, MAX_HALO_RADIUS};
use star_field::{RenderOptions, render_stars};

fn cluster(side: usize, n: usize) -> Planes {
    let mut p = Planes::zeros(1, side, side);
    let mut state = 99u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as f32 / (1u64 << 31) as f32
    };
    p.data.iter_mut().for_each(|v| *v = 0.02);
    for _ in 0..n {
        let (x, y, a) = (next() * side as f32, next() * side as f32, 0.05 + 0.5 * next() * next());
        let (x0, y0) = (x as isize, y as isize);
        for yy in (y0 - 4).max(0)..(y0 + 5).min(side as isize) {
            for xx in (x0 - 4).max(0)..(x0 + 5).min(side as isize) {
                let d2 = (xx as f32 - x).powi(2) + (yy as f32 - y).powi(2);
                p.data[yy as usize * side + xx as usize] += a * (-d2 / 2.0).exp();
            }
        }
    }
    p.data.iter_mut().enumerate().for_each(|(i, v)| *v = (*v + 0.004 * ((i * 7919 % 13) as f32 / 13.0 - 0.5)).min(1.0));
    p
}

fn bounded(f: &StarField) {
    assert!(f.stars.len() <= MAX_STARS);
    for s in &f.stars {
        let cap = if s.saturated { MAX_HALO_RADIUS as f32 + 2.0 } else { MAX_FIT_RADIUS as f32 };
        assert!(s.radius <= cap && s.flux.iter().all(|v| v.is_finite()), "{s:?}");
    }
}

#[test]
fn a_twenty_thousand_star_cluster_is_measured_separated_and_drawn() {
    let img = cluster(600, 20_000);
    let mut f = StarField::measure(&img);
    bounded(&f);
    // Hyper-crowded (a star per 18 px²): the local noise between stars limits what is found;
    // what matters is a bounded run with every footprint bounded.
    assert!(f.stars.len() > 1000, "{} stars", f.stars.len());
    let sl = star_field::starless(&img, &mut f);
    assert!(sl.data.iter().all(|v| v.is_finite()));
    let base = Planes::zeros(1, 1200, 1200);
    let layer = render_stars(&f, &base, &RenderOptions { scale: 2, fwhm: 2.5, spikes: true });
    assert!(layer.data.iter().all(|v| v.is_finite() && *v >= 0.0));
}

#[test]
fn starless_saturated_mono_and_no_data_fields_do_not_break_it() {
    // A smooth gradient: no stars at all.
    let mut flat = Planes::zeros(3, 80, 80);
    flat.data.iter_mut().enumerate().for_each(|(i, v)| *v = 0.1 + 0.001 * (i % 80) as f32);
    let f = StarField::measure(&flat);
    assert!(f.stars.is_empty(), "{:?}", f.stars);
    // Everything saturated: whatever is found, footprints stay bounded.
    let mut white = Planes::zeros(3, 64, 64);
    white.data.iter_mut().for_each(|v| *v = 1.0);
    let mut f = StarField::measure(&white);
    bounded(&f);
    let sl = star_field::starless(&white, &mut f);
    assert!(sl.data.iter().all(|v| v.is_finite()));
    // Mono with a column of NaN: stars found, no NaN leaks into the starless image.
    let mut mono = cluster(128, 60);
    for y in 0..128 {
        mono.data[y * 128 + 5] = f32::NAN;
    }
    let mut f = StarField::measure(&mono);
    assert!(f.stars.len() > 20 && f.channels == 1, "{}", f.stars.len());
    let sl = star_field::starless(&mono, &mut f);
    assert!(sl.data.iter().all(|v| v.is_finite()));
    assert!(f.stars.iter().all(|s| s.flux[0].is_finite()));
    // Zero-size and one-pixel images.
    assert!(StarField::measure(&Planes::zeros(3, 1, 1)).stars.is_empty());
}

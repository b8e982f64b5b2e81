//! Parsers for the human-readable values of the detail pages: sexagesimal RA/Dec, field of view,
//! orientation, pixel size, wavelengths.

use crate::error::{EsaError, Result};

/// Replace typographic signs and separators by ASCII ones.
fn normalise(text: &str) -> String {
    text.trim().replace(['\u{2212}', '\u{2013}', '\u{2012}'], "-").replace('\u{00a0}', " ").replace('\u{00d7}', "x")
}

/// Split a sexagesimal string into its sign and up to three non-negative numbers.
fn sexagesimal_parts(field: &str, text: &str) -> Result<(f64, Vec<f64>)> {
    let norm = normalise(text);
    let (sign, rest) = match norm.strip_prefix('-') {
        Some(r) => (-1.0, r.trim_start()),
        None => (1.0, norm.strip_prefix('+').unwrap_or(&norm).trim_start()),
    };
    let cleaned: String = rest
        .chars()
        .map(|c| match c {
            'h' | 'm' | 's' | 'd' | ':' | '\u{00b0}' | '\'' | '"' | '\u{2032}' | '\u{2033}' | '\u{2019}'
            | '\u{201d}' => ' ',
            c => c,
        })
        .collect();
    let parts: Vec<&str> = cleaned.split_whitespace().collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(EsaError::value(field, text, "expected 1 to 3 sexagesimal components"));
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let v: f64 = p.parse().map_err(|_| EsaError::value(field, text, format!("{p:?} is not a number")))?;
        if !v.is_finite() || v < 0.0 {
            return Err(EsaError::value(field, text, format!("{p:?} is out of range")));
        }
        nums.push(v);
    }
    for (i, v) in nums.iter().enumerate().skip(1) {
        if *v >= 60.0 {
            return Err(EsaError::value(field, text, format!("component {} is {v} (must be < 60)", i + 1)));
        }
    }
    Ok((sign, nums))
}

/// Right ascension "13 29 52.70" / "13h29m52.7s" / "13:29:52.7" (hours) → degrees in [0, 360).
pub fn parse_ra(text: &str) -> Result<f64> {
    let (sign, n) = sexagesimal_parts("Position (RA)", text)?;
    if sign < 0.0 {
        return Err(EsaError::value("Position (RA)", text, "right ascension cannot be negative"));
    }
    let hours = n[0] + n.get(1).copied().unwrap_or(0.0) / 60.0 + n.get(2).copied().unwrap_or(0.0) / 3600.0;
    if hours >= 24.0 {
        return Err(EsaError::value("Position (RA)", text, "hours must be < 24"));
    }
    Ok(hours * 15.0)
}

/// Declination "47° 11' 42.93\"" / "-0° 30' 12\"" (sign applies to the whole value) → degrees.
pub fn parse_dec(text: &str) -> Result<f64> {
    let (sign, n) = sexagesimal_parts("Position (Dec)", text)?;
    let deg = n[0] + n.get(1).copied().unwrap_or(0.0) / 60.0 + n.get(2).copied().unwrap_or(0.0) / 3600.0;
    if deg > 90.0 {
        return Err(EsaError::value("Position (Dec)", text, "declination must be within ±90°"));
    }
    Ok(sign * deg)
}

/// Whether an HTML declination may have lost its minus sign (the archives print −0° 30' as "0° 30'").
pub fn dec_sign_ambiguous(text: &str) -> bool {
    let norm = normalise(text);
    if norm.starts_with('-') || norm.starts_with('+') {
        return false;
    }
    let digits: String = norm.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    digits.parse::<f64>().map(|d| d == 0.0).unwrap_or(false)
}

/// Field of view "W x H arcminutes" (or arcseconds/degrees) → [width, height] in degrees.
pub fn parse_field_of_view(text: &str) -> Result<[f64; 2]> {
    let norm = normalise(text).to_ascii_lowercase();
    let field = "Field of view";
    let (w, rest) = norm.split_once('x').ok_or_else(|| EsaError::value(field, text, "expected \"W x H unit\""))?;
    let rest = rest.trim();
    let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-')).unwrap_or(rest.len());
    let (h, unit) = rest.split_at(num_end);
    let parse = |s: &str| -> Result<f64> {
        let v: f64 =
            s.trim().parse().map_err(|_| EsaError::value(field, text, format!("{:?} is not a number", s.trim())))?;
        if !v.is_finite() || v <= 0.0 {
            return Err(EsaError::value(field, text, "size must be positive"));
        }
        Ok(v)
    };
    let (w, h) = (parse(w)?, parse(h)?);
    let unit = unit.trim();
    let factor = if unit.starts_with("arcmin") || unit == "'" || unit.is_empty() {
        1.0 / 60.0
    } else if unit.starts_with("arcsec") || unit == "\"" {
        1.0 / 3600.0
    } else if unit.starts_with("deg") || unit == "\u{00b0}" {
        1.0
    } else {
        return Err(EsaError::value(field, text, format!("unknown unit {unit:?}")));
    };
    Ok([w * factor, h * factor])
}

/// "North is 12.3° left of vertical" → +12.3 (AVM `Spatial.Rotation`, FITS CROTA2); "right" → −12.3.
///
/// With RA increasing to the left, a positive CROTA2 turns north anticlockwise, i.e. to the left of "up".
pub fn parse_orientation(text: &str) -> Result<f64> {
    let norm = normalise(text).to_ascii_lowercase();
    let field = "Orientation";
    let rest = norm
        .strip_prefix("north is")
        .ok_or_else(|| EsaError::value(field, text, "expected \"North is X° left|right of vertical\""))?;
    let rest = rest.trim();
    let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(rest.len());
    let value: f64 = rest[..num_end].parse().map_err(|_| EsaError::value(field, text, "angle is not a number"))?;
    if !value.is_finite() || value.abs() > 360.0 {
        return Err(EsaError::value(field, text, "angle out of range"));
    }
    let tail = &rest[num_end..];
    if tail.contains("left") {
        Ok(value)
    } else if tail.contains("right") {
        Ok(-value)
    } else {
        Err(EsaError::value(field, text, "expected \"left\" or \"right\""))
    }
}

/// Pixel size "6000 x 4000 px" → [6000, 4000].
pub fn parse_pixel_size(text: &str) -> Result<[u32; 2]> {
    let norm = normalise(text).to_ascii_lowercase().replace(',', "");
    let field = "Size";
    let norm = norm.trim_end_matches("pixels").trim_end_matches("px").trim();
    let (w, h) = norm.split_once('x').ok_or_else(|| EsaError::value(field, text, "expected \"W x H px\""))?;
    let w: u32 = w.trim().parse().map_err(|_| EsaError::value(field, text, "width is not an integer"))?;
    let h: u32 = h.trim().parse().map_err(|_| EsaError::value(field, text, "height is not an integer"))?;
    if w == 0 || h == 0 {
        return Err(EsaError::value(field, text, "size must be positive"));
    }
    Ok([w, h])
}

/// Wavelength "435 nm" / "1.5 μm" / "2 micron" → nanometres.
pub fn parse_wavelength_nm(text: &str) -> Result<f64> {
    let norm = normalise(text).to_ascii_lowercase();
    let field = "Wavelength";
    let num_end = norm.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(norm.len());
    let v: f64 = norm[..num_end].parse().map_err(|_| EsaError::value(field, text, "not a number"))?;
    let unit = norm[num_end..].trim();
    let factor = if unit.is_empty() || unit.starts_with("nm") {
        1.0
    } else if unit.starts_with("\u{00b5}m")
        || unit.starts_with("\u{03bc}m")
        || unit.starts_with("um")
        || unit.starts_with("micro")
    {
        1000.0
    } else if unit.starts_with("mm") {
        1.0e6
    } else if unit.starts_with('a') || unit.starts_with('\u{00e5}') {
        0.1
    } else {
        return Err(EsaError::value(field, text, format!("unknown unit {unit:?}")));
    };
    Ok(v * factor)
}

/// Collapse runs of whitespace to one space.
pub(crate) fn normalise_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_forms() {
        assert!((parse_ra("13 29 52.70").unwrap() - 202.469_583).abs() < 1e-5);
        assert!((parse_ra("13h 29m 52.70s").unwrap() - 202.469_583).abs() < 1e-5);
        assert!((parse_ra("0:0:0").unwrap()).abs() < 1e-12);
        assert!(parse_ra("24 00 00").is_err());
        assert!(parse_ra("12 61 00").is_err());
        assert!(parse_ra("abc").is_err());
        assert!(parse_ra("").is_err());
    }

    #[test]
    fn dec_forms_and_negative_zero() {
        assert!((parse_dec("47° 11' 42.93\"").unwrap() - 47.195_258).abs() < 1e-5);
        let v = parse_dec("-0° 30' 0.00\"").unwrap();
        assert!((v + 0.5).abs() < 1e-12, "{v}");
        let v = parse_dec("\u{2212}0° 30′ 36″").unwrap();
        assert!((v + 0.51).abs() < 1e-12, "{v}");
        assert!((parse_dec("-69° 45' 22\"").unwrap() + 69.756_111).abs() < 1e-5);
        assert!(dec_sign_ambiguous("0° 30' 12\""));
        assert!(!dec_sign_ambiguous("-0° 30' 12\""));
        assert!(!dec_sign_ambiguous("1° 30' 12\""));
        assert!(parse_dec("95° 0' 0\"").is_err());
        assert!(parse_dec("north").is_err());
    }

    #[test]
    fn field_of_view_units() {
        let f = parse_field_of_view("11.47 x 7.65 arcminutes").unwrap();
        assert!((f[0] - 11.47 / 60.0).abs() < 1e-12 && (f[1] - 7.65 / 60.0).abs() < 1e-12);
        let f = parse_field_of_view("30 × 20 arcseconds").unwrap();
        assert!((f[0] - 30.0 / 3600.0).abs() < 1e-12);
        assert!((parse_field_of_view("1.5 x 1 degrees").unwrap()[0] - 1.5).abs() < 1e-12);
        assert!(parse_field_of_view("big").is_err());
        assert!(parse_field_of_view("3 x zero arcminutes").is_err());
    }

    #[test]
    fn orientation_sign() {
        assert_eq!(parse_orientation("North is 12.3° left of vertical").unwrap(), 12.3);
        assert_eq!(parse_orientation("North is 160.0° right of vertical").unwrap(), -160.0);
        assert!(parse_orientation("North is up").is_err());
        assert!(parse_orientation("South is 3° left of vertical").is_err());
    }

    #[test]
    fn pixel_sizes_and_wavelengths() {
        assert_eq!(parse_pixel_size("6000 x 4000 px").unwrap(), [6000, 4000]);
        assert_eq!(parse_pixel_size("12,000 x 9,000 px").unwrap(), [12000, 9000]);
        assert!(parse_pixel_size("0 x 10 px").is_err());
        assert!(parse_pixel_size("huge").is_err());
        assert_eq!(parse_wavelength_nm("435 nm").unwrap(), 435.0);
        assert_eq!(parse_wavelength_nm("1.5 μm").unwrap(), 1500.0);
        assert!(parse_wavelength_nm("blue").is_err());
    }
}

//! Sky geometry of a record: choosing between embedded AVM, feed and HTML, and the TAN WCS
//! (`sky_geometry::Wcs`, which owns the projection math) for the image actually on disk.

use sky_geometry::Wcs;
use tracing::info;

use crate::error::{EsaError, Result};
use crate::record::{ImageRecord, MetadataSource, SkyGeometry};

/// Pick the geometry to use: the first *complete* one in the order embedded AVM, feed, HTML (else the
/// first with a reference position, else the first non-empty), then fill its descriptive fields
/// (frame, equinox, projection, quality, field of view) from the others. Returns the source used.
pub fn choose_geometry(
    id: &str,
    avm: Option<&SkyGeometry>,
    feed: Option<&SkyGeometry>,
    html: Option<&SkyGeometry>,
) -> Option<(SkyGeometry, MetadataSource)> {
    let all: Vec<(MetadataSource, &SkyGeometry)> =
        [(MetadataSource::Avm, avm), (MetadataSource::Feed, feed), (MetadataSource::Html, html)]
            .into_iter()
            .filter_map(|(s, g)| g.filter(|g| !g.is_empty()).map(|g| (s, g)))
            .collect();
    let (source, base) = all
        .iter()
        .find(|(_, g)| g.is_complete())
        .or_else(|| all.iter().find(|(_, g)| g.reference_value.is_some()))
        .or_else(|| all.first())
        .copied()?;
    let mut out = base.clone();
    for (s, g) in &all {
        if *s == source {
            continue;
        }
        if let (Some(a), Some(b)) = (base.reference_value, g.reference_value) {
            let d = sky_geometry::angular_distance_deg((a[0], a[1]), (b[0], b[1]));
            if d > 2.0 / 3600.0 {
                info!("{id}: {source:?} and {s:?} reference positions differ by {:.1}\"; using {source:?}", d * 3600.0);
            }
        }
        let descriptive = SkyGeometry {
            coordinate_frame: g.coordinate_frame.clone(),
            equinox: g.equinox.clone(),
            projection: g.projection.clone(),
            quality: g.quality,
            field_of_view_deg: g.field_of_view_deg,
            ..SkyGeometry::default()
        };
        out.fill_from(&descriptive);
    }
    Some((out, source))
}

impl SkyGeometry {
    /// TAN WCS for an image of `image_width × image_height` pixels: built at `ReferenceDimension`
    /// (the image's own size when absent) and rescaled to the given size, FITS pixel convention handled.
    pub fn wcs(&self, image_width: u32, image_height: u32) -> Result<Wcs> {
        let missing = |what: &str| EsaError::Wcs(format!("{what} missing"));
        let value = self.reference_value.ok_or_else(|| missing("Spatial.ReferenceValue"))?;
        let pixel = self.reference_pixel.ok_or_else(|| missing("Spatial.ReferencePixel"))?;
        let scale = self.scale.ok_or_else(|| missing("Spatial.Scale"))?;
        if image_width == 0 || image_height == 0 {
            return Err(EsaError::Wcs(format!("image size {image_width}x{image_height} must be positive")));
        }
        let dims = self.reference_dimension.unwrap_or([image_width as f64, image_height as f64]);
        let wcs = Wcs::from_avm(value, pixel, dims, scale, self.rotation_deg.unwrap_or(0.0))
            .map_err(|e| EsaError::Wcs(e.to_string()))?;
        Ok(if wcs.width() == image_width && wcs.height() == image_height {
            wcs
        } else {
            wcs.rescaled(image_width, image_height)
        })
    }
}

impl ImageRecord {
    /// WCS of the downloaded file (or of the full-size image when nothing is downloaded yet).
    pub fn wcs(&self) -> Result<Wcs> {
        let g = self
            .geometry
            .as_ref()
            .ok_or_else(|| EsaError::Geometry { id: self.id.clone(), message: "no sky geometry".into() })?;
        let (w, h) = match (&self.file, self.pixel_size, g.reference_dimension) {
            (Some(f), _, _) => (f.width, f.height),
            (None, Some(p), _) => (p[0], p[1]),
            (None, None, Some(d)) => (d[0].round() as u32, d[1].round() as u32),
            _ => return Err(EsaError::Geometry { id: self.id.clone(), message: "no image size".into() }),
        };
        g.wcs(w, h).map_err(|e| EsaError::Geometry { id: self.id.clone(), message: e.to_string() })
    }

    /// Sky position (RA, Dec in degrees) of the image centre — not the displayed reference position.
    pub fn sky_center(&self) -> Result<(f64, f64)> {
        Ok(self.wcs()?.center())
    }

    /// Sky positions of the outer corners: top-left, top-right, bottom-right, bottom-left.
    pub fn sky_corners(&self) -> Result<[(f64, f64); 4]> {
        Ok(self.wcs()?.corners())
    }
}

//! The atomic SER writer (`astro_image::AtomicFile`: temporary file, renamed into place on finish).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use astro_image::Planes;

use super::header::{ColorId, SerHeader};
use crate::error::{FrameError, Result, io_err};

/// Writes a SER video to a temporary file and renames it into place on [`SerWriter::finish`].
///
/// Dropping a writer without finishing removes the temporary file, so an existing video at the
/// target path is never replaced by a half-written one.
pub struct SerWriter {
    atomic: astro_image::AtomicFile,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    header: SerHeader,
    written: usize,
    timestamps: Vec<u64>,
}

impl SerWriter {
    /// Start a new video at `path` with the frame geometry of `header` (its frame count is ignored).
    pub fn create(path: &Path, header: SerHeader) -> Result<SerWriter> {
        if header.width == 0 || header.height == 0 || !(1..=16).contains(&header.bit_depth) {
            return Err(FrameError::Invalid(format!(
                "SER writer: bad geometry {}x{} at {} bits",
                header.width, header.height, header.bit_depth
            )));
        }
        let mut atomic = astro_image::AtomicFile::create_with_dirs(path)?;
        let tmp = atomic.path().to_path_buf();
        let file = atomic.file().try_clone().map_err(io_err(&tmp))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header.to_bytes()).map_err(io_err(&tmp))?;
        Ok(SerWriter { atomic, tmp, out: Some(out), header, written: 0, timestamps: Vec::new() })
    }

    /// The header being written.
    pub fn header(&self) -> &SerHeader {
        &self.header
    }

    /// Append one frame of raw bytes (exactly `header.frame_bytes()` long, already in file order).
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() != self.header.frame_bytes() {
            return Err(FrameError::Invalid(format!(
                "SER writer: frame of {} bytes, expected {}",
                bytes.len(),
                self.header.frame_bytes()
            )));
        }
        let out = self.out.as_mut().ok_or_else(|| FrameError::Invalid("SER writer already finished".into()))?;
        out.write_all(bytes).map_err(io_err(&self.tmp))?;
        self.written += 1;
        Ok(())
    }

    /// Append one frame given as planes in [0, 1] (1 channel for mono/Bayer, 3 for RGB/BGR), quantised to the header's depth.
    pub fn write_planes(&mut self, planes: &Planes) -> Result<()> {
        let h = &self.header;
        let want = h.color.planes_in_file();
        if planes.width != h.width || planes.height != h.height || planes.channels != want {
            return Err(FrameError::Invalid(format!(
                "SER writer: frame is {}x{}x{}, video is {}x{}x{}",
                planes.width, planes.height, planes.channels, h.width, h.height, want
            )));
        }
        let max = ((1u32 << h.bit_depth) - 1) as f32;
        let n = h.width * h.height;
        let bps = h.bytes_per_sample();
        let mut bytes = Vec::with_capacity(h.frame_bytes());
        for i in 0..n {
            for k in 0..want {
                let c = if h.color == ColorId::Bgr { 2 - k } else { k };
                let v = planes.data[c * n + i];
                let v = if v.is_finite() { (v.clamp(0.0, 1.0) * max).round() as u16 } else { 0 };
                if bps == 1 {
                    // Depth ≤ 8 is stored MSB-aligned in one byte.
                    bytes.push((v << (8 - h.bit_depth)) as u8);
                } else if h.little_endian {
                    bytes.extend_from_slice(&v.to_le_bytes());
                } else {
                    bytes.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
        self.write_raw(&bytes)
    }

    /// Record a UTC timestamp for the frame just written (written as a trailer when every frame has one).
    pub fn push_timestamp(&mut self, ticks: u64) {
        self.timestamps.push(ticks);
    }

    /// Patch the frame count, write the trailer, flush and rename into place; returns the frame count.
    pub fn finish(mut self) -> Result<usize> {
        let mut out = self.out.take().ok_or_else(|| FrameError::Invalid("SER writer already finished".into()))?;
        if !self.timestamps.is_empty() && self.timestamps.len() == self.written {
            for t in &self.timestamps {
                out.write_all(&t.to_le_bytes()).map_err(io_err(&self.tmp))?;
            }
        }
        let mut file =
            out.into_inner().map_err(|e| FrameError::Io { path: self.tmp.clone(), source: e.into_error() })?;
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(38)).map_err(io_err(&self.tmp))?;
        file.write_all(&(self.written as i32).to_le_bytes()).map_err(io_err(&self.tmp))?;
        drop(file);
        // Synced and renamed into place; dropping an unfinished writer removes the temporary file.
        self.atomic.commit()?;
        Ok(self.written)
    }
}

//! Frame I/O: every video or folder of frames behind one [`FrameSource`] trait — memory-mapped SER
//! (read and written), native uncompressed AVI (incl. OpenDML), other videos decoded once through
//! ffmpeg, folders of PNG/TIFF/FITS frames — and [`open_source`], which picks the reader.

mod avi;
mod decode_scratch;
mod ffmpeg_source;
mod frame_source;
mod ser;
mod source;

pub use avi::{AviFormat, AviOpen, AviPixels, AviReader};
pub use decode_scratch::DecodeScratch;
pub use ffmpeg_source::{DEFAULT_MAX_DECODED_GB, DecodedVideo, decoded_budget};
pub use frame_source::FrameSource;
pub use ser::{BayerPattern, ColorId, MAX_FRAME_BYTES, MAX_SIDE, SerHeader, SerReader, SerWriter};
pub use source::{FRAME_EXTENSIONS, ImageFolder, open_source};

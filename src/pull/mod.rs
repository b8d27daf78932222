//! Stage 1, pull: find the files each source will read, and fingerprint them.
//!
//! Today every source is `kind = "local"`: a file or a folder already on disk. Each file
//! is recorded with its size and SHA-256 before it is read, so the manifest says exactly
//! which bytes a run consumed.

mod local;

pub use local::{InputFile, list_inputs};

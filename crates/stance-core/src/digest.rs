//! SHA-256 digests, lowercase hex: what run.json, model cards and compose.json record of every
//! file they name, so a figure can be traced to the exact bytes behind it.

use crate::{IoContext, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The sha256 of the file at `path`, read in a stream.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).at(path, "cannot open")?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).at(path, "cannot read")?;
    Ok(format!("{:x}", hasher.finalize()))
}

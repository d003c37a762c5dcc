//! Errors of the model crate: the core crate's (files, lines), and what libtorch, the
//! tokenizer or a model folder can add. libtorch's messages carry C++ backtraces over many
//! lines; only their first line is kept, so the command line can print one line.

use std::path::{Path, PathBuf};

/// An error of the model crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or setting problem found by the core crate.
    #[error(transparent)]
    Core(#[from] stance_core::Error),
    /// Something wrong with a model file.
    #[error("{}: {message}", path.display())]
    File {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// libtorch failed (first line of its message).
    #[error("libtorch: {0}")]
    Torch(String),
    /// A setting or argument that cannot be used.
    #[error("{0}")]
    Invalid(String),
}

/// The model crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `path` as a whole.
    pub fn file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::File { path: path.as_ref().to_path_buf(), message: message.into() }
    }

    /// A setting or argument that cannot be used.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

/// The first line of a (possibly multi-line) message.
pub(crate) fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("").trim()
}

impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        Error::Torch(first_line(&e.to_string()).to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Invalid(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Core(e.into())
    }
}

/// Returns early with an [`Error::Invalid`] built like `format!`.
macro_rules! invalid {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::Invalid(format!($($arg)*)))
    };
}
pub(crate) use invalid;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorch_errors_keep_their_first_line_only() {
        let e = Error::Torch(first_line("shape mismatch [2, 3] vs [3]\nException raised from ...\nframe #0").into());
        assert_eq!(e.to_string(), "libtorch: shape mismatch [2, 3] vs [3]");
    }
}

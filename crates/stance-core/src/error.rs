//! Typed errors for everything that reads or checks user files. Each carries the file and,
//! where one exists, the line or record, so the command line can print one line a user acts
//! on ("seeds/manifest.csv: line 4: doc_id 'gt' appears twice") without this crate deciding
//! how errors are shown.

use std::path::{Path, PathBuf};

/// An error of the core crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something wrong at one line of a file.
    #[error("{}: line {line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong there.
        message: String,
    },
    /// Something wrong with a file as a whole.
    #[error("{}: {message}", path.display())]
    File {
        /// The file (or a description of the input, such as `<stdin>`).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file that could not be read or written.
    #[error("{}: {action}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done ("cannot open manifest").
        action: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A CSV record the parser could not read.
    #[error("{}: line {line} (record {record}): malformed CSV", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line where the parser stopped.
        line: u64,
        /// 1-based record number (header excluded).
        record: u64,
        /// The parser's reason.
        #[source]
        source: csv::Error,
    },
    /// A report could not be encoded in memory (CSV or JSON).
    #[error("cannot encode output: {0}")]
    Encode(String),
    /// A setting or argument that cannot be used, not tied to a file.
    #[error("{0}")]
    Invalid(String),
}

/// The core crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error at `line` of `path`.
    pub fn line(path: impl AsRef<Path>, line: u64, message: impl Into<String>) -> Self {
        Error::Line { path: path.as_ref().to_path_buf(), line, message: message.into() }
    }

    /// An error with `path` as a whole.
    pub fn file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::File { path: path.as_ref().to_path_buf(), message: message.into() }
    }

    /// A setting or argument that cannot be used.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        Error::Encode(e.to_string())
    }
}

impl<W> From<csv::IntoInnerError<W>> for Error {
    fn from(e: csv::IntoInnerError<W>) -> Self {
        Error::Encode(e.error().to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Encode(e.to_string())
    }
}

/// Names the path of an I/O error: `std::fs::read(p).at(p, "cannot read document")`.
pub trait IoContext<T> {
    /// Wraps the error with the path and what was being done.
    fn at(self, path: impl AsRef<Path>, action: impl Into<String>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl AsRef<Path>, action: impl Into<String>) -> Result<T> {
        self.map_err(|source| Error::Io { path: path.as_ref().to_path_buf(), action: action.into(), source })
    }
}

/// Returns early with an [`Error::Invalid`] built like `format!`.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => {
        return Err($crate::Error::Invalid(format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_one_line_with_path_and_line() {
        assert_eq!(Error::line("a/m.csv", 4, "empty 'path'").to_string(), "a/m.csv: line 4: empty 'path'");
        assert_eq!(Error::file("g.csv", "no rows").to_string(), "g.csv: no rows");
        let io: Result<()> = Err(std::io::Error::from(std::io::ErrorKind::NotFound)).at("x.txt", "cannot read document");
        let e = io.unwrap_err();
        assert_eq!(e.to_string(), "x.txt: cannot read document");
        assert!(std::error::Error::source(&e).is_some(), "the OS reason stays in the chain");
    }
}

//! Reading the CSV files users hand us (manifests, gold sets, classify input, predictions)
//! with one set of error messages: every problem names the file and the line or record.

use crate::{Error, IoContext, Result};
use csv::StringRecord;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A cell as written before `--csv-safe` guarded it: a leading `'` before a character a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return) is taken off.
/// This tool's readers of its own tables (predictions, sample candidates, the report page) use
/// it on keys and text, so a guarded run still matches its gold and its run.json.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// Tables larger than this are refused (read with a limit, so a FIFO or device cannot stall).
pub const MAX_TABLE_BYTES: u64 = 1 << 30;

/// An open CSV file with a header row.
pub struct CsvFile {
    path: PathBuf,
    origin: String,
    what: &'static str,
    reader: csv::Reader<std::io::Cursor<Vec<u8>>>,
    headers: StringRecord,
    /// Byte offsets of the file's line feeds: line numbers come from them, not from the CSV
    /// parser's count, which is one too low in CRLF files.
    newlines: Vec<usize>,
}

impl CsvFile {
    /// Opens `path`; `what` names the kind of file in errors ("manifest", "gold file" ...).
    pub fn open(path: &Path, what: &'static str) -> Result<Self> {
        let origin = path.display().to_string();
        let mut bytes = Vec::new();
        File::open(path).and_then(|f| f.take(MAX_TABLE_BYTES + 1).read_to_end(&mut bytes)).at(path, format!("cannot open {what}"))?;
        if bytes.len() as u64 > MAX_TABLE_BYTES {
            return Err(Error::file(path, format!("more than {MAX_TABLE_BYTES} bytes: not a {what}")));
        }
        let newlines = bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').map(|(i, _)| i).collect();
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::Headers).from_reader(std::io::Cursor::new(bytes));
        let headers = match reader.headers() {
            Ok(headers) => headers.clone(),
            Err(source) => return Err(Error::Csv { path: path.to_path_buf(), line: 1, record: 0, source }),
        };
        // A column named twice would be read from its first copy, silently.
        let mut names = std::collections::HashSet::new();
        for name in headers.iter().map(|h| h.trim_start_matches('\u{feff}')).filter(|h| !h.is_empty()) {
            if !names.insert(name) {
                return Err(Error::line(path, 1, format!("column '{name}' appears twice: which one is meant is not clear")));
            }
        }
        Ok(Self { path: path.to_path_buf(), origin, what, reader, headers, newlines })
    }

    /// The file's path as errors print it.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names, in order (a byte-order mark before the first removed).
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(|h| h.trim_start_matches('\u{feff}'))
    }

    /// The index of an optional column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.trim_start_matches('\u{feff}') == name)
    }

    /// The indices of required columns, or an error naming the first one missing.
    pub fn require(&self, names: &[&str]) -> Result<Vec<usize>> {
        names
            .iter()
            .map(|name| {
                self.column(name).ok_or_else(|| {
                    Error::line(&self.path, 1, format!("missing column '{name}' (a {} needs {})", self.what, names.join(",")))
                })
            })
            .collect()
    }

    /// The records with their line numbers; a malformed record is an error naming it.
    pub fn rows(self) -> impl Iterator<Item = Result<(u64, StringRecord)>> {
        let (path, newlines) = (self.path, self.newlines);
        let mut reader = self.reader;
        let mut record = StringRecord::new();
        let mut index = 0u64;
        std::iter::from_fn(move || {
            index += 1;
            // The record's first byte: past the line ends that closed the record before it.
            let start = reader.position().byte() as usize;
            match reader.read_record(&mut record) {
                Ok(false) => None,
                Ok(true) => {
                    let bytes = reader.get_ref().get_ref();
                    let first = (start..bytes.len()).find(|&i| !matches!(bytes[i], b'\r' | b'\n')).unwrap_or(start);
                    let line = newlines.partition_point(|&n| n < first) as u64 + 1;
                    Some(Ok((line, record.clone())))
                }
                Err(source) => {
                    let at = source.position().map_or(start, |p| p.byte() as usize);
                    let line = newlines.partition_point(|&n| n < at) as u64 + 1;
                    Some(Err(Error::Csv { path: path.clone(), line, record: index, source }))
                }
            }
        })
    }
}

/// A field of `record`, trimmed; empty when the record is short.
pub fn field(record: &StringRecord, index: usize) -> &str {
    record.get(index).unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_columns_in_any_order_and_numbers_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "\u{feff}b, a\n1,\"multi\nline\"\n3,4\n").unwrap();
        let file = CsvFile::open(&path, "table").unwrap();
        assert_eq!(file.require(&["a", "b"]).unwrap(), [1, 0]);
        let err = format!("{:#}", file.require(&["a", "c"]).unwrap_err());
        assert!(err.contains("t.csv: line 1: missing column 'c' (a table needs a,c)"), "{err}");
        let lines: Vec<u64> = file.rows().map(|r| r.unwrap().0).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn guarded_cells_read_back_as_written() {
        for (cell, read) in
            [("'=SUM(A1)", "=SUM(A1)"), ("'-5%", "-5%"), ("'@x", "@x"), ("'quoted'", "'quoted'"), ("=raw", "=raw"), ("'", "'")]
        {
            assert_eq!(unguard(cell), read, "{cell}");
        }
    }

    #[test]
    fn a_column_named_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "doc_id,text, doc_id\na,b,c\n").unwrap();
        let err = format!("{:#}", CsvFile::open(&path, "manifest").err().expect("refused"));
        assert!(err.contains("t.csv: line 1: column 'doc_id' appears twice"), "{err}");
        // Unnamed columns (a trailing comma) are not names.
        std::fs::write(&path, "doc_id,text,,\na,b,,\n").unwrap();
        assert!(CsvFile::open(&path, "manifest").is_ok());
    }
}

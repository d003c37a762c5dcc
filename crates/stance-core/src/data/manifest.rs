//! The corpus manifest: which documents make up a study and which outlet and source group
//! each belongs to. Profiles are only as good as this table, so every problem with it (a
//! missing column, an empty field, a repeated id, a path that leads nowhere, a document that is
//! not UTF-8 or is empty) stops the run with the file and record named.

use crate::data::table::{field, CsvFile};
use crate::{Error, IoContext, Result};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The columns a manifest must have, in any order (extra columns are ignored).
pub const COLUMNS: [&str; 7] = ["doc_id", "path", "outlet", "group", "title", "date", "url"];

/// Documents larger than this are refused: no article or paper is this long, so such a file
/// is almost certainly the wrong file.
pub const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// One manifest record; `path` is resolved relative to the manifest's folder.
#[derive(Debug, Clone, Serialize)]
pub struct DocEntry {
    /// The document's id, unique in the manifest.
    pub doc_id: String,
    /// The document's text file.
    pub path: PathBuf,
    /// The outlet that published it.
    pub outlet: String,
    /// The source group it is profiled and compared in.
    pub group: String,
    /// Its title; may be empty.
    pub title: String,
    /// Its date as written in the manifest (not parsed); may be empty.
    pub date: String,
    /// Its URL; may be empty.
    pub url: String,
}

/// Reads and checks a manifest CSV.
pub fn read_manifest(path: &Path) -> Result<Vec<DocEntry>> {
    let file = CsvFile::open(path, "manifest")?;
    let columns = file.require(&COLUMNS)?;
    let origin = file.origin().to_string();
    let base = path.parent().unwrap_or(Path::new("."));
    let mut seen = HashSet::new();
    let mut docs = Vec::new();
    for row in file.rows() {
        let (line, record) = row?;
        let get = |k: usize| field(&record, columns[k]).to_string();
        let entry =
            DocEntry { doc_id: get(0), path: base.join(get(1)), outlet: get(2), group: get(3), title: get(4), date: get(5), url: get(6) };
        for (k, name) in COLUMNS.iter().enumerate().take(4) {
            if get(k).is_empty() {
                return Err(Error::line(&origin, line, format!("empty '{name}'")));
            }
        }
        if !seen.insert(entry.doc_id.clone()) {
            return Err(Error::line(&origin, line, format!("doc_id '{}' appears twice", entry.doc_id)));
        }
        if !entry.path.is_file() {
            return Err(Error::line(&origin, line, format!("document '{}' not found", entry.path.display())));
        }
        docs.push(entry);
    }
    if docs.is_empty() {
        return Err(Error::file(&origin, "the manifest lists no documents".to_string()));
    }
    Ok(docs)
}

/// Reads a document as UTF-8 text (a leading byte-order mark is dropped). Refuses files that
/// are not UTF-8, hold no text, or exceed [`MAX_DOCUMENT_BYTES`].
pub fn read_document(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path).at(path, "cannot read document")?.len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(Error::file(path, format!("document is {size} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit")));
    }
    let bytes = std::fs::read(path).at(path, "cannot read document")?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(Error::line(path, line as u64, format!("not valid UTF-8 (byte {at})")));
        }
    };
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::file(path, "document is empty".to_string()));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        path
    }

    #[test]
    fn reads_a_good_manifest_with_paths_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", b"Text.");
        let m = write(dir.path(), "m.csv", b"url,doc_id,path,outlet,group,title,date\nhttp://x,a,a.txt,Outlet,Group,T,2025\n");
        let docs = read_manifest(&m).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].path, dir.path().join("a.txt"));
        assert_eq!(docs[0].url, "http://x");
    }

    #[test]
    fn manifest_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", b"Text.");
        let head = "doc_id,path,outlet,group,title,date,url\n";
        let table: &[(&str, &str)] = &[
            ("doc_id,path,outlet,title,date,url\na,a.txt,O,T,D,U\n", "line 1: missing column 'group'"),
            (&format!("{head}a,missing.txt,O,G,T,D,U\n"), "line 2: document"),
            (&format!("{head}a,a.txt,O,G,T,D,U\na,a.txt,O,G,T,D,U\n"), "line 3: doc_id 'a' appears twice"),
            (&format!("{head}a,a.txt,O,,T,D,U\n"), "line 2: empty 'group'"),
            (head, "lists no documents"),
        ];
        for (content, expected) in table {
            let m = write(dir.path(), "m.csv", content.as_bytes());
            let err = format!("{:#}", read_manifest(&m).unwrap_err());
            assert!(err.contains("m.csv") && err.contains(expected), "{err}");
        }
    }

    #[test]
    fn document_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let table: &[(&[u8], &str)] = &[(b"ok\n\xff\xfe bad", "line 2: not valid UTF-8"), (b" \n\t\n", "document is empty")];
        for (bytes, expected) in table {
            let p = write(dir.path(), "d.txt", bytes);
            let err = format!("{:#}", read_document(&p).unwrap_err());
            assert!(err.contains("d.txt") && err.contains(expected), "{err}");
        }
        let huge = write(dir.path(), "huge.txt", b"");
        std::fs::File::options().write(true).open(&huge).unwrap().set_len(MAX_DOCUMENT_BYTES + 1).unwrap();
        let err = format!("{:#}", read_document(&huge).unwrap_err());
        assert!(err.contains("huge.txt") && err.contains("over the"), "{err}");
        let p = write(dir.path(), "bom.txt", "\u{feff}Hello.".as_bytes());
        assert_eq!(read_document(&p).unwrap(), "Hello.");
    }
}

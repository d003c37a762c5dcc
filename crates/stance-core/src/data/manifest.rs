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
pub const COLUMNS: [&str; 4] = ["doc_id", "path", "outlet", "group"];

/// Columns a manifest may have; a missing one reads as empty.
pub const OPTIONAL_COLUMNS: [&str; 3] = ["title", "date", "url"];

/// Documents larger than this are refused: no article or paper is this long, so such a file
/// is almost certainly the wrong file.
pub const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// Where a document's text lies in a JSONL corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonlRecord {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line.
    pub offset: u64,
    /// Length of the line in bytes.
    pub len: u64,
}

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
    /// Where its text is inside a JSONL corpus (`path` is then the JSONL file); None for a
    /// manifest's text file.
    #[serde(skip)]
    pub record: Option<JsonlRecord>,
}

/// Reads and checks a manifest CSV, every document file included.
pub fn read_manifest(path: &Path) -> Result<Vec<DocEntry>> {
    read_manifest_with(path, true)
}

/// Reads and checks a manifest CSV; with `require_files` false a missing document is left for
/// the caller to report (`stance run --skip-bad`).
pub fn read_manifest_with(path: &Path, require_files: bool) -> Result<Vec<DocEntry>> {
    let file = CsvFile::open(path, "manifest")?;
    let mut columns: Vec<Option<usize>> = file.require(&COLUMNS)?.into_iter().map(Some).collect();
    columns.extend(OPTIONAL_COLUMNS.iter().map(|name| file.column(name)));
    let origin = file.origin().to_string();
    let base = path.parent().unwrap_or(Path::new("."));
    let mut seen = HashSet::new();
    let mut docs = Vec::new();
    for row in file.rows() {
        let (line, record) = row?;
        let get = |k: usize| columns[k].map_or("", |c| field(&record, c)).to_string();
        let entry = DocEntry {
            doc_id: get(0),
            path: base.join(get(1)),
            outlet: get(2),
            group: get(3),
            title: get(4),
            date: get(5),
            url: get(6),
            record: None,
        };
        for (k, name) in COLUMNS.iter().enumerate().take(4) {
            if get(k).is_empty() {
                return Err(Error::line(&origin, line, format!("empty '{name}'")));
            }
        }
        if !seen.insert(entry.doc_id.clone()) {
            return Err(Error::line(&origin, line, format!("doc_id '{}' appears twice", entry.doc_id)));
        }
        if require_files && !entry.path.is_file() {
            return Err(Error::line(&origin, line, format!("document '{}' not found", entry.path.display())));
        }
        docs.push(entry);
    }
    if docs.is_empty() {
        return Err(Error::file(&origin, "the manifest lists no documents".to_string()));
    }
    Ok(docs)
}

/// The file name of a document's cleaned text (`cleaned/NAME.txt`): the id itself when it is
/// short and made of letters, digits, `-`, `_` and `.` only; otherwise its safe characters
/// (at most 60) and the first 12 hex digits of its SHA-256, so that two ids never share a name
/// ("a/b" and "a_b" used to).
pub fn file_stem(doc_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let plain = doc_id.len() <= 100
        && !doc_id.starts_with('.')
        && doc_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        return doc_id.to_string();
    }
    // At most 60 bytes (a file name is limited in bytes, not characters), cut at a character.
    let mut safe = String::new();
    for c in doc_id.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }) {
        if safe.len() + c.len_utf8() > 60 {
            break;
        }
        safe.push(c);
    }
    let digest = Sha256::digest(doc_id.as_bytes());
    format!("{}-{}", safe.trim_start_matches('.'), digest.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

/// The cleaned-text file stems of `docs`, in order; an error when two would share a name,
/// case ignored (a case-insensitive file system would merge them).
pub fn file_stems(docs: &[DocEntry], manifest: &Path) -> Result<Vec<String>> {
    let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    let mut stems = Vec::with_capacity(docs.len());
    for doc in docs {
        let stem = file_stem(&doc.doc_id);
        if let Some(other) = seen.insert(stem.to_lowercase(), &doc.doc_id) {
            return Err(Error::file(
                manifest,
                format!("doc_ids '{other}' and '{}' would share the file cleaned/{stem}.txt: rename one", doc.doc_id),
            ));
        }
        stems.push(stem);
    }
    Ok(stems)
}

/// Reads a document as UTF-8 text (a leading byte-order mark is dropped). Refuses files that
/// are not UTF-8, hold no text, or exceed [`MAX_DOCUMENT_BYTES`].
pub fn read_document(path: &Path) -> Result<Document> {
    let metadata = std::fs::metadata(path).at(path, "cannot read document")?;
    if metadata.is_dir() {
        return Err(Error::file(path, "is a folder, not a document"));
    }
    if metadata.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::file(path, format!("document is {} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit", metadata.len())));
    }
    read_text(std::fs::File::open(path).at(path, "cannot read document")?, path)
}

/// A document as read: its text, and the sha256 of the bytes it came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The text, without a leading byte-order mark.
    pub text: String,
    /// The sha256 of the bytes read, lowercase hex (run.json records it).
    pub sha256: String,
}

/// Reads a document from `reader` (a file, standard input) as [`read_document`] does;
/// `origin` names it in errors. The size limit holds while reading: a FIFO or a device has no
/// size to check first.
pub fn read_text(reader: impl std::io::Read, origin: &Path) -> Result<Document> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes).at(origin, "cannot read document")?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::file(origin, format!("document is more than {MAX_DOCUMENT_BYTES} bytes, over the limit")));
    }
    let sha256 = crate::digest::sha256_hex(&bytes);
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(Error::line(origin, line as u64, format!("not valid UTF-8 (byte {at})")));
        }
    };
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    if text.trim().is_empty() {
        return Err(Error::file(origin, "document is empty".to_string()));
    }
    Ok(Document { text, sha256 })
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
        // title, date and url are optional columns.
        let m = write(dir.path(), "m.csv", b"doc_id,path,outlet,group\na,a.txt,Outlet,Group\n");
        let docs = read_manifest(&m).unwrap();
        assert_eq!((docs[0].title.as_str(), docs[0].date.as_str(), docs[0].url.as_str()), ("", "", ""));
    }

    #[test]
    fn file_stems_are_injective_and_short() {
        let table = [("gt-2025", "gt-2025"), ("a.b_c", "a.b_c")];
        for (id, stem) in table {
            assert_eq!(file_stem(id), stem);
        }
        let (a, b) = (file_stem("a/b"), file_stem("a_b"));
        assert_ne!(a, b);
        assert!(a.starts_with("a_b-") && a.len() == "a_b-".len() + 12, "{a}");
        let long = file_stem(&"x".repeat(300));
        assert!(long.len() <= 73, "{}", long.len());
        let wide = file_stem(&"𝔸".repeat(100)); // four bytes a character
        assert!(wide.len() <= 73, "{} bytes", wide.len());
        let wide = file_stem(&"𝔸".repeat(100)); // four bytes a character
        assert!(wide.len() <= 73, "{} bytes", wide.len());
        assert!(!file_stem("../etc/passwd").contains('/') && !file_stem("..").starts_with('.'));
        let doc = |id: &str| DocEntry {
            doc_id: id.into(),
            path: PathBuf::new(),
            outlet: String::new(),
            group: String::new(),
            title: String::new(),
            date: String::new(),
            url: String::new(),
            record: None,
        };
        let err = file_stems(&[doc("Gt"), doc("gt")], Path::new("m.csv")).unwrap_err().to_string();
        assert!(err.starts_with("m.csv: doc_ids 'Gt' and 'gt' would share the file cleaned/gt.txt"), "{err}");
        assert_eq!(file_stems(&[doc("a/b"), doc("a_b")], Path::new("m.csv")).unwrap().len(), 2);
    }

    #[test]
    fn crlf_files_name_the_right_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.txt", b"Text.");
        let m = write(dir.path(), "m.csv", b"doc_id,path,outlet,group\r\na,a.txt,O,G\r\nb,a.txt,O,\r\n");
        let err = read_manifest(&m).unwrap_err().to_string();
        assert!(err.ends_with("m.csv: line 3: empty 'group'"), "{err}");
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
        let document = read_document(&p).unwrap();
        assert_eq!(document.text, "Hello.");
        assert_eq!(document.sha256, crate::digest::sha256_hex("\u{feff}Hello.".as_bytes()), "the hash is of the bytes read");
    }

    #[cfg(unix)]
    #[test]
    fn the_size_limit_holds_for_files_without_a_size() {
        // A device that never ends, and a FIFO fed more than the limit.
        let err = read_document(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.starts_with("/dev/zero: document is more than") && err.contains("limit"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::File::options().write(true).open(&fifo).unwrap();
                let chunk = vec![b'a'; 1 << 20];
                for _ in 0..=(MAX_DOCUMENT_BYTES >> 20) {
                    if f.write_all(&chunk).is_err() {
                        break; // the reader stopped at the limit
                    }
                }
            })
        };
        let err = read_document(&fifo).unwrap_err().to_string();
        assert!(err.contains("pipe: document is more than"), "{err}");
        writer.join().unwrap();
    }
}

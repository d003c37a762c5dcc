//! Corpora as they arrive: a manifest CSV with one text file per document, or one JSONL file
//! with a record per document (how large crawls arrive). Either way a run sees the same list
//! of [`DocEntry`] records, read up front with metadata only: texts are read one document at a
//! time ([`read_entry`]), so memory does not grow with the corpus. Shards ([`Shard`]) split a
//! corpus by a hash of each `doc_id`, so adding documents never moves the others.

pub use crate::data::manifest::JsonlRecord;
use crate::data::manifest::{read_manifest_with, read_text, DocEntry, Document, MAX_DOCUMENT_BYTES};
use crate::{Error, IoContext, Result};
use std::collections::HashSet;
use std::io::{BufRead, Read, Seek};
use std::path::{Path, PathBuf};

/// Which JSON field holds each document property.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JsonlFields {
    /// The document id (a string or an integer), unique in the file.
    pub id: String,
    /// The document text.
    pub text: String,
    /// The outlet.
    pub outlet: String,
    /// The source group.
    pub group: String,
    /// The title (optional: absent reads as empty).
    pub title: String,
    /// The date (optional).
    pub date: String,
    /// The URL (optional).
    pub url: String,
}

impl Default for JsonlFields {
    fn default() -> Self {
        let f = |s: &str| s.to_string();
        Self { id: f("id"), text: f("text"), outlet: f("outlet"), group: f("group"), title: f("title"), date: f("date"), url: f("url") }
    }
}

impl JsonlFields {
    /// Maps one property to a field from `PROPERTY=FIELD` (`id=ID`, `text=content_original`).
    pub fn set(&mut self, mapping: &str) -> std::result::Result<(), String> {
        let (property, field) = mapping.split_once('=').ok_or_else(|| format!("'{mapping}': expected PROPERTY=FIELD"))?;
        let slot = match property {
            "id" => &mut self.id,
            "text" => &mut self.text,
            "outlet" => &mut self.outlet,
            "group" => &mut self.group,
            "title" => &mut self.title,
            "date" => &mut self.date,
            "url" => &mut self.url,
            _ => return Err(format!("'{property}': not a document property (id, text, outlet, group, title, date, url)")),
        };
        if field.is_empty() {
            return Err(format!("'{mapping}': empty field name"));
        }
        *slot = field.to_string();
        Ok(())
    }
}

/// A corpus: a manifest CSV or a JSONL file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Corpus {
    /// `doc_id,path,outlet,group[,title,date,url]`, one text file per document.
    Manifest {
        /// The manifest file.
        path: PathBuf,
    },
    /// One JSON object per line.
    Jsonl {
        /// The JSONL file.
        path: PathBuf,
        /// Which field holds what.
        fields: JsonlFields,
    },
}

impl Corpus {
    /// The file that lists the corpus.
    pub fn path(&self) -> &Path {
        match self {
            Corpus::Manifest { path } | Corpus::Jsonl { path, .. } => path,
        }
    }

    /// Reads and checks the corpus's records (not the texts of a manifest's documents; with
    /// `require_files` their files must exist).
    pub fn entries(&self, require_files: bool) -> Result<Vec<DocEntry>> {
        match self {
            Corpus::Manifest { path } => read_manifest_with(path, require_files),
            Corpus::Jsonl { path, fields } => read_jsonl_index(path, fields),
        }
    }
}

/// The longest JSONL line read: a document at the size limit, with room for its escapes and
/// metadata.
const MAX_LINE_BYTES: u64 = 2 * MAX_DOCUMENT_BYTES;

/// A field of a JSON record as text: a string as it is, an integer written out; None when
/// absent or null.
fn text_field(record: &serde_json::Map<String, serde_json::Value>, name: &str) -> std::result::Result<Option<String>, String> {
    match record.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(format!("field '{name}' is not a string")),
    }
}

/// Reads one line of at most [`MAX_LINE_BYTES`]; Ok(None) at the end of the file.
fn read_line(reader: &mut impl BufRead, path: &Path, line: u64) -> Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    let n = reader.by_ref().take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut bytes).at(path, "cannot read corpus")?;
    if n == 0 {
        return Ok(None);
    }
    if n as u64 > MAX_LINE_BYTES {
        return Err(Error::line(path, line, format!("record is more than {MAX_LINE_BYTES} bytes, over the limit")));
    }
    Ok(Some(bytes))
}

/// A JSON object whose keys are unique: serde_json keeps the last of a key given twice, which
/// would choose a document's text or id silently.
struct UniqueKeys(serde_json::Map<String, serde_json::Value>);

/// The message a record with a key twice gets (also how the error is told apart).
const TWICE: &str = "appears twice in the record";

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> std::result::Result<UniqueKeys, A::Error> {
                let mut record = serde_json::Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    let value = access.next_value()?;
                    if record.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("field '{key}' {TWICE}")));
                    }
                    record.insert(key, value);
                }
                Ok(UniqueKeys(record))
            }
        }
        deserializer.deserialize_any(Keys)
    }
}

fn parse_record(bytes: &[u8], path: &Path, line: u64) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<UniqueKeys>(bytes) {
        Ok(UniqueKeys(record)) => Ok(record),
        Err(e) if e.is_data() && e.to_string().contains(TWICE) => Err(Error::line(path, line, e.to_string())),
        Err(e) if e.is_data() => Err(Error::line(path, line, "not a JSON object")),
        Err(e) => Err(Error::line(path, line, format!("not valid JSON: {e}"))),
    }
}

fn read_jsonl_index(path: &Path, fields: &JsonlFields) -> Result<Vec<DocEntry>> {
    let file = std::fs::File::open(path).at(path, "cannot open corpus")?;
    let mut reader = std::io::BufReader::new(file);
    let (mut entries, mut seen, mut offset, mut line) = (Vec::new(), HashSet::new(), 0u64, 0u64);
    while let Some(bytes) = read_line(&mut reader, path, line + 1)? {
        line += 1;
        let len = bytes.len() as u64;
        let start = offset;
        offset += len;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = parse_record(&bytes, path, line)?;
        let get = |name: &str, required: bool| -> Result<String> {
            match text_field(&record, name).map_err(|e| Error::line(path, line, e))? {
                Some(value) if !(required && value.trim().is_empty()) => Ok(value),
                Some(_) => Err(Error::line(path, line, format!("empty '{name}'"))),
                None if required => Err(Error::line(path, line, format!("no field '{name}' (map it with --field)"))),
                None => Ok(String::new()),
            }
        };
        let doc_id = get(&fields.id, true)?;
        get(&fields.text, true)?;
        if !seen.insert(doc_id.clone()) {
            return Err(Error::line(path, line, format!("id '{doc_id}' appears twice")));
        }
        entries.push(DocEntry {
            doc_id,
            path: path.to_path_buf(),
            outlet: get(&fields.outlet, true)?,
            group: get(&fields.group, true)?,
            title: get(&fields.title, false)?,
            date: get(&fields.date, false)?,
            url: get(&fields.url, false)?,
            record: Some(JsonlRecord { line, offset: start, len }),
        });
    }
    if entries.is_empty() {
        return Err(Error::file(path, "the corpus holds no documents"));
    }
    Ok(entries)
}

/// Reads a document's text: its file for a manifest entry, its record's text field for a
/// JSONL one (whose sha256 is that of the text's UTF-8 bytes).
pub fn read_entry(entry: &DocEntry, fields: Option<&JsonlFields>) -> Result<Document> {
    let Some(record) = entry.record else { return crate::data::manifest::read_document(&entry.path) };
    let path = &entry.path;
    let mut file = std::fs::File::open(path).at(path, "cannot open corpus")?;
    file.seek(std::io::SeekFrom::Start(record.offset)).at(path, "cannot read corpus")?;
    let mut bytes = vec![0; record.len as usize];
    file.read_exact(&mut bytes).at(path, "cannot read corpus")?;
    let parsed = parse_record(&bytes, path, record.line)?;
    let field = &fields.cloned().unwrap_or_default().text;
    let text = text_field(&parsed, field).map_err(|e| Error::line(path, record.line, e))?.unwrap_or_default();
    if text.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::line(path, record.line, format!("document is {} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit", text.len())));
    }
    let origin = PathBuf::from(format!("{}:{}", path.display(), record.line));
    read_text(text.as_bytes(), &origin)
}

/// One shard of a corpus split `count` ways: `index/count`, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// This shard, 0 ≤ index < count.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("'{s}': expected K/N, as in 0/4"))?;
        let parse = |x: &str| x.trim().parse::<u64>().map_err(|_| format!("'{s}': K and N must be whole numbers"));
        let (index, count) = (parse(k)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(format!("'{s}': need 0 ≤ K < N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether `doc_id` belongs to this shard: the first 8 bytes of its SHA-256, modulo the
    /// count. Depends on the id alone, so adding documents never moves the others.
    pub fn holds(&self, doc_id: &str) -> bool {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(doc_id.as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        head % self.count == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn allsides_fields() -> JsonlFields {
        let mut f = JsonlFields::default();
        for m in ["id=ID", "text=content", "outlet=source", "group=bias"] {
            f.set(m).unwrap();
        }
        f
    }

    #[test]
    fn jsonl_records_are_indexed_and_read_one_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "c.jsonl",
            "{\"ID\": \"a\", \"content\": \"First text.\", \"source\": \"Vox\", \"bias\": \"left\", \"title\": \"T\"}\n\n\
             {\"ID\": 7, \"content\": \"Second \u{e9}t\u{e9}.\", \"source\": \"Fox\", \"bias\": \"right\", \"date\": null}\n",
        );
        let fields = allsides_fields();
        let corpus = Corpus::Jsonl { path: path.clone(), fields: fields.clone() };
        let entries = corpus.entries(true).unwrap();
        assert_eq!(entries.iter().map(|e| e.doc_id.as_str()).collect::<Vec<_>>(), ["a", "7"]);
        assert_eq!((entries[0].title.as_str(), entries[1].group.as_str(), entries[1].date.as_str()), ("T", "right", ""));
        assert_eq!(entries[1].record.unwrap().line, 3);
        let doc = read_entry(&entries[1], Some(&fields)).unwrap();
        assert_eq!(doc.text, "Second été.");
        assert_eq!(doc.sha256, crate::digest::sha256_hex("Second été.".as_bytes()));
    }

    #[test]
    fn bad_jsonl_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let fields = allsides_fields();
        let ok = "{\"ID\": \"a\", \"content\": \"x.\", \"source\": \"S\", \"bias\": \"left\"}";
        let table = [
            (format!("{ok}\n{{\"ID\": \"b\"\n"), "line 2: not valid JSON"),
            (format!("{ok}\n[1]\n"), "line 2: not a JSON object"),
            (format!("{ok}\n{ok}\n"), "line 2: id 'a' appears twice"),
            (
                "{\"ID\": \"a\", \"content\": \"x.\", \"content\": \"y.\", \"source\": \"S\", \"bias\": \"l\"}\n".to_string(),
                "line 1: field 'content' appears twice in the record",
            ),
            ("{\"ID\": \"a\", \"source\": \"S\", \"bias\": \"l\"}\n".to_string(), "line 1: no field 'content' (map it with --field)"),
            ("{\"ID\": \"a\", \"content\": \" \", \"source\": \"S\", \"bias\": \"l\"}\n".to_string(), "line 1: empty 'content'"),
            ("{\"ID\": [1], \"content\": \"x\", \"source\": \"S\", \"bias\": \"l\"}\n".to_string(), "line 1: field 'ID' is not a string"),
            ("\n".to_string(), "the corpus holds no documents"),
        ];
        for (text, expected) in table {
            let path = write(dir.path(), "bad.jsonl", &text);
            let err = Corpus::Jsonl { path, fields: fields.clone() }.entries(true).unwrap_err().to_string();
            assert!(err.starts_with(&format!("{}: {expected}", dir.path().join("bad.jsonl").display())), "{err}");
        }
        let mut f = JsonlFields::default();
        assert!(f.set("colour=x").unwrap_err().contains("not a document property"));
        assert!(f.set("id").unwrap_err().contains("expected PROPERTY=FIELD"));
    }

    #[test]
    fn shards_partition_the_corpus_and_are_stable() {
        let ids: Vec<String> = (0..1000).map(|i| format!("doc-{i}")).collect();
        let shards: Vec<Shard> = (0..4).map(|k| format!("{k}/4").parse().unwrap()).collect();
        let mut sizes = [0; 4];
        for id in &ids {
            let owners: Vec<usize> = (0..4).filter(|&k| shards[k].holds(id)).collect();
            assert_eq!(owners.len(), 1, "{id} belongs to exactly one shard");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| (200..300).contains(&n)), "{sizes:?}");
        // A known assignment, so a change of the hash (which would move every shard) fails here.
        // (Python: int.from_bytes(hashlib.sha256(id).digest()[:8], "big") % 4.)
        for (id, k) in [("globaltimes-2025-japan", 3), ("a", 2), ("doc-1", 1)] {
            assert_eq!((0..4).find(|&j| shards[j].holds(id)), Some(k), "{id}");
        }
        for bad in ["4/4", "1/0", "a/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!("2/8".parse::<Shard>().unwrap().to_string(), "2/8");
    }
}

//! `stance tag`: an interactive terminal tagger over a tagging sheet (`stance sample`).
//!
//! One sentence at a time with its context, one key per label, and the sheet rewritten
//! atomically after every answer, so a tagger can stop at any moment and resume later where
//! the first untagged row is. The model's suggestion stays hidden unless asked for: a
//! suggestion seen first anchors the tag, and the tags are meant to check the model.

use anyhow::{bail, Context, Result};
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal;
use stance_core::data::table::CsvFile;
use stance_core::digest::{sha256_file, sha256_hex};
use stance_core::labels::{SENTIMENT_LABELS, STANCE_LABELS};
use stance_core::output::write_atomic;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The annotation guide, target-neutral: `{target}` and `{target_definition}` are filled in for
/// the row's target and shown on `?`.
const GUIDE: &str = include_str!("../../../docs/annotation-guide.md");

/// What the shipped default target covers (the shared guide's wording).
const JAPAN_DEFINITION: &str = "\"Japan's rearmament\" means Japan's military build-up in the broad sense: higher defence \
spending, new or offensive capabilities (counter-strike missiles, frigates), loosening Article 9 and other constitutional \
or legal limits, collective self-defence, arms exports, Self-Defense Forces operating abroad, and a larger military role \
inside alliances.";

/// The guide's tagging sections (the unit, stance, sentiment) for `target`.
pub fn guide_for(target: &str) -> String {
    let start = GUIDE.find("## The unit").unwrap_or(0);
    let end = GUIDE.find("## File format").unwrap_or(GUIDE.len());
    let definition = if target.trim().eq_ignore_ascii_case("Japan's rearmament") {
        JAPAN_DEFINITION.to_string()
    } else {
        "(This guide has no definition of this target: write down what it covers before tagging, and tag by that.)".to_string()
    };
    format!("Target: {target}\n\n{}", GUIDE[start..end].trim_end()).replace("{target_definition}", &definition).replace("{target}", target)
}

const KEYS: &str = "stance: [f]avor [a]gainst [n]one   then sentiment: [+] positive [0] neutral [-] negative\n\
other: [s]kip  [u]ndo  [c]omment  [?] guide  [q]uit";
const KEYS_STANCE_ONLY: &str = "stance: [f]avor [a]gainst [n]one   (stance only: sentiment is not tagged)\n\
other: [s]kip  [u]ndo  [c]omment  [?] guide  [q]uit";

/// A tagging sheet in memory: header and rows, label columns located.
pub struct Sheet {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    col: Columns,
    /// Stance only: sentiment is neither asked nor needed for a row to count as tagged.
    stance_only: bool,
    /// The sha256 of the file as last read or written here: a save finds out whether another
    /// tag session or program wrote the sheet meanwhile, instead of overwriting its tags.
    on_disk: String,
}

struct Columns {
    stance: usize,
    sentiment: Option<usize>,
    sentence: usize,
    target: Option<usize>,
    annotator: usize,
    tagged_at: usize,
    note: usize,
    doc_id: usize,
    title: Option<usize>,
    outlet: Option<usize>,
    previous: Option<usize>,
    next: Option<usize>,
    model_stance: Option<usize>,
    model_sentiment: Option<usize>,
}

impl Sheet {
    /// Reads a sheet; `annotator`, `tagged_at` and `note` columns are added when missing.
    /// With `stance_only` the sheet needs no sentiment column (one it has is left as it is).
    pub fn read(path: &Path, stance_only: bool) -> Result<Self> {
        let file = CsvFile::open(path, "sheet")?;
        let origin = file.origin().to_string();
        let mut header: Vec<String> = file.headers().map(String::from).collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for row in file.rows() {
            let (line, record) = row?;
            lines.push(line);
            rows.push(record.iter().map(String::from).collect::<Vec<_>>());
        }
        let find = |header: &[String], name: &str| header.iter().position(|h| h == name);
        for name in ["annotator", "tagged_at", "note"] {
            if find(&header, name).is_none() {
                header.push(name.to_string());
            }
        }
        for row in &mut rows {
            row.resize(header.len(), String::new());
        }
        let need = |name: &str| {
            find(&header, name)
                .with_context(|| {
                    format!("{origin}: line 1: missing column '{name}' (a sheet needs doc_id, sentence, stance, sentiment; with --stance-only no sentiment)")
                })
        };
        let col = Columns {
            stance: need("stance")?,
            sentiment: if stance_only { find(&header, "sentiment") } else { Some(need("sentiment")?) },
            sentence: need("sentence")?,
            target: find(&header, "target"),
            doc_id: need("doc_id")?,
            annotator: need("annotator")?,
            tagged_at: need("tagged_at")?,
            note: need("note")?,
            title: find(&header, "title"),
            outlet: find(&header, "outlet"),
            previous: find(&header, "previous"),
            next: find(&header, "next"),
            model_stance: find(&header, "model_stance"),
            model_sentiment: find(&header, "model_sentiment"),
        };
        for (i, row) in rows.iter().enumerate() {
            let columns = [(Some(col.stance), &STANCE_LABELS, "stance"), (col.sentiment, &SENTIMENT_LABELS, "sentiment")];
            for (k, labels, what) in columns.into_iter().filter_map(|(k, l, w)| Some((k?, l, w))) {
                let v = row[k].trim();
                if !v.is_empty() && !labels.contains(&v) {
                    bail!("{origin}: line {}: unknown {what} label '{v}' (expected {})", lines[i], labels.join(", "));
                }
            }
        }
        if rows.is_empty() {
            bail!("{origin}: the sheet has no rows");
        }
        let on_disk = sha256_file(path)?;
        Ok(Self { path: path.to_path_buf(), header, rows, col, stance_only, on_disk })
    }

    fn is_tagged(&self, i: usize) -> bool {
        let filled = |k: usize| !self.rows[i][k].trim().is_empty();
        filled(self.col.stance) && (self.stance_only || self.col.sentiment.is_some_and(filled))
    }

    /// The row's target: its `target` cell, else the study's.
    fn target<'a>(&'a self, i: usize, study: &'a str) -> &'a str {
        self.col.target.map(|k| self.rows[i][k].trim()).filter(|t| !t.is_empty()).unwrap_or(study)
    }

    /// Rows with both labels.
    pub fn tagged(&self) -> usize {
        (0..self.rows.len()).filter(|&i| self.is_tagged(i)).count()
    }

    /// Writes the sheet, unless someone else wrote it since this session read or wrote it.
    fn save(&mut self) -> Result<()> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(&self.header)?;
        for row in &self.rows {
            w.write_record(row)?;
        }
        let bytes = w.into_inner()?;
        if sha256_file(&self.path).ok().as_deref() != Some(self.on_disk.as_str()) {
            bail!(
                "{}: changed on disk since this session read it (another stance tag or program wrote it): the last answer was not saved and the file was left as it is; start stance tag again to go on",
                self.path.display()
            );
        }
        write_atomic(&self.path, &bytes)?;
        self.on_disk = sha256_hex(&bytes);
        Ok(())
    }
}

/// UTC time as ISO 8601 (`2026-11-22T20:56:38Z`), from the system clock.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Restores the terminal however the tagger ends.
struct RawMode;
impl RawMode {
    fn enter() -> Result<Self> {
        terminal::enable_raw_mode().context("cannot switch the terminal to raw mode")?;
        Ok(Self)
    }
}
impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

fn read_key() -> Result<KeyEvent> {
    loop {
        if let Event::Key(key) = event::read()? {
            if key.kind != KeyEventKind::Release {
                return Ok(key);
            }
        }
    }
}

/// Prints in raw mode (where a line feed does not return the carriage).
fn say(out: &mut impl Write, text: &str) -> Result<()> {
    write!(out, "{}", text.replace('\n', "\r\n"))?;
    out.flush()?;
    Ok(())
}

/// Reads a line of text in raw mode (for a comment); Esc cancels.
fn read_line(out: &mut impl Write) -> Result<Option<String>> {
    let mut text = String::new();
    loop {
        let key = read_key()?;
        match key.code {
            KeyCode::Enter => return Ok(Some(text)),
            KeyCode::Esc => return Ok(None),
            KeyCode::Backspace if text.pop().is_some() => {
                say(out, "\u{8} \u{8}")?;
            }
            KeyCode::Char(c) => {
                text.push(c);
                say(out, &c.to_string())?;
            }
            _ => {}
        }
    }
}

/// Options of a tagging session.
pub struct TagOptions<'a> {
    /// Written into the annotator column.
    pub annotator: &'a str,
    /// Show the model's labels.
    pub show_model: bool,
    /// The study's target, for rows without a `target` cell.
    pub target: &'a str,
    /// Tag stance only (no sentiment asked).
    pub stance_only: bool,
}

/// Runs the tagger over `path`; returns (tagged rows, total rows) at the end.
pub fn run(path: &Path, options: &TagOptions) -> Result<(usize, usize)> {
    let TagOptions { annotator, show_model, target, stance_only } = *options;
    if !std::io::stdin().is_terminal() {
        bail!("stance tag is interactive and needs a terminal on stdin (to fill a sheet by script, edit its stance and sentiment columns)");
    }
    let mut sheet = Sheet::read(path, stance_only)?;
    if show_model && sheet.col.model_stance.is_none() {
        bail!("{}: --show-model needs the model_stance column (write the sheet with stance sample --with-model)", path.display());
    }
    let mut out = std::io::stdout();
    let _raw = RawMode::enter()?;
    // Rows answered in this session, newest last, for undo.
    let mut history: Vec<usize> = Vec::new();
    let mut skipped = vec![false; sheet.rows.len()];
    while let Some(i) = (0..sheet.rows.len()).find(|&i| !sheet.is_tagged(i) && !skipped[i]) {
        show(&mut out, &sheet, i, show_model, target)?;
        let key = read_key()?;
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            break;
        }
        match key.code {
            KeyCode::Char(c @ ('f' | 'a' | 'n')) => {
                let stance = match c {
                    'f' => "favor",
                    'a' => "against",
                    _ => "none",
                };
                // None: Esc, the answer is cancelled; Some(None): stance only, no sentiment asked.
                let answer = if sheet.stance_only {
                    Some(None)
                } else {
                    say(&mut out, &format!("\nstance {stance}; sentiment? [+] positive [0] neutral [-] negative (Esc: back) "))?;
                    loop {
                        match read_key()?.code {
                            KeyCode::Char('+' | 'p') => break Some(Some("positive")),
                            KeyCode::Char('0' | 'e') => break Some(Some("neutral")),
                            KeyCode::Char('-' | 'g') => break Some(Some("negative")),
                            KeyCode::Esc => break None,
                            _ => {}
                        }
                    }
                };
                if let Some(sentiment) = answer {
                    let c = &sheet.col;
                    let (st, se, an, at) = (c.stance, c.sentiment, c.annotator, c.tagged_at);
                    let row = &mut sheet.rows[i];
                    row[st] = stance.into();
                    if let (Some(se), Some(sentiment)) = (se, sentiment) {
                        row[se] = sentiment.into();
                    }
                    row[an] = annotator.into();
                    row[at] = now_utc();
                    sheet.save()?;
                    history.push(i);
                }
            }
            KeyCode::Char('s') => skipped[i] = true,
            KeyCode::Char('u') => {
                if let Some(j) = history.pop() {
                    let c = &sheet.col;
                    let sentiment = c.sentiment.filter(|_| !sheet.stance_only);
                    let cols = [Some(c.stance), sentiment, Some(c.annotator), Some(c.tagged_at)];
                    cols.iter().flatten().for_each(|&k| sheet.rows[j][k].clear());
                    sheet.save()?;
                    skipped.iter_mut().skip(j).for_each(|s| *s = false);
                }
            }
            KeyCode::Char('c') => {
                say(&mut out, "\ncomment (Enter to keep, Esc to cancel): ")?;
                if let Some(text) = read_line(&mut out)? {
                    let note = sheet.col.note;
                    sheet.rows[i][note] = text;
                    sheet.save()?;
                }
            }
            KeyCode::Char('?') => {
                let guide = guide_for(sheet.target(i, target));
                say(&mut out, &format!("\x1b[2J\x1b[H{guide}\n\n(any key to go back)"))?;
                read_key()?;
            }
            KeyCode::Char('q') | KeyCode::Esc => break,
            _ => {}
        }
    }
    let (tagged, total) = (sheet.tagged(), sheet.rows.len());
    say(&mut out, &format!("\x1b[2J\x1b[H{tagged} of {total} rows tagged; saved to {}\n", path.display()))?;
    Ok((tagged, total))
}

fn show(out: &mut impl Write, sheet: &Sheet, i: usize, show_model: bool, study_target: &str) -> Result<()> {
    let row = &sheet.rows[i];
    let c = &sheet.col;
    let get = |k: Option<usize>| k.map(|k| row[k].as_str()).unwrap_or("");
    let mut s = format!("\x1b[2J\x1b[H[{} of {} tagged] row {} of {}\n", sheet.tagged(), sheet.rows.len(), i + 1, sheet.rows.len());
    s += &format!("target: \x1b[1m{}\x1b[0m\n", sheet.target(i, study_target));
    s += &format!("document {}  {}  \x1b[1m{}\x1b[0m\n\n", row[c.doc_id], get(c.outlet), get(c.title));
    if !get(c.previous).is_empty() {
        s += &format!("\x1b[2m{}\x1b[0m\n", get(c.previous));
    }
    s += &format!(">> \x1b[1m{}\x1b[0m\n", row[c.sentence]);
    if !get(c.next).is_empty() {
        s += &format!("\x1b[2m{}\x1b[0m\n", get(c.next));
    }
    if !row[c.note].is_empty() {
        s += &format!("\nnote: {}\n", row[c.note]);
    }
    if show_model {
        s += &format!("\nmodel: stance {}, sentiment {}\n", get(c.model_stance), get(c.model_sentiment));
    }
    s += &format!("\n{}\n", if sheet.stance_only { KEYS_STANCE_ONLY } else { KEYS });
    say(out, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_is_iso() {
        let t = now_utc();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T", "{t}");
    }

    #[test]
    fn sheets_are_checked_and_columns_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "doc_id,sentence,stance,sentiment\nd,One.,,\nd,Two.,none,neutral\n").unwrap();
        let sheet = Sheet::read(&path, false).unwrap();
        assert_eq!(sheet.tagged(), 1);
        assert_eq!(sheet.header, ["doc_id", "sentence", "stance", "sentiment", "annotator", "tagged_at", "note"]);
        std::fs::write(&path, "doc_id,sentence,stance,sentiment\nd,One.,pro,\n").unwrap();
        let err = format!("{:#}", Sheet::read(&path, false).err().unwrap());
        assert!(err.contains("s.csv: line 2: unknown stance label 'pro'"), "{err}");
    }

    #[test]
    fn arbitrary_sheets_are_read_or_refused_in_one_line_naming_the_file() {
        // Issue 31's fuzz bar: the tag sheet reader, fed sheets built from CSV pieces, labels
        // and bytes, never panics; a refusal names the file; a sheet it reads saves back whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sheet.csv");
        let pieces = [
            "doc_id",
            "sentence",
            "stance",
            "sentiment",
            "target",
            ",",
            "\n",
            "\r\n",
            "\"",
            "favor",
            "none",
            "pro",
            "\u{feff}",
            "Tokyo.",
            " ",
            "\0",
            "é",
        ];
        let mut state = 0x5eedu64;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for case in 0..3000 {
            let mut text = String::from(if case % 2 == 0 { "doc_id,sentence,stance,sentiment\n" } else { "" });
            for _ in 0..below(40) {
                text.push_str(pieces[below(pieces.len())]);
            }
            std::fs::write(&path, &text).unwrap();
            match Sheet::read(&path, case % 3 == 0) {
                Ok(mut sheet) => {
                    let rows = sheet.rows.len();
                    sheet.save().unwrap();
                    assert_eq!(Sheet::read(&path, case % 3 == 0).unwrap().rows.len(), rows, "case {case}: {text:?}");
                }
                Err(e) => {
                    let message = format!("{e:#}");
                    assert!(message.contains("sheet.csv") && !message.contains('\n'), "case {case}: {text:?}: {message}");
                }
            }
        }
    }

    #[test]
    fn a_sheet_written_by_someone_else_meanwhile_is_not_overwritten() {
        // Issue 31 item 1: a second session's (or an editor's) tags were lost at the next answer.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "doc_id,sentence,stance,sentiment\nd,One.,,\nd,Two.,,\n").unwrap();
        let (mut first, mut second) = (Sheet::read(&path, false).unwrap(), Sheet::read(&path, false).unwrap());
        second.rows[1][2] = "favor".into();
        second.rows[1][3] = "neutral".into();
        second.save().unwrap();
        first.rows[0][2] = "none".into();
        let err = format!("{:#}", first.save().unwrap_err());
        assert!(err.contains("s.csv: changed on disk since this session read it"), "{err}");
        let kept = Sheet::read(&path, false).unwrap();
        assert_eq!((kept.rows[1][2].as_str(), kept.rows[0][2].as_str()), ("favor", ""), "the other session's tag is kept");
        // A session's own saves do not trip it.
        second.rows[0][2] = "against".into();
        second.rows[0][3] = "negative".into();
        second.save().unwrap();
        assert_eq!(Sheet::read(&path, false).unwrap().tagged(), 2);
    }
}

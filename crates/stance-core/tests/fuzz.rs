//! A time-boxed fuzz harness over the text stages and the file readers: arbitrary bytes and
//! Unicode, CRLF, NUL, byte-order marks, quotes and the punctuation the splitter looks at.
//! Asserts: no panic; sentence spans valid, in order, trimmed and on character boundaries;
//! every reader error names its file.
//!
//! Budget: `STANCE_FUZZ_SECONDS` (default 60, what `make test` runs). Longer by hand:
//! `STANCE_FUZZ_SECONDS=3600 cargo test --release -p stance-core --test fuzz -- --nocapture`.
//! A failure prints the case's seed; `STANCE_FUZZ_SEED=N` replays that one case.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stance_core::data::examples::{read_examples, DataSpec};
use stance_core::data::gold::{read_gold, read_predictions};
use stance_core::data::manifest::{read_document, read_manifest};
use stance_core::labels::Task;
use stance_core::text::clean::{Cleaner, LineRules};
use stance_core::text::split::{RuleSplitter, SentenceSplitter};
use std::path::Path;
use std::time::{Duration, Instant};

/// Pieces that the cleaner, the splitter and the CSV readers treat specially.
const PIECES: &[&str] = &[
    "Japan",
    "the",
    "rearmament",
    "U.S.",
    "Mr.",
    "a.m.",
    "No.",
    "p.",
    "I",
    "3.5",
    "1,000",
    ". ",
    "! ",
    "? ",
    "…",
    ". . .",
    "...",
    ".\u{201d} ",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "\0",
    "\u{feff}",
    "\"",
    "\"\"",
    ",",
    ";",
    "1) ",
    "2.) ",
    "a. ",
    "- ",
    "• ",
    "# ",
    "> ",
    "```",
    "|",
    "| --- |",
    "*",
    "**",
    "[",
    "](",
    "](http://x.org)",
    "![",
    "<b>",
    "</b>",
    "Jane.Doe@example.com",
    "http://a.b/c",
    "References",
    "About the authors",
    "By Jane Zhou",
    "DOI: 10.1/x",
    "[1] ",
    "日本",
    "。",
    "！",
    "e\u{301}",
    "\u{200b}",
    " ",
    "\t",
    "doc_id,path,outlet,group",
    "doc_id,sentence,stance,sentiment",
    "text,target,stance",
    "favor",
    "against",
    "none",
    "neutral",
    "a.txt",
    "d",
];

fn random_input(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let len = rng.gen_range(0..200);
    let mut out = Vec::new();
    for _ in 0..len {
        match rng.gen_range(0..10) {
            0 => out.push(rng.gen()),
            1 => {
                let c = char::from_u32(rng.gen_range(0..0x2FFFF)).unwrap_or('\u{fffd}');
                out.extend(c.to_string().as_bytes());
            }
            _ => out.extend(PIECES[rng.gen_range(0..PIECES.len())].as_bytes()),
        }
    }
    out
}

fn check_text(text: &str) -> Result<(), String> {
    for rules in [LineRules::plain(), LineRules::markdown()] {
        let cleaned = rules.clean(text);
        let t = &cleaned.text;
        let mut last_end = 0;
        for span in RuleSplitter.split(t) {
            if span.start < last_end || span.start >= span.end || span.end > t.len() {
                return Err(format!("span {span:?} after {last_end} in {} bytes", t.len()));
            }
            if !t.is_char_boundary(span.start) || !t.is_char_boundary(span.end) {
                return Err(format!("span {span:?} not on character boundaries"));
            }
            let s = &t[span.clone()];
            if s.trim() != s {
                return Err(format!("span {span:?} not trimmed: {s:?}"));
            }
            if !t[last_end..span.start].chars().all(char::is_whitespace) {
                return Err(format!("text between sentences before {span:?} is not whitespace"));
            }
            last_end = span.end;
        }
    }
    Ok(())
}

/// Every reader over `path`: Ok, or an error whose message starts with the path.
fn check_readers(path: &Path) -> Result<(), String> {
    let name = path.display().to_string();
    let spec = DataSpec { default_target: Some("t".into()), ..Default::default() };
    let results: Vec<(&str, Result<(), String>)> = vec![
        ("manifest", read_manifest(path).map(|_| ()).map_err(|e| e.to_string())),
        ("gold", read_gold(path).map(|_| ()).map_err(|e| e.to_string())),
        ("predictions", read_predictions(path).map(|_| ()).map_err(|e| e.to_string())),
        ("examples", read_examples(path, &spec, Task::Stance).map(|_| ()).map_err(|e| e.to_string())),
        ("document", read_document(path).map(|_| ()).map_err(|e| e.to_string())),
    ];
    for (reader, result) in results {
        if let Err(message) = result {
            if !message.starts_with(&name) || message.contains('\n') {
                return Err(format!("{reader} error does not name the file in one line: {message:?}"));
            }
            // A problem inside the file names its line; only file-wide problems may not.
            let rest = &message[name.len()..];
            let file_wide = ["no rows", "lists no documents", "no examples", "document is empty", "not a", "is a folder", "more than"];
            if !rest.starts_with(": line ") && !file_wide.iter().any(|w| rest.contains(w)) {
                return Err(format!("{reader} error names no line: {message:?}"));
            }
        }
    }
    Ok(())
}

fn run_case(seed: u64, dir: &Path) -> Result<(), String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let bytes = random_input(&mut rng);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let path = dir.join(format!("case{}.csv", seed % 4));
    std::fs::write(&path, &bytes).unwrap();
    let outcome = std::panic::catch_unwind(|| check_text(&text).and_then(|()| check_readers(&path)));
    match outcome {
        Ok(result) => result.map_err(|e| format!("{e}\n  input: {:?}", text)),
        Err(_) => Err(format!("panicked\n  input: {:?}", text)),
    }
}

#[test]
fn text_stages_and_readers_survive_arbitrary_input() {
    let dir = tempfile::tempdir().unwrap();
    if let Some(seed) = std::env::var("STANCE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()) {
        run_case(seed, dir.path()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        return;
    }
    let budget = Duration::from_secs(std::env::var("STANCE_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60));
    let started = Instant::now();
    let mut cases = 0u64;
    while started.elapsed() < budget {
        if let Err(e) = run_case(cases, dir.path()) {
            panic!("case seed {cases} (replay: STANCE_FUZZ_SEED={cases}): {e}");
        }
        cases += 1;
    }
    eprintln!("fuzz: {cases} cases clean in {:.0} s", started.elapsed().as_secs_f64());
    assert!(cases > 1000, "only {cases} cases in the budget");
}

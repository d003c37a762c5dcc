//! Sentence splitting: every label and count downstream is per sentence, so a sentence must be
//! an exact byte span of the cleaned text (reports carry `start`/`end`, and gold rows are
//! matched by sentence text). The splitter sits behind [`SentenceSplitter`] so a stronger one
//! can replace [`RuleSplitter`] without touching the rest of the pipeline.

use std::ops::Range;

/// A sentence as a byte range of the text it was split from.
pub type Span = Range<usize>;

/// Splits cleaned text into sentence spans: in order, non-overlapping, trimmed of whitespace,
/// each holding at least one letter or digit.
pub trait SentenceSplitter {
    fn split(&self, text: &str) -> Vec<Span>;
}

/// Rule-based splitter for English prose as it comes from web pages and papers.
///
/// Line structure first: a line break ends a sentence unless the next line starts with a
/// lowercase letter (a hard-wrapped sentence going on); list items and headings are sentences
/// of their own, without their bullet or `#` marker. Inside a line, a sentence ends at `.`, `!`,
/// `?` or `…` (with any closing quotes or brackets) followed by whitespace and a capital, digit
/// or opening quote, except after an abbreviation (Mr., U.S., No. 2, single initials such as
/// "Edwin O. Reischauer").
#[derive(Debug, Default, Clone)]
pub struct RuleSplitter;

/// Titles and other abbreviations that never end a sentence.
const NEVER_FINAL: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "rep", "sen", "gov", "pres",
    "rev", "hon", "messrs", "mt", "ft", "vs", "cf", "e.g", "i.e", "approx", "dept", "univ", "assn", "bros", "et al",
];
/// Abbreviations that are followed by a number when they do not end a sentence.
const BEFORE_NUMBER: &[&str] = &["no", "nos", "vol", "vols", "pp", "p", "fig", "figs", "art", "sec", "ch", "para", "eq"];
/// Abbreviations that usually continue but can end a sentence (then a typical opener follows).
const USUALLY_CONTINUING: &[&str] =
    &["inc", "co", "corp", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m", "etc"];
/// Words that typically open a sentence: after "U.S." or "Inc." they signal a real boundary.
const OPENERS: &[&str] = &[
    "The",
    "This",
    "That",
    "These",
    "Those",
    "It",
    "Its",
    "He",
    "She",
    "They",
    "We",
    "I",
    "You",
    "In",
    "On",
    "At",
    "But",
    "However",
    "Yet",
    "And",
    "So",
    "Thus",
    "Meanwhile",
    "Moreover",
    "Furthermore",
    "There",
    "Such",
    "A",
    "An",
    "As",
    "If",
    "When",
    "While",
    "After",
    "Before",
    "Since",
    "Although",
    "Our",
    "Their",
    "His",
    "Her",
    "What",
    "Why",
    "How",
    "Who",
    "Where",
];

impl SentenceSplitter for RuleSplitter {
    fn split(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        for block in blocks(text) {
            split_block(text, block, &mut spans);
        }
        spans
    }
}

/// Byte ranges of the text's blocks: runs of lines that belong to one paragraph, list item or
/// heading, with the bullet or heading marker already left out.
fn blocks(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut current: Option<Span> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        let marker = list_or_heading_marker(&content[indent..]);
        let body_start = line_start + indent + marker;
        let body_end = line_start + content.len();
        let first = text[body_start..body_end].chars().next();
        let continues = marker == 0 && first.is_some_and(|c| c.is_lowercase());
        match current.as_mut() {
            Some(block) if continues => block.end = body_end,
            _ => {
                out.extend(current.take());
                current = Some(body_start..body_end);
            }
        }
    }
    out.extend(current);
    out
}

/// Length in bytes of a leading bullet ("- ", "* ", "• "), list number ("1. ", "2) ") or
/// Markdown heading marker ("## "), including the whitespace after it; 0 when there is none.
fn list_or_heading_marker(line: &str) -> usize {
    let bytes = line.as_bytes();
    let marker_end = if line.starts_with('#') {
        line.find(|c| c != '#').unwrap_or(line.len())
    } else if let Some(c) = line.chars().next().filter(|c| matches!(c, '-' | '*' | '•' | '–' | '·')) {
        c.len_utf8()
    } else {
        let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        if (1..=3).contains(&digits) && matches!(bytes.get(digits), Some(b'.') | Some(b')')) {
            digits + 1
        } else {
            return 0;
        }
    };
    let rest = &line[marker_end..];
    let space = rest.len() - rest.trim_start().len();
    // A marker needs whitespace after it ("-5%" or "3.5" are not list items), or ends the line.
    if space == 0 && !rest.is_empty() {
        return 0;
    }
    marker_end + space
}

fn split_block(text: &str, block: Span, spans: &mut Vec<Span>) {
    let body = &text[block.clone()];
    let mut sentence_start = 0;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // The whole run of terminal punctuation and closing quotes/brackets ends with the sentence.
        let mut end = i + c.len_utf8();
        while let Some(&(j, n)) = chars.peek() {
            if matches!(n, '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']' | '»') {
                end = j + n.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let rest = &body[end..];
        let after_space = rest.trim_start();
        if after_space.len() == rest.len() || after_space.is_empty() {
            continue; // no whitespace after it ("3.5", "U.S.-Japan"), or the block's end
        }
        if is_boundary(&body[sentence_start..end], c, after_space) {
            push_trimmed(text, block.start + sentence_start..block.start + end, spans);
            sentence_start = body.len() - after_space.len();
        }
    }
    push_trimmed(text, block.start + sentence_start..block.end, spans);
}

/// Whether a sentence ends after `before` (which ends in terminal punctuation `mark` plus any
/// closing quotes), given the text that follows the whitespace.
fn is_boundary(before: &str, mark: char, after: &str) -> bool {
    let next = after.chars().next().unwrap_or(' ');
    if next.is_lowercase() {
        return false;
    }
    if !(next.is_uppercase() || next.is_ascii_digit() || matches!(next, '"' | '\'' | '“' | '‘' | '(' | '[' | '«')) {
        return false;
    }
    if mark != '.' || !before.ends_with('.') {
        return true; // '!', '?', '…' and a period inside quotes ("No." he said) end sentences
    }
    let word = last_word(before);
    let lower = word.to_lowercase();
    let next_word: String = after.chars().take_while(|c| c.is_alphanumeric()).collect();
    if NEVER_FINAL.contains(&lower.as_str()) || (word.len() == 1 && word.chars().all(|c| c.is_uppercase())) {
        return false;
    }
    if BEFORE_NUMBER.contains(&lower.as_str()) {
        return !next.is_ascii_digit();
    }
    // "Japan-U.S." ends in the dotted abbreviation "U.S.".
    let last_part = word.rsplit(['-', '/']).next().unwrap_or(word);
    let dotted = last_part.len() >= 3 && last_part.split('.').all(|part| part.chars().count() == 1);
    if dotted || USUALLY_CONTINUING.contains(&lower.as_str()) {
        return OPENERS.contains(&next_word.as_str());
    }
    true
}

/// The word before a final period, without the period and any leading punctuation:
/// "(U.S." → "U.S", "Mr." → "Mr", "al." after "et" → "et al".
fn last_word(before: &str) -> &str {
    let trimmed = before.trim_end_matches('.');
    let start = trimmed
        .rfind(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '"' | '“' | '‘'))
        .map_or(0, |i| i + trimmed[i..].chars().next().map_or(1, char::len_utf8));
    let word = &trimmed[start..];
    if word == "al" && trimmed[..start].trim_end().ends_with("et") {
        let et = trimmed[..start].trim_end();
        return &trimmed[et.len() - 2..];
    }
    word
}

fn push_trimmed(text: &str, span: Span, spans: &mut Vec<Span>) {
    let piece = &text[span.clone()];
    let start = span.start + (piece.len() - piece.trim_start().len());
    let end = span.end - (piece.len() - piece.trim_end().len());
    if start < end && text[start..end].chars().any(char::is_alphanumeric) {
        spans.push(start..end);
    }
}

/// The sentences of `text` as strings, with internal whitespace runs collapsed to one space
/// (for printing one sentence per line).
pub fn sentence_texts(splitter: &dyn SentenceSplitter, text: &str) -> Vec<String> {
    splitter.split(text).into_iter().map(|s| text[s].split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<&str> {
        RuleSplitter.split(text).into_iter().map(|s| &text[s]).collect()
    }

    #[test]
    fn splits_as_the_table_says() {
        let table: &[(&str, &[&str])] = &[
            ("Japan rearms. China objects.", &["Japan rearms.", "China objects."]),
            ("Is it legal? Critics doubt it! Maybe.", &["Is it legal?", "Critics doubt it!", "Maybe."]),
            ("Ties with the U.S. remain strong.", &["Ties with the U.S. remain strong."]),
            ("It relied on the U.S. The shift came later.", &["It relied on the U.S.", "The shift came later."]),
            ("It shifted from the U.S.-Japan model.", &["It shifted from the U.S.-Japan model."]),
            ("Such as the Japan-U.S. Security Treaty.", &["Such as the Japan-U.S. Security Treaty."]),
            ("Head of the Edwin O. Reischauer Centre spoke.", &["Head of the Edwin O. Reischauer Centre spoke."]),
            ("Named after B.N. Yeltsin in 1991.", &["Named after B.N. Yeltsin in 1991."]),
            ("See Vol. 15, No. 2 of the journal.", &["See Vol. 15, No. 2 of the journal."]),
            ("Mr. Kishida met Dr. Calder.", &["Mr. Kishida met Dr. Calder."]),
            ("A $6.5 billion deal. It was the first.", &["A $6.5 billion deal.", "It was the first."]),
            ("He said \"No.\" Then he left.", &["He said \"No.\"", "Then he left."]),
            ("The term “spear.” Japan was the shield.", &["The term “spear.”", "Japan was the shield."]),
            ("Wait... It worked. Or so... they said.", &["Wait...", "It worked.", "Or so... they said."]),
            ("e.g. the frigates. Exports rose.", &["e.g. the frigates.", "Exports rose."]),
            ("Smith et al. The argument holds.", &["Smith et al. The argument holds."]),
            ("Sales by Mitsubishi Co. grew.", &["Sales by Mitsubishi Co. grew."]),
        ];
        for (input, expected) in table {
            assert_eq!(&sentences(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn line_structure_as_the_table_says() {
        let table: &[(&str, &[&str])] = &[
            // A heading directly above prose is a sentence of its own.
            ("The Way Forward\nAs Japan navigates the landscape.", &["The Way Forward", "As Japan navigates the landscape."]),
            // A hard-wrapped sentence continues on a lowercase line.
            ("Japan has strengthened ties with\nthe Philippines. Next.", &["Japan has strengthened ties with\nthe Philippines.", "Next."]),
            // Bullets and numbers are not part of the sentence.
            ("includes:\n- Strengthening ties.\n- Expanding exports\n", &["includes:", "Strengthening ties.", "Expanding exports"]),
            ("  1. The first point. More.\n  2. The second.", &["The first point.", "More.", "The second."]),
            ("## Heading\n\nBody text.", &["Heading", "Body text."]),
            // Blank lines separate paragraphs; a paragraph ending without a period still ends.
            ("Skip\n\n\nreal text here", &["Skip", "real text here"]),
            ("-5% growth was recorded.", &["-5% growth was recorded."]),
            ("-\n\n- \n...\n", &[]),
            ("", &[]),
        ];
        for (input, expected) in table {
            assert_eq!(&sentences(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn spans_are_ordered_trimmed_and_inside_the_text() {
        let text = "  First one.  Second one!\n\n- Third\n4. Fourth? Yes.\u{3000}";
        let spans = RuleSplitter.split(text);
        let mut last_end = 0;
        for span in &spans {
            assert!(span.start >= last_end && span.start < span.end && span.end <= text.len());
            assert!(text[last_end..span.start].chars().all(|c| c.is_whitespace() || "-4.".contains(c)));
            let s = &text[span.clone()];
            assert_eq!(s, s.trim());
            last_end = span.end;
        }
        assert_eq!(spans.len(), 5);
    }

    #[test]
    fn never_panics_on_odd_unicode() {
        for text in ["。！？", "é́́. Ā. ﻿", "עברית. עוד!", "\u{0301}.", "a.\u{200B}B", "…", "?!", "# ", "1.", "12)x"] {
            let spans = RuleSplitter.split(text);
            for s in spans {
                assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            }
        }
    }
}

//! Document cleaning: web captures and paper landing pages carry navigation, bylines, author
//! biographies, metadata, reference lists and table rows. None of that is prose, and none of
//! it should be labelled or counted, so it is removed line by line before splitting, by named
//! rules whose counts are recorded per document (`run.json`).
//!
//! The rules, in the order they are tried (the first that matches names the reason):
//!
//! | rule | drops |
//! |---|---|
//! | `navigation` | site furniture: "Skip to content", "Related Posts", "Read also:", "Cite item", "Abstract", copyright lines, share/follow/subscribe prompts, cookie notices, "Tags: …" |
//! | `table` | table rows and separators (two or more `|`) |
//! | `metadata` | "Key: value" lines of article metadata (Authors, Issue, Pages, DOI, URL, ORCID iD, ...) |
//! | `byline` | "By Jane Zhou", "Photo: Reuters", "Author for correspondence." |
//! | `author-bio` | "X is associate professor at ..." and everything in an "About the authors" section |
//! | `email` | a line holding an e-mail address that does not read as prose ("Jane Doe, jane@uni.edu"; "Her email is jane@x.org. I wrote to her." stays) |
//! | `reference` | "[1] Calder, Kent. ..." and the entries of a "References" section |
//! | `affiliation` | the entries of an "Affiliations:" list |
//! | `non-english` | lines mostly in CJK script (a leading CJK outlet/author prefix before a colon is cut, the English rest kept) |
//! | `no-words` | lines without a single letter (a lone "-" bullet, rules, page numbers) |
//! | `duplicate` | a line identical to an earlier kept line (repeated titles and teasers) |
//!
//! Markdown documents (`.md`, `.markdown`) first lose fenced code blocks (`code`), image-only
//! lines (`image`) and link definitions (`link-definition`); each kept line is then read by a
//! CommonMark parser (pulldown-cmark) as inline text: links and images become their text,
//! emphasis, strike-through and code markers go, HTML tags go and their text stays, and
//! blockquote markers are cut.
//!
//! Kept lines are trimmed; lines that were adjacent stay on adjacent lines, and a dropped or
//! blank line becomes a paragraph break, so the splitter never joins text across a dropped line.
//! List items and headings lose their bullet, number or `#` marker and start a paragraph of
//! their own, so a list item is never merged into the line before it; a line that opens an
//! inline list ("1) The first item 2) The second item") keeps its marker, so the splitter still
//! cuts it into items.

use crate::text::split::{leading_marker, opens_inline_list};
use regex::Regex;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// The cleaned text of one document and what was removed from it.
#[derive(Debug, Clone, Default)]
pub struct Cleaned {
    /// The prose left, paragraphs separated by blank lines; sentence spans point into it.
    pub text: String,
    /// Lines in the raw document.
    pub lines_total: usize,
    /// Lines kept (the others are counted in `dropped`).
    pub lines_kept: usize,
    /// Dropped line count per rule name.
    pub dropped: BTreeMap<&'static str, usize>,
}

/// A cleaning stage: raw document text in, prose out.
pub trait Cleaner {
    /// The prose of `raw`, with what was removed and why.
    fn clean(&self, raw: &str) -> Cleaned;
}

/// The rule set described in the module docs.
#[derive(Debug, Default, Clone)]
pub struct LineRules {
    /// Treat the input as Markdown (see the module docs).
    pub markdown: bool,
}

impl LineRules {
    /// Rules for plain text.
    pub fn plain() -> Self {
        Self { markdown: false }
    }
    /// Rules for Markdown (code blocks, images and link syntax handled too).
    pub fn markdown() -> Self {
        Self { markdown: true }
    }
    /// Markdown for `.md` and `.markdown` files, plain text otherwise.
    pub fn for_path(path: &std::path::Path) -> Self {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        Self { markdown: matches!(ext.as_deref(), Some("md" | "markdown")) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Section {
    Body,
    Authors,
    Affiliations,
    References,
}

const NAVIGATION: &[&str] = &[
    "skip to content",
    "skip to main content",
    "scroll top",
    "scroll to top",
    "back to top",
    "related posts",
    "related articles",
    "related",
    "read also",
    "read more",
    "latest",
    "cite item",
    "full text",
    "abstract",
    "supplementary files",
    "share",
    "share this",
    "print",
    "menu",
    "home",
    "search",
    "advertisement",
    "subscribe",
    "sign in",
    "log in",
    "comments",
    "leave a comment",
    "tags",
    "download pdf",
    "keywords",
];

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

fn furniture_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    // Site furniture that comes with a tail: copyright lines, share/follow/subscribe prompts,
    // cookie notices, "Tags: …", "Posted in …", "Continue reading …".
    re(
        &R,
        r"(?i)^(?:©|\(c\)\s|copyright\b|all rights reserved|share (?:this|on)\b|follow us\b|sign up\b|subscribe (?:to|now)\b|click here\b|we use cookies\b|this (?:site|website) uses cookies\b|tags?\s*:|posted in\b|filed under\b|continue reading\b|previous (?:post|article)\b|next (?:post|article)\b)",
    )
}
fn newsroom_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    // Newsroom leftovers of web pages: video widgets ("JUST WATCHED … Replay More Videos",
    // "MUST WATCH … 01:39"), "Story Continued Below", advertisement and related-link markers,
    // photo-gallery captions and social prompts, as found in the AllSides corpora.
    re(
        &R,
        r"(?i)^(?:(?-i:JUST WATCHED|MUST WATCH)\b|replay more videos\b|more videos\b|story continued below\b|advertisement\b\s*(?::|continue reading\b|$)|see also\s*:|related\s*:|photos\s*:|follow @|follow .{1,60} on (?:twitter|facebook|instagram)\b|click here to (?:get|sign up|read|watch)\b|more\s*:\s*$)",
    )
}

fn metadata_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?i)^(?:[-*•]\s*)?(?:authors?|affiliations?|issue|volume|pages|section|url|doi|edn|id|orcid(?: id)?|spin-code|e-?mail|keywords|received|accepted|published|updated|source|citation|issn|isbn)\s*[:：]",
    )
}
fn byline_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^(?:(?i:by|written by|reported by)\s+\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3}|(?i:photo|image|picture|credit|caption)s?\s*:.*|(?i:author for correspondence)\.?)$",
    )
}
fn bio_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?i)\b(?:is|are|was)\s+(?:an?\s+|the\s+)?(?:(?:associate|assistant|full|senior|visiting|adjunct|distinguished)\s+)?(?:professor|lecturer|research(?:er|\s+fellow)|fellow|graduate student|doctoral (?:student|candidate)|ph\.?d\.? (?:student|candidate)|director|editor)\b",
    )
}
fn email_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
}
fn bracket_reference_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^\[\d{1,3}\]\s")
}
fn year_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\b(?:1[89]|20)\d{2}\b")
}

fn md_image_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"!\[([^\]]*)\]\([^)]*\)")
}
fn html_tag_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"</?[A-Za-z][^>]*>|<!--.*?-->")
}
fn md_link_definition_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^\[[^\]]+\]:\s*\S+")
}

/// Markdown inline syntax reduced to its text by a CommonMark parser (pulldown-cmark):
/// "[the treaty](http://x) is **binding**" → "the treaty is binding". The line's list or heading
/// marker is kept for the cleaner (it starts a paragraph), blockquote markers are cut, and the
/// rest is read as inline text only: "9. The item" after a bullet stays text, not a list.
/// Emphasis inside a word ("2*3*4") is kept as written; HTML tags go, their text stays; a
/// reference link whose definition is elsewhere keeps its text.
fn markdown_inline(line: &str) -> String {
    use pulldown_cmark::{BrokenLink, CowStr, Event, LinkType, Options, Parser, Tag};
    let mut line = line;
    while let Some(rest) = line.strip_prefix('>') {
        line = rest.trim_start();
    }
    let (marker, rest) = match leading_marker(line) {
        Some((len, _)) => line.split_at(len),
        None => ("", line),
    };
    let rest = inline_only(rest);
    // "[text][ref]" keeps its text when the definition is elsewhere; a bare "[...]" stays as written.
    let mut broken = |link: BrokenLink| {
        matches!(link.link_type, LinkType::Reference | LinkType::ReferenceUnknown | LinkType::Collapsed | LinkType::CollapsedUnknown)
            .then_some((CowStr::Borrowed(""), CowStr::Borrowed("")))
    };
    let parser = Parser::new_with_broken_link_callback(&rest, Options::ENABLE_STRIKETHROUGH, Some(&mut broken));
    let mut out = String::from(marker);
    let mut verbatim_until = 0;
    let intraword = |range: &std::ops::Range<usize>| {
        rest[..range.start].chars().next_back().is_some_and(char::is_alphanumeric)
            && rest[range.end..].chars().next().is_some_and(char::is_alphanumeric)
    };
    for (event, range) in parser.into_offset_iter() {
        if range.start < verbatim_until {
            continue;
        }
        match event {
            Event::Start(Tag::Emphasis | Tag::Strong) if intraword(&range) => {
                out.push_str(&rest[range.clone()]);
                verbatim_until = range.end;
            }
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::Html(html) | Event::InlineHtml(html) => out.push_str(&html_tag_re().replace_all(&html, "")),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// `rest` with a block-level opening escaped, so the parser reads it as inline text: a list
/// number ("9. ", "3) "), a bullet, heading or quote marker followed by a space.
fn inline_only(rest: &str) -> std::borrow::Cow<'_, str> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let at = if (1..=9).contains(&digits) && rest[digits..].starts_with(['.', ')']) {
        Some(digits)
    } else if rest.starts_with(['-', '+', '*', '#', '>']) {
        Some(0)
    } else {
        None
    };
    match at {
        Some(i) if rest[i + 1..].is_empty() || rest[i + 1..].starts_with(char::is_whitespace) || rest.starts_with('#') => {
            format!("{}\\{}", &rest[..i], &rest[i..]).into()
        }
        _ => rest.into(),
    }
}

fn url_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"(?i)\b(?:https?://|www\.)\S+")
}

/// Whether a line holding an e-mail address or URL is a sentence about it ("Her email is
/// jane@example.com. I sent her an email.") rather than a contact line ("Jane Doe,
/// jane@uni.edu"): without the addresses, at least four lowercase words and a sentence end.
fn reads_as_prose(line: &str) -> bool {
    let rest = url_re().replace_all(line, " ");
    let rest = email_re().replace_all(&rest, " ");
    let lowercase_words = rest.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty() && w.chars().all(char::is_lowercase)).count();
    lowercase_words >= 4 && rest.trim_end().ends_with(['.', '!', '?'])
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

fn is_list_item(line: &str) -> bool {
    leading_marker(line).is_some_and(|(_, heading)| !heading)
}

/// Cuts a leading CJK outlet/author prefix ("《环球时报》:王广涛等:Title") off an English line;
/// returns the line unchanged when there is none.
fn strip_cjk_prefix(line: &str) -> &str {
    if !line.chars().next().is_some_and(is_cjk) {
        return line;
    }
    match line.rfind([':', '：']) {
        Some(i) => {
            let rest = line[i..].trim_start_matches([':', '：']).trim();
            if rest.chars().any(|c| c.is_ascii_alphabetic()) && !rest.chars().any(is_cjk) {
                rest
            } else {
                line
            }
        }
        None => line,
    }
}

fn mostly_cjk(line: &str) -> bool {
    let letters = line.chars().filter(|c| c.is_alphabetic()).count();
    let cjk = line.chars().filter(|&c| is_cjk(c)).count();
    letters > 0 && cjk * 3 >= letters
}

impl LineRules {
    /// The rule that drops `line` (trimmed, non-empty) in `section`, or None to keep it;
    /// updates the section state.
    fn judge(&self, line: &str, section: &mut Section) -> Option<&'static str> {
        let lower = line.to_lowercase();
        let bare = lower.trim_end_matches([':', '：']).trim();

        // Section headers first: they switch state and are dropped themselves.
        if lower.contains("about the author") {
            *section = Section::Authors;
            return Some("author-bio");
        }
        if bare == "references"
            || bare == "bibliography"
            || bare == "works cited"
            || (line.ends_with("References") && *section == Section::Authors)
        {
            *section = Section::References;
            return Some("reference");
        }
        if bare == "affiliations" || bare == "affiliation" {
            *section = Section::Affiliations;
            return Some("affiliation");
        }
        if NAVIGATION.contains(&bare) || furniture_re().is_match(line) {
            return Some("navigation");
        }
        if newsroom_re().is_match(line) {
            return Some("newsroom");
        }
        if line.matches('|').count() >= 2 || (line.contains('|') && line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))) {
            return Some("table");
        }
        if metadata_re().is_match(line) {
            return Some("metadata");
        }
        match *section {
            Section::Authors => return Some("author-bio"),
            Section::Affiliations if is_list_item(line) => return Some("affiliation"),
            Section::References if is_list_item(line) || year_re().is_match(line) => return Some("reference"),
            Section::Affiliations | Section::References => *section = Section::Body,
            Section::Body => {}
        }
        if byline_re().is_match(line) {
            return Some("byline");
        }
        if bio_re().is_match(line)
            && (email_re().is_match(line)
                || ["universit", "institut", "school", "center", "centre", "college"].iter().any(|w| lower.contains(w)))
        {
            return Some("author-bio");
        }
        if email_re().is_match(line) && !reads_as_prose(line) {
            return Some("email");
        }
        if bracket_reference_re().is_match(line) {
            return Some("reference");
        }
        if mostly_cjk(strip_cjk_prefix(line)) {
            return Some("non-english");
        }
        if !line.chars().any(char::is_alphabetic) {
            return Some("no-words");
        }
        None
    }
}

impl Cleaner for LineRules {
    fn clean(&self, raw: &str) -> Cleaned {
        let mut out = Cleaned::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut section = Section::Body;
        let mut previous_kept = false;
        let mut in_code = false;
        for line in raw.lines() {
            out.lines_total += 1;
            let line = line.trim();
            let mut drop = |rule: &'static str, previous_kept: &mut bool| {
                *out.dropped.entry(rule).or_default() += 1;
                *previous_kept = false;
            };
            if self.markdown && (line.starts_with("```") || line.starts_with("~~~")) {
                in_code = !in_code;
                drop("code", &mut previous_kept);
                continue;
            }
            if in_code {
                drop("code", &mut previous_kept);
                continue;
            }
            if line.is_empty() {
                previous_kept = false;
                continue;
            }
            let line = if self.markdown {
                if md_link_definition_re().is_match(line) {
                    drop("link-definition", &mut previous_kept);
                    continue;
                }
                if md_image_re().replace_all(line, "").trim().is_empty() {
                    drop("image", &mut previous_kept);
                    continue;
                }
                markdown_inline(line)
            } else {
                line.to_string()
            };
            let kept = strip_cjk_prefix(&line);
            let verdict = self.judge(&line, &mut section).or_else(|| (!seen.insert(kept.to_string())).then_some("duplicate"));
            match verdict {
                Some(rule) => drop(rule, &mut previous_kept),
                None => {
                    // A list item or heading starts a paragraph of its own, without its marker; a
                    // line that opens an inline list keeps it, so the splitter still sees the list.
                    let (kept, starts_paragraph) = match leading_marker(kept) {
                        Some(_) if opens_inline_list(kept) => (kept, true),
                        Some((len, _)) => (&kept[len..], true),
                        None => (kept, false),
                    };
                    if !out.text.is_empty() {
                        out.text.push_str(if previous_kept && !starts_paragraph { "\n" } else { "\n\n" });
                    }
                    out.text.push_str(kept);
                    out.lines_kept += 1;
                    previous_kept = true;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_lines_as_the_table_says() {
        let table: &[(&str, Option<&str>)] = &[
            ("Skip to content", Some("navigation")),
            ("Related Posts", Some("navigation")),
            ("Read also:", Some("navigation")),
            ("© 2025 Global Times. All rights reserved.", Some("navigation")),
            ("Copyright 2024 ThinkChina", Some("navigation")),
            ("Share this article on X", Some("navigation")),
            ("Follow us on WeChat", Some("navigation")),
            ("Sign up for our newsletter", Some("navigation")),
            ("We use cookies to improve your experience.", Some("navigation")),
            ("Tags: Japan, defense, alliance", Some("navigation")),
            ("Continue reading →", Some("navigation")),
            ("Subscribers share the costs of defence.", None),
            ("Key Challenge | Impact on Security Framework |", Some("table")),
            ("---|---|", Some("table")),
            ("- Issue: Vol 15, No 2 (2025)", Some("metadata")),
            ("- DOI: https://doi.org/10.33693/2223-0092-2025-15-2-121-126", Some("metadata")),
            ("ORCID iD: 0000-0003-2495-3431", Some("metadata")),
            ("By Jane Zhou", Some("byline")),
            ("Photo: Reuters", Some("byline")),
            ("Wang Guangtao is associate professor at the Center for Japanese Studies of Fudan University.", Some("author-bio")),
            ("Write to opinion@globaltimes.com.cn for more.", Some("email")),
            ("Jane Doe, jane.doe@uni.edu", Some("email")),
            // A sentence about an address is prose, not a contact line.
            ("Her email is Jane.Doe@example.com. I sent her an email.", None),
            ("The ministry said in a statement sent to press@mod.go.jp that the plan is final.", None),
            ("[1] Calder, Kent. \"The Japan-US Alliance in the Age of Trump.\" The Diplomat, 2019.", Some("reference")),
            ("发布时间:2025-09-26浏览次数:10", Some("non-english")),
            ("-", Some("no-words")),
            ("Japan is a professor of patience.", None),
            ("By leveraging its alliances, Japan can play a crucial role.", None),
            ("The Way Forward", None),
            // Newsroom leftovers, as they come in the AllSides articles.
            ("JUST WATCHED 'Fun day' helps distract from tragedy Replay More Videos ...", Some("newsroom")),
            ("MUST WATCH Newtown tragedy renews fierce debates 02:47", Some("newsroom")),
            ("Story Continued Below", Some("newsroom")),
            ("Advertisement Continue reading the main story", Some("newsroom")),
            ("Advertisement:", Some("navigation")),
            ("SEE ALSO: The 10 states with the strictest gun laws", Some("newsroom")),
            ("Photos: Same-sex marriage in the United States", Some("newsroom")),
            ("Follow @politicalticker", Some("newsroom")),
            ("Follow Penny Starr on Twitter", Some("newsroom")),
            ("CLICK HERE TO GET THE FOX NEWS APP", Some("navigation")),
            ("More :", Some("newsroom")),
            // Prose that begins like a leftover stays.
            ("Advertisement revenue fell by a third.", None),
            ("Photos of the rally show a small crowd.", None),
            ("More than 300 million guns are in private hands.", None),
            ("Just watched by millions, the debate changed little.", None),
            ("  1. The transformation of the alliance has extended to policy.", None),
        ];
        for (line, expected) in table {
            let mut section = Section::Body;
            assert_eq!(LineRules::plain().judge(line.trim(), &mut section), *expected, "line: {line:?}");
        }
    }

    #[test]
    fn sections_drop_their_entries_until_prose_returns() {
        let raw = "Title here\nAffiliations:\n- Ural Federal University\nBody text starts.\n##x##About the authors\nShengkun Zhang\ngraduate student\nRussian Federation, YekaterinburgReferences\n- Dower J.W. Embracing defeat. 1999.\nSupplementary files\n";
        let cleaned = LineRules::plain().clean(raw);
        assert_eq!(cleaned.text, "Title here\n\nBody text starts.");
        assert_eq!(cleaned.lines_total, 10);
        assert_eq!(cleaned.lines_kept, 2);
        let dropped: Vec<_> = cleaned.dropped.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(dropped, [("affiliation", 2), ("author-bio", 3), ("navigation", 1), ("reference", 2)]);
    }

    #[test]
    fn keeps_paragraphs_apart_and_drops_repeats() {
        let raw = "Skip to content\n\nHeadline\nHeadline\n  First paragraph.\n\nSecond paragraph.\n";
        let cleaned = LineRules::plain().clean(raw);
        assert_eq!(cleaned.text, "Headline\n\nFirst paragraph.\n\nSecond paragraph.");
        assert_eq!(cleaned.dropped.get("duplicate"), Some(&1));
    }

    #[test]
    fn a_sign_or_star_before_a_number_is_text_not_a_bullet() {
        // Issue 31 item 6: "-5% fall" lost its minus sign as if "-" were a list bullet.
        let raw = "-5% fall in defence spending was reported.\n\n*3 times the budget of 2015.\n\n- A real bullet item.\n\n\u{2043}9. A bullet before a numbered item.\n";
        let cleaned = LineRules::plain().clean(raw);
        assert_eq!(
            cleaned.text,
            "-5% fall in defence spending was reported.\n\n*3 times the budget of 2015.\n\nA real bullet item.\n\n9. A bullet before a numbered item."
        );
    }

    #[test]
    fn cuts_a_cjk_outlet_prefix_from_an_english_title() {
        let cleaned = LineRules::plain().clean("《环球时报》:王广涛等:Japan’s security dilemma amid US unpredictability\n");
        assert_eq!(cleaned.text, "Japan’s security dilemma amid US unpredictability");
    }

    #[test]
    fn markdown_is_reduced_to_prose() {
        let raw = "# Japan's **new** doctrine\n\n![chart](c.png)\n\n> See [the treaty](http://x.org/t) and *Article 9*.\n\n```\nlet x = 1;\n```\n\n[1]: http://x.org\nUses `code` and <b>tags</b> and 2*3*4.\n";
        let cleaned = LineRules::markdown().clean(raw);
        assert_eq!(cleaned.text, "Japan's new doctrine\n\nSee the treaty and Article 9.\n\nUses code and tags and 2*3*4.");
        let dropped: Vec<_> = cleaned.dropped.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(dropped, [("code", 3), ("image", 1), ("link-definition", 1)]);
        // Plain text keeps its asterisks and brackets.
        assert_eq!(LineRules::plain().clean("A *real* [1] claim.").text, "A *real* [1] claim.");
        // Per line, as CommonMark reads it: reference links keep their text, a bare "[...]"
        // stays, HTML goes and its text stays, strike-through and nested emphasis go.
        let table = [
            ("Read [the plan][1] and [the law][] now.", "Read the plan and the law now."),
            ("He said [...] nothing.", "He said [...] nothing."),
            ("<p>Tokyo <em>said</em> so.</p>", "Tokyo said so."),
            ("A ~~weak~~ ***strong*** claim.", "A weak strong claim."),
            ("- 9. The first item", "9. The first item"),
            ("## 3) Outlook", "3) Outlook"),
        ];
        for (line, expected) in table {
            assert_eq!(LineRules::markdown().clean(line).text, expected, "{line:?}");
        }
    }

    #[test]
    fn markdown_is_chosen_by_extension() {
        let table = [("a.md", true), ("b.MARKDOWN", true), ("c.txt", false), ("d", false)];
        for (name, markdown) in table {
            assert_eq!(LineRules::for_path(std::path::Path::new(name)).markdown, markdown, "{name}");
        }
    }

    /// The seed corpus's real boilerplate: per document, what is dropped by which rule, and
    /// lines that must (not) survive.
    #[test]
    fn seed_documents_lose_their_boilerplate() {
        struct Seed {
            text: &'static str,
            lines: (usize, usize),
            dropped: &'static [(&'static str, usize)],
            gone: &'static [&'static str],
            kept: &'static [&'static str],
        }
        let seeds = [
            Seed {
                text: include_str!("../../../../seeds/zhang-2025-dual-nature.txt"),
                lines: (29, 2),
                dropped: &[("affiliation", 2), ("author-bio", 5), ("metadata", 11), ("navigation", 4), ("no-words", 1), ("reference", 4)],
                gone: &[
                    "Authors:",
                    "Yeltsin",
                    "Vol 15",
                    "doi.org",
                    "Cite item",
                    "Abstract",
                    "About the authors",
                    "gmail",
                    "ORCID",
                    "Dower J.W.",
                ],
                kept: &["The Dual Nature of Japan’s Militarization", "Japan’s post-war militarization process exhibits"],
            },
            Seed {
                text: include_str!("../../../../seeds/globaltimes-2025-security-dilemma.txt"),
                lines: (28, 11),
                dropped: &[("author-bio", 1), ("non-english", 2)],
                gone: &["发布时间", "来源", "环球时报", "associate professor", "opinion@globaltimes.com.cn"],
                kept: &["Japan’s security dilemma amid US unpredictability\n\nSince the beginning", "warrant high vigilance"],
            },
            Seed {
                text: include_str!("../../../../seeds/calder-2025-alliance-shift.txt"),
                lines: (39, 16),
                dropped: &[("duplicate", 2), ("navigation", 3), ("reference", 1)],
                gone: &["Skip to content", "[1] Calder", "Read also", "Latest", "  1. The transformation"],
                kept: &["in his recent...", "\n\nThe transformation of the Japan-US alliance"],
            },
            Seed {
                text: include_str!("../../../../seeds/zhou-defense-policy-allies.txt"),
                lines: (13, 3),
                dropped: &[("byline", 2), ("navigation", 2)],
                gone: &["Scroll Top", "Photo: Reuters", "By Jane Zhou", "Related Posts"],
                kept: &["Japan’s Defense Policy and Its Asian Allies\n\nJapan’s defense policy has been"],
            },
            Seed {
                text: include_str!("../../../../seeds/thinkchina-unified-security-framework.txt"),
                lines: (37, 22),
                dropped: &[("table", 15)],
                gone: &["|", "---", "- Strengthening"],
                kept: &[
                    "that includes:\n\nStrengthening trilateral cooperation",
                    "zero-sum competition.\nThe Way Forward\nAs Japan navigates",
                ],
            },
        ];
        for seed in seeds {
            let cleaned = LineRules::plain().clean(seed.text);
            let title = seed.text.lines().find(|l| !l.trim().is_empty()).unwrap();
            assert_eq!((cleaned.lines_total, cleaned.lines_kept), seed.lines, "{title}");
            let dropped: Vec<_> = cleaned.dropped.iter().map(|(k, v)| (*k, *v)).collect();
            assert_eq!(dropped, seed.dropped, "{title}");
            for junk in seed.gone {
                assert!(!cleaned.text.contains(junk), "{junk:?} survived in {title}");
            }
            for prose in seed.kept {
                assert!(cleaned.text.contains(prose), "{prose:?} missing from {title}");
            }
        }
    }
}

//! Mentions of the study's entity (default: Japan) in a sentence. Sentiment toward an entity is
//! read NewsMTSC-style, as (mention, sentence) through the sentiment model, so the pipeline
//! first has to know whether, and as what, a sentence names the entity.

use crate::Result;

/// A mention: its byte span in the sentence and its text there (without a possessive 's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention<'a> {
    /// Byte offset where the mention starts.
    pub start: usize,
    /// Byte offset just past the name (before any possessive).
    pub end: usize,
    /// The mention as written, `&sentence[start..end]`.
    pub text: &'a str,
}

/// Finds whole-word, case-insensitive occurrences of any alias. A possessive ("Japan's",
/// "Tokyo’s") counts as a mention of the name; a longer word ("Japanology") does not.
#[derive(Debug, Clone)]
pub struct EntityMatcher {
    /// Aliases as char sequences, longest first, so "Japanese" wins over "Japan".
    aliases: Vec<Vec<char>>,
}

impl EntityMatcher {
    /// A matcher for `aliases`; blank aliases are skipped, and none left is an error.
    pub fn new(aliases: &[String]) -> Result<Self> {
        let mut list: Vec<Vec<char>> = aliases.iter().map(|a| a.trim()).filter(|a| !a.is_empty()).map(|a| a.chars().collect()).collect();
        if list.is_empty() {
            crate::invalid!("aliases needs at least one word");
        }
        list.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        list.dedup();
        Ok(Self { aliases: list })
    }

    /// The first mention in `sentence`, if any (the scan stops there).
    pub fn first<'a>(&self, sentence: &'a str) -> Option<Mention<'a>> {
        self.mentions(sentence).next()
    }

    /// Every mention in `sentence`, left to right, not overlapping, found lazily.
    fn mentions<'a, 's>(&'s self, sentence: &'a str) -> impl Iterator<Item = Mention<'a>> + 's
    where
        'a: 's,
    {
        let chars: Vec<(usize, char)> = sentence.char_indices().collect();
        let mut i = 0;
        std::iter::from_fn(move || {
            while i < chars.len() {
                let starts_word = i == 0 || !is_word_char(chars[i - 1].1);
                if let Some(alias) = starts_word.then(|| self.aliases.iter().find(|alias| matches_at(&chars, i, alias))).flatten() {
                    let (start, end_index) = (chars[i].0, i + alias.len());
                    let end = chars.get(end_index).map_or(sentence.len(), |c| c.0);
                    i = end_index;
                    return Some(Mention { start, end, text: &sentence[start..end] });
                }
                i += 1;
            }
            None
        })
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `alias` occurs at char `i`, case-insensitively, ending at a word boundary.
fn matches_at(chars: &[(usize, char)], i: usize, alias: &[char]) -> bool {
    if i + alias.len() > chars.len() {
        return false;
    }
    let same = chars[i..i + alias.len()].iter().zip(alias).all(|(&(_, c), &a)| c == a || c.to_lowercase().eq(a.to_lowercase()));
    same && chars.get(i + alias.len()).is_none_or(|&(_, next)| !is_word_char(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn japan() -> EntityMatcher {
        EntityMatcher::new(&["Japan".into(), "Japanese".into(), "Tokyo".into()]).unwrap()
    }

    #[test]
    fn mentions_table() {
        // sentence → the mentions' texts, in order
        let table: &[(&str, &[&str])] = &[
            ("Japan is rearming.", &["Japan"]),
            ("Critics fear Japan's rearmament.", &["Japan"]),
            ("Critics fear Japan’s rearmament.", &["Japan"]),
            ("The Japanese government agreed.", &["Japanese"]),
            ("Tokyo and Beijing traded barbs.", &["Tokyo"]),
            ("JAPAN REARMS, SAYS PAPER", &["JAPAN"]),
            ("japan's budget grew.", &["japan"]),
            ("Tokyo-based analysts and Japan-China ties", &["Tokyo", "Japan"]),
            ("(Japan)", &["Japan"]),
            ("Japanology is a field.", &[]),
            ("Nipponese Tokyoite", &[]),
            ("Pan-Asian security in Asia", &[]),
            ("", &[]),
            ("Japan, Japanese and Tokyo.", &["Japan", "Japanese", "Tokyo"]),
        ];
        let matcher = japan();
        for (sentence, expected) in table {
            let found: Vec<&str> = matcher.mentions(sentence).map(|m| m.text).collect();
            assert_eq!(&found, expected, "{sentence}");
        }
    }

    #[test]
    fn spans_are_byte_offsets_into_the_sentence() {
        let sentence = "«Élan» in Tokyo’s policy";
        let m = japan().first(sentence).unwrap();
        assert_eq!(&sentence[m.start..m.end], "Tokyo");
        assert_eq!((m.start, m.end), (sentence.find("Tokyo").unwrap(), sentence.find("Tokyo").unwrap() + 5));
    }

    #[test]
    fn needs_an_alias() {
        assert!(EntityMatcher::new(&[" ".into()]).is_err());
        assert!(EntityMatcher::new(&[]).is_err());
    }
}

//! Text stages: a document's raw text → prose ([`clean`]) → sentence spans ([`split`]), and
//! the entity's mentions in a sentence ([`entity`]).

pub mod clean;
pub mod entity;
pub mod split;

/// The text stages as a user runs them (`stance split`, `stance run`): cleaner, then splitter.
#[cfg(test)]
mod pipeline_tests {
    use super::clean::{Cleaner, LineRules};
    use super::split::tests::GOLDEN_RULES;
    use super::split::{leading_marker, RuleSplitter, SentenceSplitter};

    /// Sentences of `raw` through cleaner and splitter, with any list marker dropped (the
    /// cleaner drops a line's first marker; the splitter keeps inline ones).
    fn through_both(raw: &str, rules: &LineRules) -> Vec<String> {
        let cleaned = rules.clean(raw);
        RuleSplitter
            .split(&cleaned.text)
            .into_iter()
            .map(|s| {
                let text = &cleaned.text[s];
                leading_marker(text).map_or(text, |(len, _)| &text[len..]).to_string()
            })
            .collect()
    }

    fn without_marker(s: &str) -> &str {
        leading_marker(s).map_or(s, |(len, _)| &s[len..])
    }

    #[test]
    fn golden_rules_hold_through_cleaner_and_splitter() {
        let mut failures = Vec::new();
        for rules in [LineRules::plain(), LineRules::markdown()] {
            for (input, expected) in GOLDEN_RULES {
                let expected: Vec<&str> = expected.iter().map(|e| without_marker(e)).collect();
                let got = through_both(input, &rules);
                if got != expected {
                    failures.push(format!("{input:?} (markdown: {})\n   expected {expected:?}\n   got      {got:?}", rules.markdown));
                }
            }
        }
        assert!(failures.is_empty(), "{} cases fail through cleaner + splitter:\n{}", failures.len(), failures.join("\n"));
    }
}

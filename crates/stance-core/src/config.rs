//! The study configuration (`stance.toml`): the target, the label descriptions of the zero-shot
//! labeler, and the labeler and aggregation settings. It lives in a file a researcher edits for
//! another target, and it is copied into `run.json`, so a report says what produced it.

use crate::labels::{SENTIMENT_LABELS, STANCE_LABELS};
use crate::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The configuration shipped in the repository; used when no `--config` is given and there is
/// no `stance.toml` in the working directory.
pub const DEFAULT_TOML: &str = include_str!("../../../stance.toml");

/// A study configuration: one field per section of `stance.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[target]`: what sentences take a stance toward.
    pub target: TargetConfig,
    /// `[labeler]`: truncation, batching and zero-shot scoring; defaults when absent.
    #[serde(default)]
    pub labeler: LabelerConfig,
    /// `[stance]`: the zero-shot labeler's descriptions of each stance label.
    pub stance: StanceDescriptions,
    /// `[sentiment]`: the zero-shot labeler's descriptions of each sentiment label.
    pub sentiment: SentimentDescriptions,
    /// `[entity]`: the entity whose mentions get their own sentiment; Japan when absent.
    #[serde(default)]
    pub entity: EntityConfig,
    /// `[aggregate]`: the bootstrap settings; defaults when absent.
    #[serde(default)]
    pub aggregate: AggregateConfig,
}

/// The named entity whose mentions get their own sentiment (`target_sentiment` columns).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntityConfig {
    /// The entity's name, for reports. Default "Japan".
    pub name: String,
    /// Words that mention it, matched whole and case-insensitively (possessives included).
    /// Default: Japan, Japanese, Tokyo.
    pub aliases: Vec<String>,
}

impl Default for EntityConfig {
    fn default() -> Self {
        Self { name: "Japan".into(), aliases: vec!["Japan".into(), "Japanese".into(), "Tokyo".into()] }
    }
}

/// The `[target]` section: the target whose stance is measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The target phrase; replaces `{target}` in label descriptions.
    pub name: String,
    /// The target the zero-shot label descriptions were written for (their wording may not
    /// fit another: `stance` warns when the target differs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptions_for: Option<String>,
}

impl Config {
    /// A warning when the zero-shot descriptions were written for another target than
    /// `target`, the one labelled against.
    pub fn descriptions_warning(&self, target: &str) -> Option<String> {
        let written_for = self.target.descriptions_for.as_deref()?;
        (written_for != target).then(|| {
            format!(
                "the zero-shot label descriptions were written for '{written_for}', not '{target}': check that they fit it, or give --config with descriptions for it"
            )
        })
    }

    /// Replaces the entity's name and aliases: "Germany,German,Berlin" (the first is the name).
    pub fn set_entity(&mut self, names: &str) -> Result<()> {
        let aliases: Vec<String> = names.split(',').map(str::trim).filter(|a| !a.is_empty()).map(String::from).collect();
        let Some(name) = aliases.first().cloned() else {
            return Err(Error::invalid("--entity needs a name (and optionally aliases: NAME,ALIAS,...)"));
        };
        self.entity = EntityConfig { name, aliases };
        Ok(())
    }
}

/// The arithmetic of the trained models' encoder linear layers at inference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats throughout.
    F32,
    /// Dynamic int8: each weight row quantized once (symmetric, its own scale), each token's
    /// activations quantized as they come (symmetric, its own scale), products summed in int32
    /// by libtorch's `_int_mm` (VNNI on x86), then scaled back to floats. Attention, GELU,
    /// layer norms and the heads stay in floats.
    #[default]
    Int8,
}

impl Precision {
    /// Its spelling on the command line and in stance.toml.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
        }
    }
}

/// The `[labeler]` section: how sentences go through the model, and how the zero-shot
/// labeler scores them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelerConfig {
    /// Word pieces per sentence before truncation. Default 128.
    pub max_tokens: usize,
    /// Sentences per forward pass. Default 16 (`bench/speed_knobs.sh`: with int8 layers, 16 labels
    /// AllSides news at about 280 sentences/s and 500 MB peak, 32 at about 220 and 640–720 MB).
    pub batch_size: usize,
    /// Softmax temperature over cosine similarities. Default 0.05.
    pub temperature: f64,
    /// Zero-shot stance: a sentence leans to favor or against only when its mean similarity
    /// to that side's descriptions exceeds the other side's by more than twice this margin.
    /// Default 0.005 (chosen on a VAST train sample: `eval/calibrate_zero_shot.py`).
    pub none_margin: f64,
    /// Zero-shot sentiment: the same rule between positive and negative, else neutral.
    /// Default 0.02 (chosen on a NewsMTSC train sample: `eval/calibrate_zero_shot.py`).
    pub neutral_margin: f64,
    /// Trained models: the encoder's arithmetic ("int8" or "f32"). Default int8: 2.5× the speed,
    /// every quality figure within its interval of f32's (README, "Speed").
    pub precision: Precision,
}

impl Default for LabelerConfig {
    fn default() -> Self {
        Self { max_tokens: 128, batch_size: 16, temperature: 0.05, none_margin: 0.005, neutral_margin: 0.02, precision: Precision::Int8 }
    }
}

/// The `[stance]` section: sentences describing each stance label, `{target}` standing for
/// the target's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StanceDescriptions {
    /// Descriptions of text in favor of the target.
    pub favor: Vec<String>,
    /// Descriptions of text against the target.
    pub against: Vec<String>,
    /// Descriptions of text that takes no stance on the target.
    pub none: Vec<String>,
}

/// The `[sentiment]` section: sentences describing each sentiment label.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentDescriptions {
    /// Descriptions of positive text.
    pub positive: Vec<String>,
    /// Descriptions of neutral text.
    pub neutral: Vec<String>,
    /// Descriptions of negative text.
    pub negative: Vec<String>,
}

/// The most bootstrap resamples an interval may ask for: 50 times the default, already minutes
/// of resampling on a large corpus.
pub const MAX_BOOTSTRAP_RESAMPLES: usize = 100_000;

/// The `[aggregate]` section: settings of the bootstrap intervals.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AggregateConfig {
    /// Bootstrap resamples per interval. Default 2000.
    pub bootstrap_resamples: usize,
    /// Bootstrap seed. Default 20251121.
    pub seed: u64,
}

impl Default for AggregateConfig {
    fn default() -> Self {
        Self { bootstrap_resamples: 2000, seed: 20251121 }
    }
}

impl StanceDescriptions {
    /// Descriptions in [`STANCE_LABELS`] order.
    pub fn by_label(&self) -> [&[String]; 3] {
        [&self.favor, &self.against, &self.none]
    }
}

impl SentimentDescriptions {
    /// Descriptions in [`SENTIMENT_LABELS`] order.
    pub fn by_label(&self) -> [&[String]; 3] {
        [&self.positive, &self.neutral, &self.negative]
    }
}

impl Config {
    /// Parses and checks a configuration; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            match line {
                Some(line) => Error::line(origin, line as u64, message),
                None => Error::file(origin, message),
            }
        })?;
        config.check(origin)?;
        Ok(config)
    }

    /// Loads `path`, or the shipped default when `path` is None.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).at(path, "cannot read config")?;
                Self::parse(&text, &path.display().to_string())
            }
            None => Self::parse(DEFAULT_TOML, "built-in stance.toml"),
        }
    }

    fn check(&self, origin: &str) -> Result<()> {
        if self.target.name.trim().is_empty() {
            return Err(Error::file(origin, "[target] name is empty"));
        }
        let sections = [("stance", STANCE_LABELS, self.stance.by_label()), ("sentiment", SENTIMENT_LABELS, self.sentiment.by_label())];
        for (section, labels, descriptions) in sections {
            for (label, list) in labels.iter().zip(descriptions) {
                if list.iter().all(|d| d.trim().is_empty()) {
                    return Err(Error::file(origin, format!("[{section}] {label} needs at least one description")));
                }
            }
        }
        // Every number in range, each named: a NaN margin or 10^12 resamples would pass parsing
        // and fail only after the labelling, far from the setting.
        let labeler = &self.labeler;
        let whole = [
            ("[labeler] batch_size", labeler.batch_size, 1, 4096),
            ("[labeler] max_tokens", labeler.max_tokens, 8, 512),
            ("[aggregate] bootstrap_resamples", self.aggregate.bootstrap_resamples, 1, MAX_BOOTSTRAP_RESAMPLES),
        ];
        for (name, value, low, high) in whole {
            if !(low..=high).contains(&value) {
                return Err(Error::file(origin, format!("{name} = {value}: must be between {low} and {high}")));
            }
        }
        // Similarities are cosines, so a margin above 1 could never be crossed.
        let real = [
            (
                "[labeler] temperature",
                labeler.temperature,
                labeler.temperature > 0.0 && labeler.temperature <= 100.0,
                "above 0 and at most 100",
            ),
            ("[labeler] none_margin", labeler.none_margin, (0.0..=1.0).contains(&labeler.none_margin), "between 0 and 1"),
            ("[labeler] neutral_margin", labeler.neutral_margin, (0.0..=1.0).contains(&labeler.neutral_margin), "between 0 and 1"),
        ];
        for (name, value, in_range, range) in real {
            // NaN fails every comparison above, so it is out of range too.
            if !in_range {
                return Err(Error::file(origin, format!("{name} = {value}: must be {range}")));
            }
        }
        crate::text::entity::EntityMatcher::new(&self.entity.aliases).map_err(|e| Error::file(origin, format!("[entity] {e}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_parses() {
        let config = Config::load(None).unwrap();
        assert_eq!(config.target.name, "Japan's rearmament");
        assert!(config.stance.favor.iter().all(|d| d.contains("{target}")));
        assert_eq!(config.entity.aliases, ["Japan", "Japanese", "Tokyo"]);
    }

    #[test]
    fn bad_configs_say_where() {
        let table: &[(&str, &str)] = &[
            ("[target]\nname = 3\n", "x.toml: line 2"),
            ("[target]\nname = \"\"\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n", "name is empty"),
            ("[target]\nname = \"t\"\n[stance]\nfavor=[]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n", "favor needs at least one"),
            ("[target]\nname = \"t\"\ncolour = 1\n", "unknown field"),
            ("[target]\nname = \"t\"\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n[labeler]\nnone_margin = nan\n", "x.toml: [labeler] none_margin = NaN: must be between 0 and 1"),
            ("[target]\nname = \"t\"\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n[labeler]\nneutral_margin = inf\n", "[labeler] neutral_margin = inf: must be between 0 and 1"),
            ("[target]\nname = \"t\"\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n[labeler]\ntemperature = 0.0\n", "[labeler] temperature = 0: must be above 0"),
            ("[target]\nname = \"t\"\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n[labeler]\nbatch_size = 0\n", "[labeler] batch_size = 0: must be between 1 and 4096"),
            ("[target]\nname = \"t\"\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n[aggregate]\nbootstrap_resamples = 1000000000000\n", "[aggregate] bootstrap_resamples = 1000000000000: must be between 1 and 100000"),
            ("[target]\nname = \"t\"\n[entity]\naliases = [\" \"]\n[stance]\nfavor=[\"a\"]\nagainst=[\"b\"]\nnone=[\"c\"]\n[sentiment]\npositive=[\"a\"]\nneutral=[\"b\"]\nnegative=[\"c\"]\n", "[entity] aliases needs at least one word"),
        ];
        for (text, expected) in table {
            let err = format!("{:#}", Config::parse(text, "x.toml").unwrap_err());
            assert!(err.contains(expected), "{err}");
        }
    }
}

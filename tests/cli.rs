//! End-to-end tests of the `stance` binary on the seed corpus with the real base encoder
//! (installed by scripts/setup.sh, which README's test command runs first). One test binary
//! for everything, since each links libtorch.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const SENTENCE_HEADER: &str =
    "doc_id,outlet,group,sentence_id,start,end,text,stance,p_favor,p_against,p_none,sentiment,p_positive,p_neutral,p_negative,\
target_sentiment,p_target_positive,p_target_neutral,p_target_negative";
const SEED_IDS: [&str; 5] = [
    "zhang-2025-dual-nature",
    "globaltimes-2025-security-dilemma",
    "calder-2025-alliance-shift",
    "zhou-defense-policy-allies",
    "thinkchina-unified-security-framework",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `stance` in the repository root (where stance.toml and models/base/files are).
fn stance(args: &[&str]) -> Output {
    stance_with_stdin(args, "")
}

fn stance_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stance starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(output.status.success(), "stance failed: {}", text(&output.stderr));
}

/// The seeds are run twice, into two folders; both runs are shared by the tests below.
fn seed_runs() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static RUNS: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        for out in [&first, &second] {
            assert_ok(&stance(&["run", "--manifest", "seeds/manifest.csv", "--out", out.to_str().unwrap()]));
        }
        (dir, first, second)
    })
}

fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader.records().map(|r| headers.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

#[test]
fn run_writes_every_report_for_all_five_seeds() {
    let (_, out, _) = seed_runs();
    let sentences = std::fs::read_to_string(out.join("sentences.csv")).unwrap();
    assert_eq!(sentences.lines().next().unwrap(), SENTENCE_HEADER);
    let rows = read_csv(&out.join("sentences.csv"));
    for id in SEED_IDS {
        let n = rows.iter().filter(|r| r["doc_id"] == id).count();
        assert!(n >= 5, "{id} has {n} sentences");
        let cleaned = std::fs::read_to_string(out.join("cleaned").join(format!("{id}.txt"))).unwrap();
        for r in rows.iter().filter(|r| r["doc_id"] == id) {
            let (start, end): (usize, usize) = (r["start"].parse().unwrap(), r["end"].parse().unwrap());
            assert_eq!(&cleaned[start..end], r["text"], "span of {id} sentence {}", r["sentence_id"]);
        }
    }
    for r in &rows {
        let p: f64 = ["p_favor", "p_against", "p_none"].iter().map(|c| r[*c].parse::<f64>().unwrap()).sum();
        assert!((p - 1.0).abs() < 2e-3, "stance probabilities sum to {p}");
        assert!(["favor", "against", "none"].contains(&r["stance"].as_str()));
        assert!(["positive", "neutral", "negative"].contains(&r["sentiment"].as_str()));
        // Sentiment toward Japan exactly where a sentence mentions it (stance.toml's aliases).
        let mentions = ["japan", "tokyo"].iter().any(|a| r["text"].to_lowercase().contains(a));
        let toward = ["p_target_positive", "p_target_neutral", "p_target_negative"].map(|c| r[c].clone());
        if mentions && !r["text"].to_lowercase().contains("japanology") {
            assert!(["positive", "neutral", "negative"].contains(&r["target_sentiment"].as_str()), "{r:?}");
            let p: f64 = toward.iter().map(|x| x.parse::<f64>().unwrap()).sum();
            assert!((p - 1.0).abs() < 2e-3, "target sentiment probabilities sum to {p}");
        } else {
            assert!(r["target_sentiment"].is_empty() && toward.iter().all(String::is_empty), "{r:?}");
        }
    }
    assert!(rows.iter().filter(|r| !r["target_sentiment"].is_empty()).count() >= 20, "the seeds mention Japan often");
    // Boilerplate never reaches the reports.
    for junk in ["Skip to content", "Related Posts", "opinion@globaltimes.com.cn", "ORCID", "Calder, Kent.", "| ---", "By Jane Zhou"] {
        assert!(!sentences.contains(junk), "{junk:?} reached sentences.csv");
    }

    let profiles = read_csv(&out.join("profiles.csv"));
    let groups: Vec<&str> = profiles.iter().filter(|p| p["level"] == "group").map(|p| p["key"].as_str()).collect();
    assert_eq!(groups, ["academic", "Global Times", "Western analysis"]);
    assert_eq!(profiles.iter().filter(|p| p["level"] == "document").count(), 5);
    for p in &profiles {
        let (value, low, high): (f64, f64, f64) =
            (p["stance_index"].parse().unwrap(), p["stance_index_low"].parse().unwrap(), p["stance_index_high"].parse().unwrap());
        assert!(low <= value && value <= high, "{p:?}");
        let mentions: usize = p["n_mentions"].parse().unwrap();
        let by_label: usize =
            ["positive", "neutral", "negative"].iter().map(|l| p[&format!("n_target_{l}")].parse::<usize>().unwrap()).sum();
        assert_eq!(mentions, by_label, "{p:?}");
        if p["level"] == "group" {
            assert!(mentions > 0, "{p:?}");
            let (value, low, high): (f64, f64, f64) = (
                p["target_sentiment_index"].parse().unwrap(),
                p["target_sentiment_index_low"].parse().unwrap(),
                p["target_sentiment_index_high"].parse().unwrap(),
            );
            assert!(low <= value && value <= high, "{p:?}");
        }
    }
    let western = profiles.iter().find(|p| p["level"] == "group" && p["key"] == "Western analysis").unwrap();
    assert_eq!(western["n_documents"], "3");
    let comparisons = read_csv(&out.join("comparison.csv"));
    assert_eq!(comparisons.len(), 3);
    for c in &comparisons {
        let js: f64 = c["js_distance"].parse().unwrap();
        assert!((0.0..=1.0).contains(&js));
    }

    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["counts"]["sentences"].as_u64().unwrap() as usize, rows.len());
    assert_eq!(run["documents"].as_array().unwrap().len(), 5);
    assert!(run["sentences_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(run["threads"]["workers"], run["threads"]["count"], "the trained labeler runs one worker a thread");
    assert!(run["threads"]["count"].as_u64().unwrap() >= 1 && run["threads"]["from"].is_string(), "{}", run["threads"]);
    assert_eq!(run["versions"]["libtorch"].as_str().unwrap().split('+').next(), Some("2.4.0"));
    let sums = std::fs::read_to_string(root().join("models/base/SHA256SUMS")).unwrap()
        + &std::fs::read_to_string(root().join("models/stance-minilm-v7/SHA256SUMS")).unwrap()
        + &std::fs::read_to_string(root().join("models/sentiment-minilm-real2/SHA256SUMS")).unwrap();
    assert_eq!(run["labeler"], "trained", "the trained model is the default labeler, named as on the command line");
    assert_eq!(run["labeler_model"], "cross-encoder");
    assert_eq!(run["sentiment_source"], "sentiment model");
    assert_eq!(run["model"]["files"].as_array().unwrap().len(), 7, "base encoder, stance model, sentiment model");
    for file in run["model"]["files"].as_array().unwrap() {
        let sha = file["sha256"].as_str().unwrap();
        assert!(sums.contains(sha), "model file digest {sha} is not the pinned one");
    }
    let gt = &run["documents"][1];
    assert_eq!(gt["doc_id"], "globaltimes-2025-security-dilemma");
    assert!(gt["lines_dropped"]["author-bio"].as_u64().unwrap() >= 1, "{gt}");
    assert!(gt["lines_dropped"]["non-english"].as_u64().unwrap() >= 2, "{gt}");
}

#[test]
fn a_second_run_gives_byte_identical_csvs() {
    let (_, first, second) = seed_runs();
    for file in ["sentences.csv", "profiles.csv", "comparison.csv"] {
        let (a, b) = (std::fs::read(first.join(file)).unwrap(), std::fs::read(second.join(file)).unwrap());
        assert!(!a.is_empty() && a == b, "{file} differs between runs");
    }
}

#[test]
fn the_seed_run_is_byte_identical_to_the_recorded_one() {
    // Recorded before the workspace split (tests/expected/README.md): refactors keep figures.
    let (_, out, _) = seed_runs();
    for file in ["sentences.csv", "profiles.csv", "comparison.csv"] {
        let expected = std::fs::read_to_string(root().join("tests/expected/seeds").join(file)).unwrap();
        let got = std::fs::read_to_string(out.join(file)).unwrap();
        if got != expected {
            let first =
                got.lines().zip(expected.lines()).position(|(a, b)| a != b).unwrap_or(got.lines().count().min(expected.lines().count()));
            panic!(
                "{file} differs from tests/expected/seeds/{file} at line {}:\n  got      {}\n  expected {}\n(re-record it only if the change is meant: tests/expected/README.md)",
                first + 1,
                got.lines().nth(first).unwrap_or("<end>"),
                expected.lines().nth(first).unwrap_or("<end>")
            );
        }
    }
}

#[test]
fn eval_matches_every_gold_row_to_a_prediction() {
    let (dir, out, _) = seed_runs();
    let metrics = dir.path().join("eval.csv");
    let pred = out.join("sentences.csv");
    let output = stance(&["eval", "--gold", "eval/gold/seeds.csv", "--pred", pred.to_str().unwrap(), "--out", metrics.to_str().unwrap()]);
    assert_ok(&output);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("unmatched: 0"), "{stdout}");
    assert!(stdout.contains("macro-F1") && stdout.contains("95% CI"), "{stdout}");
    let rows = read_csv(&metrics);
    let get = |task: &str, metric: &str| rows.iter().find(|r| r["task"] == task && r["metric"] == metric).unwrap()["value"].clone();
    let gold_rows: usize = get("all", "gold_rows").parse().unwrap();
    assert_eq!(gold_rows, read_csv(&root().join("eval/gold/seeds.csv")).len());
    for task in ["stance", "sentiment"] {
        let macro_f1: f64 = get(task, "macro_f1").parse().unwrap();
        assert!((0.0..=1.0).contains(&macro_f1));
        let (low, high): (f64, f64) = (get(task, "macro_f1_low").parse().unwrap(), get(task, "macro_f1_high").parse().unwrap());
        assert!(low < macro_f1 && macro_f1 < high, "{task}: {low} {macro_f1} {high}");
        let confusion: usize =
            rows.iter().filter(|r| r["task"] == task && r["metric"] == "confusion").map(|r| r["value"].parse::<usize>().unwrap()).sum();
        assert_eq!(confusion, gold_rows);
    }
}

/// Parses classify output into (text, stance, sentiment) rows.
fn classify_rows(output: &Output) -> Vec<(String, String, String)> {
    classify_rows_with_target(output).into_iter().map(|(text, stance, sentiment, _)| (text, stance, sentiment)).collect()
}

/// Parses classify output into (text, stance, sentiment, target sentiment) rows.
fn classify_rows_with_target(output: &Output) -> Vec<(String, String, String, String)> {
    assert_ok(output);
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    // The input's columns come first (stdin: text), then the target used, then the labels.
    let labels_at = headers.iter().position(|h| h == "target_used").expect("target_used") + 1;
    let text_at = headers.iter().position(|h| h == "text" || h == "sentence").expect("the text column");
    assert_eq!(
        headers[labels_at..].iter().map(String::as_str).collect::<Vec<_>>(),
        [
            "stance",
            "p_favor",
            "p_against",
            "p_none",
            "sentiment",
            "p_positive",
            "p_neutral",
            "p_negative",
            "target_sentiment",
            "p_target_positive",
            "p_target_neutral",
            "p_target_negative"
        ]
    );
    reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[text_at].to_string(), r[labels_at].to_string(), r[labels_at + 4].to_string(), r[labels_at + 8].to_string()))
        .collect()
}

#[test]
fn the_shipped_sentiment_model_labels_unmistakable_sentences_and_mentions() {
    // sentence → (sentiment, sentiment toward Japan; empty when Japan is not mentioned)
    let table: &[(&str, &str, &str)] = &[
        ("The festival was a joyful, wonderful celebration that delighted everyone.", "positive", ""),
        ("The bombing killed dozens of children and left the city in ruins and despair.", "negative", ""),
        ("The committee will meet on Thursday to discuss the schedule.", "neutral", ""),
        ("Neighbours furiously condemned Japan's reckless, dangerous militarism.", "negative", "negative"),
        ("Allies warmly praised Tokyo for its generous and admirable leadership.", "positive", "positive"),
        ("The JAPANESE delegation arrived in Geneva on Monday.", "neutral", "neutral"),
    ];
    let input: String = table.iter().map(|r| format!("{}\n", r.0)).collect();
    let rows = classify_rows_with_target(&stance_with_stdin(&["classify"], &input));
    for ((text, sentiment, toward), row) in table.iter().zip(&rows) {
        assert_eq!((row.2.as_str(), row.3.as_str()), (*sentiment, *toward), "{text}");
    }
    // The zero-shot baseline cannot read sentiment toward a mention: those cells stay empty.
    let rows = classify_rows_with_target(&stance_with_stdin(&["classify", "--sentiment", "zero-shot"], &input));
    assert!(rows.iter().all(|r| r.3.is_empty()), "{rows:?}");
}

#[test]
fn eval_scores_the_lexicon_baseline_and_models_on_tagged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("news.jsonl");
    let lines = [
        r#"{"sentence_normalized": "The wonderful plan delighted everyone.", "targets": [{"mention": "plan", "polarity": 6.0}]}"#,
        r#"{"sentence_normalized": "The horrible attack killed many.", "targets": [{"mention": "attack", "polarity": 2.0}]}"#,
        r#"{"sentence_normalized": "The office opens at nine.", "targets": [{"mention": "office", "polarity": 4.0}]}"#,
    ];
    std::fs::write(&data, lines.join("\n")).unwrap();
    let out = dir.path().join("scores.csv");
    let output = stance(&["eval", "--data", data.to_str().unwrap(), "--task", "sentiment", "--lexicon", "--out", out.to_str().unwrap()]);
    assert_ok(&output);
    assert!(text(&output.stdout).contains("sentiment on 6 rows"), "{}", text(&output.stdout));
    let rows = read_csv(&out);
    let macro_f1 = rows.iter().find(|r| r["model"] == "vader" && r["metric"] == "macro_f1").unwrap();
    assert_eq!(macro_f1["value"], "1.0000", "VADER gets these three sentences right");
    let output =
        stance(&["eval", "--data", data.to_str().unwrap(), "--task", "sentiment", "--rows", "sentences", "--out", out.to_str().unwrap()]);
    assert_ok(&output);
    assert!(text(&output.stdout).contains("sentiment on 3 rows"), "{}", text(&output.stdout));
    // Without --out the figures are printed and nothing is written beside the data.
    let before: std::collections::BTreeSet<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    let output = stance(&["eval", "--data", data.to_str().unwrap(), "--task", "sentiment", "--lexicon"]);
    assert_ok(&output);
    assert!(text(&output.stdout).contains("macro-F1 1.000"), "{}", text(&output.stdout));
    assert!(!text(&output.stdout).contains("written to"), "{}", text(&output.stdout));
    let after: std::collections::BTreeSet<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before, after, "eval --data wrote into the data's folder");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{}\n{}", lines[0], r#"{"sentence_normalized": "x", "targets": [{"mention": "x", "polarity": 3.0}]}"#))
        .unwrap();
    assert_one_line_error(
        &stance(&["eval", "--data", bad.to_str().unwrap(), "--task", "sentiment", "--lexicon"]),
        "bad.jsonl: line 2: unknown polarity 3",
    );
}

#[test]
fn classify_tells_an_unmistakably_favorable_sentence_from_a_hostile_one() {
    let input = "Japan's defence build-up is necessary and welcome: it strengthens deterrence and keeps the region stable.\n\n\
                 Japan's remilitarization is dangerous, breaks a post-war taboo and fuels a reckless arms race.\n";
    let rows = classify_rows(&stance_with_stdin(&["classify"], input));
    assert_eq!(rows.len(), 2, "the blank line is skipped");
    assert_eq!(rows[0].1, "favor");
    assert_eq!(rows[1].1, "against");
    assert_eq!(rows[1].2, "negative");
}

#[test]
fn the_number_of_threads_changes_no_label_and_a_bad_one_is_refused() {
    let input: String = (0..45)
        .map(|i| {
            format!(
                "Line {i}: Japan's {} of its defence spending{} is {}.\n",
                ["doubling", "cut", "review"][i % 3],
                " again".repeat(i % 5),
                ["dangerous", "overdue", "debated"][i % 3]
            )
        })
        .collect();
    let one = stance_with_stdin(&["classify", "--threads", "1"], &input);
    assert_ok(&one);
    assert_eq!(classify_rows(&one).len(), 45);
    for threads in ["2", "5"] {
        let many = stance_with_stdin(&["classify", "--threads", threads], &input);
        assert_ok(&many);
        assert_eq!(text(&many.stdout), text(&one.stdout), "--threads {threads} labels as one thread does, to the last digit");
    }
    assert_one_line_error(&stance(&["classify", "--threads", "0"]), "--threads 0: expected 1 to 1024 threads");
    assert_one_line_error(&stance(&["classify", "--threads", "100000"]), "--threads 100000");
    let bad = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["classify"])
        .env("STANCE_THREADS", "two")
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_one_line_error(&bad, "STANCE_THREADS=two: expected a whole number of threads");
    let many = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["classify"])
        .env("STANCE_THREADS", "100000")
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_one_line_error(&many, "STANCE_THREADS=100000: expected at most 1024 threads");
}

#[test]
fn classify_takes_targets_per_row_and_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "text,target\n\
         \"Nuclear power is clean and safe, and we should build many more reactors.\",nuclear power\n\
         \"Nuclear power is a dangerous, reckless gamble that threatens us all.\",nuclear power\n\
         \"Japan's defence build-up is necessary and welcome: it strengthens deterrence.\",\n",
    )
    .unwrap();
    let rows = classify_rows(&stance(&["classify", "--input", input.to_str().unwrap()]));
    let labels: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(labels, ["favor", "against", "favor"]);
    // --target changes what stance is taken toward: the same sentence, another target.
    let sentence = "Nuclear power is a dangerous, reckless gamble that threatens us all.\n";
    let toward_nuclear = classify_rows(&stance_with_stdin(&["classify", "--target", "nuclear power"], sentence));
    assert_eq!(toward_nuclear[0].1, "against");
}

#[test]
fn the_shipped_stance_models_label_unmistakable_sentences_for_two_targets() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "text,target\n\
         \"Japan must rearm: a stronger military is necessary to deter China and keep the region safe.\",Japan's rearmament\n\
         \"Japan's remilitarization is dangerous and illegitimate; it breaks the pacifist constitution and fuels an arms race.\",Japan's rearmament\n\
         \"Nuclear power is clean, safe and reliable, and we should build many more reactors.\",nuclear power\n\
         \"Nuclear power is a dangerous, reckless gamble; every reactor should be shut down.\",nuclear power\n\
         \"The Diet will vote on the defence ministry's budget request in March.\",Japan's rearmament\n\
         \"The reactor restarted in October after an inspection by the regulator.\",nuclear power\n\
         \"North Korea fired a ballistic missile that splashed down in the sea west of Japan on Sunday.\",Japan's rearmament\n\
         \"The Pentagon is sending two more destroyers with missile defenses to Japan.\",Japan's rearmament\n\
         \"Lawmakers should reject the carbon tax outright.\",carbon tax\n",
    )
    .unwrap();
    // The default (v4) also learned that news about threats and deployments is `none`, and that
    // a relevant sentence can be against; v3 learned on-topic description; the older two were
    // trained on VAST alone, whose `none` is mostly off-topic text, so only their stance rows count.
    let table: [(Option<&str>, &[&str]); 4] = [
        (None, &["favor", "against", "favor", "against", "none", "none", "none", "none", "against"]),
        (Some("models/stance-minilm-v3"), &["favor", "against", "favor", "against", "none", "none"]),
        (Some("models/stance-minilm-vast-v2"), &["favor", "against", "favor", "against"]),
        (Some("models/stance-minilm-vast"), &["favor", "against", "favor", "against"]),
    ];
    for (model, expected) in table {
        let mut args = vec!["classify", "--labeler", "trained", "--sentiment", "zero-shot", "--input", input.to_str().unwrap()];
        args.extend(model.iter().flat_map(|m| ["--model", *m]));
        let labels: Vec<String> = classify_rows(&stance(&args)).into_iter().map(|r| r.1).collect();
        assert_eq!(labels[..expected.len()], *expected, "{model:?}");
    }
}

#[test]
fn train_makes_a_sentiment_model_from_newsmtsc_lines_that_eval_and_classify_use() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("news.jsonl");
    let lines = [
        r#"{"sentence_normalized": "Fans cheered the wonderful victory.", "targets": [{"mention": "Fans", "polarity": 6.0}]}"#,
        r#"{"sentence_normalized": "Critics slammed the disastrous plan.", "targets": [{"mention": "the plan", "polarity": 2.0}]}"#,
        r#"{"sentence_normalized": "The office opens at nine.", "targets": [{"mention": "office", "polarity": 4.0}]}"#,
    ];
    std::fs::write(&data, lines.join("\n")).unwrap();
    let model = dir.path().join("sentiment");
    // --checkpoint may name a folder with other files in it: only training's own files go.
    let checkpoint = dir.path().join("my-folder");
    std::fs::create_dir(&checkpoint).unwrap();
    std::fs::write(checkpoint.join("keep.txt"), "mine").unwrap();
    let (data_arg, model_arg) = (data.to_str().unwrap(), model.to_str().unwrap());
    let output = stance(&[
        "train",
        "--task",
        "sentiment",
        "--data",
        data_arg,
        "--dev",
        data_arg,
        "--epochs",
        "2",
        "--batch-size",
        "3",
        "--max-tokens",
        "32",
        "--out",
        model_arg,
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ]);
    assert_ok(&output);
    assert!(!checkpoint.join("state.json").exists(), "a finished run removes its checkpoint files (--keep-checkpoint keeps them)");
    assert_eq!(std::fs::read_to_string(checkpoint.join("keep.txt")).unwrap(), "mine", "and nothing else");
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["sentence_target"], "overall tone", "the model records how it reads sentence sentiment");
    let training: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(model.join("training.json")).unwrap()).unwrap();
    assert_eq!(training["task"], "sentiment");
    assert_eq!(training["data"]["train"]["rows_used"], 6, "three target rows and three sentence rows");
    assert_eq!(training["report"]["epochs"].as_array().unwrap().len(), 2);
    let output = stance(&[
        "eval",
        "--task",
        "sentiment",
        "--data",
        data_arg,
        "--model",
        model_arg,
        "--out",
        dir.path().join("s.csv").to_str().unwrap(),
    ]);
    assert_ok(&output);
    assert!(text(&output.stdout).contains("sentiment on 6 rows"));
    // classify reads sentiment from it, and sentiment toward Japan where Japan is named.
    let output = stance_with_stdin(&["classify", "--sentiment-model", model_arg], "Japan won.\nIt rained.\n");
    let rows = classify_rows_with_target(&output);
    assert!(!rows[0].3.is_empty() && rows[1].3.is_empty(), "{rows:?}");
}

#[test]
fn train_rejects_bad_files_with_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let table: &[(&str, &str, &str)] = &[
        ("missing.csv", "sentence,target\nFine.,x\n", "missing.csv: line 1: missing column 'stance'"),
        ("unknown.csv", "text,target,label\nFine.,x,favor\nOdd.,x,sideways\n", "unknown.csv: line 3: unknown label 'sideways'"),
        ("empty.csv", "text,target,label\n", "empty.csv: no examples"),
    ];
    for (name, content, expected) in table {
        let data = dir.path().join(name);
        std::fs::write(&data, content).unwrap();
        assert_one_line_error(&stance(&["train", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap()]), expected);
        assert!(!out.exists(), "a model was written from a bad file");
    }
    // An adapted model's head was sized for its own pooling.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "text,target,label\nFine.,x,favor\n").unwrap();
    let init = root().join("models/stance-minilm-vast");
    let args = ["train", "--data", good.to_str().unwrap(), "--out", out.to_str().unwrap(), "--init", init.to_str().unwrap()];
    assert_one_line_error(
        &stance(&[&args[..], &["--pooling", "interact"]].concat()),
        "pools by segments, and an adapted model keeps its pooling",
    );
    assert!(!out.exists());
    // Settings that would train nothing, or train a model of NaNs, are refused (issue 31 item 10).
    let fresh = ["train", "--data", good.to_str().unwrap(), "--out", out.to_str().unwrap()];
    for (extra, expected) in [
        (&["--lr", "NaN"][..], "--lr NaN: must be above 0 and at most 1"),
        (&["--lr=-0.001"][..], "--lr -0.001: must be above 0"),
        (&["--head-lr", "5"][..], "--head-lr 5: must be above 0 and at most 1"),
        (&["--holdout", "0.9999999"][..], "good.csv: no training rows left (--holdout took every row for development)"),
        (&["--target", " "][..], "--target: empty"),
    ] {
        assert_one_line_error(&stance(&[&fresh[..], extra].concat()), expected);
        assert!(!out.exists(), "{extra:?} wrote a model");
    }
}

#[test]
fn an_empty_target_is_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = ["run", "--manifest", "seeds/manifest.csv", "--out", out.to_str().unwrap(), "--target", ""];
    for args in [&["classify", "--target", ""][..], &["classify", "--target", "  "], &run] {
        assert_one_line_error(&stance(args), "--target: empty (name what stance is taken toward)");
    }
    assert!(!out.exists());
}

#[test]
fn split_prints_clean_sentences() {
    let output = stance(&["split", "seeds/calder-2025-alliance-shift.txt"]);
    assert_ok(&output);
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.iter().any(|l| l.contains("Edwin O. Reischauer Centre") && l.starts_with("The Japan-US partnership")));
    assert!(lines.iter().any(|l| l.starts_with("The transformation of the Japan-US alliance")), "list numbers are stripped");
    assert!(!stdout.contains("Skip to content") && !stdout.contains("[1]") && !stdout.contains("Read also"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("US-Japan alliance transitions")).count(), 1, "repeated line dropped");

    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("note.md");
    std::fs::write(&md, "## Outlook\n\nTokyo's [new strategy](https://x.org) is *bold*. Critics disagree.\n\n```\ncode();\n```\n").unwrap();
    let output = stance(&["split", md.to_str().unwrap()]);
    assert_ok(&output);
    assert_eq!(text(&output.stdout), "Outlook\nTokyo's new strategy is bold.\nCritics disagree.\n");

    // Cases the splitter passes alone and the cleaner once broke: an inline list, a sentence
    // about an e-mail address, an ellipsis opening a sentence.
    let txt = dir.path().join("cases.txt");
    std::fs::write(
        &txt,
        "1) The first item 2) The second item\n\nHer email is Jane.Doe@example.com. I sent her an email.\n\nWas it weakened? . . . The practice was not abandoned.\n",
    )
    .unwrap();
    let output = stance(&["split", txt.to_str().unwrap()]);
    assert_ok(&output);
    assert_eq!(
        text(&output.stdout).lines().collect::<Vec<_>>(),
        [
            "1) The first item",
            "2) The second item",
            "Her email is Jane.Doe@example.com.",
            "I sent her an email.",
            "Was it weakened?",
            ". . . The practice was not abandoned."
        ]
    );
}

#[test]
fn help_explains_commands_with_examples() {
    let output = stance(&["--help"]);
    assert_ok(&output);
    let help = text(&output.stdout);
    for word in ["run", "split", "classify", "eval", "sample", "tag", "agree", "Examples:"] {
        assert!(help.contains(word), "{word} missing from --help");
    }
}

/// Asserts a one-line error naming `needle` and a non-zero exit.
fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "expected failure, got success");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{stderr:?} does not name {needle:?}");
}

/// Runs `stance run` on a manifest in a fresh folder and checks that it fails cleanly:
/// one line naming `needle`, and nothing left where the reports would go.
fn assert_run_fails(manifest_rows: &str, files: &[(&str, &[u8])], extra: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, manifest_rows).unwrap();
    let out = dir.path().join("reports").join("out");
    let mut args = vec!["run", "--manifest", manifest.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    assert_one_line_error(&stance(&args), needle);
    assert!(!out.exists(), "partial output left in --out");
    if let Ok(entries) = std::fs::read_dir(dir.path().join("reports")) {
        assert_eq!(entries.count(), 0, "staging folder left behind");
    }
}

const HEADER: &str = "doc_id,path,outlet,group,title,date,url\n";

#[test]
fn bad_input_gets_one_line_errors_and_leaves_no_output() {
    let good: &[(&str, &[u8])] = &[("a.txt", b"Japan rearms. China objects.\n")];
    // Missing manifest.
    let output = stance(&["run", "--manifest", "no/such/manifest.csv", "--out", "/tmp/stance-never-written"]);
    assert_one_line_error(&output, "no/such/manifest.csv");
    assert!(!Path::new("/tmp/stance-never-written").exists());
    // A manifest column missing.
    assert_run_fails("doc_id,path,outlet,title,date,url\na,a.txt,O,T,D,U\n", good, &[], "missing column 'group'");
    // A document the manifest names but that does not exist.
    assert_run_fails(&format!("{HEADER}a,nothere.txt,O,G,T,D,U\n"), good, &[], "nothere.txt");
    // A document that is not UTF-8.
    assert_run_fails(
        &format!("{HEADER}a,a.txt,O,G,T,D,U\n"),
        &[("a.txt", b"Fine line.\nBad \xff\xfe bytes.\n")],
        &[],
        "a.txt: line 2: not valid UTF-8",
    );
    // An empty document.
    assert_run_fails(&format!("{HEADER}a,a.txt,O,G,T,D,U\n"), &[("a.txt", b"\n  \n")], &[], "a.txt: document is empty");
    // Malformed CSV.
    assert_run_fails(&format!("{HEADER}a,a.txt,O,G\n"), good, &[], "manifest.csv: line 2 (record 1): malformed CSV");
    // Missing model files: input is fine, the model folder is empty.
    let empty = tempfile::tempdir().unwrap();
    let model_dir = empty.path().to_str().unwrap().to_string();
    assert_run_fails(&format!("{HEADER}a,a.txt,O,G,T,D,U\n"), good, &["--model-dir", &model_dir], "model.safetensors: model file missing");
}

#[test]
fn bad_gold_and_classify_files_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.csv");
    std::fs::write(&gold, "doc_id,sentence,stance,sentiment\nd,One.,none,neutral\nd,Two.,pro,neutral\n").unwrap();
    let pred = dir.path().join("sentences.csv");
    std::fs::write(&pred, format!("{SENTENCE_HEADER}\nd,O,G,1,0,4,One.,none,0.1,0.1,0.8,neutral,0.1,0.8,0.1,,,,\n")).unwrap();
    let output = stance(&["eval", "--gold", gold.to_str().unwrap(), "--pred", pred.to_str().unwrap()]);
    assert_one_line_error(&output, "gold.csv: line 3: unknown stance label 'pro'");
    assert!(!dir.path().join("eval.csv").exists());

    let input = dir.path().join("in.csv");
    std::fs::write(&input, "words\nHello.\n").unwrap();
    assert_one_line_error(&stance(&["classify", "--input", input.to_str().unwrap()]), "in.csv: line 1: missing column 'text'");
    std::fs::write(&input, "text,target\nHello.,x\n,y\n").unwrap();
    assert_one_line_error(&stance(&["classify", "--input", input.to_str().unwrap()]), "in.csv: line 3: empty text");
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[target]\nname = 5\n").unwrap();
    assert_one_line_error(&stance_with_stdin(&["classify", "--config", config.to_str().unwrap()], "x\n"), "bad.toml: line 2");
}

#[test]
fn sample_writes_a_stratified_sheet_with_context_that_never_repeats_gold() {
    let (dir, out, _) = seed_runs();
    let sheet = dir.path().join("sheet-stratified.csv");
    let args = [
        "sample",
        "--run",
        out.to_str().unwrap(),
        "--strategy",
        "stratified",
        "--by",
        "group",
        "--n",
        "9",
        "--out",
        sheet.to_str().unwrap(),
    ];
    assert_ok(&stance(&args));
    let rows = read_csv(&sheet);
    assert_eq!(rows.len(), 9);
    for group in ["academic", "Global Times", "Western analysis"] {
        assert_eq!(rows.iter().filter(|r| r["group"] == group).count(), 3, "{group}");
    }
    assert!(rows.iter().all(|r| r["stance"].is_empty() && !r["title"].is_empty()), "{rows:?}");
    assert!(rows.iter().any(|r| !r["previous"].is_empty()) && !rows[0].contains_key("model_stance"));
    // Every seed sentence is in the seed gold: excluding it leaves nothing to choose, which is
    // an error rather than a header-only sheet (issue 31).
    let excluded = dir.path().join("sheet-excluded.csv");
    let mut args: Vec<&str> = args.to_vec();
    args.extend(["--exclude", "eval/gold/seeds.csv"]);
    *args.iter_mut().find(|a| a.ends_with("sheet-stratified.csv")).unwrap() = excluded.to_str().unwrap();
    assert_one_line_error(&stance(&args), "no sentence fits --strategy stratified with these options (after --exclude and --within)");
    assert!(!excluded.exists());
}

#[test]
fn agree_reproduces_the_shipped_agreement_figures_and_adjudicates() {
    let output = stance(&["agree", "eval/gold/seeds.csv", "eval/gold/retag-d.csv"]);
    assert_ok(&output);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("134 by two or more"), "{stdout}");
    assert!(stdout.contains("Cohen's kappa seeds vs retag-d: 0.775"), "{stdout}");
    assert!(stdout.contains("Krippendorff's alpha (nominal): 0.774"), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    let (a, b, merged) = (dir.path().join("a.csv"), dir.path().join("b.csv"), dir.path().join("merged.csv"));
    // "One." is a seed sentence, so the merged file can be scored against the seed run.
    let one = "zhang-2025-dual-nature,The Dual Nature of Japan’s Militarization: Strategic Choices and Regional Security Dilemmas Within the Framework of the US-Japan Alliance";
    std::fs::write(&a, format!("doc_id,sentence,stance,sentiment\n{one},favor,positive\nd,Two.,none,neutral\nd,Three.,against,negative\n"))
        .unwrap();
    std::fs::write(&b, format!("doc_id,sentence,stance,sentiment\n{one},favor,positive\nd,Two.,against,negative\nd,Three.,,negative\n"))
        .unwrap();
    let output = stance(&["agree", a.to_str().unwrap(), b.to_str().unwrap(), "--adjudicate", merged.to_str().unwrap(), "--ties-neutral"]);
    assert_ok(&output);
    assert!(text(&output.stdout).contains("2 by two or more") && text(&output.stdout).contains("disagreements: 1"));
    let rows = read_csv(&merged);
    let got: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r["sentence"].as_str(), r["stance"].as_str(), r["sentiment"].as_str())).collect();
    assert_eq!(got, [("Three.", "against", "negative"), ("Two.", "none", "neutral"), ("The Dual Nature of Japan’s Militarization: Strategic Choices and Regional Security Dilemmas Within the Framework of the US-Japan Alliance", "favor", "positive")]);
    // The merged file is a gold file `eval` reads.
    let (_, out, _) = seed_runs();
    let output = stance(&[
        "eval",
        "--gold",
        merged.to_str().unwrap(),
        "--pred",
        out.join("sentences.csv").to_str().unwrap(),
        "--out",
        dir.path().join("e.csv").to_str().unwrap(),
    ]);
    assert!(text(&output.stdout).contains("gold rows: 3, matched: 1"), "{}{}", text(&output.stdout), text(&output.stderr));
    let lone = dir.path().join("lone.csv");
    std::fs::write(&lone, "doc_id,sentence,stance\nx,Nothing shared.,none\n").unwrap();
    assert_one_line_error(&stance(&["agree", a.to_str().unwrap(), lone.to_str().unwrap()]), "no sentence was tagged by two of the files");
}

/// Types `keys` into a pseudo-terminal session.
fn key(p: &mut rexpect::session::PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
}

#[test]
fn tag_is_driven_by_keys_in_a_terminal_saves_each_answer_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("sheet.csv");
    std::fs::write(
        &sheet,
        "doc_id,sentence_id,sentence,stance,sentiment,annotator,tagged_at,note,outlet,group,title,previous,next\n\
         d,1,First sentence.,,,,,,O,G,The title,,Second sentence.\n\
         d,2,Second sentence.,,,,,,O,G,The title,First sentence.,Third sentence.\n\
         d,3,Third sentence.,,,,,,O,G,The title,Second sentence.,\n",
    )
    .unwrap();
    let spawn = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stance"));
        cmd.args(["tag", sheet.to_str().unwrap(), "--annotator", "t1"]).current_dir(root());
        rexpect::session::spawn_command(cmd, Some(20_000)).expect("stance tag starts in a pseudo-terminal")
    };
    let mut p = spawn();
    p.exp_string("[0 of 3 tagged] row 1 of 3").unwrap();
    p.exp_string("First sentence.").unwrap();
    key(&mut p, "f");
    p.exp_string("sentiment?").unwrap();
    key(&mut p, "+");
    p.exp_string("row 2 of 3").unwrap();
    key(&mut p, "n");
    p.exp_string("sentiment?").unwrap();
    key(&mut p, "0");
    p.exp_string("row 3 of 3").unwrap();
    key(&mut p, "u"); // undo row 2's answer
    p.exp_string("[1 of 3 tagged] row 2 of 3").unwrap();
    key(&mut p, "a");
    p.exp_string("sentiment?").unwrap();
    key(&mut p, "-");
    p.exp_string("row 3 of 3").unwrap();
    key(&mut p, "?");
    // The project's target-neutral guide, filled in with the config's target.
    p.exp_string("Target: Japan's rearmament").unwrap();
    p.exp_string("Japan's military build-up in the broad sense").unwrap();
    p.exp_string("When torn between a stance and none, choose none").unwrap();
    key(&mut p, "x");
    p.exp_string("row 3 of 3").unwrap();
    key(&mut p, "c");
    p.exp_string("comment").unwrap();
    key(&mut p, "hard one\r");
    p.exp_string("note: hard one").unwrap();
    key(&mut p, "s"); // skip: nothing left this session
    p.exp_string("2 of 3 rows tagged").unwrap();
    p.exp_eof().unwrap();
    let rows = read_csv(&sheet);
    let labels: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r["stance"].as_str(), r["sentiment"].as_str(), r["annotator"].as_str(), r["note"].as_str())).collect();
    assert_eq!(labels, [("favor", "positive", "t1", ""), ("against", "negative", "t1", ""), ("", "", "", "hard one")]);
    assert!(rows[0]["tagged_at"].ends_with('Z'), "{:?}", rows[0]);
    assert!(rows[0].contains_key("next"), "context columns are kept");
    // Resumed at the first untagged row; the model's labels stay hidden without --show-model.
    let mut p = spawn();
    p.exp_string("[2 of 3 tagged] row 3 of 3").unwrap();
    key(&mut p, "q");
    let rest = p.exp_eof().unwrap();
    assert!(!rest.contains("model:"), "{rest}");
    // Not a terminal: a one-line error, and the sheet is untouched.
    assert_one_line_error(&stance(&["tag", sheet.to_str().unwrap()]), "needs a terminal");
}

#[test]
fn tag_stance_only_asks_no_sentiment_and_shows_each_rows_target() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("sheet.csv");
    std::fs::write(&sheet, "doc_id,sentence,stance,target\nd,Guns should be banned.,,stricter gun control\nd,It rained.,,\n").unwrap();
    let spawn = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stance"));
        cmd.args(["tag", sheet.to_str().unwrap(), "--annotator", "t1"]).args(extra).current_dir(root());
        rexpect::session::spawn_command(cmd, Some(20_000)).expect("stance tag starts in a pseudo-terminal")
    };
    // Without --stance-only a sheet without a sentiment column is refused.
    let mut p = spawn(&[]);
    let text = p.exp_eof().unwrap();
    assert!(text.contains("missing column 'sentiment'") && text.contains("--stance-only"), "{text}");
    let mut p = spawn(&["--stance-only", "--target", "tax cuts"]);
    p.exp_string("target: \x1b[1mstricter gun control").unwrap();
    key(&mut p, "?");
    p.exp_string("Target: stricter gun control").unwrap();
    p.exp_string("has no definition of this target").unwrap();
    key(&mut p, "x");
    key(&mut p, "f"); // no sentiment question: the next row comes at once
    p.exp_string("target: \x1b[1mtax cuts").unwrap();
    key(&mut p, "n");
    p.exp_string("2 of 2 rows tagged").unwrap();
    p.exp_eof().unwrap();
    let rows = read_csv(&sheet);
    let labels: Vec<(&str, &str)> = rows.iter().map(|r| (r["stance"].as_str(), r["annotator"].as_str())).collect();
    assert_eq!(labels, [("favor", "t1"), ("none", "t1")]);
    assert!(!rows[0].contains_key("sentiment"), "no sentiment column is invented");
    // The stance-only sheet is a gold file: eval leaves sentiment out, with a note.
    let pred = dir.path().join("pred.csv");
    std::fs::write(&pred, "doc_id,text,stance,sentiment\nd,Guns should be banned.,favor,negative\nd,It rained.,favor,neutral\n").unwrap();
    let out = stance(&[
        "eval",
        "--gold",
        sheet.to_str().unwrap(),
        "--pred",
        pred.to_str().unwrap(),
        "--out",
        dir.path().join("e.csv").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("sentiment: not tagged in the gold; sentiment figures left out"), "{printed}");
    assert!(!printed.contains("sentiment (n ="), "{printed}");
}

/// The stance index of each seed group must point the way the hand-tagged gold's does (gold
/// index = share favor − share against of the tags): the check that the index measures stance,
/// not how often a group writes about the military. With the default model v7 (and v6 before
/// it) the raw index has the gold's sign for all three groups (README, "Stance quality"), and so
/// has the error-adjusted index, calibrated on the seed gold itself (in-sample: a check of the
/// machinery, not a quality figure). The issue's criterion also accepts an interval that holds
/// the gold; both are held to the stricter sign test, so a model that loses a sign fails here.
#[test]
fn seed_group_indices_point_the_way_the_gold_does() {
    let (dir, out, _) = seed_runs();
    let group_of: std::collections::HashMap<String, String> =
        read_csv(&root().join("seeds/manifest.csv")).into_iter().map(|r| (r["doc_id"].clone(), r["group"].clone())).collect();
    let mut tally: std::collections::HashMap<String, (f64, f64)> = Default::default();
    for r in read_csv(&root().join("eval/gold/seeds.csv")) {
        let t = tally.entry(group_of[&r["doc_id"]].clone()).or_default();
        t.1 += 1.0;
        t.0 += match r["stance"].as_str() {
            "favor" => 1.0,
            "against" => -1.0,
            _ => 0.0,
        };
    }
    let gold = |group: &str| tally[group].0 / tally[group].1;
    // Raw, default run (no calibration: no adjusted figures).
    for p in read_csv(&out.join("profiles.csv")).iter().filter(|p| p["level"] == "group") {
        let (value, low, high): (f64, f64, f64) =
            (p["stance_index"].parse().unwrap(), p["stance_index_low"].parse().unwrap(), p["stance_index_high"].parse().unwrap());
        let g = gold(&p["key"]);
        // With v6 and v7 all three groups have the gold's sign raw (v5 had the six-sentence
        // academic abstract the wrong way: models/stance-minilm-v6/README.md).
        let same_sign = value != 0.0 && value.signum() == g.signum();
        assert!(same_sign, "{}: raw {value:.3} ({low:.3} to {high:.3}) vs the gold's {g:.3}", p["key"]);
        assert!(p["adjusted_stance_index"].is_empty(), "no calibration, no adjustment: {p:?}");
    }
    // Adjusted, calibrated on the seed gold.
    let calibrated = dir.path().join("calibrated");
    let args = ["run", "--manifest", "seeds/manifest.csv", "--calibration", "eval/gold/seeds.csv", "--out", calibrated.to_str().unwrap()];
    assert_ok(&stance(&args));
    let mut checked = 0;
    for p in read_csv(&calibrated.join("profiles.csv")).iter().filter(|p| p["level"] == "group") {
        let (value, low, high): (f64, f64, f64) = (
            p["adjusted_stance_index"].parse().unwrap(),
            p["adjusted_stance_index_low"].parse().unwrap(),
            p["adjusted_stance_index_high"].parse().unwrap(),
        );
        let shares: f64 = ["favor", "against", "none"].iter().map(|l| p[&format!("adjusted_share_{l}")].parse::<f64>().unwrap()).sum();
        assert!((shares - 1.0).abs() < 1e-3, "{p:?}");
        let g = gold(&p["key"]);
        let same_sign = value != 0.0 && value.signum() == g.signum();
        assert!(same_sign, "{}: adjusted {value:.3} ({low:.3} to {high:.3}) vs the gold's {g:.3}", p["key"]);
        checked += 1;
    }
    assert_eq!(checked, 3);
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(calibrated.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["calibration"]["files"][0]["path"], "eval/gold/seeds.csv");
    assert_eq!(run["calibration"]["rows_per_true_label"]["against"], 7);
    // Every seed comparison has a one-document side: it compares texts, not groups.
    for c in read_csv(&calibrated.join("comparison.csv")) {
        assert!(c["docs_a"] == "1" || c["docs_b"] == "1", "{c:?}");
        assert!(c["describes"].starts_with("documents"), "{c:?}");
        assert!(!c["adjusted_difference"].is_empty(), "{c:?}");
    }
    // A calibration set without against rows is refused before anything is labelled.
    let no_against = dir.path().join("no-against.csv");
    std::fs::write(&no_against, "doc_id,sentence,stance,sentiment\nd,A.,favor,neutral\nd,B.,none,neutral\n").unwrap();
    let bad = dir.path().join("bad");
    assert_one_line_error(
        &stance(&[
            "run",
            "--manifest",
            "seeds/manifest.csv",
            "--calibration",
            no_against.to_str().unwrap(),
            "--out",
            bad.to_str().unwrap(),
        ]),
        "no 'against' rows",
    );
    assert!(!bad.exists());
    // Issue 31 item 5: a calibration row given twice would count twice.
    let copy = dir.path().join("copy.csv");
    std::fs::copy(root().join("eval/gold/seeds.csv"), &copy).unwrap();
    let overlap = dir.path().join("overlap.csv");
    std::fs::write(&overlap, "doc_id,sentence,stance\nd,Other.,favor\nd,  A. ,none\n").unwrap();
    let two = dir.path().join("two.csv");
    std::fs::write(&two, "doc_id,sentence,stance\nd,A.,against\nd,Z.,none\n").unwrap();
    for (files, expected) in [
        (["eval/gold/seeds.csv", "eval/gold/seeds.csv"], "the same contents as eval/gold/seeds.csv (given twice as --calibration)"),
        (["eval/gold/seeds.csv", copy.to_str().unwrap()], "copy.csv: the same contents as eval/gold/seeds.csv"),
        ([two.to_str().unwrap(), overlap.to_str().unwrap()], "overlap.csv: line 3: the same sentence of 'd' as"),
    ] {
        let args = [
            "run",
            "--manifest",
            "seeds/manifest.csv",
            "--calibration",
            files[0],
            "--calibration",
            files[1],
            "--out",
            bad.to_str().unwrap(),
        ];
        assert_one_line_error(&stance(&args), expected);
        assert!(!bad.exists());
    }
}

#[test]
fn data_compose_writes_rows_heldout_folds_and_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("written.csv"), "text,target,stance,set\nA.,t,favor,train\nB.,t,none,dev\n").unwrap();
    std::fs::write(d.join("gold.csv"), "doc_id,sentence,stance\nd1,G1.,none\nd2,G2.,against\nd3,G3.,favor\nd4,G4.,none\n").unwrap();
    std::fs::write(
        d.join("recipe.toml"),
        "seed = 5\n[[train]]\nfile = \"written.csv\"\nset = \"train\"\nrepeat = 3\n[[train]]\nfile = \"gold.csv\"\ntext = \"sentence\"\ntarget_value = \"T\"\nfold = \"1/2\"\n[[dev]]\nfile = \"written.csv\"\nset = \"dev\"\n",
    )
    .unwrap();
    let out = d.join("rows");
    for _ in 0..2 {
        assert_ok(&stance(&["data", "compose", d.join("recipe.toml").to_str().unwrap(), "--out", out.to_str().unwrap()]));
    }
    let train = read_csv(&out.join("train.csv"));
    let held = read_csv(&out.join("gold-heldout.csv"));
    assert_eq!(train.iter().filter(|r| r["text"] == "A.").count(), 3);
    assert_eq!(train.len() - 3 + held.len(), 4, "each gold row is trained on or held out");
    assert!(train.iter().filter(|r| r["text"].starts_with('G')).all(|r| r["target"] == "T"));
    assert_eq!(read_csv(&out.join("dev.csv")).len(), 1);
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("compose.json")).unwrap()).unwrap();
    assert_eq!(record["rows"]["train"], train.len());
    assert_eq!(record["sources"].as_array().unwrap().len(), 3);
    assert_eq!(record["sources"][0]["sha256"].as_str().unwrap().len(), 64);

    // The shipped recipe's repository files exist (its VAST file is in ../shared/datasets).
    let recipe = std::fs::read_to_string(root().join("data/recipes/stance-v4-stage3.toml")).unwrap();
    for line in recipe.lines().filter_map(|l| l.strip_prefix("file = \"")) {
        let file = root().join("data/recipes").join(line.trim_end_matches('"'));
        assert!(line.contains("shared/datasets") || file.is_file(), "{} missing", file.display());
    }

    // A bad label names its file and line, and nothing is written.
    std::fs::write(d.join("written.csv"), "text,target,stance,set\nA.,t,maybe,train\n").unwrap();
    let bad_out = d.join("bad");
    let output = stance(&["data", "compose", d.join("recipe.toml").to_str().unwrap(), "--out", bad_out.to_str().unwrap()]);
    assert_one_line_error(&output, "written.csv: line 2: unknown label 'maybe'");
    assert!(!bad_out.exists());
}

/// The text of each sentence of `out`'s sentences.csv, checked against its document's cleaned
/// text: the span must point at exactly that sentence.
fn assert_spans_point_into_their_own_documents(out: &Path) {
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let files: std::collections::HashMap<String, String> = run["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["doc_id"].as_str().unwrap().to_string(), d["cleaned_file"].as_str().unwrap().to_string()))
        .collect();
    // A --csv-safe run guards cells a spreadsheet would run ('=x); the keys are the documents'.
    let unguarded = |cell: &str| cell.strip_prefix('\'').filter(|rest| rest.starts_with(['=', '+', '-', '@'])).unwrap_or(cell).to_string();
    for row in read_csv(&out.join("sentences.csv")) {
        let cleaned = std::fs::read_to_string(out.join(&files[&unguarded(&row["doc_id"])])).unwrap();
        let (start, end): (usize, usize) = (row["start"].parse().unwrap(), row["end"].parse().unwrap());
        assert_eq!(cleaned[start..end], unguarded(&row["text"]), "{}", row["doc_id"]);
    }
}

#[test]
fn hostile_ids_and_cells_stay_apart_and_bad_folders_fail_before_labelling() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("one.txt"), "Japan's defence budget grew. The cabinet approved it.\n").unwrap();
    std::fs::write(d.join("two.txt"), "=SUM(A1:A9) is not a sentence anyone wrote. Tokyo said nothing.\n").unwrap();
    let long_id = "x".repeat(300);
    // No title, date or url columns: they are optional.
    std::fs::write(
        d.join("m.csv"),
        format!("doc_id,path,outlet,group\na/b,one.txt,O,G\na_b,two.txt,O,G\n{long_id},one.txt,P,H\n=x,two.txt,=O,H\n"),
    )
    .unwrap();
    let out = d.join("out");
    let m = d.join("m.csv");
    assert_ok(&stance(&["run", "--manifest", m.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    let cleaned: Vec<_> = std::fs::read_dir(out.join("cleaned")).unwrap().collect();
    assert_eq!(cleaned.len(), 4, "one cleaned file per document");
    assert_spans_point_into_their_own_documents(&out);
    assert!(read_csv(&out.join("sentences.csv")).iter().any(|r| r["text"].starts_with("=SUM")), "cells as written by default");
    assert_ok(&stance(&["run", "--manifest", m.to_str().unwrap(), "--out", out.to_str().unwrap(), "--csv-safe"]));
    assert!(read_csv(&out.join("sentences.csv")).iter().any(|r| r["text"].starts_with("'=SUM")), "--csv-safe guards formulas");
    // Keys are guarded too (issue 31 item 12), in every table; this tool's readers take the
    // guard off, so the page, eval and sample still match them with run.json and the gold.
    assert!(read_csv(&out.join("sentences.csv")).iter().any(|r| r["doc_id"] == "'=x" && r["outlet"] == "'=O"), "keys guarded");
    assert!(read_csv(&out.join("profiles.csv")).iter().any(|r| r["key"] == "'=x"), "profile keys guarded");
    assert!(read_csv(&out.join("profiles.csv")).iter().all(|r| !r["key"].starts_with('=')));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("=SUM(A1:A9)") && !page.contains("&#39;=SUM"), "the page shows the text as written");
    let gold = d.join("gold.csv");
    std::fs::write(&gold, "doc_id,sentence,stance,sentiment\n=x,=SUM(A1:A9) is not a sentence anyone wrote.,none,neutral\n").unwrap();
    let evaluated = stance(&[
        "eval",
        "--gold",
        gold.to_str().unwrap(),
        "--pred",
        out.join("sentences.csv").to_str().unwrap(),
        "--out",
        d.join("eval.csv").to_str().unwrap(),
    ]);
    assert_ok(&evaluated);
    let unmatched = read_csv(&d.join("eval.csv")).into_iter().find(|r| r["metric"] == "unmatched_gold_rows").unwrap();
    assert_eq!(unmatched["value"], "0", "the gold row on the guarded id and text is matched");
    let sheet = d.join("sheet.csv");
    assert_ok(&stance(&["sample", "--run", out.to_str().unwrap(), "--n", "10", "--out", sheet.to_str().unwrap()]));
    let rows = read_csv(&sheet);
    assert!(rows.iter().any(|r| r["sentence"].starts_with("=SUM")), "sample reads text back as it was");
    assert!(rows.iter().all(|r| !r["doc_id"].starts_with('\'') && !r["sentence"].starts_with('\'')));
    assert_spans_point_into_their_own_documents(&out);

    // Ids that only differ in case would share a file on a case-insensitive disk.
    std::fs::write(d.join("m2.csv"), "doc_id,path,outlet,group\nGt,one.txt,O,G\ngt,two.txt,O,G\n").unwrap();
    let out2 = d.join("out2");
    assert_one_line_error(
        &stance(&["run", "--manifest", d.join("m2.csv").to_str().unwrap(), "--out", out2.to_str().unwrap()]),
        "m2.csv: doc_ids 'Gt' and 'gt' would share the file cleaned/gt.txt",
    );
    // A folder of other files is never replaced; a parent that is not a folder fails before
    // the model is loaded (the error names the path).
    let mine = d.join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let output = stance(&["run", "--manifest", m.to_str().unwrap(), "--out", mine.to_str().unwrap()]);
    assert_one_line_error(&output, "mine: --out holds 'notes.txt', which this tool did not write");
    assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep me");
    // Inside a result's cleaned/ too (issue 31 item 7): a file or folder its run did not write.
    for (extra, is_dir) in [("cleaned/notes.txt", false), ("cleaned/drafts", true)] {
        assert_ok(&stance(&["run", "--manifest", m.to_str().unwrap(), "--out", out.to_str().unwrap()]));
        let path = out.join(extra);
        if is_dir {
            std::fs::create_dir(&path).unwrap();
        } else {
            std::fs::write(&path, "keep me").unwrap();
        }
        let output = stance(&["run", "--manifest", m.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_one_line_error(&output, &format!("--out holds '{extra}', which the run there did not write"));
        assert!(path.exists(), "{extra} was deleted");
        if is_dir {
            std::fs::remove_dir(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    let output = stance(&["run", "--manifest", m.to_str().unwrap(), "--out", "/dev/null/out"]);
    assert_one_line_error(&output, "/dev/null");
    assert!(!text(&output.stderr).contains("labelled"));

    // eval that matches nothing says why instead of writing zeros.
    let gold = d.join("gold.csv");
    std::fs::write(&gold, "doc_id,sentence,stance,sentiment\nother-doc,Japan's defence budget grew.,none,neutral\n").unwrap();
    let output = stance(&["eval", "--gold", gold.to_str().unwrap(), "--pred", out.join("sentences.csv").to_str().unwrap()]);
    assert_one_line_error(&output, "gold.csv: none of its 1 rows matched a sentence of");
    assert!(text(&output.stderr).contains("gold has 'other-doc'"));

    // A document with no size (a device) is refused at the limit, not read forever.
    assert_one_line_error(&stance(&["split", "/dev/zero"]), "/dev/zero: document is more than");
}

/// A model folder like the shipped one, with `edit` applied to its config.json.
fn edited_model(dir: &Path, name: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let shipped = root().join("models/stance-minilm-v4");
    let copy = dir.join(name);
    std::fs::create_dir(&copy).unwrap();
    std::os::unix::fs::symlink(shipped.join("model.safetensors"), copy.join("model.safetensors")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(shipped.join("config.json")).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(copy.join("config.json"), config.to_string()).unwrap();
    copy
}

#[test]
fn model_configs_that_would_panic_or_mislabel_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let table: Vec<(PathBuf, &str)> = vec![
        (edited_model(d, "zero", |c| c["max_tokens"] = 0.into()), "max_tokens 0 is outside 8..=512"),
        (edited_model(d, "long", |c| c["max_tokens"] = 4096.into()), "max_tokens 4096 is outside 8..=512"),
        (edited_model(d, "kind", |c| c["kind"] = "foo".into()), "kind 'foo'"),
        (
            edited_model(d, "order", |c| c["heads"]["stance"] = serde_json::json!(["against", "favor", "none"])),
            "the 'stance' head's labels are against,favor,none",
        ),
    ];
    for (model, needle) in table {
        let output = stance_with_stdin(&["classify", "--model", model.to_str().unwrap()], "Japan rearms.\n");
        assert_one_line_error(&output, &format!("{}: {needle}", model.join("config.json").display()));
    }
    // A base encoder whose hidden size is not a multiple of its attention heads.
    let base = d.join("base");
    std::fs::create_dir(&base).unwrap();
    let shipped = root().join("models/base/files");
    for file in ["model.safetensors", "vocab.txt"] {
        std::os::unix::fs::symlink(std::fs::canonicalize(shipped.join(file)).unwrap(), base.join(file)).unwrap();
    }
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(shipped.join("config.json")).unwrap()).unwrap();
    config["num_attention_heads"] = 7.into();
    std::fs::write(base.join("config.json"), config.to_string()).unwrap();
    let output = stance_with_stdin(&["classify", "--model-dir", base.to_str().unwrap()], "Japan rearms.\n");
    assert_one_line_error(&output, "config.json: hidden_size 384 must be a positive multiple of num_attention_heads 7");
}

#[test]
fn a_killed_run_leaves_the_old_result_or_the_new_one_never_a_mix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let seeds = root().join("seeds/manifest.csv");
    assert_ok(&stance(&["run", "--manifest", seeds.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    // The new result: two of the seed documents (paths made absolute: they were relative to
    // the seed manifest).
    let subset = d.join("subset.csv");
    let mut reader = csv::Reader::from_path(&seeds).unwrap();
    let headers = reader.headers().unwrap().clone();
    let path_col = headers.iter().position(|h| h == "path").unwrap();
    let mut writer = csv::Writer::from_path(&subset).unwrap();
    writer.write_record(&headers).unwrap();
    for record in reader.records().take(2) {
        let record = record.unwrap();
        let cells: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, c)| if i == path_col { root().join("seeds").join(c).display().to_string() } else { c.to_string() })
            .collect();
        writer.write_record(&cells).unwrap();
    }
    writer.flush().unwrap();
    let expected_new = d.join("expected-new");
    assert_ok(&stance(&["run", "--manifest", subset.to_str().unwrap(), "--out", expected_new.to_str().unwrap()]));
    let snapshot = |dir: &Path| -> Vec<Vec<u8>> {
        ["sentences.csv", "profiles.csv", "comparison.csv"].iter().map(|f| std::fs::read(dir.join(f)).unwrap()).collect()
    };
    let old = snapshot(&out);
    let new = snapshot(&expected_new);
    assert_ne!(old, new);
    let mut states = std::collections::BTreeSet::new();
    // From before the model is loaded to after a run ends. A loaded CI machine may take far
    // longer than these delays, so the last round waits for the run to end by itself (a kill
    // after the end) rather than trusting a clock: the kills must span the commit point.
    for delay_ms in [300u64, 900, 1600, 2200, 2800, 3400, 4200, 6000, 9000, u64::MAX] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
            .args(["run", "--manifest", subset.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if delay_ms == u64::MAX {
            assert!(child.wait().unwrap().success(), "an uninterrupted run over the subset failed");
        } else {
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        let now = snapshot(&out);
        assert!(now == old || now == new, "after a kill at {delay_ms} ms, --out holds neither the old result nor the new one");
        states.insert(if now == old { "old" } else { "new" });
        let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        let documents = run["documents"].as_array().unwrap().len();
        assert_eq!(documents, if now == old { 5 } else { 2 }, "run.json belongs to the same run as the CSVs");
    }
    // The next run removes what killed runs left beside --out, and says so.
    let output = stance(&["run", "--manifest", subset.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_ok(&output);
    let leftovers: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".stance-"))
        .collect();
    assert!(leftovers.is_empty(), "left beside --out: {leftovers:?}");
    assert_eq!(snapshot(&out), new);
    eprintln!("states seen after kills: {states:?}");
    assert!(states.contains("old") && states.contains("new"), "the kills did not span the run: {states:?}");
}

#[test]
fn labelling_needs_no_network() {
    // A network namespace of its own has no interface but loopback: a download would fail.
    let mut child = Command::new("unshare")
        .args(["-rn", env!("CARGO_BIN_EXE_stance"), "classify"])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux) runs");
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"Japan should rearm to deter China.\n").unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert_ok(&output);
    assert!(text(&output.stdout).lines().nth(1).unwrap().starts_with("Japan should rearm to deter China.,Japan's rearmament,favor,"));
}

#[test]
fn the_seed_report_renders_in_a_browser_with_every_section() {
    let (dir, out, _) = seed_runs();
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    for needle in ["<svg", "Stance index by group and document", "Global Times", "Western analysis", "academic", "Toward against"] {
        assert!(html.contains(needle), "report.html lacks {needle:?}");
    }
    assert!(!html.contains("<script"), "no script needed to read the page");
    // The default model's measured.json: the seed target was measured, and the page says how
    // often the model reads a stance into real no-stance text of it.
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let check = &run["target_check"];
    assert_eq!((check["measured"].as_bool(), check["nearest"].as_str()), (Some(true), Some("Japan's rearmament")), "{check}");
    assert!(check["none_called_stance"][0].as_f64().is_some_and(|share| (0.0..=1.0).contains(&share)), "{check}");
    assert!(
        html.contains("The model was measured on this target (eval") && html.contains("real-dev.csv): it called"),
        "the page names the measured target"
    );
    assert!(!html.contains("http://") || !html.contains("src=\"http"), "nothing loaded from the network");
    // As a person sees it: headless Chromium (Debian package `chromium`; .ci/run installs it).
    let shot = dir.path().join("report.png");
    let chromium = |args: &[&str]| {
        Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,2400"])
            .args(args)
            .arg(format!("file://{}", report.display()))
            .output()
            .expect("chromium runs (apt-get install chromium)")
    };
    let output = chromium(&[&format!("--screenshot={}", shot.display())]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(std::fs::metadata(&shot).unwrap().len() > 50_000, "an empty screenshot");
    let dom = chromium(&["--dump-dom"]);
    assert!(dom.status.success());
    let dom = text(&dom.stdout);
    for section in ["id=\"summary\"", "id=\"indices\"", "id=\"shares\"", "id=\"evidence\"", "id=\"documents\"", "id=\"provenance\""] {
        assert!(dom.contains(section), "the rendered page lacks {section}");
    }
    assert!(!text(&output.stderr).contains("Uncaught"), "errors while loading: {}", text(&output.stderr));
    // Every evidence link leads to a sentence in a document view.
    for link in html.split("href=\"#").skip(1) {
        let id = link.split('"').next().unwrap();
        assert!(html.contains(&format!("id=\"{id}\"")), "evidence link #{id} leads nowhere");
    }
}

#[test]
fn report_rebuilds_a_run_folder_and_eval_adds_the_gold() {
    let (dir, out, _) = seed_runs();
    let copy = dir.path().join("report-copy");
    std::fs::create_dir_all(copy.join("cleaned")).unwrap();
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
        }
    }
    for entry in std::fs::read_dir(out.join("cleaned")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join("cleaned").join(path.file_name().unwrap())).unwrap();
    }
    std::fs::remove_file(copy.join("report.html")).unwrap();
    assert_ok(&stance(&["report", copy.to_str().unwrap()]));
    let rebuilt = std::fs::read_to_string(copy.join("report.html")).unwrap();
    assert_eq!(rebuilt, std::fs::read_to_string(out.join("report.html")).unwrap(), "rebuilt from the files, the same page");
    assert!(!rebuilt.contains("id=\"evaluation\""));
    assert_ok(&stance(&["eval", "--gold", "eval/gold/seeds.csv", "--pred", copy.join("sentences.csv").to_str().unwrap()]));
    let evaluated = std::fs::read_to_string(copy.join("report.html")).unwrap();
    // The page quotes the figure eval.csv holds.
    let macro_f1 = read_csv(&copy.join("eval.csv"))
        .into_iter()
        .find(|r| r["task"] == "stance" && r["metric"] == "macro_f1")
        .map(|r| r["value"].clone())
        .unwrap();
    assert!(macro_f1.starts_with("0.") && macro_f1.len() == 6, "{macro_f1}");
    assert!(evaluated.contains("id=\"evaluation\"") && evaluated.contains(&format!("hand-tagged gold, stance macro-F1 is {macro_f1}")));
    assert_one_line_error(&stance(&["report", dir.path().to_str().unwrap()]), "not a run folder (no run.json)");
}

#[test]
fn rough_edges_a_first_user_hit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // One group: comparison.csv stays empty, and the run says why; --excel writes a BOM;
    // run.json names the labeller as the command line does.
    std::fs::write(d.join("a.txt"), "Japan's defence budget grew. The cabinet approved it.\n").unwrap();
    let out = d.join("out");
    std::fs::write(d.join("b.txt"), "Germany's army grew. Berlin approved it.\n").unwrap();
    std::fs::write(d.join("m.csv"), "doc_id,path,outlet,group\na,a.txt,O,G\nb,b.txt,O,G\n").unwrap();
    let output = stance(&[
        "run",
        "--manifest",
        d.join("m.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--excel",
        "--target",
        "Germany's rearmament",
        "--entity",
        "Germany,German,Berlin",
    ]);
    assert_ok(&output);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("one group ('G'), so comparison.csv has no rows"), "{stderr}");
    assert!(stderr.contains("labelled 4 sentences of 2 documents in"), "{stderr}");
    assert!(std::fs::read(out.join("sentences.csv")).unwrap().starts_with(b"\xef\xbb\xbfdoc_id,"));
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["labeler"], "trained");
    assert_eq!(run["config"]["target"]["name"], "Germany's rearmament");
    assert_eq!(run["counts"]["entity_mentions"], 2, "Germany's and Berlin are mentions of --entity, Japan's no longer");
    // The zero-shot descriptions were written for Japan's rearmament: toward another target, a warning.
    let warned = stance_with_stdin(&["classify", "--labeler", "zero-shot", "--target", "nuclear power"], "Reactors are safe.\n");
    assert_ok(&warned);
    assert!(text(&warned.stderr).contains("written for 'Japan's rearmament', not 'nuclear power'"), "{}", text(&warned.stderr));
    assert!(std::fs::read_to_string(out.join("report.html")).unwrap().contains("Only one group: nothing to compare."));

    // classify keeps every input column, reads a `sentence` column, and says which target it used.
    let input = d.join("in.csv");
    std::fs::write(
        &input,
        "id,sentence,target\nr1,Japan should rearm to deter China.,\nr2,Nuclear power is a reckless gamble.,nuclear power\n",
    )
    .unwrap();
    let output = stance(&["classify", "--input", input.to_str().unwrap()]);
    assert_ok(&output);
    let rows = read_csv_bytes(&output.stdout);
    assert_eq!(rows[0]["id"], "r1");
    assert_eq!(rows[0]["target_used"], "Japan's rearmament");
    assert_eq!((rows[1]["id"].as_str(), rows[1]["target_used"].as_str(), rows[1]["stance"].as_str()), ("r2", "nuclear power", "against"));
    let one = stance_with_stdin(&["classify"], "Japan rearms.\n");
    assert!(text(&one.stderr).contains("labelled 1 sentence in"), "{}", text(&one.stderr));

    // --skip-bad leaves out a bad document, says so, and records why; the default stops.
    std::fs::write(d.join("bad.txt"), b"Fine.\n\xff\xfe\n").unwrap();
    std::fs::write(d.join("m3.csv"), "doc_id,path,outlet,group\na,a.txt,O,G\nbad,bad.txt,O,H\ngone,gone.txt,O,H\n").unwrap();
    let m3 = d.join("m3.csv");
    let out3 = d.join("out3");
    assert_one_line_error(
        &stance(&["run", "--manifest", m3.to_str().unwrap(), "--out", out3.to_str().unwrap()]),
        "m3.csv: line 4: document",
    );
    let output = stance(&["run", "--manifest", m3.to_str().unwrap(), "--out", out3.to_str().unwrap(), "--skip-bad", "--quiet"]);
    assert_ok(&output);
    assert!(text(&output.stderr).contains("warning: skipped document 'bad'"), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("labelled"), "--quiet keeps progress lines off stderr");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out3.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["skipped_documents"][0]["doc_id"], "bad");
    assert!(run["skipped_documents"][0]["reason"].as_str().unwrap().contains("bad.txt: line 2: not valid UTF-8"));
    assert_eq!(run["skipped_documents"][1]["doc_id"], "gone", "a missing file is a bad document too");
    assert!(run["skipped_documents"][1]["reason"].as_str().unwrap().contains("gone.txt"));
    assert_eq!(run["documents"].as_array().unwrap().len(), 1);

    // An input column named like an output column keeps its cells under input_NAME.
    let output = stance(&["classify", "--input", "examples/tags.csv"]);
    assert_ok(&output);
    let rows = read_csv_bytes(&output.stdout);
    assert_eq!(rows.len(), 15);
    assert!(rows.iter().all(|r| r.contains_key("input_stance") && r.contains_key("stance") && r.contains_key("annotator")));
    assert_eq!(rows[0]["input_stance"], "favor");

    // split reads standard input.
    let output = stance_with_stdin(&["split", "-"], "Skip to content\nJapan rearms. China objects.\n");
    assert_ok(&output);
    assert_eq!(text(&output.stdout), "Japan rearms.\nChina objects.\n");
}

fn read_csv_bytes(bytes: &[u8]) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().unwrap().clone();
    reader.records().map(|r| headers.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect()).collect()
}

#[test]
fn completions_and_a_man_page() {
    let bash = stance(&["completions", "bash"]);
    assert_ok(&bash);
    assert!(text(&bash.stdout).contains("_stance()") && text(&bash.stdout).contains("classify"));
    let man = stance(&["man"]);
    assert_ok(&man);
    assert!(text(&man.stdout).starts_with(".ie") || text(&man.stdout).contains(".TH stance"), "{}", &text(&man.stdout)[..200]);
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let output = child.wait_with_output().unwrap();
    assert!(!text(&output.stderr).contains("panicked"), "{}", text(&output.stderr));
}

/// The CSVs and cleaned texts of a run folder, by name.
fn result_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for name in ["sentences.csv", "profiles.csv", "comparison.csv"] {
        files.insert(name.to_string(), std::fs::read(dir.join(name)).unwrap());
    }
    for entry in std::fs::read_dir(dir.join("cleaned")).unwrap() {
        let entry = entry.unwrap();
        files.insert(format!("cleaned/{}", entry.file_name().to_string_lossy()), std::fs::read(entry.path()).unwrap());
    }
    files
}

#[test]
fn shards_merge_into_the_single_run_byte_for_byte() {
    let (_, single, _) = seed_runs();
    let dir = tempfile::tempdir().unwrap();
    let part = |k: usize| dir.path().join(format!("part-{k}"));
    for k in 0..4 {
        let output = stance(&["run", "--manifest", "seeds/manifest.csv", "--shard", &format!("{k}/4"), "--out", part(k).to_str().unwrap()]);
        assert_ok(&output);
    }
    // Seed ids hash to shards 0, 0, 2, 2, 3: shard 1 is empty, and still a shard to merge.
    let shard_docs =
        |k: usize| -> usize { read_csv(&part(k).join("sentences.csv")).iter().map(|r| r["doc_id"].clone()).collect::<HashSet<_>>().len() };
    assert_eq!((0..4).map(shard_docs).collect::<Vec<_>>(), [2, 0, 2, 1]);
    let merged = dir.path().join("merged");
    let parts: Vec<String> = (0..4).map(|k| part(k).display().to_string()).collect();
    let mut args = vec!["merge", "--out", merged.to_str().unwrap()];
    args.extend(parts.iter().map(String::as_str));
    assert_ok(&stance(&args));
    assert_eq!(result_files(&merged), result_files(single), "merge(shards) differs from the single run");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(merged.join("run.json")).unwrap()).unwrap();
    let one: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(single.join("run.json")).unwrap()).unwrap();
    for key in ["documents", "counts", "config", "labeler_model"] {
        assert_eq!(run[key], one[key], "run.json: {key}");
    }
    assert_eq!(run["merged_from"].as_array().unwrap().len(), 4);

    // A missing shard, a shard given twice, a shard of another setting: one-line errors, no output.
    let bad_out = dir.path().join("bad");
    let merge = |dirs: &[&str]| {
        let mut args = vec!["merge", "--out", bad_out.to_str().unwrap()];
        args.extend(dirs);
        stance(&args)
    };
    assert_one_line_error(&merge(&[&parts[0], &parts[1], &parts[3]]), "2 of the corpus's 5 documents are in no part ('calder-2025-alliance-shift', 'zhou-defense-policy-allies'); the parts hold shards 0, 1, 3 of 4");
    assert_one_line_error(&merge(&[&parts[0], &parts[0]]), "both are shard 0 of 4");
    let other = dir.path().join("other-target");
    assert_ok(&stance(&[
        "run",
        "--manifest",
        "seeds/manifest.csv",
        "--shard",
        "2/4",
        "--target",
        "nuclear power",
        "--out",
        other.to_str().unwrap(),
    ]));
    assert_one_line_error(
        &merge(&[&parts[0], &parts[1], other.to_str().unwrap(), &parts[3]]),
        "other models or settings (fingerprint) than",
    );
    assert_one_line_error(&merge(&[single.to_str().unwrap()]), "a folder written by `stance run --shard K/N`");
    assert!(!bad_out.exists());
}

#[test]
fn a_killed_run_resumes_where_it_stopped_and_ends_identical() {
    let (_, single, _) = seed_runs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Kill the run once some documents, not all, have their parts. One thread labels in rounds
    // of 64 sentences: the first four seed documents, then the fifth.
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["run", "--manifest", "seeds/manifest.csv", "--out", out.to_str().unwrap(), "--threads", "1"])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parts_done = || -> usize {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".out.stance-staging-"))
            .filter_map(|e| std::fs::read_dir(e.path().join("parts")).ok())
            .flat_map(|d| d.flatten())
            .filter(|p| !p.file_name().to_string_lossy().starts_with('.'))
            .count()
    };
    let started = std::time::Instant::now();
    while parts_done() < 2 && started.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let done = parts_done();
    assert!((2..5).contains(&done), "killed after {done} of 5 documents");
    assert!(!out.exists(), "nothing reaches --out before the run ends");

    let output = stance(&["run", "--manifest", "seeds/manifest.csv", "--out", out.to_str().unwrap(), "--resume"]);
    assert_ok(&output);
    let said = text(&output.stderr);
    assert!(said.contains("resuming the interrupted run"), "{said}");
    assert!(said.contains(&format!("{done} documents were taken from the interrupted run")), "{said}");
    assert_eq!(result_files(&out), result_files(single), "a resumed run differs from an uninterrupted one");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["resumed_documents"], done);
    assert!(!out.join("parts").exists(), "parts stay out of a single run's result");

    // Without --resume a killed run's folder is removed and named; with other settings it is
    // not reused.
    let leftover = dir.path().join(".out.stance-staging-0-x");
    std::fs::create_dir_all(leftover.join("parts")).unwrap();
    let output = stance(&["run", "--manifest", "seeds/manifest.csv", "--out", out.to_str().unwrap()]);
    assert_ok(&output);
    assert!(text(&output.stderr).contains("the staging folder of an interrupted run (--resume would have continued it)"));
    assert!(!leftover.exists());
    std::fs::create_dir_all(leftover.join("parts")).unwrap();
    std::fs::write(leftover.join("parts/.fingerprint.json"), r#"{"sha256": "other"}"#).unwrap();
    let output = stance(&["run", "--manifest", "seeds/manifest.csv", "--out", out.to_str().unwrap(), "--resume"]);
    assert_ok(&output);
    assert!(text(&output.stderr).contains("used other models or settings"), "{}", text(&output.stderr));
    assert_eq!(result_files(&out), result_files(single));
}

#[test]
fn a_jsonl_corpus_runs_like_a_manifest_and_its_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.jsonl");
    let record = |id: &str, text: &str, group: &str| {
        serde_json::json!({"ID": id, "body": text, "src": "Outlet", "rating": group, "headline": format!("Headline {id}")}).to_string()
    };
    std::fs::write(
        &corpus,
        [
            record("a", "Japan should build up its defences. The weather was mild.", "left"),
            record("b", "Japan's rearmament is a grave danger to the region.", "right"),
        ]
        .join("\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let fields =
        ["--field", "id=ID", "--field", "text=body", "--field", "outlet=src", "--field", "group=rating", "--field", "title=headline"];
    let mut args = vec!["run", "--corpus", corpus.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(fields);
    assert_ok(&stance(&args));
    // A tagging sheet drawn from a JSONL run carries each document's title from run.json.
    let sheet = dir.path().join("sheet.csv");
    assert_ok(&stance(&["sample", "--run", out.to_str().unwrap(), "--n", "3", "--out", sheet.to_str().unwrap()]));
    let drawn = read_csv(&sheet);
    assert!(!drawn.is_empty() && drawn.iter().all(|r| r["title"] == format!("Headline {}", r["doc_id"])), "{drawn:?}");
    let rows = read_csv(&out.join("sentences.csv"));
    assert_eq!(
        rows.iter().map(|r| (r["doc_id"].as_str(), r["group"].as_str())).collect::<Vec<_>>(),
        [("a", "left"), ("a", "left"), ("b", "right")]
    );
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!((run["documents"][1]["line"].as_u64(), run["corpus"]["format"].as_str()), (Some(2), Some("jsonl")));

    std::fs::write(&corpus, record("a", "Text.", "left") + "\n{\"ID\": \"b\", \"body\": true, \"src\": \"O\", \"rating\": \"left\"}\n")
        .unwrap();
    assert_one_line_error(&stance(&args), "c.jsonl: line 2: field 'body' is not a string");
    let output = stance(&["run", "--corpus", corpus.to_str().unwrap(), "--out", out.to_str().unwrap(), "--field", "colour=x"]);
    assert_one_line_error(&output, "--field 'colour': not a document property");
}

#[test]
fn average_writes_a_model_that_classify_reads_and_refuses_unlike_models_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("soup");
    let out_arg = out.to_str().unwrap();
    // Unlike models (another pooling): one line naming the file, non-zero, nothing written.
    let refused = stance(&["average", "--out", out_arg, "models/stance-minilm-v6", "models/stance-minilm-vast"]);
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("models/stance-minilm-vast/config.json"), "{err}");
    assert!(!out.exists());
    // Writing the mean over one of its ingredients is refused before anything is read.
    let over = stance(&["average", "--out", "models/stance-minilm-v6", "models/stance-minilm-v5", "models/stance-minilm-v6"]);
    assert!(!over.status.success() && text(&over.stderr).contains("is the --out folder too"));

    let same = stance(&["average", "--out", out_arg, "models/stance-minilm-v6", "models/stance-minilm-v6"]);
    assert_ok(&same);
    assert!(text(&same.stderr).contains("given more than once"), "no warning: {}", text(&same.stderr));
    let sentence = "Japan's rearmament is a reckless gamble that endangers the whole region.\n";
    let shipped = stance_with_stdin(&["classify", "--model", "models/stance-minilm-v6"], sentence);
    let averaged = stance_with_stdin(&["classify", "--model", out_arg], sentence);
    assert_ok(&averaged);
    assert_eq!(text(&averaged.stdout), text(&shipped.stdout), "a model averaged with itself labels differently");
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    // Issue 31 item 2: each of these destroyed an input and exited 0.
    let (_, single, _) = seed_runs();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    for entry in std::fs::read_dir(single).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, run.join(path.file_name().unwrap())).unwrap();
        }
    }
    let gold = dir.path().join("gold.csv");
    std::fs::copy(root().join("eval/gold/seeds.csv"), &gold).unwrap();
    let retag = dir.path().join("retag.csv");
    std::fs::copy(root().join("eval/gold/retag-d.csv"), &retag).unwrap();
    let (gold_s, retag_s) = (gold.to_str().unwrap(), retag.to_str().unwrap());
    let sentences = run.join("sentences.csv");
    let sentences_s = sentences.to_str().unwrap();
    let run_s = run.to_str().unwrap();
    let before = |p: &Path| std::fs::read(p).unwrap();
    let kept = [(gold.clone(), before(&gold)), (retag.clone(), before(&retag)), (sentences.clone(), before(&sentences))];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["eval", "--gold", gold_s, "--pred", sentences_s, "--out", gold_s], gold_s),
        (vec!["eval", "--gold", gold_s, "--pred", sentences_s, "--out", sentences_s], sentences_s),
        (vec!["sample", "--run", run_s, "--n", "3", "--exclude", gold_s, "--out", gold_s], gold_s),
        (vec!["sample", "--run", run_s, "--n", "3", "--out", sentences_s], "sentences.csv"),
        (vec!["agree", gold_s, retag_s, "--adjudicate", retag_s], retag_s),
        (vec!["agree", gold_s, retag_s, "--out", gold_s], gold_s),
        (vec!["report", run_s, "--out", sentences_s], "sentences.csv"),
        (vec!["merge", "--out", run_s, run_s], run_s),
    ];
    for (args, input) in &cases {
        let output = stance(args);
        assert_one_line_error(&output, "is also an input");
        assert!(text(&output.stderr).contains(input), "{args:?}: {}", text(&output.stderr));
    }
    for (path, bytes) in &kept {
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "{} was changed", path.display());
    }
}

#[test]
fn report_refuses_a_damaged_run_folder_naming_the_cell() {
    // Issue 31 item 9: a damaged probability dropped its sentence, a damaged eval.csv printed
    // blank figures, both with exit 0.
    let (_, out, _) = seed_runs();
    let dir = tempfile::tempdir().unwrap();
    let copy_run = || {
        let copy = dir.path().join("run");
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(copy.join("cleaned")).unwrap();
        for sub in ["", "cleaned"] {
            for entry in std::fs::read_dir(out.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    std::fs::copy(&path, copy.join(sub).join(path.file_name().unwrap())).unwrap();
                }
            }
        }
        copy
    };
    let edit = |path: &Path, from: &str, to: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{from} not in {}", path.display());
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    };
    let copy = copy_run();
    assert_ok(&stance(&["report", copy.to_str().unwrap()]));
    // The second record's p_favor (its line is the file's third; stance,p_favor follow the text).
    let rows = read_csv(&copy.join("sentences.csv"));
    let cell = format!(",{},{},", rows[1]["stance"], rows[1]["p_favor"]);
    let text = std::fs::read_to_string(copy.join("sentences.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert!(lines[2].contains(&cell), "{}", lines[2]);
    lines[2] = lines[2].replacen(&cell, &format!(",{},-5,", rows[1]["stance"]), 1);
    std::fs::write(copy.join("sentences.csv"), lines.join("\n") + "\n").unwrap();
    assert_one_line_error(&stance(&["report", copy.to_str().unwrap()]), "sentences.csv: record 2: p_favor '-5' is not a probability");
    let copy = copy_run();
    std::fs::write(copy.join("eval.csv"), "task,metric,label,predicted,value\nstance,macro_f1,,,zero point five\n").unwrap();
    assert_one_line_error(&stance(&["report", copy.to_str().unwrap()]), "eval.csv: record 1: value 'zero point five' is not a number");
    let copy = copy_run();
    edit(&copy.join("profiles.csv"), "\ngroup,academic,1,", "\ngroup,academic,one,");
    assert_one_line_error(&stance(&["report", copy.to_str().unwrap()]), "profiles.csv: group 'academic': n_documents 'one' is not a count");
}

#[test]
fn a_run_on_sentence_is_labelled_from_its_first_8_kib_and_counted() {
    // Issue 31 item 15: a 0.4-1 MB "sentence" took minutes (the tokenizer's cost grows faster
    // than its length); the models read its first 8 KiB, and run.json counts it.
    let dir = tempfile::tempdir().unwrap();
    let words = ["defence", "budget", "Japan", "rose", "and", "the", "cabinet", "said"];
    let long: String = (0..60_000).map(|i| words[i % words.len()]).collect::<Vec<_>>().join(" ");
    std::fs::write(dir.path().join("long.txt"), format!("Tokyo raised its defence budget.\n\n{long}.\n")).unwrap();
    std::fs::write(dir.path().join("m.csv"), "doc_id,path,outlet,group\nlong,long.txt,O,G\n").unwrap();
    let out = dir.path().join("out");
    assert_ok(&stance(&["run", "--manifest", dir.path().join("m.csv").to_str().unwrap(), "--out", out.to_str().unwrap()]));
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["counts"]["sentences"], 2);
    assert_eq!(run["counts"]["sentences_cut_for_the_model"], 1);
    let rows = read_csv(&out.join("sentences.csv"));
    assert!(rows[1]["text"].len() > 300_000, "the sentence itself is kept whole in sentences.csv");
}

#[test]
fn usage_errors_are_one_line_and_a_sample_of_nothing_writes_nothing() {
    // Issue 31, "also decide": usage errors exited 2 with a usage block; README promises one
    // line and exit 1 for every error.
    let output = stance(&["run", "--bogus"]);
    assert_eq!(output.status.code(), Some(1));
    assert_one_line_error(
        &output,
        "unexpected argument '--bogus' found; tip: a similar argument exists: '--corpus' (--help lists the options)",
    );
    assert_one_line_error(&stance(&["train"]), "the following required arguments were not provided: --data <FILE>; --out <DIR> (--help");
    assert!(stance(&["--help"]).status.success(), "help is not an error");
    // A sample that selects nothing is an error, not a header-only sheet.
    let (dir, out, _) = seed_runs();
    let sheet = dir.path().join("nothing.csv");
    let args = ["sample", "--run", out.to_str().unwrap(), "--strategy", "documents", "--focus", "zzqqxx", "--out", sheet.to_str().unwrap()];
    assert_one_line_error(&stance(&args), "no sentence fits --strategy documents with these options");
    assert!(!sheet.exists());
}

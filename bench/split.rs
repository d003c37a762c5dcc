//! Sentence splitting speed on realistic text: the seed corpus, cleaned, repeated to about
//! 2 MB; `stance`'s RuleSplitter side by side with unicode-segmentation's UAX #29 sentence
//! bounds on the same text. One core (criterion runs single-threaded).
//!
//! Run: `cargo bench --bench split` (throughput is printed as MiB/s).
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use stance_core::text::clean::{Cleaner, LineRules};
use stance_core::text::split::{RuleSplitter, SentenceSplitter};
use unicode_segmentation::UnicodeSegmentation;

fn corpus() -> String {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut one = String::new();
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "txt") {
            one.push_str(&LineRules::for_path(&path).clean(&std::fs::read_to_string(&path).unwrap()).text);
            one.push_str("\n\n");
        }
    }
    one.repeat((2_000_000 / one.len()).max(1))
}

fn bench(c: &mut Criterion) {
    let text = corpus();
    let mut group = c.benchmark_group("split");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("stance RuleSplitter", |b| b.iter(|| RuleSplitter.split(black_box(&text)).len()));
    group.bench_function("unicode-segmentation sentence bounds", |b| b.iter(|| black_box(&text).split_sentence_bound_indices().count()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The workspace's arrows run one way — the binary → stance-report / stance-model →
//! stance-core — and no crate's modules (top-level or nested, file by file) import each other
//! in a loop. Read from the sources, so a stray `use`
//! fails here rather than in a review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its `#[cfg(test)]` tail (tests may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("#[cfg(test)]").next().unwrap().to_string()
}

/// Top-level module → the top-level modules of the same crate it names through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(src).unwrap().components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module =
            file.strip_prefix(src).unwrap().components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if !modules.contains(&module) {
            continue;
        }
        let text = code(file);
        let names = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if modules.contains(&name) && name != module {
                names.insert(name);
            }
        }
    }
    graph
}

/// A source file's module path: `data/corpus.rs` → `data::corpus`, `data/mod.rs` → `data`.
fn module_path(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().to_string()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
        parts.pop();
    }
    parts.join("::")
}

/// Every module (one per file) → the other modules of the crate it names, through `crate::a::b`
/// or `super::x` (resolved to the longest module path that exists).
fn file_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_path(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_path(src, file);
        let parent = module.rsplit_once("::").map_or(String::new(), |(p, _)| p.to_string());
        let text = code(file);
        let names = graph.entry(module.clone()).or_default();
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            for (i, _) in text.match_indices(prefix) {
                // `crate::` inside `$crate::` or a longer path is not this crate's root.
                if prefix == "super::" && text[..i].ends_with("super::") {
                    continue;
                }
                let path: String = text[i + prefix.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                let mut segments: Vec<&str> = if base.is_empty() { Vec::new() } else { base.split("::").collect() };
                segments.extend(path.split("::").filter(|s| !s.is_empty()));
                // The longest prefix of the path that is a module.
                let target = (1..=segments.len()).rev().map(|n| segments[..n].join("::")).find(|m| modules.contains(m));
                if let Some(target) = target {
                    // A module naming its own parent's items (`super::Item` re-exported) is no loop.
                    if target != module && !module.starts_with(&format!("{target}::")) {
                        names.insert(target);
                    }
                }
            }
        }
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == next).unwrap();
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, state, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    graph.keys().find_map(|node| if state.contains_key(node) { None } else { visit(node, graph, &mut state, &mut Vec::new()) })
}

#[test]
fn no_crate_has_an_import_loop() {
    for src in ["crates/stance-core/src", "crates/stance-model/src", "crates/stance-report/src", "src"] {
        let graph = module_graph(&root().join(src));
        assert!(graph.len() >= 3, "{src}: modules not found");
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{src}: modules import each other in a loop: {}", cycle.join(" → "));
        }
        let files = file_graph(&root().join(src));
        assert!(files.len() > graph.len(), "{src}: files not found");
        if let Some(cycle) = find_cycle(&files) {
            panic!("{src}: files import each other in a loop: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_file_graph_resolves_paths_to_files() {
    let core = file_graph(&root().join("crates/stance-core/src"));
    // `use crate::data::manifest::{…}` in data/corpus.rs, `use crate::{Error, …}` resolves to nothing.
    assert!(core["data::corpus"].contains("data::manifest"), "{:?}", core["data::corpus"]);
    assert!(!core["data::manifest"].contains("data::corpus"), "the core's old loop is back");
    assert!(core.values().all(|names| !names.contains("")), "the crate root is not a module here");
}

#[test]
fn the_cycle_finder_finds_a_loop() {
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn arrows_run_from_the_binary_to_the_model_to_the_core() {
    // (crate sources, names they must never use)
    let rules: [(&str, &[&str]); 3] = [
        ("crates/stance-core", &["tch::", "rust_bert", "stance_model", "stance_report", "anyhow", "indicatif", "clap::Parser"]),
        ("crates/stance-model", &["anyhow", "stance::", "stance_report", "clap::Parser", "indicatif"]),
        // Presentation knows the core's records, never the model: its tests need no libtorch.
        ("crates/stance-report", &["tch::", "rust_bert", "stance_model", "stance::", "clap::Parser", "indicatif"]),
    ];
    for (krate, banned) in rules {
        let mut files = Vec::new();
        rust_files(&root().join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for name in banned {
                assert!(!text.contains(name), "{} uses {name}: the arrows run binary → model → core", file.display());
            }
        }
        let manifest = std::fs::read_to_string(root().join(krate).join("Cargo.toml")).unwrap();
        let dependencies = manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap();
        for name in ["anyhow", "indicatif"].into_iter().filter(|_| !krate.ends_with("report")) {
            let named = [" ", ".", "="].iter().any(|end| dependencies.contains(&format!("\n{name}{end}")));
            assert!(!named, "{krate} depends on {name}");
        }
        if krate.ends_with("core") || krate.ends_with("report") {
            for name in ["tch", "rust-bert", "stance-model"] {
                let named = [" ", ".", "="].iter().any(|end| dependencies.contains(&format!("\n{name}{end}")));
                assert!(!named, "{krate} depends on {name}: it must build without libtorch");
            }
        }
    }
}

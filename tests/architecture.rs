//! The workspace's arrows run one way — the binary → stance-model → stance-core — and no
//! crate's modules import each other in a loop. Read from the sources, so a stray `use`
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
    for src in ["crates/stance-core/src", "crates/stance-model/src", "src"] {
        let graph = module_graph(&root().join(src));
        assert!(graph.len() >= 3, "{src}: modules not found");
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{src}: modules import each other in a loop: {}", cycle.join(" → "));
        }
    }
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
    let rules: [(&str, &[&str]); 2] = [
        ("crates/stance-core", &["tch::", "rust_bert", "stance_model", "anyhow", "indicatif", "clap::Parser"]),
        ("crates/stance-model", &["anyhow", "stance::", "clap::Parser", "indicatif"]),
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
        for name in ["anyhow", "indicatif"] {
            assert!(!dependencies.contains(&format!("\n{name} ")), "{krate} depends on {name}");
        }
        if krate.ends_with("core") {
            for name in ["tch", "rust-bert", "stance-model"] {
                assert!(!dependencies.contains(&format!("\n{name} ")), "{krate} depends on {name}: it must build without libtorch");
            }
        }
    }
}

//! Embeds libtorch's library folder as an rpath, so this crate's tests run without
//! LD_LIBRARY_PATH, and records the libtorch and dependency versions for run.json.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=../../Cargo.lock");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..");
    let libtorch = std::env::var("LIBTORCH").map(PathBuf::from).unwrap_or_else(|_| root.join(".libtorch"));
    let libtorch = if libtorch.is_relative() { root.join(libtorch) } else { libtorch };
    // The real path: the link inside the clone may be re-pointed, the cache stays put.
    let libtorch = libtorch.canonicalize().unwrap_or(libtorch);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", libtorch.join("lib").display());

    let version = std::fs::read_to_string(libtorch.join("version.py"))
        .ok()
        .and_then(|text| text.lines().find_map(|l| l.strip_prefix("__version__ = ").map(|v| v.trim_matches(['\'', '"']).to_string())))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=STANCE_LIBTORCH_VERSION={version}");

    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    for (krate, var) in [("rust-bert", "STANCE_RUST_BERT_VERSION"), ("tch", "STANCE_TCH_VERSION")] {
        println!("cargo:rustc-env={var}={}", locked_version(&lock, krate).unwrap_or("unknown"));
    }
}

fn locked_version<'a>(lock: &'a str, krate: &str) -> Option<&'a str> {
    let needle = format!("name = \"{krate}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    lock[start..].split('"').next()
}

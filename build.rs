//! Embeds libtorch's library folder as an rpath, so `stance` and its tests run without
//! LD_LIBRARY_PATH. (The versions run.json records come from stance-model's build script.)
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let libtorch = std::env::var("LIBTORCH").map(PathBuf::from).unwrap_or_else(|_| manifest_dir.join(".libtorch"));
    let libtorch = if libtorch.is_relative() { manifest_dir.join(libtorch) } else { libtorch };
    // The real path: the link inside the clone may be re-pointed, the cache stays put.
    let libtorch = libtorch.canonicalize().unwrap_or(libtorch);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", libtorch.join("lib").display());
    // torch's pip wheel loads the NVIDIA runtime libraries from its sibling folders.
    for sub in ["nvidia/cuda_runtime/lib", "nvidia/cuda_cupti/lib"] {
        if let Some(site) = libtorch.parent() {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", site.join(sub).display());
        }
    }
}

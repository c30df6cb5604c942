//! Architecture rules that code review would otherwise have to remember: every source file
//! says what it owns, the model never imports the wire layer, and the shared library names no
//! runtime, transport or storage crate.

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let root = workspace_root();
    let mut files = Vec::new();
    for crate_dir in [
        "xds",
        "proto",
        "profiles",
        "registry",
        "repository",
        "conformance",
    ] {
        for sub in ["src", "tests", "benches"] {
            let dir = root.join(crate_dir).join(sub);
            if dir.is_dir() {
                rust_files(&dir, &mut files);
            }
        }
    }
    assert!(files.len() > 20);
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            !std::fs::read_to_string(path)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|path| path.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! header: {missing:?}"
    );
}

#[test]
fn the_model_never_imports_the_wire_layer() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model"),
        &mut files,
    );
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text
            .lines()
            .filter(|line| line.trim_start().starts_with("use "))
        {
            assert!(!line.contains("wire"), "{}: {line}", path.display());
        }
    }
}

#[test]
fn the_shared_library_names_no_runtime_transport_or_storage_crate() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let net = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("net");
    for path in files {
        // `net` is the feature-gated HTTP glue: the one place allowed to name tokio and hyper.
        if path.starts_with(&net) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for forbidden in ["tokio", "hyper", "tonic", "rustls", "rocksdb"] {
            let used = text.lines().any(|line| {
                let line = line.trim_start();
                !line.starts_with("//")
                    && (line.contains(&format!("{forbidden}::"))
                        || line.contains(&format!("use {forbidden}")))
            });
            assert!(!used, "{} names {forbidden}", path.display());
        }
    }
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    // Runtime and transport crates only as optional dependencies (feature `net`).
    for line in dependencies.lines() {
        for forbidden in ["tokio", "hyper", "tonic", "rustls", "rocksdb"] {
            assert!(
                !line.contains(forbidden) || line.contains("optional = true"),
                "xds depends on {forbidden} unconditionally: {line}"
            );
        }
    }
    // rustls and x509-parser come with `net` (style.md §2: the listeners' TLS, peer identity).
    for forbidden in ["tonic", "rocksdb"] {
        assert!(
            !dependencies.contains(forbidden),
            "xds depends on {forbidden}"
        );
    }
}

#[test]
fn only_the_wire_layer_names_quick_xml_among_product_crates() {
    let root = workspace_root();
    for crate_dir in ["xds", "proto", "profiles", "registry", "repository"] {
        let mut files = Vec::new();
        let dir = root.join(crate_dir).join("src");
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        for path in files {
            let relative = path.strip_prefix(&root).unwrap().display().to_string();
            if relative.starts_with("xds/src/wire/") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains("quick_xml"), "{relative} names quick_xml");
        }
    }
}

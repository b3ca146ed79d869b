//! The arrows between the layers (DESIGN.md) are crate dependencies, which
//! the compiler enforces; these tests keep the manifests saying what
//! DESIGN.md says, and keep two promises no compiler checks: the plugin
//! crate names no provider, and the provider never looks an attribute up
//! by its name (typed models do that, once).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The names listed in one `[section]` of a Cargo.toml.
fn section(manifest: &Path, name: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut inside = false;
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == format!("[{name}]");
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            if let Some((key, _)) = line.split_once('=') {
                names.insert(key.trim().to_string());
            }
        }
    }
    names
}

/// Our own crates among `names`.
fn ours(names: BTreeSet<String>) -> Vec<String> {
    let own = ["tfplugin", "nicsrs", "nicsrs-sandbox"];
    names
        .into_iter()
        .filter(|n| own.contains(&n.as_str()))
        .collect()
}

fn crate_manifest(name: &str) -> PathBuf {
    root().join("crates").join(name).join("Cargo.toml")
}

#[test]
fn the_crates_depend_on_each_other_as_design_md_draws_them() {
    let table: [(PathBuf, &str, &[&str]); 7] = [
        (crate_manifest("tfplugin"), "dependencies", &[]),
        (crate_manifest("tfplugin"), "dev-dependencies", &[]),
        (crate_manifest("nicsrs"), "dependencies", &[]),
        (
            crate_manifest("nicsrs-sandbox"),
            "dependencies",
            &["nicsrs"],
        ),
        (
            root().join("Cargo.toml"),
            "dependencies",
            &["nicsrs", "tfplugin"],
        ),
        // The sandbox serves the provider's tests, never its binary.
        (
            root().join("Cargo.toml"),
            "dev-dependencies",
            &["nicsrs-sandbox"],
        ),
        (crate_manifest("nicsrs"), "dev-dependencies", &[]),
    ];
    for (manifest, kind, expected) in table {
        assert_eq!(
            ours(section(&manifest, kind)),
            expected,
            "{} [{kind}]",
            manifest.display()
        );
    }
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                files.push((path, text));
            }
        }
    }
    assert!(!files.is_empty(), "no sources in {}", dir.display());
    files
}

#[test]
fn the_plugin_crate_names_no_provider() {
    for (file, text) in sources(&root().join("crates/tfplugin/src")) {
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.to_ascii_lowercase().contains("nicsrs"),
                "{}:{}: the plugin crate takes the provider's name from `Provider::about`: {line}",
                file.display(),
                n + 1
            );
        }
    }
}

#[test]
fn the_provider_never_looks_an_attribute_up_by_its_name() {
    for (file, text) in sources(&root().join("src/provider")) {
        for needle in [".get(\"", ".set(\"", ".get_mut(\""] {
            assert!(
                !text.contains(needle),
                "{} uses {needle}…): read the typed model's field instead (src/provider/models.rs)",
                file.display()
            );
        }
    }
}

//! The arrows between the rooms (DESIGN.md): `plugin` imports nothing of
//! ours, `nicsrs` knows nothing of Terraform or the sandbox, and the sandbox
//! shares only the API client's wire vocabulary. Unit tests are exempt.

use std::path::Path;

fn sources(room: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(room);
    let mut files = Vec::new();
    collect_sources(&dir, &mut files);
    assert!(!files.is_empty(), "no sources in {room}");
    files
}

/// Every `.rs` file below `dir`, without its unit tests: a `mod tests`
/// section, or a whole file named `tests.rs` or `*_tests.rs` (the client's
/// tests run against the sandbox).
fn collect_sources(dir: &Path, files: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_sources(&path, files);
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.extension().is_some_and(|e| e == "rs")
            && stem != "tests"
            && !stem.ends_with("_tests")
        {
            let text = std::fs::read_to_string(&path).expect("source");
            let text = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default()
                .to_string();
            files.push((path.display().to_string(), text));
        }
    }
}

#[track_caller]
fn assert_room_avoids(room: &str, forbidden: &[&str]) {
    for (file, text) in sources(room) {
        for needle in forbidden {
            assert!(
                !text.contains(needle),
                "{file} uses {needle}: the arrows of DESIGN.md forbid it"
            );
        }
    }
}

#[test]
fn plugin_imports_nothing_of_ours() {
    assert_room_avoids(
        "plugin",
        &["crate::provider", "crate::nicsrs", "crate::sandbox"],
    );
}

#[test]
fn the_api_client_knows_nothing_of_terraform_or_the_sandbox() {
    assert_room_avoids(
        "nicsrs",
        &[
            "crate::plugin",
            "crate::provider",
            "crate::sandbox",
            "tonic::",
        ],
    );
}

#[test]
fn the_sandbox_shares_only_the_api_vocabulary() {
    assert_room_avoids("sandbox", &["crate::plugin", "crate::provider"]);
}

//! Every example passes `terraform validate` against the provider built for
//! the tests, and every Terraform snippet of the docs is well-formed HCL in
//! Terraform's own format (`terraform fmt -check`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{csr_pem, sorted_names, terraform_bin, Workspace, PROVIDER_REQUIREMENT};

/// Examples that use providers other than ours (no network here to install
/// them): they are checked with `terraform fmt` only.
const NEED_OTHER_PROVIDERS: &[&str] = &["dns-cname-validation/route53"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every folder below `dir` that holds a `.tf` file, relative to `examples/`.
fn example_folders(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries: Vec<PathBuf> = sorted_names(dir).iter().map(|n| dir.join(n)).collect();
    if entries
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "tf"))
    {
        found.push(
            dir.strip_prefix(root().join("examples"))
                .expect("below examples/")
                .to_path_buf(),
        );
    }
    for entry in entries.iter().filter(|p| p.is_dir()) {
        example_folders(entry, found);
    }
}

/// A workspace holding the example's files as they are; the provider
/// requirement is added when the example leaves it to the page it is shown
/// on, a data source when nothing uses the provider, and a CSR when the
/// example reads one it does not carry.
fn workspace_for(example: &Path) -> Workspace {
    let ws = Workspace::new("");
    std::fs::remove_file(ws.path().join("main.tf")).expect("remove main.tf");
    let mut text = String::new();
    for entry in std::fs::read_dir(root().join("examples").join(example)).expect("example") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let name = path.file_name().expect("name");
            // `import { identity = … }` exists from Terraform 1.12 on.
            if name == "import-by-identity.tf" && crate::common::terraform_version() < (1, 12, 0) {
                continue;
            }
            std::fs::copy(&path, ws.path().join(name)).expect("copy");
            if path.extension().is_some_and(|e| e == "tf") {
                text.push_str(&std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    if !text.contains("required_providers") {
        ws.write("providers.tf", PROVIDER_REQUIREMENT);
    }
    if !text.contains("resource \"") && !text.contains("data \"") {
        // Terraform checks a provider block only when something uses it.
        ws.write(
            "uses.tf",
            "data \"nicsrs_certificate\" \"any\" {\n  cert_id = \"1\"\n}\n",
        );
    }
    if text.contains("web.csr") && !ws.path().join("web.csr").exists() {
        ws.write("web.csr", &csr_pem(&["example.com", "www.example.com"]));
    }
    ws
}

#[test]
fn every_example_passes_terraform_validate() {
    let mut examples = Vec::new();
    example_folders(&root().join("examples"), &mut examples);
    for skipped in NEED_OTHER_PROVIDERS {
        assert!(
            examples.iter().any(|e| e == Path::new(skipped)),
            "NEED_OTHER_PROVIDERS names {skipped}, which is no example folder"
        );
    }
    let mut validated = 0;
    for example in &examples {
        let ws = workspace_for(example);
        let main = std::fs::read_to_string(ws.path().join("main.tf")).unwrap_or_default();
        if main.contains("required_version = \">= 1.4\"")
            && crate::common::terraform_version() < (1, 4, 0)
        {
            // Too old for the example: Terraform must say so, nothing else.
            let run = ws.terraform(&["validate"]).failure();
            assert!(
                run.output().contains("Unsupported Terraform Core version"),
                "{}",
                run.output()
            );
            continue;
        }
        let run = if NEED_OTHER_PROVIDERS.iter().any(|s| example == Path::new(s)) {
            ws.terraform(&["fmt", "-check", "-diff"])
        } else {
            validated += 1;
            ws.terraform(&["validate"])
        };
        assert_eq!(
            run.code,
            Some(0),
            "examples/{} fails:\n{}",
            example.display(),
            run.output()
        );
    }
    assert!(
        validated >= 7,
        "the registry examples and the runnable ones: {examples:?}"
    );
}

/// The ```terraform and ```hcl blocks of a Markdown text.
fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            None if line == "```terraform" || line == "```hcl" => current = Some(String::new()),
            None => {}
            Some(_) if line == "```" => blocks.push(current.take().expect("open block")),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

#[test]
fn every_terraform_snippet_of_the_docs_is_formatted_hcl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pages = vec![root().join("README.md")];
    for folder in [
        "docs",
        "docs/guides",
        "docs/resources",
        "docs/data-sources",
        "examples/dns-cname-validation",
    ] {
        for entry in std::fs::read_dir(root().join(folder)).expect("folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    let mut count = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("page");
        let stem = page.file_stem().expect("name").to_string_lossy();
        for (i, block) in code_blocks(&text).into_iter().enumerate() {
            std::fs::write(dir.path().join(format!("{stem}-{i}.tf")), block).expect("write");
            count += 1;
        }
    }
    assert!(count >= 15, "found only {count} snippets in {pages:?}");
    let output = Command::new(terraform_bin())
        .args(["fmt", "-check", "-diff", "-no-color"])
        .current_dir(dir.path())
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform fmt");
    assert!(
        output.status.success(),
        "snippets that are not HCL in `terraform fmt` form (file = page-index of the block):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

//! `docs/` is rendered from the schemas (descriptions, types, modes) plus
//! the examples; this test fails when they drift apart. Refresh with
//! `UPDATE_DOCS=1 cargo test --test e2e docs`.

use std::fmt::Write as _;
use std::path::Path;

use nicsrs_provider::plugin::{Block, Mode, Nesting, Provider, Schema, Type};
use nicsrs_provider::provider::NicsrsProvider;

fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
    }
}

fn render_block(out: &mut String, block: &Block, heading: &str) {
    let groups = [
        ("Required", vec![Mode::Required]),
        ("Optional", vec![Mode::Optional, Mode::OptionalComputed]),
        ("Read-Only", vec![Mode::Computed]),
    ];
    for (title, modes) in groups {
        let mut lines = Vec::new();
        for a in block.attributes.iter().filter(|a| modes.contains(&a.mode)) {
            let mut notes = type_name(&a.ty);
            if a.sensitive {
                notes.push_str(", Sensitive");
            }
            if a.requires_replace {
                notes.push_str(", Forces replacement");
            }
            lines.push(format!("- `{}` ({notes}) {}", a.name, a.description));
        }
        for b in &block.blocks {
            let required = b.min_items > 0;
            if (title == "Required") != required || title == "Read-Only" {
                continue;
            }
            let kind = match b.nesting {
                Nesting::Single => "Block",
                Nesting::List => "Block List",
            };
            let replace = if b.requires_replace {
                ", Forces replacement"
            } else {
                ""
            };
            lines.push(format!(
                "- `{}` ({kind}{replace}) {} See [below](#nested-{}).",
                b.name, b.block.description, b.name
            ));
        }
        if !lines.is_empty() {
            let _ = writeln!(out, "\n{heading} {title}\n\n{}", lines.join("\n"));
        }
    }
    for b in &block.blocks {
        let _ = writeln!(
            out,
            "\n<a id=\"nested-{}\"></a>\n{heading} Nested Schema for `{}`",
            b.name, b.name
        );
        render_block(out, &b.block, heading);
    }
}

fn page(title: &str, kind: &str, schema: &Schema, example: &str) -> String {
    let mut out = format!("# {title} ({kind})\n\n{}\n", schema.block.description);
    if !example.is_empty() {
        let _ = writeln!(
            out,
            "\n## Example Usage\n\n```hcl\n{}\n```",
            example.trim_end()
        );
    }
    out.push_str("\n## Schema\n");
    render_block(&mut out, &schema.block, "###");
    out
}

fn example(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check(path: &str, rendered: &str, stale: &mut Vec<String>) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(file.parent().expect("folder")).expect("docs folder");
        std::fs::write(&file, rendered).expect("write docs");
    } else if std::fs::read_to_string(&file).ok().as_deref() != Some(rendered) {
        stale.push(path.to_string());
    }
}

#[test]
fn docs_match_the_schemas() {
    let provider = NicsrsProvider::new();
    let mut stale = Vec::new();
    check(
        "docs/index.md",
        &page(
            "nicsrs",
            "Provider",
            &provider.schema(),
            &example("examples/quickstart/main.tf"),
        ),
        &mut stale,
    );
    let resource_examples = [
        (
            "nicsrs_certificate_renewal",
            "examples/certificate_renewal/main.tf",
        ),
        (
            "nicsrs_certificate_validation",
            "examples/dns-cname-validation/route53/main.tf",
        ),
    ];
    for resource in provider.resources() {
        let name = resource.type_name();
        let example_path = resource_examples
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
            .expect("an example");
        check(
            &format!("docs/resources/{}.md", name.trim_start_matches("nicsrs_")),
            &page(name, "Resource", &resource.schema(), &example(example_path)),
            &mut stale,
        );
    }
    for data_source in provider.data_sources() {
        let name = data_source.type_name();
        check(
            &format!(
                "docs/data-sources/{}.md",
                name.trim_start_matches("nicsrs_")
            ),
            &page(
                name,
                "Data Source",
                &data_source.schema(),
                &example("examples/dns-cname-validation/sandbox/main.tf"),
            ),
            &mut stale,
        );
    }
    // The rolling-renewal guide: the example's README and its configuration.
    let guide = format!(
        "{}\n## The complete configuration\n\n```hcl\n{}\n```\n",
        example("examples/rolling-renewal/README.md"),
        example("examples/rolling-renewal/main.tf").trim_end()
    );
    check("docs/guides/rolling-renewal.md", &guide, &mut stale);
    assert!(
        stale.is_empty(),
        "docs are out of date: {stale:?}. Run `UPDATE_DOCS=1 cargo test --test e2e docs` and commit."
    );
}

//! `docs/` is rendered from the schemas (descriptions, types, modes) plus
//! the examples, in the layout the Terraform Registry reads (tfplugindocs
//! conventions): YAML front matter, `## Example Usage` from
//! `examples/provider/provider.tf`, `examples/resources/<name>/resource.tf`
//! and `examples/data-sources/<name>/data-source.tf`, optional hand-written
//! sections from `templates/<page>.md`, `## Schema`, and `## Import` from
//! `examples/resources/<name>/import.sh` and `import-by-identity.tf`. The
//! provider's page lists the hand-written guides of `docs/guides/`, whose
//! front matter is checked.
//! This test fails when anything drifts apart. Refresh with
//! `UPDATE_DOCS=1 cargo test --test e2e docs`.

use std::fmt::Write as _;
use std::path::Path;

use tfplugin::{Block, Mode, Nesting, Provider, Schema, Type};

use crate::common::sorted_names;
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
            let accepts: Vec<&str> = a
                .validators
                .iter()
                .map(|v| v.description.as_str())
                .collect();
            let accepts = if accepts.is_empty() {
                String::new()
            } else {
                format!(" Accepts: {}", accepts.join(" "))
            };
            lines.push(format!(
                "- `{}` ({notes}) {}{accepts}",
                a.name, a.description
            ));
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

/// One page of the registry's docs: what it documents and where its parts
/// come from, in the tfplugindocs layout.
struct Page<'a> {
    /// `Provider`, `Resource` or `Data Source`.
    kind: &'a str,
    name: &'a str,
    schema: &'a Schema,
    /// `examples/provider/provider.tf`, `examples/resources/<name>/resource.tf`, ...
    example: String,
    /// `examples/resources/<name>/import.sh`, when the resource can be imported.
    import: Option<String>,
    /// `examples/resources/<name>/import-by-identity.tf`: the `import` block
    /// by resource identity (Terraform 1.12 and later).
    import_by_identity: Option<String>,
    /// Hand-written sections placed before the schema (`templates/<page>.md`).
    prose: Option<String>,
    /// Guides to list (title, link), on the provider's page.
    guides: &'a [(String, String)],
}

impl Page<'_> {
    fn render(&self) -> String {
        let description = &self.schema.block.description;
        let (page_title, heading) = if self.kind == "Provider" {
            (
                format!("{} Provider", self.name),
                format!("{} Provider", self.name),
            )
        } else {
            (
                format!("{} {} - terraform-provider-nicsrs", self.name, self.kind),
                format!("{} ({})", self.name, self.kind),
            )
        };
        let mut out = front_matter(&page_title, "", description);
        let _ = writeln!(out, "\n# {heading}\n\n{description}");
        let _ = writeln!(
            out,
            "\n## Example Usage\n\n```terraform\n{}\n```",
            self.example.trim_end()
        );
        if let Some(prose) = &self.prose {
            let _ = writeln!(out, "\n{}", prose.trim_end());
        }
        if !self.guides.is_empty() {
            out.push_str("\n## Guides\n\n");
            for (title, link) in self.guides {
                let _ = writeln!(out, "- [{title}]({link})");
            }
        }
        out.push_str("\n## Schema\n");
        render_block(&mut out, &self.schema.block, "###");
        if let Some(import) = &self.import {
            let _ = writeln!(
                out,
                "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```",
                import.trim_end()
            );
        }
        if let Some(block) = &self.import_by_identity {
            let _ = writeln!(
                out,
                "\nIn Terraform 1.12 and later, an `import` block can name the object by its resource \
                 identity instead:\n\n```terraform\n{}\n```",
                block.trim_end()
            );
        }
        out
    }
}

/// The YAML front matter the registry reads: title, subcategory, and the
/// description as a literal block.
fn front_matter(page_title: &str, subcategory: &str, description: &str) -> String {
    let indented: Vec<String> = description
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect();
    format!(
        "---\npage_title: \"{page_title}\"\nsubcategory: \"{subcategory}\"\ndescription: |-\n{}\n---\n",
        indented.join("\n")
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_if_present(path: &str) -> Option<String> {
    root().join(path).is_file().then(|| read(path))
}

/// The value of `key` in a page's front matter.
fn front_matter_value(text: &str, key: &str) -> Option<String> {
    let block = text.strip_prefix("---\n")?.split("\n---\n").next()?;
    block.lines().find_map(|l| {
        l.strip_prefix(&format!("{key}: "))
            .map(|v| v.trim_matches('"').to_string())
    })
}

/// The guides in `docs/guides/` as (title, link) for the provider's page,
/// after checking that each has the front matter the registry needs.
fn guides() -> Vec<(String, String)> {
    sorted_names(&root().join("docs/guides"))
        .into_iter()
        .filter(|n| n.ends_with(".md"))
        .map(|file| {
            let text = read(&format!("docs/guides/{file}"));
            for key in ["subcategory", "description"] {
                assert!(
                    front_matter_value(&text, key).is_some(),
                    "docs/guides/{file} has no {key} in its front matter; start it with ---, page_title, subcategory, description, ---"
                );
            }
            let title = front_matter_value(&text, "page_title").unwrap_or_else(|| {
                panic!("docs/guides/{file} has no page_title in its front matter")
            });
            (title, format!("guides/{file}"))
        })
        .collect()
}

fn check(path: &str, rendered: &str, stale: &mut Vec<String>) {
    let file = root().join(path);
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
    let guides = guides();
    let schema = provider.schema();
    let index = Page {
        kind: "Provider",
        name: "nicsrs",
        schema: &schema,
        example: read("examples/provider/provider.tf"),
        import: None,
        import_by_identity: None,
        prose: Some(read("templates/index.md")),
        guides: &guides,
    };
    check("docs/index.md", &index.render(), &mut stale);

    // (docs and examples folder, kind, example file, type name, schema)
    let mut pages = Vec::new();
    for resource in provider.resources() {
        pages.push((
            "resources",
            "Resource",
            "resource.tf",
            resource.type_name(),
            resource.schema(),
        ));
    }
    for data_source in provider.data_sources() {
        pages.push((
            "data-sources",
            "Data Source",
            "data-source.tf",
            data_source.type_name(),
            data_source.schema(),
        ));
    }
    for (folder, kind, example_file, name, schema) in &pages {
        let short = name.trim_start_matches("nicsrs_");
        let examples = format!("examples/{folder}/{name}");
        let page = Page {
            kind,
            name,
            schema,
            example: read(&format!("{examples}/{example_file}")),
            import: read_if_present(&format!("{examples}/import.sh")),
            import_by_identity: read_if_present(&format!("{examples}/import-by-identity.tf")),
            prose: read_if_present(&format!("templates/{folder}/{short}.md")),
            guides: &[],
        };
        check(
            &format!("docs/{folder}/{short}.md"),
            &page.render(),
            &mut stale,
        );
    }
    for folder in ["resources", "data-sources"] {
        for example in sorted_names(&root().join("examples").join(folder)) {
            assert!(
                pages.iter().any(|(f, _, _, name, _)| *f == folder && *name == example),
                "examples/{folder}/{example} documents nothing the provider has; rename or remove it"
            );
        }
    }
    // The rolling-renewal guide: the example's README and its configuration.
    let guide = format!(
        "{}\n{}\n## The complete configuration\n\n```hcl\n{}\n```\n",
        front_matter(
            "Rolling renewal from scheduled CI",
            "Guides",
            "Keep a certificate renewed: each scheduled apply within renew_before_days of expiry places one renewal order, publishes its DNS records and waits for the new certificate."
        ),
        read("examples/rolling-renewal/README.md"),
        read("examples/rolling-renewal/main.tf").trim_end()
    );
    check("docs/guides/rolling-renewal.md", &guide, &mut stale);
    assert!(
        stale.is_empty(),
        "docs are out of date: {stale:?}. Run `UPDATE_DOCS=1 cargo test --test e2e docs` and commit."
    );
}

//! The parts of a release this machine cannot run: the glibc check of
//! `scripts/release.sh` (on a hand-made ELF file, since the zig build is too
//! slow for the test command), and `.github/workflows/release.yml`, which
//! builds the other platforms on their own runners and must produce exactly
//! the asset names `scripts/release.sh` writes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::sorted_names;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-nicsrs");
const PLATFORMS: [&str; 4] = ["darwin_amd64", "darwin_arm64", "linux_amd64", "linux_arm64"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `python3 scripts/glibc-needed.py FILE`.
fn run_checker(file: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("scripts/glibc-needed.py"))
        .arg(file)
        .output()
        .expect("run python3 scripts/glibc-needed.py")
}

/// The newest GLIBC_ version `file` needs, as scripts/glibc-needed.py says.
pub fn glibc_needed(file: &Path) -> String {
    let output = run_checker(file);
    assert!(
        output.status.success(),
        "glibc-needed.py {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// "2.17" → [2, 17], for comparing versions as numbers.
pub fn version_numbers(text: &str) -> Vec<u32> {
    text.split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("a version: {text:?}")))
        .collect()
}

/// A minimal 64-bit little-endian ELF file for `machine` whose
/// version-needs section names `needs`: (library, [version names]).
fn elf_with_version_needs(machine: u16, needs: &[(&str, &[&str])]) -> Vec<u8> {
    // .dynstr: every name once, offsets remembered.
    let mut strings = vec![0u8];
    let offset_of = |name: &str, strings: &mut Vec<u8>| -> u32 {
        let at = strings.len() as u32;
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        at
    };
    // .gnu.version_r: one Elf64_Verneed (16 bytes) per library, each followed
    // by its Elf64_Vernaux entries (16 bytes each).
    let mut verneed = Vec::new();
    for (i, (library, versions)) in needs.iter().enumerate() {
        let file = offset_of(library, &mut strings);
        let size = 16 + 16 * versions.len() as u32;
        let next = if i + 1 == needs.len() { 0 } else { size };
        verneed.extend_from_slice(&1u16.to_le_bytes()); // vn_version
        verneed.extend_from_slice(&(versions.len() as u16).to_le_bytes()); // vn_cnt
        verneed.extend_from_slice(&file.to_le_bytes()); // vn_file
        verneed.extend_from_slice(&16u32.to_le_bytes()); // vn_aux
        verneed.extend_from_slice(&next.to_le_bytes()); // vn_next
        for (j, version) in versions.iter().enumerate() {
            let name = offset_of(version, &mut strings);
            let next: u32 = if j + 1 == versions.len() { 0 } else { 16 };
            verneed.extend_from_slice(&0u32.to_le_bytes()); // vna_hash (unread)
            verneed.extend_from_slice(&0u16.to_le_bytes()); // vna_flags
            verneed.extend_from_slice(&(2 + j as u16).to_le_bytes()); // vna_other
            verneed.extend_from_slice(&name.to_le_bytes()); // vna_name
            verneed.extend_from_slice(&next.to_le_bytes()); // vna_next
        }
    }
    while strings.len() % 8 != 0 {
        strings.push(0);
    }
    let strings_at = 64u64;
    let verneed_at = strings_at + strings.len() as u64;
    let sections_at = verneed_at + verneed.len() as u64;

    let mut elf = Vec::new();
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01");
    elf.resize(16, 0);
    elf.extend_from_slice(&3u16.to_le_bytes()); // e_type: shared object (PIE)
    elf.extend_from_slice(&machine.to_le_bytes());
    elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_phoff
    elf.extend_from_slice(&sections_at.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for half in [64u16, 56, 0, 64, 3, 0] {
        // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
        elf.extend_from_slice(&half.to_le_bytes());
    }
    assert_eq!(elf.len(), 64);
    elf.extend_from_slice(&strings);
    elf.extend_from_slice(&verneed);
    let section = |kind: u32, offset: u64, size: u64, link: u32, info: u32| {
        let mut header = Vec::new();
        header.extend_from_slice(&0u32.to_le_bytes()); // sh_name
        header.extend_from_slice(&kind.to_le_bytes());
        header.extend_from_slice(&0u64.to_le_bytes()); // sh_flags
        header.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
        header.extend_from_slice(&offset.to_le_bytes());
        header.extend_from_slice(&size.to_le_bytes());
        header.extend_from_slice(&link.to_le_bytes());
        header.extend_from_slice(&info.to_le_bytes());
        header.extend_from_slice(&8u64.to_le_bytes()); // sh_addralign
        header.extend_from_slice(&0u64.to_le_bytes()); // sh_entsize
        header
    };
    elf.extend(section(0, 0, 0, 0, 0));
    elf.extend(section(3, strings_at, strings.len() as u64, 0, 0)); // SHT_STRTAB
    elf.extend(section(
        0x6FFF_FFFE, // SHT_GNU_VERNEED
        verneed_at,
        verneed.len() as u64,
        1,
        needs.len() as u32,
    ));
    elf
}

#[test]
fn the_glibc_check_takes_the_numerically_newest_glibc_version_of_the_version_needs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("binary");
    let write = |bytes: Vec<u8>| std::fs::write(&file, bytes).expect("write");

    // 2.17 is newer than 2.3.4 and 2.2.5 (as numbers, not as text); the
    // versions of other libraries do not count.
    let needs: &[(&str, &[&str])] = &[
        ("libgcc_s.so.1", &["GCC_3.0", "GCC_4.2.0"]),
        ("libc.so.6", &["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.3.4"]),
        ("libpthread.so.0", &["GLIBC_2.12"]),
    ];
    for machine in [62, 183] {
        write(elf_with_version_needs(machine, needs));
        assert_eq!(glibc_needed(&file), "2.17", "machine {machine}");
    }

    write(elf_with_version_needs(
        62,
        &[("libc.so.6", &["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_PRIVATE"])],
    ));
    assert_eq!(glibc_needed(&file), "2.34");

    // What it cannot judge is an error that says why, never a version.
    let refused = |expected: &str| {
        let output = run_checker(&file);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(output.stdout.is_empty());
        assert!(stderr.contains(expected), "{stderr}");
    };
    write(elf_with_version_needs(
        62,
        &[("libgcc_s.so.1", &["GCC_3.0"])],
    ));
    refused("names no GLIBC_ symbol version");
    write(elf_with_version_needs(40, needs));
    refused("ELF machine 40 is neither x86-64 (62) nor AArch64 (183)");
    write(b"#!/bin/sh\necho not an ELF file\n".to_vec());
    refused("not a 64-bit little-endian ELF file");

    // The binary cargo built for the tests, read the same way release.sh does.
    let needed = glibc_needed(Path::new(BINARY));
    assert!(
        version_numbers(&needed) >= vec![2, 2, 5],
        "glibc of the x86-64 ABI or newer: {needed}"
    );
}

/// `.github/workflows/release.yml` as JSON, through python3's yaml module
/// (PyYAML); None when that module is not installed.
fn workflow() -> Option<serde_json::Value> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys\ntry:\n    import yaml\nexcept ImportError:\n    sys.exit(3)\n\
             print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(root().join(".github/workflows/release.yml"))
        .output()
        .expect("run python3");
    if output.status.code() == Some(3) {
        return None;
    }
    assert!(
        output.status.success(),
        ".github/workflows/release.yml is not valid YAML:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("JSON"))
}

/// The `run` text of a job's steps, joined, and the step that uses `action`.
fn runs(job: &serde_json::Value) -> String {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn step_using<'a>(job: &'a serde_json::Value, action: &str) -> &'a serde_json::Value {
    job["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
        .unwrap_or_else(|| panic!("no step uses {action}: {job:#}"))
}

fn release(args: &[&str], out: &Path) -> String {
    let output = Command::new("bash")
        .arg(root().join("scripts/release.sh"))
        .arg(VERSION)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run scripts/release.sh");
    assert!(
        output.status.success(),
        "scripts/release.sh {args:?}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_release_workflow_zips_every_platform_natively_and_signs_the_checksums_of_all() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml"))
        .expect(".github/workflows/release.yml");
    let Some(workflow) = workflow() else {
        // Without PyYAML: at least the commands and every platform are there.
        for needle in [
            "--zip-only",
            "--sums-only",
            "--gpg-key",
            "scripts/release.sh",
        ]
        .iter()
        .chain(PLATFORMS.iter())
        {
            assert!(text.contains(needle), "release.yml lacks {needle}");
        }
        eprintln!("python3 has no yaml module: checked release.yml as text only");
        return;
    };

    // One zip job per platform, each on a runner of that platform.
    let zip = &workflow["jobs"]["zip"];
    let matrix = zip["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a matrix of platforms");
    let mut platforms = BTreeSet::new();
    for entry in matrix {
        let platform = entry["platform"].as_str().expect("platform");
        let runner = entry["runner"].as_str().expect("runner");
        let (os, arch) = platform.split_once('_').expect("OS_ARCH");
        let native = match (os, arch) {
            ("linux", "amd64") => runner.starts_with("ubuntu-") && !runner.ends_with("-arm"),
            ("linux", "arm64") => runner.starts_with("ubuntu-") && runner.ends_with("-arm"),
            ("darwin", "amd64") => runner.starts_with("macos-") && runner.ends_with("-intel"),
            ("darwin", "arm64") => runner.starts_with("macos-") && !runner.ends_with("-intel"),
            _ => panic!("unexpected platform {platform}"),
        };
        assert!(
            native,
            "{platform} must build on its own kind of runner, not {runner}"
        );
        assert!(platforms.insert(platform), "{platform} twice");
    }
    assert_eq!(platforms, PLATFORMS.into_iter().collect());
    assert_eq!(zip["runs-on"], "${{ matrix.runner }}");
    let build = runs(zip);
    assert!(
        build.contains(
            "scripts/release.sh \"${{ steps.version.outputs.version }}\" \
             --platform \"${{ matrix.platform }}\" --zip-only --out dist"
        ),
        "{build}"
    );
    let upload = step_using(zip, "actions/upload-artifact@");
    let uploaded = upload["with"]["path"].as_str().expect("path");
    assert_eq!(upload["with"]["name"], "zip-${{ matrix.platform }}");

    // The file each job uploads is the one release.sh writes: here for this
    // machine's platform, and by the same name rule for the others.
    let out = tempfile::tempdir().expect("temp dir");
    let stdout = release(
        &["--binary", BINARY, "--max-glibc", "2.34", "--zip-only"],
        out.path(),
    );
    let written = sorted_names(out.path());
    assert_eq!(
        written.len(),
        1,
        "--zip-only writes the zip alone: {written:?}"
    );
    assert!(stdout.contains(&format!("wrote {}", out.path().join(&written[0]).display())));
    let uploaded_as = |platform: &str| {
        uploaded
            .replace("${{ steps.version.outputs.version }}", VERSION)
            .replace("${{ matrix.platform }}", platform)
    };
    assert_eq!(uploaded_as("linux_amd64"), format!("dist/{}", written[0]));

    // The signing job gathers every zip and runs release.sh --sums-only with
    // the key: the checksums then cover the four zips and the manifest.
    let sign = &workflow["jobs"]["sign"];
    assert_eq!(sign["needs"], "zip");
    let download = step_using(sign, "actions/download-artifact@");
    assert_eq!(download["with"]["pattern"], "zip-*");
    assert_eq!(download["with"]["path"], "dist");
    assert_eq!(download["with"]["merge-multiple"], true);
    let signing = runs(sign);
    assert!(
        signing.contains("scripts/release.sh \"$version\" --sums-only --out dist --gpg-key"),
        "{signing}"
    );
    assert!(signing.contains("-eq 4"), "{signing}");
    let zip_bytes = std::fs::read(out.path().join(&written[0])).expect("zip");
    let gathered = tempfile::tempdir().expect("temp dir");
    let mut zips = Vec::new();
    for platform in PLATFORMS {
        let name = uploaded_as(platform)
            .strip_prefix("dist/")
            .expect("in dist/")
            .to_string();
        std::fs::write(gathered.path().join(&name), &zip_bytes).expect("write");
        zips.push(name);
    }
    release(&["--sums-only"], gathered.path());
    let sums = std::fs::read_to_string(
        gathered
            .path()
            .join(format!("terraform-provider-nicsrs_{VERSION}_SHA256SUMS")),
    )
    .expect("SHA256SUMS");
    let covered: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").expect("sha256sum line").1)
        .collect();
    zips.sort();
    let mut expected: Vec<String> = zips.clone();
    expected.push(format!("terraform-provider-nicsrs_{VERSION}_manifest.json"));
    assert_eq!(covered, expected, "{sums}");
    for platform in PLATFORMS {
        assert!(
            zips.contains(&format!(
                "terraform-provider-nicsrs_{VERSION}_{platform}.zip"
            )),
            "{zips:?}"
        );
    }
}

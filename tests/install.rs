//! Installing the provider the way users do: the release assets of
//! `scripts/release.sh` (made from the binary cargo built for these tests),
//! laid out as a `filesystem_mirror`, installed by `terraform init` with a
//! CLI config that has only that mirror, checked against hashes this test
//! computes itself, then applied against the sandbox.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::common::sandbox::{provider_block, Sandbox};
use crate::common::{csr_pem, renewal_block, sorted_names, Workspace};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-nicsrs");
const SOURCE: &str = "registry.terraform.io/nicsrs/nicsrs";

fn zip_name() -> String {
    format!("terraform-provider-nicsrs_{VERSION}_linux_amd64.zip")
}

fn manifest_name() -> String {
    format!("terraform-provider-nicsrs_{VERSION}_manifest.json")
}

fn sums_name() -> String {
    format!("terraform-provider-nicsrs_{VERSION}_SHA256SUMS")
}

/// The one file in the zip, as Terraform names the installed provider.
fn member_name() -> String {
    format!("terraform-provider-nicsrs_v{VERSION}")
}

/// The glibc limit for the binary cargo built for the tests: it is linked
/// against this machine's glibc, not the old one of a release build
/// (`scripts/release.sh` without `--binary`, which uses cargo-zigbuild).
const TEST_BUILD_MAX_GLIBC: &str = "2.34";

/// `scripts/release.sh VERSION --binary BINARY --out out --max-glibc 2.34 ARGS`.
fn release(out: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new("bash");
    command
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/release.sh"))
        .args([VERSION, "--binary", BINARY, "--out"])
        .arg(out)
        .args(["--max-glibc", TEST_BUILD_MAX_GLIBC])
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run scripts/release.sh")
}

#[track_caller]
fn succeeded(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "scripts/release.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Fails, and says why on stderr.
#[track_caller]
fn refused(output: Output) -> String {
    assert!(
        !output.status.success(),
        "scripts/release.sh should have refused:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Terraform's `h1:` package hash (Go's dirhash "Hash1"): SHA-256 over one
/// line "<sha256 hex>  <name>\n" per file, in name order, base64-encoded.
fn h1(files: &[(String, Vec<u8>)]) -> String {
    let mut files: Vec<&(String, Vec<u8>)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let summary: String = files
        .iter()
        .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
        .collect();
    let digest = Sha256::digest(summary.as_bytes());
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Every file below `dir`, named by its path relative to `dir` with `/`.
fn files_below(dir: &Path, prefix: &str, found: &mut Vec<(String, Vec<u8>)>) {
    for name in sorted_names(dir) {
        let path = dir.join(&name);
        let relative = format!("{prefix}{name}");
        if path.is_dir() {
            files_below(&path, &format!("{relative}/"), found);
        } else {
            found.push((relative, read(&path)));
        }
    }
}

/// One entry of a zip's central directory.
#[derive(Debug)]
struct ZipEntry {
    name: String,
    /// The "version made by" high byte: 3 is Unix.
    made_by_system: u8,
    /// The Unix mode, from the high half of the external attributes.
    unix_mode: u32,
}

/// Reads a zip's central directory (what unzippers, Go's included, go by).
fn zip_entries(archive: &[u8]) -> Vec<ZipEntry> {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([archive[at], archive[at + 1]]));
    let u32_at = |at: usize| u32::from_le_bytes(archive[at..at + 4].try_into().expect("4 bytes"));
    let end = (0..=archive.len() - 22)
        .rev()
        .find(|&at| archive[at..at + 4] == *b"PK\x05\x06")
        .expect("an end-of-central-directory record");
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16) as usize);
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(
            &archive[at..at + 4],
            b"PK\x01\x02",
            "a central directory entry"
        );
        let name_len = u16_at(at + 28);
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(&archive[at + 46..at + 46 + name_len]).into_owned(),
            made_by_system: archive[at + 5],
            unix_mode: u32_at(at + 38) >> 16,
        });
        at += 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
    }
    entries
}

/// A configuration that requires exactly this version from the registry
/// address, as a user of the published provider writes it.
fn versioned_config(body: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    nicsrs = {{\n      source  = \"nicsrs/nicsrs\"\n      version = \"{VERSION}\"\n    }}\n  }}\n}}\n\n{body}"
    )
}

/// A workspace whose CLI config installs providers only from a packed
/// filesystem mirror holding `zip` (no `direct`, no `dev_overrides`).
fn mirror_workspace(zip: &Path, body: &str) -> Workspace {
    let ws = Workspace::new("");
    ws.write("main.tf", &versioned_config(body));
    let mirror = ws.path().join("mirror");
    let packages = mirror.join(SOURCE);
    std::fs::create_dir_all(&packages).expect("mirror folder");
    std::fs::copy(zip, packages.join(zip_name())).expect("copy the zip into the mirror");
    ws.write(
        "mirror.tfrc",
        &format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{SOURCE}\"]\n  }}\n}}\n",
            mirror.display()
        ),
    );
    let cli_config = ws.path().join("mirror.tfrc").display().to_string();
    ws.env("TF_CLI_CONFIG_FILE", &cli_config)
        .env("TF_PLUGIN_CACHE_DIR", "")
}

/// The hashes recorded for our provider in `.terraform.lock.hcl`.
fn locked_hashes(ws: &Workspace) -> Vec<String> {
    let lock = String::from_utf8(read(&ws.path().join(".terraform.lock.hcl"))).expect("UTF-8");
    let block = lock
        .split(&format!("provider \"{SOURCE}\" {{"))
        .nth(1)
        .unwrap_or_else(|| panic!("no block for {SOURCE} in the lock file:\n{lock}"));
    assert!(
        block.contains(&format!("version     = \"{VERSION}\"")),
        "{lock}"
    );
    let hashes = block
        .split_once("hashes = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("no hashes in the lock file:\n{lock}"));
    hashes
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn installed_dir(ws: &Workspace) -> PathBuf {
    ws.path()
        .join(".terraform/providers")
        .join(SOURCE)
        .join(VERSION)
        .join("linux_amd64")
}

/// The zip, manifest and checksums are the registry's names and shapes.
fn check_assets(out: &Path, stdout: &str) {
    assert_eq!(
        sorted_names(out),
        [sums_name(), zip_name(), manifest_name()],
        "exactly the unsigned assets"
    );

    let entries = zip_entries(&read(&out.join(zip_name())));
    assert_eq!(entries.len(), 1, "one file in the zip: {entries:?}");
    assert_eq!(entries[0].name, member_name());
    assert_eq!(entries[0].made_by_system, 3, "Unix attributes: {entries:?}");
    assert_eq!(
        entries[0].unix_mode, 0o100755,
        "a regular file with mode 0755, or Terraform installs a provider that cannot run"
    );

    let manifest = read(&out.join(manifest_name()));
    assert_eq!(
        manifest,
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform-registry-manifest.json"))
    );
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).expect("JSON");
    let protocol = format!("{}.0", tfplugin::handshake::PROTOCOL_VERSION);
    assert_eq!(
        manifest["metadata"]["protocol_versions"],
        serde_json::json!([protocol]),
        "the manifest declares the protocol the binary speaks"
    );

    let sums = String::from_utf8(read(&out.join(sums_name()))).expect("UTF-8");
    let expected: String = [zip_name(), manifest_name()]
        .iter()
        .map(|name| format!("{}  {name}\n", sha256_hex(&read(&out.join(name)))))
        .collect();
    assert_eq!(sums, expected, "sha256sum lines with bare file names");

    let glibc = stdout
        .lines()
        .find_map(|l| l.split_once("needs GLIBC_"))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no glibc line:\n{stdout}"));
    let version = |text: &str| -> Vec<u32> {
        text.split('.')
            .map(|p| p.parse().expect("a version number"))
            .collect()
    };
    assert!(
        version(glibc) <= version(TEST_BUILD_MAX_GLIBC),
        "within the limit given: {stdout}"
    );
    // The script reads the ELF itself; binutils, when present, must agree.
    match Command::new("objdump").args(["-T", BINARY]).output() {
        Ok(dump) if dump.status.success() => {
            let text = String::from_utf8_lossy(&dump.stdout);
            let newest = text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .filter_map(|word| word.strip_prefix("GLIBC_"))
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                .max_by_key(|v| version(v))
                .expect("objdump lists GLIBC_ versions");
            assert_eq!(glibc, newest, "objdump -T disagrees");
        }
        _ => eprintln!("not comparing with objdump -T: objdump is not installed"),
    }
}

#[test]
fn the_release_installs_from_a_filesystem_mirror_with_checked_hashes_and_applies() {
    let out = tempfile::tempdir().expect("temp dir");
    let stdout = succeeded(release(out.path(), &[], &[]));
    check_assets(out.path(), &stdout);
    let zip = out.path().join(zip_name());
    let binary = read(Path::new(BINARY));
    let expected_h1 = h1(&[(member_name(), binary.clone())]);

    // `terraform init` from the mirror, then an apply against the sandbox.
    let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
    let renewal = renewal_block(
        "web",
        "1234567",
        &[("www.example.com", "CNAME_CSR_HASH")],
        "",
    );
    let ws = mirror_workspace(&zip, &format!("{}\n{renewal}", provider_block(&sandbox)));
    ws.write("web.csr", &csr_pem(&["www.example.com"]));
    let init = ws.terraform(&["init"]).success();
    assert!(
        init.output()
            .contains(&format!("Installed nicsrs/nicsrs v{VERSION}")),
        "{}",
        init.output()
    );
    let hashes = locked_hashes(&ws);
    assert!(
        hashes.contains(&expected_h1),
        "the lock file records the h1 hash of the package: expected {expected_h1} in {hashes:?}"
    );

    let installed = installed_dir(&ws);
    let mut files = Vec::new();
    files_below(&installed, "", &mut files);
    assert_eq!(
        files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [member_name()],
        "the package unpacks to the one binary"
    );
    assert!(
        files[0].1 == binary,
        "the installed binary is the build, byte for byte"
    );
    assert_eq!(h1(&files), expected_h1, "the hash of the unpacked folder");
    let installed_binary = installed.join(member_name());
    let mode = std::fs::metadata(&installed_binary)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "installed with the stored mode");
    let reported = Command::new(&installed_binary)
        .arg("--version")
        .output()
        .expect("run the installed provider");
    assert_eq!(
        String::from_utf8_lossy(&reported.stdout).trim(),
        format!("terraform-provider-nicsrs {VERSION}"),
        "the binary reports the version of its assets"
    );

    ws.terraform(&["apply", "-auto-approve"]).success();
    assert_eq!(sandbox.orders().len(), 1, "one order placed");
    ws.assert_no_changes();
}

#[test]
fn a_lock_file_with_the_published_zh_checksum_admits_the_release_and_rejects_a_tampered_zip() {
    let out = tempfile::tempdir().expect("temp dir");
    succeeded(release(out.path(), &[], &[]));
    let sums = String::from_utf8(read(&out.path().join(sums_name()))).expect("UTF-8");
    let zip_sum = sums
        .lines()
        .find_map(|l| l.strip_suffix(&format!("  {}", zip_name())))
        .unwrap_or_else(|| panic!("no line for the zip in SHA256SUMS:\n{sums}"));
    let lock = format!(
        "provider \"{SOURCE}\" {{\n  version     = \"{VERSION}\"\n  constraints = \"{VERSION}\"\n  hashes = [\n    \"zh:{zip_sum}\",\n  ]\n}}\n"
    );
    let zip = out.path().join(zip_name());

    let ws = mirror_workspace(&zip, "");
    ws.write(".terraform.lock.hcl", &lock);
    ws.terraform(&["init", "-lockfile=readonly"]).success();
    assert_eq!(
        String::from_utf8(read(&ws.path().join(".terraform.lock.hcl"))).expect("UTF-8"),
        lock,
        "a read-only lock file stays as it was"
    );
    assert!(installed_dir(&ws).join(member_name()).is_file());

    // The same lock, and a zip with one byte more: refused before unpacking.
    let mut tampered = read(&zip);
    tampered.push(0);
    std::fs::write(&zip, tampered).expect("tamper with the zip");
    let ws = mirror_workspace(&zip, "");
    ws.write(".terraform.lock.hcl", &lock);
    let run = ws.terraform(&["init", "-lockfile=readonly"]).failure();
    assert!(
        run.flat().contains(
            "doesn't match any of the checksums previously recorded in the dependency lock file"
        ),
        "{}",
        run.output()
    );
    assert!(!installed_dir(&ws).exists(), "nothing installed");
}

/// A throwaway GnuPG home, its agent stopped at the end.
struct GnupgHome(tempfile::TempDir);

impl GnupgHome {
    fn gpg(&self, args: &[&str]) -> Output {
        Command::new("gpg")
            .args(["--batch", "--no-tty"])
            .args(args)
            .env("GNUPGHOME", self.0.path())
            .output()
            .expect("run gpg")
    }

    /// A key without a passphrase, for `user` (an e-mail address).
    fn generate(&self, user: &str, algorithm: &str) {
        let output = self.gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            &format!("nicsrs release test <{user}>"),
            algorithm,
            "sign",
            "1d",
        ]);
        assert!(
            output.status.success(),
            "gpg --quick-gen-key {algorithm}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", self.0.path())
            .status();
    }
}

#[test]
fn with_an_rsa_key_the_checksums_carry_a_binary_signature_that_verifies() {
    if Command::new("gpg").arg("--version").output().is_err() {
        eprintln!("skipping the signature checks: gpg is not installed on this machine");
        return;
    }
    let home = GnupgHome(tempfile::tempdir().expect("temp dir"));
    std::fs::set_permissions(home.0.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    home.generate("rsa@example.invalid", "rsa2048");
    home.generate("ed@example.invalid", "ed25519");

    let out = tempfile::tempdir().expect("temp dir");
    let gnupg = [("GNUPGHOME", home.0.path())];
    succeeded(release(
        out.path(),
        &["--gpg-key", "rsa@example.invalid"],
        &gnupg,
    ));
    let sums = out.path().join(sums_name());
    let signature = out.path().join(format!("{}.sig", sums_name()));
    assert!(
        !read(&signature).starts_with(b"-----BEGIN"),
        "a binary signature, not ASCII armor"
    );
    let verify = |signed: &Path| {
        home.gpg(&[
            "--verify",
            &signature.display().to_string(),
            &signed.display().to_string(),
        ])
    };
    let verified = verify(&sums);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let altered = out.path().join("altered");
    let mut bytes = read(&sums);
    bytes[0] ^= 1;
    std::fs::write(&altered, bytes).expect("write");
    assert!(
        !verify(&altered).status.success(),
        "the signature covers SHA256SUMS"
    );

    // The registry refuses ECC keys: so does the script, before writing anything.
    let out = tempfile::tempdir().expect("temp dir");
    let error = refused(release(
        out.path(),
        &["--gpg-key", "ed@example.invalid"],
        &gnupg,
    ));
    assert!(
        error.contains("--gpg-key ed@example.invalid is not an RSA key"),
        "{error}"
    );
    assert!(sorted_names(out.path()).is_empty(), "no assets written");
}

#[test]
fn the_release_script_refuses_assets_that_would_not_install_or_run() {
    let out = tempfile::tempdir().expect("temp dir");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/release.sh");
    let wrong_version = Command::new("bash")
        .args([script, "9.9.9", "--binary", BINARY, "--out"])
        .arg(out.path())
        .output()
        .expect("run");
    let error = refused(wrong_version);
    assert!(
        error.contains(&format!(
            "VERSION 9.9.9 is not the version in Cargo.toml ({VERSION})"
        )),
        "{error}"
    );

    let sandbox = crate::common::sandbox_binary();
    let error = refused(release(
        out.path(),
        &["--binary", sandbox.to_str().expect("UTF-8 path")],
        &[],
    ));
    assert!(
        error.contains(&format!("not 'terraform-provider-nicsrs {VERSION}'")),
        "{error}"
    );

    let error = refused(release(out.path(), &["--max-glibc", "2.0"], &[]));
    assert!(
        error.contains("newer than --max-glibc 2.0") && error.contains("older glibc"),
        "{error}"
    );

    // Without --max-glibc the limit is 2.17, what the zig build links against:
    // the test build (this machine's glibc) passes only on a machine that old.
    let needed = crate::release_workflow::glibc_needed(Path::new(BINARY));
    let default_limit = Command::new("bash")
        .args([script, VERSION, "--binary", BINARY, "--zip-only", "--out"])
        .arg(out.path())
        .output()
        .expect("run");
    if crate::release_workflow::version_numbers(&needed) > vec![2, 17] {
        let error = refused(default_limit);
        assert!(
            error.contains(&format!(
                "needs GLIBC_{needed}, newer than --max-glibc 2.17"
            )),
            "{error}"
        );
    } else {
        let stdout = succeeded(default_limit);
        assert!(stdout.contains("(limit 2.17)"), "{stdout}");
        std::fs::remove_file(out.path().join(zip_name())).expect("remove the zip");
    }
    assert!(sorted_names(out.path()).is_empty(), "no assets written");
}

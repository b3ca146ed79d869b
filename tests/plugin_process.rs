//! The provider binary as go-plugin starts it: the handshake line, the
//! private socket directory, AutoMTLS, and signals.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tfplugin::handshake::MAGIC_COOKIE_VALUE;

fn start(socket_dir: &std::path::Path, client_cert: Option<&str>) -> (Child, Vec<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_terraform-provider-nicsrs"));
    command
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(pem) = client_cert {
        command.env("PLUGIN_CLIENT_CERT", pem);
    }
    let mut child = command.spawn().expect("start the provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    let fields = line
        .trim_end_matches('\n')
        .split('|')
        .map(str::to_string)
        .collect();
    (child, fields)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_for_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn handshake_uses_a_private_socket_directory_sigint_is_ignored_and_sigterm_cleans_up() {
    let base = tempfile::tempdir().expect("temp dir");
    let (mut child, fields) = start(base.path(), None);
    assert_eq!(fields.len(), 6, "{fields:?}");
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert_eq!(fields[5], "", "no certificate without AutoMTLS");
    let socket = PathBuf::from(&fields[3]);
    let socket_dir = socket.parent().expect("socket folder").to_path_buf();
    assert!(socket.exists());
    assert_eq!(
        socket_dir.parent(),
        Some(base.path()),
        "inside PLUGIN_UNIX_SOCKET_DIR"
    );
    let mode = std::fs::metadata(&socket_dir)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);

    signal(&child, "INT");
    assert!(
        wait_for_exit(&mut child, Duration::from_millis(400)).is_none(),
        "SIGINT must be ignored"
    );

    signal(&child, "TERM");
    let status =
        wait_for_exit(&mut child, Duration::from_secs(3)).expect("exits promptly on SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(!socket_dir.exists(), "the socket directory is removed");
}

#[test]
fn with_automtls_the_line_carries_an_unpadded_localhost_certificate() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let client_pem = params.self_signed(&key).expect("cert").pem();

    let base = tempfile::tempdir().expect("temp dir");
    let (mut child, fields) = start(base.path(), Some(&client_pem));
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&fields[5])
        .expect("standard base64 without padding");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("an X.509 certificate");
    let san = cert
        .subject_alternative_name()
        .expect("SAN")
        .expect("has SAN");
    assert!(format!("{:?}", san.value.general_names).contains("localhost"));
    signal(&child, "TERM");
    assert!(wait_for_exit(&mut child, Duration::from_secs(3)).is_some());
}

/// Whether process `pid` is still running (a zombie counts as exited).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

#[test]
fn the_provider_exits_when_its_parent_is_killed() {
    let base = tempfile::tempdir().expect("temp dir");
    // A stand-in for Terraform: a shell that starts the provider and waits.
    let mut parent = Command::new("sh")
        .args([
            "-c",
            "\"$0\" & echo \"pid $!\"; wait",
            env!("CARGO_BIN_EXE_terraform-provider-nicsrs"),
        ])
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_UNIX_SOCKET_DIR", base.path())
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the parent shell");
    // The shell's "pid N" and the provider's handshake share one pipe, in
    // either order.
    let mut lines = BufReader::new(parent.stdout.take().expect("stdout")).lines();
    let (mut pid, mut handshake) = (None, None);
    for line in lines.by_ref().take(2) {
        let line = line.expect("a line from the parent shell");
        match line.strip_prefix("pid ") {
            Some(n) => pid = n.trim().parse::<u32>().ok(),
            None => handshake = Some(line),
        }
    }
    let pid = pid.expect("the provider's pid");
    let handshake = handshake.expect("handshake line");
    assert!(handshake.starts_with("1|6|unix|"), "{handshake}");
    assert!(running(pid));
    signal(&parent, "KILL");
    parent.wait().expect("reap the parent");
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !running(pid),
        "the provider (pid {pid}) outlived its parent by 5 s"
    );
    assert_eq!(
        std::fs::read_dir(base.path()).expect("socket dir").count(),
        0,
        "socket directory left behind"
    );
}

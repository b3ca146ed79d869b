//! Killing a running Terraform as a CI job dies: a double Ctrl-C to its
//! process group, SIGKILL of Terraform, or SIGKILL of the provider.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How a CI job dies in the middle of an apply.
#[derive(Debug, Clone, Copy)]
pub enum Kill {
    /// Ctrl-C twice: Terraform exits at once, without saving what is in flight.
    DoubleSigint,
    /// The CI runner kills Terraform.
    SigkillTerraform,
    /// The provider process dies.
    SigkillProvider,
}

/// Signals the process group `pgid` (the spawned Terraform leads its own).
fn send_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .status();
}

fn send(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status();
}

/// A live process: its pid, parent pid and (15-character) name.
struct Process {
    pid: u32,
    ppid: u32,
    name: String,
}

fn processes() -> Vec<Process> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if state != "Z" && state != "X" {
            found.push(Process {
                pid,
                ppid,
                name: name.to_string(),
            });
        }
    }
    found
}

/// `root` and every live process below it. Terraform 1.0 runs its work in
/// a child of the process we start (panicwrap), so "Terraform" is a tree.
fn tree(root: u32) -> Vec<Process> {
    let all = processes();
    let mut members: Vec<u32> = vec![root];
    let mut grown = true;
    while grown {
        grown = false;
        for p in &all {
            if members.contains(&p.ppid) && !members.contains(&p.pid) {
                members.push(p.pid);
                grown = true;
            }
        }
    }
    all.into_iter()
        .filter(|p| members.contains(&p.pid))
        .collect()
}

fn is_provider(p: &Process) -> bool {
    p.name.starts_with("terraform-provi")
}

#[track_caller]
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_exit(child: &mut Child, within: Duration) {
    let deadline = Instant::now() + within;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("terraform did not exit within {within:?} of being interrupted");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills the spawned Terraform `run` (which leads its own process group)
/// as `kill` says, then waits until it and every process under it ended.
pub fn interrupt(run: &mut Child, kill: Kill) {
    let pid = run.id();
    let killed_tree = tree(pid);
    let providers: Vec<u32> = killed_tree
        .iter()
        .filter(|p| is_provider(p))
        .map(|p| p.pid)
        .collect();
    assert!(
        !providers.is_empty(),
        "no provider process under terraform {pid}"
    );
    match kill {
        // What a terminal's Ctrl-C does: the signal goes to the whole group.
        Kill::DoubleSigint => {
            send_group(pid, "INT");
            std::thread::sleep(Duration::from_millis(300));
            send_group(pid, "INT");
        }
        Kill::SigkillTerraform => killed_tree
            .iter()
            .filter(|p| !is_provider(p))
            .for_each(|p| send(p.pid, "KILL")),
        Kill::SigkillProvider => providers.iter().for_each(|p| send(*p, "KILL")),
    }
    wait_exit(run, Duration::from_secs(60));
    wait_until(
        "every process of the killed run to end",
        Duration::from_secs(30),
        || {
            let alive = processes();
            !alive.iter().any(|p| {
                killed_tree
                    .iter()
                    .any(|q| q.pid == p.pid && q.name == p.name)
            })
        },
    );
}

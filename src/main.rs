//! The provider binary Terraform starts. Run by hand, it explains itself;
//! `--version` prints the version that the release assets are named after.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Terraform starts providers without arguments, so a flag is always a person
    // (or scripts/release.sh).
    if matches!(
        std::env::args().nth(1).as_deref(),
        Some("--version" | "-V" | "version")
    ) {
        return print_version();
    }
    tfplugin::serve(nicsrs_provider::provider::NicsrsProvider::new())
}

#[expect(
    clippy::print_stdout,
    reason = "only reached with --version, when no Terraform reads stdout"
)]
fn print_version() -> ExitCode {
    println!("terraform-provider-nicsrs {}", env!("CARGO_PKG_VERSION"));
    ExitCode::SUCCESS
}

//! The provider binary Terraform starts. Run by hand, it explains itself.

fn main() -> std::process::ExitCode {
    nicsrs_provider::plugin::serve(nicsrs_provider::provider::NicsrsProvider::new())
}

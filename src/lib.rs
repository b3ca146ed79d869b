//! terraform-provider-nicsrs: a Terraform provider for the NicSRS SSL
//! reseller API.
//!
//! The layers are crates, so the compiler keeps the arrows (DESIGN.md):
//! - `tfplugin` (crates/tfplugin): the Terraform plugin protocol; names no
//!   provider and imports nothing of ours.
//! - `nicsrs` (crates/nicsrs): the API client and the API's facts; knows
//!   nothing of Terraform.
//! - `nicsrs-sandbox` (crates/nicsrs-sandbox): the simulator and its test
//!   kit; a dev-dependency here.
//! - [`provider`] (this crate): the resources, over typed models.

pub mod provider;

/// Black-box tests of the provider over gRPC in-process (`tfplugin::testing`);
/// outside `provider/`, which reads values only through its typed models.
#[cfg(test)]
mod tests;

//! terraform-provider-nicsrs: a Terraform provider for the NicSRS SSL
//! reseller API, and `nicsrs-sandbox`, a local simulator of that API.
//!
//! Four rooms, with the arrows pointing one way:
//! - [`plugin`]: the Terraform plugin protocol (gRPC, handshake, values,
//!   schemas, planning). Imports nothing else of ours.
//! - [`provider`]: our provider and its resources, written against
//!   `plugin`'s small API and the `nicsrs` client.
//! - [`nicsrs`]: the API client, usable without Terraform.
//! - [`sandbox`]: the simulator; shares only `nicsrs`'s wire types.

pub mod nicsrs;
pub mod plugin;
pub mod provider;
pub mod sandbox;

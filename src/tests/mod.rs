//! The provider driven over tfplugin6 in-process, as Terraform drives it:
//! validation and planning table tests ([`inprocess`]) and the golden files
//! of its schema and diagnostics ([`golden`]).

mod golden;
mod inprocess;

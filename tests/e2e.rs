//! End-to-end tests, compiled as one binary that shares the harness.

mod architecture;
mod common;
mod composition;
mod docs;
mod examples;
mod identity;
mod install;
mod lifecycle;
mod order_once;
mod plugin_process;
mod provider_config;
mod quickstart;
mod release_workflow;
mod reliability;
mod renewal;
mod renewal_validation;

//! Integration tests: one binary (delta-rs style). Outputs are read back with arrow-rs,
//! an implementation independent of the polars writer.

mod bad_input;
mod check;
mod cli;
mod config_errors;
mod dominance;
mod draft;
mod duckdb;
mod fault_proxy;
mod golden;
mod hostile_workbooks;
mod http_server;
mod mesh_sandbox;
mod nhse;
mod nightly;
mod pseudonymised;
mod pull_drop;
mod pull_http;
mod pull_mesh;
mod pull_mesh_stub;
mod report;
mod sample;
mod synth;
mod util;

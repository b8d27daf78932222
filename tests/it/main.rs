//! Integration tests: one binary (delta-rs style). Outputs are read back with arrow-rs,
//! an implementation independent of the polars writer.

mod bad_input;
mod cli;
mod config_errors;
mod golden;
mod report;
mod sample;
mod util;

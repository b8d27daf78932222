//! joinedup: NHS and council activity extracts in, joined-up Parquet out.
//!
//! ```text
//!  pipelines/*.toml ─┐            schemas/{sources,shared,codes}/*.toml
//!                    ▼                         │
//!               config::load_plan ◀────────────┘   (all errors at once)
//!                    │ Plan
//!  files ──▶ pull ──▶ ingest ──▶ normalise ──▶ link ──▶ measure ──▶ publish ──▶ out/
//!           (fingerprint) (contract,     (mapping to     (person-   (bottleneck  restricted/
//!                          quarantine,    shared schema)   level      aggregates)  published/
//!                          pseudonyms)                     joins)                  quarantine/
//!                                                                                  runs/<id>/manifest.json
//!                                                            published/ + manifest ──▶ report ──▶ report/index.html
//! ```
//!
//! Stage modules are declared below in run order. See `ARCHITECTURE.md`.

pub mod config;
pub mod schema;

pub mod ingest;
pub mod link;
pub mod measure;
pub mod normalise;
pub mod publish;
pub mod pull;
pub mod report;

pub mod app;
pub mod app_publications;
pub mod background;
pub mod baseline;
pub mod cli;
pub mod error;
pub mod escape;
pub mod explain;
pub mod fault;
pub mod interrupt;
pub mod memory;
pub mod parallel;
pub mod run_date;
pub mod summary;
pub mod synth;
pub mod telemetry;
#[cfg(test)]
mod test_support;

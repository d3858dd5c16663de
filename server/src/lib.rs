//! Runway's server: configuration, storage, domain rules, use cases and the HTTP surface.

pub mod auth;
pub mod catalog;
pub mod ci;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod demo_history;
pub mod dispatch;
pub mod domain;
pub mod gate;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod replicas;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod ui;

/// Rendering pages and answering API calls allocate many small, short-lived values; mimalloc
/// serves them with less locking and less fragmentation than the system allocator. Built without
/// transparent huge pages (`no_thp`): each thread's first 2 MiB page was filled at once, which
/// took an idle portal from 24 to 40 MiB resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

//! Use cases, each one transaction; the UI's backend and the REST API both call these.

pub mod api;
pub mod backend;
pub mod demo;
pub mod deployments;
pub mod error;
pub mod flash;
pub mod gate_views;
pub mod lifecycle;
pub mod request_views;
pub mod requests;
pub mod tickets;
pub mod views;

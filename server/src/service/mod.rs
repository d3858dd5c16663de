//! Use cases, each one transaction; the UI's backend and the REST API both call these.

pub mod accounts;
pub mod approvals;
pub mod audit;
pub mod audit_export;
pub mod delegation;
pub mod deployments;
pub mod error;
pub mod gate;
pub(crate) mod input;
pub mod insights;
pub mod lead_time;
pub mod lifecycle;
pub mod notifications;
pub mod pipeline_requests;
pub mod provider_sign_in;
pub mod reports;
mod requesters;
pub mod requests;
pub mod rollbacks;
pub mod stage_results;
mod standard_changes;
pub mod tickets;
pub mod tokens;

//! Pure rules of the portal: the catalog's model, policies and how they read in plain words.
//! Nothing in here performs I/O.

pub mod approval;
pub mod catalog;
pub mod policy;
pub mod request;
pub mod schedule;

pub use catalog::*;

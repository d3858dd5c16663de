//! Server functions, one file per resource. They only authenticate and call the backend.

pub mod accounts;
pub mod calendar;
pub mod catalog;
pub mod gate;
pub mod inbox;
pub mod requests;
pub mod session;
pub mod tickets;
pub mod wire;

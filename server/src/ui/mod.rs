//! Presenters: turn what the use cases read into the UI's model (`app::model`), and the
//! `Backend` the UI's server functions call. No rule of the portal is decided here.

pub mod accounts;
pub mod backend;
pub mod calendar;
mod conflicts;
mod deployment;
pub mod flash;
pub mod gate_views;
pub mod inbox;
pub mod insights;
pub mod request_form;
pub mod request_lists;
pub mod request_page;
mod rollback_form;
pub mod tickets;
pub mod timeline;
pub mod tools;
pub mod viewer;
pub mod views;

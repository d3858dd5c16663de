pub mod approvals;
pub mod board;
pub mod catalog;
pub mod home;
pub mod login;
pub mod new_request;
pub mod not_found;
pub mod request;

pub mod feedback;
pub mod layout;
pub mod request_table;

pub mod feedback;
pub mod field;
pub mod layout;
pub mod request_table;
pub mod text_block;

pub mod feedback;
pub mod layout;
pub mod request_table;
pub mod text_block;

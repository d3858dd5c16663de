//! The gate's room: what the API keeps in memory (`cache`) and the writer of its records
//! (`records`). The gate's rule is `domain::gate`; its use case is `service::gate`.

pub mod cache;
pub mod records;

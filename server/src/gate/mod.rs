//! The gate's room: what the API keeps in memory (`cache`), the writer of its records
//! (`records`), and how the cache hears of other processes' changes (`watch`). The gate's rule
//! is `domain::gate`; its use case is `service::gate`.

pub mod cache;
pub mod records;
mod watch;

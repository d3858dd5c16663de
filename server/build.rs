//! The migrations are embedded at compile time (`sqlx::migrate!`), which cannot see a new file on
//! its own: a change under `migrations/` rebuilds the server.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}

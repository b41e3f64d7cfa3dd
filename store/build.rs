// `sqlx::migrate!` embeds the migration files at compile time; without this a new file in
// `migrations/` would not rebuild the crate (the recipe of `sqlx migrate build-script`).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}

// Compiled into the binaries, so a change must rebuild this crate: `sqlx::migrate!` embeds
// migrations/, and the `i18n` loader embeds the messages of locales/ (edits to existing
// `.ftl` files are tracked by `include_str!`; this catches added and removed files).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    println!("cargo:rerun-if-changed=../../locales");
}

//! The browser entry point: hydrates the islands of the server-rendered portal (the parts
//! the browser runs; everything else is rendered on the server and is plain HTML).

// Links the portal's crate, whose islands are the `_island_*` exports the loader calls:
// nothing here names them, and a crate nothing names is not linked at all.
#[allow(unused_extern_crates)]
extern crate app;

/// Called by the generated JS loader once the wasm module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}

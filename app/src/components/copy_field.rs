//! A read-only value with a copy button (tokens, secrets, addresses shown once).

use leptos::prelude::*;

use super::style::SECONDARY_BUTTON;

/// A read-only value with a button that copies it to the clipboard.
#[component]
pub(crate) fn CopyField(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <div class="mt-1 flex gap-2">
                <input id=id readonly value=value.clone()
                    class="block w-full rounded-lg border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-xs"/>
                <CopyButton label=label.to_lowercase() value/>
            </div>
        </div>
    }
}

/// The copy button: an island, the one part of the field the browser runs.
#[island]
fn CopyButton(label: String, value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button type="button" class=SECONDARY_BUTTON aria-label=format!("Copy {label}")
            on:click=move |_| {
                copy_to_clipboard(&value);
                copied.set(true);
            }>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        // The promise is dropped: a refused copy leaves the value selectable by hand.
        let _ = window.navigator().clipboard().write_text(text);
    }
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_text: &str) {}

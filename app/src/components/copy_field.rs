//! A read-only value with a copy button (tokens, secrets, addresses shown once).

use leptos::prelude::*;

use super::style::SECONDARY_BUTTON;

/// A read-only value with a button that copies it to the clipboard.
#[component]
pub(crate) fn CopyField(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy_value = value.clone();
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <div class="mt-1 flex gap-2">
                <input id=id readonly value=value
                    class="block w-full rounded-lg border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-xs"/>
                <button type="button" class=SECONDARY_BUTTON aria-label=format!("Copy {}", label.to_lowercase())
                    on:click=move |_| {
                        copy_to_clipboard(&copy_value);
                        copied.set(true);
                    }>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
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

//! A coloured label for a state (healthy, failing, revoked …).

use leptos::prelude::*;

/// A coloured label for a state.
#[component]
pub(crate) fn Badge(tone: &'static str, text: String) -> impl IntoView {
    let colours = match tone {
        "good" => "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        "warn" => "bg-amber-50 text-amber-800 ring-amber-600/20",
        "bad" => "bg-red-50 text-red-700 ring-red-600/20",
        _ => "bg-slate-100 text-slate-700 ring-slate-500/20",
    };
    view! {
        <span class=format!("inline-flex items-center whitespace-nowrap rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset {colours}")>
            {text}
        </span>
    }
}

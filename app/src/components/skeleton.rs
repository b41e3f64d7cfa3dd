//! What a page shows while its data is on the way.

use leptos::prelude::*;

/// Grey bars in the place of the data that is coming, and "Loading…" for screen readers.
#[component]
pub(crate) fn Skeleton(#[prop(default = 3)] lines: usize) -> impl IntoView {
    view! {
        <div class="mt-4 space-y-3" role="status">
            <span class="sr-only">"Loading…"</span>
            {(0..lines)
                .map(|n| {
                    let width = if n % 2 == 0 { "w-full" } else { "w-2/3" };
                    view! { <div class=format!("h-4 animate-pulse rounded bg-slate-100 {width}") aria-hidden="true"></div> }
                })
                .collect_view()}
        </div>
    }
}

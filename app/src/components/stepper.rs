//! The onboarding wizard's progress bar.

use leptos::prelude::*;
use leptos_router::components::A;

/// The steps' slugs and titles, in the order of `service::onboarding::Step`.
pub(crate) const STEPS: [(&str, &str); 6] = [
    ("provider", "Identity provider"),
    ("endpoint", "Endpoint"),
    ("token", "Token"),
    ("mapping", "Attributes"),
    ("roles", "Roles"),
    ("test", "Test sync"),
];

/// The progress bar across the wizard: done, current and later steps, as links to the
/// steps reached.
#[component]
pub(crate) fn Stepper(directory: Option<String>, current: usize, reached: usize) -> impl IntoView {
    view! {
        <nav aria-label="Setup progress">
            <ol id="stepper" class="grid grid-cols-3 gap-2 sm:grid-cols-6 text-xs sm:text-sm">
                {STEPS.iter().enumerate().map(|(index, (slug, title))| {
                    let number = index + 1;
                    let state = if number == current { "current" } else if number < reached.max(current) { "done" } else { "later" };
                    let bar = match state {
                        "current" => "border-accent text-accent-strong font-semibold",
                        "done" => "border-emerald-500 text-slate-700",
                        _ => "border-slate-200 text-slate-500",
                    };
                    let label = format!("{number}. {title}");
                    let content = match (&directory, state) {
                        (Some(directory), "done") => view! {
                            <A href=format!("/admin/directories/{directory}/setup/{slug}") attr:class="hover:text-accent-strong">{label}</A>
                        }.into_any(),
                        _ => view! { <span>{label}</span> }.into_any(),
                    };
                    view! {
                        <li class=format!("border-t-4 pt-2 {bar}") aria-current=(state == "current").then_some("step")>
                            {content}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}

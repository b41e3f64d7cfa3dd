//! Pages that fail on purpose, compiled in only with the feature `test-probes` (which the
//! server's tests turn on): they prove that a render that panics, in the request's own task
//! or inside a suspense boundary's task, is answered with an error page, logged and counted.
//! In every other build `/_probe/…` is an unknown page.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// `/_probe/{kind}`: `render-panic` panics while the page is built; `boundary-panic`
/// panics inside a `Transition`, after awaiting a resource.
#[component]
pub fn ProbePage() -> impl IntoView {
    let kind = use_params_map().read_untracked().get("kind").unwrap_or_default();
    probe(&kind).unwrap_or_else(|| view! { <crate::pages::not_found::NotFound/> }.into_any())
}

#[cfg(feature = "test-probes")]
#[allow(clippy::panic)] // the probe's whole purpose
fn probe(kind: &str) -> Option<AnyView> {
    match kind {
        "render-panic" => panic!("probe: this page panics while it is built"),
        "boundary-panic" => {
            // Ready only after a tick, so the boundary's own task (not the request's) is the
            // first to run the code after the `.await`.
            let value = Resource::new(
                || (),
                |()| async {
                    leptos::task::tick().await;
                    1_u8
                },
            );
            Some(
                view! {
                    <main>
                        <Transition fallback=|| view! { <p>"Loading…"</p> }>
                            {move || Suspend::new(async move {
                                let value = value.await;
                                if value == 1 {
                                    panic!("probe: this boundary panics after its resource loaded");
                                }
                                view! { <p>{value}</p> }
                            })}
                        </Transition>
                    </main>
                }
                .into_any(),
            )
        }
        _ => None,
    }
}

#[cfg(not(feature = "test-probes"))]
fn probe(_kind: &str) -> Option<AnyView> {
    None
}

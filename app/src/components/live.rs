//! Parts of a page that follow the server while it is open. The page itself is rendered on
//! the server and works whole without the bundle; these islands (the only code of theirs
//! the browser runs) read the page's own address again and put the newer server-rendered
//! regions in place, so there is one rendering of each part, the server's.

use leptos::prelude::*;

/// Keeps the elements with the ids in `regions` up to date while the page is open: each
/// time a SCIM request of `directory` arrives (the server's event stream of the directory's
/// requests; `None` for none) and every `every_seconds` (in case a proxy holds the stream
/// back), the page's address is read again and each region whose server-rendered markup
/// changed is replaced. A region holding the field being typed in, or a field already
/// edited, is left as it is. With `until_settled`, it stops once no region has an element
/// marked `data-unsettled` (a re-derivation finished, a sync asked for ran). It stops for
/// good when the page starts to leave: a read on its way when a navigation begins is cut
/// short by the browser, and none starts after.
#[island]
pub(crate) fn LiveRegions(
    directory: Option<String>,
    every_seconds: u32,
    regions: Vec<String>,
    until_settled: bool,
) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::follow(directory, every_seconds, regions, until_settled);
    #[cfg(not(feature = "hydrate"))]
    let _ = (directory, every_seconds, regions, until_settled);
}

/// A GET form (its children) whose results follow what is typed: once the typist pauses
/// (300 ms) or a date or choice changes, the page is read at the address the form would
/// submit to (its empty fields left out), the `regions` are replaced, and the address bar
/// shows that address (a filtered view can be shared, and survives a reload). Only the
/// newest read is put in place: an older one that comes back later is dropped. Without
/// the bundle the form's submit button does the same with a reload.
#[island]
pub(crate) fn FollowsTyping(regions: Vec<String>, children: Children) -> impl IntoView {
    let wrapper = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    let (on_input, on_change) = {
        // What was changed before the bundle arrived (its events came before any handler)
        // is applied once the island runs.
        let reads = browser::FilterReads::new(regions);
        let caught_up = reads.clone();
        Effect::new(move |_| {
            if let Some(wrapper) = wrapper.get() {
                browser::apply_changes_made_before(&wrapper, &caught_up);
            }
        });
        browser::typing_handlers(reads)
    };
    #[cfg(not(feature = "hydrate"))]
    let (on_input, on_change) = {
        let _ = regions;
        (|_: leptos::ev::Event| {}, |_: leptos::ev::Event| {})
    };
    view! { <div node_ref=wrapper on:input=on_input on:change=on_change>{children()}</div> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen_futures::JsFuture;

    /// What one [`super::LiveRegions`] keeps between reads.
    struct Follower {
        regions: Vec<String>,
        until_settled: bool,
        /// Set when the page starts to leave, or the regions settled: no read starts again.
        stopped: Cell<bool>,
        /// A read is on its way; another request meanwhile asks for one more after it.
        reading: Cell<bool>,
        again: Cell<bool>,
        timer: Cell<Option<i32>>,
        stream: Option<web_sys::EventSource>,
    }

    impl Follower {
        fn stop(&self) {
            self.stopped.set(true);
            if let Some(stream) = &self.stream {
                stream.close();
            }
            if let (Some(window), Some(timer)) = (web_sys::window(), self.timer.take()) {
                window.clear_interval_with_handle(timer);
            }
        }
    }

    pub(super) fn follow(directory: Option<String>, every_seconds: u32, regions: Vec<String>, until_settled: bool) {
        let Some(window) = web_sys::window() else { return };
        let stream = directory.and_then(|directory| {
            web_sys::EventSource::new(&format!("/admin/directories/{directory}/requests/stream")).ok()
        });
        let follower = Rc::new(Follower {
            regions,
            until_settled,
            stopped: Cell::new(false),
            reading: Cell::new(false),
            again: Cell::new(false),
            timer: Cell::new(None),
            stream,
        });
        // The closures live as long as the page: it is left by a navigation, which drops them all.
        let read_now = {
            let follower = follower.clone();
            Closure::<dyn Fn()>::new(move || read(follower.clone()))
        };
        let every = i32::try_from(every_seconds.max(1).saturating_mul(1000)).unwrap_or(i32::MAX);
        if let Ok(timer) =
            window.set_interval_with_callback_and_timeout_and_arguments_0(read_now.as_ref().unchecked_ref(), every)
        {
            follower.timer.set(Some(timer));
        }
        if let Some(stream) = &follower.stream {
            let _ = stream.add_event_listener_with_callback("request", read_now.as_ref().unchecked_ref());
        }
        read_now.forget();
        // `beforeunload` comes before the navigation's request, whether a link, a form or
        // the address bar starts it.
        let leaving = Closure::<dyn Fn()>::new(move || follower.stop());
        let _ = window.add_event_listener_with_callback("beforeunload", leaving.as_ref().unchecked_ref());
        leaving.forget();
    }

    /// Reads the page again, or asks for one more read after the one on its way.
    fn read(follower: Rc<Follower>) {
        if follower.stopped.get() {
            return;
        }
        if follower.reading.replace(true) {
            follower.again.set(true);
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                follower.again.set(false);
                let Some(href) = web_sys::window().and_then(|window| window.location().href().ok()) else { break };
                let settled = replace_regions(&href, &follower.regions, &|| true).await;
                if follower.until_settled && settled == Some(true) {
                    follower.stop();
                }
                if !follower.again.get() || follower.stopped.get() {
                    break;
                }
            }
            follower.reading.set(false);
        });
    }

    /// Reads `href` and, if it is `still_wanted` then, puts its version of each region in
    /// place; whether none of them is unsettled (`None` when the page could not be read,
    /// tried again at the next tick, or the read is not wanted any more).
    async fn replace_regions(href: &str, regions: &[String], still_wanted: &dyn Fn() -> bool) -> Option<bool> {
        let window = web_sys::window()?;
        let answer: web_sys::Response = JsFuture::from(window.fetch_with_str(href)).await.ok()?.dyn_into().ok()?;
        if !answer.ok() {
            return None;
        }
        let html = JsFuture::from(answer.text().ok()?).await.ok()?.as_string()?;
        if !still_wanted() {
            return None;
        }
        let fresh = web_sys::DomParser::new().ok()?.parse_from_string(&html, web_sys::SupportedType::TextHtml).ok()?;
        let document = window.document()?;
        let mut settled = true;
        for id in regions {
            let Some(newer) = fresh.get_element_by_id(id) else { continue };
            if newer.has_attribute("data-unsettled")
                || newer.query_selector("[data-unsettled]").ok().flatten().is_some()
            {
                settled = false;
            }
            let Some(shown) = document.get_element_by_id(id) else { continue };
            if shown.outer_html() == newer.outer_html() || being_edited(&document, &shown) {
                continue;
            }
            put_in_place(&shown, &newer);
        }
        Some(settled)
    }

    /// Makes `shown` what `newer` is. The element itself stays when it is of the same kind
    /// (its attributes and children are replaced): a screen reader follows an `aria-live`
    /// region by its element, and would miss a change made by swapping the element.
    fn put_in_place(shown: &web_sys::Element, newer: &web_sys::Element) {
        if shown.tag_name() != newer.tag_name() {
            shown.set_outer_html(&newer.outer_html());
            return;
        }
        for name in shown.get_attribute_names().iter().filter_map(|name| name.as_string()) {
            if !newer.has_attribute(&name) {
                let _ = shown.remove_attribute(&name);
            }
        }
        for name in newer.get_attribute_names().iter().filter_map(|name| name.as_string()) {
            if let Some(value) = newer.get_attribute(&name) {
                let _ = shown.set_attribute(&name, &value);
            }
        }
        shown.set_inner_html(&newer.inner_html());
    }

    /// Whether `region` holds the focused element, or a field whose value was changed.
    fn being_edited(document: &web_sys::Document, region: &web_sys::Element) -> bool {
        if document.active_element().is_some_and(|focused| region.contains(Some(focused.as_ref()))) {
            return true;
        }
        let Ok(fields) = region.query_selector_all("input, textarea") else { return false };
        (0..fields.length()).filter_map(|index| fields.item(index)).any(|field| {
            if let Some(input) = field.dyn_ref::<web_sys::HtmlInputElement>() {
                input.value() != input.default_value()
            } else {
                field
                    .dyn_ref::<web_sys::HtmlTextAreaElement>()
                    .is_some_and(|area| area.default_value().is_ok_and(|default| area.value() != default))
            }
        })
    }

    /// A filter form's regions, and the number of its newest read (the one put in place).
    #[derive(Clone)]
    pub(super) struct FilterReads {
        regions: Rc<Vec<String>>,
        newest: Rc<Cell<u32>>,
    }

    impl FilterReads {
        pub(super) fn new(regions: Vec<String>) -> Self {
            FilterReads { regions: Rc::new(regions), newest: Rc::new(Cell::new(0)) }
        }
    }

    pub(super) fn typing_handlers(
        reads: FilterReads,
    ) -> (impl Fn(leptos::ev::Event) + 'static, impl Fn(leptos::ev::Event) + 'static) {
        let pending = Cell::new(None::<i32>);
        let on_input = {
            let reads = reads.clone();
            move |event: leptos::ev::Event| {
                let Some(field) = event.target().and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok())
                else {
                    return;
                };
                if !applies_once_typed(&field) {
                    return;
                }
                let Some(window) = web_sys::window() else { return };
                if let Some(earlier) = pending.take() {
                    window.clear_timeout_with_handle(earlier);
                }
                let reads = reads.clone();
                let apply = Closure::once_into_js(move || apply_form(field.form(), &reads));
                pending
                    .set(window.set_timeout_with_callback_and_timeout_and_arguments_0(apply.unchecked_ref(), 300).ok());
            }
        };
        let on_change = move |event: leptos::ev::Event| {
            let Some(target) = event.target() else { return };
            let form = if let Some(input) = target.dyn_ref::<web_sys::HtmlInputElement>() {
                if applies_once_typed(input) {
                    return;
                }
                input.form()
            } else {
                target.dyn_ref::<web_sys::HtmlSelectElement>().and_then(web_sys::HtmlSelectElement::form)
            };
            apply_form(form, &reads);
        };
        (on_input, on_change)
    }

    /// Whether a field is text, applied once the typist pauses (`input`); dates and choices
    /// apply as they change (`change`).
    fn applies_once_typed(input: &web_sys::HtmlInputElement) -> bool {
        matches!(input.type_().as_str(), "text" | "search")
    }

    /// Reads the page at the address `form` would submit to, puts the regions in place and
    /// shows that address.
    fn apply_form(form: Option<web_sys::HtmlFormElement>, reads: &FilterReads) {
        let Some(form) = form else { return };
        // The fields filled in, as the address shows filters (an empty one is no filter).
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields_of(&form) {
            if !value.is_empty() {
                query.append_pair(&name, &value);
            }
        }
        // `action` is the absolute address the form submits to.
        let Ok(address) = web_sys::Url::new(&form.action()) else { return };
        address.set_search(&query.finish());
        let href = address.href();
        let this_read = reads.newest.get().wrapping_add(1);
        reads.newest.set(this_read);
        let reads = reads.clone();
        leptos::task::spawn_local(async move {
            let still_wanted = || reads.newest.get() == this_read;
            if replace_regions(&href, &reads.regions, &still_wanted).await.is_some()
                && let Some(history) = web_sys::window().and_then(|window| window.history().ok())
            {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href));
            }
        });
    }

    /// The form's fields as it would submit them (text fields only: a filter form has no file).
    fn fields_of(form: &web_sys::HtmlFormElement) -> Vec<(String, String)> {
        let Ok(fields) = web_sys::FormData::new_with_form(form) else { return Vec::new() };
        let Ok(Some(entries)) = js_sys::try_iter(&fields) else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|entry| {
                let entry = js_sys::Array::from(&entry);
                Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
            })
            .collect()
    }

    /// Applies the form in `wrapper` if a field differs from what the page's address says
    /// (a field the address leaves out is empty).
    pub(super) fn apply_changes_made_before(wrapper: &web_sys::HtmlDivElement, reads: &FilterReads) {
        let Some(form) = wrapper.query_selector("form").ok().flatten().and_then(|form| form.dyn_into().ok()) else {
            return;
        };
        let Some(search) = web_sys::window().and_then(|window| window.location().search().ok()) else { return };
        let shown: Vec<(String, String)> =
            form_urlencoded::parse(search.trim_start_matches('?').as_bytes()).into_owned().collect();
        let changed = fields_of(&form).into_iter().any(|(name, value)| {
            let in_address = shown.iter().find(|(shown_name, _)| *shown_name == name).map_or("", |(_, value)| value);
            value != in_address
        });
        if changed {
            apply_form(Some(form), reads);
        }
    }
}

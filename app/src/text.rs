//! Wording shared by pages and server functions: sentences from error messages. (The
//! plain-language cause of a failed SCIM request is `service::support::explain`.)

/// `the display name …` -> `The display name ….`
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    let mut sentence = format!("{first}{}", chars.as_str());
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

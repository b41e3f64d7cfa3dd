//! The operator's branding of the portal: the product's name, logo, accent colour and
//! support contact, which every portal page and every email shows (issue 20).
//!
//! The accent colour must keep WCAG 2.x AA contrast (4.5:1 for text) everywhere the portal
//! uses it: as link text on white and on the page background, as the background of a
//! button's white label, and its darker shade on its pale tint (the current item of a
//! menu). A colour that does not is refused, with the nearest darker shade that does.
//! The logo is a PNG, JPEG or WebP picture (no SVG: it can carry scripts), at most
//! [`MAX_LOGO_BYTES`], served at a URL that names its SHA-256 digest so that browsers may
//! keep it for good.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use store::{BrandingLogo, BrandingSettings, Store};

use crate::ServiceError;
use crate::actor::Actor;
use crate::operators::OperatorEmail;

/// The name pages and emails use until the operator sets one.
pub const DEFAULT_PRODUCT_NAME: &str = "SCIM Portal";
/// The accent until the operator sets one (Tailwind's indigo-600 of v3).
pub const DEFAULT_ACCENT: &str = "#4f46e5";
/// [`DEFAULT_ACCENT`] as a colour.
const DEFAULT_ACCENT_RGB: Rgb = Rgb(0x4f, 0x46, 0xe5);
/// The largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The logo's sides, in pixels: big enough to be sharp at the 32 px it is shown at, small
/// enough not to be a photograph.
pub const LOGO_SIDE_PIXELS: std::ops::RangeInclusive<usize> = 16..=1024;
/// WCAG 2.x AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;
const MAX_PRODUCT_NAME_CHARS: usize = 60;

/// White, and the page background (Tailwind's slate-50), which accent text sits on.
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const PAGE_BACKGROUND: Rgb = Rgb(0xf8, 0xfa, 0xfc);

/// The branding as pages and emails use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub product_name: String,
    pub accent: AccentPalette,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
    /// The logo's path on this server (`/branding/logo/<sha256>.<ext>`).
    pub logo_path: Option<String>,
    /// Whether the operator has set it (otherwise these are the defaults).
    pub customised: bool,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            product_name: DEFAULT_PRODUCT_NAME.to_owned(),
            accent: AccentPalette::of(DEFAULT_ACCENT_RGB),
            support_email: None,
            support_url: None,
            logo_path: None,
            customised: false,
        }
    }
}

impl Branding {
    /// How to reach the vendor's support, as one line (`None` if no contact is set).
    pub fn support_line(&self) -> Option<String> {
        match (&self.support_email, &self.support_url) {
            (Some(email), Some(url)) => Some(format!("{email} or {url}")),
            (Some(contact), None) | (None, Some(contact)) => Some(contact.clone()),
            (None, None) => None,
        }
    }

    /// The signature under every email: the product's name and how to reach support.
    pub fn email_signature(&self) -> String {
        match self.support_line() {
            Some(support) => format!("-- \n{}\nQuestions? {support}\n", self.product_name),
            None => format!("-- \n{}\n", self.product_name),
        }
    }
}

/// The branding a page request resolved before the page renders (pages read it
/// synchronously, as they read the signed-in account).
#[derive(Debug, Clone)]
pub struct PageBranding(pub Branding);

/// The accent and the two shades derived from it, as `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccentPalette {
    /// Buttons, links, focus rings.
    pub accent: String,
    /// Hover states and text on the tint: 20 % darker.
    pub strong: String,
    /// The tint behind a current menu item: 10 % of the accent on white.
    pub soft: String,
}

impl AccentPalette {
    fn of(accent: Rgb) -> Self {
        Self { accent: accent.hex(), strong: strong(accent).hex(), soft: soft(accent).hex() }
    }

    /// The CSS that sets the Tailwind theme's accent colours (`style/tailwind.css` declares
    /// them): unlayered, so it overrides the theme's defaults.
    pub fn css(&self) -> String {
        format!(
            ":root{{--color-accent:{};--color-accent-strong:{};--color-accent-soft:{}}}",
            self.accent, self.strong, self.soft
        )
    }
}

/// What the operator asks for; [`update`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandingRequest {
    pub product_name: String,
    pub accent: String,
    pub support_email: String,
    pub support_url: String,
}

/// Why branding was refused; every message can be shown to the operator as it is.
#[derive(Debug, thiserror::Error)]
pub enum BrandingError {
    #[error("The product name must be 1 to {MAX_PRODUCT_NAME_CHARS} characters without line breaks.")]
    ProductName,
    #[error("{0:?} is not a colour: give it as #rrggbb, e.g. #4f46e5.")]
    NotAColour(String),
    #[error(
        "{colour} has a contrast of {ratio:.2}:1 where the portal uses it, below the {MIN_CONTRAST}:1 that WCAG AA \
         asks for text. {suggestion} is the nearest darker shade that passes."
    )]
    Contrast { colour: String, ratio: f64, suggestion: String },
    #[error("{0:?} is not an email address.")]
    SupportEmail(String),
    #[error("The support URL must be an https:// (or http://) address, not {0:?}.")]
    SupportUrl(String),
    #[error(transparent)]
    Logo(#[from] LogoError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for BrandingError {
    fn from(error: store::StoreError) -> Self {
        BrandingError::Service(error.into())
    }
}

/// Why a logo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("The logo is {0} bytes; at most {MAX_LOGO_BYTES} bytes (256 KiB) are accepted.")]
    TooLarge(usize),
    #[error("The logo must be a PNG, JPEG or WebP picture (SVG is not accepted: it can carry scripts).")]
    NotAPicture,
    #[error("The logo is {width}×{height} pixels; each side must be 16 to 1024 pixels.")]
    Dimensions { width: usize, height: usize },
}

impl LogoError {
    /// A short code for a redirect's query (the page maps it back to the message).
    pub fn code(&self) -> &'static str {
        match self {
            LogoError::TooLarge(_) => "too-large",
            LogoError::NotAPicture => "not-a-picture",
            LogoError::Dimensions { .. } => "dimensions",
        }
    }
}

/// The current branding (the defaults if the operator has set none).
pub async fn current(store: &Store) -> Result<Branding, ServiceError> {
    let Some(stored) = store.branding().await? else { return Ok(Branding::default()) };
    let accent = Rgb::parse(&stored.settings.accent_colour).unwrap_or(DEFAULT_ACCENT_RGB);
    Ok(Branding {
        product_name: stored.settings.product_name,
        accent: AccentPalette::of(accent),
        support_email: stored.settings.support_email,
        support_url: stored.settings.support_url,
        logo_path: stored.logo.map(|(sha256, content_type)| logo_path(&sha256, &content_type)),
        customised: true,
    })
}

/// When and by whom the branding was last changed, if ever.
pub async fn last_change(store: &Store) -> Result<Option<(DateTime<Utc>, String)>, ServiceError> {
    Ok(store.branding().await?.map(|stored| (stored.updated_at, stored.updated_by)))
}

/// Checks and saves the name, accent and support contact (the logo stays).
pub async fn update(
    store: &Store,
    request: &BrandingRequest,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Branding, BrandingError> {
    let settings = checked(request)?;
    store.save_branding_settings(&settings, now, &changed_by(actor)).await?;
    tracing::info!(by = %actor.audit_name(), name = %settings.product_name, accent = %settings.accent_colour, "branding changed");
    Ok(current(store).await?)
}

/// Checks and saves a new logo (`None`: removes it).
pub async fn set_logo(
    store: &Store,
    picture: Option<&[u8]>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Branding, BrandingError> {
    let logo = picture.map(checked_logo).transpose()?;
    let defaults = match store.branding().await? {
        Some(stored) => stored.settings,
        None => BrandingSettings {
            product_name: DEFAULT_PRODUCT_NAME.to_owned(),
            accent_colour: DEFAULT_ACCENT.to_owned(),
            support_email: None,
            support_url: None,
        },
    };
    store.save_branding_logo(&defaults, logo.as_ref(), now, &changed_by(actor)).await?;
    tracing::info!(by = %actor.audit_name(), logo = ?logo.as_ref().map(|logo| &logo.sha256), "branding logo changed");
    Ok(current(store).await?)
}

/// The current logo if `file` (`<sha256>.<ext>`) names it: its content type and bytes.
pub async fn logo(store: &Store, file: &str) -> Result<Option<(String, Vec<u8>)>, ServiceError> {
    let Some((sha256, _)) = file.split_once('.') else { return Ok(None) };
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return Ok(None);
    }
    let Some(logo) = store.branding_logo(sha256).await? else { return Ok(None) };
    if logo_path(&logo.sha256, &logo.content_type) != format!("/branding/logo/{file}") {
        return Ok(None);
    }
    Ok(Some((logo.content_type, logo.bytes)))
}

/// Who changed the branding, as the console shows it: an operator by their email.
fn changed_by(actor: &Actor) -> String {
    match actor {
        Actor::Operator { email, .. } => email.clone(),
        other => other.audit_name(),
    }
}

fn logo_path(sha256: &str, content_type: &str) -> String {
    let extension = match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        _ => "webp",
    };
    format!("/branding/logo/{sha256}.{extension}")
}

fn checked(request: &BrandingRequest) -> Result<BrandingSettings, BrandingError> {
    let product_name = request.product_name.trim();
    if product_name.is_empty()
        || product_name.chars().count() > MAX_PRODUCT_NAME_CHARS
        || product_name.chars().any(char::is_control)
    {
        return Err(BrandingError::ProductName);
    }
    let accent = checked_accent(&request.accent)?;
    let support_email = match request.support_email.trim() {
        "" => None,
        email => Some(
            OperatorEmail::parse(email).map_err(|_| BrandingError::SupportEmail(email.to_owned()))?.as_str().to_owned(),
        ),
    };
    let support_url = match request.support_url.trim() {
        "" => None,
        url => match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.host_str().is_some() => {
                Some(parsed.to_string())
            }
            _ => return Err(BrandingError::SupportUrl(url.to_owned())),
        },
    };
    Ok(BrandingSettings {
        product_name: product_name.to_owned(),
        accent_colour: accent.hex(),
        support_email,
        support_url,
    })
}

/// The accent if it keeps AA contrast everywhere the portal uses it.
pub fn checked_accent(text: &str) -> Result<Rgb, BrandingError> {
    let colour = Rgb::parse(text).ok_or_else(|| BrandingError::NotAColour(text.trim().to_owned()))?;
    let ratio = worst_contrast(colour);
    if ratio >= MIN_CONTRAST {
        return Ok(colour);
    }
    // Darker shades only gain contrast against the light backgrounds; black passes.
    let suggestion = (1..=100)
        .map(|step| mix(colour, Rgb(0, 0, 0), f64::from(step) / 100.0))
        .find(|shade| worst_contrast(*shade) >= MIN_CONTRAST)
        .unwrap_or(Rgb(0, 0, 0));
    Err(BrandingError::Contrast { colour: colour.hex(), ratio, suggestion: suggestion.hex() })
}

/// The lowest contrast among the pairs the portal shows the accent in.
fn worst_contrast(accent: Rgb) -> f64 {
    [contrast(accent, WHITE), contrast(accent, PAGE_BACKGROUND), contrast(strong(accent), soft(accent))]
        .into_iter()
        .fold(f64::INFINITY, f64::min)
}

fn strong(accent: Rgb) -> Rgb {
    mix(accent, Rgb(0, 0, 0), 0.2)
}

fn soft(accent: Rgb) -> Rgb {
    mix(accent, WHITE, 0.9)
}

fn checked_logo(bytes: &[u8]) -> Result<BrandingLogo, LogoError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge(bytes.len()));
    }
    let content_type = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => "image/png",
        Ok(imagesize::ImageType::Jpeg) => "image/jpeg",
        Ok(imagesize::ImageType::Webp) => "image/webp",
        _ => return Err(LogoError::NotAPicture),
    };
    let size = imagesize::blob_size(bytes).map_err(|_| LogoError::NotAPicture)?;
    if !LOGO_SIDE_PIXELS.contains(&size.width) || !LOGO_SIDE_PIXELS.contains(&size.height) {
        return Err(LogoError::Dimensions { width: size.width, height: size.height });
    }
    Ok(BrandingLogo {
        sha256: hex::encode(Sha256::digest(bytes)),
        content_type: content_type.to_owned(),
        bytes: bytes.to_vec(),
    })
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb` or `#rgb`, any case, with or without the `#`.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.trim().trim_start_matches('#');
        let value = |s: &str| u8::from_str_radix(s, 16).ok();
        match digits.len() {
            _ if !digits.bytes().all(|b| b.is_ascii_hexdigit()) => None,
            6 => Some(Rgb(value(&digits[0..2])?, value(&digits[2..4])?, value(&digits[4..6])?)),
            3 => {
                let twice = |i: usize| value(&digits[i..=i].repeat(2));
                Some(Rgb(twice(0)?, twice(1)?, twice(2)?))
            }
            _ => None,
        }
    }

    /// `#rrggbb`, lowercase.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2.x relative luminance.
    fn luminance(self) -> f64 {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }
}

/// The WCAG 2.x contrast ratio of two colours (1 to 21).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `share` of `other` mixed into `colour`, channel by channel.
fn mix(colour: Rgb, other: Rgb, share: f64) -> Rgb {
    let channel = |a: u8, b: u8| {
        let mixed = f64::from(a) * (1.0 - share) + f64::from(b) * share;
        // Within 0..=255 by construction.
        mixed.round().clamp(0.0, 255.0) as u8
    };
    Rgb(channel(colour.0, other.0), channel(colour.1, other.1), channel(colour.2, other.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_the_wcag_reference_values() {
        assert!((contrast(Rgb(0, 0, 0), WHITE) - 21.0).abs() < 1e-9);
        assert!((contrast(WHITE, WHITE) - 1.0).abs() < 1e-9);
        // WebAIM's checker: #767676 on white is 4.54:1, the lightest grey that passes AA.
        assert!((contrast(Rgb(0x76, 0x76, 0x76), WHITE) - 4.54).abs() < 0.01);
        assert!(contrast(Rgb(0x77, 0x77, 0x77), WHITE) < MIN_CONTRAST);
    }

    #[test]
    fn the_default_accent_is_one_colour_in_both_forms() {
        assert_eq!(Rgb::parse(DEFAULT_ACCENT), Some(DEFAULT_ACCENT_RGB));
    }

    #[test]
    fn the_stylesheet_declares_the_default_palette() {
        let stylesheet = include_str!("../../style/tailwind.css");
        let palette = Branding::default().accent;
        for (name, value) in
            [("accent", &palette.accent), ("accent-strong", &palette.strong), ("accent-soft", &palette.soft)]
        {
            assert!(stylesheet.contains(&format!("--color-{name}: {value};")), "{name} {value}");
        }
    }

    #[test]
    fn colours_parse_in_the_forms_people_type_them() {
        assert_eq!(Rgb::parse("#4F46E5"), Some(Rgb(0x4f, 0x46, 0xe5)));
        assert_eq!(Rgb::parse(" 4f46e5 "), Some(Rgb(0x4f, 0x46, 0xe5)));
        assert_eq!(Rgb::parse("#0a3"), Some(Rgb(0x00, 0xaa, 0x33)));
        for bad in ["", "#", "#12345", "#gggggg", "red", "#1234567", "#ééé"] {
            assert_eq!(Rgb::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_default_accent_passes_and_a_pale_one_is_refused_with_a_passing_suggestion() {
        assert!(checked_accent(DEFAULT_ACCENT).is_ok());
        match checked_accent("#ffcc00") {
            Err(BrandingError::Contrast { colour, ratio, suggestion }) => {
                assert_eq!(colour, "#ffcc00");
                assert!(ratio < 2.0, "{ratio}");
                let shade = Rgb::parse(&suggestion).unwrap();
                assert!(worst_contrast(shade) >= MIN_CONTRAST);
                // The nearest: one step less dark fails.
                let lighter = (1..100)
                    .map(|step| mix(Rgb(0xff, 0xcc, 0), Rgb(0, 0, 0), f64::from(step) / 100.0))
                    .take_while(|candidate| *candidate != shade)
                    .last()
                    .unwrap();
                assert!(worst_contrast(lighter) < MIN_CONTRAST);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(checked_accent("teal"), Err(BrandingError::NotAColour(_))));
    }

    #[test]
    fn every_pair_the_portal_shows_is_checked() {
        // #747474 passes on white (4.67:1) but not on the page background (4.47:1).
        let grey = Rgb(0x74, 0x74, 0x74);
        assert!(contrast(grey, WHITE) >= MIN_CONTRAST);
        assert!(contrast(grey, PAGE_BACKGROUND) < MIN_CONTRAST);
        assert!(matches!(checked_accent("#747474"), Err(BrandingError::Contrast { .. })));
        assert!(checked_accent("#737373").is_ok());
        let default = Rgb::parse(DEFAULT_ACCENT).unwrap();
        assert!(contrast(strong(default), soft(default)) >= MIN_CONTRAST);
    }

    #[test]
    fn requests_are_trimmed_and_checked() {
        let request = BrandingRequest {
            product_name: "  Acme Directory  ".to_owned(),
            accent: "#0F766E".to_owned(),
            support_email: " Help@Acme.example ".to_owned(),
            support_url: "https://help.acme.example/scim".to_owned(),
        };
        let settings = checked(&request).unwrap();
        assert_eq!(settings.product_name, "Acme Directory");
        assert_eq!(settings.accent_colour, "#0f766e");
        assert_eq!(settings.support_email.as_deref(), Some("help@acme.example"));
        assert_eq!(settings.support_url.as_deref(), Some("https://help.acme.example/scim"));
        let blank = BrandingRequest { product_name: " ".to_owned(), ..request.clone() };
        assert!(matches!(checked(&blank), Err(BrandingError::ProductName)));
        let bad_url = BrandingRequest { support_url: "javascript:alert(1)".to_owned(), ..request.clone() };
        assert!(matches!(checked(&bad_url), Err(BrandingError::SupportUrl(_))));
        let bad_email = BrandingRequest { support_email: "help".to_owned(), ..request };
        assert!(matches!(checked(&bad_email), Err(BrandingError::SupportEmail(_))));
    }

    #[test]
    fn logos_are_checked_by_their_bytes_not_their_name() {
        assert_eq!(checked_logo(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), Err(LogoError::NotAPicture));
        assert_eq!(checked_logo(&[0; MAX_LOGO_BYTES + 1]), Err(LogoError::TooLarge(MAX_LOGO_BYTES + 1)));
        let logo = checked_logo(&png_header(64, 32)).unwrap();
        assert_eq!(logo.content_type, "image/png");
        assert_eq!(logo.sha256.len(), 64);
        assert_eq!(checked_logo(&png_header(4000, 32)), Err(LogoError::Dimensions { width: 4000, height: 32 }));
    }

    /// A PNG's signature and header chunk, which is what the size check reads.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }
}

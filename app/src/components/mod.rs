//! Small components the pages share: the brand mark and support footer, the sign-in guards, the top bars, the wizard's
//! stepper, the copy field, the live regions (the islands), the status badge, the error view, the loading skeleton, the
//! deletion of a directory, and the shared styles.

pub mod brand;
pub mod copy_field;
pub mod delete_directory;
pub mod error_view;
pub mod live;
pub mod shown_once;
pub mod sign_in_guards;
pub mod skeleton;
pub mod status_badge;
pub mod stepper;
pub mod style;
pub mod top_bars;

pub(crate) use brand::{BrandMark, SupportFooter, brand};
pub(crate) use copy_field::CopyField;
pub(crate) use delete_directory::{DeleteDirectoryForm, DeletionOutcome, deletion_notice};
pub(crate) use error_view::{ErrorBox, ErrorView, refusal_box, refusal_of};
pub(crate) use live::{FollowsTyping, LiveRegions};
pub(crate) use shown_once::shown_once;
pub(crate) use sign_in_guards::{SignedIn, SignedInAdmin};
pub(crate) use skeleton::Skeleton;
pub(crate) use status_badge::Badge;
pub(crate) use stepper::{STEPS, Stepper};
pub(crate) use top_bars::{AdminTopBar, TopBar};

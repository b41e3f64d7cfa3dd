//! The Tailwind classes the pages share, so that a button or a card looks the same on
//! every page.

pub(crate) const PRIMARY_BUTTON: &str = "rounded-lg bg-accent px-4 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-accent-strong focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 \
     focus-visible:outline-accent disabled:cursor-wait disabled:opacity-60";

pub(crate) const SECONDARY_BUTTON: &str = "rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-semibold \
     text-slate-700 shadow-sm hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 \
     focus-visible:outline-offset-2 focus-visible:outline-accent disabled:cursor-wait disabled:opacity-60";

/// The confirming button of a destructive action (revoke, remove, withdraw).
pub(crate) const DANGER_BUTTON: &str = "rounded-lg bg-red-700 px-4 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-red-600";

pub(crate) const INPUT: &str = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm \
     focus:border-accent focus:outline-none focus:ring-2 focus:ring-accent/30";

pub(crate) const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm";

-- The operator's branding of the portal (issue 20): the product's name, accent colour,
-- support contact and logo, shown on every portal page and in every email. One row for
-- the deployment (the operator's, like API keys: not tenant-owned); no row: the defaults.
-- The logo is kept here, beside its SHA-256 digest: it is served at a URL that names the
-- digest, so browsers may cache it for good, and a new logo is a new URL.
CREATE TABLE branding (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    product_name      TEXT NOT NULL,
    accent_colour     TEXT NOT NULL CHECK (length(accent_colour) = 7),  -- #rrggbb, lowercase
    support_email     TEXT,
    support_url       TEXT,
    logo_sha256       TEXT CHECK (length(logo_sha256) = 64),
    logo_content_type TEXT,
    logo_bytes        BLOB,
    updated_at        TEXT NOT NULL,
    updated_by        TEXT NOT NULL,
    CHECK ((logo_sha256 IS NULL) = (logo_bytes IS NULL) AND (logo_sha256 IS NULL) = (logo_content_type IS NULL))
) STRICT;

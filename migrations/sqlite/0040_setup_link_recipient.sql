-- A setup link can be emailed to the customer's IT admin from the console or the operator
-- API (issue 20): the address it went to is kept, so the lists say who has it, and its
-- page offers that address when the admin creates their account. NULL: the link was shown
-- to its maker to pass on.
ALTER TABLE setup_links ADD COLUMN sent_to TEXT;

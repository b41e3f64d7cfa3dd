-- What the vendor's product reads of each change besides the SCIM document: the resource's
-- normalized view with the tenant's attribute mapping applied (`normalized`; for a deletion,
-- as it was) and, for an update, the normalized fields that changed with their old values
-- (`previous_attributes`). Written with the change, under the mapping in force then. NULL for
-- membership changes (their group and members are in `data`) and for changes recorded before
-- this column existed.
ALTER TABLE directory_changes ADD COLUMN view TEXT;

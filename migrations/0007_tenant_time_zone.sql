-- The IANA time zone a tenant's pages show times in (issue 13); NULL reads as UTC.
ALTER TABLE tenants ADD COLUMN time_zone TEXT;

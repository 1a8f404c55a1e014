-- The country a tenant's national-format caller numbers are read in (issue 12), ISO 3166-1
-- alpha-2; a node's own defaultCountry wins over it. NULL: no default, national numbers are unusable.
ALTER TABLE tenants ADD COLUMN default_country TEXT;
